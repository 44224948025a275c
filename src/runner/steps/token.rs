//! Steps for `features/token`: redeeming the code at `/v2/token`, the ways a client may send
//! that request, and the response's fields, types and headers (RFC 6749 §4.1.3, §5.1).

use super::redeem_request;
use super::{expect_status, fresh_tokens, redeem, Credentials};
use crate::http::HttpCall;
use crate::oauth::token::{json_type, BodyFormat, ClientAuth, TokenStyle};
use crate::oauth::GrantType;
use crate::runner::params::{Body, Field, Grant, Header, OtherApp, Param, Scope};
use crate::runner::world::{Failure, OAuthWorld, Outcome};
use crate::secret::Secret;
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use serde_json::json;
use serde_json::Value;
use std::time::Duration;

#[when("the app redeems the code at the token endpoint")]
async fn redeem_code(w: &mut OAuthWorld) -> Outcome {
    redeem(w, Credentials::Own).await
}

#[when("the app redeems the code with a wrong client secret")]
async fn redeem_wrong_secret(w: &mut OAuthWorld) -> Outcome {
    redeem(w, Credentials::WrongSecret).await
}

#[given(
    "the user has authorized the app in the browser, with the refresh scope, and the app has redeemed the code"
)]
async fn has_fresh_tokens(w: &mut OAuthWorld) -> Outcome {
    fresh_tokens(w).await
}

