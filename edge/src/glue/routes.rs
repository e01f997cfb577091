//! Routing of `/api/*` and `/auth/*`, and what every request goes through first: configuration,
//! a request id, the CSRF and origin checks, a log line. Everything else is served by the
//! static-assets layer (see `wrangler.toml`), so any other path that reaches the Worker is a 404.

use worker::{Date, Env, Method, Request, Response};
use zcrm_api::{CSRF_HEADER, CSRF_VALUE, Health, codes};

use crate::glue::ctx::{Ctx, checked_request_id, config};
use crate::glue::log::Log;
use crate::glue::log::fields;
use crate::glue::reply::{self, Failure, Outcome};
use crate::glue::{auth, bulk, leads, listing, proxy};

pub async fn handle(req: Request, env: Env) -> worker::web_sys::Response {
    let request_id = request_id(&req);
    let config = match config(&env) {
        Ok(config) => config,
        Err(e) => {
            // No configuration, so no log level: said whatever it would have been.
            let line = crate::logline::line(
                crate::config::Level::Error,
                "misconfigured",
                &request_id,
                fields!("problem" => e.to_string()),
            );
            worker::console_error!("{line}");
            let failure = Failure::new(
                500,
                codes::INTERNAL,
                format!("The portal service is misconfigured: {e}."),
            );
            return reply::finish(failure.response(), &request_id);
        }
    };
    let ctx = Ctx {
        log: Log {
            level: config.log_level,
            request_id: request_id.clone(),
        },
        config,
        env,
        now_ms: Date::now().as_millis(),
    };
    let method = req.method();
    let path = req.path();
    // The body, to let go of it if the route did not read it (see below).
    let body = req.inner().body();
    let response = match route(req, &ctx).await {
        Ok(response) => response,
        Err(failure) => {
            if let Some(detail) = &failure.internal {
                ctx.log.error(
                    "internal_error",
                    fields!("path" => path, "detail" => detail),
                );
            }
            failure.response()
        }
    };
    // A body nobody read (refused before it: no session, a bad header, a route without one) is
    // cancelled, not drained: otherwise workerd reads it all, however large, before it sends
    // the answer.
    if let Some(body) = body
        && !body.locked()
    {
        let _ = worker::wasm_bindgen_futures::JsFuture::from(body.cancel()).await;
    }
    ctx.log.info(
        "request",
        fields!("method" => method.to_string(), "path" => path, "status" => response.status_code(), "ms" => Date::now().as_millis().saturating_sub(ctx.now_ms)),
    );
    reply::finish(response, &request_id)
}

/// The routes of the Worker, resolved from the path alone.
enum Route {
    Health,
    Session,
    Start,
    Callback,
    Logout,
    Students,
    StudentsMeta,
    StudentsCount,
    StudentsExport,
    StudentsBulk,
    Student(String),
    Crm(String, proxy::Target),
}

impl Route {
    fn resolve(path: &str, ctx: &Ctx) -> Result<Route, Failure> {
        Ok(match path {
            "/api/health" => Route::Health,
            "/api/session" => Route::Session,
            "/auth/start" => Route::Start,
            "/auth/callback" => Route::Callback,
            "/auth/logout" => Route::Logout,
            "/api/students" => Route::Students,
            "/api/students/meta" => Route::StudentsMeta,
            "/api/students/count" => Route::StudentsCount,
            "/api/students/export.csv" => Route::StudentsExport,
            "/api/students/bulk" => Route::StudentsBulk,
            _ => {
                if let Some(id) = path.strip_prefix("/api/students/") {
                    if !zoho::fields::is_record_id(id) {
                        return Err(Failure::bad_request("A student id is 1 to 25 digits."));
                    }
                    Route::Student(id.to_owned())
                } else if let Some(rest) = path.strip_prefix("/api/crm/") {
                    let (module, target) = proxy::resolve(rest, &ctx.config.allowed_modules)?;
                    Route::Crm(module.to_owned(), target)
                } else {
                    return Err(Failure::new(404, codes::NOT_FOUND, "No such route."));
                }
            }
        })
    }

