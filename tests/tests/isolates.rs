//! The Worker as Cloudflare's network runs it: several isolates at once (4 services of one
//! workerd, each its own memory), one Durable Object per Zoho grant, and KV that one isolate
//! sees 60 s late when another wrote it (`xtask/src/isolates.rs`). Requests are spread over the
//! isolates' sockets. The isolates have a simulator of their own, whose clock and faults these
//! tests move freely.

mod support;

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Env, SERIAL, SESSION_COOKIE};
use zcrm_api::codes;
use zcrm_api::students::StudentsPage;

const USER: &str = "admin@zylker-academy.example";
const TOKEN_PATH: &str = "/us/accounts/oauth/v2/token";

struct Net {
    isolates: Vec<Env>,
}

impl Net {
    /// Every isolate, with their simulator back at its seed.
    async fn new() -> Net {
        let count = std::env::var("ZCRM_ISOLATE_URLS")
            .expect("ZCRM_ISOLATE_URLS is not set: run with `cargo xtask test`")
            .split(',')
            .count();
        assert!(count >= 4, "at least 4 isolates");
        let net = Net {
            isolates: (0..count).map(Env::isolate).collect(),
        };
        net.sim_post("reset", json!({})).await;
        // Zoho allows 25 concurrent calls per org; the bursts here go past that on purpose.
        net.sim_post("limits", json!({"org_concurrency": 10_000}))
            .await;
        net
    }

    fn at(&self, i: usize) -> &Env {
        &self.isolates[i % self.isolates.len()]
    }

    async fn sim_post(&self, path: &str, body: Value) -> Value {
        self.at(0).sim_post(path, body).await
    }

    async fn stats(&self) -> Value {
        self.at(0).sim_get("stats").await
    }

    async fn user_stat(&self, email: &str, what: &str) -> u64 {
        self.stats().await["users"][email][what]
            .as_u64()
            .unwrap_or(0)
    }

    /// Calls that reached the token endpoint of the US accounts server.
    async fn token_calls(&self) -> u64 {
        self.stats().await["by_path"][format!("POST {TOKEN_PATH}")]
            .as_u64()
            .unwrap_or(0)
    }

    /// `per_isolate` concurrent `GET path` on every isolate at once: status, body, time taken.
    async fn burst(
        &self,
        session: &str,
        path: &str,
        per_isolate: usize,
    ) -> Vec<(StatusCode, String, Duration, Option<String>)> {
        let calls = (0..per_isolate * self.isolates.len()).map(|i| {
            let env = self.at(i);
            async move {
                let started = Instant::now();
                let r = env.get_with_session(path, session).await;
                let status = r.status();
                let retry_after = r
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned());
                (
                    status,
                    r.text().await.unwrap(),
                    started.elapsed(),
                    retry_after,
                )
            }
        });
        join_all(calls).await
    }
}

fn statuses(answers: &[(StatusCode, String, Duration, Option<String>)]) -> Vec<u16> {
    let mut s: Vec<u16> = answers.iter().map(|a| a.0.as_u16()).collect();
    s.sort_unstable();
    s.dedup();
    s
}

