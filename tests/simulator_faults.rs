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
        Fault::StatePlusForSpace => {
            let f = s.flow_query(&s.request(&web, "a b").query(), None).await;
            f.answer.location().contains("state=a%20b")
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
    (Fault::OpenRedirect, Fault::RedirectUriPrefixMatch),
    (Fault::OpenRedirect, Fault::RedirectUriIgnorePort),
    (Fault::StateDropped, Fault::StatePlusForSpace),
    (Fault::CodeReusable, Fault::CodeReuseKeepsTokens),
    (Fault::PkceIgnored, Fault::PkceDowngradeAccepted),
    (Fault::PkceIgnored, Fault::PkcePlainAccepted),
    (Fault::RefreshNotRotated, Fault::RefreshNoFamilyRevocation),
    (
        Fault::RefreshOldStillValid,
        Fault::RefreshNoFamilyRevocation,
    ),
    (Fault::RefreshNotRotated, Fault::RefreshOldStillValid),
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
