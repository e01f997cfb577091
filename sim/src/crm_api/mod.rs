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
    ctx.route = route_name(&req.method, rest);
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
        dispatch(Guard::Read(&st), req, &auth, rest)
    } else {
        let mut st = shared.lock();
        dispatch(Guard::Write(&mut st), req, &auth, rest)
    };
    drop(slot);
    out.into_resp()
}

fn route_name(method: &str, rest: &[&str]) -> String {
    let tail = match rest {
        ["crm", "v8", "users"] => "users".to_owned(),
        ["crm", "v8", "users", _] => "users/{id}".to_owned(),
        ["crm", "v8", "org"] => "org".to_owned(),
        ["crm", "v8", "settings", x] => format!("settings/{x}"),
        ["crm", "v8", m] => module_label(m),
        ["crm", "v8", m, "search"] => format!("{}/search", module_label(m)),
        ["crm", "v8", m, "actions", "count"] => format!("{}/actions/count", module_label(m)),
        ["crm", "v8", m, _] => format!("{}/{{id}}", module_label(m)),
        _ => "invalid".to_owned(),
    };
    format!("{method} /{{dc}}/{{env}}/crm/v8/{tail}")
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

fn dispatch(mut g: Guard<'_>, req: &Req, auth: &Auth, rest: &[&str]) -> Out {
    dispatch_inner(&mut g, req, auth, rest).unwrap_or_else(Out::Err)
}

fn dispatch_inner(g: &mut Guard<'_>, req: &Req, auth: &Auth, rest: &[&str]) -> Result<Out, Status> {
    let ["crm", "v8", rest @ ..] = rest else {
        return Err(Status::new(ErrorCode::InvalidUrlPattern));
    };
    let m = req.method.as_str();
    let need = |path: &str, op: ScopeOp| -> Result<(), Status> {
        if scope_allows(&auth.scopes, path, op) {
            Ok(())
        } else {
            Err(Status::new(ErrorCode::OauthScopeMismatch))
        }
    };
    let writable = || Status::new(ErrorCode::InternalError);
    match rest {
        ["users"] | ["users", _] if m == "GET" => {
            need("ZohoCRM.users", ScopeOp::Read)?;
            users(g.st(), req, auth, rest.get(1).copied())
        }
        ["org"] if m == "GET" => {
            need("ZohoCRM.org", ScopeOp::Read)?;
            Ok(org(g.st(), auth))
        }
        ["settings", "fields"] if m == "GET" => {
            need("ZohoCRM.settings.fields", ScopeOp::Read)?;
            settings::fields(g.st(), req)
        }
        ["settings", "modules"] if m == "GET" => {
            need("ZohoCRM.settings.modules", ScopeOp::Read)?;
            settings::modules(g.st(), req, auth)
        }
        ["users" | "org" | "settings", ..] => {
            if matches!(
                rest,
                ["users"] | ["users", _] | ["org"] | ["settings", "fields" | "modules"]
            ) {
                Err(Status::new(ErrorCode::InvalidRequestMethod))
            } else {
                Err(Status::new(ErrorCode::InvalidUrlPattern))
            }
        }
        [name, "actions", "count"] if !name.is_empty() => {
            let module = ModuleKind::from_name(name).ok_or_else(|| {
                Status::new(ErrorCode::InvalidModule).with("resource_path_index", 0)
            })?;
            if m != "GET" {
                return Err(Status::new(ErrorCode::InvalidRequestMethod));
            }
            need(module.scope_path(), ScopeOp::Read)?;
            count(g.st(), req, auth, module)
        }
        [name, tail @ ..] if tail.len() <= 1 && !name.is_empty() => {
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
                ("GET", []) => list(g.st(), req, auth, module),
                ("GET", ["search"]) => search(g.st(), req, auth, module),
                ("GET", [id]) => get_one(g.st(), req, auth, module, id),
                ("POST" | "PUT" | "DELETE", _) if matches!(g, Guard::Read(_)) => Err(writable()),
                ("POST", []) => create(write(g)?, req, auth, module),
                ("PUT", []) => update(write(g)?, req, auth, module, None),
                ("PUT", [id]) => update(write(g)?, req, auth, module, Some(id)),
                ("DELETE", []) => {
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
                ("DELETE", [id]) => Ok(delete(write(g)?, auth, module, &[id.to_string()])),
                _ => Err(Status::new(ErrorCode::InvalidRequestMethod)),
            }
        }
        _ => Err(Status::new(ErrorCode::InvalidUrlPattern)),
    }
}

fn write<'a>(g: &'a mut Guard<'_>) -> Result<&'a mut State, Status> {
    match g {
        Guard::Write(s) => Ok(s),
        Guard::Read(_) => Err(Status::new(ErrorCode::InternalError)),
    }
}
