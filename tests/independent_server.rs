//! The live path against a server we did not write: panva's oidc-provider (npm, OpenID-certified)
//! with its development login and consent pages, started from `tests/oidc-provider`, described
//! by `targets/oauth2-server.example.toml` in dialect oauth2. Against it no MUST check may fail:
//! a MUST failure against a certified server is a bug in the check until shown otherwise. What
//! does not apply is not applicable, each for a reason of the dialect or of this server's
//! documented choices.
//!
//! The server's packages come from the npm registry (`npm ci`, as `.ci/run` does it); this test
//! installs them itself when they are missing.

mod common;

use common::{command, finish};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(600);

/// The secrets both sides read from the environment.
const ENV: &[(&str, &str)] = &[
    ("OIDC_WEB_SECRET", "oidc-web-secret-00000000001"),
    ("OIDC_WEB2_SECRET", "oidc-web-secret-00000000002"),
    ("OIDC_PASSWORD", "oidc-Passw0rd-of-the-user"),
];

fn server_dir() -> PathBuf {
    common::root().join("tests/oidc-provider")
}

/// Installs the server's locked packages from the registry unless they are there.
fn install() {
    if server_dir().join("node_modules/oidc-provider").is_dir() {
        return;
    }
    let child = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(server_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("npm (Node.js) is needed to install tests/oidc-provider");
    let r = finish(child, Duration::from_secs(300));
    assert_eq!(r.code, Some(0), "npm ci in tests/oidc-provider: {r:?}");
}

/// oidc-provider on a free loopback port, and a copy of the example target file pointing at it.
struct Oidc {
    child: Option<Child>,
    target_file: PathBuf,
    tmp: tempfile::TempDir,
}

impl Oidc {
    fn start() -> Self {
        install();
        let tmp = tempfile::tempdir().expect("a folder");
        let mut child = Command::new("node")
            .arg(server_dir().join("server.mjs"))
            .args(["--port", "0"])
            .envs(ENV.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts the server");
        let base = common::listening_on(&mut child, "oidc-provider");
        let file =
            std::fs::read_to_string(common::root().join("targets/oauth2-server.example.toml"))
                .expect("targets/oauth2-server.example.toml");
        let target_file = tmp.path().join("oidc-provider.toml");
        std::fs::write(&target_file, file.replace("http://127.0.0.1:4600", &base))
            .expect("a target file");
        Self {
            child: Some(child),
            target_file,
            tmp,
        }
    }

    /// `command` (`run` or `doctor`) with `--target <file>` and `extra` arguments.
    fn sfmc(&self, sub: &str, extra: &[&str]) -> common::Run {
        let file = self.target_file.display().to_string();
        let mut args = vec![sub, "--target", &file];
        args.extend(extra);
        let run_tmp = self.tmp.path().join(sub);
        std::fs::create_dir_all(&run_tmp).expect("a folder");
        let mut cmd = command(&args, &run_tmp);
        cmd.envs(ENV.iter().copied());
        let r = finish(cmd.spawn().expect("start the run"), LIMIT);
        common::assert_nothing_left(&run_tmp);
        r
    }
}

impl Drop for Oidc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `(scenario, reason)` of every `skipped:` line.
fn skipped(stdout: &str) -> Vec<(&str, &str)> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("skipped: "))
        .filter_map(|l| l.rsplit_once("`: "))
        .collect()
}

#[test]
fn a_certified_server_in_dialect_oauth2_fails_no_must_check() {
    let oidc = Oidc::start();
    let reports = oidc.tmp.path().join("reports").display().to_string();
    let snapshots = oidc.tmp.path().join("snapshots").display().to_string();
    let doctor = oidc.sfmc("doctor", &["--out", &reports]);
    assert_eq!(doctor.code, Some(0), "{}\n{}", doctor.stdout, doctor.stderr);
    let run = |extra: &[&str]| {
        let mut args = vec![
            "--color",
            "never",
            "--report-dir",
            &reports,
            "--snapshots",
            &snapshots,
            "--concurrency",
            "2",
        ];
        args.extend(extra);
        oidc.sfmc("run", &args)
    };
    let r = run(&[]);
    println!("{}", r.stdout);
    // Warnings (SHOULD), findings (PROBE) and notes (MAY) do not fail a run; a MUST does.
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    let closing = r.closing_line();
    assert!(closing.contains(" passed, 0 failed, "), "{closing}");
    let passed: usize = closing
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!(passed >= 140, "most checks apply and pass: {closing}");
    // What does not apply says why, in terms of the dialect or of this server's documented
    // choices, never of the harness.
    let known = [
        "Marketing Cloud only (dialect oauth2)",
        "run with --intrusive",
        "run with --slow",
        "loopback target",
        "needs the simulator's own powers",
        "needs the target's sign-out page",
        "the server keeps this client's refresh token on refresh",
        "the server ignores a scope it does not grant",
    ];
    let na = skipped(&r.stdout);
    assert!(!na.is_empty(), "{}", r.stdout);
    for (scenario, reason) in &na {
        assert!(
            known.iter().any(|k| reason.contains(k)),
            "{scenario}: an unexpected reason: {reason}"
        );
    }
    // The dialect is in force: Marketing Cloud's own checks did not run.
    assert!(
        na.iter()
            .any(|(s, _)| s.contains("The instance URLs are HTTPS URLs")),
        "{}",
        r.stdout
    );
    // The findings are the server's own: its development pages load a Google Fonts style sheet.
    assert!(r.stdout.contains("finding: BP-04"), "{}", r.stdout);
    // The first run against a target records its baselines; the next compares with them.
    assert!(
        r.stdout
            .contains("baselines: none yet for oidc-provider: this run records them"),
        "{}",
        r.stdout
    );
    let recorded = std::fs::read_dir(oidc.tmp.path().join("snapshots/oidc-provider"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(recorded > 100, "{recorded} baselines recorded");
    let again = run(&["--tags", "@TK-01 or @TE-01 or @RF-06"]);
    assert_eq!(again.code, Some(0), "{}\n{}", again.stdout, again.stderr);
    assert!(
        !again.stdout.contains("baselines: none yet"),
        "{}",
        again.stdout
    );
    assert!(
        !again.stdout.contains("differs from the baseline"),
        "{}",
        again.stdout
    );
    // No secret reaches the output, the reports, the baselines or a file name, in any encoding;
    // nor the HTTP Basic credentials the token requests carried.
    use base64::Engine as _;
    let basic = |id: &str, secret: &str| {
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    };
    let mut forbidden: Vec<String> = ENV
        .iter()
        .flat_map(|(_, secret)| common::encodings(secret))
        .collect();
    forbidden.push(basic("conformance-web", ENV[0].1));
    forbidden.push(basic("conformance-web-2", ENV[1].1));
    let mut files = 0;
    let mut stack = vec![oidc.tmp.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("a folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            files += 1;
            let name = path.display().to_string();
            let bytes = std::fs::read(&path).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            for form in &forbidden {
                assert!(
                    !name.contains(form.as_str()),
                    "{form} in a file name: {name}"
                );
                assert!(!text.contains(form.as_str()), "{form} leaked into {name}");
            }
        }
    }
    assert!(files > 100, "only {files} files written");
    for form in &forbidden {
        assert!(
            !r.stdout.contains(form.as_str()) && !r.stderr.contains(form.as_str()),
            "{form} leaked"
        );
    }
}
