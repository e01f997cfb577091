//! Routing of `/api/*` and `/auth/*`. Everything else is served by the static-assets layer
//! (see `wrangler.toml`), so a request that reaches this module outside those prefixes is a 404.

use worker::{Env, Method, Request, Response, Result};
use zcrm_api::{ApiError, Health, REQUEST_ID_HEADER};

pub async fn handle(req: Request, env: Env) -> Result<Response> {
    let request_id = request_id(&req);
    let mut response = match (req.method(), req.path().as_str()) {
        (Method::Get | Method::Head, "/api/health") => health(&env),
        (_, "/api/health") => error(405, "method_not_allowed", "use GET"),
        _ => error(404, "not_found", "no such route"),
    }?;
    response.headers_mut().set(REQUEST_ID_HEADER, &request_id)?;
    response.headers_mut().set("cache-control", "no-store")?;
    Ok(response)
}

fn health(env: &Env) -> Result<Response> {
    let environment = env
        .var("ZOHO_ENVIRONMENT")
        .map(|v| v.to_string())
        .unwrap_or_else(|_| "production".to_owned());
    Response::from_json(&Health {
        status: "ok".to_owned(),
        service: env!("CARGO_PKG_NAME").to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        environment,
    })
}

pub fn error(status: u16, code: &str, message: &str) -> Result<Response> {
    Ok(Response::from_json(&ApiError::new(code, message))?.with_status(status))
}

/// Cloudflare names each request (`cf-ray`); locally there is none, so make one up.
fn request_id(req: &Request) -> String {
    req.headers()
        .get("cf-ray")
        .ok()
        .flatten()
        .filter(|id| id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .unwrap_or_else(|| format!("{:016x}", (js_sys_random() * u64::MAX as f64) as u64))
}

fn js_sys_random() -> f64 {
    worker::js_sys::Math::random()
}
