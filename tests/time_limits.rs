//! The four time limits of a run (`--request-timeout`, `--page-load-timeout`, `--step-timeout`,
//! `--scenario-timeout`), each hit for real: the simulator runs as `mock` in its own process and a
//! target file points one endpoint at a loopback server that accepts and never answers. Each run
//! must end within a bound, as an environment failure (exit 3) naming the limit and its option,
//! with its reports written and nothing left behind. Bounds are generous: "bounded", not "fast".

mod common;

use common::live::run_detoured;
use std::net::TcpListener;
use std::time::Duration;

const SCENARIO: &str = "^A web app redeems its code with its client secret$";

/// A loopback port that accepts connections and never answers (held until the test ends).
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = listener.local_addr().expect("its address");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().flatten() {
            held.push(c);
        }
    });
    format!("http://{addr}")
}

/// Runs SCENARIO with `limits` against the mock, `endpoint` (`authorize_endpoint` or
/// `token_endpoint`) pointed at a silent server; asserts the environment failure that `names`
/// the limit, within `bound`, in the output and the summary, with reports and nothing left behind.
fn hit(endpoint: &str, limits: &[&str], names: &str, bound: Duration) {
    let silent = silent_server();
    let r = run_detoured(
        endpoint,
        &silent,
        SCENARIO,
        limits,
        Duration::from_secs(300),
    );
    let what = format!("{limits:?}");
    r.assert_ended(&what, 3, &["environment failure", names], bound);
    let summary =
        std::fs::read_to_string(r.reports.join("latest/summary.md")).expect("the summary");
    assert!(summary.contains(names), "{summary}");
}

#[test]
fn a_token_endpoint_that_never_answers_ends_at_the_request_timeout() {
    hit(
        "token_endpoint",
        &["--request-timeout", "2"],
        "within 2 s (the connect timeout, or the request timeout: --request-timeout)",
        Duration::from_secs(90),
    );
}

#[test]
fn a_step_longer_than_its_limit_ends_at_the_step_timeout() {
    hit(
        "token_endpoint",
        &["--request-timeout", "600", "--step-timeout", "3"],
        "the step did not end within its time limit of 3 s (--step-timeout)",
        Duration::from_secs(90),
    );
}

#[test]
fn a_scenario_longer_than_its_limit_ends_at_the_scenario_timeout() {
    hit(
        "token_endpoint",
        &["--request-timeout", "600", "--scenario-timeout", "4"],
        "the scenario did not end within its time limit of 4 s (--scenario-timeout)",
        Duration::from_secs(90),
    );
}

#[test]
fn a_login_page_that_never_loads_ends_at_the_page_load_timeout() {
    hit(
        "authorize_endpoint",
        &["--page-load-timeout", "2"],
        "did not finish loading within 2 s (the page-load timeout: --page-load-timeout)",
        Duration::from_secs(90),
    );
}
