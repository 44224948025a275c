//! The simulator as a live target: `mock` in its own process with the integrations that
//! `targets/simulator.toml` describes, and the secrets both read from the environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The secrets `targets/simulator-integrations.toml` and `targets/simulator.toml` read.
pub const ENV: &[(&str, &str)] = &[
    ("SIM_WEB_SECRET", "live-web-secret-0000000001"),
    ("SIM_WEB2_SECRET", "live-web-secret-0000000002"),
    ("SIM_PASSWORD", "live-Passw0rd-for-the-sim"),
];

/// `mock` on a free loopback port, with `tmp` as its TMPDIR: the child and its base URL.
pub fn start_mock(tmp: &Path) -> (std::process::Child, String) {
    let mut cmd = super::command(
        &[
            "mock",
            "--port",
            "0",
            "--integrations",
            "targets/simulator-integrations.toml",
        ],
        tmp,
    );
    cmd.envs(ENV.iter().copied());
    let mut child = cmd.spawn().expect("start the mock");
    let base = super::listening_on(&mut child, "the mock");
    (child, base)
}

/// A run of one scenario against the mock (in its own process) with one endpoint of
/// `targets/simulator.toml` moved to another server: how the hostile and time-limit tests put
/// a misbehaving server in the middle of an otherwise working target.
pub struct Detoured {
    pub run: super::Run,
    /// stdout, then stderr.
    pub out: String,
    pub reports: PathBuf,
    /// The run's TMPDIR (for `assert_nothing_left`).
    pub run_tmp: PathBuf,
    _tmp: tempfile::TempDir,
}

/// Runs `scenario` (a `-n` pattern) with `endpoint` (`authorize_endpoint` or `token_endpoint`)
/// at base URL `at`, with `extra` arguments, waiting at most `limit`.
pub fn run_detoured(
    endpoint: &str,
    at: &str,
    scenario: &str,
    extra: &[&str],
    limit: Duration,
) -> Detoured {
    let tmp = tempfile::tempdir().expect("a folder");
    let mock_tmp = tempfile::tempdir().expect("a folder");
    let path = match endpoint {
        "authorize_endpoint" => "v2/authorize",
        "token_endpoint" => "v2/token",
        other => panic!("no endpoint {other}"),
    };
    let (mut mock, base) = start_mock(mock_tmp.path());
    let file = std::fs::read_to_string(super::root().join("targets/simulator.toml"))
        .expect("the example target file")
        .replace(
            &format!("{endpoint} = \"http://127.0.0.1:4567/{path}\""),
            &format!("{endpoint} = \"{at}/{path}\""),
        )
        .replace("http://127.0.0.1:4567", &base);
    assert!(file.contains(at), "the endpoint was replaced");
    let target = tmp.path().join("target.toml");
    std::fs::write(&target, file).expect("write the target file");
    let (reports, snapshots, run_tmp) = (
        tmp.path().join("reports"),
        tmp.path().join("snapshots"),
        tmp.path().join("tmp"),
    );
    std::fs::create_dir(&run_tmp).expect("a TMPDIR");
    let mut args = vec![
        "run",
        "--target",
        target.to_str().expect("a path"),
        "-n",
        scenario,
        "--color",
        "never",
        "--report-dir",
        reports.to_str().expect("a path"),
        "--snapshots",
        snapshots.to_str().expect("a path"),
    ];
    args.extend_from_slice(extra);
    let mut cmd = super::command(&args, &run_tmp);
    cmd.envs(ENV.iter().copied());
    let run = super::finish(cmd.spawn().expect("start the run"), limit);
    let _ = mock.kill();
    let _ = mock.wait();
    Detoured {
        out: format!("{}\n{}", run.stdout, run.stderr),
        run,
        reports,
        run_tmp,
        _tmp: tmp,
    }
}

impl Detoured {
    /// Exit `code` within `bound`, every one of `says` in the output, no panic, the reports
    /// written and nothing left behind.
    pub fn assert_ended(&self, what: &str, code: i32, says: &[&str], bound: Duration) {
        assert_eq!(self.run.code, Some(code), "{what}: {}", self.out);
        for s in says {
            assert!(self.out.contains(s), "{what} says {s:?}:\n{}", self.out);
        }
        assert!(!self.out.contains("panicked at"), "{what}: {}", self.out);
        // Evidence is capped: a hostile answer does not flood the console.
        assert!(
            self.out.len() < 64 * 1024,
            "{what}: {} bytes of output",
            self.out.len()
        );
        assert!(
            self.run.elapsed < bound,
            "{what} took {:?}",
            self.run.elapsed
        );
        assert!(
            self.reports.join("latest/summary.md").is_file(),
            "{what}: the reports were written"
        );
        super::assert_nothing_left(&self.run_tmp);
        let why: Vec<&str> = self
            .out
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("actual:") || l.contains("environment failure"))
            .collect();
        eprintln!("{what}: exit {code} in {:.1?}: {why:?}", self.run.elapsed);
    }
}
