//! Proving a token works (facts §9): `GET /v2/userinfo` and `GET /platform/v1/tokenContext` with
//! a Bearer token; a bad, expired or revoked token gets 401 with Marketing Cloud's REST error
//! body. A token in the query string is not accepted (RFC 9700 §4.3.2). And the throttling reply.

use super::state::IssuedToken;
use super::{Reply, Shared};
use crate::oauth::OAuthErrorCode;
use serde_json::json;
use wiremock::Request;

const DOCS: &str =
    "https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm";

/// Marketing Cloud's throttling answer (errorcode 50200) with `Retry-After`.
pub fn throttled(shared: &Shared) -> Reply {
    if shared.fault(super::Fault::ThrottleOAuthShape) {
        return Reply::json(
            429,
            &json!({"error": OAuthErrorCode::TemporarilyUnavailable.as_str(), "error_description": "Slow down."}),
        );
    }
    Reply::json_plain(
        429,
        &json!({"message": "Your requests are temporarily blocked.", "errorcode": 50200, "documentation": DOCS}),
    )
    .header("Retry-After", "5")
}

fn not_authorized() -> Reply {
    Reply::json_plain(
        401,
        &json!({"documentation": DOCS, "errorcode": 0, "message": "Not Authorized"}),
    )
    .header(
        "WWW-Authenticate",
        &format!("Bearer error=\"{}\"", OAuthErrorCode::InvalidToken),
    )
}

fn bearer(shared: &Shared, req: &Request) -> Option<IssuedToken> {
    let from_header = req
        .headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned());
    // RFC 9700 §4.3.2: not in the query string, except under the `token-in-query-accepted` fault.
    let from_query = || {
        shared
            .fault(super::Fault::TokenInQueryAccepted)
            .then(|| super::params::Params::form(req.url.query().unwrap_or("").as_bytes()))
            .and_then(|p| p.one("access_token").map(str::to_owned))
    };
    let token = from_header.or_else(from_query)?;
    let st = shared.state();
    let t = st.access_tokens.get(&token)?;
    let alive = t.expires > st.clock.now() || shared.fault(super::Fault::AccessTokenNeverExpires);
    (alive && (!st.is_revoked(t.family) || st.spared.contains(&token))).then(|| t.clone())
}

/// `GET /v2/userinfo`.
pub fn userinfo(shared: &Shared, req: &Request) -> Reply {
    let Some(t) = bearer(shared, req) else {
        return not_authorized();
    };
    let sub = &shared.registry.subdomain;
    let exp = t
        .expires
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let app = shared.client(&t.client_id);
    Reply::json_plain(
        200,
        &json!({
            "exp": exp,
            "iss": "https://mc.exacttarget.com",
            "user": {"sub": "10654321", "name": "QA User", "preferred_username": t.username,
                     "email": t.username, "locale": "en-US", "zoneinfo": "America/Los_Angeles"},
            "organization": {"member_id": 7281698, "enterprise_id": 7281698, "account_type": "enterprise",
                             "stack_key": "S7", "region": "NA1"},
            "rest": {"rest_instance_url": format!("https://{sub}.rest.marketingcloudapis.com"),
                     "soap_instance_url": format!("https://{sub}.soap.marketingcloudapis.com")},
            "application": {"id": t.client_id, "name": app.map(|a| a.name).unwrap_or_default(),
                            "appScopes": t.scopes},
        }),
    )
}

/// `GET /platform/v1/tokenContext` (the simulator serves the REST host's route too).
pub fn token_context(shared: &Shared, req: &Request) -> Reply {
    if bearer(shared, req).is_none() {
        return not_authorized();
    }
    Reply::json_plain(
        200,
        &json!({"enterprise": {"id": 7281698}, "organization": {"id": 7281698}, "user": {"id": 10654321}}),
    )
}
