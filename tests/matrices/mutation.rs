//! The mutation matrix: the whole suite runs against the conformant simulator (every check
//! passes) and against each simulator fault, and exactly the check ids in the fault's row must
//! trip (fail, warn, or report a finding). A check no fault trips, and a fault that trips
//! nothing, are defects. One ChromeDriver and two browsers serve every run.
//!
//! The conformant row runs the whole suite, one scenario at a time, and notes which faults each
//! scenario made the simulator consult; a fault's row then runs the scenarios that consulted it
//! (see `common::matrix::Coverage`): a scenario that never reached a fault's branch cannot
//! trip with it on.
//!
//! `SFMC_MATRIX_FAULTS=a,b` runs only those rows (for working on a fault; the tolerance rows are
//! then left out unless `SFMC_TOLERANCE` is set too); CI runs them all.
//! `SFMC_MATRIX_FULL=1` runs every row on the whole suite, as the matrix was first established.

use crate::common;
use common::matrix::{environment, rows_turn, Coverage, Rows, SharedBrowsers};
use sfmc_oauth_conformance::runner::features;
use sfmc_oauth_conformance::simulator::Fault;
use std::collections::BTreeSet;

/// fault → the checks it trips. Read a row as: with this fault on, these checks fail.
#[rustfmt::skip]
const MATRIX: &[(&str, &[&str])] = &[
    ("none", &[]),
    ("redirect-uri-prefix-match", &["RU-02", "RU-03", "RU-04", "RU-05", "RU-07", "RU-08", "RU-09"]),
    ("redirect-uri-ignore-port", &["RU-05", "RU-06", "RU-08"]),
    ("redirect-uri-prefix-no-slash", &["RU-02", "RU-03", "RU-04", "RU-05", "RU-06", "RU-07", "RU-08", "RU-09"]),
    ("redirect-uri-ignores-query", &["RU-03", "RU-04", "RU-07"]),
    ("redirect-uri-normalized", &["RU-05", "RU-06", "RU-08"]),
    ("redirect-uri-last-wins", &["RU-07"]),
    ("open-redirect", &["RU-01", "RU-02", "RU-03", "RU-04", "RU-05", "RU-06", "RU-07", "RU-08", "RU-09", "RU-10", "RU-11", "RU-14"]),
    ("state-dropped", &["AR-01", "AR-02", "AR-03"]),
    ("state-truncated", &["AR-02", "AR-03"]),
    ("state-html-escaped", &["AR-01", "AR-02", "AR-03"]),
    ("state-double-encoded", &["AR-01", "AR-02", "AR-03"]),
    ("code-reusable", &["TK-02", "TK-03", "TK-04"]),
    ("code-reuse-keeps-tokens", &["TK-03"]),
    ("code-reuse-revokes-refresh-only", &["TK-03"]),
    ("code-reuse-revokes-access-only", &["TK-03"]),
    ("code-lifetime-hour", &["TE-02", "TK-05"]),
    ("code-not-bound-to-client", &["TK-06", "TK-07"]),
    ("code-not-bound-to-redirect-uri", &["RU-13", "RU-14", "TE-02"]),
    ("pkce-ignored", &["PK-02", "PK-03", "PK-04", "PK-05", "PK-08", "PK-10"]),
    ("pkce-plain-accepted", &["PK-05", "PK-06"]),
    ("pkce-verified-only-when-sent", &["PK-03"]),
    ("pkce-downgrade-accepted", &["PK-04"]),
    ("refresh-not-rotated", &["RF-01", "RF-02", "RF-03", "RF-04", "RF-08", "RF-09", "RF-11", "TR-05"]),
    ("refresh-old-still-valid", &["RF-02", "RF-03", "RF-04", "RF-08", "RF-09"]),
    ("refresh-no-family-revocation", &["RF-03"]),
    ("refresh-replay-spares-access-token", &["RF-03"]),
    ("refresh-rotated-for-confidential-only", &["RF-02"]),
    ("refresh-grace-window", &["RF-02", "RF-03", "RF-04", "RF-08", "RF-09"]),
    ("secret-not-checked", &["RF-06", "TE-01", "TK-08"]),
    ("no-cache-control", &["TR-03"]),
    ("wrong-content-type", &["RF-09", "TE-01", "TR-02"]),
    ("error-without-error-field", &["PK-02", "PK-03", "PK-10", "RF-02", "RF-04", "RF-06", "RF-07", "RF-09", "TE-01", "TE-02", "TK-02", "TK-05", "TK-08", "TK-12", "TK-13", "TK-14", "TR-07"]),
    ("wrong-error-status", &["PK-02", "PK-03", "PK-04", "PK-05", "PK-08", "PK-10", "RF-02", "RF-03", "RF-04", "RF-05", "RF-06", "RF-07", "RF-08", "RF-09", "RU-13", "RU-14", "TE-01", "TE-02", "TK-02", "TK-03", "TK-04", "TK-05", "TK-06", "TK-07", "TK-08", "TK-09", "TK-10", "TK-12", "TK-13", "TK-14", "TK-15", "TR-07"]),
    ("redirect-307", &["AR-08"]),
    ("frameable-login", &["BP-01", "BP-02"]),
    ("frame-ancestors-star", &["BP-01", "BP-02"]),
    ("csp-meta-only", &["BP-01", "BP-02"]),
    ("bare-instance-urls", &["TR-08"]),
    ("expires-in-string", &["TR-01", "TR-06"]),
    ("early-error-redirect", &["AZ-06"]),
    ("redirect-uri-optional", &["RU-12"]),
    ("unknown-parameter-rejected", &["AZ-01", "TK-12"]),
    ("duplicate-parameters-accepted", &["AZ-02", "RU-07", "TK-12"]),
    ("response-type-unchecked", &["AZ-03", "AZ-04"]),
    ("scope-order-sensitive", &["AZ-05"]),
    ("unknown-client-redirects", &["AZ-02", "AZ-07"]),
    ("cancel-error-wrong", &["AZ-08"]),
    ("authorize-post-refused", &["AZ-09"]),
    ("empty-state-added", &["AR-03"]),
    ("code-in-fragment", &["AR-01", "AR-02", "AR-03", "AR-04", "AR-09", "AZ-01", "AZ-05", "AZ-09", "BP-07", "PK-01", "PK-02", "PK-03", "PK-04", "PK-05", "PK-08", "PK-10", "RF-01", "RF-02", "RF-03", "RF-04", "RF-05", "RF-06", "RF-07", "RF-08", "RF-09", "RF-11", "RU-04", "RU-13", "RU-14", "TE-01", "TE-02", "TK-01", "TK-02", "TK-03", "TK-04", "TK-05", "TK-06", "TK-07", "TK-08", "TK-09", "TK-10", "TK-11", "TK-12", "TK-13", "TR-01", "TR-02", "TR-03", "TR-04", "TR-05", "TR-06", "TR-07", "TR-08"]),
    ("error-redirect-extra-params", &["AR-05"]),
    ("error-without-state", &["AR-06", "AZ-08"]),
    ("wrong-iss", &["AR-07"]),
    ("weak-randomness", &["AR-09", "TR-05"]),
    ("bad-tssd", &["AR-10"]),
    ("pkce-s256-wrong-encoding", &["PK-01", "PK-08", "RF-02", "TK-01"]),
    ("pkce-not-required", &["PK-07"]),
    ("verifier-syntax-unchecked", &["PK-08"]),
    ("pkce-method-unchecked", &["PK-09"]),
    ("code-reuse-window", &["TK-02", "TK-03", "TK-04"]),
    ("client-id-optional", &["TK-09"]),
    ("secret-in-query-accepted", &["TK-10"]),
    ("basic-auth-unsupported", &["TK-11"]),
    ("content-type-unchecked", &["TK-13"]),
    ("wrong-error-code", &["TE-02", "TK-14"]),
    ("password-grant-accepted", &["TK-15"]),
    ("long-tokens", &["TR-04"]),
    ("access-token-never-expires", &["TR-06"]),
    ("scope-widened", &["RF-07", "TR-07"]),
    ("throttle-oauth-shape", &["TE-03"]),
    ("refresh-reuses-access-token", &["RF-01"]),
    ("refresh-not-bound-to-client", &["RF-05"]),
    ("refresh-scope-widening", &["RF-07"]),
    ("refresh-chain-limit", &["RF-11", "TR-05"]),
    ("no-referrer-policy", &["BP-03"]),
    ("login-page-third-party", &["BP-04"]),
    ("login-csrf-unchecked", &["BP-06"]),
    ("token-in-query-accepted", &["BP-07"]),
];

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
    let parsed = features::load(&common::root().join("features")).expect("features parse");
    let runnable: BTreeSet<String> = features::checks(&parsed)
        .into_iter()
        .filter(|c| common::simulator_runs(&c.tags))
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
    let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
    let Some(rows) = Rows::from_env("SFMC_MATRIX_FAULTS", "SFMC_TOLERANCE", &names) else {
        return;
    };
    let full = std::env::var_os("SFMC_MATRIX_FULL").is_some();
    let browsers = SharedBrowsers::start().await;
    let mut wrong = Vec::new();
    let mut observed = Vec::new();
    // The conformant row, always run: it must be clean, and it says which scenarios consult
    // which fault.
    let baseline = browsers.conformant().await;
    let conformant = &baseline.tally;
    let coverage = Coverage::of(conformant);
    let clean = conformant.tripped_checks();
    eprintln!(
        "    (\"none\", &[{}]), // {:.1} s, {} scenarios",
        clean
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", "),
        baseline.secs,
        conformant.results.len()
    );
    if !clean.is_empty() || !environment(conformant).is_empty() {
        wrong.push(format!(
            "none: expected nothing, got {clean:?}; environment failures: {:?}",
            environment(conformant)
        ));
    }
    let _turn = rows_turn().await;
    for f in Fault::ALL {
        let name = f.name();
        let expected = row(name).unwrap_or(&[]);
        if !rows.wants(name) {
            continue;
        }
        let started = std::time::Instant::now();
        let tally = if full {
            browsers.run(&[*f], &[]).await
        } else {
            browsers.run_only(&[*f], &[], coverage.of_fault(name)).await
        };
        let ran = tally.results.len();
        let got: BTreeSet<String> = tally.tripped_checks();
        let want: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        let row = format!(
            "    (\"{name}\", &[{}]),",
            got.iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        eprintln!(
            "{row} // {:.1} s, {ran} scenarios",
            started.elapsed().as_secs_f64()
        );
        observed.push(row);
        if got != want {
            wrong.push(format!(
                "{name}: expected {want:?}, got {got:?}; environment failures: {:?}",
                environment(&tally)
            ));
        }
    }
    browsers.stop().await;
    assert!(
        wrong.is_empty(),
        "{}\n\nobserved rows:\n{}",
        wrong.join("\n"),
        observed.join("\n")
    );
}
