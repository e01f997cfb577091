//! The accounts server: authorize, token, refresh, revoke and Zoho's limits.

use crate::common::*;
use reqwest::Method;
use serde_json::{Value, json};
use zoho::oauth::{TokenErrorKind, TokenResponseError, parse_token_response};
use zoho::pkce;
use zoho::secret::CodeVerifier;

#[tokio::test]
async fn consent_page_lists_users_scopes_and_environments() {
    let sim = start().await;
    let a = sim.authorize(&[]).await;
    assert_eq!(a.status, 200);
    assert!(a.content_type.as_deref().unwrap().starts_with("text/html"));
    for email in [ADMIN_A, COORD_A, ADMIN_B, ADMIN_EU, ADMIN_IN, ADMIN_BULK] {
        assert!(a.text.contains(email), "{email} missing");
    }
    for scope in ALL_SCOPES.split(',') {
        assert!(a.text.contains(&format!("<code>{scope}</code>")), "{scope}");
    }
    for env in ["production", "sandbox", "developer"] {
        assert!(a.text.contains(&format!("<option value=\"{env}\">")));
    }
    assert!(a.text.contains("name=\"action\" value=\"approve\""));
    assert!(a.text.contains("name=\"action\" value=\"deny\""));
    assert!(
        a.text
            .contains(&format!("name=\"redirect_uri\" value=\"{REDIRECT}\""))
    );
    assert!(a.text.contains("name=\"state\" value=\"st-1\""));
}

#[tokio::test]
async fn consent_form_posts_approve_and_deny() {
    let sim = start().await;
    let url = format!("{}/oauth/v2/auth", sim.accounts("us"));
    let form = |action: &str| {
        zoho::form::build([
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", ALL_SCOPES),
            ("state", "s<&>"),
            ("sim_user", ADMIN_IN),
            ("sim_environment", "production"),
            ("action", action),
        ])
    };
    let post = |body: String| {
        sim.http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let a = answer(post(form("approve")).await.unwrap()).await;
    assert_eq!(a.status, 302);
    let loc = a.location.unwrap();
    assert!(loc.starts_with(&format!("{REDIRECT}?")), "{loc}");
    assert_eq!(param(&loc, "state").as_deref(), Some("s<&>"));
    assert_eq!(param(&loc, "location").as_deref(), Some("in"));
    assert!(param(&loc, "code").unwrap().starts_with("1000."));

    let a = answer(post(form("deny")).await.unwrap()).await;
    assert_eq!(a.status, 302);
    let loc = a.location.unwrap();
    assert_eq!(param(&loc, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&loc, "state").as_deref(), Some("s<&>"));
    assert_eq!(param(&loc, "code"), None);
}

#[tokio::test]
async fn sim_user_redirects_with_the_users_data_centre() {
    let sim = start().await;
    for (email, loc) in [(ADMIN_A, "us"), (ADMIN_EU, "eu"), (ADMIN_IN, "in")] {
        let a = sim.authorize(&[("sim_user", email)]).await;
        assert_eq!(a.status, 302);
        let url = a.location.unwrap();
        let q = query_of(&url);
        let keys: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["state", "code", "location", "accounts-server"]);
        assert_eq!(param(&url, "location").as_deref(), Some(loc));
        assert_eq!(
            param(&url, "accounts-server").unwrap(),
            format!("{}/{loc}/accounts", sim.base)
        );
        // The callback parses with the zoho crate and the server is in the simulator's table.
        match zoho::oauth::parse_callback(url.split_once('?').unwrap().1) {
            zoho::oauth::Callback::Approved {
                accounts_server, ..
            } => {
                let endpoints = zoho::Endpoints::simulator(&sim.base);
                assert_eq!(
                    endpoints
                        .data_center_of_accounts_server(&accounts_server.unwrap())
                        .unwrap()
                        .location(),
                    loc
                );
            }
            other => panic!("{other:?}"),
        }
    }
    // A state-less request gets no state back.
    let url = format!(
        "{}/oauth/v2/auth?{}",
        sim.accounts("us"),
        zoho::form::build([
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", "ZohoCRM.users.READ"),
            ("sim_user", ADMIN_A),
        ])
    );
    let loc = sim.get_url(&url).await.location.unwrap();
    assert_eq!(param(&loc, "state"), None);
}

