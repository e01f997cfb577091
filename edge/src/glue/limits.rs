//! Rate limits with the Workers Rate Limiting binding (called on the binding itself, as KV is in
//! `glue/store.rs`: workers-rs's `RateLimiter` decoded each outcome with serde-wasm-bindgen,
//! whose decoder was then in the Wasm for this one use): per client
//! address on sign-in (`/auth/start` and `/auth/callback` each), so that nobody can make the
//! Worker spend the portal's client secret on Zoho's token endpoint at will (a login is single
//! use, so starts bound the token calls); and per user
//! on the routes that change records (students and the proxy's writes), counted once a request
//! has passed its checks and before anything is written, so that one session cannot spend the
//! org's Zoho API budget or the KV write quota.
//!
//! The limits themselves (requests per period) are the bindings' settings in `wrangler.toml`.
//! A Worker without the binding (the raw workerd configurations of the isolates suite and the
//! bench) runs unlimited; a limiter that fails lets the request through and logs it: the limit is
//! a guard against abuse, never a reason to refuse a person.

use wasm_bindgen::prelude::*;
use worker::Request;
use worker::js_sys::{Object, Promise, Reflect};
use worker::wasm_bindgen_futures::JsFuture;
use zcrm_api::{SignedOutReason, codes};

use crate::glue::ctx::Ctx;
use crate::glue::log::fields;
use crate::glue::reply::Failure;

/// The binding of sign-in's limit, per client address.
pub const AUTH_BINDING: &str = "AUTH_LIMITER";
/// The binding of the write routes' limit, per user.
pub const WRITE_BINDING: &str = "WRITE_LIMITER";
/// The period of the bindings (Cloudflare allows 10 or 60 seconds), sent as `Retry-After`.
const PERIOD_SECS: u64 = 60;

/// The client's address as Cloudflare gives it (`CF-Connecting-IP`, which Cloudflare sets on
/// every request), or `unknown`.
pub fn client_address(req: &Request) -> String {
    req.headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .filter(|ip| {
            !ip.is_empty()
                && ip.len() <= 45
                && ip
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

#[wasm_bindgen]
extern "C" {
    type RateLimit;

    /// `limit({key})`: a promise of `{success}`.
    #[wasm_bindgen(method, catch)]
    fn limit(this: &RateLimit, options: &Object) -> Result<Promise, JsValue>;
}

/// `Some(true)` if one more request of `key` is within the binding's limit; `None` without the
/// binding.
async fn within_limit(ctx: &Ctx, binding: &str, key: &str) -> Option<worker::Result<bool>> {
    let limiter = Reflect::get(&ctx.env, &JsValue::from_str(binding)).ok()?;
    if limiter.is_undefined() {
        return None;
    }
    let limiter: RateLimit = limiter.unchecked_into();
    let outcome = async {
        let options = Object::new();
        Reflect::set(&options, &JsValue::from_str("key"), &JsValue::from_str(key))?;
        let outcome = JsFuture::from(limiter.limit(&options)?).await?;
        Reflect::get(&outcome, &JsValue::from_str("success"))?
            .as_bool()
            .ok_or_else(|| JsValue::from_str("the rate limiter's outcome has no success"))
    };
    Some(outcome.await.map_err(worker::Error::from))
}

/// One more request of `key` under `binding`: `Err(429)` past the limit.
pub async fn check(ctx: &Ctx, binding: &str, key: String, what: &str) -> Result<(), Failure> {
    let Some(outcome) = within_limit(ctx, binding, &key).await else {
        return Ok(());
    };
    match outcome {
        Ok(true) => Ok(()),
        Ok(false) => {
            ctx.log.warn("rate_limited", fields!("limit" => binding));
            let failure = Failure {
                retry_after: Some(PERIOD_SECS),
                ..Failure::new(
                    429,
                    codes::RATE_LIMITED,
                    format!("Too many {what} in a short time. Try again in a minute."),
                )
            };
            // Sign-in refused for now is a reason not to be signed in; a change is not.
            Err(if binding == AUTH_BINDING {
                failure.because(SignedOutReason::Throttled)
            } else {
                failure
            })
        }
        Err(e) => {
            ctx.log.warn(
                "rate_limiter_failed",
                fields!("limit" => binding, "error" => e.to_string()),
            );
            Ok(())
        }
    }
}

/// Sign-in's limit for the request's client address, on `step` (`start` or `callback`).
pub async fn sign_in(req: &Request, ctx: &Ctx, step: &str) -> Result<(), Failure> {
    let key = format!("{step}:{}", client_address(req));
    check(ctx, AUTH_BINDING, key, "sign-in attempts").await
}

/// The write routes' limit for `user_key`.
pub async fn write(ctx: &Ctx, user_key: &str) -> Result<(), Failure> {
    check(ctx, WRITE_BINDING, format!("write:{user_key}"), "changes").await
}
