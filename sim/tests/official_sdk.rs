//! Zoho's official Python SDK (zohocrmsdk8-0) against the simulator: a client we did not write must
//! work against it unchanged. `tests/sdk/official_sdk.py` drives the SDK; this test starts the
//! simulator in-process, makes sure the SDK's virtualenv exists and runs the script.
//!
//! The virtualenv is installed once, from PyPI, with the exact pins of `tests/sdk/requirements.txt`,
//! into `$ZCRM_CACHE/py-sdk-<version>` (default cache `$XDG_CACHE_HOME/zcrm-edge`, else
//! `~/.cache/zcrm-edge`, as `cargo xtask` does for its tools); it is installed again only when
//! requirements.txt changes. Needs `python3` (3.9 or newer) with its `venv` module.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The SDK version, as pinned in requirements.txt (checked below).
const SDK_VERSION: &str = "7.0.0";
const PYPI: &str = "https://pypi.org/simple/";
const CASES: [&str; 4] = ["us", "eu", "us-sandbox", "in"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("sim/ has a parent")
        .to_path_buf()
}

fn sdk_dir() -> PathBuf {
    root().join("tests/sdk")
}

fn cache_dir() -> Result<PathBuf, String> {
    let dir = if let Some(dir) = std::env::var_os("ZCRM_CACHE") {
        PathBuf::from(dir)
    } else if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME") {
        PathBuf::from(xdg).join("zcrm-edge")
    } else if let Some(home) = std::env::var_os("HOME") {
        PathBuf::from(home).join(".cache/zcrm-edge")
    } else {
        return Err("set ZCRM_CACHE or HOME: the SDK's virtualenv needs a home".into());
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// A stable 64-bit FNV-1a hash (the same stamp as xtask's npm tools).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A progress line on the real stderr (the test harness does not capture it).
fn progress(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "official_sdk: {line}");
}

/// Runs `command`, its output going to stderr (progress), and fails with `what` and the status.
fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let status = command
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .map_err(|e| format!("{what}: cannot start {:?}: {e}", command.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// The virtualenv's python, installing the virtualenv when missing or when the pins changed.
/// Safe against concurrent test processes: each installs into a directory of its own and the
/// first to finish renames it into place.
fn ensure_venv() -> Result<PathBuf, String> {
    // One attempt per test process: the second test does not install again after a failure.
    static ONCE: Mutex<Option<Result<PathBuf, String>>> = Mutex::new(None);
    let mut done = ONCE.lock().unwrap_or_else(|e| e.into_inner());
    if done.is_none() {
        *done = Some(install_venv());
    }
    done.clone().expect("set above")
}

fn install_venv() -> Result<PathBuf, String> {
    let requirements = sdk_dir().join("requirements.txt");
    let pins = std::fs::read_to_string(&requirements)
        .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    let stamp_value = format!("{:016x}", fnv1a(pins.as_bytes()));
    let venv = cache_dir()?.join(format!("py-sdk-{SDK_VERSION}"));
    let python = venv.join("bin/python");
    let stamp = venv.join(".zcrm-installed");
    if python.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == stamp_value) {
        return Ok(python);
    }

    let staging = venv.with_file_name(format!("py-sdk-{SDK_VERSION}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    progress(&format!(
        "installing zohocrmsdk8-0 {SDK_VERSION} from PyPI into {} (about 10 s, once)",
        venv.display()
    ));
    let result = (|| {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&staging),
            "python3 -m venv (python3 3.9+ with its venv module is needed)",
        )?;
        let mut pip = Command::new(staging.join("bin/python"));
        pip.args(["-m", "pip", "install", "--no-deps", "--no-input"])
            .args(["--disable-pip-version-check", "--progress-bar", "off"])
            .args(["--timeout", "30", "--retries", "2", "--index-url", PYPI])
            .arg("-r")
            .arg(&requirements)
            // Only PyPI: no local wheel folders or extra indexes from the environment.
            .env_remove("PIP_FIND_LINKS")
            .env_remove("PIP_EXTRA_INDEX_URL")
            .env_remove("PIP_INDEX_URL")
            .env_remove("PIP_NO_INDEX");
        run(&mut pip, "pip install").map_err(|e| {
            format!(
                "{e}: could not install the pins of {} from PyPI ({PYPI}); is pypi.org reachable?",
                requirements.display()
            )
        })?;
        run(
            Command::new(staging.join("bin/python")).args(["-m", "pip", "check"]),
            "pip check (requirements.txt misses a dependency)",
        )?;
        std::fs::write(staging.join(".zcrm-installed"), &stamp_value)
            .map_err(|e| format!("cannot write the stamp: {e}"))?;
        Ok::<(), String>(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        progress(&e);
        return Err(e);
    }
    // A stale or broken virtualenv goes; a concurrent install that finished first wins.
    if !std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == stamp_value) {
        let _ = std::fs::remove_dir_all(&venv);
    }
    if std::fs::rename(&staging, &venv).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
        if !std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == stamp_value) {
            return Err(format!(
                "cannot move the new virtualenv to {}",
                venv.display()
            ));
        }
    }
    progress(&format!("installed {}", venv.display()));
    Ok(python)
}

struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

