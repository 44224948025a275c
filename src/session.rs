//! One run session, in four explicit phases, each a type:
//!
//! 1. [`Session::prepare`] reads the feature files, checks the user's filters and the target's
//!    description, and plans which scenarios run (nothing is started yet);
//! 2. [`Prepared::start`] starts the target (the embedded simulator), ChromeDriver and the
//!    browser pool (only when a planned scenario needs the browser), the HTTP client and the
//!    helper servers;
//! 3. [`Started::run`] runs the scenarios, and stops the browsers and the driver on every way
//!    out (the end, an error, an interruption);
//! 4. [`Finished::finish`] judges each scenario, compares it with its baseline, writes the
//!    reports and prints the summary.
//!
//! `run`, `list` and the mutation matrix all go through it. A session holds all of its state:
//! two sessions in one process are independent.

use crate::browser::{driver, BrowserConfig, BrowserPool, ChromeDriver, DriverError};
use crate::exit::{self, Exit};
use crate::http::{HttpError, TokenClient};
use crate::outcome::{ScenarioRecord, ScenarioResult, Skipped, Tally, Verdict};
use crate::report::snapshot::{self, Baseline, Baselines};
use crate::runner::features::{self, FeatureError, Plan, TagError};
use crate::runner::{self, Aux, Context, RunOptions};
use crate::simulator::registry::{ConfigError, Registry};
use crate::simulator::{Fault, Faults, SimConfig, SimError, Simulator, UnknownFault, Variation};
use crate::target::file::TargetFile;
use crate::target::{Target, TargetError};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// What the session tests.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    /// The embedded simulator, started on a loopback `port` (0: any free port), with an
    /// integrations file (default: the built-in set), faults and allowed variations by name.
    Simulator {
        port: u16,
        integrations: Option<PathBuf>,
        faults: Vec<String>,
        variations: Vec<String>,
    },
    /// A live target described by a target file (`run --target FILE`): a tenant, another
    /// server, or the simulator run on its own by `mock`.
    File(PathBuf),
}

/// Where the browsers come from.
#[derive(Debug, Clone)]
pub enum Browsers {
    /// Start ChromeDriver (or use a WebDriver server already running) when a planned scenario
    /// needs the browser, and stop it when the run ends.
    Start {
        /// A WebDriver server to use instead of starting ChromeDriver.
        webdriver: Option<String>,
        /// The ChromeDriver binary (default: on PATH, then /usr/bin/chromedriver).
        chromedriver: Option<PathBuf>,
        /// The Chromium binary.
        chrome: PathBuf,
        /// A persistent Chromium profile (`--browser-profile`); scenarios then run one at a
        /// time.
        profile: Option<PathBuf>,
    },
    /// Browsers another owner started and stops (the mutation matrix shares one pool).
    Shared(Arc<BrowserPool>),
}

/// Everything a session is asked to do.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The folder of `.feature` files.
    pub features: PathBuf,
    /// A cucumber tag expression.
    pub tags: Option<String>,
    /// A regular expression scenario names must match.
    pub name: Option<String>,
    /// Only these scenarios, when given (the mutation matrix's selection for a fault's row).
    pub only: Option<Arc<std::collections::HashSet<crate::outcome::Location>>>,
    /// Scenarios at once (default: 2 against the embedded simulator, the target file's
    /// `concurrency`, 1, against a live target).
    pub concurrency: Option<usize>,
    /// Run `@intrusive` scenarios against a live target.
    pub intrusive: bool,
    /// Run `@slow` scenarios against a live target (they wait in real time).
    pub slow: bool,
    pub fail_fast: bool,
    /// A failed SHOULD fails the run.
    pub strict: bool,
    /// A scenario that differs from its baseline fails (CI's simulator runs); otherwise it is
    /// "changed".
    pub fail_on_drift: bool,
    pub target: TargetSpec,
    pub browsers: Browsers,
    /// Where baseline snapshots live (`<dir>/<target name>/`) and whether they are compared or
    /// recorded; `None`: no baselines.
    pub baselines: Option<(PathBuf, snapshot::Mode)>,
    /// Where reports go (`<dir>/runs/<UTC>/`, `<dir>/latest`); `None`: no reports.
    pub reports: Option<PathBuf>,
    /// Keep screenshots of the pages the browser showed (for the reports).
    pub screenshots: bool,
    /// Colour cucumber's progress output.
    pub color: bool,
    /// Print nothing (the mutation matrix runs the suite many times).
    pub quiet: bool,
    /// The time limits: per request, per page load, per step and per scenario.
    pub timeouts: crate::timeouts::Timeouts,
}

