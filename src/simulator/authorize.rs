//! `GET /v2/authorize` and the login pages (facts §1, §2, §10).
//!
//! Errors about the client or the redirect URI are shown as a page and never redirected
//! (RFC 6749 §4.1.2.1): the redirect URI cannot be trusted. Other errors redirect with `error`,
//! `error_description`, `error_uri` and `state`, but only after the user has signed in
//! (RFC 9700 §4.11.2: no automatic redirect for an unauthenticated user). A successful sign-in
//! redirects with 302 (never 307, RFC 9700 §4.12) and starts a login session, so the next
//! authorize skips the login page, as a tenant's single sign-on does.

use super::faults::Fault;
use super::pages;
use super::params::Params;
use super::registry::{Integration, IntegrationKind, PkceMode};
use super::state::{CodeGrant, LoginSession, Pending, CODE_TTL, PENDING_TTL, SESSION_IDLE_TTL};
use super::tokens::{authorization_code, random_alnum};
use super::variations::Variation;
use super::{Reply, Shared};
use crate::oauth::encoding::encode;
use crate::oauth::OAuthErrorCode;
use wiremock::Request;

/// The login-session cookie.
pub const SESSION_COOKIE: &str = "sfmc_sim_sid";
const ERROR_URI: &str = "https://developer.salesforce.com/docs";

/// Parameters `/v2/authorize` knows; the `unknown-parameter-rejected` fault refuses others.
const KNOWN: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

/// `uri` with `pairs` appended to its query, each value percent-encoded (`%20` for a space).
pub fn append_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    append_query_with(uri, pairs, encode)
}

fn append_query_with(uri: &str, pairs: &[(&str, &str)], enc: impl Fn(&str) -> String) -> String {
    let mut out = uri.to_owned();
    let mut sep = if uri.contains('?') { '&' } else { '?' };
    for (k, v) in pairs {
        out.push(sep);
        out.push_str(k);
        out.push('=');
        out.push_str(&enc(v));
        sep = '&';
    }
    out
}

/// `application/x-www-form-urlencoded` value encoding: `+` for a space (RFC 6749 Appendix B).
fn form_encode(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// `redirect_uri` with `pairs` added to its query, `%20` for a space, or `+` under the
/// `plus-for-space` setting.
fn encode_callback(shared: &Shared, redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
    let percent = append_query(redirect_uri, pairs);
    let form = append_query_with(redirect_uri, pairs, form_encode);
    // Consulted only where the two encodings differ (a space, most often).
    if percent != form && shared.varied(Variation::PlusForSpace).plus_for_space {
        form
    } else {
        percent
    }
}

/// Headers every page and redirect of the login flow carries, bent by the page faults.
fn guard(shared: &Shared, mut reply: Reply) -> Reply {
    if shared.fault(Fault::FrameableLogin) {
        reply = reply
            .without_header("X-Frame-Options")
            .without_header("Content-Security-Policy");
    }
    if shared.fault(Fault::FrameAncestorsStar) {
        reply = reply
            .without_header("X-Frame-Options")
            .with_header("Content-Security-Policy", "frame-ancestors *");
    }
    if shared.fault(Fault::CspMetaOnly) {
        reply = reply
            .without_header("X-Frame-Options")
            .without_header("Content-Security-Policy");
        let meta =
            r#"<meta http-equiv="Content-Security-Policy" content="frame-ancestors 'none'">"#;
        let html =
            String::from_utf8_lossy(&reply.body).replacen("<head>", &format!("<head>{meta}"), 1);
        reply.body = html.into_bytes();
    }
    if shared.fault(Fault::NoReferrerPolicy) {
        reply = reply.without_header("Referrer-Policy");
    }
    reply
}

fn error_page(shared: &Shared, status: u16, error: OAuthErrorCode, description: &str) -> Reply {
    let mut html = pages::error(&error, description);
    if shared
        .varied(Variation::StylesheetFromCdn)
        .error_page_cdn_stylesheet
    {
        html = html.replacen(
            "</head>",
            r#"<link rel="stylesheet" href="https://cdn.example.com/sfmc/error.css"></head>"#,
            1,
        );
    }
    guard(shared, Reply::html(status, html))
}

/// The error redirect of RFC 6749 §4.1.2.1, with `state` when one was sent.
fn error_redirect(
    shared: &Shared,
    redirect_uri: &str,
    state: Option<&str>,
    error: OAuthErrorCode,
    description: &str,
) -> Reply {
    let mut pairs = vec![
        ("error", error.as_str()),
        ("error_description", description),
    ];
    if shared.varied(Variation::NoErrorUri).error_uri {
        pairs.push(("error_uri", ERROR_URI));
    }
    if let Some(s) = state.filter(|_| !shared.fault(Fault::ErrorWithoutState)) {
        pairs.push(("state", s));
    }
    if shared.fault(Fault::ErrorRedirectExtraParams) {
        pairs.push(("trace", "step 1\nstep 2"));
    }
    guard(
        shared,
        Reply::redirect(302, &encode_callback(shared, redirect_uri, &pairs)),
    )
}

fn session_user(shared: &Shared, req: &Request) -> Option<String> {
    let cookies = req.headers.get("cookie")?.to_str().ok()?;
    let sid = cookies.split(';').find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == SESSION_COOKIE).then(|| v.to_owned())
    })?;
    let mut st = shared.state();
    let now = st.clock.now();
    let session = st.sessions.get_mut(&sid)?;
    if session.last_used + SESSION_IDLE_TTL <= now {
        st.sessions.remove(&sid);
        return None;
    }
    session.last_used = now;
    Some(session.username.clone())
}

