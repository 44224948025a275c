//! `sfmc-conformance doctor --target FILE`: is this target ready for a run? One line per check, ✔
//! or ✘ with the fix, in order: the file parses and validates; every named environment variable is
//! set (values are never printed); each host resolves, and speaks TLS 1.2 or later with a valid
//! certificate (or is loopback); the authorization endpoint answers; the token endpoint answers
//! an empty request with an OAuth error; the login script reaches the redirect URI through the
//! browser (with a screenshot); each app's code exchange works. It stops at the first ✘: exit 1
//! for the configuration, 3 for the environment, 0 when ready.

use crate::browser::{driver, BrowserConfig, BrowserPool, ChromeDriver};
use crate::exit;
use crate::http::{HttpCall, TokenClient};
use crate::oauth::authorize::{AuthorizationResponse, State};
use crate::oauth::{AuthorizeRequest, Pkce, TokenRequest};
use crate::secret::Secret;
use crate::target::file::{is_loopback, TargetFile};
use crate::target::{App, Target};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use url::Url;

/// Where the browser comes from, and where the screenshot goes.
#[derive(Debug, Clone)]
pub struct DoctorConfig {
    pub target: PathBuf,
    pub chromedriver: Option<PathBuf>,
    pub chrome: PathBuf,
    pub webdriver: Option<String>,
    /// A persistent Chromium profile (`--browser-profile`).
    pub profile: Option<PathBuf>,
    /// The folder the login screenshot is written to.
    pub out: PathBuf,
}

fn ok(what: impl std::fmt::Display) {
    crate::say!("✔ {what}");
}

fn fail(what: impl std::fmt::Display, fix: impl std::fmt::Display, code: u8) -> u8 {
    crate::say!("✘ {what}\n  fix: {fix}");
    code
}

/// Runs every check and returns the exit code.
pub async fn doctor(config: &DoctorConfig) -> u8 {
    // 1 and 2: the file, and the environment variables it names (all of them, not the first).
    let missing = RefCell::new(Vec::<String>::new());
    let lookup = |var: &str| match std::env::var(var) {
        Ok(v) => Some(v),
        Err(_) => {
            missing.borrow_mut().push(var.to_owned());
            // A stand-in, so that every unset variable is found in one pass; never used.
            Some("unset".into())
        }
    };
    let file = match TargetFile::load(&config.target, &lookup) {
        Ok(f) => f,
        Err(e) => {
            return fail(
                format!("the target file: {e}"),
                "correct the file",
                exit::USAGE,
            )
        }
    };
    ok(format!("{} parses and validates", config.target.display()));
    let mut missing = missing.into_inner();
    let mut seen = std::collections::HashSet::new();
    missing.retain(|v| seen.insert(v.clone()));
    if !missing.is_empty() {
        return fail(
            format!("environment variables not set: {}", missing.join(", ")),
            "export each one (the values are secrets: never written in the file)",
            exit::USAGE,
        );
    }
    ok("every environment variable the file names is set");
    let target = file.target;
    let http = match TokenClient::new(target.loopback_only) {
        Ok(h) => h,
        Err(e) => return fail(e, "see the cause", exit::ENVIRONMENT),
    };
    // 3: DNS and TLS for each host.
    let mut hosts: Vec<&Url> = vec![&target.authorize_endpoint, &target.token_endpoint];
    hosts.extend(target.rest_probe.as_ref());
    hosts.extend(target.logout_url.as_ref());
    hosts.dedup_by_key(|u| u.origin().ascii_serialization());
    for u in hosts {
        if let Err((what, fix)) = check_host(&http, u).await {
            return fail(what, fix, exit::ENVIRONMENT);
        }
    }
    // 4: the authorization endpoint answers.
    let get = HttpCall::get();
    match http.send(&target.authorize_endpoint, &get).await {
        Ok(a) => ok(format!(
            "the authorization endpoint answers (HTTP {} without parameters)",
            a.status
        )),
        Err(e) => {
            return fail(
                e,
                "check authorize_endpoint (or subdomain), and that the server runs",
                exit::ENVIRONMENT,
            )
        }
    }
    // 5: the token endpoint answers an empty request with an OAuth error.
    let empty = HttpCall::token_fields(Default::default(), target.token_style, []);
    match http.send(&target.token_endpoint, &empty).await {
        Ok(a) if a.redacted_json().is_some_and(|v| v.get("error").is_some()) => ok(format!(
            "the token endpoint answers an empty request with an OAuth error (HTTP {})",
            a.status
        )),
        Ok(a) => {
            return fail(
                format!(
                "the token endpoint answered an empty request with HTTP {} and no OAuth `error`",
                a.status
            ),
                "check token_endpoint: it should be the server's /v2/token",
                exit::ENVIRONMENT,
            )
        }
        Err(e) => {
            return fail(
                e,
                "check token_endpoint (or subdomain), and that the server runs",
                exit::ENVIRONMENT,
            )
        }
    }
    // 6 and 7: sign in through the browser, then redeem a code for each app.
    match browser_checks(config, &target, &http).await {
        Ok(()) => {
            crate::say!(
                "ready: sfmc-conformance run --target {}",
                config.target.display()
            );
            exit::SUCCESS
        }
        Err((what, fix)) => fail(what, fix, exit::ENVIRONMENT),
    }
}

