//! The conformance suite through the real browser: the binary runs the features against the
//! embedded simulator, driving headless Chromium through ChromeDriver. These runs are serialised
//! (each starts its own ChromeDriver and up to two browsers; the machine has two cores).

mod common;

use common::{assert_nothing_left, command, finish, run, token_shaped};
use std::sync::Mutex;
use std::time::Duration;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
const LIMIT: Duration = Duration::from_secs(300);

/// (scenarios the simulator runs, scenarios not applicable to it)
fn scenario_count() -> (usize, usize) {
    let features = sfmc_oauth_conformance::runner::features::load(&common::root().join("features"))
        .expect("the features parse");
    let all = sfmc_oauth_conformance::runner::features::scenarios(&features);
    let runs = all
        .iter()
        .filter(|s| common::simulator_runs(&s.tags))
        .count();
    (runs, all.len() - runs)
}

#[test]
fn the_whole_suite_passes_against_the_simulator_through_chromium() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    // CI's run against the simulator holds it to its committed baselines.
    let (r, tmp) = run(&["run", "--fail-on-drift", "--color", "never"], LIMIT);
    let (n, live_only) = scenario_count();
    assert!(n >= 150, "only {n} scenarios");
    assert_eq!(
        r.code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
    assert_eq!(
        r.closing_line(),
        format!("{n} passed, 0 failed, {live_only} skipped")
    );
    // Both kinds of app went through the browser, and the checks ran (✔ per step).
    for flow in [
        "Scenario Outline: The web app gets a code and the exact state mystate back",
        "Scenario Outline: The public app gets a code and the exact state mystate back",
        "Scenario: A public app redeems its code with a PKCE S256 verifier and no secret",
    ] {
        assert!(
            r.stdout.contains(flow),
            "{flow:?} did not run:\n{}",
            r.stdout
        );
    }
    assert!(r
        .stdout
        .contains("✔  And the callback's state is exactly \"a b&c=d+e/f?g%h#i\""));
    assert!(!r.stdout.contains('✘'), "{}", r.stdout);
    // No code or token reached the output.
    assert_eq!(token_shaped(&r.stdout), Vec::<String>::new());
    assert_eq!(token_shaped(&r.stderr), Vec::<String>::new());
    assert_nothing_left(tmp.path());
}

