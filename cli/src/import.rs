//! `zcrm students import FILE.csv [--dry-run]`.
//!
//! 1. The whole file is read and every row validated (the CSV rules of [`zcrm_api::csv`], the
//!    portal's student rules, the course against Zoho's picklist) before anything is sent.
//! 2. A row whose email an earlier row of the file has is a duplicate of that row.
//! 3. Batches of up to 100 rows (Zoho's most per insert,
//!    <https://www.zoho.com/crm/developer/docs/api/v8/insert-records.html>): first a search for
//!    the batch's emails (`(Email:in:…)`, <https://www.zoho.com/crm/developer/docs/api/v8/search-records.html>)
//!    so that students already in Zoho are skipped even where Email is not a unique field (in
//!    groups of ten `equals` conditions where Zoho refuses `in` for Email);
//!    then one insert of the rest, whose per-record answers say created, `DUPLICATE_DATA`
//!    (Zoho's duplicate check on Email caught one) or the field refused. A re-run of the same
//!    file therefore creates nothing twice.
//! 4. A per-row report; exit status 0 only if every row was created or skipped as a duplicate.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use zcrm_api::csv::{self, Row};
use zcrm_api::students::StudentInput;
use zcrm_edge::bulk::{self, Inserted};
use zcrm_edge::leads::MODULE;
use zoho::criteria::Criteria;
use zoho::crm::{ApiResponse, ErrorCode, ListResponse, MAX_RECORDS_PER_WRITE, Read};

use crate::args::Args;
use crate::error::{self, Error, Result, printable};
use crate::http::Method;
use crate::output::{self, Progress};
use crate::session::{Session, crm_error};
use crate::students::meta;

/// Largest file read.
const MAX_FILE: u64 = 64 * 1024 * 1024;

#[derive(Clone, Debug)]
struct Report {
    row: usize,
    status: &'static str,
    id: Option<String>,
    field: Option<&'static str>,
    reason: Option<String>,
}

impl Report {
    fn new(row: usize, status: &'static str) -> Report {
        Report {
            row,
            status,
            id: None,
            field: None,
            reason: None,
        }
    }

    fn json(&self) -> Value {
        let mut v = json!({"row": self.row, "status": self.status});
        if let Some(id) = &self.id {
            v["id"] = json!(id);
        }
        if let Some(f) = self.field {
            v["field"] = json!(f);
        }
        if let Some(r) = &self.reason {
            v["reason"] = json!(r);
        }
        v
    }
}

