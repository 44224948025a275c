//! Steps for `features/refresh`: the refresh grant, rotation, and refusal of a spent refresh token
//! (RFC 6749 §6, RFC 9700 §4.14.2).

use super::{expect_status, is_public};
use crate::oauth::TokenRequest;
use crate::runner::world::{Failure, OAuthWorld, Outcome};
use crate::secret::Secret;
use cucumber::{given, then, when};

async fn refresh_with(w: &mut OAuthWorld, rt: Secret) -> Outcome {
    let app = w.app()?.clone();
    let mut req = TokenRequest::refresh(rt.clone(), &app.client_id);
    if !is_public(w) {
        req.client_secret = app.client_secret.clone();
    }
    w.spent_refresh_tokens.push(rt);
    w.send_token_request(req).await
}

fn current_refresh_token(w: &OAuthWorld) -> Result<Secret, Failure> {
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
    refresh_with(w, rt).await?;
    expect_status(w, 200)
}

#[when("the app refreshes with the refresh token it has already used")]
async fn refreshes_with_spent(w: &mut OAuthWorld) -> Outcome {
    let rt = w
        .spent_refresh_tokens
        .last()
        .cloned()
        .ok_or_else(|| Failure("no refresh token has been used yet".into()))?;
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
