//! Random ids and what is derived from them: session ids, login `state`, PKCE verifiers, the
//! hashes under which sessions are kept (no store ever sees a session id itself), and the
//! session cookie's value.

use serde::{Deserialize, Serialize};

/// Fills `buf` from the platform's CSPRNG (WebCrypto in the Worker).
pub fn random_bytes(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the platform's random number generator is available");
}

/// 256 random bits, base64url: 43 characters.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    random_bytes(&mut bytes);
    zoho::base64::encode_url(&bytes)
}

/// A session id as found in a cookie: exactly the shape [`random_token`] makes.
pub fn is_token_shaped(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a session is kept under: a hash of its id, so a dump of the store yields no session.
pub fn session_hash(session_id: &str) -> String {
    hex(&zoho::pkce::sha256(session_id.as_bytes()))
}

/// The session cookie's value: the session id, then the grant it belongs to
/// (`<dc>-<environment>-<org id>-<user id>`), so that the Worker goes straight to the grant's
/// object without a lookup. Tampering with the grant part only points at an object that does
/// not know the session.
pub fn session_cookie(session_id: &str, user_key: &str) -> String {
    let grant = user_key.strip_prefix("user:").unwrap_or(user_key);
    format!("{session_id}{}", grant.replace(':', "-"))
}

/// The session id and the user key in a session cookie's value, if it is one.
pub fn parse_session_cookie(value: &str) -> Option<(&str, String)> {
    let id = value.get(..43).filter(|id| is_token_shaped(id))?;
    let mut parts = value[43..].split('-');
    let dc = zoho::DataCenter::from_location(parts.next()?)?;
    let env: zoho::Environment = parts.next()?.parse().ok()?;
    let (org, user) = (parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some((id, crate::records::user_key(dc, env, org, user)?))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the login cookie carries between `/auth/start` and `/auth/callback`, sealed.
#[derive(Clone, Debug, Serialize, Deserialize)]
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
    fn session_hashes_hide_the_id() {
        let id = random_token();
        let hash = session_hash(&id);
        assert!(hash.len() == 64 && !hash.contains(&id));
        assert_eq!(hash, session_hash(&id));
    }

    #[test]
    fn session_cookies_name_their_grant() {
        let id = random_token();
        let value = session_cookie(&id, "user:eu:sandbox:123:456");
        assert_eq!(value, format!("{id}eu-sandbox-123-456"));
        assert!(
            crate::cookies::get(
                Some(&format!("a=b; __Host-zcrm-session={value}")),
                crate::cookies::SESSION
            )
            .is_some()
        );
        let (back, key) = parse_session_cookie(&value).unwrap();
        assert_eq!(
            (back, key.as_str()),
            (id.as_str(), "user:eu:sandbox:123:456")
        );
        for bad in [
            id.clone(),
            format!("{id}eu-sandbox-123"),
            format!("{id}eu-sandbox-123-456-7"),
            format!("{id}xx-sandbox-123-456"),
            format!("{id}eu-staging-123-456"),
            format!("{id}eu-sandbox-12a-456"),
            format!("{}eu-sandbox-123-456", &id[..42]),
            "é".repeat(30),
        ] {
            assert!(parse_session_cookie(&bad).is_none(), "{bad}");
        }
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
