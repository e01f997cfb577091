//! CRM API v8: `/{dc}/{env}/crm/v8/...`.

use crate::seed::{self, ModuleKind, Rec, Role};
use crate::state::{Instance, Slot, State};
use crate::{Ctx, Req, Resp, Shared};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;
use zoho::criteria::Criteria;
use zoho::crm::{
    self, ApiError, ErrorCode, MAX_DISCRETE_RECORDS, MAX_FIELDS, MAX_PER_PAGE,
    MAX_RECORDS_PER_WRITE, action_success, write_status,
};
use zoho::fields::{Field, is_record_id};
use zoho::form::parse_bool;
use zoho::oauth::{ScopeOp, scope_allows};
use zoho::{DataCenter, Environment};

/// What a handler answers, serialized after the lock is released.
enum Out {
    Json(u16, Value),
    /// Already serialized JSON (the hot list path serializes under the read lock, without
    /// building a `Value` tree).
    Raw(u16, Vec<u8>),
    NoContent,
    Err(ApiError),
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
            Out::Err(e) => Resp::api_error(&e),
        }
    }
}

impl From<ApiError> for Out {
    fn from(e: ApiError) -> Out {
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
) -> Result<Auth, ApiError> {
    let Some(token) = req
        .header("authorization")
        .and_then(crm::token_from_authorization)
    else {
        return Err(ApiError::new(ErrorCode::AuthenticationFailure));
    };
    let now = st.now();
    let Some(a) = st.access.get(token) else {
        return Err(ApiError::new(ErrorCode::InvalidToken));
    };
    if a.expires_at <= now {
        let t = token.to_owned();
        st.drop_access(&t);
        return Err(ApiError::new(ErrorCode::InvalidToken));
    }
    if a.dc != dc || a.env != env {
        return Err(ApiError::new(ErrorCode::InvalidToken));
    }
    let user = a.user;
    let scopes = a.scopes.clone();
    let org = st.users[user].org;
    let inst = st
        .instances
        .get(&(org, env))
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidToken))?;
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
            &ApiError::new(ErrorCode::TooManyRequests)
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

fn dispatch_inner(
    g: &mut Guard<'_>,
    req: &Req,
    auth: &Auth,
    rest: &[&str],
) -> Result<Out, ApiError> {
    let ["crm", "v8", rest @ ..] = rest else {
        return Err(ApiError::new(ErrorCode::InvalidUrlPattern));
    };
    let m = req.method.as_str();
    let need = |path: &str, op: ScopeOp| -> Result<(), ApiError> {
        if scope_allows(&auth.scopes, path, op) {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::OauthScopeMismatch))
        }
    };
    let writable = || ApiError::new(ErrorCode::InternalError);
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
            let Some(name) = req.param("module") else {
                return Err(ApiError::required_param_missing("module"));
            };
            let module = ModuleKind::from_name(&name).ok_or_else(|| {
                ApiError::new(ErrorCode::InvalidModule).with("param_name", "module")
            })?;
            Ok(Out::Json(200, json!({ "fields": *g.st().fields[&module] })))
        }
        ["settings", "modules"] if m == "GET" => {
            need("ZohoCRM.settings.modules", ScopeOp::Read)?;
            let modules: Vec<Value> = ModuleKind::ALL.iter().map(|m| m.module_json()).collect();
            Ok(Out::Json(200, json!({ "modules": modules })))
        }
        ["users" | "org" | "settings", ..] => {
            if matches!(
                rest,
                ["users"] | ["users", _] | ["org"] | ["settings", "fields" | "modules"]
            ) {
                Err(ApiError::new(ErrorCode::InvalidRequestMethod))
            } else {
                Err(ApiError::new(ErrorCode::InvalidUrlPattern))
            }
        }
        [name, tail @ ..] if tail.len() <= 1 && !name.is_empty() => {
            let module = ModuleKind::from_name(name).ok_or_else(|| {
                ApiError::new(ErrorCode::InvalidModule).with("resource_path_index", 0)
            })?;
            let op = match m {
                "GET" => ScopeOp::Read,
                "POST" => ScopeOp::Create,
                "PUT" => ScopeOp::Update,
                "DELETE" => ScopeOp::Delete,
                _ => return Err(ApiError::new(ErrorCode::InvalidRequestMethod)),
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
                        .ok_or_else(|| ApiError::required_param_missing("ids"))?;
                    let ids: Vec<String> = ids.split(',').map(|s| s.trim().to_owned()).collect();
                    if ids.len() > MAX_RECORDS_PER_WRITE {
                        return Err(ApiError::new(ErrorCode::LimitExceeded)
                            .with("limit", MAX_RECORDS_PER_WRITE)
                            .with("param_name", "ids"));
                    }
                    Ok(delete(write(g)?, auth, module, &ids))
                }
                ("DELETE", [id]) => Ok(delete(write(g)?, auth, module, &[id.to_string()])),
                _ => Err(ApiError::new(ErrorCode::InvalidRequestMethod)),
            }
        }
        _ => Err(ApiError::new(ErrorCode::InvalidUrlPattern)),
    }
}

