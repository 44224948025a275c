//! The browser: ChromeDriver as a child process ([`driver`]), headless Chromium sessions kept in
//! a pool of one per worker and reused ([`pool`]), and what a step does with a session
//! ([`session`]: navigate, read the URL the browser ended on, run the login script).

pub mod driver;
pub mod forms;
pub mod pool;
pub mod session;

pub use driver::{ChromeDriver, DriverError};
pub use pool::{BrowserConfig, BrowserPool, CatcherRoutes};
pub use session::{Browser, BrowserError, SignedIn};
