//! One Zoho grant (data centre, environment, org, user) as its Durable Object keeps it: the
//! state that must be strongly consistent across every isolate and location, and the messages
//! the Worker and the object exchange. Pure: the object itself is `worker/grant_object.rs`.
//!
//! Who owns what:
//! - the object's storage (this [`GrantState`]) is authoritative for the user's live sessions,
//!   the version of the user record, the access tokens minted from the current refresh token
//!   (Zoho's budget) and whether Zoho throttles or revoked the grant;
//! - Workers KV holds the user record with the sealed tokens ([`crate::records::UserRecord`]),
//!   written only by the object, each write carrying the next version;
//! - an isolate keeps nothing about a session: every request asks the object.
//!
//! Zoho's limits on one refresh token, as its OAuth documentation states them
//! (<https://www.zoho.com/crm/developer/docs/api/v8/refresh.html>, "Token limits"): at most 10
//! access tokens in 10 minutes (past that the token endpoint answers `Access Denied` for the rest
//! of the window) and at most 15 live access tokens (the 16th ends the oldest).

use serde::{Deserialize, Serialize};

use crate::records::UserRecord;

/// Refresh when less than this is left of the access token's life (Zoho's SDK waits until 5 s).
pub const REFRESH_AHEAD_MS: u64 = 5 * 60 * 1000;
/// Inside the refresh-ahead window, a token with at least this much life left is still handed
/// out when the refresh fails (Zoho slow or down), instead of failing the request.
pub const FALLBACK_MIN_MS: u64 = 30 * 1000;
/// Zoho: access tokens per refresh token per window.
pub const TOKENS_PER_WINDOW: usize = 10;
/// Zoho's window, 10 minutes (`ZOHO_TOKEN_WINDOW_SECS` may shorten it for tests).
pub const ZOHO_WINDOW_MS: u64 = 10 * 60 * 1000;
/// Zoho: live access tokens per refresh token.
pub const MAX_LIVE_TOKENS: usize = 15;
/// When Zoho does not say how long its access tokens live: an hour, as it documents.
pub const DEFAULT_TOKEN_LIFETIME_MS: u64 = 3600 * 1000;
/// At most this many sessions per user; signing in once more ends the oldest.
pub const MAX_SESSIONS_PER_USER: usize = 20;

/// What the grant's object keeps in its storage (one value, written whole).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantState {
    /// The version of the user record in KV; 0 before the first sign-in.
    pub version: u64,
    /// Live sessions, oldest first: the SHA-256 of each session id, never the id.
    pub sessions: Vec<SessionEntry>,
    /// When each access token of the current refresh token was minted (ms since the epoch),
    /// oldest first; pruned once it can count for neither of Zoho's limits.
    pub mints: Vec<u64>,
    /// How long Zoho's access tokens live, as its last answer said.
    pub token_lifetime_ms: u64,
    /// Zoho throttled this refresh token: no token call before this time (ms).
    pub throttled_until: u64,
    /// Zoho revoked the grant (or it expired): its sessions are over until a new sign-in.
    pub revoked: bool,
    /// The grant's tokens were sealed with a key no longer in the key ring: its sessions are
    /// over (expired, not revoked) until a new sign-in.
    #[serde(default)]
    pub keys_retired: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEntry {
    pub hash: String,
    pub created_at: u64,
}

/// What a session cookie is worth, as the grant's object sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    Live,
    /// The grant was revoked at Zoho: the session existed but is over.
    Ended,
    /// Known, but older than the caller's `max_age_ms`, or its grant's tokens were sealed with
    /// a retired key: sign in again.
    TooOld,
    /// Never existed, signed out, or signed out everywhere.
    Unknown,
}

impl GrantState {
    pub fn session_status(&self, hash: &str, now_ms: u64, max_age_ms: u64) -> SessionStatus {
        let found = self.sessions.iter().find(|s| s.hash == hash);
        match (found, self.revoked) {
            (None, _) => SessionStatus::Unknown,
            (Some(s), _)
                if self.keys_retired || now_ms.saturating_sub(s.created_at) >= max_age_ms =>
            {
                SessionStatus::TooOld
            }
            (Some(_), false) => SessionStatus::Live,
            (Some(_), true) => SessionStatus::Ended,
        }
    }