#[tokio::test]
async fn sim_deny_denies_headlessly() {
    let sim = start().await;
    let a = sim
        .authorize(&[("sim_deny", "1"), ("sim_user", ADMIN_A)])
        .await;
    assert_eq!(a.status, 302);
    let loc = a.location.unwrap();
    assert_eq!(loc, format!("{REDIRECT}?error=access_denied&state=st-1"));
}

#[tokio::test]
async fn authorize_validates_its_parameters() {
    let sim = start().await;
    let a = sim
        .authorize(&[("client_id", "1000.OTHER"), ("sim_user", ADMIN_A)])
        .await;
    assert_eq!(a.status, 400);
    assert!(a.text.contains("Invalid Client"));
    for bad in [
        "http://127.0.0.1:8080/redirect.html/",
        "http://127.0.0.1:8080/redirect.htm",
        "http://127.0.0.1:8081/redirect.html",
        "https://evil.example/redirect.html",
    ] {
        let a = sim
            .authorize(&[("redirect_uri", bad), ("sim_user", ADMIN_A)])
            .await;
        assert_eq!(a.status, 400, "{bad}");
        assert!(a.text.contains("Invalid Redirect Uri"));
        assert!(a.location.is_none());
    }
    // The second default redirect URI is registered too.
    let a = sim
        .authorize(&[
            ("redirect_uri", "http://localhost:8080/redirect.html"),
            ("sim_user", ADMIN_A),
        ])
        .await;
    assert_eq!(a.status, 302);
    let redirected_error = |a: Answer| param(&a.location.unwrap(), "error");
    assert_eq!(
        redirected_error(
            sim.authorize(&[("response_type", "token"), ("sim_user", ADMIN_A)])
                .await
        )
        .as_deref(),
        Some("unsupported_response_type")
    );
    assert_eq!(
        redirected_error(
            sim.authorize(&[("scope", "not a scope!"), ("sim_user", ADMIN_A)])
                .await
        )
        .as_deref(),
        Some("invalid_scope")
    );
    assert_eq!(
        redirected_error(sim.authorize(&[("scope", ""), ("sim_user", ADMIN_A)]).await).as_deref(),
        Some("invalid_scope")
    );
    assert_eq!(
        redirected_error(
            sim.authorize(&[
                ("code_challenge", "x"),
                ("code_challenge_method", "MD5"),
                ("sim_user", ADMIN_A)
            ])
            .await
        )
        .as_deref(),
        Some("invalid_request")
    );
    let a = sim
        .authorize(&[("sim_user", "nobody@nowhere.example")])
        .await;
    assert_eq!(a.status, 400);
    let a = sim
        .authorize(&[("sim_user", ADMIN_B), ("sim_environment", "sandbox")])
        .await;
    assert_eq!(a.status, 400);
    assert!(a.text.contains("no sandbox environment"));
}

