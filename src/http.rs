//! Bounded HTTP calls to the target's token endpoint. Every wait has a deadline, bodies are read
//! up to a size limit, redirects are not followed, and each call is kept as redacted evidence.

use crate::evidence::{Exchange, Redactor};
use crate::oauth::token::{TokenRequest, TokenResponse, TokenStyle};
use crate::secret::Secret;
use reqwest::header::HeaderMap;
use serde_json::{Map, Value};
use std::fmt;
use std::time::Duration;
use url::Url;

/// Largest response body read; a larger one is cut and reported as such.
pub const MAX_BODY: usize = 1024 * 1024;
/// Deadline for one whole request, connect to last byte.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Deadline for the TCP (and TLS) connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest pause a throttled live target gets (its `Retry-After`, capped).
pub const MAX_THROTTLE_PAUSE: Duration = Duration::from_secs(60);
/// How many times a throttled request is sent again after its pause.
pub const THROTTLE_RETRIES: usize = 2;

/// One 429 from a live target: the run's traffic paused for `paused`, then the request was sent
/// again. It is TE-03's evidence (Marketing Cloud's throttling shape), and no other check's.
#[derive(Debug, Clone, PartialEq)]
pub struct Throttle {
    pub url: String,
    /// `Retry-After`, as sent.
    pub retry_after: String,
    pub paused: Duration,
    /// The body had Marketing Cloud's shape: a numeric `errorcode` and no OAuth `error`.
    pub sfmc_shape: bool,
}

/// Why a call produced no response to judge.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("target unreachable at {url}: {cause}")]
    Unreachable { url: String, cause: String },
    #[error("target did not answer {url} within {secs} s (the connect timeout, or the request timeout: --request-timeout)")]
    Timeout { url: String, secs: u64 },
    /// The target answered, but not in HTTP: a head hyper cannot parse (a bad status line, a
    /// header that is not one, a head too large such as a flood of Set-Cookie). A verdict about
    /// the target, not the environment.
    #[error("the target's answer at {url} is not valid HTTP: {cause}")]
    Malformed { url: String, cause: String },
    /// The TLS checks of the target failed: an untrusted, expired or wrong-host certificate, or
    /// no protocol version in common (TLS 1.0 only). Nothing was sent; no check can be judged.
    #[error("TLS checks failed at {url}: {cause}{}", certificate.as_deref().map(|c| format!("; the server's certificate: {c}")).unwrap_or_default())]
    Tls {
        url: String,
        cause: String,
        certificate: Option<String>,
    },
    #[error("the target kept throttling {url}: still 429 after {retries} pauses for Retry-After")]
    Throttled { url: String, retries: usize },
    /// The URL says `http://` and the server at its host and port speaks TLS: a mistake in the
    /// set-up (the target file's URL), not a verdict about the target.
    #[error("the server at {url} speaks TLS, but the URL says http://: use https:// (the server's certificate: {certificate})")]
    TlsBehindHttp { url: String, certificate: String },
}

impl crate::exit::Exit for HttpError {
    /// No answer to judge: the network or the client, not the target's conformance.
    fn exit_code(&self) -> u8 {
        match self {
            Self::Malformed { .. } => crate::exit::NONCONFORMANT,
            _ => crate::exit::ENVIRONMENT,
        }
    }
}

/// The token endpoint's answer.
#[derive(Clone)]
pub struct TokenOutcome {
    pub status: u16,
    pub headers: HeaderMap,
    /// The body parsed as JSON, if it was JSON. Holds live tokens: never print it.
    json: Option<Value>,
    /// The body as text, redacted.
    pub redacted_text: String,
    pub exchange: Exchange,
    pub body_truncated: bool,
    /// Why the body broke off after the head, if it did (what arrived is in the text).
    pub body_broken: Option<String>,
}

impl fmt::Debug for TokenOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenOutcome")
            .field("status", &self.status)
            .field("body", &self.redacted_text)
            .finish()
    }
}

impl TokenOutcome {
    /// The tokens of a success response, and its redacted body.
    pub fn tokens(&self) -> Option<TokenResponse> {
        self.json.as_ref().map(TokenResponse::from_json)
    }