    /// A sign-in: a new refresh token (so Zoho's budget starts again) and a new session. Drops
    /// sessions older than `max_age_ms` and, past [`MAX_SESSIONS_PER_USER`], the oldest. Returns
    /// the version the new user record is written with.
    pub fn sign_in(
        &mut self,
        hash: String,
        now_ms: u64,
        max_age_ms: u64,
        token_lifetime_ms: u64,
    ) -> u64 {
        self.sessions
            .retain(|s| s.hash != hash && now_ms.saturating_sub(s.created_at) < max_age_ms);
        self.sessions.push(SessionEntry {
            hash,
            created_at: now_ms,
        });
        let excess = self.sessions.len().saturating_sub(MAX_SESSIONS_PER_USER);
        self.sessions.drain(..excess);
        self.mints = vec![now_ms];
        self.token_lifetime_ms = token_lifetime_ms;
        self.throttled_until = 0;
        self.revoked = false;
        self.keys_retired = false;
        self.version += 1;
        self.version
    }

    /// Ends one session; true if it was live.
    pub fn sign_out(&mut self, hash: &str) -> bool {
        let before = self.sessions.len();
        self.sessions.retain(|s| s.hash != hash);
        self.sessions.len() != before
    }

    /// Ends every session; the user record is gone. The version goes on counting, so that a
    /// record written before this is never taken for a current one.
    pub fn sign_out_everywhere(&mut self) {
        self.sessions.clear();
        self.mints.clear();
        self.throttled_until = 0;
        self.revoked = false;
        self.keys_retired = false;
        self.version += 1;
    }

    /// Zoho refused the refresh token (revoked or expired): the record is gone.
    pub fn revoked_at_zoho(&mut self) {
        self.revoked = true;
        self.mints.clear();
        self.version += 1;
    }

    /// The record's tokens do not open with the key ring (sealed with a key since retired):
    /// the record is gone, and its sessions are told they expired.
    pub fn sealed_with_a_retired_key(&mut self) {
        self.keys_retired = true;
        self.mints.clear();
        self.version += 1;
    }

    /// May a token be minted now? `Err(ms)`: not for that long, by Zoho's limits.
    pub fn may_mint(&self, now_ms: u64, window_ms: u64) -> Result<(), u64> {
        if self.throttled_until > now_ms {
            return Err(self.throttled_until - now_ms);
        }
        let in_window: Vec<u64> = self
            .mints
            .iter()
            .copied()
            .filter(|&t| t + window_ms > now_ms)
            .collect();
        if in_window.len() >= TOKENS_PER_WINDOW {
            // The oldest of the last ten leaves the window first.
            let oldest = in_window[in_window.len() - TOKENS_PER_WINDOW];
            return Err(oldest + window_ms - now_ms);
        }
        let lifetime = self.lifetime_ms();
        let live: Vec<u64> = self
            .mints
            .iter()
            .copied()
            .filter(|&t| t + lifetime > now_ms)
            .collect();
        if live.len() >= MAX_LIVE_TOKENS {
            let oldest = live[live.len() - MAX_LIVE_TOKENS];
            return Err(oldest + lifetime - now_ms);
        }
        Ok(())
    }

    /// A token was minted now; it lives `lifetime_ms`.
    pub fn minted(&mut self, now_ms: u64, lifetime_ms: u64, window_ms: u64) {
        self.token_lifetime_ms = lifetime_ms;
        let keep = window_ms.max(self.lifetime_ms());
        self.mints.retain(|&t| t + keep > now_ms);
        self.mints.push(now_ms);
    }

    /// Zoho answered `Access Denied`: nothing before the window is over.
    pub fn throttled(&mut self, now_ms: u64, window_ms: u64) -> u64 {
        self.throttled_until = now_ms + window_ms;
        window_ms
    }

    fn lifetime_ms(&self) -> u64 {
        if self.token_lifetime_ms == 0 {
            DEFAULT_TOKEN_LIFETIME_MS
        } else {
            self.token_lifetime_ms
        }
    }
}

/// What a request needs to do about the access token it was offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Use it.
    Use,
    /// Refresh first; when `fallback`, the token may still be used if the refresh fails.
    Refresh { fallback: bool },
}

/// `refused`: Zoho refused a token with the caller, and that token is (`Some(true)`) or is not
/// (`Some(false)`) the one the object holds now.
pub fn need(expires_at_ms: u64, now_ms: u64, refused: Option<bool>) -> Need {
    match refused {
        Some(true) => Need::Refresh { fallback: false },
        _ if expires_at_ms > now_ms + REFRESH_AHEAD_MS => Need::Use,
        // Someone refreshed since the caller's token was refused: the new one is good.
        Some(false) if expires_at_ms > now_ms + FALLBACK_MIN_MS => Need::Use,
        _ => Need::Refresh {
            fallback: expires_at_ms > now_ms + FALLBACK_MIN_MS,
        },
    }
}

