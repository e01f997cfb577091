//! `/api/students`: the portal's students, stored as Leads in the signed-in user's Zoho CRM.
//! Every input is validated with the app's own rules (`zcrm_api::students`) and Zoho's field
//! metadata before anything reaches Zoho.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use worker::{Method, Request};
use zcrm_api::codes;
use zcrm_api::students::{Student, StudentField, StudentInput, StudentsMeta};
use zoho::crm::{ApiResponse, ListResponse, RecordResponse, WriteAnswer};
use zoho::fields::FieldsResponse;

use crate::glue::body::{json_problem, read_body};
use crate::glue::crm::{Crm, crm_failure};
use crate::glue::ctx::Ctx;
use crate::glue::limits;
use crate::glue::log::fields;
use crate::glue::reply::{self, Failure, Outcome};
use crate::glue::store::Store;
use crate::glue::upstream::Answer;
use crate::leads::{self, MODULE, WriteOutcome};

/// How long field metadata is kept in KV past its freshness (`META_TTL_SECS`), to be used when
/// Zoho fails to give a fresh copy.
const META_KEEP_SECS: u64 = 24 * 3600;
const MAX_STUDENT_BODY: usize = 8 * 1024;
/// How long a create's idempotency key is remembered.
const IDEMPOTENCY_TTL_SECS: u64 = 24 * 3600;
/// An idempotency key's value while its create is under way or ended without a known outcome
/// (otherwise the value is the created student's id).
const PENDING: &str = "pending";

thread_local! {
    /// Field metadata per org: memory first, then KV, then Zoho.
    static META: RefCell<BTreeMap<String, CachedMeta>> = const { RefCell::new(BTreeMap::new()) };
}

#[derive(Clone, Serialize, Deserialize)]
struct CachedMeta {
    fetched_at: u64,
    meta: StudentsMeta,
}

pub async fn meta(req: &Request, ctx: &Ctx) -> Outcome {
    let store = Store::new(&ctx.env)?;
    let mut crm = Crm::for_request(req, ctx).await?;
    Ok(reply::json(200, &org_meta(ctx, &store, &mut crm).await?))
}

pub async fn get(req: &Request, ctx: &Ctx, id: &str) -> Outcome {
    let mut crm = Crm::for_request(req, ctx).await?;
    let student = fetch_one(&mut crm, id).await?;
    Ok(reply::json(200, &student))
}

pub async fn create(mut req: Request, ctx: &Ctx) -> Outcome {
    let idempotency = idempotency_key(&req)?;
    // The session first: nobody without one makes the Worker read a body.
    let mut crm = Crm::for_request(&req, ctx).await?;
    let input = read_input(&mut req).await?;
    let store = Store::new(&ctx.env)?;
    let input = validate(ctx, &store, &mut crm, &input).await?;
    limits::write(ctx, &crm.user.key).await?;
    // A retried submit (same key) answers with the student the first one created.
    let remembered = idempotency
        .as_ref()
        .map(|key| crate::records::idempotency_key(&crm.user.key, key));
    if let Some(kv_key) = &remembered {
        match store.text(kv_key).await? {
            // An earlier submit whose outcome is unknown (Zoho did not answer in time, or the
            // answer was cut): it may have created the student, so look before creating.
            Some(state) if state == PENDING => {
                if let Some(found) = find_same(&mut crm, &input).await? {
                    store
                        .put_text(kv_key, &found.id, IDEMPOTENCY_TTL_SECS)
                        .await?;
                    ctx.log.info(
                        "create_recovered",
                        fields!("user" => crm.user.key, "id" => found.id),
                    );
                    return Ok(reply::json(201, &found));
                }
            }
            Some(id) => {
                ctx.log
                    .info("create_replayed", fields!("user" => crm.user.key));
                return Ok(reply::json(201, &fetch_one(&mut crm, &id).await?));
            }
            None => {
                store
                    .put_text(kv_key, PENDING, IDEMPOTENCY_TTL_SECS)
                    .await?
            }
        }
    }
    let answer = crm
        .call(
            Method::Post,
            &format!("/{MODULE}"),
            Some(leads::write_body(&input, None)),
        )
        .await?;
    let id = written(ctx, "create", &answer)?;
    if let Some(kv_key) = &remembered {
        store.put_text(kv_key, &id, IDEMPOTENCY_TTL_SECS).await?;
    }
    ctx.log.info(
        "student_created",
        fields!("user" => crm.user.key, "id" => id),
    );
    Ok(reply::json(201, &Student { id, fields: input }))
}

