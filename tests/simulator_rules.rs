//! The simulator's rules over real HTTP: what Marketing Cloud documents, and RFC 6749 / 7636 /
//! RFC 9700 where it is silent.

mod support;

use serde_json::{json, Value};
use sfmc_oauth_conformance::oauth::encoding::encode;
use sfmc_oauth_conformance::oauth::Pkce;
use sfmc_oauth_conformance::simulator::registry::Registry;
use sfmc_oauth_conformance::simulator::{Faults, SimConfig};
use std::time::Duration;
use support::{assert_token_error, form_fields, Sim};

// ---- /v2/authorize ----

#[tokio::test]
async fn an_unknown_client_gets_an_error_page_not_a_redirect() {
    let s = Sim::start().await;
    let a = s
        .get("/v2/authorize?response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2F127.0.0.1%3A80%2F&state=x", None, None)
        .await;
    assert_eq!(a.status, 400);
    assert!(a.header("location").is_none());
    assert!(a.body.contains("invalid_client"), "{}", a.body);
}

#[tokio::test]
async fn an_unregistered_redirect_uri_gets_an_error_page_not_a_redirect() {
    let s = Sim::start().await;
    let web = s.web();
    for uri in [
        "https://evil.example/",
        "https://127.0.0.1:80/evil",
        "https://127.0.0.1:8443/",
        "https://127.0.0.1:80",
        "http://127.0.0.1:80/",
        "HTTPS://127.0.0.1:80/",
        "https://127.0.0.1:80/?extra=1",
        "https://127.0.0.1:80/#frag",
        "javascript:alert(1)",
    ] {
        let q = format!(
            "response_type=code&client_id={}&redirect_uri={}&state=x",
            web.client_id,
            encode(uri)
        );
        let a = s.get(&format!("/v2/authorize?{q}"), None, None).await;
        assert_eq!(a.status, 400, "{uri}: {a:?}");
        assert!(a.header("location").is_none(), "{uri} redirected");
    }
}

#[tokio::test]
async fn missing_or_repeated_client_id_and_redirect_uri_get_error_pages() {
    let s = Sim::start().await;
    let web = s.web();
    let r = encode(&web.redirect_uris[0]);
    for q in [
        format!("response_type=code&client_id={}", web.client_id),
        format!("response_type=code&redirect_uri={r}"),
        format!(
            "response_type=code&client_id={0}&client_id={0}&redirect_uri={r}",
            web.client_id
        ),
        format!(
            "response_type=code&client_id={}&redirect_uri={r}&redirect_uri={r}",
            web.client_id
        ),
    ] {
        let a = s.get(&format!("/v2/authorize?{q}"), None, None).await;
        assert_eq!(a.status, 400, "{q}");
        assert!(a.header("location").is_none(), "{q}");
    }
}

