//! Black-box tests of the Worker running in workerd (`wrangler dev`), over HTTP only.

use zcrm_api::{ApiError, Health, REQUEST_ID_HEADER};
use zcrm_tests::{Stack, http};

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn health_answers_json_with_a_request_id() {
    let stack = Stack::from_env();
    let response = http()
        .get(format!("{}/api/health", stack.worker))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()[REQUEST_ID_HEADER]
            .to_str()
            .unwrap()
            .len()
            >= 8
    );
    assert_eq!(response.headers()["content-type"], "application/json");
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
        ("x-frame-options", "DENY"),
    ] {
        assert_eq!(response.headers()[name], value, "{name}");
    }
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
    let health: Health = response.json().await.unwrap();
    assert_eq!(health.status, "ok");
    assert_eq!(health.service, "zcrm-edge");
    assert_eq!(health.environment, "production");
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn unknown_routes_and_methods_get_json_errors() {
    let stack = Stack::from_env();
    let client = http();
    let response = client
        .get(format!("{}/api/no-such-thing", stack.worker))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.error.code, "not_found");

    let response = client
        .delete(format!("{}/api/health", stack.worker))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.error.code, "method_not_allowed");
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn the_app_origin_proxies_the_api_to_the_worker() {
    let stack = Stack::from_env();
    let response = http()
        .get(format!("{}/api/health", stack.app))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key(REQUEST_ID_HEADER));
    let health: Health = response.json().await.unwrap();
    assert_eq!(health.service, "zcrm-edge");
}
