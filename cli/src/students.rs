//! `zcrm students list|get|add|update|delete`: students as Leads, through the Worker's own
//! mapping ([`zcrm_edge::leads`]) and validated by the portal's rules ([`zcrm_api::students`]),
//! the course checked against the picklist of Zoho's field metadata.

use serde_json::{Value, json};
use zcrm_api::students::{Student, StudentField, StudentInput, StudentsMeta};
use zcrm_edge::leads::{self, LEAD_FIELDS, ListQuery, MODULE, WriteOutcome};
use zoho::crm::{ApiResponse, ListResponse, MAX_PER_PAGE, Read, RecordResponse, WriteAnswer};
use zoho::fields::{FieldsResponse, is_record_id};

use crate::args::{Args, number};
use crate::error::{Error, Result, printable};
use crate::http::Method;
use crate::output;
use crate::session::{Session, crm_error};

/// The course choices and lengths (`GET /settings/fields?module=Leads`,
/// <https://www.zoho.com/crm/developer/docs/api/v8/field-meta.html>).
pub async fn meta(session: &mut Session<'_>) -> Result<StudentsMeta> {
    let answer = session.call(Method::Get, &leads::meta_path(), None).await?;
    match zoho::crm::read::<FieldsResponse>(answer.status, &answer.body) {
        Read::Ok(fields) => Ok(leads::meta_from_fields(&fields)),
        Read::NoContent | Read::Malformed => {
            Err(Error::failure("Zoho's field metadata is malformed."))
        }
        Read::Refused(other) => Err(crm_error("reading the Leads field metadata", other)),
    }
}

/// Every problem of an input, as one message (exit status 2).
pub fn invalid(errors: &[zcrm_api::students::FieldError], meta: &StudentsMeta) -> Error {
    let mut lines: Vec<String> = errors
        .iter()
        .map(|e| format!("--{}: {}", e.field.as_str().replace('_', "-"), e.message))
        .collect();
    if errors.iter().any(|e| e.field == StudentField::Course) {
        lines.push(format!("The courses offered: {}.", meta.courses.join(", ")));
    }
    Error::usage(lines.join("\n"))
}

/// A list answer (or Zoho's 204 "no records").
fn list_answer(answer: crate::http::Answer) -> Result<Option<ListResponse>> {
    match zoho::crm::read::<ListResponse>(answer.status, &answer.body) {
        Read::Ok(list) => Ok(Some(list)),
        Read::NoContent => Ok(None),
        Read::Malformed => Err(Error::failure("Zoho's list of students is malformed.")),
        Read::Refused(other) => Err(crm_error("listing students", other)),
    }
}

/// Every record of a list, page after page of 200: by page number for a search (Zoho's search
/// reads at most 2,000 records), and by `page_token` for a list, which has no such limit
/// (<https://www.zoho.com/crm/developer/docs/api/v8/get-records.html>: `page`/`per_page` reach
/// the first 2,000 records, `page_token` from `info.next_page_token` the rest). `each` gets
/// every page's students and the running count.
pub async fn all_pages(
    session: &mut Session<'_>,
    search: Option<&str>,
    sort: &str,
    mut each: impl FnMut(&[Student], usize) -> Result<()>,
) -> Result<usize> {
    let mut seen = 0;
    let mut page = 1;
    let mut token: Option<String> = None;
    loop {
        let path = match (search, &token) {
            (Some(term), _) => ListQuery {
                page,
                per_page: MAX_PER_PAGE,
                search: Some(term.to_owned()),
                ..ListQuery::default()
            }
            .zoho_path(),
            (None, None) => {
                format!("/{MODULE}?fields={LEAD_FIELDS}&per_page={MAX_PER_PAGE}&{sort}")
            }
            (None, Some(t)) => format!(
                "/{MODULE}?fields={LEAD_FIELDS}&per_page={MAX_PER_PAGE}&page_token={}",
                zoho::form::encode_component(t)
            ),
        };
        let Some(list) = list_answer(session.call(Method::Get, &path, None).await?)? else {
            return Ok(seen);
        };
        let students: Vec<Student> = list
            .data
            .iter()
            .filter_map(leads::student_from_record)
            .collect();
        seen += students.len();
        each(&students, seen)?;
        if !list.info.more_records {
            return Ok(seen);
        }
        page += 1;
        match search {
            Some(_)
                if u64::from(page) * u64::from(MAX_PER_PAGE)
                    > u64::from(leads::MAX_PAGED_RECORDS) =>
            {
                eprintln!(
                    "note: Zoho's search reaches the first {} matches only; narrow the search.",
                    leads::MAX_PAGED_RECORDS
                );
                return Ok(seen);
            }
            Some(_) => {}
            None => {
                token = Some(
                    list.info
                        .next_page_token
                        .filter(|t| !t.is_empty())
                        .ok_or_else(|| {
                            Error::failure(
                                "Zoho said more records follow but gave no next_page_token.",
                            )
                        })?,
                );
            }
        }
    }
}

