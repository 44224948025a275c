//! The reports a run writes: every file is there, junit.xml and findings.sarif have the shape
//! their schemas require, no secret reaches any of them (nor stdout, stderr or a file name), and
//! report.html opens in headless Chromium and shows its screenshots.

mod common;

use common::{assert_nothing_left, encodings, run};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SENTINELS: &[&str] = &[
    "SENTINELwebSecret7Qx2Lm9Z",
    "SENTINELpassword+/= 8Kq",
    "SENTINELTOTPSEEDAAAAAAAAAAAAAAAA",
];

fn the_run_folder(reports: &Path) -> PathBuf {
    let latest = reports.join("latest");
    let target = std::fs::read_link(&latest).expect("reports/latest is a link");
    reports.join(target)
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("a folder").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The checks of the JUnit XML schema (testsuites > testsuite > testcase, with their required
/// attributes and counts that add up) on the text itself.
fn check_junit(xml: &str) {
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "),
        "{xml}"
    );
    assert!(xml.trim_end().ends_with("</testsuites>"));
    let attr = |tag: &str, name: &str| -> Vec<usize> {
        let re = regex::Regex::new(&format!(r#"<{tag} [^>]*\b{name}="(\d+)""#)).expect("regex");
        re.captures_iter(xml)
            .map(|c| c[1].parse().expect("a number"))
            .collect()
    };
    let suites_tests = attr("testsuite", "tests");
    let total = attr("testsuites", "tests");
    assert_eq!(total.len(), 1);
    assert_eq!(
        suites_tests.iter().sum::<usize>(),
        total[0],
        "testsuite tests add up"
    );
    let cases = xml.matches("<testcase ").count();
    assert_eq!(cases, total[0], "one testcase per test");
    for tag in ["<testsuite ", "<testcase "] {
        for line in xml.lines().filter(|l| l.trim_start().starts_with(tag)) {
            assert!(line.contains(" name=\""), "{line}");
        }
    }
    let failures = attr("testsuites", "failures")[0];
    assert_eq!(xml.matches("<failure ").count(), failures);
    assert_eq!(
        xml.matches("<testsuite ").count(),
        xml.matches("</testsuite>").count()
    );
    assert_eq!(
        xml.matches("<testcase ").count(),
        xml.matches("</testcase>").count()
    );
}

/// Validates `file` against the JUnit schema (`tests/fixtures/schemas/junit.xsd`) with xmllint
/// (Debian's libxml2-utils, which `.ci/install-browser` and `.ci/run` install).
fn xmllint_junit(file: &Path) -> Result<(), String> {
    let xsd = common::root().join("tests/fixtures/schemas/junit.xsd");
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(file)
        .output()
        .map_err(|e| {
            format!("xmllint did not run ({e}): install libxml2-utils (.ci/install-browser does)")
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn the_junit_schema_check_can_fail() {
    let dir = tempfile::tempdir().expect("a folder");
    let bad = dir.path().join("bad.xml");
    std::fs::write(
        &bad,
        "<testsuites><testsuite tests=\"1\"><testcase/></testsuite></testsuites>",
    )
    .expect("writable");
    assert!(
        xmllint_junit(&bad).is_err(),
        "a testsuite and testcase without names validated"
    );
}

/// The SARIF 2.1.0 schema's requirements on what the report uses.
fn check_sarif(v: &Value) {
    assert_eq!(v["version"], "2.1.0");
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert!(driver["name"].is_string());
    let rules: Vec<&str> = driver["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().expect("a rule id"))
        .collect();
    for r in runs[0]["results"].as_array().expect("results") {
        assert!(r["message"]["text"].is_string(), "{r}");
        assert!(
            rules.contains(&r["ruleId"].as_str().expect("ruleId")),
            "{r}"
        );
        assert!(["none", "note", "warning", "error"].contains(&r["level"].as_str().expect("level")));
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(loc["artifactLocation"]["uri"].is_string());
        assert!(loc["region"]["startLine"].as_u64().expect("startLine") >= 1);
    }
}

#[test]
fn a_run_writes_every_report_without_a_secret_and_the_html_shows_its_screenshots() {
    let reports = tempfile::tempdir().expect("a folder");
    let dir = reports.path().display().to_string();
    let (r, tmp) = run(
        &[
            "run",
            "--features",
            "tests/fixtures/evidence",
            "--integrations",
            "tests/fixtures/integrations/sentinel.toml",
            "--report-dir",
            &dir,
            "--color",
            "never",
        ],
        Duration::from_secs(120),
    );
    assert_eq!(r.code, Some(4), "{r:?}");
    let folder = the_run_folder(reports.path());
    for name in [
        "junit.xml",
        "cucumber.json",
        "summary.md",
        "report.html",
        "compliance.md",
        "findings.sarif",
    ] {
        let p = folder.join(name);
        assert!(
            p.is_file() && std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0) > 0,
            "{name} missing or empty"
        );
    }
    let read = |n: &str| std::fs::read_to_string(folder.join(n)).expect("readable");
    check_junit(&read("junit.xml"));
    assert_eq!(xmllint_junit(&folder.join("junit.xml")), Ok(()));
    check_sarif(&serde_json::from_str(&read("findings.sarif")).expect("SARIF is JSON"));
    // The types serde-sarif generates from the SARIF 2.1.0 JSON schema read it back.
    let typed: serde_sarif::sarif::Sarif = serde_json::from_str(&read("findings.sarif"))
        .expect("findings.sarif follows the SARIF 2.1.0 schema");
    assert_eq!(typed.runs.len(), 1);
    let cucumber: Value =
        serde_json::from_str(&read("cucumber.json")).expect("cucumber.json is JSON");
    assert!(
        cucumber.as_array().is_some_and(|a| !a.is_empty()),
        "{cucumber}"
    );
    let summary = read("summary.md");
    assert!(
        summary.contains("## Failures")
            && summary.contains("TK-08")
            && summary.contains("expected: 200"),
        "{summary}"
    );
    assert!(read("compliance.md").contains("| RFC 6749 (OAuth 2.0) | MUST |"));
    let page = read("report.html");
    assert!(
        page.contains(
            "<li class=\"step-failed\">✘ Then the token endpoint answers 200 (failed here)</li>"
        ),
        "steps missing from report.html"
    );
    assert!(page.contains("<li class=\"step-passed\">✔ Given the web app</li>"));
    // Each failure has the screenshot taken at its failing step: the page the leak test covers
    // holds them, and the kept run (run.json).
    assert_eq!(
        page.matches("The browser when the step failed: ").count(),
        2,
        "a failure without its screenshot"
    );
    assert!(folder.join("run.json").is_file());

    // No sentinel, in any form, anywhere.
    let mut texts = vec![
        ("stdout".to_owned(), r.stdout.clone()),
        ("stderr".to_owned(), r.stderr.clone()),
    ];
    for f in files_under(reports.path()) {
        let bytes = std::fs::read(&f).expect("readable");
        texts.push((
            f.display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
        texts.push(("file name".into(), f.display().to_string()));
    }
    for sentinel in SENTINELS {
        for form in encodings(sentinel) {
            for (where_, text) in &texts {
                assert!(!text.contains(&form), "{form:?} appears in {where_}");
            }
        }
    }
    assert_eq!(
        common::token_shaped(&read("report.html")),
        Vec::<String>::new()
    );
    assert_nothing_left(tmp.path());

    // The HTML report, opened by headless Chromium, shows its screenshots.
    let html = folder.join("report.html");
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let (shots, loaded) = rt.block_on(async {
        let (mut d, pool) = common::page_browsers().await;
        let b = pool.acquire().await.expect("a browser");
        b.open(&format!("file://{}", html.display())).await.expect("opens");
        let counts = b
            .eval("return [document.images.length, Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0).length]")
            .await
            .expect("counts");
        b.close().await;
        d.stop().await;
        (counts[0].as_u64().unwrap_or(0), counts[1].as_u64().unwrap_or(0))
    });
    assert!(shots >= 1, "no screenshot in the report");
    assert_eq!(shots, loaded, "screenshots that did not render");
}

#[test]
fn snapshots_recorded_with_sentinel_secrets_hold_none_of_them() {
    let snapshots = tempfile::tempdir().expect("a folder");
    let reports = tempfile::tempdir().expect("a folder");
    let (r, _tmp) = run(
        &[
            "run",
            "--tags",
            "@TK-01 or @TR-01",
            "--accept",
            "--integrations",
            "tests/fixtures/integrations/sentinel.toml",
            "--snapshots",
            &snapshots.path().display().to_string(),
            "--report-dir",
            &reports.path().display().to_string(),
            "--color",
            "never",
        ],
        Duration::from_secs(120),
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    let files = files_under(snapshots.path());
    assert!(files.len() >= 3, "{files:?}");
    for f in files.iter().chain(files_under(reports.path()).iter()) {
        let text = String::from_utf8_lossy(&std::fs::read(f).expect("readable")).into_owned();
        for sentinel in SENTINELS {
            for form in encodings(sentinel) {
                assert!(
                    !text.contains(&form) && !f.display().to_string().contains(&form),
                    "{form:?} in {}",
                    f.display()
                );
            }
        }
        assert_eq!(
            common::token_shaped(&text),
            Vec::<String>::new(),
            "{}",
            f.display()
        );
    }
}

#[test]
fn a_changed_behaviour_is_changed_and_fails_only_with_fail_on_drift() {
    // A copy of the committed baselines in which the invalid_client error had another code:
    // the run marks the scenarios that saw it "changed", with the changed line, and passes;
    // with --fail-on-drift they fail.
    let baselines = tempfile::tempdir().expect("a folder");
    let sim = baselines.path().join("simulator");
    std::fs::create_dir_all(&sim).expect("a folder");
    for e in std::fs::read_dir(common::root().join("reports/snapshots/simulator"))
        .expect("committed baselines")
        .flatten()
    {
        let text = std::fs::read_to_string(e.path()).expect("readable");
        std::fs::write(
            sim.join(e.file_name()),
            text.replace("\"invalid_client\"", "\"unauthorized_client\""),
        )
        .expect("writable");
    }
    let reports = tempfile::tempdir().expect("a folder");
    let run_with = |extra: &[&str]| {
        let b = baselines.path().display().to_string();
        let rep = reports.path().display().to_string();
        let mut args = vec![
            "run",
            "--tags",
            "@TK-08",
            "--snapshots",
            &b,
            "--report-dir",
            &rep,
            "--color",
            "never",
        ];
        args.extend_from_slice(extra);
        run(&args, Duration::from_secs(120)).0
    };
    let r = run_with(&[]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.contains("changed: TK-08 ")
            && r.stdout.contains("differs from the baseline TK-08-"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("invalid_client"), "{}", r.stdout);
    // The run says what changed, once, in its own words: no panic line, no insta summary, and
    // no `.snap.new` left among the baselines.
    for noise in [
        "internal error",
        "panicked",
        "Snapshot Summary",
        ".snap.new",
    ] {
        assert!(
            !r.stdout.contains(noise) && !r.stderr.contains(noise),
            "{noise}:\n{}\n{}",
            r.stdout,
            r.stderr
        );
    }
    let new_files: Vec<_> = std::fs::read_dir(&sim)
        .expect("the baselines")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".new"))
        .map(|e| e.file_name())
        .collect();
    assert!(new_files.is_empty(), "{new_files:?}");
    assert!(
        r.closing_line().contains(" changed), 0 failed,"),
        "{}",
        r.closing_line()
    );
    let r = run_with(&["--fail-on-drift"]);
    assert_eq!(r.code, Some(4), "{r:?}");
    assert!(
        r.stdout.contains("failed: TK-08 ") && !r.closing_line().contains(" 0 failed"),
        "{}",
        r.stdout
    );
}

#[test]
fn every_scenario_the_simulator_runs_has_a_committed_baseline() {
    let parsed = sfmc_oauth_conformance::runner::features::load(&common::root().join("features"))
        .expect("features");
    let dir = common::root().join("reports/snapshots/simulator");
    let missing: Vec<String> = sfmc_oauth_conformance::runner::features::checks(&parsed)
        .into_iter()
        .filter(|c| common::simulator_runs(&c.tags))
        .map(|c| sfmc_oauth_conformance::report::snapshot::name_for(&c.id, &c.title))
        .filter(|n| !dir.join(format!("{n}.snap")).is_file())
        .collect();
    assert!(
        missing.is_empty(),
        "run `cargo run -- run --accept`; missing: {missing:?}"
    );
}
