//! The `sfmc-conformance` command line. Parses its arguments before anything is started (clap
//! may exit), starts the simulator and ChromeDriver only when needed, stops them on every way
//! out (normal end, error, Ctrl-C, SIGTERM), and maps each outcome to a documented exit code.

use crate::browser::{driver, BrowserConfig, BrowserPool, ChromeDriver};
use crate::exit;
use crate::http::TokenClient;
use crate::runner::{self, features, Context, RunOptions, Tally};
use crate::simulator::registry::Registry;
use crate::simulator::{Fault, Faults, SimConfig, Simulator};
use crate::target::Target;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(
    name = "sfmc-conformance",
    version,
    about = "Conformance and security checks for the Marketing Cloud OAuth 2.0 authorization code grant",
    after_help = exit::TABLE
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the conformance features against the embedded simulator, through headless Chromium.
    #[command(after_help = exit::TABLE)]
    Run(Box<RunArgs>),
    /// List every check the features implement: id, title, level, tags, file and line.
    #[command(after_help = exit::TABLE)]
    List(ListArgs),
    /// Run the Marketing Cloud simulator on its own, until Ctrl-C (for an app's own CI).
    #[command(after_help = exit::TABLE)]
    Mock(MockArgs),
}

/// How the embedded simulator is set up.
#[derive(Debug, clap::Args)]
struct SimArgs {
    /// Installed packages, users and settings (TOML); default: the built-in set.
    #[arg(long, env = "SFMC_INTEGRATIONS", value_name = "FILE")]
    integrations: Option<PathBuf>,
    /// Break one rule of the simulator (repeatable); see `mock --list-faults`.
    #[arg(long = "fault", value_name = "NAME")]
    faults: Vec<String>,
}

impl SimArgs {
    fn config(&self) -> Result<SimConfig, String> {
        let registry = match &self.integrations {
            Some(path) => Registry::from_file(path).map_err(|e| e.to_string())?,
            None => Registry::builtin(),
        };
        let faults = self
            .faults
            .iter()
            .map(|f| f.parse::<Fault>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        Ok(SimConfig {
            registry,
            faults: Faults::of(faults),
        })
    }
}

/// Where the feature files are (shared by `run` and `list`).
#[derive(Debug, clap::Args)]
struct FeaturesArg {
    /// Folder of .feature files.
    #[arg(
        long = "features",
        env = "SFMC_FEATURES",
        default_value = "features",
        value_name = "DIR"
    )]
    dir: PathBuf,
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    #[command(flatten)]
    features: FeaturesArg,
    /// text (a table) or json (for tools).
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    format: String,
}

