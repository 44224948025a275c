//! `POST /v2/token` (facts §3–§7): the authorization code and refresh grants with Marketing
//! Cloud's JSON bodies, client authentication, single-use codes bound to client, redirect URI and
//! PKCE challenge, and refresh-token rotation with replay detection (RFC 9700 §4.14.2).

use super::registry::{Integration, IntegrationKind, PkceMode};
use super::state::{IssuedToken, State, ACCESS_TTL, CODE_TTL, REFRESH_TTL};
use super::tokens;
use super::{Reply, Shared};
use crate::oauth::pkce::s256_challenge;
use serde_json::{json, Map, Value};
use wiremock::Request;

const ERROR_URI: &str = "https://developer.salesforce.com/docs";
const UNKNOWN_CLIENT: &str =
    "Invalid client ID. Use the client ID in Marketing Cloud Installed Packages.";
const BAD_SECRET: &str = "Client authentication failed. Make sure that the client ID and client secret are valid and that the package is installed and enabled.";
/// `expires_in` reported for authorization-code tokens (the documented web-app example).
pub const EXPIRES_IN: u64 = 1200;

fn error(status: u16, code: &str, description: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": code, "error_description": description, "error_uri": ERROR_URI}),
    )
}

fn field<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

/// `POST /v2/token`.
pub fn token(shared: &Shared, req: &Request) -> Reply {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&req.body) else {
        return error(
            400,
            "invalid_request",
            "The request body must be a JSON object.",
        );
    };
    let grant = field(&body, "grant_type");
    if !matches!(grant, Some("authorization_code" | "refresh_token")) {
        return match grant {
            None => error(
                400,
                "invalid_request",
                "The grant_type parameter is missing.",
            ),
            Some(g) => error(
                400,
                "unsupported_grant_type",
                &format!("The grant type `{g}` is not supported."),
            ),
        };
    }
    let int = match authenticate(shared, &body) {
        Ok(int) => int,
        Err(reply) => return reply,
    };
    match grant {
        Some("authorization_code") => authorization_code(shared, int, &body),
        _ => refresh(shared, int, &body),
    }
}

/// Finds the client and checks its secret (web apps); public apps send none.
fn authenticate<'a>(
    shared: &'a Shared,
    body: &Map<String, Value>,
) -> Result<&'a Integration, Reply> {
    let Some(int) = field(body, "client_id").and_then(|id| shared.registry.client(id)) else {
        return Err(error(401, "invalid_client", UNKNOWN_CLIENT));
    };
    if let Some(secret) = &int.client_secret {
        if field(body, "client_secret") != Some(secret.expose()) {
            return Err(error(401, "invalid_client", BAD_SECRET));
        }
    }
    Ok(int)
}

fn client_type(int: &Integration) -> &'static str {
    match int.kind {
        IntegrationKind::Web => "Confidential",
        IntegrationKind::Public => "Public",
        IntegrationKind::ServerToServer => "ServerToServer",
    }
}

fn invalid_grant(description: &str) -> Reply {
    error(400, "invalid_grant", description)
}

fn authorization_code(shared: &Shared, int: &Integration, body: &Map<String, Value>) -> Reply {
    let Some(code) = field(body, "code") else {
        return error(400, "invalid_request", "The code parameter is missing.");
    };
    let mut st = shared.state();
    let now = st.clock.now();
    let Some(grant) = st.codes.get(code).cloned() else {
        return invalid_grant("The authorization code is invalid.");
    };
    if grant.used {
        // RFC 6749 §4.1.2: deny, and revoke what the first redemption issued.
        if let Some(f) = grant.family {
            st.revoke_family(f);
        }
        return invalid_grant("The authorization code has already been used.");
    }
    if grant.issued + CODE_TTL <= now {
        return invalid_grant("The authorization code has expired.");
    }
    if grant.client_id != int.client_id {
        return invalid_grant("The authorization code was issued to another client.");
    }
    if field(body, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return invalid_grant(
            "The redirect_uri does not match the one of the authorization request.",
        );
    }
    if let Err(reply) = check_pkce(int, grant.challenge.as_ref(), field(body, "code_verifier")) {
        return reply;
    }
    let scopes = match narrow(&grant.scopes, field(body, "scope"), int) {
        Ok(s) => s,
        Err(reply) => return reply,
    };
    let family = st.new_family();
    if let Some(g) = st.codes.get_mut(code) {
        g.used = true;
        g.family = Some(family);
    }
    issue(&mut st, int, scopes, family, &shared.registry.subdomain)
}