type Problem = (String, String);

async fn check_host(http: &TokenClient, u: &Url) -> Result<(), Problem> {
    let host = u.host_str().unwrap_or_default().to_owned();
    if is_loopback(u) {
        ok(format!("{host}: loopback (no DNS, TLS not required)"));
        return Ok(());
    }
    let port = u.port_or_known_default().unwrap_or(443);
    let resolved = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio::net::lookup_host((host.as_str(), port)),
    )
    .await;
    match resolved.map(|r| r.map(|mut addrs| addrs.next().is_some())) {
        Ok(Ok(true)) => {}
        _ => {
            return Err((
                format!("{host} does not resolve"),
                "check the host name (subdomain, endpoints) and this machine's DNS".into(),
            ))
        }
    }
    // The client speaks only TLS 1.2 and 1.3 and verifies certificates: any answer proves both.
    let mut origin = u.clone();
    origin.set_path("/");
    origin.set_query(None);
    let get = HttpCall::get();
    match http.send(&origin, &get).await {
        Ok(_) => {
            ok(format!(
                "{host}: resolves; TLS 1.2 or later with a valid certificate"
            ));
            Ok(())
        }
        Err(e) => Err((
            format!("{host}: no TLS 1.2+ answer with a valid certificate: {e}"),
            "check the endpoint's scheme and certificate".into(),
        )),
    }
}

async fn browser_checks(
    config: &DoctorConfig,
    target: &Target,
    http: &TokenClient,
) -> Result<(), Problem> {
    let mut chromedriver = None;
    let url = match &config.webdriver {
        Some(u) => u.clone(),
        None => {
            let start = async {
                if !config.chrome.is_file() {
                    return Err(driver::DriverError::NoBrowser(
                        config.chrome.display().to_string(),
                    ));
                }
                let binary = driver::locate(config.chromedriver.as_deref())?;
                ChromeDriver::start(&binary).await
            };
            let d = start.await.map_err(|e| {
                (
                    e.to_string(),
                    "install Debian's chromium and chromium-driver".into(),
                )
            })?;
            let url = d.url();
            chromedriver = Some(d);
            url
        }
    };
    let (routes, hosts) = crate::catcher::target_routes(target);
    let catcher = crate::catcher::Catcher::start(&hosts).await.map_err(|e| {
        (
            e.to_string(),
            "check that a loopback port can be opened".to_owned(),
        )
    })?;
    let pool = BrowserPool::new(BrowserConfig {
        webdriver_url: url,
        chrome: config.chrome.clone(),
        loopback_only: target.loopback_only,
        catcher: Some(catcher.browser_routes(&routes)),
        only_hosts: crate::catcher::target_hosts(target),
        profile: config.profile.clone(),
        page_load: crate::timeouts::Timeouts::default().page_load,
    });
    let result = sign_in_and_redeem(config, target, http, &pool).await;
    pool.close_all().await;
    if let Some(mut d) = chromedriver {
        d.stop().await;
    }
    result
}

