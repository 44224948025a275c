//! Steps for `features/login`: signing in through the browser and the redirect back to the app
//! with `code` and `state` (RFC 6749 §4.1.2).

use super::{authorize_in_browser, take_code};
use crate::oauth::authorize::{State, WireValue};
use crate::runner::params;
use crate::runner::world::{Failure, OAuthWorld, Outcome};
use cucumber::{given, then, when};

#[when("the user signs in through the browser")]
async fn user_signs_in(w: &mut OAuthWorld) -> Outcome {
    authorize_in_browser(w).await
}

#[given("the user has authorized the app in the browser")]
async fn user_has_authorized(w: &mut OAuthWorld) -> Outcome {
    authorize_in_browser(w).await?;
    take_code(w)
}

#[then("the browser lands on the registered redirect URI")]
fn lands_on_redirect_uri(w: &mut OAuthWorld) -> Outcome {
    let redirect_uri = w.app()?.redirect_uri.clone();
    if w.response()?.is_at(&redirect_uri) {
        Ok(())
    } else {
        Err(w.fail(
            "the browser lands on the registered redirect URI",
            redirect_uri,
            "another page (see `browser ended on`)",
        ))
    }
}

#[then("the callback carries exactly one code")]
fn exactly_one_code(w: &mut OAuthWorld) -> Outcome {
    take_code(w)
}

#[then(expr = "the callback's state is exactly {state}")]
fn state_is_exactly(w: &mut OAuthWorld, expected: params::State) -> Outcome {
    let expected = expected.0;
    let states = w.response()?.state.clone();
    match states.as_slice() {
        [one] => {
            if one.decoded == expected.as_bytes() {
                Ok(())
            } else {
                Err(w.fail(
                    "the state comes back byte for byte (decoded once)",
                    format!("{expected:?}"),
                    format!("{:?} (as received: {:?})", one.text(), one.raw),
                ))
            }
        }
        other => Err(w.fail(
            "the callback carries exactly one state",
            "1 `state` parameter",
            format!("{} `state` parameters", other.len()),
        )),
    }
}

#[given(expr = "the state sent is {state}")]
fn state_is(w: &mut OAuthWorld, state: params::State) -> Outcome {
    super::prepare_request(w, None, Some(State::Chosen(state.0)))
}

fn sent_state(w: &OAuthWorld) -> String {
    w.request
        .as_ref()
        .and_then(|r| r.state.as_ref())
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default()
}

/// Whether exactly one state came back, byte for byte the one sent.
fn exactly(states: &[WireValue], sent: &str) -> bool {
    matches!(states, [one] if one.decoded == sent.as_bytes())
}

#[then("the callback's state is exactly the one sent")]
fn state_is_the_one_sent(w: &mut OAuthWorld) -> Outcome {
    let sent = sent_state(w);
    let states = w.response()?.state.clone();
    let ok = exactly(&states, &sent);
    // The callback is form-decoded (RFC 6749 Appendix B), so `+` for a space passes; the bytes
    // on the wire are recorded, since Marketing Cloud documents `%20`.
    if ok && sent.contains(' ') && states.first().is_some_and(|s| s.raw.contains('+')) {
        w.observe("the state came back with + for a space (RFC 6749 Appendix B; Marketing Cloud documents %20)");
    }
    let shown: String = states
        .first()
        .map(|b| b.text().chars().take(80).collect())
        .unwrap_or_else(|| "(none)".into());
    w.expect(
        ok,
        &format!("the state ({} bytes) comes back byte for byte", sent.len()),
        format!("{:?}…", sent.chars().take(80).collect::<String>()),
        format!("{shown:?}… ({} state parameter(s))", states.len()),
    )
}

#[then("the state comes back exactly, or the request is refused with an error")]
fn state_exact_or_refused(w: &mut OAuthWorld) -> Outcome {
    let sent = sent_state(w);
    let redirect_uri = w.app()?.redirect_uri.clone();
    let r = w.response()?;
    let exact = exactly(&r.state, &sent);
    let refused = !r.error.is_empty() && r.code.is_empty();
    let error_page = !r.is_at(&redirect_uri);
    let counts = format!("{} state(s), {} error(s)", r.state.len(), r.error.len());
    w.expect(
        exact || refused || error_page,
        "a non-ASCII state is kept or refused, never changed",
        "the same bytes, or an error",
        counts,
    )
}

#[when("the user cancels at the login page")]
async fn user_cancels(w: &mut OAuthWorld) -> Outcome {
    let url = super::authorize_url(w)?;
    let cancel = w.target().login.cancel.clone().ok_or_else(|| {
        w.not_applicable("the target's login script names no cancel selector for the login page")
    })?;
    let browser = w.browser().await?;
    let outcome = async {
        browser.open(&url).await?;
        browser.click_to_leave(&cancel).await?;
        Ok::<(), crate::browser::BrowserError>(())
    };
    if let Err(e) = outcome.await {
        return Err(w.browser_failure(e));
    }
    super::record_landing(w).await
}

