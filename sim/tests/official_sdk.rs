//! Zoho's official SDKs against the simulator: clients we did not write must work against it
//! unchanged. `tests/sdk/official_sdk.py` drives the Python SDK (zohocrmsdk8-0), and
//! `tests/sdk/official_sdk.mjs` the Node.js SDK (@zohocrm/nodejs-sdk-8.0); each test starts the
//! simulator in-process on an ephemeral loopback port, first proves the SDK is installed as
//! published (versions and every file's hash: `official_sdk.py --verify`,
//! `verify_node_sdk.mjs`), then runs the scenario and checks what the simulator saw.
//!
//! `#[ignore]`d in a plain `cargo test`: the SDKs are installed by `cargo xtask tools` (pinned:
//! `tests/sdk/requirements.txt` with hashes, `xtask/tools/node-sdk/package-lock.json`) into the
//! tool cache, and `cargo xtask fidelity` (and `cargo xtask test`) run these tests with
//! `ZCRM_PY_SDK_PYTHON`, `ZCRM_NODE` and `ZCRM_NODE_SDK` pointing at them.

mod support;

use serde_json::{Value, json};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PY_SDK_VERSION: &str = "7.0.0";
const NODE_SDK_VERSION: &str = "2.0.0";
const PY_CASES: [&str; 4] = ["us", "eu", "us-sandbox", "in"];
const NODE_CASES: [&str; 2] = ["us", "eu"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("sim/ has a parent")
        .to_path_buf()
}

fn sdk_dir() -> PathBuf {
    root().join("tests/sdk")
}

struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

/// Runs `program args` (blocking, at most 120 s) with no proxy settings, so that nothing leaves
/// loopback by way of a proxy either.
fn run(program: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env("NO_PROXY", "*")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the script") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = reader.join().unwrap();
    let mut stderr = err_reader.join().unwrap();
    if status.is_none() {
        stderr.push_str("\n(killed after 120 s)");
    }
    Output {
        success: status.is_some_and(|s| s.success()),
        stdout,
        stderr,
    }
}

async fn run_async(program: PathBuf, args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&program, &args)
    })
    .await
    .unwrap()
}

fn python() -> PathBuf {
    support::tool_path("ZCRM_PY_SDK_PYTHON")
}

fn node() -> (PathBuf, PathBuf) {
    (
        support::tool_path("ZCRM_NODE"),
        support::tool_path("ZCRM_NODE_SDK"),
    )
}

fn path_arg(p: PathBuf) -> String {
    p.to_string_lossy().into_owned()
}

/// The scenario's checks per case: `ok CASE NAME` lines, and the case's closing line.
fn assert_cases(out: &Output, cases: &[&str], min_checks: usize, sdk: &str) -> Vec<usize> {
    assert!(
        out.success,
        "{sdk} failed against the simulator\n--- stdout\n{}\n--- stderr\n{}",
        out.stdout, out.stderr
    );
    let counts: Vec<usize> = cases
        .iter()
        .map(|case| {
            assert!(
                out.stdout
                    .lines()
                    .any(|l| l.starts_with(&format!("SDK COMPAT OK {case}"))),
                "{sdk}: case {case} did not finish\n{}",
                out.stdout
            );
            let checks = out
                .stdout
                .lines()
                .filter(|l| l.starts_with(&format!("ok {case} ")))
                .count();
            assert!(
                checks >= min_checks,
                "{sdk} {case}: only {checks} checks ran"
            );
            checks
        })
        .collect();
    assert!(
        out.stdout
            .lines()
            .any(|l| l == format!("SDK COMPAT OK all {} cases", cases.len())),
        "{}",
        out.stdout
    );
    counts
}

