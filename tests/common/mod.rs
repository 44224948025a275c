//! Runs the built `sfmc-conformance` binary with a deadline and captures what it printed.

#![allow(dead_code)]

pub mod live;
pub mod matrix;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_sfmc-conformance");

/// What one run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// The last non-empty line of stdout.
    pub fn closing_line(&self) -> &str {
        self.stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
    }
}

/// The package root: feature paths in tests are relative to it.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A command for the binary, run from the package root, with `tmp` as its TMPDIR.
pub fn command(args: &[&str], tmp: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .current_dir(root())
        .env("TMPDIR", tmp)
        .env_remove("SFMC_WEBDRIVER_URL")
        .env_remove("SFMC_TAGS")
        .env_remove("CUCUMBER_FILTER_TAGS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Waits for `child` at most `limit`, killing it past that.
pub fn finish(mut child: Child, limit: Duration) -> Run {
    let started = Instant::now();
    let out = child.stdout.take();
    let err = child.stderr.take();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut out) = out {
            let _ = out.read_to_string(&mut s);
        }
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut err) = err {
            let _ = err.read_to_string(&mut s);
        }
        s
    });
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait for the binary") {
            break status.code();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sfmc-conformance did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
        elapsed: started.elapsed(),
    }
}

/// Runs the binary with `args` and a private TMPDIR, at most `limit`.
pub fn run(args: &[&str], limit: Duration) -> (Run, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let child = command(args, tmp.path())
        .spawn()
        .expect("start sfmc-conformance");
    (finish(child, limit), tmp)
}

/// Live (not zombie) processes whose command line mentions `needle`.
pub fn live_processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for e in entries.flatten() {
        let pid = e.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let state = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let zombie = state
            .rsplit(')')
            .next()
            .is_some_and(|s| s.trim_start().starts_with('Z'));
        if !zombie && cmd.contains(needle) {
            found.push(format!("{pid}: {cmd}"));
        }
    }
    found
}

/// Asserts that the run left no ChromeDriver, browser or profile behind in `tmp`.
pub fn assert_nothing_left(tmp: &Path) {
    let needle = tmp.display().to_string();
    let procs = live_processes_mentioning(&needle);
    assert!(procs.is_empty(), "processes left running: {procs:#?}");
    let left: Vec<_> = std::fs::read_dir(tmp)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "files left in TMPDIR: {left:?}");
}

/// Strings shaped like the simulator's codes and tokens (JWT-like base64url segments).
pub fn token_shaped(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r"[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}")
        .expect("valid regex");
    re.find_iter(text).map(|m| m.as_str().to_owned()).collect()
}

/// A secret as it could leak: raw, percent-encoded (both ways), form-encoded and base64.
pub fn encodings(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    vec![
        secret.to_owned(),
        sfmc_oauth_conformance::oauth::encoding::encode(secret),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        b64.encode(secret),
        b64url.encode(secret),
    ]
}

/// Whether the embedded simulator with its built-in integrations runs a scenario with `tags`:
/// all but the checks that need a host reached over a network (TLS, cookies), a sign-out page,
/// or form-encoded token requests (it speaks Marketing Cloud's JSON). Written out here rather
/// than asked of the code under test.
pub fn simulator_runs(tags: &[String]) -> bool {
    !tags
        .iter()
        .any(|t| t == "live-only" || t == "sign-out" || t == "form-body")
}

/// The base URL a server `child` prints as its first line, `listening on <URL>`, waited for at
/// most 30 s (the child is killed past that); the rest of its stdout is drained.
pub fn listening_on(child: &mut Child, what: &str) -> String {
    use std::io::BufRead;
    let out = child.stdout.take().expect("stdout piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = std::io::BufReader::new(out);
        let mut first = String::new();
        let _ = out.read_line(&mut first);
        let _ = tx.send(first);
        let _ = std::io::copy(&mut out, &mut std::io::sink());
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("{what} did not say it listens within 30 s")
        });
    first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{what} said {first:?}"))
        .to_owned()
}

/// A TLS server configuration with a self-signed certificate for `names` (the first is its
/// common name), valid from January 1st of year `from` to that of year `to`.
pub fn self_signed_tls(names: &[&str], from: i32, to: i32) -> std::sync::Arc<rustls::ServerConfig> {
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
            .expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, names[0]);
    params.not_before = rcgen::date_time_ymd(from, 1, 1);
    params.not_after = rcgen::date_time_ymd(to, 1, 1);
    let key = rcgen::KeyPair::generate().expect("a key");
    let cert = params.self_signed(&key).expect("a certificate");
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    std::sync::Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .expect("a config"),
    )
}

/// The mock's `GET /__admin/stats` at `base` (`http://…`).
pub async fn mock_stats(base: &str) -> serde_json::Value {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client")
        .get(format!("{base}/__admin/stats"))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("JSON")
}

/// ChromeDriver and a loopback-only browser pool, for opening report pages (`file://`).
pub async fn page_browsers() -> (
    sfmc_oauth_conformance::browser::ChromeDriver,
    sfmc_oauth_conformance::browser::BrowserPool,
) {
    use sfmc_oauth_conformance::browser::{driver, BrowserConfig, BrowserPool, ChromeDriver};
    let d = ChromeDriver::start(&driver::locate(None).expect("ChromeDriver"))
        .await
        .expect("ChromeDriver starts");
    let pool = BrowserPool::new(BrowserConfig {
        webdriver_url: d.url(),
        chrome: "/usr/bin/chromium".into(),
        loopback_only: true,
        catcher: None,
        only_hosts: vec![],
        profile: None,
        page_load: sfmc_oauth_conformance::timeouts::Timeouts::default().page_load,
    });
    (d, pool)
}
