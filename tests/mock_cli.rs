//! `sfmc-conformance mock`: the simulator on its own, for an app's CI.

mod common;

use common::{command, finish, run};
use std::io::{BufRead, BufReader};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn list_faults_names_each_fault_with_its_checks() {
    let (r, _tmp) = run(&["mock", "--list-faults"], LIMIT);
    assert_eq!(r.code, Some(0));
    for f in sfmc_oauth_conformance::simulator::Fault::ALL {
        let line = r
            .stdout
            .lines()
            .find(|l| l.starts_with(f.name()))
            .unwrap_or_else(|| panic!("{f} missing"));
        assert!(line.contains(f.checks()[0]), "{line}");
    }
}

#[test]
fn an_unknown_fault_or_a_bad_integrations_file_is_a_usage_error() {
    let (r, _tmp) = run(&["mock", "--fault", "no-such-fault"], LIMIT);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("unknown fault `no-such-fault`"),
        "{}",
        r.stderr
    );
    let (r, _tmp) = run(
        &[
            "mock",
            "--integrations",
            "tests/fixtures/integrations/bad.toml",
        ],
        LIMIT,
    );
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("tests/fixtures/integrations/bad.toml: integration `web`: redirect_uris[0]: \"https://localhost:80/\": localhost cannot be used"),
        "{}",
        r.stderr
    );
    let (r, _tmp) = run(
        &[
            "run",
            "--integrations",
            "tests/fixtures/integrations/missing.toml",
        ],
        LIMIT,
    );
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("missing.toml: cannot be read"),
        "{}",
        r.stderr
    );
}

fn start_mock(args: &[&str]) -> (std::process::Child, String, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("a folder");
    let mut child = command(args, tmp.path()).spawn().expect("start the mock");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("a first line");
    let mut rest = String::new();
    for _ in 0..8 {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap_or(0) == 0 || line.starts_with("endpoints:") {
            rest.push_str(&line);
            break;
        }
        rest.push_str(&line);
    }
    child.stdout = None;
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (child, format!("{first}{rest}"), tmp)
}

#[test]
fn mock_prints_where_it_listens_first_then_clients_and_users_but_no_secrets() {
    let (child, out, _tmp) = start_mock(&[
        "mock",
        "--integrations",
        "tests/fixtures/integrations/sentinel.toml",
    ]);
    let first = out.lines().next().unwrap_or_default().to_owned();
    assert!(first.starts_with("listening on http://127.0.0.1:"), "{out}");
    assert!(out.contains("vqwyswrlzzfk024ivr682esb"), "{out}");
    assert!(out.contains("sentinel.user@example.com"), "{out}");
    assert!(!out.contains("SENTINEL"), "a secret was printed:\n{out}");
    // It answers while it runs.
    let base = first.trim_start_matches("listening on ").trim().to_owned();
    let addr = base.trim_start_matches("http://").to_owned();
    let mut conn = std::net::TcpStream::connect(&addr).expect("the mock accepts connections");
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("a timeout");
    std::io::Write::write_all(
        &mut conn,
        b"GET /v2/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .expect("write");
    let mut answer = String::new();
    let _ = std::io::Read::read_to_string(&mut conn, &mut answer);
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    // SAFETY: signalling the child we spawned.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let r = finish(child, LIMIT);
    assert_eq!(r.code, Some(0), "{r:?}");
}

#[test]
fn show_secrets_prints_them() {
    let (child, out, _tmp) = start_mock(&[
        "mock",
        "--integrations",
        "tests/fixtures/integrations/sentinel.toml",
        "--show-secrets",
    ]);
    assert!(out.contains("SENTINELwebSecret7Qx2Lm9Z"), "{out}");
    // SAFETY: signalling the child we spawned.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let r = finish(child, LIMIT);
    assert_eq!(r.code, Some(0));
}
