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
    /// The scenario's name: with the check id, what matches it to the next run's (lines move
    /// when a feature file is edited).
    #[serde(default)]
    pub name: String,
    pub verdict: Verdict,
    /// Whether the verdict is about the target; false when the environment or the tool ended
    /// the scenario (then it counts as not run).
    #[serde(default = "yes")]
    pub judged: bool,
}

fn yes() -> bool {
    true
}

impl KeptScenario {
    fn key(&self) -> String {
        format!("{} {}", self.check, self.name)
    }
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
                    name: r.location.name.clone(),
                    verdict: r.verdict,
                    judged: super::is_judged(r) || r.verdict != Verdict::Failed,
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
    /// Scenarios that did not meet their check (failed, warning, finding) and met it before
    /// (or did so less badly: a warning that is now a failure).
    pub new_failures: Vec<Change>,
    /// Scenarios that did not meet their check and were not run (or not judged) last time.
    pub not_run_before: Vec<Change>,
    /// Scenarios that did not meet their check before and meet it now.
    pub fixed: Vec<Change>,
    /// Other changes of verdict (a note that came or went, say).
    pub other: Vec<Change>,
    /// Scenarios of the previous run not run this time.
    pub gone: usize,
}

impl Comparison {
    pub fn is_empty(&self) -> bool {
        self.new_failures.is_empty()
            && self.not_run_before.is_empty()
            && self.fixed.is_empty()
            && self.other.is_empty()
    }
}

/// Whether a verdict says the check was not met in a way the reports list as a failure.
fn unmet(v: Verdict) -> bool {
    matches!(v, Verdict::Failed | Verdict::Warning | Verdict::Finding)
}

/// Compares `report` with `previous`. Scenarios are matched by check id and name; a scenario
/// the environment or the tool ended (in either run) is not run, so it is never a new failure
/// nor a fix.
pub fn compare(report: &RunReport, previous: &Kept, folder: &str) -> Comparison {
    let before: BTreeMap<String, Verdict> = previous
        .scenarios
        .iter()
        .filter(|s| s.judged)
        .map(|s| (s.key(), s.verdict))
        .collect();
    let mut c = Comparison {
        previous_started: previous.started.clone(),
        previous_folder: folder.to_owned(),
        previous_exit_code: previous.exit_code,
        new_failures: Vec::new(),
        not_run_before: Vec::new(),
        fixed: Vec::new(),
        other: Vec::new(),
        gone: 0,
    };
    // Changed is "passed, and differs from the baseline": the same as passed here; its lines
    // are shown with the baseline drift.
    let norm = |v| {
        if v == Verdict::Changed {
            Verdict::Passed
        } else {
            v
        }
    };
    let mut seen = std::collections::HashSet::new();
    for r in &report.results {
        let key = format!("{} {}", r.check.id, r.location.name);
        let was = before.get(&key).copied();
        seen.insert(key);
        if !super::is_judged(r) || was.is_some_and(|w| norm(w) == norm(r.verdict)) {
            continue;
        }
        let change = Change {
            check: r.check.id.clone(),
            location: r.location.to_string(),
            before: was,
            now: r.verdict,
        };
        match was {
            None if unmet(r.verdict) => c.not_run_before.push(change),
            // New scenarios that meet their check are not news.
            None => {}
            Some(w) if unmet(r.verdict) && !(unmet(w) && w >= r.verdict) => {
                c.new_failures.push(change)
            }
            Some(w) if unmet(w) && !unmet(r.verdict) => c.fixed.push(change),
            Some(_) => c.other.push(change),
        }
    }
    c.gone = before.keys().filter(|k| !seen.contains(*k)).count();
    c
}

/// Runs that cannot be compared with: interrupted, or ended by a usage error, a feature that
/// does not parse, or a bug in the tool.
fn comparable(exit_code: u8) -> bool {
    matches!(
        exit_code,
        crate::exit::SUCCESS | crate::exit::NONCONFORMANT | crate::exit::ENVIRONMENT
    )
}

/// The newest run kept under `root/runs` for the same target and dialect, with its folder name.
/// Run folders are named by their UTC start time, so the newest comes first in reverse name
/// order, and only the runs newer than the match are read.
pub fn previous(root: &Path, report: &RunReport) -> Option<(Kept, String)> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("runs"))
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort_unstable_by(|a, b| b.cmp(a));
    names.into_iter().find_map(|name| {
        let text = std::fs::read_to_string(root.join("runs").join(&name).join(FILE)).ok()?;
        let kept = serde_json::from_str::<Kept>(&text).ok()?;
        (kept.target_name == report.target_name
            && kept.dialect == report.dialect
            && comparable(kept.exit_code))
        .then_some((kept, name))
    })
}
