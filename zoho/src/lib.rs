//! The Zoho protocol, without I/O.
//!
//! This crate knows how Zoho's accounts server and CRM v8 API behave on the wire, as Zoho
//! documents them (OAuth: <https://www.zoho.com/crm/developer/docs/api/v8/oauth-overview.html>;
//! data centres: <https://www.zoho.com/crm/developer/docs/api/v8/multi-dc.html>; the API:
//! <https://www.zoho.com/crm/developer/docs/api/v8/>) and its official SDKs send them: which data
//! centres exist and where they live, how to build requests and how to read answers. It never opens a socket, reads a clock or touches a file,
//! so the Worker (Wasm), the simulator and the tests (native) all share it.

pub mod base64;
pub mod criteria;
pub mod crm;
pub mod dc;
pub mod fields;
pub mod form;
pub mod oauth;
pub mod pkce;
pub mod secret;

pub use dc::{DataCenter, Endpoints, Environment};
