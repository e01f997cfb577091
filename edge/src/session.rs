//! Random ids and what is derived from them: session ids, login `state`, PKCE verifiers, and
//! the hashes under which sessions are kept (KV never sees a session id itself).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// Fills `buf` from the platform's CSPRNG (WebCrypto in the Worker).
pub fn random_bytes(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the platform's random number generator is available");
}

/// 256 random bits, base64url: 43 characters.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    random_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A session id as found in a cookie: exactly the shape [`random_token`] makes.
pub fn is_token_shaped(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The KV key of a session: a hash of its id, so a KV dump yields no usable session.
pub fn session_key(session_id: &str) -> String {
    format!(
        "session:{}",
        hex(&zoho::pkce::sha256(session_id.as_bytes()))
    )
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the login cookie carries between `/auth/start` and `/auth/callback`, sealed.
#[derive(Debug, Serialize, Deserialize)]
pub struct Login {
    pub state: String,
    pub verifier: String,
    /// Milliseconds since the epoch when the sign-in started.
    pub started_at: u64,
}

impl Login {
    pub fn new(now_ms: u64) -> Login {
        Login {
            state: random_token(),
            verifier: random_token(),
            started_at: now_ms,
        }
    }

    /// Still usable at `now_ms` (the cookie's own Max-Age is not trusted alone).
    pub fn is_fresh(&self, now_ms: u64) -> bool {
        now_ms >= self.started_at
            && now_ms - self.started_at <= crate::cookies::LOGIN_MAX_AGE_SECS * 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_shaped() {
        let a = random_token();
        assert!(is_token_shaped(&a));
        assert_ne!(a, random_token());
        assert!(!is_token_shaped("short"));
        assert!(!is_token_shaped(&format!("{}!", &a[..42])));
    }

    #[test]
    fn session_keys_hide_the_id() {
        let id = random_token();
        let key = session_key(&id);
        assert!(key.starts_with("session:") && key.len() == 8 + 64);
        assert!(!key.contains(&id));
        assert_eq!(key, session_key(&id));
    }

    #[test]
    fn verifiers_are_valid_pkce() {
        let login = Login::new(0);
        assert!(zoho::pkce::verifier_is_valid(&login.verifier));
        assert_ne!(login.state, login.verifier);
    }

    #[test]
    fn logins_expire_after_ten_minutes() {
        let login = Login::new(1_000_000);
        assert!(login.is_fresh(1_000_000));
        assert!(login.is_fresh(1_000_000 + 600_000));
        assert!(!login.is_fresh(1_000_000 + 600_001));
        assert!(!login.is_fresh(999_999));
    }
}
