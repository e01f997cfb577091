//! `/api/students` read as a whole: the list (paged, searched, filtered by course, sorted) and
//! its count. The requests are built by [`crate::listing`] and the answers read by
//! [`crate::leads`]; this is the Worker glue.

use serde_json::json;
use worker::{Method, Request};
use zcrm_api::students::{StudentField, StudentsCount};
use zoho::crm::{ApiResponse, CountResponse, ListResponse, Record, classify_response};

use crate::crm::Crm;
use crate::leads::{self, MAX_PAGED_RECORDS};
use crate::listing::{CountQuery, ListQuery};
use crate::reply::{self, Failure, Outcome};
use crate::routes::Ctx;
use crate::store::Store;
use crate::students::{crm_failure, org_meta};

pub async fn list(req: &Request, ctx: &Ctx) -> Outcome {
    let query = ListQuery::parse(&query_pairs(req)).map_err(Failure::bad_request)?;
    let mut crm = Crm::for_request(req, ctx).await?;
    check_course(ctx, &mut crm, query.course.as_deref()).await?;
    if query.sorts_matches() {
        let matches = read_matches(ctx, &mut crm, &query).await?;
        return Ok(reply::json(200, &query.page_of_matches(matches)));
    }
    let answer = crm.call(Method::Get, &query.zoho_path(), None).await?;
    // The usual answer, a page of records, is decoded straight into its type (one pass).
    if answer.status == 200
        && let Ok(list) = serde_json::from_str::<ListResponse>(&answer.body)
    {
        return Ok(reply::json(200, &leads::page(Some(list), &query)));
    }
    match classify_response(answer.status, &answer.body) {
        ApiResponse::NoContent => Ok(reply::json(200, &leads::page(None, &query))),
        // JSON, but not a page of records.
        ApiResponse::Json(200, _) => {
            Err(Failure::upstream("Zoho's list of students is malformed."))
        }
        other => Err(crm_failure(ctx, "list", other)),
    }
}

/// `GET /api/students/count[?q=&course=]`: Zoho's record count, with the list's criteria.
pub async fn count(req: &Request, ctx: &Ctx) -> Outcome {
    let query = CountQuery::parse(&query_pairs(req)).map_err(Failure::bad_request)?;
    let mut crm = Crm::for_request(req, ctx).await?;
    check_course(ctx, &mut crm, query.course()).await?;
    let answer = crm.call(Method::Get, &query.zoho_path(), None).await?;
    match classify_response(answer.status, &answer.body) {
        ApiResponse::Json(200, body) => serde_json::from_value::<CountResponse>(body)
            .map(|c| reply::json(200, &StudentsCount { count: c.count }))
            .map_err(|_| Failure::upstream("Zoho's count of students is malformed.")),
        // A count with no records to count.
        ApiResponse::NoContent => Ok(reply::json(200, &StudentsCount { count: 0 })),
        other => Err(crm_failure(ctx, "count", other)),
    }
}

fn query_pairs(req: &Request) -> Vec<(String, String)> {
    req.url()
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
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
        let answer = crm.call(Method::Get, &path, None).await?;
        let list = match classify_response(answer.status, &answer.body) {
            ApiResponse::NoContent => break,
            ApiResponse::Json(200, body) => serde_json::from_value::<ListResponse>(body)
                .map_err(|_| Failure::upstream("Zoho's search answer is malformed."))?,
            other => return Err(crm_failure(ctx, "search", other)),
        };
        matches.extend(list.data);
        if !list.info.more_records {
            return Ok(matches);
        }
    }
    ctx.log.info(
        "sorted_matches_capped",
        json!({"user": crm.user.key, "matches": matches.len()}),
    );
    Ok(matches)
}
