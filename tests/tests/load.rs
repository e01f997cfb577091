//! Load and concurrency: users of several data centres, each with many concurrent requests,
//! over simulated hours with token expiry in the middle. Every answer must belong to its user
//! (checked record by record), no write may be lost, and refreshes stay within Zoho's limits.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::json;
use support::{Env, SERIAL, SESSION_COOKIE};
use zcrm_api::students::{Student, StudentsPage};
use zcrm_api::{CSRF_HEADER, CSRF_VALUE};

const USERS: [&str; 4] = [
    "admin@zylker-academy.example",
    "admin@northwind-college.example",
    "admin@eurotech-institute.example",
    "admin@bharat-learning.example",
];
const ROUNDS: usize = 6;
const LISTS_PER_ROUND: usize = 10;
const CREATES_PER_ROUND: usize = 2;
/// Simulated minutes between rounds: the hour-long access tokens expire twice during the run.
const MINUTES_PER_ROUND: u64 = 25;

async fn list_ids(env: &Env, session: &str) -> BTreeSet<String> {
    let r = env
        .get_with_session("/api/students?per_page=200", session)
        .await;
    assert_eq!(r.status(), 200);
    let page: StudentsPage = r.json().await.unwrap();
    page.students.into_iter().map(|s| s.id).collect()
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn concurrent_users_get_only_their_own_answers_and_lose_no_writes() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let mut sessions = Vec::new();
    for email in USERS {
        let (session, _) = env.sign_in(email).await;
        let baseline = list_ids(&env, &session).await;
        sessions.push((email, session, baseline));
    }
    let mut created: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut requests = 0usize;
    for round in 0..ROUNDS {
        env.sim_post("clock", json!({"advance_secs": MINUTES_PER_ROUND * 60}))
            .await;
        let mut calls = Vec::new();
        for (user_index, (email, session, _)) in sessions.iter().enumerate() {
            for i in 0..LISTS_PER_ROUND + CREATES_PER_ROUND {
                let env = &env;
                calls.push(async move {
                    if i < LISTS_PER_ROUND {
                        let r = env
                            .get_with_session("/api/students?per_page=200", session)
                            .await;
                        let status = r.status();
                        let page: StudentsPage = r
                            .json()
                            .await
                            .unwrap_or_else(|e| panic!("{email} list: {status}: {e}"));
                        (
                            user_index,
                            page.students.into_iter().map(|s| s.id).collect::<Vec<_>>(),
                            None,
                        )
                    } else {
                        let r = env
                            .http
                            .request(Method::POST, env.worker("/api/students"))
                            .header("cookie", format!("{SESSION_COOKIE}={session}"))
                            .header(CSRF_HEADER, CSRF_VALUE)
                            .json(&json!({
                                "last_name": format!("Load{round}x{i}"), "college": "Load College",
                                "course": "Data Science",
                                "email": format!("load.{user_index}.{round}.{i}@load.example"),
                            }))
                            .send()
                            .await
                            .unwrap();
                        let status = r.status();
                        let text = r.text().await.unwrap();
                        assert_eq!(status, 201, "{email} create: {text}");
                        let student: Student = serde_json::from_str(&text).unwrap();
                        (user_index, Vec::new(), Some(student.id))
                    }
                });
            }
        }
        requests += calls.len();
        let results = futures_util::future::join_all(calls).await;
        // First what this round created, then every list answer against it.
        for (user_index, _, new_id) in &results {
            if let Some(id) = new_id {
                created
                    .entry(sessions[*user_index].0)
                    .or_default()
                    .insert(id.clone());
            }
        }
        for (user_index, ids, _) in &results {
            let (email, _, baseline) = &sessions[*user_index];
            let mine = created.get(email).cloned().unwrap_or_default();
            for id in ids {
                assert!(
                    baseline.contains(id) || mine.contains(id),
                    "{email} was answered with a record that is not their org's: {id} (created by {:?})",
                    created_by_anyone_of(&created, email, id)
                );
            }
        }
    }
    // No lost writes: everything each user created is in their list, and nothing else new.
    for (email, session, baseline) in &sessions {
        let now = list_ids(&env, session).await;
        let mine = &created[email];
        assert_eq!(mine.len(), ROUNDS * CREATES_PER_ROUND);
        assert!(mine.is_subset(&now), "{email} lost a write");
        let expected: BTreeSet<String> = baseline.union(mine).cloned().collect();
        assert_eq!(now, expected, "{email} sees exactly their org's students");
    }
    // Refreshes: tokens expired twice; within Zoho's 10 per 10 minutes, never throttled.
    let stats = env.sim_get("stats").await;
    for email in USERS {
        let user = &stats["users"][email];
        let refreshes = user["refreshes"].as_u64().unwrap();
        assert!(
            (1..=ROUNDS as u64).contains(&refreshes),
            "{email}: {refreshes} refreshes"
        );
        assert_eq!(user["throttled"], 0, "{email}");
    }
    assert_eq!(stats["token"]["throttled"], 0);
    eprintln!(
        "load: {requests} concurrent requests by {} users over {} simulated minutes",
        USERS.len(),
        ROUNDS as u64 * MINUTES_PER_ROUND
    );
}

/// Which other user (if any) created `id`.
fn created_by_anyone_of<'a>(
    created: &'a BTreeMap<&str, BTreeSet<String>>,
    me: &str,
    id: &str,
) -> Option<&'a str> {
    created
        .iter()
        .find(|(email, ids)| **email != me && ids.contains(id))
        .map(|(email, _)| *email)
}
