//! `users`, `org`, `settings/modules`, `settings/fields`.

use super::{Auth, Out};
use crate::seed::Role;
use crate::state::State;
use crate::{Req, meta};
use serde_json::{Value, json};
use zoho::crm::{ErrorCode, Status};
use zoho::fields::Field;

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

pub(super) fn users(st: &State, req: &Req, auth: &Auth, id: Option<&str>) -> Result<Out, Status> {
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
                return Err(Status::new(ErrorCode::InvalidData).with("param_name", "type"));
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

fn admin_of(st: &State, org: usize) -> Option<usize> {
    (0..st.users.len()).find(|&u| st.users[u].org == org && st.users[u].role == Role::Admin)
}

pub(super) fn org(st: &State, auth: &Auth) -> Out {
    let org = &st.orgs[auth.org];
    let inst = &st.instances[&(auth.org, auth.env)];
    let (email, zuid) = admin_of(st, auth.org)
        .map(|u| (st.users[u].email.as_str(), st.users[u].zuid.as_str()))
        .unwrap_or_default();
    let body = meta::org_json(org, &inst.org_id, &inst.zgid, auth.env, (email, zuid));
    Out::Json(200, json!({ "org": [body] }))
}

/// `If-Modified-Since` at or after the metadata's last change: 304, as Zoho answers the
/// metadata APIs (Zoho CRM API v8, "Modules API" and "Fields Metadata": request header
/// `If-Modified-Since`, "304 Not Modified"). A value that is not a date is ignored.
fn not_modified(req: &Req) -> bool {
    req.header("if-modified-since")
        .and_then(meta::parse_instant)
        .is_some_and(|since| since >= meta::META_MODIFIED)
}

/// `GET /settings/modules`: the standard modules of the org.
pub(super) fn modules(st: &State, req: &Req, auth: &Auth) -> Result<Out, Status> {
    if not_modified(req) {
        return Ok(Out::NotModified);
    }
    let off = st.orgs[auth.org].utc_offset_min;
    let by = admin_of(st, auth.org).map_or(
        Value::Null,
        |u| json!({"name": st.users[u].full_name(), "id": st.users[u].id}),
    );
    let modules: Vec<Value> = (0..meta::STANDARD.len())
        .map(|i| meta::module_json(i, &by, off))
        .collect();
    Ok(Out::Json(200, json!({ "modules": modules })))
}

/// `GET /settings/fields?module=…`: the fields of a standard module, with Zoho's keys.
pub(super) fn fields(st: &State, req: &Req) -> Result<Out, Status> {
    let Some(name) = req.param("module") else {
        return Err(Status::required_param_missing("module"));
    };
    // fields.json documents `details.api_name` for INVALID_MODULE here.
    let (index, module) = meta::standard(&name)
        .ok_or_else(|| Status::new(ErrorCode::InvalidModule).with("api_name", "module"))?;
    if not_modified(req) {
        return Ok(Out::NotModified);
    }
    let generic;
    let list: &[Field] = match module.records {
        Some(kind) => &st.fields[&kind],
        None => {
            generic = meta::generic_fields(index);
            &generic
        }
    };
    let fields: Vec<Value> = list
        .iter()
        .enumerate()
        .map(|(i, f)| meta::field_json(f, module.api_name, i + 1))
        .collect();
    Ok(Out::Json(200, json!({ "fields": fields })))
}
