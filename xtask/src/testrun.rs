//! `cargo xtask test` and what goes with it: every test tier in order, one stack suite against a
//! running stack (`--only`), the screenshots, and the count of the faults the simulator fired.
//! Starting and stopping the services is `stack.rs`'s.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::build::{self, target_dir};
use crate::cmd;
use crate::stack::{
    ISOLATES_STALE_KV_SECS, ISOLATES_TOKEN_WINDOW_SECS, Mode, Ports, Stack, stop_flag,
};
use crate::tools::Tools;

/// `cargo xtask test --only SUITE [-- FILTER...]`: one stack suite (`tests/tests/SUITE.rs`)
/// against a stack that is already running (`cargo xtask dev`, or `cargo xtask isolates` for
/// `isolates`), without building or starting anything else: a newcomer's loop.
pub fn only(ports: Ports, suite: &str, filters: &[String]) -> Result<(), String> {
    let is_name = !suite.is_empty()
        && suite
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !is_name
        || !crate::root()
            .join(format!("tests/tests/{suite}.rs"))
            .is_file()
    {
        return Err(format!("no suite `{suite}` in tests/tests/"));
    }
    let needed = if suite == "isolates" {
        ports.isolates().ports()
    } else {
        vec![ports.sim, ports.worker]
    };
    for port in needed {
        if crate::http::get(port, "/", Duration::from_secs(2)).is_none() {
            return Err(format!(
                "nothing answers on 127.0.0.1:{port}: start the stack first (`cargo xtask dev`, \
                 or `cargo xtask isolates` for the isolates suite)"
            ));
        }
    }
    let tools = Tools::ensure()?;
    let stack = Stack::empty(target_dir().join("xtask/logs"))?;
    let mut args = vec!["--test", suite, "--"];
    args.extend(STACK_TESTS);
    args.extend(filters.iter().map(String::as_str));
    cmd::run(&mut stack_tests(&tools, ports, &stack, &args))
}

/// The test binary's arguments that pick the stack's tests: the ignored ones (they need the
/// running stack), but not the camera (`cargo xtask screenshots`) or the scan that runs after
/// everything else.
const STACK_TESTS: [&str; 5] = [
    "--ignored",
    "--skip",
    "after_all_",
    "--skip",
    "screenshots_",
];

/// `cargo xtask test`: every tier, cheapest first.
pub fn test(ports: Ports) -> Result<(), String> {
    let stop = stop_flag()?;
    let started = Instant::now();
    let mut timings: Vec<(&str, Duration)> = Vec::new();
    let mut phase = |name: &'static str, since: &mut Instant| {
        timings.push((name, since.elapsed()));
        *since = Instant::now();
    };
    let mut since = Instant::now();
    let tools = Tools::ensure()?;
    phase("tools", &mut since);
    // What a reviewer should not check by eye: formatting, clippy, the code map.
    crate::tidy::run()?;
    phase("tidy", &mut since);

    // Tier 1: native unit and integration tests (api, zoho, sim, xtask, repo checks). The tests
    // that need the running stack are #[ignore]d there and run in tier 2.
    cmd::run(
        crate::cmd::cargo()
            .args(["test", "--quiet"])
            .current_dir(crate::root()),
    )?;
    // The stack tests compile now, before the stack starts, so a compile error fails fast.
    cmd::run(
        crate::cmd::cargo()
            .args(["test", "--quiet", "-p", "zcrm-tests", "--no-run"])
            .current_dir(crate::root()),
    )?;
    phase("unit and simulator tests", &mut since);
    // Judges the simulator was not written to: Zoho's official SDKs and its OpenAPI description.
    crate::fidelity::run(&tools)?;
    phase("Zoho's SDKs and OpenAPI", &mut since);

    // The release app in dist/ (with its _headers): the Workers serve it as static assets, as
    // in production, beside trunk serve's development build.
    build::app(&tools)?;
    phase("release build of the app", &mut since);

    // Tier 2: the Worker in workerd and the app in Chromium, against the simulator.
    let stack = Stack::start(&tools, ports, Mode::Test, &stop)?;
    phase("build and start the stack", &mut since);
    let mut tests = stack_tests(
        &tools,
        ports,
        &stack,
        &[
            // Every failing suite is reported, not only the first.
            &["--no-fail-fast", "--"][..],
            &STACK_TESTS,
        ]
        .concat(),
    );
    // Then what must run after everything else: the scan of what the Workers wrote.
    let mut after_all = crate::cmd::cargo();
    after_all
        .args([
            "test",
            "--quiet",
            "-p",
            "zcrm-tests",
            "--test",
            "leaks",
            "--",
            "--ignored",
            "after_all_",
        ])
        .current_dir(crate::root())
        .env("ZCRM_STATE_DIR", target_dir().join("xtask"));
    let result = cmd::run(&mut tests).and_then(|()| cmd::run(&mut after_all));
    phase("black-box and browser tests", &mut since);
    drop(stack);
    // The deployable bundle, as `wrangler deploy` would upload it (no account needed).
    let result = result.and_then(|()| build::bundle(&tools).map(drop));
    phase("deploy dry-run", &mut since);
    if let Err(e) = result {
        eprintln!(
            "xtask: the stack's logs are in {}",
            target_dir().join("xtask/logs").display()
        );
        return Err(e);
    }
    eprintln!();
    for (name, took) in &timings {
        eprintln!("  {name:28} {:6.1} s", took.as_secs_f64());
    }
    eprintln!("  {:28} {:6.1} s", "total", started.elapsed().as_secs_f64());
    if let Ok(log) = std::fs::read_to_string(target_dir().join("xtask/logs/sim.log")) {
        eprintln!("\n{}", FaultCount::of_log(&log));
    }
    Ok(())
}