/// Runs the script (blocking, with a time limit) with `args` after the simulator's URL.
fn run_script(python: &Path, base: &str, args: &[&str]) -> Output {
    let mut child = Command::new(python)
        .arg(sdk_dir().join("official_sdk.py"))
        .arg(base)
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
        .expect("start the SDK script");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let mut stderr = String::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let err_reader = std::thread::spawn(move || {
        let _ = err.read_to_string(&mut stderr);
        stderr
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the SDK script") {
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

async fn start() -> (zoho_sim::SimHandle, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = zoho_sim::spawn(listener, zoho_sim::Config::default()).unwrap();
    let base = handle.base_url();
    (handle, base)
}

async fn script(base: &str, args: &[&str]) -> Output {
    let python = tokio::task::spawn_blocking(ensure_venv)
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("the official SDK's virtualenv: {e}"));
    let (base, args): (String, Vec<String>) =
        (base.into(), args.iter().map(|s| s.to_string()).collect());
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_script(&python, &base, &args)
    })
    .await
    .unwrap()
}

async fn control(base: &str, method: reqwest::Method, path: &str, body: Value) -> Value {
    let mut request = reqwest::Client::new().request(method, format!("{base}/__sim/{path}"));
    if !body.is_null() {
        request = request.json(&body);
    }
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdk_works_against_the_simulator() {
    let (sim, base) = start().await;
    let out = script(&base, &[]).await;
    assert!(
        out.success,
        "the official SDK failed against the simulator\n--- stdout\n{}\n--- stderr\n{}",
        out.stdout, out.stderr
    );
    for case in CASES {
        assert!(
            out.stdout
                .lines()
                .any(|l| l == format!("SDK COMPAT OK {case}")),
            "case {case} did not finish\n{}",
            out.stdout
        );
        let checks = out
            .stdout
            .lines()
            .filter(|l| l.starts_with(&format!("ok {case} ")))
            .count();
        assert!(checks >= 50, "case {case}: only {checks} checks ran");
    }
    assert!(
        out.stdout
            .lines()
            .any(|l| l == format!("SDK COMPAT OK all {} cases", CASES.len()))
    );

    // What the simulator saw: the SDK's code exchanges, refreshes and metadata calls.
    let stats = control(&base, reqwest::Method::GET, "stats", Value::Null).await;
    for user in [
        "admin@zylker-academy.example",
        "admin@eurotech-institute.example",
        "admin@bharat-learning.example",
    ] {
        assert!(
            stats["users"][user]["refreshes"].as_u64() >= Some(1),
            "{user}: {stats}"
        );
        assert!(
            stats["users"][user]["code_grants"].as_u64() >= Some(1),
            "{user}: {stats}"
        );
    }
    for route in [
        "GET /{dc}/{env}/crm/v8/settings/modules",
        "GET /{dc}/{env}/crm/v8/settings/fields",
        "POST /{dc}/{env}/crm/v8/Leads",
        "PUT /{dc}/{env}/crm/v8/Leads/{id}",
        "DELETE /{dc}/{env}/crm/v8/Leads/{id}",
        "GET /{dc}/{env}/crm/v8/Leads/search",
        "POST /{dc}/accounts/oauth/v2/token",
    ] {
        assert!(
            stats["by_route"][route].as_u64() >= Some(1),
            "{route} never called: {}",
            stats["by_route"]
        );
    }
    for server in [
        "us/accounts",
        "us/production",
        "us/sandbox",
        "eu/accounts",
        "eu/production",
        "in/production",
    ] {
        assert!(
            stats["by_server"][server].as_u64() >= Some(1),
            "{server}: {}",
            stats["by_server"]
        );
    }
    assert_eq!(
        stats["by_status"]["500"],
        Value::Null,
        "{}",
        stats["by_status"]
    );
    assert_eq!(
        stats["by_status"]["404"],
        Value::Null,
        "{}",
        stats["by_status"]
    );
    sim.shutdown().await;
}

/// The harness notices when the simulator misbehaves: a broken `org` answer fails the script.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_check_fails_when_the_simulator_misbehaves() {
    let (sim, base) = start().await;
    let fault = json!({"path": "/us/production/crm/v8/org", "status": 200,
        "body": {"org": [{"id": "1", "zgid": "999", "company_name": "Somebody Else"}]}, "times": 0});
    control(&base, reqwest::Method::POST, "faults", fault).await;
    let out = script(&base, &["--case", "us"]).await;
    assert!(
        !out.success,
        "the script passed against a wrong org\n{}",
        out.stdout
    );
    assert!(out.stderr.contains("FAILED us:"), "{}", out.stderr);
    assert!(!out.stdout.contains("SDK COMPAT OK"), "{}", out.stdout);
    sim.shutdown().await;
}

#[test]
fn the_pinned_version_is_the_one_in_requirements() {
    let pins = std::fs::read_to_string(sdk_dir().join("requirements.txt")).unwrap();
    let pin = pins
        .lines()
        .find_map(|l| l.trim().strip_prefix("zohocrmsdk8-0=="))
        .expect("requirements.txt pins zohocrmsdk8-0");
    assert_eq!(pin, SDK_VERSION);
    for line in pins.lines().map(str::trim) {
        assert!(
            line.is_empty() || line.starts_with('#') || line.contains("=="),
            "not an exact pin: {line}"
        );
    }
}
