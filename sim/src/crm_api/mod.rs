//! CRM API v8: `/{dc}/{env}/crm/v8/...`: authentication, scopes, routing. The answers are in
//! `settings.rs` (users, org, modules, fields), `read.rs` (list, get, search, count) and `write.rs`
//! (create, update, delete).

mod read;
mod settings;
mod write;

use read::{count, get_one, list, search};
use settings::{org, users};
use write::{create, delete, update};

use crate::seed::ModuleKind;
use crate::state::{Slot, State};
use crate::{Ctx, Req, Resp, Shared};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;
use zoho::crm::{self, ErrorCode, MAX_RECORDS_PER_WRITE, Status};
use zoho::oauth::{ScopeOp, scope_allows};
use zoho::{DataCenter, Environment};

/// What a handler answers, serialized after the lock is released.
enum Out {
    Json(u16, Value),
    /// Already serialized JSON (the hot list path serializes under the read lock, without
    /// building a `Value` tree).
    Raw(u16, Vec<u8>),
    NoContent,
    /// 304 with no body: `If-Modified-Since` and nothing changed.
    NotModified,
    Err(Status),
}

impl Out {
    fn into_resp(self) -> Resp {
        match self {
            Out::Json(s, v) => Resp::json(s, &v),
            Out::Raw(s, bytes) => Resp {
                status: s,
                content_type: Some(crate::JSON.to_owned()),
                location: None,
                body: bytes.into(),
            },
            Out::NoContent => Resp::empty(204),
            Out::NotModified => Resp::empty(304),
            Out::Err(e) => Resp::api_error(&e),
        }
    }
}

impl From<Status> for Out {
    fn from(e: Status) -> Out {
        Out::Err(e)
    }
}

struct Auth {
    user: usize,
    org: usize,
    env: Environment,
    scopes: Arc<[String]>,
    in_flight: Arc<AtomicUsize>,
    limit: usize,
}

fn authenticate(
    st: &mut State,
    req: &Req,
    dc: DataCenter,
    env: Environment,
) -> Result<Auth, Status> {
    let Some(token) = req
        .header("authorization")
        .and_then(crm::token_from_authorization)
    else {
        return Err(Status::new(ErrorCode::AuthenticationFailure));
    };
    let now = st.now();
    let Some(a) = st.access.get(token) else {
        return Err(Status::new(ErrorCode::InvalidToken));
    };
    if a.expires_at <= now {
        let t = token.to_owned();
        st.drop_access(&t);
        return Err(Status::new(ErrorCode::InvalidToken));
    }
    if a.dc != dc || a.env != env {
        return Err(Status::new(ErrorCode::InvalidToken));
    }
    let user = a.user;
    let scopes = a.scopes.clone();
    let org = st.users[user].org;
    let inst = st
        .instances
        .get(&(org, env))
        .ok_or_else(|| Status::new(ErrorCode::InvalidToken))?;
    Ok(Auth {
        user,
        org,
        env,
        scopes,
        in_flight: inst.in_flight.clone(),
        limit: st.limits.org_concurrency,
    })
}

