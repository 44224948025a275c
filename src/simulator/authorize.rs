//! `GET /v2/authorize` and the login pages (facts §1, §2, §10).
//!
//! Errors about the client or the redirect URI are shown as a page and never redirected
//! (RFC 6749 §4.1.2.1). Other errors redirect with `error`, `error_description`, `error_uri` and
//! `state`, but only after the user has signed in (RFC 9700 §4.11.2). A successful sign-in
//! redirects with 302 (never 307) and starts a login session, so the next authorize skips the
//! login page, as a tenant's single sign-on does.

use super::pages;
use super::registry::{Integration, IntegrationKind, PkceMode};
use super::state::{CodeGrant, Pending, PENDING_TTL};
use super::tokens::{authorization_code, random_alnum};
use super::{Reply, Shared};
use crate::oauth::encoding::encode;
use std::collections::HashMap;
use url::form_urlencoded;
use wiremock::Request;

/// The login-session cookie.
pub const SESSION_COOKIE: &str = "sfmc_sim_sid";
const ERROR_URI: &str = "https://developer.salesforce.com/docs";

/// Query or form parameters, every occurrence kept.
type Params = HashMap<String, Vec<String>>;

fn params(raw: &[u8]) -> Params {
    let mut m: Params = HashMap::new();
    for (k, v) in form_urlencoded::parse(raw) {
        m.entry(k.into_owned()).or_default().push(v.into_owned());
    }
    m
}

fn one<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
    p.get(name).and_then(|v| v.first()).map(String::as_str)
}

/// `uri` with `pairs` appended to its query, each value percent-encoded.
pub fn append_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = uri.to_owned();
    let mut sep = if uri.contains('?') { '&' } else { '?' };
    for (k, v) in pairs {
        out.push(sep);
        out.push_str(k);
        out.push('=');
        out.push_str(&encode(v));
        sep = '&';
    }
    out
}

fn error_page(status: u16, error: &str, description: &str) -> Reply {
    Reply::html(status, pages::error(error, description))
}

/// The error redirect of RFC 6749 §4.1.2.1, with `state` when one was sent.
fn error_redirect(p: &Pending, error: &str, description: &str) -> Reply {
    let mut pairs = vec![
        ("error", error),
        ("error_description", description),
        ("error_uri", ERROR_URI),
    ];
    if let Some(s) = &p.state {
        pairs.push(("state", s));
    }
    Reply::redirect(302, &append_query(&p.redirect_uri, &pairs))
}

fn session_user(shared: &Shared, req: &Request) -> Option<String> {
    let cookies = req.headers.get("cookie")?.to_str().ok()?;
    let sid = cookies.split(';').find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == SESSION_COOKIE).then(|| v.to_owned())
    })?;
    shared.state().sessions.get(&sid).cloned()
}

/// Why an authorize request cannot go on (after the client and redirect URI are known good).
fn request_error(int: &Integration, p: &Params, scopes: &[String]) -> Option<(String, String)> {
    match one(p, "response_type") {
        Some("code") => {}
        Some(other) => {
            return Some((
                "unsupported_response_type".into(),
                format!("The response type `{other}` is not supported. Use `code`."),
            ))
        }
        None => {
            return Some((
                "invalid_request".into(),
                "The response_type parameter is missing.".into(),
            ))
        }
    }
    if int.kind == IntegrationKind::ServerToServer {
        return Some((
            "unauthorized_client".into(),
            "The client is not authorized to request an authorization code using this method."
                .into(),
        ));
    }
    if let Some(bad) = scopes.iter().find(|s| !int.scopes.contains(s)) {
        return Some((
            "invalid_scope".into(),
            format!("The scope `{bad}` is not granted to this integration."),
        ));
    }
    match (one(p, "code_challenge"), one(p, "code_challenge_method")) {
        (Some(_), Some("S256") | None) | (None, None) => {}
        (Some(_), Some(m)) => {
            return Some((
                "invalid_request".into(),
                format!("The code_challenge_method `{m}` is not supported. Use S256."),
            ))
        }
        (None, Some(_)) => {
            return Some((
                "invalid_request".into(),
                "code_challenge_method without code_challenge.".into(),
            ))
        }
    }
    if int.pkce == PkceMode::Required && one(p, "code_challenge").is_none() {
        return Some((
            "invalid_request".into(),
            "This app requires PKCE: send a code_challenge.".into(),
        ));
    }
    None
}