pub async fn list(session: &mut Session<'_>, mut args: Args, json: bool) -> Result<()> {
    let search = args.value("--search");
    let page = args
        .value("--page")
        .map(|p| number("--page", &p, 1, 2000))
        .transpose()?;
    let per_page = args
        .value("--per-page")
        .map(|p| number("--per-page", &p, 1, MAX_PER_PAGE))
        .transpose()?;
    let all = args.switch("--all");
    args.finish("students list")?;
    if all && (page.is_some() || per_page.is_some()) {
        return Err(Error::usage(
            "--all reads every page: leave out --page and --per-page.",
        ));
    }
    // The portal's own parameter rules (search length, control characters, the 2,000 limit).
    let mut pairs = vec![];
    if let Some(p) = page {
        pairs.push(("page".to_owned(), p.to_string()));
    }
    if let Some(p) = per_page {
        pairs.push(("per_page".to_owned(), p.to_string()));
    }
    if let Some(s) = &search {
        pairs.push(("q".to_owned(), s.clone()));
    }
    let query = ListQuery::parse(&pairs).map_err(|m| {
        Error::usage(format!(
            "{}.",
            m.replace("q ", "--search ")
                .replace("per_page", "--per-page")
        ))
    })?;
    let (students, page, more) = if all {
        let mut students = Vec::new();
        all_pages(
            session,
            query.search.as_deref(),
            "sort_by=Modified_Time&sort_order=desc",
            |page, _| {
                students.extend_from_slice(page);
                Ok(())
            },
        )
        .await?;
        (students, 1, false)
    } else {
        let list = list_answer(session.call(Method::Get, &query.zoho_path(), None).await?)?;
        let page = leads::page(list, &query);
        (page.students, page.page, page.more)
    };
    if json {
        let students: Vec<Value> = students.iter().map(output::student_json).collect();
        output::json(&json!({"students": students, "page": page, "more": more}));
    } else if students.is_empty() {
        println!(
            "No students{}.",
            if query.search.is_some() { " match" } else { "" }
        );
    } else {
        output::students_table(&students);
        if more {
            println!("(page {page}; more follow: --page {} or --all)", page + 1);
        }
    }
    Ok(())
}

fn record_id(args: &mut Args, command: &str) -> Result<String> {
    let id = args
        .positional()
        .ok_or_else(|| Error::usage(format!("zcrm students {command} needs the student's ID.")))?;
    if !is_record_id(&id) {
        return Err(Error::usage(format!(
            "`{}` is not a Zoho record id (digits only).",
            printable(&id, 40)
        )));
    }
    Ok(id)
}

async fn fetch(session: &mut Session<'_>, id: &str) -> Result<Student> {
    let answer = session
        .call(
            Method::Get,
            &format!("/{MODULE}/{id}?fields={LEAD_FIELDS}"),
            None,
        )
        .await?;
    let malformed = || Error::failure("Zoho's answer about the student is malformed.");
    match zoho::crm::read::<RecordResponse>(answer.status, &answer.body) {
        Read::Ok(found) => found
            .data
            .first()
            .and_then(leads::student_from_record)
            .ok_or_else(malformed),
        Read::NoContent => Err(Error::failure(format!("No student has the id {id}."))),
        Read::Malformed => Err(malformed()),
        Read::Refused(other) => Err(crm_error("reading the student", other)),
    }
}

