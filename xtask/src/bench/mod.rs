//! `cargo xtask bench`: the release build's sizes against the budgets, and the Worker's latency,
//! throughput, token economy, cold start and scale, each figure beside a reference taken in the
//! same run (the machine is small and shared: only ratios within one run are comparable).
//!
//! The Worker runs in workerd directly (the npm package wrangler depends on), not under
//! `wrangler dev`, whose Node proxy caps throughput far below the Worker's. Its KV binding is
//! served by a tiny in-memory KV service in the same workerd (`KV_SERVICE`, the HTTP protocol
//! workerd speaks to a KV namespace), so KV costs one in-process subrequest per call here,
//! less than Workers KV in production or wrangler's SQLite-backed local KV.
//!
//! The load generator is this module's own: one thread per connection, keep-alive HTTP/1.1 over
//! `TcpStream` with `TCP_NODELAY`, every latency recorded (no sampling), nearest-rank percentiles.
//!
//! The same workerd also serves the portal's origin for the browser run (`FRONT_SERVICE`: dist/
//! as static files with the single-page fallback, `/api/*` and `/auth/*` to the Worker), which
//! headless Chromium drives through chromedriver's WebDriver API (plain JSON over HTTP).
//!
//! Ports: 19790 simulator, 19787 the Worker, 19786 the portal's origin, 19785 chromedriver, so
//! the bench runs beside `cargo xtask dev`/`test`. Everything it writes is under `target/bench/`
//! (logs in `target/bench/logs/`); the figures go to `target/bench/bench.json`. Budgets are in
//! `xtask/budgets.toml`; the bench fails only when one is exceeded (or when it cannot measure).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod browser;
mod floor;
mod isolates;
mod lighthouse;
mod load;
mod report;
mod services;
mod sizes;

use browser::*;
use load::*;
use report::*;
use services::*;
use sizes::*;

use crate::build::{self, target_dir};
use crate::http::{Conn, once, request_bytes};
use crate::isolates::{compatibility_date, worker_modules};
use crate::stack::{self, DEV_CLIENT_ID, DEV_CLIENT_SECRET, DEV_TOKEN_KEY, Stack};
use crate::tools::Tools;

const SIM_PORT: u16 = 19790;
/// The Worker alone, as Cloudflare runs it for `/api/*` and `/auth/*`.
const WORKER_PORT: u16 = 19787;
/// The portal's origin for the browser: dist/ with the single-page fallback, and `/api/*` and
/// `/auth/*` handed to the Worker (what Cloudflare's routing does in production).
const APP_PORT: u16 = 19786;
const CHROMEDRIVER_PORT: u16 = 19785;
/// workerd's inspector, for `--profile`.
const INSPECTOR_PORT: u16 = 19784;
/// The redirect page of the portal's origin, registered at the simulator. The headless sign-ins
/// never load it: they take the code from the redirect's `Location`.
const REDIRECT_URI: &str = "http://127.0.0.1:19786/redirect.html";
use zcrm_edge::leads::LEAD_FIELDS;

/// The query of the Worker's first page of students, exactly as it asks Zoho for it (the direct
/// calls the bench compares with are the same call).
fn leads_query() -> String {
    let path = zcrm_edge::listing::ListQuery::parse(&[])
        .map(|q| q.zoho_path())
        .unwrap_or_default();
    path.split_once('?')
        .map(|(_, q)| q.to_owned())
        .unwrap_or_default()
}

/// A Workers KV namespace in memory, speaking the HTTP protocol workerd uses for a
/// `kvNamespace` binding (the same one miniflare's KV service answers): `GET /<key>`,
/// `PUT /<key>?expiration_ttl=S`, `DELETE /<key>`, keys URL-encoded. Expirations are honoured.
const KV_SERVICE: &str = include_str!("../../tools/workerd/bench-kv.js");

/// The folder (in the bench's workerd folder) of the grants' Durable Objects.
const OBJECTS: &str = "durable-objects";