/// Whether `given` is one of the registered URIs (exact string match, RFC 9700 §4.1.3), or
/// matches under a fault.
fn redirect_uri_matches(shared: &Shared, int: &Integration, given: &str) -> bool {
    int.redirect_uris.iter().any(|registered| {
        given == registered
            || (shared.fault(Fault::RedirectUriPrefixMatch)
                && given.starts_with(registered.as_str()))
            || (shared.fault(Fault::RedirectUriIgnorePort) && same_but_port(given, registered))
            || (shared.fault(Fault::RedirectUriPrefixNoSlash)
                && given.starts_with(registered.trim_end_matches('/')))
            || (shared.fault(Fault::RedirectUriIgnoresQuery)
                && without_query(given) == without_query(registered))
            || (shared.fault(Fault::RedirectUriNormalized)
                && url::Url::parse(given).ok() == url::Url::parse(registered).ok()
                && url::Url::parse(given).is_ok())
            || shared
                .settings()
                .accept_redirect_uri
                .as_deref()
                .is_some_and(|t| accepted_variant(t, registered, given))
            || (shared.settings().loopback_any_port
                && crate::oauth::authorize::loopback_port_variant(given, registered))
    })
}

/// Whether `given` is what `template` makes of `registered` in the feature files' vocabulary
/// (`{registered}`, `{registered_with_query}`, `{scheme}`, `{host}`, `{port}`, `{path}`);
/// `{canary}` stands for any `127.0.0.1:PORT` (each scenario's canary has its own port).
fn accepted_variant(template: &str, registered: &str, given: &str) -> bool {
    let Ok(parts) = url::Url::parse(registered) else {
        return false;
    };
    if template.contains("{registered_with_query}") && !registered.contains('?') {
        return false;
    }
    let port = parts
        .port_or_known_default()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let expand = |piece: &str| {
        regex::escape(
            &piece
                .replace("{registered_with_query}", registered)
                .replace("{registered}", registered)
                .replace("{scheme}", parts.scheme())
                .replace("{host}", parts.host_str().unwrap_or(""))
                .replace("{port}", &port)
                .replace("{path}", parts.path()),
        )
    };
    let pattern: Vec<String> = template.split("{canary}").map(expand).collect();
    regex::Regex::new(&format!("^{}$", pattern.join(r"127\.0\.0\.1:[0-9]+")))
        .is_ok_and(|r| r.is_match(given))
}

/// `uri` without its query (the `redirect-uri-ignores-query` fault compares that).
fn without_query(uri: &str) -> &str {
    uri.split_once('?').map_or(uri, |(before, _)| before)
}

