//! Reports of a run, all from one model ([`RunReport`]): `junit.xml` for CI systems,
//! `summary.md` for a ticket, `report.html` (self-contained, with evidence and screenshots),
//! `compliance.md` per requirement document for a security sign-off, and `findings.sarif`
//! (SARIF 2.1.0) for code-scanning dashboards. `cucumber.json` is cucumber's own writer.
//! Everything here is built from evidence that was redacted when it was captured.

pub mod advice;
pub mod history;
mod html;
pub mod snapshot;
mod text;

use crate::outcome::{
    FailureKind, ScenarioResult, Screenshot, Skipped, StepRecord, Tally, Verdict,
};
use serde::Serialize;
use std::path::{Path, PathBuf};

pub use html::html;
pub use text::{compliance_md, junit_xml, sarif, summary_md};

/// Everything the reports say about one run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub tool_version: String,
    /// How the reports name the target: `name (origin)`.
    pub target: String,
    /// The target's short name (its baselines' folder), by which runs are compared.
    pub target_name: String,
    /// `sfmc` or `oauth2`.
    pub dialect: String,
    /// The run's exit code, as documented (`exit::TABLE`).
    pub exit_code: u8,
    /// What changed since the previous run of the same target, when one is kept.
    pub previous: Option<history::Comparison>,
    /// UTC, RFC 3339.
    pub started: String,
    pub duration_secs: f64,
    pub results: Vec<ScenarioResult>,
    pub skipped: Vec<Skipped>,
    pub screenshots: Vec<Screenshot>,
    /// The run was interrupted (Ctrl-C or SIGTERM): the reports hold the scenarios that ended
    /// before it.
    pub interrupted: bool,
}

/// What the reports say of an interrupted run, at their top.
pub const INTERRUPTED_NOTE: &str =
    "Interrupted (Ctrl-C or SIGTERM): these reports hold only the scenarios that ended before it.";

impl RunReport {
    /// The report of a finished run.
    pub fn new(
        target: &str,
        started: String,
        duration_secs: f64,
        tally: &Tally,
        screenshots: Vec<Screenshot>,
    ) -> Self {
        let mut results = tally.results.clone();
        // By `file:line `name`` as text, as the reports have always been ordered.
        results.sort_by_cached_key(|r| r.location.to_string());
        Self {
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            target: target.to_owned(),
            target_name: target.to_owned(),
            dialect: String::new(),
            exit_code: tally.exit_code(),
            previous: None,
            started,
            duration_secs,
            results,
            skipped: tally.skipped.clone(),
            screenshots,
            interrupted: false,
        }
    }

    /// Adds each scenario's steps and their status from cucumber's JSON report (background steps
    /// first), matching scenarios by file and line.
    pub fn attach_steps(&mut self, cucumber_json: &str) {
        let Ok(serde_json::Value::Array(features)) = serde_json::from_str(cucumber_json) else {
            return;
        };
        let mut by_place = std::collections::HashMap::new();
        for f in &features {
            let uri = f["uri"].as_str().unwrap_or("");
            let mut background: Vec<StepRecord> = Vec::new();
            for e in f["elements"].as_array().into_iter().flatten() {
                let steps: Vec<StepRecord> = e["steps"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| StepRecord {
                        keyword: s["keyword"].as_str().unwrap_or("").trim().to_owned(),
                        text: s["name"].as_str().unwrap_or("").to_owned(),
                        status: s["result"]["status"].as_str().unwrap_or("").to_owned(),
                    })
                    .collect();
                if e["type"] == "background" {
                    background = steps;
                    continue;
                }
                let line = e["line"].as_u64().unwrap_or(0);
                let mut all = std::mem::take(&mut background);
                all.extend(steps);
                by_place.insert(format!("{uri}:{line}"), all);
            }
        }
        for r in &mut self.results {
            let place = format!("{}:{}", r.location.file, r.location.line);
            if let Some(steps) = by_place.remove(&place) {
                r.steps = steps;
            }
        }
    }

