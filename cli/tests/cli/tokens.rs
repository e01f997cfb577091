//! Expiry, refresh ahead, concurrent refresh under the store's lock, revoked grants.

use crate::common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_commands_after_expiry_refresh_once() {
    let sim = start().await;
    sim.login(ADMIN_B, "us").await.ok();
    sim.zcrm(&["students", "list"]).await.ok();
    assert_eq!(
        refreshes(&sim.stats().await),
        0,
        "a fresh token is used as it is"
    );
    // Zoho's clock passes the hour: the stored token is dead though zcrm's clock says it is not.
    sim.control("POST", "clock", json!({"advance_secs": 3700}))
        .await;
    let (a, b) = tokio::join!(
        sim.zcrm(&["students", "list", "--json"]),
        sim.zcrm(&["students", "list", "--all", "--json"])
    );
    let (a, b) = (a.ok(), b.ok());
    assert_eq!(a.json()["students"].as_array().unwrap().len(), 20);
    assert_eq!(b.json()["students"].as_array().unwrap().len(), 26);
    let stats = sim.stats().await;
    assert_eq!(refreshes(&stats), 1, "{stats}");
    // And the refreshed token is kept: the next command needs no refresh.
    sim.zcrm(&["students", "list"]).await.ok();
    assert_eq!(refreshes(&sim.stats().await), 1);
    // Four at once after the next hour: still one refresh between them.
    sim.control("POST", "clock", json!({"advance_secs": 3700}))
        .await;
    let (a, b, c, d) = tokio::join!(
        sim.zcrm(&["students", "list"]),
        sim.zcrm(&["students", "list", "--page", "2"]),
        sim.zcrm(&["students", "list", "--search", "a"]),
        sim.zcrm(&["students", "export"]),
    );
    for run in [a, b, c, d] {
        run.ok();
    }
    assert_eq!(refreshes(&sim.stats().await), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_refreshed_ahead_of_expiry() {
    let sim = start().await;
    sim.login(ADMIN_B, "us").await.ok();
    // zcrm's clock two minutes before the token's end: the store's expiry (kept in clear) is
    // moved, as if that much time had passed.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut store: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sim.store()).unwrap()).unwrap();
    store["entries"][0]["expires_at"] = json!(now + 120);
    std::fs::write(sim.store(), store.to_string()).unwrap();
    let (a, b) = tokio::join!(
        sim.zcrm(&["students", "list"]),
        sim.zcrm(&["students", "list", "--page", "2"])
    );
    a.ok();
    b.ok();
    let stats = sim.stats().await;
    assert_eq!(refreshes(&stats), 1, "{stats}");
    let requests = sim
        .control("GET", "requests", serde_json::Value::Null)
        .await;
    assert!(
        requests["requests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] != 401),
        "no call was sent with the old token: {requests}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_lived_token_is_not_refreshed_at_once() {
    let sim = start().await;
    // Tokens shorter than the five minutes of refresh-ahead: refreshed at half their life.
    sim.control("POST", "limits", json!({"access_token_lifetime_secs": 240}))
        .await;
    sim.login(ADMIN_B, "us").await.ok();
    let (a, b) = tokio::join!(
        sim.zcrm(&["students", "list"]),
        sim.zcrm(&["students", "list", "--page", "2"])
    );
    a.ok();
    b.ok();
    assert_eq!(refreshes(&sim.stats().await), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_grant_asks_to_log_in_again() {
    let sim = start().await;
    sim.login(ADMIN_B, "us").await.ok();
    // Zoho forgets every token (as after the grant is revoked in Zoho's console).
    sim.control("POST", "reset", json!({})).await;
    let run = sim.zcrm(&["students", "list"]).await;
    assert_eq!(run.status, 1, "{run:?}");
    assert!(run.stderr.contains("Log in again"), "{run:?}");
    assert!(run.stderr.contains(ADMIN_B));
    // A store sealed with another key cannot be opened, and says so.
    let other = sim
        .zcrm_with(
            &["students", "list"],
            &[(
                "ZCRM_STORE_KEY",
                "k9:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            )],
        )
        .await;
    assert_eq!(other.status, 1);
    assert!(other.stderr.contains("cannot be opened"), "{other:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_is_private_and_sealed() {
    use std::os::unix::fs::PermissionsExt;
    let sim = start().await;
    sim.login(ADMIN_B, "us").await.ok();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&sim.store()), 0o600);
    assert_eq!(mode(&sim.dir.join("tokens.json.key")), 0o600);
    let text = std::fs::read_to_string(sim.store()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entry = &v["entries"][0];
    assert_eq!(entry["email"], ADMIN_B);
    for sealed in ["refresh_token", "access_token", "client_secret"] {
        assert!(
            !entry[sealed].as_str().unwrap().starts_with("1000."),
            "{sealed} is sealed"
        );
    }
    // The same store with the key in the environment instead of a key file.
    let key = "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let code = sim.grant(ADMIN_US, "production").await;
    let other_store = sim.path("other.json");
    sim.zcrm_with(
        &["login", "--grant", &code, "--dc", "us"],
        &[("ZCRM_STORE", &other_store), ("ZCRM_STORE_KEY", key)],
    )
    .await
    .ok();
    assert!(
        !sim.dir.join("other.json.key").exists(),
        "no key file when the key is given"
    );
    sim.zcrm_with(
        &["students", "list"],
        &[("ZCRM_STORE", &other_store), ("ZCRM_STORE_KEY", key)],
    )
    .await
    .ok();
    // --store wins over ZCRM_STORE.
    sim.zcrm(&["--store", &other_store, "users"]).await.ok();
}
