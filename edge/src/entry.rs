//! The Worker's entry point: hands every request to [`crate::routes::handle`].

use worker::{Context, Env, Request, Response, Result, event};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    Ok(crate::routes::handle(req, env).await)
}
