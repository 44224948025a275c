//! The World: what one scenario has seen and holds (its app, the authorize URL, the browser it
//! borrowed, the code, the token responses), and the helpers that turn a mismatch into a failure
//! naming the check, the requirement, expected and actual values, and the redacted evidence.

use super::{current_context, Context};
use crate::browser::{Browser, BrowserError};
use crate::evidence::Redactor;
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
        })
    }

    /// Before hook: note the check the scenario implements.
    pub(super) fn begin(&mut self, scenario: &cucumber::gherkin::Scenario) {
        self.check = Check::from_tags(&scenario.tags);
    }

    /// After hook: give the browser back; say whether the environment failed, and what the
    /// scenario judged.
    pub(super) async fn end(&mut self) -> (Option<String>, Vec<Judgement>, Vec<String>) {
        if let Some(b) = self.browser.take() {
            let healthy = self.environment_failure.is_none() && b.reset_page().await.is_ok();
            match (&self.ctx.browsers, healthy) {
                (Some(pool), true) => pool.release(b),
                _ => b.close().await,
            }
        }
        (
            self.environment_failure.take(),
            std::mem::take(&mut self.judgements),
            std::mem::take(&mut self.observations),
        )
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
        let text = self.redactor.apply(&what.to_string());
        self.observations.push(text);
    }

    /// The target under test.
    pub fn target(&self) -> &Target {
        &self.ctx.target
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
        Failure(self.redactor.apply(&msg))
    }

    /// A failure of the environment (browser, driver, network): the run exits 3.
    pub fn environment(&mut self, cause: impl fmt::Display) -> Failure {
        let cause = self.redactor.apply(&cause.to_string());
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
                Ok(b) => self.browser = Some(b),
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
        for s in req.secrets() {
            self.redactor.add(s);
        }
        let endpoint = self.ctx.target.token_endpoint.clone();
        let outcome = match self.ctx.http.token(&endpoint, &req).await {
            Ok(o) => o,
            Err(e @ (HttpError::Unreachable { .. } | HttpError::Client(_))) => {
                return Err(self.environment(e))
            }
            Err(e @ HttpError::Timeout { .. }) => {
                return Err(self.fail("the token endpoint answers", "a response", e))
            }
        };
        if let Some(t) = outcome.tokens() {
            for s in [&t.access_token, &t.refresh_token].into_iter().flatten() {
                self.redactor.add(s);
            }
            if outcome.status == 200 {
                if let Some(at) = t.access_token {
                    self.access_token = Some(at);
                }
                if let Some(rt) = t.refresh_token {
                    self.refresh_token = Some(rt);
                }
            }
        }
        self.last_token_request = Some(req);
        if let Some(prev) = self.token.replace(outcome) {
            self.earlier_tokens.push(prev);
        }
        Ok(())
    }

    /// The last token response, or a failure saying none was received.
    pub fn token(&self) -> Result<&TokenOutcome, Failure> {
        self.token
            .as_ref()
            .ok_or_else(|| Failure("no token request was sent in this scenario".into()))
    }
}
