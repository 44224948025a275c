//! The live path: a target file (`run --target FILE`) pointing every feature at a server in
//! another process. Here that server is the simulator started on its own by `mock`, described by
//! `targets/simulator.toml`; its secrets reach both only through environment variables.

mod common;

use common::{command, finish};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(600);

/// The secrets both sides read from the environment.
const ENV: &[(&str, &str)] = &[
    ("SIM_WEB_SECRET", "live-web-secret-0000000001"),
    ("SIM_WEB2_SECRET", "live-web-secret-0000000002"),
    ("SIM_PASSWORD", "live-Passw0rd-for-the-sim"),
];

/// A `mock` on a free loopback port with `targets/simulator-integrations.toml` and `faults`,
/// and a copy of `targets/simulator.toml` pointing at it.
struct LiveSimulator {
    child: Option<Child>,
    target_file: PathBuf,
    tmp: tempfile::TempDir,
    env: &'static [(&'static str, &'static str)],
}

impl LiveSimulator {
    fn start(faults: &[&str]) -> Self {
        Self::start_with(
            "targets/simulator-integrations.toml",
            "targets/simulator.toml",
            ENV,
            faults,
        )
    }

    /// `mock` with `integrations`, and a copy of `target_file` (which names port 4567)
    /// pointing at it; both read `env`.
    fn start_with(
        integrations: &str,
        target_file: &str,
        env: &'static [(&'static str, &'static str)],
        faults: &[&str],
    ) -> Self {
        let tmp = tempfile::tempdir().expect("a folder");
        let mut args = vec!["mock", "--port", "0", "--integrations", integrations];
        for f in faults {
            args.extend(["--fault", f]);
        }
        let mut cmd = command(&args, tmp.path());
        cmd.envs(env.iter().copied());
        let mut child = cmd.spawn().expect("start the mock");
        let base = common::listening_on(&mut child, "the mock");
        let file = std::fs::read_to_string(common::root().join(target_file))
            .unwrap_or_else(|e| panic!("{target_file}: {e}"));
        let target_file = tmp.path().join("target.toml");
        std::fs::write(&target_file, file.replace("http://127.0.0.1:4567", &base))
            .expect("a target file");
        Self {
            child: Some(child),
            target_file,
            tmp,
            env,
        }
    }

    /// `run --target <file>` with `extra` arguments.
    fn run(&self, extra: &[&str]) -> common::Run {
        let file = self.target_file.display().to_string();
        let reports = self.tmp.path().join("reports").display().to_string();
        let snapshots = self.tmp.path().join("snapshots").display().to_string();
        let mut args = vec![
            "run",
            "--target",
            &file,
            "--color",
            "never",
            "--report-dir",
            &reports,
            "--snapshots",
            &snapshots,
        ];
        args.extend(extra);
        let run_tmp = self.tmp.path().join("run");
        std::fs::create_dir_all(&run_tmp).expect("a folder");
        let mut cmd = command(&args, &run_tmp);
        cmd.envs(self.env.iter().copied());
        let r = finish(cmd.spawn().expect("start the run"), LIMIT);
        common::assert_nothing_left(&run_tmp);
        r
    }

    fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            // SAFETY: signalling the child we spawned.
            unsafe {
                libc::kill(child.id() as i32, libc::SIGTERM);
            }
            let r = finish(child, Duration::from_secs(30));
            assert_eq!(r.code, Some(0), "the mock stops cleanly: {r:?}");
        }
    }
}

impl Drop for LiveSimulator {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn skipped_reasons(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("skipped: "))
        .filter_map(|l| l.rsplit_once("`: ").map(|(_, reason)| reason))
        .collect()
}

#[test]
fn the_simulator_in_another_process_passes_through_a_target_file() {
    let mut sim = LiveSimulator::start(&[]);
    let r = sim.run(&[]);
    sim.stop();
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    // Every check the live path can run passes, as against the embedded simulator; the others
    // are not applicable, each for a reason of the live path.
    assert_eq!(
        r.closing_line(),
        "174 passed, 0 failed, 15 skipped",
        "{}",
        r.stdout
    );
    for reason in skipped_reasons(&r.stdout) {
        assert!(
            [
                "loopback target",
                "run with --slow",
                "run with --intrusive",
                "needs the simulator's own powers",
                "needs the target's sign-out page",
                "needs form-encoded token requests"
            ]
            .iter()
            .any(|k| reason.contains(k)),
            "an unexpected reason: {reason}"
        );
    }
    assert!(
        r.stdout
            .starts_with("target: simulator-live at http://127.0.0.1:"),
        "{}",
        r.stdout
    );
    // No secret reaches the output.
    for (_, secret) in ENV {
        for form in common::encodings(secret) {
            assert!(
                !r.stdout.contains(&form) && !r.stderr.contains(&form),
                "{form} leaked"
            );
        }
    }
}

