//! Sign-in and its login: redirects never followed, a login used once, attempts limited per
//! client address, an organisation not served, the login cookie's key, and why a sign-in or a
//! session ends.

use futures_util::future::join_all;
use serde_json::json;

use super::{US_ADMIN, error_of, send};
use crate::support::{self, Elsewhere, Env, SERIAL, SESSION_COOKIE, set_cookie};
use zcrm_api::{ApiError, SignedOutReason, codes};

const EU_ADMIN: &str = "admin@eurotech-institute.example";
const NORTHWIND_ADMIN: &str = "admin@northwind-college.example";
const TOKEN_PATH: &str = "/us/accounts/oauth/v2/token";

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
    let mut out = Vec::new();
    walk(&zcrm_tests::kv::worker_dir(worker), &mut out);
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

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_sign_in_that_fails_after_its_code_exchange_revokes_what_it_got() {
    let _turn = SERIAL.lock().await;
    let mut env = Env::new().await;
    let grants = |stats: &serde_json::Value| {
        (
            stats["code_grants"].as_u64().unwrap(),
            stats["revokes"].as_u64().unwrap(),
            stats["refresh_tokens"].as_u64().unwrap(),
        )
    };
    // (what fails after the exchange, the fault that makes it fail (every time: reads are
    // retried), the environment chosen at Zoho's page, the answer)
    let cases = [
        (
            "who the user is",
            Some(
                json!({"path": "/us/production/crm/v8/users", "method": "GET", "status": 503,
                        "body": {"code": "INTERNAL_ERROR"}, "times": 0}),
            ),
            "production",
            (502, codes::UPSTREAM),
        ),
        (
            "the organisation",
            Some(
                json!({"path": "/us/production/crm/v8/org", "method": "GET", "drop": true,
                        "times": 0}),
            ),
            "production",
            (502, codes::UPSTREAM),
        ),
        // Zoho's sandbox chosen at its page, for a portal of production: Zoho's API domain is
        // not this portal's.
        (
            "the environment",
            None,
            "sandbox",
            (400, codes::INVALID_REQUEST),
        ),
    ];
    for (n, (what, fault, environment, (status, code))) in cases.into_iter().enumerate() {
        if let Some(fault) = fault {
            env.sim_post("faults", fault).await;
        }
        env.sim_environment = environment;
        let started = env.start().await;
        let callback = env.approve(&started, US_ADMIN).await;
        let r = env.callback(&started.login_cookie, &callback).await;
        assert!(
            set_cookie(&r, SESSION_COOKIE).is_none(),
            "{what}: no session"
        );
        assert_eq!(error_of(r).await, (status, code.to_owned()), "{what}");
        let stats = env.sim_user_stats(US_ADMIN).await;
        let n = n as u64 + 1;
        assert_eq!(
            grants(&stats),
            (n, n, 0),
            "{what}: each exchange's grant revoked, none live: {stats}"
        );
        env.clear_faults().await;
    }
    // Then a sign-in that nothing fails keeps its grant.
    env.sim_environment = "production";
    env.sign_in(US_ADMIN).await;
    let stats = env.sim_user_stats(US_ADMIN).await;
    assert_eq!(grants(&stats), (4, 3, 1), "{stats}");
}
