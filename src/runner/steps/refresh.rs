//! Steps for `features/refresh`: the refresh grant, rotation, and refusal of a spent refresh token
//! (RFC 6749 §6, RFC 9700 §4.14.2).

use super::{expect_status, is_public};
use crate::oauth::TokenRequest;
use crate::runner::params::Scope;
use crate::runner::world::{Failure, OAuthWorld, Outcome};
use crate::secret::Secret;
use crate::target::Dialect;
use cucumber::{given, then, when};
use serde_json::Value;
use std::time::Duration;

async fn refresh_with(w: &mut OAuthWorld, rt: Secret) -> Outcome {
    let app = w.app()?.clone();
    let mut req = TokenRequest::refresh(rt.clone(), &app.client_id);
    if !is_public(w) {
        req.client_secret = app.client_secret.clone();
    }
    w.spent_refresh_tokens.push(rt);
    w.send_token_request(req).await
}

pub(super) fn current_refresh_token(w: &OAuthWorld) -> Result<Secret, Failure> {
    w.refresh_token.clone().ok_or_else(|| {
        w.fail(
            "a refresh token to use",
            "a refresh_token from an earlier token response",
            "none was issued",
        )
    })
}

#[when("the app refreshes its tokens")]
async fn refreshes(w: &mut OAuthWorld) -> Outcome {
    let rt = current_refresh_token(w)?;
    refresh_with(w, rt).await
}

#[given("the app has refreshed its tokens")]
async fn has_refreshed(w: &mut OAuthWorld) -> Outcome {
    let rt = current_refresh_token(w)?;
    refresh_with(w, rt.clone()).await?;
    expect_status(w, 200)?;
    // Marketing Cloud rotates refresh tokens (S-17). RFC 6749 §6 lets a server keep a
    // confidential client's: then there is no spent token to replay.
    let rotated = w
        .refresh_token
        .as_ref()
        .is_some_and(|new| new.expose() != rt.expose());
    // A public client's must rotate in every dialect (RFC 9700 §2.2.2).
    let public = w.app()?.kind == crate::target::AppKind::Public;
    if w.target().dialect == Dialect::Oauth2 && !rotated && !public {
        return Err(w.not_applicable(
            "the server keeps this client's refresh token on refresh (RFC 6749 §6 allows it): the checks of a spent, rotated refresh token do not apply",
        ));
    }
    Ok(())
}

#[when("the app refreshes with the refresh token it has already used")]
pub(super) async fn refreshes_with_spent(w: &mut OAuthWorld) -> Outcome {
    let rt = w
        .spent_refresh_tokens
        .last()
        .cloned()
        .ok_or_else(|| Failure::scenario("no refresh token has been used yet"))?;
    refresh_with(w, rt).await
}

fn token_of(w: &OAuthWorld, earlier: bool, refresh: bool) -> Option<String> {
    let outcome = if earlier {
        w.earlier_tokens.last()
    } else {
        w.token.as_ref()
    }?;
    let t = outcome.tokens()?;
    let s = if refresh {
        t.refresh_token
    } else {
        t.access_token
    }?;
    Some(s.expose().to_owned())
}

fn differs(w: &OAuthWorld, refresh: bool) -> Outcome {
    let what = if refresh {
        "refresh token"
    } else {
        "access token"
    };
    match (token_of(w, true, refresh), token_of(w, false, refresh)) {
        (Some(old), Some(new)) if old != new => Ok(()),
        (Some(_), Some(_)) => Err(w.fail(
            &format!("a new {what}"),
            "a different value",
            "the same value",
        )),
        (old, new) => Err(w.fail(
            &format!("a new {what}"),
            "one in the previous and one in the new response",
            format!("previous: {}, new: {}", old.is_some(), new.is_some()),
        )),
    }
}

#[then("the new access token differs from the previous one")]
fn new_access_token(w: &mut OAuthWorld) -> Outcome {
    differs(w, false)
}

#[then("the new refresh token differs from the previous one")]
fn new_refresh_token(w: &mut OAuthWorld) -> Outcome {
    differs(w, true)
}

// ---- refresh variations (RF-03 .. RF-11) ----

pub(super) fn refresh_request(w: &OAuthWorld, rt: Secret) -> Result<TokenRequest, Failure> {
    let app = w.app()?.clone();
    let mut req = TokenRequest::refresh(rt, &app.client_id);
    if !is_public(w) {
        req.client_secret = app.client_secret.clone();
    }
    Ok(req)
}

