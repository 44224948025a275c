//! The tolerance matrix, counterpart of the mutation matrix: the whole suite runs against the
//! simulator with each allowed variation (behaviour a conformant server may have: `+` for a
//! space, 400 for invalid_client with body credentials, codes that live 60 s, ...), judged in
//! the dialect that allows it, and **no** check may trip: no failure, warning, finding or note,
//! and no environment failure. A check that trips here is a false alarm against a server that
//! follows the RFCs. One ChromeDriver and two browsers serve every row.
//!
//! As in the mutation matrix, a baseline run notes which scenarios made the simulator consult
//! each variation (it reads a variation's setting only where its value can change the answer:
//! `simulator_fuzz` holds it to that), and a variation's row runs those scenarios; the others
//! behave as they did in the baseline, which must be clean. The sfmc baseline is the conformant
//! simulator; the oauth2 one (its token requests are form-encoded) is the whole-suite row of one
//! oauth2 variation, whose scenarios every other oauth2 row runs as well. A variation that
//! changes the set-up itself (`Variation::is_global`: the login origin, the registered redirect
//! URIs) runs the whole suite.
//!
//! `SFMC_TOLERANCE=a,b` runs only those rows (and the mutation rows are then left out unless
//! `SFMC_MATRIX_FAULTS` is set too); CI runs them all. `SFMC_TOLERANCE_FULL=1` runs
//! every row on the whole suite.

use crate::common::matrix::{environment, rows_turn, Coverage, Rows, SharedBrowsers};
use sfmc_oauth_conformance::outcome::{Tally, Verdict};
use sfmc_oauth_conformance::simulator::{Fault, Variation};
use sfmc_oauth_conformance::target::Dialect;

#[test]
fn there_are_at_least_ten_variations_in_both_dialects() {
    assert!(Variation::ALL.len() >= 10);
    for d in [Dialect::Sfmc, Dialect::Oauth2] {
        assert!(
            Variation::ALL.iter().any(|v| v.dialect() == d),
            "no variation allowed in {d}"
        );
    }
}

/// Prints a row, and what is wrong with it: anything tripped, an environment failure, or
/// nothing run.
fn judge(name: &str, dialect: Dialect, tally: &Tally, secs: f64) -> Vec<String> {
    let mut wrong = Vec::new();
    let tripped: Vec<String> = tally
        .results
        .iter()
        .filter(|r| r.verdict != Verdict::Passed)
        .map(|r| format!("{} {:?} ({})", r.check.id, r.verdict, r.location))
        .collect();
    let env = environment(tally);
    eprintln!(
        "{name:<34} {dialect:<6} {} passed, {} not applicable, {} tripped, {} environment failures ({secs:.1} s)",
        tally.passed(),
        tally.skipped.len() + tally.results.iter().filter(|r| r.not_applicable().is_some()).count(),
        tripped.len(),
        env.len(),
    );
    if tally.results.is_empty() {
        wrong.push(format!("{name}: nothing ran"));
    }
    if !tripped.is_empty() || !env.is_empty() {
        wrong.push(format!(
            "{name} ({dialect}): tripped {tripped:#?}; environment {env:#?}"
        ));
    }
    wrong
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_check_trips_under_any_allowed_variation() {
    let names: Vec<&str> = Variation::ALL.iter().map(|v| v.name()).collect();
    let Some(rows) = Rows::from_env("SFMC_TOLERANCE", "SFMC_MATRIX_FAULTS", &names) else {
        return;
    };
    let full = std::env::var_os("SFMC_TOLERANCE_FULL").is_some();
    let browsers = SharedBrowsers::start().await;
    let mut wrong = Vec::new();
    // The baselines, whole suite, one scenario at a time: the oauth2 dialect under its
    // least-reached variation (that variation's own row), then the conformant simulator (sfmc),
    // which the mutation matrix has usually run by then. A scenario that read no setting in
    // which a row differs from its baseline runs the same in both: it passed in the baseline,
    // and the row need not run it again.
    let oauth2_base = Variation::UnknownScopeIgnored;
    assert_eq!(oauth2_base.dialect(), Dialect::Oauth2);
    assert!(!oauth2_base.is_global());
    let started = std::time::Instant::now();
    let oauth2 = browsers.run_watched(&[oauth2_base]).await;
    wrong.extend(judge(
        oauth2_base.name(),
        Dialect::Oauth2,
        &oauth2,
        started.elapsed().as_secs_f64(),
    ));
    let sfmc = browsers.conformant().await;
    wrong.extend(judge("none", Dialect::Sfmc, &sfmc.tally, sfmc.secs));
    let sfmc = Coverage::of(&sfmc.tally);
    let _turn = rows_turn().await;
    let oauth2 = Coverage::of(&oauth2);
    for v in Variation::ALL.iter().filter(|v| **v != oauth2_base) {
        if !rows.wants(v.name()) {
            continue;
        }
        let started = std::time::Instant::now();
        let tally = if full || v.is_global() {
            browsers.run(&[], &[*v]).await
        } else {
            let scenarios = match v.dialect() {
                Dialect::Sfmc => sfmc.of_variation(*v),
                // Against the oauth2 baseline the row differs in two settings: its own, and
                // the baseline variation's.
                Dialect::Oauth2 => {
                    let mut s = oauth2.of_variation(*v);
                    s.extend(oauth2.of_variation(oauth2_base));
                    s
                }
            };
            if scenarios.is_empty() {
                wrong.push(format!("{v}: no scenario of the suite consults it"));
                continue;
            }
            browsers.run_only(&[], &[*v], scenarios).await
        };
        wrong.extend(judge(
            v.name(),
            v.dialect(),
            &tally,
            started.elapsed().as_secs_f64(),
        ));
    }
    browsers.stop().await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The loopback exception is only about the port: with any port allowed on an http loopback
/// URI, the port variants are recorded as observations, and a server that also matches by
/// prefix still fails RU-08 on the trailing `/`, `.` and `%2e`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_port_on_loopback_is_observed_and_the_other_variants_still_must_be_refused() {
    let _turn = rows_turn().await;
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