/// The faults the simulator fired during a test run, counted from its log (whose lines of
/// answers made, dropped or delayed by a fault end with `[fault]` or `[fault: slow]`).
#[derive(Debug, Default, PartialEq, Eq)]
struct FaultCount {
    by_call: std::collections::BTreeMap<&'static str, usize>,
    by_kind: std::collections::BTreeMap<String, usize>,
}

impl FaultCount {
    fn of_log(log: &str) -> FaultCount {
        let mut count = FaultCount::default();
        for line in log.lines() {
            let kind = if line.ends_with(" [fault: slow]") {
                "delayed".to_owned()
            } else if line.ends_with(" [fault]") {
                match line.split(" -> ").nth(1).and_then(|r| r.split(' ').next()) {
                    Some("dropped") => "dropped connection".to_owned(),
                    Some(status) => format!("HTTP {status}"),
                    None => continue,
                }
            } else {
                continue;
            };
            let mut words = line.trim_start_matches("INFO zoho_sim: ").split(' ');
            let (Some(method), Some(target)) = (words.next(), words.next()) else {
                continue;
            };
            let path = target.split('?').next().unwrap_or(target);
            *count.by_call.entry(call_of(method, path)).or_default() += 1;
            *count.by_kind.entry(kind).or_default() += 1;
        }
        count
    }

    fn total(&self) -> usize {
        self.by_call.values().sum()
    }
}

impl std::fmt::Display for FaultCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |m: &mut dyn Iterator<Item = (&str, &usize)>| {
            m.map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(
            f,
            "faults the simulator injected: {} in {} kinds of call ({})\n  by kind: {}",
            self.total(),
            self.by_call.len(),
            list(&mut self.by_call.iter().map(|(k, n)| (*k, n))),
            list(&mut self.by_kind.iter().map(|(k, n)| (k.as_str(), n))),
        )
    }
}

/// Which of the Worker's calls to Zoho a simulator path is.
fn call_of(method: &str, path: &str) -> &'static str {
    let crm = path.split_once("/crm/v8/").map(|(_, rest)| rest);
    match (method, crm) {
        (_, None) if path.ends_with("/oauth/v2/token/revoke") => "revoke",
        (_, None) if path.ends_with("/oauth/v2/token") => "token",
        (_, None) => "other",
        (_, Some("users")) => "users",
        (_, Some("org")) => "org",
        (_, Some(rest)) if rest.starts_with("settings/") => "fields",
        (_, Some(rest)) if rest.ends_with("/search") => "search",
        (method, Some(rest)) => match (method, rest.contains('/')) {
            ("GET", false) => "list",
            ("GET", true) => "get",
            ("POST", _) => "create",
            ("PUT", _) => "update",
            ("DELETE", _) => "delete",
            _ => "other",
        },
    }
}

