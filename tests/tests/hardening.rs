//! Hardening against cheap ways to hurt the service (issue 14): hostile request sequences
//! against the Worker in workerd (`wrangler dev`) and the simulator, over HTTP only.

mod support;

use futures_util::future::join_all;
use serde_json::json;
use support::{Elsewhere, Env, SERIAL, SESSION_COOKIE, set_cookie};
use zcrm_api::{ApiError, SignedOutReason, codes};

const US_ADMIN: &str = "admin@zylker-academy.example";
const EU_ADMIN: &str = "admin@eurotech-institute.example";
const IN_ADMIN: &str = "admin@bharat-learning.example";
const NORTHWIND_ADMIN: &str = "admin@northwind-college.example";
const HSTS: &str = "max-age=31536000; includeSubDomains";
const TOKEN_PATH: &str = "/us/accounts/oauth/v2/token";

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

/// Creates of Leads that reached the simulator's `dc`.
async fn creates(env: &Env, dc: &str) -> u64 {
    env.sim_get("stats").await["by_path"][format!("POST /{dc}/production/crm/v8/Leads")]
        .as_u64()
        .unwrap_or(0)
}

async fn token_calls(env: &Env) -> u64 {
    env.sim_get("stats").await["by_path"][format!("POST {TOKEN_PATH}")]
        .as_u64()
        .unwrap_or(0)
}

/// `POST /auth/callback` from a client address of its own: an attacker with many addresses,
/// whom the per-address limit does not stop.
async fn callback_from_elsewhere(
    env: &Env,
    login_cookie: &str,
    body: &zcrm_api::CallbackRequest,
) -> reqwest::Response {
    support::client(&support::new_client_address())
        .post(env.worker("/auth/callback"))
        .header(zcrm_api::CSRF_HEADER, zcrm_api::CSRF_VALUE)
        .header(
            "cookie",
            format!("{}={login_cookie}", support::LOGIN_COOKIE),
        )
        .json(body)
        .send()
        .await
        .unwrap()
}

