//! `mock` as a service for an app's CI: it holds 1,000 concurrent connections and answers
//! every one, and a slow-loris client is capped at its per-client limit and timed out while other
//! clients are still served. Clients spread over several loopback source addresses
//! (127.0.0.1–127.0.0.8), as the containers of a CI would.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

fn start(args: &[&str]) -> (std::process::Child, SocketAddr, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("a folder");
    let mut all = vec!["mock"];
    all.extend_from_slice(args);
    let mut child = common::command(&all, tmp.path())
        .spawn()
        .expect("start the mock");
    let base = common::listening_on(&mut child, "the mock");
    let addr = base
        .strip_prefix("http://")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("an address: {base}"));
    (child, addr, tmp)
}

fn stop(child: std::process::Child) {
    // SAFETY: signalling the child we spawned.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let r = common::finish(child, Duration::from_secs(30));
    assert_eq!(r.code, Some(0), "the mock stops cleanly: {r:?}");
}

/// A connection to `to` from loopback source address `127.0.0.from`.
async fn connect_from(from: u8, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, from)),
        0,
    ))?;
    tokio::time::timeout(Duration::from_secs(10), socket.connect(to))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect"))?
}

/// Sends `GET path` and reads the status line, within 20 s.
async fn status(stream: &mut TcpStream, path: &str) -> std::io::Result<String> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await?;
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        let mut buf = [0u8; 4096];
        while !got.windows(2).any(|w| w == b"\r\n") {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(())
    })
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "status line"))??;
    let text = String::from_utf8_lossy(&got);
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

