//! The one seam to the system under test. A [`Target`] says where the endpoints are, which apps
//! (installed-package integrations) and which user to use, and how to sign in through the
//! browser (a [`LoginScript`] of selectors, data rather than code). The embedded simulator offers
//! itself as a target; a live tenant described by a target file is another. Powers only a
//! simulator has (its clock, throttling, faults, journal) are reached through one [`Controls`]
//! interface, which a live target does not offer; [`Target::wait`] moves the simulator's clock
//! and, against a live target, really waits.
//!
//! This module knows no particular target: it imports neither the simulator nor the browser.

use crate::login::{Credentials, LoginScript};
use crate::oauth::token::TokenStyle;

pub mod file;
use crate::secret::Secret;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The two kinds of app the authorization code grant serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppKind {
    /// A web app: confidential, authenticates with its client secret.
    Web,
    /// A public app: no secret; protects its code with PKCE.
    Public,
}

/// A word that names no kind of app.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown app kind `{0}` (web app, public app)")]
pub struct UnknownAppKind(pub String);

impl FromStr for AppKind {
    type Err = UnknownAppKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "web app" | "web" => Ok(Self::Web),
            "public app" | "public" => Ok(Self::Public),
            other => Err(UnknownAppKind(other.to_owned())),
        }
    }
}

impl fmt::Display for AppKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Web => "web app",
            Self::Public => "public app",
        })
    }
}

/// An installed-package integration the harness acts as.
#[derive(Debug, Clone)]
pub struct App {
    pub kind: AppKind,
    pub client_id: String,
    /// Web apps only.
    pub client_secret: Option<Secret>,
    /// A redirect URI registered on the integration, in plain text.
    pub redirect_uri: String,
    /// The other redirect URIs registered on the integration (one with a query serves RU-04).
    pub other_redirect_uris: Vec<String>,
    /// The scopes this app asks for at authorize.
    pub scopes: Vec<String>,
    /// A scope the integration is not granted (for scope checks).
    pub ungranted_scope: String,
    /// A scope the integration may be granted but this app's authorization does not ask for:
    /// asking for it at refresh widens the grant (RF-07).
    pub wider_scope: Option<String>,
}

/// Powers only a simulator has. A live target has none of them: a scenario that needs one is
/// tagged `@simulator` and is not run against a live target.
pub trait Controls: Send + Sync + fmt::Debug {
    /// Moves the target's clock forward (codes and tokens age without waiting).
    fn advance_clock(&self, by: Duration);
    /// Turns throttling (Marketing Cloud's 429 on every request) on or off.
    fn set_throttle(&self, on: bool);
    /// The names of the faults the target runs with.
    fn faults(&self) -> Vec<String>;
    /// Every exchange so far, redacted, one JSON object each.
    fn journal(&self) -> Vec<serde_json::Value>;
    /// Starts noting which faults the target consults (see `Simulator::watch`).
    fn watch(&self) -> u64;
    /// Ends watch `id`: the names of the faults consulted while it was open.
    fn consulted(&self, id: u64) -> Vec<String>;
}

/// A target description that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TargetError {
    #[error("the target has no {0}")]
    MissingApp(AppKind),
    #[error("the {kind} `{name}` has no redirect URI")]
    NoRedirectUri { kind: AppKind, name: String },
    #[error("the target has no user to sign in with")]
    NoUser,
}

impl crate::exit::Exit for TargetError {
    fn exit_code(&self) -> u8 {
        crate::exit::USAGE
    }
}

/// How the target speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Marketing Cloud: JSON token requests, `offline` for refresh tokens, its error shapes,
    /// instance URLs in the token response.
    Sfmc,
    /// RFC 6749 as written: form-encoded token requests, HTTP Basic or body credentials, its
    /// error shapes. Checks of Marketing Cloud's own ways (`@sfmc`) are not applicable.
    Oauth2,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sfmc => "sfmc",
            Self::Oauth2 => "oauth2",
        })
    }
}

