//! Steps for `features/login`: signing in through the browser and the redirect back to the app
//! with `code` and `state` (RFC 6749 §4.1.2).

use super::{authorize_in_browser, callback_values, take_code};
use crate::oauth::authorize::is_callback;
use crate::oauth::encoding::decode_once;
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
    let landed = w
        .authorization
        .as_ref()
        .map(|a| a.landed_url.clone())
        .unwrap_or_default();
    if is_callback(&landed, &redirect_uri) {
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

#[then(expr = "the callback's state is exactly {string}")]
fn state_is_exactly(w: &mut OAuthWorld, expected: String) -> Outcome {
    let states = callback_values(w, "state")?;
    match states.as_slice() {
        [raw] => {
            let decoded = decode_once(raw);
            if decoded == expected.as_bytes() {
                Ok(())
            } else {
                Err(w.fail(
                    "the state comes back byte for byte (decoded once)",
                    format!("{expected:?}"),
                    format!(
                        "{:?} (as received: {raw:?})",
                        String::from_utf8_lossy(&decoded)
                    ),
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
fn state_is(w: &mut OAuthWorld, state: crate::runner::params::State) -> Outcome {
    super::prepare_request(w, None, Some(state.0))
}

fn sent_state(w: &OAuthWorld) -> Option<String> {
    w.request.as_ref().and_then(|r| r.state.clone())
}

#[then("the callback's state is exactly the one sent")]
fn state_is_the_one_sent(w: &mut OAuthWorld) -> Outcome {
    let sent = sent_state(w).unwrap_or_default();
    let states = callback_values(w, "state")?;
    let back = states.first().map(|s| decode_once(s));
    let ok = states.len() == 1 && back.as_deref() == Some(sent.as_bytes());
    let shown: String = back
        .map(|b| String::from_utf8_lossy(&b).chars().take(80).collect())
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
    let sent = sent_state(w).unwrap_or_default();
    let states = callback_values(w, "state")?;
    let errors = callback_values(w, "error")?;
    let codes = callback_values(w, "code")?;
    let exact = states.len() == 1 && decode_once(&states[0]) == sent.as_bytes();
    let refused = !errors.is_empty() && codes.is_empty();
    let landed = w
        .authorization
        .as_ref()
        .map(|a| a.landed_url.clone())
        .unwrap_or_default();
    let redirect_uri = w.app()?.redirect_uri.clone();
    let error_page = !is_callback(&landed, &redirect_uri);
    w.expect(
        exact || refused || error_page,
        "a non-ASCII state is kept or refused, never changed",
        "the same bytes, or an error",
        format!("{} state(s), {} error(s)", states.len(), errors.len()),
    )
}

#[when("the user cancels at the login page")]
async fn user_cancels(w: &mut OAuthWorld) -> Outcome {
    let url = super::authorize_url(w)?;
    let cancel = w.target().cancel_selector.clone().ok_or_else(|| {
        Failure("the target file names no cancel_selector for the login page".into())
    })?;
    let browser = w.browser().await?;
    let outcome = async {
        browser.open(&url).await?;
        let before = browser.current_url().await?;
        browser.click(&cancel).await?;
        let _ = before;
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
    let marker = w.target().login_page_marker.clone();
    let redirect_uri = w.app()?.redirect_uri.clone();
    let target = w.target().clone();
    let browser = w.browser().await?;
    let outcome = async {
        browser.open(page_url.as_str()).await?;
        // Wait (bounded) for the auto-post to navigate away from the app's page.
        for _ in 0..200 {
            if browser.current_url().await? != page_url.as_str() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let landed = browser.current_url().await?;
        if !is_callback(&landed, &redirect_uri) && browser.has(&marker).await? {
            browser.sign_in(&target).await?;
        }
        Ok::<(), crate::browser::BrowserError>(())
    };
    if let Err(e) = outcome.await {
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
            None => return Err(Failure(format!("no code at collection {i}"))),
        }
    }
    Ok(())
}

#[then(expr = "the collected values are unique and carry at least {int} bits of entropy")]
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
    let iss: Vec<String> = callback_values(w, "iss")?
        .iter()
        .map(|v| String::from_utf8_lossy(&decode_once(v)).into_owned())
        .collect();
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
    let tssd: Vec<String> = callback_values(w, "tssd")?
        .iter()
        .map(|v| String::from_utf8_lossy(&decode_once(v)).into_owned())
        .collect();
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
    let raw: Vec<String> = callback_values(w, "state")?;
    let decoded: Vec<String> = raw
        .iter()
        .map(|v| String::from_utf8_lossy(&decode_once(v)).into_owned())
        .collect();
    let codes = callback_values(w, "code")?.len();
    w.observe(format!(
        "state as received: {raw:?}; decoded once: {decoded:?}; codes: {codes}"
    ));
    Ok(())
}
