//! `POST /v2/token` (facts §3–§7): the authorization code, refresh and client credentials grants
//! with Marketing Cloud's JSON bodies (form bodies too, as a setting), client authentication,
//! single-use codes bound to client, redirect URI and PKCE challenge, and refresh-token rotation
//! with replay detection (RFC 9700 §4.14.2). Every error has Marketing Cloud's shape
//! (`error`, `error_description`, `error_uri`) and the RFC 6749 §5.2 status.

use super::faults::Fault;
use super::params::{self, JsonBodyError, Params};
use super::registry::{Integration, IntegrationKind, PkceMode};
use super::state::{IssuedToken, State, ACCESS_TTL, FAULTY_CODE_TTL, REFRESH_TTL};
use super::tokens;
use super::variations::Variation;
use super::{Reply, Shared};
use crate::oauth::pkce::s256_challenge;
use crate::oauth::OAuthErrorCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;
use wiremock::Request;

const ERROR_URI: &str = "https://developer.salesforce.com/docs";
const UNKNOWN_CLIENT: &str =
    "Invalid client ID. Use the client ID in Marketing Cloud Installed Packages.";
const BAD_SECRET: &str = "Client authentication failed. Make sure that the client ID and client secret are valid and that the package is installed and enabled.";
/// Parameters `/v2/token` knows; the `unknown-parameter-rejected` fault refuses others.
const KNOWN: &[&str] = &[
    "grant_type",
    "code",
    "client_id",
    "client_secret",
    "redirect_uri",
    "code_verifier",
    "scope",
    "refresh_token",
    "account_id",
    "username",
    "password",
];
/// Every how many issued tokens the expired ones are dropped.
pub const PRUNE_EVERY: u64 = 1000;
/// Most valid access tokens, and most valid refresh tokens, a long-running mock keeps: past it,
/// at a prune, those that expire first are forgotten (they then answer as unknown tokens).
/// About 2 KB each: the state stays under about 400 MB at any request rate.
pub const MAX_LIVE_TOKENS: usize = 100_000;
/// How long a spent refresh token stays usable under the `refresh-grace-window` fault.
const REFRESH_GRACE: Duration = Duration::from_secs(10);
/// How long a redeemed code stays redeemable under the `code-reuse-window` fault.
const REUSE_WINDOW: Duration = Duration::from_secs(2);
/// Rotations a family survives under the `refresh-chain-limit` fault.
const CHAIN_LIMIT: u32 = 3;

/// A token error reply, shaped as Marketing Cloud's and bent by the error faults.
pub(super) fn error_reply(
    shared: &Shared,
    status: u16,
    code: OAuthErrorCode,
    description: &str,
) -> Reply {
    let mut body =
        json!({"error": code.as_str(), "error_description": description, "error_uri": ERROR_URI});
    if !shared.varied(Variation::NoErrorUri).error_uri {
        if let Value::Object(m) = &mut body {
            m.remove("error_uri");
        }
    }
    if shared.fault(Fault::ErrorWithoutErrorField) {
        if let Value::Object(m) = &mut body {
            m.remove("error");
        }
    }
    let status = if shared.fault(Fault::WrongErrorStatus) {
        200
    } else {
        status
    };
    header_faults(shared, Reply::json(status, &body))
}

fn header_faults(shared: &Shared, mut reply: Reply) -> Reply {
    if !shared.varied(Variation::NoPragma).pragma {
        reply = reply.without_header("Pragma");
    }
    if shared.fault(Fault::NoCacheControl) {
        reply = reply.without_header("Cache-Control");
    }
    if shared.fault(Fault::WrongContentType) {
        reply = reply.with_header("Content-Type", "text/plain; charset=utf-8");
    }
    reply
}

/// `GET /v2/token` and other methods: the token endpoint takes POST only (RFC 6749 §3.2).
pub(super) fn method_not_allowed() -> Reply {
    Reply::json(
        405,
        &json!({"error": OAuthErrorCode::InvalidRequest.as_str(), "error_description": "The token endpoint accepts POST only.", "error_uri": ERROR_URI}),
    )
    .header("Allow", "POST")
}

