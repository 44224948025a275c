//! The mutation matrix, one redirect URI variant at a time. One fault per check id proves that
//! the check can fail, but RU-05 alone has 20 variants. Here the parameterized fault
//! `redirect-uri-accept=TEMPLATE` makes the simulator accept exactly one variant, and the
//! scenarios of that check id run against it: exactly that variant's row must fail, and every
//! other row of the id must pass. Every Scenario Outline row of RU-01 to RU-09 gets its turn.
//! (The conformant simulator passes every row: the mutation matrix's `none` row.)
//!
//! `SFMC_VARIANTS=RU-05,RU-06` runs only some check ids; CI runs them all.

mod common;

use common::matrix::{environment, SharedBrowsers};
use sfmc_oauth_conformance::outcome::Verdict;
use sfmc_oauth_conformance::session::{Session, ACCEPT_FAULT};

/// The check ids whose outlines vary the redirect_uri, each row a variant.
const IDS: &[&str] = &[
    "RU-01", "RU-02", "RU-03", "RU-04", "RU-05", "RU-06", "RU-08", "RU-09",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_redirect_uri_variant_alone_fails_exactly_its_own_row() {
    let only: Option<Vec<String>> = std::env::var("SFMC_VARIANTS")
        .ok()
        .map(|v| v.split(',').map(str::to_owned).collect());
    let features = common::root().join("features");
    let checks = Session::checks(&features).expect("the features parse");
    let browsers = SharedBrowsers::start().await;
    let mut wrong = Vec::new();
    let mut rows = 0;
    for id in IDS {
        if only.as_ref().is_some_and(|o| !o.iter().any(|x| x == id)) {
            continue;
        }
        // The rows of this id's outlines: the variant is what follows the last ": " of the name.
        let variants: Vec<(String, String)> = checks
            .iter()
            .filter(|c| c.id == *id)
            .filter_map(|c| {
                let (_, v) = c.title.rsplit_once(": ")?;
                Some((c.title.clone(), v.to_owned()))
            })
            .collect();
        assert!(!variants.is_empty(), "{id} has no outline rows");
        for (name, variant) in variants {
            let started = std::time::Instant::now();
            let fault = format!("{ACCEPT_FAULT}{variant}");
            let tally = browsers
                .run_named(std::slice::from_ref(&fault), &format!("@{id}"))
                .await;
            rows += 1;
            let failed: Vec<&str> = tally
                .results
                .iter()
                .filter(|r| r.verdict != Verdict::Passed)
                .map(|r| r.location.name.as_str())
                .collect();
            let env = environment(&tally);
            eprintln!(
                "{id} {variant:<44} {} run, tripped {:?} ({:.1} s)",
                tally.results.len(),
                failed,
                started.elapsed().as_secs_f64()
            );
            if failed != [name.as_str()] || !env.is_empty() {
                wrong.push(format!(
                    "{fault}: expected only `{name}` to fail, got {failed:?}; environment failures {env:?}"
                ));
            }
        }
    }
    browsers.stop().await;
    assert!(rows > 0, "SFMC_VARIANTS names no check id");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
