//! A verdict is about the server, never about our set-up: a check whose precondition the target
//! lacks is not applicable, with a reason the user can act on. It is never a failure and never
//! exit 4, whether the plan knows it (a tag says what the scenario needs) or a step finds out.

mod common;

use common::run;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(300);

#[test]
fn other_valid_integrations_give_no_false_failure() {
    // Other client ids and redirect URIs, no second registered URI (so none with a query), no
    // second web app.
    let (r, tmp) = run(
        &[
            "run",
            "--integrations",
            "tests/fixtures/integrations/other.toml",
            "--color",
            "never",
        ],
        LIMIT,
    );
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.closing_line().contains(" 0 failed, 12 skipped"),
        "{}",
        r.closing_line()
    );
    for reason in [
        "`A registered URI with a query keeps its query when the code is appended`: needs a registered redirect URI with a query",
        "`The token request's redirect_uri must be the authorize request's`: needs a second registered redirect URI",
        "`The error matrix: another redirect_uri gives 400 invalid_grant`: needs a second registered redirect URI",
        "`A second installed package cannot redeem the app's code`: the target names no second web app",
        "`Another client cannot use the app's refresh token`: the target names no second web app",
    ] {
        assert!(
            r.stdout.lines().any(|l| l.starts_with("skipped: ") && l.contains(reason)),
            "no `skipped:` line with {reason:?}\n{}",
            r.stdout
        );
    }
    // Another target: its own baselines, none of the simulator's compared.
    assert!(
        !r.stdout.contains("differs from the baseline"),
        "{}",
        r.stdout
    );
    common::assert_nothing_left(tmp.path());
}

#[test]
fn a_step_that_finds_its_need_missing_makes_the_check_not_applicable() {
    let (r, _tmp) = run(
        &[
            "run",
            "--features",
            "tests/fixtures/not_applicable",
            "--integrations",
            "tests/fixtures/integrations/other.toml",
            "--color",
            "never",
        ],
        LIMIT,
    );
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.closing_line(), "0 passed, 0 failed, 1 skipped");
    assert!(
        r.stdout.contains(
            "skipped: tests/fixtures/not_applicable/untagged_need.feature:7 `A registered URI with a query, asked for without the tag that says so`: needs a registered redirect URI with a query"
        ),
        "{}",
        r.stdout
    );
}