#[tokio::test]
async fn code_exchange_answers_like_zoho() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_EU).await;
    let mut keys: Vec<&String> = t.body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "access_token",
            "api_domain",
            "expires_in",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(t.body["token_type"], "Bearer");
    assert_eq!(t.body["expires_in"], 3600);
    assert_eq!(t.body["scope"], ALL_SCOPES);
    assert_eq!(t.api_domain, format!("{}/eu/production", sim.base));
    assert!(t.access.starts_with("1000.") && t.refresh.as_ref().unwrap().starts_with("1000."));
    let parsed = parse_token_response(200, &t.body.to_string()).unwrap();
    assert_eq!(parsed.expires_in_secs, 3600);

    // online: no refresh token.
    let t = sim
        .sign_in_with(ADMIN_A, &[("access_type", "online")])
        .await;
    assert!(t.refresh.is_none(), "{}", t.body);
    assert_eq!(t.api_domain, format!("{}/us/production", sim.base));

    // The parameters may come in the query string instead of a form body.
    let (code, _) = sim.code_for(ADMIN_B, &[]).await;
    let url = format!(
        "{}/oauth/v2/token?{}",
        sim.accounts("us"),
        zoho::form::build([
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("redirect_uri", REDIRECT),
            ("code", code.as_str()),
        ])
    );
    let a = answer(sim.http.post(url).send().await.unwrap()).await;
    assert_eq!(a.status, 200);
    assert!(a.json["access_token"].is_string(), "{}", a.text);
    assert_eq!(
        a.content_type.as_deref(),
        Some("application/json;charset=UTF-8")
    );
}

#[tokio::test]
async fn codes_are_single_use_and_expire_after_120_seconds() {
    let sim = start().await;
    let (code, loc) = sim.code_for(ADMIN_A, &[]).await;
    assert_eq!(sim.exchange(&loc, &code).await.status, 200);
    assert_token_error(&sim.exchange(&loc, &code).await, "invalid_code");

    let (code, loc) = sim.code_for(ADMIN_A, &[]).await;
    sim.advance(119).await;
    assert!(sim.exchange(&loc, &code).await.json["access_token"].is_string());

    let (code, loc) = sim.code_for(ADMIN_A, &[]).await;
    sim.advance(121).await;
    assert_token_error(&sim.exchange(&loc, &code).await, "invalid_code");
    assert_token_error(&sim.exchange(&loc, "1000.unknown").await, "invalid_code");
}

#[tokio::test]
async fn a_code_taken_to_another_data_centre_is_invalid_client() {
    let sim = start().await;
    let (code, loc) = sim.code_for(ADMIN_EU, &[]).await;
    assert_eq!(loc, "eu");
    assert_token_error(&sim.exchange("us", &code).await, "invalid_client");
    assert_token_error(&sim.exchange("in", &code).await, "invalid_client");
    // Still good where it belongs.
    assert!(sim.exchange("eu", &code).await.json["access_token"].is_string());
}

#[tokio::test]
async fn token_endpoint_errors_come_with_http_200() {
    let sim = start().await;
    let (code, _) = sim.code_for(ADMIN_A, &[]).await;
    let base = [
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT_ID),
        ("client_secret", SECRET),
        ("redirect_uri", REDIRECT),
        ("code", code.as_str()),
    ];
    let with = |k: &str, v: &'static str| -> Vec<(&str, &str)> {
        base.iter()
            .map(|&(a, b)| if a == k { (a, v) } else { (a, b) })
            .collect()
    };
    assert_token_error(
        &sim.token("us", &with("client_id", "1000.NOPE")).await,
        "invalid_client",
    );
    assert_token_error(
        &sim.token("us", &with("client_secret", "wrong")).await,
        "invalid_client_secret",
    );
    assert_token_error(
        &sim.token(
            "us",
            &with("redirect_uri", "http://localhost:8080/redirect.html"),
        )
        .await,
        "invalid_redirect_uri",
    );
    assert_token_error(
        &sim.token("us", &with("grant_type", "password")).await,
        "unsupported_grant_type",
    );
    // None of that used the code up.
    assert!(sim.token("us", &base).await.json["access_token"].is_string());
    for (kind, error) in [
        (TokenErrorKind::InvalidClient, "invalid_client"),
        (TokenErrorKind::InvalidCode, "invalid_code"),
    ] {
        assert_eq!(kind.as_str(), error);
    }
}

