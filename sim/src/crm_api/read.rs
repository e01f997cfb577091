//! Records, reading: list, get one, search.

use super::{Auth, Out};
use crate::Req;
use crate::seed::{self, ModuleKind, Rec, Role};
use crate::state::State;
use serde_json::{Map, Value, json};
use zoho::criteria::Criteria;
use zoho::crm::{
    ErrorCode, MAX_DISCRETE_RECORDS, MAX_FIELDS, MAX_PER_PAGE, MAX_RECORDS_PER_WRITE, Status,
};
use zoho::fields::is_record_id;
use zoho::form::parse_bool;

pub(super) fn visible(st: &State, auth: &Auth, r: &Rec) -> bool {
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
fn parse_fields(st: &State, module: ModuleKind, raw: &str) -> Result<Vec<String>, Status> {
    let names: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        return Err(Status::required_param_missing("fields"));
    }
    if names.len() > MAX_FIELDS {
        return Err(Status::new(ErrorCode::LimitExceeded)
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

fn positive(req: &Req, name: &str, default: u32, max: u32) -> Result<u32, Status> {
    match req.param(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n) if n >= 1 && n <= max => Ok(n),
            _ => Err(Status::new(ErrorCode::InvalidData).with("param_name", name)),
        },
    }
}

fn bool_filter(req: &Req, name: &str) -> Result<Option<bool>, Status> {
    match req.param(name) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("both") => Ok(None),
        Some(v) => parse_bool(&v)
            .map(Some)
            .ok_or_else(|| Status::new(ErrorCode::InvalidData).with("param_name", name)),
    }
}

