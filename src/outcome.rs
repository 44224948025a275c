//! The outcome model: what a run concluded, as the runner produces it and every report reads it.
//! A scenario implements a [`Check`] (id, requirement, [`Level`]); its steps may raise a
//! [`Failure`] or record [`Judgement`]s; when it ends the runner hands over a
//! [`ScenarioRecord`], which [`ScenarioResult::judge`] turns into a verdict. A [`Tally`] holds
//! the results of a run and knows its closing line and exit code.
//!
//! This module depends on nothing but the evidence types and the exit codes, so the runner (which
//! produces outcomes) and the reports (which read them) do not depend on each other.

use crate::evidence::Exchange;
use crate::exit;
use serde::Serialize;
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

/// An RFC 2119 requirement level, as a scenario's tag names it (`@MUST`), plus `PROBE` for checks
/// that record what a target does where the specifications leave it open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Must,
    Should,
    May,
    Probe,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Must, Level::Should, Level::May, Level::Probe];

    /// The tag text (`MUST`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Must => "MUST",
            Self::Should => "SHOULD",
            Self::May => "MAY",
            Self::Probe => "PROBE",
        }
    }

    /// The level a tag list names, if any.
    pub fn of_tags<S: AsRef<str>>(tags: &[S]) -> Option<Level> {
        tags.iter().find_map(|t| t.as_ref().parse().ok())
    }

    /// What a check that was not met at this level concludes: a MUST fails; a SHOULD warns (fails
    /// when `strict`); a PROBE reports a finding; a MAY a note.
    pub fn unmet(level: Option<Level>, strict: bool) -> Verdict {
        match level {
            Some(Level::Should) if !strict => Verdict::Warning,
            Some(Level::Probe) => Verdict::Finding,
            Some(Level::May) => Verdict::Note,
            _ => Verdict::Failed,
        }
    }
}

/// A word that is not a requirement level.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`{0}` is not a requirement level (MUST, SHOULD, MAY, PROBE)")]
pub struct UnknownLevel(pub String);

impl FromStr for Level {
    type Err = UnknownLevel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| UnknownLevel(s.to_owned()))
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The check a scenario implements, from its tags: `@RU-01 @req:S-08 @MUST`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `RU-01`, or empty for a scenario without a check id.
    pub id: String,
    /// The requirement tag (`S-08`, `RFC6749-3.3`, `SFMC`), or empty.
    pub requirement: String,
    pub level: Option<Level>,
}

impl Check {
    /// The check named by a scenario's tags (without `@`).
    pub fn from_tags<S: AsRef<str>>(tags: &[S]) -> Self {
        Check {
            id: check_id(tags).unwrap_or("").to_owned(),
            requirement: tags
                .iter()
                .find_map(|t| t.as_ref().strip_prefix("req:"))
                .unwrap_or("")
                .to_owned(),
            level: Level::of_tags(tags),
        }
    }

    /// The level as text, empty when the scenario names none.
    pub fn level_text(&self) -> &'static str {
        self.level.map_or("", Level::as_str)
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{} {} {}]",
            self.id,
            self.requirement,
            self.level_text()
        )
    }
}

/// The check id of a tag list (`RU-01`: two capitals, a dash, two digits), if it has one.
pub fn check_id<S: AsRef<str>>(tags: &[S]) -> Option<&str> {
    tags.iter().map(AsRef::as_ref).find(|t| {
        let b = t.as_bytes();
        b.len() == 5
            && b[0].is_ascii_uppercase()
            && b[1].is_ascii_uppercase()
            && b[2] == b'-'
            && b[3].is_ascii_digit()
            && b[4].is_ascii_digit()
    })
}

/// Where a scenario is: its feature file (relative to the working directory), line and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    /// The scenario's name, as cucumber expands it for an outline's example row.
    pub name: String,
}

impl fmt::Display for Location {
    /// `file:line `name``, as every report and message shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} `{}`", self.file, self.line, self.name)
    }
}

