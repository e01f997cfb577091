//! Changes: limited per user, the generic proxy's writes one record at a time and without
//! workflows.

use serde_json::json;

use super::{US_ADMIN, error_of, send};
use crate::support::{Env, SERIAL, SESSION_COOKIE};
use zcrm_api::codes;

const IN_ADMIN: &str = "admin@bharat-learning.example";

/// Creates of Leads that reached the simulator's `dc`.
async fn creates(env: &Env, dc: &str) -> u64 {
    env.sim_get("stats").await["by_path"][format!("POST /{dc}/production/crm/v8/Leads")]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn changes_are_limited_per_user() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let (session, _) = env.sign_in(IN_ADMIN).await;
    let before = creates(&env, "in").await;
    let mut statuses = std::collections::BTreeMap::new();
    // As for sign-ins: the limiter counts in windows of a wall-clock minute, and a burst that
    // crosses into the next minute starts counting again.
    let minute = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 60
    };
    let first_minute = minute();
    for i in 0..130 {
        let student = json!({"first_name": "Rate", "last_name": format!("Limit{i}"),
                             "college": "Bharat College", "course": "Data Science",
                             "email": format!("limit{i}@bharat.example"), "phone": ""});
        let r = send(&env, &session, "POST", "/api/students", Some(&student)).await;
        let status = r.status().as_u16();
        *statuses.entry(status).or_insert(0u32) += 1;
        if status == 429 {
            assert!(r.headers().contains_key("retry-after"));
            assert_eq!(error_of(r).await.1, codes::RATE_LIMITED);
        }
    }
    let last_minute = minute();
    let windows = last_minute - first_minute + 1;
    let made = creates(&env, "in").await - before;
    eprintln!(
        "130 creates of one user in a row over {windows} minute(s): {statuses:?}, {made} reached Zoho"
    );
    let created = statuses.get(&201).copied().unwrap_or(0);
    assert!(
        created <= 120 * windows as u32 && (windows > 1 || statuses.contains_key(&429)),
        "{statuses:?} in {windows} minute(s)"
    );
    assert_eq!(
        created + statuses.get(&429).copied().unwrap_or(0),
        130,
        "{statuses:?}"
    );
    assert_eq!(
        u64::from(created),
        made,
        "a refused change is not sent to Zoho"
    );
    // Reads are not limited.
    let r = env.get_with_session("/api/students", &session).await;
    assert_eq!(r.status(), 200);
    // The user's spent budget is not left to the suites after this one (`load` writes as them).
    while minute() == last_minute {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn the_proxy_writes_one_record_at_a_time_and_starts_no_workflow() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let (session, _) = env.sign_in(US_ADMIN).await;
    let writes = |stats: &serde_json::Value| {
        ["POST", "PUT", "DELETE"]
            .iter()
            .map(|m| {
                stats["by_route"][format!("{m} /{{dc}}/{{env}}/crm/v8/Leads")]
                    .as_u64()
                    .unwrap_or(0)
            })
            .sum::<u64>()
    };
    let before = writes(&env.sim_get("stats").await);
    let lead = |name: &str| json!({"Last_Name": name, "Email": format!("{name}@proxy.example")});
    for (method, path, body) in [
        (
            "POST",
            "/api/crm/Leads",
            Some(json!({"data": [lead("a"), lead("b")]})),
        ),
        (
            "PUT",
            "/api/crm/Leads",
            Some(json!({"data": [lead("a"), lead("b")]})),
        ),
        (
            "POST",
            "/api/crm/Leads",
            Some(json!({"data": [lead("c")], "trigger": ["workflow"]})),
        ),
        (
            "POST",
            "/api/crm/Contacts",
            Some(json!({"data": [lead("d")], "trigger": "approval"})),
        ),
        (
            "DELETE",
            "/api/crm/Leads?ids=5725767000000001001,5725767000000001002",
            None,
        ),
    ] {
        let r = send(&env, &session, method, path, body.as_ref()).await;
        assert_eq!(
            error_of(r).await,
            (400, codes::INVALID_REQUEST.to_owned()),
            "{method} {path} {body:?}"
        );
    }
    assert_eq!(
        writes(&env.sim_get("stats").await),
        before,
        "no bulk write and no trigger reached Zoho"
    );
    // One record without a trigger passes (sent with "trigger": []).
    let one = json!({"data": [lead("one")]});
    let r = send(&env, &session, "POST", "/api/crm/Leads", Some(&one)).await;
    assert_eq!(r.status(), 201);
    assert_eq!(writes(&env.sim_get("stats").await), before + 1);
}

/// The idempotency marks (`idem:` keys) under `client_key` of the US admin, with the Worker
/// folder each is in: every Worker's KV in the state folder is looked at (a dev stack's and a
/// test stack's are apart), and a mark found proves the look reaches the Worker's.
fn marks(org_id: &str, client_key: &str) -> Vec<(String, String)> {
    let user = zcrm_tests::kv::us_admin_record(org_id);
    let key = zcrm_edge::records::idempotency_key(&user, client_key);
    std::fs::read_dir(zcrm_tests::kv::state_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("worker"))
        .filter_map(|e| {
            let value = zcrm_tests::kv::value(&e.path(), &key)?;
            Some((
                e.file_name().to_string_lossy().into_owned(),
                String::from_utf8_lossy(&value).into_owned(),
            ))
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn an_invalid_create_leaves_no_idempotency_mark() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let (session, info) = env.sign_in(US_ADMIN).await;
    let create = |key: String, email: &str| {
        let body = json!({"first_name": "Idem", "last_name": "Potent", "college": "C",
                          "course": "Data Science", "email": email, "phone": ""});
        env.http
            .post(env.worker("/api/students"))
            .header(zcrm_api::CSRF_HEADER, zcrm_api::CSRF_VALUE)
            .header("cookie", format!("{SESSION_COOKIE}={session}"))
            .header(zcrm_api::IDEMPOTENCY_HEADER, key)
            .json(&body)
            .send()
    };
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let (once, reused) = (format!("form-{run}-a"), format!("form-{run}-b"));
    let before = creates(&env, "us").await;
    for key in [&once, &reused] {
        let r = create(key.clone(), "not-an-email").await.unwrap();
        assert_eq!(
            error_of(r).await,
            (400, codes::INVALID_FIELD.to_owned()),
            "{key}"
        );
    }
    assert_eq!(creates(&env, "us").await, before, "nothing reached Zoho");
    assert_eq!(
        marks(&info.org_id, &once),
        [],
        "no mark for a refused create"
    );
    assert_eq!(
        marks(&info.org_id, &reused),
        [],
        "no mark for a refused create"
    );

    // The key of a refused create is as good as new: the corrected form creates the student.
    let r = create(reused.clone(), &format!("idem{run}@zylker.example"))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let student: zcrm_api::students::Student = r.json().await.unwrap();
    assert_eq!(creates(&env, "us").await, before + 1);
    // Its mark is where the scan looks, and names the student.
    let found = marks(&info.org_id, &reused);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, student.id);
    assert_eq!(marks(&info.org_id, &once), []);
}