#[derive(Debug, clap::Args)]
struct MockArgs {
    /// Loopback port to listen on (0: any free port).
    #[arg(
        long,
        short = 'p',
        env = "SFMC_SIMULATOR_PORT",
        default_value_t = 0,
        value_name = "PORT"
    )]
    port: u16,
    #[command(flatten)]
    sim: SimArgs,
    /// Print the client secrets and passwords too (they are hidden by default).
    #[arg(long)]
    show_secrets: bool,
    /// List the faults, with the checks each should make fail, and exit.
    #[arg(long)]
    list_faults: bool,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    #[command(flatten)]
    features: FeaturesArg,
    /// Run only scenarios matching this tag expression, e.g. '@browser and not @RF-02'.
    #[arg(long, short = 't', env = "SFMC_TAGS", value_name = "EXPR")]
    tags: Option<String>,
    /// Run only scenarios whose name matches this regular expression.
    #[arg(long, short = 'n', value_name = "REGEX")]
    name: Option<String>,
    /// Scenarios run at once (one browser each at most).
    #[arg(
        long,
        short = 'c',
        env = "SFMC_CONCURRENCY",
        default_value_t = 2,
        value_name = "N"
    )]
    concurrency: usize,
    /// Stop at the first failed scenario.
    #[arg(long)]
    fail_fast: bool,
    /// A failed SHOULD check fails the run (exit 4) instead of being a warning.
    #[arg(long, env = "SFMC_STRICT")]
    strict: bool,
    /// Use a WebDriver server already running (a Selenium Grid, say) instead of starting ChromeDriver.
    #[arg(long, env = "SFMC_WEBDRIVER_URL", value_name = "URL")]
    webdriver: Option<String>,
    /// The ChromeDriver binary (default: `chromedriver` on PATH, then /usr/bin/chromedriver).
    #[arg(long, env = "SFMC_CHROMEDRIVER", value_name = "PATH")]
    chromedriver: Option<PathBuf>,
    /// The Chromium binary.
    #[arg(
        long,
        env = "SFMC_CHROME",
        default_value = "/usr/bin/chromium",
        value_name = "PATH"
    )]
    chrome: PathBuf,
    #[command(flatten)]
    sim: SimArgs,
    /// Loopback port for the embedded simulator (0: any free port).
    #[arg(
        long,
        env = "SFMC_SIMULATOR_PORT",
        default_value_t = 0,
        value_name = "PORT"
    )]
    simulator_port: u16,
    /// Record what this run saw as the target's new baseline snapshots instead of comparing.
    #[arg(long)]
    accept: bool,
    /// Folder of baseline snapshots: <DIR>/<target name>/ (committed for the simulator).
    #[arg(
        long,
        env = "SFMC_SNAPSHOTS",
        default_value = "reports/snapshots",
        value_name = "DIR"
    )]
    snapshots: PathBuf,
    /// Where run reports go: <DIR>/runs/<UTC timestamp>/, with <DIR>/latest pointing at the newest.
    #[arg(
        long,
        env = "SFMC_REPORT_DIR",
        default_value = "reports",
        value_name = "DIR"
    )]
    report_dir: PathBuf,
    /// Colour the progress output: auto or never.
    #[arg(long, default_value = "auto", value_parser = ["auto", "never"])]
    color: String,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit::SUCCESS
                }
                _ => exit::USAGE,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::ENVIRONMENT);
        }
    };
    let code = rt.block_on(async {
        match cli.command {
            Command::Run(args) => run(*args).await,
            Command::Mock(args) => mock(args).await,
            Command::List(args) => list(&args),
        }
    });
    ExitCode::from(code)
}

fn fail(code: u8, msg: impl std::fmt::Display) -> u8 {
    eprintln!("error: {msg}");
    code
}