fn write<'a>(g: &'a mut Guard<'_>) -> Result<&'a mut State, ApiError> {
    match g {
        Guard::Write(s) => Ok(s),
        Guard::Read(_) => Err(ApiError::new(ErrorCode::InternalError)),
    }
}

// ---------------------------------------------------------------------------------------------
// users, org
// ---------------------------------------------------------------------------------------------

fn user_json(st: &State, u: usize) -> Value {
    let user = &st.users[u];
    let org = &st.orgs[user.org];
    let (role, profile) = user.role_json();
    json!({
        "id": user.id,
        "email": user.email,
        "full_name": user.full_name(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "zuid": user.zuid,
        "role": role,
        "profile": profile,
        "status": "active",
        "confirm": true,
        "time_zone": org.time_zone,
        "locale": "en_US",
        "country": org.country_code,
    })
}

fn users(st: &State, req: &Req, auth: &Auth, id: Option<&str>) -> Result<Out, ApiError> {
    let org_users: Vec<usize> = (0..st.users.len())
        .filter(|&u| st.users[u].org == auth.org)
        .collect();
    let selected: Vec<usize> = if let Some(id) = id {
        let found: Vec<usize> = org_users
            .iter()
            .copied()
            .filter(|&u| st.users[u].id == id)
            .collect();
        if found.is_empty() {
            return Ok(Out::NoContent);
        }
        found
    } else {
        match req.param("type").as_deref() {
            None | Some("AllUsers" | "ActiveUsers" | "ActiveConfirmedUsers" | "ConfirmedUsers") => {
                org_users
            }
            Some("CurrentUser") => vec![auth.user],
            Some("AdminUsers" | "ActiveConfirmedAdmins") => org_users
                .into_iter()
                .filter(|&u| st.users[u].role == Role::Admin)
                .collect(),
            Some("NotConfirmedUsers" | "DeactiveUsers" | "DeletedUsers") => Vec::new(),
            Some(_) => {
                return Err(ApiError::new(ErrorCode::InvalidData).with("param_name", "type"));
            }
        }
    };
    if selected.is_empty() {
        return Ok(Out::NoContent);
    }
    let list: Vec<Value> = selected.iter().map(|&u| user_json(st, u)).collect();
    let n = list.len();
    Ok(Out::Json(
        200,
        json!({"users": list, "info": {"per_page": 200, "count": n, "page": 1, "more_records": false}}),
    ))
}

fn org(st: &State, auth: &Auth) -> Out {
    let org = &st.orgs[auth.org];
    let inst = &st.instances[&(auth.org, auth.env)];
    let admin = (0..st.users.len())
        .find(|&u| st.users[u].org == auth.org && st.users[u].role == Role::Admin)
        .map(|u| st.users[u].email.clone())
        .unwrap_or_default();
    Out::Json(
        200,
        json!({"org": [{
            "id": inst.org_id,
            "domain_name": format!("org{}", inst.org_id),
            "zgid": inst.zgid,
            "company_name": org.company_name,
            "primary_email": admin,
            "country_code": org.country_code,
            "time_zone": org.time_zone,
            "currency": org.currency,
            "iso_code": org.currency,
            "type": auth.env.as_str(),
        }]}),
    )
}

// ---------------------------------------------------------------------------------------------
// records: reading
// ---------------------------------------------------------------------------------------------

fn visible(st: &State, auth: &Auth, r: &Rec) -> bool {
    st.users[auth.user].role == Role::Admin || r.owner == auth.user
}

fn ref_json(st: &State, u: usize) -> Value {
    st.owner_values[u].clone()
}

fn field_value(st: &State, offset_min: i32, r: &Rec, name: &str) -> Value {
    match name {
        "id" => r.id.to_string().into(),
        "Owner" => ref_json(st, r.owner),
        "Created_By" => ref_json(st, r.created_by),
        "Modified_By" => ref_json(st, r.modified_by),
        "Created_Time" => seed::iso_time(r.created, offset_min).into(),
        "Modified_Time" => seed::iso_time(r.modified, offset_min).into(),
        _ => r.fields.get(name).cloned().unwrap_or(Value::Null),
    }
}

/// A record's requested fields, serialized straight from the state.
struct RecView<'a> {
    st: &'a State,
    off: i32,
    r: &'a Rec,
    fields: &'a [String],
}

