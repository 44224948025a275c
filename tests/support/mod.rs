//! A simulator on a loopback port and a plain HTTP client that walks the authorization code flow
//! the way a browser would (no redirects followed, the login form filled from its HTML), for
//! tests of the simulator's rules over real HTTP.

#![allow(dead_code)]

use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use sfmc_oauth_conformance::oauth::encoding::{decode_once, encode, raw_query_values};
use sfmc_oauth_conformance::oauth::{AuthorizeRequest, Pkce};
use sfmc_oauth_conformance::simulator::registry::{Integration, Registry, TestUser};
use sfmc_oauth_conformance::simulator::{Fault, Faults, SimConfig, Simulator};
use std::time::Duration;

/// A running simulator and a client for it.
pub struct Sim {
    pub sim: Simulator,
    pub http: reqwest::Client,
}

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }
    pub fn location(&self) -> String {
        self.header("location").unwrap_or_default()
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
    /// The first value of `name` in the Location's query, decoded once.
    /// (Looked for in the fragment too, so a probe still finds a misplaced code.)
    pub fn location_param(&self, name: &str) -> Option<String> {
        let loc = self.location();
        let (before, fragment) = loc.split_once('#').unwrap_or((&loc, ""));
        let query = before.split_once('?').map_or("", |(_, q)| q).to_owned();
        raw_query_values(&query, name)
            .first()
            .or(raw_query_values(fragment, name).first())
            .map(|v| String::from_utf8_lossy(&decode_once(v)).into_owned())
    }
    pub fn location_values(&self, name: &str) -> usize {
        let loc = self.location();
        let query = loc.split_once('?').map_or("", |(_, q)| q).to_owned();
        raw_query_values(&query, name).len()
    }
}

/// Result of a flow through the login page.
#[derive(Debug, Clone)]
pub struct Flow {
    /// The answer that went back to the app (or the last one).
    pub answer: Answer,
    pub code: Option<String>,
    pub session_cookie: Option<String>,
    pub saw_login_page: bool,
}

impl Sim {
    pub async fn start() -> Self {
        Self::with(&[]).await
    }

    pub async fn with(faults: &[Fault]) -> Self {
        Self::config(SimConfig {
            registry: Registry::builtin(),
            faults: Faults::of(faults.iter().copied()),
            variations: Vec::new(),
        })
        .await
    }

    pub async fn config(config: SimConfig) -> Self {
        let sim = Simulator::start(0, config)
            .await
            .expect("the simulator starts");
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        Self { sim, http }
    }

    pub fn integration(&self, name: &str) -> Integration {
        self.sim
            .registry()
            .integrations
            .iter()
            .find(|i| i.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("no integration {name}"))
    }
    pub fn web(&self) -> Integration {
        self.integration("web")
    }
    pub fn public(&self) -> Integration {
        self.integration("public")
    }
    pub fn user(&self) -> TestUser {
        self.sim.registry().users[0].clone()
    }

    async fn answer(resp: reqwest::Response) -> Answer {
        Answer {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap_or_default(),
        }
    }

    /// `GET path` (path may carry a query), with an optional cookie and bearer token.
    pub async fn get(&self, path: &str, cookie: Option<&str>, bearer: Option<&str>) -> Answer {
        let mut r = self.http.get(format!("{}{path}", self.sim.uri()));
        if let Some(c) = cookie {
            r = r.header("Cookie", c);
        }
        if let Some(b) = bearer {
            r = r.header("Authorization", format!("Bearer {b}"));
        }
        Self::answer(r.send().await.expect("the simulator answers")).await
    }