/// Signs in on isolate `i` and makes sure every isolate has served the session once (warm).
async fn signed_in_everywhere(net: &Net, i: usize, email: &str) -> String {
    let (session, info) = net.at(i).sign_in(email).await;
    assert_eq!(info.email, email);
    for env in &net.isolates {
        let r = env
            .get_with_session("/api/students?per_page=5", &session)
            .await;
        assert_eq!(r.status(), 200, "{} serves the new session", env.worker_url);
    }
    session
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_burst_just_after_expiry_on_four_isolates_makes_one_refresh() {
    let _turn = SERIAL.lock().await;
    let net = &Net::new().await;
    let session = signed_in_everywhere(net, 0, USER).await;
    net.sim_post("clock", json!({"advance_secs": 3700})).await;
    let before = net.user_stat(USER, "refreshes").await;
    let answers = net.burst(&session, "/api/students?per_page=20", 50).await;
    assert_eq!(answers.len(), 200);
    assert_eq!(statuses(&answers), [200], "every request answered");
    assert_eq!(
        net.user_stat(USER, "refreshes").await - before,
        1,
        "exactly one refresh for 4 isolates × 50 requests"
    );
    assert_eq!(net.user_stat(USER, "throttled").await, 0);
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_slow_token_endpoint_makes_one_refresh_and_clear_answers_in_time() {
    let _turn = SERIAL.lock().await;
    let net = &Net::new().await;
    let session = signed_in_everywhere(net, 1, USER).await;
    net.sim_post("clock", json!({"advance_secs": 3700})).await;
    let calls_before = net.token_calls().await;
    net.sim_post(
        "faults",
        json!({"path": TOKEN_PATH, "method": "POST", "delay_ms": 25_000, "times": 0}),
    )
    .await;
    let answers = net.burst(&session, "/api/students?per_page=20", 50).await;
    for (status, body, took, _) in &answers {
        assert!(
            [200, 503, 504].contains(&status.as_u16()),
            "a clear answer, not {status}: {body}"
        );
        // The Worker's connect timeout (10 s) and some slack; nothing hangs.
        assert!(*took < Duration::from_secs(15), "answered after {took:?}");
    }
    assert!(statuses(&answers).contains(&504), "Zoho timed out: 504");
    // The token endpoint finishes the call it got (after 25 s), as Zoho would.
    tokio::time::sleep(Duration::from_secs(17)).await;
    net.at(0).clear_faults().await;
    assert_eq!(
        net.token_calls().await - calls_before,
        1,
        "one burst, one token call, however slow Zoho is"
    );
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_throttled_grant_is_a_429_with_retry_after_and_no_token_call_until_the_window_passes() {
    let _turn = SERIAL.lock().await;
    let net = &Net::new().await;
    let session = signed_in_everywhere(net, 2, USER).await;
    net.sim_post("clock", json!({"advance_secs": 3700})).await;
    let throttled = json!({
        "error": "Access Denied",
        "error_description": "You have made too many requests continuously. Please try again after some time.",
        "status": "failure"
    });
    net.sim_post(
        "faults",
        json!({"path": TOKEN_PATH, "method": "POST", "status": 200, "body": throttled, "times": 1}),
    )
    .await;
    let calls_before = net.token_calls().await;
    let mut answers = net.burst(&session, "/api/students", 10).await;
    answers.extend(net.burst(&session, "/api/students", 10).await);
    assert_eq!(statuses(&answers), [429]);
    let window: u64 = std::env::var("ZCRM_ISOLATE_TOKEN_WINDOW_SECS")
        .unwrap()
        .parse()
        .unwrap();
    let mut longest = 0;
    for (_, body, _, retry_after) in &answers {
        let e: zcrm_api::ApiError = serde_json::from_str(body).unwrap();
        assert_eq!(e.error.code, codes::RATE_LIMITED);
        assert!(
            e.error.message.contains("Try again in"),
            "{}",
            e.error.message
        );
        let secs: u64 = retry_after
            .as_deref()
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=window).contains(&secs), "Retry-After {secs}");
        assert_eq!(e.error.retry_after_secs, Some(secs), "the app is told too");
        longest = longest.max(secs);
    }
    assert_eq!(
        net.token_calls().await - calls_before,
        1,
        "Zoho was asked once; the throttle is remembered for every isolate"
    );
    // The session itself is intact.
    let r = net.at(3).get_with_session("/api/session", &session).await;
    assert_eq!(r.status(), 200);
    // Once the window has passed (on the Worker's clock and on Zoho's), one refresh, and on.
    tokio::time::sleep(Duration::from_secs(longest + 1)).await;
    net.sim_post("clock", json!({"advance_secs": 600})).await;
    let answers = net.burst(&session, "/api/students", 5).await;
    assert_eq!(statuses(&answers), [200], "{}", answers[0].1);
    assert_eq!(net.token_calls().await - calls_before, 2);
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn signing_out_on_one_isolate_ends_the_session_on_every_other_at_once() {
    let _turn = SERIAL.lock().await;
    let net = &Net::new().await;
    let session = signed_in_everywhere(net, 0, USER).await;
    let r = net.at(0).post_with_session("/auth/logout", &session).await;
    assert_eq!(r.status(), 204);
    let answers =
        join_all((1..4).map(|i| net.at(i).get_with_session("/api/session", &session))).await;
    for r in answers {
        assert_eq!(r.status(), 401, "signed out everywhere at once");
    }

    // Signing out everywhere ends the user's other sessions too, and revokes the grant.
    let a = signed_in_everywhere(net, 1, USER).await;
    let b = signed_in_everywhere(net, 2, USER).await;
    let revokes = net.user_stat(USER, "revokes").await;
    let r = net
        .at(3)
        .post_with_session("/auth/logout?everywhere=1", &a)
        .await;
    assert_eq!(r.status(), 204);
    let checks = (0..4).flat_map(|i| {
        [&a, &b]
            .into_iter()
            .map(move |s| net.at(i).get_with_session("/api/session", s))
    });
    for r in join_all(checks).await {
        assert_eq!(r.status(), 401);
    }
    assert_eq!(net.user_stat(USER, "revokes").await, revokes + 1);
    assert_eq!(net.user_stat(USER, "refresh_tokens").await, 0);
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn two_sign_ins_at_once_on_two_isolates_keep_one_grant_and_lose_no_write() {
    let _turn = SERIAL.lock().await;
    let net = &Net::new().await;
    let (one, two) = (net.at(0), net.at(1));
    let (started_one, started_two) = (one.start().await, two.start().await);
    let callback_one = one.approve(&started_one, USER).await;
    let callback_two = two.approve(&started_two, USER).await;
    let (r1, r2) = tokio::join!(
        one.callback(&started_one.login_cookie, &callback_one),
        two.callback(&started_two.login_cookie, &callback_two),
    );
    assert_eq!((r1.status(), r2.status()), (StatusCode::OK, StatusCode::OK));
    let sessions: Vec<String> = [r1, r2]
        .iter()
        .map(|r| support::set_cookie(r, SESSION_COOKIE).unwrap().value)
        .collect();
    assert_eq!(
        net.user_stat(USER, "refresh_tokens").await,
        1,
        "one live refresh token at Zoho"
    );
    assert_eq!(net.user_stat(USER, "revokes").await, 1, "the other revoked");
    // Both sessions work, on every isolate, and after expiry share one refresh: the record
    // holds the refresh token that is still live (no write lost).
    net.sim_post("clock", json!({"advance_secs": 3700})).await;
    let refreshes = net.user_stat(USER, "refreshes").await;
    for session in &sessions {
        let answers = net.burst(session, "/api/students?per_page=5", 5).await;
        assert_eq!(statuses(&answers), [200]);
    }
    assert_eq!(net.user_stat(USER, "refreshes").await, refreshes + 1);
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn users_of_three_data_centres_across_two_expiries_get_only_their_own_answers() {
    let _turn = SERIAL.lock().await;
    let net = &Net::new().await;
    let users = [
        "admin@zylker-academy.example",
        "admin@northwind-college.example",
        "admin@eurotech-institute.example",
        "admin@bharat-learning.example",
    ];
    let mut signed_in = Vec::new();
    for (i, email) in users.iter().enumerate() {
        let session = signed_in_everywhere(net, i, email).await;
        let r = net
            .at(i)
            .get_with_session("/api/students?per_page=200", &session)
            .await;
        let page: StudentsPage = r.json().await.unwrap();
        let ids: Vec<String> = page.students.into_iter().map(|s| s.id).collect();
        assert!(!ids.is_empty());
        signed_in.push((*email, session, ids));
    }
    let mut requests = 0;
    for phase in 0..3 {
        if phase > 0 {
            net.sim_post("clock", json!({"advance_secs": 3700})).await;
        }
        let calls = signed_in.iter().flat_map(|(email, session, ids)| {
            (0..20).map(move |i| {
                let env = net.at(i);
                async move {
                    let r = env
                        .get_with_session("/api/students?per_page=200", session)
                        .await;
                    assert_eq!(r.status(), 200, "{email} on {}", env.worker_url);
                    let page: StudentsPage = r.json().await.unwrap();
                    let got: Vec<String> = page.students.into_iter().map(|s| s.id).collect();
                    assert_eq!(&got, ids, "{email} gets their own org's students only");
                }
            })
        });
        let calls: Vec<_> = calls.collect();
        requests += calls.len();
        join_all(calls).await;
    }
    assert_eq!(requests, 240);
    let stats = net.stats().await;
    for email in users {
        let user = &stats["users"][email];
        assert_eq!(user["refreshes"], 2, "{email}: one refresh per expiry");
        assert_eq!(user["throttled"], 0, "{email}");
    }
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn thirty_replays_of_one_login_over_four_isolates_make_at_most_one_token_call() {
    let _turn = SERIAL.lock().await;
    let net = Net::new().await;
    let started = net.at(0).start().await;
    let genuine = net.at(0).approve(&started, USER).await;
    let before = net.token_calls().await;
    let answers = join_all((0..30).map(|i| {
        let (env, started, genuine) = (net.at(i), &started, &genuine);
        async move {
            let r = env.callback(&started.login_cookie, genuine).await;
            let status = r.status();
            let body: Value = r.json().await.unwrap();
            (
                status,
                body["error"]["code"].as_str().unwrap_or("").to_owned(),
            )
        }
    }))
    .await;
    let calls = net.token_calls().await - before;
    let signed_in = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let refused = answers
        .iter()
        .filter(|(s, code)| *s == StatusCode::BAD_REQUEST && code == codes::INVALID_STATE)
        .count();
    eprintln!(
        "30 replays of one login over 4 isolates: {calls} token call(s), {signed_in} signed in, {refused} refused"
    );
    assert_eq!(calls, 1, "one login, one token call: {answers:?}");
    assert_eq!((signed_in, refused), (1, 29), "{answers:?}");
}
