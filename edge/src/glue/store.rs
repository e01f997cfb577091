//! Workers KV (binding `KV`): user records (written by the grant's Durable Object only, see
//! [`crate::grant`]), field metadata and idempotency marks. Sessions are not in KV: the grant's
//! object keeps them, so that signing out takes effect at once everywhere.

use wasm_bindgen::prelude::*;
use worker::js_sys::{Object, Promise, Reflect};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Env, kv::KvError};

use crate::cookies::SESSION_MAX_AGE_SECS;
use crate::records::UserRecord;

/// How long a user record (and the refresh token sealed in it) stays in KV after its last
/// write: a day past the longest session. Every sign-in and refresh writes it, so a record in use
/// never expires, and the refresh token of a user who stopped coming does not stay for ever.
pub const USER_RECORD_TTL_SECS: u64 = SESSION_MAX_AGE_SECS + 24 * 3600;

/// The namespace as the runtime hands it over, called directly: workers-rs's `KvStore` looks
/// up five methods per use and passes every value and option through serde-wasm-bindgen (its
/// code for that was 3.7 KB of the Worker's gzip Wasm).
pub struct Store {
    kv: KvNamespace,
}

#[wasm_bindgen]
extern "C" {
    type KvNamespace;

    #[wasm_bindgen(method, catch, js_name = get)]
    fn get_as(this: &KvNamespace, key: &str, kind: &str) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn put(
        this: &KvNamespace,
        key: &str,
        value: &str,
        options: &Object,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn delete(this: &KvNamespace, key: &str) -> Result<Promise, JsValue>;
}

async fn settle(promise: Result<Promise, JsValue>) -> StoreResult<JsValue> {
    Ok(JsFuture::from(promise.map_err(KvError::from)?)
        .await
        .map_err(KvError::from)?)
}

/// KV errors are the Worker's problem: logged by the caller, answered as 500.
pub type StoreResult<T> = Result<T, worker::Error>;

impl Store {
    pub fn new(env: &Env) -> StoreResult<Store> {
        let kv = Reflect::get(env, &JsValue::from_str("KV"))?;
        if kv.is_undefined() {
            return Err(KvError::InvalidKvStore("KV".to_owned()).into());
        }
        Ok(Store {
            kv: kv.unchecked_into(),
        })
    }

    pub async fn delete(&self, key: &str) -> StoreResult<()> {
        settle(self.kv.delete(key)).await.map(drop)
    }

    /// The user's record as KV has it now (in this location).
    pub async fn user(&self, key: &str) -> StoreResult<Option<UserRecord>> {
        self.json(key).await
    }

    pub async fn put_user(&self, record: &UserRecord) -> StoreResult<()> {
        self.put_text(
            &record.key,
            &serde_json::to_string(record)?,
            USER_RECORD_TTL_SECS,
        )
        .await
    }

    pub async fn text(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(settle(self.kv.get_as(key, "text")).await?.as_string())
    }

    /// KV's shortest TTL is 60 s.
    pub async fn put_text(&self, key: &str, value: &str, ttl_secs: u64) -> StoreResult<()> {
        let options = Object::new();
        Reflect::set(
            &options,
            &JsValue::from_str("expirationTtl"),
            &JsValue::from_f64(ttl_secs.max(60) as f64),
        )?;
        settle(self.kv.put(key, value, &options)).await.map(drop)
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
