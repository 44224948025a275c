//! The simulator as a long-running service (`mock`): under a steady stream of token requests it
//! answers every one, and the state of expired tokens (and their families) is dropped.
//! CI runs a short soak (`SFMC_SOAK_SECS`, default 8 s in two halves, the clock moved two hours
//! between them). The same test, longer, is the benchmark:
//! `SFMC_SOAK_SECS=3600 cargo test --release --test mock_soak -- --nocapture` prints the rate
//! and the memory at start, midway and at the end. `SFMC_SOAK_RATE=N` paces the four connections
//! to N requests a second in all (default: as fast as the mock answers), for a soak at a stated
//! rate that leaves the machine usable. The memory follows the state it holds: the
//! second half, whose tokens replace the first half's, does not grow it by another half.

mod common;

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

/// The resident memory of `pid`, in KB.
fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// The pace asked for with `SFMC_SOAK_RATE`: requests a second, over all connections.
fn pace() -> Option<f64> {
    std::env::var("SFMC_SOAK_RATE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|r| *r > 0.0)
}

/// Client-credentials requests from `workers` connections until `until`: (200s, others).
/// Paced to `pace()` when it is set: each connection sends its share on a fixed schedule.
async fn hammer(base: &str, secret: &str, until: Instant, workers: usize) -> (u64, u64) {
    let interval = pace().map(|rate| Duration::from_secs_f64(workers as f64 / rate));
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client");
    let body = serde_json::json!({
        "grant_type": "client_credentials",
        "client_id": "s2s0000000sim00000000000",
        "client_secret": secret,
    });
    let url = format!("{base}/v2/token");
    let tasks = (0..workers).map(|_| {
        let (client, body, url) = (client.clone(), body.clone(), url.clone());
        tokio::spawn(async move {
            let (mut ok, mut other) = (0u64, 0u64);
            let mut ticks = interval.map(|every| {
                let mut t = tokio::time::interval(every);
                t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                t
            });
            while Instant::now() < until {
                if let Some(t) = ticks.as_mut() {
                    t.tick().await;
                }
                match client.post(&url).json(&body).send().await {
                    Ok(r) if r.status() == 200 => ok += 1,
                    _ => other += 1,
                }
            }
            (ok, other)
        })
    });
    let mut total = (0, 0);
    for t in futures::future::join_all(tasks).await {
        let (ok, other) = t.expect("a worker");
        total.0 += ok;
        total.1 += other;
    }
    total
}

async fn stats(base: &str) -> serde_json::Value {
    common::mock_stats(base).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_running_mock_answers_every_request_and_drops_expired_tokens() {
    let secs: u64 = std::env::var("SFMC_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8)
        .max(2);
    let tmp = tempfile::tempdir().expect("a folder");
    let mut child = common::command(&["mock", "--show-secrets"], tmp.path())
        .spawn()
        .expect("start the mock");
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut base = None;
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(b) = line.strip_prefix("listening on ") {
                base = Some(b.to_owned());
            }
            if line.starts_with("integration server") {
                let secret = line
                    .split_whitespace()
                    .skip_while(|w| *w != "secret")
                    .nth(1)
                    .map(str::to_owned);
                let _ = tx.send((base.clone(), secret));
            }
        }
    });
    let (base, secret) = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the mock starts");
    let (base, secret) = (base.expect("its address"), secret.expect("the secret"));
    let pid = child.id();

    let half = Duration::from_secs(secs / 2);
    let start_kb = rss_kb(pid);
    let started = Instant::now();
    let (ok1, other1) = hammer(&base, &secret, Instant::now() + half, 4).await;
    let first = stats(&base).await;
    let mid_kb = rss_kb(pid);
    // Two hours later every token of the first half has expired (they live 1079 s).
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client")
        .post(format!("{base}/__admin/clock"))
        .json(&serde_json::json!({"advance_seconds": 7200}))
        .send()
        .await
        .expect("the clock moves");
    let (mut ok2, mut other2) = hammer(&base, &secret, Instant::now() + half, 4).await;
    // Go on until the mock has pruned at least once since the clock moved (every 1,000 tokens).
    while (ok1 + ok2) / 1000 == ok1 / 1000 {
        let (more, other) =
            hammer(&base, &secret, Instant::now() + Duration::from_secs(1), 4).await;
        ok2 += more;
        other2 += other;
    }
    let second = stats(&base).await;
    let elapsed = started.elapsed().as_secs_f64();
    let end_kb = rss_kb(pid);
    let rate = (ok1 + ok2) as f64 / elapsed;
    eprintln!(
        "mock soak: {} requests in {elapsed:.1} s ({rate:.0}/s over 4 connections{}), memory {start_kb} KB at start, {mid_kb} KB after the first half, {end_kb} KB at end; tokens held {} after the first half, {} at the end",
        ok1 + ok2,
        pace().map(|r| format!(", paced to {r}/s")).unwrap_or_default(),
        first["access_tokens"],
        second["access_tokens"]
    );
    // SAFETY: signalling the child we spawned.
    unsafe {
        libc::kill(pid as i32, libc::SIGTERM);
    }
    let r = common::finish(child, Duration::from_secs(30));
    assert_eq!(r.code, Some(0), "the mock stops cleanly: {r:?}");

    assert_eq!((other1, other2), (0, 0), "every request answered 200");
    assert!(ok1 > 100 && ok2 > 100, "{ok1}, {ok2}");
    // Every token of the first half expired when the clock moved, and a prune has run since:
    // exactly the second half's tokens remain.
    // (Past MAX_LIVE_TOKENS, a prune forgets those that expire first.)
    let held = second["access_tokens"].as_u64().expect("a count");
    let cap = sfmc_oauth_conformance::simulator::MAX_LIVE_TOKENS as u64;
    if ok2 <= cap {
        assert_eq!(
            held, ok2,
            "{held} tokens held after {ok1} expired and {ok2} new"
        );
    } else {
        assert!(
            held <= cap + sfmc_oauth_conformance::simulator::PRUNE_EVERY,
            "{held} tokens held, {ok2} issued in the second half, at most {cap} kept"
        );
    }
    assert!(
        first["access_tokens"].as_u64().expect("a count") > 0,
        "the first half held tokens"
    );
    assert_eq!(second["issued"].as_u64(), Some(ok1 + ok2));
    // Memory follows the state, not the traffic: the second half replaced the first half's
    // tokens, so the process did not grow by another half's worth (with a margin for the
    // allocator's own bookkeeping). Wiremock's server, which kept every request, failed this.
    let half_growth = mid_kb.saturating_sub(start_kb);
    assert!(
        end_kb <= mid_kb + half_growth / 2 + 16 * 1024,
        "memory grew from {mid_kb} KB to {end_kb} KB in the second half, while the tokens held went from {} to {held}",
        first["access_tokens"]
    );
}
