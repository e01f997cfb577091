//! End-to-end tests: headless Chromium on the app served by `trunk serve`, whose `/api` and
//! `/auth` go to the Worker in workerd, which talks to the simulator.

use std::time::Duration;

use zcrm_tests::{Browser, Stack};

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn the_page_loads_and_shows_the_workers_health() {
    let stack = Stack::from_env();
    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("{}/", stack.app))
        .await
        .unwrap();
    assert_eq!(
        browser.client.title().await.unwrap(),
        "Zylker Academy · Students"
    );
    let status = browser
        .wait_for_text("[data-testid=api-status]", Duration::from_secs(20), |t| {
            !t.starts_with("Checking")
        })
        .await;
    assert!(
        status.starts_with("Portal service: ok (zcrm-edge "),
        "the page shows the Worker's answer, got {status:?}"
    );
    browser.close().await;
}