fn same_but_port(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(mut a), Ok(mut b)) => {
            let _ = a.set_port(None);
            let _ = b.set_port(None);
            a == b
        }
        _ => false,
    }
}

/// Why an authorize request cannot go on, once the client and the redirect URI are known good.
fn request_error(
    shared: &Shared,
    int: &Integration,
    p: &Params,
    scopes: &[String],
) -> Option<(OAuthErrorCode, String)> {
    let e = |code: OAuthErrorCode, d: String| Some((code, d));
    // A fault is consulted only where it changes the answer (see `Shared::fault`).
    if let Some(name) = p.repeated().first() {
        if !shared.fault(Fault::DuplicateParametersAccepted) {
            return e(
                OAuthErrorCode::InvalidRequest,
                format!("The {name} parameter was sent more than once."),
            );
        }
    }
    match p.one("response_type") {
        Some("code") => {}
        Some(other) if !shared.fault(Fault::ResponseTypeUnchecked) => {
            return e(
                OAuthErrorCode::UnsupportedResponseType,
                format!("The response type `{other}` is not supported. Use `code`."),
            )
        }
        None if !shared.fault(Fault::ResponseTypeUnchecked) => {
            return e(
                OAuthErrorCode::InvalidRequest,
                "The response_type parameter is missing.".into(),
            )
        }
        _ => {}
    }
    if int.kind == IntegrationKind::ServerToServer {
        return e(
            OAuthErrorCode::UnauthorizedClient,
            "The client is not authorized to request an authorization code using this method."
                .into(),
        );
    }
    if let Some(bad) = scopes.iter().find(|s| !int.scopes.contains(s)).filter(|_| {
        !shared
            .varied(Variation::UnknownScopeIgnored)
            .ignore_unknown_scope
    }) {
        return e(
            OAuthErrorCode::InvalidScope,
            format!("The scope `{bad}` is not granted to this integration."),
        );
    }
    let positions: Vec<usize> = scopes
        .iter()
        .filter_map(|s| int.scopes.iter().position(|g| g == s))
        .collect();
    if positions.windows(2).any(|w| w[0] > w[1]) && shared.fault(Fault::ScopeOrderSensitive) {
        return e(
            OAuthErrorCode::InvalidScope,
            "The scopes are not in the expected order.".into(),
        );
    }
    let plain_ok = || shared.settings().allow_plain_pkce || shared.fault(Fault::PkcePlainAccepted);
    let any_method = || shared.fault(Fault::PkceMethodUnchecked);
    match (p.one("code_challenge"), p.one("code_challenge_method")) {
        (None, None) | (Some(_), Some("S256")) => {}
        (Some(_), None | Some("plain")) if plain_ok() => {}
        (Some(_), Some(m)) if m != "plain" && any_method() => {}
        (Some(_), None) => {
            return e(
                OAuthErrorCode::InvalidRequest,
                "The code_challenge_method parameter is missing. Use S256.".into(),
            )
        }
        (Some(_), Some(m)) => {
            return e(
                OAuthErrorCode::InvalidRequest,
                format!("The code_challenge_method `{m}` is not supported. Use S256."),
            )
        }
        (None, Some(_)) => {
            return e(
                OAuthErrorCode::InvalidRequest,
                "code_challenge_method without code_challenge.".into(),
            )
        }
    }
    if let Some(c) = p.one("code_challenge") {
        let well_formed = (43..=128).contains(&c.len())
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !well_formed {
            return e(
                OAuthErrorCode::InvalidRequest,
                "The code_challenge is not 43 to 128 unreserved characters.".into(),
            );
        }
    }
    let pkce_required = int.pkce == PkceMode::Required
        && !shared.fault(Fault::PkceNotRequired)
        && !shared.varied(Variation::PkceAtTokenOnly).pkce_at_token_only;
    if pkce_required && p.one("code_challenge").is_none() {
        return e(
            OAuthErrorCode::InvalidRequest,
            "This app requires PKCE: send a code_challenge.".into(),
        );
    }
    None
}

