//! Custom parameter types, so step text speaks OAuth: `{app}`, `{oauth_error}`, `{param}`,
//! `{field}`, `{fields}`, `{header}`, `{scope}`, `{grant_type}`, `{pkce_method}`, `{other_app}`,
//! `{body}`, `{state}`, `{defect}`. None of their regular expressions has a capturing group: the
//! value parsed is the whole match.

use crate::oauth::token::GrantType;
use crate::oauth::OAuthErrorCode;
use crate::target::{AppKind, UnknownAppKind};
use cucumber::Parameter;
use std::convert::Infallible;
use std::str::FromStr;

/// A step's parameter that does not say what its type means.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct BadParameter(String);

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// `FromStr` for parameters that are their text, quotes removed.
macro_rules! text_parameter {
    ($($t:ident),*) => {$(
        impl FromStr for $t {
            type Err = Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self(unquote(s).to_owned()))
            }
        }
    )*};
}

text_parameter!(Param, Field, Header, Scope, PkceMethod);

/// `web app` or `public app`.
#[derive(Debug, Clone, Copy, Parameter)]
#[param(name = "app", regex = "web app|public app")]
pub struct App(pub AppKind);

impl FromStr for App {
    type Err = UnknownAppKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self)
    }
}

/// An OAuth `error` code such as `invalid_grant`, optionally quoted.
#[derive(Debug, Clone, Parameter)]
#[param(name = "oauth_error", regex = "\"?[a-z][a-z_]*\"?")]
pub struct OAuthError(pub OAuthErrorCode);

impl FromStr for OAuthError {
    type Err = Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        unquote(s).parse().map(Self)
    }
}

/// The name of a request parameter or JSON field, bare: `redirect_uri`, `code_verifier`.
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(name = "param", regex = "[a-z][a-z_]*")]
pub struct Param(pub String);

/// The name of a response field, quoted: `"token_type"`.
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(name = "field", regex = "\"[a-z][a-z_]*\"")]
pub struct Field(pub String);

/// A quoted, comma-separated list of parameter or field names: `"error, error_description"`.
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(name = "fields", regex = "\"[a-z][a-z_]*(?:, *[a-z][a-z_]*)*\"")]
pub struct Fields(pub Vec<String>);

impl FromStr for Fields {
    type Err = Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(
            unquote(s)
                .split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect(),
        ))
    }
}

/// An HTTP header name, quoted: `"Cache-Control"`.
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(name = "header", regex = "\"[A-Za-z][A-Za-z0-9-]*\"")]
pub struct Header(pub String);

/// A quoted scope: space-separated scope names, which may name `{ungranted_scope}`.
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(name = "scope", regex = "\"[^\"]*\"")]
pub struct Scope(pub String);

impl Scope {
    /// The scope names, in order.
    pub fn names(&self) -> Vec<String> {
        self.0
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// A quoted `grant_type`: `"client_credentials"`, `"password"`, or any other value.
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(name = "grant_type", regex = "\"[a-z][a-z_:.-]*\"")]
pub struct Grant(pub GrantType);

impl FromStr for Grant {
    type Err = Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        unquote(s).parse().map(Self)
    }
}

/// A `code_challenge_method` as sent: `S256`, `plain`, or any other word.
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(name = "pkce_method", regex = "[A-Za-z0-9_-]+")]
pub struct PkceMethod(pub String);

/// Another app of the target that tries to use the scenario app's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(name = "other_app", regex = "second|public")]
pub enum OtherApp {
    /// The target's second web app.
    SecondWeb,
    /// The target's public app.
    Public,
}

impl FromStr for OtherApp {
    type Err = BadParameter;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "second" => Ok(Self::SecondWeb),
            "public" => Ok(Self::Public),
            other => Err(BadParameter(format!("no {other} app (second, public)"))),
        }
    }
}

/// How a token request's body is sent: `"form"` (form-encoded), or JSON labelled with another
/// media type (`"text/plain"`).
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(name = "body", regex = "\"[a-z]+(?:/[a-z0-9.+-]+)?\"")]
pub enum Body {
    Form,
    Labelled(String),
}

impl FromStr for Body {
    type Err = Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match unquote(s) {
            "form" => Self::Form,
            other => Self::Labelled(other.to_owned()),
        })
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
    type Err = BadParameter;
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
            .map_err(|e| BadParameter(format!("{s}: {e}")))?;
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
    type Err = BadParameter;
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
            other => return Err(BadParameter(format!("unknown defect `{other}`"))),
        })
    }
}
