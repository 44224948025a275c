//! Every named fault breaks its rule, and only under that fault: for each fault a probe over real
//! HTTP must see the rule hold on the conformant simulator and see it broken with the fault on.
//! The match in `rule_holds` is exhaustive, so a new fault cannot be added without its probe.

mod support;

use serde_json::json;
use sfmc_oauth_conformance::oauth::encoding::encode;
use sfmc_oauth_conformance::oauth::Pkce;
use sfmc_oauth_conformance::simulator::Fault;
use std::time::Duration;
use support::Sim;

async fn redirect_uri_refused(s: &Sim, uri: &str) -> bool {
    let q = format!(
        "response_type=code&client_id={}&redirect_uri={}&state=x",
        s.web().client_id,
        encode(uri)
    );
    let a = s.get(&format!("/v2/authorize?{q}"), None, None).await;
    a.status == 400 && a.header("location").is_none()
}

async fn is_invalid_grant(s: &Sim, body: serde_json::Value) -> bool {
    let a = s.token(body).await;
    a.status == 400 && a.json()["error"] == "invalid_grant"
}

/// Whether the rule that `fault` breaks holds on `s`.
async fn rule_holds(s: &Sim, fault: Fault) -> bool {
    let web = s.web();
    let public = s.public();
    match fault {
        Fault::RedirectUriPrefixMatch => redirect_uri_refused(s, "https://127.0.0.1:80/evil").await,
        Fault::RedirectUriIgnorePort => redirect_uri_refused(s, "https://127.0.0.1:8443/").await,
        Fault::OpenRedirect => redirect_uri_refused(s, "https://evil.example/").await,
        Fault::StateDropped => {
            let f = s.flow_query(&s.request(&web, "mine").query(), None).await;
            f.answer.location_param("state").as_deref() == Some("mine")
        }
        Fault::StateTruncated => {
            let long = "s".repeat(300);
            let f = s.flow_query(&s.request(&web, &long).query(), None).await;
            f.answer.location_param("state") == Some(long)
        }
        Fault::StateHtmlEscaped => {
            let f = s.flow_query(&s.request(&web, "a&b").query(), None).await;
            f.answer.location_param("state").as_deref() == Some("a&b")
        }
        Fault::StateDoubleEncoded => {
            let f = s.flow_query(&s.request(&web, "a b").query(), None).await;
            f.answer.location_param("state").as_deref() == Some("a b")
        }
        Fault::CodeReusable => {
            let code = s.code(&web, None).await;
            s.token(Sim::redeem_body(&web, &code)).await;
            is_invalid_grant(s, Sim::redeem_body(&web, &code)).await
        }
        Fault::CodeReuseKeepsTokens => {
            let code = s.code(&web, None).await;
            let at = s.token(Sim::redeem_body(&web, &code)).await.json()["access_token"].clone();
            s.token(Sim::redeem_body(&web, &code)).await;
            !s.token_works(at.as_str().unwrap_or_default()).await
        }
        Fault::CodeLifetimeHour => {
            let code = s.code(&web, None).await;
            s.sim.advance_clock(Duration::from_secs(6 * 60));
            is_invalid_grant(s, Sim::redeem_body(&web, &code)).await
        }
        Fault::CodeNotBoundToClient => {
            let code = s.code(&web, None).await;
            let mut b = Sim::redeem_body(&s.integration("web2"), &code);
            b["redirect_uri"] = web.redirect_uris[0].clone().into();
            is_invalid_grant(s, b).await
        }
        Fault::CodeNotBoundToRedirectUri => {
            let code = s.code(&web, None).await;
            let mut b = Sim::redeem_body(&web, &code);
            b["redirect_uri"] = web.redirect_uris[1].clone().into();
            is_invalid_grant(s, b).await
        }
        Fault::PkceIgnored => {
            let pkce = Pkce::s256().unwrap();
            let code = s.code(&public, Some(&pkce)).await;
            let mut b = Sim::redeem_body(&public, &code);
            b["code_verifier"] = Pkce::s256().unwrap().verifier.expose().into();
            is_invalid_grant(s, b).await
        }
        Fault::PkcePlainAccepted => {
            let pkce = Pkce::s256().unwrap();
            let code = s.code(&public, Some(&pkce)).await;
            let mut b = Sim::redeem_body(&public, &code);
            b["code_verifier"] = pkce.challenge.clone().into();
            is_invalid_grant(s, b).await
        }
        Fault::PkceDowngradeAccepted => {
            let code = s.code(&web, None).await;
            let mut b = Sim::redeem_body(&web, &code);
            b["code_verifier"] = Pkce::s256().unwrap().verifier.expose().into();
            is_invalid_grant(s, b).await
        }
        Fault::RefreshNotRotated => {
            let rt = s.web_tokens().await["refresh_token"].clone();
            let next = s
                .token(Sim::refresh_body(&web, rt.as_str().unwrap_or_default()))
                .await
                .json();
            next["refresh_token"].is_string() && next["refresh_token"] != rt
        }
        Fault::RefreshOldStillValid => {
            let rt = s.web_tokens().await["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            s.token(Sim::refresh_body(&web, &rt)).await;
            is_invalid_grant(s, Sim::refresh_body(&web, &rt)).await
        }
        Fault::RefreshNoFamilyRevocation => {
            let rt = s.web_tokens().await["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let next = s.token(Sim::refresh_body(&web, &rt)).await.json();
            s.token(Sim::refresh_body(&web, &rt)).await;
            is_invalid_grant(
                s,
                Sim::refresh_body(&web, next["refresh_token"].as_str().unwrap_or_default()),
            )
            .await
        }
        Fault::SecretNotChecked => {
            let code = s.code(&web, None).await;
            let mut b = Sim::redeem_body(&web, &code);
            b["client_secret"] = "wrong".into();
            s.token(b).await.status == 401
        }
        Fault::NoCacheControl => {
            let code = s.code(&web, None).await;
            s.token(Sim::redeem_body(&web, &code))
                .await
                .header("cache-control")
                .as_deref()
                == Some("no-store")
        }
        Fault::WrongContentType => {
            let code = s.code(&web, None).await;
            let ct = s
                .token(Sim::redeem_body(&web, &code))
                .await
                .header("content-type");
            ct.is_some_and(|c| c.starts_with("application/json"))
        }
        Fault::ErrorWithoutErrorField => {
            s.token(json!({"grant_type": "foo"})).await.json()["error"].is_string()
        }
        Fault::WrongErrorStatus => s.token(json!({"grant_type": "foo"})).await.status == 400,
        Fault::Redirect307 => {
            s.flow_query(&s.request(&web, "x").query(), None)
                .await
                .answer
                .status
                == 302
        }
        Fault::RedirectUriPrefixNoSlash => {
            redirect_uri_refused(s, "https://127.0.0.1:80@evil.example/").await
        }
        Fault::RedirectUriIgnoresQuery => {
            redirect_uri_refused(s, "https://127.0.0.1:80/?next=evil").await
        }
        Fault::RedirectUriNormalized => redirect_uri_refused(s, "HTTPS://127.0.0.1:80/").await,
        Fault::RedirectUriLastWins => {
            let q = format!(
                "{}&redirect_uri=https%3A%2F%2Fevil.example%2F",
                s.request(&web, "x").query()
            );
            !s.flow_query(&q, None)
                .await
                .answer
                .location()
                .contains("evil.example")
        }
        Fault::PkceVerifiedOnlyWhenSent => {
            let pkce = Pkce::s256().unwrap();
            let code = s.code(&public, Some(&pkce)).await;
            is_invalid_grant(s, Sim::redeem_body(&public, &code)).await
        }
        Fault::CodeReuseRevokesRefreshOnly | Fault::CodeReuseRevokesAccessOnly => {
            let code = s.code(&web, None).await;
            let first = s.token(Sim::redeem_body(&web, &code)).await.json();
            s.token(Sim::redeem_body(&web, &code)).await;
            let at = first["access_token"].as_str().unwrap_or_default();
            let rt = first["refresh_token"].as_str().unwrap_or_default();
            !s.token_works(at).await && is_invalid_grant(s, Sim::refresh_body(&web, rt)).await
        }
        Fault::RefreshReplaySparesAccessToken => {
            let rt = s.web_tokens().await["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let next = s.token(Sim::refresh_body(&web, &rt)).await.json();
            s.token(Sim::refresh_body(&web, &rt)).await;
            !s.token_works(next["access_token"].as_str().unwrap_or_default())
                .await
        }
        Fault::RefreshRotatedForConfidentialOnly => {
            let pkce = Pkce::s256().unwrap();
            let code = s.code(&public, Some(&pkce)).await;
            let mut b = Sim::redeem_body(&public, &code);
            b["code_verifier"] = pkce.verifier.expose().into();
            let rt = s.token(b).await.json()["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            s.token(Sim::refresh_body(&public, &rt)).await;
            is_invalid_grant(s, Sim::refresh_body(&public, &rt)).await
        }
        Fault::RefreshGraceWindow => {
            let rt = s.web_tokens().await["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            s.token(Sim::refresh_body(&web, &rt)).await;
            is_invalid_grant(s, Sim::refresh_body(&web, &rt)).await
        }
        Fault::FrameAncestorsStar | Fault::CspMetaOnly => {
            let first = s
                .get(
                    &format!("/v2/authorize?{}", s.request(&web, "x").query()),
                    None,
                    None,
                )
                .await;
            let page = s.get(&first.location(), None, None).await;
            page.header("x-frame-options").as_deref() == Some("DENY")
        }
        Fault::FrameableLogin => {
            let first = s
                .get(
                    &format!("/v2/authorize?{}", s.request(&web, "x").query()),
                    None,
                    None,
                )
                .await;
            let page = s.get(&first.location(), None, None).await;
            page.header("x-frame-options").as_deref() == Some("DENY")
        }
        Fault::BareInstanceUrls => {
            let t = s.web_tokens().await;
            t["rest_instance_url"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://"))
        }
        Fault::ExpiresInString => s.web_tokens().await["expires_in"].is_u64(),
        Fault::EarlyErrorRedirect => {
            let mut r = s.request(&web, "x");
            r.scope = Some(vec!["no_such_scope".into()]);
            let first = s
                .get(&format!("/v2/authorize?{}", r.query()), None, None)
                .await;
            first.location().starts_with("/login?r=")
        }
        Fault::RedirectUriOptional => {
            let q = format!("response_type=code&client_id={}&state=x", web.client_id);
            s.get(&format!("/v2/authorize?{q}"), None, None)
                .await
                .status
                == 400
        }
        Fault::UnknownParameterRejected => {
            let q = format!("{}&foo=bar", s.request(&web, "x").query());
            s.flow_query(&q, None).await.code.is_some()
        }
        Fault::DuplicateParametersAccepted => {
            let q = format!("{}&state=again", s.request(&web, "x").query());
            s.flow_query(&q, None).await.code.is_none()
        }
        Fault::ResponseTypeUnchecked => {
            let mut r = s.request(&web, "x");
            r.response_type = "token".into();
            s.flow_query(&r.query(), None).await.code.is_none()
        }
        Fault::ScopeOrderSensitive => {
            let mut r = s.request(&web, "x");
            r.scope = Some(vec!["email_send".into(), "email_read".into()]);
            s.flow_query(&r.query(), None).await.code.is_some()
        }
        Fault::UnknownClientRedirects => {
            let q = format!(
                "response_type=code&client_id=nobody&redirect_uri={}",
                encode("https://evil.example/")
            );
            s.get(&format!("/v2/authorize?{q}"), None, None)
                .await
                .header("location")
                .is_none()
        }
        Fault::CancelErrorWrong => {
            let first = s
                .get(
                    &format!("/v2/authorize?{}", s.request(&web, "st").query()),
                    None,
                    None,
                )
                .await;
            let id = first.location().trim_start_matches("/login?r=").to_owned();
            let a = s.get(&format!("/login/cancel?r={id}"), None, None).await;
            a.location_param("error").as_deref() == Some("access_denied")
                && a.location_param("state").as_deref() == Some("st")
        }
        Fault::AuthorizePostRefused => {
            let body = s.request(&web, "x").query().into_bytes();
            s.post(
                "/v2/authorize",
                Some("application/x-www-form-urlencoded"),
                body,
            )
            .await
            .status
                == 302
        }
        Fault::EmptyStateAdded => {
            let mut r = s.request(&web, "x");
            r.state = None;
            s.flow_query(&r.query(), None)
                .await
                .answer
                .location_values("state")
                == 0
        }
        Fault::CodeInFragment => !s
            .flow_query(&s.request(&web, "x").query(), None)
            .await
            .answer
            .location()
            .contains('#'),
        Fault::ErrorRedirectExtraParams => {
            let mut r = s.request(&web, "x");
            r.scope = Some(vec!["no_such_scope".into()]);
            s.flow_query(&r.query(), None)
                .await
                .answer
                .location_values("trace")
                == 0
        }
        Fault::ErrorWithoutState => {
            let mut r = s.request(&web, "st");
            r.scope = Some(vec!["no_such_scope".into()]);
            s.flow_query(&r.query(), None)
                .await
                .answer
                .location_param("state")
                .as_deref()
                == Some("st")
        }
        Fault::WrongIss => {
            s.flow_query(&s.request(&web, "x").query(), None)
                .await
                .answer
                .location_values("iss")
                == 0
        }
        Fault::WeakRandomness => s.code(&web, None).await.len() > 32,
        Fault::BadTssd => {
            s.flow_query(&s.request(&web, "x").query(), None)
                .await
                .answer
                .location_values("tssd")
                == 0
        }
        Fault::PkceS256WrongEncoding => {
            let pkce = Pkce::s256().unwrap();
            let code = s.code(&public, Some(&pkce)).await;
            let mut b = Sim::redeem_body(&public, &code);
            b["code_verifier"] = pkce.verifier.expose().into();
            s.token(b).await.status == 200
        }
        Fault::PkceNotRequired => s
            .flow_query(&s.request(&public, "x").query(), None)
            .await
            .code
            .is_none(),
        Fault::VerifierSyntaxUnchecked => {
            let short = "a".repeat(42);
            let pkce = Pkce::from_verifier(&short);
            let code = s.code(&public, Some(&pkce)).await;
            let mut b = Sim::redeem_body(&public, &code);
            b["code_verifier"] = short.into();
            is_invalid_grant(s, b).await
        }
        Fault::PkceMethodUnchecked => {
            let mut r = s.request(&public, "x");
            r.code_challenge = Some((Pkce::s256().unwrap().challenge, "S512".into()));
            s.flow_query(&r.query(), None).await.code.is_none()
        }
        Fault::CodeReuseWindow => {
            let code = s.code(&web, None).await;
            s.token(Sim::redeem_body(&web, &code)).await;
            is_invalid_grant(s, Sim::redeem_body(&web, &code)).await
        }
        Fault::ClientIdOptional => {
            let pkce = Pkce::s256().unwrap();
            let code = s.code(&public, Some(&pkce)).await;
            let mut b = Sim::redeem_body(&public, &code);
            b["code_verifier"] = pkce.verifier.expose().into();
            b.as_object_mut().unwrap().remove("client_id");
            s.token(b).await.status != 200
        }
        Fault::SecretInQueryAccepted => {
            let code = s.code(&web, None).await;
            let mut b = Sim::redeem_body(&web, &code);
            let secret = b.as_object_mut().unwrap().remove("client_secret").unwrap();
            let path = format!(
                "/v2/token?client_secret={}",
                encode(secret.as_str().unwrap_or_default())
            );
            s.post(&path, Some("application/json"), b.to_string().into_bytes())
                .await
                .status
                != 200
        }
        Fault::BasicAuthUnsupported => {
            use base64::Engine as _;
            let code = s.code(&web, None).await;
            let secret = web.client_secret.as_ref().unwrap().expose();
            let basic = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{secret}", web.client_id));
            let body = json!({"grant_type": "authorization_code", "code": code, "redirect_uri": web.redirect_uris[0]});
            let r = s
                .http
                .post(format!("{}/v2/token", s.sim.uri()))
                .header("Content-Type", "application/json")
                .header("Authorization", format!("Basic {basic}"))
                .body(body.to_string())
                .send()
                .await;
            r.is_ok_and(|r| r.status() == 200)
        }
        Fault::ContentTypeUnchecked => {
            let body = json!({"grant_type": "client_credentials"})
                .to_string()
                .into_bytes();
            let a = s.post("/v2/token", Some("text/plain"), body).await;
            a.json()["error_description"]
                .as_str()
                .is_some_and(|d| d.contains("content type"))
        }
        Fault::WrongErrorCode => {
            s.token(json!({"grant_type": "foo"})).await.json()["error"] == "unsupported_grant_type"
        }
        Fault::PasswordGrantAccepted => {
            let u = s.user();
            let secret = web.client_secret.as_ref().unwrap().expose();
            let b = json!({"grant_type": "password", "client_id": web.client_id, "client_secret": secret,
                           "username": u.username, "password": u.password.expose()});
            s.token(b).await.status != 200
        }
        Fault::LongTokens => s.web_tokens().await["access_token"]
            .as_str()
            .is_some_and(|t| t.len() <= 512),
        Fault::AccessTokenNeverExpires => {
            let at = s.web_tokens().await["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            s.sim.advance_clock(Duration::from_secs(1201));
            !s.token_works(&at).await
        }
        Fault::ScopeWidened => {
            let code = s.code(&web, None).await;
            let mut b = Sim::redeem_body(&web, &code);
            b["scope"] = "email_read".into();
            s.token(b).await.json()["scope"] == "email_read"
        }
        Fault::ThrottleOAuthShape => {
            s.sim.set_throttle(true);
            let a = s.token(json!({})).await;
            s.sim.set_throttle(false);
            a.json()["errorcode"] == 50200 && a.header("retry-after").is_some()
        }
        Fault::RefreshReusesAccessToken => {
            let t = s.web_tokens().await;
            let next = s
                .token(Sim::refresh_body(
                    &web,
                    t["refresh_token"].as_str().unwrap_or_default(),
                ))
                .await
                .json();
            next["access_token"] != t["access_token"]
        }
        Fault::RefreshNotBoundToClient => {
            let rt = s.web_tokens().await["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            is_invalid_grant(s, Sim::refresh_body(&s.integration("web2"), &rt)).await
        }
        Fault::RefreshScopeWidening => {
            let rt = s.web_tokens().await["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let mut b = Sim::refresh_body(&web, &rt);
            b["scope"] = "email_read email_write".into();
            s.token(b).await.status == 400
        }
        Fault::RefreshChainLimit => {
            let mut rt = s.web_tokens().await["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            for _ in 0..5 {
                let next = s.token(Sim::refresh_body(&web, &rt)).await;
                if next.status != 200 {
                    return false;
                }
                rt = next.json()["refresh_token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
            }
            true
        }
        Fault::NoReferrerPolicy => {
            let first = s
                .get(
                    &format!("/v2/authorize?{}", s.request(&web, "x").query()),
                    None,
                    None,
                )
                .await;
            s.get(&first.location(), None, None)
                .await
                .header("referrer-policy")
                .is_some()
        }
        Fault::LoginPageThirdParty => {
            let first = s
                .get(
                    &format!("/v2/authorize?{}", s.request(&web, "x").query()),
                    None,
                    None,
                )
                .await;
            !s.get(&first.location(), None, None)
                .await
                .body
                .contains("https://metrics.example.com")
        }
        Fault::LoginCsrfUnchecked => {
            let u = s.user();
            let first = s
                .get(
                    &format!("/v2/authorize?{}", s.request(&web, "x").query()),
                    None,
                    None,
                )
                .await;
            let page = s.get(&first.location(), None, None).await;
            let (r, _) = support::form_fields(&page.body);
            let form = format!(
                "r={r}&username={}&password={}",
                encode(&u.username),
                encode(u.password.expose())
            );
            s.post(
                "/login",
                Some("application/x-www-form-urlencoded"),
                form.into_bytes(),
            )
            .await
            .status
                == 403
        }
        Fault::TokenInQueryAccepted => {
            let at = s.web_tokens().await["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            s.get(
                &format!("/platform/v1/tokenContext?access_token={at}"),
                None,
                None,
            )
            .await
            .status
                == 401
        }
    }
}

#[tokio::test]
async fn each_fault_breaks_its_rule_and_the_conformant_simulator_keeps_it() {
    let mut wrong = Vec::new();
    for &fault in Fault::ALL {
        let conformant = rule_holds(&Sim::start().await, fault).await;
        let faulty = rule_holds(&Sim::with(&[fault]).await, fault).await;
        if !conformant || faulty {
            wrong.push(format!(
                "{fault}: rule holds without the fault: {conformant}, with it: {faulty}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Faults that, besides their own rule, break another fault's rule by their nature: an open
/// redirect turns every refused redirect URI into a redirect; a dropped state cannot be
/// re-encoded; a reusable code keeps its tokens; ignoring PKCE accepts a downgrade; a refresh
/// token that is not rotated, or stays valid, leaves its family alive.
const OVERLAPS: &[(Fault, Fault)] = &[
    // The subtle variants of one rule break each other's probes by their nature: matching
    // redirect URIs more loosely, bending the state, revoking part of a family, framing.
    (
        Fault::RedirectUriPrefixMatch,
        Fault::RedirectUriIgnoresQuery,
    ),
    (Fault::RedirectUriIgnorePort, Fault::RedirectUriNormalized),
    (
        Fault::RedirectUriPrefixNoSlash,
        Fault::RedirectUriPrefixMatch,
    ),
    (
        Fault::RedirectUriPrefixNoSlash,
        Fault::RedirectUriIgnoresQuery,
    ),
    (Fault::OpenRedirect, Fault::RedirectUriPrefixNoSlash),
    (Fault::OpenRedirect, Fault::RedirectUriIgnoresQuery),
    (Fault::OpenRedirect, Fault::RedirectUriNormalized),
    (Fault::StateDoubleEncoded, Fault::StateHtmlEscaped),
    (Fault::CodeReusable, Fault::CodeReuseRevokesRefreshOnly),
    (Fault::CodeReusable, Fault::CodeReuseRevokesAccessOnly),
    (
        Fault::CodeReuseKeepsTokens,
        Fault::CodeReuseRevokesRefreshOnly,
    ),
    (
        Fault::CodeReuseKeepsTokens,
        Fault::CodeReuseRevokesAccessOnly,
    ),
    (
        Fault::CodeReuseRevokesRefreshOnly,
        Fault::CodeReuseKeepsTokens,
    ),
    (
        Fault::CodeReuseRevokesRefreshOnly,
        Fault::CodeReuseRevokesAccessOnly,
    ),
    (
        Fault::CodeReuseRevokesAccessOnly,
        Fault::CodeReuseRevokesRefreshOnly,
    ),
    (Fault::PkceIgnored, Fault::PkceVerifiedOnlyWhenSent),
    (
        Fault::RefreshNotRotated,
        Fault::RefreshReplaySparesAccessToken,
    ),
    (
        Fault::RefreshNotRotated,
        Fault::RefreshRotatedForConfidentialOnly,
    ),
    (Fault::RefreshNotRotated, Fault::RefreshGraceWindow),
    (
        Fault::RefreshOldStillValid,
        Fault::RefreshReplaySparesAccessToken,
    ),
    (
        Fault::RefreshOldStillValid,
        Fault::RefreshRotatedForConfidentialOnly,
    ),
    (Fault::RefreshOldStillValid, Fault::RefreshGraceWindow),
    (
        Fault::RefreshNoFamilyRevocation,
        Fault::RefreshReplaySparesAccessToken,
    ),
    (Fault::RefreshGraceWindow, Fault::RefreshOldStillValid),
    (Fault::RefreshGraceWindow, Fault::RefreshNoFamilyRevocation),
    (
        Fault::RefreshGraceWindow,
        Fault::RefreshReplaySparesAccessToken,
    ),
    (
        Fault::RefreshGraceWindow,
        Fault::RefreshRotatedForConfidentialOnly,
    ),
    (Fault::FrameableLogin, Fault::FrameAncestorsStar),
    (Fault::FrameableLogin, Fault::CspMetaOnly),
    (Fault::FrameAncestorsStar, Fault::FrameableLogin),
    (Fault::FrameAncestorsStar, Fault::CspMetaOnly),
    (Fault::CspMetaOnly, Fault::FrameableLogin),
    (Fault::CspMetaOnly, Fault::FrameAncestorsStar),
    (Fault::CodeReuseWindow, Fault::CodeReuseRevokesRefreshOnly),
    (Fault::CodeReuseWindow, Fault::CodeReuseRevokesAccessOnly),
    (Fault::OpenRedirect, Fault::RedirectUriPrefixMatch),
    (Fault::OpenRedirect, Fault::RedirectUriIgnorePort),
    (Fault::StateDropped, Fault::StateTruncated),
    (Fault::StateDropped, Fault::StateHtmlEscaped),
    (Fault::StateDropped, Fault::StateDoubleEncoded),
    (Fault::CodeReusable, Fault::CodeReuseKeepsTokens),
    (Fault::PkceIgnored, Fault::PkceDowngradeAccepted),
    (Fault::PkceIgnored, Fault::PkcePlainAccepted),
    (Fault::RefreshNotRotated, Fault::RefreshNoFamilyRevocation),
    (
        Fault::RefreshOldStillValid,
        Fault::RefreshNoFamilyRevocation,
    ),
    (Fault::RefreshNotRotated, Fault::RefreshOldStillValid),
    (Fault::CodeReusable, Fault::CodeReuseWindow),
    (Fault::CodeReuseWindow, Fault::CodeReusable),
    (Fault::CodeReuseWindow, Fault::CodeReuseKeepsTokens),
    (Fault::PkceIgnored, Fault::VerifierSyntaxUnchecked),
    (Fault::ErrorWithoutState, Fault::CancelErrorWrong),
    (Fault::ScopeWidened, Fault::RefreshScopeWidening),
];

/// Faults that bend every token error, so every probe that reads an error code sees them.
const ERROR_SHAPE: &[Fault] = &[Fault::ErrorWithoutErrorField, Fault::WrongErrorStatus];

#[tokio::test]
async fn a_fault_breaks_no_other_rule_but_the_known_overlaps() {
    let mut seen = Vec::new();
    for &fault in Fault::ALL {
        let s = Sim::with(&[fault]).await;
        for &other in Fault::ALL.iter().filter(|o| **o != fault) {
            if !rule_holds(&s, other).await {
                seen.push((fault, other));
            }
        }
    }
    let unexpected: Vec<_> = seen
        .iter()
        .filter(|p| !OVERLAPS.contains(p) && !ERROR_SHAPE.contains(&p.0))
        .collect();
    let missing: Vec<_> = OVERLAPS.iter().filter(|p| !seen.contains(p)).collect();
    assert!(
        unexpected.is_empty(),
        "faults breaking other rules: {unexpected:?}"
    );
    assert!(
        missing.is_empty(),
        "overlaps that no longer happen (update the table): {missing:?}"
    );
}
