//! What changed since the previous run of the same target. Each run folder keeps `run.json`:
//! the target, the start time and every scenario's verdict (no evidence, nothing secret). The
//! next run against the same target and dialect reads the newest one under the same report root
//! and compares.

use super::RunReport;
use crate::outcome::Verdict;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The file each run folder keeps for the next run to compare with.
pub const FILE: &str = "run.json";

/// What a run keeps of itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Kept {
    pub target_name: String,
    pub dialect: String,
    pub target: String,
    pub started: String,
    pub exit_code: u8,
    pub scenarios: Vec<KeptScenario>,
}

/// One scenario's verdict, as a run keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeptScenario {
    pub check: String,
    /// `file:line `name``.
    pub location: String,
    pub verdict: Verdict,
}

impl Kept {
    pub fn of(report: &RunReport) -> Self {
        Self {
            target_name: report.target_name.clone(),
            dialect: report.dialect.clone(),
            target: report.target.clone(),
            started: report.started.clone(),
            exit_code: report.exit_code,
            scenarios: report
                .results
                .iter()
                .map(|r| KeptScenario {
                    check: r.check.id.clone(),
                    location: r.location.to_string(),
                    verdict: r.verdict,
                })
                .collect(),
        }
    }
}

/// One scenario whose verdict changed.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub check: String,
    pub location: String,
    /// None: the scenario was not in the previous run.
    pub before: Option<Verdict>,
    pub now: Verdict,
}

/// This run against the previous run of the same target.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// When the previous run started (RFC 3339), and its folder's name.
    pub previous_started: String,
    pub previous_folder: String,
    pub previous_exit_code: u8,
    /// Scenarios that did not meet their check (failed, warning, finding) and did before, or
    /// were not run before.
    pub new_failures: Vec<Change>,
    /// Scenarios that did not meet their check before and meet it now.
    pub fixed: Vec<Change>,
    /// Other changes of verdict (a note that came or went, say).
    pub other: Vec<Change>,
    /// Scenarios of the previous run not run this time.
    pub gone: usize,
}

impl Comparison {
    pub fn is_empty(&self) -> bool {
        self.new_failures.is_empty() && self.fixed.is_empty() && self.other.is_empty()
    }
}

/// Whether a verdict says the check was not met in a way the reports list as a failure.
fn unmet(v: Verdict) -> bool {
    matches!(v, Verdict::Failed | Verdict::Warning | Verdict::Finding)
}

/// Compares `report` with `previous`.
pub fn compare(report: &RunReport, previous: &Kept, folder: &str) -> Comparison {
    let before: BTreeMap<&str, Verdict> = previous
        .scenarios
        .iter()
        .map(|s| (s.location.as_str(), s.verdict))
        .collect();
    let mut c = Comparison {
        previous_started: previous.started.clone(),
        previous_folder: folder.to_owned(),
        previous_exit_code: previous.exit_code,
        new_failures: Vec::new(),
        fixed: Vec::new(),
        other: Vec::new(),
        gone: 0,
    };
    let mut seen = std::collections::HashSet::new();
    for r in &report.results {
        let location = r.location.to_string();
        let was = before.get(location.as_str()).copied();
        seen.insert(location.clone());
        // Changed is "passed, and differs from the baseline": the same as passed here; its
        // lines are shown with the baseline drift.
        let same = |a: Verdict, b: Verdict| {
            let norm = |v| {
                if v == Verdict::Changed {
                    Verdict::Passed
                } else {
                    v
                }
            };
            norm(a) == norm(b)
        };
        if was.is_some_and(|w| same(w, r.verdict)) {
            continue;
        }
        let change = Change {
            check: r.check.id.clone(),
            location,
            before: was,
            now: r.verdict,
        };
        match (was, unmet(r.verdict)) {
            (_, true) if !was.is_some_and(|w| unmet(w) && w >= r.verdict) => {
                c.new_failures.push(change)
            }
            (Some(w), false) if unmet(w) => c.fixed.push(change),
            (Some(_), _) => c.other.push(change),
            // New scenarios that pass are not news.
            (None, _) => {}
        }
    }
    c.gone = before.keys().filter(|k| !seen.contains(**k)).count();
    c
}

/// The newest run kept under `root/runs` for the same target and dialect, with its folder name.
pub fn previous(root: &Path, report: &RunReport) -> Option<(Kept, String)> {
    let mut best: Option<(Kept, String)> = None;
    for entry in std::fs::read_dir(root.join("runs")).ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path().join(FILE)) else {
            continue;
        };
        let Ok(kept) = serde_json::from_str::<Kept>(&text) else {
            continue;
        };
        if kept.target_name != report.target_name || kept.dialect != report.dialect {
            continue;
        }
        let newer = best
            .as_ref()
            .is_none_or(|(b, bn)| (&kept.started, &name) > (&b.started, bn));
        if newer {
            best = Some((kept, name));
        }
    }
    best
}
