//! The coordinator's day in headless Chromium, through the real popup sign-in, on the app
//! served by `trunk serve` in front of the Worker and the simulator: the list sorted and
//! filtered, its count, its export.

use std::time::Duration;

use serde_json::{Value, json};
use zcrm_tests::{BULK_LEADS, Browser, Stack};

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

/// An export read from the page as a download reads it: the status, the body, and when its
/// first and last bytes came (ms after the request) and in how many chunks.
struct Download {
    status: u16,
    body: String,
    first_ms: f64,
    total_ms: f64,
    chunks: u64,
}

async fn download_from_page(b: &Browser, path: &str) -> Download {
    let v = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             const start = performance.now(); \
             fetch(arguments[0]).then(async r => { \
               const reader = r.body.getReader(), decoder = new TextDecoder(); \
               let body = '', first = null, chunks = 0; \
               for (;;) { \
                 const {done: end, value} = await reader.read(); \
                 if (end) break; \
                 if (first === null) first = performance.now() - start; \
                 chunks += 1; body += decoder.decode(value, {stream: true}); \
               } \
               done([r.status, body + decoder.decode(), first, performance.now() - start, chunks]); \
             }).catch(e => done([0, String(e), 0, 0, 0]))",
            vec![json!(path)],
        )
        .await
        .unwrap();
    Download {
        status: v[0].as_u64().unwrap_or(0) as u16,
        body: v[1].as_str().unwrap_or_default().to_owned(),
        first_ms: v[2].as_f64().unwrap_or(0.0),
        total_ms: v[3].as_f64().unwrap_or(0.0),
        chunks: v[4].as_u64().unwrap_or(0),
    }
}