#[tokio::test]
async fn the_login_page_refuses_framing() {
    let s = Sim::start().await;
    let first = s
        .get(
            &format!("/v2/authorize?{}", s.request(&s.web(), "x").query()),
            None,
            None,
        )
        .await;
    assert_eq!(first.status, 302);
    assert_eq!(first.header("x-frame-options").as_deref(), Some("DENY"));
    let page = s.get(&first.location(), None, None).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(
        page.header("content-security-policy").as_deref(),
        Some("frame-ancestors 'none'")
    );
    assert!(page.body.contains(r#"<form id="login""#));
    assert!(page.body.contains(r#"name="csrf""#));
}

#[tokio::test]
async fn after_login_the_browser_goes_back_with_302_a_code_and_the_exact_state() {
    let s = Sim::start().await;
    let state = "a b&c=d+e/f?g%h#i\"'<>\\";
    let f = s
        .flow_query(&s.request(&s.web(), state).query(), None)
        .await;
    assert_eq!(f.answer.status, 302);
    let loc = f.answer.location();
    assert!(loc.starts_with("https://127.0.0.1:80/?code="), "{loc}");
    assert_eq!(f.answer.location_param("state").as_deref(), Some(state));
    assert!(!loc.contains('+') || loc.contains("%2B"), "{loc}");
    let code = f.code.expect("a code");
    assert!(code.len() <= 512);
    assert_eq!(f.answer.location_values("code"), 1);
}

#[tokio::test]
async fn every_printable_ascii_state_round_trips_at_4_kb() {
    let s = Sim::start().await;
    let printable: String = (0x20u8..=0x7e).map(char::from).collect();
    let state = printable.repeat(4096 / printable.len() + 1)[..4096].to_owned();
    let f = s
        .flow_query(&s.request(&s.web(), &state).query(), None)
        .await;
    assert_eq!(
        f.answer.location_param("state").as_deref(),
        Some(state.as_str())
    );
}

#[tokio::test]
async fn a_registered_query_is_kept_when_the_code_is_appended() {
    let s = Sim::start().await;
    let web = s.web();
    let mut r = s.request(&web, "x");
    r.redirect_uri = "https://127.0.0.1:80/cb?tenant=acme".into();
    let f = s.flow_query(&r.query(), None).await;
    assert!(
        f.answer
            .location()
            .starts_with("https://127.0.0.1:80/cb?tenant=acme&code="),
        "{:?}",
        f.answer
    );
}

#[tokio::test]
async fn a_live_login_session_skips_the_login_page() {
    let s = Sim::start().await;
    let first = s
        .flow_query(&s.request(&s.web(), "one").query(), None)
        .await;
    assert!(first.saw_login_page);
    let cookie = first.session_cookie.expect("a session cookie");
    let second = s
        .flow_query(&s.request(&s.web(), "two").query(), Some(&cookie))
        .await;
    assert!(!second.saw_login_page);
    assert_eq!(
        second.answer.location_param("state").as_deref(),
        Some("two")
    );
    assert!(second.code.is_some());
}

#[tokio::test]
async fn a_login_session_ends_after_12_idle_hours() {
    let s = Sim::start().await;
    let first = s
        .flow_query(&s.request(&s.web(), "one").query(), None)
        .await;
    let cookie = first.session_cookie.expect("a session cookie");
    // Used within 12 hours, it lives on from its last use.
    s.sim.advance_clock(Duration::from_secs(11 * 3600));
    let used = s
        .flow_query(&s.request(&s.web(), "two").query(), Some(&cookie))
        .await;
    assert!(!used.saw_login_page);
    s.sim.advance_clock(Duration::from_secs(11 * 3600));
    let again = s
        .flow_query(&s.request(&s.web(), "three").query(), Some(&cookie))
        .await;
    assert!(!again.saw_login_page, "11 hours after its last use");
    s.sim.advance_clock(Duration::from_secs(12 * 3600 + 1));
    let late = s
        .flow_query(&s.request(&s.web(), "four").query(), Some(&cookie))
        .await;
    assert!(late.saw_login_page, "12 idle hours end it");
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_and_a_forged_form_is_refused() {
    let s = Sim::start().await;
    let user = s.user();
    let f = s
        .flow_as(
            &s.request(&s.web(), "x").query(),
            None,
            &user.username,
            "wrong",
        )
        .await;
    assert_eq!(f.answer.status, 200);
    assert!(f.answer.body.contains("not correct"));
    assert!(f.code.is_none());

    let first = s
        .get(
            &format!("/v2/authorize?{}", s.request(&s.web(), "x").query()),
            None,
            None,
        )
        .await;
    let page = s.get(&first.location(), None, None).await;
    let (r, _) = form_fields(&page.body);
    let forged = format!(
        "r={r}&csrf=forged&username={}&password={}",
        encode(&user.username),
        encode(user.password.expose())
    );
    let a = s
        .post(
            "/login",
            Some("application/x-www-form-urlencoded"),
            forged.into_bytes(),
        )
        .await;
    assert_eq!(a.status, 403);
    assert!(a.header("location").is_none());
}

#[tokio::test]
async fn a_user_with_a_verification_code_is_asked_for_it() {
    let s = Sim::start().await;
    let mfa = s
        .sim
        .registry()
        .users
        .iter()
        .find(|u| u.totp_seed.is_some())
        .cloned()
        .expect("an MFA user");
    let f = s
        .flow_as(
            &s.request(&s.web(), "x").query(),
            None,
            &mfa.username,
            mfa.password.expose(),
        )
        .await;
    assert_eq!(f.answer.status, 200);
    assert!(f.answer.body.contains(r#"<form id="verify""#));
    let (r, csrf) = form_fields(&f.answer.body);
    let post = |code: String| format!("r={r}&csrf={csrf}&code={code}").into_bytes();
    let wrong = s
        .post(
            "/login/verify",
            Some("application/x-www-form-urlencoded"),
            post("000000x".into()),
        )
        .await;
    assert_eq!(wrong.status, 200);
    let seed = mfa.totp_seed.clone().expect("a seed");
    let code = sfmc_oauth_conformance::totp::code_now(&seed).expect("a code");
    let ok = s
        .post(
            "/login/verify",
            Some("application/x-www-form-urlencoded"),
            post(code.expose().to_owned()),
        )
        .await;
    assert_eq!(ok.status, 302, "{ok:?}");
    assert!(ok.location_param("code").is_some());
}

#[tokio::test]
async fn cancelling_returns_access_denied_with_the_state() {
    let s = Sim::start().await;
    let first = s
        .get(
            &format!("/v2/authorize?{}", s.request(&s.web(), "keep me").query()),
            None,
            None,
        )
        .await;
    let id = first.location().trim_start_matches("/login?r=").to_owned();
    let a = s.get(&format!("/login/cancel?r={id}"), None, None).await;
    assert_eq!(a.status, 302);
    assert_eq!(a.location_param("error").as_deref(), Some("access_denied"));
    assert_eq!(a.location_param("state").as_deref(), Some("keep me"));
}

#[tokio::test]
async fn request_errors_redirect_with_state_only_after_the_user_signs_in() {
    let s = Sim::start().await;
    let web = s.web();
    let mut bad_scope = s.request(&web, "st");
    bad_scope.scope = Some(vec!["no_such_scope".into()]);
    let mut implicit = s.request(&web, "st");
    implicit.response_type = "token".into();
    let mut plain = s.request(&web, "st");
    plain.code_challenge = Some(("a".repeat(43), "plain".into()));
    let dup_state = format!("{}&state=again", s.request(&web, "st").query());
    for (query, error) in [
        (bad_scope.query(), "invalid_scope"),
        (implicit.query(), "unsupported_response_type"),
        (plain.query(), "invalid_request"),
        (dup_state, "invalid_request"),
    ] {
        let first = s.get(&format!("/v2/authorize?{query}"), None, None).await;
        assert!(
            first.location().starts_with("/login?r="),
            "{error}: redirected before login: {first:?}"
        );
        let f = s.flow_query(&query, None).await;
        assert_eq!(
            f.answer.location_param("error").as_deref(),
            Some(error),
            "{query}"
        );
        assert_eq!(f.answer.location_param("state").as_deref(), Some("st"));
        assert!(f.answer.location_param("error_description").is_some());
        assert_eq!(
            f.answer.location_param("error_uri").as_deref(),
            Some("https://developer.salesforce.com/docs")
        );
        assert!(f.code.is_none());
    }
}

#[tokio::test]
async fn a_public_app_must_send_a_code_challenge() {
    let s = Sim::start().await;
    let f = s
        .flow_query(&s.request(&s.public(), "p").query(), None)
        .await;
    assert_eq!(
        f.answer.location_param("error").as_deref(),
        Some("invalid_request")
    );
    let pkce = Pkce::s256().unwrap();
    assert!(!s.code(&s.public(), Some(&pkce)).await.is_empty());
}

#[tokio::test]
async fn a_server_to_server_integration_cannot_use_the_authorization_code_grant() {
    let s = Sim::start().await;
    let s2s = s.integration("server");
    let q = format!(
        "response_type=code&client_id={}&redirect_uri={}",
        s2s.client_id,
        encode("https://127.0.0.1:80/")
    );
    let a = s.get(&format!("/v2/authorize?{q}"), None, None).await;
    assert_eq!(
        a.status, 400,
        "no registered redirect URI, so an error page"
    );
}

#[tokio::test]
async fn appexchange_apps_get_tssd() {
    let toml = r#"
        subdomain = "mc563885gzs27c5t9-63k636ttgm"
        [[integration]]
        name = "partner"
        kind = "web"
        client_id = "partner0000000000000000a"
        client_secret = "partner-secret-value-0001"
        redirect_uris = ["https://127.0.0.1:80/"]
        scopes = ["email_read", "email_send"]
        appexchange = true
        [[integration]]
        name = "public"
        kind = "public"
        client_id = "public00000000000000000a"
        redirect_uris = ["https://127.0.0.1:80/p"]
        scopes = ["email_read"]
        [[user]]
        username = "u@example.com"
        password = "pw-0001"
    "#;
    let registry = Registry::from_toml("partner.toml", toml).expect("valid");
    let s = Sim::config(SimConfig {
        registry,
        faults: Faults::none(),
        variations: Vec::new(),
    })
    .await;
    let f = s
        .flow_query(&s.request(&s.integration("partner"), "t").query(), None)
        .await;
    assert_eq!(
        f.answer.location_param("tssd").as_deref(),
        Some("mc563885gzs27c5t9-63k636ttgm")
    );
}

#[tokio::test]
async fn authorize_by_post_works_too() {
    let s = Sim::start().await;
    let a = s
        .post(
            "/v2/authorize",
            Some("application/x-www-form-urlencoded"),
            s.request(&s.web(), "x").query().into_bytes(),
        )
        .await;
    assert_eq!(a.status, 302);
    assert!(a.location().starts_with("/login?r="));
}

// ---- /v2/token ----

#[tokio::test]
async fn a_web_app_redeems_its_code_with_json() {
    let s = Sim::start().await;
    let web = s.web();
    let code = s.code(&web, None).await;
    let a = s.token(Sim::redeem_body(&web, &code)).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert!(a
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(a.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(a.header("pragma").as_deref(), Some("no-cache"));
    let v = a.json();
    assert_eq!(v["access_token"].as_str().unwrap().len(), 512);
    assert_eq!(v["refresh_token"].as_str().unwrap().len(), 512);
    assert_eq!(v["expires_in"], 1200);
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["scope"], "email_read email_send offline");
    let sub = &s.sim.registry().subdomain;
    assert_eq!(
        v["rest_instance_url"],
        format!("https://{sub}.rest.marketingcloudapis.com/")
    );
    assert_eq!(
        v["soap_instance_url"],
        format!("https://{sub}.soap.marketingcloudapis.com/")
    );
}

#[tokio::test]
async fn a_form_body_and_http_basic_are_accepted() {
    let s = Sim::start().await;
    let web = s.web();
    let code = s.code(&web, None).await;
    let form = format!(
        "grant_type=authorization_code&code={}&client_id={}&client_secret={}&redirect_uri={}",
        encode(&code),
        web.client_id,
        encode(web.client_secret.as_ref().unwrap().expose()),
        encode(&web.redirect_uris[0])
    );
    let a = s
        .post(
            "/v2/token",
            Some("application/x-www-form-urlencoded"),
            form.into_bytes(),
        )
        .await;
    assert_eq!(a.status, 200, "{a:?}");

    let code = s.code(&web, None).await;
    let basic = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            web.client_id,
            web.client_secret.as_ref().unwrap().expose()
        ))
    };
    let body = json!({"grant_type": "authorization_code", "code": code, "redirect_uri": web.redirect_uris[0]});
    let a = s
        .http
        .post(format!("{}/v2/token", s.sim.uri()))
        .header("Content-Type", "application/json")
        .header("Authorization", format!("Basic {basic}"))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 200);
    let wrong = s
        .http
        .post(format!("{}/v2/token", s.sim.uri()))
        .header("Content-Type", "application/json")
        .header(
            "Authorization",
            "Basic dnF3eXN3cmx6emZrMDI0aXZyNjgyZXNiOndyb25n",
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get("www-authenticate").is_some());
}

#[tokio::test]
async fn client_authentication_errors_use_marketing_clouds_descriptions() {
    let s = Sim::start().await;
    let web = s.web();
    let code = s.code(&web, None).await;
    let mut body = Sim::redeem_body(&web, &code);
    body["client_secret"] = "wrong".into();
    let a = s.token(body.clone()).await;
    assert_token_error(&a, 401, "invalid_client");
    assert!(a.json()["error_description"]
        .as_str()
        .unwrap()
        .starts_with("Client authentication failed."));
    body["client_id"] = "nobody".into();
    let a = s.token(body.clone()).await;
    assert_token_error(&a, 401, "invalid_client");
    assert!(a.json()["error_description"]
        .as_str()
        .unwrap()
        .starts_with("Invalid client ID."));
    body.as_object_mut().unwrap().remove("client_secret");
    body["client_id"] = web.client_id.clone().into();
    assert_token_error(&s.token(body).await, 401, "invalid_client");
}

#[tokio::test]
async fn a_code_is_single_use_and_its_reuse_revokes_the_first_tokens() {
    let s = Sim::start().await;
    let web = s.web();
    let code = s.code(&web, None).await;
    let first = s.token(Sim::redeem_body(&web, &code)).await.json();
    let at = first["access_token"].as_str().unwrap();
    assert!(s.token_works(at).await);
    assert_token_error(
        &s.token(Sim::redeem_body(&web, &code)).await,
        400,
        "invalid_grant",
    );
    assert!(
        !s.token_works(at).await,
        "the first access token survived the code's reuse"
    );
    let rt = first["refresh_token"].as_str().unwrap();
    assert_token_error(
        &s.token(Sim::refresh_body(&web, rt)).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn a_code_expires_after_5_minutes() {
    let s = Sim::start().await;
    let web = s.web();
    let young = s.code(&web, None).await;
    let old = s.code(&web, None).await;
    s.sim.advance_clock(Duration::from_secs(4 * 60 + 50));
    assert_eq!(s.token(Sim::redeem_body(&web, &young)).await.status, 200);
    s.sim.advance_clock(Duration::from_secs(11));
    assert_token_error(
        &s.token(Sim::redeem_body(&web, &old)).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn a_code_is_bound_to_its_client_and_its_redirect_uri() {
    let s = Sim::start().await;
    let web = s.web();
    let web2 = s.integration("web2");
    let code = s.code(&web, None).await;
    let mut other = Sim::redeem_body(&web2, &code);
    other["redirect_uri"] = web.redirect_uris[0].clone().into();
    assert_token_error(&s.token(other).await, 400, "invalid_grant");
    for redirect in [
        json!("https://127.0.0.1:80/cb?tenant=acme"),
        json!("https%3A%2F%2F127.0.0.1%3A80%2F"),
        json!("https://127.0.0.1:80"),
    ] {
        let code = s.code(&web, None).await;
        let mut b = Sim::redeem_body(&web, &code);
        b["redirect_uri"] = redirect.clone();
        assert_token_error(&s.token(b).await, 400, "invalid_grant");
    }
    let code = s.code(&web, None).await;
    let mut b = Sim::redeem_body(&web, &code);
    b.as_object_mut().unwrap().remove("redirect_uri");
    assert_token_error(&s.token(b).await, 400, "invalid_request");
}

#[tokio::test]
async fn pkce_is_verified_with_the_downgrade_rules() {
    let s = Sim::start().await;
    let public = s.public();
    let web = s.web();
    let pkce = Pkce::s256().unwrap();
    let redeem = |code: &str,
                  verifier: Option<&str>,
                  app: &sfmc_oauth_conformance::simulator::registry::Integration| {
        let mut b = Sim::redeem_body(app, code);
        if let Some(v) = verifier {
            b["code_verifier"] = v.into();
        }
        b
    };
    // Right verifier.
    let code = s.code(&public, Some(&pkce)).await;
    assert_eq!(
        s.token(redeem(&code, Some(pkce.verifier.expose()), &public))
            .await
            .status,
        200
    );
    // Wrong, missing, the challenge itself, malformed.
    let other = Pkce::s256().unwrap();
    for v in [
        Some(other.verifier.expose()),
        None,
        Some(pkce.challenge.as_str()),
        Some("short"),
    ] {
        let code = s.code(&public, Some(&pkce)).await;
        assert_token_error(
            &s.token(redeem(&code, v, &public)).await,
            400,
            "invalid_grant",
        );
    }
    // A verifier for a code requested without a challenge (RFC 9700 §4.8.2).
    let code = s.code(&web, None).await;
    assert_token_error(
        &s.token(redeem(&code, Some(pkce.verifier.expose()), &web))
            .await,
        400,
        "invalid_grant",
    );
    // PKCE does not break a web app.
    let code = s.code(&web, Some(&pkce)).await;
    assert_eq!(
        s.token(redeem(&code, Some(pkce.verifier.expose()), &web))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn scope_may_narrow_never_widen_and_offline_decides_the_refresh_token() {
    let s = Sim::start().await;
    let web = s.web();
    let code = s.code(&web, None).await;
    let mut b = Sim::redeem_body(&web, &code);
    b["scope"] = "email_read".into();
    let a = s.token(b).await.json();
    assert_eq!(a["scope"], "email_read");
    assert!(
        a.get("refresh_token").is_none(),
        "a refresh token without offline: {a}"
    );
    let code = s.code(&web, None).await;
    let mut b = Sim::redeem_body(&web, &code);
    b["scope"] = "email_read email_write".into();
    assert_token_error(&s.token(b).await, 400, "invalid_scope");
}

#[tokio::test]
async fn refresh_rotates_and_a_replay_revokes_the_family() {
    let s = Sim::start().await;
    let web = s.web();
    let t0 = s.web_tokens().await;
    let rt0 = t0["refresh_token"].as_str().unwrap();
    let t1 = s.token(Sim::refresh_body(&web, rt0)).await;
    assert_eq!(t1.status, 200);
    assert_eq!(t1.header("cache-control").as_deref(), Some("no-store"));
    let t1 = t1.json();
    let rt1 = t1["refresh_token"].as_str().unwrap();
    assert_ne!(rt0, rt1);
    assert_ne!(t0["access_token"], t1["access_token"]);
    assert_eq!(t1["rest_instance_url"], t0["rest_instance_url"]);
    assert_token_error(
        &s.token(Sim::refresh_body(&web, rt0)).await,
        400,
        "invalid_grant",
    );
    assert!(!s.token_works(t1["access_token"].as_str().unwrap()).await);
    assert_token_error(
        &s.token(Sim::refresh_body(&web, rt1)).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn refresh_authenticates_the_client_and_binds_the_token_to_it() {
    let s = Sim::start().await;
    let web = s.web();
    let rt = s.web_tokens().await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut b = Sim::refresh_body(&web, &rt);
    b.as_object_mut().unwrap().remove("client_secret");
    assert_token_error(&s.token(b).await, 401, "invalid_client");
    assert_token_error(
        &s.token(Sim::refresh_body(&s.integration("web2"), &rt))
            .await,
        400,
        "invalid_grant",
    );
    let mut wider = Sim::refresh_body(&web, &rt);
    wider["scope"] = "email_read email_write".into();
    assert_token_error(&s.token(wider).await, 400, "invalid_scope");
    let mut narrower = Sim::refresh_body(&web, &rt);
    narrower["scope"] = "email_read offline".into();
    assert_eq!(
        s.token(narrower).await.json()["scope"],
        "email_read offline"
    );
}

#[tokio::test]
async fn a_refresh_token_lives_30_days_and_an_access_token_20_minutes() {
    let s = Sim::start().await;
    let web = s.web();
    let t = s.web_tokens().await;
    let (at, rt) = (
        t["access_token"].as_str().unwrap(),
        t["refresh_token"].as_str().unwrap(),
    );
    s.sim.advance_clock(Duration::from_secs(20 * 60 - 5));
    assert!(s.token_works(at).await);
    s.sim.advance_clock(Duration::from_secs(10));
    assert!(!s.token_works(at).await);
    s.sim.advance_clock(Duration::from_secs(30 * 24 * 3600));
    assert_token_error(
        &s.token(Sim::refresh_body(&web, rt)).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn client_credentials_for_contrast() {
    let s = Sim::start().await;
    let s2s = s.integration("server");
    let a = s
        .token(
            json!({"grant_type": "client_credentials", "client_id": s2s.client_id,
                      "client_secret": s2s.client_secret.as_ref().unwrap().expose()}),
        )
        .await;
    assert_eq!(a.status, 200);
    let v = a.json();
    assert!(v.get("refresh_token").is_none());
    assert_eq!(v["expires_in"], 1079);
    let web = s.web();
    let a = s
        .token(
            json!({"grant_type": "client_credentials", "client_id": web.client_id,
                      "client_secret": web.client_secret.as_ref().unwrap().expose()}),
        )
        .await;
    assert_token_error(&a, 400, "unauthorized_client");
}

#[tokio::test]
async fn malformed_token_requests_get_rfc6749_errors() {
    let s = Sim::start().await;
    let web = s.web();
    let secret = web.client_secret.as_ref().unwrap().expose().to_owned();
    let base = json!({"client_id": web.client_id, "client_secret": secret});
    let with = |extra: Value| {
        let mut b = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    assert_token_error(
        &s.token(with(json!({"grant_type": "foo"}))).await,
        400,
        "unsupported_grant_type",
    );
    assert_token_error(
        &s.token(with(
            json!({"grant_type": "password", "username": "u", "password": "p"}),
        ))
        .await,
        400,
        "unsupported_grant_type",
    );
    assert_token_error(&s.token(base.clone()).await, 400, "invalid_request");
    assert_token_error(
        &s.token(with(json!({"grant_type": "authorization_code"})))
            .await,
        400,
        "invalid_request",
    );
    let camel = json!({"grant_type": "authorization_code", "code": "x", "clientId": web.client_id, "clientSecret": secret});
    let a = s.token(camel).await;
    assert_token_error(&a, 400, "invalid_request");
    assert!(a.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("client_id"));
    let dup = format!(
        r#"{{"grant_type":"authorization_code","code":"a","code":"b","client_id":"{}","client_secret":"{secret}"}}"#,
        web.client_id
    );
    assert_token_error(
        &s.post("/v2/token", Some("application/json"), dup.into_bytes())
            .await,
        400,
        "invalid_request",
    );
    assert_token_error(
        &s.post("/v2/token", Some("text/plain"), b"grant_type=x".to_vec())
            .await,
        400,
        "invalid_request",
    );
    assert_token_error(
        &s.post("/v2/token", None, b"{}".to_vec()).await,
        400,
        "invalid_request",
    );
    assert_token_error(
        &s.post("/v2/token", Some("application/json"), b"{not json".to_vec())
            .await,
        400,
        "invalid_request",
    );
    assert_token_error(
        &s.post("/v2/token", Some("application/json"), vec![b'a'; 200_000])
            .await,
        400,
        "invalid_request",
    );
    assert_token_error(
        &s.post(
            &format!("/v2/token?client_secret={secret}"),
            Some("application/json"),
            with(json!({"grant_type": "authorization_code", "code": "x"}))
                .to_string()
                .into_bytes(),
        )
        .await,
        400,
        "invalid_request",
    );
    let get = s.get("/v2/token", None, None).await;
    assert_eq!(get.status, 405);
    assert_eq!(get.json()["error"], "invalid_request");
}

// ---- proving a token works, throttling, time, journal ----

#[tokio::test]
async fn userinfo_and_token_context_take_a_bearer_token_only() {
    let s = Sim::start().await;
    let at = s.web_tokens().await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let u = s.get("/v2/userinfo", None, Some(&at)).await;
    assert_eq!(u.status, 200);
    assert_eq!(u.json()["application"]["id"], s.web().client_id);
    let c = s.get("/platform/v1/tokenContext", None, Some(&at)).await;
    assert_eq!(c.status, 200);
    assert!(c.json()["organization"]["id"].is_number());
    for (path, bearer) in [
        ("/v2/userinfo", Some("bogus")),
        ("/platform/v1/tokenContext", None),
        (
            &*format!("/platform/v1/tokenContext?access_token={at}"),
            None,
        ),
    ] {
        let a = s.get(path, None, bearer).await;
        assert_eq!(a.status, 401, "{path}");
        assert_eq!(
            a.json(),
            json!({"documentation": "https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm", "errorcode": 0, "message": "Not Authorized"})
        );
    }
}

#[tokio::test]
async fn throttling_answers_429_in_marketing_clouds_shape() {
    let s = Sim::start().await;
    let on = s
        .post(
            "/__admin/throttle",
            Some("application/json"),
            br#"{"enabled":true}"#.to_vec(),
        )
        .await;
    assert_eq!(on.status, 200);
    let a = s.token(json!({"grant_type": "client_credentials"})).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.json()["errorcode"], 50200);
    assert_eq!(a.header("retry-after").as_deref(), Some("5"));
    s.sim.set_throttle(false);
    assert_ne!(
        s.token(json!({"grant_type": "client_credentials"}))
            .await
            .status,
        429
    );
}

#[tokio::test]
async fn the_admin_clock_ages_codes() {
    let s = Sim::start().await;
    let web = s.web();
    let code = s.code(&web, None).await;
    let a = s
        .post(
            "/__admin/clock",
            Some("application/json"),
            br#"{"advance_seconds":301}"#.to_vec(),
        )
        .await;
    assert_eq!(a.json()["offset_seconds"], 301);
    assert_token_error(
        &s.token(Sim::redeem_body(&web, &code)).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn integration_changes_take_effect_after_the_propagation_delay() {
    let mut registry = Registry::builtin();
    registry.settings.propagation_delay_secs = 300;
    let s = Sim::config(SimConfig {
        registry,
        faults: Faults::none(),
        variations: Vec::new(),
    })
    .await;
    let web = s.web();
    let change =
        json!({"client_id": web.client_id, "redirect_uris": ["https://127.0.0.1:80/new/"]});
    let a = s
        .post(
            "/__admin/integration",
            Some("application/json"),
            change.to_string().into_bytes(),
        )
        .await;
    assert_eq!(a.status, 202);
    let old = format!("/v2/authorize?{}", s.request(&web, "x").query());
    let mut new_req = s.request(&web, "x");
    new_req.redirect_uri = "https://127.0.0.1:80/new/".into();
    let new = format!("/v2/authorize?{}", new_req.query());
    assert_eq!(
        s.get(&old, None, None).await.status,
        302,
        "changed before the delay"
    );
    assert_eq!(s.get(&new, None, None).await.status, 400);
    s.sim.advance_clock(Duration::from_secs(300));
    assert_eq!(s.get(&old, None, None).await.status, 400);
    assert_eq!(s.get(&new, None, None).await.status, 302);
}

#[tokio::test]
async fn the_journal_records_every_exchange_without_secrets() {
    let s = Sim::start().await;
    let web = s.web();
    let tokens = s.web_tokens().await;
    let journal = s.get("/__admin/journal", None, None).await;
    assert_eq!(journal.status, 200);
    let entries = journal.json();
    let n = entries.as_array().unwrap().len();
    assert_eq!(n, 4, "authorize, login page, login, token: {entries}");
    let text = journal.body;
    assert!(text.contains("/v2/token"));
    for secret in [
        web.client_secret.as_ref().unwrap().expose(),
        s.user().password.expose(),
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    ] {
        assert!(!text.contains(secret), "a secret in the journal");
        assert!(
            !text.contains(&encode(secret)),
            "an encoded secret in the journal"
        );
    }
    assert!(!text.contains("code=ey"), "a code in the journal");
    assert_eq!(s.sim.journal().len(), n + 1);
}
