//! The Worker: the portal's backend-for-frontend.
//!
//! Pure logic lives in plain modules that build natively and have unit tests: [`config`] (the
//! Worker's settings, validated once), [`seal`] (AES-GCM for tokens and the login cookie),
//! [`cookies`] and [`session`]. The Worker glue (wasm32 only) wires them to requests, Workers KV
//! and `fetch`: `entry` is the thin entry point, `routes` dispatches, `auth` signs users in and
//! out, `store` keeps sessions and tokens in KV, `upstream` talks to Zoho with timeouts.

pub mod bulk;
pub mod config;
pub mod cookies;
pub mod grant;
pub mod leads;
pub mod listing;
pub mod records;
pub mod retry;
pub mod seal;
pub mod session;

#[cfg(target_arch = "wasm32")]
mod auth;
#[cfg(target_arch = "wasm32")]
mod bulk_import;
#[cfg(target_arch = "wasm32")]
mod crm;
#[cfg(target_arch = "wasm32")]
mod entry;
#[cfg(target_arch = "wasm32")]
mod grant_object;
#[cfg(target_arch = "wasm32")]
mod limits;
#[cfg(target_arch = "wasm32")]
mod log;
#[cfg(target_arch = "wasm32")]
mod login_object;
#[cfg(target_arch = "wasm32")]
mod proxy;
#[cfg(target_arch = "wasm32")]
mod reply;
#[cfg(target_arch = "wasm32")]
mod roster;
#[cfg(target_arch = "wasm32")]
mod routes;
#[cfg(target_arch = "wasm32")]
mod store;
#[cfg(target_arch = "wasm32")]
mod students;
#[cfg(target_arch = "wasm32")]
mod upstream;