/// What the simulator saw of an SDK run: code exchanges and refreshes per user, every metadata
/// and record route, nothing failed.
async fn assert_traffic(base: &str, users: &[&str], routes: &[&str], servers: &[&str]) {
    let stats = support::control(base, reqwest::Method::GET, "stats", Value::Null).await;
    for user in users {
        for counter in ["refreshes", "code_grants"] {
            assert!(
                stats["users"][user][counter].as_u64() >= Some(1),
                "{user} {counter}: {stats}"
            );
        }
    }
    for route in routes {
        assert!(
            stats["by_route"][route].as_u64() >= Some(1),
            "{route} never called: {}",
            stats["by_route"]
        );
    }
    for server in servers {
        assert!(
            stats["by_server"][server].as_u64() >= Some(1),
            "{server}: {}",
            stats["by_server"]
        );
    }
    for status in ["404", "500", "fault"] {
        assert_eq!(
            stats["by_status"][status],
            Value::Null,
            "{}",
            stats["by_status"]
        );
    }
}

/// Runs an SDK's verification and requires its `VERIFIED <expected> …` line.
async fn assert_verified(program: PathBuf, args: Vec<String>, expected: &str) {
    let out = run_async(program, args).await;
    assert!(out.success, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with(&format!("VERIFIED {expected} "))),
        "{}",
        out.stdout
    );
}

fn report(sdk: &str, counts: &[usize], cases: &[&str], started: Instant) {
    support::progress(&format!(
        "official_sdk: {sdk}: checks per case {counts:?} ({}), {:.1} s",
        cases.join(", "),
        started.elapsed().as_secs_f64()
    ));
}

