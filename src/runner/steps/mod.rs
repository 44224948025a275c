//! Step definitions, one module per step of the flow, mirroring `features/`. Shared flows (build
//! the authorize URL, authorize in the browser, redeem the code) are here, so every step that
//! needs them does the same thing.

mod authorize;
mod errors;
mod live;
mod login;
mod pages;
mod pkce;
mod redirect;
mod refresh;
mod token;

use super::world::{Authorization, Failure, OAuthWorld, Outcome, Tweak};
use crate::oauth::authorize::{AuthorizationResponse, State};
use crate::oauth::{AuthorizeRequest, Pkce, TokenRequest};
use crate::secret::Secret;
use crate::target::AppKind;

/// Prepares the authorize request for the scenario's app (with PKCE when the scenario uses it).
pub(super) fn prepare_request(
    w: &mut OAuthWorld,
    scopes: Option<Vec<String>>,
    state: Option<State>,
) -> Outcome {
    let app = w.app()?.clone();
    let default_scopes = w.target().authorize_scopes(&app);
    let mut req = AuthorizeRequest::code(app.client_id, app.redirect_uri);
    req.scope = Some(scopes.unwrap_or(default_scopes));
    req.state = state;
    if w.use_pkce {
        let pkce = new_pkce()?;
        req.code_challenge = Some((pkce.challenge.clone(), "S256".into()));
        w.keep_secret(&pkce.verifier);
        w.pkce = Some(pkce);
    }
    w.request = Some(req);
    Ok(())
}

/// The authorize URL of the prepared request (prepared with defaults if need be).
pub(super) fn authorize_url(w: &mut OAuthWorld) -> Result<String, Failure> {
    if w.request.is_none() {
        prepare_request(w, None, Some(State::Generated(random_state())))?;
    }
    let url = match &w.request {
        Some(r) => r.url(&w.target().authorize_endpoint),
        None => return Err(Failure::scenario("no authorization request")),
    };
    // The target's own extra parameters first, then the scenario's changes.
    let tweaks: Vec<Tweak> = w
        .target()
        .authorize_params
        .iter()
        .map(|(k, v)| Tweak::Set(k.clone(), v.clone()))
        .chain(w.tweaks.iter().cloned())
        .collect();
    let url = match url.split_once('?') {
        Some((base, query)) => format!("{base}?{}", apply_tweaks(query, &tweaks)),
        None => url,
    };
    w.authorize_url = Some(url.clone());
    Ok(url)
}

/// The query with the scenario's tweaks applied: set (encoded), removed, or raw text appended.
pub(super) fn apply_tweaks(query: &str, tweaks: &[super::world::Tweak]) -> String {
    use super::world::Tweak;
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let name_of = |p: &str| p.split('=').next().unwrap_or("").to_owned();
    for t in tweaks {
        match t {
            Tweak::Set(name, value) => {
                let pair = format!("{name}={}", crate::oauth::encoding::encode(value));
                match pairs.iter().position(|p| name_of(p) == *name) {
                    Some(i) => pairs[i] = pair,
                    None => pairs.push(pair),
                }
            }
            Tweak::Remove(name) => pairs.retain(|p| name_of(p) != *name),
            Tweak::Append(raw) => pairs.push(raw.clone()),
        }
    }
    pairs.join("&")
}

/// A fresh state value.
pub(super) fn random_state() -> String {
    crate::random::alnum(16, true)
}

/// A fresh S256 PKCE pair.
pub(super) fn new_pkce() -> Result<Pkce, Failure> {
    Pkce::s256().map_err(|e| Failure::scenario(format!("no randomness for PKCE: {e}")))
}

/// Opens the authorize URL and, if the login page shows, signs in with the target's login script;
/// then records where the browser ended.
pub(super) async fn authorize_in_browser(w: &mut OAuthWorld) -> Outcome {
    let url = authorize_url(w)?;
    let redirect_uri = w.app()?.redirect_uri.clone();
    w.refuse_after_failed_login()?;
    w.browser().await?;
    let Some(browser) = w.browser_ref() else {
        return Err(Failure::scenario("browser unavailable"));
    };
    let target = w.target();
    let step = async {
        browser.open(&url).await?;
        let signed = match browser
            .sign_in_if_asked(&target.login, &target.user, &redirect_uri)
            .await
        {
            Err(e) if e.is_login() => return Err(refused_tls(browser).await.unwrap_or(e)),
            other => other?,
        };
        let saw_login_page = signed.signed_in;
        let response = read_callback(&signed.landed);
        if !response.is_at(&redirect_uri) {
            if let Some(e) = refused_tls(browser).await {
                return Err(e);
            }
        }
        Ok::<_, crate::browser::BrowserError>(Authorization {
            response,
            saw_login_page,
        })
    };
    match step.await {
        Err(e) if e.is_login() => {
            w.login_failed();
            if let Some(Ok(here)) = match w.browser_ref() {
                Some(b) => Some(b.current_url().await),
                None => None,
            } {
                w.snap("where the login script stopped", &here).await;
            }
            Err(w.browser_failure(e))
        }
        Ok(a) => {
            let landed = a.response.url.clone();
            w.authorization = Some(a);
            w.snap("where the authorization ended", &landed).await;
            Ok(())
        }
        Err(e) => Err(w.browser_failure(e)),
    }
}