pub(crate) async fn handle(
    shared: &Arc<Shared>,
    req: &Req,
    ctx: &mut Ctx,
    dc: DataCenter,
    env: Environment,
    rest: &[&str],
    delay: Duration,
) -> Resp {
    let route = Route::parse(rest);
    ctx.route = route.name(&req.method);
    let auth = {
        let mut st = shared.lock();
        authenticate(&mut st, req, dc, env)
    };
    let auth = match auth {
        Ok(a) => a,
        Err(e) => return Resp::api_error(&e),
    };
    ctx.user = Some(auth.user);
    let Some(slot) = Slot::acquire(&auth.in_flight, auth.limit) else {
        let mut st = shared.lock();
        st.stats.concurrency_rejections += 1;
        return Resp::api_error(
            &Status::new(ErrorCode::TooManyRequests)
                .with_message("concurrency limit exceeded")
                .with("limit", auth.limit),
        );
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let out = if req.method == "GET" {
        let st = shared.read();
        dispatch(Guard::Read(&st), req, &auth, route)
    } else {
        let mut st = shared.lock();
        dispatch(Guard::Write(&mut st), req, &auth, route)
    };
    drop(slot);
    out.into_resp()
}

/// A path under `/{dc}/{env}`, parsed once: the dispatch and the log's route name both read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route<'a> {
    /// `crm/v8/users[/{id}]`
    Users(Option<&'a str>),
    /// `crm/v8/org`
    Org,
    /// `crm/v8/settings/{which}`
    Settings(&'a str),
    /// `crm/v8/{module}/actions/count`
    Count(&'a str),
    /// `crm/v8/{module}[/search | /{id}]`
    Module(&'a str, Option<&'a str>),
    /// Anything else: `INVALID_URL_PATTERN`.
    Invalid,
}

impl<'a> Route<'a> {
    fn parse(rest: &[&'a str]) -> Route<'a> {
        let ["crm", "v8", rest @ ..] = rest else {
            return Route::Invalid;
        };
        match *rest {
            ["users"] => Route::Users(None),
            ["users", id] => Route::Users(Some(id)),
            ["org"] => Route::Org,
            ["settings", which] => Route::Settings(which),
            ["users" | "org" | "settings", ..] => Route::Invalid,
            [name, "actions", "count"] if !name.is_empty() => Route::Count(name),
            [name] if !name.is_empty() => Route::Module(name, None),
            [name, tail] if !name.is_empty() => Route::Module(name, Some(tail)),
            _ => Route::Invalid,
        }
    }

    /// `GET /{dc}/{env}/crm/v8/Leads/{id}` and the like, for the log.
    fn name(self, method: &str) -> String {
        let tail = match self {
            Route::Users(None) => "users".to_owned(),
            Route::Users(Some(_)) => "users/{id}".to_owned(),
            Route::Org => "org".to_owned(),
            Route::Settings(which) => format!("settings/{which}"),
            Route::Count(m) => format!("{}/actions/count", module_label(m)),
            Route::Module(m, None) => module_label(m),
            Route::Module(m, Some("search")) => format!("{}/search", module_label(m)),
            Route::Module(m, Some(_)) => format!("{}/{{id}}", module_label(m)),
            Route::Invalid => "invalid".to_owned(),
        };
        format!("{method} /{{dc}}/{{env}}/crm/v8/{tail}")
    }
}

fn module_label(m: &str) -> String {
    ModuleKind::from_name(m).map_or_else(|| "{module}".to_owned(), |k| k.api_name().to_owned())
}

/// The state, read-locked for `GET`s and write-locked for the rest.
enum Guard<'a> {
    Read(&'a State),
    Write(&'a mut State),
}

impl Guard<'_> {
    fn st(&self) -> &State {
        match self {
            Guard::Read(s) => s,
            Guard::Write(s) => s,
        }
    }
}

fn dispatch(mut g: Guard<'_>, req: &Req, auth: &Auth, route: Route<'_>) -> Out {
    dispatch_inner(&mut g, req, auth, route).unwrap_or_else(Out::Err)
}

fn dispatch_inner(
    g: &mut Guard<'_>,
    req: &Req,
    auth: &Auth,
    route: Route<'_>,
) -> Result<Out, Status> {
    let m = req.method.as_str();
    let need = |path: &str, op: ScopeOp| -> Result<(), Status> {
        if scope_allows(&auth.scopes, path, op) {
            Ok(())
        } else {
            Err(Status::new(ErrorCode::OauthScopeMismatch))
        }
    };
    let writable = || Status::new(ErrorCode::InternalError);
    match route {
        Route::Users(id) if m == "GET" => {
            need("ZohoCRM.users", ScopeOp::Read)?;
            users(g.st(), req, auth, id)
        }
        Route::Org if m == "GET" => {
            need("ZohoCRM.org", ScopeOp::Read)?;
            Ok(org(g.st(), auth))
        }
        Route::Settings("fields") if m == "GET" => {
            need("ZohoCRM.settings.fields", ScopeOp::Read)?;
            settings::fields(g.st(), req)
        }
        Route::Settings("modules") if m == "GET" => {
            need("ZohoCRM.settings.modules", ScopeOp::Read)?;
            settings::modules(g.st(), req, auth)
        }
        Route::Users(_) | Route::Org | Route::Settings("fields" | "modules") => {
            Err(Status::new(ErrorCode::InvalidRequestMethod))
        }
        Route::Settings(_) | Route::Invalid => Err(Status::new(ErrorCode::InvalidUrlPattern)),
        Route::Count(name) => {
            let module = ModuleKind::from_name(name).ok_or_else(|| {
                Status::new(ErrorCode::InvalidModule).with("resource_path_index", 0)
            })?;
            if m != "GET" {
                return Err(Status::new(ErrorCode::InvalidRequestMethod));
            }
            need(module.scope_path(), ScopeOp::Read)?;
            count(g.st(), req, auth, module)
        }
        Route::Module(name, tail) => {
            let module = ModuleKind::from_name(name).ok_or_else(|| {
                Status::new(ErrorCode::InvalidModule).with("resource_path_index", 0)
            })?;
            let op = match m {
                "GET" => ScopeOp::Read,
                "POST" => ScopeOp::Create,
                "PUT" => ScopeOp::Update,
                "DELETE" => ScopeOp::Delete,
                _ => return Err(Status::new(ErrorCode::InvalidRequestMethod)),
            };
            need(module.scope_path(), op)?;
            match (m, tail) {
                ("GET", None) => list(g.st(), req, auth, module),
                ("GET", Some("search")) => search(g.st(), req, auth, module),
                ("GET", Some(id)) => get_one(g.st(), req, auth, module, id),
                ("POST" | "PUT" | "DELETE", _) if matches!(g, Guard::Read(_)) => Err(writable()),
                ("POST", None) => create(write(g)?, req, auth, module),
                ("PUT", None) => update(write(g)?, req, auth, module, None),
                ("PUT", Some(id)) => update(write(g)?, req, auth, module, Some(id)),
                ("DELETE", None) => {
                    let ids = req
                        .param("ids")
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| Status::required_param_missing("ids"))?;
                    let ids: Vec<String> = ids.split(',').map(|s| s.trim().to_owned()).collect();
                    if ids.len() > MAX_RECORDS_PER_WRITE {
                        return Err(Status::new(ErrorCode::LimitExceeded)
                            .with("limit", MAX_RECORDS_PER_WRITE)
                            .with("param_name", "ids"));
                    }
                    Ok(delete(write(g)?, auth, module, &ids))
                }
                ("DELETE", Some(id)) => Ok(delete(write(g)?, auth, module, &[id.to_string()])),
                _ => Err(Status::new(ErrorCode::InvalidRequestMethod)),
            }
        }
    }
}

fn write<'a>(g: &'a mut Guard<'_>) -> Result<&'a mut State, Status> {
    match g {
        Guard::Write(s) => Ok(s),
        Guard::Read(_) => Err(Status::new(ErrorCode::InternalError)),
    }
}

#[cfg(test)]
mod route_tests {
    use super::Route;

    #[test]
    fn one_parse_names_and_dispatches_every_path() {
        let parse = |p: &str| {
            let parts: Vec<&str> = p.split('/').collect();
            Route::parse(&parts)
                .name("GET")
                .replace("GET /{dc}/{env}/crm/v8/", "")
        };
        assert_eq!(parse("crm/v8/users"), "users");
        assert_eq!(parse("crm/v8/users/12"), "users/{id}");
        assert_eq!(parse("crm/v8/settings/fields"), "settings/fields");
        assert_eq!(parse("crm/v8/Leads"), "Leads");
        assert_eq!(parse("crm/v8/leads/search"), "Leads/search");
        assert_eq!(parse("crm/v8/Leads/actions/count"), "Leads/actions/count");
        assert_eq!(parse("crm/v8/Leads/5"), "Leads/{id}");
        assert_eq!(parse("crm/v8/Nope/5"), "{module}/{id}");
        for invalid in [
            "crm/v7/Leads",
            "crm/v8/org/x",
            "crm/v8/users/1/2",
            "crm/v8/Leads/1/2",
            "crm/v8",
        ] {
            assert_eq!(parse(invalid), "invalid", "{invalid}");
        }
    }
}