/// What a scenario concluded about its check (RFC 2119 levels, as the OpenID Foundation suite
/// reports them: a failed SHOULD is a warning, a PROBE reports what it saw).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Passed,
    /// The check passed, but what the target did differs from its baseline snapshot (a
    /// failure with `--fail-on-drift`).
    Changed,
    /// A MAY check that was not met, or a PROBE observation that is not a weakness.
    Note,
    /// A PROBE that observed a known weakness.
    Finding,
    /// A SHOULD check that was not met (a failure with `--strict`).
    Warning,
    Failed,
}

/// Who is to blame for a failed step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureKind {
    /// The target did not do what the check requires.
    Target,
    /// The browser, the driver or the network failed: nothing is known about the target (exit 3).
    Environment,
    /// The scenario cannot go on: a step was used out of order.
    Scenario,
    /// A bug in sfmc-conformance: a step's code panicked. Nothing is known about the target
    /// (exit 5).
    Harness,
    /// The target lacks something the check needs (a second app, a registered URI with a query,
    /// a power only the simulator has): the check is not applicable, never failed.
    NotApplicable,
}

/// A failed step: the check, what was checked, expected against actual, and the redacted
/// evidence, so a reviewer can act on it without rerunning. Built redacted: no field holds a
/// secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub kind: FailureKind,
    /// Boxed: a step's `Result` stays small.
    pub check: Box<Check>,
    /// What was checked (`token endpoint status`), or the whole message of a scenario failure.
    pub what: String,
    pub expected: String,
    pub actual: String,
    /// The evidence, as text (the last token exchange, where the browser ended).
    pub evidence: String,
}

impl Failure {
    /// The target did not meet the check.
    pub fn target(
        check: &Check,
        what: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
        evidence: impl Into<String>,
    ) -> Self {
        Self {
            kind: FailureKind::Target,
            check: Box::new(check.clone()),
            what: what.into(),
            expected: crate::evidence::capped(expected.into(), crate::evidence::SHOWN_BYTES),
            actual: crate::evidence::capped(actual.into(), crate::evidence::SHOWN_BYTES),
            // An exchange's request and response bodies are capped each; headers are not.
            evidence: crate::evidence::capped(evidence.into(), 8 * crate::evidence::SHOWN_BYTES),
        }
    }

    /// A bug in the harness: `cause` says where a step panicked and why.
    pub fn harness(check: &Check, cause: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Harness,
            ..Self::environment(check, cause)
        }
    }

    /// The environment failed (`cause` already redacted).
    pub fn environment(check: &Check, cause: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Environment,
            check: Box::new(check.clone()),
            what: cause.into(),
            expected: String::new(),
            actual: String::new(),
            evidence: String::new(),
        }
    }

    /// The check does not apply to this target, for a `reason` the user can act on.
    pub fn not_applicable(check: &Check, reason: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::NotApplicable,
            what: reason.into(),
            ..Self::environment(check, "")
        }
    }

    /// The scenario cannot go on (a step out of order).
    pub fn scenario(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Scenario,
            check: Box::default(),
            what: message.into(),
            expected: String::new(),
            actual: String::new(),
            evidence: String::new(),
        }
    }
}

/// The texts failures have been shown as (at most [`MAX_SHOWN`]). A step that returns a failure
/// reaches cucumber as a panic with this text; a panic whose text is not here is a bug in step
/// code ([`was_returned`]).
static SHOWN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
const MAX_SHOWN: usize = 100_000;

/// Whether `text` is how a [`Failure`] was shown: a step returned it, as opposed to panicking.
pub fn was_returned(text: &str) -> bool {
    let shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner());
    shown.as_ref().is_some_and(|s| s.contains(text))
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.text();
        let mut shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner());
        let set = shown.get_or_insert_with(HashSet::new);
        if set.len() < MAX_SHOWN {
            set.insert(text.clone());
        }
        drop(shown);
        f.write_str(&text)
    }
}

