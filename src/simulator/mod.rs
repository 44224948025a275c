//! The embedded Marketing Cloud authorization server simulator: one stateful responder behind
//! its own bounded HTTP/1.1 server ([`server`]). It follows `sfmc-oauth-facts.md` where public sources say how Marketing
//! Cloud behaves, and RFC 6749 / RFC 9700 where they are silent; each such choice is a setting
//! ([`registry::Settings`]). Named [`faults`] break one rule each, so every check can be shown to
//! fail.
//!
//! Routes: `GET|POST /v2/authorize`, `GET /login`, `POST /login`, `POST /login/verify`,
//! `GET /login/cancel`, `POST /v2/token`, `GET /v2/userinfo`, `GET /platform/v1/tokenContext`,
//! and the admin routes under `/__admin/` (journal, clock, throttle, integration changes).

mod admin;
mod authorize;
pub mod faults;
pub mod journal;
mod pages;
mod params;
pub mod registry;
mod reply;
mod resource;
pub mod server;
mod state;
pub mod target;
mod token;
pub mod tokens;
pub mod variations;

pub use faults::{Fault, Faults, UnknownFault};
pub use variations::{UnknownVariation, Variation};

/// The simulator's pages, for tests of code that reads them.
#[cfg(test)]
pub(crate) mod pages_for_tests {
    pub fn login(request_id: &str, csrf: &str) -> String {
        super::pages::login(request_id, csrf, None)
    }
}
pub use registry::{Registry, Settings};
pub use reply::Reply;
pub use token::{MAX_LIVE_TOKENS, PRUNE_EVERY};

use crate::oauth::OAuthErrorCode;
use journal::JournalEntry;
use registry::Integration;
use state::State;
use std::net::TcpListener;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use url::Url;
use wiremock::Request;

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {ip}:{port}: {cause}")]
    Bind {
        ip: std::net::IpAddr,
        port: u16,
        cause: String,
    },
}

impl crate::exit::Exit for SimError {
    // The process exit code for it: the machine, not the target, is at fault.
    fn exit_code(&self) -> u8 {
        crate::exit::ENVIRONMENT
    }
}

/// What a simulator runs with.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Integrations, users and settings; the variations are applied to its settings already.
    pub registry: Registry,
    pub faults: Faults,
    /// The allowed variations it runs with (they decide the dialect it is judged in).
    pub variations: Vec<Variation>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            registry: Registry::builtin(),
            faults: Faults::none(),
            variations: Vec::new(),
        }
    }
}

/// A running simulator. Dropping it stops the server.
pub struct Simulator {
    server: server::Server,
    /// The login pages' own origin, under the `login-on-second-origin` variation.
    login_server: Option<server::Server>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Simulator({})", self.server.uri())
    }
}

/// State shared by all requests.
pub(crate) struct Shared {
    /// `http://127.0.0.2:PORT` when the login pages have an origin of their own.
    login_base: Option<String>,
    registry: Registry,
    faults: Faults,
    variations: Vec<Variation>,
    state: Mutex<State>,
    admin: Mutex<AdminAccess>,
    /// The faults and variations each open watch saw consulted (see [`Simulator::watch`]).
    watches: Mutex<Watches>,
    /// Connections open and refused, over its servers.
    connections: Arc<server::Stats>,
}

/// Open watches: each collects every fault and variation consulted while it is open.
#[derive(Default)]
struct Watches {
    next: u64,
    open: std::collections::BTreeMap<u64, Consulted>,
}

/// What the simulator asked about while a watch was open: faults (on or off) and variations
/// (allowed or not), each where its answer could change what the simulator did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Consulted {
    pub faults: std::collections::BTreeSet<Fault>,
    pub variations: std::collections::BTreeSet<Variation>,
}

impl Consulted {
    /// Names, as `Controls::consulted` gives them: a fault's name, and `variation:NAME`.
    pub fn names(&self) -> Vec<String> {
        self.faults
            .iter()
            .map(|f| f.to_string())
            .chain(self.variations.iter().map(|v| format!("variation:{v}")))
            .collect()
    }
}

/// Who may use the admin routes (`/__admin/`: journal, clock, throttle, integration).
#[derive(Debug, Clone, Default)]
pub enum AdminAccess {
    /// Anyone: the simulator listens on loopback only (the default).
    #[default]
    Open,
    /// Only requests with `Authorization: Bearer TOKEN`.
    Token(crate::secret::Secret),
    /// No one: the simulator listens beyond loopback and no token was given.
    Off,
}

impl AdminAccess {
    /// The access for a simulator bound to `ip`, with the token given, if any: beyond
    /// loopback, the admin routes are off unless a token is given.
    pub fn for_bind(ip: std::net::IpAddr, token: Option<crate::secret::Secret>) -> Self {
        match token {
            Some(t) => Self::Token(t),
            None if ip.is_loopback() => Self::Open,
            None => Self::Off,
        }
    }

