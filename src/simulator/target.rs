//! The simulator offers itself as a [`Target`]: its first web app, first public app and first
//! user without a verification-code step (else the first user), the login script of its own
//! pages as data like any other target's, and its powers behind [`Controls`].

use super::registry::{Integration, IntegrationKind, Registry};
use super::Simulator;
use crate::login::{Credentials, LoginAction, LoginScript, LoginStep};
use crate::target::{App, AppKind, Capabilities, Controls, Target, TargetError};
use std::sync::Arc;
use std::time::Duration;

impl Controls for Simulator {
    fn advance_clock(&self, by: Duration) {
        Simulator::advance_clock(self, by);
    }

    fn set_throttle(&self, on: bool) {
        Simulator::set_throttle(self, on);
    }

    fn faults(&self) -> Vec<String> {
        Simulator::faults(self)
            .iter()
            .map(|f| f.to_string())
            .collect()
    }

    fn watch(&self) -> u64 {
        Simulator::watch(self)
    }

    fn consulted(&self, id: u64) -> Vec<String> {
        self.unwatch(id).names()
    }

    fn journal(&self) -> Vec<serde_json::Value> {
        Simulator::journal(self)
            .iter()
            .filter_map(|e| serde_json::to_value(e).ok())
            .collect()
    }
}

fn app(kind: AppKind, int: Option<&Integration>) -> Result<App, TargetError> {
    let int = int.ok_or(TargetError::MissingApp(kind))?;
    let redirect_uri =
        int.redirect_uris
            .first()
            .cloned()
            .ok_or_else(|| TargetError::NoRedirectUri {
                kind,
                name: int.name.clone(),
            })?;
    let asked: Vec<String> = ["email_read", "email_write", "email_send"]
        .iter()
        .map(|s| (*s).to_owned())
        .filter(|s| int.scopes.contains(s))
        .collect();
    Ok(App {
        kind,
        client_id: int.client_id.clone(),
        client_secret: int.client_secret.clone(),
        redirect_uri,
        other_redirect_uris: int.redirect_uris[1..].to_vec(),
        ungranted_scope: "no_such_scope".into(),
        // The documented example asks for these three.
        scopes: asked.clone(),
        wider_scope: int
            .scopes
            .iter()
            .find(|s| !asked.contains(s) && s.as_str() != "offline")
            .cloned(),
    })
}

/// The web app, the public app and the second web app the simulator's registry offers.
fn apps(reg: &Registry) -> Result<(App, App, Option<App>), TargetError> {
    let web_app = app(AppKind::Web, reg.web_app())?;
    let second_web_app = reg
        .integrations
        .iter()
        .filter(|i| i.kind == IntegrationKind::Web)
        .nth(1)
        .map(|i| app(AppKind::Web, Some(i)))
        .transpose()?;
    let public_app = app(AppKind::Public, reg.public_app())?;
    Ok((web_app, public_app, second_web_app))
}

/// What a simulator with `reg` can run, before it starts.
pub fn capabilities(
    reg: &Registry,
    variations: &[super::Variation],
) -> Result<Capabilities, TargetError> {
    let (web_app, _, second_web_app) = apps(reg)?;
    let oauth2 = super::variations::dialect_of(variations) == crate::target::Dialect::Oauth2;
    Ok(Capabilities {
        sfmc: !oauth2,
        // In oauth2 its token requests are form-encoded (see `Simulator::target`).
        form_body: oauth2,
        ..Capabilities::of(true, &web_app, second_web_app.as_ref())
    })
}

/// The login script of the simulator's own pages.
fn login_script(with_code: bool) -> LoginScript {
    let step = |action| LoginStep {
        action,
        optional: false,
    };
    let fill = |selector: &str, value: &str| {
        step(LoginAction::Fill {
            selector: selector.into(),
            value: value.into(),
        })
    };
    let click = |selector: &str| {
        step(LoginAction::Click {
            selector: selector.into(),
        })
    };
    let mut steps = vec![
        fill("#username", "{username}"),
        fill("#password", "{password}"),
        click("#login-submit"),
    ];
    if with_code {
        steps.extend([
            fill("#verification-code", "{totp}"),
            click("#verify-submit"),
        ]);
    }
    LoginScript {
        page_marker: "form#login".into(),
        consent: None,
        // Its pages have no script that listens to keys.
        typing: crate::login::Typing::Insert,
        cancel: Some("#login-cancel".into()),
        steps,
    }
}

impl Simulator {
    /// This simulator as the target of a run in this process, with its [`Controls`], named
    /// `name` (its baselines live in `reports/snapshots/<name>/`).
    pub fn target(self: &Arc<Self>, name: &str) -> Result<Target, TargetError> {
        let reg = self.registry();
        let (web_app, public_app, second_web_app) = apps(reg)?;
        let user = reg.default_user().ok_or(TargetError::NoUser)?;
        let controls: Arc<dyn Controls> = self.clone();
        // Judged in the dialect its variations are allowed in; in oauth2, with form bodies.
        let dialect = super::variations::dialect_of(self.variations());
        let token_style = match dialect {
            crate::target::Dialect::Sfmc => crate::oauth::token::TokenStyle::SFMC,
            crate::target::Dialect::Oauth2 => crate::oauth::token::TokenStyle {
                format: crate::oauth::token::BodyFormat::Form,
                client_auth: crate::oauth::token::ClientAuth::Body,
            },
        };
        Ok(Target {
            name: name.to_owned(),
            dialect,
            token_style,
            authorize_endpoint: self.url("/v2/authorize"),
            token_endpoint: self.url("/v2/token"),
            web_app,
            public_app,
            second_web_app,
            user: Credentials {
                username: user.username.clone(),
                password: user.password.clone(),
                totp_seed: user.totp_seed.clone(),
            },
            login: login_script(user.totp_seed.is_some()),
            rest_probe: Some(self.url("/platform/v1/tokenContext")),
            issuer: None,
            logout_url: None,
            loopback_only: true,
            refresh_scope: "offline".into(),
            // The login pages' host, when they have an origin of their own.
            allowed_hosts: self
                .login_origin()
                .and_then(|o| url::Url::parse(&o).ok())
                .and_then(|u| u.host_str().map(str::to_owned))
                .into_iter()
                .collect(),
            authorize_params: Vec::new(),
            controls: Some(controls),
        })
    }
}