/// The portal's origin in front of the Worker, as Cloudflare's routing does it in production
/// (`run_worker_first = ["/api/*", "/auth/*"]`, single-page fallback): for the browser run.
const FRONT_SERVICE: &str = include_str!("../../tools/workerd/bench-front.js");

fn sim_json(method: &str, path: &str, body: Value) -> Result<Value, String> {
    let body = body.to_string();
    let r = once(
        method,
        SIM_PORT,
        path,
        &[],
        (method != "GET").then_some(("application/json", body.as_bytes())),
    )?;
    if !(200..300).contains(&r.status) {
        return Err(format!(
            "{method} {path} answered {}: {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        ));
    }
    r.json()
}

/// `(port, path?query)` of an `http://127.0.0.1:PORT/...` URL.
pub fn split_url(url: &str) -> Option<(u16, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let port = authority.rsplit_once(':')?.1.parse().ok()?;
    Some((
        port,
        if path.is_empty() {
            "/".into()
        } else {
            path.into()
        },
    ))
}

/// The decoded query parameters of a URL (the `zoho` crate's form parsing).
pub fn query_pairs(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    zoho::form::parse(query.split('#').next().unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// The command

pub struct Options {
    pub build: bool,
    /// A CPU profile of the Worker instead of the figures.
    pub profile: bool,
    /// Only the sizes and the Worker beside the floor (a quick loop while cutting).
    pub floor: bool,
    /// With `floor`: how many runs (each with a new simulator and workerd), and their medians.
    pub runs: usize,
    /// Only the sizes and Lighthouse (`--lighthouse`).
    pub lighthouse_only: bool,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            build: true,
            profile: false,
            floor: false,
            runs: 1,
            lighthouse_only: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--no-build" => options.build = false,
                "--profile" => options.profile = true,
                "--floor" => options.floor = true,
                "--runs" => {
                    options.runs = args
                        .next()
                        .and_then(|n| n.parse().ok())
                        .filter(|n| (1..=9).contains(n))
                        .ok_or("--runs takes a number of runs from 1 to 9")?;
                }
                "--lighthouse" => options.lighthouse_only = true,
                other => return Err(format!("unknown option `{other}` (see `cargo xtask help`)")),
            }
        }
        if options.runs > 1 && !options.floor {
            return Err("--runs goes with --floor".into());
        }
        Ok(options)
    }
}

/// `cargo xtask bench`.
pub fn run(options: Options) -> Result<(), String> {
    let stop = stack::stop_flag()?;
    let tools = Tools::ensure()?;
    let root = crate::root();
    let budgets = Budgets::parse(
        &std::fs::read_to_string(root.join("xtask/budgets.toml"))
            .map_err(|e| format!("xtask/budgets.toml: {e}"))?,
    )
    .map_err(|e| format!("xtask/budgets.toml: {e}"))?;
    let dir = target_dir().join("bench");
    let bundle = target_dir().join("edge-bundle");
    if options.build {
        build::worker(&tools, build::Profile::Release)?;
        build::app(&tools)?;
        // A fresh folder: wrangler leaves older hashed Wasm files in place.
        let _ = std::fs::remove_dir_all(&bundle);
        build::bundle(&tools)?;
        crate::cmd::run(
            crate::cmd::cargo()
                .args(["build", "--quiet", "--release", "-p", "zoho-sim"])
                .current_dir(&root),
        )?;
    }
    for (port, name) in [
        (SIM_PORT, "simulator"),
        (WORKER_PORT, "workerd"),
        (APP_PORT, "workerd (app)"),
        (CHROMEDRIVER_PORT, "chromedriver"),
    ] {
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
            return Err(format!(
                "port {port} (the bench's {name}) is taken: is another bench running?"
            ));
        }
    }

    let mut report = Report {
        app: Some(app_sizes(&budgets)?),
        worker: Some(worker_sizes(&bundle, &budgets)?),
        ..Report::default()
    };

    let stack = Stack::empty(dir.join("logs"))?;
    let mut bench = Bench {
        tools,
        stack,
        stop,
        dir: dir.clone(),
    };
    if options.profile {
        // The same code with its function names (the release build strips them); the next
        // release build puts the stripped Wasm back.
        build::worker(&bench.tools, build::Profile::Profiling)?;
        let profiled = profile(&mut bench);
        drop(bench);
        return profiled;
    }
    if options.floor {
        let mut runs = Vec::new();
        let mut failure = None;
        for run in 1..=options.runs {
            if options.runs > 1 {
                println!("== run {run} of {}", options.runs);
            }
            match measure_floor(&mut bench) {
                Ok(measured) => {
                    // The last run is printed after the sizes, as a single run is.
                    if run < options.runs {
                        floor::print_run(&measured);
                    }
                    runs.push(measured);
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        drop(bench);
        if let Some(app) = &report.app {
            println!("app first load: {} bytes gzip", app.gzip());
        }
        if let Some(worker) = &report.worker {
            println!("Worker bundle:  {} bytes gzip", worker.gzip());
        }
        if let Some(e) = failure {
            return Err(e);
        }
        if let Some(last) = runs.last() {
            floor::print_run(last);
        }
        if runs.len() > 1 {
            floor::print_medians(&runs);
            let path = dir.join("floor.json");
            let json = serde_json::to_string_pretty(&floor::runs_json(&runs))
                .map_err(|e| e.to_string())?;
            std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
            println!("wrote {}", path.display());
        }
        return Ok(());
    }
    let measured = if options.lighthouse_only {
        measure_lighthouse(&mut bench, &mut report)
    } else {
        measure(&mut bench, &mut report)
    };
    drop(bench);
    if let Err(e) = &measured {
        eprintln!(
            "xtask: the bench stopped early: {e}; logs in {}",
            dir.join("logs").display()
        );
    }

    report.print();
    let json = report.json();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("bench.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&json).unwrap_or_default() + "\n",
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    println!("\nfigures written to {}", path.display());
    measured?;
    let over: Vec<String> = [&report.app, &report.worker]
        .into_iter()
        .flatten()
        .filter(|s| !s.within_budget())
        .map(|s| {
            format!(
                "{}: {} bytes gzip, budget {} KB",
                s.what,
                s.gzip(),
                s.budget_kb
            )
        })
        .collect();
    if over.is_empty() {
        Ok(())
    } else {
        Err(format!("over budget: {}", over.join("; ")))
    }
}

/// `--profile`: the Worker's CPU profile (V8's sampling profiler through workerd's inspector,
/// driven by `xtask/tools/profile.mjs`) on the hot routes, as self time per function.
fn profile(bench: &mut Bench) -> Result<(), String> {
    if std::net::TcpListener::bind(("127.0.0.1", INSPECTOR_PORT)).is_err() {
        return Err(format!(
            "port {INSPECTOR_PORT} (workerd's inspector) is taken"
        ));
    }
    bench.start_sim(None)?;
    let dir = bench.prepare_workerd()?;
    // Without the request log line: with an inspector attached, every `console.log` is also sent
    // to it, which took 40% of a `/api/health` request in the profile; without one, turning the
    // line off changes the Worker's CPU per request by 2% (`--floor` runs, LOG_LEVEL warn).
    let config = dir.join("config.capnp");
    let text =
        std::fs::read_to_string(&config).map_err(|e| format!("{}: {e}", config.display()))?;
    let quiet = text.replace(
        r#"(name = "LOG_LEVEL", text = "info")"#,
        r#"(name = "LOG_LEVEL", text = "warn")"#,
    );
    if quiet == text {
        return Err("the bench's workerd config has no LOG_LEVEL info to turn off".into());
    }
    std::fs::write(&config, quiet).map_err(|e| format!("{}: {e}", config.display()))?;
    println!("(the request log line is off while profiling: see xtask/src/bench/mod.rs)");
    bench.start_workerd_with(
        &dir,
        &[format!("--inspector-addr=127.0.0.1:{INSPECTOR_PORT}")],
    )?;
    let session = sign_in("admin@zylker-academy.example")?;
    let paths = [
        "/api/students?page=1&per_page=20".to_owned(),
        // What every request pays: no I/O at all.
        "/api/health".to_owned(),
        "/api/session".to_owned(),
        format!("/api/crm/Leads?fields={LEAD_FIELDS}&per_page=200"),
    ];
    println!(
        "== cargo xtask bench --profile: workerd direct, V8's sampling profiler on the Worker's thread"
    );
    let mut node = Command::new(bench.tools.node());
    node.arg(crate::root().join("xtask/tools/profile.mjs"))
        .env("WORKER", format!("http://127.0.0.1:{WORKER_PORT}"))
        .env("INSPECTOR", format!("127.0.0.1:{INSPECTOR_PORT}"))
        .env("COOKIE", format!("__Host-zcrm-session={session}"))
        .env("PATHS", paths.join("\n"));
    crate::cmd::run(&mut node)
}

const C1_WINDOW: Duration = Duration::from_secs(3);
const C32_WINDOW: Duration = Duration::from_secs(4);

/// How long a load at `concurrency` is measured (after its warm-up).
fn window(concurrency: usize) -> Duration {
    if concurrency == 1 {
        C1_WINDOW
    } else {
        C32_WINDOW
    }
}
const WARMUP: Duration = Duration::from_millis(500);

/// `--floor`: the Worker's students list beside the floor, and two of its routes alone.
fn measure_floor(bench: &mut Bench) -> Result<floor::Run, String> {
    bench.start_sim(None)?;
    let workerd_dir = bench.prepare_workerd()?;
    bench.start_workerd(&workerd_dir)?;
    bench.stack.quiet();
    let email = "admin@zylker-academy.example";
    let session = sign_in(email)?;
    let (token, api) = direct_token(email)?;
    let through = worker_get("/api/students", &session);
    let list_url = format!(
        "http://127.0.0.1:{SIM_PORT}{api}/crm/v8/Leads?{}",
        leads_query()
    );
    let rows = floor::measure(bench, &through, &token, &list_url)?;
    // Where the list's time goes: no I/O, then the grant's round trip alone.
    let mut alone = Vec::new();
    for path in floor::ALONE {
        for (concurrency, summary, cpu_us) in floor::worker_cpu(bench, &worker_get(path, &session))
        {
            alone.push(floor::Alone {
                path,
                concurrency,
                summary,
                cpu_us,
            });
        }
    }
    Ok(floor::Run { rows, alone })
}

fn measure(bench: &mut Bench, report: &mut Report) -> Result<(), String> {
    bench.start_sim(None)?;
    let workerd_dir = bench.prepare_workerd()?;

    // Cold start: workerd from nothing to its first answer, several times.
    let mut colds = Vec::new();
    for _ in 0..5 {
        colds.push(bench.start_workerd(&workerd_dir)?);
        bench.check_stop()?;
    }
    let health = worker_get("/api/health", "none");
    let warm_health = load(
        &[WORKER_PORT],
        &health,
        1,
        WARMUP,
        Duration::from_secs(1),
        &bench.stop,
    );
    report.cold = Some(Cold {
        to_first_answer_us: colds.iter().map(|c| c.0.as_micros() as u64).collect(),
        first_request_us: colds.iter().map(|c| c.1.as_micros() as u64).collect(),
        warm_health,
    });
    bench.stack.quiet();

    // Proxy cost: the students list through the Worker against the same call to the simulator.
    let email = "admin@zylker-academy.example";
    let session = sign_in(email)?;
    let (token, api) = direct_token(email)?;
    let through = worker_get("/api/students", &session);
    let direct = sim_get(&format!("{api}/crm/v8/Leads?{}", leads_query()), &token);
    for (name, request, port) in [
        ("Worker GET /api/students", &through, WORKER_PORT),
        ("simulator GET /crm/v8/Leads (direct)", &direct, SIM_PORT),
    ] {
        let reply = Conn::open(port)
            .and_then(|mut c| c.send(request))
            .map_err(|e| format!("{name}: {e}"))?;
        if reply.status != 200 {
            return Err(format!("{name} answered {}", reply.status));
        }
    }
    for concurrency in [1, 32] {
        let window = window(concurrency);
        let worker = load(
            &[WORKER_PORT],
            &through,
            concurrency,
            WARMUP,
            window,
            &bench.stop,
        );
        bench.check_stop()?;
        let sim = load(
            &[SIM_PORT],
            &direct,
            concurrency,
            WARMUP,
            window,
            &bench.stop,
        );
        bench.check_stop()?;
        report.proxy.push((concurrency, worker, sim));
        // Where the Worker's time goes: a route with no I/O, and one with the coordination round
        // trip of every signed-in request (the grant's object) but no call to Zoho.
        let health = load(
            &[WORKER_PORT],
            &worker_get("/api/health", &session),
            concurrency,
            WARMUP,
            window,
            &bench.stop,
        );
        let session_only = load(
            &[WORKER_PORT],
            &worker_get("/api/session", &session),
            concurrency,
            WARMUP,
            window,
            &bench.stop,
        );
        report.floor.push((concurrency, health, session_only));
        bench.check_stop()?;
    }
    // The floor beside the Worker, for the same user's same list.
    let list_url = format!(
        "http://127.0.0.1:{SIM_PORT}{api}/crm/v8/Leads?{}",
        leads_query()
    );
    report.js_floor = floor::measure(bench, &through, &token, &list_url)?;

    // Token economy: a steady load over simulated hours, then a burst just after expiry.
    let email = "admin@northwind-college.example";
    let session = sign_in(email)?;
    let request = worker_get("/api/students", &session);
    let before = token_stats(email)?;
    let (hours, steps_per_hour, per_step) = (6u64, 6u64, 50usize);
    let mut conn = Conn::open(WORKER_PORT).map_err(|e| e.to_string())?;
    let (mut sent, mut failed) = (0u64, 0u64);
    for _ in 0..hours * steps_per_hour {
        sim_json(
            "POST",
            "/__sim/clock",
            json!({"advance_secs": 3600 / steps_per_hour}),
        )?;
        for _ in 0..per_step {
            let status = conn.send(&request).map(|r| r.status).unwrap_or(0);
            sent += 1;
            if status != 200 {
                failed += 1;
                conn = Conn::open(WORKER_PORT).map_err(|e| e.to_string())?;
            }
        }
        bench.check_stop()?;
    }
    drop(conn);
    let after = token_stats(email)?;
    let steady = Steady {
        simulated_hours: hours,
        requests: sent,
        failed,
        refreshes: count(&after, "refreshes") - count(&before, "refreshes"),
        crm_calls: count(&after, "crm_calls") - count(&before, "crm_calls"),
        unauthorized: count(&after, "unauthorized") - count(&before, "unauthorized"),
        throttled: count(&after, "throttled") - count(&before, "throttled"),
    };
    // Past the expiry of whatever token the Worker holds, then 50 requests of one user at once.
    sim_json("POST", "/__sim/clock", json!({"advance_secs": 3601}))?;
    let before = token_stats(email)?;
    let statuses = burst(&[WORKER_PORT], &request, 50);
    let after = token_stats(email)?;
    report.tokens = Some(Tokens {
        steady,
        burst_requests: statuses.len(),
        burst_ok: statuses.iter().filter(|&&s| s == 200).count(),
        burst_statuses: statuses,
        burst_refreshes: count(&after, "refreshes") - count(&before, "refreshes"),
        burst_throttled: count(&after, "throttled") - count(&before, "throttled"),
        burst_crm_calls: count(&after, "crm_calls") - count(&before, "crm_calls"),
        burst_unauthorized: count(&after, "unauthorized") - count(&before, "unauthorized"),
        ahead: refresh_ahead()?,
    });
    bench.check_stop()?;

    // Several isolates, as Cloudflare runs the Worker (same simulator, same run).
    report.multi = Some(isolates::measure(bench)?);
    bench.check_stop()?;

    // Scale: the big org at three sizes, the simulator restarted for each.
    let email = "admin@bulk-university.example";
    for leads in [10usize, 2000, 20_000] {
        bench.start_sim(Some(leads))?;
        bench.stack.quiet();
        let session = sign_in(email)?;
        let (token, api) = direct_token(email)?;
        let mut rows = Vec::new();
        let mut pair = |what: &str, through: Vec<u8>, direct: Vec<u8>| {
            let w = load(
                &[WORKER_PORT],
                &through,
                1,
                WARMUP,
                Duration::from_secs(2),
                &bench.stop,
            );
            let s = load(
                &[SIM_PORT],
                &direct,
                1,
                WARMUP,
                Duration::from_secs(2),
                &bench.stop,
            );
            rows.push((what.to_owned(), w, s));
        };
        pair(
            "students page 1 (20)",
            worker_get("/api/students", &session),
            sim_get(&format!("{api}/crm/v8/Leads?{}", leads_query()), &token),
        );
        if leads >= 2000 {
            pair(
                "students page 100 (20), records 1981-2000",
                worker_get("/api/students?page=100&per_page=20", &session),
                sim_get(
                    &format!(
                        "{api}/crm/v8/Leads?{}",
                        leads_query().replace("page=1&per_page=20", "page=100&per_page=20")
                    ),
                    &token,
                ),
            );
        }
        let crm = |q: &str| format!("/api/crm/Leads?fields={LEAD_FIELDS}&{q}");
        let zoho = |q: &str| format!("{api}/crm/v8/Leads?fields={LEAD_FIELDS}&{q}");
        pair(
            "proxy page 1 (200)",
            worker_get(&crm("page=1&per_page=200"), &session),
            sim_get(&zoho("page=1&per_page=200"), &token),
        );
        if leads > 2000 {
            // The page_token of records 2001-2200, taken from page 10 of 200.
            let page10 = Conn::open(SIM_PORT)
                .and_then(|mut c| c.send(&sim_get(&zoho("page=10&per_page=200"), &token)))
                .map_err(|e| e.to_string())?
                .json()?;
            let next = page10["info"]["next_page_token"]
                .as_str()
                .ok_or("page 10 has no next_page_token")?
                .to_owned();
            pair(
                "proxy page_token (200), records 2001-2200",
                worker_get(&crm(&format!("per_page=200&page_token={next}")), &session),
                sim_get(&zoho(&format!("per_page=200&page_token={next}")), &token),
            );
        }
        report.scale.push((leads, rows));
        bench.check_stop()?;
    }

    // In the browser: popup approval to the first page of students, in headless Chromium.
    let mut driver = Command::new(&bench.tools.chromedriver);
    driver.arg(format!("--port={CHROMEDRIVER_PORT}"));
    bench.stack.spawn("chromedriver", &mut driver)?;
    // Not `wait_ready`: chromedriver keeps the connection open after `Connection: close`.
    poll("chromedriver", Duration::from_secs(30), || {
        Ok(once("GET", CHROMEDRIVER_PORT, "/status", &[], None)
            .ok()
            .filter(|r| r.status == 200))
    })?;
    bench.stack.quiet();
    for run in 0..BROWSER_RUNS {
        let profile = bench.dir.join(format!("chromium-profile-{run}"));
        let _ = std::fs::remove_dir_all(&profile);
        let took = browser_run(
            &bench.tools.chromium,
            "admin@zylker-academy.example",
            &profile,
        );
        let _ = std::fs::remove_dir_all(&profile);
        report.browser.push(took?);
        bench.check_stop()?;
    }
    bench.stack.stop("chromedriver");

    // Lighthouse, with a fresh simulator and workerd (the runs above moved the clock and
    // seeded thousands of leads).
    measure_lighthouse(bench, report)
}

/// Lighthouse on the release app served by workerd, signed out and in, phone and desktop.
fn measure_lighthouse(bench: &mut Bench, report: &mut Report) -> Result<(), String> {
    bench.start_sim(None)?;
    let dir = bench.prepare_workerd()?;
    bench.start_workerd(&dir)?;
    report.lighthouse = lighthouse::measure(bench, "admin@zylker-academy.example")?;
    Ok(())
}

const BROWSER_RUNS: usize = 5;

/// One browser sign-in: Accept to the first row, and the portal's calls meanwhile
/// (`(path, start after Accept, duration)`, ms).
struct BrowserRun {
    total_ms: f64,
    calls: Vec<(String, f64, f64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_direct_list_is_the_workers_own_call() {
        assert_eq!(
            leads_query(),
            "fields=First_Name,Last_Name,Company,Course,Email,Phone&page=1&per_page=20&sort_by=Modified_Time&sort_order=desc"
        );
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&v, 0.0), Some(1));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[1, 2, 3], 50.0), Some(2));
        assert_eq!(percentile(&[], 50.0), None);
        let s = Summary::of(vec![30, 10, 20, 40], 1, Duration::from_secs(2));
        assert_eq!((s.p50_us, s.p99_us, s.requests, s.errors), (20, 40, 4, 1));
        assert_eq!(s.rps, 2.0);
    }

    #[test]
    fn budgets_parse_and_the_repository_file_is_valid() {
        let b = Budgets::parse(
            "# c\napp_first_load_gzip_kb = 150 # KB\n\nworker_bundle_gzip_kb=1_000\n",
        )
        .unwrap();
        assert_eq!(
            b,
            Budgets {
                app_first_load_gzip_kb: 150,
                worker_bundle_gzip_kb: 1000
            }
        );
        assert!(
            Budgets::parse("app_first_load_gzip_kb = 150").is_err(),
            "missing"
        );
        assert!(Budgets::parse("app_first_load_gzip_kb = x\nworker_bundle_gzip_kb = 1").is_err());
        assert!(
            Budgets::parse("app_first_load_gzip_kb = 1\nworker_bundle_gzip_kb = 1\nother = 2")
                .is_err()
        );
        assert!(
            Budgets::parse(
                "app_first_load_gzip_kb = 1\napp_first_load_gzip_kb = 2\nworker_bundle_gzip_kb = 1"
            )
            .is_err()
        );
        let file = std::fs::read_to_string(crate::root().join("xtask/budgets.toml")).unwrap();
        assert_eq!(
            Budgets::parse(&file).unwrap(),
            Budgets {
                app_first_load_gzip_kb: 120,
                worker_bundle_gzip_kb: 250
            },
            "the budgets (change them here and in budgets.toml together)"
        );
    }

    #[test]
    fn first_load_files_come_from_trunks_index() {
        let html = r#"<script type="module">
import init, * as bindings from '/zcrm-app-86e5.js';
const wasm = await init({ module_or_path: '/zcrm-app-86e5_bg.wasm' });
</script>
<link rel="stylesheet" href="/style-1198.css" integrity="sha384-x"/>
<link rel="modulepreload" href="/zcrm-app-86e5.js"><link rel="preload" href="/zcrm-app-86e5_bg.wasm" as="fetch">
<a href="/redirect.html">x</a><script src="//cdn.example/x.js"></script>"#;
        assert_eq!(
            first_load_files(html),
            [
                "style-1198.css",
                "zcrm-app-86e5.js",
                "zcrm-app-86e5_bg.wasm"
            ]
        );
    }

    #[test]
    fn a_scripts_static_imports_are_part_of_the_first_load() {
        let js = r#"import*as M from"./__wasm_split.js";import { x } from './b.js';
const u = new URL("./chunk.wasm", import.meta.url); import("./lazy.js"); from "../up.js";
export { y } from "./__wasm_split.js";"#;
        assert_eq!(static_imports(js), ["__wasm_split.js", "b.js"]);
    }

    #[test]
    fn urls_and_queries() {
        assert_eq!(
            split_url("http://127.0.0.1:19790/us/accounts/oauth/v2/auth?a=b"),
            Some((19790, "/us/accounts/oauth/v2/auth?a=b".into()))
        );
        assert_eq!(split_url("http://127.0.0.1:80"), Some((80, "/".into())));
        assert_eq!(split_url("https://x:1/"), None);
        let q = query_pairs(
            "http://h:1/r.html?state=a_b&code=1000.x&accounts-server=http%3A%2F%2F127.0.0.1%3A19790%2Fus%2Faccounts&e=%&f=a+b",
        );
        let get = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(
            get("accounts-server"),
            Some("http://127.0.0.1:19790/us/accounts")
        );
        assert_eq!(get("code"), Some("1000.x"));
        assert_eq!(get("e"), Some("%"));
        assert_eq!(get("f"), Some("a b"));
    }

    #[test]
    fn the_workerd_config_binds_kv_the_wasm_and_every_variable() {
        let c = workerd_config(
            19787,
            19786,
            Path::new("/w/dist"),
            Path::new("/w/objects"),
            "http://127.0.0.1:19790",
            "2026-11-01",
        );
        assert!(c.contains(r#"address = "127.0.0.1:19786""#));
        assert!(c.contains(r#"disk = (path = "/w/dist", writable = false)"#));
        assert!(c.contains(r#"address = "127.0.0.1:19787""#));
        assert!(c.contains(r#"(name = "KV", kvNamespace = "kv")"#));
        assert!(c.contains(r#"(name = "worker.js", esModule = embed "worker.js")"#));
        assert!(c.contains(r#"wasm = embed "build/index_bg.wasm""#));
        assert!(c.contains(r#"compatibilityDate = "2026-11-01""#));
        for var in [
            "ZOHO_ENVIRONMENT",
            "ZOHO_SIM_BASE\", text = \"http://127.0.0.1:19790\"",
            "ZOHO_CLIENT_ID",
            "ZOHO_REDIRECT_URI",
            "ZOHO_CLIENT_SECRET",
            "TOKEN_KEYS",
        ] {
            assert!(c.contains(&format!("(name = \"{var}")), "{var}");
        }
        // The bench's ports stay clear of the dev/test stack's (8790, 8787-8789, 8080).
        assert!(![8790, 8787, 8788, 8789, 8080].contains(&SIM_PORT));
        assert!(![8790, 8787, 8788, 8789, 8080].contains(&WORKER_PORT));
    }

    #[test]
    fn options() {
        assert!(Options::parse(&[]).unwrap().build);
        assert!(!Options::parse(&["--no-build".into()]).unwrap().build);
        assert!(Options::parse(&["--fast".into()]).is_err());
        assert!(
            Options::parse(&["--lighthouse".into()])
                .unwrap()
                .lighthouse_only
        );
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(Options::parse(&args(&["--floor"])).unwrap().runs, 1);
        let three = Options::parse(&args(&["--floor", "--runs", "3"])).unwrap();
        assert!(three.floor && three.runs == 3);
        for bad in [
            &["--floor", "--runs"][..],
            &["--floor", "--runs", "0"],
            &["--floor", "--runs", "10"],
            &["--floor", "--runs", "three"],
            &["--runs", "3"],
        ] {
            assert!(Options::parse(&args(bad)).is_err(), "{bad:?}");
        }
    }
}
