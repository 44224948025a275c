//! Custom parameter types, so step text speaks OAuth: `{app}`, `{oauth_error}`, `{json_type}`.

use crate::oauth::OAuthErrorCode;
use crate::target::AppKind;
use cucumber::Parameter;
use std::str::FromStr;

/// `web app` or `public app`.
#[derive(Debug, Clone, Copy, Parameter)]
#[param(name = "app", regex = "web app|public app")]
pub struct App(pub AppKind);

impl FromStr for App {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self)
    }
}

/// An OAuth `error` code such as `invalid_grant`, optionally quoted.
#[derive(Debug, Clone, Parameter)]
#[param(name = "oauth_error", regex = "\"?([a-z][a-z_]*)\"?")]
pub struct OAuthError(pub OAuthErrorCode);

impl FromStr for OAuthError {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim_matches('"').parse().map(Self)
    }
}
