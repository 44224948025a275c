//! The run session: two sessions in one process are independent (each scenario sees its own
//! session's target), and each phase fails with its documented exit code.

mod common;

use sfmc_oauth_conformance::exit::{self, Exit};
use sfmc_oauth_conformance::outcome::Verdict;
use sfmc_oauth_conformance::session::{
    self, Browsers, Session, SessionConfig, SessionError, TargetSpec,
};
use sfmc_oauth_conformance::simulator::Fault;
use std::path::PathBuf;

fn browsers() -> Browsers {
    Browsers::Start {
        webdriver: None,
        chromedriver: None,
        chrome: PathBuf::from(
            std::env::var("SFMC_CHROME").unwrap_or_else(|_| "/usr/bin/chromium".into()),
        ),
        profile: None,
    }
}

fn config(tags: &str, faults: &[Fault]) -> SessionConfig {
    SessionConfig {
        tags: Some(tags.into()),
        concurrency: Some(1),
        ..SessionConfig::quiet_simulator(&common::root().join("features"), faults, browsers())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sessions_at_once_in_one_process_each_see_their_own_target() {
    // The same checks at the same time: against a conformant simulator they pass, against one
    // that does not check client secrets they fail. Were the run context shared, one session's
    // scenarios would meet the other's simulator and the two would agree.
    let tags = "@TK-08";
    let (good, bad) = tokio::join!(
        session::run(config(tags, &[]), std::future::pending()),
        session::run(
            config(tags, &[Fault::SecretNotChecked]),
            std::future::pending()
        ),
    );
    let (good, bad) = (good.expect("a session"), bad.expect("a session"));
    assert_eq!(good.tally.closing_line(), "2 passed, 0 failed, 0 skipped");
    assert_eq!(bad.tally.closing_line(), "0 passed, 2 failed, 0 skipped");
    for r in &bad.tally.results {
        assert_eq!(r.verdict, Verdict::Failed);
        let f = r.failure.as_ref().expect("a typed failure");
        assert_eq!(f.check.id, "TK-08");
        assert_eq!(f.expected, "401 invalid_client", "{:?} {f}", f.kind);
    }
    assert_eq!(good.exit_code(), exit::SUCCESS);
    assert_eq!(bad.exit_code(), exit::NONCONFORMANT);
}

#[test]
fn preparing_starts_nothing_and_plans_what_the_target_can_run() {
    let prepared = Session::prepare(config("@TK-08 or @AZ-10", &[])).expect("prepared");
    let plan = prepared.plan();
    assert_eq!(
        plan.selected, 2,
        "the two TK-08 scenarios run against the simulator"
    );
    assert!(plan.needs_browser);
    assert_eq!(plan.unsupported.len(), 1, "AZ-10 is live-only");
    assert!(plan.unsupported[0].location.name.contains("requires TLS"));
    assert!(plan.unsupported[0].reason.contains("needs a live target"));
    let lines = prepared.dry_run();
    assert_eq!(
        lines.last().map(String::as_str),
        Some("2 would run, 1 not applicable; nothing was sent")
    );
}

#[test]
fn each_phase_fails_with_its_exit_code() {
    let bad_tags = Session::prepare(config("@a and", &[])).expect_err("bad tags");
    assert_eq!(bad_tags.exit_code(), exit::USAGE);
    let mut bad_name = config("@RU-14", &[]);
    bad_name.name = Some("(".into());
    assert!(matches!(
        Session::prepare(bad_name),
        Err(e @ SessionError::Name(_)) if e.exit_code() == exit::USAGE
    ));
    let mut bad_fault = config("@RU-14", &[]);
    bad_fault.target = TargetSpec::Simulator {
        port: 0,
        integrations: None,
        faults: vec!["no-such-fault".into()],
        variations: vec![],
    };
    let e = Session::prepare(bad_fault).expect_err("an unknown fault");
    assert_eq!(e.exit_code(), exit::USAGE);
    assert!(
        e.to_string().contains("unknown fault `no-such-fault`"),
        "{e}"
    );
}

#[tokio::test]
async fn a_report_folder_that_cannot_be_made_is_an_environment_failure() {
    let mut c = config("@AZ-10", &[]);
    c.reports = Some(PathBuf::from("/dev/null/reports"));
    let e = Session::prepare(c)
        .expect("prepared")
        .start()
        .await
        .expect_err("no report folder under /dev/null");
    assert!(matches!(e, SessionError::ReportDir { .. }), "{e}");
    assert_eq!(e.exit_code(), exit::ENVIRONMENT);
}
