//! One browser per worker, reused: a scenario takes a session when its first browser step needs
//! one and gives it back when it ends, so a run with concurrency 2 starts at most two browsers,
//! and scenarios that need no browser never start one. Sessions keep their cookies between
//! scenarios, as a tenant's single sign-on does; a scenario that needs the login page clears them.

use super::session::{Browser, BrowserError};
use fantoccini::wd::Capabilities;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// How sessions are created.
#[derive(Debug, Clone)]
pub struct BrowserConfig {
    /// The WebDriver endpoint (our ChromeDriver, or one the user runs, such as a Selenium Grid).
    pub webdriver_url: String,
    /// The Chromium binary.
    pub chrome: PathBuf,
    /// Resolve no host but loopback (the simulator): Chromium then makes no outside lookups.
    pub loopback_only: bool,
    /// Send the redirect URIs' hosts to the local catcher (`crate::catcher`).
    pub catcher: Option<CatcherRoutes>,
    /// The target's hosts (its endpoints, and the hosts its pages legitimately use; patterns
    /// such as `*.example.com` allowed). When given, every other host but loopback and the
    /// catcher's is blocked: the browser contacts the target and the catcher only.
    pub only_hosts: Vec<String>,
    /// A persistent Chromium profile (`--browser-profile`): a browser trusted after one manual
    /// sign-in is reused. One browser at a time can use it.
    pub profile: Option<PathBuf>,
    /// A page load's limit (ChromeDriver's `pageLoad`); other commands get a margin more.
    pub page_load: Duration,
}

/// How the browser reaches the local catcher: `MAP host[:port] 127.0.0.1:<catcher>` rules, and
/// the one certificate key it is to accept there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatcherRoutes {
    pub map_rules: Vec<String>,
    pub spki_arg: String,
}

impl BrowserConfig {
    /// Chromium's host resolver rules: the catcher's routes first (the first rule that matches
    /// a host wins), then the target's hosts and loopback to themselves, and every other host
    /// to nowhere. (An `EXCLUDE` rule would also exclude the catcher's loopback routes.)
    pub fn host_resolver_rules(&self) -> Option<String> {
        let mut rules: Vec<String> = self
            .catcher
            .as_ref()
            .map(|c| c.map_rules.clone())
            .unwrap_or_default();
        if self.loopback_only || !self.only_hosts.is_empty() {
            // A host to itself; a `*.example.com` pattern cannot be a replacement, so it is
            // excluded from mapping (no catcher route is under it: the target file says so).
            rules.extend(self.only_hosts.iter().map(|h| match h.starts_with("*.") {
                true => format!("EXCLUDE {h}"),
                false => format!("MAP {h} {h}"),
            }));
            rules.extend(
                [
                    "MAP 127.0.0.1 127.0.0.1",
                    "MAP localhost localhost",
                    "MAP * ~NOTFOUND",
                ]
                .map(str::to_owned),
            );
        }
        (!rules.is_empty()).then(|| rules.join(" , "))
    }

    fn capabilities(&self) -> Capabilities {
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,IsolateOrigins,site-per-process",
            "--window-size=1280,900",
            // One renderer for every site: a new process per navigation costs more than the
            // navigation. (Site isolation guards a user's browsing; these sessions hold nothing.)
            "--disable-site-isolation-trials",
            "--renderer-process-limit=1",
            "--disable-extensions",
        ]
        .map(str::to_owned)
        .to_vec();
        if let Some(rules) = self.host_resolver_rules() {
            args.push(format!("--host-resolver-rules={rules}"));
        }
        if let Some(c) = &self.catcher {
            args.push(c.spki_arg.clone());
        }
        if let Some(dir) = &self.profile {
            let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
            args.push(format!("--user-data-dir={}", dir.display()));
        }
        let caps = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "eager",
            // A login page's alert, confirm or beforeunload prompt is accepted, silently, so that
            // the login goes on (left open, every later command fails) and a navigation away
            // from the page is not held back.
            "unhandledPromptBehavior": "accept",
            "timeouts": {
                "pageLoad": u64::try_from(self.page_load.as_millis()).unwrap_or(u64::MAX),
                "script": 5000,
                "implicit": 0
            },
            // The network log is the evidence that the browser went nowhere it should not.
            "goog:loggingPrefs": {"performance": "ALL"},
            "goog:chromeOptions": {"binary": self.chrome, "args": args},
        });
        match caps {
            serde_json::Value::Object(m) => m,
            _ => Capabilities::new(),
        }
    }
}

