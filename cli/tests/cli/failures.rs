//! Zoho failing: an insert failing in an import, a throttled refresh, a revoke that cannot reach Zoho.

use crate::common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_insert_stops_the_import_and_a_rerun_finishes_it() {
    let sim = start().await;
    sim.login(ADMIN_B, "us").await.ok();
    let file = sim.path("more.csv");
    let mut csv = String::from("last_name,college,course,email\n");
    for i in 1..=250 {
        csv.push_str(&format!("More{i},C,Data Science,m{i}@fail.example\n"));
    }
    std::fs::write(&file, csv).unwrap();
    // The first insert fails with Zoho's front end's error page: nothing is created.
    sim.control("POST", "faults", json!({"path": "/us/production/crm/v8/Leads", "method": "POST",
        "status": 503, "body": "<html>Service Unavailable</html>", "content_type": "text/html", "times": 1})).await;
    let failed = sim.zcrm(&["students", "import", &file, "--json"]).await;
    assert_eq!(failed.status, 1, "{failed:?}");
    assert!(failed.stderr.contains("Run the import again"), "{failed:?}");
    let report = failed.json();
    assert_eq!(report["created"], 0);
    assert_eq!(report["failed"], 250);
    assert_eq!(report["rows"][0]["status"], "failed");
    let again = sim
        .zcrm(&["students", "import", &file, "--json"])
        .await
        .ok()
        .json();
    assert_eq!(again["created"], 250);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_refresh_says_to_wait() {
    let sim = start().await;
    sim.login(ADMIN_B, "us").await.ok();
    sim.control("POST", "clock", json!({"advance_secs": 3700}))
        .await;
    sim.control("POST", "faults", json!({"path": "/us/accounts/oauth/v2/token", "status": 400,
        "body": {"error": "Access Denied", "error_description": "You have made too many requests continuously. Please try again after some time.", "status": "failure"}})).await;
    let run = sim.zcrm(&["students", "list"]).await;
    assert_eq!(run.status, 1, "{run:?}");
    assert!(run.stderr.contains("Try again in a few minutes"), "{run:?}");
    sim.zcrm(&["students", "list"]).await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_that_cannot_reach_zoho_keeps_the_entry() {
    let sim = start().await;
    sim.login(ADMIN_B, "us").await.ok();
    sim.control(
        "POST",
        "faults",
        json!({"path": "/us/accounts/oauth/v2/token/revoke", "drop": true}),
    )
    .await;
    let run = sim.zcrm(&["logout"]).await;
    assert_eq!(run.status, 1, "{run:?}");
    let users = sim.zcrm(&["users", "--json"]).await.ok().json();
    assert_eq!(users["users"].as_array().unwrap().len(), 1);
    sim.zcrm(&["logout"]).await.ok();
    assert_eq!(sim.stats().await["token"]["revokes"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_zoho_refuses_in_for_email_the_search_falls_back_to_equals() {
    let sim = start().await;
    sim.login(ADMIN_B, "us").await.ok();
    let mut csv = String::from("last_name,college,course,email\n");
    for i in 1..=25 {
        csv.push_str(&format!("Row{i},C,Data Science,r{i}@in.example\n"));
    }
    let file = sim.path("rows.csv");
    std::fs::write(&file, csv).unwrap();
    sim.zcrm(&["students", "import", &file]).await.ok();
    sim.control("POST", "faults", json!({
        "path": "/us/production/crm/v8/Leads/search?criteria=%28Email%3Ain*", "times": 0, "status": 400,
        "body": {"code": "INVALID_QUERY", "details": {"reason": "the operator is not supported"}, "message": "invalid query formed", "status": "error"}})).await;
    let again = sim
        .zcrm(&["students", "import", &file, "--json"])
        .await
        .ok()
        .json();
    assert_eq!(again["created"], 0);
    assert_eq!(again["duplicate"], 25);
    let stats = sim.stats().await;
    assert_eq!(stats["faults_fired"], 1, "{stats}");
    assert_eq!(
        stats["by_route"]["GET /{dc}/{env}/crm/v8/Leads/search"],
        1 + 3,
        "the first import's one search, then (after the refused one) 3 of up to 10 equals"
    );
}