/// `GET /v2/authorize` (and `POST`, with the parameters in a form body, RFC 6749 §3.1).
pub fn authorize(shared: &Shared, req: &Request) -> Reply {
    let post = req.method.as_str() == "POST";
    if post && shared.fault(Fault::AuthorizePostRefused) {
        return Reply::status(405).header("Allow", "GET");
    }
    let p = if post {
        Params::form(&req.body)
    } else {
        Params::form(req.url.query().unwrap_or("").as_bytes())
    };
    // Which of repeated parameters counts matters only when a parameter is repeated.
    let first_wins =
        p.0.values().any(|v| v.len() > 1) && shared.fault(Fault::DuplicateParametersAccepted);
    let single = |name: &str| match p.0.get(name).map(Vec::as_slice) {
        Some([v]) => Some(v.clone()),
        Some([v, ..]) if first_wins => Some(v.clone()),
        _ => None,
    };
    let Some(int) = single("client_id").and_then(|id| shared.client(&id)) else {
        if let (true, Some(r)) = (
            shared.fault(Fault::UnknownClientRedirects),
            p.one("redirect_uri"),
        ) {
            return error_redirect(
                shared,
                r,
                p.one("state"),
                OAuthErrorCode::InvalidClient,
                "Invalid client identifier.",
            );
        }
        return error_page(
            shared,
            400,
            OAuthErrorCode::InvalidClient,
            "Invalid client identifier. Use the client ID in Marketing Cloud Installed Packages.",
        );
    };
    if let Some(unknown) = p.0.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        if shared.fault(Fault::UnknownParameterRejected) {
            return error_page(
                shared,
                400,
                OAuthErrorCode::InvalidRequest,
                &format!("Unknown parameter {unknown}."),
            );
        }
    }
    let last_wins = p.0.get("redirect_uri").is_some_and(|v| v.len() > 1)
        && shared.fault(Fault::RedirectUriLastWins);
    let given: Vec<String> = match p.0.get("redirect_uri") {
        Some(v) if first_wins || last_wins => v[..1].to_vec(),
        Some(v) => v.clone(),
        None if shared.fault(Fault::RedirectUriOptional) => int.redirect_uris[..1].to_vec(),
        None => Vec::new(),
    };
    let redirect_uri =
        match given.as_slice() {
            [r] if redirect_uri_matches(shared, &int, r) => match p.0.get("redirect_uri") {
                // Validated the first, redirects to the last.
                Some(all) if last_wins => all.last().cloned().unwrap_or_else(|| r.clone()),
                _ => r.clone(),
            },
            [r] if shared.fault(Fault::OpenRedirect) => {
                return error_redirect(
                    shared,
                    r,
                    p.one("state"),
                    OAuthErrorCode::InvalidRequest,
                    "The redirect_uri is not registered.",
                )
            }
            [_] => return error_page(
                shared,
                400,
                OAuthErrorCode::InvalidRequest,
                "The redirect_uri does not match a redirect URI registered on this integration.",
            ),
            [] => {
                return error_page(
                    shared,
                    400,
                    OAuthErrorCode::InvalidRequest,
                    "The redirect_uri parameter is missing.",
                )
            }
            _ => {
                return error_page(
                    shared,
                    400,
                    OAuthErrorCode::InvalidRequest,
                    "The redirect_uri parameter was sent more than once.",
                )
            }
        };
    // Omitted: the integration's scopes. Present but empty: no scopes (facts §1).
    let scopes: Vec<String> = match p.one("scope") {
        Some(s) => s
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        None => int
            .scopes
            .iter()
            .filter(|s| *s != "offline")
            .cloned()
            .collect(),
    };
    let challenge = p.one("code_challenge").map(|c| {
        (
            c.to_owned(),
            p.one("code_challenge_method").unwrap_or("plain").to_owned(),
        )
    });
    let state = p.one("state").map(str::to_owned);
    let deferred_error = request_error(shared, &int, &p, &scopes);
    // RFC 6749 §3.3: a server may ignore what it does not grant (consulted only when there is
    // a scope to ignore).
    let scopes = if scopes.iter().any(|s| !int.scopes.contains(s))
        && shared
            .varied(Variation::UnknownScopeIgnored)
            .ignore_unknown_scope
    {
        scopes
            .into_iter()
            .filter(|s| int.scopes.contains(s))
            .collect()
    } else {
        scopes
    };
    if let Some((code, d)) = deferred_error
        .as_ref()
        .filter(|(c, _)| *c == OAuthErrorCode::InvalidScope)
    {
        if shared.fault(Fault::EarlyErrorRedirect) {
            return error_redirect(shared, &redirect_uri, state.as_deref(), code.clone(), d);
        }
    }
    let now = shared.state().clock.now();
    let pending = Pending {
        client_id: int.client_id.clone(),
        redirect_uri,
        state,
        scopes,
        challenge,
        csrf: random_alnum(32, true),
        created: now,
        deferred_error,
        awaiting_code_for: None,
    };
    // With the login pages on an origin of their own, the login session is a cookie of that
    // origin: the login page completes the request (see `login_page`).
    if let (Some(user), None) = (session_user(shared, req), &shared.login_base) {
        return complete(shared, &pending, &user);
    }
    let id = random_alnum(24, false);
    let mut st = shared.state();
    // Every PRUNE_EVERY logins or codes made, the expired ones are dropped, and past
    // MAX_LIVE_TOKENS the oldest (a flood of authorization requests needs no secret).
    st.made += 1;
    if st.made % super::PRUNE_EVERY == 0 {
        super::state::prune(
            &mut st.pending,
            super::MAX_LIVE_TOKENS,
            |p| p.created + PENDING_TTL > now,
            |p| p.created,
        );
    }
    st.pending.insert(id.clone(), pending);
    drop(st);
    guard(
        shared,
        Reply::redirect(
            302,
            &format!(
                "{}/login?r={id}",
                shared.login_base.as_deref().unwrap_or_default()
            ),
        )
        .header("X-Frame-Options", "DENY")
        .header("Content-Security-Policy", "frame-ancestors 'none'"),
    )
}

