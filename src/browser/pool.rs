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
}

impl BrowserConfig {
    fn capabilities(&self) -> Capabilities {
        let mut args = vec![
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
        ];
        if self.loopback_only {
            args.push(
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1, EXCLUDE localhost",
            );
        }
        let caps = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "eager",
            "timeouts": {"pageLoad": 15000, "script": 5000, "implicit": 0},
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

/// Idle sessions, reused.
#[derive(Debug)]
pub struct BrowserPool {
    config: BrowserConfig,
    idle: Mutex<Vec<Browser>>,
}

impl BrowserPool {
    pub fn new(config: BrowserConfig) -> Self {
        Self {
            config,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle session, or a new one.
    pub async fn acquire(&self) -> Result<Browser, BrowserError> {
        if let Some(b) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(b);
        }
        let connect = async {
            fantoccini::ClientBuilder::rustls()
                .map_err(|e| BrowserError::Session(e.to_string()))?
                .capabilities(self.config.capabilities())
                .connect(&self.config.webdriver_url)
                .await
                .map_err(|e| BrowserError::Session(e.to_string()))
        };
        match tokio::time::timeout(Duration::from_secs(30), connect).await {
            Ok(client) => Ok(Browser::new(client?)),
            Err(_) => Err(BrowserError::Timeout {
                cmd: "start a browser",
                secs: 30,
            }),
        }
    }

    /// Gives a healthy session back for the next scenario.
    pub fn release(&self, browser: Browser) {
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(browser);
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
