//! The cookies of the portal and how they are written and read.
//!
//! All are `__Host-` prefixed: `Secure`, `Path=/`, no `Domain`, so no other host or path can set
//! or read them. Chromium treats `http://127.0.0.1` and `http://localhost` as secure contexts and
//! keeps `Secure` cookies there, so the same attributes work in local runs (Safari does not).

/// The session: a random id whose hash keys the session in KV. `SameSite=Lax` so that a
/// top-level navigation to the portal from elsewhere still finds the user signed in.
pub const SESSION: &str = "__Host-zcrm-session";
/// The sign-in in progress: `state` and the PKCE verifier, sealed. Lives 10 minutes.
pub const LOGIN: &str = "__Host-zcrm-login";
/// The one cookie the app's script may read: `1` beside a session, nothing else (no id, no
/// token). With none, the app knows it is signed out without asking: a first visit makes no
/// session check, so no 401 in the console (`zcrm_api::SESSION_HINT_COOKIE`).
pub const HINT: &str = zcrm_api::SESSION_HINT_COOKIE;

pub const SESSION_MAX_AGE_SECS: u64 = 7 * 24 * 3600;
pub const LOGIN_MAX_AGE_SECS: u64 = 600;

/// A `Set-Cookie` value that sets `name` for `max_age_secs`.
pub fn set(name: &str, value: &str, max_age_secs: u64) -> String {
    cookie(name, value, max_age_secs, "; HttpOnly")
}

/// The attributes every cookie of the portal has, `extra` (`HttpOnly`) where it applies.
fn cookie(name: &str, value: &str, max_age_secs: u64, extra: &str) -> String {
    format!("{name}={value}; Max-Age={max_age_secs}; Path=/; Secure{extra}; SameSite=Lax")
}

/// A `Set-Cookie` value that deletes `name`.
pub fn clear(name: &str) -> String {
    set(name, "", 0)
}

/// The hint beside a session: readable by the page's script, so not `HttpOnly`; it says only
/// that a session cookie was set, and is never trusted for anything.
pub fn set_hint(max_age_secs: u64) -> String {
    cookie(HINT, "1", max_age_secs, "")
}

/// A `Set-Cookie` value that deletes the hint.
pub fn clear_hint() -> String {
    cookie(HINT, "", 0, "")
}

/// The value of cookie `name` in a `Cookie` header, if present and made only of the characters
/// our cookies use (base64url). Anything else is treated as absent.
pub fn get<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    let header = header?;
    if header.len() > 8 * 1024 {
        return None;
    }
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 4096
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes() {
        let c = set(SESSION, "abc", 60);
        for attr in [
            "__Host-zcrm-session=abc",
            "Max-Age=60",
            "Path=/",
            "Secure",
            "HttpOnly",
            "SameSite=Lax",
        ] {
            assert!(c.contains(attr), "{c} has {attr}");
        }
        assert!(!c.contains("Domain"));
        let hint = set_hint(60);
        assert_eq!(
            hint,
            "__Host-zcrm-hint=1; Max-Age=60; Path=/; Secure; SameSite=Lax"
        );
        assert!(!hint.contains("HttpOnly") && clear_hint().contains("Max-Age=0"));
        assert!(
            clear(LOGIN).starts_with("__Host-zcrm-login=;") && clear(LOGIN).contains("Max-Age=0")
        );
    }

    #[test]
    fn reading() {
        let h = Some("a=1; __Host-zcrm-session=AbC_-9; __Host-zcrm-login=x");
        assert_eq!(get(h, SESSION), Some("AbC_-9"));
        assert_eq!(get(h, LOGIN), Some("x"));
        assert_eq!(get(h, "missing"), None);
        assert_eq!(get(None, SESSION), None);
        assert_eq!(get(Some("__Host-zcrm-session=a b"), SESSION), None);
        assert_eq!(get(Some("__Host-zcrm-session="), SESSION), None);
        assert_eq!(get(Some("x__Host-zcrm-session=abc"), SESSION), None);
        assert_eq!(get(Some("__Host-zcrm-session=\"abc\""), SESSION), None);
    }
}