#[tokio::test]
async fn pkce_is_verified_when_a_challenge_was_sent() {
    let sim = start().await;
    let verifier = CodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    let challenge = pkce::s256_challenge(&verifier);
    let extra = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let exchange = |code: String, v: Option<&'static str>| {
        let sim = &sim;
        async move {
            let mut p = vec![
                ("grant_type", "authorization_code"),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("redirect_uri", REDIRECT),
                ("code", code.as_str()),
            ];
            if let Some(v) = v {
                p.push(("code_verifier", v));
            }
            sim.token("us", &p).await
        }
    };
    let (code, _) = sim.code_for(ADMIN_A, &extra).await;
    assert_token_error(&exchange(code, None).await, "invalid_code");
    let (code, _) = sim.code_for(ADMIN_A, &extra).await;
    assert_token_error(
        &exchange(code, Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx")).await,
        "invalid_code",
    );
    let (code, _) = sim.code_for(ADMIN_A, &extra).await;
    let a = exchange(code, Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).await;
    assert!(a.json["access_token"].is_string(), "{}", a.text);
    // plain
    let (code, _) = sim
        .code_for(
            ADMIN_A,
            &[
                ("code_challenge", "plain-verifier"),
                ("code_challenge_method", "plain"),
            ],
        )
        .await;
    let a = exchange(code, Some("plain-verifier")).await;
    assert!(a.json["access_token"].is_string(), "{}", a.text);
}

#[tokio::test]
async fn refresh_mints_new_access_tokens_in_its_own_data_centre() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_IN).await;
    let rt = t.refresh.clone().unwrap();
    let a = sim.refresh("in", &rt).await;
    assert_eq!(a.status, 200);
    let mut keys: Vec<&String> = a.json.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "access_token",
            "api_domain",
            "expires_in",
            "scope",
            "token_type"
        ]
    );
    let t2 = tokens(a.json);
    assert_ne!(t2.access, t.access);
    assert_eq!(t2.api_domain, format!("{}/in/production", sim.base));
    // Both access tokens work.
    for tok in [&t, &t2] {
        assert_eq!(sim.crm(Method::GET, tok, "org", None).await.status, 200);
    }
    assert_token_error(&sim.refresh("us", &rt).await, "invalid_client");
    assert_token_error(&sim.refresh("in", "1000.bogus").await, "invalid_code");
    let stats = sim.stats().await;
    assert_eq!(stats["users"][ADMIN_IN]["refreshes"], 1);
    assert_eq!(stats["users"][ADMIN_IN]["code_grants"], 1);
}

#[tokio::test]
async fn access_tokens_live_3600_seconds_of_simulator_time() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    sim.advance(3599).await;
    assert_eq!(sim.crm(Method::GET, &t, "org", None).await.status, 200);
    sim.advance(2).await;
    let a = sim.crm(Method::GET, &t, "org", None).await;
    assert_error(&a, 401, "INVALID_TOKEN");
    assert_eq!(
        a.json,
        json!({"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"})
    );
    // The refresh token outlives it.
    let t2 = tokens(sim.refresh("us", t.refresh.as_ref().unwrap()).await.json);
    assert_eq!(sim.crm(Method::GET, &t2, "org", None).await.status, 200);
}

#[tokio::test]
async fn ten_refreshes_per_ten_minutes_then_throttled() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_B).await;
    let rt = t.refresh.unwrap();
    for i in 0..10 {
        let a = sim.refresh("us", &rt).await;
        assert!(
            a.json["access_token"].is_string(),
            "refresh {i}: {}",
            a.text
        );
        sim.advance(10).await;
    }
    let a = sim.refresh("us", &rt).await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.json,
        json!({"error":"Access Denied","error_description":"You have made too many requests continuously. Please try again after some time.","status":"failure"})
    );
    match parse_token_response(a.status, &a.text) {
        Err(TokenResponseError::Token(e)) => assert_eq!(e.kind(), TokenErrorKind::Throttled),
        other => panic!("{other:?}"),
    }
    // Still throttled within the window, free again once the first refresh is 10 minutes old.
    sim.advance(400).await;
    assert_eq!(sim.refresh("us", &rt).await.json["error"], "Access Denied");
    sim.advance(200).await;
    assert!(sim.refresh("us", &rt).await.json["access_token"].is_string());
    let stats = sim.stats().await;
    assert_eq!(stats["users"][ADMIN_B]["refreshes"], 11);
    assert_eq!(stats["users"][ADMIN_B]["throttled"], 2);
    assert_eq!(stats["token"]["errors"]["Access Denied"], 2);
}

