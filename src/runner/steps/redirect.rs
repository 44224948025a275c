//! Steps for `features/redirect`: changing the authorize request (the redirect URI above all)
//! and proving the target refused it without sending the browser anywhere: the browser stayed
//! on the target's origin, its network log shows no request elsewhere, a request without the
//! browser gets no `Location` off the target, and the canary listener heard nothing.

use super::{authorize_url, record_landing};
use crate::browser::session::NetRequest;
use crate::http::HttpCall;
use crate::oauth::authorize::{is_callback, loopback_port_variant, AuthorizationResponse};
use crate::oauth::encoding::raw_query_values;
use crate::runner::params::{Fields, OAuthError, Param};
use crate::runner::world::{Failure, OAuthWorld, Outcome, Tweak};
use crate::target::Dialect;
use cucumber::{given, then, when};
use url::Url;

/// Whether a browser request stayed where it may go: the target's own hosts, or the browser's
/// own pages.
fn stays_home(target: &crate::target::Target, r: &NetRequest) -> bool {
    let internal = ["data:", "about:", "chrome", "blob:", "devtools:"];
    internal.iter().any(|p| r.url.starts_with(p)) || target.is_own(&r.url)
}

#[given(expr = "the authorization request's {param} is {string}")]
fn set_param(w: &mut OAuthWorld, name: Param, value: String) -> Outcome {
    let value = w.expand(&value)?;
    w.tweaks.push(Tweak::Set(name.0, value));
    Ok(())
}

#[given(expr = "the authorization request has no {param}")]
fn remove_param(w: &mut OAuthWorld, name: Param) {
    w.tweaks.push(Tweak::Remove(name.0));
}

#[given(expr = "the authorization request also carries {string}")]
fn append_raw(w: &mut OAuthWorld, raw: String) -> Outcome {
    let raw = w.expand(&raw)?;
    w.tweaks.push(Tweak::Append(raw));
    Ok(())
}

#[when(expr = "the browser opens the authorization URL with redirect_uri {string}")]
async fn open_with_redirect(w: &mut OAuthWorld, template: String) -> Outcome {
    let value = w.expand(&template)?;
    // A variant built from the registered URI can be that URI itself for some targets (no
    // port to drop from `https://app.example/cb`): then it tests nothing.
    if value == w.app()?.redirect_uri {
        return Err(w.not_applicable(format!(
            "`{template}` is the registered redirect URI itself for this target, not a variant of it"
        )));
    }
    w.tweaks.push(Tweak::Set("redirect_uri".into(), value));
    open(w).await
}

async fn open(w: &mut OAuthWorld) -> Outcome {
    let url = authorize_url(w)?;
    w.drain_network().await?;
    w.net.clear();
    let opened = w.browser().await?.open(&url).await;
    match opened {
        Ok(()) => {}
        // TLS refused at a host that is not the target's own (its origin or allowed hosts): the
        // target sent the browser away (to the canary, which speaks plain HTTP, or to an
        // attacker's host). Where it went is the evidence the check judges, not a failure of the
        // environment. A refusal on the target's own hosts stays an environment failure.
        Err(crate::browser::BrowserError::Tls { url: at, .. }) if !w.target().is_own(&at) => {}
        Err(e) => return Err(w.browser_failure(e)),
    }
    record_landing(w).await?;
    w.drain_network().await
}

/// Whether a browser request carries `secret` (a state, a code) in its URL or its `Referer`,
/// as sent or percent-encoded.
pub(super) fn carries(r: &NetRequest, secret: &str) -> bool {
    let encoded = crate::oauth::encoding::encode(secret);
    [Some(r.url.as_str()), r.referer.as_deref()]
        .into_iter()
        .flatten()
        .any(|text| text.contains(secret) || text.contains(&encoded))
}