/// The secrets of `tests/fixtures/integrations/other-live.toml`.
const OTHER_ENV: &[(&str, &str)] = &[
    ("OTHER_WEB_SECRET", "other-live-web-secret-000001"),
    ("OTHER_PASSWORD", "other-live-Passw0rd-0000001"),
];

#[test]
fn a_target_file_unlike_the_built_in_set_gets_no_false_failure() {
    // Other client ids, redirect URIs, scopes, user; no second web app, no second redirect URI.
    let mut sim = LiveSimulator::start_with(
        "tests/fixtures/integrations/other-live.toml",
        "tests/fixtures/targets/other.toml",
        OTHER_ENV,
        &[],
    );
    let r = sim.run(&[]);
    sim.stop();
    println!("{}", r.stdout);
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.closing_line().contains(" passed, 0 failed, "),
        "{}",
        r.stdout
    );
    let reasons = skipped_reasons(&r.stdout);
    for reason in &reasons {
        assert!(
            [
                "loopback target",
                "run with --slow",
                "run with --intrusive",
                "needs the simulator's own powers",
                "needs the target's sign-out page",
                "the target names no second web app",
                "needs a registered redirect URI with a query",
                "needs a second registered redirect URI",
                "is the registered redirect URI itself for this target",
                "needs form-encoded token requests",
            ]
            .iter()
            .any(|k| reason.contains(k)),
            "an unexpected reason: {reason}"
        );
    }
    // The web app's redirect URI is on a host of its own: the browser was sent there and the
    // local catcher answered.
    let caught: usize = r
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("local catcher: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the catcher's line");
    assert!(caught > 50, "{}", r.stdout);
    // What this target lacks is named, not failed.
    assert!(
        reasons.iter().any(|r| r.contains("no second web app")),
        "{}",
        r.stdout
    );
    for (_, secret) in OTHER_ENV {
        for form in common::encodings(secret) {
            assert!(!r.stdout.contains(&form), "{form} leaked");
        }
    }
}

#[test]
fn slow_checks_against_a_live_target_wait_together_and_show_the_time_left() {
    let mut sim = LiveSimulator::start(&[]);
    let r = sim.run(&["--features", "tests/fixtures/slow", "--slow"]);
    sim.stop();
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        r.closing_line(),
        "3 passed, 0 failed, 0 skipped",
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("2 scenarios wait in real time, 2 at once; the others run after them"),
        "{}",
        r.stdout
    );
    // The two waits overlapped (run one after the other, each would have been alone), and the
    // time left was shown.
    assert!(r.stdout.contains("(2 wait(s) at once)"), "{}", r.stdout);
    assert!(
        r.stdout.contains("waiting in real time: 21s"),
        "{}",
        r.stdout
    );
}

/// Whether a file named `name` of at least `size` bytes is under `dir`, at any depth.
fn found(dir: &Path, name: &str, size: u64) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            let p = e.path();
            (p.file_name().is_some_and(|n| n == name)
                && p.metadata().is_ok_and(|m| m.len() >= size))
                || (p.is_dir() && found(&p, name, size))
        })
}