impl serde::Serialize for RecView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        for f in self.fields {
            if f == "id" {
                continue;
            }
            match f.as_str() {
                "Owner" => m.serialize_entry(f, &self.st.owner_values[self.r.owner])?,
                "Created_By" => m.serialize_entry(f, &self.st.owner_values[self.r.created_by])?,
                "Modified_By" => m.serialize_entry(f, &self.st.owner_values[self.r.modified_by])?,
                "Created_Time" | "Modified_Time" => {
                    m.serialize_entry(f, &field_value(self.st, self.off, self.r, f))?
                }
                _ => m.serialize_entry(f, self.r.fields.get(f).unwrap_or(&Value::Null))?,
            }
        }
        m.serialize_entry("id", &self.r.id.to_string())?;
        m.end()
    }
}

/// The record with the requested fields (all of them when `fields` is `None`); `id` always.
fn record_json(
    st: &State,
    auth: &Auth,
    module: ModuleKind,
    r: &Rec,
    fields: Option<&[String]>,
) -> Value {
    let off = st.orgs[auth.org].utc_offset_min;
    let mut m = Map::new();
    m.insert("id".into(), r.id.to_string().into());
    match fields {
        Some(list) => {
            for f in list {
                if f != "id" {
                    m.insert(f.clone(), field_value(st, off, r, f));
                }
            }
        }
        None => {
            for f in st.fields[&module].iter() {
                m.insert(f.api_name.clone(), field_value(st, off, r, &f.api_name));
            }
        }
    }
    Value::Object(m)
}

/// Parses `fields`: known API names only (unknown ones are ignored, as Zoho does).
fn parse_fields(st: &State, module: ModuleKind, raw: &str) -> Result<Vec<String>, ApiError> {
    let names: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        return Err(ApiError::required_param_missing("fields"));
    }
    if names.len() > MAX_FIELDS {
        return Err(ApiError::new(ErrorCode::LimitExceeded)
            .with("param_name", "fields")
            .with("limit", MAX_FIELDS));
    }
    let known = &st.fields[&module];
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for n in names {
        if (n == "id" || known.iter().any(|f| f.api_name == n)) && !out.iter().any(|o| o == n) {
            out.push(n.to_owned());
        }
    }
    Ok(out)
}

fn positive(req: &Req, name: &str, default: u32, max: u32) -> Result<u32, ApiError> {
    match req.param(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n) if n >= 1 && n <= max => Ok(n),
            _ => Err(ApiError::new(ErrorCode::InvalidData).with("param_name", name)),
        },
    }
}

fn bool_filter(req: &Req, name: &str) -> Result<Option<bool>, ApiError> {
    match req.param(name) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("both") => Ok(None),
        Some(v) => parse_bool(&v)
            .map(Some)
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidData).with("param_name", name)),
    }
}

/// Seeded and created records are neither converted nor awaiting approval.
fn excluded_by_flags(req: &Req) -> Result<bool, ApiError> {
    let converted = bool_filter(req, "converted")?;
    let approved = bool_filter(req, "approved")?;
    Ok(converted == Some(true) || approved == Some(false))
}

const TOKEN_LIFETIME_SECS: i64 = 86_400;

fn encode_page_token(
    module: ModuleKind,
    sort_by: &str,
    order: &str,
    offset: usize,
    exp: i64,
) -> String {
    let plain = format!("v1|{}|{sort_by}|{order}|{offset}|{exp}", module.api_name());
    plain
        .bytes()
        .enumerate()
        .map(|(i, b)| format!("{:02x}", b ^ (0x5a ^ i as u8)))
        .collect()
}