/// Issues the code (or the deferred error) and redirects to the app.
fn complete(shared: &Shared, p: &Pending, username: &str) -> Reply {
    if let Some((code, description)) = &p.deferred_error {
        return error_redirect(
            shared,
            &p.redirect_uri,
            p.state.as_deref(),
            code.clone(),
            description,
        );
    }
    let mut st = shared.state();
    let code = if shared.fault(Fault::WeakRandomness) {
        st.counter += 1;
        format!("code{:06}", st.counter)
    } else {
        authorization_code(7281698)
    };
    let issued = st.clock.now();
    st.made += 1;
    if st.made % super::PRUNE_EVERY == 0 {
        super::state::prune(
            &mut st.codes,
            super::MAX_LIVE_TOKENS,
            |c| c.issued + CODE_TTL * 24 > issued,
            |c| c.issued,
        );
    }
    st.codes.insert(
        code.clone(),
        CodeGrant {
            client_id: p.client_id.clone(),
            redirect_uri: p.redirect_uri.clone(),
            scopes: p.scopes.clone(),
            challenge: p.challenge.clone(),
            issued,
            used: false,
            first_used: None,
            family: None,
            username: username.to_owned(),
        },
    );
    drop(st);
    let mut pairs = vec![("code", code.as_str())];
    let state = p.state.as_deref().map(|s| bent_state(shared, s));
    match state.as_deref() {
        Some(s) if !shared.fault(Fault::StateDropped) => pairs.push(("state", s)),
        None if shared.fault(Fault::EmptyStateAdded) => pairs.push(("state", "")),
        _ => {}
    }
    let appexchange = shared.client(&p.client_id).is_some_and(|i| i.appexchange);
    if shared.fault(Fault::BadTssd) {
        pairs.push(("tssd", "evil.example/x"));
    } else if appexchange {
        pairs.push(("tssd", shared.registry.subdomain.as_str()));
    }
    if shared.fault(Fault::WrongIss) {
        pairs.push(("iss", "https://evil.example"));
    }
    let location = if shared.fault(Fault::CodeInFragment) {
        let q = append_query("", &pairs);
        format!("{}#{}", p.redirect_uri, q.trim_start_matches('?'))
    } else {
        encode_callback(shared, &p.redirect_uri, &pairs)
    };
    let status = if shared.fault(Fault::Redirect307) {
        307
    } else {
        302
    };
    guard(shared, Reply::redirect(status, &location))
}