    fn methods(&self) -> &'static [Method] {
        match self {
            Route::Health
            | Route::Session
            | Route::Start
            | Route::StudentsMeta
            | Route::StudentsCount
            | Route::StudentsExport => &[Method::Get],
            Route::Callback | Route::Logout | Route::StudentsBulk => &[Method::Post],
            Route::Students => &[Method::Get, Method::Post],
            Route::Student(_) => &[Method::Get, Method::Put, Method::Delete],
            Route::Crm(_, target) => proxy::methods(target),
        }
    }
}

async fn route(req: Request, ctx: &Ctx) -> Outcome {
    let method = req.method();
    // Unknown routes are 404 and wrong methods 405 whatever the headers; then the CSRF check.
    let route = Route::resolve(&req.path(), ctx)?;
    allow(&method, route.methods())?;
    if !matches!(method, Method::Get | Method::Head) {
        check_csrf(&req, ctx)?;
    }
    match (route, method) {
        (Route::Health, _) => Ok(health(ctx)),
        (Route::Session, _) => auth::session(&req, ctx).await,
        (Route::Start, _) => auth::start(&req, ctx).await,
        (Route::Callback, _) => auth::callback(req, ctx).await,
        (Route::Logout, _) => auth::logout(&req, ctx).await,
        (Route::StudentsMeta, _) => leads::meta(&req, ctx).await,
        (Route::StudentsCount, _) => listing::count(&req, ctx).await,
        (Route::StudentsExport, _) => listing::export(&req, ctx).await,
        (Route::StudentsBulk, _) => bulk::bulk(req, ctx).await,
        (Route::Students, Method::Post) => leads::create(req, ctx).await,
        (Route::Students, _) => listing::list(&req, ctx).await,
        (Route::Student(id), Method::Put) => leads::update(req, ctx, &id).await,
        (Route::Student(id), Method::Delete) => leads::delete(&req, ctx, &id).await,
        (Route::Student(id), _) => leads::get(&req, ctx, &id).await,
        (Route::Crm(module, target), _) => proxy::forward(req, ctx, &module, target).await,
    }
}

/// `GET` routes also answer `HEAD`.
fn allow(method: &Method, allowed: &[Method]) -> Result<(), Failure> {
    let head_as_get = *method == Method::Head && allowed.contains(&Method::Get);
    if allowed.contains(method) || head_as_get {
        Ok(())
    } else {
        let names: Vec<String> = allowed.iter().map(ToString::to_string).collect();
        Err(Failure::new(
            405,
            codes::METHOD_NOT_ALLOWED,
            format!("Use {} on this route.", names.join(" or ")),
        ))
    }
}

/// State-changing requests need the CSRF header, and, when the browser names an origin, the
/// portal's own (the origin of the redirect URI: the app is served from there).
fn check_csrf(req: &Request, ctx: &Ctx) -> Result<(), Failure> {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    if header(CSRF_HEADER).as_deref() != Some(CSRF_VALUE) {
        return Err(Failure::new(
            403,
            codes::FORBIDDEN,
            format!("State-changing requests need the header {CSRF_HEADER}: {CSRF_VALUE}."),
        ));
    }
    if let Some(origin) = header("origin")
        && origin != ctx.config.app_origin()
    {
        return Err(Failure::new(
            403,
            codes::FORBIDDEN,
            "Requests from other sites are refused.",
        ));
    }
    Ok(())
}

fn health(ctx: &Ctx) -> Response {
    reply::json(
        200,
        &Health {
            status: "ok".to_owned(),
            service: env!("CARGO_PKG_NAME").to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            environment: ctx.config.environment.to_string(),
        },
    )
}

/// The request's query, decoded as forms are, from the URL's text: without parsing the whole
/// URL again (the `url` crate's parser and IDNA code were 24.8 KB of the Worker's gzip bundle).
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    zoho::form::query_of_url(&req.inner().url())
}

/// Cloudflare names each request (`cf-ray`); locally there is none, so make one up.
fn request_id(req: &Request) -> String {
    checked_request_id(req.headers().get("cf-ray").ok().flatten())
}