/// Idle sessions, reused; and, when the pool started it, the ChromeDriver behind them, which it
/// starts again (at most [`MAX_DRIVER_RESTARTS`] times) when it has died in the middle of a run.
#[derive(Debug)]
pub struct BrowserPool {
    config: BrowserConfig,
    idle: Mutex<Vec<Browser>>,
    /// The WebDriver URL now (it changes when the driver is started again).
    url: Mutex<String>,
    driver: tokio::sync::Mutex<Option<OwnedDriver>>,
    /// Why no browser can be started any more, once the driver could not be started again.
    dead: Mutex<Option<String>>,
}

/// A ChromeDriver the pool started, with the binary to start it again.
#[derive(Debug)]
struct OwnedDriver {
    binary: PathBuf,
    driver: super::ChromeDriver,
    restarts: usize,
}

/// How many times a run starts ChromeDriver again after it died.
pub const MAX_DRIVER_RESTARTS: usize = 3;

impl BrowserPool {
    /// Whether its browsers keep a persistent profile (`--browser-profile`): their login
    /// session is the user's, and is never cleared.
    pub fn persistent_profile(&self) -> bool {
        self.config.profile.is_some()
    }

    pub fn new(config: BrowserConfig) -> Self {
        Self {
            url: Mutex::new(config.webdriver_url.clone()),
            config,
            idle: Mutex::new(Vec::new()),
            driver: tokio::sync::Mutex::new(None),
            dead: Mutex::new(None),
        }
    }

    /// A pool that owns `driver` (started from `binary`): it stops it in [`Self::stop_driver`],
    /// and starts it again if it dies during the run.
    pub fn with_driver(
        config: BrowserConfig,
        binary: PathBuf,
        driver: super::ChromeDriver,
    ) -> Self {
        Self {
            driver: tokio::sync::Mutex::new(Some(OwnedDriver {
                binary,
                driver,
                restarts: 0,
            })),
            ..Self::new(config)
        }
    }