/// `GET /v2/authorize`.
pub fn authorize(shared: &Shared, req: &Request) -> Reply {
    let p = params(req.url.query().unwrap_or("").as_bytes());
    let Some(int) = one(&p, "client_id").and_then(|id| shared.registry.client(id)) else {
        return error_page(
            400,
            "invalid_client",
            "Invalid client identifier. Use the client ID in Marketing Cloud Installed Packages.",
        );
    };
    let redirect_uri =
        match one(&p, "redirect_uri") {
            Some(r) if int.redirect_uris.iter().any(|u| u == r) => r.to_owned(),
            Some(_) => return error_page(
                400,
                "invalid_request",
                "The redirect_uri does not match a redirect URI registered on this integration.",
            ),
            None => {
                return error_page(
                    400,
                    "invalid_request",
                    "The redirect_uri parameter is missing.",
                )
            }
        };
    let scopes: Vec<String> = match one(&p, "scope") {
        Some(s) => s
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        None => int
            .scopes
            .iter()
            .filter(|s| *s != "offline")
            .cloned()
            .collect(),
    };
    let challenge = one(&p, "code_challenge").map(|c| {
        (
            c.to_owned(),
            one(&p, "code_challenge_method")
                .unwrap_or("plain")
                .to_owned(),
        )
    });
    let now = shared.state().clock.now();
    let deferred_error = request_error(int, &p, &scopes);
    let pending = Pending {
        client_id: int.client_id.clone(),
        redirect_uri,
        state: one(&p, "state").map(str::to_owned),
        scopes,
        challenge,
        csrf: random_alnum(32, true),
        created: now,
        deferred_error,
    };
    if session_user(shared, req).is_some() {
        return complete(shared, &pending);
    }
    let id = random_alnum(24, false);
    let mut st = shared.state();
    st.pending.retain(|_, p| p.created + PENDING_TTL > now);
    st.pending.insert(id.clone(), pending);
    drop(st);
    Reply::redirect(302, &format!("/login?r={id}"))
        .header("X-Frame-Options", "DENY")
        .header("Content-Security-Policy", "frame-ancestors 'none'")
}

/// Issues the code (or the deferred error) and redirects to the app.
fn complete(shared: &Shared, p: &Pending) -> Reply {
    if let Some((code, description)) = &p.deferred_error {
        return error_redirect(p, code, description);
    }
    let code = authorization_code(7281698);
    let mut st = shared.state();
    let issued = st.clock.now();
    st.codes.insert(
        code.clone(),
        CodeGrant {
            client_id: p.client_id.clone(),
            redirect_uri: p.redirect_uri.clone(),
            scopes: p.scopes.clone(),
            challenge: p.challenge.clone(),
            issued,
            used: false,
            family: None,
        },
    );
    drop(st);
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &p.state {
        pairs.push(("state", s));
    }
    Reply::redirect(302, &append_query(&p.redirect_uri, &pairs))
}

fn pending(shared: &Shared, id: &str) -> Option<Pending> {
    shared.state().pending.get(id).cloned()
}

/// `GET /login?r=ID`: the login form.
pub fn login_page(shared: &Shared, req: &Request) -> Reply {
    let p = params(req.url.query().unwrap_or("").as_bytes());
    let id = one(&p, "r").unwrap_or("");
    match pending(shared, id) {
        Some(pend) => Reply::html(200, pages::login(id, &pend.csrf, None)),
        None => error_page(
            400,
            "invalid_request",
            "This login page has expired. Start again.",
        ),
    }
}

/// `POST /login`: checks the anti-CSRF token and the credentials, then completes the request.
pub fn login_submit(shared: &Shared, req: &Request) -> Reply {
    let form = params(&req.body);
    let id = one(&form, "r").unwrap_or("").to_owned();
    let Some(pend) = pending(shared, &id) else {
        return error_page(
            400,
            "invalid_request",
            "This login page has expired. Start again.",
        );
    };
    if one(&form, "csrf") != Some(pend.csrf.as_str()) {
        return error_page(
            403,
            "invalid_request",
            "The login form was not submitted from its page.",
        );
    }
    let username = one(&form, "username").unwrap_or("");
    let password = one(&form, "password").unwrap_or("");
    let ok = shared
        .registry
        .users
        .iter()
        .any(|u| u.username == username && u.password.expose() == password);
    if !ok {
        return Reply::html(
            200,
            pages::login(
                &id,
                &pend.csrf,
                Some("The username or password is not correct."),
            ),
        );
    }
    let sid = random_alnum(32, true);
    {
        let mut st = shared.state();
        st.pending.remove(&id);
        st.sessions.insert(sid.clone(), username.to_owned());
    }
    complete(shared, &pend).header(
        "Set-Cookie",
        &format!("{SESSION_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax"),
    )
}

/// `GET /login/cancel?r=ID`: the user declined; `access_denied` goes back to the app.
pub fn cancel(shared: &Shared, req: &Request) -> Reply {
    let p = params(req.url.query().unwrap_or("").as_bytes());
    let id = one(&p, "r").unwrap_or("");
    let Some(pend) = shared.state().pending.remove(id) else {
        return error_page(
            400,
            "invalid_request",
            "This login page has expired. Start again.",
        );
    };
    error_redirect(&pend, "access_denied", "The user denied the request.")
}
