//! Steps for `features/authorize`: choosing the app, building the authorization request, and
//! what the target shows when the browser opens it.

use super::{authorize_url, prepare_request};
use crate::oauth::authorize::State as SentState;
use crate::oauth::encoding::encode;
use crate::runner::params::{App, Scope, State};
use crate::runner::world::{Failure, OAuthWorld, Outcome};
use crate::target::AppKind;
use cucumber::gherkin::Step;
use cucumber::{given, then, when};

#[given(expr = "the {app}")]
fn the_app(w: &mut OAuthWorld, app: App) {
    w.app = Some(app.0);
    // Public apps protect their codes with PKCE (RFC 9700 §2.1.1).
    w.use_pkce = app.0 == AppKind::Public;
}

#[given("the app uses PKCE with S256")]
fn uses_pkce(w: &mut OAuthWorld) {
    w.use_pkce = true;
}

#[given(expr = "the authorization request asks for scope {scope} and state {state}")]
fn request_with_scope_and_state(w: &mut OAuthWorld, scope: Scope, state: State) -> Outcome {
    prepare_request(w, Some(scope.names()), Some(SentState::Chosen(state.0)))
}

#[given(expr = "the authorization request asks for the app's scopes and state {state}")]
fn request_with_state(w: &mut OAuthWorld, state: State) -> Outcome {
    prepare_request(w, None, Some(SentState::Chosen(state.0)))
}

#[when("the authorization URL is built")]
fn build_url(w: &mut OAuthWorld) -> Outcome {
    authorize_url(w).map(|_| ())
}

#[then(
    "the authorization URL is, with the target's authorize endpoint and web app in place of the documented ones:"
)]
fn url_is_exactly(w: &mut OAuthWorld, step: &Step) -> Outcome {
    const TENANT: &str = "https://YOUR_SUBDOMAIN.auth.marketingcloudapis.com/v2/authorize";
    let documented = step
        .docstring
        .as_deref()
        .map(str::trim)
        .ok_or_else(|| Failure::scenario("this step needs the expected URL as a doc string"))?;
    let mut endpoint = w.target().authorize_endpoint.clone();
    endpoint.set_query(None);
    let app = w.app()?;
    let expected = documented
        .replacen(TENANT, endpoint.as_str(), 1)
        .replace("{client_id}", &encode(&app.client_id))
        .replace("{redirect_uri}", &encode(&app.redirect_uri));
    let actual = w.authorize_url.clone().unwrap_or_default();
    if actual == expected {
        Ok(())
    } else {
        Err(w.fail("the authorization URL, byte for byte", expected, actual))
    }
}

#[then("the authorization URL carries no client secret")]
fn no_secret_at_authorize(w: &mut OAuthWorld) -> Outcome {
    let url = w.authorize_url.clone().unwrap_or_default();
    let params = crate::oauth::authorize::query_params(&url);
    let leaked: Vec<&str> = ["client_secret", "clientSecret"]
        .into_iter()
        .filter(|name| params.iter().any(|(k, _)| k == name))
        .collect();
    let secret_value = w.app()?.client_secret.as_ref().is_some_and(|s| {
        url.contains(s.expose()) || url.contains(&crate::oauth::encoding::encode(s.expose()))
    });
    if leaked.is_empty() && !secret_value {
        Ok(())
    } else {
        Err(w.fail(
            "the authorize request carries no client secret",
            "no client_secret parameter and no secret value",
            format!("parameters {leaked:?}, secret value present: {secret_value}"),
        ))
    }
}

#[given("a browser with no login session")]
async fn browser_without_session(w: &mut OAuthWorld) -> Outcome {
    if w.ctx().persistent_profile() {
        return Err(w.not_applicable(
            "needs a browser with no login session; --browser-profile keeps the profile's (clearing it would undo the manual sign-in): run without it for this check",
        ));
    }
    let browser = w.browser().await?;
    match browser.clear_login_session().await {
        Ok(()) => Ok(()),
        Err(e) => Err(w.browser_failure(e)),
    }
}

#[when("the browser opens the authorization URL")]
async fn browser_opens(w: &mut OAuthWorld) -> Outcome {
    let url = authorize_url(w)?;
    let browser = w.browser().await?;
    match browser.open(&url).await {
        Ok(()) => super::record_landing(w).await,
        Err(e) => Err(w.browser_failure(e)),
    }
}

#[then("the target shows its login page")]
async fn shows_login_page(w: &mut OAuthWorld) -> Outcome {
    let marker = w.target().login.page_marker.clone();
    let browser = w.browser().await?;
    let found = browser.has(&marker).await;
    let title = browser.title().await.unwrap_or_default();
    let url = browser.current_url().await.unwrap_or_default();
    match found {
        Ok(true) => {
            w.snap("login page", &url).await;
            Ok(())
        }
        Ok(false) => Err(w.fail(
            "the login page is shown",
            format!("a page with `{marker}`"),
            format!("a page titled {title:?}"),
        )),
        Err(e) => Err(w.browser_failure(e)),
    }
}