/// What the harness tests.
#[derive(Debug, Clone)]
pub struct Target {
    /// Short name, used for the snapshot folder (`reports/snapshots/<name>/`).
    pub name: String,
    /// How the target speaks: decides which checks apply.
    pub dialect: Dialect,
    /// How token requests are encoded and how clients authenticate.
    pub token_style: TokenStyle,
    pub authorize_endpoint: Url,
    pub token_endpoint: Url,
    pub web_app: App,
    pub public_app: App,
    /// A second web app, for checks that codes and tokens are bound to their client.
    pub second_web_app: Option<App>,
    /// Who signs in through the browser.
    pub user: Credentials,
    /// How to get past the login page.
    pub login: LoginScript,
    /// A REST endpoint that takes a Bearer token (Marketing Cloud: `platform/v1/tokenContext` on
    /// the REST host), to prove a token works or is dead.
    pub rest_probe: Option<Url>,
    /// The issuer the target names itself with in `iss` (RFC 9207), if it does.
    pub issuer: Option<String>,
    /// Where the browser signs the user out (live targets).
    pub logout_url: Option<Url>,
    /// Whether every endpoint is on loopback (the browser then resolves no other host).
    pub loopback_only: bool,
    /// The scope that yields a refresh token (Marketing Cloud: `offline`).
    pub refresh_scope: String,
    /// Other hosts the target's own pages legitimately use (a live tenant's login host, its
    /// assets): requests to them are not requests to a third party.
    pub allowed_hosts: Vec<String>,
    /// Extra parameters on every authorization request (`prompt=consent`, say).
    pub authorize_params: Vec<(String, String)>,
    /// The simulator's powers, when the target is a simulator run by this process.
    pub controls: Option<Arc<dyn Controls>>,
}

impl Target {
    /// The app of `kind`.
    pub fn app(&self, kind: AppKind) -> &App {
        match kind {
            AppKind::Web => &self.web_app,
            AppKind::Public => &self.public_app,
        }
    }

    /// The simulator's powers, if this target has them.
    pub fn controls(&self) -> Option<&dyn Controls> {
        self.controls.as_deref()
    }

    /// What the target can run.
    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            loopback: self.loopback_only,
            sfmc: self.dialect == Dialect::Sfmc,
            form_body: self.token_style.format == crate::oauth::token::BodyFormat::Form,
            sign_out: self.logout_url.is_some(),
            ..Capabilities::of(
                self.controls.is_some(),
                &self.web_app,
                self.second_web_app.as_ref(),
            )
        }
    }

    /// The scopes an authorization request asks for by default. In dialect oauth2 the refresh
    /// scope (`offline_access`) is asked for here, as OpenID Connect does; Marketing Cloud takes
    /// it at the token endpoint.
    pub fn authorize_scopes(&self, app: &App) -> Vec<String> {
        let mut scopes = app.scopes.clone();
        if self.dialect == Dialect::Oauth2 && !scopes.contains(&self.refresh_scope) {
            scopes.push(self.refresh_scope.clone());
        }
        scopes
    }

    /// The `scope` a code exchange sends, given the scopes asked for at authorize: Marketing
    /// Cloud's adds the refresh scope; RFC 6749 §4.1.3 has no scope in a code exchange.
    pub fn exchange_scope(&self, authorized: &[String]) -> Option<String> {
        match self.dialect {
            Dialect::Sfmc => Some(format!("{} {}", authorized.join(" "), self.refresh_scope)),
            Dialect::Oauth2 => None,
        }
    }

    /// Lets `d` pass: the simulator's clock moves at once; a live target is waited for, in
    /// real time, with the time left shown every half minute for a long wait.
    pub async fn wait(&self, d: Duration) {
        match self.controls() {
            Some(c) => c.advance_clock(d),
            None => wait_in_real_time(d).await,
        }
    }

    /// Whether `url` is one of the target's own: on the authorization endpoint's origin, or on
    /// one of its allowed hosts.
    pub fn is_own(&self, url: &str) -> bool {
        let Ok(u) = Url::parse(url) else {
            return false;
        };
        u.origin() == self.authorize_endpoint.origin()
            || u.host_str()
                .is_some_and(|h| self.allowed_hosts.iter().any(|a| host_matches(a, h)))
    }

    /// Every secret of the target's apps and user, for a redactor.
    pub fn secrets(&self) -> impl Iterator<Item = &Secret> {
        [&self.web_app, &self.public_app]
            .into_iter()
            .chain(self.second_web_app.as_ref())
            .filter_map(|a| a.client_secret.as_ref())
            .chain(self.user.secrets())
    }
}

