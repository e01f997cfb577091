//! The sign-in screen in headless Chromium: why you are not signed in (`reason` of the edge's
//! 401s and sign-in refusals, issue 17), and the hand-over from the redirect page acting only on
//! what this tab's own young sign-in brought (issue 14, item 5).
//!
//! The tests take turns (they set faults on the simulator's token endpoint and reset it); the
//! app is Trunk's, in front of the production Worker, except for the organisation that is not
//! served, which is the developer Worker's, and a key retired from the ring, which is a Worker
//! of the test's own (both serve the release app themselves).

use std::time::Duration;

use serde_json::json;
use zcrm_tests::own_worker::random_key;
use zcrm_tests::{Browser, OwnWorker, Stack};

mod page;
mod support;
use page::*;
use support::{Env, SERIAL};

const US_ADMIN: &str = "admin@zylker-academy.example";
const NORTHWIND_ADMIN: &str = "admin@northwind-college.example";
const TOKEN_PATH: &str = "/us/accounts/oauth/v2/token";

/// The reason the sign-in screen shows (`data-reason`) and its sentence.
async fn reason_shown(b: &Browser, reason: &str) -> String {
    let css = format!("[data-testid=signed-out-reason][data-reason={reason}]");
    wait_for(b, &css).await.text().await.unwrap()
}

async fn notices(b: &Browser) -> usize {
    count(b, "[data-testid=notice]").await
}

async fn storage(b: &Browser, which: &str) -> serde_json::Value {
    b.client
        .execute(
            &format!("return Object.fromEntries(Object.entries({which}))"),
            vec![],
        )
        .await
        .unwrap()
}

async fn code_exchanges(env: &Env) -> u64 {
    env.sim_get("stats").await["by_path"][format!("POST {TOKEN_PATH}")]
        .as_u64()
        .unwrap_or(0)
}

/// Makes the list call again (a search), as a person carrying on would.
async fn carry_on(b: &Browser) {
    search(b, "a").await;
}

// ---------------------------------------------------------------------------------------------
// Why you are not signed in
// ---------------------------------------------------------------------------------------------

