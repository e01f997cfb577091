//! The login's Durable Object (class `Login`, binding `LOGINS`, one object per sign-in, named
//! by the SHA-256 of its `state`), and the Worker's call to it ([`consume`]).
//!
//! A login cookie and its `state` are single use across every isolate and location: the first
//! callback that carries them consumes the login, whatever comes of it, and every later one is
//! refused before anything is sent to Zoho. Workers KV cannot decide this (a write stays
//! invisible elsewhere for a minute or more); one object per login can. The mark is kept past
//! the login's own lifetime, then the object deletes itself with an alarm.

use std::cell::Cell;

use wasm_bindgen::prelude::*;
use worker::js_sys::Promise;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{DurableObject, Env, Request, Response, Result, State, web_sys};

use crate::cookies::LOGIN_MAX_AGE_SECS;
use crate::glue::ctx::Ctx;
use crate::glue::reply::Failure;
use crate::session::session_hash;

/// The binding of the namespace in `wrangler.toml`.
pub const BINDING: &str = "LOGINS";
const USED_KEY: &str = "used";
/// How long a consumed login is remembered: past the login cookie's lifetime, with a margin for
/// clocks that differ between the isolate that started it and this object.
const REMEMBER_MS: i64 = (LOGIN_MAX_AGE_SECS as i64 + 300) * 1000;

/// Consumes the login of `state`: `Ok(true)` for the first call, `Ok(false)` once it was used.
pub async fn consume(ctx: &Ctx, state: &str) -> std::result::Result<bool, Failure> {
    let stub = ctx
        .env
        .durable_object(BINDING)?
        .get_by_name(&session_hash(state))?
        .into_rpc();
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    match object_text(&stub, "https://login/consume", Some(&init))
        .await?
        .as_str()
    {
        FIRST => Ok(true),
        USED => Ok(false),
        other => Err(Failure {
            internal: Some(format!("the login object answered {other:?}")),
            ..Failure::internal()
        }),
    }
}

/// The object's answers: the login was consumed by this call, or before it.
const FIRST: &str = "first";
const USED: &str = "used";

#[worker::durable_object]
pub struct Login {
    state: State,
    /// Set before the first await: a second call while the first is storing its mark is refused.
    used: Cell<bool>,
}

impl DurableObject for Login {
    fn new(state: State, _env: Env) -> Self {
        Login {
            state,
            used: Cell::new(false),
        }
    }

    async fn fetch(&self, _req: Request) -> Result<Response> {
        if self.used.replace(true) {
            return Response::ok(USED);
        }
        let storage = self.state.storage();
        if storage.get::<u64>(USED_KEY).await?.is_some() {
            return Response::ok(USED);
        }
        storage
            .put(USED_KEY, worker::Date::now().as_millis())
            .await?;
        storage.set_alarm(REMEMBER_MS).await?;
        Response::ok(FIRST)
    }

    async fn alarm(&self) -> Result<Response> {
        self.state.storage().delete_all().await?;
        Response::empty()
    }
}

#[wasm_bindgen(module = "/src/glue/transport.js")]
extern "C" {
    /// The text of a Durable Object's answer, from its stub's `fetch(url, init)`.
    #[wasm_bindgen(js_name = stubText)]
    fn stub_text(stub: &JsValue, url: &str, init: Option<&web_sys::RequestInit>) -> Promise;
}

/// The text of the login object's answer to `url`: the stub's `fetch` and the answer's text in
/// one promise (`transport.js`). workers-rs's `Stub::fetch_*` would rebuild the `Response`
/// around its body's stream first, and its `Request::new_with_init` brings serde-wasm-bindgen's
/// encoder of its image-resizing options into the Wasm.
async fn object_text(
    stub: &JsValue,
    url: &str,
    init: Option<&web_sys::RequestInit>,
) -> Result<String> {
    JsFuture::from(stub_text(stub, url, init))
        .await
        .map_err(worker::Error::from)?
        .as_string()
        .ok_or_else(|| worker::Error::RustError("a Durable Object's answer is not text".into()))
}