/// Seeded and created records are neither converted nor awaiting approval.
fn excluded_by_flags(req: &Req) -> Result<bool, Status> {
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

/// The order of a list sorted by `sort_by`: the times as times, any other field by its text
/// ignoring case (no value first), then by id.
fn sort_order_of(a: &Rec, b: &Rec, sort_by: &str) -> std::cmp::Ordering {
    let text = |r: &Rec| {
        r.fields
            .get(sort_by)
            .and_then(Value::as_str)
            .map(str::to_lowercase)
            .unwrap_or_default()
    };
    match sort_by {
        "id" => std::cmp::Ordering::Equal,
        "Created_Time" => a.created.cmp(&b.created),
        "Modified_Time" => a.modified.cmp(&b.modified),
        _ => text(a).cmp(&text(b)),
    }
    .then(a.id.cmp(&b.id))
}

pub(super) fn list(st: &State, req: &Req, auth: &Auth, module: ModuleKind) -> Result<Out, Status> {
    let Some(raw_fields) = req.param("fields") else {
        return Err(Status::required_param_missing("fields"));
    };
    let fields = parse_fields(st, module, &raw_fields)?;
    let per_page = positive(req, "per_page", MAX_PER_PAGE, MAX_PER_PAGE)? as usize;
    let page_token = req.param("page_token").filter(|t| !t.is_empty());
    let now = st.now();
    let (offset, sort_by, sort_order) = if let Some(token) = &page_token {
        if req.param("page").is_some() {
            return Err(Status::new(ErrorCode::InvalidRequest)
                .with("param_name", "page")
                .with_message("page and page_token cannot be used together"));
        }
        let bad = || Status::new(ErrorCode::InvalidData).with("param_name", "page_token");
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
            return Err(Status::new(ErrorCode::DiscretePaginationLimitExceeded)
                .with("limit", MAX_DISCRETE_RECORDS));
        }
        // Any field of the module (each is `sortable` in the field metadata), or `id`.
        let sort_by = req.param("sort_by").unwrap_or_else(|| "id".to_owned());
        if sort_by != "id" && !st.fields[&module].iter().any(|f| f.api_name == sort_by) {
            return Err(Status::new(ErrorCode::InvalidData).with("param_name", "sort_by"));
        }
        let sort_order = req.param("sort_order").unwrap_or_else(|| "desc".to_owned());
        if !matches!(sort_order.as_str(), "asc" | "desc") {
            return Err(Status::new(ErrorCode::InvalidData)
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
                return Err(Status::new(ErrorCode::LimitExceeded)
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
        rows.sort_by(|a, b| sort_order_of(a, b, &sort_by));
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
    .map_err(|_| Status::new(ErrorCode::InternalError))?;
    Ok(Out::Raw(200, bytes))
}

pub(super) fn get_one(
    st: &State,
    req: &Req,
    auth: &Auth,
    module: ModuleKind,
    id: &str,
) -> Result<Out, Status> {
    let fields = match req.param("fields") {
        Some(raw) => Some(parse_fields(st, module, &raw)?),
        None => None,
    };
    let Some(rid) = id.parse::<u64>().ok().filter(|_| is_record_id(id)) else {
        return Err(Status::new(ErrorCode::InvalidData)
            .with("api_name", "id")
            .with_message("the id given seems to be invalid"));
    };
    let inst = &st.instances[&(auth.org, auth.env)];
    let Some(r) = inst.records[&module].get(&rid) else {
        return Ok(Out::NoContent);
    };
    if !visible(st, auth, r) {
        return Err(Status::new(ErrorCode::NoPermission));
    }
    Ok(Out::Json(
        200,
        json!({"data": [record_json(st, auth, module, r, fields.as_deref())]}),
    ))
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// What a search or a count matches: `criteria`, `email`, `phone`, `word` (none: everything).
struct Filter {
    criteria: Option<Criteria>,
    email: Option<String>,
    phone: Option<String>,
    word: Option<String>,
}

impl Filter {
    fn parse(st: &State, req: &Req, module: ModuleKind) -> Result<Filter, Status> {
        let criteria = req.param("criteria").filter(|s| !s.is_empty());
        let parsed = match &criteria {
            None => None,
            Some(c) => {
                // `details` as `v8.0/module_search.json` documents INVALID_QUERY (`queryname`:
                // `reason` and `api_name`); for criteria that do not parse, the parameter's name.
                let parsed = Criteria::parse(c).map_err(|e| {
                    Status::new(ErrorCode::InvalidQuery)
                        .with("reason", e.reason)
                        .with("api_name", "criteria")
                        .with("param_name", "criteria")
                        .with("position", e.at)
                })?;
                if parsed.condition_count() > 10 {
                    return Err(Status::new(ErrorCode::InvalidQuery)
                        .with("reason", "more than 10 criteria")
                        .with("api_name", "criteria")
                        .with("limit", 10));
                }
                let known = &st.fields[&module];
                for cond in parsed.conditions() {
                    if cond.field != "id" && !known.iter().any(|f| f.api_name == cond.field) {
                        return Err(Status::new(ErrorCode::InvalidQuery)
                            .with("api_name", cond.field.clone())
                            .with("reason", "the field is not available for search"));
                    }
                }
                Some(parsed)
            }
        };
        Ok(Filter {
            criteria: parsed,
            email: req.param("email").filter(|s| !s.is_empty()),
            phone: req
                .param("phone")
                .filter(|s| !s.is_empty())
                .map(|p| digits(&p)),
            word: req
                .param("word")
                .filter(|s| !s.is_empty())
                .map(|w| w.to_lowercase()),
        })
    }

    fn is_empty(&self) -> bool {
        self.criteria.is_none()
            && self.email.is_none()
            && self.phone.is_none()
            && self.word.is_none()
    }

    /// The records of the module the user sees that match, newest id first.
    fn matches<'a>(&self, st: &'a State, auth: &Auth, module: ModuleKind) -> Vec<&'a Rec> {
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
        inst.records[&module]
            .values()
            .rev()
            .filter(|r| visible(st, auth, r))
            .filter(|r| {
                self.criteria
                    .as_ref()
                    .is_none_or(|c| c.matches(&|f: &str| text(r, f)))
            })
            .filter(|r| {
                self.email.as_ref().is_none_or(|e| {
                    r.fields
                        .get("Email")
                        .and_then(Value::as_str)
                        .is_some_and(|x| x.eq_ignore_ascii_case(e))
                })
            })
            .filter(|r| {
                self.phone.as_ref().is_none_or(|p| {
                    r.fields
                        .get("Phone")
                        .and_then(Value::as_str)
                        .is_some_and(|x| !p.is_empty() && digits(x) == *p)
                })
            })
            .filter(|r| {
                self.word.as_ref().is_none_or(|w| {
                    r.fields
                        .values()
                        .filter_map(Value::as_str)
                        .any(|s| s.to_lowercase().contains(w.as_str()))
                })
            })
            .collect()
    }
}

pub(super) fn search(
    st: &State,
    req: &Req,
    auth: &Auth,
    module: ModuleKind,
) -> Result<Out, Status> {
    let filter = Filter::parse(st, req, module)?;
    if filter.is_empty() {
        // Zoho's search documentation and `v8.0/module_search.json` (`Mandatory_Param_Missing`).
        return Err(Status::expected_param_missing(&[
            "criteria", "email", "phone", "word",
        ]));
    }
    let fields = match req.param("fields") {
        Some(raw) => Some(parse_fields(st, module, &raw)?),
        None => None,
    };
    let per_page = positive(req, "per_page", MAX_PER_PAGE, MAX_PER_PAGE)? as usize;
    let page = positive(req, "page", 1, u32::MAX)? as usize;
    let offset = (page - 1) * per_page;
    if offset + per_page > MAX_DISCRETE_RECORDS as usize {
        return Err(Status::new(ErrorCode::DiscretePaginationLimitExceeded)
            .with("limit", MAX_DISCRETE_RECORDS));
    }
    if excluded_by_flags(req)? {
        return Ok(Out::NoContent);
    }
    let matches = filter.matches(st, auth, module);
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

/// `GET /{module}/actions/count[?criteria|email|phone|word]`: how many records the user sees
/// that match (all of them without a filter), as `v8.0/record.json` ("Record Count") describes
/// the answer: `{"count": "N"}`, a string (the SDKs read it as a `Long` sent as text). A custom
/// view (`cvid`) is not simulated.
pub(super) fn count(st: &State, req: &Req, auth: &Auth, module: ModuleKind) -> Result<Out, Status> {
    if req.param("cvid").is_some() {
        return Err(Status::new(ErrorCode::InvalidData)
            .with("param_name", "cvid")
            .with_message("the cvid given seems to be invalid"));
    }
    let filter = Filter::parse(st, req, module)?;
    let n = filter.matches(st, auth, module).len();
    Ok(Out::Json(200, json!({"count": n.to_string()})))
}
