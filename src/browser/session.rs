//! One WebDriver session: bounded navigation, the URL the browser ended on (exactly as the
//! browser reports it, not re-parsed), the login script, and clearing the login session.

use crate::login::{Consent, Credentials, LoginAction, LoginScript, LoginStep, Typing};
use crate::secret::Secret;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use std::future::Future;
use std::time::Duration;

/// How long a click may take to start its navigation.
pub const NAVIGATION_WAIT: Duration = Duration::from_secs(10);
/// How long a login step waits for its element (the next page of a multi-page login loading).
pub const STEP_WAIT: Duration = Duration::from_secs(10);
/// How long an optional login step waits for its element before it is skipped.
pub const OPTIONAL_STEP_WAIT: Duration = Duration::from_secs(2);

/// A browser command that failed.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("the WebDriver session could not start: {0}")]
    Session(String),
    #[error("the browser failed at `{cmd}`: {cause}")]
    Command { cmd: &'static str, cause: String },
    #[error("the browser did not finish `{cmd}` within {secs} s")]
    Timeout { cmd: &'static str, secs: u64 },
    /// The browser refused the target's certificate (untrusted, expired, for another host) or
    /// its TLS (an old version, no common cipher): nothing could be judged.
    #[error("TLS checks failed in the browser at {url}: {cause}{}", certificate.as_ref().map(|c| format!("; the server's certificate: {c}")).unwrap_or_default())]
    Tls {
        url: String,
        cause: String,
        certificate: Option<String>,
    },
    /// ChromeDriver gave up on a page load at the page-load limit.
    #[error("the page at {url} did not finish loading within {secs} s (the page-load timeout: --page-load-timeout)")]
    PageLoad { url: String, secs: u64 },
    #[error("the page has no element `{0}`")]
    MissingElement(String),
    /// A login step's element never appeared: a wrong password, a changed page, a question the
    /// script cannot answer. The environment, not the target's conformance.
    #[error("login script failed at step {step} (selector `{selector}`): no such element within {secs} s (a wrong password, a changed page, or a question the script cannot answer)")]
    LoginStep {
        step: usize,
        selector: String,
        secs: u64,
    },
    /// Every step ran, and the login page is still there.
    #[error("the login page is still showing after the login script ran (a wrong password, a locked account, or a page the script does not know)")]
    LoginRefused,
}

impl BrowserError {
    /// Whether the login itself failed: the run signs in no more (accounts lock).
    pub fn is_login(&self) -> bool {
        matches!(self, Self::LoginStep { .. } | Self::LoginRefused)
    }
}

impl BrowserError {
    /// Whether this says something about the environment (driver, browser) rather than the
    /// target's pages.
    pub fn is_environment(&self) -> bool {
        !matches!(self, Self::MissingElement(_))
    }
}

/// Chromium's name for a TLS failure, with what it means where the name does not say.
fn explain_tls(code: &str) -> String {
    if code.contains("VERSION_OR_CIPHER") || code.contains("OBSOLETE") {
        format!("{code} (the server offers only a TLS version or ciphers the browser refuses, such as TLS 1.0)")
    } else {
        code.to_owned()
    }
}

/// A headless Chromium session.
#[derive(Debug)]
pub struct Browser {
    client: Client,
    /// How long a page load may take (ChromeDriver's `pageLoad` for this session).
    page_load: Duration,
    /// How long one command may take: a page load's limit and a margin.
    limit: Duration,
}

async fn bounded<T, E: std::fmt::Display>(
    limit: Duration,
    cmd: &'static str,
    f: impl Future<Output = Result<T, E>>,
) -> Result<T, BrowserError> {
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(limit, f).await;
    if std::env::var_os("SFMC_TRACE_BROWSER").is_some() {
        eprintln!("browser: {cmd} took {} ms", started.elapsed().as_millis());
    }
    match result {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(BrowserError::Command {
            cmd,
            cause: e.to_string(),
        }),
        Err(_) => Err(BrowserError::Timeout {
            cmd,
            secs: limit.as_secs(),
        }),
    }
}

/// `GET /session/{id}/url`, whose answer is kept as the browser's own string.
#[derive(Debug)]
struct RawCurrentUrl;

impl WebDriverCompatibleCommand for RawCurrentUrl {
    fn endpoint(&self, base: &url::Url, sid: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/url", sid.unwrap_or_default()))
    }
    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::GET, None)
    }
}

