//! The key ring rotated as a deploy rotates it (issue 14, item 8): `TOKEN_KEYS` changed on a
//! Worker of the test's own ([`zcrm_tests::OwnWorker`]), stopped and started again over the
//! same KV and Durable Objects, with the stack's simulator behind it. What the Worker keeps in
//! KV is read from its local storage on disk and opened with the Worker's own sealing code.

mod support;

use serde_json::json;
use support::{Env, SERIAL};
use zcrm_api::{ApiError, SignedOutReason, codes};
use zcrm_edge::records::UserRecord;
use zcrm_edge::seal::Keyring;
use zcrm_tests::own_worker::random_key;
use zcrm_tests::{OwnWorker, kv};

const US_ADMIN: &str = "admin@zylker-academy.example";

/// The stack's simulator, through `worker`.
async fn env_of(worker: &OwnWorker) -> Env {
    let mut env = Env::new().await;
    env.worker_url = worker.url.clone();
    env
}

/// `worker` deployed again with the ring `keys`; the client connects anew (its connections
/// were to the Worker before).
fn redeploy(worker: &mut OwnWorker, env: &mut Env, keys: &str) {
    worker.restart(keys);
    env.http = support::client(&support::new_client_address());
}

/// The one user record in the Worker's KV: its key and the record, if it is there.
fn user_record(worker: &OwnWorker) -> Option<(String, UserRecord)> {
    let keys = kv::keys(&worker.storage, "user:");
    assert!(keys.len() <= 1, "one user signed in: {keys:?}");
    let key = keys.into_iter().next()?;
    let bytes = kv::value(&worker.storage, &key).expect("the record's value");
    Some((key, serde_json::from_slice(&bytes).expect("a user record")))
}

/// Whether both of the record's tokens open with the ring the Worker derives from `keys` for
/// tokens at rest.
fn sealed_with(record: &UserRecord, keys: &str) -> bool {
    let ring = Keyring::parse(keys).unwrap().derive("tokens");
    record.open_refresh(&ring).is_some() && record.open_access(&ring).is_some()
}

/// Status, code and reason of an answer.
async fn why_of(r: reqwest::Response) -> (u16, Option<String>, Option<SignedOutReason>) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    support::assert_no_secrets(&text);
    match serde_json::from_str::<ApiError>(&text) {
        Ok(e) => (status, Some(e.error.code), e.error.reason),
        Err(_) => (status, None, None),
    }
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_record_sealed_with_a_retired_key_is_a_clear_401_and_is_deleted() {
    let _turn = SERIAL.lock().await;
    let (old, new) = (random_key("old"), random_key("new"));
    let mut worker = OwnWorker::start("keys-retired", &old);
    let mut env = env_of(&worker).await;
    let (session, _) = env.sign_in(US_ADMIN).await;
    let (key, record) = user_record(&worker).expect("the sign-in wrote the user record");
    assert!(sealed_with(&record, &old));

    // The old key is retired: the ring has only the new one.
    redeploy(&mut worker, &mut env, &new);
    let expired = (
        401,
        Some(codes::SESSION_EXPIRED.to_owned()),
        Some(SignedOutReason::Expired),
    );
    // The access token is still young, so no refresh is due: the request that uses it finds
    // out, and so does every check after it.
    let r = env.get_with_session("/api/students", &session).await;
    assert_eq!(why_of(r).await, expired, "a CRM call");
    assert_eq!(
        kv::keys(&worker.storage, &key),
        Vec::<String>::new(),
        "the record is deleted from KV"
    );
    let r = env.get_with_session("/api/session", &session).await;
    assert_eq!(why_of(r).await, expired, "the session check after");
    let r = env.get_with_session("/api/students", &session).await;
    assert_eq!(why_of(r).await, expired, "a CRM call after");

    // Signing in again is all it takes.
    let (session, _) = env.sign_in(US_ADMIN).await;
    let r = env.get_with_session("/api/students", &session).await;
    assert_eq!(r.status(), 200);
    let (_, record) = user_record(&worker).expect("a new record");
    assert!(sealed_with(&record, &new));
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_refresh_seals_the_record_again_with_the_newest_key() {
    let _turn = SERIAL.lock().await;
    let (old, new) = (random_key("old"), random_key("new"));
    let mut worker = OwnWorker::start("keys-rotated", &old);
    let mut env = env_of(&worker).await;
    let (session, _) = env.sign_in(US_ADMIN).await;

    // A new key first, the old one still in the ring: what was sealed before still opens.
    redeploy(&mut worker, &mut env, &format!("{new},{old}"));
    let r = env.get_with_session("/api/students", &session).await;
    assert_eq!(r.status(), 200);
    let (_, record) = user_record(&worker).expect("the record");
    assert!(
        sealed_with(&record, &old) && !sealed_with(&record, &new),
        "nothing sealed again before a refresh"
    );

    // The access token expires: the refresh seals both tokens with the new key.
    env.sim_post("clock", json!({"advance_secs": 3700})).await;
    let r = env.get_with_session("/api/students", &session).await;
    assert_eq!(r.status(), 200);
    let (_, record) = user_record(&worker).expect("the record");
    assert!(
        sealed_with(&record, &new) && !sealed_with(&record, &old),
        "both tokens sealed again with the newest key"
    );

    // So the old key can go, and the session carries on.
    redeploy(&mut worker, &mut env, &new);
    let r = env.get_with_session("/api/students", &session).await;
    assert_eq!(r.status(), 200, "the session outlives the old key");
}