/// How many session checks (`GET /api/session`) the page has made since it loaded.
async fn session_checks(b: &Browser) -> u64 {
    b.client
        .execute(
            "return performance.getEntriesByType('resource').filter(e => new URL(e.name).pathname === '/api/session').length",
            vec![],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap()
}

async fn page_cookies(b: &Browser) -> String {
    b.client
        .execute("return document.cookie", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_first_visit_asks_nothing_and_the_hint_follows_the_session() {
    let _turn = SERIAL.lock().await;
    let _env = Env::new().await;
    let b = open_app(&Stack::from_env()).await;
    wait_for(&b, "[data-testid=sign-in]").await;
    // Nothing to check, so no request the browser would log as a failed one (Lighthouse's
    // best practices count a 401 in the console).
    assert_eq!(session_checks(&b).await, 0, "a first visit asks nothing");
    sign_in(&b, US_ADMIN, "Amelia Zylker").await;
    wait_for(&b, "[data-testid=student-row]").await;
    let cookies = page_cookies(&b).await;
    assert!(cookies.contains("__Host-zcrm-hint=1"), "{cookies}");
    assert!(
        !cookies.contains("zcrm-session"),
        "the session cookie is HttpOnly: {cookies}"
    );
    b.client.refresh().await.unwrap();
    wait_for(&b, "[data-testid=student-row]").await;
    assert_eq!(
        session_checks(&b).await,
        1,
        "with a session, one check on load"
    );
    click(&b, "[data-testid=sign-out]").await;
    wait_for(&b, "[data-testid=sign-in]").await;
    assert!(
        !page_cookies(&b).await.contains("zcrm-hint"),
        "sign-out clears the hint"
    );
    b.client.refresh().await.unwrap();
    wait_for(&b, "[data-testid=sign-in]").await;
    assert_eq!(
        session_checks(&b).await,
        0,
        "signed out again, nothing asked"
    );
    b.close().await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn signed_out_in_another_tab_is_said() {
    let _turn = SERIAL.lock().await;
    let _env = Env::new().await;
    let b = open_app(&Stack::from_env()).await;
    assert_eq!(
        count(&b, "[data-testid=signed-out-reason]").await,
        0,
        "a first visit has no reason"
    );
    sign_in(&b, US_ADMIN, "Amelia Zylker").await;
    wait_for(&b, "[data-testid=student-row]").await;
    // Another tab of this browser signs out.
    let (status, _) = post_from_page(&b, "/auth/logout", &json!({})).await;
    assert_eq!(status, 204);
    carry_on(&b).await;
    let text = reason_shown(&b, "signed_out").await;
    assert!(text.contains("You were signed out"), "{text}");
    wait_for(&b, "[data-testid=sign-in]").await;
    b.close().await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn access_revoked_at_zoho_is_said_and_said_again_after_a_reload() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let b = open_app(&env.stack).await;
    sign_in(&b, US_ADMIN, "Amelia Zylker").await;
    wait_for(&b, "[data-testid=student-row]").await;
    // The access token is due, and Zoho refuses the refresh token (revoked in Zoho).
    env.sim_post("clock", json!({"advance_secs": 3700})).await;
    env.sim_post(
        "faults",
        json!({"path": TOKEN_PATH, "method": "POST", "status": 200,
               "body": {"error": "invalid_code"}, "times": 1}),
    )
    .await;
    carry_on(&b).await;
    let text = reason_shown(&b, "revoked_at_zoho").await;
    assert!(text.contains("revoked in Zoho"), "{text}");
    // The session check on load says it too (`GET /api/session`'s 401).
    b.client.refresh().await.unwrap();
    let text = reason_shown(&b, "revoked_at_zoho").await;
    assert!(text.contains("Sign in again"), "{text}");
    b.close().await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn zoho_throttling_sign_in_is_said_with_when_to_try_again() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    env.sim_post(
        "faults",
        json!({"path": TOKEN_PATH, "method": "POST", "status": 200, "times": 1,
               "body": {"error": "Access Denied", "status": "failure",
                        "error_description": "You have made too many requests continuously. Please try again after some time."}}),
    )
    .await;
    let b = open_app(&env.stack).await;
    let (main, popup) = open_popup(&b).await;
    answer_in_popup(&b, main, popup, US_ADMIN, true).await;
    let text = reason_shown(&b, "throttled").await;
    assert!(text.contains("Try again in 10 minutes"), "{text}");
    assert_eq!(count(&b, "[data-testid=user]").await, 0, "not signed in");
    // The reason goes once the person signs in.
    sign_in(&b, US_ADMIN, "Amelia Zylker").await;
    assert_eq!(count(&b, "[data-testid=signed-out-reason]").await, 0);
    b.close().await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn an_organisation_the_portal_does_not_serve_is_named() {
    let _turn = SERIAL.lock().await;
    // The developer Worker of test runs serves Eurotech's developer org only (ALLOWED_ORGS).
    let env = Env::new().await.at("developer");
    let b = Browser::start().await;
    b.client.goto(&env.worker("/")).await.unwrap();
    let (main, popup) = open_popup(&b).await;
    answer_in_popup_for(&b, main, popup, NORTHWIND_ADMIN, "developer", true).await;
    let text = reason_shown(&b, "org_not_allowed").await;
    assert!(
        text.contains("does not serve the Zoho organisation Northwind"),
        "{text}"
    );
    b.close().await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_sign_in_sealed_with_a_retired_key_is_said_to_have_expired() {
    let _turn = SERIAL.lock().await;
    // A Worker of this test's own, serving the release app (dist/, built by `cargo xtask
    // test`), deployed again with its old key retired from the ring (tests/tests/keys.rs).
    let (old, new) = (random_key("old"), random_key("new"));
    let mut worker = OwnWorker::start("keys-screen", &old);
    let mut env = Env::new().await;
    env.worker_url = worker.url.clone();
    // Signed in by hand; the browser gets the cookies the sign-in set.
    let started = env.start().await;
    let callback = env.approve(&started, US_ADMIN).await;
    let r = env.callback(&started.login_cookie, &callback).await;
    assert_eq!(r.status(), 200);
    let cookies: Vec<(String, String)> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| {
            let pair = v.to_str().ok()?.split(';').next()?;
            let (name, value) = pair.split_once('=')?;
            Some((name.trim().to_owned(), value.to_owned()))
        })
        .collect();
    assert!(cookies.iter().any(|(n, _)| n == support::SESSION_COOKIE));
    worker.restart(&new);

    let b = Browser::start().await;
    b.client.goto(&env.worker("/")).await.unwrap();
    wait_for(&b, "[data-testid=sign-in]").await;
    // As the page's own (the test's copy of the session cookie is not HttpOnly: the Worker
    // cannot tell, the browser sends it the same).
    for (name, value) in cookies {
        b.client
            .execute(
                "document.cookie = `${arguments[0]}=${arguments[1]}; Path=/; Secure`",
                vec![json!(name), json!(value)],
            )
            .await
            .unwrap();
    }
    b.client.refresh().await.unwrap();
    let text = reason_shown(&b, "expired").await;
    assert!(text.contains("Your sign-in expired"), "{text}");
    wait_for(&b, "[data-testid=sign-in]").await;
    assert_eq!(count(&b, "[data-testid=user]").await, 0, "not signed in");
    b.close().await;
}

// ---------------------------------------------------------------------------------------------
// The hand-over: only this tab's young sign-in
// ---------------------------------------------------------------------------------------------

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_link_to_the_redirect_page_from_elsewhere_changes_nothing() {
    let _turn = SERIAL.lock().await;
    let stack = Stack::from_env();
    let b = Browser::start().await;
    for query in [
        "error=Your+account+is+locked.+Call+555-0100&state=x",
        "error=access_denied&state=x",
        "code=1000.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef&state=x&location=us",
    ] {
        b.client
            .goto(&format!("{}/redirect.html?{query}", stack.app))
            .await
            .unwrap();
        wait_for(&b, "[data-testid=sign-in]").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let url = b.client.current_url().await.unwrap();
        assert_eq!((url.path(), url.query()), ("/", None), "{query}");
        assert_eq!(notices(&b).await, 0, "no message of the link's: {query}");
        assert_eq!(storage(&b, "localStorage").await, json!({}), "{query}");
        let text = wait_for(&b, "body").await.text().await.unwrap();
        assert!(!text.contains("555"), "{text}");
    }
    b.close().await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn only_zohos_known_errors_are_shown_and_in_words() {
    let _turn = SERIAL.lock().await;
    let stack = Stack::from_env();
    for (error, expected) in [
        ("access_denied", "You declined access in Zoho"),
        (
            "temporarily_unavailable",
            "Try signing in again in a moment",
        ),
        (
            "Your+account+is+locked.+Call+555-0100",
            "Zoho could not sign you in. Try signing in again.",
        ),
    ] {
        // A full-page sign-in of this tab, which Zoho ends with `error`.
        let b = open_app(&stack).await;
        wait_for(&b, "[data-testid=sign-in]").await;
        b.client
            .execute("window.open = () => null", vec![])
            .await
            .unwrap();
        click(&b, "[data-testid=sign-in]").await;
        click(&b, "[data-testid=full-page-sign-in]").await;
        wait_for(&b, "#sim_user").await;
        b.client
            .goto(&format!(
                "{}/redirect.html?error={error}&state=x",
                stack.app
            ))
            .await
            .unwrap();
        let text = wait_text(&b, "[data-testid=notice]", expected).await;
        assert!(!text.contains("555"), "{text}");
        assert_eq!(storage(&b, "localStorage").await, json!({}));
        assert_eq!(
            storage(&b, "sessionStorage").await,
            json!({}),
            "the attempt is over"
        );
        b.close().await;
    }
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_junk_code_from_another_tab_does_not_end_a_sign_in_under_way() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let b = open_app(&env.stack).await;
    let (main, popup) = open_popup(&b).await;
    let before = code_exchanges(&env).await;
    // Meanwhile a link opens the redirect page with a junk code in another tab.
    let other = b.client.new_window(true).await.unwrap();
    b.client.switch_to_window(other.handle).await.unwrap();
    b.client
        .goto(&format!(
            "{}/redirect.html?code=1000.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef&state=x&location=us&accounts-server=x",
            env.stack.app
        ))
        .await
        .unwrap();
    wait_for(&b, "[data-testid=sign-in]").await;
    b.client.close_window().await.unwrap();
    b.client.switch_to_window(main.clone()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    wait_text(&b, "[data-testid=sign-in-waiting]", "Zoho window").await;
    assert_eq!(notices(&b).await, 0);
    assert_eq!(code_exchanges(&env).await, before, "nothing was sent");
    // The sign-in under way finishes.
    answer_in_popup(&b, main, popup, US_ADMIN, true).await;
    wait_text(&b, "[data-testid=user-name]", "Amelia Zylker").await;
    assert_eq!(code_exchanges(&env).await, before + 1);
    b.close().await;
}

/// `window.name` of the window `handle`, read in that window (what another window would have to
/// guess to navigate it).
async fn window_name(b: &Browser, handle: fantoccini::wd::WindowHandle) -> String {
    b.client.switch_to_window(handle).await.unwrap();
    let name = b
        .client
        .execute("return window.name", vec![])
        .await
        .unwrap();
    name.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn each_sign_in_attempt_names_its_popup_anew() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let b = open_app(&env.stack).await;
    let mut names = Vec::new();
    for attempt in 0..2 {
        let (main, popup) = open_popup(&b).await;
        wait_for(&b, "[data-testid=sign-in-waiting]").await;
        names.push(window_name(&b, popup.clone()).await);
        if attempt == 0 {
            // The person closes the Zoho window and tries again.
            b.client.close_window().await.unwrap();
            b.client.switch_to_window(main).await.unwrap();
            wait_text(&b, "[data-testid=notice]", "window was closed").await;
        } else {
            b.client.switch_to_window(main.clone()).await.unwrap();
            // The popup of the second attempt still signs in.
            answer_in_popup(&b, main, popup, US_ADMIN, true).await;
            wait_text(&b, "[data-testid=user-name]", "Amelia Zylker").await;
        }
    }
    eprintln!("the popups' names: {names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("zcrm-signin-") && n.len() > 30),
        "a name with a random part: {names:?}"
    );
    assert_ne!(names[0], names[1], "a new name each attempt");
    b.close().await;
}

/// Leaves what the redirect page writes for an attempt that started `age_ms` ago, as if
/// this tab had started it, and reloads.
async fn hand_over_and_reload(b: &Browser, age_ms: u64) {
    b.client
        .execute(
            "const attempt = 'test-attempt.' + (Date.now() - arguments[0]); \
             sessionStorage.setItem('zcrm.signin.attempt', attempt); \
             localStorage.setItem('zcrm.oauth.state', 'x'); \
             localStorage.setItem('zcrm.oauth.location', 'us'); \
             localStorage.setItem('zcrm.oauth.attempt', attempt); \
             localStorage.setItem('zcrm.oauth.code', '1000.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef');",
            vec![json!(age_ms)],
        )
        .await
        .unwrap();
    b.client.refresh().await.unwrap();
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn handed_over_values_are_ignored_while_signed_in_and_once_old() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let b = open_app(&env.stack).await;
    sign_in(&b, US_ADMIN, "Amelia Zylker").await;
    let before = code_exchanges(&env).await;
    hand_over_and_reload(&b, 0).await;
    wait_text(&b, "[data-testid=user-name]", "Amelia Zylker").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(notices(&b).await, 0);
    assert_eq!(
        code_exchanges(&env).await,
        before,
        "no callback while signed in"
    );
    assert_eq!(
        storage(&b, "localStorage").await,
        json!({}),
        "and they are gone"
    );

    // Signed out, an attempt older than a login lives is not finished either.
    click(&b, "[data-testid=sign-out]").await;
    wait_for(&b, "[data-testid=sign-in]").await;
    hand_over_and_reload(&b, 11 * 60 * 1000).await;
    wait_for(&b, "[data-testid=sign-in]").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(notices(&b).await, 0);
    assert_eq!(count(&b, "[data-testid=sign-in-completing]").await, 0);
    assert_eq!(
        code_exchanges(&env).await,
        before,
        "an old attempt sends nothing"
    );
    // A young one of this tab is finished (here: Zoho refuses the junk code).
    hand_over_and_reload(&b, 0).await;
    wait_text(&b, "[data-testid=notice]", "expired or was").await;
    b.close().await;
}