pub async fn update(mut req: Request, ctx: &Ctx, id: &str) -> Outcome {
    let mut crm = Crm::for_request(&req, ctx).await?;
    let input = read_input(&mut req).await?;
    let store = Store::new(&ctx.env)?;
    let input = validate(ctx, &store, &mut crm, &input).await?;
    limits::write(ctx, &crm.user.key).await?;
    let answer = crm
        .call(
            Method::Put,
            &format!("/{MODULE}/{id}"),
            Some(leads::write_body(&input, Some(id))),
        )
        .await?;
    let id = written(ctx, "update", &answer)?;
    ctx.log.info(
        "student_updated",
        fields!("user" => crm.user.key, "id" => id),
    );
    Ok(reply::json(200, &Student { id, fields: input }))
}

pub async fn delete(req: &Request, ctx: &Ctx, id: &str) -> Outcome {
    let mut crm = Crm::for_request(req, ctx).await?;
    limits::write(ctx, &crm.user.key).await?;
    let answer = crm
        .call(Method::Delete, &format!("/{MODULE}/{id}"), None)
        .await?;
    written(ctx, "delete", &answer)?;
    ctx.log.info(
        "student_deleted",
        fields!("user" => crm.user.key, "id" => id),
    );
    Ok(reply::empty(204))
}

async fn fetch_one(crm: &mut Crm<'_>, id: &str) -> Result<Student, Failure> {
    let path = format!("/{MODULE}/{id}?fields={}", leads::LEAD_FIELDS);
    let malformed = || Failure::upstream("Zoho's answer about the student is malformed.");
    let found: RecordResponse = crm
        .get(&path, "answer about the student")
        .await?
        .ok_or_else(not_found)?;
    found
        .data
        .first()
        .and_then(leads::student_from_record)
        .ok_or_else(malformed)
}

/// A student created by an earlier submit with the same key and values, if Zoho has one.
async fn find_same(crm: &mut Crm<'_>, input: &StudentInput) -> Result<Option<Student>, Failure> {
    let list: Option<ListResponse> = crm
        .get(&leads::same_student_path(input), "search answer")
        .await?;
    Ok(list.and_then(|list| leads::find_same(&list, input)))
}

/// The org's course choices and field limits, cached for `META_TTL_SECS` (memory, then KV).
/// When Zoho fails to give fresh metadata, the last copy is used (kept in KV for a day past its
/// freshness): an outage of the metadata call does not stop the portal's forms.
pub(crate) async fn org_meta(
    ctx: &Ctx,
    store: &Store,
    crm: &mut Crm<'_>,
) -> Result<StudentsMeta, Failure> {
    let key = crate::records::meta_key(crm.user.location, crm.user.environment, &crm.user.org_id);
    let ttl_secs = u64::from(ctx.config.meta_ttl_secs);
    let fresh = |c: &CachedMeta| ctx.now_ms.saturating_sub(c.fetched_at) < ttl_secs * 1000;
    let mut last = META.with(|m| m.borrow().get(&key).cloned());
    if let Some(cached) = last.as_ref().filter(|c| fresh(c)) {
        return Ok(cached.meta.clone());
    }
    if let Some(cached) = store.json::<CachedMeta>(&key).await? {
        if fresh(&cached) {
            META.with(|m| m.borrow_mut().insert(key, cached.clone()));
            return Ok(cached.meta);
        }
        if last
            .as_ref()
            .is_none_or(|l| l.fetched_at < cached.fetched_at)
        {
            last = Some(cached);
        }
    }
    let fetched = fetch_meta(crm).await;
    let meta = match (fetched, last) {
        (Ok(meta), _) => meta,
        (Err(failure), Some(stale)) if failure.status != 401 => {
            ctx.log.warn(
                "field_metadata_stale",
                fields!("org" => crm.user.org_id, "age_secs" => ctx.now_ms.saturating_sub(stale.fetched_at) / 1000),
            );
            return Ok(stale.meta);
        }
        (Err(failure), _) => return Err(failure),
    };
    let cached = CachedMeta {
        fetched_at: ctx.now_ms,
        meta,
    };
    store
        .put_json(&key, &cached, ttl_secs + META_KEEP_SECS)
        .await?;
    META.with(|m| m.borrow_mut().insert(key, cached.clone()));
    ctx.log.info(
        "field_metadata_fetched",
        fields!("org" => crm.user.org_id, "courses" => cached.meta.courses.len()),
    );
    Ok(cached.meta)
}

