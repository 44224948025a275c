//! Where a run's time goes, phase by phase: `cargo bench --bench phases`.
//!
//! Prints min, median and max over `SFMC_BENCH_RUNS` runs (default 5) of:
//! - starting ChromeDriver, and starting a browser session on it;
//! - a login through the browser (fill the form, submit, land on the redirect URI), an
//!   authorization with the browser's login session (SSO), a token exchange and a refresh: the
//!   steps of `benches/features/phases.feature`, timed by cucumber, five samples per run;
//! - one scenario of each kind (the catalogue's areas), writing the reports, and the whole suite:
//!   `sfmc-conformance run` on the catalogue;
//! - the floor under them: a navigation to a static loopback page, one through a 302, and one
//!   WebDriver round trip;
//! - a profile: one more run of the catalogue with every browser command timed, by kind, and the
//!   share of the wall time its navigations alone take.
//!
//! Against the embedded simulator by default; `SFMC_BENCH_TARGET=targets/x.toml` takes the same
//! figures against a target file (its secrets from the environment, as for `run`).
//! Needs ChromeDriver and Chromium, as `run` does. Only loopback is contacted unless the target
//! file says otherwise.

use serde_json::Value;
use sfmc_oauth_conformance::browser::{driver, BrowserConfig, BrowserPool, ChromeDriver};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects phases by name.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let runs: usize = std::env::var("SFMC_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let target = std::env::var("SFMC_BENCH_TARGET").ok();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut table = Table::default();
    println!(
        "sfmc-conformance phases, {runs} runs, against {}",
        target.as_deref().unwrap_or("the embedded simulator")
    );
    let wants = |phase: &str| filter.as_ref().is_none_or(|f| phase.contains(f.as_str()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    if wants("chromedriver") || wants("session") || wants("floor") {
        rt.block_on(browser_start(runs, &mut table));
    }
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let run = |features: &Path, name: String, concurrency: Option<u32>| {
        run_suite(
            &root,
            features,
            tmp.path(),
            target.as_deref(),
            &name,
            concurrency,
            false,
        )
    };
    if wants("flow") {
        // Each flow's latency with its browser alone (`--concurrency 1`), and beside a second
        // browser doing the same (the default of 2, as in a suite run): on two cores the two
        // browsers compete for the CPU.
        for i in 0..runs {
            for (concurrency, beside) in [(1, "alone"), (2, "beside another")] {
                let out = run(
                    &root.join("benches/features"),
                    format!("flows-{i}-{concurrency}"),
                    Some(concurrency),
                );
                for (kind, step, phase) in [
                    (
                        "A login through",
                        "the user signs in through the browser",
                        "flow: login through the browser",
                    ),
                    (
                        "An authorization with",
                        "the user has authorized the app in the browser",
                        "flow: authorization with the login session (SSO)",
                    ),
                    (
                        "An authorization with",
                        "the app redeems the code at the token endpoint",
                        "flow: token exchange",
                    ),
                    ("A refresh", "the app refreshes its tokens", "flow: refresh"),
                ] {
                    for d in step_durations(&out.cucumber, kind, step) {
                        table.add(&format!("{phase}, {beside}"), d);
                    }
                }
            }
        }
    }
    if wants("suite") || wants("scenario") || wants("reports") {
        for i in 0..runs {
            let out = run(&root.join("features"), format!("suite-{i}"), None);
            table.add("suite: whole catalogue (wall time)", out.wall);
            table.add("suite: writing the reports", out.reports);
            for (area, durations) in scenario_durations(&out.cucumber) {
                for d in durations {
                    table.add(&format!("scenario: {area}"), d);
                }
            }
        }
    }
    table.print();
    if wants("profile") {
        // One more run of the catalogue (`--concurrency 2`), each browser command timed
        // (`SFMC_TRACE_BROWSER`): where its time goes, and the floor the navigations alone set.
        let out = run_suite(
            &root,
            &root.join("features"),
            tmp.path(),
            target.as_deref(),
            "profile",
            Some(PROFILE_BROWSERS),
            true,
        );
        profile(&out);
    }
}

/// The traced run's `--concurrency`: browsers at once.
const PROFILE_BROWSERS: u32 = 2;

/// Prints the browser commands of a traced run by kind (count, total, median), and the floor
/// its navigations set on the wall time with two browsers.
fn profile(out: &SuiteRun) {
    let mut by_cmd: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    for (cmd, d) in &out.trace {
        by_cmd.entry(cmd.as_str()).or_default().push(*d);
    }
    println!();
    println!(
        "one traced run of the catalogue: {:.1} s wall time; its browser commands:",
        out.wall.as_secs_f64()
    );
    println!(
        "{:<40} {:>6} {:>10} {:>10}",
        "command", "n", "total s", "median ms"
    );
    let mut rows: Vec<_> = by_cmd.into_iter().collect();
    rows.sort_by_key(|(_, v)| std::cmp::Reverse(v.iter().sum::<Duration>()));
    for (cmd, mut v) in rows {
        v.sort();
        println!(
            "{cmd:<40} {:>6} {:>10.2} {:>10.1}",
            v.len(),
            v.iter().sum::<Duration>().as_secs_f64(),
            v[v.len() / 2].as_secs_f64() * 1000.0
        );
    }
    let navigations: Duration = out
        .trace
        .iter()
        .filter(|(c, _)| c == "navigate")
        .map(|(_, d)| *d)
        .sum();
    println!(
        "floor: the navigations alone, over {PROFILE_BROWSERS} browsers: {:.1} s of the {:.1} s",
        navigations.as_secs_f64() / f64::from(PROFILE_BROWSERS),
        out.wall.as_secs_f64()
    );
}

/// Starting ChromeDriver, then a browser session on it.
async fn browser_start(runs: usize, table: &mut Table) {
    let binary = driver::locate(None).expect("ChromeDriver (run .ci/install-browser)");
    for _ in 0..runs {
        let t0 = Instant::now();
        let mut chromedriver = ChromeDriver::start(&binary)
            .await
            .expect("ChromeDriver starts");
        table.add("start ChromeDriver", t0.elapsed());
        let pool = BrowserPool::new(BrowserConfig {
            webdriver_url: chromedriver.url(),
            chrome: PathBuf::from(
                std::env::var("SFMC_CHROME").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            ),
            loopback_only: true,
            catcher: None,
            only_hosts: Vec::new(),
            profile: None,
            page_load: sfmc_oauth_conformance::timeouts::Timeouts::default().page_load,
        });
        let t0 = Instant::now();
        let browser = pool.acquire().await.expect("a browser session starts");
        table.add("start a browser session", t0.elapsed());
        // The floor under every flow: ChromeDriver's navigation to a page that costs nothing to
        // serve, through one redirect (an authorization with a login session is exactly that),
        // and one round trip (reading the URL). Ten of each per run, after one to warm up.
        let page = static_pages().await;
        browser.open(&page).await.expect("the static page opens");
        for _ in 0..10 {
            let t0 = Instant::now();
            browser.open(&page).await.expect("the static page opens");
            table.add("floor: navigate to a static loopback page", t0.elapsed());
            // `open` takes a page the browser could not load as loaded: make sure it was not.
            assert!(
                browser.title().await.expect("the title reads") == "page",
                "the static page did not load"
            );
            let t0 = Instant::now();
            browser
                .open(&format!("{page}redirect"))
                .await
                .expect("the redirect opens");
            table.add("floor: navigate through one 302 to it", t0.elapsed());
            let t0 = Instant::now();
            let here = browser.current_url().await.expect("the URL reads");
            table.add(
                "floor: one WebDriver round trip (read the URL)",
                t0.elapsed(),
            );
            assert!(here.ends_with("/page"), "the redirect ended at {here}");
        }
        browser.close().await;
        pool.close_all().await;
        chromedriver.stop().await;
    }
}

/// A loopback server of two fixed answers: `/redirect` is a 302 to `/page`, anything else a
/// small HTML page. Its base URL, ending in `/`.
async fn static_pages() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}/", listener.local_addr().expect("its address"));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                    if !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        continue;
                    }
                    let head = String::from_utf8_lossy(&got);
                    let answer = if head.starts_with("GET /redirect ") {
                        "HTTP/1.1 302 Found\r\nLocation: /page\r\nContent-Length: 0\r\n\r\n"
                            .to_owned()
                    } else {
                        let body = "<!doctype html><title>page</title><p>page</p>";
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        )
                    };
                    got.clear();
                    if socket.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    base
}

