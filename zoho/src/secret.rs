//! Secrets: tokens, codes, the client secret and the PKCE verifier.
//!
//! Each is a newtype around a `String` whose `Debug` prints `[redacted]`, that has no `Display`
//! and no `PartialEq` (compare with [`constant_time_eq`] if you must), so a secret never lands in a
//! log line or a test failure message by accident. Read the value with `.secret()`.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                $name(value.into())
            }

            /// The secret value itself. Don't log it.
            pub fn secret(&self) -> &str {
                &self.0
            }

            pub fn into_secret(self) -> String {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_type!(
    /// An OAuth access token (`1000.…`), sent as `Authorization: Zoho-oauthtoken …`.
    AccessToken
);
secret_type!(
    /// An OAuth refresh token (`1000.…`).
    RefreshToken
);
secret_type!(
    /// A grant code from the authorization redirect or the Self Client console.
    AuthorizationCode
);
secret_type!(
    /// The OAuth client secret.
    ClientSecret
);
secret_type!(
    /// A PKCE code verifier.
    CodeVerifier
);

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_serde_is_transparent() {
        let t = AccessToken::new("1000.abcdef");
        assert_eq!(format!("{t:?}"), "AccessToken([redacted])");
        assert!(!format!("{:?}", Some(RefreshToken::new("1000.x"))).contains("1000"));
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"1000.abcdef\"");
        let back: AccessToken = serde_json::from_str("\"1000.zz\"").unwrap();
        assert_eq!(back.secret(), "1000.zz");
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
