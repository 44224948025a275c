//! What a hostile authorization endpoint does to the browser: it redirects to `javascript:`,
//! `data:` or `file:` URLs, loops redirects, echoes a 1 MB state, or serves a login page that
//! never finishes loading. The simulator runs as `mock` in its own process; a target file points
//! its authorization endpoint at a loopback server here that plays one behaviour. Each run must
//! end within a bound with the right verdict: the target answered wrongly (exit 4, with where
//! the browser ended as evidence), or never answered (exit 3, naming the limit), with its
//! reports written and nothing left behind. (A login page's dialogs and pop-ups are an allowed
//! variation: the tolerance matrix's `login-page-dialogs` row.)

mod common;

use common::live::run_detoured;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

const SCENARIO: &str = "^A web app redeems its code with its client secret$";
const BOUND: Duration = Duration::from_secs(90);

/// The request target of one HTTP request on `conn`.
fn target_of(conn: &TcpStream) -> String {
    let mut line = String::new();
    let mut r = BufReader::new(conn);
    let _ = r.read_line(&mut line);
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) <= 2 {
            break;
        }
    }
    line.split_whitespace().nth(1).unwrap_or("/").to_owned()
}

fn redirect(mut conn: TcpStream, to: &str) {
    let _ = write!(
        conn,
        "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
}

/// A ServerHello for TLS 1.0 (TLS_RSA_WITH_AES_128_CBC_SHA, no extensions): what a server
/// that speaks only TLS 1.0 answers a modern ClientHello with.
const TLS10_SERVER_HELLO: &[u8] = &[
    0x16, 0x03, 0x01, 0x00, 0x2a, // a handshake record, TLS 1.0, 42 bytes
    0x02, 0x00, 0x00, 0x26, // ServerHello, 38 bytes
    0x03, 0x01, // version TLS 1.0
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
    27, 28, 29, 30, 31, 32,   // random
    0x00, // no session id
    0x00, 0x2f, // the cipher suite
    0x00, // no compression
];

/// An https server whose certificate is made for `names`, valid from `from` to `to` (years),
/// self-signed, answering 200 to anything.
fn tls_server(names: &[&str], from: i32, to: i32) -> String {
    let config = common::self_signed_tls(names, from, to);
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let base = format!("https://{}", listener.local_addr().expect("its address"));
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                let Ok(tls) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut s = rustls::StreamOwned::new(tls, conn);
                let mut buf = [0u8; 4096];
                let _ = std::io::Read::read(&mut s, &mut buf);
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 11\r\n\r\n<h1>hi</h1>",
                );
            });
        }
    });
    base
}

/// One behaviour at `/v2/authorize`, on a loopback port (served until the test ends).
fn hostile(behaviour: &'static str) -> String {
    match behaviour {
        "self-signed" => return tls_server(&["127.0.0.1"], 2020, 2099),
        "expired" => return tls_server(&["127.0.0.1"], 2001, 2002),
        "wrong-host" => return tls_server(&["other.example"], 2020, 2099),
        _ => {}
    }
    if behaviour == "tls-1.0-only" {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let base = format!("https://{}", listener.local_addr().expect("its address"));
        std::thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                let mut hello = [0u8; 4096];
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = std::io::Read::read(&mut conn, &mut hello);
                let _ = conn.write_all(TLS10_SERVER_HELLO);
            }
        });
        return base;
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("its address"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            let target = target_of(&conn);
            let query: std::collections::HashMap<String, String> =
                url::Url::parse(&format!("http://x{target}"))
                    .map(|u| u.query_pairs().into_owned().collect())
                    .unwrap_or_default();
            match behaviour {
                "javascript" => redirect(conn, "javascript:alert(document.cookie)"),
                "data" => redirect(conn, "data:text/html,<h1>signed in</h1>"),
                "file" => redirect(conn, "file:///etc/passwd"),
                "loop" => {
                    let n: u32 = query.get("n").and_then(|n| n.parse().ok()).unwrap_or(0);
                    redirect(conn, &format!("/v2/authorize?n={}", n + 1));
                }
                "state-1mb" => {
                    let to = format!(
                        "{}?code=abc&state={}",
                        query
                            .get("redirect_uri")
                            .map_or("https://127.0.0.1/", String::as_str),
                        "A".repeat(1024 * 1024)
                    );
                    redirect(conn, &to);
                }
                "never-finishes" => {
                    let mut conn = conn;
                    let _ = conn.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body><h1>Loading",
                    );
                    held.push(conn);
                }
                other => panic!("no behaviour {other}"),
            }
        }
    });
    base
}

