//! Steps for `features/pkce` (RFC 7636, RFC 9700 §4.8): the challenge at authorize and the
//! verifier at the token endpoint, each altered the ways an attacker or a sloppy client would.

use super::{authorize_in_browser, new_pkce as random_pkce, redeem, take_code, Credentials};
use crate::oauth::authorize::State;
use crate::oauth::Pkce;
use crate::runner::params::PkceMethod;
use crate::runner::world::{Failure, OAuthWorld, Outcome, Tweak};
use crate::secret::Secret;
use cucumber::{given, then, when};

#[given("the app uses no PKCE")]
fn no_pkce(w: &mut OAuthWorld) {
    w.use_pkce = false;
}

#[given(expr = "the authorization request's code_challenge_method is {pkce_method}")]
fn challenge_method(w: &mut OAuthWorld, method: PkceMethod) {
    w.use_pkce = true;
    w.tweaks
        .push(Tweak::Set("code_challenge_method".into(), method.0));
}

#[given(expr = "the app's code_verifier is {int} characters long")]
fn verifier_of_length(w: &mut OAuthWorld, len: usize) -> Outcome {
    let base = random_pkce()?;
    let mut v: String = base.verifier.expose().chars().cycle().take(len).collect();
    if v.len() < len {
        v = "a".repeat(len);
    }
    set_verifier(w, Pkce::from_verifier(&v))
}

#[given(expr = "the app's code_verifier contains {string}")]
fn verifier_with(w: &mut OAuthWorld, chars: String) -> Outcome {
    let base = random_pkce()?;
    let v = format!(
        "{}{chars}",
        &base.verifier.expose()[..43 - chars.len().min(43)]
    );
    set_verifier(w, Pkce::from_verifier(&v))
}

fn set_verifier(w: &mut OAuthWorld, pkce: Pkce) -> Outcome {
    w.use_pkce = true;
    w.keep_secret(&pkce.verifier);
    // The request is prepared with a fresh pair; put this one in its place.
    super::prepare_request(w, None, Some(State::Generated(super::random_state())))?;
    if let Some(r) = w.request.as_mut() {
        r.code_challenge = Some((pkce.challenge.clone(), "S256".into()));
    }
    w.pkce = Some(pkce);
    Ok(())
}

/// Redeems the code with `verifier` in place of the app's own (None: no verifier).
async fn redeem_with_verifier(w: &mut OAuthWorld, verifier: Option<Secret>) -> Outcome {
    let own = w.pkce.take();
    w.pkce = verifier.map(|v| Pkce {
        challenge: String::new(),
        verifier: v,
    });
    let result = redeem(w, Credentials::Own).await;
    w.pkce = own;
    result
}

/// RFC 9700 §2.1.1 asks that a public client use PKCE; a server may enforce it at authorize or
/// at the token endpoint: either way the app gets no tokens.
#[then("the app gets no tokens: refused at authorize, or its code refused at the token endpoint")]
async fn refused_somewhere(w: &mut OAuthWorld) -> Outcome {
    let r = w.response()?;
    let error = r.error.first().map(|e| e.text());
    if error.as_deref() == Some("invalid_request") && r.code.is_empty() {
        return Ok(());
    }
    if r.code.len() != 1 {
        return Err(w.fail(
            "the callback",
            "error=invalid_request, or one code",
            format!("error={error:?}, {} code(s)", r.code.len()),
        ));
    }
    take_code(w)?;
    redeem(w, Credentials::Own).await?;
    let status = w.token()?.status;
    w.expect(
        (400..500).contains(&status),
        "the code of an authorization request without PKCE, redeemed without a verifier",
        "refused (4xx)",
        status,
    )
}

#[when("the app redeems the code with a code_verifier of another flow")]
async fn foreign_verifier(w: &mut OAuthWorld) -> Outcome {
    let other = random_pkce()?;
    w.keep_secret(&other.verifier);
    redeem_with_verifier(w, Some(other.verifier)).await
}

#[when("the app redeems the code without a code_verifier")]
async fn no_verifier(w: &mut OAuthWorld) -> Outcome {
    redeem_with_verifier(w, None).await
}

#[when("the app redeems the code with a code_verifier although it sent no challenge")]
async fn verifier_without_challenge(w: &mut OAuthWorld) -> Outcome {
    let p = random_pkce()?;
    w.keep_secret(&p.verifier);
    redeem_with_verifier(w, Some(p.verifier)).await
}

#[when("the app redeems the code with the code_challenge as its code_verifier")]
async fn challenge_as_verifier(w: &mut OAuthWorld) -> Outcome {
    let challenge = w
        .pkce
        .as_ref()
        .map(|p| p.challenge.clone())
        .ok_or_else(|| Failure::scenario("the app sent no code_challenge"))?;
    redeem_with_verifier(w, Some(Secret::new("CodeVerifier", challenge))).await
}

#[given("a second authorization of the app with its own PKCE pair")]
async fn second_flow(w: &mut OAuthWorld) -> Outcome {
    let first = (
        w.code.clone(),
        w.pkce.clone(),
        w.request.clone(),
        w.authorization.clone(),
    );
    w.request = None;
    w.use_pkce = true;
    authorize_in_browser(w).await?;
    take_code(w)?;
    let second_code = w
        .code
        .clone()
        .ok_or_else(|| Failure::scenario("no second code"))?;
    w.second = Some((second_code, w.pkce.clone()));
    (w.code, w.pkce, w.request, w.authorization) = first;
    Ok(())
}

#[when("the app redeems the second code with the first flow's code_verifier")]
async fn swapped_verifier(w: &mut OAuthWorld) -> Outcome {
    let (code, _) = w
        .second
        .clone()
        .ok_or_else(|| Failure::scenario("no second authorization"))?;
    w.code = Some(code);
    redeem(w, Credentials::Own).await
}