/// A code of Zoho's shape that Zoho never issued.
fn junk_code(i: usize) -> String {
    format!("1000.{i:032x}.{:032x}", i * 7919)
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn zohos_redirects_are_never_followed() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let elsewhere = Elsewhere::new();
    let redirect = |path: &str, method: &str, status: u16| {
        json!({"path": path, "method": method, "status": status, "times": 0,
               "location": format!("{}{path}", elsewhere.url())})
    };

    // The code exchange (it carries the client secret, the code and the verifier).
    env.sim_post("faults", redirect(TOKEN_PATH, "POST", 307))
        .await;
    let started = env.start().await;
    let callback = env.approve(&started, US_ADMIN).await;
    let r = env.callback(&started.login_cookie, &callback).await;
    assert!(set_cookie(&r, SESSION_COOKIE).is_none(), "no session");
    assert_eq!(error_of(r).await, (502, codes::UPSTREAM.to_owned()));
    elsewhere.assert_untouched("code exchange");
    env.clear_faults().await;

    // Who the user is, during sign-in (it carries the new access token).
    env.sim_post(
        "faults",
        redirect("/us/production/crm/v8/users", "GET", 308),
    )
    .await;
    let started = env.start().await;
    let callback = env.approve(&started, US_ADMIN).await;
    let r = env.callback(&started.login_cookie, &callback).await;
    assert_eq!(error_of(r).await, (502, codes::UPSTREAM.to_owned()));
    elsewhere.assert_untouched("users");
    env.clear_faults().await;

    // A CRM read (retried reads included) and a write.
    let (session, _) = env.sign_in(US_ADMIN).await;
    for (path, method, status, route, body) in [
        (
            "/us/production/crm/v8/Leads",
            "GET",
            307,
            "/api/students",
            None,
        ),
        (
            "/us/production/crm/v8/Leads",
            "POST",
            308,
            "/api/students",
            Some(
                json!({"first_name": "R", "last_name": "Edirect", "college": "C",
                        "course": "Data Science", "email": "redirect@zylker.example", "phone": ""}),
            ),
        ),
    ] {
        env.sim_post("faults", redirect(path, method, status)).await;
        let r = send(&env, &session, method, route, body.as_ref()).await;
        assert_eq!(
            error_of(r).await,
            (502, codes::UPSTREAM.to_owned()),
            "{method} {path}"
        );
        elsewhere.assert_untouched(&format!("{method} {path}"));
        env.clear_faults().await;
    }

    // A refresh (it carries the client secret and the refresh token).
    env.sim_post("clock", json!({"advance_secs": 3700})).await;
    env.sim_post("faults", redirect(TOKEN_PATH, "POST", 307))
        .await;
    let r = env.get_with_session("/api/students", &session).await;
    assert_eq!(error_of(r).await, (502, codes::UPSTREAM.to_owned()));
    elsewhere.assert_untouched("refresh");
    env.clear_faults().await;

    // Sign-out everywhere (the revoke carries the refresh token).
    env.sim_post(
        "faults",
        redirect("/us/accounts/oauth/v2/token/revoke", "POST", 307),
    )
    .await;
    let r = env
        .post_with_session("/auth/logout?everywhere=1", &session)
        .await;
    assert_eq!(r.status(), 204);
    elsewhere.assert_untouched("revoke");
    let fired = env.sim_get("stats").await["faults_fired"].as_u64().unwrap();
    assert!(fired >= 6, "every redirect was answered: {fired}");
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_login_is_single_use_and_its_replays_spend_no_token_call() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;

    // 30 replays at once of one genuine callback: one signs in, 29 are refused unsent.
    let started = env.start().await;
    let genuine = env.approve(&started, US_ADMIN).await;
    let before = token_calls(&env).await;
    let answers =
        join_all((0..30).map(|_| callback_from_elsewhere(&env, &started.login_cookie, &genuine)))
            .await;
    let mut statuses = std::collections::BTreeMap::new();
    for r in answers {
        let status = r.status().as_u16();
        let key = if status == 200 {
            "signed in".to_owned()
        } else {
            error_of(r).await.1
        };
        *statuses.entry(key).or_insert(0) += 1;
    }
    let calls = token_calls(&env).await - before;
    eprintln!("30 concurrent replays of one login: {calls} token call(s), {statuses:?}");
    assert_eq!(calls, 1, "{statuses:?}");
    assert_eq!(statuses.get("signed in"), Some(&1), "{statuses:?}");
    assert_eq!(
        statuses.get(codes::INVALID_STATE),
        Some(&29),
        "{statuses:?}"
    );

    // 30 replays one after the other, each with another code: the first is spent on Zoho
    // (who refuses the junk code), the 29 others never leave the Worker.
    let started = env.start().await;
    let mut callback = env.approve(&started, US_ADMIN).await;
    let before = token_calls(&env).await;
    let mut codes_seen = Vec::new();
    for i in 0..30 {
        callback.code = junk_code(i + 1);
        let r = callback_from_elsewhere(&env, &started.login_cookie, &callback).await;
        codes_seen.push(error_of(r).await);
    }
    let calls = token_calls(&env).await - before;
    eprintln!("30 replays with junk codes: {calls} token call(s)");
    assert_eq!(calls, 1);
    assert_eq!(codes_seen[0], (400, codes::INVALID_GRANT.to_owned()));
    assert!(
        codes_seen[1..]
            .iter()
            .all(|c| *c == (400, codes::INVALID_STATE.to_owned())),
        "{codes_seen:?}"
    );

    // A code not of Zoho's shape is refused before anything, and does not use up the login.
    let started = env.start().await;
    let genuine = env.approve(&started, US_ADMIN).await;
    let before = token_calls(&env).await;
    for junk in ["1000.x", "junk", "1000.abc.def", &"a".repeat(300)] {
        let mut forged = genuine.clone();
        forged.code = junk.to_owned();
        let r = env.callback(&started.login_cookie, &forged).await;
        assert_eq!(
            error_of(r).await,
            (400, codes::INVALID_REQUEST.to_owned()),
            "{junk:.20}"
        );
    }
    assert_eq!(
        token_calls(&env).await,
        before,
        "no token call for a malformed code"
    );
    let r = env.callback(&started.login_cookie, &genuine).await;
    assert_eq!(r.status(), 200, "the login was still unused");
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn sign_in_attempts_are_limited_per_client_address() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let address = support::new_client_address();
    let from = support::client(&address);
    let before = token_calls(&env).await;
    // The limiter counts in windows of a wall-clock minute: a burst that crosses into the next
    // minute starts counting again, so each step is checked against the windows it spanned.
    let minute = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 60
    };
    let mut limited = Vec::new();
    for step in ["start", "callback"] {
        let mut statuses = std::collections::BTreeMap::new();
        let first_minute = minute();
        for i in 0..110 {
            let r = if step == "start" {
                from.get(env.worker("/auth/start")).send().await.unwrap()
            } else {
                // A forged state: counted, then refused (400) without a token call.
                from.post(env.worker("/auth/callback"))
                    .header(zcrm_api::CSRF_HEADER, zcrm_api::CSRF_VALUE)
                    .json(
                        &json!({"code": junk_code(i), "state": "A".repeat(43), "location": "us",
                                  "accounts_server": format!("{}/us/accounts", env.stack.sim)}),
                    )
                    .send()
                    .await
                    .unwrap()
            };
            *statuses.entry(r.status().as_u16()).or_insert(0) += 1;
            if r.status() == 429 {
                let retry_after = r.headers()["retry-after"].to_str().unwrap().to_owned();
                let e: ApiError = r.json().await.unwrap();
                assert_eq!(e.error.code, codes::RATE_LIMITED);
                assert_eq!(e.error.retry_after_secs, Some(60));
                limited.push(retry_after);
            }
        }
        let windows = minute() - first_minute + 1;
        eprintln!("110 {step}s from one address over {windows} minute(s): {statuses:?}");
        let passed = if step == "start" { 302 } else { 400 };
        let ok = statuses.get(&passed).copied().unwrap_or(0);
        let refused = statuses.get(&429).copied().unwrap_or(0);
        assert_eq!(
            ok + refused,
            110,
            "{step}: only {passed} or 429: {statuses:?}"
        );
        if windows == 1 {
            assert_eq!(
                (ok, refused),
                (100, 10),
                "{step}: 100 a minute pass, the rest are refused"
            );
        } else {
            assert!(
                ok <= 100 * windows as usize,
                "{step}: {ok} passed in {windows} minutes"
            );
        }
    }
    assert!(limited.iter().all(|r| r == "60"), "{limited:?}");
    assert_eq!(token_calls(&env).await, before, "none reached Zoho");
    // Another client is not held back by this one.
    env.sign_in(US_ADMIN).await;
}

