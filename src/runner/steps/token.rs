//! Steps for `features/token` and `features/errors`: redeeming the code at `/v2/token` and
//! checking the response's fields, types, headers and error shape (RFC 6749 §5.1, §5.2).

use super::{expect_status, fresh_tokens, redeem, Credentials};
use crate::oauth::token::json_type;
use crate::runner::params::OAuthError;
use crate::runner::world::{Failure, OAuthWorld, Outcome};
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use serde_json::Value;

#[when("the app redeems the code at the token endpoint")]
async fn redeem_code(w: &mut OAuthWorld) -> Outcome {
    redeem(w, Credentials::Own).await
}

#[when("the app redeems the code with a wrong client secret")]
async fn redeem_wrong_secret(w: &mut OAuthWorld) -> Outcome {
    redeem(w, Credentials::WrongSecret).await
}

#[given("the app has redeemed a fresh code at the token endpoint")]
async fn has_fresh_tokens(w: &mut OAuthWorld) -> Outcome {
    fresh_tokens(w).await
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_owned())
        .filter(|x| !x.is_empty())
        .collect()
}

#[then(expr = "the token request was a JSON body with exactly the fields {string}")]
fn request_fields(w: &mut OAuthWorld, fields: String) -> Outcome {
    let sent = w
        .last_token_request
        .as_ref()
        .map(|r| r.to_json())
        .ok_or_else(|| Failure("no token request was sent".into()))?;
    let mut actual: Vec<String> = sent
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut expected = list(&fields);
    actual.sort();
    expected.sort();
    if actual == expected {
        Ok(())
    } else {
        Err(w.fail(
            "the token request's fields",
            expected.join(", "),
            actual.join(", "),
        ))
    }
}

#[then("the token request's redirect_uri is the registered URI in plain text")]
fn redirect_uri_plain(w: &mut OAuthWorld) -> Outcome {
    let registered = w.app()?.redirect_uri.clone();
    let sent = w
        .last_token_request
        .as_ref()
        .and_then(|r| r.redirect_uri.clone())
        .unwrap_or_default();
    if sent == registered && !sent.contains('%') {
        Ok(())
    } else {
        Err(w.fail("redirect_uri at the token endpoint", registered, sent))
    }
}

#[then(expr = "the token endpoint answers {int}")]
fn answers(w: &mut OAuthWorld, status: u16) -> Outcome {
    expect_status(w, status)
}

#[then(expr = "the token endpoint answers {int} with error {oauth_error}")]
fn answers_error(w: &mut OAuthWorld, status: u16, error: OAuthError) -> Outcome {
    let t = w.token()?;
    let actual_error = t
        .redacted_json()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "(no `error` field)".into());
    if t.status == status && actual_error == error.0.as_str() {
        Ok(())
    } else {
        Err(w.fail(
            "token error",
            format!("{status} {}", error.0),
            format!("{} {actual_error}", t.status),
        ))
    }
}

#[then("the token response has an access token")]
fn has_access_token(w: &mut OAuthWorld) -> Outcome {
    let t = w.token()?;
    match t.tokens().and_then(|t| t.access_token) {
        Some(at) if !at.expose().is_empty() => Ok(()),
        _ => Err(w.fail(
            "an access token",
            "a non-empty access_token",
            &t.redacted_text,
        )),
    }
}

#[then("the token response has these fields:")]
fn has_fields(w: &mut OAuthWorld, step: &Step) -> Outcome {
    let body = w.token()?.redacted_json().unwrap_or(Value::Null);
    let table = step
        .table
        .as_ref()
        .ok_or_else(|| Failure("this step needs a table of field and type".into()))?;
    let mut wrong = Vec::new();
    for row in table.rows.iter().skip(1) {
        let (Some(field), Some(ty)) = (row.first(), row.get(1)) else {
            continue;
        };
        match body.get(field) {
            Some(v) if json_type(v) == ty => {}
            Some(v) => wrong.push(format!("{field}: {} instead of {ty}", json_type(v))),
            None => wrong.push(format!("{field}: missing")),
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(w.fail(
            "token response fields and JSON types",
            "every field with its type",
            wrong.join("; "),
        ))
    }
}

#[then(expr = "the token response's {string} is {string}")]
fn field_is(w: &mut OAuthWorld, field: String, expected: String) -> Outcome {
    let body = w.token()?.redacted_json().unwrap_or(Value::Null);
    match body.get(&field) {
        Some(Value::String(s)) if *s == expected => Ok(()),
        other => Err(w.fail(
            &format!("`{field}`"),
            format!("{expected:?}"),
            format!("{other:?}"),
        )),
    }
}

#[then(expr = "the token response's media type is {string}")]
fn media_type(w: &mut OAuthWorld, expected: String) -> Outcome {
    let ct = w.token()?.header("content-type").unwrap_or_default();
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == expected.to_ascii_lowercase() {
        Ok(())
    } else {
        Err(w.fail("Content-Type media type", expected, format!("{ct:?}")))
    }
}

#[then(expr = "the token response's {string} header includes {string}")]
fn header_includes(w: &mut OAuthWorld, header: String, directive: String) -> Outcome {
    let value = w.token()?.header(&header);
    let ok = value.as_deref().is_some_and(|v| {
        v.split(',')
            .any(|d| d.trim().eq_ignore_ascii_case(&directive))
    });
    if ok {
        Ok(())
    } else {
        Err(w.fail(
            &format!("the {header} header"),
            format!("a value including {directive:?}"),
            value.map_or("(absent)".to_owned(), |v| format!("{v:?}")),
        ))
    }
}

#[then(expr = "the error body has exactly the fields {string}")]
fn error_fields(w: &mut OAuthWorld, fields: String) -> Outcome {
    let body = w.token()?.redacted_json();
    let mut actual: Vec<String> = body
        .as_ref()
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut expected = list(&fields);
    actual.sort();
    expected.sort();
    let strings = body
        .as_ref()
        .and_then(Value::as_object)
        .is_some_and(|m| m.values().all(Value::is_string));
    if actual == expected && strings {
        Ok(())
    } else {
        Err(w.fail(
            "the error body's fields (all strings)",
            expected.join(", "),
            format!("{} (all strings: {strings})", actual.join(", ")),
        ))
    }
}

#[then(
    expr = "the token response's {string} is an https URL on a {string} host, ending in a slash"
)]
fn instance_url(w: &mut OAuthWorld, field: String, domain: String) -> Outcome {
    let body = w.token()?.redacted_json().unwrap_or(Value::Null);
    let value = body
        .get(&field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let ok = url::Url::parse(&value).is_ok_and(|u| {
        u.scheme() == "https"
            && u.host_str().is_some_and(|h| {
                h.strip_suffix(&domain)
                    .and_then(|sub| sub.strip_suffix('.'))
                    .is_some_and(|sub| !sub.is_empty() && !sub.contains('.'))
            })
            && u.path() == "/"
            && value.ends_with('/')
    });
    if ok {
        Ok(())
    } else {
        Err(w.fail(
            &format!("`{field}`"),
            format!("https://{{subdomain}}.{domain}/"),
            format!("{value:?}"),
        ))
    }
}