pub async fn import(session: &mut Session<'_>, mut args: Args, json: bool) -> Result<u8> {
    let path = args
        .positional()
        .ok_or_else(|| Error::usage("zcrm students import needs the CSV file to read."))?;
    let dry_run = args.switch("--dry-run");
    args.finish("students import")?;
    let text = read_file(&path)?;
    let meta = meta(session).await?;
    let rows = csv::read_students(&text, &meta)
        .map_err(|e| Error::usage(format!("{}: {}", printable(&path, 200), e)))?;

    let mut reports: Vec<Report> = Vec::with_capacity(rows.len());
    let mut valid = Vec::new();
    for Row { row, student, .. } in rows {
        match student {
            Err(e) => reports.push(Report {
                field: e.field.map(|f| f.as_str()),
                reason: Some(e.reason),
                ..Report::new(row, "invalid")
            }),
            Ok(input) => valid.push((row, input, ())),
        }
    }
    let (to_send, repeated) = bulk::first_of_each_email(valid);
    for (row, first) in repeated {
        reports.push(Report {
            field: Some("email"),
            reason: Some(format!("Row {first} of the file has this email.")),
            ..Report::new(row, "duplicate")
        });
    }
    let to_send: Vec<(usize, StudentInput)> = to_send
        .into_iter()
        .map(|(row, input, ())| (row, input))
        .collect();

    let mut progress = Progress::new(
        if dry_run { "checking" } else { "importing" },
        Some(to_send.len()),
    );
    let mut done = 0;
    let mut failure: Option<Error> = None;
    for batch in to_send.chunks(MAX_RECORDS_PER_WRITE) {
        if failure.is_some() {
            for (row, _) in batch {
                reports.push(not_sent(*row, failure.as_ref()));
            }
            continue;
        }
        match import_batch(session, batch, dry_run).await {
            Ok(mut batch_reports) => reports.append(&mut batch_reports),
            Err(e) => {
                for (row, _) in batch {
                    reports.push(not_sent(*row, Some(&e)));
                }
                failure = Some(e);
            }
        }
        done += batch.len();
        let count = |s: &str| reports.iter().filter(|r| r.status == s).count();
        progress.update(
            done,
            &format!(
                "({} {}, {} duplicate, {} invalid)",
                count(if dry_run { "valid" } else { "created" }),
                if dry_run { "valid" } else { "created" },
                count("duplicate"),
                count("invalid")
            ),
        );
    }
    progress.finish();
    reports.sort_by_key(|r| r.row);
    let count = |s: &str| reports.iter().filter(|r| r.status == s).count();
    if json {
        let mut doc = json!({
            "created": count("created"),
            "duplicate": count("duplicate"),
            "invalid": count("invalid"),
            "rows": reports.iter().map(Report::json).collect::<Vec<_>>(),
        });
        if dry_run {
            doc["dry_run"] = json!(true);
            doc["valid"] = json!(count("valid"));
        }
        if failure.is_some() {
            doc["failed"] = json!(count("failed"));
        }
        output::json(&doc);
    } else {
        let table: Vec<Vec<String>> = reports
            .iter()
            .map(|r| {
                let detail = match (&r.id, r.field, &r.reason) {
                    (Some(id), _, None) => id.clone(),
                    (id, field, Some(reason)) => {
                        let mut d = String::new();
                        if let Some(f) = field {
                            d.push_str(f);
                            d.push_str(": ");
                        }
                        d.push_str(&printable(reason, 200));
                        if let Some(id) = id {
                            d.push_str(&format!(" (id {id})"));
                        }
                        d
                    }
                    (None, _, None) => String::new(),
                };
                vec![r.row.to_string(), r.status.to_owned(), detail]
            })
            .collect();
        output::table(&["ROW", "STATUS", "ID / REASON"], &table);
        if dry_run {
            println!(
                "Dry run: {} rows would be created, {} skipped as duplicates, {} refused. Nothing was sent.",
                count("valid"),
                count("duplicate"),
                count("invalid")
            );
        } else {
            println!(
                "{} created, {} skipped as duplicate email, {} refused{}.",
                count("created"),
                count("duplicate"),
                count("invalid"),
                if failure.is_some() {
                    format!(", {} not imported", count("failed"))
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(match failure {
        Some(e) => {
            eprintln!("error: {e}\nRun the import again: rows already created are skipped.");
            error::FAILURE
        }
        None if count("invalid") > 0 => error::USAGE,
        None => 0,
    })
}

fn not_sent(row: usize, e: Option<&Error>) -> Report {
    Report {
        reason: Some(format!(
            "Not imported: {}",
            e.map_or("an earlier batch failed.".to_owned(), |e| e.message.clone())
        )),
        ..Report::new(row, "failed")
    }
}

fn read_file(path: &str) -> Result<String> {
    let shown = printable(path, 200);
    let meta =
        std::fs::metadata(path).map_err(|e| Error::usage(format!("Cannot read {shown}: {e}")))?;
    if meta.len() > MAX_FILE {
        return Err(Error::usage(format!(
            "{shown} is larger than 64 MiB; split it."
        )));
    }
    let bytes =
        std::fs::read(path).map_err(|e| Error::usage(format!("Cannot read {shown}: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        Error::usage(format!(
            "{shown} is not UTF-8 text (byte {}); save it as CSV UTF-8.",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// The ids of the Leads that have any of `emails`, by lower-case email: one search with `in`;
/// where Zoho does not take `in` for Email (`INVALID_QUERY`), searches of `equals` conditions,
/// ten at a time (Zoho's most conditions in one criteria).
async fn existing(session: &mut Session<'_>, emails: &[&str]) -> Result<BTreeMap<String, String>> {
    let mut found = BTreeMap::new();
    match search_into(session, &bulk::emails_in(emails), &mut found).await? {
        Searched::Done => return Ok(found),
        Searched::QueryRefused => {}
    }
    for criteria in bulk::emails_equal(emails) {
        if let Searched::QueryRefused = search_into(session, &criteria, &mut found).await? {
            return Err(Error::failure(
                "Zoho refused the search for existing emails (invalid query); nothing was imported.",
            ));
        }
    }
    Ok(found)
}

enum Searched {
    Done,
    QueryRefused,
}

/// Adds every match of `criteria` (page after page) to `found`.
async fn search_into(
    session: &mut Session<'_>,
    criteria: &Criteria,
    found: &mut BTreeMap<String, String>,
) -> Result<Searched> {
    for page in 1..=bulk::MAX_SEARCH_PAGES {
        let path = bulk::search_path(criteria, page);
        let answer = session.call(Method::Get, &path, None).await?;
        let list = match zoho::crm::read::<ListResponse>(answer.status, &answer.body) {
            Read::Ok(list) => list,
            Read::NoContent => break,
            Read::Malformed => return Err(Error::failure("Zoho's search answer is malformed.")),
            Read::Refused(ApiResponse::Error(_, e))
                if e.error_code() == Some(ErrorCode::InvalidQuery) =>
            {
                return Ok(Searched::QueryRefused);
            }
            Read::Refused(other) => return Err(crm_error("the search for existing emails", other)),
        };
        bulk::note_found(&list, found);
        if !list.info.more_records {
            break;
        }
    }
    Ok(Searched::Done)
}

async fn import_batch(
    session: &mut Session<'_>,
    batch: &[(usize, StudentInput)],
    dry_run: bool,
) -> Result<Vec<Report>> {
    let emails: Vec<&str> = batch.iter().map(|(_, s)| s.email.as_str()).collect();
    let found = existing(session, &emails).await?;
    let mut reports = Vec::with_capacity(batch.len());
    let mut send = Vec::new();
    for (row, input) in batch {
        match found.get(&input.email.to_ascii_lowercase()) {
            Some(id) => reports.push(Report {
                id: Some(id.clone()),
                field: Some("email"),
                reason: Some("A student with this email is already in Zoho.".into()),
                ..Report::new(*row, "duplicate")
            }),
            None if dry_run => reports.push(Report::new(*row, "valid")),
            None => send.push((*row, input)),
        }
    }
    if send.is_empty() {
        return Ok(reports);
    }
    let body = bulk::insert_body(send.iter().map(|(_, input)| *input));
    let answer = session
        .call(Method::Post, &format!("/{MODULE}"), Some(body))
        .await?;
    let records = zoho::crm::read_write(answer.status, &answer.body)
        .into_records()
        .map_err(|other| crm_error("the insert", other))?;
    let results = bulk::inserted(&records, send.len()).ok_or_else(|| {
        Error::failure("Zoho's answer to the insert does not match the records sent.")
    })?;
    for ((row, _), result) in send.iter().zip(results) {
        reports.push(match result {
            Inserted::Created { id } => Report {
                id: Some(id),
                ..Report::new(*row, "created")
            },
            Inserted::Duplicate { existing } => Report {
                id: existing,
                field: Some("email"),
                reason: Some("A student with this email is already in Zoho.".into()),
                ..Report::new(*row, "duplicate")
            },
            Inserted::Refused { field, reason } => Report {
                field: field.map(|f| f.as_str()),
                reason: Some(printable(&reason, 200)),
                ..Report::new(*row, "invalid")
            },
        });
    }
    Ok(reports)
}
