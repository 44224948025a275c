//! The target file: a live Marketing Cloud tenant, or any server speaking its authorization code
//! grant, described in TOML (`run --target FILE`). Everything is checked before any traffic: an
//! unknown key, a wrong type, a missing field, a literal secret, an `http://` endpoint off
//! loopback or an unset environment variable is refused with the file, the line and the key.
//! Secrets come only from environment variables, so target files can be committed.

use super::{App, AppKind, Target};
use crate::login::{Consent, Credentials, LoginAction, LoginScript, LoginStep};
use crate::oauth::token::{BodyFormat, ClientAuth, TokenStyle};
use crate::secret::Secret;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use url::Url;

/// A target file that cannot be used. Exit 1: the configuration is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {key}{message}")]
pub struct FileError {
    pub file: String,
    /// 1-based; 0 when the file could not be read.
    pub line: usize,
    /// The key at fault with `: ` after it, or empty.
    pub key: String,
    pub message: String,
}

impl crate::exit::Exit for FileError {
    fn exit_code(&self) -> u8 {
        crate::exit::USAGE
    }
}

pub use super::Dialect;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: String,
    dialect: Dialect,
    subdomain: Option<String>,
    authorize_endpoint: Option<String>,
    token_endpoint: Option<String>,
    rest_probe: Option<String>,
    issuer: Option<String>,
    logout_url: Option<String>,
    #[serde(default)]
    allowed_hosts: Vec<String>,
    token_request: Option<BodyFormat>,
    client_auth: Option<ClientAuth>,
    refresh_scope: Option<String>,
    requests_per_second: Option<f64>,
    concurrency: Option<usize>,
    #[serde(default)]
    authorize_params: BTreeMap<String, String>,
    web_app: RawApp,
    public_app: RawApp,
    second_web_app: Option<RawApp>,
    user: RawUser,
    login: RawLogin,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApp {
    client_id: String,
    client_secret_env: Option<String>,
    redirect_uri: String,
    #[serde(default)]
    other_redirect_uris: Vec<String>,
    scopes: Vec<String>,
    /// A scope the app is not granted (default: `no_such_scope`).
    ungranted_scope: Option<String>,
    /// A scope the app may be granted but does not ask for (RF-07's widening).
    wider_scope: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    username: Option<String>,
    username_env: Option<String>,
    password_env: String,
    totp_seed_env: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogin {
    page: String,
    cancel: Option<String>,
    consent_page: Option<String>,
    consent_submit: Option<String>,
    typing: Option<String>,
    steps: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    fill: Option<String>,
    with: Option<String>,
    click: Option<String>,
    #[serde(default)]
    optional: bool,
}

/// Keys that would hold a secret in the file itself.
const LITERAL_SECRETS: &[(&str, &str)] = &[
    ("client_secret", "client_secret_env"),
    ("password", "password_env"),
    ("totp_seed", "totp_seed_env"),
];

/// What the harness knows of a target described by a file, beyond the [`Target`] itself.
#[derive(Debug, Clone)]
pub struct TargetFile {
    pub target: Target,
    pub dialect: Dialect,
    /// Requests per second to the target (default 2).
    pub requests_per_second: f64,
    /// Scenarios at once (default 1).
    pub concurrency: usize,
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where `key` (`section.name`, or a top-level `name`) is set, or 0.
fn line_of_key(text: &str, key: &str) -> usize {
    let (section, name) = key.rsplit_once('.').unwrap_or(("", key));
    let mut current = "";
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if let Some(s) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            current = s.trim();
            continue;
        }
        let sets = t.starts_with(&format!("{name} ")) || t.starts_with(&format!("{name}="));
        if sets && (section.is_empty() || current == section) {
            return i + 1;
        }
    }
    0
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The message of a TOML error, with a hint: the literal secret's `_env` twin, or the nearest
/// known key.
fn explain(message: &str) -> (String, String) {
    let message = message.trim().replace('\n', " ");
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return (String::new(), message);
    };
    let Some((field, expected)) = rest.split_once('`') else {
        return (String::new(), message);
    };
    let key = format!("{field}: ");
    if let Some((_, twin)) = LITERAL_SECRETS.iter().find(|(s, _)| *s == field) {
        return (
            key,
            format!("a secret cannot be written in a target file: name an environment variable with `{twin}`"),
        );
    }
    let known: Vec<&str> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|k| !k.is_empty())
        .collect();
    let nearest = known
        .iter()
        .map(|k| (distance(field, k), *k))
        .min()
        .filter(|(d, _)| *d <= 3)
        .map(|(_, k)| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default();
    (
        key,
        format!(
            "unknown key{nearest}; the keys here are {}",
            known.join(", ")
        ),
    )
}