/// Runs SCENARIO against the mock with its authorization endpoint playing `behaviour`; asserts
/// exit `code` and every one of `says` in the output, within BOUND, reports written, nothing left.
fn play(behaviour: &'static str, extra: &[&str], code: i32, says: &[&str]) {
    let hostile = hostile(behaviour);
    run_detoured("authorize_endpoint", &hostile, SCENARIO, extra, BOUND)
        .assert_ended(behaviour, code, says, BOUND);
}

const WRONG_PAGE: &str = "the browser lands on the registered redirect URI";

#[test]
fn a_redirect_to_a_javascript_url_is_the_target_s_fault() {
    // Chromium refuses to follow it and shows an empty page.
    play("javascript", &[], 4, &[WRONG_PAGE, "browser ended on"]);
}

#[test]
fn a_redirect_to_a_data_url_is_the_target_s_fault() {
    play("data", &[], 4, &[WRONG_PAGE, "browser ended on"]);
}

#[test]
fn a_redirect_to_a_file_url_is_the_target_s_fault() {
    play("file", &[], 4, &[WRONG_PAGE, "browser ended on"]);
}

#[test]
fn a_redirect_loop_is_the_target_s_fault_and_ends_where_chromium_gave_up() {
    // Chromium follows 20 redirects, then shows ERR_TOO_MANY_REDIRECTS.
    play(
        "loop",
        &[],
        4,
        &[WRONG_PAGE, "browser ended on: http://127.0.0.1:"],
    );
}

#[test]
fn a_one_megabyte_state_echoed_is_the_target_s_fault() {
    // Larger than Chromium takes in a response head: it never reaches the redirect URI.
    play("state-1mb", &[], 4, &[WRONG_PAGE, "browser ended on"]);
}

#[test]
fn a_login_page_that_never_finishes_loading_is_the_environment_s_at_the_page_load_limit() {
    play(
        "never-finishes",
        &["--page-load-timeout", "3"],
        3,
        &["did not finish loading within 3 s (the page-load timeout: --page-load-timeout)"],
    );
}

const TLS_FAILED: &str = "TLS checks failed in the browser at https://127.0.0.1:";

#[test]
fn a_self_signed_certificate_is_a_tls_failure_with_the_certificate() {
    play(
        "self-signed",
        &[],
        3,
        &[
            TLS_FAILED,
            "ERR_CERT_AUTHORITY_INVALID",
            "subject `CN=127.0.0.1`",
            "valid from",
        ],
    );
}

#[test]
fn an_expired_certificate_is_a_tls_failure_that_says_expired() {
    play("expired", &[], 3, &[TLS_FAILED, "(expired)"]);
}

#[test]
fn a_certificate_for_another_host_is_a_tls_failure_that_names_it() {
    play(
        "wrong-host",
        &[],
        3,
        &[TLS_FAILED, "subject `CN=other.example`"],
    );
}

#[test]
fn a_server_that_speaks_only_tls_1_0_is_a_tls_failure() {
    play(
        "tls-1.0-only",
        &[],
        3,
        &[
            TLS_FAILED,
            "ERR_SSL_VERSION_OR_CIPHER_MISMATCH",
            "such as TLS 1.0",
        ],
    );
}
