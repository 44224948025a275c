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
    /// The scopes this app asks for at authorize.
    pub scopes: Vec<String>,
}

/// The user who signs in through the browser.
#[derive(Debug, Clone)]
pub struct User {
    pub username: String,
    pub password: Secret,
}

/// One step of the login script. Values may name `{username}` and `{password}`.
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
    /// Whether every endpoint is on loopback (the browser then resolves no other host).
    pub loopback_only: bool,
    simulator: Option<Arc<Simulator>>,
}

impl Target {
    /// The embedded simulator as a target.
    pub fn simulator_target(sim: Arc<Simulator>) -> Self {
        let web = sim.registry().web_app();
        let public = sim.registry().public_app();
        let user = sim.registry().default_user();
        Self {
            name: "simulator".into(),
            authorize_endpoint: sim.url("/v2/authorize"),
            token_endpoint: sim.url("/v2/token"),
            web_app: App {
                kind: AppKind::Web,
                client_id: web.client_id.clone(),
                client_secret: web.client_secret.clone(),
                redirect_uri: web.redirect_uris[0].clone(),
                scopes: vec![
                    "email_read".into(),
                    "email_write".into(),
                    "email_send".into(),
                ],
            },
            public_app: App {
                kind: AppKind::Public,
                client_id: public.client_id.clone(),
                client_secret: None,
                redirect_uri: public.redirect_uris[0].clone(),
                scopes: vec!["email_read".into(), "email_send".into()],
            },
            user: User {
                username: user.username.clone(),
                password: user.password.clone(),
            },
            login_script: vec![
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
            ],
            login_page_marker: "form#login".into(),
            loopback_only: true,
            simulator: Some(sim),
        }
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

    /// Expands `{username}` and `{password}` in a login-script value.
    pub fn login_value(&self, template: &str) -> Secret {
        let v = template
            .replace("{username}", &self.user.username)
            .replace("{password}", self.user.password.expose());
        if template.contains("{password}") {
            Secret::new("Password", v)
        } else {
            Secret::new("LoginValue", v)
        }
    }
}