    /// The body as redacted JSON, if it parsed.
    pub fn redacted_json(&self) -> Option<Value> {
        self.tokens().map(|t| t.redacted_body)
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }
}

/// HTTP client for the token endpoint.
#[derive(Debug, Clone)]
pub struct TokenClient {
    client: reqwest::Client,
    /// Spaces requests out, against a live target.
    pace: Option<std::sync::Arc<Pacer>>,
    /// The 429s a live target answered, shared by every clone.
    throttles: std::sync::Arc<std::sync::Mutex<Vec<Throttle>>>,
    /// A live target: a 429 pauses the traffic and the request is sent again.
    live: bool,
    /// One request's limit, connect to last byte (`--request-timeout`).
    request_timeout: Duration,
}

/// At most `per_second` requests a second: each request waits for its slot.
#[derive(Debug)]
struct Pacer {
    interval: Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl Pacer {
    async fn wait(&self) {
        let mut next = self.next.lock().await;
        let now = tokio::time::Instant::now();
        if *next > now {
            tokio::time::sleep_until(*next).await;
        }
        *next = (*next).max(now) + self.interval;
    }

    /// Holds every request back for `d` from now.
    async fn pause(&self, d: Duration) {
        let mut next = self.next.lock().await;
        *next = (*next).max(tokio::time::Instant::now() + d);
    }
}

/// How long an idle connection to the target is kept for reuse: shorter than the idle timeouts
/// servers close connections at.
const POOL_IDLE: Duration = Duration::from_secs(4);

impl TokenClient {
    /// A client with bounded timeouts that never follows redirects. `loopback_only` turns off
    /// proxies, for the embedded simulator.
    pub fn new(loopback_only: bool) -> Result<Self, HttpError> {
        let mut b = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            // A kept-alive connection idle for longer may have been closed by the server (the
            // simulator after 30 s, Apache after 5 s): sent on it, a token request after a
            // real-time wait failed as "connection closed before message completed", an
            // environment failure about our set-up. Such a request cannot be sent again
            // (a refresh token is spent once), so the connection is never reused that late.
            .pool_idle_timeout(POOL_IDLE)
            .user_agent(concat!(
                "sfmc-oauth-conformance/",
                env!("CARGO_PKG_VERSION")
            ));
        if loopback_only {
            b = b.no_proxy();
        }
        let client = b.build().map_err(|e| HttpError::Client(e.to_string()))?;
        Ok(Self {
            client,
            pace: None,
            throttles: Default::default(),
            live: false,
            request_timeout: REQUEST_TIMEOUT,
        })
    }

    /// The same client, each request bounded by `limit` (connect to last byte).
    pub fn with_request_timeout(mut self, limit: Duration) -> Self {
        self.request_timeout = limit;
        self
    }

    /// Waits for one pacing slot, and returns a client that sends without pacing: for a burst
    /// of requests that must arrive at once (a race is what such a check looks for).
    pub async fn burst(&self) -> Self {
        if let Some(pace) = &self.pace {
            pace.wait().await;
        }
        Self {
            client: self.client.clone(),
            pace: None,
            throttles: self.throttles.clone(),
            live: self.live,
            request_timeout: self.request_timeout,
        }
    }

    /// The same client, sending at most `per_second` requests a second.
    pub fn paced(mut self, per_second: f64) -> Self {
        self.pace = Some(std::sync::Arc::new(Pacer {
            interval: Duration::from_secs_f64(1.0 / per_second.max(0.01)),
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
        }));
        self.live = true;
        self
    }

    /// POSTs `req` to `endpoint` in `style` (Marketing Cloud: JSON, credentials in the body).
    pub async fn token(
        &self,
        endpoint: &Url,
        req: &TokenRequest,
        style: TokenStyle,
    ) -> Result<TokenOutcome, HttpError> {
        self.send(endpoint, &HttpCall::token_request(req, style))
            .await
    }