impl TargetFile {
    /// Reads and checks `path`. `env` looks up environment variables (the process's, in use).
    pub fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, FileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| FileError {
            file: file.clone(),
            line: 0,
            key: String::new(),
            message: format!("cannot be read: {e}"),
        })?;
        Self::parse(&file, &text, env)
    }

    /// Parses and checks `text`; `file` names it in errors.
    pub fn parse(
        file: &str,
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, FileError> {
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let (mut key, message) = explain(e.message());
            let start = e.span().map(|s| s.start);
            // A wrong value (a type, an unknown variant) names no key: the key is the one on
            // the value's line.
            if key.is_empty() {
                if let Some(k) = start
                    .and_then(|o| text[..o.min(text.len())].rsplit('\n').next())
                    .and_then(|l| l.split_once('='))
                    .map(|(k, _)| k.trim())
                    .filter(|k| !k.is_empty() && !k.starts_with('{') && !k.starts_with('['))
                {
                    key = format!("{k}: ");
                }
            }
            FileError {
                file: file.to_owned(),
                line: start.map_or(0, |s| line_of(text, s)),
                key,
                message,
            }
        })?;
        let err = |key: &str, message: String| FileError {
            file: file.to_owned(),
            line: line_of_key(text, key),
            key: format!("{key}: "),
            message,
        };
        let secret_from = |key: &str, var: &str, kind: &'static str| {
            env(var)
                .map(|v| Secret::new(kind, v))
                .ok_or_else(|| err(key, format!("the environment variable {var} is not set")))
        };
        let url = |key: &str, value: &str| -> Result<Url, FileError> {
            let u = Url::parse(value).map_err(|e| err(key, format!("not a URL: {e}")))?;
            match u.scheme() {
                "https" => Ok(u),
                "http" if is_loopback(&u) => Ok(u),
                "http" => Err(err(
                    key,
                    "http:// is accepted only for loopback hosts; use https://".into(),
                )),
                other => Err(err(key, format!("the {other}: scheme is not an endpoint"))),
            }
        };
        let token_style = TokenStyle {
            format: raw.token_request.unwrap_or(match raw.dialect {
                Dialect::Sfmc => BodyFormat::Json,
                Dialect::Oauth2 => BodyFormat::Form,
            }),
            client_auth: raw.client_auth.unwrap_or(ClientAuth::Body),
        };
        if raw.dialect == Dialect::Oauth2 && raw.subdomain.is_some() {
            return Err(err(
                "subdomain",
                "a subdomain is Marketing Cloud's (dialect sfmc); dialect oauth2 names authorize_endpoint and token_endpoint".into(),
            ));
        }
        if raw.dialect == Dialect::Oauth2
            && (raw.authorize_endpoint.is_none() || raw.token_endpoint.is_none())
        {
            return Err(err(
                if raw.authorize_endpoint.is_none() {
                    "authorize_endpoint"
                } else {
                    "token_endpoint"
                },
                "dialect oauth2 needs explicit authorize_endpoint and token_endpoint".into(),
            ));
        }
        let derived = |host: &str, path: &str| {
            raw.subdomain
                .as_deref()
                .map(|s| format!("https://{s}.{host}.marketingcloudapis.com{path}"))
        };
        let authorize = raw
            .authorize_endpoint
            .clone()
            .or_else(|| derived("auth", "/v2/authorize"))
            .ok_or_else(|| {
                err(
                    "authorize_endpoint",
                    "give subdomain or authorize_endpoint".into(),
                )
            })?;
        let token = raw
            .token_endpoint
            .clone()
            .or_else(|| derived("auth", "/v2/token"))
            .ok_or_else(|| err("token_endpoint", "give subdomain or token_endpoint".into()))?;
        let rest = raw
            .rest_probe
            .clone()
            .or_else(|| derived("rest", "/platform/v1/tokenContext"));
        let authorize_endpoint = url("authorize_endpoint", &authorize)?;
        let token_endpoint = url("token_endpoint", &token)?;
        let rest_probe = rest.map(|r| url("rest_probe", &r)).transpose()?;
        let logout_url = raw
            .logout_url
            .as_deref()
            .map(|u| url("logout_url", u))
            .transpose()?;
        let app = |section: &str, kind: AppKind, a: &RawApp| -> Result<App, FileError> {
            let client_secret = match (&a.client_secret_env, kind) {
                (Some(var), AppKind::Web) => Some(secret_from(
                    &format!("{section}.client_secret_env"),
                    var,
                    "ClientSecret",
                )?),
                (Some(_), AppKind::Public) => {
                    return Err(err(
                        &format!("{section}.client_secret_env"),
                        "a public app has no client secret".into(),
                    ))
                }
                (None, AppKind::Web) => {
                    return Err(err(
                        &format!("{section}.client_secret_env"),
                        "a web app needs its client secret: name the environment variable that holds it".into(),
                    ))
                }
                (None, AppKind::Public) => None,
            };
            for u in std::iter::once(&a.redirect_uri).chain(&a.other_redirect_uris) {
                let parsed = Url::parse(u).map_err(|e| {
                    err(
                        &format!("{section}.redirect_uri"),
                        format!("{u:?} is not a URL: {e}"),
                    )
                })?;
                // The browser resolves every redirect URI's host to the local catcher, so a code
                // never reaches the app, even a real one: the catcher takes http and https.
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(err(
                        &format!("{section}.redirect_uri"),
                        format!("{u:?}: the local catcher takes http and https redirect URIs only (register one on the integration)"),
                    ));
                }
            }
            Ok(App {
                kind,
                client_id: a.client_id.clone(),
                client_secret,
                redirect_uri: a.redirect_uri.clone(),
                other_redirect_uris: a.other_redirect_uris.clone(),
                scopes: a.scopes.clone(),
                wider_scope: a.wider_scope.clone(),
                ungranted_scope: a
                    .ungranted_scope
                    .clone()
                    .unwrap_or_else(|| "no_such_scope".into()),
            })
        };
        let web_app = app("web_app", AppKind::Web, &raw.web_app)?;
        let public_app = app("public_app", AppKind::Public, &raw.public_app)?;
        let second_web_app = raw
            .second_web_app
            .as_ref()
            .map(|a| app("second_web_app", AppKind::Web, a))
            .transpose()?;
        let username = match (&raw.user.username, &raw.user.username_env) {
            (Some(u), None) => u.clone(),
            (None, Some(var)) => env(var).ok_or_else(|| {
                err(
                    "user.username_env",
                    format!("the environment variable {var} is not set"),
                )
            })?,
            _ => {
                return Err(err(
                    "user.username",
                    "give username or username_env (one of them)".into(),
                ))
            }
        };
        let totp_seed = raw
            .user
            .totp_seed_env
            .as_deref()
            .map(|var| secret_from("user.totp_seed_env", var, "TotpSeed"))
            .transpose()?;
        if totp_seed
            .as_ref()
            .is_some_and(|s| crate::totp::base32_decode(s.expose()).is_none())
        {
            return Err(err(
                "user.totp_seed_env",
                "the seed is not base32 (A-Z, 2-7), so no verification code can be made from it"
                    .into(),
            ));
        }
        let user = Credentials {
            username,
            password: secret_from("user.password_env", &raw.user.password_env, "Password")?,
            totp_seed,
        };
        if raw.login.steps.is_empty() {
            return Err(err(
                "login.steps",
                "the login script is empty: give the steps that sign in (fill the user name and password, click the button)".into(),
            ));
        }
        let mut selectors: Vec<(&str, &str)> = vec![("login.page", raw.login.page.as_str())];
        selectors.extend(raw.login.cancel.as_deref().map(|c| ("login.cancel", c)));
        selectors.extend(
            raw.login
                .consent_page
                .as_deref()
                .map(|c| ("login.consent_page", c)),
        );
        selectors.extend(
            raw.login
                .consent_submit
                .as_deref()
                .map(|c| ("login.consent_submit", c)),
        );
        for s in &raw.login.steps {
            selectors.extend(s.fill.as_deref().map(|c| ("login.steps", c)));
            selectors.extend(s.click.as_deref().map(|c| ("login.steps", c)));
        }
        for (key, selector) in selectors {
            if let Some(problem) = css_problem(selector) {
                return Err(err(
                    key,
                    format!("`{selector}` is not a CSS selector: {problem}"),
                ));
            }
        }
        let mut steps = Vec::new();
        for (i, s) in raw.login.steps.iter().enumerate() {
            let action = match (&s.fill, &s.with, &s.click) {
                (Some(selector), Some(value), None) => LoginAction::Fill {
                    selector: selector.clone(),
                    value: value.clone(),
                },
                (None, None, Some(selector)) => LoginAction::Click {
                    selector: selector.clone(),
                },
                _ => {
                    return Err(err(
                        "login.steps",
                        format!("step {}: give either `fill` and `with`, or `click`", i + 1),
                    ))
                }
            };
            steps.push(LoginStep {
                action,
                optional: s.optional,
            });
        }
        let consent = match (&raw.login.consent_page, &raw.login.consent_submit) {
            (Some(page), Some(submit)) => Some(Consent {
                page: page.clone(),
                submit: submit.clone(),
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(err(
                    "login.consent_page",
                    "give consent_submit too: the button that approves the app".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(err(
                    "login.consent_submit",
                    "give consent_page too: a selector found only on the consent page".into(),
                ))
            }
        };
        let typing = match raw.login.typing.as_deref() {
            None | Some("keys") => crate::login::Typing::Keys,
            Some("insert") => crate::login::Typing::Insert,
            Some(other) => {
                return Err(err(
                    "login.typing",
                    format!("{other:?}: use \"keys\" (a key event per character, the default) or \"insert\" (the value at once, as text input)"),
                ))
            }
        };
        let login = LoginScript {
            consent,
            typing,
            page_marker: raw.login.page.clone(),
            cancel: raw.login.cancel.clone(),
            steps,
        };
        // The name is a folder of its own under the snapshots folder.
        let slug = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if raw.name.is_empty() || raw.name.starts_with('.') || !raw.name.chars().all(slug) {
            return Err(err(
                "name",
                format!(
                    "{:?}: use letters, digits, `-`, `_` and `.` (it names the baselines' folder)",
                    raw.name
                ),
            ));
        }
        // Other hosts the target's pages use: host names, or `*.example.com`.
        let host_name = |h: &str| {
            let h = h.strip_prefix("*.").unwrap_or(h);
            !h.is_empty()
                && h.split('.').all(|l| {
                    !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
        };
        if let Some(bad) = raw.allowed_hosts.iter().find(|h| !host_name(h)) {
            return Err(err(
                "allowed_hosts",
                format!("{bad:?} is not a host name (or a pattern such as *.example.com)"),
            ));
        }
        // The local catcher takes every redirect URI's host and port: none may be one of the
        // target's own, or the browser would never reach the target.
        let own: Vec<(String, u16)> = [
            Some(&authorize_endpoint),
            Some(&token_endpoint),
            rest_probe.as_ref(),
            logout_url.as_ref(),
        ]
        .into_iter()
        .flatten()
        .filter_map(|u| Some((u.host_str()?.to_owned(), u.port_or_known_default()?)))
        .collect();
        for (section, a) in [("web_app", &web_app), ("public_app", &public_app)]
            .into_iter()
            .chain(second_web_app.as_ref().map(|a| ("second_web_app", a)))
        {
            for u in std::iter::once(&a.redirect_uri).chain(&a.other_redirect_uris) {
                let Some((host, port)) = Url::parse(u)
                    .ok()
                    .and_then(|p| Some((p.host_str()?.to_owned(), p.port_or_known_default()?)))
                else {
                    continue;
                };
                let clash = own
                    .iter()
                    .any(|(h, p)| h.eq_ignore_ascii_case(&host) && *p == port)
                    || raw
                        .allowed_hosts
                        .iter()
                        .any(|pattern| super::host_matches(pattern, &host));
                if clash {
                    return Err(err(
                        &format!("{section}.redirect_uri"),
                        format!("{u:?} is on a host of the target itself: the local catcher takes the redirect URIs' hosts, so register a redirect URI on another host or port"),
                    ));
                }
            }
        }
        let loopback_only = [&authorize_endpoint, &token_endpoint]
            .into_iter()
            .chain(rest_probe.as_ref())
            .all(is_loopback);
        if raw
            .requests_per_second
            .is_some_and(|r| !(r > 0.0 && r <= 100.0))
        {
            return Err(err(
                "requests_per_second",
                "give a number above 0 and at most 100".into(),
            ));
        }
        Ok(Self {
            target: Target {
                name: raw.name.clone(),
                dialect: raw.dialect,
                token_style,
                authorize_endpoint,
                token_endpoint,
                web_app,
                public_app,
                second_web_app,
                user,
                login,
                rest_probe,
                issuer: raw.issuer.clone(),
                logout_url,
                loopback_only,
                refresh_scope: raw.refresh_scope.clone().unwrap_or_else(|| {
                    match raw.dialect {
                        Dialect::Sfmc => "offline",
                        Dialect::Oauth2 => "offline_access",
                    }
                    .into()
                }),
                allowed_hosts: raw.allowed_hosts,
                authorize_params: raw.authorize_params.into_iter().collect(),
                controls: None,
            },
            dialect: raw.dialect,
            requests_per_second: raw.requests_per_second.unwrap_or(2.0),
            concurrency: raw.concurrency.unwrap_or(1).max(1),
        })
    }
}

/// What makes `selector` no CSS selector, by its structure: empty, unbalanced brackets,
/// parentheses or quotes, or a combinator with nothing on one side. (The browser judges the rest
/// when `doctor` or a run looks for it.)
fn css_problem(selector: &str) -> Option<String> {
    let s = selector.trim();
    if s.is_empty() {
        return Some("it is empty".into());
    }
    let mut open: Vec<char> = Vec::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            match c {
                '\\' => {
                    chars.next();
                }
                c if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '\\' => {
                chars.next();
            }
            '"' | '\'' => quote = Some(c),
            '[' | '(' => {
                if c == '[' && open.last() == Some(&'[') {
                    return Some("a `[` inside an attribute selector".into());
                }
                open.push(c);
            }
            ']' | ')' => {
                let want = if c == ']' { '[' } else { '(' };
                if open.pop() != Some(want) {
                    return Some(format!("a `{c}` that closes nothing"));
                }
            }
            _ => {}
        }
    }
    if quote.is_some() {
        return Some("a quote that is not closed".into());
    }
    if let Some(c) = open.last() {
        return Some(format!("a `{c}` that is not closed"));
    }
    for part in s.split(',') {
        let part = part.trim();
        if part.is_empty() {
            return Some("an empty part between commas".into());
        }
        let first = part.chars().next().unwrap_or(' ');
        let last = part.chars().last().unwrap_or(' ');
        if matches!(first, '>' | '+' | '~') || matches!(last, '>' | '+' | '~') {
            return Some("a combinator with nothing on one side".into());
        }
    }
    None
}

/// Whether `u`'s host is a loopback address or `localhost`.
pub fn is_loopback(u: &Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_selectors_are_checked_for_their_structure() {
        for ok in [
            "input[name=prompt][value=login]",
            ".login-help a[href$='/abort']",
            "form#login > button:not([disabled])",
            "a[title=\"x]y\"], #b",
            "input[name='a\\'b']",
        ] {
            assert_eq!(css_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "input[[name=prompt",
            "input[name=prompt",
            "a)",
            "a[title='x]",
            "a,,b",
            "> a",
            "a +",
            "div:not(.x",
        ] {
            assert!(css_problem(bad).is_some(), "{bad:?} passed");
        }
    }

    const GOOD: &str = r##"
name = "acme"
dialect = "sfmc"
subdomain = "mc563885gzs27c5t9-63k636ttgm"

[web_app]
client_id = "webid"
client_secret_env = "T_WEB_SECRET"
redirect_uri = "https://127.0.0.1:80/cb"
other_redirect_uris = ["https://127.0.0.1:80/cb?tenant=1"]
scopes = ["email_read", "offline"]

[public_app]
client_id = "pubid"
redirect_uri = "https://127.0.0.1:80/public"
scopes = ["email_read"]

[user]
username = "qa@acme.example"
password_env = "T_PASSWORD"

[login]
page = "form#login"
steps = [
  { fill = "#username", with = "{username}" },
  { fill = "#password", with = "{password}" },
  { click = "#login" },
  { click = "button[type=submit]", optional = true },
]
"##;

    fn env(var: &str) -> Option<String> {
        match var {
            "T_WEB_SECRET" => Some("web-secret-value".into()),
            "T_PASSWORD" => Some("password-value".into()),
            _ => None,
        }
    }

    fn parse(text: &str) -> Result<TargetFile, FileError> {
        TargetFile::parse("t.toml", text, &env)
    }

    #[test]
    fn a_good_file_derives_the_tenant_endpoints_and_reads_secrets_from_the_environment() {
        let t = parse(GOOD).expect("a good file").target;
        assert_eq!(
            t.authorize_endpoint.as_str(),
            "https://mc563885gzs27c5t9-63k636ttgm.auth.marketingcloudapis.com/v2/authorize"
        );
        assert_eq!(
            t.rest_probe.as_ref().map(Url::as_str),
            Some("https://mc563885gzs27c5t9-63k636ttgm.rest.marketingcloudapis.com/platform/v1/tokenContext")
        );
        assert_eq!(
            t.web_app.client_secret.as_ref().map(Secret::expose),
            Some("web-secret-value")
        );
        assert!(!t.loopback_only);
        assert!(t.controls.is_none());
        let optional: Vec<bool> = t.login.steps.iter().map(|s| s.optional).collect();
        assert_eq!(optional, vec![false, false, false, true]);
        assert_eq!(
            t.login.typing,
            crate::login::Typing::Keys,
            "keys by default"
        );
        let caps = t.capabilities();
        assert!(caps.query_redirect_uri && !caps.second_web_app && !caps.controls);
    }

    #[test]
    fn dialect_oauth2_defaults_to_form_bodies_and_offline_access_and_names_its_endpoints() {
        let oauth2 = GOOD.replace(
            "dialect = \"sfmc\"\nsubdomain = \"mc563885gzs27c5t9-63k636ttgm\"",
            "dialect = \"oauth2\"\nauthorize_endpoint = \"https://as.example/auth\"\ntoken_endpoint = \"https://as.example/token\"\nclient_auth = \"basic\"",
        );
        let t = parse(&oauth2).expect("an oauth2 file").target;
        assert_eq!(t.dialect, Dialect::Oauth2);
        assert_eq!(t.token_style.format, BodyFormat::Form);
        assert_eq!(t.token_style.client_auth, ClientAuth::Basic);
        assert_eq!(t.refresh_scope, "offline_access");
        assert!(
            t.rest_probe.is_none(),
            "no Marketing Cloud REST host is derived"
        );
        assert!(!t.capabilities().sfmc);
        let with_subdomain = oauth2.replace(
            "dialect = \"oauth2\"",
            "dialect = \"oauth2\"\nsubdomain = \"x\"",
        );
        let e = parse(&with_subdomain).expect_err("a subdomain in oauth2");
        assert!(
            e.to_string()
                .contains("subdomain: a subdomain is Marketing Cloud's"),
            "{e}"
        );
        let no_endpoint = GOOD
            .replace("dialect = \"sfmc\"", "dialect = \"oauth2\"")
            .replace("subdomain = \"mc563885gzs27c5t9-63k636ttgm\"\n", "");
        let e = parse(&no_endpoint).expect_err("oauth2 without endpoints");
        assert!(
            e.to_string().contains("needs explicit authorize_endpoint"),
            "{e}"
        );
        let e = parse(&oauth2.replace("client_auth = \"basic\"", "client_auth = \"jwt\""))
            .expect_err("an unknown client_auth");
        assert!(e.to_string().contains("client_auth"), "{e}");
    }

    #[test]
    fn names_allowed_hosts_and_redirect_hosts_that_would_misdirect_are_refused() {
        let e = parse(&GOOD.replace("name = \"acme\"", "name = \"../x\"")).expect_err("a path");
        assert!(e.to_string().contains("name: \"../x\""), "{e}");
        let e = parse(&GOOD.replace(
            "dialect = \"sfmc\"",
            "dialect = \"sfmc\"\nallowed_hosts = [\"x , EXCLUDE app.example\"]",
        ))
        .expect_err("a rule in a host");
        assert!(e.to_string().contains("is not a host name"), "{e}");
        let t = parse(&GOOD.replace(
            "dialect = \"sfmc\"",
            "dialect = \"sfmc\"\nallowed_hosts = [\"*.salesforce.com\", \"login.example\"]",
        ))
        .expect("host patterns")
        .target;
        assert!(t.is_own("https://eu1.login.salesforce.com/x"));
        assert!(!t.is_own("https://salesforce.com.evil.example/x"));
        let on_target = GOOD.replace(
            "https://127.0.0.1:80/public",
            "https://mc563885gzs27c5t9-63k636ttgm.auth.marketingcloudapis.com/cb",
        );
        let e = parse(&on_target).expect_err("a redirect URI on the target's host");
        assert!(e.to_string().contains("public_app.redirect_uri"), "{e}");
        assert!(
            e.to_string().contains("on a host of the target itself"),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_key_is_refused_with_its_line_and_the_nearest_key() {
        let e = parse(&GOOD.replace("subdomain =", "subdomian =")).expect_err("a typo");
        assert_eq!(e.line, 4, "{e}");
        assert!(e.to_string().contains("did you mean `subdomain`?"), "{e}");
        assert!(
            e.to_string()
                .starts_with("t.toml:4: subdomian: unknown key"),
            "{e}"
        );
    }

    #[test]
    fn an_empty_login_script_or_a_broken_selector_is_refused_with_its_line() {
        let empty = GOOD.replace(
            r##"steps = [
  { fill = "#username", with = "{username}" },
  { fill = "#password", with = "{password}" },
  { click = "#login" },
  { click = "button[type=submit]", optional = true },
]"##,
            "steps = []",
        );
        let e = parse(&empty).expect_err("no steps");
        assert!(
            e.to_string()
                .starts_with("t.toml:24: login.steps: the login script is empty"),
            "{e}"
        );
        let e = parse(&GOOD.replace("page = \"form#login\"", "page = \"form[id=login\""))
            .expect_err("a broken selector");
        assert!(
            e.to_string().starts_with(
                "t.toml:23: login.page: `form[id=login` is not a CSS selector: a `[` that is not closed"
            ),
            "{e}"
        );
        let insert = parse(&GOOD.replace(
            "page = \"form#login\"",
            "page = \"form#login\"\ntyping = \"insert\"",
        ))
        .expect("typing = insert");
        assert_eq!(insert.target.login.typing, crate::login::Typing::Insert);
        let e = parse(&GOOD.replace(
            "page = \"form#login\"",
            "page = \"form#login\"\ntyping = \"paste\"",
        ))
        .expect_err("an unknown way of typing");
        assert!(
            e.to_string()
                .contains("login.typing: \"paste\": use \"keys\""),
            "{e}"
        );
        let e = parse(&GOOD.replace("{ click = \"#login\" }", "{ click = \"#login >\" }"))
            .expect_err("a broken step selector");
        assert!(e.to_string().contains("login.steps: `#login >`"), "{e}");
    }

    #[test]
    fn a_literal_secret_is_refused() {
        let e = parse(&GOOD.replace(
            "client_secret_env = \"T_WEB_SECRET\"",
            "client_secret = \"s3cr3t\"",
        ))
        .expect_err("a literal secret");
        assert!(
            e.to_string()
                .contains("client_secret: a secret cannot be written"),
            "{e}"
        );
        assert_eq!(e.line, 8, "{e}");
        assert!(!e.to_string().contains("s3cr3t"));
    }

    #[test]
    fn an_unset_variable_a_wrong_type_and_a_missing_field_are_refused() {
        let e = parse(&GOOD.replace("T_PASSWORD", "T_UNSET")).expect_err("unset");
        assert_eq!(
            e.to_string(),
            "t.toml:20: user.password_env: the environment variable T_UNSET is not set"
        );
        let e = parse(&GOOD.replace("scopes = [\"email_read\"]", "scopes = \"email_read\""))
            .expect_err("a wrong type");
        assert_eq!(e.line, 16, "{e}");
        let e = parse(&GOOD.replace("name = \"acme\"\n", "")).expect_err("no name");
        assert!(e.to_string().contains("missing field `name`"), "{e}");
    }

    #[test]
    fn http_is_accepted_only_on_loopback() {
        let on = |ep: &str| {
            parse(&GOOD.replace(
                "subdomain = \"mc563885gzs27c5t9-63k636ttgm\"",
                &format!("authorize_endpoint = \"{ep}/v2/authorize\"\ntoken_endpoint = \"{ep}/v2/token\""),
            ))
        };
        let local = on("http://127.0.0.1:4567").expect("loopback");
        assert!(local.target.loopback_only);
        let e = on("http://auth.example.com").expect_err("http off loopback");
        assert!(e.to_string().contains("only for loopback"), "{e}");
    }

    #[test]
    fn a_real_app_s_redirect_uri_is_taken_since_the_catcher_answers_for_it() {
        let t = parse(&GOOD.replace("https://127.0.0.1:80/public", "https://app.example/public"))
            .expect("a real app's redirect URI")
            .target;
        let (routes, hosts) = crate::catcher::target_routes(&t);
        assert!(routes.contains(&"app.example:443".to_owned()), "{routes:?}");
        assert!(hosts.contains(&"app.example".to_owned()), "{hosts:?}");
        let e = parse(&GOOD.replace("https://127.0.0.1:80/public", "myapp://callback"))
            .expect_err("a custom scheme");
        assert!(e.to_string().contains("public_app.redirect_uri"), "{e}");
        assert!(
            e.to_string().contains("http and https redirect URIs only"),
            "{e}"
        );
    }

    #[test]
    fn an_error_in_a_section_points_at_that_section_s_line_and_a_seed_must_be_base32() {
        let with_second = format!(
            "{GOOD}\n[second_web_app]\nclient_id = \"w2\"\nclient_secret_env = \"T_UNSET2\"\nredirect_uri = \"https://127.0.0.1:80/2\"\nscopes = []\n"
        );
        let e = parse(&with_second).expect_err("unset");
        assert!(
            e.to_string()
                .starts_with("t.toml:33: second_web_app.client_secret_env"),
            "{e}"
        );
        let env_with_seed = |var: &str| match var {
            "T_SEED" => Some("not base32!".into()),
            other => env(other),
        };
        let e = TargetFile::parse(
            "t.toml",
            &GOOD.replace(
                "password_env = \"T_PASSWORD\"",
                "password_env = \"T_PASSWORD\"\ntotp_seed_env = \"T_SEED\"",
            ),
            &env_with_seed,
        )
        .expect_err("a bad seed");
        assert!(e.to_string().contains("not base32"), "{e}");
        assert!(
            !e.to_string().contains("not base32!"),
            "the seed was echoed: {e}"
        );
    }

    #[test]
    fn a_step_is_a_fill_or_a_click() {
        let e = parse(&GOOD.replace(
            "{ click = \"#login\" }",
            "{ click = \"#login\", fill = \"#x\" }",
        ))
        .expect_err("both");
        assert!(e.to_string().contains("step 3: give either"), "{e}");
    }

    #[test]
    fn nearest_keys_are_found_by_edit_distance() {
        assert_eq!(distance("subdomian", "subdomain"), 2);
        assert_eq!(distance("", "abc"), 3);
    }
}