fn decode_page_token(token: &str) -> Option<(String, String, String, usize, i64)> {
    if !token.len().is_multiple_of(2) || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes: Vec<u8> = (0..token.len() / 2)
        .map(|i| u8::from_str_radix(&token[2 * i..2 * i + 2], 16).unwrap_or(0) ^ (0x5a ^ i as u8))
        .collect();
    let s = String::from_utf8(bytes).ok()?;
    let parts: Vec<&str> = s.split('|').collect();
    match parts.as_slice() {
        ["v1", m, sb, so, off, exp] => Some((
            (*m).to_owned(),
            (*sb).to_owned(),
            (*so).to_owned(),
            off.parse().ok()?,
            exp.parse().ok()?,
        )),
        _ => None,
    }
}

fn sort_key(r: &Rec, sort_by: &str) -> (i64, u64) {
    match sort_by {
        "Created_Time" => (r.created, r.id),
        "Modified_Time" => (r.modified, r.id),
        _ => (0, r.id),
    }
}

fn list(st: &State, req: &Req, auth: &Auth, module: ModuleKind) -> Result<Out, ApiError> {
    let Some(raw_fields) = req.param("fields") else {
        return Err(ApiError::required_param_missing("fields"));
    };
    let fields = parse_fields(st, module, &raw_fields)?;
    let per_page = positive(req, "per_page", MAX_PER_PAGE, MAX_PER_PAGE)? as usize;
    let page_token = req.param("page_token").filter(|t| !t.is_empty());
    let now = st.now();
    let (offset, sort_by, sort_order) = if let Some(token) = &page_token {
        if req.param("page").is_some() {
            return Err(ApiError::new(ErrorCode::InvalidRequest)
                .with("param_name", "page")
                .with_message("page and page_token cannot be used together"));
        }
        let bad = || ApiError::new(ErrorCode::InvalidData).with("param_name", "page_token");
        let (m, sb, so, off, exp) = decode_page_token(token).ok_or_else(bad)?;
        if m != module.api_name() {
            return Err(bad());
        }
        if exp <= now {
            return Err(bad().with_message("page_token expired"));
        }
        (off, sb, so)
    } else {
        let page = positive(req, "page", 1, u32::MAX)? as usize;
        let offset = (page - 1) * per_page;
        if offset + per_page > MAX_DISCRETE_RECORDS as usize {
            return Err(ApiError::new(ErrorCode::DiscretePaginationLimitExceeded)
                .with("limit", MAX_DISCRETE_RECORDS));
        }
        let sort_by = req.param("sort_by").unwrap_or_else(|| "id".to_owned());
        if !matches!(sort_by.as_str(), "id" | "Created_Time" | "Modified_Time") {
            return Err(ApiError::new(ErrorCode::InvalidData)
                .with("param_name", "sort_by")
                .with(
                    "supported_values",
                    json!(["id", "Created_Time", "Modified_Time"]),
                ));
        }
        let sort_order = req.param("sort_order").unwrap_or_else(|| "desc".to_owned());
        if !matches!(sort_order.as_str(), "asc" | "desc") {
            return Err(ApiError::new(ErrorCode::InvalidData)
                .with("param_name", "sort_order")
                .with("supported_values", json!(["asc", "desc"])));
        }
        (offset, sort_by, sort_order)
    };
    // `ids=a,b`: only those records (at most 100; ids that match nothing are ignored).
    let ids: Option<Vec<u64>> = match req.param("ids").filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(raw) => {
            let ids: Vec<&str> = raw.split(',').map(str::trim).collect();
            if ids.len() > MAX_RECORDS_PER_WRITE {
                return Err(ApiError::new(ErrorCode::LimitExceeded)
                    .with("limit", MAX_RECORDS_PER_WRITE)
                    .with("param_name", "ids"));
            }
            Some(ids.iter().filter_map(|id| id.parse().ok()).collect())
        }
    };
    if excluded_by_flags(req)? {
        return Ok(Out::NoContent);
    }
    let inst = &st.instances[&(auth.org, auth.env)];
    let recs = &inst.records[&module];
    let admin = st.users[auth.user].role == Role::Admin;
    let mut rows: Vec<&Rec> = match &ids {
        None => recs.values().collect(),
        Some(ids) => {
            let mut wanted: Vec<u64> = ids.clone();
            wanted.sort_unstable();
            wanted.dedup();
            wanted.iter().filter_map(|id| recs.get(id)).collect()
        }
    };
    rows.retain(|r| admin || r.owner == auth.user);
    if sort_by != "id" {
        rows.sort_by_key(|r| sort_key(r, &sort_by));
    }
    if sort_order == "desc" {
        rows.reverse();
    }
    let total = rows.len();
    let off_min = st.orgs[auth.org].utc_offset_min;
    let page_rows: Vec<RecView> = rows
        .iter()
        .skip(offset)
        .take(per_page)
        .map(|r| RecView {
            st,
            off: off_min,
            r,
            fields: &fields,
        })
        .collect();
    if page_rows.is_empty() {
        return Ok(Out::NoContent);
    }
    let more = total > offset + page_rows.len();
    let expiry = now + TOKEN_LIFETIME_SECS;
    let next =
        more.then(|| encode_page_token(module, &sort_by, &sort_order, offset + per_page, expiry));
    let info = json!({
        "per_page": per_page,
        "count": page_rows.len(),
        "page": offset / per_page + 1,
        "sort_by": sort_by,
        "sort_order": sort_order,
        "more_records": more,
        "next_page_token": next,
        "previous_page_token": page_token,
        "page_token_expiry": next.as_ref().map(|_| seed::iso_time(expiry, off_min)),
    });
    #[derive(serde::Serialize)]
    struct Body<'a> {
        data: Vec<RecView<'a>>,
        info: Value,
    }
    let bytes = serde_json::to_vec(&Body {
        data: page_rows,
        info,
    })
    .map_err(|_| ApiError::new(ErrorCode::InternalError))?;
    Ok(Out::Raw(200, bytes))
}