    pub fn count(&self, v: Verdict) -> usize {
        self.results.iter().filter(|r| r.verdict == v).count()
    }

    /// The run's verdict on the target, in words, from its exit code.
    /// A judged failure says the target does not conform, whatever else ended the run (an
    /// environment failure or an interrupt does not hide it); drift alone (`--fail-on-drift`)
    /// says it changed.
    pub fn verdict(&self) -> RunVerdict {
        let failed = self
            .results
            .iter()
            .any(|r| r.verdict == Verdict::Failed && is_judged(r) && !failed_by_drift(r));
        let drifted = self.results.iter().any(failed_by_drift);
        match self.exit_code {
            _ if failed => RunVerdict::DoesNotConform,
            crate::exit::SUCCESS => RunVerdict::Conforms,
            crate::exit::NONCONFORMANT if drifted => RunVerdict::Drifted,
            crate::exit::NONCONFORMANT => RunVerdict::DoesNotConform,
            _ => RunVerdict::NotTested,
        }
    }

    /// Why the run could not judge the target, when it could not.
    pub fn not_tested_because(&self) -> Option<String> {
        let errors = self
            .results
            .iter()
            .filter(|r| {
                r.failure.as_ref().is_some_and(|f| {
                    f.kind != FailureKind::Target && f.kind != FailureKind::NotApplicable
                })
            })
            .count();
        match self.exit_code {
            crate::exit::SUCCESS | crate::exit::NONCONFORMANT => None,
            crate::exit::INTERRUPTED => Some("the run was interrupted (Ctrl-C or SIGTERM)".into()),
            crate::exit::HARNESS => Some(format!(
                "a bug in sfmc-conformance ended {errors} scenario(s): nothing is known about them"
            )),
            crate::exit::FEATURE => {
                Some("a step matches no step definition: the features and the tool disagree".into())
            }
            _ => Some(format!(
                "the environment failed in {errors} scenario(s) (browser, driver, network): nothing is known about them"
            )),
        }
    }

    /// The counts the verdict line is followed by, in order: label, CSS class, count.
    pub fn counts(&self) -> Vec<(&'static str, &'static str, usize)> {
        let failed: Vec<&ScenarioResult> = self
            .results
            .iter()
            .filter(|r| r.verdict == Verdict::Failed && is_judged(r) && !failed_by_drift(r))
            .collect();
        let failed_must = failed.len();
        // A failed SHOULD (`--strict`) is a failure too: then the label does not say MUST.
        let failed_label = if failed
            .iter()
            .all(|r| r.check.level == Some(crate::outcome::Level::Must))
        {
            "failed (MUST)"
        } else {
            "failed"
        };
        let drifted = self.results.iter().filter(|r| failed_by_drift(r)).count();
        let errors = self
            .results
            .iter()
            .filter(|r| r.verdict == Verdict::Failed && !is_judged(r))
            .count();
        let mut out = vec![
            (failed_label, "failed", failed_must),
            ("warnings (SHOULD)", "warning", self.count(Verdict::Warning)),
            ("findings (PROBE)", "finding", self.count(Verdict::Finding)),
            ("notes (MAY)", "note", self.count(Verdict::Note)),
            (
                "passed",
                "passed",
                self.count(Verdict::Passed) + self.count(Verdict::Changed),
            ),
            (
                "not applicable",
                "na",
                self.skipped.iter().filter(|s| !s.gated).count(),
            ),
            (
                "not run (needs --intrusive or --slow)",
                "notrun",
                self.skipped.iter().filter(|s| s.gated).count(),
            ),
        ];
        if drifted > 0 {
            out.insert(
                1,
                (
                    "failed by baseline drift (--fail-on-drift)",
                    "changed",
                    drifted,
                ),
            );
        }
        if errors > 0 {
            out.insert(0, ("could not be judged", "error", errors));
        }
        out
    }
}

/// Whether a failed scenario's verdict is about the target (a check it did not meet), as
/// opposed to an environment failure or a harness error.
pub fn is_judged(r: &ScenarioResult) -> bool {
    r.failure
        .as_ref()
        .is_none_or(|f| f.kind == FailureKind::Target)
        && !r.undefined
}