/// The TLS failure the browser is showing, if its page is Chromium's own for one: with the URL
/// it was refused at (no query) and the certificate that server shows.
async fn refused_tls(browser: &crate::browser::Browser) -> Option<crate::browser::BrowserError> {
    let cause = browser.tls_refusal().await?;
    let mut at = url::Url::parse(&browser.current_url().await.ok()?).ok()?;
    let certificate = crate::tls::describe_certificate(&at).await;
    at.set_query(None);
    at.set_fragment(None);
    Some(crate::browser::BrowserError::Tls {
        url: at.to_string(),
        cause,
        certificate,
    })
}

/// The browser's current URL, recorded as where the authorization ended.
pub(super) async fn record_landing(w: &mut OAuthWorld) -> Outcome {
    let browser = w.browser().await?;
    match browser.current_url().await {
        Ok(landed) => {
            let saw = w.authorization.as_ref().is_some_and(|a| a.saw_login_page);
            w.authorization = Some(Authorization {
                response: read_callback(&landed),
                saw_login_page: saw,
            });
            w.snap("page the browser showed", &landed).await;
            Ok(())
        }
        Err(e) => Err(w.browser_failure(e)),
    }
}

/// The authorization response at `landed`, form-decoded as RFC 6749 Appendix B says (`+` is a
/// space), in every dialect: Marketing Cloud documents `%20`, but a `+` decodes to the same
/// state.
fn read_callback(landed: &str) -> AuthorizationResponse {
    AuthorizationResponse::parse(landed).form_decoded()
}

/// Takes the single code of the callback, or fails saying what the callback held.
pub(super) fn take_code(w: &mut OAuthWorld) -> Outcome {
    let redirect_uri = match w.requested_redirect_uri() {
        Some(r) => r,
        None => w.app()?.redirect_uri.clone(),
    };
    let at_callback = w
        .authorization
        .as_ref()
        .is_some_and(|a| a.response.is_at(&redirect_uri));
    if !at_callback {
        return Err(w.fail(
            "the browser lands on the registered redirect URI",
            &redirect_uri,
            "another page (see `browser ended on`)",
        ));
    }
    let codes = w.response()?.code.clone();
    match codes.as_slice() {
        [one] => {
            let code = Secret::new("Code", one.text());
            w.keep_secret(&code);
            w.code = Some(code);
            Ok(())
        }
        other => Err(w.fail(
            "the callback carries exactly one code",
            "1 `code` parameter",
            format!("{} `code` parameters", other.len()),
        )),
    }
}

/// How to authenticate a token request.
pub(super) enum Credentials {
    /// The app's own (its secret for a web app, none for a public app).
    Own,
    /// A wrong client secret.
    WrongSecret,
}

/// The request that redeems the scenario's code the way the docs show: JSON, the plain-text
/// redirect URI, the authorize scopes plus the target's refresh scope (`offline`), and the PKCE
/// verifier when one was used.
pub(super) fn redeem_request(
    w: &mut OAuthWorld,
    creds: Credentials,
) -> Result<TokenRequest, Failure> {
    let app = w.app()?.clone();
    let code = w
        .code
        .clone()
        .ok_or_else(|| Failure::scenario("no code to redeem: authorize in the browser first"))?;
    let mut req = TokenRequest::authorization_code(code, &app.client_id, &app.redirect_uri);
    req.client_secret = match creds {
        Credentials::Own => app.client_secret.clone(),
        Credentials::WrongSecret => Some(Secret::new(
            "ClientSecret",
            format!("wrong-{}", random_state()),
        )),
    };
    let scopes = w
        .request
        .as_ref()
        .and_then(|r| r.scope.clone())
        .unwrap_or(app.scopes.clone());
    req.scope = w.target().exchange_scope(&scopes);
    req.code_verifier = w.pkce.as_ref().map(|p| p.verifier.clone());
    Ok(req)
}

/// Redeems the scenario's code (see [`redeem_request`]).
pub(super) async fn redeem(w: &mut OAuthWorld, creds: Credentials) -> Outcome {
    let req = redeem_request(w, creds)?;
    w.send_token_request(req).await
}

/// Authorizes in the browser and redeems the code; fails unless the token endpoint answers 200.
pub(super) async fn fresh_tokens(w: &mut OAuthWorld) -> Outcome {
    authorize_in_browser(w).await?;
    take_code(w)?;
    redeem(w, Credentials::Own).await?;
    expect_status(w, 200)
}

/// Fails unless the last token response has `status`.
pub(super) fn expect_status(w: &OAuthWorld, status: u16) -> Outcome {
    let t = w.token()?;
    if t.status == status {
        Ok(())
    } else {
        Err(w.fail("token endpoint status", status, t.status))
    }
}

/// Whether the scenario's app is a public app.
pub(super) fn is_public(w: &OAuthWorld) -> bool {
    w.app == Some(AppKind::Public)
}

/// A self-test of the harness, for `tests/fixtures/harness_bug` only: a bug in step code (here
/// an explicit panic) must end its scenario as a harness error that names it (exit 5), never as
/// a pass or a verdict about the target.
#[cucumber::then("the harness's self-test step has a bug")]
fn self_test_bug(_w: &mut OAuthWorld) {
    panic!("self-test: a bug in step code");
}