/// A Chrome DevTools Protocol command through ChromeDriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp(&'static str, Value);

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &url::Url, sid: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            sid.unwrap_or_default()
        ))
    }
    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"cmd": self.0, "params": self.1}).to_string()),
        )
    }
}

/// ChromeDriver's log endpoint (`se/log`); reading it drains it.
#[derive(Debug)]
struct ReadLog(&'static str);

impl WebDriverCompatibleCommand for ReadLog {
    fn endpoint(&self, base: &url::Url, sid: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", sid.unwrap_or_default()))
    }
    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": self.0}).to_string()),
        )
    }
}

/// What [`Browser::sign_in_if_asked`] did.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The login page showed and the login script ran.
    pub signed_in: bool,
    /// The URL the browser was at when the login (and any consent) were done.
    pub landed: String,
}

/// What a cookie's attributes say about its protection.
#[derive(Debug, Clone)]
pub struct CookieFacts {
    pub name: String,
    pub secure: bool,
    pub http_only: bool,
    pub same_site_set: bool,
}

/// One request the browser sent, from its network log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetRequest {
    pub url: String,
    /// The resource type (`Document`, `Image`, ...).
    pub kind: String,
    /// Set when this request follows a redirect: the redirect's status and `Location`.
    pub redirected_by: Option<(u16, String)>,
    /// The `Referer` the browser sent.
    pub referer: Option<String>,
}