    /// The 429s the target answered so far (live targets only).
    pub fn throttles(&self) -> Vec<Throttle> {
        self.throttles.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// Sends any request to `endpoint` (a token endpoint, a REST probe), bounded and recorded.
    /// Against a live (paced) target, a 429 with `Retry-After` pauses all of the run's traffic
    /// for that long (at most [`MAX_THROTTLE_PAUSE`]) and sends the request again, so that
    /// throttling is recorded once, as TE-03's evidence, and never judged by another check.
    pub async fn send(&self, endpoint: &Url, call: &HttpCall) -> Result<TokenOutcome, HttpError> {
        let mut attempt = 0;
        loop {
            let answer = self.send_once(endpoint, call).await?;
            match answer.status {
                429 if self.live && attempt == THROTTLE_RETRIES => {
                    return Err(HttpError::Throttled {
                        url: answer.exchange.url.clone(),
                        retries: attempt,
                    })
                }
                429 if self.live => {
                    let retry_after = answer.header("retry-after").unwrap_or_default();
                    // Seconds, as Marketing Cloud sends it; anything else (an HTTP date, none)
                    // pauses 5 s.
                    let paused = retry_after
                        .trim()
                        .parse::<u64>()
                        .map(Duration::from_secs)
                        .unwrap_or(Duration::from_secs(5))
                        .min(MAX_THROTTLE_PAUSE);
                    let body = answer.redacted_json().unwrap_or(Value::Null);
                    if let Ok(mut t) = self.throttles.lock() {
                        t.push(Throttle {
                            url: answer.exchange.url.clone(),
                            retry_after,
                            paused,
                            sfmc_shape: body["errorcode"].is_number()
                                && body.get("error").is_none(),
                        });
                    }
                    match &self.pace {
                        Some(pace) => pace.pause(paused).await,
                        None => tokio::time::sleep(paused).await,
                    }
                    attempt += 1;
                }
                _ => return Ok(answer),
            }
        }
    }

    async fn send_once(&self, endpoint: &Url, call: &HttpCall) -> Result<TokenOutcome, HttpError> {
        if let Some(pace) = &self.pace {
            pace.wait().await;
        }
        let redactor = Redactor::of(call.secrets.iter());
        let mut url = endpoint.clone();
        if let Some(q) = &call.query {
            url.set_query(Some(q));
        }
        let mut b = self
            .client
            .request(call.method.clone(), url.clone())
            .timeout(self.request_timeout);
        let mut shown_headers = Vec::new();
        for (k, v) in &call.headers {
            b = b.header(k.as_str(), v.as_str());
            shown_headers.push((k.clone(), redactor.apply(v)));
        }
        if let Some(body) = &call.body {
            b = b.body(body.clone());
        }
        let sent = match b.send().await {
            Ok(sent) => sent,
            Err(e) => {
                let mut e = classify(endpoint, e, self.request_timeout);
                // Say what the certificate is: its subject, issuer and dates.
                if let HttpError::Tls { certificate, .. } = &mut e {
                    *certificate = crate::tls::describe_certificate(endpoint).await;
                }
                // An answer that is not HTTP from an http:// URL: perhaps a TLS port.
                if matches!(
                    e,
                    HttpError::Malformed { .. } | HttpError::Unreachable { .. }
                ) && endpoint.scheme() == "http"
                {
                    if let Some(certificate) = crate::tls::describe_certificate(endpoint).await {
                        e = HttpError::TlsBehindHttp {
                            url: endpoint.to_string(),
                            certificate,
                        };
                    }
                }
                return Err(e);
            }
        };
        let status = sent.status().as_u16();
        let headers = sent.headers().clone();
        let (bytes, truncated, broken) = read_bounded(sent, endpoint, self.request_timeout).await?;
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        let json: Option<Value> = serde_json::from_slice(&bytes).ok();
        // Tokens in the response become secrets of this exchange too.
        let mut redactor = redactor;
        if let Some(t) = json.as_ref().map(TokenResponse::from_json) {
            for s in [t.access_token, t.refresh_token].into_iter().flatten() {
                redactor.add(&s);
            }
        }
        if let Some(cause) = &broken {
            text.push_str(&format!(
                "\n[the body broke off after {} bytes: {cause}]",
                bytes.len()
            ));
        }
        if truncated {
            text.push_str(&format!(
                "\n[the body was cut: only its first {} bytes were read (the read cap)]",
                bytes.len()
            ));
        }
        let redacted_text = redactor.apply(&text);
        let exchange = Exchange {
            method: call.method.to_string(),
            url: redactor.apply(url.as_str()),
            request_headers: shown_headers,
            request_body: call
                .body
                .as_ref()
                .map(|b| {
                    crate::evidence::capped(
                        redactor.apply(&String::from_utf8_lossy(b)),
                        crate::evidence::SHOWN_BYTES,
                    )
                })
                .unwrap_or_default(),
            status: Some(status),
            response_headers: headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        redactor.apply(&String::from_utf8_lossy(v.as_bytes())),
                    )
                })
                .collect(),
            // Kept for the reports: the first bytes only (the checks judge all that was read).
            response_body: crate::evidence::capped(
                redacted_text.clone(),
                crate::evidence::SHOWN_BYTES,
            ),
        };
        Ok(TokenOutcome {
            status,
            headers,
            json,
            redacted_text,
            exchange,
            body_truncated: truncated,
            body_broken: broken,
        })
    }
}