/// Authorizes `app` in the browser (signing in if asked) and redeems the code.
async fn sign_in_and_redeem(
    config: &DoctorConfig,
    target: &Target,
    http: &TokenClient,
    pool: &BrowserPool,
) -> Result<(), Problem> {
    let browser = pool
        .acquire()
        .await
        .map_err(|e| (e.to_string(), "check Chromium and ChromeDriver".into()))?;
    let mut signed_in = false;
    for app in [&target.web_app, &target.public_app] {
        let pkce = Pkce::s256().map_err(|e| (e.to_string(), "see the cause".into()))?;
        let mut req = AuthorizeRequest::code(&app.client_id, &app.redirect_uri);
        req.scope = Some(app.scopes.clone());
        req.state = Some(State::Generated(crate::random::alnum(16, true)));
        req.code_challenge = Some((pkce.challenge.clone(), "S256".into()));
        let steps = async {
            browser.open(&req.url(&target.authorize_endpoint)).await?;
            browser
                .sign_in_if_asked(&target.login, &target.user, &app.redirect_uri)
                .await
                .map(|signed| signed.landed)
        };
        let landed = match steps.await {
            Ok(l) => l,
            Err(e) => {
                let shot = screenshot(&browser, &config.out).await;
                return Err((
                    format!("the login script did not get through: {e}"),
                    format!("check [login] in the target file against the page{shot}"),
                ));
            }
        };
        let response = AuthorizationResponse::parse(&landed);
        if !response.is_at(&app.redirect_uri) || response.code.len() != 1 {
            let shot = screenshot(&browser, &config.out).await;
            return Err((
                format!(
                    "the {} did not reach its redirect URI with a code (the browser is at {})",
                    app.kind,
                    response.page()
                ),
                format!("check the app's client_id, redirect_uri and scopes, and the login script{shot}"),
            ));
        }
        if !signed_in {
            let shot = screenshot(&browser, &config.out).await;
            ok(format!(
                "the login script reaches the redirect URI through the browser{shot}"
            ));
            signed_in = true;
        }
        redeem(target, http, app, &response, &pkce).await?;
    }
    browser.close().await;
    Ok(())
}

async fn redeem(
    target: &Target,
    http: &TokenClient,
    app: &App,
    response: &AuthorizationResponse,
    pkce: &Pkce,
) -> Result<(), Problem> {
    let code = Secret::new("Code", response.code[0].text());
    let mut req = TokenRequest::authorization_code(code, &app.client_id, &app.redirect_uri);
    req.client_secret = app.client_secret.clone();
    req.code_verifier = Some(pkce.verifier.clone());
    req.scope = target.exchange_scope(&app.scopes);
    let answer = http
        .token(&target.token_endpoint, &req, target.token_style)
        .await
        .map_err(|e| (e.to_string(), "check that the server runs".into()))?;
    let has_token = answer
        .tokens()
        .and_then(|t| t.access_token)
        .is_some_and(|t| !t.expose().is_empty());
    if answer.status == 200 && has_token {
        ok(format!("the {}'s code exchange works", app.kind));
        Ok(())
    } else {
        Err((
            format!(
                "the {}'s code exchange answered HTTP {}: {}",
                app.kind,
                answer.status,
                answer.redacted_text.chars().take(200).collect::<String>()
            ),
            "check the app's client_id, its secret's variable, redirect_uri and scopes".into(),
        ))
    }
}

/// Saves a screenshot of the page; ` (screenshot: PATH)`, or nothing if none could be taken.
async fn screenshot(browser: &crate::browser::Browser, dir: &Path) -> String {
    let Ok(png) = browser.screenshot().await else {
        return String::new();
    };
    let (stamp, _) = crate::report::utc_now();
    let path = dir.join(format!("doctor-{stamp}.png"));
    if std::fs::create_dir_all(dir).is_err() || std::fs::write(&path, png).is_err() {
        return String::new();
    }
    format!(" (screenshot: {})", path.display())
}