/// Every file of a Worker's local KV and objects (`wrangler dev --persist-to`), as bytes.
fn persisted(worker: &str) -> Vec<u8> {
    fn walk(dir: &std::path::Path, out: &mut Vec<u8>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.extend(bytes);
            }
        }
    }
    let state = std::env::var("ZCRM_STATE_DIR").expect("run with `cargo xtask test`");
    let mut out = Vec::new();
    walk(&std::path::Path::new(&state).join(worker), &mut out);
    out
}

fn holds(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn an_organisation_not_allowed_is_refused_and_leaves_nothing_in_kv() {
    let _turn = SERIAL.lock().await;
    // The developer Worker of test runs serves Eurotech's developer org only (ALLOWED_ORGS).
    let env = Env::new().await.at("developer");
    let foreign_key = "user:us:developer:60000001002:";
    let started = env.start().await;
    let callback = env.approve(&started, NORTHWIND_ADMIN).await;
    let r = env.callback(&started.login_cookie, &callback).await;
    assert!(set_cookie(&r, SESSION_COOKIE).is_none(), "no session");
    let text = r.text().await.unwrap();
    let e: ApiError = serde_json::from_str(&text).unwrap();
    assert_eq!(e.error.code, codes::ORG_NOT_ALLOWED, "{text}");
    assert_eq!(
        e.error.reason,
        Some(SignedOutReason::OrgNotAllowed),
        "{text}"
    );
    assert!(
        e.error.message.contains("Northwind"),
        "names the org: {text}"
    );
    let stats = env.sim_user_stats(NORTHWIND_ADMIN).await;
    assert_eq!(
        (stats["code_grants"].as_u64(), stats["revokes"].as_u64()),
        (Some(1), Some(1)),
        "the grant the exchange made is revoked: {stats}"
    );
    assert_eq!(stats["refresh_tokens"], 0, "no live refresh token: {stats}");
    let kv = persisted("worker-developer-test");
    assert!(
        !holds(&kv, foreign_key),
        "the foreign user left a key in KV"
    );

    // The organisation it serves signs in, and its key is where the scan looks.
    env.sign_in(EU_ADMIN).await;
    let kv = persisted("worker-developer-test");
    assert!(
        holds(&kv, "user:eu:developer:60000002002:"),
        "the scan sees KV's keys"
    );
    assert!(!holds(&kv, foreign_key));
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn changes_are_limited_per_user() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let (session, _) = env.sign_in(IN_ADMIN).await;
    let before = creates(&env, "in").await;
    let mut statuses = std::collections::BTreeMap::new();
    // As for sign-ins: the limiter counts in windows of a wall-clock minute, and a burst that
    // crosses into the next minute starts counting again.
    let minute = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 60
    };
    let first_minute = minute();
    for i in 0..130 {
        let student = json!({"first_name": "Rate", "last_name": format!("Limit{i}"),
                             "college": "Bharat College", "course": "Data Science",
                             "email": format!("limit{i}@bharat.example"), "phone": ""});
        let r = send(&env, &session, "POST", "/api/students", Some(&student)).await;
        let status = r.status().as_u16();
        *statuses.entry(status).or_insert(0u32) += 1;
        if status == 429 {
            assert!(r.headers().contains_key("retry-after"));
            assert_eq!(error_of(r).await.1, codes::RATE_LIMITED);
        }
    }
    let last_minute = minute();
    let windows = last_minute - first_minute + 1;
    let made = creates(&env, "in").await - before;
    eprintln!(
        "130 creates of one user in a row over {windows} minute(s): {statuses:?}, {made} reached Zoho"
    );
    let created = statuses.get(&201).copied().unwrap_or(0);
    assert!(
        created <= 120 * windows as u32 && (windows > 1 || statuses.contains_key(&429)),
        "{statuses:?} in {windows} minute(s)"
    );
    assert_eq!(
        created + statuses.get(&429).copied().unwrap_or(0),
        130,
        "{statuses:?}"
    );
    assert_eq!(
        u64::from(created),
        made,
        "a refused change is not sent to Zoho"
    );
    // Reads are not limited.
    let r = env.get_with_session("/api/students", &session).await;
    assert_eq!(r.status(), 200);
    // The user's spent budget is not left to the suites after this one (`load` writes as them).
    while minute() == last_minute {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn the_proxy_writes_one_record_at_a_time_and_starts_no_workflow() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let (session, _) = env.sign_in(US_ADMIN).await;
    let writes = |stats: &serde_json::Value| {
        ["POST", "PUT", "DELETE"]
            .iter()
            .map(|m| {
                stats["by_route"][format!("{m} /{{dc}}/{{env}}/crm/v8/Leads")]
                    .as_u64()
                    .unwrap_or(0)
            })
            .sum::<u64>()
    };
    let before = writes(&env.sim_get("stats").await);
    let lead = |name: &str| json!({"Last_Name": name, "Email": format!("{name}@proxy.example")});
    for (method, path, body) in [
        (
            "POST",
            "/api/crm/Leads",
            Some(json!({"data": [lead("a"), lead("b")]})),
        ),
        (
            "PUT",
            "/api/crm/Leads",
            Some(json!({"data": [lead("a"), lead("b")]})),
        ),
        (
            "POST",
            "/api/crm/Leads",
            Some(json!({"data": [lead("c")], "trigger": ["workflow"]})),
        ),
        (
            "POST",
            "/api/crm/Contacts",
            Some(json!({"data": [lead("d")], "trigger": "approval"})),
        ),
        (
            "DELETE",
            "/api/crm/Leads?ids=5725767000000001001,5725767000000001002",
            None,
        ),
    ] {
        let r = send(&env, &session, method, path, body.as_ref()).await;
        assert_eq!(
            error_of(r).await,
            (400, codes::INVALID_REQUEST.to_owned()),
            "{method} {path} {body:?}"
        );
    }
    assert_eq!(
        writes(&env.sim_get("stats").await),
        before,
        "no bulk write and no trigger reached Zoho"
    );
    // One record without a trigger passes (sent with "trigger": []).
    let one = json!({"data": [lead("one")]});
    let r = send(&env, &session, "POST", "/api/crm/Leads", Some(&one)).await;
    assert_eq!(r.status(), 201);
    assert_eq!(writes(&env.sim_get("stats").await), before + 1);
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
    let key = format!("user:us:production:{}:5725767000000300001", info.org_id);
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

/// The workerd process that listens on the Worker's port (`wrangler dev` starts it with
/// `--socket-addr=entry=127.0.0.1:<port>`), found in `/proc`.
fn workerd_of(worker_url: &str) -> u32 {
    let port = worker_url.rsplit(':').next().unwrap().trim_end_matches('/');
    let needle = format!("entry=127.0.0.1:{port}");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
            args.first().is_some_and(|a| a.ends_with(b"/workerd"))
                && args.iter().any(|a| a.ends_with(needle.as_bytes()))
        })
        .unwrap_or_else(|| panic!("no workerd process listens on {needle}"))
}

