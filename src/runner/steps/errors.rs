//! Steps for `features/errors`: the error matrix of the token endpoint (each cause with its exact
//! status and `error` code), the error body's shape (RFC 6749 §5.2, Marketing Cloud's `error_uri`),
//! and throttling, which has a shape of its own.

use super::token::{redeem_with_field, redeem_with_repeat, redeem_without_field};
use super::{redeem, Credentials};
use crate::runner::params::{Defect, Fields, OAuthError};
use crate::runner::world::{OAuthWorld, Outcome};
use crate::secret::Secret;
use crate::target::Dialect;
use cucumber::{given, then, when};
use serde_json::Value;
use std::time::Duration;

/// The `error` of a token response, or a placeholder saying it has none.
fn error_code(t: &crate::http::TokenOutcome) -> String {
    t.redacted_json()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "(no `error` field)".into())
}

#[then(expr = "the token endpoint answers {int} with error {oauth_error}")]
fn answers_error(w: &mut OAuthWorld, status: u16, error: OAuthError) -> Outcome {
    let t = w.token()?;
    let actual_error = error_code(t);
    // RFC 6749 §5.2: invalid_client is 401 when the client authenticated with the
    // Authorization header, and MAY be 401 otherwise. Marketing Cloud answers 401 always.
    let either = w.target().dialect == Dialect::Oauth2
        && status == 401
        && error.0.as_str() == "invalid_client"
        && !t
            .exchange
            .request_headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
    let status_ok = t.status == status || (either && t.status == 400);
    if status_ok && actual_error == error.0.as_str() {
        Ok(())
    } else {
        Err(w.fail(
            "token error",
            format!("{status} {}", error.0),
            format!("{} {actual_error}", t.status),
        ))
    }
}

/// RFC 7636 §4.4.1 leaves the error for a missing verifier open: either refusal counts.
#[then(expr = "the token endpoint answers 400 with error {oauth_error} or {oauth_error}")]
fn answers_either_error(w: &mut OAuthWorld, one: OAuthError, other: OAuthError) -> Outcome {
    let t = w.token()?;
    let actual = error_code(t);
    let ok = t.status == 400 && (actual == one.0.as_str() || actual == other.0.as_str());
    w.expect(
        ok,
        "token error",
        format!("400 {} or 400 {}", one.0, other.0),
        format!("{} {actual}", t.status),
    )
}

#[then(expr = "the error body has exactly the fields {fields}")]
fn error_fields(w: &mut OAuthWorld, fields: Fields) -> Outcome {
    let body = w.token()?.redacted_json();
    let mut actual: Vec<String> = body
        .as_ref()
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut expected = fields.0;
    actual.sort();
    expected.sort();
    let strings = body
        .as_ref()
        .and_then(Value::as_object)
        .is_some_and(|m| m.values().all(Value::is_string));
    // Marketing Cloud's shape is exact; RFC 6749 §5.2 requires `error` and makes the others
    // optional.
    let shape = match w.target().dialect {
        Dialect::Sfmc => actual == expected,
        Dialect::Oauth2 => {
            actual.iter().any(|f| f == "error") && actual.iter().all(|f| expected.contains(f))
        }
    };
    if shape && strings {
        Ok(())
    } else {
        Err(w.fail(
            "the error body's fields (all strings)",
            expected.join(", "),
            format!("{} (all strings: {strings})", actual.join(", ")),
        ))
    }
}

#[when(expr = "the token request has {defect}")]
async fn token_request_defect(w: &mut OAuthWorld, defect: Defect) -> Outcome {
    match defect {
        Defect::UnknownCode => {
            w.code = Some(Secret::new(
                "Code",
                format!("not-a-code-{}", super::random_state()),
            ));
            redeem(w, Credentials::Own).await
        }
        Defect::ReusedCode => {
            redeem(w, Credentials::Own).await?;
            redeem(w, Credentials::Own).await
        }
        Defect::ExpiredCode => {
            w.wait(Duration::from_secs(10 * 60 + 1)).await;
            redeem(w, Credentials::Own).await
        }
        Defect::WrongVerifier => {
            let other = super::new_pkce()?;
            w.keep_secret(&other.verifier);
            w.pkce = Some(other);
            redeem(w, Credentials::Own).await
        }
        Defect::OtherRedirectUri => {
            let other = w.expand("{other_registered}")?;
            redeem_with_field(w, "redirect_uri".into(), other).await
        }
        Defect::WrongSecret => redeem(w, Credentials::WrongSecret).await,
        Defect::UnknownClient => {
            redeem_with_field(w, "client_id".into(), "unknownclient0000000000".into()).await
        }
        Defect::NoCode => redeem_without_field(w, "code".into()).await,
        Defect::RepeatedCode => redeem_with_repeat(w, "code".into(), None).await,
        Defect::UnknownGrant => redeem_with_field(w, "grant_type".into(), "foo".into()).await,
        Defect::UngrantedScope => {
            let s = w.expand("{ungranted_scope}")?;
            redeem_with_field(w, "scope".into(), s).await
        }
    }
}

#[given("the target is throttling")]
fn throttling(w: &mut OAuthWorld) -> Outcome {
    // A simulator-only power: scenarios using it are tagged @simulator.
    let controls = w
        .target()
        .controls()
        .ok_or_else(|| w.not_applicable("needs the simulator's throttling"))?;
    controls.set_throttle(true);
    Ok(())
}

#[then("the answer is Marketing Cloud's throttling shape with Retry-After, not an OAuth error")]
fn throttled_shape(w: &mut OAuthWorld) -> Outcome {
    if let Some(controls) = w.target().controls() {
        controls.set_throttle(false);
    }
    let t = w.token()?;
    let body = t.redacted_json().unwrap_or(Value::Null);
    let ok = t.status == 429
        && body["errorcode"].is_number()
        && body.get("error").is_none()
        && t.header("retry-after").is_some();
    let actual = format!(
        "{} {} Retry-After: {:?}",
        t.status,
        t.redacted_text,
        t.header("retry-after")
    );
    w.expect(
        ok,
        "the throttling answer",
        "429 with errorcode and Retry-After",
        actual,
    )
}