struct SuiteRun {
    wall: Duration,
    /// From cucumber's summary to the line naming the written reports.
    reports: Duration,
    cucumber: Value,
    /// With `trace`: every browser command and how long it took.
    trace: Vec<(String, Duration)>,
}

/// `sfmc-conformance run` on `features`, its reports in `tmp/<name>`.
fn run_suite(
    root: &Path,
    features: &Path,
    tmp: &Path,
    target: Option<&str>,
    name: &str,
    concurrency: Option<u32>,
    trace: bool,
) -> SuiteRun {
    let reports = tmp.join(name);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sfmc-conformance"));
    cmd.current_dir(root)
        .arg("run")
        .arg("--features")
        .arg(features)
        .arg("--report-dir")
        .arg(&reports)
        .arg("--snapshots")
        .arg(tmp.join("snapshots"))
        .args(["--color", "never"])
        .stdout(Stdio::piped())
        .stderr(if trace { Stdio::piped() } else { Stdio::null() });
    if trace {
        cmd.env("SFMC_TRACE_BROWSER", "1");
    }
    if let Some(t) = target {
        cmd.arg("--target").arg(t);
    }
    if let Some(n) = concurrency {
        cmd.arg("--concurrency").arg(n.to_string());
    }
    let t0 = Instant::now();
    let mut child = cmd.spawn().expect("sfmc-conformance starts");
    // `browser: {command} took {ms} ms`, one line per command.
    let traced = child.stderr.take().map(|err| {
        std::thread::spawn(move || {
            BufReader::new(err)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| {
                    let rest = l.strip_prefix("browser: ")?;
                    let (cmd, ms) = rest.rsplit_once(" took ")?;
                    let ms: u64 = ms.strip_suffix(" ms")?.parse().ok()?;
                    Some((cmd.to_owned(), Duration::from_millis(ms)))
                })
                .collect::<Vec<_>>()
        })
    });
    let mut summary = None;
    let mut written = None;
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
        let line = line.unwrap_or_default();
        if line.starts_with("[Summary]") {
            summary = Some(t0.elapsed());
        }
        if line.starts_with("reports: ") {
            written = Some(t0.elapsed());
        }
    }
    let status = child.wait().expect("sfmc-conformance ends");
    let wall = t0.elapsed();
    assert!(
        status.code() == Some(0),
        "`run` on {} ended with {status}: the benchmark times passing runs",
        features.display()
    );
    let json = std::fs::read(reports.join("latest/cucumber.json")).expect("cucumber.json");
    SuiteRun {
        wall,
        reports: written.unwrap_or(wall) - summary.unwrap_or(wall),
        cucumber: serde_json::from_slice(&json).expect("cucumber.json parses"),
        trace: traced
            .map(|t| t.join().expect("the trace reader ends"))
            .unwrap_or_default(),
    }
}

