//! The cucumber glue: the World, parameters, steps and hooks, and [`run`], which runs the planned
//! scenarios against a [`Context`] and hands back one [`ScenarioRecord`] per scenario. What the
//! steps do lives in the library modules they call; verdicts, baselines and reports are the
//! session's (`crate::session`). Hooks only hand out and take back infrastructure (the browser)
//! and pass on what each scenario left behind.

mod aux;
mod canary;
pub mod features;
mod limits;
pub mod params;
mod steps;
pub mod world;

use crate::browser::BrowserPool;
use crate::http::TokenClient;
use crate::outcome::{Ending, Location, ScenarioRecord, Screenshot};
use crate::target::Target;
pub use aux::Aux;
use cucumber::{event, writer, WriterExt as _};
use futures::FutureExt as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
pub use world::OAuthWorld;

/// How cucumber runs the scenarios.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub features: PathBuf,
    /// The scenarios to run: the user's tags and the target's capabilities.
    pub selection: features::Selection,
    pub name: Option<regex::Regex>,
    /// Only these scenarios, when given (the mutation matrix runs a fault's row on the
    /// scenarios that consulted the fault).
    pub only: Option<Arc<std::collections::HashSet<Location>>>,
    pub concurrency: usize,
    pub fail_fast: bool,
    pub color: bool,
    /// Print nothing (the mutation matrix runs the suite many times).
    pub quiet: bool,
    /// Where cucumber writes its standard JSON report, if anywhere.
    pub cucumber_json: Option<PathBuf>,
    /// Which scenarios of the selection this pass runs.
    pub pass: features::Pass,
}