async fn run(args: RunArgs) -> u8 {
    let started = Instant::now();
    if let Some(t) = &args.tags {
        if let Err(e) = t.parse::<cucumber::gherkin::tagexpr::TagOperation>() {
            return fail(
                exit::USAGE,
                format!("--tags `{t}` is not a tag expression: {e}"),
            );
        }
    }
    let name = match args.name.as_deref().map(regex::Regex::new).transpose() {
        Ok(n) => n,
        Err(e) => {
            return fail(
                exit::USAGE,
                format!("--name is not a regular expression: {e}"),
            )
        }
    };
    let parsed = match features::load(&args.features.dir) {
        Ok(f) => f,
        Err(e) => return fail(e.exit_code(), e),
    };

    let config = match args.sim.config() {
        Ok(c) => c,
        Err(e) => return fail(exit::USAGE, e),
    };
    let sim = match Simulator::start(args.simulator_port, config).await {
        Ok(s) => Arc::new(s),
        Err(e) => {
            return fail(
                exit::ENVIRONMENT,
                format!("the simulator cannot start: {e}"),
            )
        }
    };
    let target = match Target::simulator_target(sim.clone()) {
        Ok(t) => t,
        Err(e) => return fail(exit::USAGE, e),
    };
    let selection = match runner::selection(args.tags.as_deref(), &target) {
        Ok(s) => s,
        Err(e) => return fail(exit::USAGE, e),
    };
    let user_tags = args.tags.as_deref().and_then(|t| t.parse().ok());
    let plan = features::plan(
        &parsed,
        user_tags.as_ref(),
        name.as_ref(),
        selection,
        runner::capability_filter(&target),
    );
    println!(
        "target: {} at {} (web app {}, public app {})",
        target.name,
        sim.uri(),
        target.web_app.client_id,
        target.public_app.client_id
    );
    println!(
        "features: {} files, {} scenarios selected{}",
        plan.files,
        plan.selected,
        if plan.unsupported.is_empty() {
            String::new()
        } else {
            format!(", {} the target cannot run", plan.unsupported.len())
        }
    );

    let mut driver: Option<ChromeDriver> = None;
    let browsers = if plan.needs_browser {
        match start_browsers(&args, &target, &mut driver).await {
            Ok(pool) => Some(Arc::new(pool)),
            Err(e) => return fail(exit::ENVIRONMENT, e),
        }
    } else {
        None
    };
    let http = match TokenClient::new(target.loopback_only) {
        Ok(h) => h,
        Err(e) => {
            stop(&mut driver).await;
            return fail(exit::ENVIRONMENT, e);
        }
    };
    let target_name = target.name.clone();
    if args.accept {
        // insta reads this when a snapshot is asserted; set before any scenario runs.
        std::env::set_var("INSTA_UPDATE", "always");
    }
    if std::env::var_os("INSTA_WORKSPACE_ROOT").is_none() {
        // Otherwise insta runs `cargo metadata` to find it (and warns where cargo is absent).
        if let Ok(cwd) = std::env::current_dir() {
            std::env::set_var("INSTA_WORKSPACE_ROOT", cwd);
        }
    }
    let ctx = Arc::new(Context {
        target,
        browsers,
        http,
        strict: args.strict,
        aux: runner::Aux::start().await,
        screenshots: true,
        baselines: Some(
            std::path::absolute(args.snapshots.join(&target_name))
                .unwrap_or_else(|_| args.snapshots.join(&target_name)),
        ),
        shots: Mutex::new(Vec::new()),
        tally: Mutex::new(Tally::default()),
    });
    let (stamp, started_rfc3339) = crate::report::utc_now();
    let run_dir = crate::report::run_dir(&args.report_dir, &stamp);
    if let Err(e) = std::fs::create_dir_all(&run_dir) {
        stop(&mut driver).await;
        return fail(
            exit::USAGE,
            format!("cannot create the report folder {}: {e}", run_dir.display()),
        );
    }
    let opts = RunOptions {
        features: args.features.dir.clone(),
        tags: args.tags.clone(),
        name,
        concurrency: args.concurrency,
        fail_fast: args.fail_fast,
        color: args.color == "auto",
        quiet: false,
        cucumber_json: Some(run_dir.join("cucumber.json")),
    };

    let signals = interrupted();
    let outcome = tokio::select! {
        t = runner::run(ctx.clone(), &opts, &plan) => Some(t),
        _ = signals => None,
    };
    if let Some(pool) = &ctx.browsers {
        pool.close_all().await;
    }
    stop(&mut driver).await;
    let Some(tally) = outcome else {
        eprintln!("interrupted: browsers and ChromeDriver stopped");
        return exit::INTERRUPTED;
    };
    for s in &tally.unsupported {
        println!("skipped: {s}");
    }
    for r in tally.with_verdict(runner::Verdict::Failed) {
        if let Some(drift) = r
            .messages
            .iter()
            .find(|m| m.starts_with("the target's behaviour differs"))
        {
            println!("failed: {} {}: {drift}", r.check, r.location);
        }
    }
    for (verdict, label) in [
        (runner::Verdict::Warning, "warning"),
        (runner::Verdict::Finding, "finding"),
        (runner::Verdict::Note, "note"),
    ] {
        for r in tally.with_verdict(verdict) {
            let first = r.messages.first().map(String::as_str).unwrap_or("");
            println!(
                "{label}: {} {}: {}",
                r.check,
                r.location,
                first.lines().next().unwrap_or("")
            );
        }
    }
    for s in &tally.undefined {
        eprintln!("error: {s}: a step matches no step definition");
    }
    for s in &tally.environment {
        eprintln!("error: environment failure in {s}");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut report = crate::report::RunReport::new(
        &format!(
            "{} ({})",
            ctx.target.name,
            ctx.target.authorize_endpoint.origin().ascii_serialization()
        ),
        started_rfc3339,
        elapsed,
        &tally,
        ctx.screenshots(),
    );
    if let Ok(json) = std::fs::read_to_string(run_dir.join("cucumber.json")) {
        report.attach_steps(&json);
    }
    match crate::report::write_run(&run_dir, &report) {
        Ok(files) => {
            let _ = crate::report::link_latest(&args.report_dir, &run_dir);
            let list: Vec<String> = files
                .files
                .iter()
                .map(|(n, size)| format!("{n} {:.1} KB", *size as f64 / 1024.0))
                .collect();
            println!("reports: {} ({})", run_dir.display(), list.join(", "));
        }
        Err(e) => eprintln!(
            "warning: the reports could not be written to {}: {e}",
            run_dir.display()
        ),
    }
    println!("wall time: {elapsed:.1} s");
    println!("{}", tally.closing_line());
    tally.exit_code()
}

async fn start_browsers(
    args: &RunArgs,
    target: &Target,
    driver: &mut Option<ChromeDriver>,
) -> Result<BrowserPool, driver::DriverError> {
    let webdriver_url = match &args.webdriver {
        Some(url) => url.clone(),
        None => {
            if !args.chrome.is_file() {
                return Err(driver::DriverError::NoBrowser(
                    args.chrome.display().to_string(),
                ));
            }
            let binary = driver::locate(args.chromedriver.as_deref())?;
            let d = ChromeDriver::start(&binary).await?;
            let url = d.url();
            *driver = Some(d);
            url
        }
    };
    Ok(BrowserPool::new(BrowserConfig {
        webdriver_url,
        chrome: args.chrome.clone(),
        loopback_only: target.loopback_only,
    }))
}

async fn stop(driver: &mut Option<ChromeDriver>) {
    if let Some(mut d) = driver.take() {
        d.stop().await;
    }
}

/// A future that resolves on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed when this
/// is called, not when the future is first polled, so a signal that comes early is not lost.
fn interrupted() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let int = signal(SignalKind::interrupt()).ok();
    let term = signal(SignalKind::terminate()).ok();
    async move {
        let wait = |s: Option<tokio::signal::unix::Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => futures::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = wait(int) => {},
            _ = wait(term) => {},
        }
    }
}