impl SessionConfig {
    /// A quiet session against the embedded simulator with the built-in integrations and
    /// `faults`: no reports, no baselines, no screenshots, concurrency 2.
    pub fn quiet_simulator(features: &Path, faults: &[Fault], browsers: Browsers) -> Self {
        Self {
            features: features.to_owned(),
            tags: None,
            name: None,
            only: None,
            concurrency: None,
            intrusive: false,
            slow: false,
            fail_fast: false,
            strict: false,
            fail_on_drift: false,
            target: TargetSpec::Simulator {
                port: 0,
                integrations: None,
                faults: faults.iter().map(|f| f.name().to_owned()).collect(),
                variations: Vec::new(),
            },
            browsers,
            baselines: None,
            reports: None,
            screenshots: false,
            color: false,
            quiet: true,
            timeouts: crate::timeouts::Timeouts::default(),
        }
    }
}

/// Why a session could not run to its end. Each knows its documented exit code.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Tags(#[from] TagError),
    #[error("--name is not a regular expression: {0}")]
    Name(#[from] regex::Error),
    /// A command-line value that is wrong (the message names the option).
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Features(#[from] FeatureError),
    #[error(transparent)]
    Integrations(#[from] ConfigError),
    #[error(transparent)]
    Fault(#[from] UnknownFault),
    #[error(transparent)]
    Variation(#[from] crate::simulator::UnknownVariation),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    TargetFile(#[from] crate::target::file::FileError),
    #[error("the simulator cannot start: {0}")]
    Simulator(#[from] SimError),
    #[error(transparent)]
    Driver(#[from] DriverError),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("cannot create the report folder {path}: {cause}")]
    ReportDir { path: String, cause: std::io::Error },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot write the output: {0}")]
    Output(#[from] serde_json::Error),
    #[error(transparent)]
    Catcher(#[from] crate::catcher::CatcherError),
}

impl Exit for SessionError {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Tags(e) => e.exit_code(),
            Self::Features(e) => e.exit_code(),
            Self::Target(e) => e.exit_code(),
            Self::TargetFile(e) => e.exit_code(),
            Self::Integrations(e) => e.exit_code(),
            Self::Fault(e) => e.exit_code(),
            Self::Variation(e) => e.exit_code(),
            Self::Simulator(e) => e.exit_code(),
            Self::Driver(e) => e.exit_code(),
            Self::Http(e) => e.exit_code(),
            Self::Catcher(e) => e.exit_code(),
            Self::Name(_) | Self::Usage(_) => exit::USAGE,
            Self::ReportDir { .. } | Self::Runtime(_) | Self::Output(_) => exit::ENVIRONMENT,
        }
    }
}

/// The simulator's configuration: an integrations file (default: the built-in set) and faults
/// by name. Shared by `run` and `mock`.
/// The prefix of the parameterized fault: `redirect-uri-accept=TEMPLATE` makes the simulator
/// accept the one redirect_uri TEMPLATE stands for (`{registered}%2e`, `https://{canary}/cb`).
pub const ACCEPT_FAULT: &str = "redirect-uri-accept=";

pub fn simulator_config(
    integrations: Option<&Path>,
    faults: &[String],
    variations: &[String],
) -> Result<SimConfig, SessionError> {
    let mut registry = match integrations {
        Some(path) => Registry::from_file(path)?,
        None => Registry::builtin(),
    };
    // `redirect-uri-accept=TEMPLATE` is the one fault with a parameter.
    let (accept, faults): (Vec<&String>, Vec<&String>) =
        faults.iter().partition(|f| f.starts_with(ACCEPT_FAULT));
    if let Some(template) = accept.last() {
        registry.settings.accept_redirect_uri = Some(template[ACCEPT_FAULT.len()..].to_owned());
    }
    let faults = faults
        .into_iter()
        .map(|f| f.parse::<Fault>())
        .collect::<Result<Vec<_>, _>>()?;
    let variations = variations
        .iter()
        .map(|v| v.parse::<Variation>())
        .collect::<Result<Vec<_>, _>>()?;
    for v in &variations {
        v.apply(&mut registry.settings);
    }
    if registry.settings.loopback_any_port {
        registry.use_http_loopback();
    }
    Ok(SimConfig {
        registry,
        faults: Faults::of(faults),
        variations,
    })
}

/// The entry point: `Session::prepare(config)`.
#[derive(Debug)]
pub struct Session;

impl Session {
    /// Phase 1: reads and checks everything, starts nothing.
    pub fn prepare(config: SessionConfig) -> Result<Prepared, SessionError> {
        let started = Instant::now();
        let user_tags = config
            .tags
            .as_deref()
            .map(features::user_tags)
            .transpose()?;
        let name = config.name.as_deref().map(regex::Regex::new).transpose()?;
        let parsed = features::load(&config.features)?;
        let (target, capabilities) = match &config.target {
            TargetSpec::Simulator {
                port,
                integrations,
                faults,
                variations,
            } => {
                let sim = simulator_config(integrations.as_deref(), faults, variations)?;
                let capabilities =
                    crate::simulator::target::capabilities(&sim.registry, &sim.variations)?;
                // A simulator with other integrations is another target, with its own baselines.
                let name = match integrations.as_deref().and_then(Path::file_stem) {
                    Some(stem) => format!("simulator-{}", stem.to_string_lossy()),
                    None => "simulator".to_owned(),
                };
                let start = StartTarget::Simulator {
                    port: *port,
                    config: Box::new(sim),
                    name,
                };
                (start, capabilities)
            }
            TargetSpec::File(path) => {
                let file = TargetFile::load(path, &|var| std::env::var(var).ok())?;
                let capabilities = file.target.capabilities();
                (StartTarget::Live(Box::new(file)), capabilities)
            }
        };
        let capabilities = capabilities.allowing(config.intrusive, config.slow);
        let plan = features::plan(&parsed, user_tags, name.as_ref(), capabilities);
        Ok(Prepared {
            config,
            target,
            plan,
            name,
            started,
        })
    }

    /// Lists every check of the feature files under `dir`.
    pub fn checks(dir: &Path) -> Result<Vec<features::CheckRef>, SessionError> {
        Ok(features::checks(&features::load(dir)?))
    }
}

/// A target ready to start.
#[derive(Debug)]
enum StartTarget {
    Simulator {
        port: u16,
        config: Box<SimConfig>,
        name: String,
    },
    /// Nothing to start: the target runs on its own.
    Live(Box<TargetFile>),
}

/// A session whose features are read and whose plan is made.
#[derive(Debug)]
pub struct Prepared {
    config: SessionConfig,
    target: StartTarget,
    plan: Plan,
    name: Option<regex::Regex>,
    started: Instant,
}

impl Prepared {
    /// What will run, and what the target cannot run.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// What a run would do, without sending anything (`run --dry-run`): each selected check,
    /// whether it runs or why it does not apply, and the authorization URLs (they carry no
    /// secret; a state and a PKCE challenge are made up per scenario).
    pub fn dry_run(&self) -> Vec<String> {
        let mut lines = Vec::new();
        match &self.target {
            StartTarget::Simulator { name, .. } => lines.push(format!(
                "target: {name} (the embedded simulator, started on a loopback port when the run starts)"
            )),
            StartTarget::Live(file) => {
                let t = &file.target;
                lines.push(format!(
                    "target: {} at {} ({} requests per second, {} at once)",
                    t.name,
                    t.authorize_endpoint.origin().ascii_serialization(),
                    file.requests_per_second,
                    self.config.concurrency.unwrap_or(file.concurrency)
                ));
                let persistent = matches!(
                    &self.config.browsers,
                    Browsers::Start {
                        profile: Some(_),
                        ..
                    }
                );
                if let Some(at_once) = waiting_together(&self.plan, persistent) {
                    lines.push(format!(
                        "first: the {} scenarios that wait in real time, {at_once} at once",
                        self.plan.waiting,
                    ));
                }
                for app in [&t.web_app, &t.public_app] {
                    let mut req =
                        crate::oauth::AuthorizeRequest::code(&app.client_id, &app.redirect_uri);
                    req.scope = Some(app.scopes.clone());
                    req.state = Some(crate::oauth::authorize::State::Generated("[state]".into()));
                    let url = req.url(&t.authorize_endpoint);
                    lines.push(format!("authorization URL of the {}: {url}", app.kind));
                }
            }
        }
        for (check, location) in &self.plan.runs {
            lines.push(format!("runs: {} {location}", check.id));
        }
        for s in &self.plan.unsupported {
            lines.push(format!("not applicable: {s}"));
        }
        lines.push(format!(
            "{} would run, {} not applicable; nothing was sent",
            self.plan.selected,
            self.plan.unsupported.len()
        ));
        lines
    }

    /// Phase 2: starts the target, then (if needed) ChromeDriver and the browsers, the HTTP
    /// client, the helper servers and the report folder. What was started is stopped again if a
    /// later part fails.
    pub async fn start(self) -> Result<Started, SessionError> {
        let Prepared {
            config,
            target,
            plan,
            name,
            started,
        } = self;
        let (target, simulator, pace, concurrency) = match target {
            StartTarget::Simulator { port, config, name } => {
                let sim = Arc::new(Simulator::start(port, *config).await?);
                (sim.target(&name)?, Some(sim), None, 2)
            }
            StartTarget::Live(file) => (
                file.target,
                None,
                Some(file.requests_per_second),
                file.concurrency,
            ),
        };
        if !config.quiet {
            print_plan(&target, &plan);
        }
        let mut http =
            TokenClient::new(target.loopback_only)?.with_request_timeout(config.timeouts.request);
        if let Some(per_second) = pace {
            http = http.paced(per_second);
        }
        let mut owned_driver: Option<(PathBuf, ChromeDriver)> = None;
        let mut catcher = None;
        let (browsers, owns_browsers) = match (&config.browsers, plan.needs_browser) {
            (_, false) => (None, false),
            (Browsers::Shared(pool), true) => (Some(pool.clone()), false),
            (
                Browsers::Start {
                    webdriver,
                    chromedriver,
                    chrome,
                    profile,
                },
                true,
            ) => {
                let url = match webdriver {
                    Some(url) => url.clone(),
                    None => {
                        if !chrome.is_file() {
                            return Err(DriverError::NoBrowser(chrome.display().to_string()).into());
                        }
                        let binary = driver::locate(chromedriver.as_deref())?;
                        let d = ChromeDriver::start(&binary).await?;
                        let url = d.url();
                        owned_driver = Some((binary, d));
                        url
                    }
                };
                // The redirect URIs' hosts resolve to the local catcher: no code reaches an app.
                let (routes, hosts) = crate::catcher::target_routes(&target);
                let c = crate::catcher::Catcher::start(&hosts).await?;
                let routes = c.browser_routes(&routes);
                catcher = Some(c);
                let config = BrowserConfig {
                    webdriver_url: url,
                    chrome: chrome.clone(),
                    loopback_only: target.loopback_only,
                    catcher: Some(routes),
                    only_hosts: crate::catcher::target_hosts(&target),
                    profile: profile.clone(),
                    page_load: config.timeouts.page_load,
                };
                // The pool owns the driver it may have to start again.
                let pool = match owned_driver.take() {
                    Some((binary, d)) => BrowserPool::with_driver(config, binary, d),
                    None => BrowserPool::new(config),
                };
                (Some(Arc::new(pool)), true)
            }
        };
        let persistent = browsers.as_ref().is_some_and(|p| p.persistent_profile());
        if persistent && config.concurrency.is_some_and(|c| c > 1) && !config.quiet {
            crate::say!("note: --browser-profile runs one scenario at a time (one browser can use a profile)");
        }
        let mut run = Started {
            label: format!(
                "{} ({})",
                target.name,
                target.authorize_endpoint.origin().ascii_serialization()
            ),
            baselines: config.baselines.as_ref().map(|(dir, mode)| {
                let dir = std::path::absolute(dir.join(&target.name))
                    .unwrap_or_else(|_| dir.join(&target.name));
                // The first run against a live target records its baselines; later runs show
                // what changed. (The simulator's are committed.)
                let first = target.controls.is_none() && !dir.exists();
                if first && *mode == snapshot::Mode::Compare && !config.quiet {
                    crate::say!(
                        "baselines: none yet for {}: this run records them in {}; later runs show what changed",
                        target.name,
                        dir.display()
                    );
                }
                Baselines {
                    fail_on_drift: config.fail_on_drift,
                    mode: if first {
                        snapshot::Mode::Accept
                    } else {
                        *mode
                    },
                    dir,
                }
            }),
            ctx: Arc::new(
                Context::new(
                    target,
                    browsers,
                    http,
                    config.strict,
                    Aux::start().await,
                    config.screenshots,
                )
                .with_timeouts(config.timeouts),
            ),
            owns_browsers,
            catcher,
            _simulator: simulator,
            report_dir: None,
            options: RunOptions {
                features: config.features.clone(),
                selection: plan.selection.clone(),
                name,
                only: config.only.clone(),
                // One browser at a time can use a persistent profile.
                concurrency: if persistent {
                    1
                } else {
                    config.concurrency.unwrap_or(concurrency)
                },
                fail_fast: config.fail_fast,
                color: config.color,
                quiet: config.quiet,
                cucumber_json: None,
                pass: runner::features::Pass::All,
            },
            plan,
            reports: config.reports.clone(),
            quiet: config.quiet,
            started,
        };
        if let Some(root) = run.reports.clone() {
            let root = root.as_path();
            let (stamp, rfc3339) = crate::report::utc_now();
            let partial = match crate::report::start_run_dir(root, &stamp) {
                Ok(dir) => dir,
                Err(cause) => {
                    run.stop().await;
                    return Err(SessionError::ReportDir {
                        path: root.join("runs").display().to_string(),
                        cause,
                    });
                }
            };
            run.options.cucumber_json = Some(partial.join("cucumber.json"));
            run.report_dir = Some(ReportDir {
                partial,
                stamp,
                started: rfc3339,
            });
        }
        Ok(run)
    }
}

fn print_plan(target: &Target, plan: &Plan) {
    crate::say!(
        "target: {} at {} (web app {}, public app {})",
        target.name,
        target.authorize_endpoint.origin().ascii_serialization(),
        target.web_app.client_id,
        target.public_app.client_id
    );
    crate::say!(
        "features: {} files, {} scenarios selected{}",
        plan.files,
        plan.selected,
        if plan.unsupported.is_empty() {
            String::new()
        } else {
            format!(", {} the target cannot run", plan.unsupported.len())
        }
    );
}

/// A session whose target and browsers are running.
#[derive(Debug)]
pub struct Started {
    ctx: Arc<Context>,
    /// `target name (origin)`, as the reports name the target.
    label: String,
    plan: Plan,
    options: RunOptions,
    baselines: Option<Baselines>,
    reports: Option<PathBuf>,
    /// This run's report folder and its start time (RFC 3339).
    report_dir: Option<ReportDir>,
    /// Whether the session started the browsers (and so closes them).
    owns_browsers: bool,
    /// The local catcher at the redirect URIs, when this session started the browsers.
    catcher: Option<crate::catcher::Catcher>,
    /// The embedded simulator, kept alive for the run: dropping it stops the server.
    _simulator: Option<Arc<Simulator>>,
    quiet: bool,
    started: Instant,
}

impl Started {
    /// Closes the browsers this session started and stops ChromeDriver.
    async fn stop(&mut self) {
        if self.owns_browsers {
            if let Some(pool) = &self.ctx.browsers {
                pool.close_all().await;
                pool.stop_driver().await;
            }
        }
    }

    /// Phase 3: runs the planned scenarios until they end or `interrupt` resolves, then stops the
    /// browsers and the driver either way.
    pub async fn run(
        mut self,
        interrupt: impl Future<Output = ()>,
    ) -> Result<Finished, SessionError> {
        let records = tokio::select! {
            r = self.run_passes() => Some(r),
            _ = interrupt => None,
        };
        self.stop().await;
        // Interrupted: what ended before it is judged and reported, marked interrupted.
        let interrupted = records.is_none();
        let records = records.unwrap_or_else(|| runner::take_records(&self.ctx));
        if interrupted {
            // Cucumber writes its JSON only when its run ends: write it from what ended.
            if let Some(json) = &self.options.cucumber_json {
                let _ = std::fs::remove_file(json.with_file_name("cucumber-slow.json"));
                if let Err(e) = std::fs::write(
                    json,
                    serde_json::to_string(&runner::cucumber_json(&records)).unwrap_or_default(),
                ) {
                    *self
                        .ctx
                        .json_failed
                        .lock()
                        .unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                }
            }
        }
        Ok(Finished {
            records,
            run: self,
            interrupted,
        })
    }
}

impl Started {
    /// Runs the plan: in one pass, or, against a live target with several scenarios that wait
    /// in real time (`@slow`, `@waits`), those first, all at once (their waits overlap instead
    /// of adding up), then the others.
    async fn run_passes(&self) -> Vec<ScenarioRecord> {
        use runner::features::Pass;
        let at_once = match waiting_together(&self.plan, self.ctx.persistent_profile()) {
            Some(n) if self.ctx.target.controls().is_none() => n,
            _ => return runner::run(self.ctx.clone(), &self.options).await,
        };
        let json = self.options.cucumber_json.clone();
        let slow_json = json
            .as_ref()
            .map(|p| p.with_file_name("cucumber-slow.json"));
        let slow = RunOptions {
            pass: Pass::WaitingTogether,
            concurrency: at_once,
            cucumber_json: slow_json.clone(),
            ..self.options.clone()
        };
        let only_waiting = self.plan.waiting == self.plan.selected;
        if !self.quiet {
            crate::say!(
                "{} scenarios wait in real time, {} at once{}",
                self.plan.waiting,
                slow.concurrency,
                if only_waiting {
                    ""
                } else {
                    "; the others run after them"
                }
            );
        }
        let slow_records = runner::run(self.ctx.clone(), &slow).await;
        let stop = only_waiting
            || (self.options.fail_fast
                && slow_records
                    .iter()
                    .any(|r| r.ending != crate::outcome::Ending::Passed));
        if stop {
            if let (Some(json), Some(slow_json)) = (json, slow_json) {
                merge_cucumber_json(&slow_json, &json);
            }
            return slow_records;
        }
        // Held by the context, not here: a Ctrl-C during the second pass keeps them.
        runner::put_back(&self.ctx, slow_records);
        let rest = RunOptions {
            pass: Pass::NotWaiting,
            ..self.options.clone()
        };
        let records = runner::run(self.ctx.clone(), &rest).await;
        if let (Some(json), Some(slow_json)) = (json, slow_json) {
            merge_cucumber_json(&slow_json, &json);
        }
        records
    }
}

/// At most this many scenarios wait in real time at once (each may hold a browser).
const MAX_WAITING_AT_ONCE: usize = 8;

/// Against a live target, how many of the scenarios that wait in real time run at once in a
/// first pass of their own, or `None` when the plan runs in one pass: fewer than two wait, or a
/// persistent profile allows one browser at a time (the waits would add up anyway).
fn waiting_together(plan: &Plan, persistent_profile: bool) -> Option<usize> {
    (plan.waiting >= 2 && !persistent_profile).then(|| plan.waiting.min(MAX_WAITING_AT_ONCE))
}

/// Puts the features of cucumber's JSON report at `first` before those at `into`, into `into`.
fn merge_cucumber_json(first: &Path, into: &Path) {
    let read = |p: &Path| -> Vec<serde_json::Value> {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    };
    let mut all = read(first);
    all.extend(read(into));
    if let Ok(text) = serde_json::to_string(&all) {
        let _ = std::fs::write(into, text);
    }
    let _ = std::fs::remove_file(first);
}

/// The report folder of a run: written under a temporary name, renamed when complete.
#[derive(Debug)]
struct ReportDir {
    /// `runs/.<stamp>-<pid>-<n>.partial` while the run goes on.
    partial: PathBuf,
    /// The final name's stamp (`2026-12-02T02-13-39Z`).
    stamp: String,
    /// When the run started, RFC 3339.
    started: String,
}

/// A session whose scenarios have run.
#[derive(Debug)]
pub struct Finished {
    records: Vec<ScenarioRecord>,
    run: Started,
    /// Ctrl-C or SIGTERM ended the run: `records` are the scenarios that ended before it.
    interrupted: bool,
}

/// What a session concluded.
#[derive(Debug)]
pub struct RunOutcome {
    pub tally: Tally,
    /// The report folder and the files written to it, when reports were asked for.
    pub reports: Option<crate::report::RunFiles>,
    /// Why the reports could not be written (the previous ones and `latest` are untouched).
    pub report_error: Option<String>,
    /// Ctrl-C or SIGTERM ended the run.
    pub interrupted: bool,
    pub elapsed_secs: f64,
}

impl RunOutcome {
    /// The documented exit code: 130 when interrupted; 3 when the reports could not be
    /// written (unless a feature or the harness failed first); else the scenarios'.
    pub fn exit_code(&self) -> u8 {
        let scenarios = self.tally.exit_code();
        if self.interrupted {
            exit::INTERRUPTED
        } else if self.report_error.is_some() && !matches!(scenarios, exit::FEATURE | exit::HARNESS)
        {
            exit::ENVIRONMENT
        } else {
            scenarios
        }
    }
}

impl Finished {
    /// Phase 4: judges every scenario, compares it with its baseline, writes the reports and
    /// (unless quiet) prints the summary.
    pub fn finish(self) -> RunOutcome {
        let Finished {
            records,
            run,
            interrupted,
        } = self;
        let mut tally = Tally {
            results: Vec::with_capacity(records.len()),
            skipped: run.plan.unsupported.clone(),
        };
        for record in records {
            let observed = record.observed.clone();
            let mut result = ScenarioResult::judge(record, run.ctx.strict);
            if let Some(reason) = result.not_applicable() {
                tally.skipped.push(Skipped {
                    reason: reason.to_owned(),
                    check: result.check,
                    location: result.location,
                    gated: false,
                });
                continue;
            }
            if let (Some(baselines), false) = (&run.baselines, result.verdict == Verdict::Failed) {
                let name = snapshot::name_for(&result.check.id, &result.location.name);
                let value = snapshot::observation(&observed, &result.evidence);
                match baselines.check(&name, &value) {
                    Baseline::Same => {}
                    Baseline::Missing => result.messages.push(format!(
                        "no baseline {name}.snap yet: run with --accept to record one"
                    )),
                    Baseline::Drift(drift) => result.drifted(drift, baselines.fail_on_drift),
                }
            }
            tally.results.push(result);
        }
        let elapsed_secs = run.started.elapsed().as_secs_f64();
        let written = run
            .report_dir
            .as_ref()
            .map(|dir| write_reports(&run, dir, elapsed_secs, &tally, interrupted));
        let (reports, report_error) = match written {
            Some(Ok(files)) => (Some(files), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, None),
        };
        if !run.quiet {
            if let Some(text) = throttle_evidence(&run.ctx.http.throttles()) {
                crate::say!("{text}");
            }
            if let Some(c) = &run.catcher {
                crate::say!(
                    "local catcher: {} request(s) to the redirect URIs answered on this machine (no code reached an app)",
                    c.callbacks()
                );
            }
            print_summary(&tally, reports.as_ref(), elapsed_secs);
        }
        if let Some(e) = &report_error {
            eprintln!("error: {e}");
        }
        if interrupted {
            eprintln!("interrupted: browsers and ChromeDriver stopped; the reports hold the {} scenario(s) that ended before it", tally.results.len());
        }
        RunOutcome {
            tally,
            reports,
            report_error,
            interrupted,
            elapsed_secs,
        }
    }
}

fn write_reports(
    run: &Started,
    dir: &ReportDir,
    elapsed_secs: f64,
    tally: &Tally,
    interrupted: bool,
) -> Result<crate::report::RunFiles, String> {
    let mut report = crate::report::RunReport::new(
        &run.label,
        dir.started.clone(),
        elapsed_secs,
        tally,
        run.ctx.screenshots(),
    );
    report.interrupted = interrupted;
    report.target_name = run.ctx.target.name.clone();
    report.dialect = run.ctx.target.dialect.to_string();
    if interrupted {
        report.exit_code = exit::INTERRUPTED;
    }
    if let Ok(json) = std::fs::read_to_string(dir.partial.join("cucumber.json")) {
        report.attach_steps(&json);
    }
    let root = run.reports.as_deref().unwrap_or(Path::new("."));
    report.previous = crate::report::history::previous(root, &report)
        .map(|(kept, folder)| crate::report::history::compare(&report, &kept, &folder));
    let json_failed = run
        .ctx
        .json_failed
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let written = match json_failed {
        Some(e) => Err(std::io::Error::other(format!("cucumber.json: {e}"))),
        None => Ok(()),
    }
    .and_then(|()| crate::report::write_run(&dir.partial, &report))
    .and_then(|files| {
        if let Some(text) = throttle_evidence(&run.ctx.http.throttles()) {
            use std::io::Write as _;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(dir.partial.join("summary.md"))?;
            write!(f, "\n## Throttling (TE-03 evidence)\n\n{text}\n")?;
        }
        // Complete: it gets its final name, then `latest` points at it.
        let published = crate::report::publish_run_dir(&dir.partial, root, &dir.stamp)?;
        crate::report::link_latest(root, &published)?;
        Ok(crate::report::RunFiles {
            dir: published,
            ..files
        })
    });
    written.map_err(|e| {
        // Nothing half-written stays behind; the previous reports and `latest` are untouched.
        let _ = std::fs::remove_dir_all(&dir.partial);
        format!(
            "the reports could not be written under {}: {e} (the previous reports and {}/latest are untouched)",
            root.join("runs").display(),
            root.display()
        )
    })
}

/// What the target's 429s were, as TE-03's evidence, or nothing when it threw none.
fn throttle_evidence(throttles: &[crate::http::Throttle]) -> Option<String> {
    let first = throttles.first()?;
    let paused: f64 = throttles.iter().map(|t| t.paused.as_secs_f64()).sum();
    let retries = crate::http::THROTTLE_RETRIES;
    Some(format!(
        "TE-03 evidence: the target throttled {} request(s) (429, Retry-After {}, {}); the run paused all its traffic for {paused:.0} s in all and sent them again (a request still throttled after {retries} pauses ends its scenario as an environment failure), so no check was judged on a 429",
        throttles.len(),
        first.retry_after,
        if throttles.iter().all(|t| t.sfmc_shape) {
            "in Marketing Cloud's shape"
        } else {
            "not always in Marketing Cloud's shape (errorcode, no OAuth error)"
        }
    ))
}

/// The lines after cucumber's progress: what was not run, baseline drift, warnings, findings and
/// notes, errors, the reports, the wall time and the closing line.
fn print_summary(tally: &Tally, reports: Option<&crate::report::RunFiles>, elapsed_secs: f64) {
    for s in &tally.skipped {
        crate::say!("skipped: {s}");
    }
    // What changed since the baseline comes first.
    for r in tally.results.iter().filter(|r| r.drift.is_some()) {
        if let Some(drift) = &r.drift {
            let label = if r.verdict == Verdict::Failed {
                "failed"
            } else {
                "changed"
            };
            crate::say!("{label}: {} {}: {drift}", r.check.id, r.location);
        }
    }
    for (verdict, label) in [
        (Verdict::Warning, "warning"),
        (Verdict::Finding, "finding"),
        (Verdict::Note, "note"),
    ] {
        for r in tally.with_verdict(verdict) {
            let first = r.messages.first().map(String::as_str).unwrap_or("");
            crate::say!(
                "{label}: {} {}: {}",
                r.check.id,
                r.location,
                first.lines().next().unwrap_or("")
            );
        }
    }
    for r in tally.undefined() {
        eprintln!("error: {}: a step matches no step definition", r.location);
    }
    for (r, f) in tally.harness() {
        eprintln!(
            "error: harness error in {} (a bug in sfmc-conformance; please report it): {}",
            r.location, f.what
        );
    }
    for (r, f) in tally.environment() {
        eprintln!("error: environment failure in {}: {}", r.location, f.what);
    }
    if let Some(files) = reports {
        let list: Vec<String> = files
            .files
            .iter()
            .map(|(n, size)| format!("{n} {:.1} KB", *size as f64 / 1024.0))
            .collect();
        crate::say!("reports: {} ({})", files.dir.display(), list.join(", "));
    }
    crate::say!("wall time: {elapsed_secs:.1} s");
    crate::say!("{}", tally.closing_line());
}

/// Runs a whole session: prepare, start, run until the end or `interrupt`, finish.
pub async fn run(
    config: SessionConfig,
    interrupt: impl Future<Output = ()>,
) -> Result<RunOutcome, SessionError> {
    let started = Session::prepare(config)?.start().await?;
    Ok(started.run(interrupt).await?.finish())
}

#[cfg(test)]
mod throttle_tests {
    use super::*;

    #[test]
    fn throttling_is_reported_once_as_te_03_evidence() {
        assert_eq!(throttle_evidence(&[]), None);
        let t = crate::http::Throttle {
            url: "https://t/v2/token".into(),
            retry_after: "3".into(),
            paused: std::time::Duration::from_secs(3),
            sfmc_shape: true,
        };
        let text = throttle_evidence(&[t.clone(), t]).expect("evidence");
        assert!(text.starts_with("TE-03 evidence: the target throttled 2 request(s) (429, Retry-After 3, in Marketing Cloud's shape)"), "{text}");
        assert!(text.contains("paused all its traffic for 6 s"), "{text}");
    }
}