/// Everything a scenario shares with the others in one run.
#[derive(Debug)]
pub struct Context {
    pub target: Target,
    /// Shared, so that several runs (the mutation matrix) reuse the same browsers.
    pub browsers: Option<Arc<BrowserPool>>,
    pub http: TokenClient,
    /// A failed SHOULD fails the run.
    pub strict: bool,
    /// The page server of other-origin pages.
    pub aux: Aux,
    /// Whether scenarios keep screenshots of the pages they show.
    pub screenshots: bool,
    /// The screenshots kept so far, one per distinct page.
    shots: Mutex<Vec<(String, Screenshot)>>,
    /// What each scenario left behind, in the order they ended.
    records: Mutex<Vec<ScenarioRecord>>,
    /// A login failed: no scenario signs in again.
    pub login_failed: std::sync::atomic::AtomicBool,
    /// Why cucumber's JSON report could not be written (a full disk), if it could not.
    pub json_failed: Arc<Mutex<Option<String>>>,
    /// The step and scenario limits (the request and page-load limits are the client's and the
    /// browsers').
    pub timeouts: crate::timeouts::Timeouts,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Context {
    pub fn new(
        target: Target,
        browsers: Option<Arc<BrowserPool>>,
        http: TokenClient,
        strict: bool,
        aux: Aux,
        screenshots: bool,
    ) -> Self {
        Self {
            target,
            browsers,
            http,
            strict,
            aux,
            screenshots,
            shots: Mutex::new(Vec::new()),
            records: Mutex::new(Vec::new()),
            login_failed: std::sync::atomic::AtomicBool::new(false),
            json_failed: Arc::default(),
            timeouts: crate::timeouts::Timeouts::default(),
        }
    }

    /// The same context with the step and scenario limits of `timeouts`.
    pub fn with_timeouts(mut self, timeouts: crate::timeouts::Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Whether the browsers keep a persistent profile (`--browser-profile`): its login session
    /// is the user's and is never cleared.
    pub fn persistent_profile(&self) -> bool {
        self.browsers
            .as_ref()
            .is_some_and(|p| p.persistent_profile())
    }

    /// The index of the screenshot of the page `key`, if one was kept.
    pub fn shot_index(&self, key: &str) -> Option<usize> {
        lock(&self.shots).iter().position(|(k, _)| k == key)
    }

    /// Keeps a screenshot and returns its index.
    pub fn add_shot(&self, key: String, shot: Screenshot) -> usize {
        let mut shots = lock(&self.shots);
        shots.push((key, shot));
        shots.len() - 1
    }

    /// How many screenshots are kept.
    pub fn shot_count(&self) -> usize {
        lock(&self.shots).len()
    }

    /// Every screenshot kept, in order.
    pub fn screenshots(&self) -> Vec<Screenshot> {
        lock(&self.shots).iter().map(|(_, s)| s.clone()).collect()
    }
}

tokio::task_local! {
    /// The context of the run this task is running. Cucumber's World constructor takes no
    /// arguments, and cucumber polls every scenario inside [`run`]'s future, so a task-local
    /// scoped to that future reaches each World; two runs in one process each see their own.
    static RUN: Arc<Context>;
}

/// The context of the run in progress, read by [`OAuthWorld::new`].
pub(crate) fn current_context() -> Option<Arc<Context>> {
    RUN.try_with(Arc::clone).ok()
}

fn location(
    feature: &cucumber::gherkin::Feature,
    scenario: &cucumber::gherkin::Scenario,
) -> Location {
    Location {
        file: feature
            .path
            .as_ref()
            .map(|p| features::display_path(p))
            .unwrap_or_else(|| feature.name.clone()),
        line: scenario.position.line,
        name: scenario.name.clone(),
    }
}

/// How cucumber says a scenario ended.
fn ending(finished: &event::ScenarioFinished) -> Ending {
    match finished {
        event::ScenarioFinished::StepPassed => Ending::Passed,
        event::ScenarioFinished::StepSkipped
        | event::ScenarioFinished::StepFailed(_, _, event::StepError::NotFound) => {
            Ending::Undefined
        }
        event::ScenarioFinished::StepFailed(_, step, err) => {
            let cause = match err {
                event::StepError::Panic(info) => info
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| info.downcast_ref::<&str>().map(|s| (*s).to_owned())),
                _ => None,
            };
            // A step that returns a failure panics with its text (cucumber's doing); any other
            // panic is a bug in the step's code.
            let bug = match (&cause, step) {
                (Some(text), Some(step)) if !crate::outcome::was_returned(text) => {
                    Some(format!("{}:{}", step.path, step.line))
                }
                _ => None,
            };
            Ending::StepFailed {
                message: err.to_string(),
                cause,
                bug,
            }
        }
        event::ScenarioFinished::BeforeHookFailed(_) => Ending::HookFailed,
    }
}

/// Runs the selected scenarios of `opts.features` against the context's target, and returns
/// what each scenario left behind, in the order they ended.
pub async fn run(ctx: Arc<Context>, opts: &RunOptions) -> Vec<ScenarioRecord> {
    RUN.scope(ctx.clone(), run_scoped(ctx.clone(), opts)).await;
    std::mem::take(&mut *lock(&ctx.records))
}

/// What the scenarios that ended so far left behind (after an interrupted [`run`]).
pub fn take_records(ctx: &Context) -> Vec<ScenarioRecord> {
    std::mem::take(&mut *lock(&ctx.records))
}

/// Hands `records` (an earlier pass's) back, to be returned with the next pass's, or taken by
/// [`take_records`] should the run be interrupted.
pub fn put_back(ctx: &Context, mut records: Vec<ScenarioRecord>) {
    let mut held = lock(&ctx.records);
    records.append(&mut held);
    *held = records;
}

/// Cucumber's JSON report of `records`, in its format (one feature per file, in the order the
/// records came; a scenario's background steps inline). Cucumber writes its own only when the
/// run ends; an interrupted run's is made from what ended before it.
pub fn cucumber_json(records: &[ScenarioRecord]) -> serde_json::Value {
    use serde_json::json;
    let slug = |s: &str| s.to_lowercase().replace(' ', "-");
    let mut features: Vec<(String, String, Vec<serde_json::Value>)> = Vec::new();
    for r in records {
        let steps: Vec<_> = r
            .steps
            .iter()
            .map(|s| {
                let mut result = json!({
                    "status": s.status,
                    "duration": u64::try_from(s.duration.as_nanos()).unwrap_or(u64::MAX),
                });
                if let Some(e) = &s.error {
                    result["error_message"] = json!(e);
                }
                json!({"keyword": format!("{} ", s.keyword), "line": s.line, "name": s.text, "result": result})
            })
            .collect();
        let element = json!({
            "keyword": "Scenario",
            "type": "scenario",
            "id": format!("{};{}", slug(&r.feature), slug(&r.location.name)),
            "line": r.location.line,
            "name": r.location.name,
            "description": "",
            "tags": r.tags.iter().map(|t| json!({"name": format!("@{t}"), "line": r.location.line.saturating_sub(1)})).collect::<Vec<_>>(),
            "steps": steps,
        });
        match features
            .iter_mut()
            .find(|(uri, ..)| *uri == r.location.file)
        {
            Some((.., elements)) => elements.push(element),
            None => features.push((r.location.file.clone(), r.feature.clone(), vec![element])),
        }
    }
    serde_json::Value::Array(
        features
            .into_iter()
            .map(|(uri, name, elements)| {
                json!({"uri": uri, "id": slug(&name), "keyword": "Feature", "name": name, "line": 1, "description": "", "tags": [], "elements": elements})
            })
            .collect(),
    )
}

async fn run_scoped(ctx: Arc<Context>, opts: &RunOptions) {
    let selection = opts.selection.clone();
    let json_failed = ctx.json_failed.clone();
    let pass = opts.pass;
    let coloring = if opts.color {
        writer::Coloring::Auto
    } else {
        writer::Coloring::Never
    };
    // `--name` is applied with the tags in `filter_run` below: cucumber's own name filter would
    // replace that filter, not narrow it.
    let name = opts.name.clone();
    let only = opts.only.clone();
    let cli = cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty> {
        runner: cucumber::runner::basic::Cli {
            concurrency: Some(opts.concurrency.max(1)),
            fail_fast: opts.fail_fast,
            ..Default::default()
        },
        ..Default::default()
    };
    cucumber::Cucumber::new()
        .steps(limits::bounded_steps())
        .max_concurrent_scenarios(opts.concurrency.max(1))
        .which_scenario(move |feature, rule, scenario| {
            let serial = feature
                .tags
                .iter()
                .chain(rule.iter().flat_map(|r| r.tags.iter()))
                .chain(scenario.tags.iter())
                .any(|t| t == "serial");
            // Against a live target the waiting scenarios wait in real time, on nothing shared:
            // they run together (`@serial` guards the simulator's clock, which they do not move).
            if serial && pass != features::Pass::WaitingTogether {
                cucumber::runner::ScenarioType::Serial
            } else {
                cucumber::runner::ScenarioType::Concurrent
            }
        })
        .before(|_, _, scenario, world| async move { world.begin(scenario) }.boxed_local())
        .after(move |feature, rule, scenario, finished, world| {
            let ctx = ctx.clone();
            let location = location(feature, scenario);
            let ending = ending(finished);
            let feature_name = feature.name.clone();
            let tags = scenario.tags.clone();
            async move {
                let (check, steps, end) = match world {
                    Some(w) => {
                        let steps = limits::steps_of(feature, rule, scenario, w.ran());
                        (w.check.clone(), steps, w.end().await)
                    }
                    None => (
                        Default::default(),
                        limits::steps_of(feature, rule, scenario, &[]),
                        Default::default(),
                    ),
                };
                lock(&ctx.records).push(ScenarioRecord {
                    check,
                    location,
                    ending,
                    raised: end.raised,
                    judgements: end.judgements,
                    observations: end.observations,
                    observed: end.observed,
                    evidence: end.evidence,
                    screenshots: end.screenshots,
                    failing_shot: end.failing_shot,
                    consulted: end.consulted,
                    feature: feature_name,
                    tags,
                    steps,
                });
            }
            .boxed_local()
        })
        .with_writer(
            writer::Basic::raw(output(opts.quiet), coloring, 0)
                .summarized()
                .tee::<OAuthWorld, _>(writer::Json::for_tee(json_output(
                    opts.cucumber_json.as_deref(),
                    json_failed,
                )))
                .normalized(),
        )
        .fail_on_skipped()
        .with_cli(cli)
        .filter_run(opts.features.clone(), move |feature, rule, scenario| {
            let tags: Vec<String> = feature
                .tags
                .iter()
                .chain(rule.iter().flat_map(|r| r.tags.iter()))
                .chain(scenario.tags.iter())
                .cloned()
                .collect();
            selection.runs(&tags)
                && pass.takes(&tags)
                && name.as_ref().is_none_or(|n| n.is_match(&scenario.name))
                && only
                    .as_ref()
                    .is_none_or(|o| o.contains(&location(feature, scenario)))
        })
        .await;
}

/// Where cucumber writes its JSON report. Cucumber panics when a write fails; this writer
/// records the failure instead (the session then ends the run with exit 3, nothing half-written
/// kept), and ignores what follows.
fn json_output(
    path: Option<&std::path::Path>,
    failed: Arc<Mutex<Option<String>>>,
) -> Box<dyn std::io::Write> {
    let Some(path) = path else {
        return Box::new(std::io::sink());
    };
    match std::fs::File::create(path) {
        Ok(f) => Box::new(Recorded {
            inner: std::io::BufWriter::new(f),
            failed,
        }),
        Err(e) => {
            *lock(&failed) = Some(format!("{}: {e}", path.display()));
            Box::new(std::io::sink())
        }
    }
}

/// A writer whose first failure is recorded, and which then takes everything without writing.
struct Recorded<W> {
    inner: W,
    failed: Arc<Mutex<Option<String>>>,
}

impl<W: std::io::Write> Recorded<W> {
    /// Runs `op` on the inner writer unless an earlier write failed; records its failure.
    fn unless_failed(&mut self, op: impl FnOnce(&mut W) -> std::io::Result<()>) {
        if lock(&self.failed).is_none() {
            if let Err(e) = op(&mut self.inner) {
                *lock(&self.failed) = Some(e.to_string());
            }
        }
    }
}

impl<W: std::io::Write> std::io::Write for Recorded<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.unless_failed(|w| w.write_all(buf));
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.unless_failed(std::io::Write::flush);
        Ok(())
    }
}

fn output(quiet: bool) -> Box<dyn std::io::Write> {
    if quiet {
        Box::new(std::io::sink())
    } else {
        Box::new(crate::out::Worded::new(crate::out::Stdout))
    }
}
