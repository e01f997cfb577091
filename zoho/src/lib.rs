//! The Zoho protocol, without I/O.
//!
//! This crate knows how Zoho's accounts server and CRM v8 API behave on the wire
//! (see `../shared/zoho-wire.md`): which data centres exist and where they live, how to build
//! requests and how to read answers. It never opens a socket, reads a clock or touches a file,
//! so the Worker (Wasm), the simulator and the tests (native) all share it.

pub mod criteria;
pub mod crm;
pub mod dc;
pub mod fields;
pub mod form;
pub mod oauth;
pub mod pkce;
pub mod secret;

pub use dc::{DataCenter, Endpoints, Environment};