fn get_one(
    st: &State,
    req: &Req,
    auth: &Auth,
    module: ModuleKind,
    id: &str,
) -> Result<Out, ApiError> {
    let fields = match req.param("fields") {
        Some(raw) => Some(parse_fields(st, module, &raw)?),
        None => None,
    };
    let Some(rid) = id.parse::<u64>().ok().filter(|_| is_record_id(id)) else {
        return Err(ApiError::new(ErrorCode::InvalidData)
            .with("api_name", "id")
            .with_message("the id given seems to be invalid"));
    };
    let inst = &st.instances[&(auth.org, auth.env)];
    let Some(r) = inst.records[&module].get(&rid) else {
        return Ok(Out::NoContent);
    };
    if !visible(st, auth, r) {
        return Err(ApiError::new(ErrorCode::NoPermission));
    }
    Ok(Out::Json(
        200,
        json!({"data": [record_json(st, auth, module, r, fields.as_deref())]}),
    ))
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn search(st: &State, req: &Req, auth: &Auth, module: ModuleKind) -> Result<Out, ApiError> {
    let criteria = req.param("criteria").filter(|s| !s.is_empty());
    let email = req.param("email").filter(|s| !s.is_empty());
    let phone = req.param("phone").filter(|s| !s.is_empty());
    let word = req.param("word").filter(|s| !s.is_empty());
    if criteria.is_none() && email.is_none() && phone.is_none() && word.is_none() {
        return Err(ApiError::required_param_missing("criteria"));
    }
    let known = st.fields[&module].clone();
    let parsed = match &criteria {
        None => None,
        Some(c) => {
            let parsed = Criteria::parse(c).map_err(|e| {
                ApiError::new(ErrorCode::InvalidQuery)
                    .with("reason", e.reason)
                    .with("position", e.at)
            })?;
            if parsed.condition_count() > 10 {
                return Err(ApiError::new(ErrorCode::InvalidQuery)
                    .with("reason", "more than 10 criteria")
                    .with("limit", 10));
            }
            for cond in parsed.conditions() {
                if cond.field != "id" && !known.iter().any(|f| f.api_name == cond.field) {
                    return Err(ApiError::new(ErrorCode::InvalidQuery)
                        .with("api_name", cond.field.clone())
                        .with("reason", "the field is not available for search"));
                }
            }
            Some(parsed)
        }
    };
    let fields = match req.param("fields") {
        Some(raw) => Some(parse_fields(st, module, &raw)?),
        None => None,
    };
    let per_page = positive(req, "per_page", MAX_PER_PAGE, MAX_PER_PAGE)? as usize;
    let page = positive(req, "page", 1, u32::MAX)? as usize;
    let offset = (page - 1) * per_page;
    if offset + per_page > MAX_DISCRETE_RECORDS as usize {
        return Err(ApiError::new(ErrorCode::DiscretePaginationLimitExceeded)
            .with("limit", MAX_DISCRETE_RECORDS));
    }
    if excluded_by_flags(req)? {
        return Ok(Out::NoContent);
    }
    let off_min = st.orgs[auth.org].utc_offset_min;
    let inst = &st.instances[&(auth.org, auth.env)];
    let text = |r: &Rec, f: &str| -> Option<String> {
        match field_value(st, off_min, r, f) {
            Value::Null => None,
            Value::String(s) => Some(s),
            Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_owned),
            v => Some(v.to_string()),
        }
    };
    let word_l = word.as_ref().map(|w| w.to_lowercase());
    let phone_d = phone.as_ref().map(|p| digits(p));
    let matches: Vec<&Rec> = inst.records[&module]
        .values()
        .rev()
        .filter(|r| visible(st, auth, r))
        .filter(|r| {
            parsed
                .as_ref()
                .is_none_or(|c| c.matches(&|f: &str| text(r, f)))
        })
        .filter(|r| {
            email.as_ref().is_none_or(|e| {
                r.fields
                    .get("Email")
                    .and_then(Value::as_str)
                    .is_some_and(|x| x.eq_ignore_ascii_case(e))
            })
        })
        .filter(|r| {
            phone_d.as_ref().is_none_or(|p| {
                r.fields
                    .get("Phone")
                    .and_then(Value::as_str)
                    .is_some_and(|x| !p.is_empty() && digits(x) == *p)
            })
        })
        .filter(|r| {
            word_l.as_ref().is_none_or(|w| {
                r.fields
                    .values()
                    .filter_map(Value::as_str)
                    .any(|s| s.to_lowercase().contains(w.as_str()))
            })
        })
        .collect();
    let total = matches.len();
    let rows: Vec<Value> = matches
        .iter()
        .skip(offset)
        .take(per_page)
        .map(|r| record_json(st, auth, module, r, fields.as_deref()))
        .collect();
    if rows.is_empty() {
        return Ok(Out::NoContent);
    }
    let more = total > offset + rows.len();
    Ok(Out::Json(
        200,
        json!({"data": rows, "info": {"per_page": per_page, "count": rows.len(), "page": page, "more_records": more}}),
    ))
}