async fn mock(args: MockArgs) -> u8 {
    if args.list_faults {
        for f in Fault::ALL {
            println!(
                "{:<32} {:<24} {}",
                f.name(),
                f.checks().join(","),
                f.description()
            );
        }
        return exit::SUCCESS;
    }
    let config = match args.sim.config() {
        Ok(c) => c,
        Err(e) => return fail(exit::USAGE, e),
    };
    let sim = match Simulator::start(args.port, config).await {
        Ok(s) => s,
        Err(e) => {
            return fail(
                exit::ENVIRONMENT,
                format!("the simulator cannot start: {e}"),
            )
        }
    };
    let signals = interrupted();
    println!("listening on {}", sim.uri());
    let reg = sim.registry();
    let shown = |s: &Option<crate::secret::Secret>| match s {
        Some(s) if args.show_secrets => format!(" secret {}", s.expose()),
        Some(_) => " secret [hidden; --show-secrets]".to_owned(),
        None => String::new(),
    };
    for i in &reg.integrations {
        println!(
            "integration {:<8} {:?} client_id {}{} redirect_uris {:?}",
            i.name,
            i.kind,
            i.client_id,
            shown(&i.client_secret),
            i.redirect_uris
        );
    }
    for u in &reg.users {
        let pw = shown(&Some(u.password.clone())).replace(" secret", " password");
        let totp = if u.totp_seed.is_some() {
            " (verification code)"
        } else {
            ""
        };
        println!("user {}{pw}{totp}", u.username);
    }
    for f in sim.faults().iter() {
        println!("fault {f}: {}", f.description());
    }
    println!(
        "endpoints: {} {}",
        sim.url("/v2/authorize"),
        sim.url("/v2/token")
    );
    signals.await;
    println!("stopped");
    exit::SUCCESS
}

fn list(args: &ListArgs) -> u8 {
    let parsed = match features::load(&args.features.dir) {
        Ok(f) => f,
        Err(e) => return fail(e.exit_code(), e),
    };
    let checks = features::checks(&parsed);
    if args.format == "json" {
        match serde_json::to_string_pretty(&checks) {
            Ok(j) => println!("{j}"),
            Err(e) => return fail(exit::USAGE, e),
        }
    } else {
        for c in &checks {
            println!(
                "{:<6} {:<6} {}:{}  {}  {}",
                c.id,
                c.level,
                c.file,
                c.line,
                c.title,
                c.tags
                    .iter()
                    .map(|t| format!("@{t}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        let ids: std::collections::BTreeSet<&str> = checks.iter().map(|c| c.id.as_str()).collect();
        println!("{} scenarios, {} checks", checks.len(), ids.len());
    }
    exit::SUCCESS
}