#[test]
fn failure_messages_show_redacted_evidence_and_no_secret() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let (r, tmp) = run(
        &[
            "run",
            "--features",
            "tests/fixtures/evidence",
            "--color",
            "never",
        ],
        LIMIT,
    );
    assert_eq!(
        r.code,
        Some(4),
        "stdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
    assert_eq!(r.closing_line(), "0 passed, 2 failed, 0 skipped");
    let out = &r.stdout;
    assert!(
        out.contains("[TK-08 S-11 MUST] token endpoint status"),
        "{out}"
    );
    assert!(out.contains("expected: 200"), "{out}");
    assert!(out.contains("actual:   401"), "{out}");
    // The evidence is there, with every secret replaced by its kind.
    assert!(out.contains("> POST http://127.0.0.1:"), "{out}");
    assert!(out.contains(r#""code":"[Code]""#), "{out}");
    assert!(out.contains(r#""client_secret":"[ClientSecret]""#), "{out}");
    assert!(out.contains(r#""access_token":"[AccessToken]""#), "{out}");
    assert!(out.contains(r#""refresh_token":"[RefreshToken]""#), "{out}");
    assert!(
        out.contains("browser ended on: https://127.0.0.1:80/?code=[Code]&state="),
        "{out}"
    );
    assert_eq!(token_shaped(out), Vec::<String>::new());
    assert_eq!(token_shaped(&r.stderr), Vec::<String>::new());
    for sentinel in [
        "SENTINELwebSecret7Qx2Lm9Z",
        "SENTINELpassword+/= 8Kq",
        "SENTINELTOTPSEEDAAAAAAAAAAAAAAAA",
    ] {
        for form in common::encodings(sentinel) {
            assert!(
                !out.contains(&form) && !r.stderr.contains(&form),
                "{form:?} was printed"
            );
        }
    }
    assert_nothing_left(tmp.path());
}

#[test]
fn ctrl_c_stops_the_run_and_leaves_no_browser_behind() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let reports = tempfile::tempdir().expect("a report folder");
    let report_dir = reports.path().display().to_string();
    let child = command(
        &["run", "--color", "never", "--report-dir", &report_dir],
        tmp.path(),
    )
    .spawn()
    .expect("start sfmc-conformance");
    let pid = child.id() as i32;
    // Wait until a browser is up (its profile appears under TMPDIR), then interrupt.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while common::live_processes_mentioning(&tmp.path().display().to_string())
        .iter()
        .all(|p| !p.contains("chromium"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no browser started within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let some scenarios end first.
    std::thread::sleep(Duration::from_secs(6));
    // SAFETY: signalling the child we spawned.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let r = finish(child, Duration::from_secs(30));
    assert_eq!(
        r.code,
        Some(130),
        "stdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
    assert!(r.stderr.contains("interrupted"), "{}", r.stderr);
    // The reports of what ran are written, complete, and say that the run was interrupted.
    let latest = reports.path().join("latest");
    let summary = std::fs::read_to_string(latest.join("summary.md")).expect("a summary");
    assert!(
        summary.contains("Interrupted (Ctrl-C or SIGTERM)"),
        "{summary}"
    );
    assert!(latest.join("report.html").is_file());
    // Cucumber writes its JSON only when its run ends; the interrupted run's holds every
    // scenario that ended (as many as junit.xml, made from the run's own results), each with its
    // steps and their results.
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(latest.join("cucumber.json")).expect("cucumber.json"),
    )
    .expect("cucumber.json is JSON");
    let elements: Vec<&serde_json::Value> = json
        .as_array()
        .expect("an array of features")
        .iter()
        .flat_map(|f| f["elements"].as_array().expect("elements"))
        .collect();
    let junit = std::fs::read_to_string(latest.join("junit.xml")).expect("junit.xml");
    // junit.xml also lists the checks that were not applicable, as skipped.
    let not_applicable: usize = junit
        .split("skipped=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|n| n.parse().ok())
        .expect("junit.xml counts its skipped tests");
    assert!(!elements.is_empty(), "no scenario ended in 6 s");
    assert_eq!(
        elements.len(),
        junit.matches("<testcase").count() - not_applicable,
        "cucumber.json holds every scenario that ended"
    );
    for e in &elements {
        let steps = e["steps"].as_array().expect("steps");
        assert!(!steps.is_empty(), "{e}");
        assert!(
            steps.iter().all(|s| s["result"]["status"].is_string()),
            "{e}"
        );
    }
    assert!(
        elements.iter().any(|e| e["steps"]
            .as_array()
            .is_some_and(|s| s.iter().all(|s| s["result"]["status"] == "passed"))),
        "a scenario that passed shows its steps passed"
    );
    assert_nothing_left(tmp.path());
}

#[test]
fn a_persistent_browser_profile_is_used_one_browser_at_a_time_and_never_cleared() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let profile = tempfile::tempdir().expect("a folder");
    let dir = profile.path().join("profile").display().to_string();
    let (r, _tmp) = run(
        &[
            "run",
            "--color",
            "never",
            "--browser-profile",
            &dir,
            "--concurrency",
            "2",
            "--tags",
            "@TK-01 or @BP-02",
        ],
        LIMIT,
    );
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("note: --browser-profile runs one scenario at a time"),
        "{}",
        r.stdout
    );
    // The scenario that would clear the login session is not applicable, with its reason.
    assert!(
        r.stdout.contains("`The login page does not render inside another origin's frame`: needs a browser with no login session; --browser-profile keeps the profile's"),
        "{}",
        r.stdout
    );
    assert_eq!(r.closing_line(), "2 passed, 0 failed, 1 skipped");
    // Chromium kept its profile there, for the next run.
    assert!(
        profile.path().join("profile/Default").is_dir(),
        "no profile was written to {dir}"
    );
}

/// Live ChromeDriver processes whose parent is `parent` (the run).
fn chromedrivers_of(parent: u32) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some((head, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let (state, ppid) = (
            fields.next(),
            fields.next().and_then(|p| p.parse::<u32>().ok()),
        );
        if head.ends_with("(chromedriver") && ppid == Some(parent) && state != Some("Z") {
            if let Some(pid) = head.split_whitespace().next().and_then(|p| p.parse().ok()) {
                out.push(pid);
            }
        }
    }
    out
}

#[test]
fn a_chromedriver_killed_mid_run_is_started_again_and_once_it_cannot_be_the_run_ends_with_3() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let reports = tempfile::tempdir().expect("a report folder");
    // A ChromeDriver that starts twice, then refuses: the second kill cannot be recovered from.
    let wrapper = tmp.path().join("chromedriver-twice");
    let count = tmp.path().join("starts");
    let real = sfmc_oauth_conformance::browser::driver::locate(None).expect("ChromeDriver");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho x >> '{c}'\nif [ \"$(wc -l < '{c}')\" -gt 2 ]; then echo 'refusing to start' >&2; exit 1; fi\nexec '{real}' \"$@\"\n",
            c = count.display(),
            real = real.display()
        ),
    )
    .expect("a wrapper");
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("executable");
    let wrapper_arg = wrapper.display().to_string();
    let report_dir = reports.path().display().to_string();
    let child = command(
        &[
            "run",
            "--color",
            "never",
            "--chromedriver",
            &wrapper_arg,
            "--report-dir",
            &report_dir,
        ],
        tmp.path(),
    )
    .spawn()
    .expect("start sfmc-conformance");
    let run_pid = child.id();
    // Kill the driver once a browser is up, then its successor.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let mut killed = Vec::new();
    while killed.len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "killed {killed:?} only"
        );
        let browsers = common::live_processes_mentioning(&tmp.path().display().to_string())
            .iter()
            .any(|p| p.contains("chromium"));
        let drivers = chromedrivers_of(run_pid);
        if let (true, Some(pid)) = (browsers, drivers.iter().find(|p| !killed.contains(*p))) {
            // SAFETY: a ChromeDriver our run started.
            unsafe {
                libc::kill(*pid, libc::SIGKILL);
            }
            killed.push(*pid);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = finish(child, LIMIT);
    assert_eq!(
        r.code,
        Some(3),
        "stdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
    assert!(
        r.stderr
            .contains("warning: ChromeDriver died; started again (1 of at most 3)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("ChromeDriver died and could not be started again"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    // The reports of what ran are written, and no process is left behind.
    let summary = std::fs::read_to_string(reports.path().join("latest").join("summary.md"))
        .expect("a summary");
    assert!(summary.contains("## Could not be judged"), "{summary}");
    std::thread::sleep(Duration::from_millis(500));
    assert_nothing_left_but(tmp.path(), &["chromedriver-twice", "starts"]);
}

/// [`assert_nothing_left`], with some files the test made itself.
fn assert_nothing_left_but(tmp: &std::path::Path, ours: &[&str]) {
    for f in ours {
        let _ = std::fs::remove_file(tmp.join(f));
    }
    assert_nothing_left(tmp);
}

#[test]
fn a_chromium_killed_mid_run_fails_its_scenario_as_the_environment_and_the_run_goes_on() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let reports = tempfile::tempdir().expect("a report folder");
    let report_dir = reports.path().display().to_string();
    let child = command(
        &["run", "--color", "never", "--report-dir", &report_dir],
        tmp.path(),
    )
    .spawn()
    .expect("start sfmc-conformance");
    // Once browsers have served for 4 s, kill one browser's main process (not a renderer or
    // another helper: no `--type=`; not the crash handler, whose command line also names
    // chromium and the profile folder, and whose death changes nothing), as the OOM killer
    // would.
    let needle = tmp.path().display().to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let browser_of = || {
        common::live_processes_mentioning(&needle)
            .into_iter()
            .find(|p| p.contains("chromium") && !p.contains("--type=") && !p.contains("crashpad"))
    };
    while browser_of().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "no browser within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(4));
    let victim = browser_of().expect("a browser still up");
    let pid: i32 = victim
        .split(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("its pid");
    // SAFETY: a Chromium our run started.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    let r = finish(child, LIMIT);
    // The scenario whose browser died is the environment's failure (exit 3); the others ran on
    // new browsers and passed.
    assert_eq!(
        r.code,
        Some(3),
        "stdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
    let environment = r.stderr.matches("error: environment failure in").count();
    assert!(
        (1..=2).contains(&environment),
        "{environment} environment failures:\n{}",
        r.stderr
    );
    let (runs, not_applicable) = scenario_count();
    assert_eq!(
        r.closing_line(),
        format!(
            "{} passed, {environment} failed, {not_applicable} skipped",
            runs - environment
        ),
        "{}",
        r.stdout
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(
        std::fs::read_to_string(reports.path().join("latest").join("summary.md"))
            .expect("a summary")
            .contains("## Could not be judged"),
        "the reports of the run are written"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_nothing_left(tmp.path());
}