// ---------------------------------------------------------------------------------------------
// records: writing
// ---------------------------------------------------------------------------------------------

fn body_data(req: &Req) -> Result<Vec<Value>, ApiError> {
    // Zoho parses the body as JSON whatever the Content-Type (or none).
    let v: Value = serde_json::from_slice(&req.body).map_err(|_| {
        ApiError::new(ErrorCode::InvalidData)
            .with("expected_data_type", "jsonobject")
            .with_message("body is not a valid JSON")
    })?;
    let data = match v.get("data") {
        Some(Value::Array(a)) if !a.is_empty() => a.clone(),
        _ => {
            return Err(ApiError::new(ErrorCode::MandatoryNotFound)
                .with("api_name", "data")
                .with("json_path", "$.data"));
        }
    };
    if data.len() > MAX_RECORDS_PER_WRITE {
        return Err(ApiError::new(ErrorCode::LimitExceeded)
            .with("api_name", "data")
            .with("json_path", "$.data")
            .with("limit", MAX_RECORDS_PER_WRITE));
    }
    Ok(data)
}

fn err_at(code: ErrorCode, api_name: &str, i: usize) -> ApiError {
    ApiError::new(code)
        .with("api_name", api_name)
        .with("json_path", format!("$.data[{i}].{api_name}"))
}

