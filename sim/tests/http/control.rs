//! The control API under /__sim/, and the binary itself.

use crate::common::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test]
async fn users_lists_the_seed() {
    let sim = start().await;
    let a = sim.control(Method::GET, "users", Value::Null).await;
    assert_eq!(a.status, 200);
    let users = a.json["users"].as_array().unwrap();
    let find = |e: &str| users.iter().find(|u| u["email"] == e).unwrap().clone();
    let admin = find(ADMIN_A);
    assert_eq!(admin["location"], "us");
    assert_eq!(admin["role"], "admin");
    assert_eq!(admin["environments"], json!(["production", "sandbox"]));
    assert_eq!(
        admin["api_domains"]["sandbox"],
        format!("{}/us/sandbox", sim.base)
    );
    assert_eq!(
        admin["accounts_server"],
        format!("{}/us/accounts", sim.base)
    );
    assert_eq!(find(COORD_A)["role"], "standard");
    assert_eq!(find(COORD_A)["org"]["id"], admin["org"]["id"]);
    assert_ne!(find(ADMIN_B)["org"]["id"], admin["org"]["id"]);
    assert_eq!(find(ADMIN_B)["location"], "us");
    assert_eq!(find(ADMIN_EU)["location"], "eu");
    assert_eq!(
        find(ADMIN_EU)["environments"],
        json!(["production", "developer"])
    );
    assert_eq!(find(ADMIN_IN)["location"], "in");
    assert!(find(ADMIN_BULK)["org"]["zgid"].is_string());
    // Each environment is an org of its own, production's being `org`.
    assert_eq!(admin["orgs"]["production"]["zgid"], admin["org"]["zgid"]);
    assert_eq!(admin["orgs"]["production"]["id"], admin["org"]["id"]);
    assert!(admin["orgs"]["sandbox"]["zgid"].is_string());
    assert_ne!(admin["orgs"]["sandbox"]["zgid"], admin["org"]["zgid"]);
    assert_ne!(admin["orgs"]["sandbox"]["id"], admin["org"]["id"]);
    assert!(find(ADMIN_B)["orgs"]["sandbox"].is_null());
    // Deterministic: a second simulator has the same ids.
    let other = start().await;
    let b = other.control(Method::GET, "users", Value::Null).await;
    let strip = |v: &Value| -> Vec<(Value, Value)> {
        v["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| (u["id"].clone(), u["org"]["zgid"].clone()))
            .collect()
    };
    assert_eq!(strip(&a.json), strip(&b.json));
}

#[tokio::test]
async fn grant_mints_self_client_codes() {
    let sim = start().await;
    let a = sim
        .control(
            Method::POST,
            "grant",
            json!({"client_id": CLIENT_ID, "email": ADMIN_EU, "scope": "ZohoCRM.modules.ALL,ZohoCRM.org.READ", "environment": "production", "access_type": "offline"}),
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json["location"], "eu");
    assert_eq!(
        a.json["accounts_server"],
        format!("{}/eu/accounts", sim.base)
    );
    let code = a.json["code"].as_str().unwrap();
    // Self Client codes need no redirect_uri.
    let t = sim
        .token(
            "eu",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("code", code),
            ],
        )
        .await;
    assert!(t.json["refresh_token"].is_string(), "{}", t.text);
    assert_eq!(t.json["scope"], "ZohoCRM.modules.ALL,ZohoCRM.org.READ");
    let bad = |body: Value, status: u16, error: &str| {
        let sim = &sim;
        let error = error.to_owned();
        async move {
            let a = sim.control(Method::POST, "grant", body).await;
            assert_eq!(a.status, status, "{}", a.text);
            assert_eq!(a.json["error"], error.as_str());
        }
    };
    bad(
        json!({"client_id": "1000.OTHER", "email": ADMIN_A}),
        400,
        "invalid_client",
    )
    .await;
    bad(json!({"email": "nobody@x.example"}), 404, "unknown_user").await;
    bad(
        json!({"email": ADMIN_B, "environment": "sandbox"}),
        400,
        "environment_not_available",
    )
    .await;
    bad(
        json!({"email": ADMIN_B, "scope": "??"}),
        400,
        "invalid_scope",
    )
    .await;
    let a = sim
        .control(
            Method::POST,
            "grant",
            json!({"email": ADMIN_A, "environment": "sandbox"}),
        )
        .await;
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn faults_answer_a_status_and_body_for_the_next_n_requests() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    let f = sim
        .control(
            Method::POST,
            "faults",
            json!({"path": "/us/production/crm/v8/org", "status": 500, "body": {"code":"INTERNAL_ERROR","details":{},"message":"Internal Server Error","status":"error"}, "times": 2}),
        )
        .await;
    assert_eq!(f.status, 200);
    assert!(f.json["id"].is_u64());
    let listed = sim.control(Method::GET, "faults", Value::Null).await;
    assert_eq!(listed.json["faults"].as_array().unwrap().len(), 1);
    for _ in 0..2 {
        let a = sim.crm(Method::GET, &t, "org", None).await;
        assert_error(&a, 500, "INTERNAL_ERROR");
        assert_eq!(
            a.content_type.as_deref(),
            Some("application/json;charset=UTF-8")
        );
    }
    assert_eq!(sim.crm(Method::GET, &t, "org", None).await.status, 200);
    assert!(
        sim.control(Method::GET, "faults", Value::Null).await.json["faults"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // A raw string body goes out verbatim, with no Content-Type unless one is given.
    sim.control(Method::POST, "faults", json!({"path": "*/oauth/v2/token", "method": "POST", "status": 502, "body": "<html>bad gateway</html>"}))
        .await;
    let a = sim.refresh("us", t.refresh.as_ref().unwrap()).await;
    assert_eq!(a.status, 502);
    assert_eq!(a.text, "<html>bad gateway</html>");
    assert!(a.content_type.is_none());
    assert!(sim.refresh("us", t.refresh.as_ref().unwrap()).await.json["access_token"].is_string());

    // Method filters: a GET fault does not touch a POST.
    sim.control(
        Method::POST,
        "faults",
        json!({"path": "*/crm/v8/Leads", "method": "GET", "status": 503, "times": 0}),
    )
    .await;
    let created = sim
        .crm(
            Method::POST,
            &t,
            "Leads",
            Some(json!({"data":[{"Last_Name":"F"}]})),
        )
        .await;
    assert_eq!(created.status, 201);
    for _ in 0..3 {
        assert_eq!(
            sim.crm(Method::GET, &t, "Leads?fields=Last_Name", None)
                .await
                .status,
            503
        );
    }
    // Patterns with a ? match the query too.
    sim.control(Method::DELETE, "faults", Value::Null).await;
    sim.control(
        Method::POST,
        "faults",
        json!({"path": "*/users?type=CurrentUser", "status": 429}),
    )
    .await;
    assert_eq!(sim.crm(Method::GET, &t, "users", None).await.status, 200);
    assert_eq!(
        sim.crm(Method::GET, &t, "users?type=CurrentUser", None)
            .await
            .status,
        429
    );
    assert_eq!(sim.stats().await["faults_fired"], 7);
    // Bad faults are refused.
    assert_eq!(
        sim.control(Method::POST, "faults", json!({"path": "*"}))
            .await
            .status,
        400
    );
    assert_eq!(
        sim.control(Method::POST, "faults", json!({"status": 500}))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn a_delayed_create_whose_client_gives_up_still_creates() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    sim.control(
        Method::POST,
        "faults",
        json!({"path": "/us/production/crm/v8/Leads", "method": "POST", "delay_ms": 400}),
    )
    .await;
    let gave_up = sim
        .http
        .post(format!("{}/crm/v8/Leads", t.api_domain))
        .header("Authorization", format!("Zoho-oauthtoken {}", t.access))
        .body(json!({"data": [{"Last_Name": "Late", "Email": "late@student.example"}]}).to_string())
        .timeout(Duration::from_millis(100))
        .send()
        .await;
    assert!(gave_up.is_err(), "{gave_up:?}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let found = sim
        .crm(
            Method::GET,
            &t,
            "Leads/search?email=late@student.example",
            None,
        )
        .await;
    assert_eq!(found.status, 200, "{:?}", found.json);
    assert_eq!(found.json["data"][0]["Last_Name"], "Late");
}

#[tokio::test]
async fn faults_delay_and_drop_connections() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    sim.control(
        Method::POST,
        "faults",
        json!({"path": "/us/production/crm/v8/org", "delay_ms": 300}),
    )
    .await;
    let started = Instant::now();
    assert_eq!(sim.crm(Method::GET, &t, "org", None).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(sim.crm(Method::GET, &t, "org", None).await.status, 200);
    assert!(started.elapsed() < Duration::from_millis(300));

    sim.control(
        Method::POST,
        "faults",
        json!({"path": "*/oauth/v2/token", "drop": true}),
    )
    .await;
    let err = sim
        .http
        .post(format!("{}/oauth/v2/token", sim.accounts("us")))
        .body(format!(
            "grant_type=refresh_token&client_id={CLIENT_ID}&client_secret={SECRET}&refresh_token={}",
            t.refresh.as_ref().unwrap()
        ))
        .send()
        .await;
    assert!(
        err.is_err(),
        "the connection should have been dropped: {err:?}"
    );
    assert!(sim.refresh("us", t.refresh.as_ref().unwrap()).await.json["access_token"].is_string());
    // A delayed status.
    sim.control(
        Method::POST,
        "faults",
        json!({"path": "/us/production/*", "status": 504, "delay_ms": 200}),
    )
    .await;
    let started = Instant::now();
    assert_eq!(sim.crm(Method::GET, &t, "org", None).await.status, 504);
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn stats_count_routes_data_centres_and_users() {
    let sim = start().await;
    let us = sim.sign_in(ADMIN_A).await;
    let eu = sim.sign_in(ADMIN_EU).await;
    sim.refresh("eu", eu.refresh.as_ref().unwrap()).await;
    sim.refresh("eu", eu.refresh.as_ref().unwrap()).await;
    for _ in 0..3 {
        sim.crm(Method::GET, &us, "Leads?fields=Last_Name", None)
            .await;
    }
    sim.crm(Method::GET, &eu, "users?type=CurrentUser", None)
        .await;
    let s = sim.stats().await;
    assert_eq!(s["by_route"]["GET /{dc}/{env}/crm/v8/Leads"], 3);
    assert_eq!(s["by_route"]["GET /{dc}/{env}/crm/v8/users"], 1);
    assert_eq!(s["by_route"]["GET /{dc}/accounts/oauth/v2/auth"], 2);
    assert_eq!(s["by_route"]["POST /{dc}/accounts/oauth/v2/token"], 4);
    assert_eq!(s["by_path"]["GET /us/production/crm/v8/Leads"], 3);
    assert_eq!(s["by_dc"]["eu"], 4);
    assert_eq!(s["by_dc"]["us"], 6);
    assert_eq!(s["by_server"]["eu/accounts"], 3);
    assert_eq!(s["by_server"]["us/production"], 3);
    assert_eq!(s["by_status"]["302"], 2);
    assert_eq!(s["requests_total"], 10);
    assert_eq!(s["users"][ADMIN_EU]["refreshes"], 2);
    assert_eq!(s["users"][ADMIN_EU]["code_grants"], 1);
    assert_eq!(s["users"][ADMIN_EU]["crm_requests"], 1);
    assert_eq!(s["users"][ADMIN_EU]["live_access_tokens"], 3);
    assert_eq!(s["users"][ADMIN_A]["crm_requests"], 3);
    assert_eq!(s["users"][ADMIN_B]["refreshes"], 0);
    assert_eq!(s["token"]["refreshes"], 2);
    assert_eq!(s["token"]["code_grants"], 2);
    let r = sim.control(Method::GET, "requests", Value::Null).await;
    let reqs = r.json["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 10);
    assert_eq!(reqs[9]["path"], "/eu/production/crm/v8/users");
    assert_eq!(reqs[9]["user"], ADMIN_EU);
    assert_eq!(reqs[9]["status"], 200);
    assert_eq!(
        sim.control(Method::DELETE, "stats", Value::Null)
            .await
            .status,
        200
    );
    assert_eq!(sim.stats().await["requests_total"], 0);
}

#[tokio::test]
async fn reset_restores_the_seed() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    let a = sim
        .crm(
            Method::POST,
            &t,
            "Leads",
            Some(json!({"data":[{"Last_Name":"Temp"}]})),
        )
        .await;
    assert_eq!(a.status, 201);
    sim.advance(100).await;
    sim.control(
        Method::POST,
        "faults",
        json!({"path": "/nothing", "status": 500}),
    )
    .await;
    sim.limits(json!({"org_concurrency": 3})).await;
    assert_eq!(
        sim.control(Method::POST, "reset", Value::Null).await.json,
        json!({"status": "ok"})
    );
    // Tokens are gone, the record too, and the clock, faults, limits and stats are back.
    assert_error(
        &sim.crm(Method::GET, &t, "org", None).await,
        401,
        "INVALID_TOKEN",
    );
    let t = sim.sign_in(ADMIN_A).await;
    let list = sim
        .crm(Method::GET, &t, "Leads?fields=Last_Name", None)
        .await;
    assert_eq!(list.json["info"]["count"], 30);
    assert_eq!(
        sim.control(Method::GET, "clock", Value::Null).await.json["offset_secs"],
        0
    );
    assert!(
        sim.control(Method::GET, "faults", Value::Null).await.json["faults"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        sim.control(Method::GET, "limits", Value::Null).await.json["org_concurrency"],
        25
    );
    assert_eq!(sim.stats().await["requests_total"], 4);
}

#[tokio::test]
async fn clock_and_limits() {
    let sim = start().await;
    let c0 = sim.control(Method::GET, "clock", Value::Null).await.json;
    let c1 = sim
        .control(Method::POST, "clock", json!({"advance_secs": 7200}))
        .await
        .json;
    assert_eq!(c1["offset_secs"], 7200);
    assert!(c1["now"].as_i64().unwrap() >= c0["now"].as_i64().unwrap() + 7200);
    assert_eq!(
        sim.control(Method::POST, "clock", json!({})).await.status,
        400
    );
    let l = sim.control(Method::GET, "limits", Value::Null).await.json;
    assert_eq!(
        l,
        json!({"org_concurrency":25,"refreshes_per_window":10,"live_access_tokens":15,"refresh_tokens_per_user":20,"code_exchanges_per_window":10,"code_lifetime_secs":120,"access_token_lifetime_secs":3600})
    );
    let l = sim
        .control(Method::POST, "limits", json!({"code_lifetime_secs": 5}))
        .await;
    assert_eq!(l.json["code_lifetime_secs"], 5);
    assert_eq!(l.json["org_concurrency"], 25);
    assert_eq!(
        sim.control(Method::POST, "limits", json!({"bogus": 1}))
            .await
            .status,
        400
    );
    let (code, loc) = sim.code_for(ADMIN_A, &[]).await;
    sim.advance(6).await;
    assert_token_error(&sim.exchange(&loc, &code).await, "invalid_code");
    assert_eq!(
        sim.control(Method::GET, "nothing", Value::Null)
            .await
            .status,
        404
    );
    assert_eq!(
        sim.control(Method::GET, "health", Value::Null).await.status,
        200
    );
}

#[tokio::test]
async fn unknown_paths() {
    let sim = start().await;
    assert_eq!(
        sim.get_url(&format!("{}/xx/accounts/oauth/v2/auth", sim.base))
            .await
            .status,
        404
    );
    assert_eq!(
        sim.get_url(&format!("{}/us/accounts/elsewhere", sim.base))
            .await
            .status,
        404
    );
    assert_eq!(
        sim.get_url(&format!("{}/us/accounts/oauth/v2/token", sim.base))
            .await
            .status,
        405
    );
    let a = sim
        .get_url(&format!("{}/us/staging/crm/v8/org", sim.base))
        .await;
    assert_eq!(a.status, 404);
}

/// The binary: flags, one log line per request, a clean exit on SIGTERM.
#[cfg(unix)]
#[tokio::test]
async fn binary_logs_requests_and_exits_cleanly_on_sigterm() {
    use std::io::Read;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_zoho-sim"))
        .args([
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--client-id",
            "1000.CUSTOM",
            "--client-secret",
            "s3cret",
            "--redirect-uri",
            "http://127.0.0.1:9/cb",
            "--redirect-uri",
            "http://127.0.0.1:9/cb2",
            "--seed-leads",
            "3",
            "--legacy-expires",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut up = false;
    for _ in 0..100 {
        if http
            .get(format!("{base}/__sim/health"))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the simulator did not start");
    let auth = |redirect: &str| {
        format!(
            "{base}/us/accounts/oauth/v2/auth?{}",
            zoho::form::build([
                ("client_id", "1000.CUSTOM"),
                ("response_type", "code"),
                ("redirect_uri", redirect),
                ("scope", "ZohoCRM.modules.ALL"),
                ("sim_user", ADMIN_BULK),
            ])
        )
    };
    assert_eq!(
        http.get(auth(REDIRECT)).send().await.unwrap().status(),
        400,
        "defaults replaced"
    );
    let r = http
        .get(auth("http://127.0.0.1:9/cb2"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let code = param(r.headers()["location"].to_str().unwrap(), "code").unwrap();
    let r = http
        .post(format!("{base}/us/accounts/oauth/v2/token"))
        .body(zoho::form::build([
            ("grant_type", "authorization_code"),
            ("client_id", "1000.CUSTOM"),
            ("client_secret", "s3cret"),
            ("redirect_uri", "http://127.0.0.1:9/cb2"),
            ("code", code.as_str()),
        ]))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["expires_in_sec"], 3600, "{v}");
    let list = http
        .get(format!(
            "{base}/us/production/crm/v8/Leads?fields=Last_Name"
        ))
        .header(
            "Authorization",
            format!("Zoho-oauthtoken {}", v["access_token"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    let list: Value = list.json().await.unwrap();
    assert_eq!(list["info"]["count"], 3);

    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut exit = None;
    for _ in 0..100 {
        if let Some(s) = child.try_wait().unwrap() {
            exit = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let exit = exit.expect("the simulator did not exit on SIGTERM");
    assert!(exit.success(), "{exit:?}");
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let request_lines: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("INFO zoho_sim: ") && l.contains(" -> "))
        .collect();
    assert!(request_lines.len() >= 4, "{log}");
    assert!(
        log.contains("GET /us/production/crm/v8/Leads?fields=Last_Name -> 200"),
        "{log}"
    );
    assert!(!log.contains(&code), "secrets stay out of the log");
    assert!(log.contains("shutting down"));
}
