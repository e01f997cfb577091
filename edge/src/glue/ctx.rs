//! What a handler needs besides the request ([`Ctx`]): the isolate's configuration, parsed
//! once, the environment, the request's log and its clock.

use std::cell::OnceCell;
use std::rc::Rc;

use worker::Env;

use crate::config::Config;
use crate::glue::log::Log;

/// What a handler needs besides the request.
#[derive(Clone)]
pub struct Ctx {
    pub config: Rc<Config>,
    pub env: Env,
    pub log: Log,
    pub now_ms: u64,
}

thread_local! {
    /// The configuration is parsed once per isolate (its variables cannot change under it).
    static CONFIG: OnceCell<Rc<Config>> = const { OnceCell::new() };
}

pub(crate) fn config(env: &Env) -> Result<Rc<Config>, crate::config::ConfigError> {
    if let Some(config) = CONFIG.with(|c| c.get().cloned()) {
        return Ok(config);
    }
    let config = Rc::new(Config::parse(|name| {
        env.var(name)
            .map(|v| v.to_string())
            .or_else(|_| env.secret(name).map(|v| v.to_string()))
            .ok()
    })?);
    CONFIG.with(|c| {
        let _ = c.set(Rc::clone(&config));
    });
    Ok(config)
}

/// `id` if it is shaped like a request id, else a new one. (The grant's object takes the id its
/// caller sends.)
pub(crate) fn checked_request_id(id: Option<String>) -> String {
    id.filter(|id| {
        !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
    .unwrap_or_else(|| {
        let mut bytes = [0u8; 8];
        crate::session::random_bytes(&mut bytes);
        crate::session::hex(&bytes)
    })
}
