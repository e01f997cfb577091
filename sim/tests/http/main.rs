//! Drives the simulator over HTTP: every behaviour, error body and limit.

mod common;
mod control;
mod count;
mod crm;
mod oauth;