/// `VmRSS` of `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

/// What a chunked upload came to: bytes sent before the answer's first bytes arrived, the
/// answer, and the bytes sent in all (the sender goes on after the answer, up to the whole
/// body or until the connection is closed).
struct Upload {
    sent_before_answer: usize,
    sent: usize,
    status: u16,
    body: String,
}

/// `POST path` with a chunked body of `total` bytes (no `Content-Length`), `chunk` bytes at a
/// time, waiting after each chunk for an answer: over a raw socket, so that nothing buffers
/// the body on the client side.
fn chunked_post(worker_url: &str, path: &str, cookie: Option<&str>, total: usize) -> Upload {
    use std::io::{Read, Write};
    const CHUNK: usize = 64 * 1024;
    let addr = worker_url
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    socket.set_nodelay(true).unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ntransfer-encoding: chunked\r\n\
         content-type: application/json\r\n{}: {}\r\ncf-connecting-ip: {}\r\n",
        zcrm_api::CSRF_HEADER,
        zcrm_api::CSRF_VALUE,
        support::new_client_address()
    );
    if let Some(cookie) = cookie {
        head.push_str(&format!("cookie: {SESSION_COOKIE}={cookie}\r\n"));
    }
    head.push_str("\r\n");
    socket.write_all(head.as_bytes()).unwrap();
    // JSON's start, then spaces: a body that is only refused for its size.
    let mut data = vec![b' '; CHUNK];
    data[0] = b'{';
    let mut answer = Vec::new();
    let mut sent = 0;
    let mut sent_before_answer = None;
    let mut buf = [0u8; 16 * 1024];
    socket
        .set_read_timeout(Some(std::time::Duration::from_millis(150)))
        .unwrap();
    while sent < total {
        let frame = [format!("{CHUNK:x}\r\n").as_bytes(), &data, b"\r\n"].concat();
        if socket.write_all(&frame).is_err() {
            break; // the Worker closed the connection
        }
        data[0] = b' ';
        sent += CHUNK;
        match socket.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                sent_before_answer.get_or_insert(sent);
                answer.extend_from_slice(&buf[..n]);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    if sent >= total {
        let _ = socket.write_all(b"0\r\n\r\n");
    }
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    loop {
        let text = String::from_utf8_lossy(&answer);
        if let Some((head, body)) = text.split_once("\r\n\r\n")
            && (body.ends_with('}') || body.ends_with("0\r\n\r\n"))
            && head.starts_with("HTTP/1.1")
        {
            break;
        }
        match socket.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                sent_before_answer.get_or_insert(sent);
                answer.extend_from_slice(&buf[..n]);
            }
        }
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("an answer to {path}: {text:?}"));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
    // A chunked answer: its JSON is the part between the first line and the next `\r\n`.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body.split("\r\n").nth(1).unwrap_or_default().to_owned()
    } else {
        body.to_owned()
    };
    Upload {
        sent_before_answer: sent_before_answer.unwrap_or(sent),
        sent,
        status,
        body,
    }
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_huge_chunked_body_is_refused_at_its_cap_without_being_buffered() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let (session, _) = env.sign_in(US_ADMIN).await;
    let workerd = workerd_of(&env.worker_url);
    const MB: usize = 1024 * 1024;
    const CHUNK: usize = 64 * 1024;
    // (route, session, the answer, the cap: what the Worker may read before answering)
    let cases = [
        (
            "/auth/callback",
            None,
            (413, codes::PAYLOAD_TOO_LARGE),
            4 * 1024,
        ),
        (
            "/api/students/bulk",
            Some(session.as_str()),
            (413, codes::PAYLOAD_TOO_LARGE),
            256 * 1024,
        ),
        (
            "/api/crm/Leads",
            Some(session.as_str()),
            (413, codes::PAYLOAD_TOO_LARGE),
            64 * 1024,
        ),
        // No session: refused before a byte of the body is read.
        ("/api/students", None, (401, codes::UNAUTHENTICATED), 0),
    ];
    for (path, cookie, (status, code), cap) in cases {
        let baseline = rss_kib(workerd);
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(baseline));
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = {
            let (peak, done) = (peak.clone(), done.clone());
            std::thread::spawn(move || {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    peak.fetch_max(rss_kib(workerd), std::sync::atomic::Ordering::Relaxed);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            })
        };
        let url = env.worker_url.clone();
        let cookie = cookie.map(str::to_owned);
        let upload = tokio::task::spawn_blocking(move || {
            chunked_post(&url, path, cookie.as_deref(), 20 * MB)
        })
        .await
        .unwrap();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        sampler.join().unwrap();
        let grew_kib = peak
            .load(std::sync::atomic::Ordering::Relaxed)
            .saturating_sub(baseline);
        eprintln!(
            "20 MB chunked to {path}: {status} after {} KiB sent ({} KiB in all), workerd RSS +{grew_kib} KiB",
            upload.sent_before_answer / 1024,
            upload.sent / 1024
        );
        assert_eq!(upload.status, status, "{path}: {}", upload.body);
        support::assert_no_secrets(&upload.body);
        let e: ApiError = serde_json::from_str(&upload.body)
            .unwrap_or_else(|_| panic!("{path}: a JSON error, got {:?}", upload.body));
        assert_eq!(e.error.code, code, "{path}");
        // The answer came once the cap and the chunk crossing it were sent (one more chunk may
        // have been on its way while the answer travelled back).
        assert!(
            upload.sent_before_answer <= cap + 2 * CHUNK,
            "{path}: answered only after {} KiB",
            upload.sent_before_answer / 1024
        );
        // Whatever was sent after the answer, workerd did not keep it.
        assert!(
            grew_kib < 8 * 1024,
            "{path}: workerd grew by {grew_kib} KiB for a 20 MB body"
        );
    }
    // The session is untouched, and the Worker answers as before.
    let r = env.get_with_session("/api/session", &session).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn the_login_cookie_is_sealed_with_a_key_of_its_own() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let ring = zcrm_edge::seal::Keyring::parse(
        &std::env::var("ZCRM_TOKEN_KEYS").expect("run with `cargo xtask test`"),
    )
    .unwrap();
    let started = env.start().await;
    // Opened by the key HKDF derives for logins, and by neither the configured key itself nor
    // the key derived for the tokens, whatever the purpose.
    let login = ring
        .derive("login")
        .open("login", &started.login_cookie)
        .expect("the login cookie opens with the login key");
    assert!(serde_json::from_slice::<serde_json::Value>(&login).is_ok());
    assert_eq!(ring.open("login", &started.login_cookie), None);
    assert_eq!(
        ring.derive("tokens").open("login", &started.login_cookie),
        None
    );
    // And the login still works.
    let callback = env.approve(&started, US_ADMIN).await;
    let r = env.callback(&started.login_cookie, &callback).await;
    assert_eq!(r.status(), 200);
}