fn scenarios(cucumber: &Value) -> impl Iterator<Item = (&Value, &Value)> {
    cucumber.as_array().into_iter().flatten().flat_map(|f| {
        f["elements"]
            .as_array()
            .into_iter()
            .flatten()
            .map(move |e| (f, e))
    })
}

fn nanos(v: &Value) -> Duration {
    Duration::from_nanos(v["result"]["duration"].as_u64().unwrap_or(0))
}

/// The durations of `step` in the scenarios whose name starts with `scenario`.
fn step_durations(cucumber: &Value, scenario: &str, step: &str) -> Vec<Duration> {
    scenarios(cucumber)
        .filter(|(_, e)| e["name"].as_str().is_some_and(|n| n.starts_with(scenario)))
        .flat_map(|(_, e)| e["steps"].as_array().into_iter().flatten())
        .filter(|s| s["name"] == step)
        .map(nanos)
        .collect()
}

/// Each scenario's duration (hooks and steps), by area (the feature file's folder).
fn scenario_durations(cucumber: &Value) -> BTreeMap<String, Vec<Duration>> {
    let mut out: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    for (f, e) in scenarios(cucumber) {
        let area = f["uri"]
            .as_str()
            .and_then(|u| u.split('/').rev().nth(1))
            .unwrap_or("other")
            .to_owned();
        let total: Duration = ["before", "steps", "after"]
            .iter()
            .flat_map(|k| e[*k].as_array().into_iter().flatten())
            .map(nanos)
            .sum();
        out.entry(area).or_default().push(total);
    }
    out
}

/// Samples by phase, printed as min, median and max.
#[derive(Default)]
struct Table(Vec<(String, Vec<Duration>)>);

impl Table {
    fn add(&mut self, phase: &str, d: Duration) {
        match self.0.iter_mut().find(|(p, _)| p == phase) {
            Some((_, v)) => v.push(d),
            None => self.0.push((phase.to_owned(), vec![d])),
        }
    }

    fn print(&self) {
        println!(
            "{:<66} {:>6} {:>10} {:>10} {:>10}",
            "phase", "n", "min ms", "median ms", "max ms"
        );
        for (phase, v) in &self.0 {
            let mut v = v.clone();
            v.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!(
                "{phase:<66} {:>6} {:>10.1} {:>10.1} {:>10.1}",
                v.len(),
                ms(v[0]),
                ms(v[v.len() / 2]),
                ms(v[v.len() - 1])
            );
        }
    }
}