#[test]
fn a_ctrl_c_in_the_second_pass_of_a_slow_run_keeps_what_the_first_pass_found() {
    let sim = LiveSimulator::start(&[]);
    let file = sim.target_file.display().to_string();
    let reports = sim.tmp.path().join("reports");
    let run_tmp = sim.tmp.path().join("run");
    std::fs::create_dir_all(&run_tmp).expect("a folder");
    let report_dir = reports.display().to_string();
    let snapshots = sim.tmp.path().join("snapshots").display().to_string();
    let mut cmd = command(
        &[
            "run",
            "--target",
            &file,
            "--features",
            "tests/fixtures/slow_then_rest",
            "--slow",
            "--color",
            "never",
            "--report-dir",
            &report_dir,
            "--snapshots",
            &snapshots,
        ],
        &run_tmp,
    );
    cmd.envs(sim.env.iter().copied());
    let child = cmd.spawn().expect("start the run");
    // Cucumber writes the first pass's JSON (in the run's folder) when that pass ends: the
    // second pass is then under way. Interrupt it a moment later, with scenarios in flight.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !found(&reports, "cucumber-slow.json", 100) {
        assert!(
            std::time::Instant::now() < deadline,
            "the slow pass did not end within 120 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: signalling the child we spawned.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let r = finish(child, Duration::from_secs(60));
    assert_eq!(r.code, Some(130), "{}\n{}", r.stdout, r.stderr);
    let latest = reports.join("latest");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(latest.join("cucumber.json")).expect("cucumber.json"),
    )
    .expect("cucumber.json is JSON");
    let names: Vec<String> = json
        .as_array()
        .expect("features")
        .iter()
        .flat_map(|f| f["elements"].as_array().cloned().unwrap_or_default())
        .map(|e| e["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    // Both slow scenarios, from the first pass; the second pass's that ended; not all of them.
    for slow in [
        "A code is still good at 2 seconds",
        "A code is still good at 3 seconds",
    ] {
        assert!(
            names.iter().any(|n| n == slow),
            "{slow}: {names:?}\n{}\n{}",
            r.stdout,
            r.stderr
        );
    }
    let rest = names.iter().filter(|n| n.contains("second pass")).count();
    assert!(rest < 60, "the second pass was interrupted: {names:?}");
    let summary = std::fs::read_to_string(latest.join("summary.md")).expect("a summary");
    assert!(
        summary.contains("Interrupted (Ctrl-C or SIGTERM)"),
        "{summary}"
    );
    // The reports made from the run's own records hold the first pass too.
    let junit = std::fs::read_to_string(latest.join("junit.xml")).expect("junit.xml");
    assert!(
        junit.contains("A code is still good at 2 seconds")
            && junit.contains("A code is still good at 3 seconds"),
        "{junit}"
    );
    assert_eq!(
        junit.matches("<testcase").count(),
        names.len(),
        "junit.xml and cucumber.json hold the same scenarios"
    );
    assert!(
        !found(&reports, "cucumber-slow.json", 0),
        "no partial file left"
    );
    common::assert_nothing_left(&run_tmp);
}

#[test]
fn faults_of_the_simulator_in_another_process_fail_their_checks_through_a_target_file() {
    let mut sim = LiveSimulator::start(&["secret-not-checked", "no-cache-control"]);
    let r = sim.run(&["--tags", "@TK-08 or @TR-03"]);
    sim.stop();
    assert_eq!(r.code, Some(4), "{}\n{}", r.stdout, r.stderr);
    let failed: std::collections::BTreeSet<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix('['))
        .filter_map(|l| l.split(' ').next())
        // A check id: two capitals, a dash, digits.
        .filter(|id| id.len() == 5 && id.as_bytes()[2] == b'-')
        .collect();
    assert_eq!(
        failed.into_iter().collect::<Vec<_>>(),
        vec!["TK-08", "TR-03"],
        "{}",
        r.stdout
    );
}

#[test]
fn a_broken_target_file_is_refused_before_any_traffic() {
    let tmp = tempfile::tempdir().expect("a folder");
    let good = std::fs::read_to_string(common::root().join("targets/simulator.toml"))
        .expect("targets/simulator.toml");
    /// (what, the file's text, the environment, the error expected)
    type Case<'a> = (&'a str, String, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (
            "unset variable",
            good.clone(),
            &[],
            "simulator.toml:22: web_app.client_secret_env: the environment variable SIM_WEB_SECRET is not set",
        ),
        (
            "typo",
            good.replace("token_endpoint =", "token_endpiont ="),
            ENV,
            "token_endpiont: unknown key (did you mean `token_endpoint`?)",
        ),
        (
            "literal secret",
            good.replace(
                "client_secret_env = \"SIM_WEB_SECRET\"",
                "client_secret = \"in-the-file\"",
            ),
            ENV,
            "client_secret: a secret cannot be written in a target file",
        ),
        (
            "http off loopback",
            good.replace("http://127.0.0.1:4567/v2/token", "http://auth.example.com/v2/token"),
            ENV,
            "token_endpoint: http:// is accepted only for loopback hosts",
        ),
    ];
    for (what, text, env, expected) in cases {
        let file = tmp.path().join("simulator.toml");
        std::fs::write(&file, text).expect("a file");
        let f = file.display().to_string();
        let mut cmd = command(&["run", "--target", &f, "--color", "never"], tmp.path());
        for (k, _) in ENV {
            cmd.env_remove(k);
        }
        cmd.envs(env.iter().copied());
        let r = finish(cmd.spawn().expect("start"), Duration::from_secs(30));
        assert_eq!(r.code, Some(1), "{what}: {r:?}");
        assert!(r.stderr.contains(expected), "{what}: {}", r.stderr);
        assert!(!r.stdout.contains("target:"), "{what}: nothing started");
        assert!(
            !r.stderr.contains("in-the-file"),
            "{what}: the secret was echoed"
        );
    }
    let r = finish(
        command(
            &["run", "--target", "x.toml", "--fault", "open-redirect"],
            tmp.path(),
        )
        .spawn()
        .expect("start"),
        Duration::from_secs(30),
    );
    assert_eq!(r.code, Some(1), "--target and --fault: {r:?}");
}

