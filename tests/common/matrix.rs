//! What the mutation and tolerance matrices share: one ChromeDriver, one browser pool whose
//! redirect URIs go to a local catcher (as in `run`), and a quiet suite run per row.

use sfmc_oauth_conformance::browser::{driver, BrowserConfig, BrowserPool, ChromeDriver};
use sfmc_oauth_conformance::catcher::{self, Catcher};
use sfmc_oauth_conformance::outcome::{Location, Tally};
use sfmc_oauth_conformance::session::{self, Browsers, SessionConfig, TargetSpec};
use sfmc_oauth_conformance::simulator::{Fault, Registry, Variation};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

/// ChromeDriver, the catcher and the pool every row of a matrix uses.
pub struct SharedBrowsers {
    chromedriver: ChromeDriver,
    pool: Arc<BrowserPool>,
    _catcher: Catcher,
    /// Scenarios run since the browsers were last new.
    served: std::sync::atomic::AtomicUsize,
}

/// Scenarios a pair of browsers serves, run after run, before they are replaced: a session that
/// served many runs slows down, and starting two costs as much as a dozen scenarios.
const RECYCLE_AFTER: usize = 600;

impl SharedBrowsers {
    pub async fn start() -> Self {
        let binary = driver::locate(None).expect("ChromeDriver (run .ci/install-browser)");
        let chromedriver = ChromeDriver::start(&binary)
            .await
            .expect("ChromeDriver starts");
        // Every row uses the built-in integrations, so one catcher serves the shared pool.
        let registry = Registry::builtin();
        let uris: Vec<&str> = registry
            .integrations
            .iter()
            .flat_map(|i| i.redirect_uris.iter().map(String::as_str))
            .collect();
        let routes = catcher::routes(uris.iter().copied());
        let catcher = Catcher::start(&["127.0.0.1".to_owned()])
            .await
            .expect("the catcher starts");
        let pool = Arc::new(BrowserPool::new(BrowserConfig {
            webdriver_url: chromedriver.url(),
            chrome: PathBuf::from(
                std::env::var("SFMC_CHROME").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            ),
            loopback_only: true,
            catcher: Some(catcher.browser_routes(&routes)),
            // The login origin of the `login-on-second-origin` variation.
            only_hosts: vec!["127.0.0.2".into()],
            profile: None,
            page_load: sfmc_oauth_conformance::timeouts::Timeouts::default().page_load,
        }));
        Self {
            chromedriver,
            pool,
            _catcher: catcher,
            served: Default::default(),
        }
    }

    /// The whole suite against a simulator with `faults` and `variations`.
    pub async fn run(&self, faults: &[Fault], variations: &[Variation]) -> Tally {
        self.run_tagged(faults, variations, None).await
    }

    /// The scenarios `tags` selects (all with `None`) against a simulator with `faults` and
    /// `variations`.
    pub async fn run_tagged(
        &self,
        faults: &[Fault],
        variations: &[Variation],
        tags: Option<&str>,
    ) -> Tally {
        let mut config = self.config(faults);
        if let TargetSpec::Simulator { variations: v, .. } = &mut config.target {
            *v = variations.iter().map(|x| x.name().to_owned()).collect();
        }
        config.tags = tags.map(str::to_owned);
        self.run_config(config).await
    }

    /// The whole suite against the conformant simulator, one scenario at a time, so that each
    /// scenario's result names exactly the faults and variations it consulted (see
    /// [`Coverage`]). Run once per test binary: the first test to ask runs it on its browsers,
    /// and a test that asks meanwhile waits for that run.
    pub async fn conformant(&self) -> &'static Baseline {
        static CONFORMANT: tokio::sync::OnceCell<Baseline> = tokio::sync::OnceCell::const_new();
        CONFORMANT
            .get_or_init(|| async {
                let started = std::time::Instant::now();
                let tally = self.run_watched(&[]).await;
                Baseline {
                    tally,
                    secs: started.elapsed().as_secs_f64(),
                }
            })
            .await
    }

    /// The whole suite against a simulator with `variations`, one scenario at a time, so that
    /// each scenario's result names exactly the faults and variations it consulted.
    pub async fn run_watched(&self, variations: &[Variation]) -> Tally {
        let mut config = self.config(&[]);
        if let TargetSpec::Simulator { variations: v, .. } = &mut config.target {
            *v = variations.iter().map(|x| x.name().to_owned()).collect();
        }
        config.concurrency = Some(1);
        self.run_config(config).await
    }

    /// The scenarios in `only` against a simulator with `faults` and `variations`.
    pub async fn run_only(
        &self,
        faults: &[Fault],
        variations: &[Variation],
        only: HashSet<Location>,
    ) -> Tally {
        let mut config = self.config(faults);
        if let TargetSpec::Simulator { variations: v, .. } = &mut config.target {
            *v = variations.iter().map(|x| x.name().to_owned()).collect();
        }
        config.only = Some(Arc::new(only));
        self.run_config(config).await
    }

    /// The scenarios `tags` selects against a simulator with faults given by name (the
    /// parameterized `redirect-uri-accept=TEMPLATE` among them).
    pub async fn run_named(&self, faults: &[String], tags: &str) -> Tally {
        let mut config = self.config(&[]);
        if let TargetSpec::Simulator { faults: f, .. } = &mut config.target {
            *f = faults.to_vec();
        }
        config.tags = Some(tags.to_owned());
        self.run_config(config).await
    }

    /// A quiet session against a simulator with `faults`, on the shared browsers.
    fn config(&self, faults: &[Fault]) -> SessionConfig {
        SessionConfig::quiet_simulator(
            &super::root().join("features"),
            faults,
            Browsers::Shared(self.pool.clone()),
        )
    }

    async fn run_config(&self, config: SessionConfig) -> Tally {
        let tally = session::run(config, std::future::pending())
            .await
            .expect("the run starts")
            .tally;
        // The next run has a new simulator: its browsers forget this one's login sessions, and
        // are replaced now and then.
        use std::sync::atomic::Ordering;
        let served = self
            .served
            .fetch_add(tally.results.len(), Ordering::Relaxed);
        if served + tally.results.len() >= RECYCLE_AFTER {
            self.served.store(0, Ordering::Relaxed);
            self.pool.close_all().await;
        } else {
            self.pool.forget_cookies().await;
        }
        tally
    }

    pub async fn stop(mut self) {
        self.pool.close_all().await;
        self.chromedriver.stop().await;
    }
}