/// Whether `host` matches `pattern`: the same host, or for `*.example.com` any host under
/// `example.com`.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(domain) => host.ends_with(&format!(".{domain}")),
        None => host == pattern,
    }
}

/// Real-time waits going on at once in this process.
static WAITING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Waits `d`. A wait of 20 s or more says so, with how many waits overlap, and shows the time
/// left every 30 s.
async fn wait_in_real_time(d: Duration) {
    use std::sync::atomic::Ordering;
    struct Waiting;
    impl Drop for Waiting {
        fn drop(&mut self) {
            WAITING.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let at_once = WAITING.fetch_add(1, Ordering::SeqCst) + 1;
    let _waiting = Waiting;
    if d < Duration::from_secs(20) {
        tokio::time::sleep(d).await;
        return;
    }
    let end = tokio::time::Instant::now() + d;
    crate::say!(
        "  waiting in real time: {} ({at_once} wait(s) at once)",
        clock(d)
    );
    loop {
        let left = end.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            break;
        }
        let step = left.min(Duration::from_secs(30));
        tokio::time::sleep(step).await;
        let left = end.saturating_duration_since(tokio::time::Instant::now());
        if !left.is_zero() {
            crate::say!(
                "  waiting in real time: {} left of {}",
                clock(left),
                clock(d)
            );
        }
    }
}

/// `4m 50s`, `45s`.
fn clock(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    match (s / 60, s % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m {s}s"),
    }
}

/// What a target can run, known before it starts: it decides which scenarios are planned, and
/// why the others are not applicable. A scenario says what it needs with a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// The target has the simulator's [`Controls`] (`@simulator` scenarios need them).
    pub controls: bool,
    /// The target names a second web app (`@second-app`: codes and tokens bound to their client).
    pub second_web_app: bool,
    /// The web app has another registered redirect URI (`@other-uri`).
    pub other_redirect_uri: bool,
    /// The web app has a registered redirect URI with a query (`@query-uri`).
    pub query_redirect_uri: bool,
    /// `@intrusive` scenarios may run against a live target (`--intrusive`).
    pub intrusive: bool,
    /// `@slow` scenarios may wait in real time against a live target (`--slow`).
    pub slow: bool,
    /// Every endpoint is on loopback (TLS and cookie checks apply to hosts reached over a
    /// network).
    pub loopback: bool,
    /// The target names a sign-out page (`@sign-out`).
    pub sign_out: bool,
    /// The target speaks Marketing Cloud's dialect (`@sfmc`: its JSON bodies, instance URLs,
    /// tssd, throttling shape, error_uri).
    pub sfmc: bool,
    /// The target takes form-encoded token requests (`@form-body`: a parameter sent twice).
    pub form_body: bool,
}

impl Capabilities {
    /// The capabilities of a target with these apps.
    pub fn of(controls: bool, web_app: &App, second_web_app: Option<&App>) -> Self {
        Self {
            controls,
            loopback: controls,
            sign_out: false,
            sfmc: true,
            form_body: false,
            second_web_app: second_web_app.is_some(),
            other_redirect_uri: !web_app.other_redirect_uris.is_empty(),
            query_redirect_uri: web_app.other_redirect_uris.iter().any(|u| u.contains('?')),
            intrusive: false,
            slow: false,
        }
    }

    /// With `--intrusive` and `--slow` as asked (they matter against a live target only).
    pub fn allowing(self, intrusive: bool, slow: bool) -> Self {
        Self {
            intrusive,
            slow,
            ..self
        }
    }

    /// Whether `reason` (from [`Self::unmet`]) is a gate the user can open with a flag
    /// (`--intrusive`, `--slow`): the scenario was not run, rather than not applicable.
    pub fn is_gate(reason: &str) -> bool {
        reason == NEEDS_INTRUSIVE || reason == NEEDS_SLOW
    }