/// Checks one element and returns the writable fields to store (`Null` = clear) and the new
/// owner, if any.
fn validate(
    st: &State,
    auth: &Auth,
    inst: &Instance,
    module: ModuleKind,
    i: usize,
    elem: &Value,
    existing: Option<u64>,
) -> Result<(Map<String, Value>, Option<usize>), ApiError> {
    let Some(obj) = elem.as_object() else {
        return Err(ApiError::new(ErrorCode::InvalidData)
            .with("json_path", format!("$.data[{i}]"))
            .with("expected_data_type", "jsonobject"));
    };
    let fields: &[Field] = &st.fields[&module];
    for f in fields.iter().filter(|f| f.system_mandatory) {
        let missing = match obj.get(&f.api_name) {
            None => existing.is_none(),
            Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(_) => false,
        };
        if missing {
            return Err(err_at(ErrorCode::MandatoryNotFound, &f.api_name, i));
        }
    }
    let mut out = Map::new();
    let mut owner = None;
    for f in fields {
        let Some(v) = obj.get(&f.api_name) else {
            continue;
        };
        if f.read_only {
            continue;
        }
        if v.is_null() {
            if f.api_name != "Owner" {
                out.insert(f.api_name.clone(), Value::Null);
            }
            continue;
        }
        if let Err(inv) = f.check(v) {
            let mut e = err_at(ErrorCode::InvalidData, &f.api_name, i);
            e.details.extend(inv.details());
            return Err(e);
        }
        if f.api_name == "Owner" {
            let id = v.get("id").and_then(Value::as_str).unwrap_or("");
            match (0..st.users.len()).find(|&u| st.users[u].org == auth.org && st.users[u].id == id)
            {
                Some(u) => owner = Some(u),
                None => return Err(err_at(ErrorCode::InvalidData, "Owner", i)),
            }
            continue;
        }
        out.insert(f.api_name.clone(), v.clone());
    }
    if let Some(email) = out
        .get("Email")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
        && let Some(dup) = inst.records[&module].values().find(|r| {
            Some(r.id) != existing
                && r.fields
                    .get("Email")
                    .and_then(Value::as_str)
                    .is_some_and(|x| x.eq_ignore_ascii_case(email))
        })
    {
        return Err(err_at(ErrorCode::InvalidData, "Email", i)
            .with_code("DUPLICATE_DATA", "duplicate data")
            .with(
                "duplicate_record",
                json!({
                    "id": dup.id.to_string(),
                    "Owner": {"name": st.users[dup.owner].full_name(), "id": st.users[dup.owner].id},
                    "module": {"api_name": module.api_name(), "id": module.id()},
                }),
            ));
    }
    Ok((out, owner))
}

trait WithCode {
    fn with_code(self, code: &str, message: &str) -> Self;
}

impl WithCode for ApiError {
    fn with_code(mut self, code: &str, message: &str) -> Self {
        self.code = code.to_owned();
        self.message = message.to_owned();
        self
    }
}

fn success_details(st: &State, auth: &Auth, r: &Rec) -> Map<String, Value> {
    let off = st.orgs[auth.org].utc_offset_min;
    let who = |u: usize| json!({"name": st.users[u].full_name(), "id": st.users[u].id});
    let mut m = Map::new();
    m.insert(
        "Modified_Time".into(),
        seed::iso_time(r.modified, off).into(),
    );
    m.insert("Modified_By".into(), who(r.modified_by));
    m.insert("Created_Time".into(), seed::iso_time(r.created, off).into());
    m.insert("id".into(), r.id.to_string().into());
    m.insert("Created_By".into(), who(r.created_by));
    m
}

fn write_answer(results: Vec<Value>, ok_status: u16) -> Out {
    let parsed: Vec<crm::ActionResult> = results
        .iter()
        .filter_map(|v| serde_json::from_value(v.clone()).ok())
        .collect();
    Out::Json(write_status(&parsed, ok_status), json!({ "data": results }))
}