    /// `POST path` with a raw body and content type.
    pub async fn post(&self, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Answer {
        let mut r = self
            .http
            .post(format!("{}{path}", self.sim.uri()))
            .body(body);
        if let Some(ct) = content_type {
            r = r.header("Content-Type", ct);
        }
        Self::answer(r.send().await.expect("the simulator answers")).await
    }

    /// `POST /v2/token` with a JSON body.
    pub async fn token(&self, body: Value) -> Answer {
        self.post(
            "/v2/token",
            Some("application/json"),
            body.to_string().into_bytes(),
        )
        .await
    }

    /// The authorize request of `app` with its first redirect URI and `state`.
    pub fn request(&self, app: &Integration, state: &str) -> AuthorizeRequest {
        let mut r = AuthorizeRequest::code(&app.client_id, &app.redirect_uris[0]);
        r.scope = Some(vec!["email_read".into(), "email_send".into()]);
        r.state = Some(state.into());
        r
    }

    /// Goes through `/v2/authorize` with a raw query, signing in if the login page shows.
    pub async fn flow_query(&self, query: &str, cookie: Option<&str>) -> Flow {
        let user = self.user();
        self.flow_as(query, cookie, &user.username, user.password.expose())
            .await
    }

    /// As [`Sim::flow_query`], with given credentials.
    pub async fn flow_as(
        &self,
        query: &str,
        cookie: Option<&str>,
        username: &str,
        password: &str,
    ) -> Flow {
        let first = self
            .get(&format!("/v2/authorize?{query}"), cookie, None)
            .await;
        if !first.location().starts_with("/login?r=") {
            return Flow {
                code: first.location_param("code"),
                answer: first,
                session_cookie: cookie.map(str::to_owned),
                saw_login_page: false,
            };
        }
        let page = self.get(&first.location(), None, None).await;
        let (r, csrf) = form_fields(&page.body);
        let form = format!(
            "r={}&csrf={}&username={}&password={}",
            encode(&r),
            encode(&csrf),
            encode(username),
            encode(password)
        );
        let done = self
            .post(
                "/login",
                Some("application/x-www-form-urlencoded"),
                form.into_bytes(),
            )
            .await;
        let session_cookie = done
            .header("set-cookie")
            .map(|c| c.split(';').next().unwrap_or("").to_owned());
        Flow {
            code: done.location_param("code"),
            answer: done,
            session_cookie,
            saw_login_page: true,
        }
    }

    /// A code for `app` (its first redirect URI, S256 PKCE when `pkce` is given).
    pub async fn code(&self, app: &Integration, pkce: Option<&Pkce>) -> String {
        let mut r = self.request(app, "s");
        if let Some(p) = pkce {
            r.code_challenge = Some((p.challenge.clone(), "S256".into()));
        }
        let f = self.flow_query(&r.query(), None).await;
        f.code.unwrap_or_else(|| panic!("no code: {:?}", f.answer))
    }

    /// The JSON body that redeems `code` for `app` (its secret, its first redirect URI).
    pub fn redeem_body(app: &Integration, code: &str) -> Value {
        let mut b = json!({
            "grant_type": "authorization_code",
            "code": code,
            "client_id": app.client_id,
            "redirect_uri": app.redirect_uris[0],
            "scope": "email_read email_send offline",
        });
        if let Some(s) = &app.client_secret {
            b["client_secret"] = s.expose().into();
        }
        b
    }

    /// A web-app token response (access and refresh tokens).
    pub async fn web_tokens(&self) -> Value {
        let web = self.web();
        let code = self.code(&web, None).await;
        let a = self.token(Self::redeem_body(&web, &code)).await;
        assert_eq!(a.status, 200, "{a:?}");
        a.json()
    }

    /// The refresh request body for `app`.
    pub fn refresh_body(app: &Integration, rt: &str) -> Value {
        let mut b =
            json!({"grant_type": "refresh_token", "refresh_token": rt, "client_id": app.client_id});
        if let Some(s) = &app.client_secret {
            b["client_secret"] = s.expose().into();
        }
        b
    }

    /// Whether `access_token` is accepted by `/v2/userinfo`.
    pub async fn token_works(&self, access_token: &str) -> bool {
        self.get("/v2/userinfo", None, Some(access_token))
            .await
            .status
            == 200
    }
}

/// The hidden `r` and `csrf` fields of a login or verification form.
pub fn form_fields(html: &str) -> (String, String) {
    let field = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        html.split_once(&marker)
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(v, _)| v.to_owned())
            .unwrap_or_default()
    };
    (field("r"), field("csrf"))
}

/// Asserts Marketing Cloud's token error shape and the RFC 6749 §5.2 headers.
pub fn assert_token_error(a: &Answer, status: u16, error: &str) {
    assert_eq!(a.status, status, "{a:?}");
    let v = a.json();
    assert_eq!(v["error"], error, "{a:?}");
    assert!(v["error_description"].is_string(), "{a:?}");
    assert_eq!(v["error_uri"], "https://developer.salesforce.com/docs");
    assert!(a
        .header("content-type")
        .unwrap_or_default()
        .starts_with("application/json"));
    assert_eq!(a.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(a.header("pragma").as_deref(), Some("no-cache"));
}