impl Browser {
    /// Every request the browser sent since the last call (the log is drained on read).
    pub async fn network_requests(&self) -> Result<Vec<NetRequest>, BrowserError> {
        let v = bounded(
            self.limit,
            "read the network log",
            self.client.issue_cmd(ReadLog("performance")),
        )
        .await?;
        let mut out = Vec::new();
        for entry in v.as_array().into_iter().flatten() {
            let Some(msg) = entry["message"].as_str() else {
                continue;
            };
            let Ok(m) = serde_json::from_str::<Value>(msg) else {
                continue;
            };
            let m = &m["message"];
            if m["method"] != "Network.requestWillBeSent" {
                continue;
            }
            let p = &m["params"];
            let redirected_by = p.get("redirectResponse").and_then(|r| {
                let status = r["status"].as_u64()? as u16;
                let headers = r["headers"].as_object()?;
                let location = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("location"))
                    .and_then(|(_, v)| v.as_str())
                    .unwrap_or("")
                    .to_owned();
                Some((status, location))
            });
            let referer = p["request"]["headers"]
                .as_object()
                .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case("referer")))
                .and_then(|(_, v)| v.as_str())
                .map(str::to_owned);
            out.push(NetRequest {
                url: p["request"]["url"].as_str().unwrap_or("").to_owned(),
                kind: p["type"].as_str().unwrap_or("").to_owned(),
                redirected_by,
                referer,
            });
        }
        Ok(out)
    }

    /// Switches into the first frame of the page, and back out with [`Browser::leave_frame`].
    pub async fn enter_first_frame(&self) -> Result<(), BrowserError> {
        bounded(self.limit, "enter a frame", self.client.enter_frame(0)).await
    }

    /// Back to the top-level page.
    pub async fn leave_frame(&self) -> Result<(), BrowserError> {
        bounded(
            self.limit,
            "leave a frame",
            self.client.enter_parent_frame(),
        )
        .await
    }

    /// The cookies the browser holds for the current page.
    pub async fn cookies(&self) -> Result<Vec<CookieFacts>, BrowserError> {
        let all = bounded(self.limit, "read cookies", self.client.get_all_cookies()).await?;
        Ok(all
            .iter()
            .map(|c| CookieFacts {
                name: c.name().to_owned(),
                secure: c.secure().unwrap_or(false),
                http_only: c.http_only().unwrap_or(false),
                same_site_set: c.same_site().is_some(),
            })
            .collect())
    }

    /// Runs a script in the page and returns its result.
    pub async fn eval(&self, script: &str) -> Result<Value, BrowserError> {
        bounded(
            self.limit,
            "run a script",
            self.client.execute(script, Vec::new()),
        )
        .await
    }

    /// Whether the page is Chromium's own (a network or TLS error page), not one a server sent:
    /// a screenshot of it shows nothing of the target.
    pub async fn shows_own_error_page(&self) -> bool {
        self.eval("return location.href")
            .await
            .ok()
            .and_then(|v| v.as_str().map(|h| h.starts_with("chrome-error:")))
            .unwrap_or(false)
    }

    /// Sizes the browser's window (CSS pixels), as a reader's screen would be.
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<(), BrowserError> {
        bounded(
            self.limit,
            "size the window",
            self.client.set_window_size(width, height),
        )
        .await
    }

    /// Sends one Chrome DevTools Protocol command (`Emulation.setEmulatedMedia`, say) and
    /// returns its result.
    pub async fn devtools(
        &self,
        method: &'static str,
        params: Value,
    ) -> Result<Value, BrowserError> {
        bounded(
            self.limit,
            "send a DevTools command",
            self.client.issue_cmd(Cdp(method, params)),
        )
        .await
    }

    /// A PNG of the part of the viewport that holds the page's text and images (from the top
    /// left corner to their farthest edges, with a margin): a page's few lines are not lost in a
    /// 1280×900 picture of white. The whole viewport when the page cannot be measured.
    pub async fn screenshot_of_content(&self) -> Result<Vec<u8>, BrowserError> {
        const MEASURE: &str = "let r=0,b=0;const w=document.createTreeWalker(document.body||document.documentElement,NodeFilter.SHOW_TEXT|NodeFilter.SHOW_ELEMENT);\
            const range=document.createRange();\
            while(w.nextNode()){const n=w.currentNode;let x;\
            if(n.nodeType===3){if(!n.textContent.trim())continue;range.selectNodeContents(n);x=range.getBoundingClientRect();}\
            else if(/^(IMG|INPUT|BUTTON|SELECT|TEXTAREA|SVG|CANVAS|IFRAME)$/i.test(n.tagName)){x=n.getBoundingClientRect();}else continue;\
            if(x.width&&x.height){r=Math.max(r,x.right);b=Math.max(b,x.bottom);}}\
            return [Math.ceil(r),Math.ceil(b),innerWidth,innerHeight];";
        let fitted = match self.eval(MEASURE).await {
            Ok(Value::Array(v)) if v.len() == 4 => {
                let n = |i: usize| v[i].as_f64().unwrap_or(0.0);
                let (w, h) = (n(2), n(3));
                let width = (n(0) + 32.0).clamp(360.0_f64.min(w), w);
                let height = (n(1) + 32.0).clamp(240.0_f64.min(h), h);
                (w > 0.0 && h > 0.0).then_some((width, height))
            }
            _ => None,
        };
        let Some((width, height)) = fitted else {
            return self.screenshot().await;
        };
        let shot = self
            .devtools(
                "Page.captureScreenshot",
                json!({"format": "png", "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}}),
            )
            .await?;
        use base64::Engine as _;
        match shot["data"]
            .as_str()
            .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
        {
            Some(png) => Ok(png),
            None => self.screenshot().await,
        }
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Result<Vec<u8>, BrowserError> {
        bounded(self.limit, "take a screenshot", self.client.screenshot()).await
    }

    /// A session whose page loads may each take `page_load` (its capabilities say so).
    pub(crate) fn new(client: Client, page_load: Duration) -> Self {
        Self {
            client,
            page_load,
            limit: page_load + crate::timeouts::COMMAND_MARGIN,
        }
    }

    /// Navigates to `url` and waits for the page (after every redirect) to load. A navigation that
    /// ends on the browser's own error page (nothing listening at the redirect URI, say) is not an
    /// error: the URL it ended on is what the checks read.
    pub async fn open(&self, url: &str) -> Result<(), BrowserError> {
        match bounded(self.limit, "navigate", self.client.goto(url)).await {
            // The browser refused the target's TLS: say so, with the certificate it was shown.
            Err(BrowserError::Command { cause, .. })
                if cause.contains("net::ERR_CERT_")
                    || cause.contains("net::ERR_SSL_")
                    || cause.contains("net::ERR_BAD_SSL") =>
            {
                // Where it was refused: a redirect may have led to another host.
                let at = match self.current_url().await {
                    Ok(here) if here.starts_with("https://") => here,
                    _ => url.to_owned(),
                };
                let parsed = url::Url::parse(&at).ok();
                let certificate = match &parsed {
                    Some(u) => crate::tls::describe_certificate(u).await,
                    None => None,
                };
                Err(BrowserError::Tls {
                    url: parsed.map_or_else(
                        || "the target".to_owned(),
                        |mut u| {
                            u.set_query(None);
                            u.set_fragment(None);
                            u.to_string()
                        },
                    ),
                    cause: explain_tls(
                        cause
                            .split("net::")
                            .nth(1)
                            .map_or(&cause, |c| c.split_whitespace().next().unwrap_or(c)),
                    ),
                    certificate,
                })
            }
            Err(BrowserError::Command { cause, .. }) if cause.contains("net::ERR_") => Ok(()),
            // ChromeDriver's own page-load limit (`timeout: Timed out receiving message from
            // renderer`): said in the user's terms, with where the page was (no query).
            Err(BrowserError::Command { cause, .. })
                if cause.contains("error: timeout:") || cause.starts_with("timeout:") =>
            {
                let shown = url::Url::parse(url).map_or_else(
                    |_| "the target".to_owned(),
                    |mut u| {
                        u.set_query(None);
                        u.set_fragment(None);
                        u.to_string()
                    },
                );
                Err(BrowserError::PageLoad {
                    url: shown,
                    secs: self.page_load.as_secs(),
                })
            }
            other => other,
        }
    }

    /// The URL of the current page, exactly as the browser reports it.
    pub async fn current_url(&self) -> Result<String, BrowserError> {
        let read = || {
            bounded(
                self.limit,
                "read the URL",
                self.client.issue_cmd(RawCurrentUrl),
            )
        };
        let mut v = read().await?;
        // ChromeDriver answers null when it has just accepted a page's dialog for this command
        // (`unhandledPromptBehavior`): ask again, a few times at most.
        for _ in 0..3 {
            if !v.is_null() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            v = read().await?;
        }
        v.as_str().map(str::to_owned).ok_or(BrowserError::Command {
            cmd: "read the URL",
            cause: format!("not a string: {v}"),
        })
    }

    /// Whether an element matches the CSS `selector`.
    pub async fn has(&self, selector: &str) -> Result<bool, BrowserError> {
        let found = bounded(
            self.limit,
            "find elements",
            self.client.find_all(Locator::Css(selector)),
        )
        .await?;
        Ok(!found.is_empty())
    }

    /// The page's title.
    pub async fn title(&self) -> Result<String, BrowserError> {
        bounded(self.limit, "read the title", self.client.title()).await
    }

    /// Types `value` into the element matching `selector`, as `typing` says.
    pub async fn fill(
        &self,
        selector: &str,
        value: &Secret,
        typing: Typing,
    ) -> Result<(), BrowserError> {
        if typing == Typing::Insert {
            // Focus the field and select what it holds, so that the text replaces it.
            let found = bounded(
                self.limit,
                "focus a field",
                self.client.execute(
                    "const e = document.querySelector(arguments[0]); if (!e) return false; \
                     e.focus(); if (typeof e.select === 'function') e.select(); \
                     return document.activeElement === e;",
                    vec![json!(selector)],
                ),
            )
            .await?;
            if found != Value::Bool(true) {
                return Err(BrowserError::MissingElement(selector.to_owned()));
            }
            return bounded(
                self.limit,
                "type into a field",
                self.client
                    .issue_cmd(Cdp("Input.insertText", json!({"text": value.expose()}))),
            )
            .await
            .map(|_| ());
        }
        let el = self.find(selector).await?;
        // Clearing costs a round trip and a re-render; only a prefilled field needs it.
        let current = bounded(self.limit, "read a field", el.prop("value")).await?;
        if current.is_some_and(|v| !v.is_empty()) {
            bounded(self.limit, "clear a field", el.clear()).await?;
        }
        bounded(
            self.limit,
            "type into a field",
            el.send_keys(value.expose()),
        )
        .await
    }

    /// Clicks the element matching `selector`; the navigation it starts may still be under way
    /// when this returns (the next command waits for it, as ChromeDriver does for every command).
    ///
    /// The click is the one ChromeDriver makes (trusted mouse events at the element's centre,
    /// through DevTools' `Input.dispatchMouseEvent`), without the wait ChromeDriver adds after
    /// it (about 100 ms a click). An element that is hidden, or covered at its centre by
    /// another, is clicked through WebDriver instead, which says what is wrong with it.
    pub async fn click(&self, selector: &str) -> Result<(), BrowserError> {
        let centre = bounded(
            self.limit,
            "find an element",
            self.client.execute(
                "const e = document.querySelector(arguments[0]); if (!e) return null; \
                 e.scrollIntoView({block: 'center', inline: 'center'}); \
                 const r = e.getBoundingClientRect(); \
                 const x = r.left + r.width / 2, y = r.top + r.height / 2; \
                 const at = document.elementFromPoint(x, y); \
                 if (r.width === 0 || r.height === 0 || !at || !(at === e || e.contains(at))) return []; \
                 return [x, y];",
                vec![json!(selector)],
            ),
        )
        .await?;
        let (x, y) = match &centre {
            Value::Null => return Err(BrowserError::MissingElement(selector.to_owned())),
            Value::Array(p) if p.len() == 2 => (p[0].clone(), p[1].clone()),
            _ => return self.webdriver_click(selector).await,
        };
        for kind in ["mousePressed", "mouseReleased"] {
            let sent = bounded(
                self.limit,
                "click",
                self.client.issue_cmd(Cdp(
                    "Input.dispatchMouseEvent",
                    json!({"type": kind, "x": x, "y": y, "button": "left", "buttons": 1, "clickCount": 1}),
                )),
            )
            .await;
            match sent {
                Err(BrowserError::Command { cause, .. }) if cause.contains("net::ERR_") => {}
                other => {
                    other?;
                }
            }
        }
        Ok(())
    }

    /// Clicks the element matching `selector` and waits (bounded) for the page to change: the
    /// URL it was on is left, or the wait runs out (a form may re-render in place).
    pub async fn click_to_leave(&self, selector: &str) -> Result<(), BrowserError> {
        let before = self.current_url().await?;
        self.click(selector).await?;
        self.wait_for_url_change(&before).await
    }

    /// Clicks through WebDriver's Element Click, which waits for the navigation it starts.
    async fn webdriver_click(&self, selector: &str) -> Result<(), BrowserError> {
        let el = self.find(selector).await?;
        match bounded(self.limit, "click", el.click()).await {
            Err(BrowserError::Command { cause, .. }) if cause.contains("net::ERR_") => Ok(()),
            other => other,
        }
    }

    async fn find(&self, selector: &str) -> Result<fantoccini::elements::Element, BrowserError> {
        match bounded(
            self.limit,
            "find an element",
            self.client.find(Locator::Css(selector)),
        )
        .await
        {
            Err(BrowserError::Command { cause, .. }) if cause.contains("no such element") => {
                Err(BrowserError::MissingElement(selector.to_owned()))
            }
            other => other,
        }
    }

    /// Waits (bounded) until the page's URL is no longer `before`: a click's navigation may still
    /// be under way when ChromeDriver answers the click. No change within the deadline is not an
    /// error here (a form may re-render in place); the next check reads where the browser is.
    async fn wait_for_url_change(&self, before: &str) -> Result<(), BrowserError> {
        let deadline = tokio::time::Instant::now() + NAVIGATION_WAIT;
        while tokio::time::Instant::now() < deadline {
            if self.current_url().await? != before {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Ok(())
    }

    /// Signs in with `script` as `user` if the browser shows the login page and has not reached
    /// `redirect_uri`. Says whether it did, and the URL the browser ended on (read once, so the
    /// caller need not ask the browser again). A login that leaves the login page showing has
    /// failed.
    pub async fn sign_in_if_asked(
        &self,
        script: &LoginScript,
        user: &Credentials,
        redirect_uri: &str,
    ) -> Result<SignedIn, BrowserError> {
        let at_login = |landed: &str| {
            let callback = crate::oauth::authorize::is_callback(landed, redirect_uri);
            async move { Ok::<bool, BrowserError>(!callback && self.has(&script.page_marker).await?) }
        };
        let mut landed = self.current_url().await?;
        let signed_in = at_login(&landed).await?;
        if signed_in {
            self.sign_in(script, user).await?;
            landed = self.current_url().await?;
            if at_login(&landed).await? {
                return Err(BrowserError::LoginRefused);
            }
        }
        if let Some(consent) = &script.consent {
            landed = self.consent_if_asked(consent, redirect_uri, landed).await?;
        }
        Ok(SignedIn { signed_in, landed })
    }

    /// Approves the app on a consent page, if one shows: waits until the page has loaded (or
    /// the browser is at `redirect_uri`), then clicks the consent button once. `here` is the URL
    /// just read; returns the URL the browser is at when it is done.
    async fn consent_if_asked(
        &self,
        consent: &Consent,
        redirect_uri: &str,
        mut here: String,
    ) -> Result<String, BrowserError> {
        let deadline = tokio::time::Instant::now() + NAVIGATION_WAIT;
        while tokio::time::Instant::now() < deadline {
            if crate::oauth::authorize::is_callback(&here, redirect_uri) {
                return Ok(here);
            }
            if self.has(&consent.page).await? {
                self.click_to_leave(&consent.submit).await?;
                break;
            }
            let ready = bounded(
                self.limit,
                "read the page's state",
                self.client.execute("return document.readyState", vec![]),
            )
            .await?;
            if ready.as_str() == Some("complete") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            here = self.current_url().await?;
        }
        // The page may have moved on since `here` was read (a click, or a script's redirect).
        self.current_url().await
    }

    /// Does one login step's action.
    async fn act(
        &self,
        action: &LoginAction,
        user: &Credentials,
        script_typing: Typing,
    ) -> Result<(), BrowserError> {
        match action {
            LoginAction::Fill { selector, value } => {
                self.fill(selector, &user.value(value), script_typing).await
            }
            LoginAction::Click { selector } => self.click_to_leave(selector).await,
        }
    }

    /// Runs a login `script` on the current page as `user`. A step whose element is not there yet
    /// is tried again until its wait runs out; then an optional step is skipped, and a required
    /// one fails the login (never retried: accounts lock).
    pub async fn sign_in(
        &self,
        script: &LoginScript,
        user: &Credentials,
    ) -> Result<(), BrowserError> {
        for (i, LoginStep { action, optional }) in script.steps.iter().enumerate() {
            let wait = if *optional {
                OPTIONAL_STEP_WAIT
            } else {
                STEP_WAIT
            };
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                match self.act(action, user, script.typing).await {
                    Err(BrowserError::MissingElement(_))
                        if tokio::time::Instant::now() < deadline =>
                    {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(BrowserError::MissingElement(_)) if *optional => break,
                    Err(BrowserError::MissingElement(selector)) => {
                        return Err(BrowserError::LoginStep {
                            step: i + 1,
                            selector,
                            secs: wait.as_secs(),
                        })
                    }
                    other => {
                        other?;
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Forgets every cookie, so the next authorize meets the login page again.
    pub async fn clear_login_session(&self) -> Result<(), BrowserError> {
        bounded(
            self.limit,
            "clear cookies",
            self.client
                .issue_cmd(Cdp("Network.clearBrowserCookies", json!({}))),
        )
        .await
        .map(|_| ())
    }

    /// Ends the session (and its browser).
    pub async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.client.close()).await;
    }

    /// When the page is Chromium's own page for a refused TLS connection (a certificate
    /// interstitial, or a network error page for an old TLS version or cipher): the error it
    /// names (`NET::ERR_CERT_AUTHORITY_INVALID`). Read only where a flow went wrong.
    pub async fn tls_refusal(&self) -> Option<String> {
        let source = bounded(self.limit, "read the page", self.client.source())
            .await
            .ok()?;
        if !(source.contains("interstitial-wrapper") || source.contains("main-frame-error")) {
            return None;
        }
        static CODE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
        CODE.get_or_init(|| {
            regex::Regex::new(r"\b(?:NET::)?ERR_(?:CERT_[A-Z_]+|SSL_[A-Z_]+|BAD_SSL_[A-Z_]+)").ok()
        })
        .as_ref()?
        .find(&source)
        .map(|m| explain_tls(m.as_str()))
    }

    /// Closes every window but the one the session drives (pop-ups a page opened), so that a
    /// browser reused for the next scenario does not carry them. Returns how many it closed.
    pub async fn close_pop_ups(&self) -> Result<usize, BrowserError> {
        let windows = bounded(self.limit, "list windows", self.client.windows()).await?;
        if windows.len() < 2 {
            return Ok(0);
        }
        let main = bounded(self.limit, "read the window", self.client.window()).await?;
        let mut closed = 0;
        for w in windows.into_iter().filter(|w| *w != main) {
            bounded(
                self.limit,
                "switch windows",
                self.client.switch_to_window(w),
            )
            .await?;
            bounded(self.limit, "close a pop-up", self.client.close_window()).await?;
            closed += 1;
        }
        bounded(
            self.limit,
            "switch windows",
            self.client.switch_to_window(main),
        )
        .await?;
        Ok(closed)
    }
}
