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
    for _ in 0..32 {
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
    assert_eq!(status_of(&port_of(&out), "/v2/token", None), "405");
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
    stop(child);
}

/// The status of `GET path` on 127.0.0.1:`port`, with `auth` as the Authorization header.
fn status_of(port: &str, path: &str, auth: Option<&str>) -> String {
    let mut conn =
        std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("the mock accepts");
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("a timeout");
    let header = auth.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    std::io::Write::write_all(
        &mut conn,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\n{header}Connection: close\r\n\r\n").as_bytes(),
    )
    .expect("write");
    let mut answer = String::new();
    let _ = std::io::Read::read_to_string(&mut conn, &mut answer);
    answer.split(' ').nth(1).unwrap_or_default().to_owned()
}

fn port_of(out: &str) -> String {
    let first = out.lines().next().unwrap_or_default();
    first
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn stop(child: std::process::Child) {
    // SAFETY: signalling the child we spawned.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let r = finish(child, LIMIT);
    assert_eq!(r.code, Some(0), "{r:?}");
}

#[test]
fn beyond_loopback_the_admin_routes_are_off_unless_a_token_is_given_and_then_need_it() {
    // Bound to every address; the test talks to it on loopback only.
    let (child, out, _tmp) = start_mock(&["mock", "--bind", "0.0.0.0"]);
    assert!(out.starts_with("listening on http://0.0.0.0:"), "{out}");
    assert!(out.contains("admin routes: off"), "{out}");
    let port = port_of(&out);
    assert_eq!(status_of(&port, "/__admin/journal", None), "403");
    assert_eq!(
        status_of(&port, "/v2/token", None),
        "405",
        "the rest answers"
    );
    stop(child);

    let token = "adm1n-T0ken-never-printed";
    let (child, out, _tmp) = start_mock(&["mock", "--bind", "0.0.0.0", "--admin-token", token]);
    assert!(!out.contains(token), "the token was printed:\n{out}");
    let port = port_of(&out);
    assert_eq!(status_of(&port, "/__admin/journal", None), "401");
    assert_eq!(
        status_of(
            &port,
            "/__admin/journal",
            Some("Bearer wrong-token-xxxxxxxxxx")
        ),
        "401"
    );
    let bearer = format!("Bearer {token}");
    assert_eq!(status_of(&port, "/__admin/journal", Some(&bearer)), "200");
    stop(child);

    // On loopback, without a token, they are open, as the harness uses them.
    let (child, out, _tmp) = start_mock(&["mock"]);
    assert!(out.contains("admin routes: open"), "{out}");
    assert_eq!(status_of(&port_of(&out), "/__admin/journal", None), "200");
    stop(child);
}
