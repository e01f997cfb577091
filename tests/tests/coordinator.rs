//! The coordinator's day in headless Chromium, through the real popup sign-in, on the app
//! served by `trunk serve` in front of the Worker and the simulator: the list sorted and
//! filtered, its count, its export.

use std::time::Duration;

use serde_json::{Value, json};
use zcrm_tests::{Browser, Stack};

mod page;
use page::*;

const NORTHWIND_ADMIN: &str = "admin@northwind-college.example";
const BULK_ADMIN: &str = "admin@bulk-university.example";

/// Whether `v` is sorted ignoring case, ascending or descending.
fn sorted_ignoring_case(v: &[String], ascending: bool) -> bool {
    v.windows(2).all(|w| {
        let (a, b) = (w[0].to_lowercase(), w[1].to_lowercase());
        if ascending { a <= b } else { a >= b }
    })
}

/// The last names of the rows (the list sorts `name` by the last name).
async fn last_names(b: &Browser) -> Vec<String> {
    row_names(b)
        .await
        .iter()
        .map(|n| n.rsplit(' ').next().unwrap_or_default().to_owned())
        .collect()
}

/// Every page of the list as it is sorted now: the rows' `css` texts, page after page.
async fn all_pages(b: &Browser, css: &str) -> Vec<String> {
    let mut all = Vec::new();
    loop {
        all.extend(if css == "last-name" {
            last_names(b).await
        } else {
            texts(b, css).await
        });
        let next = wait_for(b, "[data-testid=next-page]").await;
        if !next.is_enabled().await.unwrap() {
            return all;
        }
        let page = wait_for(b, "[data-testid=page-number]")
            .await
            .text()
            .await
            .unwrap();
        next.click().await.unwrap();
        b.wait_for_text("[data-testid=page-number]", WAIT, |t| t != page)
            .await;
    }
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn the_list_sorts_by_two_columns_both_ways_and_filters_by_course_with_a_search() {
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    // Northwind's leads fit in two pages: the whole org, in order, both ways.
    sign_in(&b, NORTHWIND_ADMIN, "Nora Winters").await;
    wait_for(&b, "[data-testid=student-row]").await;
    assert_eq!(aria_sort(&b, "name").await, "none");
    sort_by(&b, "name", "ascending").await;
    assert_eq!(aria_sort(&b, "email").await, "none");
    let ascending = all_pages(&b, "last-name").await;
    // "N students" is Zoho's count of what the pages hold.
    wait_text(
        &b,
        "[data-testid=student-count]",
        &format!("{} students", ascending.len()),
    )
    .await;
    assert!(
        ascending.len() > 20,
        "more than a page: {}",
        ascending.len()
    );
    assert!(sorted_ignoring_case(&ascending, true), "{ascending:?}");
    assert_ne!(ascending.first(), ascending.last());
    sort_by(&b, "name", "descending").await;
    wait_text(&b, "[data-testid=page-number]", "Page 1").await;
    let descending = all_pages(&b, "last-name").await;
    assert!(sorted_ignoring_case(&descending, false), "{descending:?}");
    let mut reversed = ascending.clone();
    reversed.reverse();
    let key = |v: &[String]| {
        let mut v: Vec<String> = v.iter().map(|s| s.to_lowercase()).collect();
        v.sort();
        v
    };
    assert_eq!(key(&descending), key(&ascending), "the same students");
    assert_eq!(
        descending.first().map(|s| s.to_lowercase()),
        reversed.first().map(|s| s.to_lowercase())
    );
    sort_by(&b, "email", "ascending").await;
    assert_eq!(aria_sort(&b, "name").await, "none");
    let emails = all_pages(&b, "[data-testid=student-email]").await;
    assert!(sorted_ignoring_case(&emails, true), "{emails:?}");
    assert_eq!(emails.len(), ascending.len());
    sort_by(&b, "email", "descending").await;
    let emails_desc = texts(&b, "[data-testid=student-email]").await;
    assert!(sorted_ignoring_case(&emails_desc, false), "{emails_desc:?}");
    assert_eq!(emails_desc[0], emails[emails.len() - 1]);
    b.close().await;

    // Bulk University (2,500 leads): a course, then a search within it, sorted by email.
    let b = open_app(&stack).await;
    sign_in(&b, BULK_ADMIN, "Bea Bulk").await;
    wait_for(&b, "[data-testid=student-row]").await;
    let whole = wait_text(&b, "[data-testid=student-count]", " students").await;
    let course = "Data Science";
    wait_for(
        &b,
        "[data-testid=course-filter] option[value='Data Science']",
    )
    .await;
    wait_for(&b, "[data-testid=course-filter]")
        .await
        .select_by_value(course)
        .await
        .unwrap();
    b.wait_for_text("[data-testid=student-course]", WAIT, |_| true)
        .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let courses = texts(&b, "[data-testid=student-course]").await;
        if !courses.is_empty() && courses.iter().all(|c| c == course) {
            assert_eq!(courses.len(), 20, "a full page of the course");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{courses:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let of_course = b
        .wait_for_text("[data-testid=student-count]", WAIT, |t| t != whole)
        .await;
    let number = |t: &str| -> u64 { t.split(' ').next().unwrap().parse().unwrap() };
    assert!(
        number(&of_course) > 20 && number(&of_course) < number(&whole),
        "{of_course} of {whole}"
    );
    let surname = last_names(&b).await[0].clone();
    search(&b, &surname).await;
    sort_by(&b, "email", "ascending").await;
    let emails_up = texts(&b, "[data-testid=student-email]").await;
    assert!(sorted_ignoring_case(&emails_up, true), "{emails_up:?}");
    sort_by(&b, "email", "descending").await;
    let names = row_names(&b).await;
    assert!(!names.is_empty());
    for (name, course_shown) in names
        .iter()
        .zip(texts(&b, "[data-testid=student-course]").await)
    {
        assert_eq!(course_shown, course, "{name}");
        assert!(
            name.to_lowercase().contains(&surname.to_lowercase()),
            "{name} matches {surname}"
        );
    }
    let emails = texts(&b, "[data-testid=student-email]").await;
    assert!(sorted_ignoring_case(&emails, false), "{emails:?}");
    let matching = all_pages(&b, "[data-testid=student-email]").await.len();
    wait_text(
        &b,
        "[data-testid=student-count]",
        &format!("{matching} student"),
    )
    .await;
    // Back to the first page for the reload.
    while count(&b, "[data-testid=prev-page]:enabled").await > 0 {
        click(&b, "[data-testid=prev-page]").await;
        row_names(&b).await;
    }
    // Kept in the URL: a reload shows the same list, the same way.
    let url = b.client.current_url().await.unwrap();
    let query = url.query().unwrap_or_default().to_owned();
    for part in ["course=Data%20Science", "sort=email", "order=desc", "q="] {
        assert!(query.contains(part), "{query} has {part}");
    }
    b.client.refresh().await.unwrap();
    wait_for(&b, "[data-testid=student-row]").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while aria_sort(&b, "email").await != "descending" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sort after reload"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(texts(&b, "[data-testid=student-email]").await, emails);
    let search_box = wait_for(&b, "[data-testid=search]").await;
    assert_eq!(
        search_box.prop("value").await.unwrap().as_deref(),
        Some(surname.as_str())
    );
    let chosen = b
        .client
        .execute(
            "return document.querySelector('[data-testid=course-filter]').value",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(chosen, json!(course));
    // What the Worker refuses, it names.
    for (query, named, field) in [
        ("sort=shoe", "sort `shoe`", None),
        ("sort=name&order=up", "order `up`", None),
        ("course=Cooking", "course `Cooking`", Some("course")),
        ("sort_by=Email", "sort_by", None),
    ] {
        let (status, body) = fetch_from_page(&b, &format!("/api/students?{query}")).await;
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(error["error"]["code"], "invalid_request", "{query}");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{query}: {message}");
        assert_eq!(error["error"]["field"].as_str(), field, "{query}");
    }
    b.close().await;
}

/// A token of `email` straight from the simulator (a Self Client grant), and its API domain.
async fn sim_token(stack: &Stack, email: &str) -> (String, String) {
    let http = zcrm_tests::http();
    let grant: Value = http
        .post(format!("{}/__sim/grant", stack.sim))
        .json(&json!({"email": email, "scope": "ZohoCRM.modules.ALL"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token: Value = http
        .post(format!(
            "{}/oauth/v2/token",
            grant["accounts_server"].as_str().unwrap()
        ))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "1000.ZCRMEDGEDEV"),
            ("client_secret", "zcrm-edge-dev-secret"),
            ("code", grant["code"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        token["access_token"].as_str().unwrap().to_owned(),
        token["api_domain"].as_str().unwrap().to_owned(),
    )
}

/// Every Lead of the user's org as the simulator has it, in `sort_by`'s order, read by
/// `page_token` past record 2,000: the export's CSV as it should be.
async fn expected_csv(stack: &Stack, email: &str, sort: &str) -> (String, usize) {
    let (token, api) = sim_token(stack, email).await;
    let http = zcrm_tests::http();
    let fields = "First_Name,Last_Name,Company,Course,Email,Phone";
    let mut csv = zcrm_api::csv::export_header();
    let mut rows = 0;
    let mut next: Option<String> = None;
    loop {
        let url = match &next {
            None => format!("{api}/crm/v8/Leads?fields={fields}&per_page=200&{sort}"),
            Some(t) => format!("{api}/crm/v8/Leads?fields={fields}&per_page=200&page_token={t}"),
        };
        let page: Value = http
            .get(url)
            .header("authorization", format!("Zoho-oauthtoken {token}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for record in page["data"].as_array().unwrap() {
            let text = |k: &str| record[k].as_str().unwrap_or_default().to_owned();
            let student = zcrm_api::students::Student {
                id: text("id"),
                fields: zcrm_api::students::StudentInput {
                    first_name: text("First_Name"),
                    last_name: text("Last_Name"),
                    college: text("Company"),
                    course: text("Course"),
                    email: text("Email"),
                    phone: text("Phone"),
                },
            };
            csv.push_str(&zcrm_api::csv::export_row(&student));
            rows += 1;
        }
        if page["info"]["more_records"] != json!(true) {
            return (csv, rows);
        }
        next = Some(page["info"]["next_page_token"].as_str().unwrap().to_owned());
    }
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn export_csv_downloads_the_whole_list_past_record_2000_as_the_simulator_has_it() {
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    sign_in(&b, BULK_ADMIN, "Bea Bulk").await;
    wait_for(&b, "[data-testid=student-row]").await;
    // The control names the list shown: sorted by college, descending.
    sort_by(&b, "college", "ascending").await;
    sort_by(&b, "college", "descending").await;
    let link = wait_for(&b, "[data-testid=export-csv]").await;
    let href = link.attr("href").await.unwrap().unwrap();
    assert_eq!(href, "/api/students/export.csv?sort=college&order=desc");
    assert_eq!(
        link.attr("download").await.unwrap().as_deref(),
        Some("students.csv")
    );
    let (status, csv) = fetch_from_page(&b, &href).await;
    assert_eq!(status, 200);
    let (expected, rows) =
        expected_csv(&stack, BULK_ADMIN, "sort_by=Company&sort_order=desc").await;
    assert!(rows > 2000, "past record 2,000: {rows}");
    assert!(csv.starts_with("id,first_name,last_name,college,course,email,phone\r\n"));
    assert_eq!(csv.lines().count(), rows + 1);
    assert!(
        csv == expected,
        "the export differs from the simulator's records"
    );
    // Spreadsheet-safe: the phones (`+…`) are neutralised.
    assert!(csv.contains(",'+"), "phones neutralised");
    // The default order, as the list: last modified first.
    let (_, default) = fetch_from_page(&b, "/api/students/export.csv").await;
    let (expected, _) =
        expected_csv(&stack, BULK_ADMIN, "sort_by=Modified_Time&sort_order=desc").await;
    assert!(default == expected, "the default export differs");
    // A course with a search, sorted by email: what the list shows, every page of it.
    let (status, filtered) = fetch_from_page(
        &b,
        "/api/students/export.csv?course=Data%20Science&q=a&sort=email",
    )
    .await;
    assert_eq!(status, 200);
    let emails: Vec<&str> = filtered
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(5).unwrap())
        .collect();
    assert!(!emails.is_empty());
    assert!(
        filtered
            .lines()
            .skip(1)
            .all(|l| l.split(',').nth(4) == Some("Data Science"))
    );
    let mut sorted = emails.clone();
    sorted.sort_by_key(|e| e.to_lowercase());
    assert_eq!(emails, sorted);
    for (query, named) in [
        ("page=2", "page"),
        ("sort=shoe", "shoe"),
        ("course=Cooking", "Cooking"),
    ] {
        let (status, body) =
            fetch_from_page(&b, &format!("/api/students/export.csv?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body.contains(named), "{query}: {body}");
    }
    b.close().await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_bulk_import_of_300_rows_reports_each_row_and_a_second_run_creates_nothing() {
    const US_ADMIN: &str = "admin@zylker-academy.example";
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    sign_in(&b, US_ADMIN, "Amelia Zylker").await;
    let first_row = wait_for(&b, "[data-testid=student-email]").await;
    let existing_email = first_row.text().await.unwrap();
    let run = unique();
    // 300 rows: bad courses, bad emails, repeats of an earlier row, one already in Zoho.
    let rows: Vec<Value> = (1..=300)
        .map(|i| {
            let email = match i {
                _ if i % 50 == 7 => format!("bulk{run}-{}@college.example", i - 1),
                _ if i % 50 == 9 => "not-an-email".to_owned(),
                150 => existing_email.clone(),
                _ => format!("bulk{run}-{i}@college.example"),
            };
            let course = if i % 50 == 3 { "Cooking" } else { "Data Science" };
            json!({"first_name": "Bulk", "last_name": format!("Row{i}"), "college": "Zylker College",
                   "course": course, "email": email, "phone": ""})
        })
        .collect();
    let import = |rows: Vec<Value>| {
        let b = &b;
        async move {
            let mut results = Vec::new();
            for (batch_index, batch) in rows.chunks(100).enumerate() {
                let (status, body) =
                    post_from_page(b, "/api/students/bulk", &json!({"students": batch})).await;
                assert_eq!(status, 200, "{body}");
                let answer: Value = serde_json::from_str(&body).unwrap();
                for r in answer["results"].as_array().unwrap() {
                    let mut r = r.clone();
                    r["file_row"] = json!(batch_index * 100 + r["row"].as_u64().unwrap() as usize);
                    results.push(r);
                }
            }
            results
        }
    };
    let results = import(rows.clone()).await;
    assert_eq!(results.len(), 300, "one result per row");
    let status_of = |row: usize| -> String {
        results
            .iter()
            .find(|r| r["file_row"] == json!(row))
            .map(|r| r["status"].as_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    for i in 1..=300usize {
        let expected = match i {
            _ if i % 50 == 3 || i % 50 == 9 => "invalid",
            _ if i % 50 == 7 || i == 150 => "duplicate",
            _ => "created",
        };
        assert_eq!(status_of(i), expected, "row {i}");
    }
    let bad_course = results.iter().find(|r| r["file_row"] == json!(3)).unwrap();
    assert!(
        bad_course["fields"]["course"].as_str().is_some(),
        "{bad_course}"
    );
    let bad_email = results.iter().find(|r| r["file_row"] == json!(9)).unwrap();
    assert!(
        bad_email["fields"]["email"].as_str().is_some(),
        "{bad_email}"
    );
    let repeat = results.iter().find(|r| r["file_row"] == json!(7)).unwrap();
    assert_eq!(repeat["field"], "email");
    let created: Vec<&Value> = results
        .iter()
        .filter(|r| r["status"] == "created")
        .collect();
    assert_eq!(created.len(), 300 - 6 * 3 - 1);
    assert!(
        created
            .iter()
            .all(|r| r["student"]["id"].as_str().is_some_and(|id| !id.is_empty()))
    );
    // The second run of the same file creates nothing twice.
    let again = import(rows).await;
    assert_eq!(again.iter().filter(|r| r["status"] == "created").count(), 0);
    assert_eq!(
        again.iter().filter(|r| r["status"] == "duplicate").count(),
        created.len() + 6 + 1
    );
    // Refusals of the whole request are named.
    let too_many: Vec<Value> = (0..101).map(|_| json!({})).collect();
    for body in [
        json!({"students": []}),
        json!({"students": too_many}),
        json!({"rows": []}),
    ] {
        let (status, text) = post_from_page(&b, "/api/students/bulk", &body).await;
        assert_eq!(status, 400, "{text}");
    }
    b.close().await;
}
