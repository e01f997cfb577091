//! `/api/students` read as a whole: the list (paged, searched, filtered by course, sorted), its
//! count and its export as CSV (streamed, every page). The requests are built by [`crate::listing`] and the answers read by
//! [`crate::leads`]; this is the Worker glue.

use futures_util::stream;
use worker::{Headers, Request, Response};
use zcrm_api::csv;
use zcrm_api::students::{StudentField, StudentsCount};
use zoho::crm::{CountResponse, ListResponse, Record};

use crate::glue::crm::{Crm, CrmParts};
use crate::glue::ctx::Ctx;
use crate::glue::leads::org_meta;
use crate::glue::log::fields;
use crate::glue::reply::{self, Failure, Outcome};
use crate::glue::routes::query_pairs;
use crate::glue::store::Store;
use crate::leads::{self, MAX_PAGED_RECORDS};
use crate::listing::{AllPages, CountQuery, ExportQuery, ListQuery};

pub async fn list(req: &Request, ctx: &Ctx) -> Outcome {
    let query = ListQuery::parse(&query_pairs(req)).map_err(Failure::bad_request)?;
    let mut crm = Crm::for_request(req, ctx).await?;
    check_course(ctx, &mut crm, query.course.as_deref()).await?;
    if query.sorts_matches() {
        let matches = read_matches(ctx, &mut crm, &query).await?;
        return Ok(reply::json(200, &query.page_of_matches(matches)));
    }
    let list: Option<ListResponse> = crm.get(&query.zoho_path(), "list of students").await?;
    Ok(reply::json(200, &leads::page(list, &query)))
}

/// `GET /api/students/count[?q=&course=]`: Zoho's record count, with the list's criteria.
pub async fn count(req: &Request, ctx: &Ctx) -> Outcome {
    let query = CountQuery::parse(&query_pairs(req)).map_err(Failure::bad_request)?;
    let mut crm = Crm::for_request(req, ctx).await?;
    check_course(ctx, &mut crm, query.course()).await?;
    // No records to count is a 204.
    let count: Option<CountResponse> = crm.get(&query.zoho_path(), "count of students").await?;
    Ok(reply::json(
        200,
        &StudentsCount {
            count: count.map_or(0, |c| c.count),
        },
    ))
}

/// `GET /api/students/export.csv[?q=&course=&sort=&order=]`: the list as CSV (`zcrm_api::csv`'s
/// header and rows, formula characters neutralised), every page. The first page is read before
/// answering, so that a refusal is a JSON error; the rest is streamed page by page. A failure
/// after that cuts the body short (the download fails) rather than ending a partial file well.
///
/// Subrequests: one call to the grant's Durable Object, then one `fetch` to Zoho per page of
/// 200 (plus a retry or a token refresh when one is needed): 100 for an org of 20,000, 1,000 at
/// 200,000 records (`tests/tests/export.rs` counts them). Cloudflare's limit per invocation
/// (<https://developers.cloudflare.com/workers/platform/limits/#subrequests>) is 50 to the
/// outside on the Free plan, so there an export stops after 50 pages, 10,000 records; on Paid
/// it is 10,000 by default (it was 1,000), raised with `[limits] subrequests` in
/// wrangler.toml. Past the limit `fetch` throws, which reads here as Zoho being unreachable:
/// retried twice, then the body is cut as above, so the download fails instead of ending like
/// a whole file. (workerd under `wrangler dev` let the test's 100 through: it enforces no such
/// limit.) CPU is the other bound: the workerd process spent about 0.5 s of CPU on a sign-in
/// and one export of 20,000 here, within Paid's default 30 s, far past Free's 10 ms.
pub async fn export(req: &Request, ctx: &Ctx) -> Outcome {
    let query = ExportQuery::parse(&query_pairs(req)).map_err(Failure::bad_request)?;
    let mut crm = Crm::for_request(req, ctx).await?;
    check_course(ctx, &mut crm, query.list().course.as_deref()).await?;
    if query.list().sorts_matches() {
        // Sorted here: the matches Zoho's search reaches (2,000 at most), sorted, in one body.
        let all = ListQuery {
            page: 1,
            per_page: MAX_PAGED_RECORDS,
            ..query.list().clone()
        };
        let matches = read_matches(ctx, &mut crm, &all).await?;
        let mut body = csv::export_header();
        for s in all.page_of_matches(matches).students {
            body.push_str(&csv::export_row(&s));
        }
        return csv_response(stream::iter([Ok::<_, worker::Error>(body.into_bytes())]));
    }
    let mut pages = query.pages();
    let first = crm
        .get::<ListResponse>(&pages.first(), "list of students")
        .await?;
    let mut body = csv::export_header();
    let next = rows_and_next(&mut body, &mut pages, first.as_ref());
    let state = Export {
        ctx: ctx.clone(),
        parts: Some(crm.into_parts()),
        pages,
        next,
        pending: Some(body),
    };
    csv_response(stream::unfold(state, Export::step))
}