impl LiveSimulator {
    /// `doctor --target <file>`, the file changed by `edit`.
    fn doctor(&self, edit: impl Fn(&str) -> String) -> common::Run {
        let text = std::fs::read_to_string(&self.target_file).expect("the target file");
        let file = self.tmp.path().join("doctor.toml");
        std::fs::write(&file, edit(&text)).expect("a file");
        let f = file.display().to_string();
        let out = self.tmp.path().join("doctor").display().to_string();
        let run_tmp = self.tmp.path().join("doctor-run");
        std::fs::create_dir_all(&run_tmp).expect("a folder");
        let mut cmd = command(&["doctor", "--target", &f, "--out", &out], &run_tmp);
        cmd.envs(self.env.iter().copied());
        let r = finish(cmd.spawn().expect("start doctor"), Duration::from_secs(120));
        common::assert_nothing_left(&run_tmp);
        r
    }
}

#[test]
fn doctor_says_ready_or_names_the_first_problem_with_its_fix() {
    let mut sim = LiveSimulator::start(&[]);
    let good = sim.doctor(str::to_owned);
    assert_eq!(good.code, Some(0), "{}", good.stdout);
    assert_eq!(good.stdout.matches("✔ ").count(), 8, "{}", good.stdout);
    assert!(
        good.stdout
            .contains("✔ the public app's code exchange works"),
        "{}",
        good.stdout
    );
    let screenshot = good
        .stdout
        .split("(screenshot: ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .expect("a screenshot path");
    assert!(Path::new(screenshot).is_file(), "{screenshot}");

    let selector = sim.doctor(|t| t.replace("#login-submit", "#no-such-button"));
    assert_eq!(selector.code, Some(3), "{}", selector.stdout);
    assert!(
        selector.stdout.contains("✘ the login script did not get through: login script failed at step 3 (selector `#no-such-button`)"),
        "{}",
        selector.stdout
    );

    let unreachable = sim.doctor(|t| {
        let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let addr = dead.local_addr().expect("an address");
        drop(dead);
        let base = t
            .lines()
            .find_map(|l| l.strip_prefix("authorize_endpoint = \""))
            .and_then(|l| l.strip_suffix("/v2/authorize\""))
            .expect("the endpoint")
            .to_owned();
        t.replace(&base, &format!("http://{addr}"))
    });
    assert_eq!(unreachable.code, Some(3), "{}", unreachable.stdout);
    assert!(
        unreachable
            .stdout
            .contains("✘ target unreachable at http://127.0.0.1:"),
        "{}",
        unreachable.stdout
    );
    sim.stop();

    let tmp = tempfile::tempdir().expect("a folder");
    let mut cmd = command(
        &["doctor", "--target", "targets/simulator.toml"],
        tmp.path(),
    );
    for (k, _) in ENV {
        cmd.env_remove(k);
    }
    cmd.env("SIM_WEB2_SECRET", "set");
    let unset = finish(cmd.spawn().expect("start doctor"), Duration::from_secs(30));
    assert_eq!(unset.code, Some(1), "{}", unset.stdout);
    assert!(
        unset
            .stdout
            .contains("✘ environment variables not set: SIM_WEB_SECRET, SIM_PASSWORD"),
        "{}",
        unset.stdout
    );
    assert!(!unset.stdout.contains("set\n"), "a value was printed");
}

#[test]
fn dry_run_prints_the_plan_and_the_urls_and_sends_nothing() {
    // A listener where the target file points: it must hear nothing.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("an address");
    let tmp = tempfile::tempdir().expect("a folder");
    let text = std::fs::read_to_string(common::root().join("targets/simulator.toml"))
        .expect("targets/simulator.toml")
        .replace("http://127.0.0.1:4567", &format!("http://{addr}"));
    let file = tmp.path().join("t.toml");
    std::fs::write(&file, text).expect("a file");
    let f = file.display().to_string();
    let mut cmd = command(&["run", "--target", &f, "--dry-run"], tmp.path());
    cmd.envs(ENV.iter().copied());
    let r = finish(cmd.spawn().expect("start"), Duration::from_secs(30));
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "authorization URL of the web app: http://{addr}/v2/authorize?response_type=code&client_id=vqwyswrlzzfk024ivr682esb&redirect_uri=https%3A%2F%2F127.0.0.1%3A80%2F"
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("runs: TK-08 "), "{}", r.stdout);
    assert!(
        r.stdout.contains("`A code is still good at 4 minutes 50 seconds, as Marketing Cloud documents 5 minutes`: waits in real time against a live target (code lifetime, token expiry): run with --slow"),
        "{}",
        r.stdout
    );
    assert_eq!(
        r.closing_line(),
        "174 would run, 15 not applicable; nothing was sent"
    );
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the dry run connected to the target"
    );
    for (_, secret) in ENV {
        assert!(!r.stdout.contains(secret), "a secret was printed");
    }
}