fn create(st: &mut State, req: &Req, auth: &Auth, module: ModuleKind) -> Result<Out, ApiError> {
    let data = body_data(req)?;
    let now = st.now();
    let mut results = Vec::with_capacity(data.len());
    for (i, elem) in data.iter().enumerate() {
        let inst = &st.instances[&(auth.org, auth.env)];
        match validate(st, auth, inst, module, i, elem, None) {
            Err(e) => results.push(e.to_json()),
            Ok((mut fields, owner)) => {
                fields.retain(|_, v| !v.is_null());
                let inst = st
                    .instances
                    .get_mut(&(auth.org, auth.env))
                    .expect("instance exists");
                inst.next_id += 1000;
                let rec = Rec {
                    id: inst.next_id,
                    owner: owner.unwrap_or(auth.user),
                    created_by: auth.user,
                    modified_by: auth.user,
                    created: now,
                    modified: now,
                    fields,
                };
                let id = rec.id;
                inst.records
                    .get_mut(&module)
                    .expect("module exists")
                    .insert(id, rec);
                let r = &st.instances[&(auth.org, auth.env)].records[&module][&id];
                results
                    .push(action_success(crm::MSG_ADDED, success_details(st, auth, r)).to_json());
            }
        }
    }
    Ok(write_answer(results, 201))
}

fn update(
    st: &mut State,
    req: &Req,
    auth: &Auth,
    module: ModuleKind,
    url_id: Option<&str>,
) -> Result<Out, ApiError> {
    let mut data = body_data(req)?;
    if url_id.is_some() {
        data.truncate(1);
    }
    let now = st.now();
    let mut results = Vec::with_capacity(data.len());
    for (i, elem) in data.iter().enumerate() {
        let id_str = match url_id {
            Some(id) => Some(id.to_owned()),
            None => match elem.get("id") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            },
        };
        let Some(id_str) = id_str else {
            results.push(err_at(ErrorCode::MandatoryNotFound, "id", i).to_json());
            continue;
        };
        let invalid_id = || {
            err_at(ErrorCode::InvalidData, "id", i)
                .with_message("the id given seems to be invalid")
                .to_json()
        };
        let Some(id) = id_str.parse::<u64>().ok().filter(|_| is_record_id(&id_str)) else {
            results.push(invalid_id());
            continue;
        };
        let inst = &st.instances[&(auth.org, auth.env)];
        let Some(existing) = inst.records[&module].get(&id) else {
            results.push(invalid_id());
            continue;
        };
        if !visible(st, auth, existing) {
            results.push(
                ApiError::new(ErrorCode::NoPermission)
                    .with("id", id_str)
                    .to_json(),
            );
            continue;
        }
        match validate(st, auth, inst, module, i, elem, Some(id)) {
            Err(e) => results.push(e.to_json()),
            Ok((fields, owner)) => {
                let inst = st
                    .instances
                    .get_mut(&(auth.org, auth.env))
                    .expect("instance exists");
                let rec = inst
                    .records
                    .get_mut(&module)
                    .and_then(|m| m.get_mut(&id))
                    .expect("record exists");
                for (k, v) in fields {
                    if v.is_null() {
                        rec.fields.remove(&k);
                    } else {
                        rec.fields.insert(k, v);
                    }
                }
                if let Some(o) = owner {
                    rec.owner = o;
                }
                rec.modified = now.max(rec.created);
                rec.modified_by = auth.user;
                let r = &st.instances[&(auth.org, auth.env)].records[&module][&id];
                results
                    .push(action_success(crm::MSG_UPDATED, success_details(st, auth, r)).to_json());
            }
        }
    }
    Ok(write_answer(results, 200))
}

fn delete(st: &mut State, auth: &Auth, module: ModuleKind, ids: &[String]) -> Out {
    let mut results = Vec::with_capacity(ids.len());
    for id_str in ids {
        let id = id_str.parse::<u64>().ok().filter(|_| is_record_id(id_str));
        let inst = &st.instances[&(auth.org, auth.env)];
        let rec = id.and_then(|id| inst.records[&module].get(&id));
        match rec {
            None => results.push(
                ApiError::new(ErrorCode::InvalidData)
                    .with("id", id_str.as_str())
                    .with_message("the id given seems to be invalid")
                    .to_json(),
            ),
            Some(r) if !visible(st, auth, r) => results.push(
                ApiError::new(ErrorCode::NoPermission)
                    .with("id", id_str.as_str())
                    .to_json(),
            ),
            Some(r) => {
                let rid = r.id;
                if let Some(inst) = st.instances.get_mut(&(auth.org, auth.env))
                    && let Some(m) = inst.records.get_mut(&module)
                {
                    m.remove(&rid);
                }
                let mut d = Map::new();
                d.insert("id".into(), rid.to_string().into());
                results.push(action_success(crm::MSG_DELETED, d).to_json());
            }
        }
    }
    write_answer(results, 200)
}
