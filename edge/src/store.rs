//! Sessions and users in Workers KV (binding `KV`). The records and keys are in
//! [`crate::records`]; this module only moves them in and out.
//!
//! User records are also kept in the isolate's memory for a minute ([`Store::remembered_user`]),
//! which takes one of the two KV reads off most requests. Sessions are always read from KV, so
//! signing out (and out everywhere, which deletes every session of the user) takes effect at
//! once; a token that a copy in memory holds and another isolate has replaced is still valid at
//! Zoho, and when Zoho refuses it, or it is due for refresh, the refresh reads KV.

use std::cell::RefCell;
use std::collections::HashMap;

use worker::{Env, kv::KvStore};

use crate::cookies::SESSION_MAX_AGE_SECS;
use crate::records::{SessionRecord, UserRecord};

/// How long a user record read or written by this isolate is used without reading KV.
pub const USER_MEMORY_MS: u64 = 60_000;
/// Users kept in memory at most (an isolate serves a few users; this bounds a flood).
const USER_MEMORY_MAX: usize = 1000;

thread_local! {
    /// User records by key, with when this isolate read or wrote them.
    static USERS: RefCell<HashMap<String, (u64, UserRecord)>> = RefCell::new(HashMap::new());
}

fn remember(record: &UserRecord) {
    USERS.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= USER_MEMORY_MAX {
            m.clear();
        }
        let now = worker::Date::now().as_millis();
        m.insert(record.key.clone(), (now, record.clone()));
    });
}

fn forget(key: &str) {
    USERS.with(|m| m.borrow_mut().remove(key));
}

pub struct Store {
    kv: KvStore,
}

/// KV errors are the Worker's problem: logged by the caller, answered as 500.
pub type StoreResult<T> = Result<T, worker::Error>;

impl Store {
    pub fn new(env: &Env) -> StoreResult<Store> {
        Ok(Store { kv: env.kv("KV")? })
    }

    pub async fn session(&self, key: &str) -> StoreResult<Option<SessionRecord>> {
        Ok(self.kv.get(key).json().await?)
    }

    pub async fn put_session(&self, key: &str, record: &SessionRecord) -> StoreResult<()> {
        self.kv
            .put(key, serde_json::to_string(record)?)?
            .expiration_ttl(SESSION_MAX_AGE_SECS)
            .execute()
            .await?;
        Ok(())
    }

    pub async fn delete(&self, key: &str) -> StoreResult<()> {
        forget(key);
        Ok(self.kv.delete(key).await?)
    }

    /// The user's record as KV has it now.
    pub async fn user(&self, key: &str) -> StoreResult<Option<UserRecord>> {
        let record: Option<UserRecord> = self.kv.get(key).json().await?;
        match &record {
            Some(r) => remember(r),
            None => forget(key),
        }
        Ok(record)
    }

    /// The user's record as this isolate last read or wrote it, if that was less than
    /// [`USER_MEMORY_MS`] ago (no I/O; [`Store::user`] reads KV).
    pub fn remembered_user(&self, key: &str, now_ms: u64) -> Option<UserRecord> {
        USERS.with(|m| {
            m.borrow()
                .get(key)
                .filter(|(at, _)| now_ms.saturating_sub(*at) < USER_MEMORY_MS)
                .map(|(_, r)| r.clone())
        })
    }

    pub async fn put_user(&self, record: &UserRecord) -> StoreResult<()> {
        self.kv
            .put(&record.key, serde_json::to_string(record)?)?
            .execute()
            .await?;
        remember(record);
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

    pub async fn json<T: serde::de::DeserializeOwned>(&self, key: &str) -> StoreResult<Option<T>> {
        Ok(self.kv.get(key).json().await?)
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