/// One HTTP request as a step builds it: any method, body, headers and query, with the secrets
/// it carries (for redacting its evidence).
#[derive(Debug, Clone)]
pub struct HttpCall {
    pub method: reqwest::Method,
    pub headers: Vec<(String, String)>,
    pub query: Option<String>,
    pub body: Option<Vec<u8>>,
    pub secrets: Vec<Secret>,
}

impl HttpCall {
    /// A JSON POST.
    pub fn json(body: String, secrets: impl IntoIterator<Item = Secret>) -> Self {
        Self {
            method: reqwest::Method::POST,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Accept".into(), "application/json".into()),
            ],
            query: None,
            body: Some(body.into_bytes()),
            secrets: secrets.into_iter().collect(),
        }
    }

    /// A token request in the target's `style` (Marketing Cloud: a JSON POST).
    pub fn token_request(req: &TokenRequest, style: TokenStyle) -> Self {
        Self::token_fields(req.fields(), style, req.secrets().into_iter().cloned())
    }

    /// A POST of token-request `fields` (maybe edited by a check) in `style`. An HTTP Basic
    /// header becomes a secret of the call, so that its evidence never shows it.
    pub fn token_fields(
        fields: Map<String, Value>,
        style: TokenStyle,
        secrets: impl IntoIterator<Item = Secret>,
    ) -> Self {
        let (headers, body) = style.encode(fields);
        let mut secrets: Vec<Secret> = secrets.into_iter().collect();
        for (k, v) in &headers {
            if let (true, Some(cred)) = (k == "Authorization", v.strip_prefix("Basic ")) {
                secrets.push(Secret::new("ClientCredentials", cred));
            }
        }
        Self {
            method: reqwest::Method::POST,
            headers,
            query: None,
            body: Some(body),
            secrets,
        }
    }

    /// A plain GET: no headers, no query, no body.
    pub fn get() -> Self {
        Self {
            method: reqwest::Method::GET,
            headers: Vec::new(),
            query: None,
            body: None,
            secrets: Vec::new(),
        }
    }

    /// A GET with a Bearer token.
    pub fn bearer_get(token: &Secret) -> Self {
        Self {
            method: reqwest::Method::GET,
            headers: vec![("Authorization".into(), format!("Bearer {}", token.expose()))],
            query: None,
            body: None,
            secrets: vec![token.clone()],
        }
    }

    /// Replaces (or adds) header `name`.
    pub fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
    }
}

fn classify(endpoint: &Url, e: reqwest::Error, request_timeout: Duration) -> HttpError {
    if e.is_timeout() {
        // A connection that was never accepted hit the connect timeout, not the request's.
        let secs = if e.is_connect() {
            CONNECT_TIMEOUT.as_secs()
        } else {
            request_timeout.as_secs()
        };
        HttpError::Timeout {
            url: endpoint.to_string(),
            secs,
        }
    } else {
        let mut cause = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            cause = format!("{cause}: {s}");
            src = s.source();
        }
        if TLS.iter().any(|m| cause.contains(m)) {
            HttpError::Tls {
                url: endpoint.to_string(),
                cause,
                certificate: None,
            }
        } else if MALFORMED.iter().any(|m| cause.contains(m)) {
            HttpError::Malformed {
                url: endpoint.to_string(),
                cause,
            }
        } else {
            HttpError::Unreachable {
                url: endpoint.to_string(),
                cause,
            }
        }
    }
}

