//! The `sfmc-conformance` command line. Parses its arguments before anything is started (clap
//! may exit), turns them into a [`SessionConfig`] and hands it to the session, which starts the
//! simulator and ChromeDriver only when needed and stops them on every way out. Every error
//! knows its documented exit code ([`Exit`]); this module maps nothing by hand.

use crate::exit::{self, Exit};
use crate::report::snapshot;
use crate::session::{self, Browsers, Session, SessionConfig, SessionError, TargetSpec};
use crate::simulator::{Fault, SimConfig, Simulator};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Run the conformance features through headless Chromium against the embedded simulator, or
    /// the target a --target file describes.
    #[command(after_help = exit::TABLE)]
    Run(Box<RunArgs>),
    /// List every check the features implement: id, title, level, tags, file and line.
    #[command(after_help = exit::TABLE)]
    List(ListArgs),
    /// Run the Marketing Cloud simulator on its own, until Ctrl-C (for an app's own CI).
    #[command(after_help = exit::TABLE)]
    Mock(MockArgs),
    /// Check that a target file is ready for a run: one line per check, ✔ or ✘ with the fix.
    #[command(after_help = exit::TABLE)]
    Doctor(DoctorArgs),
}

/// Where the browser comes from (shared by `run` and `doctor`).
#[derive(Debug, clap::Args)]
struct BrowserArgs {
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
    /// Keep a persistent Chromium profile in DIR: a browser trusted after one manual sign-in
    /// (MFA, a verified device) is reused. Scenarios then run one at a time, and those that need
    /// a browser with no login session are not applicable. See the README.
    #[arg(long, env = "SFMC_BROWSER_PROFILE", value_name = "DIR")]
    browser_profile: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct DoctorArgs {
    /// The target file.
    #[arg(long, env = "SFMC_TARGET", value_name = "FILE")]
    target: PathBuf,
    #[command(flatten)]
    browser: BrowserArgs,
    /// Where the screenshot of the login goes.
    #[arg(long, default_value = "reports/doctor", value_name = "DIR")]
    out: PathBuf,
}

/// How the embedded simulator is set up.
#[derive(Debug, clap::Args)]
struct SimArgs {
    /// Installed packages, users and settings (TOML); default: the built-in set.
    #[arg(long, env = "SFMC_INTEGRATIONS", value_name = "FILE")]
    integrations: Option<PathBuf>,
    /// Break one rule of the simulator (repeatable); see `mock --list-faults`.
    /// `redirect-uri-accept=TEMPLATE` accepts the one redirect_uri TEMPLATE stands for
    /// (`{registered}%2e`).
    #[arg(long = "fault", value_name = "NAME")]
    faults: Vec<String>,
    /// Give the simulator a behaviour a conformant server may have (repeatable); see
    /// `mock --list-variations`. A variation allowed only by RFC 6749 judges the run in dialect
    /// oauth2.
    #[arg(long = "variation", value_name = "NAME")]
    variations: Vec<String>,
}

impl SimArgs {
    fn config(&self) -> Result<SimConfig, SessionError> {
        session::simulator_config(self.integrations.as_deref(), &self.faults, &self.variations)
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
    /// Address to listen on. Loopback by default; another address (`0.0.0.0` for an app's CI
    /// in containers) turns the admin routes off unless `--admin-token` is given.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// Require `Authorization: Bearer TOKEN` on the admin routes (journal, clock, throttle,
    /// integration); without it they are open on loopback and off beyond it. Never printed.
    #[arg(
        long,
        env = "SFMC_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    admin_token: Option<String>,
    #[command(flatten)]
    sim: SimArgs,
    /// Print the client secrets and passwords too (they are hidden by default).
    #[arg(long)]
    show_secrets: bool,
    /// Open connections one client address may hold; past it a connection is answered 503 and
    /// closed (slow-loris clients cannot starve the others).
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections_per_client: u32,
    /// Seconds a request's headers may take to arrive; an idle kept-alive connection is closed
    /// after as long.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout: u64,
    /// Seconds a request's body may take to arrive after its headers (then 408).
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    body_timeout: u64,
    /// Largest request body accepted, in bytes (then 413).
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024, value_parser = clap::value_parser!(u64).range(1..=1024 * 1024 * 1024))]
    max_body: u64,
    /// Seconds a response may wait for the client to read it; a client that never reads is
    /// disconnected after as long.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    write_timeout: u64,
    /// List the faults, with the checks each should make fail, and exit.
    #[arg(long)]
    list_faults: bool,
    /// List the allowed variations (behaviour a conformant server may have), with the dialect
    /// that allows each, and exit.
    #[arg(long)]
    list_variations: bool,
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
    /// Scenarios run at once, one browser each at most (default: 2 against the embedded
    /// simulator; the target file's `concurrency`, 1 unless it says otherwise, against a live one).
    #[arg(
        long,
        short = 'c',
        env = "SFMC_CONCURRENCY",
        value_name = "N",
        allow_negative_numbers = true,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64)
    )]
    concurrency: Option<usize>,
    /// Run every feature against the target this file describes instead of the embedded
    /// simulator (see targets/ and the README).
    #[arg(
        long,
        env = "SFMC_TARGET",
        value_name = "FILE",
        conflicts_with_all = ["integrations", "faults", "variations", "simulator_port"]
    )]
    target: Option<PathBuf>,
    /// Against a live target, also run @intrusive checks (they revoke the test user's tokens,
    /// send bursts, and could lock or alert).
    #[arg(long)]
    intrusive: bool,
    /// Against a live target, also run @slow checks (they wait in real time: code lifetime,
    /// token expiry).
    #[arg(long)]
    slow: bool,
    /// Print the plan (each check: runs, or not applicable and why) and the authorization URLs,
    /// and send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Stop at the first failed scenario.
    #[arg(long)]
    fail_fast: bool,
    /// A failed SHOULD check fails the run (exit 4) instead of being a warning.
    #[arg(long, env = "SFMC_STRICT")]
    strict: bool,
    #[command(flatten)]
    browser: BrowserArgs,
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
    /// A scenario whose observations differ from its baseline snapshot fails (exit 4). Without
    /// it, a difference is reported as "changed" and does not fail the run.
    #[arg(long, env = "SFMC_FAIL_ON_DRIFT")]
    fail_on_drift: bool,
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
    #[command(flatten)]
    timeouts: TimeoutArgs,
}

