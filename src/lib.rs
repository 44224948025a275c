//! sfmc-oauth-conformance: a conformance and security test harness for the Salesforce Marketing
//! Cloud OAuth 2.0 authorization code grant (`/v2/authorize`, `/v2/token`).
//!
//! The library is cut by domain, mirroring the feature folders:
//! - [`oauth`]: the protocol vocabulary (authorize request, token request and response, errors, PKCE);
//! - [`target`]: the one seam to the system under test (the embedded simulator or a live tenant);
//! - [`simulator`]: the embedded Marketing Cloud authorization server simulator;
//! - [`browser`]: ChromeDriver and headless Chromium, their lifecycle and the login script;
//! - [`http`]: bounded HTTP calls to the token endpoint, recorded as redacted evidence;
//! - [`runner`]: the cucumber glue (World, parameters, steps, hooks) and the run itself;
//! - [`cli`]: the `sfmc-conformance` command line and its exit codes.

pub mod browser;
pub mod catcher;
pub mod cli;
pub mod doctor;
pub mod evidence;
pub mod exit;
pub mod http;
pub mod login;
pub mod oauth;
pub mod out;
pub mod outcome;
pub mod random;
pub mod report;
pub mod runner;
pub mod secret;
pub mod session;
pub mod simulator;
pub mod target;
pub mod timeouts;
pub mod tls;
pub mod totp;
