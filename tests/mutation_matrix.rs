//! The mutation matrix: the whole suite runs against the conformant simulator (every check
//! passes) and against each simulator fault, and exactly the check ids in the fault's row must
//! trip (fail, warn, or report a finding). A check no fault trips, and a fault that trips
//! nothing, are defects. One ChromeDriver and two browsers serve every run.
//!
//! `SFMC_MATRIX_FAULTS=a,b` runs only those rows (for working on a fault); CI runs them all.

use sfmc_oauth_conformance::browser::{driver, BrowserConfig, BrowserPool, ChromeDriver};
use sfmc_oauth_conformance::runner::{self, features};
use sfmc_oauth_conformance::simulator::{Fault, Faults};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

/// fault → the checks it trips. Read a row as: with this fault on, these checks fail.
const MATRIX: &[(&str, &[&str])] = &[
    ("none", &[]),
    // ROWS
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn row(name: &str) -> Option<&'static [&'static str]> {
    MATRIX.iter().find(|(f, _)| *f == name).map(|(_, c)| *c)
}

#[test]
fn the_matrix_has_a_row_for_every_fault_and_every_check_is_tripped() {
    let mut missing_rows = Vec::new();
    for f in Fault::ALL {
        match row(f.name()) {
            None => missing_rows.push(f.name()),
            Some(checks) => {
                assert!(!checks.is_empty(), "{f} trips nothing");
                for c in f.checks() {
                    assert!(
                        checks.contains(c),
                        "{f} is meant to trip {c} but its row lacks it"
                    );
                }
            }
        }
    }
    assert!(
        missing_rows.is_empty(),
        "faults without a row: {missing_rows:?}"
    );
    let parsed = features::load(&root().join("features")).expect("features parse");
    let runnable: BTreeSet<String> = features::checks(&parsed)
        .into_iter()
        .filter(|c| !c.tags.iter().any(|t| t == "live-only"))
        .map(|c| c.id)
        .collect();
    let tripped: BTreeSet<String> = MATRIX
        .iter()
        .flat_map(|(_, c)| c.iter().map(|s| s.to_string()))
        .collect();
    let untested: Vec<&String> = runnable.difference(&tripped).collect();
    assert!(untested.is_empty(), "checks no fault trips: {untested:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_trips_exactly_its_checks() {
    let only: Option<Vec<String>> = std::env::var("SFMC_MATRIX_FAULTS")
        .ok()
        .map(|v| v.split(',').map(str::to_owned).collect());
    let binary = driver::locate(None).expect("ChromeDriver (run .ci/install-browser)");
    let mut chromedriver = ChromeDriver::start(&binary)
        .await
        .expect("ChromeDriver starts");
    let pool = Arc::new(BrowserPool::new(BrowserConfig {
        webdriver_url: chromedriver.url(),
        chrome: PathBuf::from(
            std::env::var("SFMC_CHROME").unwrap_or_else(|_| "/usr/bin/chromium".into()),
        ),
        loopback_only: true,
    }));
    let mut wrong = Vec::new();
    let mut observed = Vec::new();
    for (name, expected) in MATRIX {
        if only.as_ref().is_some_and(|o| !o.iter().any(|x| x == name)) {
            continue;
        }
        let faults = if *name == "none" {
            Faults::none()
        } else {
            Faults::of([name.parse::<Fault>().expect("a known fault")])
        };
        let started = std::time::Instant::now();
        let tally =
            runner::run_against_simulator(faults, Some(pool.clone()), &root().join("features"))
                .await
                .expect("the run starts");
        let got: BTreeSet<String> = tally.tripped_checks();
        let want: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        let row = format!(
            "    (\"{name}\", &[{}]),",
            got.iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        eprintln!("{row} // {:.1} s", started.elapsed().as_secs_f64());
        observed.push(row);
        if got != want {
            wrong.push(format!(
                "{name}: expected {want:?}, got {got:?}; environment failures: {:?}",
                tally.environment
            ));
        }
    }
    pool.close_all().await;
    chromedriver.stop().await;
    assert!(
        wrong.is_empty(),
        "{}\n\nobserved rows:\n{}",
        wrong.join("\n"),
        observed.join("\n")
    );
}