/// The parsed request: parameters, and credentials from an `Authorization: Basic` header.
struct TokenRequest {
    p: Params,
    basic: Option<(String, String)>,
}

fn read_request(shared: &Shared, req: &Request) -> Result<TokenRequest, Reply> {
    let bad = |d: &str| Err(error_reply(shared, 400, OAuthErrorCode::InvalidRequest, d));
    let settings = shared.settings();
    if req.body.len() > settings.max_body_bytes {
        return bad(&format!(
            "The request body is larger than {} bytes.",
            settings.max_body_bytes
        ));
    }
    let query = Params::form(req.url.query().unwrap_or("").as_bytes());
    let secret_in_query = query.has("client_secret") || query.has("clientSecret");
    if secret_in_query && !shared.fault(Fault::SecretInQueryAccepted) {
        return bad("Client credentials must not be sent in the request URI.");
    }
    let content_type = req
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    let as_json = media == "application/json" || shared.fault(Fault::ContentTypeUnchecked);
    let mut p = match media.as_str() {
        _ if as_json => match params::json(&req.body) {
            Ok(p) => p,
            Err(JsonBodyError::Syntax) => return bad("The request body is not valid JSON."),
            Err(JsonBodyError::Shape) => return bad("The request body must be a JSON object."),
            Err(JsonBodyError::NonString(k)) => {
                return bad(&format!("The {k} parameter must be a string."))
            }
        },
        "application/x-www-form-urlencoded" if settings.accept_form => {
            if std::str::from_utf8(&req.body).is_err() {
                return bad("The request body is not UTF-8.");
            }
            Params::form(&req.body)
        }
        "" => return bad("The Content-Type header is missing. Send application/json."),
        other => {
            return bad(&format!(
                "The content type {other} is not supported. Send application/json."
            ))
        }
    };
    if secret_in_query {
        for (k, v) in query.0 {
            p.0.entry(k).or_insert(v);
        }
    }
    // A fault is consulted only where it changes the answer (see `Shared::fault`).
    if let Some(name) = p.repeated().first() {
        if !shared.fault(Fault::DuplicateParametersAccepted) {
            return bad(&format!("The {name} parameter was sent more than once."));
        }
    }
    if let Some(unknown) = p.0.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        if shared.fault(Fault::UnknownParameterRejected) {
            return bad(&format!("Unknown parameter {unknown}."));
        }
    }
    let header = req
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    let basic = match header {
        Some(h)
            if settings.accept_basic
                && h.len() > 6
                && h[..6].eq_ignore_ascii_case("basic ")
                && !shared.fault(Fault::BasicAuthUnsupported) =>
        {
            match decode_basic(&h[6..]) {
                Some(pair) => Some(pair),
                None => {
                    return Err(error_reply(
                        shared,
                        401,
                        OAuthErrorCode::InvalidClient,
                        BAD_SECRET,
                    ))
                }
            }
        }
        _ => None,
    };
    Ok(TokenRequest { p, basic })
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
fn decode_basic(b64: &str) -> Option<(String, String)> {
    let raw = STANDARD.decode(b64.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    let dec = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((dec(id)?, dec(secret)?))
}

/// `POST /v2/token`.
pub fn token(shared: &Shared, req: &Request) -> Reply {
    let mut r = match read_request(shared, req) {
        Ok(r) => r,
        Err(reply) => return reply,
    };
    let grant = r.p.one("grant_type").map(str::to_owned);
    let grant = match grant.as_deref() {
        Some(g @ ("authorization_code" | "refresh_token" | "client_credentials")) => g.to_owned(),
        Some("password") if shared.fault(Fault::PasswordGrantAccepted) => "password".to_owned(),
        Some(g) => {
            let code = if shared.fault(Fault::WrongErrorCode) {
                OAuthErrorCode::InvalidRequest
            } else {
                OAuthErrorCode::UnsupportedGrantType
            };
            return error_reply(
                shared,
                400,
                code,
                &format!("The grant type `{g}` is not supported."),
            );
        }
        None => {
            return error_reply(
                shared,
                400,
                OAuthErrorCode::InvalidRequest,
                "The grant_type parameter is missing.",
            )
        }
    };
    if r.basic.is_none() && !r.p.has("client_id") && shared.fault(Fault::ClientIdOptional) {
        let owner =
            r.p.one("code")
                .and_then(|c| shared.state().codes.get(c).map(|g| g.client_id.clone()));
        if let Some(owner) = owner {
            r.p.0.insert("client_id".into(), vec![owner]);
        }
    }
    let int = match authenticate(shared, &r) {
        Ok(int) => int,
        Err(reply) => return reply,
    };
    let reply = match grant.as_str() {
        "authorization_code" => authorization_code(shared, &int, &r.p),
        "refresh_token" => refresh(shared, &int, &r.p),
        "password" => password(shared, &int, &r.p),
        _ => client_credentials(shared, &int, &r.p),
    };
    header_faults(shared, reply)
}

/// Finds the client and checks its secret (web apps and server-to-server); public apps send none.
fn authenticate(shared: &Shared, r: &TokenRequest) -> Result<Integration, Reply> {
    let (client_id, secret) = match &r.basic {
        Some((id, secret)) => (Some(id.as_str()), Some(secret.as_str())),
        None => (r.p.one("client_id"), r.p.one("client_secret")),
    };
    let Some(client_id) = client_id else {
        let hint = if r.p.has("clientId") {
            " clientId is the legacy v1 name; /v2/token takes client_id."
        } else {
            ""
        };
        return Err(error_reply(
            shared,
            400,
            OAuthErrorCode::InvalidRequest,
            &format!("The client_id parameter is missing.{hint}"),
        ));
    };
    let Some(int) = shared.client(client_id) else {
        return Err(error_reply(
            shared,
            shared
                .varied(Variation::InvalidClient400)
                .invalid_client_status,
            OAuthErrorCode::InvalidClient,
            UNKNOWN_CLIENT,
        ));
    };
    if let Some(expected) = &int.client_secret {
        if secret != Some(expected.expose()) && !shared.fault(Fault::SecretNotChecked) {
            return Err(if r.basic.is_some() {
                error_reply(shared, 401, OAuthErrorCode::InvalidClient, BAD_SECRET)
                    .header("WWW-Authenticate", "Basic realm=\"Marketing Cloud\"")
            } else {
                let status = shared
                    .varied(Variation::InvalidClient400)
                    .invalid_client_status;
                error_reply(shared, status, OAuthErrorCode::InvalidClient, BAD_SECRET)
            });
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

fn authorization_code(shared: &Shared, int: &Integration, p: &Params) -> Reply {
    let invalid_grant = |d: &str| error_reply(shared, 400, OAuthErrorCode::InvalidGrant, d);
    if int.kind == IntegrationKind::ServerToServer {
        return error_reply(
            shared,
            400,
            OAuthErrorCode::UnauthorizedClient,
            "The client is not authorized to request an authorization code using this method.",
        );
    }
    let Some(code) = p.one("code") else {
        return error_reply(
            shared,
            400,
            OAuthErrorCode::InvalidRequest,
            "The code parameter is missing.",
        );
    };
    let unbound_redirect = || shared.fault(Fault::CodeNotBoundToRedirectUri);
    if p.one("redirect_uri").is_none() && !unbound_redirect() {
        return error_reply(
            shared,
            400,
            OAuthErrorCode::InvalidRequest,
            "The redirect_uri parameter is missing.",
        );
    }
    let mut st = shared.state();
    let now = st.clock.now();
    let Some(grant) = st.codes.get(code).cloned() else {
        return invalid_grant("The authorization code is invalid.");
    };
    let in_window = || {
        grant.first_used.is_some_and(|t| now < t + REUSE_WINDOW)
            && shared.fault(Fault::CodeReuseWindow)
    };
    if grant.used && !shared.fault(Fault::CodeReusable) && !in_window() {
        // RFC 6749 §4.1.2: deny, and revoke what the first redemption issued.
        if let (Some(f), false) = (grant.family, shared.fault(Fault::CodeReuseKeepsTokens)) {
            st.revoke_family(f);
            if shared.fault(Fault::CodeReuseRevokesRefreshOnly) {
                spare(&mut st, f, true);
            }
            if shared.fault(Fault::CodeReuseRevokesAccessOnly) {
                spare(&mut st, f, false);
            }
        }
        return invalid_grant("The authorization code has already been used.");
    }
    // The faulty lifetime matters only for a code one lifetime calls expired and the other not.
    // (A lifetime too long to add to a time never ends.)
    let expired_after = |ttl| grant.issued.checked_add(ttl).is_some_and(|end| end <= now);
    let lifetime =
        Duration::from_secs(shared.varied(Variation::CodeLifetime60s).code_lifetime_secs);
    let differs = expired_after(lifetime) != expired_after(FAULTY_CODE_TTL);
    let ttl = if differs && shared.fault(Fault::CodeLifetimeHour) {
        FAULTY_CODE_TTL
    } else {
        lifetime
    };
    if expired_after(ttl) {
        return invalid_grant("The authorization code has expired.");
    }
    if grant.client_id != int.client_id && !shared.fault(Fault::CodeNotBoundToClient) {
        return invalid_grant("The authorization code was issued to another client.");
    }
    if p.one("redirect_uri") != Some(grant.redirect_uri.as_str()) && !unbound_redirect() {
        return invalid_grant(
            "The redirect_uri does not match the one of the authorization request.",
        );
    }
    if let Err(reply) = check_pkce(
        shared,
        int,
        grant.challenge.as_ref(),
        p.one("code_verifier"),
    ) {
        return reply;
    }
    let scopes = match narrow(shared, &grant.scopes, p.one("scope"), int, false) {
        Ok(s) => s,
        Err(reply) => return reply,
    };
    let family = st.new_family();
    if let Some(g) = st.codes.get_mut(code) {
        g.used = true;
        g.first_used.get_or_insert(now);
        g.family.get_or_insert(family);
    }
    let offline = grant
        .scopes
        .iter()
        .chain(scopes.iter())
        .any(|s| s == "offline");
    let refresh = int.offline && (offline || shared.settings().refresh_without_offline);
    issue(
        shared,
        &mut st,
        int,
        scopes,
        family,
        refresh,
        Some(grant.username),
    )
}

/// `BASE64URL(SHA256(verifier))`, or hex under the `pkce-s256-wrong-encoding` fault.
fn challenge_of(shared: &Shared, verifier: &str) -> String {
    if shared.fault(Fault::PkceS256WrongEncoding) {
        Sha256::digest(verifier.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    } else {
        s256_challenge(verifier)
    }
}

/// Leaves the tokens of revoked `family` of one kind alive (a faulty revocation): its access
/// tokens if `access`, else its refresh tokens.
fn spare(st: &mut State, family: u64, access: bool) {
    let tokens = if access {
        &st.access_tokens
    } else {
        &st.refresh_tokens
    };
    let alive: Vec<String> = tokens
        .iter()
        .filter(|(_, t)| t.family == family)
        .map(|(k, _)| k.clone())
        .collect();
    st.spared.extend(alive);
}

/// RFC 7636 §4.6 and the downgrade rules of RFC 9700 §4.8.2.
fn check_pkce(
    shared: &Shared,
    int: &Integration,
    challenge: Option<&(String, String)>,
    verifier: Option<&str>,
) -> Result<(), Reply> {
    let invalid_grant = |d: &str| Err(error_reply(shared, 400, OAuthErrorCode::InvalidGrant, d));
    if int.pkce == PkceMode::Ignored {
        return Ok(());
    }
    // Each fault is consulted only where it changes the answer (see `Shared::fault`).
    let plain_ok = || shared.settings().allow_plain_pkce || shared.fault(Fault::PkcePlainAccepted);
    let syntax_checked = || !shared.fault(Fault::VerifierSyntaxUnchecked);
    let verdict = match (challenge, verifier) {
        (None, None)
            if int.pkce == PkceMode::Required
                && shared.varied(Variation::PkceAtTokenOnly).pkce_at_token_only =>
        {
            Err(error_reply(
                shared,
                400,
                OAuthErrorCode::InvalidRequest,
                "This app requires PKCE: the authorization request had no code_challenge.",
            ))
        }
        (None, None) => Ok(()),
        (Some(_), None)
            if shared
                .varied(Variation::MissingVerifierInvalidRequest)
                .missing_verifier_invalid_request =>
        {
            Err(error_reply(
                shared,
                400,
                OAuthErrorCode::InvalidRequest,
                "The code_verifier parameter is missing.",
            ))
        }
        (Some(_), None) if shared.fault(Fault::PkceVerifiedOnlyWhenSent) => Ok(()),
        (Some(_), None) => invalid_grant("The code_verifier parameter is missing."),
        (None, Some(_)) if shared.fault(Fault::PkceDowngradeAccepted) => Ok(()),
        (None, Some(_)) => invalid_grant(
            "A code_verifier was sent but the authorization request had no code_challenge.",
        ),
        (Some(_), Some(v))
            if !crate::oauth::pkce::verifier_is_well_formed(v) && syntax_checked() =>
        {
            invalid_grant("The code_verifier is not 43 to 128 unreserved characters.")
        }
        (Some((c, m)), Some(v)) if m != "plain" && challenge_of(shared, v) == *c => Ok(()),
        (Some((c, m)), Some(v))
            if v == c && plain_ok() && (m == "plain" || shared.fault(Fault::PkcePlainAccepted)) =>
        {
            Ok(())
        }
        (Some(_), Some(_)) => invalid_grant("The code_verifier does not match the code_challenge."),
    };
    match verdict {
        Err(_) if shared.fault(Fault::PkceIgnored) => Ok(()),
        v => v,
    }
}

/// Scopes for the new tokens: the requested ones, which must have been granted (`offline` may be
/// added when the integration allows it, as the docs' token request does), or all granted ones.
/// `widen` allows any scope of the integration (a fault).
fn narrow(
    shared: &Shared,
    granted: &[String],
    requested: Option<&str>,
    int: &Integration,
    widen: bool,
) -> Result<Vec<String>, Reply> {
    let Some(requested) = requested else {
        return Ok(granted.to_vec());
    };
    let mut out = Vec::new();
    for s in requested.split(' ').filter(|s| !s.is_empty()) {
        let offline_ok = s == "offline" && int.offline;
        let widened = widen && int.scopes.iter().any(|g| g == s);
        if !(granted.iter().any(|g| g == s) || offline_ok || widened) {
            return Err(error_reply(
                shared,
                400,
                OAuthErrorCode::InvalidScope,
                &format!("The scope `{s}` was not granted by the authorization."),
            ));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

fn refresh(shared: &Shared, int: &Integration, p: &Params) -> Reply {
    let invalid_grant = |d: &str| error_reply(shared, 400, OAuthErrorCode::InvalidGrant, d);
    let Some(rt) = p.one("refresh_token") else {
        return error_reply(
            shared,
            400,
            OAuthErrorCode::InvalidRequest,
            "The refresh_token parameter is missing.",
        );
    };
    let mut st = shared.state();
    let now = st.clock.now();
    let Some(old) = st.refresh_tokens.get(rt).cloned() else {
        return invalid_grant("The refresh token is invalid.");
    };
    let in_grace = shared.fault(Fault::RefreshGraceWindow)
        && old.used_at.is_some_and(|t| now < t + REFRESH_GRACE);
    if old.used && !shared.fault(Fault::RefreshOldStillValid) && !in_grace {
        // Replay of a rotated refresh token: revoke the whole family (RFC 9700 §4.14.2).
        if !shared.fault(Fault::RefreshNoFamilyRevocation) {
            st.revoke_family(old.family);
            if shared.fault(Fault::RefreshReplaySparesAccessToken) {
                spare(&mut st, old.family, true);
            }
        }
        return invalid_grant("The refresh token has already been used.");
    }
    if (st.is_revoked(old.family) && !st.spared.contains(rt)) || old.expires <= now {
        return invalid_grant("The refresh token is no longer valid.");
    }
    if old.client_id != int.client_id && !shared.fault(Fault::RefreshNotBoundToClient) {
        return invalid_grant("The refresh token was issued to another client.");
    }
    let rotations = st.family_rotations.entry(old.family).or_insert(0);
    *rotations += 1;
    if shared.fault(Fault::RefreshChainLimit) && *rotations > CHAIN_LIMIT {
        return invalid_grant("The refresh token is no longer valid.");
    }
    let widen = shared.fault(Fault::RefreshScopeWidening);
    let scopes = match narrow(shared, &old.scopes, p.one("scope"), int, widen) {
        Ok(s) => s,
        Err(reply) => return reply,
    };
    let previous_access = st.family_access.get(&old.family).cloned();
    let kept = (int.kind == IntegrationKind::Web
        && !shared
            .varied(Variation::RefreshKeptForConfidential)
            .rotate_confidential_refresh)
        || (int.kind == IntegrationKind::Public
            && shared.fault(Fault::RefreshRotatedForConfidentialOnly));
    let not_rotated = shared.fault(Fault::RefreshNotRotated) || kept;
    if !not_rotated {
        if let Some(t) = st.refresh_tokens.get_mut(rt) {
            t.used = true;
            t.used_at.get_or_insert(now);
        }
    }
    let mut reply = issue(
        shared,
        &mut st,
        int,
        scopes,
        old.family,
        !not_rotated,
        old.username,
    );
    let replace = |reply: &mut Reply, field: &str, value: &str| {
        if let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(&reply.body) {
            m.insert(field.into(), value.into());
            reply.body = Value::Object(m).to_string().into_bytes();
        }
    };
    if not_rotated {
        replace(&mut reply, "refresh_token", rt);
    }
    if let (true, Some(at)) = (
        shared.fault(Fault::RefreshReusesAccessToken),
        previous_access,
    ) {
        replace(&mut reply, "access_token", &at);
    }
    reply
}

fn client_credentials(shared: &Shared, int: &Integration, p: &Params) -> Reply {
    if int.kind != IntegrationKind::ServerToServer {
        return error_reply(
            shared,
            400,
            OAuthErrorCode::UnauthorizedClient,
            "The client is not authorized to request a token using this method.",
        );
    }
    let granted = int.scopes.clone();
    // Requested scopes are returned only if the integration has them (facts §11).
    let scopes: Vec<String> = match p.one("scope") {
        Some(s) => s
            .split(' ')
            .filter(|s| granted.iter().any(|g| g == s))
            .map(str::to_owned)
            .collect(),
        None => granted,
    };
    let mut st = shared.state();
    let family = st.new_family();
    issue(shared, &mut st, int, scopes, family, false, None)
}

/// The resource owner password grant, only under the `password-grant-accepted` fault.
fn password(shared: &Shared, int: &Integration, p: &Params) -> Reply {
    let user = shared.registry.users.iter().find(|u| {
        Some(u.username.as_str()) == p.one("username")
            && Some(u.password.expose()) == p.one("password")
    });
    let Some(user) = user else {
        return error_reply(
            shared,
            400,
            OAuthErrorCode::InvalidGrant,
            "The username or password is not correct.",
        );
    };
    let mut st = shared.state();
    let family = st.new_family();
    let scopes = int.scopes.clone();
    issue(
        shared,
        &mut st,
        int,
        scopes,
        family,
        int.offline,
        Some(user.username.clone()),
    )
}

/// Mints an access token (and a refresh token if `refresh`) and answers 200.
fn issue(
    shared: &Shared,
    st: &mut State,
    int: &Integration,
    scopes: Vec<String>,
    family: u64,
    refresh: bool,
    username: Option<String>,
) -> Reply {
    let now = st.clock.now();
    let scope_differs = shared.fault(Fault::ScopeWidened) && scopes != int.scopes;
    let scopes = if shared.fault(Fault::ScopeWidened) {
        int.scopes.clone()
    } else {
        scopes
    };
    let mint = |st: &mut State, claim: &str| {
        if shared.fault(Fault::WeakRandomness) {
            st.counter += 1;
            format!("{claim}{:06}", st.counter)
        } else if shared.fault(Fault::LongTokens) {
            let mut t = tokens::token(claim, &int.client_id, client_type(int), 7281698);
            t.push('.');
            t.push_str(&tokens::token(claim, &int.client_id, client_type(int), 7281698)[..88]);
            t
        } else {
            tokens::token(claim, &int.client_id, client_type(int), 7281698)
        }
    };
    let record = |scopes: &[String], ttl| IssuedToken {
        client_id: int.client_id.clone(),
        scopes: scopes.to_vec(),
        expires: now + ttl,
        family,
        used: false,
        used_at: None,
        username: username.clone(),
    };
    // A long-running mock forgets expired tokens instead of growing without end: every
    // PRUNE_EVERY tokens it issues, it drops those that have expired (a scan of what it holds,
    // so a thousandth of one per token). What it holds is what is still valid: at most a token
    // lifetime's worth of issues. (Pruning on every token once 50,000 were held made a busy
    // mock scan 50,000 live tokens per request: 445 requests a second instead of 3,500.)
    st.issued += 1;
    if st.issued % PRUNE_EVERY == 0 {
        for held in [&mut st.access_tokens, &mut st.refresh_tokens] {
            super::state::prune(held, MAX_LIVE_TOKENS, |t| t.expires > now, |t| t.expires);
        }
        // A family none of whose tokens is alive is forgotten with them.
        let live: std::collections::HashSet<u64> = st
            .access_tokens
            .values()
            .chain(st.refresh_tokens.values())
            .map(|t| t.family)
            .collect();
        st.family_access.retain(|f, _| live.contains(f));
        st.family_rotations.retain(|f, _| live.contains(f));
        let State {
            spared,
            access_tokens,
            refresh_tokens,
            ..
        } = &mut *st;
        spared.retain(|t| access_tokens.contains_key(t) || refresh_tokens.contains_key(t));
    }
    let access = mint(st, "access_token");
    st.access_tokens
        .insert(access.clone(), record(&scopes, ACCESS_TTL));
    st.family_access.insert(family, access.clone());
    let mut body = Map::new();
    body.insert("access_token".into(), access.into());
    if refresh {
        let rt = mint(st, "refresh_token");
        st.refresh_tokens
            .insert(rt.clone(), record(&scopes, REFRESH_TTL));
        body.insert("refresh_token".into(), rt.into());
    }
    let settings = shared.settings();
    let expires_in = if int.kind == IntegrationKind::ServerToServer {
        settings.client_credentials_expires_in
    } else {
        settings.expires_in
    };
    body.insert(
        "expires_in".into(),
        if shared.fault(Fault::ExpiresInString) {
            expires_in.to_string().into()
        } else {
            expires_in.into()
        },
    );
    body.insert(
        "token_type".into(),
        shared
            .varied(Variation::TokenTypeLowercase)
            .token_type
            .clone()
            .into(),
    );
    let sub = &shared.registry.subdomain;
    let (rest, soap) = if shared.fault(Fault::BareInstanceUrls) {
        (
            format!("{sub}.rest.marketingcloudapis.com"),
            format!("{sub}.soap.marketingcloudapis.com"),
        )
    } else {
        (
            format!("https://{sub}.rest.marketingcloudapis.com/"),
            format!("https://{sub}.soap.marketingcloudapis.com/"),
        )
    };
    if shared.varied(Variation::NoInstanceUrls).instance_urls {
        body.insert("rest_instance_url".into(), rest.into());
        body.insert("soap_instance_url".into(), soap.into());
    }
    if scope_differs
        || shared
            .varied(Variation::ScopeOmittedWhenUnchanged)
            .scope_in_response
    {
        body.insert("scope".into(), scopes.join(" ").into());
    }
    if shared
        .varied(Variation::ExtraTokenFields)
        .extra_token_fields
    {
        body.insert("ext_expires_in".into(), (expires_in * 2).into());
        body.insert("issued_by".into(), "simulator".into());
    }
    Reply::json(200, &Value::Object(body))
}
