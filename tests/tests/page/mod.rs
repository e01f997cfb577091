//! Helpers of the browser tests (`e2e.rs`, `failures.rs`): waiting for, reading and filling the
//! app's elements the way a person would.

#![allow(dead_code)]

use std::time::Duration;

use fantoccini::Locator;
use fantoccini::elements::Element;
use fantoccini::wd::WindowHandle;
use zcrm_tests::{Browser, Stack};

pub const WAIT: Duration = Duration::from_secs(30);

/// A browser on the app's start page.
pub async fn open_app(stack: &Stack) -> Browser {
    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("{}/", stack.app))
        .await
        .unwrap();
    browser
}

/// Waits for a displayed element matching `css`.
pub async fn wait_for(b: &Browser, css: &str) -> Element {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Ok(elements) = b.client.find_all(Locator::Css(css)).await {
            for e in elements {
                if e.is_displayed().await.unwrap_or(false) {
                    return e;
                }
            }
        }
        if tokio::time::Instant::now() > deadline {
            panic!("no displayed `{css}` within {WAIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `css` has text containing `needle`, and returns the text.
pub async fn wait_text(b: &Browser, css: &str, needle: &str) -> String {
    b.wait_for_text(css, WAIT, |t| t.contains(needle)).await
}

pub async fn click(b: &Browser, css: &str) {
    wait_for(b, css).await.click().await.unwrap();
}

/// The ids of the elements focused now (`id` attribute, or `data-testid` when there is none).
pub async fn focused(b: &Browser) -> String {
    let v = b
        .client
        .execute(
            "const e = document.activeElement; return e ? (e.id || e.dataset.testid || e.tagName) : ''",
            vec![],
        )
        .await
        .unwrap();
    v.as_str().unwrap_or_default().to_owned()
}

pub async fn count(b: &Browser, css: &str) -> usize {
    b.client.find_all(Locator::Css(css)).await.unwrap().len()
}

/// Waits until no request of the list is under way and returns the rows' names.
pub async fn row_names(b: &Browser) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    while count(b, "[data-testid=students-loading]").await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the list kept loading"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut names = Vec::new();
    for e in b
        .client
        .find_all(Locator::Css("[data-testid=student-name]"))
        .await
        .unwrap()
    {
        names.push(e.text().await.unwrap());
    }
    names
}

/// The text of every element matching `css`, once the list has loaded.
pub async fn texts(b: &Browser, css: &str) -> Vec<String> {
    row_names(b).await;
    let mut out = Vec::new();
    for e in b.client.find_all(Locator::Css(css)).await.unwrap() {
        out.push(e.text().await.unwrap());
    }
    out
}

/// `aria-sort` of the header cell of the column whose sort button is `sort-{key}`.
pub async fn aria_sort(b: &Browser, key: &str) -> String {
    let v = b
        .client
        .execute(
            "const e = document.querySelector(`[data-testid=sort-${arguments[0]}]`); \
             return e ? e.closest('th').getAttribute('aria-sort') : null",
            vec![serde_json::json!(key)],
        )
        .await
        .unwrap();
    v.as_str().unwrap_or("(no header)").to_owned()
}

/// Clicks a column's sort button and waits for the header to say `expected`.
pub async fn sort_by(b: &Browser, key: &str, expected: &str) {
    click(b, &format!("[data-testid=sort-{key}]")).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while aria_sort(b, key).await != expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "sort-{key} never became {expected}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    row_names(b).await;
}

/// `GET path` from the page (its cookie, its origin): the status and the body.
pub async fn fetch_from_page(b: &Browser, path: &str) -> (u16, String) {
    let v = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch(arguments[0]).then(async r => done([r.status, await r.text()]), e => done([0, String(e)]))",
            vec![serde_json::json!(path)],
        )
        .await
        .unwrap();
    (
        v[0].as_u64().unwrap_or(0) as u16,
        v[1].as_str().unwrap_or_default().to_owned(),
    )
}

/// `POST path` with a JSON body from the page (its cookie, its origin, the CSRF header).
pub async fn post_from_page(b: &Browser, path: &str, body: &serde_json::Value) -> (u16, String) {
    let v = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch(arguments[0], {method: 'POST', body: arguments[1], \
               headers: {'content-type': 'application/json', 'x-requested-with': 'zcrm-edge'}}) \
             .then(async r => done([r.status, await r.text()]), e => done([0, String(e)]))",
            vec![serde_json::json!(path), serde_json::json!(body.to_string())],
        )
        .await
        .unwrap();
    (
        v[0].as_u64().unwrap_or(0) as u16,
        v[1].as_str().unwrap_or_default().to_owned(),
    )
}

