//! `/api/crm/{module}[/{id} | /search]`: a generic proxy to Zoho CRM for an allowlist of modules
//! (`ALLOWED_MODULES`, default Leads and Contacts), so that record calls in Zoho's own shape
//! (`get_records`, create, update, delete) work through the portal's session. Only known query
//! parameters pass, bodies are capped and must be JSON objects, and nothing but Zoho's answer
//! comes back. Bulk writes (several records in one call) and a write's `trigger` (workflows,
//! approvals, blueprints) are refused unless configured (`PROXY_BULK`, `PROXY_TRIGGER`); a
//! write without `trigger` is sent with `"trigger": []`, so it starts none.

use serde_json::Value;
use worker::{Method, Request};
use zcrm_api::codes;

use crate::config::Config;
use crate::glue::body::read_body;
use crate::glue::crm::Crm;
use crate::glue::ctx::Ctx;
use crate::glue::reply::{self, Failure, Outcome};

const MAX_BODY: usize = 64 * 1024;

/// Query parameters Zoho's record APIs take; anything else is refused.
const ALLOWED_PARAMS: [&str; 14] = [
    "fields",
    "page",
    "per_page",
    "page_token",
    "sort_by",
    "sort_order",
    "ids",
    "criteria",
    "email",
    "phone",
    "word",
    "converted",
    "approved",
    "cvid",
];

/// What follows the module in the path.
pub enum Target {
    Records,
    Search,
    Record(String),
}

/// `(module, target)` of `/api/crm/...`, or why not.
pub fn resolve<'p>(rest: &'p str, allowed: &[String]) -> Result<(&'p str, Target), Failure> {
    let mut parts = rest.split('/');
    let module = parts.next().unwrap_or_default();
    if !allowed.iter().any(|m| m == module) {
        return Err(Failure::new(
            404,
            codes::NOT_FOUND,
            format!(
                "This portal does not open that module (allowed: {}).",
                allowed.join(", ")
            ),
        ));
    }
    let target = match (parts.next(), parts.next()) {
        (None, _) | (Some(""), None) => Target::Records,
        (Some("search"), None) => Target::Search,
        (Some(id), None) if zoho::fields::is_record_id(id) => Target::Record(id.to_owned()),
        _ => return Err(Failure::new(404, codes::NOT_FOUND, "No such route.")),
    };
    Ok((module, target))
}

pub fn methods(target: &Target) -> &'static [Method] {
    match target {
        Target::Records => &[Method::Get, Method::Post, Method::Put, Method::Delete],
        Target::Search => &[Method::Get],
        Target::Record(_) => &[Method::Get, Method::Put, Method::Delete],
    }
}

pub async fn forward(mut req: Request, ctx: &Ctx, module: &str, target: Target) -> Outcome {
    let method = req.method();
    let query = crate::glue::routes::query_pairs(&req);
    if let Some((key, _)) = query
        .iter()
        .find(|(key, _)| !ALLOWED_PARAMS.contains(&key.as_str()))
    {
        return Err(Failure::bad_request(format!(
            "The parameter `{key}` is not passed to Zoho (allowed: {}).",
            ALLOWED_PARAMS.join(", ")
        )));
    }
    // The session first: nobody without one makes the Worker read a body.
    let mut crm = Crm::for_request(&req, ctx).await?;
    let body = if matches!(method, Method::Post | Method::Put) {
        let text = read_body(&mut req, MAX_BODY).await?;
        let mut value: Value = serde_json::from_str(&text)
            .map_err(|_| Failure::bad_request("The body must be a JSON object."))?;
        let Some(object) = value.as_object_mut() else {
            return Err(Failure::bad_request("The body must be a JSON object."));
        };
        check_write(object, &ctx.config)?;
        Some(value.to_string())
    } else {
        None
    };
    if method == Method::Delete
        && !ctx.config.proxy_bulk
        && query.iter().any(|(k, v)| k == "ids" && v.contains(','))
    {
        return Err(bulk_refused());
    }
    let mut path = match &target {
        Target::Records => format!("/{module}"),
        Target::Search => format!("/{module}/search"),
        Target::Record(id) => format!("/{module}/{id}"),
    };
    if !query.is_empty() {
        path.push('?');
        path.push_str(&zoho::form::build(
            query.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ));
    }
    if method != Method::Get {
        crate::glue::limits::write(ctx, &crm.user.key).await?;
    }
    let answer = crm.call(method, &path, body).await?;
    if answer.status == 401 {
        // After the one refresh-and-retry, Zoho still refuses: the session is of no use.
        return Err(Failure::revoked_at_zoho());
    }
    if answer.body.trim().is_empty() {
        return Ok(reply::empty(answer.status));
    }
    // Zoho's own shape, passed on as it came once it is known to be JSON (checked without
    // building it: re-encoding a 200-record page was the largest item of this route's profile).
    serde_json::from_str::<serde::de::IgnoredAny>(&answer.body).map_err(|_| {
        Failure::upstream(format!(
            "Zoho answered HTTP {} with a body that is not JSON.",
            answer.status
        ))
    })?;
    Ok(reply::json_text(answer.status, answer.body))
}

/// A write's body: one record at a time, and no `trigger` (unless configured).
fn check_write(body: &mut serde_json::Map<String, Value>, config: &Config) -> Result<(), Failure> {
    if !config.proxy_bulk
        && let Some(Value::Array(records)) = body.get("data")
        && records.len() > 1
    {
        return Err(bulk_refused());
    }
    if config.proxy_trigger {
        return Ok(());
    }
    match body.get("trigger") {
        None => {
            body.insert("trigger".to_owned(), Value::Array(Vec::new()));
            Ok(())
        }
        Some(Value::Array(triggers)) if triggers.is_empty() => Ok(()),
        Some(_) => Err(Failure::bad_request(
            "This portal does not let a change start Zoho's workflows, approvals or blueprints: \
             `trigger` must be [] or left out.",
        )),
    }
}

fn bulk_refused() -> Failure {
    Failure::bad_request(
        "This portal changes one record at a time: bulk writes are not passed to Zoho.",
    )
}