#[when(expr = "the app refreshes with the refresh token it has already used after {int} second(s)")]
async fn replay_after(w: &mut OAuthWorld, secs: u64) -> Outcome {
    w.wait(Duration::from_secs(secs)).await;
    refreshes_with_spent(w).await
}

#[then("the newest refresh token is refused too")]
async fn newest_refused(w: &mut OAuthWorld) -> Outcome {
    let rt = current_refresh_token(w)?;
    let req = refresh_request(w, rt)?;
    w.send_token_request(req).await?;
    let status = w.token()?.status;
    w.expect(
        status == 400,
        "the newest refresh token after a replay of an older one",
        "refused (400)",
        status,
    )
}

#[then("the newest access token is refused by the REST API")]
async fn newest_access_refused(w: &mut OAuthWorld) -> Outcome {
    let at = w
        .access_token
        .clone()
        .ok_or_else(|| Failure::scenario("no access token"))?;
    let works = super::token::rest_probe(w, &at, false).await?;
    if works {
        return w.judge(
            "the newest access token after a replay of an older refresh token",
            "refused",
            "still accepted",
        );
    }
    Ok(())
}

#[when("the second web app refreshes with the app's refresh token")]
async fn other_client_refreshes(w: &mut OAuthWorld) -> Outcome {
    let rt = current_refresh_token(w)?;
    let other = w
        .target()
        .second_web_app
        .clone()
        .ok_or_else(|| w.not_applicable("the target names no second web app"))?;
    let mut req = TokenRequest::refresh(rt, &other.client_id);
    req.client_secret = other.client_secret.clone();
    w.send_token_request(req).await
}

#[when("the app refreshes without its client secret")]
async fn refresh_without_secret(w: &mut OAuthWorld) -> Outcome {
    let rt = current_refresh_token(w)?;
    let mut req = refresh_request(w, rt)?;
    req.client_secret = None;
    w.send_token_request(req).await
}

#[when(expr = "the app refreshes asking for scope {scope}")]
async fn refresh_with_scope(w: &mut OAuthWorld, scope: Scope) -> Outcome {
    let scope = w.expand(&scope.0)?;
    let rt = current_refresh_token(w)?;
    let mut req = refresh_request(w, rt.clone())?;
    req.scope = Some(scope);
    w.spent_refresh_tokens.push(rt);
    w.send_token_request(req).await
}

#[when(expr = "the app refreshes {int} times at once with the same refresh token")]
async fn refresh_at_once(w: &mut OAuthWorld, n: usize) -> Outcome {
    let rt = current_refresh_token(w)?;
    let req = refresh_request(w, rt)?;
    w.send_at_once(&req, n).await
}

#[when(expr = "the app refreshes {int} times, {int} days apart")]
async fn refresh_chain(w: &mut OAuthWorld, n: usize, days: u64) -> Outcome {
    for i in 0..n {
        if i > 0 {
            w.wait(Duration::from_secs(days * 24 * 3600)).await;
        }
        let rt = current_refresh_token(w)?;
        let req = refresh_request(w, rt)?;
        w.send_token_request(req).await?;
        let status = w.token()?.status;
        w.observe(format!(
            "refresh {} after {} days: {status}",
            i + 1,
            i as u64 * days
        ));
        if status != 200 {
            return w.judge(
                &format!("a chain of {n} refreshes, {days} days apart"),
                "every refresh succeeds",
                format!("refresh {} answered {status}", i + 1),
            );
        }
    }
    Ok(())
}

#[then("the refresh answer has the same shape as the code exchange's")]
fn refresh_same_shape(w: &mut OAuthWorld) -> Outcome {
    let keys = |v: Option<Value>| -> Vec<String> {
        let mut k: Vec<String> = v
            .and_then(|v| v.as_object().map(|m| m.keys().cloned().collect()))
            .unwrap_or_default();
        k.sort();
        k
    };
    let first = keys(w.earlier_tokens.first().and_then(|t| t.redacted_json()));
    let last = keys(w.token()?.redacted_json());
    w.expect(
        first == last,
        "the fields of a refresh answer",
        first.join(", "),
        last.join(", "),
    )
}