#[then(expr = "the token endpoint answers {int}")]
fn answers(w: &mut OAuthWorld, status: u16) -> Outcome {
    expect_status(w, status)
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
        .ok_or_else(|| Failure::scenario("this step needs a table of field and type"))?;
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

#[then(expr = "the token response's {field} is {string}")]
fn field_is(w: &mut OAuthWorld, field: Field, expected: String) -> Outcome {
    field_matches(w, field, expected, false)
}

/// RFC 6749 §5.1: the token type is case-insensitive.
#[then(expr = "the token response's {field} is {string}, in any letter case")]
fn field_is_any_case(w: &mut OAuthWorld, field: Field, expected: String) -> Outcome {
    field_matches(w, field, expected, true)
}

fn field_matches(w: &mut OAuthWorld, field: Field, expected: String, any_case: bool) -> Outcome {
    let field = field.0;
    let body = w.token()?.redacted_json().unwrap_or(Value::Null);
    let same = |s: &str| {
        if any_case {
            s.eq_ignore_ascii_case(&expected)
        } else {
            s == expected
        }
    };
    match body.get(&field) {
        Some(Value::String(s)) if same(s) => Ok(()),
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

#[then(expr = "the token response's {header} header includes {string}")]
fn header_includes(w: &mut OAuthWorld, header: Header, directive: String) -> Outcome {
    let header = header.0;
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

#[then(expr = "the token response's {field} is an https URL on a {string} host, ending in a slash")]
fn instance_url(w: &mut OAuthWorld, field: Field, domain: String) -> Outcome {
    let field = field.0;
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

// ---- variations of the code exchange (TK, TR, TE) ----

/// Sends a JSON body made from the app's normal redemption, changed by `edit`.
async fn redeem_edited(
    w: &mut OAuthWorld,
    edit: impl FnOnce(&mut serde_json::Map<String, Value>),
) -> Outcome {
    let req = redeem_request(w, Credentials::Own)?;
    let mut fields = req.fields();
    edit(&mut fields);
    let call = HttpCall::token_fields(
        fields,
        w.target().token_style,
        req.secrets().into_iter().cloned(),
    );
    w.last_token_request = Some(req);
    w.send_call(call).await
}

#[when(expr = "the app redeems the code with {param} set to {string}")]
async fn redeem_with_param(w: &mut OAuthWorld, field: Param, value: String) -> Outcome {
    redeem_with_field(w, field.0, value).await
}

/// Redeems the code with `field` set to `value` (expanded, see [`OAuthWorld::expand`]).
pub(super) async fn redeem_with_field(w: &mut OAuthWorld, field: String, value: String) -> Outcome {
    let value = w.expand(&value)?;
    redeem_edited(w, |m| {
        m.insert(field, Value::String(value));
    })
    .await
}

#[when(expr = "the app redeems the code without {param}")]
async fn redeem_without_param(w: &mut OAuthWorld, field: Param) -> Outcome {
    redeem_without_field(w, field.0).await
}

/// Redeems the code with `field` left out.
pub(super) async fn redeem_without_field(w: &mut OAuthWorld, field: String) -> Outcome {
    redeem_edited(w, |m| {
        m.remove(&field);
    })
    .await
}

#[when(expr = "the app redeems the code with the extra field {param}")]
async fn redeem_with_extra(w: &mut OAuthWorld, field: Param) -> Outcome {
    redeem_edited(w, |m| {
        m.insert(field.0, Value::String("bar".into()));
    })
    .await
}

/// A form body repeats a parameter (RFC 6749 §3.2 forbids it); a JSON body can only duplicate
/// a key, which RFC 8259 §4 leaves undefined, so that is a PROBE of its own.
#[when(expr = "the app redeems the code with {param} sent twice")]
async fn redeem_with_repeated_param(w: &mut OAuthWorld, field: Param) -> Outcome {
    redeem_with_repeat(w, field.0, None).await
}

#[when(expr = "the app redeems the code with {param} duplicated in a JSON body")]
async fn redeem_with_duplicated_key(w: &mut OAuthWorld, field: Param) -> Outcome {
    redeem_with_repeat(w, field.0, Some(BodyFormat::Json)).await
}

/// Redeems the code with `field` sent twice, in the target's body format or in `format`.
pub(super) async fn redeem_with_repeat(
    w: &mut OAuthWorld,
    field: String,
    format: Option<BodyFormat>,
) -> Outcome {
    let req = redeem_request(w, Credentials::Own)?;
    let mut style = w.target().token_style;
    if let Some(f) = format {
        style.format = f;
    }
    let fields = req.fields();
    let value = fields
        .get(&field)
        .cloned()
        .unwrap_or(Value::String("x".into()));
    let mut call = HttpCall::token_fields(fields, style, req.secrets().into_iter().cloned());
    let body = call.body.take().unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    // A repeated key is allowed on the wire in both forms; serde_json would keep only one.
    let repeated = match style.format {
        BodyFormat::Json => format!("{{\"{field}\":{value},{}", &text[1..]),
        BodyFormat::Form => {
            let value = value
                .as_str()
                .map(str::to_owned)
                .unwrap_or(value.to_string());
            let pair: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair(&field, &value)
                .finish();
            format!("{pair}&{text}")
        }
    };
    call.body = Some(repeated.into_bytes());
    w.send_call(call).await
}

#[when("the app redeems the code again")]
async fn redeem_again(w: &mut OAuthWorld) -> Outcome {
    if w.first_tokens.is_none() {
        w.first_tokens = w.token.clone();
    }
    redeem(w, Credentials::Own).await
}

#[when(expr = "the app redeems the code again after {int} second(s)")]
async fn redeem_again_after(w: &mut OAuthWorld, secs: u64) -> Outcome {
    w.wait(Duration::from_secs(secs)).await;
    redeem_again(w).await
}

#[when(expr = "the app redeems the code after {int} second(s)")]
async fn redeem_after(w: &mut OAuthWorld, secs: u64) -> Outcome {
    w.wait(Duration::from_secs(secs)).await;
    redeem(w, Credentials::Own).await
}

#[when(expr = "the {other_app} app redeems the code as its own")]
async fn redeem_as_other(w: &mut OAuthWorld, who: OtherApp) -> Outcome {
    let other = match who {
        OtherApp::SecondWeb => w.target().second_web_app.clone(),
        OtherApp::Public => Some(w.target().public_app.clone()),
    }
    .ok_or_else(|| w.not_applicable("the target names no second web app"))?;
    let redirect_uri = w.app()?.redirect_uri.clone();
    let req = redeem_request(w, Credentials::Own)?;
    let mut m = req.fields();
    m.insert("client_id".into(), other.client_id.clone().into());
    m.insert("redirect_uri".into(), redirect_uri.into());
    match &other.client_secret {
        Some(s) => m.insert("client_secret".into(), s.expose().into()),
        None => m.remove("client_secret"),
    };
    let secrets = req
        .secrets()
        .into_iter()
        .cloned()
        .chain(other.client_secret.clone());
    let style = w.target().token_style;
    w.send_call(HttpCall::token_fields(m, style, secrets)).await
}

#[when("the app redeems the code with HTTP Basic authentication")]
async fn redeem_basic(w: &mut OAuthWorld) -> Outcome {
    let req = redeem_request(w, Credentials::Own)?;
    if req.client_secret.is_none() {
        return Err(Failure::scenario("a web app is needed"));
    }
    let fields = req.fields();
    let style = TokenStyle {
        client_auth: ClientAuth::Basic,
        ..w.target().token_style
    };
    w.send_call(HttpCall::token_fields(
        fields,
        style,
        req.secrets().into_iter().cloned(),
    ))
    .await
}

#[when("the app redeems the code with its client secret in the URL query")]
async fn redeem_secret_in_query(w: &mut OAuthWorld) -> Outcome {
    let req = redeem_request(w, Credentials::Own)?;
    let secret = req
        .client_secret
        .clone()
        .ok_or_else(|| Failure::scenario("a web app is needed"))?;
    let mut fields = req.fields();
    fields.remove("client_secret");
    let style = w.target().token_style;
    let mut call = HttpCall::token_fields(fields, style, req.secrets().into_iter().cloned());
    call.query = Some(format!(
        "client_secret={}",
        crate::oauth::encoding::encode(secret.expose())
    ));
    w.send_call(call).await
}

#[when(expr = "the app redeems the code as a {body} body")]
async fn redeem_as(w: &mut OAuthWorld, body: Body) -> Outcome {
    let req = redeem_request(w, Credentials::Own)?;
    let fields = req.fields();
    // The body as asked; the client authenticates as the target wants (HTTP Basic, say).
    let target_style = w.target().token_style;
    let style = TokenStyle {
        format: match body {
            Body::Form => BodyFormat::Form,
            Body::Labelled(_) => BodyFormat::Json,
        },
        ..target_style
    };
    let mut call = HttpCall::token_fields(fields, style, req.secrets().into_iter().cloned());
    if let Body::Labelled(media_type) = body {
        call.set_header("Content-Type", &media_type);
    }
    w.send_call(call).await
}

#[when("the app sends its code exchange to the token endpoint by GET")]
async fn token_get(w: &mut OAuthWorld) -> Outcome {
    // A complete, otherwise valid request: only the method is wrong, so a server that takes
    // GET answers 200 and a refusal is about the method alone.
    let req = redeem_request(w, Credentials::Own)?;
    let fields = req.fields();
    let style = TokenStyle {
        format: BodyFormat::Form,
        ..w.target().token_style
    };
    let mut call = HttpCall::token_fields(fields, style, req.secrets().into_iter().cloned());
    let query = call
        .body
        .take()
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    call.method = reqwest::Method::GET;
    call.query = query;
    call.headers
        .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
    w.send_call(call).await
}

#[when(expr = "the app asks for a token with grant_type {grant_type}")]
async fn other_grant(w: &mut OAuthWorld, grant: Grant) -> Outcome {
    let app = w.app()?.clone();
    let user = w.target().user.clone();
    let mut body = json!({"grant_type": grant.0.as_str(), "client_id": app.client_id});
    let style = w.target().token_style;
    if let Some(s) = &app.client_secret {
        body["client_secret"] = s.expose().into();
    }
    if grant.0 == GrantType::Password {
        body["username"] = user.username.clone().into();
        body["password"] = user.password.expose().into();
    }
    let secrets = app
        .client_secret
        .clone()
        .into_iter()
        .chain([user.password.clone()]);
    let Value::Object(fields) = body else {
        return Err(Failure::scenario("a token request is a JSON object"));
    };
    w.send_call(HttpCall::token_fields(fields, style, secrets))
        .await
}

#[when(expr = "the app redeems the code {int} times at once")]
async fn redeem_at_once(w: &mut OAuthWorld, n: usize) -> Outcome {
    let req = redeem_request(w, Credentials::Own)?;
    w.send_at_once(&req, n).await
}

#[then("exactly one of them succeeded")]
fn exactly_one(w: &mut OAuthWorld) -> Outcome {
    // One must win: none would pass a server that refuses every redemption.
    let ok = w.batch.iter().filter(|o| o.status == 200).count();
    let n = w.batch.len();
    w.expect(
        ok == 1,
        &format!("{n} simultaneous requests"),
        "exactly one success",
        format!("{ok} successes"),
    )
}

#[then("the token endpoint refuses it")]
fn refuses(w: &mut OAuthWorld) -> Outcome {
    let status = w.token()?.status;
    w.expect(
        (400..500).contains(&status),
        "the token endpoint refuses the request",
        "a 4xx status",
        status,
    )
}

#[then("the first access token is refused by the REST API")]
async fn first_access_token_dead(w: &mut OAuthWorld) -> Outcome {
    let at = w
        .first_tokens
        .as_ref()
        .and_then(|t| t.tokens())
        .and_then(|t| t.access_token)
        .ok_or_else(|| Failure::scenario("no access token from the first redemption"))?;
    let works = rest_probe(w, &at, false).await?;
    w.expect(
        !works,
        "the first redemption's access token after the code was reused",
        "refused",
        "still accepted",
    )
}

#[then("the first refresh token is refused")]
async fn first_refresh_token_dead(w: &mut OAuthWorld) -> Outcome {
    let rt = w
        .first_tokens
        .as_ref()
        .and_then(|t| t.tokens())
        .and_then(|t| t.refresh_token)
        .ok_or_else(|| Failure::scenario("no refresh token from the first redemption"))?;
    let req = super::refresh::refresh_request(w, rt)?;
    w.send_token_request(req).await?;
    let status = w.token()?.status;
    w.expect(
        status >= 400,
        "the first redemption's refresh token after the code was reused",
        "refused",
        status,
    )
}

/// Whether the REST probe accepts `token` (in the Authorization header, or the query string).
pub(super) async fn rest_probe(
    w: &mut OAuthWorld,
    token: &Secret,
    in_query: bool,
) -> Result<bool, Failure> {
    let probe = w.target().rest_probe.clone().ok_or_else(|| {
        w.not_applicable("the target names no REST endpoint to probe tokens with (rest_probe)")
    })?;
    let mut call = HttpCall::bearer_get(token);
    if in_query {
        call.headers.clear();
        call.query = Some(format!(
            "access_token={}",
            crate::oauth::encoding::encode(token.expose())
        ));
    }
    let answer = w.call(&probe, call).await?;
    match answer.status {
        200..=299 => Ok(true),
        // A token in the query may be refused with 400; in the header, dead is 401 (RFC 6750
        // §3.1: invalid_token).
        _ if in_query => Ok(false),
        401 => Ok(false),
        // Neither alive nor dead: a probe that says nothing about the token (a wrong URL, a
        // missing scope) must not decide a check either way.
        other => Err(w.environment(format!(
            "the REST probe {probe} answered {other}: neither alive (2xx) nor dead (401); check rest_probe and the scopes it needs"
        ))),
    }
}

#[then(
    expr = "the tokens consist of visible ASCII characters and are at most {int} characters long"
)]
fn token_shape(w: &mut OAuthWorld, max: usize) -> Outcome {
    let t = w
        .token()?
        .tokens()
        .ok_or_else(|| Failure::scenario("no token response"))?;
    let mut wrong = Vec::new();
    for (name, tok) in [
        ("access_token", t.access_token),
        ("refresh_token", t.refresh_token),
    ] {
        if let Some(tok) = tok {
            let v = tok.expose();
            if v.len() > max {
                wrong.push(format!("{name} is {} characters", v.len()));
            }
            if !v.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
                wrong.push(format!("{name} has characters outside VSCHAR"));
            }
        }
    }
    w.expect(
        wrong.is_empty(),
        "token syntax (RFC 6749 A.12, A.17)",
        format!("VSCHAR, at most {max}"),
        wrong.join("; "),
    )
}

#[given(expr = "{int} access and refresh tokens collected by refreshing")]
async fn collect_tokens(w: &mut OAuthWorld, n: usize) -> Outcome {
    for _ in 0..n {
        let rt = w
            .refresh_token
            .clone()
            .ok_or_else(|| Failure::scenario("no refresh token to refresh with"))?;
        let app = w.app()?.clone();
        let mut req = crate::oauth::TokenRequest::refresh(rt.clone(), &app.client_id);
        req.client_secret = app.client_secret.clone();
        w.send_token_request(req).await?;
        super::expect_status(w, 200)?;
        // A server that keeps the refresh token (RFC 6749 §6 allows it outside Marketing
        // Cloud) hands back the same one: it is one token, not a repeated value.
        let kept = |t: &Secret| {
            w.target().dialect == crate::target::Dialect::Oauth2 && t.expose() == rt.expose()
        };
        if let Some(t) = w.token()?.tokens() {
            let refresh = t.refresh_token.filter(|t| !kept(t));
            w.collected.extend(t.access_token);
            w.collected.extend(refresh);
        }
    }
    Ok(())
}

#[then(
    expr = "the access token works until expires_in, and is refused {int} seconds after it was issued"
)]
async fn access_token_lifetime(w: &mut OAuthWorld, dead_after: u64) -> Outcome {
    let body = w.token()?.redacted_json().unwrap_or(Value::Null);
    let expires_in = body["expires_in"]
        .as_u64()
        .ok_or_else(|| Failure::scenario("no numeric expires_in"))?;
    let at = w
        .access_token
        .clone()
        .ok_or_else(|| Failure::scenario("no access token"))?;
    w.wait(Duration::from_secs(expires_in.saturating_sub(5)))
        .await;
    let alive = rest_probe(w, &at, false).await?;
    w.wait(Duration::from_secs(
        dead_after.saturating_sub(expires_in.saturating_sub(5)),
    ))
    .await;
    let dead = !rest_probe(w, &at, false).await?;
    w.observe(format!(
        "expires_in {expires_in}; alive at {} s: {alive}; dead at {dead_after} s: {dead}",
        expires_in.saturating_sub(5)
    ));
    w.expect(
        alive && dead,
        "the access token's real lifetime",
        format!("alive before {expires_in} s, dead at {dead_after} s"),
        format!("alive: {alive}, dead: {dead}"),
    )
}

#[then(expr = "the token response's scope is {scope}")]
fn scope_is(w: &mut OAuthWorld, expected: Scope) -> Outcome {
    let body = w.token()?.redacted_json().unwrap_or(Value::Null);
    // RFC 6749 §5.1: scope may be left out when it is the scope the request asked for
    // (Marketing Cloud always sends it).
    let asked = w.last_token_request.as_ref().and_then(|r| r.scope.clone());
    let got = match (body["scope"].as_str(), w.target().dialect, asked) {
        (Some(s), _, _) => s.to_owned(),
        (None, crate::target::Dialect::Oauth2, Some(asked)) => asked,
        (None, _, _) => "(none)".to_owned(),
    };
    let expected = w.expand(&expected.0)?;
    let mut a: Vec<&str> = got.split(' ').collect();
    let mut b: Vec<&str> = expected.split(' ').collect();
    a.sort_unstable();
    b.sort_unstable();
    w.expect(a == b, "the granted scope", &expected, &got)
}