#[tokio::test]
async fn throttle_status_is_configurable() {
    let sim = start_with(zoho_sim::Config {
        throttle_status: 200,
        ..Default::default()
    })
    .await;
    sim.limits(json!({"refreshes_per_window": 1})).await;
    let t = sim.sign_in(ADMIN_B).await;
    let rt = t.refresh.unwrap();
    assert!(sim.refresh("us", &rt).await.json["access_token"].is_string());
    let a = sim.refresh("us", &rt).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json["error"], "Access Denied");
}

#[tokio::test]
async fn the_sixteenth_live_access_token_kills_the_oldest() {
    let sim = start().await;
    let first = sim.sign_in(ADMIN_A).await;
    let rt = first.refresh.clone().unwrap();
    let mut all = vec![first];
    for i in 0..15 {
        if i == 9 {
            sim.advance(601).await; // past the refresh window, well within token lifetime
        }
        let a = sim.refresh("us", &rt).await;
        assert!(a.json["access_token"].is_string(), "{i}: {}", a.text);
        all.push(tokens(a.json));
    }
    assert_eq!(all.len(), 16);
    assert_error(
        &sim.crm(Method::GET, &all[0], "org", None).await,
        401,
        "INVALID_TOKEN",
    );
    for t in &all[1..] {
        assert_eq!(sim.crm(Method::GET, t, "org", None).await.status, 200);
    }
    let stats = sim.stats().await;
    assert_eq!(stats["users"][ADMIN_A]["live_access_tokens"], 15);
}

#[tokio::test]
async fn the_twenty_first_refresh_token_deletes_the_oldest_with_its_access_tokens() {
    let sim = start().await;
    let mut all = Vec::new();
    for i in 0..21 {
        if i % 10 == 9 {
            sim.advance(601).await; // grant-code window
        }
        all.push(
            sim.self_client(ADMIN_IN, "ZohoCRM.org.READ", "production")
                .await,
        );
    }
    let oldest = &all[0];
    assert_token_error(
        &sim.refresh("in", oldest.refresh.as_ref().unwrap()).await,
        "invalid_code",
    );
    assert_error(
        &sim.crm(Method::GET, oldest, "org", None).await,
        401,
        "INVALID_TOKEN",
    );
    let second = &all[1];
    assert_eq!(sim.crm(Method::GET, second, "org", None).await.status, 200);
    assert!(
        sim.refresh("in", second.refresh.as_ref().unwrap())
            .await
            .json["access_token"]
            .is_string()
    );
    assert_eq!(sim.stats().await["users"][ADMIN_IN]["refresh_tokens"], 20);
}

#[tokio::test]
async fn ten_code_exchanges_per_client_per_ten_minutes() {
    // Zoho counts grant codes per client, whichever users they are for (the simulator counted
    // per client and user before).
    let sim = start().await;
    for user in [COORD_A, ADMIN_A, ADMIN_B, ADMIN_EU, ADMIN_IN].repeat(2) {
        sim.sign_in(user).await;
    }
    for user in [COORD_A, ADMIN_BULK] {
        let (code, loc) = sim.code_for(user, &[]).await;
        let a = sim.exchange(&loc, &code).await;
        assert_eq!(a.json["error"], "Access Denied", "{user}: {}", a.text);
    }
    assert_eq!(sim.stats().await["token"]["throttled"], 2);
    // Ten minutes later the window has moved on.
    sim.advance(601).await;
    let (code, loc) = sim.code_for(ADMIN_BULK, &[]).await;
    assert!(sim.exchange(&loc, &code).await.json["access_token"].is_string());
    // The limit can be switched off.
    sim.limits(json!({"code_exchanges_per_window": 0})).await;
    for _ in 0..12 {
        sim.sign_in(COORD_A).await;
    }
}