impl Failure {
    fn text(&self) -> String {
        match self.kind {
            FailureKind::Target => format!(
                "{} {}\n  expected: {}\n  actual:   {}{}",
                self.check, self.what, self.expected, self.actual, self.evidence
            ),
            FailureKind::Environment => {
                format!("{} environment failure: {}", self.check, self.what)
            }
            FailureKind::Harness => format!(
                "{} harness error (a bug in sfmc-conformance, not a verdict): {}",
                self.check, self.what
            ),
            FailureKind::Scenario => self.what.clone(),
            FailureKind::NotApplicable => format!("not applicable: {}", self.what),
        }
    }
}

impl std::error::Error for Failure {}

/// A check that was not met but does not fail the scenario (a warning, finding or note).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Judgement {
    pub verdict: Verdict,
    pub message: String,
}

/// What a screenshot shows, which decides where the report shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShotKind {
    /// The target's login page.
    Login,
    /// The local catcher's page at a redirect URI: what reached it.
    Callback,
    /// Any other page the target showed.
    Page,
    /// The browser at a step that did not meet its check.
    Failing,
}

/// A screenshot the browser took, shared by the scenarios that showed the same page.
#[derive(Debug, Clone, Serialize)]
pub struct Screenshot {
    /// What the page was (`login page`, `error page`, `callback`).
    pub label: String,
    /// The page's URL with credentials masked.
    pub url: String,
    pub kind: ShotKind,
    #[serde(skip)]
    pub png: Vec<u8>,
}

/// What a scenario saw of the target, masked, from which its baseline snapshot is made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// The authorize URL the browser was sent to.
    pub authorize_url: Option<String>,
    /// Where the browser ended.
    pub landed_url: Option<String>,
    /// The state the scenario chose (a generated one is not kept: it differs every run).
    pub chosen_state: Option<String>,
}

/// How cucumber says a scenario ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Every step passed.
    Passed,
    /// A step matches no step definition.
    Undefined,
    /// A step failed. Cucumber carries the failure as text: `message` as cucumber shows it,
    /// `cause` the text the step failed with (a [`Failure`]'s `Display`), when there is one.
    StepFailed {
        message: String,
        cause: Option<String>,
        /// Where a step's code panicked (`file:line`): a bug in the harness, not a verdict.
        bug: Option<String>,
    },
    /// The before hook failed.
    HookFailed,
}

/// Everything a scenario left behind when it ended, before any verdict: what the runner hands
/// over for judging.
#[derive(Debug, Clone)]
pub struct ScenarioRecord {
    pub check: Check,
    pub location: Location,
    pub ending: Ending,
    /// The failures the scenario's steps raised, typed (cucumber keeps only their text).
    pub raised: Vec<Failure>,
    pub judgements: Vec<Judgement>,
    pub observations: Vec<String>,
    pub observed: Observed,
    pub evidence: Vec<Exchange>,
    pub screenshots: Vec<usize>,
    /// The screenshot taken when the scenario ended on a check that was not met: the browser as
    /// the failing step left it.
    pub failing_shot: Option<usize>,
    /// The simulator's faults the scenario consulted, by name (empty against a live target).
    pub consulted: Vec<String>,
    /// The feature's name, and the scenario's own tags (for cucumber's JSON of an interrupted
    /// run, which cucumber itself never writes).
    pub feature: String,
    pub tags: Vec<String>,
    /// Its steps, background first, each as it ran or `skipped`.
    pub steps: Vec<StepRun>,
}

/// One step of a scenario: how it ended, or `skipped` when it never ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRun {
    /// `Given`, `When`, `Then`, `And`, `But`.
    pub keyword: String,
    pub text: String,
    pub line: usize,
    /// `passed`, `failed` or `skipped`.
    pub status: &'static str,
    /// What a failed step said.
    pub error: Option<String>,
    pub duration: std::time::Duration,
}