    /// The answer to an admin request that may not go on, if it may not.
    fn refuses(&self, req: &Request) -> Option<Reply> {
        match self {
            Self::Open => None,
            Self::Off => Some(Reply::json_plain(
                403,
                &serde_json::json!({"message": "the admin routes are off: the simulator listens beyond loopback; start it with --admin-token to use them", "errorcode": 403}),
            )),
            Self::Token(token) => {
                let given = req
                    .headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .unwrap_or_default();
                let same = given.len() == token.expose().len()
                    && given
                        .bytes()
                        .zip(token.expose().bytes())
                        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                        == 0;
                (!same).then(|| {
                    Reply::json_plain(
                        401,
                        &serde_json::json!({"message": "the admin routes need Authorization: Bearer <the --admin-token>", "errorcode": 401}),
                    )
                    .header("WWW-Authenticate", "Bearer realm=\"simulator admin\"")
                })
            }
        }
    }
}

impl Shared {
    fn new(config: SimConfig, login_base: Option<String>) -> Self {
        let state = State {
            throttle: config.registry.settings.throttle,
            ..State::default()
        };
        Self {
            login_base,
            registry: config.registry,
            faults: config.faults,
            variations: config.variations,
            state: Mutex::new(state),
            admin: Mutex::new(AdminAccess::Open),
            watches: Mutex::new(Watches::default()),
            connections: Arc::default(),
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        // A panicking request must not take the simulator down with it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether fault `f` is on. Every branch a fault bends asks here, and only where its answer
    /// can change what the simulator does: the open watches note that `f` was consulted.
    pub(crate) fn fault(&self, f: Fault) -> bool {
        self.note(|seen| {
            seen.faults.insert(f);
        });
        self.faults.has(f)
    }

    /// Notes something consulted in every open watch.
    fn note(&self, mut add: impl FnMut(&mut Consulted)) {
        let mut watches = self.watches.lock().unwrap_or_else(|p| p.into_inner());
        watches.open.values_mut().for_each(&mut add);
    }

    /// The settings, read for variation `v`'s field. Every branch a variation bends reads its
    /// setting through here, and only where the setting's value can change what the simulator
    /// does: the open watches note that `v` was consulted, so that the tolerance matrix runs a
    /// variation on the scenarios that reach it (as the mutation matrix does with faults).
    /// [`Variation::is_global`] ones change the set-up itself and need no noting.
    pub(crate) fn varied(&self, v: Variation) -> &Settings {
        self.note(|seen| {
            seen.variations.insert(v);
        });
        &self.registry.settings
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.registry.settings
    }

    /// The integration with `client_id` as it is now (changes apply after the propagation delay).
    pub(crate) fn client(&self, client_id: &str) -> Option<Integration> {
        if let Some(changed) = self.state().effective_change(client_id) {
            return Some(changed.clone());
        }
        self.registry.client(client_id).cloned()
    }

    /// Routes one request. Never panics on any input (the fuzz test holds it to that).
    pub(crate) fn handle(&self, req: &Request) -> Reply {
        let path = req.url.path();
        if self.state().throttle && !path.starts_with("/__admin/") {
            return resource::throttled(self);
        }
        let method = req.method.as_str();
        match (method, path) {
            ("GET" | "POST", "/v2/authorize") => authorize::authorize(self, req),
            ("GET", "/login") => authorize::login_page(self, req),
            ("POST", "/login") => authorize::login_submit(self, req),
            ("POST", "/login/verify") => authorize::verify_submit(self, req),
            ("GET", "/login/cancel") => authorize::cancel(self, req),
            ("POST", "/v2/token") => token::token(self, req),
            ("GET", "/v2/userinfo") => resource::userinfo(self, req),
            ("GET", "/platform/v1/tokenContext") => resource::token_context(self, req),
            (_, p) if p.starts_with("/__admin/") => {
                let access = self.admin.lock().unwrap_or_else(|p| p.into_inner()).clone();
                access
                    .refuses(req)
                    .unwrap_or_else(|| admin::handle(self, req))
            }
            (_, "/v2/token") => token::method_not_allowed(),
            (_, "/v2/authorize" | "/login" | "/login/verify" | "/login/cancel") => {
                Reply::status(405).header("Allow", "GET, POST")
            }
            _ => Reply::json_plain(
                404,
                &serde_json::json!({"message": "Not Found", "errorcode": 404}),
            ),
        }
    }
}

impl Simulator {
    /// Starts on `127.0.0.1:port` (`0`: any free port).
    pub async fn start(port: u16, config: SimConfig) -> Result<Self, SimError> {
        Self::start_on(std::net::Ipv4Addr::LOCALHOST.into(), port, config).await
    }

    /// Starts on `ip:port` (`0`: any free port). Beyond loopback, see [`Simulator::set_admin`].
    pub async fn start_on(
        ip: std::net::IpAddr,
        port: u16,
        config: SimConfig,
    ) -> Result<Self, SimError> {
        Self::start_with(ip, port, config, server::Limits::default()).await
    }

    /// Starts on `ip:port` with `limits` on what each client may hold (`mock` as a service).
    pub async fn start_with(
        ip: std::net::IpAddr,
        port: u16,
        config: SimConfig,
        limits: server::Limits,
    ) -> Result<Self, SimError> {
        let bind = |ip: std::net::IpAddr, port: u16, what: &str| {
            TcpListener::bind((ip, port)).map_err(|e| SimError::Bind {
                ip,
                port,
                cause: format!("{what}{e}"),
            })
        };
        let listener = bind(ip, port, "")?;
        let login_listener = if config.registry.settings.login_on_second_origin {
            Some(bind(
                std::net::Ipv4Addr::new(127, 0, 0, 2).into(),
                0,
                "the login origin: ",
            )?)
        } else {
            None
        };
        let login_base = login_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map(|a| format!("http://{a}"));
        let shared = Arc::new(Shared::new(config, login_base));
        let serve = |listener: TcpListener| {
            let local = listener.local_addr().ok();
            let handler: server::Handler = {
                let shared = shared.clone();
                Arc::new(move |req: &Request| dispatch(&shared, req))
            };
            server::Server::start(listener, limits, handler, shared.connections.clone()).map_err(
                |e| SimError::Bind {
                    ip: local.map_or(ip, |a| a.ip()),
                    port: local.map_or(port, |a| a.port()),
                    cause: e.to_string(),
                },
            )
        };
        let server = serve(listener)?;
        let login_server = login_listener.map(serve).transpose()?;
        Ok(Self {
            server,
            login_server,
            shared,
        })
    }

    /// `http://127.0.0.1:PORT` joined with `path`.
    pub fn url(&self, path: &str) -> Url {
        let mut u = Url::parse(&self.server.uri()).unwrap_or_else(|_| {
            Url::parse("http://127.0.0.1/").unwrap_or_else(|_| unreachable!("a valid literal URL"))
        });
        u.set_path(path);
        u
    }

    /// The base URI, `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Who may use the admin routes from now on.
    pub fn set_admin(&self, access: AdminAccess) {
        *self.shared.admin.lock().unwrap_or_else(|p| p.into_inner()) = access;
    }

    /// The login pages' origin when it is not the simulator's own (a variation).
    pub fn login_origin(&self) -> Option<String> {
        self.login_server.as_ref().map(server::Server::uri)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.server.address().port()
    }

    /// The installed packages, users and settings it started with.
    pub fn registry(&self) -> &Registry {
        &self.shared.registry
    }

    /// The faults it runs with.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Starts noting every fault the simulator consults, whether on or off, until
    /// [`Simulator::unwatch`]. A fault no request consulted while a scenario ran cannot have
    /// changed that scenario: the mutation matrix runs a fault's row on the scenarios that
    /// consulted it in the conformant run.
    pub fn watch(&self) -> u64 {
        let mut w = self
            .shared
            .watches
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        w.next += 1;
        let id = w.next;
        w.open.insert(id, Default::default());
        id
    }

    /// Ends watch `id`: the faults and variations consulted while it was open (by any request,
    /// whoever sent it).
    pub fn unwatch(&self, id: u64) -> Consulted {
        let mut w = self
            .shared
            .watches
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        w.open.remove(&id).unwrap_or_default()
    }

    /// The allowed variations it runs with.
    pub fn variations(&self) -> &[Variation] {
        &self.shared.variations
    }

    /// Moves the simulator's clock forward (codes and tokens age without waiting).
    pub fn advance_clock(&self, by: Duration) {
        self.shared.state().clock.advance(by);
    }

    /// Turns throttling (429 on every request) on or off.
    pub fn set_throttle(&self, on: bool) {
        self.shared.state().throttle = on;
    }

    /// Changes an integration, in effect after the propagation delay.
    pub fn change_integration(&self, changed: Integration) {
        admin::queue_change(&self.shared, changed);
    }

    /// Every exchange so far, redacted.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.shared.state().journal.clone()
    }

    /// Handles a request in-process, as the HTTP server would (for fuzzing and tests).
    pub fn handle(&self, req: &Request) -> Reply {
        self.shared.handle(req)
    }
}

/// Answers one request as the HTTP server does: a panic in a handler is a 500, and every
/// exchange is journalled.
fn dispatch(shared: &Shared, request: &Request) -> Reply {
    let reply = std::panic::catch_unwind(AssertUnwindSafe(|| shared.handle(request)))
        .unwrap_or_else(|_| {
            token::error_reply(
                shared,
                500,
                OAuthErrorCode::ServerError,
                "The simulator failed on this request.",
            )
        });
    // What the server could not send is not journalled as sent.
    let reply = if reply.sendable() {
        reply
    } else {
        token::error_reply(
            shared,
            500,
            OAuthErrorCode::ServerError,
            "The simulator built a response HTTP cannot carry.",
        )
    };
    journal::record(shared, request, &reply);
    reply
}
