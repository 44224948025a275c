//! The World: what one scenario has seen and holds (its app, the authorize URL, the browser it
//! borrowed, the code, the token responses), and the helpers that turn a mismatch into a failure
//! naming the check, the requirement, expected and actual values, and the redacted evidence.

use super::{current_context, Context};
use crate::browser::{Browser, BrowserError};
use crate::evidence::Redactor;
use crate::http::HttpCall;
use crate::http::{HttpError, TokenOutcome};
use crate::oauth::{AuthorizeRequest, Pkce, TokenRequest};
use crate::secret::Secret;
use crate::target::{App, AppKind, Target};
use std::fmt;
use std::sync::Arc;

/// A failed step. Its text is what the report shows.
#[derive(Debug)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

/// What a step returns.
pub type Outcome = Result<(), Failure>;

/// Masks credential-bearing URL parameters (`code`, tokens, secrets) the redactor may not know,
/// such as a code the scenario never took because the check failed first.
pub fn mask_credentials(text: &str) -> String {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"([?&#](?:code|access_token|refresh_token|id_token|client_secret|code_verifier|password)=)[^\[&#\s\x22'][^&#\s\x22']*",
        )
        .ok()
    });
    match re {
        Some(re) => re.replace_all(text, "${1}[masked]").into_owned(),
        None => text.to_owned(),
    }
}

/// The check a scenario implements, from its tags.
#[derive(Debug, Default, Clone)]
pub struct Check {
    pub id: String,
    pub requirement: String,
    pub level: String,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{} {} {}]", self.id, self.requirement, self.level)
    }
}

const LEVELS: &[&str] = &["MUST", "SHOULD", "MAY", "PROBE"];

impl Check {
    fn from_tags(tags: &[String]) -> Self {
        let mut c = Check {
            id: super::features::check_id(tags).unwrap_or("").to_owned(),
            ..Check::default()
        };
        for t in tags {
            if let Some(req) = t.strip_prefix("req:") {
                c.requirement = req.to_owned();
            } else if LEVELS.contains(&t.as_str()) {
                c.level = t.clone();
            }
        }
        c
    }
}

/// What a scenario concluded about its check (RFC 2119 levels, as the OpenID Foundation suite
/// reports them: a failed SHOULD is a warning, a PROBE reports what it saw).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Passed,
    /// A MAY check that was not met, or a PROBE observation that is not a weakness.
    Note,
    /// A PROBE that observed a known weakness.
    Finding,
    /// A SHOULD check that was not met (a failure with `--strict`).
    Warning,
    Failed,
}

/// One judgement a step made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Judgement {
    pub verdict: Verdict,
    pub message: String,
}

/// A change to the authorize request's query, applied when the URL is built.
#[derive(Debug, Clone)]
pub enum Tweak {
    /// Set a parameter (its value percent-encoded), adding it if absent.
    Set(String, String),
    /// Leave a parameter out.
    Remove(String),
    /// Append raw query text, as given.
    Append(String),
}

/// What a scenario leaves behind when it ends.
#[derive(Debug, Default)]
pub struct ScenarioEnd {
    /// What the scenario saw of the target, masked, for the baseline snapshot.
    pub observation: serde_json::Value,
    pub environment: Option<String>,
    pub judgements: Vec<Judgement>,
    pub observations: Vec<String>,
    pub evidence: Vec<crate::evidence::Exchange>,
    pub shots: Vec<usize>,
}

/// One authorization as the browser saw it.
#[derive(Debug, Clone)]
pub struct Authorization {
    /// The URL the browser ended on, as the browser reported it. Holds the code: never print
    /// it unredacted.
    pub landed_url: String,
    /// Whether the login page was shown on the way.
    pub saw_login_page: bool,
}