#[tokio::test]
async fn offline_gives_a_refresh_token_on_first_consent_or_with_prompt_consent() {
    let sim = start().await;
    assert!(sim.sign_in(ADMIN_B).await.refresh.is_some());
    assert!(sim.sign_in(ADMIN_B).await.refresh.is_none());
    assert!(
        sim.sign_in_with(ADMIN_B, &[("prompt", "consent")])
            .await
            .refresh
            .is_some()
    );
    assert_eq!(sim.stats().await["users"][ADMIN_B]["refresh_tokens"], 2);
}

#[tokio::test]
async fn revoke_kills_the_refresh_token_and_its_access_tokens() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_EU).await;
    let rt = t.refresh.clone().unwrap();
    let t2 = tokens(sim.refresh("eu", &rt).await.json);
    let url = format!(
        "{}/oauth/v2/token/revoke?token={}",
        sim.accounts("eu"),
        zoho::form::encode_component(&rt)
    );
    // At another data centre: unknown.
    let wrong = url.replace("/eu/", "/us/");
    let a = answer(sim.http.post(&wrong).send().await.unwrap()).await;
    assert_eq!(a.status, 400);
    let a = answer(sim.http.post(&url).send().await.unwrap()).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json, json!({"status": "success"}));
    assert!(zoho::oauth::parse_revoke_response(a.status, &a.text).is_ok());
    for tok in [&t, &t2] {
        assert_error(
            &sim.crm(Method::GET, tok, "org", None).await,
            401,
            "INVALID_TOKEN",
        );
    }
    assert_token_error(&sim.refresh("eu", &rt).await, "invalid_code");
    let a = answer(sim.http.post(&url).send().await.unwrap()).await;
    assert_eq!(a.status, 400);
    assert!(zoho::oauth::parse_revoke_response(a.status, &a.text).is_err());

    // As the SDK does it: a form body.
    let t = sim.sign_in_with(ADMIN_EU, &[("prompt", "consent")]).await;
    let a = answer(
        sim.http
            .post(format!("{}/oauth/v2/token/revoke", sim.accounts("eu")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={}", t.refresh.unwrap()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.json, json!({"status": "success"}));
    assert_eq!(sim.stats().await["users"][ADMIN_EU]["revokes"], 2);
}

#[tokio::test]
async fn legacy_expires_variant() {
    let sim = start_with(zoho_sim::Config {
        legacy_expires: true,
        ..Default::default()
    })
    .await;
    let t = sim.sign_in(ADMIN_A).await;
    assert_eq!(t.body["expires_in_sec"], 3600);
    assert_eq!(t.body["expires_in"], 3_600_000);
    assert_eq!(
        parse_token_response(200, &t.body.to_string())
            .unwrap()
            .expires_in_secs,
        3600
    );
    let a = sim.refresh("us", t.refresh.as_ref().unwrap()).await;
    assert_eq!(a.json["expires_in_sec"], 3600);
}

#[tokio::test]
async fn environments_have_their_own_tokens_and_api_domains() {
    let sim = start().await;
    let sandbox = sim
        .sign_in_with(ADMIN_A, &[("sim_environment", "sandbox")])
        .await;
    assert_eq!(sandbox.api_domain, format!("{}/us/sandbox", sim.base));
    let org = sim.crm(Method::GET, &sandbox, "org", None).await;
    assert_eq!(org.json["org"][0]["type"], "Sandbox");
    let prod = sim.sign_in(ADMIN_A).await;
    let prod_org = sim.crm(Method::GET, &prod, "org", None).await;
    assert_eq!(prod_org.json["org"][0]["type"], "Production");
    assert_ne!(prod_org.json["org"][0]["id"], org.json["org"][0]["id"]);
    // A production token at the sandbox domain (and the other way round) is invalid.
    let a = sim
        .crm_raw(
            Method::GET,
            &sandbox.api_domain,
            Some(&prod.access),
            "org",
            None,
        )
        .await;
    assert_error(&a, 401, "INVALID_TOKEN");
    let a = sim
        .crm_raw(
            Method::GET,
            &prod.api_domain,
            Some(&sandbox.access),
            "org",
            None,
        )
        .await;
    assert_error(&a, 401, "INVALID_TOKEN");
    // A developer environment in the EU.
    let dev = sim
        .sign_in_with(ADMIN_EU, &[("sim_environment", "developer")])
        .await;
    assert_eq!(dev.api_domain, format!("{}/eu/developer", sim.base));
    assert_eq!(
        sim.crm(Method::GET, &dev, "org", None).await.json["org"][0]["type"],
        "Developer"
    );
}

#[tokio::test]
async fn api_domain_follows_the_public_base() {
    let sim = start_with(zoho_sim::Config {
        public_base: Some("http://sim.test:9999/".into()),
        ..Default::default()
    })
    .await;
    let a = sim.authorize(&[("sim_user", ADMIN_EU)]).await;
    let loc = a.location.unwrap();
    assert_eq!(
        param(&loc, "accounts-server").unwrap(),
        "http://sim.test:9999/eu/accounts"
    );
    let code = param(&loc, "code").unwrap();
    let a = sim.exchange("eu", &code).await;
    assert_eq!(a.json["api_domain"], "http://sim.test:9999/eu/production");
    assert!(
        !a.text.contains("zohoapis"),
        "never a real Zoho URL: {}",
        a.text
    );
    let v: Value = a.json;
    assert!(
        v["api_domain"]
            .as_str()
            .unwrap()
            .starts_with("http://sim.test:9999")
    );
}

/// A `multipart/form-data` body as the `form-data` package (Zoho's Node.js SDK) writes it.
fn multipart(fields: &[(&str, &str)]) -> (String, String) {
    let boundary = "--------------------------834162731903581234567890";
    let mut body = String::new();
    for (k, v) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_multipart(sim: &Sim, url: &str, fields: &[(&str, &str)]) -> Answer {
    let (content_type, body) = multipart(fields);
    answer(
        sim.http
            .post(url)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Zoho takes the token endpoint's parameters from a multipart body too (its Node.js SDK sends
/// the exchange, the refresh and the revoke so), merged with the query string.
#[tokio::test]
async fn the_token_endpoint_reads_multipart_bodies_merged_with_the_query() {
    let sim = start().await;
    let (code, loc) = sim.code_for(ADMIN_EU, &[]).await;
    let token_url = format!("{}/oauth/v2/token", sim.accounts(&loc));
    let a = post_multipart(
        &sim,
        &format!("{token_url}?grant_type=authorization_code"),
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("redirect_uri", REDIRECT),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(a.status, 200);
    let t = tokens(a.json);
    let refresh = t.refresh.clone().expect("a refresh token");
    let refresh_with = |secret: &'static str| {
        let (sim, token_url, refresh) = (&sim, &token_url, &refresh);
        async move {
            let fields = [
                ("client_id", CLIENT_ID),
                ("client_secret", secret),
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
            ];
            post_multipart(sim, token_url, &fields).await
        }
    };
    let r = refresh_with(SECRET).await;
    assert!(r.json["access_token"].is_string(), "{}", r.text);
    // A wrong secret in the multipart body is read, and refused.
    let bad = refresh_with("wrong").await;
    assert_eq!(bad.json["error"], "invalid_client_secret", "{}", bad.text);
    let revoked =
        post_multipart(&sim, &format!("{token_url}/revoke"), &[("token", &refresh)]).await;
    assert_eq!(revoked.json, json!({"status": "success"}));
    let again = refresh_with(SECRET).await;
    assert_eq!(again.json["error"], "invalid_code", "{}", again.text);
    assert_eq!(sim.stats().await["users"][ADMIN_EU]["refreshes"], 1);
}