/// The state as the redirect carries it: the same, or bent by a state fault.
fn bent_state(shared: &Shared, state: &str) -> String {
    // No state fault changes a short state with nothing to escape or encode.
    let bendable = state.chars().count() > 255
        || state.contains(['&', '<', '>', '"'])
        || encode(state) != state;
    if !bendable {
        state.to_owned()
    } else if shared.fault(Fault::StateTruncated) {
        state.chars().take(255).collect()
    } else if shared.fault(Fault::StateHtmlEscaped) {
        state
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    } else if shared.fault(Fault::StateDoubleEncoded) {
        encode(state)
    } else {
        state.to_owned()
    }
}

/// The login request `id`, unless it has expired (it is dropped only every so many).
fn pending(shared: &Shared, id: &str) -> Option<Pending> {
    let st = shared.state();
    let now = st.clock.now();
    st.pending
        .get(id)
        .filter(|p| p.created + PENDING_TTL > now)
        .cloned()
}

fn expired(shared: &Shared) -> Reply {
    error_page(
        shared,
        400,
        OAuthErrorCode::InvalidRequest,
        "This login page has expired. Start again.",
    )
}

/// `GET /login?r=ID`: the login form.
pub fn login_page(shared: &Shared, req: &Request) -> Reply {
    let p = Params::form(req.url.query().unwrap_or("").as_bytes());
    let id = p.one("r").unwrap_or("");
    let Some(pend) = pending(shared, id) else {
        return expired(shared);
    };
    if let (Some(user), Some(_)) = (session_user(shared, req), &shared.login_base) {
        shared.state().pending.remove(id);
        return complete(shared, &pend, &user);
    }
    let mut html = pages::login(id, &pend.csrf, None);
    if shared
        .varied(Variation::LoginPageDialogs)
        .login_page_dialogs
    {
        html = html.replace("</body>", pages::DIALOGS);
    }
    if shared.fault(Fault::LoginPageThirdParty) {
        let pixel = format!(
            r#"<img alt="" src="https://metrics.example.com/p.gif?state={}"></body>"#,
            encode(pend.state.as_deref().unwrap_or(""))
        );
        html = html.replace("</body>", &pixel);
    }
    guard(shared, Reply::html(200, html))
}

fn start_session(shared: &Shared, id: &str, username: &str) -> String {
    let sid = random_alnum(32, true);
    let mut st = shared.state();
    st.pending.remove(id);
    let now = st.clock.now();
    st.made += 1;
    if st.made % super::PRUNE_EVERY == 0 {
        super::state::prune(
            &mut st.sessions,
            super::MAX_LIVE_TOKENS,
            |s| s.last_used + SESSION_IDLE_TTL > now,
            |s| s.last_used,
        );
    }
    st.sessions.insert(
        sid.clone(),
        LoginSession {
            username: username.to_owned(),
            last_used: now,
        },
    );
    sid
}

fn with_session(reply: Reply, sid: &str) -> Reply {
    reply.header(
        "Set-Cookie",
        &format!("{SESSION_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax"),
    )
}

/// `POST /login`: checks the anti-CSRF token and the credentials, then asks for a verification
/// code (users with a TOTP seed) or completes the request.
pub fn login_submit(shared: &Shared, req: &Request) -> Reply {
    let form = Params::form(&req.body);
    let id = form.one("r").unwrap_or("").to_owned();
    let Some(pend) = pending(shared, &id) else {
        return expired(shared);
    };
    if form.one("csrf") != Some(pend.csrf.as_str()) && !shared.fault(Fault::LoginCsrfUnchecked) {
        return error_page(
            shared,
            403,
            OAuthErrorCode::InvalidRequest,
            "The login form was not submitted from its page.",
        );
    }
    let username = form.one("username").unwrap_or("");
    let password = form.one("password").unwrap_or("");
    let Some(user) = shared
        .registry
        .users
        .iter()
        .find(|u| u.username == username && u.password.expose() == password)
    else {
        let html = pages::login(
            &id,
            &pend.csrf,
            Some("The username or password is not correct."),
        );
        return guard(shared, Reply::html(200, html));
    };
    if user.totp_seed.is_some() {
        if let Some(p) = shared.state().pending.get_mut(&id) {
            p.awaiting_code_for = Some(user.username.clone());
        }
        return guard(
            shared,
            Reply::html(200, pages::verify(&id, &pend.csrf, None)),
        );
    }
    let sid = start_session(shared, &id, username);
    with_session(complete(shared, &pend, username), &sid)
}