/// The scenario differs from its baseline snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// The snapshot's name (`RU-01-…-1a2b3c4d`).
    pub snapshot: String,
    /// The changed lines, `-` before and `+` now.
    pub diff: String,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the target's behaviour differs from the baseline {}.snap:\n{}",
            self.snapshot, self.diff
        )
    }
}

/// One step as cucumber reported it.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub keyword: String,
    pub text: String,
    /// `passed`, `failed`, `skipped`, ...
    pub status: String,
}

/// The outcome of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub check: Check,
    pub location: Location,
    pub verdict: Verdict,
    /// Why the scenario failed, when a step failed it.
    pub failure: Option<Failure>,
    /// Set when a step matches no step definition.
    pub undefined: bool,
    /// Set when the scenario passed but differs from its baseline.
    pub drift: Option<Drift>,
    /// Failure, warning, finding and note messages, redacted.
    pub messages: Vec<String>,
    /// What a PROBE observed.
    pub observations: Vec<String>,
    /// The scenario's HTTP exchanges, redacted.
    pub evidence: Vec<Exchange>,
    /// Indices of the run's screenshots this scenario showed.
    pub screenshots: Vec<usize>,
    /// The screenshot of the browser at the step that did not meet the check, if the scenario
    /// used the browser.
    pub failing_shot: Option<usize>,
    /// The scenario's own tags (`RU-01`, `MUST`, `browser`, ...), without `@`.
    pub tags: Vec<String>,
    /// The scenario's steps with their status, from cucumber's JSON report.
    pub steps: Vec<StepRecord>,
    /// The simulator's faults the scenario consulted, by name: a fault it did not consult
    /// cannot have changed it (the mutation matrix selects a fault's scenarios by this).
    pub consulted: Vec<String>,
}

impl ScenarioResult {
    /// The verdict on a scenario: the worst of its judgements, or failed when a step failed.
    /// A check the target failed that stopped the scenario concludes by its level, like any
    /// unmet check (a MAY that could not go on is a note; `strict` makes a SHOULD fail).
    pub fn judge(record: ScenarioRecord, strict: bool) -> Self {
        let ScenarioRecord {
            check,
            location,
            ending,
            raised,
            judgements,
            observations,
            observed: _,
            evidence,
            screenshots,
            failing_shot,
            consulted,
            tags,
            ..
        } = record;
        let mut verdict = judgements
            .iter()
            .map(|j| j.verdict)
            .max()
            .unwrap_or(Verdict::Passed);
        let mut messages: Vec<String> = judgements.into_iter().map(|j| j.message).collect();
        let mut failure = None;
        let mut undefined = false;
        match ending {
            Ending::Passed => {}
            Ending::Undefined => {
                verdict = Verdict::Failed;
                undefined = true;
                messages.push("a step matches no step definition".into());
            }
            Ending::StepFailed {
                message,
                cause,
                bug: Some(site),
            } => {
                // A bug in the harness: never a pass, never a verdict about the target.
                let cause = cause.unwrap_or(message);
                let f = Failure::harness(
                    &check,
                    format!("the step defined at {site} crashed: {cause}"),
                );
                verdict = Verdict::Failed;
                messages.push(f.to_string());
                failure = Some(f);
            }
            Ending::StepFailed { message, cause, .. } => {
                // The step's own failure, typed, when the World made it; else (a step that could
                // not go on, or a panic) the text, as a failure of the scenario.
                let cause = cause.unwrap_or_else(|| message.clone());
                let mut f = raised
                    .into_iter()
                    .rev()
                    .find(|f| f.to_string() == cause)
                    .unwrap_or_else(|| Failure::scenario(cause));
                if f.check.id.is_empty() {
                    f.check = Box::new(check.clone());
                }
                verdict = match f.kind {
                    FailureKind::Target => verdict.max(Level::unmet(check.level, strict)),
                    _ => Verdict::Failed,
                };
                failure = Some(f);
                messages.push(message);
            }
            Ending::HookFailed => {
                // The scenario could not start (its World, its canary): nothing was asked of the
                // target, so no verdict about it.
                let f = Failure::environment(
                    &check,
                    "the scenario could not start (its before hook failed)",
                );
                verdict = Verdict::Failed;
                messages.push(f.to_string());
                failure = Some(f);
            }
        }
        Self {
            check,
            location,
            verdict,
            failure,
            undefined,
            drift: None,
            messages,
            observations,
            evidence,
            screenshots,
            failing_shot,
            tags,
            steps: Vec::new(),
            consulted,
        }
    }

