//! The simulator's mutable state: its clock, pending authorizations, login sessions, codes and
//! token families.

use super::journal::JournalEntry;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// Authorization code lifetime (Marketing Cloud: 5 minutes).
pub const CODE_TTL: Duration = Duration::from_secs(5 * 60);
/// Access token lifetime (Marketing Cloud: 20 minutes).
pub const ACCESS_TTL: Duration = Duration::from_secs(20 * 60);
/// Refresh token lifetime (Marketing Cloud: 30 days by default).
pub const REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// How long a login page stays valid.
pub const PENDING_TTL: Duration = Duration::from_secs(30 * 60);

/// A clock that tests can move forward.
#[derive(Debug, Default)]
pub struct Clock {
    offset: Duration,
}

impl Clock {
    pub fn now(&self) -> SystemTime {
        SystemTime::now() + self.offset
    }
    pub fn advance(&mut self, by: Duration) {
        self.offset += by;
    }
}

/// An authorize request waiting for the user to sign in.
#[derive(Debug, Clone)]
pub struct Pending {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub scopes: Vec<String>,
    /// `(challenge, method)`.
    pub challenge: Option<(String, String)>,
    pub csrf: String,
    pub created: SystemTime,
    /// An error found at authorize, redirected only after the user signed in (RFC 9700 §4.11.2).
    pub deferred_error: Option<(String, String)>,
}

/// An issued authorization code.
#[derive(Debug, Clone)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub challenge: Option<(String, String)>,
    pub issued: SystemTime,
    pub used: bool,
    /// The token family the first redemption created.
    pub family: Option<u64>,
}

/// An issued access or refresh token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub expires: SystemTime,
    pub family: u64,
    pub used: bool,
}

/// All mutable state.
#[derive(Debug, Default)]
pub struct State {
    pub clock: Clock,
    pub pending: HashMap<String, Pending>,
    /// Login session id to username.
    pub sessions: HashMap<String, String>,
    pub codes: HashMap<String, CodeGrant>,
    pub access_tokens: HashMap<String, IssuedToken>,
    pub refresh_tokens: HashMap<String, IssuedToken>,
    pub revoked_families: std::collections::HashSet<u64>,
    pub next_family: u64,
    pub journal: Vec<JournalEntry>,
}

impl State {
    /// A new token family id.
    pub fn new_family(&mut self) -> u64 {
        self.next_family += 1;
        self.next_family
    }

    /// Revokes every token of `family` (code reuse, refresh-token replay).
    pub fn revoke_family(&mut self, family: u64) {
        self.revoked_families.insert(family);
    }

    /// Whether `family` was revoked.
    pub fn is_revoked(&self, family: u64) -> bool {
        self.revoked_families.contains(&family)
    }
}
