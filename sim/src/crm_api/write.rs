//! Records, writing: create, update, delete, and the checks of each record.

use super::read::visible;
use super::{Auth, Out};
use crate::Req;
use crate::seed::{self, ModuleKind, Rec};
use crate::state::{Instance, State};
use serde_json::{Map, Value, json};
use zoho::crm::{self, ErrorCode, MAX_RECORDS_PER_WRITE, Status, action_success, write_status};
use zoho::fields::{Field, is_record_id};

fn body_data(req: &Req) -> Result<Vec<Value>, Status> {
    // Zoho parses the body as JSON whatever the Content-Type (or none).
    let v: Value = serde_json::from_slice(&req.body).map_err(|_| {
        Status::new(ErrorCode::InvalidData)
            .with("expected_data_type", "jsonobject")
            .with_message("body is not a valid JSON")
    })?;
    let data = match v.get("data") {
        Some(Value::Array(a)) if !a.is_empty() => a.clone(),
        _ => {
            return Err(Status::new(ErrorCode::MandatoryNotFound)
                .with("api_name", "data")
                .with("json_path", "$.data"));
        }
    };
    if data.len() > MAX_RECORDS_PER_WRITE {
        return Err(Status::new(ErrorCode::LimitExceeded)
            .with("api_name", "data")
            .with("json_path", "$.data")
            .with("limit", MAX_RECORDS_PER_WRITE));
    }
    Ok(data)
}

fn err_at(code: ErrorCode, api_name: &str, i: usize) -> Status {
    Status::new(code)
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
) -> Result<(Map<String, Value>, Option<usize>), Status> {
    let Some(obj) = elem.as_object() else {
        return Err(Status::new(ErrorCode::InvalidData)
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
        return Err(err_at(ErrorCode::DuplicateData, "Email", i).with(
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

/// `{"data":[…]}` of a write, each record's status object as it was made; the HTTP status
/// from them (Zoho's 200/201, 207 for a mix, 400 when every record failed).
fn write_answer(results: Vec<Status>, ok_status: u16) -> Out {
    Out::Json(
        write_status(&results, ok_status),
        json!({ "data": results }),
    )
}

pub(super) fn create(
    st: &mut State,
    req: &Req,
    auth: &Auth,
    module: ModuleKind,
) -> Result<Out, Status> {
    let data = body_data(req)?;
    let now = st.now();
    let mut results = Vec::with_capacity(data.len());
    for (i, elem) in data.iter().enumerate() {
        let inst = &st.instances[&(auth.org, auth.env)];
        match validate(st, auth, inst, module, i, elem, None) {
            Err(e) => results.push(e),
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
                results.push(action_success(crm::MSG_ADDED, success_details(st, auth, r)));
            }
        }
    }
    Ok(write_answer(results, 201))
}

pub(super) fn update(
    st: &mut State,
    req: &Req,
    auth: &Auth,
    module: ModuleKind,
    url_id: Option<&str>,
) -> Result<Out, Status> {
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
            results.push(err_at(ErrorCode::MandatoryNotFound, "id", i));
            continue;
        };
        let invalid_id = || {
            err_at(ErrorCode::InvalidData, "id", i).with_message("the id given seems to be invalid")
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
            results.push(Status::new(ErrorCode::NoPermission).with("id", id_str));
            continue;
        }
        match validate(st, auth, inst, module, i, elem, Some(id)) {
            Err(e) => results.push(e),
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
                results.push(action_success(
                    crm::MSG_UPDATED,
                    success_details(st, auth, r),
                ));
            }
        }
    }
    Ok(write_answer(results, 200))
}

pub(super) fn delete(st: &mut State, auth: &Auth, module: ModuleKind, ids: &[String]) -> Out {
    let mut results = Vec::with_capacity(ids.len());
    for id_str in ids {
        let id = id_str.parse::<u64>().ok().filter(|_| is_record_id(id_str));
        let inst = &st.instances[&(auth.org, auth.env)];
        let rec = id.and_then(|id| inst.records[&module].get(&id));
        match rec {
            None => results.push(
                Status::new(ErrorCode::InvalidData)
                    .with("id", id_str.as_str())
                    .with_message("the id given seems to be invalid"),
            ),
            Some(r) if !visible(st, auth, r) => {
                results.push(Status::new(ErrorCode::NoPermission).with("id", id_str.as_str()))
            }
            Some(r) => {
                let rid = r.id;
                if let Some(inst) = st.instances.get_mut(&(auth.org, auth.env))
                    && let Some(m) = inst.records.get_mut(&module)
                {
                    m.remove(&rid);
                }
                let mut d = Map::new();
                d.insert("id".into(), rid.to_string().into());
                results.push(action_success(crm::MSG_DELETED, d));
            }
        }
    }
    write_answer(results, 200)
}