    /// A scenario that differs from its baseline: "changed" (a passed check stays met; a
    /// warning, finding or note keeps its verdict), or failed with `fail_on_drift`. Drift is not
    /// non-conformance: the baseline records what a target did, not what it must do.
    pub fn drifted(&mut self, drift: Drift, fail_on_drift: bool) {
        if fail_on_drift {
            self.verdict = Verdict::Failed;
        } else if self.verdict == Verdict::Passed {
            self.verdict = Verdict::Changed;
        }
        self.messages.insert(0, drift.to_string());
        self.drift = Some(drift);
    }

    /// Why the check does not apply to the target, if a step found out that it does not.
    pub fn not_applicable(&self) -> Option<&str> {
        self.failure
            .as_ref()
            .filter(|f| f.kind == FailureKind::NotApplicable)
            .map(|f| f.what.as_str())
    }

    /// The environment's failure, if one ended the scenario.
    pub fn environment_failure(&self) -> Option<&Failure> {
        self.failure
            .as_ref()
            .filter(|f| f.kind == FailureKind::Environment)
    }
}

/// A selected scenario that was not run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub location: Location,
    /// The check the scenario implements.
    pub check: Check,
    pub reason: String,
    /// Not run only because the user did not allow it (`--intrusive`, `--slow`), as opposed to
    /// not applicable to this target.
    pub gated: bool,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)
    }
}

/// The outcomes of a run.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Every scenario that ran, in the order they finished.
    pub results: Vec<ScenarioResult>,
    /// Scenarios selected but not run against this target, with why.
    pub skipped: Vec<Skipped>,
}

impl Tally {
    /// Scenarios that passed (warnings, findings and notes included).
    pub fn passed(&self) -> usize {
        self.results.len() - self.failed()
    }

    pub fn failed(&self) -> usize {
        self.with_verdict(Verdict::Failed).count()
    }

    /// Results with the given verdict.
    pub fn with_verdict(&self, v: Verdict) -> impl Iterator<Item = &ScenarioResult> {
        self.results.iter().filter(move |r| r.verdict == v)
    }

    /// Scenarios with a step that matches no definition.
    pub fn undefined(&self) -> impl Iterator<Item = &ScenarioResult> {
        self.results.iter().filter(|r| r.undefined)
    }

    /// Scenarios a bug in the harness ended, with the failure.
    pub fn harness(&self) -> impl Iterator<Item = (&ScenarioResult, &Failure)> {
        self.results.iter().filter_map(|r| {
            r.failure
                .as_ref()
                .filter(|f| f.kind == FailureKind::Harness)
                .map(|f| (r, f))
        })
    }

    /// Scenarios the environment failed, with the failure.
    pub fn environment(&self) -> impl Iterator<Item = (&ScenarioResult, &Failure)> {
        self.results
            .iter()
            .filter_map(|r| r.environment_failure().map(|f| (r, f)))
    }

    /// The check ids whose scenarios did not pass cleanly (failed, warning, finding or note).
    pub fn tripped_checks(&self) -> std::collections::BTreeSet<String> {
        self.results
            .iter()
            .filter(|r| r.verdict != Verdict::Passed)
            .map(|r| r.check.id.clone())
            .collect()
    }