    /// An idle session, or a new one. When the pool's own ChromeDriver has died, it is started
    /// again and the session asked for once more; when it cannot be, every later call fails at
    /// once with why.
    pub async fn acquire(&self) -> Result<Browser, BrowserError> {
        if let Some(b) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(b);
        }
        if let Some(why) = self.dead.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Err(BrowserError::Session(why));
        }
        let url = self.current_url();
        match self.connect(&url).await {
            Err(BrowserError::Session(e)) if self.restart_driver(&url).await? => {
                self.connect(&self.current_url()).await.map_err(|again| {
                    BrowserError::Session(format!(
                        "{e}; after ChromeDriver was started again: {again}"
                    ))
                })
            }
            other => other,
        }
    }

    /// The WebDriver URL now.
    fn current_url(&self) -> String {
        self.url.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    async fn connect(&self, url: &str) -> Result<Browser, BrowserError> {
        let connect = async {
            fantoccini::ClientBuilder::rustls()
                .map_err(|e| BrowserError::Session(e.to_string()))?
                .capabilities(self.config.capabilities())
                .connect(url)
                .await
                .map_err(|e| BrowserError::Session(e.to_string()))
        };
        match tokio::time::timeout(Duration::from_secs(30), connect).await {
            Ok(client) => Ok(Browser::new(client?, self.config.page_load)),
            Err(_) => Err(BrowserError::Timeout {
                cmd: "start a browser",
                secs: 30,
            }),
        }
    }

    /// Starts the pool's ChromeDriver again if it has died (`failed_at`: the URL a session could
    /// not start on): `Ok(true)` when it did, or another scenario did meanwhile (the idle
    /// sessions, which died with it, are dropped), `Ok(false)` when there is nothing to restart
    /// (not the pool's, or still alive), `Err` when it could not be started again.
    async fn restart_driver(&self, failed_at: &str) -> Result<bool, BrowserError> {
        let mut guard = self.driver.lock().await;
        let Some(owned) = guard.as_mut() else {
            return Ok(false);
        };
        if owned.driver.url() != failed_at {
            return Ok(true); // another scenario started it again meanwhile: try the new one
        }
        if !owned.driver.exited() {
            return Ok(false);
        }
        let fail = |why: String| {
            *self.dead.lock().unwrap_or_else(|p| p.into_inner()) = Some(why.clone());
            BrowserError::Session(why)
        };
        if owned.restarts >= MAX_DRIVER_RESTARTS {
            return Err(fail(format!(
                "ChromeDriver died again after {MAX_DRIVER_RESTARTS} restarts; no browser can be started"
            )));
        }
        owned.driver.stop().await;
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
        match super::ChromeDriver::start(&owned.binary).await {
            Ok(d) => {
                owned.restarts += 1;
                *self.url.lock().unwrap_or_else(|p| p.into_inner()) = d.url();
                owned.driver = d;
                eprintln!(
                    "warning: ChromeDriver died; started again ({} of at most {MAX_DRIVER_RESTARTS})",
                    owned.restarts
                );
                Ok(true)
            }
            Err(e) => Err(fail(format!(
                "ChromeDriver died and could not be started again: {e}"
            ))),
        }
    }

    /// Stops the pool's own ChromeDriver, and every browser it started.
    pub async fn stop_driver(&self) {
        if let Some(mut owned) = self.driver.lock().await.take() {
            owned.driver.stop().await;
        }
    }

    /// Gives a healthy session back for the next scenario.
    pub fn release(&self, browser: Browser) {
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(browser);
    }

    /// Makes every idle session forget its cookies (the login sessions of a simulator that is
    /// gone): cheaper than new browsers when one pool serves run after run. A session that does
    /// not answer is closed instead.
    pub async fn forget_cookies(&self) {
        let all: Vec<Browser> =
            std::mem::take(&mut *self.idle.lock().unwrap_or_else(|p| p.into_inner()));
        for b in all {
            match b.clear_login_session().await {
                Ok(()) => self.release(b),
                Err(_) => b.close().await,
            }
        }
    }

    /// Closes every idle session.
    pub async fn close_all(&self) {
        let all: Vec<Browser> =
            std::mem::take(&mut *self.idle.lock().unwrap_or_else(|p| p.into_inner()));
        for b in all {
            b.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(loopback_only: bool, catcher: bool) -> BrowserConfig {
        BrowserConfig {
            webdriver_url: String::new(),
            chrome: PathBuf::new(),
            loopback_only,
            only_hosts: if loopback_only {
                vec![]
            } else {
                vec!["mc1.auth.marketingcloudapis.com".into()]
            },
            profile: None,
            page_load: crate::timeouts::Timeouts::default().page_load,
            catcher: catcher.then(|| CatcherRoutes {
                map_rules: vec!["MAP 127.0.0.1:80 127.0.0.1:4444".into()],
                spki_arg: "--ignore-certificate-errors-spki-list=k".into(),
            }),
        }
    }

    #[test]
    fn the_catcher_routes_come_before_the_loopback_rules() {
        assert_eq!(
            config(true, true).host_resolver_rules().as_deref(),
            Some("MAP 127.0.0.1:80 127.0.0.1:4444 , MAP 127.0.0.1 127.0.0.1 , MAP localhost localhost , MAP * ~NOTFOUND")
        );
        assert_eq!(
            config(false, true).host_resolver_rules().as_deref(),
            Some("MAP 127.0.0.1:80 127.0.0.1:4444 , MAP mc1.auth.marketingcloudapis.com mc1.auth.marketingcloudapis.com , MAP 127.0.0.1 127.0.0.1 , MAP localhost localhost , MAP * ~NOTFOUND")
        );
        let open = BrowserConfig {
            only_hosts: vec![],
            ..config(false, false)
        };
        assert_eq!(open.host_resolver_rules(), None);
        let caps = config(false, true).capabilities();
        let args = caps["goog:chromeOptions"]["args"].to_string();
        assert!(
            args.contains("--ignore-certificate-errors-spki-list=k"),
            "{args}"
        );
    }
}