/// The scenarios that drifted from their baselines, grouped by the same changed lines (a target
/// that adds one field to every callback changes a hundred baselines the same way), the
/// largest group first.
pub fn drift_groups(report: &RunReport) -> Vec<(&str, Vec<&ScenarioResult>)> {
    let mut groups: Vec<(&str, Vec<&ScenarioResult>)> = Vec::new();
    for r in &report.results {
        let Some(d) = &r.drift else { continue };
        match groups.iter_mut().find(|(diff, _)| *diff == d.diff.as_str()) {
            Some((_, rs)) => rs.push(r),
            None => groups.push((d.diff.as_str(), vec![r])),
        }
    }
    groups.sort_by_key(|(_, rs)| std::cmp::Reverse(rs.len()));
    groups
}

/// How the reports show a verdict: its word, CSS class and symbol (status is never shown by
/// colour alone).
pub fn status_of(v: Verdict) -> (&'static str, &'static str, &'static str) {
    match v {
        Verdict::Failed => ("failed", "failed", "✘"),
        Verdict::Warning => ("warning", "warning", "⚠"),
        Verdict::Finding => ("finding", "finding", "◆"),
        Verdict::Note => ("note", "note", "ℹ"),
        Verdict::Changed => ("changed", "changed", "Δ"),
        Verdict::Passed => ("passed", "passed", "✔"),
    }
}

/// The word, class and symbol of a scenario's result: its verdict's, or "could not be judged"
/// when the environment or the tool ended it.
pub fn status_of_result(r: &ScenarioResult) -> (&'static str, &'static str, &'static str) {
    if is_judged(r) {
        status_of(r.verdict)
    } else {
        NOT_JUDGED
    }
}

/// How the reports show a scenario the environment or the tool ended.
pub const NOT_JUDGED: (&str, &str, &str) = ("could not be judged", "error", "!");

/// The word, class and symbol of a scenario that was not run: not applicable, or gated.
pub fn status_of_skipped(s: &Skipped) -> (&'static str, &'static str, &'static str) {
    if s.gated {
        ("not run", "notrun", "⏸")
    } else {
        ("not applicable", "na", "–")
    }
}

/// Whether a scenario failed only because it differs from its baseline (`--fail-on-drift`):
/// a change, not non-conformance.
pub fn failed_by_drift(r: &ScenarioResult) -> bool {
    r.verdict == Verdict::Failed && r.drift.is_some() && r.failure.is_none() && !r.undefined
}

/// What a run concluded about its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunVerdict {
    Conforms,
    DoesNotConform,
    /// Every check was met, but the target differs from its baselines (`--fail-on-drift`).
    Drifted,
    NotTested,
}

impl RunVerdict {
    pub fn text(self) -> &'static str {
        match self {
            Self::Conforms => "Conforms",
            Self::DoesNotConform => "Does not conform",
            Self::Drifted => "Conforms, but differs from its baselines",
            Self::NotTested => "Could not be tested",
        }
    }

    /// The CSS class.
    pub fn class(self) -> &'static str {
        match self {
            Self::Conforms => "conforms",
            Self::DoesNotConform => "nonconformant",
            Self::Drifted => "untested",
            Self::NotTested => "untested",
        }
    }
}

/// The files a run wrote.
#[derive(Debug, Clone)]
pub struct RunFiles {
    pub dir: PathBuf,
    pub files: Vec<(String, u64)>,
}