/// A call from the Worker to a grant's object (JSON over the object's `fetch`). Made once per
/// request and moved, never stored: the size of the sign-in's record does not matter.
#[allow(clippy::large_enum_variant)]
/// Externally tagged (`{"sign_in":{...}}`): an internally tagged enum would make serde buffer
/// every call before decoding it, and carry the code for that in the Worker.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantCall {
    /// Is the session live? With `token`, also a usable access token (refreshed if due, or
    /// if `refused` is the sealed token Zoho just refused).
    Session {
        key: String,
        session: String,
        token: bool,
        refused: Option<String>,
    },
    /// A sign-in: the new record (tokens sealed) replaces the old, the session is added, the
    /// old refresh token is revoked at Zoho.
    SignIn { session: String, record: UserRecord },
    /// Ends the session; `everywhere` ends them all and revokes the grant at Zoho.
    SignOut {
        key: String,
        session: String,
        everywhere: bool,
    },
}

impl GrantCall {
    pub fn key(&self) -> &str {
        match self {
            GrantCall::Session { key, .. } | GrantCall::SignOut { key, .. } => key,
            GrantCall::SignIn { record, .. } => &record.key,
        }
    }
}

/// Who the user is, without their tokens: what a request needs besides the access token.
/// Its fields are repeated in [`UserRecord`] on purpose: holding a `UserView` there with
/// `#[serde(flatten)]` (the same JSON) cost the Worker 3.9 KB gzip of Wasm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub key: String,
    pub email: String,
    pub name: String,
    pub user_id: String,
    pub org_id: String,
    pub org_name: String,
    pub location: zoho::DataCenter,
    pub environment: zoho::Environment,
}

impl From<&UserRecord> for UserView {
    fn from(r: &UserRecord) -> UserView {
        UserView {
            key: r.key.clone(),
            email: r.email.clone(),
            name: r.name.clone(),
            user_id: r.user_id.clone(),
            org_id: r.org_id.clone(),
            org_name: r.org_name.clone(),
            location: r.location,
            environment: r.environment,
        }
    }
}

/// The object's answer to a [`GrantCall`].
#[derive(Debug, Serialize, Deserialize)]
pub enum GrantAnswer {
    Ok {
        /// Who the session belongs to (none after a sign-out).
        user: Option<UserView>,
        /// The access token, sealed as in the record, and when it expires (ms).
        access: Option<(String, u64)>,
    },
    Failed(GrantFailure),
}

/// Why the object could not answer with a session or a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GrantFailure {
    /// No such session (never, signed out, or signed out everywhere).
    Unauthenticated,
    /// The session is past its time, or its grant can no longer be opened here (sealed with a
    /// retired key): sign in again.
    Expired,
    /// The grant was revoked or expired at Zoho: sign in again.
    Revoked,
    /// Zoho's token budget is spent, or Zoho throttles: not before `retry_after_secs`.
    Throttled { retry_after_secs: u64 },
    /// Zoho's token endpoint did not answer in time.
    Timeout,
    /// Zoho's token endpoint failed (the detail is for logs).
    Upstream(String),
    /// The object's own fault (the detail is for logs).
    Internal(String),
}

