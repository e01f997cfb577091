//! `POST /api/students/bulk` `{"students":[…]}`: up to 100 students with one Zoho insert, each
//! row answered on its own (`{"results":[{"row","status":"created","student"} |
//! {"row","status":"duplicate","field":"email"} | {"row","status":"invalid","fields":{…}}]}`).
//! Rows are numbered from 1 in the order sent. The rules are [`crate::bulk`]'s, shared with the
//! `zcrm` CLI: every row validated with the portal's rules and the org's picklist, a row whose
//! email an earlier row has is a duplicate, students already in Zoho (found by email first) are
//! duplicates and are not sent, so sending the same rows again creates nothing twice.

use std::collections::BTreeMap;

use worker::{Method, Request};
use zcrm_api::students::{
    BulkRequest, BulkResponse, BulkResult, MAX_BULK, Student, StudentField, StudentInput,
};
use zoho::criteria::Criteria;
use zoho::crm::{ApiResponse, ErrorCode, ListResponse, MAX_RECORDS_PER_WRITE};

use crate::bulk::{self, Inserted};
use crate::glue::body::json_problem;
use crate::glue::body::read_body;
use crate::glue::crm::Crm;
use crate::glue::crm::crm_failure;
use crate::glue::ctx::Ctx;
use crate::glue::leads::org_meta;
use crate::glue::log::fields;
use crate::glue::reply::{self, Failure, Outcome};
use crate::glue::store::Store;
use crate::leads::MODULE;
use zoho::crm::Read;

/// Largest body: 100 students at their longest, with room for JSON's escapes.
const MAX_BULK_BODY: usize = 256 * 1024;

pub async fn bulk(mut req: Request, ctx: &Ctx) -> Outcome {
    const _: () = assert!(MAX_BULK <= MAX_RECORDS_PER_WRITE);
    // The session first: nobody without one makes the Worker read a body.
    let mut crm = Crm::for_request(&req, ctx).await?;
    let body = read_body(&mut req, MAX_BULK_BODY).await?;
    let request: BulkRequest = serde_json::from_str(&body).map_err(|e| {
        Failure::bad_request(format!(
            "Expected {{\"students\":[…]}}, each with first_name, last_name, college, course, email, phone ({}).",
            json_problem(&e)
        ))
    })?;
    let n = request.students.len();
    if n == 0 || n > MAX_BULK {
        return Err(Failure {
            field: Some("students".to_owned()),
            ..Failure::bad_request(format!(
                "students must hold 1 to {MAX_BULK} students; this request has {n}."
            ))
        });
    }
    let store = Store::new(&ctx.env)?;
    let meta = org_meta(ctx, &store, &mut crm).await?;

    let mut results: Vec<BulkResult> = Vec::with_capacity(n);
    let mut valid = Vec::new();
    for (i, input) in request.students.iter().enumerate() {
        let row = i + 1;
        match input.validate(&meta) {
            Ok(valid_input) => valid.push((row, valid_input, ())),
            Err(errors) => results.push(BulkResult::Invalid {
                row,
                fields: refused(
                    errors
                        .into_iter()
                        .map(|e| (e.field.as_str().to_owned(), e.message)),
                ),
            }),
        }
    }
    let (candidates, repeated) = bulk::first_of_each_email(valid);
    for (row, _) in repeated {
        results.push(BulkResult::Duplicate {
            row,
            field: StudentField::Email,
        });
    }
    let emails: Vec<&str> = candidates
        .iter()
        .map(|(_, s, _)| s.email.as_str())
        .collect();
    let found = if emails.is_empty() {
        BTreeMap::new()
    } else {
        existing(ctx, &mut crm, &emails).await?
    };
    let mut send: Vec<(usize, StudentInput)> = Vec::new();
    for (row, input, ()) in candidates {
        if found.contains_key(&input.email.to_ascii_lowercase()) {
            results.push(BulkResult::Duplicate {
                row,
                field: StudentField::Email,
            });
        } else {
            send.push((row, input));
        }
    }
    if !send.is_empty() {
        // One change, as the user's write budget counts it: one insert.
        crate::glue::limits::write(ctx, &crm.user.key).await?;
        let answer = crm
            .call(
                Method::Post,
                &format!("/{MODULE}"),
                Some(bulk::insert_body(send.iter().map(|(_, s)| s))),
            )
            .await?;
        let records = zoho::crm::read_write(answer.status, &answer.body)
            .into_records()
            .map_err(|other| crm_failure(ctx, "bulk create", other))?;
        let outcomes = bulk::inserted(&records, send.len()).ok_or_else(|| {
            Failure::upstream("Zoho's answer to the import does not match the students sent.")
        })?;
        for ((row, input), outcome) in send.into_iter().zip(outcomes) {
            results.push(match outcome {
                Inserted::Created { id } => BulkResult::Created {
                    row,
                    student: Student { id, fields: input },
                },
                Inserted::Duplicate { .. } => BulkResult::Duplicate {
                    row,
                    field: StudentField::Email,
                },
                Inserted::Refused { field, reason } => BulkResult::Invalid {
                    row,
                    fields: refused([(
                        field.map_or("row", StudentField::as_str).to_owned(),
                        reason,
                    )]),
                },
            });
        }
    }
    // Each row has one result: the order is total, and an unstable sort is the smaller code.
    results.sort_unstable_by_key(BulkResult::row);
    let created = results
        .iter()
        .filter(|r| matches!(r, BulkResult::Created { .. }))
        .count();
    ctx.log.info(
        "students_imported",
        fields!("user" => crm.user.key, "rows" => n, "created" => created),
    );
    Ok(reply::json(200, &BulkResponse { results }))
}

/// The ids of the Leads that have any of `emails`, by lower-case email: one search with `in`;
/// where Zoho does not take `in` for Email (`INVALID_QUERY`), `equals` ten at a time.
async fn existing(
    ctx: &Ctx,
    crm: &mut Crm<'_>,
    emails: &[&str],
) -> Result<BTreeMap<String, String>, Failure> {
    let mut found = BTreeMap::new();
    if search_into(ctx, crm, &bulk::emails_in(emails), &mut found).await? {
        return Ok(found);
    }
    for criteria in bulk::emails_equal(emails) {
        if !search_into(ctx, crm, &criteria, &mut found).await? {
            return Err(Failure::upstream(
                "Zoho refused the search for students already there; nothing was imported.",
            ));
        }
    }
    Ok(found)
}

/// Adds every match of `criteria` to `found`; `false` when Zoho refused the criteria.
async fn search_into(
    ctx: &Ctx,
    crm: &mut Crm<'_>,
    criteria: &Criteria,
    found: &mut BTreeMap<String, String>,
) -> Result<bool, Failure> {
    for page in 1..=bulk::MAX_SEARCH_PAGES {
        let answer = crm
            .call(Method::Get, &bulk::search_path(criteria, page), None)
            .await?;
        let list = match zoho::crm::read::<ListResponse>(answer.status, &answer.body) {
            Read::Refused(ApiResponse::Error(_, e))
                if e.error_code() == Some(ErrorCode::InvalidQuery) =>
            {
                return Ok(false);
            }
            read => match crate::glue::crm::expect(ctx, "search answer", read)? {
                Some(list) => list,
                None => break,
            },
        };
        bulk::note_found(&list, found);
        if !list.info.more_records {
            break;
        }
    }
    Ok(true)
}

/// A row's refused fields, inserted one by one: `collect` or `BTreeMap::from` sort first, and
/// each brought a sort's code (some 4 KB of Wasm) for these few entries.
fn refused(fields: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for (field, message) in fields {
        map.insert(field, message);
    }
    map
}
