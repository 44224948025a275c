//! Steps of `@live-only` checks: they need what the simulator cannot give (TLS, secure cookies,
//! a sign-out), so they run only against a live target.

use crate::http::HttpCall;
use crate::oauth::authorize::State;
use crate::runner::world::{Failure, OAuthWorld, Outcome};
use cucumber::{given, then, when};

#[then("the authorization endpoint is https and has no fragment")]
fn authorize_endpoint_tls(w: &mut OAuthWorld) -> Outcome {
    let e = w.target().authorize_endpoint.clone();
    let ok = e.scheme() == "https" && e.fragment().is_none();
    w.expect(
        ok,
        "the authorization endpoint's URL",
        "https, no fragment",
        e.as_str(),
    )
}

#[then("the token endpoint's TLS is 1.2 or later with a valid certificate")]
async fn token_endpoint_tls(w: &mut OAuthWorld) -> Outcome {
    let e = w.target().token_endpoint.clone();
    if e.scheme() != "https" {
        return w.judge("the token endpoint's scheme", "https", e.scheme());
    }
    // The HTTP client speaks only TLS 1.2 and 1.3 and verifies certificates (rustls), so any
    // answer at all proves both.
    let call = HttpCall::get();
    w.call(&e, call).await.map(|_| ())
}

#[then("the target's login cookies are Secure, HttpOnly and SameSite, with HSTS")]
async fn secure_cookies(w: &mut OAuthWorld) -> Outcome {
    super::authorize_in_browser(w).await?;
    let browser = w.browser().await?;
    let cookies = match browser.cookies().await {
        Ok(c) => c,
        Err(e) => return Err(w.browser_failure(e)),
    };
    let weak: Vec<String> = cookies
        .iter()
        .filter(|c| !(c.secure && c.http_only && c.same_site_set))
        .map(|c| c.name.clone())
        .collect();
    let e = w.target().authorize_endpoint.clone();
    let call = HttpCall::get();
    let hsts = w
        .call(&e, call)
        .await?
        .header("strict-transport-security")
        .is_some();
    w.expect(
        weak.is_empty() && hsts,
        "login cookies and HSTS",
        "Secure, HttpOnly, SameSite; HSTS",
        format!("weak cookies {weak:?}, HSTS: {hsts}"),
    )
}

#[when("the user signs out of Marketing Cloud in the browser")]
async fn sign_out(w: &mut OAuthWorld) -> Outcome {
    if w.ctx().persistent_profile() {
        return Err(w.not_applicable(
            "signs the user out, which would undo --browser-profile's manual sign-in: run without it for this check",
        ));
    }
    let url = w
        .target()
        .logout_url
        .clone()
        .ok_or_else(|| w.not_applicable("the target names no logout_url to sign out at"))?;
    let browser = w.browser().await?;
    match browser.open(url.as_str()).await {
        Ok(()) => Ok(()),
        Err(e) => Err(w.browser_failure(e)),
    }
}

#[given("the app has redeemed another code without asking for the refresh scope")]
async fn redeemed_without_refresh_scope(w: &mut OAuthWorld) -> Outcome {
    let refresh_scope = w.target().refresh_scope.clone();
    let scopes: Vec<String> = w
        .app()?
        .scopes
        .iter()
        .filter(|s| **s != refresh_scope)
        .cloned()
        .collect();
    w.request = None;
    super::prepare_request(
        w,
        Some(scopes.clone()),
        Some(State::Generated(super::random_state())),
    )?;
    super::authorize_in_browser(w).await?;
    super::take_code(w)?;
    let mut req = super::redeem_request(w, super::Credentials::Own)?;
    req.scope = (w.target().dialect == crate::target::Dialect::Sfmc).then(|| scopes.join(" "));
    w.send_token_request(req).await?;
    super::expect_status(w, 200)
}

#[then("the access token is refused by the REST API")]
async fn access_token_refused(w: &mut OAuthWorld) -> Outcome {
    let at = w
        .access_token
        .clone()
        .ok_or_else(|| Failure::scenario("no access token"))?;
    let works = super::token::rest_probe(w, &at, false).await?;
    w.expect(
        !works,
        "the access token after sign-out, issued without the refresh scope",
        "refused",
        "still accepted",
    )
}