/// `POST /login/verify`: the verification code of a user with a TOTP seed.
pub fn verify_submit(shared: &Shared, req: &Request) -> Reply {
    let form = Params::form(&req.body);
    let id = form.one("r").unwrap_or("").to_owned();
    let Some(pend) = pending(shared, &id) else {
        return expired(shared);
    };
    let Some(username) = pend.awaiting_code_for.clone() else {
        return expired(shared);
    };
    if form.one("csrf") != Some(pend.csrf.as_str()) && !shared.fault(Fault::LoginCsrfUnchecked) {
        return error_page(
            shared,
            403,
            OAuthErrorCode::InvalidRequest,
            "The form was not submitted from its page.",
        );
    }
    let seed = shared
        .registry
        .users
        .iter()
        .find(|u| u.username == username)
        .and_then(|u| u.totp_seed.clone());
    let code = form.one("code").unwrap_or("");
    let ok = seed.is_some_and(|s| crate::totp::verify(&s, code, std::time::SystemTime::now()));
    if !ok {
        let html = pages::verify(
            &id,
            &pend.csrf,
            Some("The verification code is not correct."),
        );
        return guard(shared, Reply::html(200, html));
    }
    let sid = start_session(shared, &id, &username);
    with_session(complete(shared, &pend, &username), &sid)
}

/// `GET /login/cancel?r=ID`: the user declined; `access_denied` goes back to the app.
pub fn cancel(shared: &Shared, req: &Request) -> Reply {
    let p = Params::form(req.url.query().unwrap_or("").as_bytes());
    let id = p.one("r").unwrap_or("");
    let Some(pend) = shared.state().pending.remove(id) else {
        return expired(shared);
    };
    if shared.fault(Fault::CancelErrorWrong) {
        return error_redirect(
            shared,
            &pend.redirect_uri,
            None,
            OAuthErrorCode::ServerError,
            "Something went wrong.",
        );
    }
    error_redirect(
        shared,
        &pend.redirect_uri,
        pend.state.as_deref(),
        OAuthErrorCode::AccessDenied,
        "The user denied the request.",
    )
}

#[cfg(test)]
mod tests {
    use super::accepted_variant;

    #[test]
    fn a_variant_template_accepts_exactly_what_it_stands_for() {
        let reg = "https://127.0.0.1:80/";
        assert!(accepted_variant(
            "{registered}%2e",
            reg,
            "https://127.0.0.1:80/%2e"
        ));
        assert!(!accepted_variant(
            "{registered}%2e",
            reg,
            "https://127.0.0.1:80/."
        ));
        assert!(!accepted_variant(
            "{registered}%2e",
            reg,
            "https://127.0.0.1:80/%2e/x"
        ));
        assert!(accepted_variant(
            "{scheme}://{host}:{port}@evil.example/",
            reg,
            "https://127.0.0.1:80@evil.example/"
        ));
        assert!(accepted_variant(
            "https://{canary}/cb",
            reg,
            "https://127.0.0.1:41234/cb"
        ));
        assert!(!accepted_variant(
            "https://{canary}/cb",
            reg,
            "https://127.0.0.2:41234/cb"
        ));
        // A regex character in a payload is literal.
        assert!(!accepted_variant(
            "{registered}.evil",
            reg,
            "https://127.0.0.1:80/xevil"
        ));
        assert!(!accepted_variant(
            "{registered_with_query}2",
            reg,
            "https://127.0.0.1:80/2"
        ));
        assert!(accepted_variant(
            "{registered_with_query}2",
            "https://127.0.0.1:80/cb?tenant=acme",
            "https://127.0.0.1:80/cb?tenant=acme2"
        ));
    }
}