/// The time limits; each one hit ends its scenario as an environment failure (exit 3).
#[derive(Debug, clap::Args)]
struct TimeoutArgs {
    /// Seconds one HTTP request (token, refresh, REST probe) may take, connect to last byte.
    #[arg(long, env = "SFMC_REQUEST_TIMEOUT", value_name = "SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    request_timeout: u64,
    /// Seconds one page load in the browser may take (other browser commands: 5 s more).
    #[arg(long, env = "SFMC_PAGE_LOAD_TIMEOUT", value_name = "SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    page_load_timeout: u64,
    /// Seconds one step may take, whatever it waits for (a live target's real-time waits do not
    /// count).
    #[arg(long, env = "SFMC_STEP_TIMEOUT", value_name = "SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=86400))]
    step_timeout: u64,
    /// Seconds one scenario may take, its steps together (real-time waits do not count).
    #[arg(long, env = "SFMC_SCENARIO_TIMEOUT", value_name = "SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86400))]
    scenario_timeout: u64,
}

impl TimeoutArgs {
    fn timeouts(&self) -> crate::timeouts::Timeouts {
        use std::time::Duration;
        crate::timeouts::Timeouts {
            request: Duration::from_secs(self.request_timeout),
            page_load: Duration::from_secs(self.page_load_timeout),
            step: Duration::from_secs(self.step_timeout),
            scenario: Duration::from_secs(self.scenario_timeout),
        }
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    crate::out::install_panic_hook();
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
    if std::env::var_os("INSTA_WORKSPACE_ROOT").is_none() {
        // Otherwise insta runs `cargo metadata` to find it (and warns where cargo is absent).
        // Set before the runtime starts any thread.
        if let Ok(cwd) = std::env::current_dir() {
            std::env::set_var("INSTA_WORKSPACE_ROOT", cwd);
        }
    }
    // A baseline that differs is reported by the run itself ("changed: …", with the lines);
    // insta is not to print its own summary, nor to leave `.snap.new` files in the baselines.
    for (k, v) in [("INSTA_OUTPUT", "none"), ("INSTA_UPDATE", "no")] {
        if std::env::var_os(k).is_none() {
            std::env::set_var(k, v);
        }
    }
    // A panic here is a bug: the hook has printed one line; the exit code says so.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_command(cli)));
    match outcome {
        Ok(code) => code,
        Err(_) => ExitCode::from(exit::HARNESS),
    }
}

fn run_command(cli: Cli) -> ExitCode {
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(SessionError::Runtime)
        .and_then(|rt| {
            rt.block_on(async {
                match cli.command {
                    Command::Run(args) => run(*args).await,
                    Command::Mock(args) => mock(args).await,
                    Command::List(args) => list(&args),
                    Command::Doctor(args) => {
                        Ok(crate::doctor::doctor(&crate::doctor::DoctorConfig {
                            target: args.target,
                            chromedriver: args.browser.chromedriver,
                            chrome: args.browser.chrome,
                            webdriver: args.browser.webdriver,
                            profile: args.browser.browser_profile,
                            out: args.out,
                        })
                        .await)
                    }
                }
            })
        });
    ExitCode::from(match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    })
}