/// How rustls says that the TLS checks failed.
const TLS: &[&str] = &[
    "invalid peer certificate",
    "peer is incompatible",
    "received fatal alert",
    "HandshakeFailure",
    "ProtocolVersion",
];

/// How hyper says that an answer's head was not HTTP (its `Display` of a parse error): the target
/// answered, wrongly.
const MALFORMED: &[&str] = &[
    "invalid HTTP",
    "message head is too large",
    "invalid URI",
    "unexpected transfer-encoding",
    "invalid content-length",
    "received unexpected message",
];

/// Reads at most [`MAX_BODY`] bytes of the body. A body that breaks off after the head (the
/// connection closed or reset mid-body) is what the target answered: what arrived is kept, with
/// why it ended (`Some(cause)`), for the check to judge. Only a timeout is an error here.
async fn read_bounded(
    mut resp: reqwest::Response,
    endpoint: &Url,
    request_timeout: Duration,
) -> Result<(Vec<u8>, bool, Option<String>), HttpError> {
    let mut out = Vec::new();
    loop {
        let chunk = match resp.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => return Ok((out, false, None)),
            Err(e) => {
                return match classify(endpoint, e, request_timeout) {
                    t @ HttpError::Timeout { .. } => Err(t),
                    HttpError::Unreachable { cause, .. } | HttpError::Malformed { cause, .. } => {
                        Ok((out, false, Some(cause)))
                    }
                    other => Err(other),
                }
            }
        };
        let room = MAX_BODY - out.len();
        if chunk.len() > room {
            out.extend_from_slice(&chunk[..room]);
            return Ok((out, true, None));
        }
        out.extend_from_slice(&chunk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    async fn throttling_once() -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "1")
                    .set_body_json(serde_json::json!({"errorcode": 50, "message": "throttled"})),
            )
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"access_token": "AT"})),
            )
            .with_priority(2)
            .mount(&server)
            .await;
        server
    }

    #[tokio::test]
    async fn a_live_target_s_429_pauses_the_traffic_and_is_recorded_once() {
        let server = throttling_once().await;
        let url = Url::parse(&format!("{}/v2/token", server.uri())).unwrap();
        let client = TokenClient::new(true).unwrap().paced(50.0);
        let started = std::time::Instant::now();
        let answer = client.send(&url, &HttpCall::get_post()).await.unwrap();
        assert_eq!(answer.status, 200, "sent again after the pause");
        assert!(
            started.elapsed() >= Duration::from_millis(950),
            "paused for Retry-After"
        );
        let t = client.throttles();
        assert_eq!(t.len(), 1, "{t:?}");
        assert!(t[0].sfmc_shape);
        assert_eq!(t[0].paused, Duration::from_secs(1));
        // Another clone shares the record; the pause held every request back.
        assert_eq!(client.burst().await.throttles().len(), 1);
    }

    #[tokio::test]
    async fn a_target_that_keeps_throttling_is_an_environment_failure_not_a_verdict() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
            .mount(&server)
            .await;
        let url = Url::parse(&format!("{}/v2/token", server.uri())).unwrap();
        // A burst client (a race check) is throttled like any other.
        let client = TokenClient::new(true).unwrap().paced(50.0).burst().await;
        let e = client.send(&url, &HttpCall::get_post()).await.unwrap_err();
        assert!(matches!(e, HttpError::Throttled { retries: 2, .. }), "{e}");
        assert_eq!(crate::exit::Exit::exit_code(&e), crate::exit::ENVIRONMENT);
        assert_eq!(client.throttles().len(), 2);
        assert_eq!(server.received_requests().await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn the_embedded_simulator_s_429_is_judged_as_it_is() {
        let server = throttling_once().await;
        let url = Url::parse(&format!("{}/v2/token", server.uri())).unwrap();
        let client = TokenClient::new(true).unwrap();
        let answer = client.send(&url, &HttpCall::get_post()).await.unwrap();
        assert_eq!(answer.status, 429, "TE-03 sees the throttling shape");
        assert!(client.throttles().is_empty());
    }

    impl HttpCall {
        fn get_post() -> Self {
            Self {
                method: reqwest::Method::POST,
                ..Self::get()
            }
        }
    }
}
