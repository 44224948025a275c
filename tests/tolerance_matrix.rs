//! The tolerance matrix, counterpart of the mutation matrix: the whole suite runs against the
//! simulator with each allowed variation (behaviour a conformant server may have: `+` for a
//! space, 400 for invalid_client with body credentials, codes that live 60 s, ...), judged in
//! the dialect that allows it, and **no** check may trip: no failure, warning, finding or note,
//! and no environment failure. A check that trips here is a false alarm against a server that
//! follows the RFCs. One ChromeDriver and two browsers serve every row.
//!
//! `SFMC_TOLERANCE=a,b` runs only those rows; CI runs them all.

mod common;

use common::matrix::{environment, SharedBrowsers};
use sfmc_oauth_conformance::outcome::Verdict;
use sfmc_oauth_conformance::simulator::{Fault, Variation};

#[test]
fn there_are_at_least_ten_variations_in_both_dialects() {
    use sfmc_oauth_conformance::target::Dialect;
    assert!(Variation::ALL.len() >= 10);
    for d in [Dialect::Sfmc, Dialect::Oauth2] {
        assert!(
            Variation::ALL.iter().any(|v| v.dialect() == d),
            "no variation allowed in {d}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_check_trips_under_any_allowed_variation() {
    let only: Option<Vec<String>> = std::env::var("SFMC_TOLERANCE")
        .ok()
        .map(|v| v.split(',').map(str::to_owned).collect());
    let browsers = SharedBrowsers::start().await;
    let mut wrong = Vec::new();
    let mut ran = 0;
    for v in Variation::ALL {
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|x| x == v.name()))
        {
            continue;
        }
        let started = std::time::Instant::now();
        let tally = browsers.run(&[], &[*v]).await;
        ran += 1;
        let tripped: Vec<String> = tally
            .results
            .iter()
            .filter(|r| r.verdict != Verdict::Passed)
            .map(|r| format!("{} {:?} ({})", r.check.id, r.verdict, r.location))
            .collect();
        let env = environment(&tally);
        eprintln!(
            "{:<34} {:<6} {} passed, {} not applicable, {} tripped, {} environment failures ({:.1} s)",
            v.name(),
            v.dialect(),
            tally.passed(),
            tally.skipped.len() + tally.results.iter().filter(|r| r.not_applicable().is_some()).count(),
            tripped.len(),
            env.len(),
            started.elapsed().as_secs_f64()
        );
        if tally.results.is_empty() {
            wrong.push(format!("{v}: nothing ran"));
        }
        if !tripped.is_empty() || !env.is_empty() {
            wrong.push(format!(
                "{v} ({}): tripped {tripped:#?}; environment {env:#?}",
                v.dialect()
            ));
        }
    }
    browsers.stop().await;
    assert!(ran > 0, "SFMC_TOLERANCE names no variation");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The loopback exception is only about the port: with any port allowed on an http loopback
/// URI, the port variants are recorded as observations, and a server that also matches by
/// prefix still fails RU-08 on the trailing `/`, `.` and `%2e`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_port_on_loopback_is_observed_and_the_other_variants_still_must_be_refused() {
    let browsers = SharedBrowsers::start().await;
    let tally = browsers
        .run_tagged(
            &[Fault::RedirectUriPrefixMatch],
            &[Variation::LoopbackAnyPort],
            Some("@RU-08"),
        )
        .await;
    browsers.stop().await;
    let failed: Vec<String> = tally
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Failed)
        .map(|r| r.location.to_string())
        .collect();
    let observed = tally
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Passed)
        .filter(|r| r.observations.iter().any(|o| o.contains("port variant")))
        .count();
    assert_eq!(failed.len(), 3, "failed: {failed:#?}");
    assert!(observed >= 3, "{observed} port variants observed");
    assert!(environment(&tally).is_empty(), "{:?}", environment(&tally));
}
