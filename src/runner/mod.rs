//! The cucumber glue and the run itself. The World, parameters and steps live here, next to the
//! runner; what they do lives in the library modules they call. Hooks only hand out and take back
//! infrastructure (the browser) and count outcomes.

mod aux;
pub mod features;
pub mod params;
mod steps;
pub mod world;

use crate::browser::BrowserPool;
use crate::exit;
use crate::http::TokenClient;
use crate::target::Target;
pub use aux::Aux;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;
use cucumber::{event, writer, World as _, WriterExt as _};
use futures::FutureExt as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
pub use world::{OAuthWorld, Verdict};

/// What one run needs to know.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub features: PathBuf,
    /// A cucumber tag expression, already checked to parse.
    pub tags: Option<String>,
    pub name: Option<regex::Regex>,
    pub concurrency: usize,
    pub fail_fast: bool,
    pub color: bool,
    /// Print nothing (the mutation matrix runs the suite many times).
    pub quiet: bool,
    /// Where cucumber writes its standard JSON report, if anywhere.
    pub cucumber_json: Option<PathBuf>,
}

/// The outcome of one scenario.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScenarioResult {
    /// The check id (`RU-01`), or empty for a scenario without one.
    pub check: String,
    pub level: String,
    /// `file:line `name``.
    pub location: String,
    pub verdict: Verdict,
    /// The requirement tag (`S-08`, `RFC6749-3.3`, `SFMC`).
    pub requirement: String,
    /// Failure, warning, finding and note messages, redacted.
    pub messages: Vec<String>,
    /// What a PROBE observed.
    pub observations: Vec<String>,
    /// The scenario's HTTP exchanges, redacted.
    pub evidence: Vec<crate::evidence::Exchange>,
    /// Indices of the run's screenshots this scenario showed.
    pub screenshots: Vec<usize>,
    /// The scenario's steps with their status, from cucumber's JSON report.
    pub steps: Vec<StepRecord>,
}

/// One step as cucumber reported it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StepRecord {
    pub keyword: String,
    pub text: String,
    /// `passed`, `failed`, `skipped`, ...
    pub status: String,
}

/// Scenario outcomes, counted by the after hook.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Every scenario that ran, in the order they finished.
    pub results: Vec<ScenarioResult>,
    /// `file:line name` of scenarios failed by the environment, with the cause.
    pub environment: Vec<String>,
    /// `file:line name` of scenarios with a step that matches no definition.
    pub undefined: Vec<String>,
    /// `file:line name` of scenarios skipped because the target lacks a capability, with why.
    pub unsupported: Vec<String>,
}

impl Tally {
    /// Results with the given verdict.
    pub fn with_verdict(&self, v: Verdict) -> impl Iterator<Item = &ScenarioResult> {
        self.results.iter().filter(move |r| r.verdict == v)
    }

    /// The check ids whose scenarios did not pass cleanly (failed, warning, finding or note).
    pub fn tripped_checks(&self) -> std::collections::BTreeSet<String> {
        self.results
            .iter()
            .filter(|r| r.verdict != Verdict::Passed)
            .map(|r| r.check.clone())
            .collect()
    }

    /// The documented exit code for these outcomes.
    pub fn exit_code(&self) -> u8 {
        if !self.undefined.is_empty() {
            exit::FEATURE
        } else if !self.environment.is_empty() {
            exit::ENVIRONMENT
        } else if self.failed > 0 {
            exit::NONCONFORMANT
        } else {
            exit::SUCCESS
        }
    }

    /// The closing line, counted in scenarios.
    pub fn closing_line(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
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
    /// The canary listener and the page server.
    pub aux: Aux,
    /// Whether scenarios keep screenshots of the pages they show.
    pub screenshots: bool,
    /// Where this target's baseline snapshots live, if they are compared.
    pub baselines: Option<PathBuf>,
    /// The screenshots kept so far, one per distinct page.
    pub shots: Mutex<Vec<(String, crate::report::Screenshot)>>,
    pub tally: Mutex<Tally>,
}

impl Context {
    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn shots(&self) -> std::sync::MutexGuard<'_, Vec<(String, crate::report::Screenshot)>> {
        self.shots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The index of the screenshot of the page `key`, if one was kept.
    pub fn shot_index(&self, key: &str) -> Option<usize> {
        self.shots().iter().position(|(k, _)| k == key)
    }