/// The conformant baseline, and how long it took to run.
pub struct Baseline {
    pub tally: Tally,
    pub secs: f64,
}

/// A matrix's turn to run its rows, held while it runs them. The two matrices of
/// `tests/matrices` run their baselines side by side (one scenario at a time: one browser each),
/// but never their rows (two browsers each): four browsers and two test harnesses on two cores
/// were slower than the same rows one matrix after the other (451 s against 386 s in a debug
/// build).
pub async fn rows_turn() -> tokio::sync::MutexGuard<'static, ()> {
    static ROWS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    ROWS.lock().await
}

/// The rows of a matrix that run: those the variable `var` names (`a,b`), or every row.
pub struct Rows(Option<Vec<String>>);

impl Rows {
    /// The rows `var` selects; a name not in `known` fails the test. When only `other`, the
    /// variable of the other matrix in the same binary, is set, someone is working on that
    /// matrix: this one runs no row (`None`, and says so). An empty variable is unset.
    pub fn from_env(var: &str, other: &str, known: &[&str]) -> Option<Self> {
        let set = |v: &str| {
            std::env::var(v)
                .ok()
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
        };
        match set(var) {
            Some(v) => {
                let names: Vec<String> = v.split(',').map(|n| n.trim().to_owned()).collect();
                for n in &names {
                    assert!(known.contains(&n.as_str()), "{var}: no row named `{n}`");
                }
                Some(Self(Some(names)))
            }
            None if set(other).is_some() => {
                eprintln!("no row of this matrix selected: {other} is set, {var} is not");
                None
            }
            None => Some(Self(None)),
        }
    }

    /// Whether the row `name` runs.
    pub fn wants(&self, name: &str) -> bool {
        self.0.as_ref().is_none_or(|o| o.iter().any(|x| x == name))
    }
}

/// What a row's environment failures were, for an assertion message.
pub fn environment(tally: &Tally) -> Vec<String> {
    tally
        .environment()
        .map(|(r, f)| format!("{}: {}", r.location, f.what))
        .collect()
}

/// Which scenarios of the conformant run consulted each fault (and each variation, under
/// `variation:NAME`: the tolerance matrix's rows are selected the same way). The simulator notes every fault
/// it asks about while a scenario runs, on or off, at the branch the fault would bend: a
/// scenario that never asked about a fault behaves the same with it on, and passes as it did in
/// the conformant run. A fault's row therefore runs only the scenarios that asked (the test
/// selection of mutation testing tools, which run a mutant only against the tests that reach
/// it). The rows' expected check ids were established on whole-suite runs, and
/// `SFMC_MATRIX_FULL=1` runs every row on the whole suite again.
pub struct Coverage(BTreeMap<String, HashSet<Location>>);

impl Coverage {
    pub fn of(conformant: &Tally) -> Self {
        let mut by_fault: BTreeMap<String, HashSet<Location>> = BTreeMap::new();
        for r in &conformant.results {
            for f in &r.consulted {
                by_fault
                    .entry(f.clone())
                    .or_default()
                    .insert(r.location.clone());
            }
        }
        Self(by_fault)
    }

    /// The scenarios that consulted `fault`.
    pub fn of_fault(&self, fault: &str) -> HashSet<Location> {
        self.0.get(fault).cloned().unwrap_or_default()
    }

    /// The scenarios that consulted `variation`.
    pub fn of_variation(&self, variation: Variation) -> HashSet<Location> {
        self.of_fault(&format!("variation:{variation}"))
    }
}