/// Status, code and reason of an error answer.
async fn why_of(r: reqwest::Response) -> (u16, String, Option<SignedOutReason>, Option<u64>) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let e: ApiError = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status} {text}"));
    (
        status,
        e.error.code,
        e.error.reason,
        e.error.retry_after_secs,
    )
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn every_401_and_every_refused_sign_in_says_why() {
    use SignedOutReason::*;
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let unauthenticated = codes::UNAUTHENTICATED.to_owned();
    // No session, a forged one, one signed out.
    let r = env
        .http
        .get(env.worker("/api/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        why_of(r).await,
        (401, unauthenticated.clone(), Some(SignedOut), None)
    );
    let r = env.get_with_session("/api/students", "junk").await;
    assert_eq!(
        why_of(r).await,
        (401, unauthenticated.clone(), Some(SignedOut), None)
    );
    let (session, _) = env.sign_in(US_ADMIN).await;
    env.post_with_session("/auth/logout", &session).await;
    let r = env.get_with_session("/api/session", &session).await;
    assert_eq!(
        why_of(r).await,
        (401, unauthenticated, Some(SignedOut), None)
    );

    // Zoho no longer accepts the grant: the request that finds out, and the session after.
    let (session, _) = env.sign_in(US_ADMIN).await;
    env.sim_post("clock", json!({"advance_secs": 3700})).await;
    env.sim_post(
        "faults",
        json!({"path": TOKEN_PATH, "method": "POST", "status": 200,
               "body": {"error": "invalid_code"}, "times": 1}),
    )
    .await;
    let expired = codes::SESSION_EXPIRED.to_owned();
    let r = env.get_with_session("/api/students", &session).await;
    assert_eq!(
        why_of(r).await,
        (401, expired.clone(), Some(RevokedAtZoho), None)
    );
    let r = env.get_with_session("/api/session", &session).await;
    assert_eq!(why_of(r).await, (401, expired, Some(RevokedAtZoho), None));

    // Zoho throttles the code exchange: not signed in, and when to try again.
    env.clear_faults().await;
    env.sim_post(
        "faults",
        json!({"path": TOKEN_PATH, "method": "POST", "status": 200, "times": 1,
               "body": {"error": "Access Denied", "status": "failure",
                        "error_description": "You have made too many requests continuously. Please try again after some time."}}),
    )
    .await;
    let started = env.start().await;
    let callback = env.approve(&started, US_ADMIN).await;
    let r = env.callback(&started.login_cookie, &callback).await;
    assert_eq!(r.headers()["retry-after"], "600");
    assert_eq!(
        why_of(r).await,
        (
            429,
            codes::RATE_LIMITED.to_owned(),
            Some(Throttled),
            Some(600)
        )
    );
    // A refusal that is not about signing in carries no reason.
    let (session, _) = env.sign_in(US_ADMIN).await;
    let r = env
        .get_with_session("/api/students?sort=nope", &session)
        .await;
    assert_eq!(why_of(r).await.2, None);
}
