//! Steps for `features/pages`: what the target's own pages do in the browser (framing, Referer,
//! third-party requests, CSRF on the login form) and the REST API's refusal of tokens in URLs.

use super::authorize_url;
use super::token::rest_probe;
use crate::browser::session::NetRequest;
use crate::http::HttpCall;
use crate::runner::world::{Failure, OAuthWorld, Outcome};
use cucumber::{given, then, when};
use url::Url;

/// The target's answers to the authorize URL, followed without the browser while they stay on
/// the target's hosts (at most 5 hops): each is (URL, status, headers).
async fn target_pages(
    w: &mut OAuthWorld,
) -> Result<Vec<(String, crate::http::TokenOutcome)>, Failure> {
    let mut url = authorize_url(w)?;
    let mut out = Vec::new();
    // Cookies set along the way go with the next hop, as a browser's would (a login page may
    // need the cookie its redirect set).
    let mut cookies: Vec<(String, String)> = Vec::new();
    for _ in 0..5 {
        let u = Url::parse(&url).map_err(|e| Failure::scenario(format!("{url}: {e}")))?;
        let mut call = HttpCall {
            query: u.query().map(str::to_owned),
            ..HttpCall::get()
        };
        if !cookies.is_empty() {
            let jar: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            call.set_header("Cookie", &jar.join("; "));
        }
        let answer = w.call(&u, call).await?;
        for set in answer.headers.get_all("set-cookie") {
            let text = String::from_utf8_lossy(set.as_bytes());
            if let Some((k, v)) = text.split(';').next().and_then(|p| p.split_once('=')) {
                cookies.retain(|(name, _)| name != k.trim());
                cookies.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let next = answer.header("location");
        out.push((url.clone(), answer));
        match next {
            Some(loc) => {
                let joined = u.join(&loc).map(|j| j.to_string()).unwrap_or(loc);
                // The target's pages may be on several of its hosts (a login host apart from
                // the authorization endpoint): follow them all, and stop where the target
                // hands over (the redirect URI, or any host that is not the target's).
                if !w.target().is_own(&joined) {
                    break;
                }
                url = joined;
            }
            None => break,
        }
    }
    Ok(out)
}

#[then("every page of the target refuses to be framed")]
async fn frame_headers(w: &mut OAuthWorld) -> Outcome {
    let pages = target_pages(w).await?;
    let mut wrong = Vec::new();
    // Only what a browser renders as a page can be framed for clickjacking: HTML. A redirect
    // or a JSON error is not such a page.
    let html = |a: &crate::http::TokenOutcome| {
        !(300..400).contains(&a.status)
            && a.header("content-type")
                .is_some_and(|t| t.to_ascii_lowercase().contains("html"))
    };
    for (url, a) in pages.iter().filter(|(_, a)| html(a)) {
        let xfo = a
            .header("x-frame-options")
            .unwrap_or_default()
            .to_ascii_uppercase();
        let csp = a.header("content-security-policy").unwrap_or_default();
        let fa = csp.split(';').find_map(|d| {
            d.trim()
                .strip_prefix("frame-ancestors")
                .map(str::trim)
                .map(str::to_owned)
        });
        let ok = xfo == "DENY"
            || xfo == "SAMEORIGIN"
            || fa.is_some_and(|v| v == "'none'" || v == "'self'");
        if !ok {
            wrong.push(format!(
                "{} ({})",
                url.split('?').next().unwrap_or(""),
                a.status
            ));
        }
    }
    if !pages.iter().any(|(_, a)| html(a)) {
        return Err(w.fail(
            "an HTML page (the login page) on the way from the authorization URL",
            "at least one",
            "none: every answer was a redirect or not HTML",
        ));
    }
    w.expect(
        wrong.is_empty(),
        "X-Frame-Options or frame-ancestors on the target's pages",
        "on every page",
        format!("missing on {wrong:?}"),
    )
}

#[then("every page of the target carries a Referrer-Policy")]
async fn referrer_policy(w: &mut OAuthWorld) -> Outcome {
    let pages = target_pages(w).await?;
    let missing: Vec<String> = pages
        .iter()
        .filter(|(_, a)| a.header("referrer-policy").is_none())
        .map(|(u, a)| format!("{} ({})", u.split('?').next().unwrap_or(""), a.status))
        .collect();
    w.expect(
        missing.is_empty(),
        "Referrer-Policy on the target's pages",
        "on every page",
        format!("missing on {missing:?}"),
    )
}

#[when("a page of another origin frames the authorization URL")]
async fn frame_it(w: &mut OAuthWorld) -> Outcome {
    let url = authorize_url(w)?;
    let page = format!(
        r#"<!doctype html><html><body><iframe id="victim" width="800" height="600" src="{}"></iframe></body></html>"#,
        url.replace('&', "&amp;").replace('"', "&quot;")
    );
    let page_url = w.ctx().aux.serve(page);
    let browser = w.browser().await?;
    if let Err(e) = browser.open(page_url.as_str()).await {
        return Err(w.browser_failure(e));
    }
    Ok(())
}

/// What the frame showed when the polling stopped.
#[derive(Debug, PartialEq, Eq)]
enum Framed {
    /// The login page rendered inside the frame.
    Rendered,
    /// The browser refused to render the target's answer (its error page replaced it).
    Blocked,
    /// Neither within the time allowed: still loading, or blank.
    Undecided(String),
}

#[then("the framed login page does not render")]
async fn framed_page_blocked(w: &mut OAuthWorld) -> Outcome {
    let marker = w.target().login.page_marker.clone();
    let browser = w.browser().await?;
    // Poll (bounded): a page that may be framed renders within a moment; a refused one is
    // replaced by the browser's error page (chrome-error://). Only that proves the refusal: a
    // slow page, an error page of the target or a wrong selector would also not show the
    // login form.
    let seen = async {
        let mut last = String::new();
        for _ in 0..50 {
            browser.enter_first_frame().await?;
            let found = browser.has(&marker).await;
            let href = browser.eval("return location.href").await;
            browser.leave_frame().await?;
            if found? {
                return Ok(Framed::Rendered);
            }
            last = href?.as_str().unwrap_or_default().to_owned();
            if last.starts_with("chrome-error:") {
                return Ok(Framed::Blocked);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Ok::<Framed, crate::browser::BrowserError>(Framed::Undecided(last))
    }
    .await;
    let seen = match seen {
        Ok(s) => s,
        Err(e) => return Err(w.browser_failure(e)),
    };
    // The frame reached the target: its navigation asked the target for a page.
    w.drain_network().await?;
    let reached = w
        .net
        .iter()
        .any(|r| r.kind == "Document" && w.target().is_own(&r.url));
    match seen {
        Framed::Rendered => w.expect(
            false,
            "the login page inside a frame of another origin",
            "blocked",
            "rendered",
        ),
        Framed::Blocked if reached => Ok(()),
        Framed::Blocked => Err(w.environment(
            "the frame was blocked before it asked the target for a page: nothing is known about the target",
        )),
        Framed::Undecided(at) => Err(w.environment(
            format!(
                "within 5 s the frame neither rendered the login page nor was refused by the browser (it showed {at:?}); the target did not answer in time, or the login script's page marker does not match"
            ),
        )),
    }
}

/// The browser's requests to third parties: off the target's hosts, and not the callback.
fn third_party(w: &OAuthWorld, redirect_uri: &str) -> Vec<NetRequest> {
    let target = w.target();
    w.net
        .iter()
        .filter(|r| r.url.starts_with("http"))
        .filter(|r| {
            !target.is_own(&r.url) && !crate::oauth::authorize::is_callback(&r.url, redirect_uri)
        })
        .cloned()
        .collect()
}

#[then("the browser requested nothing from a third party while on the target's pages")]
async fn no_third_party(w: &mut OAuthWorld) -> Outcome {
    w.drain_network().await?;
    let redirect_uri = w.app()?.redirect_uri.clone();
    let stray: Vec<String> = third_party(w, &redirect_uri)
        .into_iter()
        .map(|r| r.url.split('?').next().unwrap_or("").to_owned())
        .collect();
    w.expect(
        stray.is_empty(),
        "requests from the target's pages to third parties",
        "none",
        format!("{stray:?}"),
    )
}

#[then("no request to a third party carried the state or the code")]
async fn no_leak_to_third_party(w: &mut OAuthWorld) -> Outcome {
    w.drain_network().await?;
    let redirect_uri = w.app()?.redirect_uri.clone();
    let mut secrets: Vec<String> = Vec::new();
    if let Some(s) = w.request.as_ref().and_then(|r| r.state.as_ref()) {
        secrets.push(s.as_str().to_owned());
    }
    if let Ok(r) = w.response() {
        secrets.extend(r.code.iter().map(|c| c.text()));
    }
    secrets.retain(|s| s.len() >= 8);
    if secrets.is_empty() {
        return Err(Failure::scenario(
            "no state or code to look for: authorize in the browser first",
        ));
    }
    let leaks: Vec<String> = third_party(w, &redirect_uri)
        .iter()
        .filter(|r| secrets.iter().any(|s| super::redirect::carries(r, s)))
        .map(|r| r.url.split('?').next().unwrap_or("").to_owned())
        .collect();
    w.expect(
        leaks.is_empty(),
        "third-party requests carrying the state or the code (in the URL or the Referer)",
        "none",
        format!("{leaks:?}"),
    )
}

#[when("the login form is submitted without its anti-CSRF token")]
async fn csrf_replay(w: &mut OAuthWorld) -> Outcome {
    let pages = target_pages(w).await?;
    let (page_url, page) = pages
        .iter()
        .find(|(_, a)| a.status == 200)
        .cloned()
        .ok_or_else(|| Failure::scenario("no login page was reached without the browser"))?;
    let html = page.redacted_text.clone();
    let form = crate::browser::forms::first_form_with_password(&html)
        .ok_or_else(|| Failure::scenario("the login page has no form with a password field"))?;
    let user = w.target().user.clone();
    let mut fields: Vec<(String, String)> = form
        .hidden
        .into_iter()
        .filter(|(k, _)| {
            !k.to_ascii_lowercase().contains("csrf") && !k.to_ascii_lowercase().contains("token")
        })
        .collect();
    fields.push((form.username_field, user.username.clone()));
    fields.push((form.password_field, user.password.expose().to_owned()));
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let action = Url::parse(&page_url)
        .and_then(|u| u.join(&form.action))
        .map_err(|e| Failure::scenario(format!("the form's action: {e}")))?;
    let call = HttpCall {
        method: reqwest::Method::POST,
        headers: vec![(
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        query: action.query().map(str::to_owned),
        body: Some(body.into_bytes()),
        secrets: vec![user.password.clone()],
    };
    let answer = w.call(&action, call).await?;
    w.batch.push(answer);
    Ok(())
}

#[then("the target refuses the login")]
fn login_refused(w: &mut OAuthWorld) -> Outcome {
    let answer = w
        .batch
        .last()
        .ok_or_else(|| Failure::scenario("no login was submitted"))?;
    let location = answer.header("location").unwrap_or_default();
    let accepted = location.contains("code=") || answer.header("set-cookie").is_some();
    let status = answer.status;
    w.expect(
        !accepted,
        "a login form without its anti-CSRF token",
        "refused",
        format!("{status}, Location {location:?}"),
    )
}

#[when("the REST API is called with the access token in the query string")]
async fn token_in_query(w: &mut OAuthWorld) -> Outcome {
    let at = w
        .access_token
        .clone()
        .ok_or_else(|| Failure::scenario("no access token"))?;
    let accepted = rest_probe(w, &at, true).await?;
    w.observe(format!("token in the query string accepted: {accepted}"));
    w.batch.clear();
    w.query_token_accepted = Some(accepted);
    Ok(())
}

#[then("the REST API refuses the access token in the query string")]
fn query_token_refused(w: &mut OAuthWorld) -> Outcome {
    match w.query_token_accepted {
        None => Err(Failure::scenario(
            "the REST API was not called with the token in the query string",
        )),
        Some(true) => w.judge("an access token in the query string", "refused", "accepted"),
        Some(false) => Ok(()),
    }
}

#[then("the REST API accepts the access token in the Authorization header")]
#[given("the access token works at the REST API")]
async fn token_in_header(w: &mut OAuthWorld) -> Outcome {
    let at = w
        .access_token
        .clone()
        .ok_or_else(|| Failure::scenario("no access token"))?;
    let ok = rest_probe(w, &at, false).await?;
    w.expect(
        ok,
        "the same access token as a Bearer header",
        "accepted",
        "refused",
    )
}
