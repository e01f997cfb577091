//! The Worker's entry point: hands every request to [`crate::glue::routes::handle`].

use worker::{Context, Env, Request, Result, event, web_sys};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<web_sys::Response> {
    Ok(crate::glue::routes::handle(req, env).await)
}
