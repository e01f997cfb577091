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
