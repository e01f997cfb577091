//! The user record the Worker keeps in KV, and every KV key the Worker uses (users, field
//! metadata, idempotency marks): built here and nowhere else. Keys hold no secret: users are
//! keyed by data centre, environment, org id and user id. Tokens are sealed ([`crate::seal`]) with the
//! user's key as part of their purpose. Only the grant's Durable Object writes a user record
//! (see [`crate::grant`]); sessions are kept by that object, not in KV.

use serde::{Deserialize, Serialize};
use zoho::secret::{AccessToken, RefreshToken};
use zoho::{DataCenter, Environment};

use crate::seal::Keyring;

/// `user:<dc>:<env>:<org id>:<user id>` → who the user is and their tokens (sealed).
/// One per user: a second sign-in updates it in place (no duplicates).
/// The key is also the name of the grant's Durable Object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub key: String,
    pub email: String,
    pub name: String,
    pub user_id: String,
    pub org_id: String,
    pub org_name: String,
    pub zgid: String,
    /// Zoho's `location`, stored by name. The API domain and accounts server always come from
    /// the table.
    pub location: DataCenter,
    pub environment: Environment,
    /// Sealed with purpose [`refresh_purpose`].
    pub refresh_token: String,
    /// Sealed with purpose [`access_purpose`].
    pub access_token: String,
    /// Milliseconds since the epoch.
    pub access_expires_at: u64,
    pub updated_at: u64,
    /// Counts every write; the grant's object knows the current one, so a stale read is seen.
    #[serde(default)]
    pub version: u64,
}

impl UserRecord {
    /// Seals `refresh` and `access` into the record, bound to this user's key.
    pub fn seal_tokens(
        &mut self,
        keys: &Keyring,
        refresh: &RefreshToken,
        access: &AccessToken,
        expires_at: u64,
    ) {
        self.refresh_token = keys.seal(&refresh_purpose(&self.key), refresh.secret().as_bytes());
        self.seal_access(keys, access, expires_at);
    }

    /// Seals a new access token into the record.
    pub fn seal_access(&mut self, keys: &Keyring, access: &AccessToken, expires_at: u64) {
        self.access_token = keys.seal(&access_purpose(&self.key), access.secret().as_bytes());
        self.access_expires_at = expires_at;
    }

    pub fn open_refresh(&self, keys: &Keyring) -> Option<RefreshToken> {
        open_text(keys, &refresh_purpose(&self.key), &self.refresh_token).map(RefreshToken::new)
    }

    pub fn open_access(&self, keys: &Keyring) -> Option<AccessToken> {
        open_access(keys, &self.key, &self.access_token)
    }
}

/// The KV key of a user, if Zoho's ids look like ids (digits only).
pub fn user_key(dc: DataCenter, env: Environment, org_id: &str, user_id: &str) -> Option<String> {
    let is_id = |s: &str| !s.is_empty() && s.len() <= 30 && s.bytes().all(|b| b.is_ascii_digit());
    (is_id(org_id) && is_id(user_id)).then(|| format!("user:{dc}:{env}:{org_id}:{user_id}"))
}

/// `meta:<dc>:<env>:<org id>` → an org's field metadata, cached.
pub fn meta_key(dc: DataCenter, env: Environment, org_id: &str) -> String {
    format!("meta:{dc}:{env}:{org_id}")
}

/// `idem:<user key>:<SHA-256 of the client's Idempotency-Key, hex>` → what a create with that
/// key came to. The client's key is hashed: it is the client's text, of any shape.
pub fn idempotency_key(user_key: &str, client_key: &str) -> String {
    format!(
        "idem:{user_key}:{}",
        crate::session::hex(&zoho::pkce::sha256(client_key.as_bytes()))
    )
}

/// Opens an access token sealed for `user_key` (as the grant's object hands it out).
pub fn open_access(keys: &Keyring, user_key: &str, sealed: &str) -> Option<AccessToken> {
    open_text(keys, &access_purpose(user_key), sealed).map(AccessToken::new)
}

fn refresh_purpose(user_key: &str) -> String {
    format!("refresh:{user_key}")
}

fn access_purpose(user_key: &str) -> String {
    format!("access:{user_key}")
}

fn open_text(keys: &Keyring, purpose: &str, sealed: &str) -> Option<String> {
    String::from_utf8(keys.open(purpose, sealed)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_keys() {
        assert_eq!(
            user_key(DataCenter::Eu, Environment::Sandbox, "123", "456").as_deref(),
            Some("user:eu:sandbox:123:456")
        );
        assert_eq!(
            user_key(DataCenter::Us, Environment::Production, "1:2", "3"),
            None
        );
        assert_eq!(
            user_key(DataCenter::Us, Environment::Production, "", "3"),
            None
        );
        assert_eq!(
            user_key(DataCenter::Us, Environment::Production, "1", "x"),
            None
        );
    }

    fn record(key: &str) -> UserRecord {
        UserRecord {
            key: key.to_owned(),
            email: String::new(),
            name: String::new(),
            user_id: String::new(),
            org_id: String::new(),
            org_name: String::new(),
            zgid: String::new(),
            location: DataCenter::Us,
            environment: Environment::Production,
            refresh_token: String::new(),
            access_token: String::new(),
            access_expires_at: 0,
            updated_at: 0,
            version: 0,
        }
    }

    #[test]
    fn tokens_are_sealed_for_their_user_and_purpose() {
        let keys = Keyring::parse("v1:emNybS1lZGdlLWxvY2FsLWRldi1rZXktMzItYnl0ZXM=").unwrap();
        let mut a = record("user:us:production:1:2");
        a.seal_tokens(
            &keys,
            &RefreshToken::new("1000.r"),
            &AccessToken::new("1000.a"),
            42,
        );
        assert_eq!(a.open_refresh(&keys).unwrap().secret(), "1000.r");
        assert_eq!(a.open_access(&keys).unwrap().secret(), "1000.a");
        assert_eq!(a.access_expires_at, 42);
        assert!(!a.refresh_token.contains("1000.") && !a.access_token.contains("1000."));
        // Moved to another user's record, or swapped between the two slots, they do not open.
        let mut b = record("user:us:production:1:3");
        b.refresh_token = a.refresh_token.clone();
        b.access_token = a.access_token.clone();
        assert!(b.open_refresh(&keys).is_none() && b.open_access(&keys).is_none());
        std::mem::swap(&mut a.refresh_token, &mut a.access_token);
        assert!(a.open_refresh(&keys).is_none() && a.open_access(&keys).is_none());
    }

    #[test]
    fn kv_keys() {
        assert_eq!(
            meta_key(DataCenter::Eu, Environment::Sandbox, "7"),
            "meta:eu:sandbox:7"
        );
        let idem = idempotency_key("user:us:production:1:2", "k:y");
        assert!(idem.starts_with("idem:user:us:production:1:2:"));
        assert_eq!(idem.len(), "idem:user:us:production:1:2:".len() + 64);
    }

    #[test]
    fn records_keep_their_place_by_name() {
        let r = record("");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            (json["location"].as_str(), json["environment"].as_str()),
            (Some("us"), Some("production"))
        );
        assert_eq!(serde_json::from_value::<UserRecord>(json).unwrap(), r);
        let mut bad = serde_json::to_value(&r).unwrap();
        bad["location"] = "mars".into();
        assert!(serde_json::from_value::<UserRecord>(bad).is_err());
    }
}