async fn stats(addr: SocketAddr) -> serde_json::Value {
    common::mock_stats(&format!("http://{addr}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_connections_are_held_and_each_answered() {
    let (child, addr, _tmp) = start(&[]);
    let started = Instant::now();
    // Open all of them first, from eight addresses (125 each, under the default 256 per client).
    let mut streams = Vec::new();
    for i in 0..1000u32 {
        let from = 1 + (i % 8) as u8;
        streams.push(connect_from(from, addr).await.expect("a connection"));
    }
    // The server holds them all at once (counted once accepted).
    let mut held = 0;
    for _ in 0..100 {
        held = stats(addr).await["connections_open"].as_u64().unwrap_or(0);
        if held >= 1000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(held >= 1000, "{held} connections held");
    // Then a request on every one, all in flight together.
    let answers =
        futures::future::join_all(streams.iter_mut().map(|s| status(s, "/v2/token"))).await;
    let elapsed = started.elapsed();
    let ok = answers
        .iter()
        .filter(|a| matches!(a, Ok(l) if l.starts_with("HTTP/1.1 405")))
        .count();
    eprintln!("1,000 connections held ({held} counted) and answered in {elapsed:.1?}");
    assert_eq!(
        ok,
        1000,
        "every connection answered; not: {:?}",
        answers
            .iter()
            .filter(|a| a.is_err())
            .take(3)
            .collect::<Vec<_>>()
    );
    assert_eq!(stats(addr).await["connections_refused"], 0);
    drop(streams);
    stop(child);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_loris_client_is_capped_and_timed_out_while_others_are_served() {
    let (child, addr, _tmp) = start(&[
        "--max-connections-per-client",
        "20",
        "--header-timeout",
        "2",
    ]);
    // The slow client, from 127.0.0.3: 40 connections, each sending a request's first bytes only.
    let mut slow = Vec::new();
    for _ in 0..40 {
        let mut s = connect_from(3, addr).await.expect("a connection");
        let _ = s.write_all(b"GET /v2/tok").await;
        slow.push(s);
    }
    // Past its 20, each is answered 503 and closed at once (all read at once: the held ones
    // must not reach their 2 s header timeout meanwhile).
    let first_reads = futures::future::join_all(slow.into_iter().map(|mut s| async move {
        let mut buf = [0u8; 256];
        let got = tokio::time::timeout(Duration::from_millis(500), s.read(&mut buf)).await;
        (s, got.map(|r| r.map(|n| buf[..n].to_vec())))
    }))
    .await;
    let mut refused = 0;
    let mut held = Vec::new();
    for (s, got) in first_reads {
        match got {
            Ok(Ok(b)) if b.starts_with(b"HTTP/1.1 503") => refused += 1,
            Err(_) => held.push(s),
            other => panic!("a slow connection got {other:?}"),
        }
    }
    assert_eq!((refused, held.len()), (20, 20), "20 refused, 20 held");
    // Another client is served while the slow one holds its 20.
    let mut other = connect_from(1, addr).await.expect("a connection");
    let line = status(&mut other, "/v2/token").await.expect("an answer");
    assert!(line.starts_with("HTTP/1.1 405"), "{line}");
    // Trickling a byte a second does not keep them: every held one is closed within the 2 s
    // header timeout (bound: 15 s on a busy machine).
    let trickled = Instant::now();
    let closed = futures::future::join_all(held.iter_mut().map(|s| async move {
        loop {
            if s.write_all(b"e").await.is_err() {
                return true;
            }
            let mut buf = [0u8; 256];
            match tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await {
                Ok(Ok(_)) | Ok(Err(_)) => return true,
                Err(_) if trickled.elapsed() > Duration::from_secs(15) => return false,
                Err(_) => {}
            }
        }
    }))
    .await;
    assert!(closed.iter().all(|c| *c), "every slow connection closed");
    let took = trickled.elapsed();
    assert!(took < Duration::from_secs(15), "closed after {took:?}");
    // Its connections are given back: the same client is served again.
    let mut again = connect_from(3, addr).await.expect("a connection");
    let line = status(&mut again, "/v2/token").await.expect("an answer");
    assert!(line.starts_with("HTTP/1.1 405"), "{line}");
    let s = stats(addr).await;
    assert_eq!(s["connections_refused"], 20, "{s}");
    stop(child);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_too_large_or_too_slow_is_refused_not_held() {
    let (child, addr, _tmp) = start(&["--body-timeout", "2", "--max-body", "1000"]);
    // Larger than the limit: 413.
    let mut s = connect_from(1, addr).await.expect("a connection");
    let body = "x".repeat(5000);
    let req = format!(
        "POST /v2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = s.write_all(req.as_bytes()).await;
    let mut buf = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("an answer in time")
        .expect("an answer");
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 413"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    // A body that never arrives: 408 after the body timeout (2 s; bound 15 s).
    let mut s = connect_from(1, addr).await.expect("a connection");
    let began = Instant::now();
    let _ = s
        .write_all(b"POST /v2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{")
        .await;
    let n = tokio::time::timeout(Duration::from_secs(15), s.read(&mut buf))
        .await
        .expect("an answer in time")
        .expect("an answer");
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 408"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    assert!(
        began.elapsed() >= Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    stop(child);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_its_responses_is_disconnected() {
    let (child, addr, _tmp) = start(&[
        "--max-connections-per-client",
        "1",
        "--header-timeout",
        "600",
        "--write-timeout",
        "2",
    ]);
    // From 127.0.0.5, its only allowed connection: requests sent back to back, no answer read,
    // until the buffers both ways are full and a write of ours waits.
    let mut greedy = connect_from(5, addr).await.expect("a connection");
    let request =
        "GET /v2/authorize?client_id=nobody HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(100);
    let mut sent = 0;
    while let Ok(Ok(())) =
        tokio::time::timeout(Duration::from_secs(1), greedy.write_all(request.as_bytes())).await
    {
        sent += 100;
        assert!(sent < 2_000_000, "the server never stopped taking requests");
    }
    let stalled = Instant::now();
    // Held now: another connection from the same address is refused.
    let mut second = connect_from(5, addr).await.expect("a connection");
    let line = status(&mut second, "/v2/token").await.expect("an answer");
    assert!(line.starts_with("HTTP/1.1 503"), "{line}");
    // After the 2 s write timeout the server lets go of it: the address is served again
    // (bound: 20 s on a busy machine; the header timeout, 600 s, plays no part).
    let freed = loop {
        let mut s = connect_from(5, addr).await.expect("a connection");
        let line = status(&mut s, "/v2/token").await.expect("an answer");
        if line.starts_with("HTTP/1.1 405") {
            break stalled.elapsed();
        }
        assert!(
            stalled.elapsed() < Duration::from_secs(20),
            "still held after {:?}: {line}",
            stalled.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    eprintln!("{sent} requests sent unread; the connection was let go {freed:.1?} after our writes stalled");
    drop(greedy);
    stop(child);
}