/// Where two CSVs part: the first line that differs, shown from both (not 2 MB of each).
fn first_difference(got: &str, expected: &str) -> String {
    let (g, e): (Vec<&str>, Vec<&str>) = (got.lines().collect(), expected.lines().collect());
    let at = g
        .iter()
        .zip(&e)
        .position(|(a, b)| a != b)
        .unwrap_or(g.len().min(e.len()));
    format!(
        "{} lines (of {} expected), {} bytes (of {}); line {}: {:?}, expected {:?}",
        g.len(),
        e.len(),
        got.len(),
        expected.len(),
        at + 1,
        g.get(at),
        e.get(at)
    )
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn export_csv_downloads_an_org_of_20000_as_the_simulator_has_it() {
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
    // 100 pages of 200 from Zoho (the first by `page`, 99 by `page_token`), one Zoho call each.
    let got = download_from_page(&b, &href).await;
    assert_eq!(got.status, 200, "{}", &got.body[..got.body.len().min(300)]);
    let csv = got.body;
    let (expected, rows) =
        expected_csv(&stack, BULK_ADMIN, "sort_by=Company&sort_order=desc").await;
    assert!(
        rows >= BULK_LEADS,
        "the simulator has {rows} leads of Bulk University, not {BULK_LEADS}: start it as \
         `cargo xtask dev` does (--seed-leads {BULK_LEADS})"
    );
    assert!(csv.starts_with("id,first_name,last_name,college,course,email,phone\r\n"));
    assert!(
        csv == expected,
        "the export differs from the simulator's records: {}",
        first_difference(&csv, &expected)
    );
    // Streamed: the first rows arrive while Zoho's later pages are still being read.
    eprintln!(
        "export of {rows}: first bytes after {:.0} ms, all after {:.0} ms, {} chunks",
        got.first_ms, got.total_ms, got.chunks
    );
    assert!(
        got.chunks > 1 && got.first_ms * 4.0 < got.total_ms,
        "not streamed: first bytes after {:.0} ms, all after {:.0} ms, {} chunks",
        got.first_ms,
        got.total_ms,
        got.chunks
    );
    // Spreadsheet-safe: the phones (`+…`) are neutralised.
    assert!(csv.contains(",'+"), "phones neutralised");
    // The default order, as the list: last modified first.
    let (_, default) = fetch_from_page(&b, "/api/students/export.csv").await;
    let (expected, _) =
        expected_csv(&stack, BULK_ADMIN, "sort_by=Modified_Time&sort_order=desc").await;
    assert!(
        default == expected,
        "the default export differs: {}",
        first_difference(&default, &expected)
    );
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

/// The import dialog's rows as the page shows them: (row, status, result text), in file order.
async fn import_rows(b: &Browser) -> Vec<(usize, String, String)> {
    let v = b
        .client
        .execute(
            "return [...document.querySelectorAll('[data-testid=import-row]')]\
               .map(r => [Number(r.dataset.row), r.dataset.status, r.cells[3].textContent])",
            vec![],
        )
        .await
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_u64().unwrap() as usize,
                r[1].as_str().unwrap().to_owned(),
                r[2].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// How many students the signed-in user's org has, as the Worker counts them.
async fn student_count(b: &Browser) -> u64 {
    let (status, body) = fetch_from_page(b, "/api/students/count").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["count"]
        .as_u64()
        .unwrap()
}

/// Chooses `file` in the import dialog (opening it) and waits for the preview's summary.
async fn choose_import_file(b: &Browser, file: &std::path::Path) -> String {
    click(b, "[data-testid=import-open]").await;
    let input = wait_for(b, "[data-testid=import-file]").await;
    input.send_keys(&file.display().to_string()).await.unwrap();
    wait_text(b, "[data-testid=import-summary]", "rows:").await
}

/// Starts the import shown and waits for its report's summary.
async fn run_import(b: &Browser) -> String {
    click(b, "[data-testid=import-start]").await;
    b.wait_for_text("[data-testid=import-summary]", WAIT * 2, |t| {
        t.starts_with("Import finished.")
    })
    .await
}

/// Row `i` of the 300-row import file (`run` makes its emails new): every 50 rows a course not
/// offered (3), an email that is not one (9) and a repeat of the row before's email (7); row 150
/// has `existing`, a student already in Zoho.
fn import_file(run: &str, existing: &str) -> String {
    let mut csv = String::from("name,college,course,email,phone\r\n");
    for i in 1..=300 {
        let email = match i {
            _ if i % 50 == 7 => format!("bulk{run}-{}@college.example", i - 1),
            _ if i % 50 == 9 => "not-an-email".to_owned(),
            150 => existing.to_owned(),
            _ => format!("BULK{run}-{i}@college.example"),
        };
        let course = if i % 50 == 3 {
            "Cooking"
        } else {
            "Data Science"
        };
        // A quoted college with a comma, and an exported phone's formula quote.
        csv.push_str(&format!(
            "Bulk Row{i},\"Zylker College, North\",{course},{email},'+91 98765 4{i:04}\r\n"
        ));
    }
    csv
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn an_import_of_300_rows_previews_and_reports_each_row_and_a_second_run_creates_nothing() {
    const US_ADMIN: &str = "admin@zylker-academy.example";
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    sign_in(&b, US_ADMIN, "Amelia Zylker").await;
    let first_row = wait_for(&b, "[data-testid=student-email]").await;
    let existing_email = first_row.text().await.unwrap();
    let run = unique();
    let dir = zcrm_tests::TempDir::new("import");
    let file = dir.0.join("enquiries.csv");
    std::fs::write(&file, import_file(&run, &existing_email)).unwrap();
    let before = student_count(&b).await;

    // The preview: every row checked before anything is sent.
    let summary = choose_import_file(&b, &file).await;
    assert_eq!(
        summary,
        "300 rows: 282 ready to import, 6 skipped as duplicates, 12 refused."
    );
    assert_eq!(student_count(&b).await, before, "nothing sent yet");
    let preview = import_rows(&b).await;
    assert_eq!(preview.len(), 300);
    for (row, status, text) in &preview {
        let expected = match row {
            _ if row % 50 == 3 || row % 50 == 9 => "invalid",
            _ if row % 50 == 7 => "duplicate",
            _ => "ready",
        };
        assert_eq!(status, expected, "row {row}: {text}");
    }
    assert!(preview[2].2.contains("Course"), "{:?}", preview[2]);
    assert!(preview[8].2.contains("Email"), "{:?}", preview[8]);
    assert_eq!(preview[6].2, "Skipped: row 6 has the same email");
    assert_eq!(
        wait_for(&b, "[data-testid=import-start]")
            .await
            .text()
            .await
            .unwrap(),
        "Import 282 students"
    );

    // Sent 100 rows a request: the report names what became of each row.
    let summary = run_import(&b).await;
    assert_eq!(
        summary,
        "Import finished. 300 rows: 281 created, 7 skipped as duplicates, 12 refused."
    );
    let bar = wait_for(&b, "[data-testid=import-progress] progress").await;
    assert_eq!(bar.attr("max").await.unwrap().as_deref(), Some("282"));
    assert_eq!(bar.attr("value").await.unwrap().as_deref(), Some("282"));
    let report = import_rows(&b).await;
    assert_eq!(report.len(), 300);
    for (row, status, text) in &report {
        let expected = match row {
            _ if row % 50 == 3 || row % 50 == 9 => "invalid",
            _ if row % 50 == 7 || *row == 150 => "duplicate",
            _ => "created",
        };
        assert_eq!(status, expected, "row {row}: {text}");
    }
    assert_eq!(
        report[149].2,
        "Skipped: a student with this email is already in Zoho"
    );
    assert_eq!(student_count(&b).await, before + 281);
    click(&b, "[data-testid=import-close]").await;
    // The list shows the new students (last modified first), their values as the file had them.
    wait_text(&b, "[data-testid=student-name]", "Bulk Row").await;
    let (_, page) =
        fetch_from_page(&b, &format!("/api/students?q=BULK{run}-1@college.example")).await;
    let page: Value = serde_json::from_str(&page).unwrap();
    let student = page["students"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["last_name"] == "Row1")
        .unwrap_or_else(|| panic!("row 1 in {page}"));
    assert_eq!(student["first_name"], "Bulk");
    assert_eq!(student["last_name"], "Row1");
    assert_eq!(student["college"], "Zylker College, North");
    assert_eq!(student["phone"], "+91 98765 40001");

    // The same file again creates nothing twice.
    let summary = choose_import_file(&b, &file).await;
    assert_eq!(
        summary,
        "300 rows: 282 ready to import, 6 skipped as duplicates, 12 refused."
    );
    let summary = run_import(&b).await;
    assert_eq!(
        summary,
        "Import finished. 300 rows: 288 skipped as duplicates, 12 refused."
    );
    assert_eq!(student_count(&b).await, before + 281);
    click(&b, "[data-testid=import-close]").await;

    // A file that is not students at all is named, and nothing can be sent.
    std::fs::write(&file, "first_name,shoe\nA,B\n").unwrap();
    click(&b, "[data-testid=import-open]").await;
    wait_for(&b, "[data-testid=import-file]")
        .await
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    let error = wait_text(&b, "[data-testid=import-error]", "shoe").await;
    assert!(error.starts_with("enquiries.csv: "), "{error}");
    assert_eq!(count(&b, "[data-testid=import-start]").await, 0);
    click(&b, "[data-testid=import-close]").await;

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

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn two_tabs_agree_on_signing_in_and_out_and_on_a_student_added_in_one() {
    const IN_ADMIN: &str = "admin@bharat-learning.example";
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    let first = b.client.window().await.unwrap();
    sign_in(&b, IN_ADMIN, "Arjun Mehta").await;
    wait_for(&b, "[data-testid=student-row]").await;
    // A second tab of the same browser: the same session.
    let second = b.client.new_window(true).await.unwrap().handle;
    b.client.switch_to_window(second.clone()).await.unwrap();
    b.client.goto(&format!("{}/", stack.app)).await.unwrap();
    wait_text(&b, "[data-testid=user-name]", "Arjun Mehta").await;
    wait_for(&b, "[data-testid=student-row]").await;

    // Added in the first tab, shown in the second's list without a reload.
    b.client.switch_to_window(first.clone()).await.unwrap();
    let email = format!("tabs{}@college.example", unique());
    click(&b, "[data-testid=add-student]").await;
    fill(&b, "first_name", "Tara").await;
    fill(&b, "last_name", "Tabs").await;
    fill(&b, "college", "Bharat College").await;
    let course = wait_for(&b, "[data-testid=field-course] option:not([value=''])").await;
    course.click().await.unwrap();
    fill(&b, "email", &email).await;
    click(&b, "[data-testid=save-student]").await;
    wait_text(&b, "[data-testid=notice]", "Added Tara Tabs").await;
    b.client.switch_to_window(second.clone()).await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    while !texts(&b, "[data-testid=student-email]")
        .await
        .contains(&email)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the second tab never showed {email}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Deleted in the second tab, gone from the first's.
    b.client
        .execute("window.confirm = () => true", vec![])
        .await
        .unwrap();
    let clicked = b
        .client
        .execute(
            "const row = [...document.querySelectorAll('[data-testid=student-row]')]\
               .find(r => r.querySelector('[data-testid=student-email]').textContent === arguments[0]); \
             if (row) row.querySelector('[data-testid=delete-student]').click(); return !!row",
            vec![json!(email)],
        )
        .await
        .unwrap();
    assert_eq!(clicked, json!(true));
    wait_text(&b, "[data-testid=notice]", "Deleted Tara Tabs").await;
    b.client.switch_to_window(first.clone()).await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    while texts(&b, "[data-testid=student-email]")
        .await
        .contains(&email)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the first tab still shows {email}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Signed out in the second tab: the first shows the sign-in screen at once.
    b.client.switch_to_window(second.clone()).await.unwrap();
    click(&b, "[data-testid=sign-out]").await;
    wait_for(&b, "[data-testid=sign-in-screen]").await;
    b.client.switch_to_window(first.clone()).await.unwrap();
    wait_for(&b, "[data-testid=sign-in-screen]").await;
    wait_text(&b, "[data-testid=notice]", "signed out in another tab").await;
    assert_eq!(count(&b, "[data-testid=user-name]").await, 0);
    // Signed in again in the first tab (its popup): the second tab is signed in too.
    sign_in(&b, IN_ADMIN, "Arjun Mehta").await;
    b.client.switch_to_window(second).await.unwrap();
    wait_text(&b, "[data-testid=user-name]", "Arjun Mehta").await;
    wait_for(&b, "[data-testid=student-row]").await;
    b.close().await;
}
