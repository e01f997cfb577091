//! End-to-end tests: headless Chromium on the app served by `trunk serve`, whose `/api` and
//! `/auth` go to the Worker in workerd, which talks to the simulator.
//!
//! Sign-in goes through the real popup: the app opens `/auth/start`, the Worker redirects it to
//! the simulator's authorize page, the test picks a user there and presses Accept or Reject, the
//! simulator redirects to `/redirect.html`, which hands over to the main window and closes.

use std::time::Duration;

use serde_json::{Value, json};
use zcrm_tests::{Browser, Stack};

mod page;
use page::*;

const US_ADMIN: &str = "admin@zylker-academy.example";
const EU_ADMIN: &str = "admin@eurotech-institute.example";
const IN_ADMIN: &str = "admin@bharat-learning.example";
const NORTHWIND_ADMIN: &str = "admin@northwind-college.example";
const BULK_ADMIN: &str = "admin@bulk-university.example";
const US_COORDINATOR: &str = "coordinator@zylker-academy.example";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

async fn local_storage_keys(b: &Browser) -> Vec<String> {
    let v = b
        .client
        .execute("return Object.keys(localStorage)", vec![])
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

async fn sim_post(stack: &Stack, path: &str, body: Value) -> Value {
    let response = zcrm_tests::http()
        .post(format!("{}/__sim/{path}", stack.sim))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "sim {path}: {response:?}");
    response.json().await.unwrap()
}

// ---------------------------------------------------------------------------------------------
// The page and the redirect page
// ---------------------------------------------------------------------------------------------

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn the_page_loads_and_shows_the_workers_health() {
    let stack = Stack::from_env();
    let browser = open_app(&stack).await;
    assert_eq!(
        browser.client.title().await.unwrap(),
        "Zylker Academy · Students"
    );
    let status = browser
        .wait_for_text("[data-testid=api-status]", WAIT, |t| {
            !t.starts_with("Checking")
        })
        .await;
    assert!(
        status.starts_with("Portal service: ok (zcrm-edge "),
        "the page shows the Worker's answer, got {status:?}"
    );
    browser.close().await;
}

