//! Drives the simulator over HTTP: every behaviour, error body and limit.

mod common;
mod control;
mod crm;
mod oauth;