/// The state of one scenario.
#[derive(cucumber::World)]
#[world(init = Self::new)]
pub struct OAuthWorld {
    ctx: Arc<Context>,
    pub check: Check,
    pub app: Option<AppKind>,
    pub request: Option<AuthorizeRequest>,
    pub pkce: Option<Pkce>,
    pub use_pkce: bool,
    pub authorize_url: Option<String>,
    browser: Option<Browser>,
    pub authorization: Option<Authorization>,
    pub code: Option<Secret>,
    pub last_token_request: Option<TokenRequest>,
    pub token: Option<TokenOutcome>,
    /// Token responses before the last one, oldest first.
    pub earlier_tokens: Vec<TokenOutcome>,
    pub access_token: Option<Secret>,
    pub refresh_token: Option<Secret>,
    /// Refresh tokens already spent on a refresh, newest last.
    pub spent_refresh_tokens: Vec<Secret>,
    pub redactor: Redactor,
    environment_failure: Option<String>,
    /// Warnings, findings and notes of this scenario.
    pub judgements: Vec<Judgement>,
    /// Changes to the authorize request's query.
    pub tweaks: Vec<Tweak>,
    /// Requests the browser sent during this scenario.
    pub net: Vec<crate::browser::session::NetRequest>,
    /// Codes or tokens collected for an entropy estimate.
    pub collected: Vec<Secret>,
    /// The token response of the first redemption (for checks on what a reuse revokes).
    pub first_tokens: Option<TokenOutcome>,
    /// Answers to requests sent at once.
    pub batch: Vec<TokenOutcome>,
    /// A second authorization of the same app: its code and PKCE pair.
    pub second: Option<(Secret, Option<Pkce>)>,
    /// Every HTTP exchange of this scenario, redacted.
    pub evidence: Vec<crate::evidence::Exchange>,
    /// Screenshots (indices into the run's store) of the pages this scenario showed.
    pub shots: Vec<usize>,
    /// Whether the state was made up by the harness (so a baseline must not hold its value).
    pub state_is_random: bool,
    /// Observations a PROBE records whatever it concludes.
    pub observations: Vec<String>,
}