async fn fetch_meta(crm: &mut Crm<'_>) -> Result<StudentsMeta, Failure> {
    let fields: Option<FieldsResponse> = crm.get(&leads::meta_path(), "field metadata").await?;
    fields
        .map(|fields| leads::meta_from_fields(&fields))
        .ok_or_else(|| Failure::upstream("Zoho sent no field metadata."))
}

async fn read_input(req: &mut Request) -> Result<StudentInput, Failure> {
    let body = read_body(req, MAX_STUDENT_BODY).await?;
    serde_json::from_str(&body).map_err(|e| {
        Failure::bad_request(format!(
            "Expected a student: first_name, last_name, college, course, email, phone ({}).",
            json_problem(&e)
        ))
    })
}

async fn validate(
    ctx: &Ctx,
    store: &Store,
    crm: &mut Crm<'_>,
    input: &StudentInput,
) -> Result<StudentInput, Failure> {
    let meta = org_meta(ctx, store, crm).await?;
    input.validate(&meta).map_err(|errors| {
        let first = &errors[0];
        Failure {
            field: Some(first.field.as_str().to_owned()),
            fields: errors.clone(),
            ..Failure::new(400, codes::INVALID_FIELD, first.message.clone())
        }
    })
}

fn idempotency_key(req: &Request) -> Result<Option<String>, Failure> {
    let Some(key) = req
        .headers()
        .get(zcrm_api::IDEMPOTENCY_HEADER)
        .ok()
        .flatten()
    else {
        return Ok(None);
    };
    if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Failure::bad_request(
            "Idempotency-Key must be 1 to 128 visible ASCII characters.",
        ));
    }
    Ok(Some(key))
}

/// The id of the record a write touched, or the failure it amounts to.
fn written(ctx: &Ctx, call: &str, answer: &Answer) -> Result<String, Failure> {
    let result = match zoho::crm::read_write(answer.status, &answer.body) {
        WriteAnswer::Records(records) => {
            records.into_iter().next().ok_or_else(Failure::internal)?
        }
        WriteAnswer::Whole(status, e) if e.details.get("api_name").is_none() && status != 400 => {
            return Err(crm_failure(ctx, call, ApiResponse::Error(status, e)));
        }
        WriteAnswer::Whole(_, e) => e,
        WriteAnswer::NoContent => {
            return Err(Failure::upstream("Zoho answered the change with nothing."));
        }
        WriteAnswer::Other(other) => return Err(crm_failure(ctx, call, other)),
    };
    match leads::write_outcome(&result) {
        WriteOutcome::Done { id } => Ok(id),
        WriteOutcome::Field { field, message } => Err(Failure {
            field: Some(field.as_str().to_owned()),
            fields: vec![zcrm_api::students::FieldError {
                field,
                message: message.clone(),
            }],
            ..Failure::new(400, codes::INVALID_FIELD, message)
        }),
        WriteOutcome::Duplicate => Err(Failure {
            field: Some(StudentField::Email.as_str().to_owned()),
            ..Failure::new(
                409,
                codes::DUPLICATE,
                "Another student already has this email.",
            )
        }),
        WriteOutcome::NotFound => Err(not_found()),
        WriteOutcome::Other { code } => {
            ctx.log.warn(
                "crm_write_refused",
                fields!("call" => call, "code" => code, "status" => answer.status),
            );
            Err(Failure::upstream(format!(
                "Zoho refused the change ({code})."
            )))
        }
    }
}

pub(crate) fn not_found() -> Failure {
    Failure::new(
        404,
        codes::NOT_FOUND,
        "No such student (or it is not yours to see).",
    )
}
