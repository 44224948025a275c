//! The one seam to the system under test. A [`Target`] says where the endpoints are, which apps
//! (installed-package integrations) and which user to use, and how to sign in through the
//! browser (a login script of selectors, data rather than code). The embedded simulator is one
//! target; a live tenant described by a target file is another. Powers only a simulator has
//! (its clock, its faults, its journal) are reached through [`Target::simulator`], which a live
//! target does not offer.

use crate::secret::Secret;
use crate::simulator::Simulator;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use url::Url;

/// The two kinds of app the authorization code grant serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppKind {
    /// A web app: confidential, authenticates with its client secret.
    Web,
    /// A public app: no secret; protects its code with PKCE.
    Public,
}

impl FromStr for AppKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "web app" | "web" => Ok(Self::Web),
            "public app" | "public" => Ok(Self::Public),
            other => Err(format!("unknown app kind `{other}` (web app, public app)")),
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
}

/// The user who signs in through the browser.
#[derive(Debug, Clone)]
pub struct User {
    pub username: String,
    pub password: Secret,
    /// Base32 seed for a verification-code step, if the login asks for one.
    pub totp_seed: Option<Secret>,
}

/// One step of the login script. Values may name `{username}`, `{password}` and `{totp}` (the
/// current verification code from the user's seed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginStep {
    /// Type `value` into the element matching the CSS `selector`.
    Fill { selector: String, value: String },
    /// Click the element matching `selector` (and wait for the navigation it starts).
    Click { selector: String },
}

/// What the harness tests.
#[derive(Debug, Clone)]
pub struct Target {
    /// Short name, used for the snapshot folder (`reports/snapshots/<name>/`).
    pub name: String,
    pub authorize_endpoint: Url,
    pub token_endpoint: Url,
    pub web_app: App,
    pub public_app: App,
    pub user: User,
    /// How to get past the login page.
    pub login_script: Vec<LoginStep>,
    /// CSS selector that is present on the login page and nowhere else.
    pub login_page_marker: String,
    /// CSS selector of the login page's cancel link or button.
    pub cancel_selector: Option<String>,
    /// A second web app, for checks that codes and tokens are bound to their client.
    pub second_web_app: Option<App>,
    /// A REST endpoint that takes a Bearer token (Marketing Cloud: `platform/v1/tokenContext` on
    /// the REST host), to prove a token works or is dead.
    pub rest_probe: Option<Url>,
    /// The issuer the target names itself with in `iss` (RFC 9207), if it does.
    pub issuer: Option<String>,
    /// Where the browser signs the user out (live targets).
    pub logout_url: Option<Url>,
    /// Whether every endpoint is on loopback (the browser then resolves no other host).
    pub loopback_only: bool,
    simulator: Option<Arc<Simulator>>,
}

impl Target {
    /// The embedded simulator as a target: its first web app, first public app and first user
    /// without a verification-code step (else the first user).
    pub fn simulator_target(sim: Arc<Simulator>) -> Result<Self, String> {
        let reg = sim.registry();
        let app = |kind: AppKind, int: Option<&crate::simulator::registry::Integration>| {
            let int = int.ok_or_else(|| format!("the simulator's integrations have no {kind}"))?;
            let redirect_uri = int
                .redirect_uris
                .first()
                .cloned()
                .ok_or_else(|| format!("the {kind} `{}` has no redirect URI", int.name))?;
            Ok::<App, String>(App {
                kind,
                client_id: int.client_id.clone(),
                client_secret: int.client_secret.clone(),
                redirect_uri,
                other_redirect_uris: int.redirect_uris[1..].to_vec(),
                ungranted_scope: "no_such_scope".into(),
                // The documented example asks for these three.
                scopes: ["email_read", "email_write", "email_send"]
                    .iter()
                    .map(|s| (*s).to_owned())
                    .filter(|s| int.scopes.contains(s))
                    .collect(),
            })
        };
        let web_app = app(AppKind::Web, reg.web_app())?;
        let second_web_app = reg
            .integrations
            .iter()
            .filter(|i| i.kind == crate::simulator::registry::IntegrationKind::Web)
            .nth(1)
            .map(|i| app(AppKind::Web, Some(i)))
            .transpose()?;
        let public_app = app(AppKind::Public, reg.public_app())?;
        let user = reg
            .default_user()
            .ok_or("the simulator's integrations have no user")?;
        let mut login_script = vec![
            LoginStep::Fill {
                selector: "#username".into(),
                value: "{username}".into(),
            },
            LoginStep::Fill {
                selector: "#password".into(),
                value: "{password}".into(),
            },
            LoginStep::Click {
                selector: "#login-submit".into(),
            },
        ];
        if user.totp_seed.is_some() {
            login_script.extend([
                LoginStep::Fill {
                    selector: "#verification-code".into(),
                    value: "{totp}".into(),
                },
                LoginStep::Click {
                    selector: "#verify-submit".into(),
                },
            ]);
        }
        Ok(Self {
            name: "simulator".into(),
            authorize_endpoint: sim.url("/v2/authorize"),
            token_endpoint: sim.url("/v2/token"),
            web_app,
            public_app,
            user: User {
                username: user.username.clone(),
                password: user.password.clone(),
                totp_seed: user.totp_seed.clone(),
            },
            login_script,
            login_page_marker: "form#login".into(),
            cancel_selector: Some("#login-cancel".into()),
            second_web_app,
            rest_probe: Some(sim.url("/platform/v1/tokenContext")),
            issuer: None,
            logout_url: None,
            loopback_only: true,
            simulator: Some(sim),
        })
    }

    /// The app of `kind`.
    pub fn app(&self, kind: AppKind) -> &App {
        match kind {
            AppKind::Web => &self.web_app,
            AppKind::Public => &self.public_app,
        }
    }

    /// The simulator's powers, if this target is the simulator.
    pub fn simulator(&self) -> Option<&Arc<Simulator>> {
        self.simulator.as_ref()
    }

    /// Expands `{username}`, `{password}` and `{totp}` in a login-script value.
    pub fn login_value(&self, template: &str) -> Secret {
        let totp = self
            .user
            .totp_seed
            .as_ref()
            .and_then(crate::totp::code_now)
            .map(|c| c.expose().to_owned())
            .unwrap_or_default();
        let v = template
            .replace("{username}", &self.user.username)
            .replace("{password}", self.user.password.expose())
            .replace("{totp}", &totp);
        if template.contains("{password}") || template.contains("{totp}") {
            Secret::new("LoginSecret", v)
        } else {
            Secret::new("LoginValue", v)
        }
    }
}