/// Writes every report of `report` into `dir` (created if need be), with `cucumber_json` as
/// cucumber wrote it, and returns the files and their sizes.
pub fn write_run(dir: &Path, report: &RunReport) -> std::io::Result<RunFiles> {
    std::fs::create_dir_all(dir)?;
    let sarif = serde_json::to_string_pretty(&sarif(report)).unwrap_or_default();
    let kept = serde_json::to_string_pretty(&history::Kept::of(report)).unwrap_or_default();
    let files: [(&str, String); 6] = [
        (history::FILE, kept),
        ("junit.xml", junit_xml(report)),
        ("summary.md", summary_md(report)),
        ("compliance.md", compliance_md(report)),
        ("findings.sarif", sarif),
        ("report.html", html(report)),
    ];
    for (name, body) in &files {
        std::fs::write(dir.join(name), body)?;
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            out.push((
                entry.file_name().to_string_lossy().into_owned(),
                entry.metadata()?.len(),
            ));
        }
    }
    out.sort();
    Ok(RunFiles {
        dir: dir.to_owned(),
        files: out,
    })
}

/// A run's report folder while it runs: a new folder `runs/.<stamp>-<pid>-<n>.partial` under
/// `root` (never one that exists, so two runs at once never share one). It gets its final name
/// from [`publish_run_dir`] once every report is written.
pub fn start_run_dir(root: &Path, stamp: &str) -> std::io::Result<PathBuf> {
    let runs = root.join("runs");
    std::fs::create_dir_all(&runs)?;
    let pid = std::process::id();
    for n in 0.. {
        let dir = runs.join(format!(".{stamp}-{pid}-{n}.partial"));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("an unbounded range ends")
}

/// Renames a complete run folder to `runs/<stamp>`, or `runs/<stamp>-2`, `-3`, ... when another
/// run took that name in the same second, and returns the final path.
pub fn publish_run_dir(partial: &Path, root: &Path, stamp: &str) -> std::io::Result<PathBuf> {
    let runs = root.join("runs");
    for n in 1..1000 {
        let name = if n == 1 {
            stamp.to_owned()
        } else {
            format!("{stamp}-{n}")
        };
        let dir = runs.join(name);
        // A finished run's folder is never empty, so a rename onto one fails, and never
        // replaces it.
        if dir.symlink_metadata().is_ok() {
            continue;
        }
        match std::fs::rename(partial, &dir) {
            Ok(()) => return Ok(dir),
            Err(e) if dir.symlink_metadata().is_ok() => {
                let _ = e;
                continue;
            }
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(format!(
        "no free name for the run folder {stamp} under {}",
        runs.display()
    )))
}

/// Points `root/latest` at `dir`: a relative symlink made under a temporary name, then renamed
/// over the old one, so `latest` always names a complete run, even with two runs at once.
pub fn link_latest(root: &Path, dir: &Path) -> std::io::Result<()> {
    let target = dir.strip_prefix(root).unwrap_or(dir);
    let temporary = root.join(format!(".latest-{}", std::process::id()));
    let _ = std::fs::remove_file(&temporary);
    std::os::unix::fs::symlink(target, &temporary)?;
    std::fs::rename(&temporary, root.join("latest")).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

/// The UTC time now as `YYYY-MM-DDTHH-MM-SSZ` (a folder name) and RFC 3339.
pub fn utc_now() -> (String, String) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    (
        format!("{y:04}-{mo:02}-{d:02}T{h:02}-{m:02}-{s:02}Z"),
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}Z"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::Exchange;
    use crate::outcome::{Check, Location};

    /// A fixed run: one result of each verdict, with evidence, and one screenshot.
    fn fixed_run() -> RunReport {
        let exchange = Exchange {
            method: "POST".into(),
            url: "http://127.0.0.1:[port]/v2/token".into(),
            request_headers: vec![("Content-Type".into(), "application/json".into())],
            request_body: r#"{"client_secret":"[ClientSecret]","code":"[Code]"}"#.into(),
            status: Some(401),
            response_headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            response_body: r#"{"error":"invalid_client"}"#.into(),
        };
        let result =
            |check: &str, level: &str, req: &str, line: usize, verdict, msg: &str| ScenarioResult {
                check: Check {
                    id: check.into(),
                    requirement: req.into(),
                    level: level.parse().ok(),
                },
                location: Location {
                    file: "features/x.feature".into(),
                    line,
                    name: format!("{check} scenario"),
                },
                verdict,
                failure: None,
                undefined: false,
                drift: None,
                messages: if msg.is_empty() {
                    vec![]
                } else {
                    vec![msg.into()]
                },
                observations: vec![],
                evidence: vec![exchange.clone()],
                screenshots: vec![0],
                failing_shot: (verdict == Verdict::Failed).then_some(1),
                tags: vec![check.into(), level.into(), "web".into()],
                consulted: vec![],
                steps: vec![StepRecord {
                    keyword: "Then".into(),
                    text: format!("the {check} check holds"),
                    status: if verdict == Verdict::Failed {
                        "failed"
                    } else {
                        "passed"
                    }
                    .into(),
                }],
            };
        RunReport {
            tool_version: "0.0.0".into(),
            target: "simulator (http://127.0.0.1:[port])".into(),
            target_name: "simulator".into(),
            dialect: "sfmc".into(),
            exit_code: crate::exit::NONCONFORMANT,
            previous: None,
            started: "2026-01-01T00:00:00Z".into(),
            duration_secs: 1.5,
            interrupted: false,
            results: vec![
                result(
                    "TK-08",
                    "MUST",
                    "S-11",
                    3,
                    Verdict::Failed,
                    "[TK-08 S-11 MUST] status\n  expected: 401\n  actual:   200",
                ),
                result(
                    "TK-03",
                    "SHOULD",
                    "S-09",
                    9,
                    Verdict::Warning,
                    "[TK-03 S-09 SHOULD] revoked",
                ),
                result(
                    "PK-02",
                    "PROBE",
                    "S-19",
                    15,
                    Verdict::Finding,
                    "[PK-02 S-19 PROBE] PKCE ignored",
                ),
                result(
                    "AZ-09",
                    "MAY",
                    "RFC6749-3.1",
                    21,
                    Verdict::Note,
                    "[AZ-09] POST refused",
                ),
                result("TR-08", "MUST", "SFMC", 27, Verdict::Passed, ""),
            ],
            skipped: vec![Skipped {
                location: Location {
                    file: "features/x.feature".into(),
                    line: 33,
                    name: "TK-16 scenario".into(),
                },
                check: Check {
                    id: "TK-16".into(),
                    requirement: "S-01".into(),
                    level: Some(crate::outcome::Level::Must),
                },
                reason: "needs a live target reached over a network".into(),
                gated: false,
            }],
            screenshots: vec![
                Screenshot {
                    kind: crate::outcome::ShotKind::Login,
                    label: "login page".into(),
                    url: "http://127.0.0.1:[port]/login".into(),
                    png: vec![0x89, b'P', b'N', b'G'],
                },
                Screenshot {
                    kind: crate::outcome::ShotKind::Failing,
                    label: "the browser at the failing step".into(),
                    url: "https://127.0.0.1:80/cb?code=[masked]".into(),
                    png: vec![0x89, b'P', b'N', b'G', 1],
                },
            ],
        }
    }

    #[test]
    fn the_reports_of_a_fixed_run_keep_their_structure() {
        let r = fixed_run();
        insta::assert_snapshot!("junit", junit_xml(&r));
        insta::assert_snapshot!("summary", summary_md(&r));
        insta::assert_snapshot!("compliance", compliance_md(&r));
        insta::assert_json_snapshot!("sarif", sarif(&r));
        insta::assert_snapshot!("html", html(&r));
    }

    #[test]
    fn a_run_is_compared_with_the_newest_kept_run_of_the_same_target() {
        let now = fixed_run();
        let root = tempfile::tempdir().expect("a folder");
        let keep = |folder: &str, kept: &history::Kept| {
            let dir = root.path().join("runs").join(folder);
            std::fs::create_dir_all(&dir).expect("a folder");
            std::fs::write(
                dir.join(history::FILE),
                serde_json::to_string(kept).expect("JSON"),
            )
            .expect("written");
        };
        let mut before = history::Kept::of(&now);
        let set = |kept: &mut history::Kept, check: &str, v: Verdict| {
            for s in kept.scenarios.iter_mut().filter(|s| s.check == check) {
                s.verdict = v;
            }
        };
        set(&mut before, "TK-08", Verdict::Passed); // now failed: new
        set(&mut before, "TR-08", Verdict::Failed); // now passed: fixed
        set(&mut before, "AZ-09", Verdict::Passed); // now a note: another change
        before.started = "2025-12-31T00:00:00Z".into();
        keep("2025-12-31T00-00-00Z", &before);
        // An older run of the same target, and a newer one of another target or dialect: not
        // the one compared with.
        let mut older = history::Kept::of(&now);
        older.started = "2025-01-01T00:00:00Z".into();
        keep("2025-01-01T00-00-00Z", &older);
        let mut other = history::Kept::of(&now);
        other.started = "2026-06-01T00:00:00Z".into();
        other.target_name = "tenant".into();
        keep("2026-06-01T00-00-00Z", &other);
        let mut dialect = history::Kept::of(&now);
        dialect.started = "2026-06-02T00:00:00Z".into();
        dialect.dialect = "oauth2".into();
        keep("2026-06-02T00-00-00Z", &dialect);

        let (kept, folder) = history::previous(root.path(), &now).expect("a previous run");
        assert_eq!(folder, "2025-12-31T00-00-00Z");
        let c = history::compare(&now, &kept, &folder);
        let ids = |v: &[history::Change]| v.iter().map(|c| c.check.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&c.new_failures), ["TK-08"]);
        assert_eq!(ids(&c.fixed), ["TR-08"]);
        assert_eq!(ids(&c.other), ["AZ-09"]);
        // The same run again changes nothing.
        assert!(history::compare(&now, &history::Kept::of(&now), "x").is_empty());

        // A scenario the environment ended is not run: never a new failure, never a fix.
        let mut broken = now.clone();
        for r in broken.results.iter_mut().filter(|r| r.check.id == "TK-08") {
            r.failure = Some(crate::outcome::Failure::environment(&r.check, "no browser"));
        }
        let c = history::compare(&broken, &kept, &folder);
        assert!(c.new_failures.iter().all(|c| c.check != "TK-08"), "{c:?}");
        let was_broken = history::Kept::of(&broken);
        let c = history::compare(&now, &was_broken, &folder);
        assert_eq!(ids(&c.not_run_before), ["TK-08"], "{c:?}");
        assert!(c.fixed.is_empty() && c.new_failures.is_empty(), "{c:?}");
    }

    #[test]
    fn a_judged_failure_decides_the_verdict_whatever_else_ended_the_run() {
        let mut r = fixed_run();
        assert_eq!(r.verdict(), RunVerdict::DoesNotConform);
        // An environment failure elsewhere (exit 3) does not hide the failed MUST.
        r.exit_code = crate::exit::ENVIRONMENT;
        assert_eq!(r.verdict(), RunVerdict::DoesNotConform);
        assert!(r.not_tested_because().is_some());
        // Without it, the run could not be tested.
        r.results.retain(|x| x.verdict != Verdict::Failed);
        assert_eq!(r.verdict(), RunVerdict::NotTested);
        // Failed only by drift (--fail-on-drift): a change, not non-conformance.
        let mut d = fixed_run();
        for x in d
            .results
            .iter_mut()
            .filter(|x| x.verdict == Verdict::Failed)
        {
            x.drift = Some(crate::outcome::Drift {
                snapshot: "s".into(),
                diff: "+ x\n".into(),
            });
        }
        assert_eq!(d.verdict(), RunVerdict::Drifted);
        assert!(d
            .counts()
            .iter()
            .any(|(l, _, n)| l.contains("drift") && *n == 1));
        assert!(d
            .counts()
            .iter()
            .any(|(l, _, n)| l.starts_with("failed") && *n == 0));
    }

    #[test]
    fn utc_now_has_the_folder_and_rfc3339_shapes() {
        let (folder, rfc) = utc_now();
        assert_eq!(folder.len(), 20, "{folder}");
        assert!(rfc.ends_with('Z') && rfc.contains('T'), "{rfc}");
        assert!(!folder.contains(':'));
    }
}