/// Seconds to wait, rounded up, at least 1.
pub fn retry_after_secs(ms: u64) -> u64 {
    ms.div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 24 * 3600 * 1000;

    #[test]
    fn sessions_live_end_and_are_capped_oldest_first() {
        let mut g = GrantState::default();
        assert_eq!(g.sign_in("a".into(), 1_000, DAY, 0), 1);
        assert_eq!(g.session_status("a", 2_000, DAY), SessionStatus::Live);
        assert_eq!(g.session_status("b", 2_000, DAY), SessionStatus::Unknown);
        assert_eq!(
            g.session_status("a", 1_000 + DAY, DAY),
            SessionStatus::TooOld,
            "a session past its time is told apart from one never seen"
        );
        for i in 0..MAX_SESSIONS_PER_USER {
            g.sign_in(format!("s{i}"), 3_000 + i as u64, DAY, 0);
        }
        assert_eq!(g.sessions.len(), MAX_SESSIONS_PER_USER);
        assert_eq!(g.session_status("a", 4_000, DAY), SessionStatus::Unknown);
        assert!(g.sign_out("s5"));
        assert!(!g.sign_out("s5"));
        g.revoked_at_zoho();
        assert_eq!(g.session_status("s6", 4_000, DAY), SessionStatus::Ended);
        let v = g.version;
        g.sign_out_everywhere();
        assert!(g.sessions.is_empty() && g.version == v + 1);
    }

    #[test]
    fn a_grant_whose_keys_were_retired_expires_until_the_next_sign_in() {
        let mut g = GrantState::default();
        g.sign_in("a".into(), 1_000, DAY, 0);
        g.sign_in("b".into(), 1_000, DAY, 0);
        let v = g.version;
        g.sealed_with_a_retired_key();
        assert_eq!(g.version, v + 1, "the record it had is gone");
        for s in ["a", "b"] {
            assert_eq!(g.session_status(s, 2_000, DAY), SessionStatus::TooOld);
        }
        g.sign_in("c".into(), 3_000, DAY, 0);
        assert_eq!(g.session_status("c", 3_000, DAY), SessionStatus::Live);
        // A state stored before the field existed reads as not retired.
        let mut json = serde_json::to_value(&g).unwrap();
        json.as_object_mut().unwrap().remove("keys_retired");
        assert_eq!(serde_json::from_value::<GrantState>(json).unwrap(), g);
    }

    #[test]
    fn ten_tokens_per_window_then_wait_for_the_oldest() {
        let mut g = GrantState::default();
        g.sign_in("a".into(), 0, DAY, 3_600_000);
        for i in 1..TOKENS_PER_WINDOW as u64 {
            assert_eq!(g.may_mint(i * 1000, ZOHO_WINDOW_MS), Ok(()));
            g.minted(i * 1000, 3_600_000, ZOHO_WINDOW_MS);
        }
        // Ten minted (the sign-in's and nine refreshes) within 9 s.
        assert_eq!(
            g.may_mint(10_000, ZOHO_WINDOW_MS),
            Err(ZOHO_WINDOW_MS - 10_000)
        );
        assert_eq!(g.may_mint(ZOHO_WINDOW_MS, ZOHO_WINDOW_MS), Ok(()));
    }

    #[test]
    fn fifteen_live_tokens_at_most() {
        let mut g = GrantState::default();
        g.sign_in("a".into(), 0, DAY, 3_600_000);
        // One every 70 s never trips the window, but the 16th live token would.
        let mut t = 0;
        for _ in 1..MAX_LIVE_TOKENS {
            t += 70_000;
            assert_eq!(g.may_mint(t, ZOHO_WINDOW_MS), Ok(()));
            g.minted(t, 3_600_000, ZOHO_WINDOW_MS);
        }
        t += 70_000;
        assert_eq!(g.may_mint(t, ZOHO_WINDOW_MS), Err(3_600_000 - t));
    }

    #[test]
    fn a_throttle_is_remembered_and_a_sign_in_starts_a_new_budget() {
        let mut g = GrantState::default();
        g.sign_in("a".into(), 0, DAY, 0);
        assert_eq!(g.throttled(5_000, ZOHO_WINDOW_MS), ZOHO_WINDOW_MS);
        assert_eq!(
            g.may_mint(6_000, ZOHO_WINDOW_MS),
            Err(ZOHO_WINDOW_MS - 1_000)
        );
        assert_eq!(g.may_mint(5_000 + ZOHO_WINDOW_MS, ZOHO_WINDOW_MS), Ok(()));
        g.sign_in("b".into(), 7_000, DAY, 0);
        assert_eq!(g.may_mint(7_000, ZOHO_WINDOW_MS), Ok(()));
    }

    #[test]
    fn what_a_request_needs() {
        let now = 1_000_000_000;
        assert_eq!(need(now + REFRESH_AHEAD_MS + 1, now, None), Need::Use);
        assert_eq!(
            need(now + REFRESH_AHEAD_MS, now, None),
            Need::Refresh { fallback: true }
        );
        assert_eq!(
            need(now + 1_000, now, None),
            Need::Refresh { fallback: false }
        );
        assert_eq!(
            need(now + DAY, now, Some(true)),
            Need::Refresh { fallback: false }
        );
        assert_eq!(need(now + 60_000, now, Some(false)), Need::Use);
        assert_eq!(
            need(now + 1_000, now, Some(false)),
            Need::Refresh { fallback: false }
        );
    }

    #[test]
    fn calls_round_trip_as_json() {
        let call = GrantCall::SignOut {
            key: "user:us:production:1:2".into(),
            session: "h".into(),
            everywhere: true,
        };
        let text = serde_json::to_string(&call).unwrap();
        assert!(text.starts_with(r#"{"sign_out":{"#), "{text}");
        let back: GrantCall = serde_json::from_str(&text).unwrap();
        assert_eq!(back.key(), "user:us:production:1:2");
        assert_eq!(retry_after_secs(1), 1);
        assert_eq!(retry_after_secs(0), 1);
        assert_eq!(retry_after_secs(1_001), 2);
    }
}
