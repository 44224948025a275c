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

/// A `state` value: a quoted literal, or a named generator (`printable ASCII at 4 KB`,
/// `non-ASCII text`).
#[derive(Debug, Clone, Parameter)]
#[param(
    name = "state",
    regex = "\"[^\"]*\"|printable ASCII at \\d+ KB|non-ASCII text"
)]
pub struct State(pub String);

impl FromStr for State {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(lit) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            return Ok(Self(lit.to_owned()));
        }
        if s == "non-ASCII text" {
            return Ok(Self("état ✓ 🙂".to_owned()));
        }
        let kb: usize = s
            .trim_start_matches("printable ASCII at ")
            .trim_end_matches(" KB")
            .parse()
            .map_err(|e| format!("{s}: {e}"))?;
        let printable: String = (0x20u8..=0x7e).map(char::from).collect();
        let mut v = printable.repeat(kb * 1024 / printable.len() + 1);
        v.truncate(kb * 1024);
        Ok(Self(v))
    }
}

/// A defect of a token request, for the error matrix: `an unknown code`, `a reused code`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(
    name = "defect",
    regex = "an unknown code|a reused code|an expired code|a wrong code_verifier|another redirect_uri|a wrong client secret|an unknown client_id|no code|a repeated code|grant_type foo|a scope that was not granted"
)]
pub enum Defect {
    UnknownCode,
    ReusedCode,
    ExpiredCode,
    WrongVerifier,
    OtherRedirectUri,
    WrongSecret,
    UnknownClient,
    NoCode,
    RepeatedCode,
    UnknownGrant,
    UngrantedScope,
}

impl FromStr for Defect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "an unknown code" => Self::UnknownCode,
            "a reused code" => Self::ReusedCode,
            "an expired code" => Self::ExpiredCode,
            "a wrong code_verifier" => Self::WrongVerifier,
            "another redirect_uri" => Self::OtherRedirectUri,
            "a wrong client secret" => Self::WrongSecret,
            "an unknown client_id" => Self::UnknownClient,
            "no code" => Self::NoCode,
            "a repeated code" => Self::RepeatedCode,
            "grant_type foo" => Self::UnknownGrant,
            "a scope that was not granted" => Self::UngrantedScope,
            other => return Err(format!("unknown defect `{other}`")),
        })
    }
}