#[when("the browser submits the authorization request by POST from the app's page")]
async fn authorize_by_post(w: &mut OAuthWorld) -> Outcome {
    let url = super::authorize_url(w)?;
    let (action, query) = url.split_once('?').unwrap_or((&url, ""));
    let inputs: String = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                html_escape(&k),
                html_escape(&v)
            )
        })
        .collect();
    let page = format!(
        r#"<!doctype html><html><body><form id="f" method="post" action="{}">{inputs}</form><script>document.getElementById('f').submit()</script></body></html>"#,
        html_escape(action)
    );
    let page_url = w.ctx().aux.serve(page);
    let redirect_uri = w.app()?.redirect_uri.clone();
    w.refuse_after_failed_login()?;
    w.browser().await?;
    let Some(browser) = w.browser_ref() else {
        return Err(Failure::scenario("browser unavailable"));
    };
    let target = w.target();
    let outcome = async {
        browser.open(page_url.as_str()).await?;
        // Wait (bounded) for the auto-post to navigate away from the app's page.
        for _ in 0..200 {
            if browser.current_url().await? != page_url.as_str() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        browser
            .sign_in_if_asked(&target.login, &target.user, &redirect_uri)
            .await?;
        Ok::<(), crate::browser::BrowserError>(())
    };
    if let Err(e) = outcome.await {
        if e.is_login() {
            w.login_failed();
        }
        return Err(w.browser_failure(e));
    }
    super::record_landing(w).await
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[given(expr = "{int} codes collected through the browser")]
async fn collect_codes(w: &mut OAuthWorld, n: usize) -> Outcome {
    for i in 0..n {
        w.request = None;
        super::authorize_in_browser(w).await?;
        super::take_code(w)?;
        match w.code.clone() {
            Some(c) => w.collected.push(c),
            None => return Err(Failure::scenario(format!("no code at collection {i}"))),
        }
    }
    Ok(())
}

/// What a black box can measure of randomness: uniqueness, and how many bits the part that
/// varies between samples could hold (its length times the bits per character of the alphabet
/// seen there). It is an upper bound: a counter or a timestamp scores low, but a hash of a
/// counter, or a JWT, scores as high as true randomness, and no black-box test can tell them
/// apart. The check claims no more than that.
#[then(
    expr = "the collected values are unique and what varies between them could hold at least {int} bits"
)]
fn entropy(w: &mut OAuthWorld, bits: u32) -> Outcome {
    let owned: Vec<String> = w.collected.iter().map(|s| s.expose().to_owned()).collect();
    let values: Vec<&str> = owned.iter().map(String::as_str).collect();
    let (estimate, unique) = crate::oauth::entropy::estimate(&values);
    w.observe(format!(
        "{} values, about {estimate:.0} bits, unique: {unique}",
        values.len()
    ));
    w.expect(
        unique && estimate >= f64::from(bits),
        &format!("randomness of {} collected values", values.len()),
        format!("unique, at least {bits} bits"),
        format!("unique: {unique}, about {estimate:.0} bits"),
    )
}

#[then("the callback's iss, if any, names the target's issuer")]
fn iss_is_issuer(w: &mut OAuthWorld) -> Outcome {
    let iss: Vec<String> = w.response()?.iss.iter().map(WireValue::text).collect();
    let issuer = w.target().issuer.clone();
    match (iss.as_slice(), issuer) {
        ([], _) => {
            w.observe("no iss on the authorization response (RFC 9207 not supported)");
            Ok(())
        }
        ([one], Some(expected)) if *one == expected => {
            w.observe(format!("iss = {one}"));
            Ok(())
        }
        (got, expected) => w.judge(
            "iss on the authorization response (RFC 9207)",
            expected.unwrap_or_else(|| "the target's issuer".into()),
            format!("{got:?}"),
        ),
    }
}

#[then("the callback's tssd, if any, is a tenant subdomain")]
fn tssd_shape(w: &mut OAuthWorld) -> Outcome {
    let tssd: Vec<String> = w.response()?.tssd.iter().map(WireValue::text).collect();
    match tssd.as_slice() {
        [] => {
            w.observe("no tssd (not an AppExchange app, or local testing)");
            Ok(())
        }
        [one] if !one.is_empty() && one.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') => {
            w.observe(format!("tssd of {} characters", one.len()));
            Ok(())
        }
        got => w.judge(
            "tssd matches [a-zA-Z0-9-]",
            "one tenant subdomain",
            format!("{got:?}"),
        ),
    }
}

#[then("what came back for the state is recorded")]
fn record_state(w: &mut OAuthWorld) -> Outcome {
    let r = w.response()?;
    let raw: Vec<&str> = r.state.iter().map(|v| v.raw.as_str()).collect();
    let decoded: Vec<String> = r.state.iter().map(WireValue::text).collect();
    let codes = r.code.len();
    w.observe(format!(
        "state as received: {raw:?}; decoded once: {decoded:?}; codes: {codes}"
    ));
    Ok(())
}