fn show(student: &Student, json: bool) {
    if json {
        output::json(&output::student_json(student));
    } else {
        output::students_table(std::slice::from_ref(student));
    }
}

pub async fn get(session: &mut Session<'_>, mut args: Args, json: bool) -> Result<()> {
    let id = record_id(&mut args, "get")?;
    args.finish("students get")?;
    show(&fetch(session, &id).await?, json);
    Ok(())
}

/// The field options of add and update.
fn field_options(args: &mut Args) -> Vec<(StudentField, String)> {
    StudentField::ALL
        .into_iter()
        .filter_map(|f| {
            args.value(&format!("--{}", f.as_str().replace('_', "-")))
                .map(|v| (f, v))
        })
        .collect()
}

/// What a write came to, as the student written or a message.
fn written(what: &str, answer: crate::http::Answer, input: StudentInput) -> Result<Student> {
    // The record's result, or the whole request's error (with its HTTP status).
    let (result, whole) = match zoho::crm::read_write(answer.status, &answer.body) {
        WriteAnswer::Whole(status, e) => (e, Some(status)),
        other => match other.into_records().map(|r| r.into_iter().next()) {
            Ok(Some(first)) => (first, None),
            Ok(None) => {
                return Err(Error::failure(format!(
                    "Zoho answered {what} with nothing."
                )));
            }
            Err(other) => return Err(crm_error(what, other)),
        },
    };
    match leads::write_outcome(&result) {
        WriteOutcome::Done { id } => Ok(Student { id, fields: input }),
        WriteOutcome::Duplicate => Err(Error::failure(
            "Another student already has this email (Zoho: duplicate data).",
        )),
        WriteOutcome::Field { field, message } => Err(Error::usage(format!(
            "--{}: {message}",
            field.as_str().replace('_', "-")
        ))),
        WriteOutcome::NotFound => Err(Error::failure(
            "No such student (it may have been deleted).",
        )),
        WriteOutcome::Other { code } => match whole {
            Some(status) => Err(crm_error(what, ApiResponse::Error(status, result))),
            None => Err(Error::failure(format!(
                "Zoho refused {what}: {}.",
                printable(&code, 60)
            ))),
        },
    }
}

pub async fn add(session: &mut Session<'_>, mut args: Args, json: bool) -> Result<()> {
    let mut input = StudentInput::default();
    for (field, value) in field_options(&mut args) {
        *input.get_mut(field) = value;
    }
    args.finish("students add")?;
    let meta = meta(session).await?;
    let input = input.validate(&meta).map_err(|e| invalid(&e, &meta))?;
    let answer = session
        .call(
            Method::Post,
            &format!("/{MODULE}"),
            Some(leads::write_body(&input, None)),
        )
        .await?;
    show(&written("the new student", answer, input)?, json);
    Ok(())
}

pub async fn update(session: &mut Session<'_>, mut args: Args, json: bool) -> Result<()> {
    let id = record_id(&mut args, "update")?;
    let changes = field_options(&mut args);
    args.finish("students update")?;
    if changes.is_empty() {
        return Err(Error::usage(
            "Nothing to change: give --first-name, --last-name, --college, --course, --email or --phone.",
        ));
    }
    let current = fetch(session, &id).await?;
    let mut input = current.fields;
    for (field, value) in changes {
        *input.get_mut(field) = value;
    }
    let meta = meta(session).await?;
    let input = input.validate(&meta).map_err(|e| invalid(&e, &meta))?;
    let answer = session
        .call(
            Method::Put,
            &format!("/{MODULE}/{id}"),
            Some(leads::write_body(&input, Some(&id))),
        )
        .await?;
    show(&written("the update", answer, input)?, json);
    Ok(())
}

pub async fn delete(session: &mut Session<'_>, mut args: Args, json: bool) -> Result<()> {
    let id = record_id(&mut args, "delete")?;
    args.finish("students delete")?;
    let answer = session
        .call(Method::Delete, &format!("/{MODULE}/{id}"), None)
        .await?;
    written("the delete", answer, StudentInput::default())?;
    if json {
        output::json(&json!({"id": id, "deleted": true}));
    } else {
        println!("Deleted student {id}.");
    }
    Ok(())
}