/// The redirect page's script writes exactly the keys of `zcrm_api::redirect_keys`.
#[test]
fn the_redirect_page_writes_exactly_the_contract_keys() {
    use zcrm_api::redirect_keys as keys;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let js = std::fs::read_to_string(root.join("app/static/redirect.js")).unwrap();
    let html = std::fs::read_to_string(root.join("app/static/redirect.html")).unwrap();
    let mut found: Vec<&str> = js
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with("zcrm."))
        .collect();
    found.sort_unstable();
    let mut expected = vec![
        keys::CODE,
        keys::STATE,
        keys::LOCATION,
        keys::ACCOUNTS_SERVER,
        keys::ERROR,
        keys::ATTEMPT,
        keys::SIGN_IN_ATTEMPT,
    ];
    expected.sort_unstable();
    assert_eq!(found, expected);
    // No inline script (the app's CSP has no 'unsafe-inline': `dist/_headers`) and the path of the contract.
    assert_eq!(zcrm_api::REDIRECT_PAGE_PATH, "/redirect.html");
    assert!(html.contains(r#"<script src="/redirect.js""#));
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the external script"
    );
    assert!(!html.contains("style="), "no inline styles either");
    let index = std::fs::read_to_string(root.join("index.html")).unwrap();
    for file in ["app/static/redirect.html", "app/static/redirect.js"] {
        assert!(
            index.contains(&format!(r#"rel="copy-file" href="{file}""#)),
            "Trunk copies {file}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Sign-in: every way it can end
// ---------------------------------------------------------------------------------------------

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_blocked_popup_is_explained_and_the_full_page_sign_in_is_offered() {
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    wait_for(&b, "[data-testid=sign-in]").await;
    // What a popup blocker does: window.open answers null.
    b.client
        .execute("window.open = () => null", vec![])
        .await
        .unwrap();
    click(&b, "[data-testid=sign-in]").await;
    let text = wait_text(&b, "[data-testid=popup-blocked]", "blocked").await;
    assert!(text.contains("Sign in in this window"), "{text}");
    assert_eq!(b.client.windows().await.unwrap().len(), 1);
    // The way out has the focus.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(focused(&b).await, "full-page-sign-in");
    b.close().await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn the_chunks_arrive_after_the_list_and_one_that_does_not_is_said_in_words() {
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    wait_for(&b, "[data-testid=sign-in]").await;
    // The first screen loads no chunk.
    assert_eq!(chunk_fetches(&b).await, Vec::<String>::new());
    // What a network that drops the form's and the import's chunks does: their fetches fail
    // (the loader fetches them with the page's `fetch`, after sign-in).
    drop_fetches(&b, &["/split_student_form", "/split_import_dialog"]).await;
    sign_in(&b, US_ADMIN, "Amelia Zylker").await;
    wait_for(&b, "[data-testid=student-row]").await;
    // The students screen came in a chunk of its own.
    let fetched = chunk_fetches(&b).await;
    assert!(
        fetched
            .iter()
            .any(|f| f.ends_with("split_students_screen.wasm")),
        "{fetched:?}"
    );
    // The import's place keeps its button, disabled, saying why.
    let button = wait_for(&b, "#import-open[disabled][title*='could not be loaded']").await;
    assert_eq!(button.text().await.unwrap(), "Import CSV");
    assert_eq!(count(&b, "[data-testid=import-open]").await, 0);
    // Asking for the form says it did not come, instead of doing nothing.
    click(&b, "[data-testid=add-student]").await;
    wait_text(
        &b,
        "[data-testid=notice]",
        "student form could not be loaded",
    )
    .await;
    assert_eq!(count(&b, "[data-testid=student-form] h2").await, 0);
    // The rest of the portal works: paging, searching.
    search(&b, "Liam").await;
    let names = row_names(&b).await;
    assert!(
        !names.is_empty() && names.iter().all(|n| n.contains("Liam")),
        "{names:?}"
    );

    // With the network back, the page loaded again has both, fetched after the list was drawn.
    b.client.refresh().await.unwrap();
    wait_for(&b, "[data-testid=student-row]").await;
    wait_for(&b, "[data-testid=import-open]").await;
    let fetched = chunk_fetches(&b).await;
    for chunk in ["split_import_dialog.wasm", "split_student_form.wasm"] {
        assert!(
            fetched.iter().any(|f| f.ends_with(chunk)),
            "{chunk} in {fetched:?}"
        );
    }
    click(&b, "[data-testid=add-student]").await;
    wait_for(&b, "[data-testid=student-form] h2").await;
    b.close().await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_students_screen_that_does_not_arrive_is_said_and_tried_again() {
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    wait_for(&b, "[data-testid=sign-in]").await;
    drop_fetches(&b, &["/split_students_screen"]).await;
    sign_in(&b, US_ADMIN, "Amelia Zylker").await;
    // Signed in (the header says who), and the screen says its part did not come.
    wait_text(&b, "[data-testid=user-name]", "Amelia Zylker").await;
    wait_text(
        &b,
        "[data-testid=students-not-loaded]",
        "students could not be loaded",
    )
    .await;
    assert_eq!(count(&b, "[data-testid=students-loading]").await, 0);
    // The network is back: trying again brings the list.
    b.client
        .execute("window.fetch = window.__fetch;", vec![])
        .await
        .unwrap();
    click(&b, "[data-testid=students-not-loaded] button").await;
    wait_for(&b, "[data-testid=student-row]").await;
    assert_eq!(count(&b, "[data-testid=students-not-loaded]").await, 0);
    assert_eq!(count(&b, "[data-testid=students-loading]").await, 0);
    b.close().await;
}

/// Makes the page's `fetch` of any URL containing one of `parts` fail as a dropped network
/// does (the chunks' loader fetches with the page's `fetch`); `window.__fetch` keeps the real one.
async fn drop_fetches(b: &Browser, parts: &[&str]) {
    b.client
        .execute(
            "const parts = arguments[0]; window.__fetch = window.__fetch || window.fetch; \
             window.fetch = (u, o) => parts.some(p => String(u).includes(p)) \
               ? Promise.reject(new TypeError('Failed to fetch')) : window.__fetch(u, o);",
            vec![json!(parts)],
        )
        .await
        .unwrap();
}

/// The chunk files (`split_*.wasm`) the page has fetched so far.
async fn chunk_fetches(b: &Browser) -> Vec<String> {
    let v = b
        .client
        .execute(
            "return performance.getEntriesByType('resource').map(r => r.name) \
               .filter(n => n.includes('/split_'))",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn closing_the_popup_before_finishing_says_so() {
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    wait_for(&b, "[data-testid=sign-in]").await;
    let (main, popup) = open_popup(&b).await;
    wait_text(&b, "[data-testid=sign-in-waiting]", "Zoho window").await;
    b.client.switch_to_window(popup).await.unwrap();
    b.client.close_window().await.unwrap();
    b.client.switch_to_window(main).await.unwrap();
    wait_text(&b, "[data-testid=notice]", "closed before sign-in finished").await;
    assert_eq!(count(&b, "[data-testid=user]").await, 0, "not signed in");
    assert!(
        wait_for(&b, "[data-testid=sign-in]")
            .await
            .is_enabled()
            .await
            .unwrap()
    );
    b.close().await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_denial_handed_over_by_the_full_page_redirect_is_explained() {
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    wait_for(&b, "[data-testid=sign-in]").await;
    // A full-page sign-in (no popup) that the person rejects at Zoho: the redirect page writes
    // the keys and goes back to the app, which finishes (here: explains) the sign-in on load.
    b.client
        .execute("window.open = () => null", vec![])
        .await
        .unwrap();
    click(&b, "[data-testid=sign-in]").await;
    click(&b, "[data-testid=full-page-sign-in]").await;
    wait_for(&b, "#sim_user").await;
    click(&b, "#deny").await;
    wait_text(&b, "[data-testid=notice]", "You declined access in Zoho").await;
    assert_eq!(b.client.current_url().await.unwrap().path(), "/");
    assert!(
        local_storage_keys(&b).await.is_empty(),
        "the app removes what the redirect page left"
    );
    wait_for(&b, "[data-testid=sign-in]").await;
    b.close().await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_network_error_while_finishing_sign_in_is_explained() {
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    wait_for(&b, "[data-testid=sign-in]").await;
    let (main, popup) = open_popup(&b).await;
    // The connection drops: every fetch of the main window fails from now on.
    b.client
        .execute(
            "window.fetch = () => Promise.reject(new TypeError('Failed to fetch'))",
            vec![],
        )
        .await
        .unwrap();
    // Zoho redirects the popup back to the redirect page, which hands over and closes.
    b.client.switch_to_window(popup).await.unwrap();
    b.client
        .goto(&format!(
            "{}/redirect.html?state=s&code=1000.c&location=us&accounts-server=x",
            stack.app
        ))
        .await
        .unwrap();
    b.client.switch_to_window(main).await.unwrap();
    wait_text(&b, "[data-testid=notice]", "could not be reached").await;
    assert!(local_storage_keys(&b).await.is_empty());
    assert_eq!(
        b.client.windows().await.unwrap().len(),
        1,
        "the popup closed"
    );
    wait_for(&b, "[data-testid=sign-in]").await;
    b.close().await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn users_of_two_data_centres_sign_in_at_once_and_stay_signed_in_on_reload() {
    let stack = Stack::from_env();
    let (us, eu) = tokio::join!(open_app(&stack), open_app(&stack));
    tokio::join!(
        sign_in(&us, US_ADMIN, "Amelia Zylker"),
        sign_in(&eu, EU_ADMIN, "Elena Fischer")
    );
    for (b, org, dc) in [
        (&us, "Zylker Academy", "US · production"),
        (&eu, "EuroTech Institute", "EU · production"),
    ] {
        wait_text(b, "[data-testid=user-org]", org).await;
        wait_text(b, "[data-testid=user-dc]", dc).await;
        assert_eq!(
            b.client.windows().await.unwrap().len(),
            1,
            "the popup closed"
        );
        assert!(local_storage_keys(b).await.is_empty());
        // A reload restores the session from the cookie, without a popup.
        b.client.refresh().await.unwrap();
        wait_text(b, "[data-testid=user-org]", org).await;
        assert_eq!(b.client.windows().await.unwrap().len(), 1);
    }
    wait_text(&us, "[data-testid=user-name]", "Amelia Zylker").await;
    wait_text(&eu, "[data-testid=user-name]", "Elena Fischer").await;

    // Signing out ends this session only.
    click(&us, "[data-testid=sign-out]").await;
    wait_text(&us, "[data-testid=notice]", "You are signed out.").await;
    wait_for(&us, "[data-testid=sign-in]").await;
    us.client.refresh().await.unwrap();
    wait_for(&us, "[data-testid=sign-in]").await;
    eu.client.refresh().await.unwrap();
    wait_text(&eu, "[data-testid=user-name]", "Elena Fischer").await;
    tokio::join!(us.close(), eu.close());
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn rejecting_access_in_zoho_is_explained() {
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    wait_for(&b, "[data-testid=sign-in]").await;
    let (main, popup) = open_popup(&b).await;
    answer_in_popup(&b, main, popup, US_ADMIN, false).await;
    wait_text(&b, "[data-testid=notice]", "You declined access in Zoho").await;
    assert!(local_storage_keys(&b).await.is_empty());
    assert_eq!(count(&b, "[data-testid=user]").await, 0, "not signed in");
    b.close().await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn an_expired_code_is_explained() {
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    wait_for(&b, "[data-testid=sign-in]").await;
    let (main, popup) = open_popup(&b).await;
    // The popup is on the authorize page: its URL carries this login's state.
    b.client.switch_to_window(popup.clone()).await.unwrap();
    wait_for(&b, "#sim_user").await;
    let authorize = b.client.current_url().await.unwrap();
    let state = authorize
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("the authorize URL has a state");
    // A real code of this user that expires before the portal exchanges it.
    let grant = sim_post(
        &stack,
        "grant",
        json!({"email": IN_ADMIN, "scope": "ZohoCRM.modules.ALL,ZohoCRM.settings.fields.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ", "code_lifetime_secs": 1}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut redirect = reqwest::Url::parse(&format!("{}/redirect.html", stack.app)).unwrap();
    redirect
        .query_pairs_mut()
        .append_pair("state", &state)
        .append_pair("code", grant["code"].as_str().unwrap())
        .append_pair("location", grant["location"].as_str().unwrap())
        .append_pair(
            "accounts-server",
            grant["accounts_server"].as_str().unwrap(),
        );
    b.client.goto(redirect.as_str()).await.unwrap();
    b.client.switch_to_window(main).await.unwrap();
    wait_text(&b, "[data-testid=notice]", "expired or was already used").await;
    assert_eq!(count(&b, "[data-testid=user]").await, 0, "not signed in");
    b.close().await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn the_full_page_sign_in_works_without_a_popup() {
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    wait_for(&b, "[data-testid=sign-in]").await;
    b.client
        .execute("window.open = () => null", vec![])
        .await
        .unwrap();
    click(&b, "[data-testid=sign-in]").await;
    click(&b, "[data-testid=full-page-sign-in]").await;
    // The whole page is on Zoho's authorize page now.
    wait_for(&b, "#sim_user")
        .await
        .select_by_value(NORTHWIND_ADMIN)
        .await
        .unwrap();
    click(&b, "#approve").await;
    wait_text(&b, "[data-testid=user-name]", "Nora Winters").await;
    wait_text(&b, "[data-testid=user-org]", "Northwind College").await;
    let url = b.client.current_url().await.unwrap();
    assert_eq!(url.path(), "/");
    assert_eq!(url.query(), None, "no code left in the address bar");
    assert!(local_storage_keys(&b).await.is_empty());
    b.close().await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn signing_out_everywhere_ends_the_users_other_sessions() {
    let stack = Stack::from_env();
    let (first, second) = tokio::join!(open_app(&stack), open_app(&stack));
    sign_in(&first, IN_ADMIN, "Arjun Mehta").await;
    sign_in(&second, IN_ADMIN, "Arjun Mehta").await;
    click(&first, "[data-testid=sign-out-everywhere]").await;
    wait_text(&first, "[data-testid=notice]", "signed out on every device").await;
    // The other browser's session is over too: a reload shows sign-in.
    second.client.refresh().await.unwrap();
    wait_for(&second, "[data-testid=sign-in]").await;
    tokio::join!(first.close(), second.close());
}

// ---------------------------------------------------------------------------------------------
// Students
// ---------------------------------------------------------------------------------------------

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn students_are_listed_paged_and_searched_also_at_phone_width() {
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    sign_in(&b, BULK_ADMIN, "Bea Bulk").await;
    wait_for(&b, "[data-testid=student-row]").await;
    let first = row_names(&b).await;
    assert_eq!(first.len(), 20, "a page of 20");
    wait_text(&b, "[data-testid=page-number]", "Page 1").await;
    let prev = wait_for(&b, "[data-testid=prev-page]").await;
    assert!(!prev.is_enabled().await.unwrap());

    click(&b, "[data-testid=next-page]").await;
    wait_text(&b, "[data-testid=page-number]", "Page 2").await;
    let second = row_names(&b).await;
    assert_eq!(second.len(), 20);
    assert_ne!(first, second, "page 2 shows other students");
    click(&b, "[data-testid=prev-page]").await;
    wait_text(&b, "[data-testid=page-number]", "Page 1").await;
    assert_eq!(row_names(&b).await, first);

    // Search by an email shown on the page: that student alone.
    let email = wait_for(&b, "[data-testid=student-email]")
        .await
        .text()
        .await
        .unwrap();
    search(&b, &email).await;
    let found = row_names(&b).await;
    assert_eq!(found, [first[0].clone()], "searching {email}");
    assert!(
        !wait_for(&b, "[data-testid=next-page]")
            .await
            .is_enabled()
            .await
            .unwrap()
    );
    search(&b, "no-such-student-anywhere").await;
    wait_text(&b, "[data-testid=students-empty]", "No students match").await;

    // Phone width: the rows become cards, nothing scrolls sideways.
    search(&b, "").await;
    b.client.set_window_size(375, 800).await.unwrap();
    assert_eq!(row_names(&b).await.len(), 20);
    let overflow = b
        .client
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "horizontal overflow {overflow}"
    );
    assert!(
        wait_for(&b, "[data-testid=sign-out]")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    b.close().await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_student_is_added_edited_and_deleted_with_errors_from_both_sides() {
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    sign_in(&b, EU_ADMIN, "Elena Fischer").await;
    wait_for(&b, "[data-testid=student-row]").await;
    let tag = unique();
    let last = format!("Tester{tag}");
    let email = format!("e2e.{tag}@college.example.edu");

    // The form opens with the focus on its first field; Cancel gives the focus back.
    click(&b, "[data-testid=add-student]").await;
    wait_for(&b, "[data-testid=student-form] h2").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(focused(&b).await, "f-first_name");
    click(&b, "[data-testid=cancel-student]").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(focused(&b).await, "add-student");

    // The app's own checks, as you type and on submit.
    click(&b, "[data-testid=add-student]").await;
    fill(&b, "email", "not-an-email").await;
    wait_text(&b, "[data-testid=error-email]", "Enter an email address").await;
    click(&b, "[data-testid=save-student]").await;
    wait_text(&b, "[data-testid=error-last_name]", "Last name is required").await;
    wait_text(&b, "[data-testid=error-course]", "Course is required").await;
    assert_eq!(focused(&b).await, "f-last_name");

    fill(&b, "first_name", "Ada").await;
    fill(&b, "last_name", &last).await;
    fill(&b, "college", "Zylker College").await;
    wait_for(&b, "[data-testid=field-course]")
        .await
        .select_by_value("Data Science")
        .await
        .unwrap();
    fill(&b, "email", &email).await;
    fill(&b, "phone", "+49 30 1234567").await;
    assert_eq!(
        wait_for(&b, "[data-testid=error-email]")
            .await
            .text()
            .await
            .unwrap(),
        ""
    );
    click(&b, "[data-testid=save-student]").await;
    wait_text(&b, "[data-testid=notice]", &format!("Added Ada {last}.")).await;
    search(&b, &last).await;
    assert_eq!(row_names(&b).await, [format!("Ada {last}")]);

    // The edge's check: another student with the same email is refused, on the email field.
    click(&b, "[data-testid=add-student]").await;
    fill(&b, "last_name", &format!("{last}b")).await;
    fill(&b, "college", "Zylker College").await;
    wait_for(&b, "[data-testid=field-course]")
        .await
        .select_by_value("Data Science")
        .await
        .unwrap();
    fill(&b, "email", &email.to_uppercase()).await;
    click(&b, "[data-testid=save-student]").await;
    let error = b
        .wait_for_text("[data-testid=error-email]", WAIT, |t| !t.is_empty())
        .await;
    assert!(!error.is_empty());
    wait_text(&b, "[data-testid=form-error]", "Not saved").await;
    assert_eq!(focused(&b).await, "f-email");
    click(&b, "[data-testid=cancel-student]").await;

    // Edit.
    click(&b, "[data-testid=edit-student]").await;
    wait_text(
        &b,
        "[data-testid=student-form] h2",
        &format!("Edit Ada {last}"),
    )
    .await;
    fill(&b, "college", "Northwind College").await;
    click(&b, "[data-testid=save-student]").await;
    wait_text(&b, "[data-testid=notice]", "Saved the changes").await;
    wait_text(&b, "[data-testid=students-table]", "Northwind College").await;

    // Delete asks first (the browser's own confirmation); Cancel keeps the student.
    click(&b, "[data-testid=delete-student]").await;
    let question = b.client.get_alert_text().await.unwrap();
    assert!(
        question.contains(&format!("Delete Ada {last}?")),
        "{question}"
    );
    b.client.dismiss_alert().await.unwrap();
    assert_eq!(row_names(&b).await.len(), 1);
    assert_eq!(focused(&b).await, "delete-student");
    click(&b, "[data-testid=delete-student]").await;
    b.client.accept_alert().await.unwrap();
    wait_text(&b, "[data-testid=notice]", &format!("Deleted Ada {last}.")).await;
    wait_text(&b, "[data-testid=students-empty]", "No students match").await;
    b.close().await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_session_that_ends_mid_work_keeps_what_was_typed_for_after_sign_in() {
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    sign_in(&b, US_COORDINATOR, "Carlos Rivera").await;
    wait_for(&b, "[data-testid=student-row]").await;
    let last = format!("Kept{}", unique());
    click(&b, "[data-testid=add-student]").await;
    fill(&b, "last_name", &last).await;
    fill(&b, "college", "Zylker College").await;
    wait_for(&b, "[data-testid=field-course]")
        .await
        .select_by_value("Cybersecurity Basics")
        .await
        .unwrap();
    fill(
        &b,
        "email",
        &format!("{}@college.example.edu", last.to_lowercase()),
    )
    .await;
    // The session ends meanwhile (its cookie is gone, as after expiry).
    b.client.delete_all_cookies().await.unwrap();
    click(&b, "[data-testid=save-student]").await;
    wait_text(
        &b,
        "[data-testid=signed-out-reason]",
        "Sign in again to carry on",
    )
    .await;
    wait_text(&b, "[data-testid=notice]", "What you typed").await;
    // Sign in again: the form comes back as it was, and saves.
    sign_in(&b, US_COORDINATOR, "Carlos Rivera").await;
    wait_for(&b, "[data-testid=draft-restored]").await;
    let value = wait_for(&b, "[data-testid=field-last_name]")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(value.as_deref(), Some(last.as_str()));
    click(&b, "[data-testid=save-student]").await;
    wait_text(&b, "[data-testid=notice]", &format!("Added {last}.")).await;
    b.close().await;
}

/// Not a check but a camera: `cargo xtask screenshots` runs this alone, with
/// `ZCRM_SCREENSHOT_DIR`, to write a PNG of each main screen (shown in the README).
#[tokio::test]
#[ignore = "run by `cargo xtask screenshots`"]
async fn screenshots_of_every_main_screen() {
    let dir = std::path::PathBuf::from(
        std::env::var("ZCRM_SCREENSHOT_DIR").expect("run with `cargo xtask screenshots`"),
    );
    let stack = Stack::from_env();
    let b = open_app(&stack).await;
    let shot = |name: &'static str| {
        let b = &b;
        let path = dir.join(format!("{name}.png"));
        async move {
            // Let fonts and the last render settle.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let png = b.client.screenshot().await.unwrap();
            assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
            std::fs::write(&path, png).unwrap();
            eprintln!("wrote {}", path.display());
        }
    };
    wait_for(&b, "[data-testid=sign-in-screen]").await;
    shot("1-sign-in").await;

    let (main, popup) = open_popup(&b).await;
    b.client.switch_to_window(popup.clone()).await.unwrap();
    wait_for(&b, "#sim_user").await;
    shot("2-zoho-consent-in-popup").await;
    b.client.switch_to_window(main.clone()).await.unwrap();
    answer_in_popup(&b, main, popup, US_ADMIN, true).await;
    wait_text(&b, "[data-testid=user-name]", "Amelia Zylker").await;
    wait_for(&b, "[data-testid=student-row]").await;
    shot("3-students").await;

    click(&b, "[data-testid=add-student]").await;
    wait_for(&b, "[data-testid=student-form]").await;
    shot("4-add-student").await;
    click(&b, "[data-testid=save-student]").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    shot("5-validation-errors").await;
    b.client
        .execute("document.querySelector('dialog[open]')?.close()", vec![])
        .await
        .unwrap();

    // The coordinator's day: the list sorted and filtered, then an import previewed and reported.
    wait_for(
        &b,
        "[data-testid=course-filter] option[value='Data Science']",
    )
    .await;
    wait_for(&b, "[data-testid=course-filter]")
        .await
        .select_by_value("Data Science")
        .await
        .unwrap();
    sort_by(&b, "name", "ascending").await;
    wait_text(&b, "[data-testid=student-count]", " students").await;
    shot("7-sorted-filtered").await;
    let dir = zcrm_tests::TempDir::new("screenshots");
    let file = dir.0.join("enquiries.csv");
    let mut csv = String::from("name,college,course,email,phone\n");
    for (i, name) in [
        "Maya Iyer",
        "Tom Berg",
        "Lena Novak",
        "Omar Haddad",
        "Sara Lind",
    ]
    .iter()
    .enumerate()
    {
        csv.push_str(&format!(
            "{name},Zylker College,Data Science,fair{i}-{}@college.example,+1 555 010{i}\n",
            unique()
        ));
        // Two bad rows among the good ones, in sight in the preview.
        match i {
            0 => csv.push_str("Ivo Petrov,Zylker College,Cooking,ivo@college.example,\n"),
            1 => csv.push_str("Ana Cruz,Zylker College,Data Science,not-an-email,\n"),
            _ => {}
        }
    }
    std::fs::write(&file, csv).unwrap();
    click(&b, "[data-testid=import-open]").await;
    wait_for(&b, "[data-testid=import-file]")
        .await
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    wait_for(&b, "[data-testid=import-preview]").await;
    shot("8-import-preview").await;
    click(&b, "[data-testid=import-start]").await;
    wait_for(&b, "[data-testid=import-report]").await;
    shot("9-import-report").await;
    click(&b, "[data-testid=import-close]").await;

    b.client.set_window_size(390, 844).await.unwrap();
    wait_for(&b, "[data-testid=student-row]").await;
    shot("6-students-phone-width").await;
    b.close().await;
}