    /// Why a scenario with `tags` is not applicable to this target, if it is not: a reason the
    /// user can act on. Never a failure.
    pub fn unmet<S: AsRef<str>>(&self, tags: &[S]) -> Option<&'static str> {
        let has = |t: &str| tags.iter().any(|x| x.as_ref() == t);
        if has("live-only") && self.controls {
            Some("needs a live target reached over a network (TLS, Secure cookies, HSTS); the embedded simulator serves http on loopback")
        } else if has("live-only") && self.loopback {
            Some("loopback target: TLS, Secure cookies and HSTS apply to hosts reached over a network")
        } else if has("sfmc") && !self.sfmc {
            Some("Marketing Cloud only (dialect oauth2): what RFC 6749 leaves open, Marketing Cloud fixes")
        } else if has("form-body") && !self.form_body {
            Some("needs form-encoded token requests (RFC 6749 §3.2): a JSON body cannot repeat a parameter, so its duplicated key is a PROBE of its own")
        } else if has("simulator") && !self.controls {
            Some("needs the simulator's own powers (its clock, throttling, integration changes)")
        } else if has("intrusive") && !self.controls && !self.intrusive {
            Some(NEEDS_INTRUSIVE)
        } else if has("slow") && !self.controls && !self.slow {
            Some(NEEDS_SLOW)
        } else if has("sign-out") && !self.sign_out {
            Some("needs the target's sign-out page: name it in the target file's logout_url")
        } else if has("second-app") && !self.second_web_app {
            Some("the target names no second web app: add one to check that codes and tokens are bound to their client")
        } else if has("query-uri") && !self.query_redirect_uri {
            Some("needs a registered redirect URI with a query: register one on the web app and list it with its other redirect URIs")
        } else if has("other-uri") && !self.other_redirect_uri {
            Some("needs a second registered redirect URI: register one on the web app and list it with its other redirect URIs")
        } else {
            None
        }
    }
}

/// Why an intrusive scenario was not run.
const NEEDS_INTRUSIVE: &str = "intrusive (bursts and replays revoke the test user's tokens, or could lock or alert): run with --intrusive";
/// Why a slow scenario was not run.
const NEEDS_SLOW: &str =
    "waits in real time against a live target (code lifetime, token expiry): run with --slow";

#[cfg(test)]
mod tests {
    use super::*;

    fn web(others: &[&str]) -> App {
        App {
            kind: AppKind::Web,
            client_id: "id".into(),
            client_secret: None,
            redirect_uri: "https://app.example/cb".into(),
            other_redirect_uris: others.iter().map(|u| (*u).to_owned()).collect(),
            scopes: vec![],
            ungranted_scope: "x".into(),
            wider_scope: None,
        }
    }

    #[test]
    fn what_a_scenario_needs_and_the_target_lacks_is_a_reason_not_a_failure() {
        let bare = Capabilities::of(false, &web(&[]), None);
        assert!(bare.unmet(&["web", "browser"]).is_none());
        assert!(bare.unmet(&["simulator"]).is_some());
        assert!(bare.unmet(&["intrusive"]).unwrap().contains("--intrusive"));
        assert!(bare.unmet(&["slow"]).unwrap().contains("--slow"));
        assert!(Capabilities::is_gate(bare.unmet(&["slow"]).unwrap()));
        assert!(Capabilities::is_gate(bare.unmet(&["intrusive"]).unwrap()));
        assert!(!Capabilities::is_gate(bare.unmet(&["simulator"]).unwrap()));
        let allowed = bare.allowing(true, true);
        assert!(allowed.unmet(&["intrusive"]).is_none() && allowed.unmet(&["slow"]).is_none());
        assert!(bare.unmet(&["live-only"]).is_none());
        assert!(bare
            .unmet(&["second-app"])
            .unwrap()
            .contains("second web app"));
        assert!(bare.unmet(&["query-uri"]).unwrap().contains("with a query"));
        assert!(bare.unmet(&["other-uri"]).is_some());
        let full = Capabilities::of(true, &web(&["https://app.example/cb?t=1"]), Some(&web(&[])));
        for t in [
            "simulator",
            "intrusive",
            "second-app",
            "query-uri",
            "other-uri",
        ] {
            assert!(full.unmet(&[t]).is_none(), "{t}");
        }
        assert!(full.unmet(&["live-only"]).is_some());
        assert!(full.unmet(&["form-body"]).unwrap().contains("form-encoded"));
        let form = Capabilities {
            form_body: true,
            ..full
        };
        assert!(form.unmet(&["form-body"]).is_none());
    }
}
