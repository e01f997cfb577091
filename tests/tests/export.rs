//! Black-box tests of the export at scale (`GET /api/students/export.csv`): the Worker in workerd
//! against the simulator's org of 20,000 (Bulk University, as `cargo xtask dev` and `test` seed
//! it). How many calls to Zoho one export makes, set against Cloudflare's subrequest limits, and
//! what the download does when those calls stop working part of the way through. (The browser
//! test, `coordinator.rs`, compares the whole file with the simulator's records.)

mod support;

use support::{Env, SERIAL};
use zcrm_tests::BULK_LEADS;

const BULK_ADMIN: &str = "admin@bulk-university.example";
/// Records per page of Zoho's list (`per_page`'s maximum), as the export reads them.
const PER_PAGE: usize = 200;
/// Cloudflare's subrequests per invocation (<https://developers.cloudflare.com/workers/platform/limits/>):
/// 50 to the outside (Zoho) on the Free plan; 10,000 by default on Paid (1,000 before),
/// raised up to 10 million with `[limits] subrequests` in wrangler.toml.
const FREE_PLAN_SUBREQUESTS: u64 = 50;
const PAID_PLAN_SUBREQUESTS: u64 = 10_000;

fn crm_requests(stats: &serde_json::Value) -> u64 {
    stats["crm_requests"].as_u64().unwrap_or(0)
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn an_export_of_20000_makes_one_call_to_zoho_per_page_of_200() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let (session, _) = env.sign_in(BULK_ADMIN).await;
    let before = crm_requests(&env.sim_user_stats(BULK_ADMIN).await);
    let r = env
        .get_with_session("/api/students/export.csv", &session)
        .await;
    assert_eq!(r.status(), 200);
    let csv = r.text().await.unwrap();
    let calls = crm_requests(&env.sim_user_stats(BULK_ADMIN).await) - before;
    assert_eq!(
        csv.lines().count(),
        BULK_LEADS + 1,
        "the header and every lead"
    );
    // The first page by `page`, the 99 others by `page_token`; nothing read twice. Besides
    // these the request makes one call to the grant's Durable Object (a Cloudflare service).
    assert_eq!(calls, BULK_LEADS.div_ceil(PER_PAGE) as u64);
    assert!(calls > FREE_PLAN_SUBREQUESTS && calls < PAID_PLAN_SUBREQUESTS);
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn an_export_whose_calls_to_zoho_fail_midway_is_cut_not_ended_as_if_whole() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let (session, _) = env.sign_in(BULK_ADMIN).await;
    // Every page after the first fails, as every `fetch` past Cloudflare's subrequest limit
    // throws: the connection to Zoho is dropped (the Worker retries a read twice, then gives up).
    env.sim_post(
        "faults",
        serde_json::json!({"path": "/us/production/crm/v8/Leads?*page_token=*", "method": "GET",
                           "drop": true, "times": 0}),
    )
    .await;
    let r = env
        .get_with_session("/api/students/export.csv", &session)
        .await;
    // The first page was read before answering, so the answer had begun: it cannot become an
    // error any more, and the body stops short instead of ending like a whole file.
    assert_eq!(r.status(), 200);
    let body = r.bytes().await;
    env.clear_faults().await;
    assert!(
        body.is_err(),
        "the download ended well after {} bytes",
        body.map(|b| b.len()).unwrap_or(0)
    );
    let fired = env.sim_get("stats").await["faults_fired"].as_u64().unwrap();
    // The second page and the Worker's two retries of it (workerd itself may send a request
    // again when the kept-alive connection it went out on was dropped: 5 were seen).
    assert!(fired >= 3, "{fired} calls failed");
}