const ROUTES: [&str; 9] = [
    "GET /{dc}/{env}/crm/v8/users",
    "GET /{dc}/{env}/crm/v8/org",
    "GET /{dc}/{env}/crm/v8/settings/modules",
    "GET /{dc}/{env}/crm/v8/settings/fields",
    "POST /{dc}/{env}/crm/v8/Leads",
    "PUT /{dc}/{env}/crm/v8/Leads/{id}",
    "DELETE /{dc}/{env}/crm/v8/Leads/{id}",
    "GET /{dc}/{env}/crm/v8/Leads/search",
    "POST /{dc}/accounts/oauth/v2/token",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Zoho's Python SDK: run by `cargo xtask fidelity` / `cargo xtask test`"]
async fn official_python_sdk_works_against_the_simulator() {
    let python = python();
    let started = Instant::now();
    let requirements = path_arg(sdk_dir().join("requirements.txt"));
    let script = path_arg(sdk_dir().join("official_sdk.py"));
    assert_verified(
        python.clone(),
        vec![script.clone(), "--verify".into(), requirements],
        &format!("zohocrmsdk8-0=={PY_SDK_VERSION}"),
    )
    .await;
    let (sim, base) = support::start().await;
    let out = run_async(python, vec![script, base.clone()]).await;
    let counts = assert_cases(&out, &PY_CASES, 50, "the Python SDK");
    assert_traffic(
        &base,
        &[
            "admin@zylker-academy.example",
            "admin@eurotech-institute.example",
            "admin@bharat-learning.example",
        ],
        &ROUTES,
        &[
            "us/accounts",
            "us/production",
            "us/sandbox",
            "eu/accounts",
            "eu/production",
            "in/production",
        ],
    )
    .await;
    sim.shutdown().await;
    report(
        &format!("zohocrmsdk8-0 {PY_SDK_VERSION}"),
        &counts,
        &PY_CASES,
        started,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Zoho's Node.js SDK: run by `cargo xtask fidelity` / `cargo xtask test`"]
async fn official_node_sdk_works_against_the_simulator() {
    let (node, sdk) = node();
    let started = Instant::now();
    assert_verified(
        node.clone(),
        vec![
            path_arg(sdk_dir().join("verify_node_sdk.mjs")),
            path_arg(sdk.clone()),
        ],
        &format!("@zohocrm/nodejs-sdk-8.0@{NODE_SDK_VERSION}"),
    )
    .await;
    let (sim, base) = support::start().await;
    let script = path_arg(sdk_dir().join("official_sdk.mjs"));
    let out = run_async(node, vec![script, base.clone(), path_arg(sdk)]).await;
    let counts = assert_cases(&out, &NODE_CASES, 60, "the Node.js SDK");
    assert_traffic(
        &base,
        &[
            "admin@zylker-academy.example",
            "admin@eurotech-institute.example",
        ],
        &ROUTES,
        &[
            "us/accounts",
            "us/production",
            "eu/accounts",
            "eu/production",
        ],
    )
    .await;
    // The SDK's token requests are multipart bodies (what failed with invalid_client before).
    let stats = support::control(&base, reqwest::Method::GET, "stats", Value::Null).await;
    assert_eq!(stats["token"]["errors"], json!({}), "{stats}");
    sim.shutdown().await;
    report(
        &format!("@zohocrm/nodejs-sdk-8.0 {NODE_SDK_VERSION}"),
        &counts,
        &NODE_CASES,
        started,
    );
}

/// The harnesses notice when the simulator misbehaves: a wrong `org` answer fails both scripts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Zoho's SDKs: run by `cargo xtask fidelity` / `cargo xtask test`"]
async fn the_sdk_checks_fail_when_the_simulator_misbehaves() {
    let python = python();
    let (node, sdk) = node();
    let (sim, base) = support::start().await;
    let fault = json!({"path": "/us/production/crm/v8/org", "status": 200,
        "body": {"org": [{"id": "1", "zgid": "999", "company_name": "Somebody Else"}]}, "times": 0});
    support::control(&base, reqwest::Method::POST, "faults", fault).await;
    let py = run_async(
        python,
        vec![
            path_arg(sdk_dir().join("official_sdk.py")),
            base.clone(),
            "--case".into(),
            "us".into(),
        ],
    )
    .await;
    let js = run_async(
        node,
        vec![
            path_arg(sdk_dir().join("official_sdk.mjs")),
            base.clone(),
            path_arg(sdk),
            "--case".into(),
            "us".into(),
        ],
    )
    .await;
    for (name, out) in [("python", py), ("node", js)] {
        assert!(
            !out.success,
            "{name}: the script passed against a wrong org\n{}",
            out.stdout
        );
        assert!(out.stderr.contains("FAILED us:"), "{name}: {}", out.stderr);
        assert!(
            !out.stdout.contains("SDK COMPAT OK"),
            "{name}: {}",
            out.stdout
        );
    }
    sim.shutdown().await;
}

/// The pins are exact, hashed, and the versions these tests expect (runs in a plain `cargo test`).
#[test]
fn the_sdks_are_pinned_exactly() {
    let pins = std::fs::read_to_string(sdk_dir().join("requirements.txt")).unwrap();
    let pin = pins
        .lines()
        .find_map(|l| l.trim().strip_prefix("zohocrmsdk8-0=="))
        .expect("requirements.txt pins zohocrmsdk8-0");
    assert!(pin.starts_with(&format!("{PY_SDK_VERSION} ")), "{pin}");
    for line in pins.lines().map(str::trim) {
        assert!(
            line.is_empty()
                || line.starts_with('#')
                || (line.contains("==") && line.contains("--hash=sha256:")),
            "not an exact, hashed pin: {line}"
        );
    }
    let node = root().join("xtask/tools/node-sdk");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(node.join("package.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["dependencies"]["@zohocrm/nodejs-sdk-8.0"], NODE_SDK_VERSION,
        "an exact version, no range"
    );
    let lock: Value =
        serde_json::from_slice(&std::fs::read(node.join("package-lock.json")).unwrap()).unwrap();
    let locked = &lock["packages"]["node_modules/@zohocrm/nodejs-sdk-8.0"];
    assert_eq!(locked["version"], NODE_SDK_VERSION);
    assert!(
        locked["integrity"]
            .as_str()
            .is_some_and(|i| i.starts_with("sha512-"))
    );
    for (name, package) in lock["packages"].as_object().unwrap() {
        if !name.is_empty() {
            assert!(
                package["integrity"].is_string(),
                "{name} has no integrity in the lock"
            );
        }
    }
}