/// RFC 7636 §4.6 and the downgrade rules of RFC 9700 §4.8.2.
fn check_pkce(
    int: &Integration,
    challenge: Option<&(String, String)>,
    verifier: Option<&str>,
) -> Result<(), Reply> {
    if int.pkce == PkceMode::Ignored {
        return Ok(());
    }
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(invalid_grant("The code_verifier parameter is missing.")),
        (None, Some(_)) => Err(invalid_grant(
            "A code_verifier was sent but the authorization request had no code_challenge.",
        )),
        (Some((c, _)), Some(v)) if s256_challenge(v) == *c => Ok(()),
        (Some(_), Some(_)) => Err(invalid_grant(
            "The code_verifier does not match the code_challenge.",
        )),
    }
}

/// Scopes for the new tokens: the requested ones, which must be granted (`offline` aside), or all.
fn narrow(
    granted: &[String],
    requested: Option<&str>,
    int: &Integration,
) -> Result<Vec<String>, Reply> {
    let Some(requested) = requested else {
        return Ok(granted.to_vec());
    };
    let mut out = Vec::new();
    for s in requested.split(' ').filter(|s| !s.is_empty()) {
        let offline_ok = s == "offline" && int.offline;
        if !(granted.iter().any(|g| g == s) || offline_ok) {
            return Err(error(
                400,
                "invalid_scope",
                &format!("The scope `{s}` was not granted by the authorization."),
            ));
        }
        out.push(s.to_owned());
    }
    Ok(out)
}

fn refresh(shared: &Shared, int: &Integration, body: &Map<String, Value>) -> Reply {
    let Some(rt) = field(body, "refresh_token") else {
        return error(
            400,
            "invalid_request",
            "The refresh_token parameter is missing.",
        );
    };
    let mut st = shared.state();
    let now = st.clock.now();
    let Some(old) = st.refresh_tokens.get(rt).cloned() else {
        return invalid_grant("The refresh token is invalid.");
    };
    if old.used {
        // Replay of a rotated refresh token: revoke the whole family (RFC 9700 §4.14.2).
        st.revoke_family(old.family);
        return invalid_grant("The refresh token has already been used.");
    }
    if st.is_revoked(old.family) || old.expires <= now {
        return invalid_grant("The refresh token is no longer valid.");
    }
    if old.client_id != int.client_id {
        return invalid_grant("The refresh token was issued to another client.");
    }
    let scopes = match narrow(&old.scopes, field(body, "scope"), int) {
        Ok(s) => s,
        Err(reply) => return reply,
    };
    if let Some(t) = st.refresh_tokens.get_mut(rt) {
        t.used = true;
    }
    issue(&mut st, int, scopes, old.family, &shared.registry.subdomain)
}

/// Mints an access token and a refresh token (when `offline` is granted to the integration and
/// was requested, or for a refresh), and answers 200.
fn issue(
    st: &mut State,
    int: &Integration,
    scopes: Vec<String>,
    family: u64,
    subdomain: &str,
) -> Reply {
    let now = st.clock.now();
    let access = tokens::token("access_token", &int.client_id, client_type(int), 7281698);
    st.access_tokens.insert(
        access.clone(),
        IssuedToken {
            client_id: int.client_id.clone(),
            scopes: scopes.clone(),
            expires: now + ACCESS_TTL,
            family,
            used: false,
        },
    );
    let mut body = Map::new();
    body.insert("access_token".into(), access.into());
    if int.offline && scopes.iter().any(|s| s == "offline") {
        let refresh = tokens::token("refresh_token", &int.client_id, client_type(int), 7281698);
        st.refresh_tokens.insert(
            refresh.clone(),
            IssuedToken {
                client_id: int.client_id.clone(),
                scopes: scopes.clone(),
                expires: now + REFRESH_TTL,
                family,
                used: false,
            },
        );
        body.insert("refresh_token".into(), refresh.into());
    }
    body.insert("expires_in".into(), EXPIRES_IN.into());
    body.insert("token_type".into(), "Bearer".into());
    body.insert(
        "rest_instance_url".into(),
        format!("https://{subdomain}.rest.marketingcloudapis.com/").into(),
    );
    body.insert(
        "soap_instance_url".into(),
        format!("https://{subdomain}.soap.marketingcloudapis.com/").into(),
    );
    body.insert("scope".into(), scopes.join(" ").into());
    Reply::json(200, &Value::Object(body))
}
