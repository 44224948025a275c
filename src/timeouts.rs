//! The time limits a run works within (`run --request-timeout`, `--page-load-timeout`,
//! `--step-timeout`, `--scenario-timeout`). Every limit hit ends the scenario as an environment
//! failure (exit 3) that names the limit and the option that sets it.

use std::time::Duration;

/// The configurable limits of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// One HTTP request (token, refresh, REST probe), connect to last byte.
    pub request: Duration,
    /// One page load in the browser (ChromeDriver's `pageLoad`); any other browser command gets
    /// this plus [`COMMAND_MARGIN`].
    pub page_load: Duration,
    /// One Gherkin step, whatever it waits for.
    pub step: Duration,
    /// One scenario, its steps together.
    pub scenario: Duration,
}

/// What a browser command may take beyond a page load (ChromeDriver answers a page load that
/// timed out itself; this margin is for a ChromeDriver that does not answer at all).
pub const COMMAND_MARGIN: Duration = Duration::from_secs(5);

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            request: Duration::from_secs(15),
            page_load: Duration::from_secs(15),
            step: Duration::from_secs(120),
            scenario: Duration::from_secs(600),
        }
    }
}

impl Timeouts {
    /// A browser command's limit.
    pub fn command(&self) -> Duration {
        self.page_load + COMMAND_MARGIN
    }
}
