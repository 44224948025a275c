//! The embedded Marketing Cloud authorization server simulator, built on wiremock with stateful
//! responders. It follows `sfmc-oauth-facts.md` where public sources say how Marketing Cloud
//! behaves, and RFC 6749 / RFC 9700 where they are silent.
//!
//! Routes: `GET /v2/authorize`, `GET /login`, `POST /login`, `GET /login/cancel`,
//! `POST /v2/token`. Every exchange is written to a redacted journal.

mod authorize;
pub mod journal;
mod pages;
pub mod registry;
mod reply;
mod state;
mod token;
pub mod tokens;

use journal::JournalEntry;
use registry::Registry;
pub use reply::Reply;
use state::State;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on 127.0.0.1:{port}: {cause}")]
    Bind { port: u16, cause: String },
}

/// A running simulator. Dropping it stops the server.
pub struct Simulator {
    server: MockServer,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Simulator({})", self.server.uri())
    }
}

/// State shared by all responders.
pub(crate) struct Shared {
    registry: Registry,
    state: Mutex<State>,
    base: Url,
}

impl Shared {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        // A panicking responder must not take the simulator down with it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Simulator {
    /// Starts on `127.0.0.1:port` (`0`: any free port) with the given installed packages.
    pub async fn start(port: u16, registry: Registry) -> Result<Self, SimError> {
        let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| SimError::Bind {
            port,
            cause: e.to_string(),
        })?;
        let server = MockServer::builder()
            .listener(listener)
            .disable_request_recording()
            .start()
            .await;
        let base = Url::parse(&server.uri()).map_err(|e| SimError::Bind {
            port,
            cause: e.to_string(),
        })?;
        let shared = Arc::new(Shared {
            registry,
            state: Mutex::new(State::default()),
            base,
        });
        for (verb, route, handler) in ROUTES {
            Mock::given(method(*verb))
                .and(path(*route))
                .respond_with(Route {
                    shared: shared.clone(),
                    handler: *handler,
                })
                .named(format!("{verb} {route}"))
                .mount(&server)
                .await;
        }
        Ok(Self { server, shared })
    }

    /// `http://127.0.0.1:PORT` joined with `path`.
    pub fn url(&self, path: &str) -> Url {
        let mut u = self.shared.base.clone();
        u.set_path(path);
        u
    }

    /// The base URI, `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The installed packages and users.
    pub fn registry(&self) -> &Registry {
        &self.shared.registry
    }

    /// Moves the simulator's clock forward (codes and tokens age without waiting).
    pub fn advance_clock(&self, by: Duration) {
        self.shared.state().clock.advance(by);
    }

    /// Every exchange so far, redacted.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.shared.state().journal.clone()
    }
}

type Handler = fn(&Shared, &Request) -> Reply;

const ROUTES: &[(&str, &str, Handler)] = &[
    ("GET", "/v2/authorize", authorize::authorize),
    ("GET", "/login", authorize::login_page),
    ("POST", "/login", authorize::login_submit),
    ("GET", "/login/cancel", authorize::cancel),
    ("POST", "/v2/token", token::token),
];

struct Route {
    shared: Arc<Shared>,
    handler: Handler,
}

impl Respond for Route {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let reply = (self.handler)(&self.shared, request);
        journal::record(&self.shared, request, &reply);
        reply.into_template()
    }
}
