//! The World: what one scenario has seen and holds (its app, the authorize request, the browser
//! it borrowed, the authorization response, the code, the token responses), and the helpers
//! that turn a mismatch into a [`Failure`] naming the check, the requirement, expected and
//! actual values, and the redacted evidence.

use super::Context;
use crate::browser::{Browser, BrowserError};
use crate::evidence::Redactor;
use crate::http::HttpCall;
use crate::http::{HttpError, TokenOutcome};
use crate::oauth::{AuthorizationResponse, AuthorizeRequest, Pkce, TokenRequest};
pub use crate::outcome::Failure;
use crate::outcome::{Check, FailureKind, Judgement, Level, Observed, Verdict};
use crate::secret::Secret;
use crate::target::{App, AppKind, Target};
use std::fmt;
use std::sync::Arc;

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

/// What a scenario leaves behind when it ends (the runner adds how cucumber says it ended).
#[derive(Debug, Default)]
pub struct ScenarioEnd {
    pub raised: Vec<Failure>,
    pub judgements: Vec<Judgement>,
    pub observations: Vec<String>,
    pub observed: Observed,
    pub evidence: Vec<crate::evidence::Exchange>,
    pub screenshots: Vec<usize>,
    /// The browser as the step that did not meet the check left it.
    pub failing_shot: Option<usize>,
    /// The target's faults this scenario consulted (the simulator's), by name.
    pub consulted: Vec<String>,
}

/// One authorization as the browser saw it.
#[derive(Debug, Clone)]
pub struct Authorization {
    /// The authorization response, parsed from where the browser ended. Holds the code.
    pub response: AuthorizationResponse,
    /// Whether the login page was shown on the way.
    pub saw_login_page: bool,
}

