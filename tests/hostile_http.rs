//! A hostile server on loopback plays what a broken or hostile target does at the HTTP level,
//! and the harness's HTTP client (the one every token, refresh and REST-probe step uses) must
//! end each exchange within a bounded time and classify it: an answer to judge (the check then
//! fails, exit 4, with the headers and the first bytes as evidence), an answer that is not HTTP
//! (a verdict: exit 4), or no answer at all (the environment: exit 3, naming the timeout).
//! The bounds are generous: they prove "bounded", not "fast".

mod common;

use common::live::run_detoured;
use sfmc_oauth_conformance::exit::Exit as _;
use sfmc_oauth_conformance::http::{HttpCall, HttpError, TokenClient, MAX_BODY, REQUEST_TIMEOUT};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

/// What the hostile server does with each connection.
#[derive(Clone, Copy, Debug)]
enum Behaviour {
    NeverAnswers,
    OneByteEverySecond,
    ClosesAfterHeaders,
    Resets,
    Html500,
    MalformedJson,
    WrongShapeJson,
    DuplicateKeys,
    FiftyMegabytes,
    NoContentType,
    SetCookieFlood,
    NotHttp,
    RedirectLoop,
}

async fn serve(mut conn: TcpStream, b: Behaviour) {
    let mut head = vec![0u8; 16 * 1024];
    let _ = conn.read(&mut head).await;
    let json = |body: &str, ctype: Option<&str>| {
        let ctype = ctype.map_or(String::new(), |c| format!("Content-Type: {c}\r\n"));
        format!(
            "HTTP/1.1 200 OK\r\n{ctype}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    match b {
        Behaviour::NeverAnswers => tokio::time::sleep(Duration::from_secs(3600)).await,
        Behaviour::OneByteEverySecond => {
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
                .iter()
                .cycle()
            {
                if conn.write_all(&[*byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        Behaviour::ClosesAfterHeaders => {
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"access_tok")
                .await;
        }
        Behaviour::Resets => {
            let _ = conn.set_zero_linger();
        }
        Behaviour::Html500 => {
            let body = "<html><body><h1>Internal Server Error</h1></body></html>";
            let _ = conn
                .write_all(format!("HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).as_bytes())
                .await;
        }
        Behaviour::MalformedJson => {
            let _ = conn
                .write_all(
                    json("{\"access_token\": \"abc\", ", Some("application/json")).as_bytes(),
                )
                .await;
        }
        Behaviour::WrongShapeJson => {
            let _ = conn
                .write_all(json("[1, 2, 3]", Some("application/json")).as_bytes())
                .await;
        }
        Behaviour::DuplicateKeys => {
            let _ = conn
                .write_all(
                    json(
                        "{\"token_type\":\"Bearer\",\"token_type\":\"evil\",\"expires_in\":1}",
                        Some("application/json"),
                    )
                    .as_bytes(),
                )
                .await;
        }
        Behaviour::FiftyMegabytes => {
            let total = 50 * 1024 * 1024;
            let _ = conn
                .write_all(format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {total}\r\n\r\n").as_bytes())
                .await;
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..(total / chunk.len()) {
                if conn.write_all(&chunk).await.is_err() {
                    return;
                }
            }
        }
        Behaviour::NoContentType => {
            let _ = conn
                .write_all(json("{\"error\":\"invalid_grant\"}", None).as_bytes())
                .await;
        }
        Behaviour::SetCookieFlood => {
            let mut head = String::from("HTTP/1.1 200 OK\r\n");
            for i in 0..5000 {
                head.push_str(&format!("Set-Cookie: c{i}=x\r\n"));
            }
            head.push_str("Content-Length: 2\r\n\r\n{}");
            let _ = conn.write_all(head.as_bytes()).await;
        }
        Behaviour::NotHttp => {
            let _ = conn.write_all(b"SSH-2.0-OpenSSH_9.6\r\n").await;
        }
        Behaviour::RedirectLoop => {
            let _ = conn
                .write_all(b"HTTP/1.1 302 Found\r\nLocation: /v2/token\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
        }
    }
}

/// A hostile server on 127.0.0.1 with one behaviour; its URL.
async fn hostile(b: Behaviour) -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("an address").port();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(serve(conn, b));
        }
    });
    Url::parse(&format!("http://127.0.0.1:{port}/v2/token")).expect("a URL")
}

/// How one exchange with a hostile server ended, and when.
async fn exchange(
    b: Behaviour,
) -> (
    Result<sfmc_oauth_conformance::http::TokenOutcome, HttpError>,
    Duration,
) {
    let url = hostile(b).await;
    let client = TokenClient::new(true).expect("a client");
    let started = Instant::now();
    let call = HttpCall::json("{\"grant_type\":\"authorization_code\"}".into(), []);
    let r = client.send(&url, &call).await;
    (r, started.elapsed())
}

/// Generous: the request deadline, plus room for a busy machine.
fn bound() -> Duration {
    REQUEST_TIMEOUT + Duration::from_secs(10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_trickling_servers_end_at_the_request_deadline_as_environment_failures() {
    // Both at once: each waits for the 15 s deadline.
    let (silent, trickle) = tokio::join!(
        exchange(Behaviour::NeverAnswers),
        exchange(Behaviour::OneByteEverySecond)
    );
    for (name, (r, took)) in [("never answers", silent), ("one byte a second", trickle)] {
        eprintln!("{name}: {took:?}");
        match r {
            Err(e @ HttpError::Timeout { .. }) => {
                assert_eq!(e.exit_code(), 3, "{name}");
                assert!(e.to_string().contains("within 15 s"), "{name}: {e}");
            }
            other => panic!("{name}: {:?}", other.map(|o| o.status)),
        }
        assert!(
            took >= REQUEST_TIMEOUT - Duration::from_secs(1),
            "{name}: {took:?}"
        );
        assert!(took < bound(), "{name}: {took:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_before_any_answer_is_an_environment_failure() {
    let (r, took) = exchange(Behaviour::Resets).await;
    match r {
        Err(e @ HttpError::Unreachable { .. }) => assert_eq!(e.exit_code(), 3),
        other => panic!("{:?}", other.map(|o| o.status)),
    }
    assert!(took < bound(), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_is_not_http_or_has_a_flood_of_headers_is_the_target_s_fault() {
    for b in [Behaviour::NotHttp, Behaviour::SetCookieFlood] {
        let (r, took) = exchange(b).await;
        match r {
            Err(e @ HttpError::Malformed { .. }) => {
                assert_eq!(e.exit_code(), 4, "{b:?}");
            }
            other => panic!("{b:?}: {:?}", other.map(|o| o.status)),
        }
        assert!(took < bound(), "{b:?}: {took:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_breaks_off_is_judged_with_what_arrived() {
    let (r, took) = exchange(Behaviour::ClosesAfterHeaders).await;
    let o = r.expect("the head arrived: an answer to judge");
    assert_eq!(o.status, 200);
    assert!(o.body_broken.is_some(), "the break is recorded");
    assert!(o.redacted_json().is_none(), "no JSON to take tokens from");
    assert!(
        o.redacted_text.contains("{\"access_tok"),
        "{}",
        o.redacted_text
    );
    assert!(
        o.redacted_text.contains("the body broke off"),
        "{}",
        o.redacted_text
    );
    assert!(took < bound(), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_answers_are_answers_to_judge_with_their_evidence() {
    for b in [
        Behaviour::Html500,
        Behaviour::MalformedJson,
        Behaviour::WrongShapeJson,
        Behaviour::DuplicateKeys,
        Behaviour::NoContentType,
        Behaviour::RedirectLoop,
    ] {
        let (r, took) = exchange(b).await;
        let o = r.unwrap_or_else(|e| panic!("{b:?}: {e}"));
        assert!(took < bound(), "{b:?}: {took:?}");
        assert!(o.tokens().and_then(|t| t.access_token).is_none(), "{b:?}");
        // The evidence: the status, the headers and the body as it came.
        assert_eq!(o.exchange.status, Some(o.status), "{b:?}");
        match b {
            Behaviour::Html500 => {
                assert_eq!(o.status, 500);
                assert!(o.redacted_text.contains("Internal Server Error"));
            }
            Behaviour::MalformedJson => assert!(o.redacted_json().is_none()),
            Behaviour::WrongShapeJson => {
                assert!(o.redacted_json().is_some_and(|j| j.is_array()));
            }
            Behaviour::NoContentType => assert!(o.header("content-type").is_none()),
            // Never followed: the one 302 is the answer.
            Behaviour::RedirectLoop => assert_eq!(o.status, 302),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifty_megabyte_body_is_read_up_to_the_cap_only() {
    let (r, took) = exchange(Behaviour::FiftyMegabytes).await;
    let o = r.expect("an answer");
    assert!(o.body_truncated, "cut at the cap");
    assert!(
        o.redacted_text.len() <= MAX_BODY + 200,
        "{}",
        o.redacted_text.len()
    );
    assert!(took < bound(), "{took:?}");
}

/// A TLS server on 127.0.0.1 showing a certificate for `names`, valid from `from` to `to`
/// (years); its URL.
async fn tls_server(names: &[&str], from: i32, to: i32) -> Url {
    let config = common::self_signed_tls(names, from, to);
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("an address").port();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(conn).await {
                    let mut buf = [0u8; 4096];
                    let _ = tls.read(&mut buf).await;
                    let _ = tls
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                        .await;
                }
            });
        }
    });
    Url::parse(&format!("https://127.0.0.1:{port}/v2/token")).expect("a URL")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_that_fails_tls_checks_is_reported_as_such_with_its_subject_and_dates() {
    for (what, names, from, to, expect) in [
        ("self-signed", &["127.0.0.1"][..], 2020, 2099, "valid from"),
        ("expired", &["127.0.0.1"][..], 2001, 2002, "(expired)"),
        (
            "wrong host",
            &["other.example"][..],
            2020,
            2099,
            "other.example",
        ),
    ] {
        let url = tls_server(names, from, to).await;
        let client = TokenClient::new(true).expect("a client");
        let started = Instant::now();
        let r = client.send(&url, &HttpCall::get()).await;
        match r {
            Err(e @ HttpError::Tls { .. }) => {
                let text = e.to_string();
                eprintln!("{what}: {text}");
                assert!(
                    text.starts_with("TLS checks failed at https://127.0.0.1:"),
                    "{what}: {text}"
                );
                assert!(
                    text.contains(&format!("subject `CN={}`", names[0])),
                    "{what}: {text}"
                );
                assert!(text.contains(expect), "{what}: {text}");
                assert_eq!(e.exit_code(), 3, "{what}");
            }
            other => panic!("{what}: {:?}", other.map(|o| o.status)),
        }
        assert!(started.elapsed() < bound(), "{what}");
    }
}

/// An `http://` URL that points at a TLS port is a mistake in the set-up, not the target's
/// fault: exit 3, with the fix (`https://`) and the certificate the port shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_url_that_points_at_a_tls_port_is_a_set_up_problem() {
    let mut url = tls_server(&["127.0.0.1"], 2020, 2099).await;
    url.set_scheme("http").expect("http");
    let client = TokenClient::new(true).expect("a client");
    let started = Instant::now();
    let call = HttpCall::json("{\"grant_type\":\"authorization_code\"}".into(), []);
    match client.send(&url, &call).await {
        Err(e @ HttpError::TlsBehindHttp { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("speaks TLS, but the URL says http://: use https://"),
                "{text}"
            );
            assert!(text.contains("subject `CN=127.0.0.1`"), "{text}");
            assert_eq!(e.exit_code(), 3);
        }
        other => panic!("{:?}", other.map(|o| o.status)),
    }
    assert!(started.elapsed() < bound());
}

/// A server that speaks only TLS 1.0: it answers the ClientHello with a TLS 1.0 ServerHello.
/// The client refuses it as a TLS failure (exit 3), bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_speaks_only_tls_1_0_is_a_tls_failure() {
    const TLS10_SERVER_HELLO: &[u8] = &[
        0x16, 0x03, 0x01, 0x00, 0x2a, 0x02, 0x00, 0x00, 0x26, 0x03, 0x01, 1, 2, 3, 4, 5, 6, 7, 8,
        9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
        32, 0x00, 0x00, 0x2f, 0x00,
    ];
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("an address").port();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut hello = [0u8; 4096];
                let _ = conn.read(&mut hello).await;
                let _ = conn.write_all(TLS10_SERVER_HELLO).await;
                tokio::time::sleep(Duration::from_secs(30)).await;
            });
        }
    });
    let url = Url::parse(&format!("https://127.0.0.1:{port}/v2/token")).expect("a URL");
    let client = TokenClient::new(true).expect("a client");
    let started = Instant::now();
    match client.send(&url, &HttpCall::get()).await {
        Err(e @ HttpError::Tls { .. }) => {
            let text = e.to_string();
            eprintln!("TLS 1.0 only: {text}");
            assert!(
                text.starts_with("TLS checks failed at https://127.0.0.1:"),
                "{text}"
            );
            assert_eq!(e.exit_code(), 3);
        }
        other => panic!("{:?}", other.map(|o| o.status)),
    }
    assert!(started.elapsed() < bound());
}

// Whole runs: the same behaviours at the token endpoint of a target file that is otherwise the
// simulator (`mock`, in its own process). The browser signs in, the code is redeemed at the
// hostile server, and the run must end with the verdict the client's error leads to, its
// reports written and nothing left behind.

const SCENARIO: &str = "^A web app redeems its code with its client secret$";
const RUN_BOUND: Duration = Duration::from_secs(90);

/// The hostile server of `b` on a thread and runtime of its own (a run in another process
/// talks to it while the test waits): its base URL.
fn hostile_for_a_run(b: Behaviour) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(async move {
            let _ = tx.send(hostile(b).await);
            std::future::pending::<()>().await;
        });
    });
    let url = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the hostile server");
    url.origin().ascii_serialization()
}

/// A run of SCENARIO with the token endpoint playing `b`: exit `code`, every one of `says` in
/// the output, within RUN_BOUND, reports written, nothing left.
fn whole_run(b: Behaviour, extra: &[&str], code: i32, says: &[&str]) {
    let at = hostile_for_a_run(b);
    run_detoured("token_endpoint", &at, SCENARIO, extra, RUN_BOUND).assert_ended(
        &format!("{b:?}"),
        code,
        says,
        RUN_BOUND,
    );
}

#[test]
fn whole_runs_a_trickling_or_resetting_token_endpoint_is_an_environment_failure() {
    whole_run(
        Behaviour::OneByteEverySecond,
        &["--request-timeout", "3"],
        3,
        &["environment failure", "within 3 s"],
    );
    whole_run(Behaviour::Resets, &[], 3, &["environment failure"]);
}

#[test]
fn whole_runs_an_answer_that_is_not_http_fails_the_check() {
    whole_run(
        Behaviour::NotHttp,
        &[],
        4,
        &[
            "[TK-01 S-11 MUST] the target answers in HTTP",
            "invalid HTTP version parsed",
        ],
    );
    whole_run(
        Behaviour::SetCookieFlood,
        &[],
        4,
        &[
            "[TK-01 S-11 MUST] the target answers in HTTP",
            "message head is too large",
        ],
    );
}

#[test]
fn whole_runs_a_wrong_answer_fails_the_check_with_its_evidence() {
    // Each fails the check at the first step that judges the answer, with the answer's status,
    // headers and first bytes as evidence.
    whole_run(
        Behaviour::Html500,
        &[],
        4,
        &[
            "actual:   500",
            "< content-type: text/html",
            "Internal Server Error",
        ],
    );
    whole_run(
        Behaviour::MalformedJson,
        &[],
        4,
        &["actual:   {\"access_token\": \"abc\","],
    );
    whole_run(Behaviour::WrongShapeJson, &[], 4, &["actual:   [1, 2, 3]"]);
    whole_run(
        Behaviour::DuplicateKeys,
        &[],
        4,
        &["\"token_type\":\"Bearer\",\"token_type\":\"evil\""],
    );
    whole_run(
        Behaviour::NoContentType,
        &[],
        4,
        &["actual:   {\"error\":\"invalid_grant\"}"],
    );
    // Never followed: the 302 is the answer judged.
    whole_run(Behaviour::RedirectLoop, &[], 4, &["actual:   302"]);
}

#[test]
fn whole_runs_a_broken_off_or_huge_body_is_judged_with_what_arrived() {
    whole_run(
        Behaviour::ClosesAfterHeaders,
        &[],
        4,
        &["the body broke off after 12 bytes", "< content-length: 500"],
    );
    // The evidence shows the first bytes and says that the body was cut at the read cap.
    whole_run(
        Behaviour::FiftyMegabytes,
        &[],
        4,
        &[
            "< content-length: 52428800",
            "more bytes not shown",
            "the body was cut",
        ],
    );
}