    /// Keeps a screenshot and returns its index.
    pub fn add_shot(&self, key: String, shot: crate::report::Screenshot) -> usize {
        let mut shots = self.shots();
        shots.push((key, shot));
        shots.len() - 1
    }

    /// Every screenshot kept, in order.
    pub fn screenshots(&self) -> Vec<crate::report::Screenshot> {
        self.shots().iter().map(|(_, s)| s.clone()).collect()
    }
}

/// The context of the run in progress, read by [`OAuthWorld::new`] (cucumber's World
/// constructor takes no arguments).
static CURRENT: Mutex<Option<Arc<Context>>> = Mutex::new(None);

pub(crate) fn current_context() -> Option<Arc<Context>> {
    CURRENT.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

fn location(
    feature: &cucumber::gherkin::Feature,
    scenario: &cucumber::gherkin::Scenario,
) -> String {
    let file = feature
        .path
        .as_ref()
        .map(|p| features::display_path(p))
        .unwrap_or_else(|| feature.name.clone());
    format!("{file}:{} `{}`", scenario.position.line, scenario.name)
}

/// Runs the selected scenarios of `opts.features` against the context's target.
pub async fn run(ctx: Arc<Context>, opts: &RunOptions, plan: &features::Plan) -> Tally {
    *CURRENT.lock().unwrap_or_else(|p| p.into_inner()) = Some(ctx.clone());
    {
        let mut t = ctx.tally();
        t.skipped += plan.unsupported.len();
        t.unsupported.extend(plan.unsupported.iter().cloned());
    }
    let after_ctx = ctx.clone();
    let selection = plan.selection.clone();
    let coloring = if opts.color {
        writer::Coloring::Auto
    } else {
        writer::Coloring::Never
    };
    let cli = cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty> {
        re_filter: opts.name.clone(),
        runner: cucumber::runner::basic::Cli {
            concurrency: Some(opts.concurrency.max(1)),
            fail_fast: opts.fail_fast,
            ..Default::default()
        },
        ..Default::default()
    };
    OAuthWorld::cucumber()
        .max_concurrent_scenarios(opts.concurrency.max(1))
        .before(|_, _, scenario, world| async move { world.begin(scenario) }.boxed_local())
        .after(move |feature, _, scenario, finished, world| {
            let ctx = after_ctx.clone();
            let here = location(feature, scenario);
            let title = scenario.name.clone();
            async move {
                let (end, check) = match world {
                    Some(w) => {
                        let check = w.check.clone();
                        (w.end().await, check)
                    }
                    None => (world::ScenarioEnd::default(), world::Check::default()),
                };
                let world::ScenarioEnd {
                    observation,
                    environment: env,
                    judgements,
                    observations,
                    evidence,
                    shots,
                } = end;
                let mut t = ctx.tally();
                let mut verdict = judgements
                    .iter()
                    .map(|j| j.verdict)
                    .max()
                    .unwrap_or(Verdict::Passed);
                let mut messages: Vec<String> = judgements.into_iter().map(|j| j.message).collect();
                match finished {
                    event::ScenarioFinished::StepPassed => t.passed += 1,
                    event::ScenarioFinished::StepSkipped
                    | event::ScenarioFinished::StepFailed(_, _, event::StepError::NotFound) => {
                        t.failed += 1;
                        verdict = Verdict::Failed;
                        messages.push("a step matches no step definition".into());
                        t.undefined.push(here.clone());
                    }
                    event::ScenarioFinished::StepFailed(_, _, err) => {
                        t.failed += 1;
                        verdict = Verdict::Failed;
                        messages.push(err.to_string());
                        if let Some(cause) = env {
                            t.environment.push(format!("{here}: {cause}"));
                        }
                    }
                    event::ScenarioFinished::BeforeHookFailed(_) => {
                        t.failed += 1;
                        verdict = Verdict::Failed;
                    }
                }
                if let (
                    Some(dir),
                    Verdict::Passed | Verdict::Note | Verdict::Warning | Verdict::Finding,
                ) = (&ctx.baselines, verdict)
                {
                    let name = crate::report::snapshot::name_for(&check.id, &title);
                    match crate::report::snapshot::baseline(dir, &name, &observation) {
                        crate::report::snapshot::Baseline::Same => {}
                        crate::report::snapshot::Baseline::Missing => {
                            messages.push(format!(
                                "no baseline {name}.snap yet: run with --accept to record one"
                            ));
                        }
                        crate::report::snapshot::Baseline::Drift(diff) => {
                            t.passed = t.passed.saturating_sub(1);
                            t.failed += 1;
                            verdict = Verdict::Failed;
                            messages.push(diff);
                        }
                    }
                }
                t.results.push(ScenarioResult {
                    check: check.id,
                    level: check.level,
                    requirement: check.requirement,
                    location: here,
                    verdict,
                    messages,
                    observations,
                    evidence,
                    screenshots: shots,
                    steps: Vec::new(),
                });
            }
            .boxed_local()
        })
        .with_writer(
            writer::Basic::raw(output(opts.quiet), coloring, 0)
                .summarized()
                .tee::<OAuthWorld, _>(writer::Json::for_tee(json_output(
                    opts.cucumber_json.as_deref(),
                )))
                .normalized(),
        )
        .fail_on_skipped()
        .with_cli(cli)
        .filter_run(opts.features.clone(), move |feature, rule, scenario| {
            let tags = feature
                .tags
                .iter()
                .chain(rule.iter().flat_map(|r| r.tags.iter()))
                .chain(scenario.tags.iter());
            selection.eval(tags.clone())
        })
        .await;
    *CURRENT.lock().unwrap_or_else(|p| p.into_inner()) = None;
    let t = ctx.tally().clone();
    t
}

fn json_output(path: Option<&std::path::Path>) -> Box<dyn std::io::Write> {
    match path.and_then(|p| std::fs::File::create(p).ok()) {
        Some(f) => Box::new(std::io::BufWriter::new(f)),
        None => Box::new(std::io::sink()),
    }
}

fn output(quiet: bool) -> Box<dyn std::io::Write> {
    if quiet {
        Box::new(std::io::sink())
    } else {
        Box::new(std::io::stdout())
    }
}

/// The tag expression a run evaluates: the user's `--tags`, minus what the target cannot run.
pub fn selection(user: Option<&str>, target: &Target) -> Result<TagOperation, String> {
    let capability = capability_filter(target);
    let text = match user {
        Some(u) => format!("({u}) and {capability}"),
        None => capability.to_owned(),
    };
    text.parse().map_err(|e| {
        format!(
            "--tags `{}` is not a tag expression: {e}",
            user.unwrap_or("")
        )
    })
}

/// The scenarios a target can run: only the simulator can run `@simulator` scenarios, and only a
/// live target `@live-only` ones. Against a live target `@intrusive` checks (bursts, replays)
/// stay off.
pub fn capability_filter(target: &Target) -> &'static str {
    if target.simulator().is_some() {
        "not @live-only"
    } else {
        "not @simulator and not @intrusive"
    }
}

/// Runs every feature under `features` against a fresh simulator with `faults`, quietly, using
/// `browsers` (shared between runs). The mutation matrix calls this once per fault.
pub async fn run_against_simulator(
    faults: crate::simulator::Faults,
    browsers: Option<Arc<BrowserPool>>,
    features: &std::path::Path,
) -> Result<Tally, String> {
    let parsed = features::load(features).map_err(|e| e.to_string())?;
    let sim = crate::simulator::Simulator::start(
        0,
        crate::simulator::SimConfig {
            registry: crate::simulator::Registry::builtin(),
            faults,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    let target = Target::simulator_target(Arc::new(sim))?;
    let selection = selection(None, &target)?;
    let plan = features::plan(&parsed, None, None, selection, capability_filter(&target));
    let ctx = Arc::new(Context {
        http: TokenClient::new(true).map_err(|e| e.to_string())?,
        target,
        browsers,
        strict: false,
        aux: Aux::start().await,
        screenshots: false,
        baselines: None,
        shots: Mutex::new(Vec::new()),
        tally: Mutex::new(Tally::default()),
    });
    let opts = RunOptions {
        features: features.to_owned(),
        tags: None,
        name: None,
        concurrency: 2,
        fail_fast: false,
        color: false,
        quiet: true,
        cucumber_json: None,
    };
    Ok(run(ctx, &opts, &plan).await)
}
