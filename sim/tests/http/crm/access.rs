//! Access: authentication, scopes, URL patterns, modules and methods, query booleans, the
//! org's concurrency limit, conditional metadata.

use crate::common::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn authentication_errors() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    let a = sim
        .crm_raw(Method::GET, &t.api_domain, None, "org", None)
        .await;
    assert_eq!(
        a.json,
        json!({"code":"AUTHENTICATION_FAILURE","details":{},"message":"Authentication failed","status":"error"})
    );
    assert_eq!(a.status, 401);
    let a = answer(
        sim.http
            .get(format!("{}/crm/v8/org", t.api_domain))
            .header("Authorization", format!("Bearer {}", t.access))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&a, 401, "AUTHENTICATION_FAILURE");
    let a = sim
        .crm_raw(
            Method::GET,
            &t.api_domain,
            Some("1000.garbage"),
            "org",
            None,
        )
        .await;
    assert_eq!(
        a.text,
        r#"{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}"#
    );
    // A US token at the EU API domain.
    let eu = format!("{}/eu/production", sim.base);
    assert_error(
        &sim.crm_raw(Method::GET, &eu, Some(&t.access), "org", None)
            .await,
        401,
        "INVALID_TOKEN",
    );
    // The scheme name is case-insensitive.
    let a = answer(
        sim.http
            .get(format!("{}/crm/v8/org", t.api_domain))
            .header("Authorization", format!("zoho-oauthtoken {}", t.access))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn scopes_are_enforced() {
    let sim = start().await;
    let t = sim
        .self_client(ADMIN_A, "ZohoCRM.modules.leads.READ", "production")
        .await;
    assert_eq!(
        sim.crm(Method::GET, &t, "Leads?fields=Last_Name", None)
            .await
            .status,
        200
    );
    let a = sim
        .crm(Method::GET, &t, "users?type=CurrentUser", None)
        .await;
    assert_eq!(
        a.json,
        json!({"code":"OAUTH_SCOPE_MISMATCH","details":{},"message":"invalid oauth scope to access this URL","status":"error"})
    );
    assert_eq!(a.status, 401);
    #[rustfmt::skip]
    let errors = [
        (Method::GET, "org", 401, "OAUTH_SCOPE_MISMATCH"),
        (Method::GET, "settings/fields?module=Leads", 401, "OAUTH_SCOPE_MISMATCH"),
        (Method::GET, "Contacts?fields=Last_Name", 401, "OAUTH_SCOPE_MISMATCH"),
    ];
    sim.expect_errors(&t, &errors).await;
    assert_error(
        &sim.crm(
            Method::POST,
            &t,
            "Leads",
            Some(json!({"data":[{"Last_Name":"X"}]})),
        )
        .await,
        401,
        "OAUTH_SCOPE_MISMATCH",
    );
    let t = sim
        .self_client(
            ADMIN_A,
            "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL",
            "production",
        )
        .await;
    assert_eq!(
        sim.crm(Method::GET, &t, "settings/fields?module=Contacts", None)
            .await
            .status,
        200
    );
    assert_eq!(
        sim.crm(Method::GET, &t, "settings/modules", None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn url_pattern_module_and_method_errors() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    let invalid_url = json!({"code":"INVALID_URL_PATTERN","details":{},"message":"Please check if the URL trying to access is a correct one","status":"error"});
    for path in ["Leads/1/2/3", "settings/nothing", "org/extra"] {
        let a = sim.crm(Method::GET, &t, path, None).await;
        assert_eq!(a.status, 404, "{path}");
        assert_eq!(a.json, invalid_url, "{path}");
    }
    let a = answer(
        sim.http
            .get(format!("{}/crm/v2/Leads", t.api_domain))
            .header("Authorization", format!("Zoho-oauthtoken {}", t.access))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.json, invalid_url);
    let a = sim
        .crm(Method::GET, &t, "Deals?fields=Deal_Name", None)
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json["code"], "INVALID_MODULE");
    assert_eq!(
        a.json["message"],
        "the module name given seems to be invalid"
    );
    assert_error(
        &sim.crm(Method::PATCH, &t, "Leads", None).await,
        405,
        "INVALID_REQUEST_METHOD",
    );
    // Module names are not case-sensitive.
    assert_eq!(
        sim.crm(Method::GET, &t, "leads?fields=Last_Name&per_page=1", None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn booleans_in_query_strings_accept_capitals() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    for v in ["false", "False"] {
        let a = sim
            .crm(
                Method::GET,
                &t,
                &format!("Leads?fields=Last_Name&converted={v}"),
                None,
            )
            .await;
        assert_eq!(a.status, 200, "{v}");
    }
    for v in ["true", "True"] {
        let a = sim
            .crm(
                Method::GET,
                &t,
                &format!("Leads?fields=Last_Name&converted={v}"),
                None,
            )
            .await;
        assert_eq!(a.status, 204, "{v}");
    }
    assert_eq!(
        sim.crm(
            Method::GET,
            &t,
            "Leads?fields=Last_Name&approved=True",
            None
        )
        .await
        .status,
        200
    );
    assert_eq!(
        sim.crm(Method::GET, &t, "Leads/search?word=a&converted=False", None)
            .await
            .status,
        200
    );
    assert_error(
        &sim.crm(
            Method::GET,
            &t,
            "Leads?fields=Last_Name&converted=maybe",
            None,
        )
        .await,
        400,
        "INVALID_DATA",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_org_over_its_concurrency_limit_gets_429() {
    let sim = start().await;
    sim.limits(json!({"org_concurrency": 2})).await;
    let a = sim.sign_in(ADMIN_A).await;
    let b = sim.sign_in(ADMIN_B).await;
    // Every Leads list of any org is slowed down, so calls overlap.
    let f = sim
        .control(
            Method::POST,
            "faults",
            json!({"path": "/us/production/crm/v8/Leads", "delay_ms": 400, "times": 0}),
        )
        .await;
    assert_eq!(f.status, 200);
    let call = |t: &Tokens| {
        let http = sim.http.clone();
        let url = format!("{}/crm/v8/Leads?fields=Last_Name&per_page=1", t.api_domain);
        let auth = format!("Zoho-oauthtoken {}", t.access);
        tokio::spawn(async move {
            answer(
                http.get(url)
                    .header("Authorization", auth)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        })
    };
    let handles: Vec<_> = (0..4).map(|_| call(&a)).collect();
    let other = call(&b);
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.unwrap());
    }
    let other = other.await.unwrap();
    let statuses: Vec<u16> = results.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        2,
        "{statuses:?}"
    );
    let rejected = results.iter().find(|a| a.status == 429).unwrap();
    assert_eq!(rejected.json["code"], "TOO_MANY_REQUESTS");
    assert_eq!(rejected.json["status"], "error");
    assert_eq!(other.status, 200, "another org has its own limit");
    assert_eq!(sim.stats().await["concurrency_rejections"], 2);
    // Once the calls are over, the org is served again.
    assert_eq!(sim.crm(Method::GET, &a, "org", None).await.status, 200);
}

/// `If-Modified-Since` on the metadata APIs: 304 with no body when nothing changed since
/// (Zoho CRM API v8, "Modules API" and "Fields Metadata"); the full answer otherwise.
#[tokio::test]
async fn metadata_answers_304_when_not_modified_since() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    let modules = sim.crm(Method::GET, &t, "settings/modules", None).await;
    let modified = modules.json["modules"][0]["modified_time"]
        .as_str()
        .unwrap()
        .to_owned();
    let get = |path: &'static str, since: String| {
        let (sim, t) = (&sim, &t);
        async move {
            answer(
                sim.http
                    .get(format!("{}/crm/v8/{path}", t.api_domain))
                    .header("Authorization", format!("Zoho-oauthtoken {}", t.access))
                    .header("If-Modified-Since", since)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    for path in ["settings/modules", "settings/fields?module=Leads"] {
        for since in [modified.clone(), "Thu, 15 Jan 2026 10:00:00 GMT".to_owned()] {
            let a = get(path, since).await;
            assert_eq!(a.status, 304, "{path}: {}", a.text);
            assert!(a.text.is_empty() && a.content_type.is_none(), "{path}");
        }
        for since in ["2025-12-31T23:59:59+00:00", "not a date"] {
            let a = get(path, since.to_owned()).await;
            assert_eq!(a.status, 200, "{path} since {since}");
            assert!(a.json.is_object());
        }
    }
}