impl fmt::Debug for OAuthWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthWorld")
            .field("check", &self.check)
            .field("app", &self.app)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl OAuthWorld {
    async fn new() -> Result<Self, Failure> {
        let ctx = current_context().ok_or_else(|| {
            Failure("no run in progress: start scenarios with `sfmc-conformance run`".into())
        })?;
        let mut redactor = Redactor::default();
        let t = &ctx.target;
        for s in [&t.web_app.client_secret, &t.public_app.client_secret]
            .into_iter()
            .flatten()
            .chain([&t.user.password])
        {
            redactor.add(s);
        }
        Ok(Self {
            ctx,
            check: Check::default(),
            app: None,
            request: None,
            pkce: None,
            use_pkce: false,
            authorize_url: None,
            browser: None,
            authorization: None,
            code: None,
            last_token_request: None,
            token: None,
            earlier_tokens: Vec::new(),
            access_token: None,
            refresh_token: None,
            spent_refresh_tokens: Vec::new(),
            redactor,
            environment_failure: None,
            judgements: Vec::new(),
            observations: Vec::new(),
            tweaks: Vec::new(),
            net: Vec::new(),
            collected: Vec::new(),
            first_tokens: None,
            batch: Vec::new(),
            second: None,
            evidence: Vec::new(),
            shots: Vec::new(),
            state_is_random: false,
        })
    }

    /// Before hook: note the check the scenario implements.
    pub(super) fn begin(&mut self, scenario: &cucumber::gherkin::Scenario) {
        self.check = Check::from_tags(&scenario.tags);
    }

    /// After hook: give the browser back; say whether the environment failed, and what the
    /// scenario judged, observed and kept as evidence.
    pub(super) async fn end(&mut self) -> ScenarioEnd {
        if let Some(b) = self.browser.take() {
            // Every browser scenario starts with a navigation, so the page is left as it is.
            let healthy = self.environment_failure.is_none();
            match (&self.ctx.browsers, healthy) {
                (Some(pool), true) => pool.release(b),
                _ => b.close().await,
            }
        }
        let mut evidence = std::mem::take(&mut self.evidence);
        for e in &mut evidence {
            e.request_body = mask_credentials(&self.redactor.apply(&e.request_body));
            e.response_body = mask_credentials(&self.redactor.apply(&e.response_body));
            e.url = mask_credentials(&self.redactor.apply(&e.url));
        }
        let explicit_state = self
            .request
            .as_ref()
            .and_then(|r| r.state.clone())
            .filter(|_| !self.state_is_random);
        let observation = crate::report::snapshot::observation(
            self.authorize_url
                .as_deref()
                .map(mask_credentials)
                .as_deref(),
            self.authorization
                .as_ref()
                .map(|a| mask_credentials(&self.redactor.apply(&a.landed_url)))
                .as_deref(),
            explicit_state.as_deref(),
            &evidence,
        );
        ScenarioEnd {
            observation,
            environment: self.environment_failure.take(),
            judgements: std::mem::take(&mut self.judgements),
            observations: std::mem::take(&mut self.observations),
            evidence,
            shots: std::mem::take(&mut self.shots),
        }
    }

    /// Keeps a screenshot of the browser's page at `url`, once per distinct page (origin, path
    /// and label) of the run, so a run of 200 scenarios takes a handful of screenshots.
    pub async fn snap(&mut self, label: &str, url: &str) {
        if !self.ctx.screenshots {
            return;
        }
        let key = format!("{label}|{}", url.split(['?', '#']).next().unwrap_or(""));
        if let Some(i) = self.ctx.shot_index(&key) {
            if !self.shots.contains(&i) {
                self.shots.push(i);
            }
            return;
        }
        let Some(browser) = self.browser.as_ref() else {
            return;
        };
        if let Ok(png) = browser.screenshot().await {
            let shown = mask_credentials(&self.redactor.apply(url));
            let shot = crate::report::Screenshot {
                label: label.to_owned(),
                url: shown,
                png,
            };
            let i = self.ctx.add_shot(key, shot);
            self.shots.push(i);
        }
    }

    /// Judges a check that was not met, by the scenario's level: a MUST fails the step; a SHOULD
    /// is a warning (a failure with `--strict`); a PROBE records a finding; a MAY a note.
    pub fn judge(
        &mut self,
        what: &str,
        expected: impl fmt::Display,
        actual: impl fmt::Display,
    ) -> Outcome {
        let failure = self.fail(what, expected, actual);
        let verdict = match self.check.level.as_str() {
            "SHOULD" if !self.ctx.strict => Verdict::Warning,
            "PROBE" => Verdict::Finding,
            "MAY" => Verdict::Note,
            _ => return Err(failure),
        };
        self.judgements.push(Judgement {
            verdict,
            message: failure.0,
        });
        Ok(())
    }

    /// `Ok` if `ok`, else [`OAuthWorld::judge`].
    pub fn expect(
        &mut self,
        ok: bool,
        what: &str,
        expected: impl fmt::Display,
        actual: impl fmt::Display,
    ) -> Outcome {
        if ok {
            Ok(())
        } else {
            self.judge(what, expected, actual)
        }
    }

    /// Records what a PROBE saw, redacted.
    pub fn observe(&mut self, what: impl fmt::Display) {
        let text = mask_credentials(&self.redactor.apply(&what.to_string()));
        self.observations.push(text);
    }

    /// The target under test.
    pub fn target(&self) -> &Target {
        &self.ctx.target
    }

    /// The run's context (helpers, HTTP client).
    pub fn ctx(&self) -> &Context {
        &self.ctx
    }

    /// Expands `{registered}`, `{scheme}`, `{host}`, `{port}`, `{path}`, `{canary}`,
    /// `{other_registered}`, `{registered_with_query}` and `{ungranted_scope}` in a value.
    pub fn expand(&self, template: &str) -> Result<String, Failure> {
        let app = self.app()?;
        let registered = url::Url::parse(&app.redirect_uri)
            .map_err(|e| Failure(format!("the app's redirect URI is not a URL: {e}")))?;
        let port = registered
            .port_or_known_default()
            .map(|p| p.to_string())
            .unwrap_or_default();
        let with_query = app.other_redirect_uris.iter().find(|u| u.contains('?'));
        let other = app.other_redirect_uris.first();
        let mut out = template
            .replace("{registered}", &app.redirect_uri)
            .replace("{scheme}", registered.scheme())
            .replace("{host}", registered.host_str().unwrap_or(""))
            .replace("{port}", &port)
            .replace("{path}", registered.path())
            .replace("{canary}", &self.ctx.aux.canary_host())
            .replace("{ungranted_scope}", &app.ungranted_scope);
        for (name, value) in [
            ("{registered_with_query}", with_query),
            ("{other_registered}", other),
        ] {
            if out.contains(name) {
                let v = value.ok_or_else(|| {
                    Failure(format!(
                        "the target's {} has no redirect URI for {name}",
                        app.kind
                    ))
                })?;
                out = out.replace(name, v);
            }
        }
        Ok(out)
    }

    /// Lets `d` pass: the simulator's clock moves at once; a live target is waited for.
    pub async fn wait(&mut self, d: std::time::Duration) {
        match self.ctx.target.simulator() {
            Some(sim) => sim.advance_clock(d),
            None => tokio::time::sleep(d).await,
        }
    }

    /// Adds what the browser requested since the last call to [`OAuthWorld::net`].
    pub async fn drain_network(&mut self) -> Outcome {
        let browser = self.browser().await?;
        match browser.network_requests().await {
            Ok(reqs) => {
                self.net.extend(reqs);
                Ok(())
            }
            Err(e) => Err(self.browser_failure(e)),
        }
    }

    /// The redirect URI the authorize request carries (after the scenario's changes), decoded.
    pub fn requested_redirect_uri(&self) -> Option<String> {
        let url = self.authorize_url.as_deref()?;
        let query = crate::oauth::authorize::callback_query(url);
        let raw = crate::oauth::encoding::raw_query_values(query, "redirect_uri");
        raw.first()
            .map(|v| String::from_utf8_lossy(&crate::oauth::encoding::decode_once(v)).into_owned())
    }

    /// The app the scenario acts as.
    pub fn app(&self) -> Result<&App, Failure> {
        match self.app {
            Some(kind) => Ok(self.ctx.target.app(kind)),
            None => Err(Failure(
                "no app chosen: start with `Given the web app` or `Given the public app`".into(),
            )),
        }
    }

    /// A failure of the target: expected against actual, with the check and the evidence.
    pub fn fail(
        &self,
        what: &str,
        expected: impl fmt::Display,
        actual: impl fmt::Display,
    ) -> Failure {
        let mut msg = format!(
            "{} {what}\n  expected: {expected}\n  actual:   {actual}",
            self.check
        );
        if let Some(t) = &self.token {
            msg.push_str("\n  evidence (last token request):\n");
            for line in t.exchange.to_string().lines() {
                msg.push_str("    ");
                msg.push_str(line);
                msg.push('\n');
            }
        }
        if let Some(a) = &self.authorization {
            msg.push_str(&format!("\n  browser ended on: {}", a.landed_url));
        }
        Failure(mask_credentials(&self.redactor.apply(&msg)))
    }

    /// A failure of the environment (browser, driver, network): the run exits 3.
    pub fn environment(&mut self, cause: impl fmt::Display) -> Failure {
        let cause = mask_credentials(&self.redactor.apply(&cause.to_string()));
        self.environment_failure = Some(cause.clone());
        Failure(format!("{} environment failure: {cause}", self.check))
    }

    /// A browser error: environment, or the target's page not being what the script expects.
    pub fn browser_failure(&mut self, e: BrowserError) -> Failure {
        if e.is_environment() {
            self.environment(e)
        } else {
            self.fail(
                "the login script met an unexpected page",
                "the script's elements",
                e,
            )
        }
    }

    /// The scenario's browser, started on first use.
    pub async fn browser(&mut self) -> Result<&Browser, Failure> {
        if self.browser.is_none() {
            let pool = match &self.ctx.browsers {
                Some(p) => p,
                None => {
                    return Err(self.environment(
                        "this scenario needs the browser but none was started; tag it @browser",
                    ))
                }
            };
            match pool.acquire().await {
                Ok(b) => {
                    // The log holds the previous scenario's requests: start this one empty.
                    let _ = b.network_requests().await;
                    self.browser = Some(b);
                }
                Err(e) => return Err(self.environment(e)),
            }
        }
        match &self.browser {
            Some(b) => Ok(b),
            None => Err(Failure("browser unavailable".into())),
        }
    }

    /// Remembers a secret so that no failure message can show it.
    pub fn keep_secret(&mut self, s: &Secret) {
        self.redactor.add(s);
    }

    /// Sends `req` to the token endpoint and keeps the answer and any tokens it carries.
    pub async fn send_token_request(&mut self, req: TokenRequest) -> Outcome {
        let call = HttpCall::json(
            req.to_json().to_string(),
            req.secrets().into_iter().cloned(),
        );
        self.last_token_request = Some(req);
        self.send_call(call).await
    }

    /// Sends any call to the token endpoint and keeps the answer like [`Self::send_token_request`].
    pub async fn send_call(&mut self, call: HttpCall) -> Outcome {
        let endpoint = self.ctx.target.token_endpoint.clone();
        let outcome = self.call(&endpoint, call).await?;
        self.keep_token_outcome(outcome);
        Ok(())
    }

    /// Sends `call` to `endpoint` (bounded); an unreachable target is an environment failure.
    pub async fn call(
        &mut self,
        endpoint: &url::Url,
        call: HttpCall,
    ) -> Result<TokenOutcome, Failure> {
        for s in &call.secrets {
            self.redactor.add(s);
        }
        match self.ctx.http.send(endpoint, &call).await {
            Ok(o) => {
                if let Some(t) = o.tokens() {
                    for s in [&t.access_token, &t.refresh_token].into_iter().flatten() {
                        self.redactor.add(s);
                    }
                }
                self.evidence.push(o.exchange.clone());
                Ok(o)
            }
            Err(e @ (HttpError::Unreachable { .. } | HttpError::Client(_))) => {
                Err(self.environment(e))
            }
            Err(e @ HttpError::Timeout { .. }) => {
                Err(self.fail("the target answers", "a response", e))
            }
        }
    }

    /// Sends `req` to the token endpoint `n` times at once; the answers go to [`Self::batch`].
    pub async fn send_at_once(&mut self, req: &TokenRequest, n: usize) -> Outcome {
        let endpoint = self.ctx.target.token_endpoint.clone();
        let call = HttpCall::token_request(req);
        let http = self.ctx.http.clone();
        let answers = futures::future::join_all((0..n).map(|_| http.send(&endpoint, &call))).await;
        for a in answers {
            match a {
                Ok(o) => {
                    if let Some(t) = o.tokens() {
                        for s in [&t.access_token, &t.refresh_token].into_iter().flatten() {
                            self.redactor.add(s);
                        }
                    }
                    self.batch.push(o);
                }
                Err(e) => return Err(self.environment(e)),
            }
        }
        Ok(())
    }

    /// Keeps a token-endpoint answer as the scenario's latest, and its tokens.
    pub fn keep_token_outcome(&mut self, outcome: TokenOutcome) {
        if let Some(t) = outcome.tokens() {
            if outcome.status == 200 {
                if let Some(at) = t.access_token {
                    self.access_token = Some(at);
                }
                if let Some(rt) = t.refresh_token {
                    self.refresh_token = Some(rt);
                }
            }
        }
        if let Some(prev) = self.token.replace(outcome) {
            self.earlier_tokens.push(prev);
        }
    }

    /// The last token response, or a failure saying none was received.
    pub fn token(&self) -> Result<&TokenOutcome, Failure> {
        self.token
            .as_ref()
            .ok_or_else(|| Failure("no token request was sent in this scenario".into()))
    }
}
