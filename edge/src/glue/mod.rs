//! The Worker glue (wasm32 only): requests, Workers KV, Durable Objects and `fetch`, each
//! handler a thin layer over a pure module of the crate root. `entry` is the entry point,
//! `routes` dispatches, `upstream` talks to Zoho with timeouts, `crm` on a user's behalf.

mod auth;
mod body;
mod bulk;
mod crm;
mod ctx;
mod entry;
mod grant_object;
mod leads;
mod limits;
mod listing;
mod log;
mod login_object;
mod proxy;
mod reply;
mod routes;
mod store;
mod upstream;
