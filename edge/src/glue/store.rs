//! Workers KV (binding `KV`): user records (written by the grant's Durable Object only, see
//! [`crate::grant`]), field metadata and idempotency marks. Sessions are not in KV: the grant's
//! object keeps them, so that signing out takes effect at once everywhere.

use worker::{Env, kv::KvStore};

use crate::cookies::SESSION_MAX_AGE_SECS;
use crate::records::UserRecord;

/// How long a user record (and the refresh token sealed in it) stays in KV after its last
/// write: a day past the longest session. Every sign-in and refresh writes it, so a record in use
/// never expires, and the refresh token of a user who stopped coming does not stay for ever.
pub const USER_RECORD_TTL_SECS: u64 = SESSION_MAX_AGE_SECS + 24 * 3600;

pub struct Store {
    kv: KvStore,
}

/// KV errors are the Worker's problem: logged by the caller, answered as 500.
pub type StoreResult<T> = Result<T, worker::Error>;

impl Store {
    pub fn new(env: &Env) -> StoreResult<Store> {
        Ok(Store { kv: env.kv("KV")? })
    }

    pub async fn delete(&self, key: &str) -> StoreResult<()> {
        Ok(self.kv.delete(key).await?)
    }

    /// The user's record as KV has it now (in this location).
    pub async fn user(&self, key: &str) -> StoreResult<Option<UserRecord>> {
        self.json(key).await
    }

    pub async fn put_user(&self, record: &UserRecord) -> StoreResult<()> {
        self.kv
            .put(&record.key, serde_json::to_string(record)?)?
            .expiration_ttl(USER_RECORD_TTL_SECS)
            .execute()
            .await?;
        Ok(())
    }

    pub async fn text(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(self.kv.get(key).text().await?)
    }

    /// KV's shortest TTL is 60 s.
    pub async fn put_text(&self, key: &str, value: &str, ttl_secs: u64) -> StoreResult<()> {
        self.kv
            .put(key, value)?
            .expiration_ttl(ttl_secs.max(60))
            .execute()
            .await?;
        Ok(())
    }

    /// A JSON value, read by `serde_json` from KV's text: workers-rs's own `.json()` would carry
    /// a second decoder of every stored type (serde-wasm-bindgen) in the Wasm.
    pub async fn json<T: serde::de::DeserializeOwned>(&self, key: &str) -> StoreResult<Option<T>> {
        match self.text(key).await? {
            Some(text) => Ok(Some(serde_json::from_str(&text)?)),
            None => Ok(None),
        }
    }

    pub async fn put_json<T: serde::Serialize>(
        &self,
        key: &str,
        value: &T,
        ttl_secs: u64,
    ) -> StoreResult<()> {
        self.put_text(key, &serde_json::to_string(value)?, ttl_secs)
            .await
    }
}
