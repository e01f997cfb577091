//! Hardening against cheap ways to hurt the service (issue 14): hostile request sequences
//! against the Worker in workerd (`wrangler dev`) and the simulator, over HTTP only. By section:
//! sign-in and its login (`hardening/signin.rs`), changes (`hardening/changes.rs`), request
//! bodies (`hardening/bodies.rs`); here, what they share, the headers and a record's lifetime.

mod support;

// A test target's root finds its modules beside it, so the sections' folder is named.
#[path = "hardening/bodies.rs"]
mod bodies;
#[path = "hardening/changes.rs"]
mod changes;
#[path = "hardening/signin.rs"]
mod signin;

use serde_json::json;
use support::{Env, SERIAL, SESSION_COOKIE};
use zcrm_api::ApiError;

const US_ADMIN: &str = "admin@zylker-academy.example";
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// `method path` with the session and the CSRF header, and `body` as JSON if any.
async fn send(
    env: &Env,
    session: &str,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> reqwest::Response {
    let mut request = env
        .http
        .request(method.parse().unwrap(), env.worker(path))
        .header(zcrm_api::CSRF_HEADER, zcrm_api::CSRF_VALUE)
        .header("cookie", format!("{SESSION_COOKIE}={session}"));
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.unwrap()
}

async fn error_of(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    support::assert_no_secrets(&text);
    let e: ApiError = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("an ApiError body, got {status} {text:?}: {e}"));
    (status, e.error.code)
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn the_app_and_the_api_are_https_only_and_other_sites_windows_are_kept_out() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    for path in ["/", "/students", "/redirect.html"] {
        let r = env.http.get(env.worker(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(
            r.headers()["cross-origin-opener-policy"],
            "same-origin-allow-popups",
            "{path}"
        );
        assert_eq!(r.headers()["strict-transport-security"], HSTS, "{path}");
    }
    for path in ["/api/health", "/auth/start", "/api/session", "/api/nope"] {
        let r = env.http.get(env.worker(path)).send().await.unwrap();
        assert_eq!(r.headers()["strict-transport-security"], HSTS, "{path}");
    }
}

/// The expiration (ms since the epoch) of `key` in a Worker's local KV; `None` for a key
/// without one.
fn kv_expiration(worker: &str, key: &str) -> Option<u64> {
    zcrm_tests::kv::expiration(&zcrm_tests::kv::worker_dir(worker), key)
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_user_record_expires_and_each_sign_in_and_refresh_renews_it() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let (session, info) = env.sign_in(US_ADMIN).await;
    let key = zcrm_tests::kv::us_admin_record(&info.org_id);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let day = 24 * 3600 * 1000;
    let signed_in = kv_expiration("worker-test", &key).expect("the record expires");
    assert!(
        (now + 7 * day..=now + 9 * day).contains(&signed_in),
        "a week past the longest session, and a day: {signed_in} (now {now})"
    );
    // A refresh writes the record again, with a later expiry.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    env.sim_post("clock", json!({"advance_secs": 3700})).await;
    let r = env.get_with_session("/api/students", &session).await;
    assert_eq!(r.status(), 200);
    let refreshed = kv_expiration("worker-test", &key).expect("still expires");
    assert!(refreshed > signed_in, "renewed: {signed_in} → {refreshed}");
}
