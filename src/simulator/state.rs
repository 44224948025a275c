//! The simulator's mutable state: its clock, pending authorizations, login sessions, codes, token
//! families, integration changes waiting to take effect, and the journal.

use super::journal::JournalEntry;
use super::registry::Integration;
use crate::oauth::OAuthErrorCode;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

/// Authorization code lifetime (Marketing Cloud: 5 minutes).
pub const CODE_TTL: Duration = Duration::from_secs(5 * 60);
/// Code lifetime under the `code-lifetime-hour` fault.
pub const FAULTY_CODE_TTL: Duration = Duration::from_secs(60 * 60);
/// Access token lifetime (Marketing Cloud: 20 minutes, whatever `expires_in` says).
pub const ACCESS_TTL: Duration = Duration::from_secs(20 * 60);
/// Refresh token lifetime (Marketing Cloud: 30 days by default).
pub const REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// How long a login session lasts without use (the browser's cookie outlives it harmlessly).
pub const SESSION_IDLE_TTL: Duration = Duration::from_secs(12 * 3600);
/// How long a login page stays valid.
pub const PENDING_TTL: Duration = Duration::from_secs(30 * 60);
/// Journal entries kept (the oldest are dropped past this).
pub const JOURNAL_LIMIT: usize = 10_000;

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
        self.offset = self.offset.saturating_add(by);
    }
    pub fn offset(&self) -> Duration {
        self.offset
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
    pub deferred_error: Option<(OAuthErrorCode, String)>,
    /// Set once the password was right and a verification code is still due.
    pub awaiting_code_for: Option<String>,
}

/// A signed-in browser: its user, and when its session was last used.
#[derive(Debug, Clone)]
pub struct LoginSession {
    pub username: String,
    pub last_used: SystemTime,
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
    /// When it was first redeemed.
    pub first_used: Option<SystemTime>,
    /// The token family the first redemption created.
    pub family: Option<u64>,
    pub username: String,
}

/// An issued access or refresh token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub expires: SystemTime,
    pub family: u64,
    pub used: bool,
    /// When it was spent (refresh tokens, for the `refresh-grace-window` fault).
    pub used_at: Option<SystemTime>,
    pub username: Option<String>,
}

/// All mutable state.
#[derive(Debug, Default)]
pub struct State {
    pub clock: Clock,
    pub pending: HashMap<String, Pending>,
    /// Login sessions by id (pruned and capped like pending logins).
    pub sessions: HashMap<String, LoginSession>,
    pub codes: HashMap<String, CodeGrant>,
    pub access_tokens: HashMap<String, IssuedToken>,
    pub refresh_tokens: HashMap<String, IssuedToken>,
    pub revoked_families: HashSet<u64>,
    /// Tokens a faulty revocation left alive although their family is revoked.
    pub spared: HashSet<String>,
    pub next_family: u64,
    /// Integration changes and when they take effect.
    pub integration_changes: Vec<(SystemTime, Integration)>,
    pub throttle: bool,
    pub journal: Vec<JournalEntry>,
    /// Source of values under the `weak-randomness` fault.
    pub counter: u64,
    /// The newest access token of each family (for the `refresh-reuses-access-token` fault).
    pub family_access: HashMap<u64, String>,
    /// Rotations per family (for the `refresh-chain-limit` fault).
    pub family_rotations: HashMap<u64, u32>,
    /// Tokens issued so far (expired ones are dropped every so many).
    pub issued: u64,
    /// Pending logins, login sessions and codes made so far (the expired ones are dropped every so many).
    pub made: u64,
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

    /// The newest change to `client_id` that is in effect now.
    pub fn effective_change(&self, client_id: &str) -> Option<&Integration> {
        let now = self.clock.now();
        self.integration_changes
            .iter()
            .rev()
            .find(|(at, i)| i.client_id == client_id && *at <= now)
            .map(|(_, i)| i)
    }

    /// Appends to the journal, dropping the oldest entries past [`JOURNAL_LIMIT`].
    pub fn record(&mut self, entry: JournalEntry) {
        if self.journal.len() >= JOURNAL_LIMIT {
            self.journal.drain(..JOURNAL_LIMIT / 10);
        }
        self.journal.push(entry);
    }
}

/// Keeps the entries of `held` that `alive` says are, and past `cap` only those with the
/// latest `at` (ties at the cut are kept): how a long-running mock bounds what it holds.
pub fn prune<K, V, T: Ord + Copy>(
    held: &mut HashMap<K, V>,
    cap: usize,
    alive: impl Fn(&V) -> bool,
    at: impl Fn(&V) -> T,
) {
    held.retain(|_, v| alive(v));
    if held.len() > cap {
        let mut all: Vec<T> = held.values().map(&at).collect();
        let cut = all.len() - cap;
        let (_, first_kept, _) = all.select_nth_unstable(cut);
        let first_kept = *first_kept;
        held.retain(|_, v| at(v) >= first_kept);
    }
}

#[cfg(test)]
mod prune_tests {
    use super::*;

    #[test]
    fn prune_drops_the_dead_then_the_oldest_past_the_cap() {
        let mut m: HashMap<u32, (bool, u32)> = (0..10).map(|i| (i, (i % 2 == 0, i))).collect();
        prune(&mut m, 3, |v| v.0, |v| v.1);
        let mut kept: Vec<u32> = m.keys().copied().collect();
        kept.sort_unstable();
        assert_eq!(kept, vec![4, 6, 8]);
        prune(&mut m, 5, |v| v.0, |v| v.1);
        assert_eq!(m.len(), 3);
    }
}