/// Types into a field of the student form (clearing it first).
pub async fn fill(b: &Browser, field: &str, text: &str) {
    let e = wait_for(b, &format!("[data-testid=field-{field}]")).await;
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

pub async fn search(b: &Browser, term: &str) {
    let e = wait_for(b, "[data-testid=search]").await;
    // Select all and delete, as a person would (WebDriver's clear fires no `input` event).
    e.send_keys("\u{E009}a\u{E009}\u{E003}").await.unwrap();
    if !term.is_empty() {
        e.send_keys(term).await.unwrap();
    }
    // Longer than the debounce: the list reloads.
    tokio::time::sleep(Duration::from_millis(800)).await;
}

pub fn unique() -> String {
    format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            % 100_000_000
    )
}

/// Clicks "Sign in with Zoho" and returns (main window, popup window) once the popup exists.
pub async fn open_popup(b: &Browser) -> (WindowHandle, WindowHandle) {
    let main = b.client.window().await.unwrap();
    // Other tabs of the portal may be open: the popup is the window that was not there before.
    let before = b.client.windows().await.unwrap();
    click(b, "[data-testid=sign-in]").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let windows = b.client.windows().await.unwrap();
        if let Some(popup) = windows.into_iter().find(|w| !before.contains(w)) {
            return (main, popup);
        }
        if tokio::time::Instant::now() > deadline {
            panic!("the sign-in popup did not open");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// In the popup: waits for the simulator's authorize page, picks `email`, and presses Accept
/// (or Reject). Switches back to `main` at once: the popup closes itself.
pub async fn answer_in_popup(
    b: &Browser,
    main: WindowHandle,
    popup: WindowHandle,
    email: &str,
    approve: bool,
) {
    answer_in_popup_for(b, main, popup, email, "production", approve).await
}

/// [`answer_in_popup`] choosing the Zoho environment (the one of the Worker the app is served by).
pub async fn answer_in_popup_for(
    b: &Browser,
    main: WindowHandle,
    popup: WindowHandle,
    email: &str,
    environment: &str,
    approve: bool,
) {
    b.client.switch_to_window(popup).await.unwrap();
    let user = wait_for(b, "#sim_user").await;
    user.select_by_value(email).await.unwrap();
    wait_for(b, "#sim_environment")
        .await
        .select_by_value(environment)
        .await
        .unwrap();
    let button = wait_for(b, if approve { "#approve" } else { "#deny" }).await;
    // The popup navigates and closes itself: the click may report the window gone.
    let _ = button.click().await;
    b.client.switch_to_window(main).await.unwrap();
}

/// The whole sign-in through the popup, ending with the header showing the user.
pub async fn sign_in(b: &Browser, email: &str, name: &str) {
    sign_in_for(b, "production", email, name).await
}

pub async fn sign_in_for(b: &Browser, environment: &str, email: &str, name: &str) {
    let (main, popup) = open_popup(b).await;
    answer_in_popup_for(b, main, popup, email, environment, true).await;
    wait_text(b, "[data-testid=user-name]", name).await;
}

/// axe-core (pinned in `xtask/tools/audit/`, `ZCRM_AXE_JS` from `cargo xtask test`) run on the
/// page as it is now: every violation, as `rule (impact): the elements`, after injecting the
/// script when the page does not have it yet.
pub async fn axe_violations(b: &Browser) -> Vec<String> {
    static AXE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let script = AXE.get_or_init(|| {
        let path = std::env::var("ZCRM_AXE_JS").expect("run with `cargo xtask test` (ZCRM_AXE_JS)");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
    });
    let loaded = b
        .client
        .execute("return typeof window.axe === 'object'", vec![])
        .await
        .unwrap();
    if loaded != serde_json::json!(true) {
        // WebDriver's scripts are not the page's: the CSP does not apply to them.
        b.client
            .execute(&format!("{script}\n;window.axe = axe;"), vec![])
            .await
            .unwrap();
    }
    let v = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             axe.run(document).then(r => done(r.violations.map(v => \
               `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)), \
               e => done([`axe failed: ${e}`]))",
            vec![],
        )
        .await
        .unwrap();
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_else(|| vec![format!("axe answered {v}")])
}

/// Asserts that axe finds no violation on the page as it is now (`screen` names it).
pub async fn assert_no_axe_violation(b: &Browser, screen: &str) {
    let violations = axe_violations(b).await;
    assert!(
        violations.is_empty(),
        "axe on {screen}: {}",
        violations.join("\n  ")
    );
}
