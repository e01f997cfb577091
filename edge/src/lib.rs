//! The Worker's entry point: a thin shell that turns a `worker::Request` into a call of the
//! plain routing function in [`routes`], and stamps every answer with a request id.

mod routes;

use worker::{Context, Env, Request, Response, Result, event};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    routes::handle(req, env).await
}