/// `cargo test -p zcrm-tests <args>` against the running stack: its URLs in the environment.
fn stack_tests(tools: &Tools, ports: Ports, stack: &Stack, args: &[&str]) -> Command {
    let mut tests = crate::cmd::cargo();
    tests
        .args(["test", "--quiet", "-p", "zcrm-tests"])
        .args(args)
        .current_dir(crate::root())
        .env("ZCRM_SIM_URL", ports.sim_url())
        .env("ZCRM_WORKER_URL", ports.worker_url())
        .env(
            "ZCRM_WORKER_SANDBOX_URL",
            Ports::url(ports.worker.wrapping_add(1)),
        )
        .env(
            "ZCRM_WORKER_DEVELOPER_URL",
            Ports::url(ports.worker.wrapping_add(2)),
        )
        .env("ZCRM_STATE_DIR", target_dir().join("xtask"))
        .env("ZCRM_APP_URL", ports.app_url())
        .env("ZCRM_ISOLATE_URLS", ports.isolates().urls().join(","))
        .env("ZCRM_ISOLATE_SIM_URL", Ports::url(ports.isolates_sim()))
        .env(
            "ZCRM_ISOLATE_STALE_KV_SECS",
            ISOLATES_STALE_KV_SECS.to_string(),
        )
        .env(
            "ZCRM_ISOLATE_TOKEN_WINDOW_SECS",
            ISOLATES_TOKEN_WINDOW_SECS.to_string(),
        )
        // The development key ring the Workers seal with (hardening checks what it derives).
        .env("ZCRM_TOKEN_KEYS", crate::stack::DEV_TOKEN_KEY)
        // What a test needs to run a Worker of its own (tests/src/own_worker.rs): wrangler
        // under the pinned Node (with the pinned tools' environment) and the simulator's client.
        .env("ZCRM_NODE", tools.node())
        .env("ZCRM_WRANGLER", tools.wrangler_js())
        .env("ZCRM_CLIENT_ID", crate::stack::DEV_CLIENT_ID)
        // A failing stack test's message matters, not the test harness's stack frames.
        .env("RUST_BACKTRACE", "0")
        .env("ZCRM_LOG_DIR", &stack.log_dir)
        .env("CHROME", &tools.chromium)
        .env("CHROMEDRIVER", &tools.chromedriver)
        .env("ZCRM_AXE_JS", tools.axe_js());
    tools.env(&mut tests);
    tests
}

/// `cargo xtask screenshots`: a PNG of each main screen in `docs/screenshots/`, taken by the
/// browser tests' `screenshots_` test against the test stack.
pub fn screenshots(ports: Ports) -> Result<(), String> {
    let stop = stop_flag()?;
    let tools = Tools::ensure()?;
    build::app(&tools)?;
    let stack = Stack::start(&tools, ports, Mode::Test, &stop)?;
    let dir = crate::root().join("docs/screenshots");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut run = stack_tests(
        &tools,
        ports,
        &stack,
        &[
            "--test",
            "e2e",
            "--",
            "--ignored",
            "--exact",
            "screenshots_of_every_main_screen",
        ],
    );
    run.env("ZCRM_SCREENSHOT_DIR", &dir);
    let result = cmd::run(&mut run);
    drop(stack);
    result?;
    println!("screenshots: {}", dir.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_counted_from_the_simulators_log() {
        let log = "\
INFO zoho_sim: listening on http://127.0.0.1:8790
INFO zoho_sim: GET /eu/developer/crm/v8/Leads?fields=Email -> 503 (20 us) [fault]
INFO zoho_sim: GET /eu/developer/crm/v8/Leads?fields=Email -> 200 (90 us)
INFO zoho_sim: POST /eu/developer/crm/v8/Leads -> 201 (2600100 us) [fault: slow]
INFO zoho_sim: DELETE /us/production/crm/v8/Leads/5725767000000001001 -> dropped (5 us) [fault]
INFO zoho_sim: POST /eu/accounts/oauth/v2/token -> 400 (5 us) [fault]
INFO zoho_sim: GET /us/sandbox/crm/v8/settings/fields?module=Leads -> 500 (5 us) [fault]
INFO zoho_sim: POST /__sim/faults -> 200 (5 us)
";
        let count = FaultCount::of_log(log);
        assert_eq!(count.total(), 5);
        assert_eq!(
            count.by_call.into_iter().collect::<Vec<_>>(),
            [
                ("create", 1),
                ("delete", 1),
                ("fields", 1),
                ("list", 1),
                ("token", 1)
            ]
        );
        assert_eq!(count.by_kind["HTTP 503"], 1);
        assert_eq!(count.by_kind["dropped connection"], 1);
        assert_eq!(count.by_kind["delayed"], 1);
        assert_eq!(call_of("PUT", "/in/production/crm/v8/Leads/1"), "update");
        assert_eq!(
            call_of("GET", "/in/production/crm/v8/Leads/search"),
            "search"
        );
        assert_eq!(
            call_of("POST", "/in/accounts/oauth/v2/token/revoke"),
            "revoke"
        );
        assert_eq!(call_of("GET", "/in/production/crm/v8/users"), "users");
    }
}
