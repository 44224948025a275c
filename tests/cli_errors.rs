//! Bad input ends with a one-line cause and the documented exit code, never a hang or a panic.
//! None of these runs reaches a browser.

mod common;

use common::run;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

fn assert_one_line_cause(stderr: &str, needle: &str) {
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert!(
        errors.iter().any(|l| l.contains(needle)),
        "no `error:` line mentioning {needle:?} in:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "a panic trace:\n{stderr}");
}

/// `run` on the feature files of `tests/fixtures/NAME`, without colours.
fn run_fixture(name: &str) -> (common::Run, tempfile::TempDir) {
    let dir = format!("tests/fixtures/{name}");
    run(&["run", "--features", &dir, "--color", "never"], LIMIT)
}

#[test]
fn help_lists_the_exit_codes_and_exits_0() {
    let (r, _tmp) = run(&["run", "--help"], LIMIT);
    assert_eq!(r.code, Some(0), "{r:?}");
    for code in ["0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "130"] {
        assert!(
            r.stdout.contains(&format!("  {code}")),
            "exit code {code} missing:\n{}",
            r.stdout
        );
    }
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    let (r, _tmp) = run(&["run", "--no-such-flag"], LIMIT);
    assert_eq!(r.code, Some(1), "{r:?}");
}

#[test]
fn a_missing_feature_folder_is_a_usage_error() {
    let (r, _tmp) = run(
        &["run", "--features", "tests/fixtures/no-such-folder"],
        LIMIT,
    );
    assert_eq!(r.code, Some(1), "{r:?}");
    assert_one_line_cause(&r.stderr, "no feature folder");
}

#[test]
fn a_bad_tag_expression_is_a_usage_error() {
    let (r, _tmp) = run(&["run", "--tags", "@web and and"], LIMIT);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert_one_line_cause(&r.stderr, "--tags");
}

#[test]
fn a_feature_that_does_not_parse_exits_2_before_anything_starts() {
    let (r, _tmp) = run(&["run", "--features", "tests/fixtures/unparsable"], LIMIT);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert_one_line_cause(&r.stderr, "broken.feature: does not parse");
    assert!(
        !r.stdout.contains("target:"),
        "the simulator started anyway:\n{}",
        r.stdout
    );
}

#[test]
fn an_undefined_step_fails_the_run_with_exit_2_and_is_not_a_pass() {
    let (r, _tmp) = run_fixture("undefined");
    assert_eq!(r.code, Some(2), "{r:?}");
    assert_eq!(
        r.closing_line(),
        "0 passed, 1 failed, 0 skipped",
        "{}",
        r.stdout
    );
    assert_one_line_cause(&r.stderr, "undefined.feature:3 `The second step matches no definition`: a step matches no step definition");
}

#[test]
fn a_failed_check_exits_4() {
    let (r, _tmp) = run_fixture("nonconformant");
    assert_eq!(r.code, Some(4), "{r:?}");
    assert_eq!(r.closing_line(), "0 passed, 1 failed, 0 skipped");
    assert!(
        r.stdout
            .contains("[RU-14 S-05 MUST] the authorization URL, byte for byte"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("expected: http://127.0.0.1:"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_missing_chromedriver_exits_3_with_one_line() {
    let (r, _tmp) = run(
        &["run", "--chromedriver", "/nonexistent/chromedriver"],
        LIMIT,
    );
    assert_eq!(r.code, Some(3), "{r:?}");
    assert_one_line_cause(&r.stderr, "ChromeDriver not found");
}

#[test]
fn a_missing_chromium_exits_3_with_one_line() {
    let (r, _tmp) = run(&["run", "--chrome", "/nonexistent/chromium"], LIMIT);
    assert_eq!(r.code, Some(3), "{r:?}");
    assert_one_line_cause(&r.stderr, "Chromium not found");
}

#[test]
fn a_simulator_port_in_use_exits_3_with_one_line() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = busy.local_addr().expect("its address").port().to_string();
    let (r, _tmp) = run(&["run", "--simulator-port", &port], LIMIT);
    assert_eq!(r.code, Some(3), "{r:?}");
    assert_one_line_cause(&r.stderr, &format!("cannot listen on 127.0.0.1:{port}"));
}

#[test]
fn scenarios_that_need_no_browser_start_none() {
    // A missing ChromeDriver does not matter when no selected scenario is tagged @browser.
    let (r, tmp) = run(
        &[
            "run",
            "--tags",
            "not @browser",
            "--chromedriver",
            "/nonexistent",
            "--color",
            "never",
        ],
        LIMIT,
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.closing_line().contains(" 0 failed, "), "{}", r.stdout);
    common::assert_nothing_left(tmp.path());
}

#[test]
fn name_and_tags_narrow_together() {
    // `--name` matches a scenario of @RU-08 only; with `--tags @RU-05` nothing is selected, and
    // nothing runs (cucumber's own name filter used to replace the tag filter and run it).
    let (r, tmp) = run(
        &[
            "run",
            "--tags",
            "@RU-05",
            "--name",
            "%2e$",
            "--chromedriver",
            "/nonexistent",
            "--color",
            "never",
        ],
        LIMIT,
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.closing_line().starts_with("0 passed, 0 failed"),
        "{}",
        r.stdout
    );
    common::assert_nothing_left(tmp.path());
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    // As `sfmc-conformance list | head` once the reader has gone: the read end is closed before
    // the command writes, so every write meets a broken pipe.
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let mut child = common::command(&["list"], tmp.path())
        .spawn()
        .expect("start sfmc-conformance");
    drop(child.stdout.take());
    let r = common::finish(child, LIMIT);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        !r.stderr.contains("panicked") && !r.stderr.contains("Broken pipe"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_bug_in_step_code_is_a_harness_error_that_names_the_scenario_exit_5() {
    let (r, _tmp) = run_fixture("harness_bug");
    assert_eq!(r.code, Some(5), "{r:?}");
    // Never a pass: the check that fails as a check beside it is still judged.
    assert_eq!(r.closing_line(), "0 passed, 2 failed, 0 skipped");
    assert_one_line_cause(
        &r.stderr,
        "bug.feature:3 `A step whose code panics` (a bug in sfmc-conformance; please report it): the step defined at src/runner/steps/mod.rs:",
    );
    assert!(!r.stderr.contains("backtrace"), "{}", r.stderr);
}

#[test]
fn an_outline_without_example_rows_exits_2_before_anything_starts() {
    let (r, tmp) = run(
        &["run", "--features", "tests/fixtures/empty_examples"],
        LIMIT,
    );
    assert_eq!(r.code, Some(2), "{r:?}");
    assert_one_line_cause(
        &r.stderr,
        "empty.feature:3: Scenario Outline `An empty table: <variant>` has no example row",
    );
    common::assert_nothing_left(tmp.path());
}

#[test]
fn a_concurrency_that_is_negative_zero_or_huge_is_a_usage_error() {
    for value in ["-1", "0", "65", "two"] {
        let (r, _tmp) = run(&["run", "--concurrency", value], LIMIT);
        assert_eq!(r.code, Some(1), "{value}: {r:?}");
        assert_one_line_cause(
            &r.stderr,
            &format!("invalid value '{value}' for '--concurrency <N>'"),
        );
    }
}

#[test]
fn a_report_folder_that_is_a_file_exits_3_with_one_line() {
    let file = tempfile::NamedTempFile::new().expect("a file");
    let path = file.path().display().to_string();
    let (r, _tmp) = run(&["run", "--tags", "@TK-09", "--report-dir", &path], LIMIT);
    assert_eq!(r.code, Some(3), "{r:?}");
    assert_one_line_cause(&r.stderr, "cannot create the report folder");
}
