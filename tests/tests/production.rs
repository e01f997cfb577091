//! The production shape: one Worker serving the release build of the app (dist/, with its
//! `_headers`) as static assets with a single-page fallback, and running first for /api and
//! /auth. `cargo xtask test` builds dist/ before starting the Workers.

use std::time::Duration;

use zcrm_tests::{Browser, Stack, http};

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn the_worker_serves_the_built_app_with_its_security_headers() {
    let stack = Stack::from_env();
    let client = http();
    for path in ["/", "/students/42", "/redirect.html"] {
        let r = client
            .get(format!("{}{path}", stack.worker))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(r.headers()["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let html = r.text().await.unwrap();
        assert!(html.contains("<html"), "{path}");
        if path != "/redirect.html" {
            assert!(
                html.contains("<title>Zylker Academy"),
                "{path}: the single-page fallback"
            );
        }
    }
    // The API is still the Worker's, not the fallback's.
    let r = client
        .get(format!("{}/api/nope", stack.worker))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/json");
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn the_release_app_starts_under_its_content_security_policy() {
    let stack = Stack::from_env();
    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("{}/", stack.worker))
        .await
        .unwrap();
    // Only a started Wasm app renders this; a CSP that blocked Trunk's loader would leave the
    // body empty.
    let status = browser
        .wait_for_text("[data-testid=api-status]", Duration::from_secs(20), |t| {
            t.contains("zcrm-edge")
        })
        .await;
    assert!(status.contains("ok"), "{status}");
    browser
        .client
        .find(fantoccini::Locator::Css("[data-testid=sign-in]"))
        .await
        .expect("the sign-in button of the release build");
    browser.close().await;
}