impl RunArgs {
    fn session(self) -> SessionConfig {
        SessionConfig {
            features: self.features.dir,
            tags: self.tags,
            name: self.name,
            only: None,
            concurrency: self.concurrency,
            intrusive: self.intrusive,
            slow: self.slow,
            fail_fast: self.fail_fast,
            fail_on_drift: self.fail_on_drift,
            strict: self.strict,
            target: match self.target {
                Some(file) => TargetSpec::File(file),
                None => TargetSpec::Simulator {
                    port: self.simulator_port,
                    integrations: self.sim.integrations,
                    faults: self.sim.faults,
                    variations: self.sim.variations,
                },
            },
            browsers: Browsers::Start {
                webdriver: self.browser.webdriver,
                chromedriver: self.browser.chromedriver,
                chrome: self.browser.chrome,
                profile: self.browser.browser_profile,
            },
            baselines: Some((
                self.snapshots,
                if self.accept {
                    snapshot::Mode::Accept
                } else {
                    snapshot::Mode::Compare
                },
            )),
            reports: Some(self.report_dir),
            screenshots: true,
            color: self.color == "auto",
            quiet: false,
            timeouts: self.timeouts.timeouts(),
        }
    }
}

async fn run(args: RunArgs) -> Result<u8, SessionError> {
    if args.dry_run {
        for line in Session::prepare(args.session())?.dry_run() {
            crate::say!("{line}");
        }
        return Ok(exit::SUCCESS);
    }
    let outcome = session::run(args.session(), interrupted()).await?;
    Ok(outcome.exit_code())
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

async fn mock(args: MockArgs) -> Result<u8, SessionError> {
    if args.list_faults {
        for f in Fault::ALL {
            crate::say!(
                "{:<32} {:<24} {}",
                f.name(),
                f.checks().join(","),
                f.description()
            );
        }
        crate::say!(
            "{:<32} {:<24} also accepts the one redirect_uri TEMPLATE makes of a registered URI ({{registered}}%2e, https://{{canary}}/cb)",
            "redirect-uri-accept=TEMPLATE", "the variant's row",
        );
        return Ok(exit::SUCCESS);
    }
    if args.list_variations {
        for v in crate::simulator::Variation::ALL {
            crate::say!("{:<34} {:<7} {}", v.name(), v.dialect(), v.description());
        }
        return Ok(exit::SUCCESS);
    }
    if args.admin_token.as_deref().is_some_and(str::is_empty) {
        return Err(SessionError::Usage(
            "--admin-token: the token is empty".into(),
        ));
    }
    let limits = crate::simulator::server::Limits {
        per_client: args.max_connections_per_client as usize,
        header_timeout: std::time::Duration::from_secs(args.header_timeout),
        body_timeout: std::time::Duration::from_secs(args.body_timeout),
        max_body: args.max_body as usize,
        write_timeout: std::time::Duration::from_secs(args.write_timeout),
    };
    let sim = Simulator::start_with(args.bind, args.port, args.sim.config()?, limits).await?;
    let token = args
        .admin_token
        .map(|t| crate::secret::Secret::new("AdminToken", t));
    let access = crate::simulator::AdminAccess::for_bind(args.bind, token);
    let admin = match &access {
        crate::simulator::AdminAccess::Open => "open (loopback only)",
        crate::simulator::AdminAccess::Token(_) => "need Authorization: Bearer <--admin-token>",
        crate::simulator::AdminAccess::Off => {
            "off (listening beyond loopback; give --admin-token to turn them on)"
        }
    };
    sim.set_admin(access);
    let signals = interrupted();
    crate::say!("listening on {}", sim.uri());
    crate::say!("admin routes: {admin}");
    crate::say!(
        "limits: {} connections per client, headers within {} s, body within {} s, body up to {} bytes, responses read within {} s",
        limits.per_client,
        limits.header_timeout.as_secs(),
        limits.body_timeout.as_secs(),
        limits.max_body,
        limits.write_timeout.as_secs()
    );
    let reg = sim.registry();
    let shown = |s: &Option<crate::secret::Secret>| match s {
        Some(s) if args.show_secrets => format!(" secret {}", s.expose()),
        Some(_) => " secret [hidden; --show-secrets]".to_owned(),
        None => String::new(),
    };
    for i in &reg.integrations {
        crate::say!(
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
        crate::say!("user {}{pw}{totp}", u.username);
    }
    for f in sim.faults().iter() {
        crate::say!("fault {f}: {}", f.description());
    }
    crate::say!(
        "endpoints: {} {}",
        sim.url("/v2/authorize"),
        sim.url("/v2/token")
    );
    signals.await;
    crate::say!("stopped");
    Ok(exit::SUCCESS)
}

fn list(args: &ListArgs) -> Result<u8, SessionError> {
    let checks = Session::checks(&args.features.dir)?;
    if args.format == "json" {
        crate::say!("{}", serde_json::to_string_pretty(&checks)?);
    } else {
        for c in &checks {
            crate::say!(
                "{:<6} {:<6} {}:{}  {}  {}",
                c.id,
                c.level.map_or("", |l| l.as_str()),
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
        crate::say!("{} scenarios, {} checks", checks.len(), ids.len());
    }
    Ok(exit::SUCCESS)
}
