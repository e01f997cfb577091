//! Black-box tests of sign-in, sessions and logout: the Worker in workerd (`wrangler dev`)
//! against the simulator, over HTTP only.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{
    Elsewhere, Env, LOGIN_COOKIE, SERIAL, SESSION_COOKIE, assert_no_secrets, set_cookie,
};
use zcrm_api::{ApiError, CSRF_HEADER, CSRF_VALUE, SessionInfo, codes};

const US_ADMIN: &str = "admin@zylker-academy.example";
const EU_ADMIN: &str = "admin@eurotech-institute.example";
const IN_ADMIN: &str = "admin@bharat-learning.example";

async fn error_code(r: reqwest::Response) -> String {
    let text = r.text().await.unwrap();
    assert_no_secrets(&text);
    serde_json::from_str::<ApiError>(&text)
        .unwrap_or_else(|e| panic!("an ApiError body, got {text:?}: {e}"))
        .error
        .code
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn start_redirects_to_the_us_authorize_page_with_state_and_pkce() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let r = env
        .http
        .get(env.worker("/auth/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let login = set_cookie(&r, LOGIN_COOKIE).expect("a login cookie");
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=600",
    ] {
        assert!(
            login.attributes.contains(attribute),
            "{attribute} in {}",
            login.attributes
        );
    }
    let location = reqwest::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(
        location.as_str().split('?').next().unwrap(),
        format!("{}/us/accounts/oauth/v2/auth", env.stack.sim)
    );
    let params: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["client_id"], "1000.ZCRMEDGEDEV");
    assert_eq!(
        params["redirect_uri"],
        format!("{}/redirect.html", env.stack.app)
    );
    assert_eq!(
        params["scope"],
        "ZohoCRM.modules.leads.ALL,ZohoCRM.modules.contacts.ALL,ZohoCRM.settings.fields.READ,\
         ZohoCRM.users.READ,ZohoCRM.org.READ"
    );
    assert_eq!(params["access_type"], "offline");
    assert_eq!(params["prompt"], "consent");
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["code_challenge"].len(), 43);
    assert_eq!(params["state"].len(), 43);
    assert!(
        !login.value.contains(&params["state"]),
        "the login cookie is sealed"
    );
    // Two starts, two different logins.
    let again = env.start().await;
    assert!(!again.authorize_url.contains(&params["state"]));
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn users_of_three_data_centres_sign_in_and_keep_a_session() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    for (email, dc, org) in [
        (US_ADMIN, "us", "Zylker Academy"),
        (EU_ADMIN, "eu", "EuroTech Institute"),
        (IN_ADMIN, "in", "Bharat Learning"),
    ] {
        let started = env.start().await;
        let callback = env.approve(&started, email).await;
        assert_eq!(callback.location, dc);
        let r = env.callback(&started.login_cookie, &callback).await;
        assert_eq!(r.status(), 200, "{email}");
        let session = set_cookie(&r, SESSION_COOKIE).expect("a session cookie");
        // The session id (43 characters), then the grant it belongs to.
        let grant = &session.value[43..];
        assert!(grant.starts_with(&format!("{dc}-production-")), "{grant}");
        assert_grant_shape(grant);
        for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
            assert!(session.attributes.contains(attribute), "{attribute}");
        }
        let cleared = set_cookie(&r, LOGIN_COOKIE).expect("the login cookie is cleared");
        assert!(cleared.value.is_empty() && cleared.attributes.contains("Max-Age=0"));
        let text = r.text().await.unwrap();
        assert_no_secrets(&text);
        let info: SessionInfo = serde_json::from_str(&text).unwrap();
        assert_eq!(info.email, email);
        assert_eq!(info.data_center, dc);
        assert_eq!(info.environment, "production");
        assert!(
            info.org_name.starts_with(org),
            "{} for {email}",
            info.org_name
        );

        let r = env.get_with_session("/api/session", &session.value).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<SessionInfo>().await.unwrap(), info);
    }
    // Each user's tokens came from their own data centre.
    let stats = env.sim_get("stats").await;
    for dc in ["us", "eu", "in"] {
        assert!(
            stats["by_path"][format!("POST /{dc}/accounts/oauth/v2/token")].as_u64() >= Some(1),
            "token exchange at {dc}: {}",
            stats["by_path"]
        );
        assert!(stats["by_path"][format!("GET /{dc}/production/crm/v8/org")].as_u64() >= Some(1));
    }
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_forged_state_is_refused_before_the_code_is_spent() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let started = env.start().await;
    let genuine = env.approve(&started, US_ADMIN).await;

    let mut forged = genuine.clone();
    forged.state = "A".repeat(43);
    let r = env.callback(&started.login_cookie, &forged).await;
    assert_eq!(r.status(), 400);
    assert_eq!(error_code(r).await, codes::INVALID_STATE);

    // A login cookie from another browser's sign-in does not fit this answer either.
    let other = env.start().await;
    let r = env.callback(&other.login_cookie, &genuine).await;
    assert_eq!(error_code(r).await, codes::INVALID_STATE);

    // No login cookie at all, or a tampered one.
    let r = env
        .http
        .post(env.worker("/auth/callback"))
        .header(CSRF_HEADER, CSRF_VALUE)
        .json(&genuine)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, codes::INVALID_STATE);
    let mut tampered = started.login_cookie.clone();
    tampered.replace_range(20..21, if &tampered[20..21] == "A" { "B" } else { "A" });
    let r = env.callback(&tampered, &genuine).await;
    assert_eq!(error_code(r).await, codes::INVALID_STATE);

    // The code was never taken to Zoho: the genuine callback still works with it.
    let r = env.callback(&started.login_cookie, &genuine).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn forged_data_centres_are_refused_and_nothing_is_sent_to_them() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let elsewhere = Elsewhere::new();
    let started = env.start().await;
    let genuine = env.approve(&started, EU_ADMIN).await;
    let sim = &env.stack.sim;
    for (location, accounts_server) in [
        ("eu".to_owned(), format!("{}/eu/accounts", elsewhere.url())),
        ("eu".to_owned(), "https://accounts.zoho.eu".to_owned()),
        ("eu".to_owned(), format!("{sim}/us/accounts")),
        ("us".to_owned(), format!("{sim}/eu/accounts")),
        ("xx".to_owned(), format!("{sim}/xx/accounts")),
        ("eu".to_owned(), format!("{sim}/eu/accounts.evil.example")),
        ("EU".to_owned(), format!("{sim}/eu/accounts")),
    ] {
        let mut forged = genuine.clone();
        forged.location = location.clone();
        forged.accounts_server = accounts_server.clone();
        let r = env.callback(&started.login_cookie, &forged).await;
        assert_eq!(r.status(), 400, "{location} {accounts_server}");
        assert_eq!(error_code(r).await, codes::INVALID_REQUEST);
    }
    elsewhere.assert_untouched("the forged data centres");
    let r = env.callback(&started.login_cookie, &genuine).await;
    assert_eq!(
        r.status(),
        200,
        "the code was not spent by the forged attempts"
    );
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_foreign_api_domain_from_the_token_endpoint_is_never_called() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let elsewhere = Elsewhere::new();
    env.sim_post(
        "faults",
        json!({
            "path": "/us/accounts/oauth/v2/token", "method": "POST", "status": 200, "times": 1,
            "body": {"access_token": "1000.forged", "refresh_token": "1000.forged",
                     "api_domain": format!("{}/us/production", elsewhere.url()),
                     "token_type": "Bearer", "expires_in": 3600}
        }),
    )
    .await;
    let started = env.start().await;
    let callback = env.approve(&started, US_ADMIN).await;
    let r = env.callback(&started.login_cookie, &callback).await;
    assert_eq!(r.status(), 502);
    assert!(set_cookie(&r, SESSION_COOKIE).is_none());
    assert_eq!(error_code(r).await, codes::UPSTREAM);
    elsewhere.assert_untouched("the foreign API domain");
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn an_expired_or_reused_code_asks_to_sign_in_again() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let started = env.start().await;
    let callback = env.approve(&started, US_ADMIN).await;
    env.sim_post("clock", json!({"advance_secs": 121})).await;
    let r = env.callback(&started.login_cookie, &callback).await;
    assert_eq!(r.status(), 400);
    assert_eq!(error_code(r).await, codes::INVALID_GRANT);

    let started = env.start().await;
    let callback = env.approve(&started, US_ADMIN).await;
    assert_eq!(
        env.callback(&started.login_cookie, &callback)
            .await
            .status(),
        200
    );
    let grants = env.sim_get("stats").await["token"]["code_grants"].clone();
    let r = env.callback(&started.login_cookie, &callback).await;
    assert_eq!(
        error_code(r).await,
        codes::INVALID_STATE,
        "a login is single use"
    );
    assert_eq!(
        env.sim_get("stats").await["token"]["code_grants"],
        grants,
        "its replay is refused before Zoho"
    );
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn signing_in_again_updates_the_user_in_place_and_revokes_the_older_token() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let (first, info1) = env.sign_in(EU_ADMIN).await;
    let (second, info2) = env.sign_in(EU_ADMIN).await;
    assert_eq!(info1, info2);
    assert_ne!(first, second);
    let stats = env.sim_user_stats(EU_ADMIN).await;
    assert_eq!(stats["code_grants"], 2);
    assert_eq!(
        stats["revokes"], 1,
        "the older refresh token is revoked: {stats}"
    );
    assert_eq!(
        stats["refresh_tokens"], 1,
        "one live refresh token at Zoho: {stats}"
    );
    for session in [&first, &second] {
        assert_eq!(
            env.get_with_session("/api/session", session).await.status(),
            200
        );
    }
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn logout_ends_this_session_and_everywhere_ends_them_all() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let (a, _) = env.sign_in(US_ADMIN).await;
    let (b, _) = env.sign_in(US_ADMIN).await;
    let (c, _) = env.sign_in(US_ADMIN).await;

    let r = env.post_with_session("/auth/logout", &a).await;
    assert_eq!(r.status(), 204);
    let cleared = set_cookie(&r, SESSION_COOKIE).expect("the cookie is cleared");
    assert!(cleared.attributes.contains("Max-Age=0"));
    assert_eq!(env.get_with_session("/api/session", &a).await.status(), 401);
    assert_eq!(env.get_with_session("/api/session", &b).await.status(), 200);

    let revokes_before = env.sim_user_stats(US_ADMIN).await["revokes"]
        .as_u64()
        .unwrap();
    let r = env.post_with_session("/auth/logout?everywhere=1", &b).await;
    assert_eq!(r.status(), 204);
    let stats = env.sim_user_stats(US_ADMIN).await;
    assert_eq!(stats["revokes"].as_u64().unwrap(), revokes_before + 1);
    assert_eq!(stats["refresh_tokens"], 0, "nothing left at Zoho: {stats}");
    for session in [&b, &c] {
        let r = env.get_with_session("/api/session", session).await;
        assert_eq!(r.status(), 401);
        let code = error_code(r).await;
        assert!(
            code == codes::UNAUTHENTICATED || code == codes::SESSION_EXPIRED,
            "{code}"
        );
    }
    // Logging out without a session is harmless.
    let r = env.post_with_session("/auth/logout", &a).await;
    assert_eq!(r.status(), 204);
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn state_changing_requests_need_the_csrf_header_and_our_origin() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let (session, _) = env.sign_in(IN_ADMIN).await;
    let cookie = format!("{SESSION_COOKIE}={session}");
    let logout = || {
        env.http
            .post(env.worker("/auth/logout"))
            .header("cookie", &cookie)
    };

    let r = logout().send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, codes::FORBIDDEN);
    let r = logout()
        .header(CSRF_HEADER, "XMLHttpRequest")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = logout()
        .header(CSRF_HEADER, CSRF_VALUE)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        env.get_with_session("/api/session", &session)
            .await
            .status(),
        200,
        "still signed in"
    );

    let r = logout()
        .header(CSRF_HEADER, CSRF_VALUE)
        .header("origin", &env.stack.app)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn malformed_callbacks_get_clear_errors() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let started = env.start().await;
    let post = |body: String| {
        env.http
            .post(env.worker("/auth/callback"))
            .header(CSRF_HEADER, CSRF_VALUE)
            .header("cookie", format!("{LOGIN_COOKIE}={}", started.login_cookie))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let valid = json!({"code": "1000.x", "state": "s", "location": "us", "accounts_server": "x"});
    let mut cases: Vec<(String, u16, &str)> = vec![
        ("not json".into(), 400, codes::INVALID_REQUEST),
        ("[]".into(), 400, codes::INVALID_REQUEST),
        (
            json!({"code": "1000.x"}).to_string(),
            400,
            codes::INVALID_REQUEST,
        ),
        (
            json!({"code": 1, "state": "s", "location": "us", "accounts_server": "x"}).to_string(),
            400,
            codes::INVALID_REQUEST,
        ),
        ("x".repeat(5000), 413, codes::PAYLOAD_TOO_LARGE),
    ];
    let mut extra = valid.clone();
    extra["redirect_uri"] = Value::from("https://evil.example");
    cases.push((extra.to_string(), 400, codes::INVALID_REQUEST));
    let mut control = valid.clone();
    control["code"] = Value::from("1000.a\nb");
    cases.push((control.to_string(), 400, codes::INVALID_REQUEST));
    for (body, status, code) in cases {
        let r = post(body.clone()).await.unwrap();
        assert_eq!(r.status(), status, "{body:.60}");
        assert_eq!(error_code(r).await, code, "{body:.60}");
    }
    // Wrong methods.
    let r = env
        .http
        .get(env.worker("/auth/callback"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn unknown_or_tampered_sessions_are_unauthenticated() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    // A real session id under another grant (another user's object does not know it), and a
    // forged id under a real grant.
    let (real, _) = env.sign_in(US_ADMIN).await;
    let (other, _) = env.sign_in(EU_ADMIN).await;
    let swapped = format!("{}{}", &real[..43], &other[43..]);
    let forged = format!("{}{}", "A".repeat(43), &real[43..]);
    for value in [
        "A".repeat(43),
        "short".to_owned(),
        "x".repeat(5000),
        swapped,
        forged,
        format!("{}us-production-1-2", &real[..43]),
    ] {
        let r = env.get_with_session("/api/session", &value).await;
        assert_eq!(r.status(), 401, "{value}");
        assert_eq!(error_code(r).await, codes::UNAUTHENTICATED);
    }
    let r = env.get_with_session("/api/session", &real).await;
    assert_eq!(r.status(), 200, "the real one still works");
    let r = env
        .http
        .get(env.worker("/api/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn sandbox_and_developer_workers_sign_users_in_to_their_environment() {
    let _turn = SERIAL.lock().await;
    for (environment, email, dc) in [("sandbox", US_ADMIN, "us"), ("developer", EU_ADMIN, "eu")] {
        let env = Env::new().await.at(environment);
        let health: zcrm_api::Health = env
            .http
            .get(env.worker("/api/health"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(health.environment, environment);
        let (session, info) = env.sign_in(email).await;
        assert_eq!(
            (info.environment.as_str(), info.data_center.as_str()),
            (environment, dc)
        );
        let r = env.get_with_session("/api/students", &session).await;
        assert_eq!(r.status(), 200, "{environment}");
        let stats = env.sim_get("stats").await;
        assert!(
            stats["by_server"][format!("{dc}/{environment}")].as_u64() >= Some(1),
            "CRM calls went to the {environment} API domain: {}",
            stats["by_server"]
        );

        // A grant for production taken to this Worker is refused with a clear message.
        let mut production = Env::new().await.at(environment);
        production.sim_environment = "production";
        let started = production.start().await;
        let callback = production.approve(&started, email).await;
        let r = production.callback(&started.login_cookie, &callback).await;
        assert_eq!(r.status(), 400, "{environment}");
        assert_eq!(error_code(r).await, codes::INVALID_REQUEST);
    }
}

/// A session cookie's grant part: `<dc>-<environment>-<org id>-<user id>`, ids in digits.
fn assert_grant_shape(grant: &str) {
    let parts: Vec<&str> = grant.split('-').collect();
    assert_eq!(parts.len(), 4, "{grant}");
    assert!(
        parts[2..]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
        "{grant}"
    );
}
