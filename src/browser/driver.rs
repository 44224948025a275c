//! ChromeDriver as a child process that leaves nothing behind. It runs in its own process group
//! (Chromium stays in that group), with a private `TMPDIR` where Chromium's profiles land; stopping
//! signals the whole group and then deletes the folder. `Drop` does the same with SIGKILL, so an
//! error or a panic cleans up too (stack-notes §1).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// How long ChromeDriver may take to report ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// Why no WebDriver endpoint is available.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("ChromeDriver not found (looked for {looked}); install Debian's chromium-driver, set SFMC_CHROMEDRIVER, or pass --webdriver URL")]
    NotFound { looked: String },
    #[error("Chromium not found at {0}; install Debian's chromium or set SFMC_CHROME")]
    NoBrowser(String),
    #[error("ChromeDriver {path} did not start: {cause}")]
    Spawn { path: String, cause: String },
    #[error("ChromeDriver did not become ready within {0} s")]
    NotReady(u64),
}

/// Finds the ChromeDriver binary: `explicit`, then `chromedriver` on `PATH`, then
/// `/usr/bin/chromedriver`.
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, DriverError> {
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p.to_owned())
        } else {
            Err(DriverError::NotFound {
                looked: p.display().to_string(),
            })
        };
    }
    let on_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("chromedriver"))
                .collect()
        })
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/bin/chromedriver")])
        .find(|p| p.is_file())
        .ok_or(DriverError::NotFound {
            looked: "chromedriver on PATH and /usr/bin/chromedriver".into(),
        })
}

/// A running ChromeDriver.
pub struct ChromeDriver {
    child: Option<Child>,
    pgid: i32,
    port: u16,
    tmp: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for ChromeDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChromeDriver(port {}, pgid {})", self.port, self.pgid)
    }
}

impl ChromeDriver {
    /// Starts `binary` on a free loopback port and waits until `/status` says ready.
    pub async fn start(binary: &Path) -> Result<Self, DriverError> {
        let spawn_err = |cause: String| DriverError::Spawn {
            path: binary.display().to_string(),
            cause,
        };
        let port = free_port().map_err(|e| spawn_err(e.to_string()))?;
        let tmp = tempfile::Builder::new()
            // Short: Chromium's profile sockets live under it, and a Unix socket path longer
            // than 107 bytes makes Chromium exit at start ("Chrome instance exited").
            .prefix("sfmc-cd-")
            .tempdir()
            .map_err(|e| spawn_err(e.to_string()))?;
        let log = std::fs::File::create(tmp.path().join("chromedriver.log"))
            .map_err(|e| spawn_err(e.to_string()))?;
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .env("TMPDIR", tmp.path())
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| spawn_err(e.to_string()))?;
        let pgid = child.id().map(|id| id as i32).unwrap_or(0);
        let mut driver = Self {
            child: Some(child),
            pgid,
            port,
            tmp: Some(tmp),
        };
        if let Err(e) = driver.wait_ready().await {
            driver.stop().await;
            return Err(e);
        }
        Ok(driver)
    }

    /// Whether the ChromeDriver process has ended (it was killed, or it crashed).
    pub fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| matches!(c.try_wait(), Ok(Some(_)) | Err(_)))
    }

    /// The WebDriver URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn wait_ready(&mut self) -> Result<(), DriverError> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| DriverError::Spawn {
                path: "chromedriver".into(),
                cause: e.to_string(),
            })?;
        let deadline = Instant::now() + READY_TIMEOUT;
        let status = format!("{}/status", self.url());
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(exit)) = child.try_wait() {
                    return Err(DriverError::Spawn {
                        path: "chromedriver".into(),
                        cause: format!("exited at start with {exit}"),
                    });
                }
            }
            if let Ok(r) = client.get(&status).send().await {
                if let Ok(v) = r.json::<serde_json::Value>().await {
                    if v["value"]["ready"] == serde_json::Value::Bool(true) {
                        return Ok(());
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(DriverError::NotReady(READY_TIMEOUT.as_secs()))
    }

    /// Stops ChromeDriver and every browser it started, then removes their profiles.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal_group(self.pgid, libc::SIGTERM);
            if tokio::time::timeout(Duration::from_secs(3), child.wait())
                .await
                .is_err()
            {
                signal_group(self.pgid, libc::SIGKILL);
                let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            }
            // Browsers may outlive the driver by a moment; make sure the group is gone.
            signal_group(self.pgid, libc::SIGKILL);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.tmp.take();
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal_group(self.pgid, libc::SIGKILL);
            let deadline = Instant::now() + Duration::from_secs(2);
            while Instant::now() < deadline {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.tmp.take();
    }
}

fn signal_group(pgid: i32, signal: i32) {
    if pgid > 1 {
        // SAFETY: kill(2) with a negative pid signals a process group we created; no memory is
        // shared with the callee.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl crate::exit::Exit for DriverError {
    /// No browser, or a driver that would not start: the environment, not the target.
    fn exit_code(&self) -> u8 {
        crate::exit::ENVIRONMENT
    }
}