    /// The documented exit code for these outcomes.
    pub fn exit_code(&self) -> u8 {
        if self.undefined().next().is_some() {
            exit::FEATURE
        } else if self.harness().next().is_some() {
            exit::HARNESS
        } else if self.environment().next().is_some() {
            exit::ENVIRONMENT
        } else if self.failed() > 0 {
            exit::NONCONFORMANT
        } else {
            exit::SUCCESS
        }
    }

    /// The closing line, counted in scenarios.
    pub fn closing_line(&self) -> String {
        let changed = self.with_verdict(Verdict::Changed).count();
        let changed = if changed > 0 {
            format!(" ({changed} changed)")
        } else {
            String::new()
        };
        format!(
            "{} passed{changed}, {} failed, {} skipped",
            self.passed(),
            self.failed(),
            self.skipped.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(ending: Ending, raised: Vec<Failure>, judgements: Vec<Judgement>) -> ScenarioRecord {
        ScenarioRecord {
            check: Check::from_tags(&["TK-08", "req:S-11", "MUST", "web"]),
            location: Location {
                file: "features/x.feature".into(),
                line: 3,
                name: "a scenario".into(),
            },
            ending,
            raised,
            judgements,
            observations: vec![],
            observed: Observed::default(),
            evidence: vec![],
            screenshots: vec![],
            failing_shot: None,
            consulted: vec![],
            feature: String::new(),
            tags: vec![],
            steps: vec![],
        }
    }

    #[test]
    fn a_check_reads_its_id_requirement_and_level_from_the_tags() {
        let c = Check::from_tags(&["browser", "TK-08", "req:S-11", "SHOULD"]);
        assert_eq!(c.id, "TK-08");
        assert_eq!(c.requirement, "S-11");
        assert_eq!(c.level, Some(Level::Should));
        assert_eq!(c.to_string(), "[TK-08 S-11 SHOULD]");
        assert_eq!(Check::default().to_string(), "[  ]");
        assert!("must".parse::<Level>().is_err());
    }

    #[test]
    fn an_unmet_check_concludes_by_its_level() {
        assert_eq!(Level::unmet(Some(Level::Must), false), Verdict::Failed);
        assert_eq!(Level::unmet(Some(Level::Should), false), Verdict::Warning);
        assert_eq!(Level::unmet(Some(Level::Should), true), Verdict::Failed);
        assert_eq!(Level::unmet(Some(Level::Probe), false), Verdict::Finding);
        assert_eq!(Level::unmet(Some(Level::May), true), Verdict::Note);
        assert_eq!(Level::unmet(None, false), Verdict::Failed);
    }

    #[test]
    fn a_target_failure_shows_check_expected_actual_and_evidence() {
        let c = Check::from_tags(&["TK-08", "req:S-11", "MUST"]);
        let f = Failure::target(&c, "token endpoint status", "200", "401", "\n  evidence");
        assert_eq!(
            f.to_string(),
            "[TK-08 S-11 MUST] token endpoint status\n  expected: 200\n  actual:   401\n  evidence"
        );
        assert_eq!(
            Failure::environment(&c, "no browser").to_string(),
            "[TK-08 S-11 MUST] environment failure: no browser"
        );
    }

    #[test]
    fn a_failed_step_is_judged_with_its_typed_failure() {
        let c = Check::from_tags(&["TK-08", "req:S-11", "MUST"]);
        let env = Failure::environment(&c, "the browser died");
        let r = ScenarioResult::judge(
            record(
                Ending::StepFailed {
                    message: format!("Step panicked. Captured output: {env}"),
                    cause: Some(env.to_string()),
                    bug: None,
                },
                vec![env.clone()],
                vec![],
            ),
            false,
        );
        assert_eq!(r.verdict, Verdict::Failed);
        assert_eq!(r.environment_failure(), Some(&env));
        assert_eq!(
            r.messages,
            vec![format!("Step panicked. Captured output: {env}")]
        );
        let panic = ScenarioResult::judge(
            record(
                Ending::StepFailed {
                    message: "boom".into(),
                    cause: None,
                    bug: None,
                },
                vec![],
                vec![],
            ),
            false,
        );
        let f = panic.failure.expect("a failure");
        assert_eq!(f.kind, FailureKind::Scenario);
        assert_eq!(f.check.id, "TK-08", "the scenario's check");
        let bug = ScenarioResult::judge(
            record(
                Ending::StepFailed {
                    message: "index out of bounds".into(),
                    cause: Some("index out of bounds".into()),
                    bug: Some("src/runner/steps/token.rs:1".into()),
                },
                vec![],
                vec![],
            ),
            false,
        );
        assert_eq!(bug.verdict, Verdict::Failed, "never a pass");
        let f = bug.failure.as_ref().expect("a failure");
        assert_eq!(f.kind, FailureKind::Harness);
        let tally = Tally {
            results: vec![bug],
            skipped: vec![],
        };
        assert_eq!(tally.exit_code(), exit::HARNESS);
    }

    #[test]
    fn a_check_that_stopped_its_scenario_concludes_by_its_level() {
        let stopped = |level: &str, strict: bool| {
            let c = Check::from_tags(&["AZ-09", "req:RFC6749-3.1", level]);
            let f = Failure::target(&c, "the callback", "a code", "an error page", "");
            ScenarioResult::judge(
                ScenarioRecord {
                    check: c.clone(),
                    ..record(
                        Ending::StepFailed {
                            message: format!("Step panicked. Captured output: {f}"),
                            cause: Some(f.to_string()),
                            bug: None,
                        },
                        vec![f.clone()],
                        vec![],
                    )
                },
                strict,
            )
            .verdict
        };
        assert_eq!(stopped("MAY", false), Verdict::Note);
        assert_eq!(stopped("PROBE", false), Verdict::Finding);
        assert_eq!(stopped("SHOULD", false), Verdict::Warning);
        assert_eq!(stopped("SHOULD", true), Verdict::Failed);
        assert_eq!(stopped("MUST", false), Verdict::Failed);
    }

    #[test]
    fn the_tally_counts_scenarios_and_picks_the_exit_code() {
        let warn = Judgement {
            verdict: Verdict::Warning,
            message: "w".into(),
        };
        let mut t = Tally::default();
        t.results.push(ScenarioResult::judge(
            record(Ending::Passed, vec![], vec![warn]),
            false,
        ));
        assert_eq!(t.closing_line(), "1 passed, 0 failed, 0 skipped");
        assert_eq!(t.exit_code(), exit::SUCCESS);
        let drift = Drift {
            snapshot: "s".into(),
            diff: "- a\n+ b\n".into(),
        };
        // Drift is its own verdict, not a failure, unless the run asks for that.
        t.results.push(ScenarioResult::judge(
            record(Ending::Passed, vec![], vec![]),
            false,
        ));
        t.results[1].drifted(drift.clone(), false);
        assert_eq!(t.results[1].verdict, Verdict::Changed);
        assert_eq!(t.results[0].verdict, Verdict::Warning);
        assert_eq!(
            t.closing_line(),
            "2 passed (1 changed), 0 failed, 0 skipped"
        );
        assert_eq!(t.exit_code(), exit::SUCCESS);
        t.results.remove(1);
        t.results[0].drifted(drift, true);
        assert_eq!(t.closing_line(), "0 passed, 1 failed, 0 skipped");
        assert_eq!(t.exit_code(), exit::NONCONFORMANT);
        t.results.push(ScenarioResult::judge(
            record(Ending::Undefined, vec![], vec![]),
            false,
        ));
        assert_eq!(t.exit_code(), exit::FEATURE);
    }
}