#[then("the target refuses the request without redirecting")]
async fn refuses_without_redirect(w: &mut OAuthWorld) -> Outcome {
    let redirect_uri = w.app()?.redirect_uri.clone();
    let landed = w.response()?.url.clone();
    let marker = w.target().login.page_marker.clone();
    let browser = w.browser().await?;
    let on_login_page = match browser.has(&marker).await {
        Ok(b) => b,
        Err(e) => return Err(w.browser_failure(e)),
    };
    // A refusal sends the browser nowhere: no navigation off the target, no request to the
    // redirect URI's host, nothing that carries the state. A style sheet or a font the error
    // page loads from elsewhere is not a redirect (BP-04 judges those).
    let redirect_host = w
        .requested_redirect_uri()
        .and_then(|u| Url::parse(&u).ok())
        .and_then(|u| u.host_str().map(str::to_owned));
    let state = w
        .request
        .as_ref()
        .and_then(|r| r.state.as_ref())
        .map(|s| s.as_str().to_owned())
        .filter(|s| s.len() >= 8);
    let stray: Vec<String> = w
        .net
        .iter()
        .filter(|r| !stays_home(w.target(), r))
        .filter(|r| {
            let host = Url::parse(&r.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned));
            r.kind == "Document"
                || (host.is_some() && host == redirect_host)
                || state.as_deref().is_some_and(|s| carries(r, s))
        })
        .map(|r| r.url.clone())
        .collect();
    // The same request without the browser: no Location may leave the target.
    let url = authorize_url(w)?;
    let endpoint =
        Url::parse(&url).map_err(|e| Failure::scenario(format!("the authorize URL: {e}")))?;
    let probe = HttpCall {
        query: endpoint.query().map(str::to_owned),
        ..HttpCall::get()
    };
    let answer = w.call(&endpoint, probe).await?;
    let location = answer.header("location").unwrap_or_default();
    let leaves =
        !location.is_empty() && !location.starts_with('/') && !w.target().is_own(&location);
    let heard = w.canary_heard().await;
    let mut wrong = Vec::new();
    if is_callback(&landed, &redirect_uri) || !w.target().is_own(&landed) {
        wrong.push(format!("the browser left the target for {landed}"));
    }
    if on_login_page {
        wrong.push("the target asked the user to sign in instead of refusing".into());
    }
    if !stray.is_empty() {
        wrong.push(format!("the browser requested {stray:?}"));
    }
    if leaves {
        wrong.push(format!("the target answered with Location: {location}"));
    }
    if heard > 0 {
        wrong.push(format!("the canary listener heard {heard} request(s)"));
    }
    // RFC 8252 §7.3: on an http loopback IP literal a server MUST allow any port, so a port
    // variant accepted there is recorded, not judged. The MUST holds for every other URI.
    let requested = w.requested_redirect_uri().unwrap_or_default();
    if !wrong.is_empty() && loopback_port_variant(&requested, &redirect_uri) {
        w.observe(format!(
            "accepted {requested}, a port variant of the http loopback redirect URI {redirect_uri} (RFC 8252 §7.3 lets a native app use any port there): {}",
            wrong.join("; ")
        ));
        return Ok(());
    }
    let ok = wrong.is_empty();
    w.expect(
        ok,
        "an error page on the target, and no request anywhere else",
        "refused",
        wrong.join("; "),
    )
}

#[then("the canary host heard nothing")]
async fn canary_silent(w: &mut OAuthWorld) -> Outcome {
    let heard = w.canary_heard().await;
    w.expect(
        heard == 0,
        "the canary listener",
        "no request",
        format!("{heard} request(s)"),
    )
}

#[then(expr = "the callback carries error {oauth_error}")]
fn callback_error(w: &mut OAuthWorld, error: OAuthError) -> Outcome {
    let r = w.response()?;
    // An error of a request whose response type uses the fragment (response_type=token) comes
    // back in the fragment (RFC 6749 §4.2.2.1).
    let in_fragment = r.fragment.as_deref().and_then(|f| {
        raw_query_values(f, "error")
            .first()
            .map(|e| (*e).to_owned())
    });
    let got = r.error.first().map(|e| e.text()).or(in_fragment);
    let codes = r.code.len();
    if w.target().dialect == Dialect::Oauth2
        && error.0.as_str() == "invalid_scope"
        && got.is_none()
        && codes == 1
    {
        return Err(w.not_applicable(
            "the server ignores a scope it does not grant, as RFC 6749 §3.3 allows: name a scope it refuses in the app's ungranted_scope",
        ));
    }
    let ok = got.as_deref() == Some(error.0.as_str()) && codes == 0;
    w.expect(
        ok,
        "the error redirect",
        format!("error={} and no code", error.0),
        format!("error={got:?}, {codes} code(s)"),
    )
}