/// The state of one scenario.
#[derive(cucumber::World)]
#[world(init = Self::new)]
pub struct OAuthWorld {
    ctx: Arc<Context>,
    /// This scenario's own canary listener: a request it hears was caused by this scenario.
    canary: super::canary::Canary,
    pub check: Check,
    pub app: Option<AppKind>,
    pub request: Option<AuthorizeRequest>,
    pub pkce: Option<Pkce>,
    pub use_pkce: bool,
    /// Whether the REST API took the access token in the query string (BP-07).
    pub query_token_accepted: Option<bool>,
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
    /// The failures made so far, typed (cucumber keeps only the text of the one a step
    /// returns; the after hook finds it here by that text). Behind a lock because
    /// [`Self::fail`] takes `&self`.
    raised: std::sync::Mutex<Vec<Failure>>,
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
    /// Observations a PROBE records whatever it concludes.
    pub observations: Vec<String>,
    /// The simulator's watch of the faults this scenario consults.
    watch: Option<u64>,
    /// When the running step and the scenario must end.
    deadlines: super::limits::Deadlines,
    /// The steps that ran so far, in order.
    ran: Vec<super::limits::Ran>,
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
        let ctx = super::current_context().ok_or_else(|| {
            Failure::scenario("no run in progress: start scenarios with `sfmc-conformance run`")
        })?;
        let redactor = Redactor::of(ctx.target.secrets());
        let canary = super::canary::Canary::start()
            .await
            .map_err(|e| Failure::scenario(format!("cannot start the canary listener: {e}")))?;
        Ok(Self {
            ctx,
            canary,
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
            query_token_accepted: None,
            refresh_token: None,
            spent_refresh_tokens: Vec::new(),
            redactor,
            raised: std::sync::Mutex::default(),
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
            watch: None,
            deadlines: Default::default(),
            ran: Vec::new(),
        })
    }

    /// Before hook: note the check the scenario implements.
    pub(super) fn begin(&mut self, scenario: &cucumber::gherkin::Scenario) {
        self.check = Check::from_tags(&scenario.tags);
        self.watch = self.ctx.target.controls().map(|c| c.watch());
        self.deadlines.start_scenario(self.ctx.timeouts.scenario);
    }

    pub(super) fn deadlines(&self) -> &super::limits::Deadlines {
        &self.deadlines
    }

    pub(super) fn note_step(&mut self, ran: super::limits::Ran) {
        self.ran.push(ran);
    }

    /// The steps that ran, in order.
    pub(super) fn ran(&self) -> &[super::limits::Ran] {
        &self.ran
    }

    pub(super) fn timeouts(&self) -> crate::timeouts::Timeouts {
        self.ctx.timeouts
    }

    fn raised(&self) -> std::sync::MutexGuard<'_, Vec<Failure>> {
        self.raised.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps a typed copy of a failure this scenario made, and returns it.
    fn raise(&self, failure: Failure) -> Failure {
        self.raised().push(failure.clone());
        failure
    }

    /// The check does not apply to this target: the target lacks what it needs (`reason` says
    /// what, so the user can add it). Never a failure.
    pub fn not_applicable(&self, reason: impl Into<String>) -> Failure {
        self.raise(Failure::not_applicable(&self.check, reason))
    }

    /// Whether a step failed for the environment's sake.
    fn environment_failed(&self) -> bool {
        self.raised()
            .iter()
            .any(|f| f.kind == FailureKind::Environment)
    }

    /// After hook: give the browser back (a healthy one to the pool); hand over what the scenario
    /// raised, judged, observed and kept as evidence.
    pub(super) async fn end(&mut self) -> ScenarioEnd {
        let failing_shot = if self.check_unmet() {
            self.failing_shot().await
        } else {
            None
        };
        if let Some(b) = self.browser.take() {
            // Every browser scenario starts with a navigation, so the page is left as it is.
            match (&self.ctx.browsers, self.environment_failed()) {
                (Some(pool), false) if b.close_pop_ups().await.is_ok() => pool.release(b),
                _ => b.close().await,
            }
        }
        let consulted = match (self.watch.take(), self.ctx.target.controls()) {
            (Some(id), Some(c)) => c.consulted(id),
            _ => Vec::new(),
        };
        let mut evidence = std::mem::take(&mut self.evidence);
        for e in &mut evidence {
            e.request_body = self.clean(&e.request_body);
            e.response_body = self.clean(&e.response_body);
            e.url = self.clean(&e.url);
        }
        let observed = Observed {
            authorize_url: self.authorize_url.as_deref().map(mask_credentials),
            landed_url: self
                .authorization
                .as_ref()
                .map(|a| self.clean(&a.response.url)),
            chosen_state: self
                .request
                .as_ref()
                .and_then(|r| r.state.as_ref())
                .and_then(|s| s.chosen())
                .map(str::to_owned),
        };
        ScenarioEnd {
            raised: std::mem::take(self.raised.get_mut().unwrap_or_else(|p| p.into_inner())),
            judgements: std::mem::take(&mut self.judgements),
            observations: std::mem::take(&mut self.observations),
            observed,
            evidence,
            screenshots: std::mem::take(&mut self.shots),
            failing_shot,
            consulted,
        }
    }

    /// Whether the scenario found a check unmet in a way the report shows with evidence: a step
    /// failed it, or a warning or finding was recorded (notes are listed, not shown).
    fn check_unmet(&self) -> bool {
        self.step_failed_check()
            || self
                .judgements
                .iter()
                .any(|j| matches!(j.verdict, Verdict::Warning | Verdict::Finding))
    }

    /// Whether a step failed the check (which stops the scenario at that step).
    fn step_failed_check(&self) -> bool {
        self.raised().iter().any(|f| f.kind == FailureKind::Target)
    }

    /// A screenshot of the browser as the scenario left it, kept for this scenario alone. A
    /// failed step stops its scenario, so then it is the page the browser showed when that step
    /// failed (for an HTTP step, the page the flow had reached); a warning or finding lets the
    /// scenario go on, so then it is the page when the scenario ended, and says so. None without a browser,
    /// with screenshots off, or on Chromium's own error page (it shows nothing of the target).
    async fn failing_shot(&mut self) -> Option<usize> {
        if !self.ctx.screenshots {
            return None;
        }
        let browser = self.browser.as_ref()?;
        let url = browser.current_url().await.ok()?;
        if browser.shows_own_error_page().await {
            return None;
        }
        let png = browser.screenshot_of_content().await.ok()?;
        let label = if self.step_failed_check() {
            "the browser when the step failed"
        } else {
            "the browser when the scenario ended"
        };
        let shot = crate::outcome::Screenshot {
            label: label.to_owned(),
            url: self.clean(&url),
            kind: crate::outcome::ShotKind::Failing,
            png,
        };
        // A key no other screenshot has: this one is the scenario's own.
        let key = format!("failing|{}|{}", self.check.id, self.ctx.shot_count());
        Some(self.ctx.add_shot(key, shot))
    }

    /// `text` with every secret the scenario knows replaced, and credential parameters masked.
    pub fn clean(&self, text: &str) -> String {
        mask_credentials(&self.redactor.apply(text))
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
        // Chromium's own error page is never kept as if it were evidence.
        if browser.shows_own_error_page().await {
            return;
        }
        if let Ok(png) = browser.screenshot_of_content().await {
            let shown = self.clean(url);
            let target = &self.ctx.target;
            let at_redirect_uri = [&target.web_app, &target.public_app]
                .into_iter()
                .chain(target.second_web_app.as_ref())
                .flat_map(|a| std::iter::once(&a.redirect_uri).chain(&a.other_redirect_uris))
                .any(|uri| crate::oauth::authorize::is_callback(url, uri));
            let kind = if label == "login page" {
                crate::outcome::ShotKind::Login
            } else if at_redirect_uri {
                crate::outcome::ShotKind::Callback
            } else {
                crate::outcome::ShotKind::Page
            };
            let shot = crate::outcome::Screenshot {
                label: label.to_owned(),
                url: shown,
                kind,
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
        match Level::unmet(self.check.level, self.ctx.strict) {
            crate::outcome::Verdict::Failed => Err(failure),
            verdict => {
                self.judgements.push(Judgement {
                    verdict,
                    message: failure.to_string(),
                });
                Ok(())
            }
        }
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
        let text = self.clean(&what.to_string());
        self.observations.push(text);
    }

    /// The target under test.
    pub fn target(&self) -> &Target {
        &self.ctx.target
    }

    /// `127.0.0.1:PORT` of this scenario's canary listener.
    pub fn canary_host(&self) -> String {
        let a = self.canary.address();
        format!("{}:{}", a.ip(), a.port())
    }

    /// How many requests this scenario's canary has received (it must stay at zero).
    pub async fn canary_heard(&self) -> usize {
        self.canary.heard()
    }

    /// The run's context (helpers, HTTP client).
    pub fn ctx(&self) -> &Context {
        &self.ctx
    }

    /// Expands `{registered}`, `{scheme}`, `{host}`, `{port}`, `{path}`, `{canary}`,
    /// `{other_registered}`, `{registered_with_query}`, `{client_id}`, the scopes and `{ungranted_scope}`
    /// in a value.
    pub fn expand(&self, template: &str) -> Result<String, Failure> {
        let app = self.app()?;
        let registered = url::Url::parse(&app.redirect_uri)
            .map_err(|e| Failure::scenario(format!("the app's redirect URI is not a URL: {e}")))?;
        let port = registered
            .port_or_known_default()
            .map(|p| p.to_string())
            .unwrap_or_default();
        let with_query = app.other_redirect_uris.iter().find(|u| u.contains('?'));
        let other = app.other_redirect_uris.first();
        let target = self.target();
        let scopes = target.authorize_scopes(app);
        // What a default code exchange is granted: Marketing Cloud adds its refresh scope there.
        let mut granted = scopes.clone();
        if !granted.contains(&target.refresh_scope) {
            granted.push(target.refresh_scope.clone());
        }
        let reversed = |v: &[String]| v.iter().rev().cloned().collect::<Vec<_>>().join(" ");
        let mut out = template
            .replace("{scopes}", &scopes.join(" "))
            .replace("{scopes_reversed}", &reversed(&scopes))
            .replace("{granted}", &granted.join(" "))
            .replace("{granted_reversed}", &reversed(&granted))
            .replace("{first_scope}", scopes.first().map_or("", String::as_str))
            .replace("{refresh_scope}", &target.refresh_scope)
            .replace("{registered}", &app.redirect_uri)
            .replace("{client_id}", &app.client_id)
            .replace("{scheme}", registered.scheme())
            .replace("{host}", registered.host_str().unwrap_or(""))
            .replace("{port}", &port)
            .replace("{path}", registered.path())
            .replace("{canary}", &self.canary_host())
            .replace("{ungranted_scope}", &app.ungranted_scope);
        if out.contains("{wider_scope}") {
            let wider = app.wider_scope.as_deref().ok_or_else(|| {
                self.not_applicable(format!(
                    "needs a scope the {} may be granted but does not ask for: name it in its wider_scope",
                    app.kind
                ))
            })?;
            out = out.replace("{wider_scope}", wider);
        }
        for (name, value, missing) in [
            (
                "{registered_with_query}",
                with_query,
                "a registered redirect URI with a query",
            ),
            (
                "{other_registered}",
                other,
                "a second registered redirect URI",
            ),
        ] {
            if out.contains(name) {
                let v = value.ok_or_else(|| {
                    self.not_applicable(format!(
                        "needs {missing}: register one on the {} and list it with its other redirect URIs",
                        app.kind
                    ))
                })?;
                out = out.replace(name, v);
            }
        }
        Ok(out)
    }

    /// Lets `d` pass: the simulator's clock moves at once; a live target is waited for.
    /// The wait counts against neither the step's nor the scenario's time limit.
    pub async fn wait(&mut self, d: std::time::Duration) {
        // Only a live target's wait takes real time; the simulator's clock moves at once.
        if self.ctx.target.controls().is_none() {
            self.deadlines.extend(d);
        }
        self.ctx.target.wait(d).await;
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
        crate::oauth::authorize::query_params(url)
            .into_iter()
            .find(|(k, _)| k == "redirect_uri")
            .map(|(_, v)| v.text())
    }

    /// The authorization response the browser ended on, or a failure saying none was seen.
    pub fn response(&self) -> Result<&AuthorizationResponse, Failure> {
        self.authorization
            .as_ref()
            .map(|a| &a.response)
            .ok_or_else(|| {
                Failure::scenario("the browser has not been through an authorization yet")
            })
    }

    /// The app the scenario acts as.
    pub fn app(&self) -> Result<&App, Failure> {
        match self.app {
            Some(kind) => Ok(self.ctx.target.app(kind)),
            None => Err(Failure::scenario(
                "no app chosen: start with `Given the web app` or `Given the public app`",
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
        let mut evidence = String::new();
        if let Some(t) = &self.token {
            evidence.push_str("\n  evidence (last token request):\n");
            for line in t.exchange.to_string().lines() {
                evidence.push_str("    ");
                evidence.push_str(line);
                evidence.push('\n');
            }
        }
        if let Some(a) = &self.authorization {
            evidence.push_str(&format!("\n  browser ended on: {}", a.response.url));
        }
        self.raise(Failure::target(
            &self.check,
            self.clean(what),
            self.clean(&expected.to_string()),
            self.clean(&actual.to_string()),
            self.clean(&evidence),
        ))
    }

    /// A failure of the environment (browser, driver, network): the run exits 3.
    pub fn environment(&mut self, cause: impl fmt::Display) -> Failure {
        self.raise(Failure::environment(
            &self.check,
            self.clean(&cause.to_string()),
        ))
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
            None => Err(Failure::scenario("browser unavailable")),
        }
    }

    /// Notes that a login failed: the run signs in no more (accounts lock after a few failures).
    pub fn login_failed(&self) {
        self.ctx
            .login_failed
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// An environment failure if an earlier login of this run failed.
    pub fn refuse_after_failed_login(&mut self) -> Outcome {
        if self
            .ctx
            .login_failed
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Err(self.environment(
                "an earlier login of this run failed: not signing in again (accounts lock after repeated failures)",
            ));
        }
        Ok(())
    }

    /// The scenario's browser, if one was started ([`Self::browser`] starts it).
    pub fn browser_ref(&self) -> Option<&Browser> {
        self.browser.as_ref()
    }

    /// Remembers a secret so that no failure message can show it.
    pub fn keep_secret(&mut self, s: &Secret) {
        self.redactor.add(s);
    }

    /// Sends `req` to the token endpoint and keeps the answer and any tokens it carries.
    pub async fn send_token_request(&mut self, req: TokenRequest) -> Outcome {
        let call = HttpCall::token_request(&req, self.ctx.target.token_style);
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
            Err(e) => Err(self.http_failure(e)),
        }
    }

    /// What a call that produced no answer to judge means: an answer that is not HTTP is the
    /// target's; everything else (unreachable, TLS checks failed, no answer within the deadline,
    /// throttled, which TE-03 judges) is the environment's.
    fn http_failure(&mut self, e: HttpError) -> Failure {
        match e {
            e @ HttpError::Malformed { .. } => {
                self.fail("the target answers in HTTP", "a parsable HTTP response", e)
            }
            e => self.environment(e),
        }
    }

    /// Sends `req` to the token endpoint `n` times at once; the answers go to [`Self::batch`].
    pub async fn send_at_once(&mut self, req: &TokenRequest, n: usize) -> Outcome {
        let endpoint = self.ctx.target.token_endpoint.clone();
        let call = HttpCall::token_request(req, self.ctx.target.token_style);
        let http = self.ctx.http.burst().await;
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
                Err(e) => return Err(self.http_failure(e)),
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
            .ok_or_else(|| Failure::scenario("no token request was sent in this scenario"))
    }
}
