//! The Worker: the portal's backend-for-frontend, in two halves.
//!
//! The pure half, the modules here, builds natively and is unit- and property-tested: what to
//! ask Zoho and how to read its answers ([`leads`], [`listing`], [`bulk`]), the grants' state
//! ([`grant`]), sign-in's checks ([`signin`]), user records and their keys ([`records`]),
//! sessions and cookies ([`session`],
//! [`cookies`]), sealing ([`seal`]), configuration ([`config`]), retries ([`retry`]) and the
//! log line ([`logline`]).
//! The glue half, `glue/` (wasm32 only), wires them to requests, Workers KV, Durable Objects
//! and `fetch`; a glue module is named after the pure module it serves (`glue/leads.rs`
//! handles the students routes with [`leads`]).

pub mod bulk;
pub mod config;
pub mod cookies;
pub mod grant;
pub mod leads;
pub mod listing;
pub mod logline;
pub mod records;
pub mod retry;
pub mod seal;
pub mod session;
pub mod signin;

// The Worker glue: everything that needs workers-rs and Wasm, in one place.
#[cfg(target_arch = "wasm32")]
mod glue;