#[then(expr = "the callback carries no {param}")]
fn callback_lacks(w: &mut OAuthWorld, name: Param) -> Outcome {
    let name = name.0;
    // In the query or the fragment: the implicit grant's tokens arrive in the fragment.
    let r = w.response()?;
    let n = r.values(&name).len()
        + r.fragment
            .as_deref()
            .map_or(0, |f| raw_query_values(f, &name).len());
    w.expect(
        n == 0,
        &format!("no `{name}` on the callback"),
        "absent",
        format!("{n} occurrence(s)"),
    )
}

#[then(expr = "the callback carries only the parameters {fields}, with no control characters")]
fn callback_only(w: &mut OAuthWorld, allowed: Fields) -> Outcome {
    let allowed = allowed.0;
    let mut wrong = Vec::new();
    for (k, v) in &w.response()?.params {
        if !allowed.contains(k) {
            wrong.push(format!("unexpected parameter {k}"));
        }
        if v.decoded.iter().any(|b| matches!(b, b'\r' | b'\n' | b'\t')) {
            wrong.push(format!("{k} holds CR, LF or TAB"));
        }
    }
    w.expect(
        wrong.is_empty(),
        "the error redirect's parameters",
        allowed.join(", "),
        wrong.join("; "),
    )
}

#[then("the callback's code is in the query, not in the fragment")]
fn code_in_query(w: &mut OAuthWorld) -> Outcome {
    let r = w.response()?;
    let in_query = !r.code.is_empty();
    let in_fragment = r
        .fragment
        .as_deref()
        .is_some_and(|f| !raw_query_values(f, "code").is_empty());
    w.expect(
        in_query && !in_fragment,
        "where the code is",
        "in the query only",
        format!("query: {in_query}, fragment: {in_fragment}"),
    )
}

#[then("the redirect back to the app was a 302 or a 303")]
async fn redirect_status(w: &mut OAuthWorld) -> Outcome {
    w.drain_network().await?;
    let redirect_uri = w.app()?.redirect_uri.clone();
    let hops: Vec<(u16, String)> = w
        .net
        .iter()
        .filter(|r| is_callback(&r.url, &redirect_uri))
        .filter_map(|r| r.redirected_by.clone())
        .collect();
    // A code must not pass through a third party on the way.
    let detours: Vec<String> = w
        .net
        .iter()
        .filter(|r| !stays_home(w.target(), r) && !is_callback(&r.url, &redirect_uri))
        .filter(|r| !AuthorizationResponse::parse(&r.url).code.is_empty())
        .map(|r| r.url.clone())
        .collect();
    let ok =
        !hops.is_empty() && hops.iter().all(|(s, _)| matches!(s, 302 | 303)) && detours.is_empty();
    let statuses: Vec<u16> = hops.iter().map(|(s, _)| *s).collect();
    w.expect(
        ok,
        "the redirect to the app",
        "302 or 303, straight from the target",
        format!("statuses {statuses:?}, detours {detours:?}"),
    )
}

#[then(expr = "the browser lands on the registered redirect URI with a query")]
fn lands_on_query_uri(w: &mut OAuthWorld) -> Outcome {
    let uri = w.expand("{registered_with_query}")?;
    let landed = w.response()?.url.clone();
    // The browser shows a URI's default port as none (`http://h:80/` as `http://h/`), so the
    // place is compared parsed, and the registered query as text.
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    let kept = crate::oauth::authorize::callback_query(&landed).starts_with(&format!("{query}&"))
        && is_callback(&landed, &uri);
    w.expect(
        kept,
        "the registered query is kept when the code is appended",
        format!("{uri}&code=…"),
        &landed,
    )
}