/// A streamed export between two pages.
struct Export {
    ctx: Ctx,
    parts: Option<CrmParts>,
    pages: AllPages,
    next: Result<Option<String>, String>,
    /// Rows read and not yet sent.
    pending: Option<String>,
}

impl Export {
    async fn step(mut self) -> Option<(Result<Vec<u8>, worker::Error>, Export)> {
        if let Some(rows) = self.pending.take() {
            return Some((Ok(rows.into_bytes()), self));
        }
        let path = match std::mem::replace(&mut self.next, Ok(None)) {
            Ok(Some(path)) => path,
            Ok(None) => return None,
            Err(problem) => return Some((Err(self.cut(&problem)), self)),
        };
        let mut crm = Crm::from_parts(&self.ctx, self.parts.take()?);
        let page = crm.get::<ListResponse>(&path, "list of students").await;
        self.parts = Some(crm.into_parts());
        match page {
            Ok(page) => {
                let mut rows = String::new();
                self.next = rows_and_next(&mut rows, &mut self.pages, page.as_ref());
                Some((Ok(rows.into_bytes()), self))
            }
            Err(failure) => {
                let problem = failure.message;
                Some((Err(self.cut(&problem)), self))
            }
        }
    }

    /// Ends the body with an error (the stream stops after it).
    fn cut(&mut self, problem: &str) -> worker::Error {
        self.next = Ok(None);
        self.ctx
            .log
            .warn("export_cut", fields!("problem" => problem));
        worker::Error::RustError(format!("the export was cut: {problem}"))
    }
}

/// Appends a page's rows; the next page's path (or the problem with it).
fn rows_and_next(
    out: &mut String,
    pages: &mut AllPages,
    page: Option<&ListResponse>,
) -> Result<Option<String>, String> {
    let Some(page) = page else {
        return Ok(None);
    };
    for s in page.data.iter().filter_map(leads::student_from_record) {
        out.push_str(&csv::export_row(&s));
    }
    pages.next(&page.info).map_err(str::to_owned)
}

fn csv_response<S>(body: S) -> Outcome
where
    S: futures_util::TryStream<Ok = Vec<u8>, Error = worker::Error> + 'static,
{
    let headers = Headers::new();
    headers.set("content-type", "text/csv; charset=utf-8")?;
    headers.set(
        "content-disposition",
        "attachment; filename=\"students.csv\"",
    )?;
    Ok(Response::from_stream(body)?.with_headers(headers))
}

/// A course filter names one of the org's courses (Zoho's picklist, cached), or is refused.
async fn check_course(ctx: &Ctx, crm: &mut Crm<'_>, course: Option<&str>) -> Result<(), Failure> {
    let Some(course) = course else {
        return Ok(());
    };
    let store = Store::new(&ctx.env)?;
    let meta = org_meta(ctx, &store, crm).await?;
    if meta.courses.iter().any(|c| c == course) {
        return Ok(());
    }
    let shown: String = course.chars().take(40).collect();
    Err(Failure {
        field: Some(StudentField::Course.as_str().to_owned()),
        ..Failure::bad_request(format!(
            "course `{}` is not one of the courses offered",
            shown.escape_debug()
        ))
    })
}

/// Every match of a search or filter that Zoho's search reaches (its first 2,000), page after
/// page of 200, for the Worker to sort.
async fn read_matches(
    ctx: &Ctx,
    crm: &mut Crm<'_>,
    query: &ListQuery,
) -> Result<Vec<Record>, Failure> {
    let mut matches = Vec::new();
    let pages = MAX_PAGED_RECORDS / zcrm_api::students::MAX_PER_PAGE;
    for page in 1..=pages {
        let Some(path) = query.matches_path(page) else {
            break;
        };
        let Some(list) = crm.get::<ListResponse>(&path, "search answer").await? else {
            break;
        };
        matches.extend(list.data);
        if !list.info.more_records {
            return Ok(matches);
        }
    }
    ctx.log.info(
        "sorted_matches_capped",
        fields!("user" => crm.user.key, "matches" => matches.len()),
    );
    Ok(matches)
}
