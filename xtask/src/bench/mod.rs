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

mod floor;
mod isolates;

use crate::build::{self, target_dir};
use crate::http::{Conn, once, request_bytes};
use crate::isolates::{WASM_MODULE, compatibility_date};
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
/// The Worker's fields and order of a students list, as `edge/src/leads.rs` asks Zoho for them.
const LEADS_QUERY: &str = "fields=First_Name,Last_Name,Company,Course,Email,Phone&page=1&per_page=20&sort_by=Modified_Time&sort_order=desc";
const LEAD_FIELDS: &str = "First_Name,Last_Name,Company,Course,Email,Phone";

/// A Workers KV namespace in memory, speaking the HTTP protocol workerd uses for a
/// `kvNamespace` binding (the same one miniflare's KV service answers): `GET /<key>`,
/// `PUT /<key>?expiration_ttl=S`, `DELETE /<key>`, keys URL-encoded. Expirations are honoured.
const KV_SERVICE: &str = r#"// The bench's KV namespace: in memory, for as long as this workerd runs.
const store = new Map();
export default {
  async fetch(req) {
    const url = new URL(req.url);
    const key = decodeURIComponent(url.pathname.slice(1));
    const now = Date.now() / 1000;
    if (req.method === "GET" && key !== "") {
      const e = store.get(key);
      if (!e || (e.exp !== undefined && e.exp <= now)) {
        store.delete(key);
        return new Response("Not Found", { status: 404 });
      }
      const headers = new Headers();
      if (e.exp !== undefined) headers.set("CF-Expiration", String(Math.floor(e.exp)));
      if (e.meta !== null) headers.set("CF-KV-Metadata", e.meta);
      return new Response(e.value, { headers });
    }
    if (req.method === "PUT" && key !== "") {
      const value = await req.arrayBuffer();
      const ttl = url.searchParams.get("expiration_ttl");
      const at = url.searchParams.get("expiration");
      const exp = ttl !== null ? now + Number(ttl) : at !== null ? Number(at) : undefined;
      store.set(key, { value, exp, meta: req.headers.get("CF-KV-Metadata") });
      return new Response();
    }
    if (req.method === "DELETE" && key !== "") {
      store.delete(key);
      return new Response();
    }
    return new Response("not supported by the bench's KV", { status: 501 });
  },
};
"#;

/// The folder (in the bench's workerd folder) of the grants' Durable Objects.
const OBJECTS: &str = "durable-objects";

/// The portal's origin in front of the Worker, as Cloudflare's routing does it in production
/// (`run_worker_first = ["/api/*", "/auth/*"]`, single-page fallback): for the browser run.
const FRONT_SERVICE: &str = r#"// The bench's stand-in for Cloudflare's static assets and routing.
const TYPES = {
  html: "text/html; charset=utf-8", js: "text/javascript", wasm: "application/wasm",
  css: "text/css", json: "application/json", svg: "image/svg+xml", ico: "image/x-icon",
};
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/auth/")) {
      return env.EDGE.fetch(req);
    }
    let path = url.pathname === "/" ? "/index.html" : url.pathname;
    let res = await env.DIST.fetch(new URL(path, url));
    if (res.status !== 200 || (res.headers.get("content-type") || "").startsWith("application/json")) {
      path = "/index.html";
      res = await env.DIST.fetch(new URL(path, url));
    }
    const headers = new Headers(res.headers);
    headers.set("content-type", TYPES[path.split(".").pop()] || "application/octet-stream");
    return new Response(res.body, { status: res.status, headers });
  },
};
"#;

// ---------------------------------------------------------------------------------------------
// Budgets

/// `xtask/budgets.toml`: gzip budgets in KB (1 KB = 1000 bytes).
#[derive(Debug, PartialEq, Eq)]
pub struct Budgets {
    pub app_first_load_gzip_kb: u64,
    pub worker_bundle_gzip_kb: u64,
}

impl Budgets {
    /// Reads `key = whole number` lines (comments with `#`); both keys are required, nothing else
    /// is allowed.
    pub fn parse(text: &str) -> Result<Budgets, String> {
        let (mut app, mut worker) = (None, None);
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| format!("line {}: expected `key = number`", n + 1))?;
            let value: u64 =
                value.trim().replace('_', "").parse().map_err(|_| {
                    format!("line {}: `{}` is not a whole number", n + 1, value.trim())
                })?;
            let slot = match key.trim() {
                "app_first_load_gzip_kb" => &mut app,
                "worker_bundle_gzip_kb" => &mut worker,
                other => return Err(format!("line {}: unknown budget `{other}`", n + 1)),
            };
            if slot.replace(value).is_some() {
                return Err(format!("line {}: `{}` is set twice", n + 1, key.trim()));
            }
        }
        Ok(Budgets {
            app_first_load_gzip_kb: app.ok_or("app_first_load_gzip_kb is missing")?,
            worker_bundle_gzip_kb: worker.ok_or("worker_bundle_gzip_kb is missing")?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics

/// Nearest-rank percentile of sorted values: the smallest value with at least `p`% of the values
/// at or below it.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// What a load run measured.
#[derive(Clone, Debug)]
pub struct Summary {
    pub requests: usize,
    pub errors: usize,
    pub p50_us: u64,
    pub p99_us: u64,
    pub rps: f64,
}

impl Summary {
    pub fn of(mut latencies_us: Vec<u64>, errors: usize, window: Duration) -> Summary {
        latencies_us.sort_unstable();
        Summary {
            requests: latencies_us.len(),
            errors,
            p50_us: percentile(&latencies_us, 50.0).unwrap_or(0),
            p99_us: percentile(&latencies_us, 99.0).unwrap_or(0),
            rps: latencies_us.len() as f64 / window.as_secs_f64().max(1e-9),
        }
    }

    /// A row of the latency tables: concurrency, what, p50, p99, req/s, requests, errors.
    fn print_row(&self, concurrency: usize, name: &str) {
        println!(
            "   {:>3} {:10} {:>9.2} {:>9.2} {:>9.0} {:>8} {:>7}",
            concurrency,
            name,
            ms(self.p50_us),
            ms(self.p99_us),
            self.rps,
            self.requests,
            self.errors
        );
    }

    fn json(&self) -> Value {
        json!({
            "requests": self.requests,
            "errors": self.errors,
            "p50_ms": ms(self.p50_us),
            "p99_ms": ms(self.p99_us),
            "rps": (self.rps * 10.0).round() / 10.0,
        })
    }
}

fn ms(us: u64) -> f64 {
    (us as f64 / 10.0).round() / 100.0
}

// ---------------------------------------------------------------------------------------------
// Sizes

/// The files of `dist/` that `index.html` loads (scripts, Wasm, styles), sorted by name.
pub fn first_load_files(index_html: &str) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for quote in ['"', '\''] {
        for (i, part) in index_html.split(quote).enumerate() {
            let loaded = i % 2 == 1
                && part.starts_with('/')
                && !part.starts_with("//")
                && [".js", ".wasm", ".css"]
                    .iter()
                    .any(|ext| part.ends_with(ext))
                && !part.contains(char::is_whitespace);
            let name = part.trim_start_matches('/').to_owned();
            if loaded && !files.contains(&name) {
                files.push(name);
            }
        }
    }
    files.sort();
    files
}

struct FileSize {
    name: String,
    raw: u64,
    gzip: u64,
}

fn file_size(path: &Path, name: String) -> Result<FileSize, String> {
    let raw = path
        .metadata()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    let out = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .arg(path)
        .output()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    if !out.status.success() {
        return Err(format!("gzip {} failed", path.display()));
    }
    Ok(FileSize {
        name,
        raw,
        gzip: out.stdout.len() as u64,
    })
}

struct SizeReport {
    what: &'static str,
    files: Vec<FileSize>,
    budget_kb: u64,
}

impl SizeReport {
    fn raw(&self) -> u64 {
        self.files.iter().map(|f| f.raw).sum()
    }
    fn gzip(&self) -> u64 {
        self.files.iter().map(|f| f.gzip).sum()
    }
    fn within_budget(&self) -> bool {
        self.gzip() <= self.budget_kb * 1000
    }
    fn json(&self) -> Value {
        json!({
            "files": self.files.iter().map(|f| json!({"name": f.name, "raw": f.raw, "gzip": f.gzip})).collect::<Vec<_>>(),
            "raw": self.raw(),
            "gzip": self.gzip(),
            "budget_gzip": self.budget_kb * 1000,
            "within_budget": self.within_budget(),
        })
    }
}

fn app_sizes(budgets: &Budgets) -> Result<SizeReport, String> {
    let dist = crate::root().join("dist");
    let index = std::fs::read_to_string(dist.join("index.html"))
        .map_err(|e| format!("dist/index.html: {e}"))?;
    let mut files = vec![file_size(&dist.join("index.html"), "index.html".into())?];
    for name in first_load_files(&index) {
        files.push(file_size(&dist.join(&name), name)?);
    }
    Ok(SizeReport {
        what: "app first load (dist/)",
        files,
        budget_kb: budgets.app_first_load_gzip_kb,
    })
}

fn worker_sizes(bundle: &Path, budgets: &Budgets) -> Result<SizeReport, String> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(bundle).map_err(|e| format!("{}: {e}", bundle.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".js") || name.ends_with(".wasm") {
            files.push(file_size(&entry.path(), name)?);
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    if files.is_empty() {
        return Err(format!("no .js or .wasm in {}", bundle.display()));
    }
    Ok(SizeReport {
        what: "Worker bundle (wrangler deploy --dry-run)",
        files,
        budget_kb: budgets.worker_bundle_gzip_kb,
    })
}

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
// Load

/// Sends `request` on `concurrency` kept-alive connections (spread over `ports`) for `warmup` +
/// `window`, and summarises the requests started within the window. Any status but 200 is an
/// error.
fn load(
    ports: &[u16],
    request: &[u8],
    concurrency: usize,
    warmup: Duration,
    window: Duration,
    stop: &AtomicBool,
) -> Summary {
    let begin = Instant::now();
    let measure_from = begin + warmup;
    let end = measure_from + window;
    let results: Vec<(Vec<u64>, usize)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..concurrency)
            .map(|i| {
                let port = ports[i % ports.len()];
                scope.spawn(move || {
                    let mut latencies = Vec::with_capacity(64 * 1024);
                    let mut errors = 0;
                    let mut conn = None;
                    loop {
                        let started = Instant::now();
                        if started >= end || stop.load(Ordering::Relaxed) {
                            break;
                        }
                        if conn.is_none() {
                            conn = Conn::open(port).ok();
                        }
                        let outcome = match conn.as_mut() {
                            Some(c) => c.send(request).map(|r| r.status),
                            None => Err(std::io::ErrorKind::ConnectionRefused.into()),
                        };
                        let took = started.elapsed().as_micros() as u64;
                        let counted = started >= measure_from;
                        match outcome {
                            Ok(200) if counted => latencies.push(took),
                            Ok(200) => {}
                            Ok(_) => errors += usize::from(counted),
                            Err(_) => {
                                errors += usize::from(counted);
                                conn = None;
                                std::thread::sleep(Duration::from_millis(5));
                            }
                        }
                    }
                    (latencies, errors)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let errors = results.iter().map(|r| r.1).sum();
    let latencies = results.into_iter().flat_map(|r| r.0).collect();
    Summary::of(latencies, errors, window)
}

/// `n` requests on `n` connections (spread over `ports`), opened first and released together:
/// their statuses.
fn burst(ports: &[u16], request: &[u8], n: usize) -> Vec<u16> {
    let barrier = Barrier::new(n);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..n)
            .map(|i| {
                let port = ports[i % ports.len()];
                let barrier = &barrier;
                scope.spawn(move || {
                    let conn = Conn::open(port);
                    barrier.wait();
                    conn.and_then(|mut c| c.send(request))
                        .map(|r| r.status)
                        .unwrap_or(0)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).collect()
    })
}

// ---------------------------------------------------------------------------------------------
// The services

/// The workerd configuration: the Worker (`index.js` + its Wasm) with its KV binding and
/// variables, the in-memory KV service, and an outbound network that reaches loopback (the
/// simulator). Module files are named relative to the config's folder.
pub fn workerd_config(
    port: u16,
    app_port: u16,
    dist: &Path,
    objects: &Path,
    sim_url: &str,
    compatibility_date: &str,
) -> String {
    let vars = [
        ("ZOHO_ENVIRONMENT", "production"),
        ("LOG_LEVEL", "info"),
        ("ZOHO_SIM_BASE", sim_url),
        ("ZOHO_CLIENT_ID", DEV_CLIENT_ID),
        ("ZOHO_REDIRECT_URI", REDIRECT_URI),
        ("ZOHO_CLIENT_SECRET", DEV_CLIENT_SECRET),
        ("TOKEN_KEYS", DEV_TOKEN_KEY),
    ];
    let bindings: String = vars
        .iter()
        .map(|(k, v)| format!("    (name = \"{k}\", text = \"{v}\"),\n"))
        .collect();
    format!(
        r#"# Generated by `cargo xtask bench`: the Worker in workerd, without wrangler.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "edge", worker = .edge),
    (name = "kv", worker = .kv),
    (name = "internet", network = (allow = ["public", "private", "local"])),
    (name = "front", worker = .front),
    (name = "floor", worker = .floor),
    (name = "dist", disk = (path = "{dist}", writable = false)),
    (name = "objects", disk = (path = "{objects}", writable = true)),
  ],
  sockets = [
    (name = "worker", address = "127.0.0.1:{port}", http = (), service = "edge"),
    (name = "app", address = "127.0.0.1:{app_port}", http = (), service = "front"),
    (name = "floor", address = "127.0.0.1:{floor_port}", http = (), service = "floor"),
  ],
);

const edge :Workerd.Worker = (
  modules = [
    (name = "index.js", esModule = embed "index.js"),
    (name = "{WASM_MODULE}", wasm = embed "{WASM_MODULE}"),
  ],
  compatibilityDate = "{compatibility_date}",
  durableObjectNamespaces = [
    (className = "Grant", uniqueKey = "zcrm-edge-grant", enableSql = true),
    (className = "Login", uniqueKey = "zcrm-edge-login", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "objects"),
  bindings = [
    (name = "KV", kvNamespace = "kv"),
    (name = "GRANTS", durableObjectNamespace = (className = "Grant")),
    (name = "LOGINS", durableObjectNamespace = (className = "Login")),
{bindings}  ],
);

const kv :Workerd.Worker = (
  modules = [(name = "kv.js", esModule = embed "kv.js")],
  compatibilityDate = "{compatibility_date}",
);

const floor :Workerd.Worker = (
  modules = [(name = "floor.js", esModule = embed "floor.js")],
  compatibilityDate = "{compatibility_date}",
  bindings = [(name = "KV", kvNamespace = "kv")],
);

const front :Workerd.Worker = (
  modules = [(name = "front.js", esModule = embed "front.js")],
  compatibilityDate = "{compatibility_date}",
  bindings = [
    (name = "EDGE", service = "edge"),
    (name = "DIST", service = "dist"),
  ],
);
"#,
        dist = dist.display(),
        floor_port = floor::PORT,
        objects = objects.display(),
    )
}

struct Bench {
    tools: Tools,
    stack: Stack,
    stop: Arc<AtomicBool>,
    dir: PathBuf,
}

impl Bench {
    fn check_stop(&self) -> Result<(), String> {
        if self.stop.load(Ordering::Relaxed) {
            Err("stopped".into())
        } else {
            Ok(())
        }
    }

    fn start_sim(&mut self, seed_leads: Option<usize>) -> Result<(), String> {
        self.stack.stop("sim");
        let mut sim = Command::new(target_dir().join("release/zoho-sim"));
        sim.args(["--addr", &format!("127.0.0.1:{SIM_PORT}")])
            .args(["--redirect-uri", REDIRECT_URI, "--quiet"]);
        if let Some(n) = seed_leads {
            sim.args(["--seed-leads", &n.to_string()]);
        }
        self.stack.spawn("sim", &mut sim)?;
        self.stack.wait_ready(
            "sim",
            SIM_PORT,
            "/__sim/health",
            Duration::from_secs(60),
            &self.stop,
        )?;
        self.stack.quiet();
        // Zoho allows 25 concurrent calls per org; the load runs go past that on purpose.
        sim_json("POST", "/__sim/limits", json!({"org_concurrency": 100_000}))?;
        Ok(())
    }

    /// Writes the workerd folder (config, the Worker's files, the KV service).
    fn prepare_workerd(&self) -> Result<PathBuf, String> {
        let dir = self.dir.join("workerd");
        crate::isolates::copy_worker(&dir)?;
        let write = |name: &str, bytes: &[u8]| {
            std::fs::write(dir.join(name), bytes).map_err(|e| format!("{name}: {e}"))
        };
        write("kv.js", KV_SERVICE.as_bytes())?;
        write("front.js", FRONT_SERVICE.as_bytes())?;
        write("floor.js", floor::SERVICE.as_bytes())?;
        let config = workerd_config(
            WORKER_PORT,
            APP_PORT,
            &crate::root().join("dist"),
            &dir.join(OBJECTS),
            &format!("http://127.0.0.1:{SIM_PORT}"),
            &compatibility_date()?,
        );
        write("config.capnp", config.as_bytes())?;
        Ok(dir)
    }

    /// Starts workerd and returns `(time to the first answered request, that request's own time)`.
    fn start_workerd(&mut self, dir: &Path) -> Result<(Duration, Duration), String> {
        self.start_workerd_with(dir, &[])
    }

    fn start_workerd_with(
        &mut self,
        dir: &Path,
        args: &[String],
    ) -> Result<(Duration, Duration), String> {
        self.stack.stop("workerd");
        // The in-memory KV starts empty with every workerd: so do the grants' objects.
        let objects = dir.join(OBJECTS);
        let _ = std::fs::remove_dir_all(&objects);
        std::fs::create_dir_all(&objects).map_err(|e| format!("{}: {e}", objects.display()))?;
        let mut workerd = Command::new(self.tools.workerd());
        workerd
            .arg("serve")
            .arg("config.capnp")
            .args(args)
            .current_dir(dir);
        let started = Instant::now();
        self.stack.spawn("workerd", &mut workerd)?;
        let deadline = started + Duration::from_secs(60);
        let request = request_bytes("GET", WORKER_PORT, "/api/health", &[], None);
        loop {
            if let Ok(mut conn) = Conn::open(WORKER_PORT) {
                let sent = Instant::now();
                if let Ok(reply) = conn.send(&request) {
                    if reply.status == 200 {
                        let times = (started.elapsed(), sent.elapsed());
                        // The Worker logs a line per request: to its log file only from now on.
                        self.stack.quiet();
                        return Ok(times);
                    }
                    return Err(format!(
                        "workerd answered /api/health with {}",
                        reply.status
                    ));
                }
            }
            if let Some(exited) = self.stack.exited() {
                return Err(format!(
                    "{exited} exited while starting; see {}",
                    self.stack.log_dir.display()
                ));
            }
            self.check_stop()?;
            if Instant::now() > deadline {
                return Err("workerd did not answer within 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Signs `email` in through the Worker, headless, as the browser would: returns the session
/// cookie's value.
fn sign_in(email: &str) -> Result<String, String> {
    sign_in_at(WORKER_PORT, email)
}

/// [`sign_in`] through the Worker on `worker_port`.
fn sign_in_at(worker_port: u16, email: &str) -> Result<String, String> {
    let start = once("GET", worker_port, "/auth/start", &[], None)?;
    if start.status != 302 {
        return Err(format!("/auth/start answered {}", start.status));
    }
    let login = start
        .set_cookie("__Host-zcrm-login")
        .ok_or("/auth/start set no login cookie")?;
    let authorize = start.header("location").ok_or("/auth/start: no Location")?;
    let (port, path) = split_url(authorize).ok_or_else(|| format!("odd URL {authorize}"))?;
    let approve = once(
        "GET",
        port,
        &format!("{path}&sim_user={}", email.replace('@', "%40")),
        &[],
        None,
    )?;
    let redirect = approve
        .header("location")
        .ok_or_else(|| format!("the simulator did not approve {email} ({})", approve.status))?;
    let q = query_pairs(redirect);
    let get = |k: &str| {
        q.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| format!("the redirect has no {k}: {redirect}"))
    };
    let body = json!({
        "code": get("code")?,
        "state": get("state")?,
        "location": get("location")?,
        "accounts_server": get("accounts-server")?,
    })
    .to_string();
    let cookie = format!("__Host-zcrm-login={login}");
    let callback = once(
        "POST",
        worker_port,
        "/auth/callback",
        &[("X-Requested-With", "zcrm-edge"), ("Cookie", &cookie)],
        Some(("application/json", body.as_bytes())),
    )?;
    if callback.status != 200 {
        return Err(format!(
            "sign-in of {email}: /auth/callback answered {}: {}",
            callback.status,
            String::from_utf8_lossy(&callback.body)
        ));
    }
    callback
        .set_cookie("__Host-zcrm-session")
        .ok_or_else(|| "no session cookie".into())
}

/// An access token for `email` straight from the simulator (Self Client grant, code exchange):
/// `(token, path prefix of the API domain)`.
fn direct_token(email: &str) -> Result<(String, String), String> {
    let grant = sim_json(
        "POST",
        "/__sim/grant",
        json!({"client_id": DEV_CLIENT_ID, "email": email, "scope": "ZohoCRM.modules.ALL", "access_type": "offline"}),
    )?;
    let accounts = grant["accounts_server"]
        .as_str()
        .ok_or("grant: no accounts_server")?;
    let (_, accounts_path) = split_url(accounts).ok_or("grant: odd accounts_server")?;
    let form = format!(
        "grant_type=authorization_code&client_id={DEV_CLIENT_ID}&client_secret={DEV_CLIENT_SECRET}&code={}",
        grant["code"].as_str().ok_or("grant: no code")?
    );
    let r = once(
        "POST",
        SIM_PORT,
        &format!("{accounts_path}/oauth/v2/token"),
        &[],
        Some(("application/x-www-form-urlencoded", form.as_bytes())),
    )?;
    let tokens = r.json()?;
    let token = tokens["access_token"]
        .as_str()
        .ok_or_else(|| format!("no access token: {tokens}"))?;
    let api = tokens["api_domain"].as_str().ok_or("no api_domain")?;
    let (_, api_path) = split_url(api).ok_or("odd api_domain")?;
    Ok((token.to_owned(), api_path.trim_end_matches('/').to_owned()))
}

fn worker_get(path: &str, session: &str) -> Vec<u8> {
    worker_get_at(WORKER_PORT, path, session)
}

fn worker_get_at(port: u16, path: &str, session: &str) -> Vec<u8> {
    let cookie = format!("__Host-zcrm-session={session}");
    request_bytes("GET", port, path, &[("Cookie", &cookie)], None)
}

fn sim_get(path: &str, token: &str) -> Vec<u8> {
    let auth = format!("Zoho-oauthtoken {token}");
    request_bytes("GET", SIM_PORT, path, &[("Authorization", &auth)], None)
}

/// Refresh ahead of expiry, on the Worker's own clock: tokens that live 302 s are inside its
/// five-minute refresh window 2 s after they are issued.
fn refresh_ahead() -> Result<Ahead, String> {
    let email = "admin@eurotech-institute.example";
    sim_json(
        "POST",
        "/__sim/limits",
        json!({"access_token_lifetime_secs": 302}),
    )?;
    let session = sign_in(email)?;
    let request = worker_get("/api/students", &session);
    let mut conn = Conn::open(WORKER_PORT).map_err(|e| e.to_string())?;
    let (mut usual, mut errors, started) = (Vec::new(), 0, Instant::now());
    for _ in 0..50 {
        let sent = Instant::now();
        if conn.send(&request).map_err(|e| e.to_string())?.status != 200 {
            errors += 1;
        }
        usual.push(sent.elapsed().as_micros() as u64);
    }
    let usual = Summary::of(usual, errors, started.elapsed());
    std::thread::sleep(Duration::from_millis(2500));
    let before = token_stats(email)?;
    let sent = Instant::now();
    let status = conn.send(&request).map(|r| r.status).unwrap_or(0);
    let refreshing_us = sent.elapsed().as_micros() as u64;
    let after = token_stats(email)?;
    sim_json(
        "POST",
        "/__sim/limits",
        json!({"access_token_lifetime_secs": 3600}),
    )?;
    Ok(Ahead {
        usual,
        refreshing_us,
        status,
        refreshes: count(&after, "refreshes") - count(&before, "refreshes"),
        unauthorized: count(&after, "unauthorized") - count(&before, "unauthorized"),
    })
}

/// The simulator's counters that the token economy reads: the user's token counters, and all
/// CRM list calls and 401 answers (only this user calls the simulator meanwhile).
fn token_stats(email: &str) -> Result<Value, String> {
    let stats = sim_json("GET", "/__sim/stats", Value::Null)?;
    let user = &stats["users"][email];
    Ok(json!({
        "refreshes": user["refreshes"],
        "throttled": user["throttled"],
        "crm_calls": stats["by_route"]["GET /{dc}/{env}/crm/v8/Leads"],
        "unauthorized": stats["by_status"]["401"],
    }))
}

fn count(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// The browser: WebDriver (chromedriver) over the same small HTTP client

/// Marks the moment the first student row enters the page (a `MutationObserver`: the DOM
/// insertion, one frame before it is painted).
const OBSERVE_FIRST_ROW: &str = "window.__zcrmFirstRow = null;
const observer = new MutationObserver(() => {
  if (window.__zcrmFirstRow === null && document.querySelector('[data-testid=student-row]')) {
    window.__zcrmFirstRow = performance.timeOrigin + performance.now();
    observer.disconnect();
  }
});
observer.observe(document.documentElement, { childList: true, subtree: true });";

/// The main window's requests to its own origin's `/api/` and `/auth/`: `[path, start, end]`,
/// absolute times in ms.
const API_TIMINGS: &str = "return performance.getEntriesByType('resource')
  .filter(e => e.name.includes('/api/') || e.name.includes('/auth/'))
  .map(e => [new URL(e.name).pathname + new URL(e.name).search,
             performance.timeOrigin + e.startTime, performance.timeOrigin + e.responseEnd]);";

/// In the simulator's authorize page: picks the user, notes the time and presses Accept.
const APPROVE: &str = "document.querySelector('#sim_user').value = arguments[0];
document.querySelector('#sim_environment').value = 'production';
const t = performance.timeOrigin + performance.now();
document.querySelector('#approve').click();
return t;";

fn wd(method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
    let body = body.map(|b| b.to_string());
    let r = once(
        method,
        CHROMEDRIVER_PORT,
        path,
        &[],
        body.as_ref().map(|b| ("application/json", b.as_bytes())),
    )?;
    let v = r.json()?;
    if r.status != 200 {
        return Err(format!(
            "WebDriver {method} {path}: {} {}",
            v["value"]["error"], v["value"]["message"]
        ));
    }
    Ok(v["value"].clone())
}

/// Calls `f` every 20 ms until it gives a value, or fails after `timeout`.
fn poll<T>(
    what: &str,
    timeout: Duration,
    mut f: impl FnMut() -> Result<Option<T>, String>,
) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f()? {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(format!("{what}: nothing within {} s", timeout.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One sign-in in a fresh headless Chromium: the app loads, "Sign in with Zoho", the popup's
/// Accept, and the time from that click to the first student row in the main window.
fn browser_run(chromium: &Path, email: &str, profile: &Path) -> Result<BrowserRun, String> {
    let capabilities = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
        "binary": chromium,
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--window-size=1280,800", format!("--user-data-dir={}", profile.display()),
        ],
    }}}});
    let session = wd("POST", "/session", Some(capabilities))?["sessionId"]
        .as_str()
        .ok_or("chromedriver gave no session id")?
        .to_owned();
    let s = format!("/session/{session}");
    let run = || -> Result<BrowserRun, String> {
        let exec = |script: &str, args: Value| {
            wd(
                "POST",
                &format!("{s}/execute/sync"),
                Some(json!({"script": script, "args": args})),
            )
        };
        wd(
            "POST",
            &format!("{s}/url"),
            Some(json!({"url": format!("http://127.0.0.1:{APP_PORT}/")})),
        )?;
        let button = poll("the sign-in button", Duration::from_secs(30), || {
            Ok(wd(
                "POST",
                &format!("{s}/element"),
                Some(json!({"using": "css selector", "value": "[data-testid=sign-in]"})),
            )
            .ok()
            .and_then(|e| {
                e.as_object()
                    .and_then(|o| o.values().next())
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            }))
        })?;
        exec(OBSERVE_FIRST_ROW, json!([]))?;
        let main = wd("GET", &format!("{s}/window"), None)?;
        // A real click (WebDriver input), so the popup is not blocked.
        wd(
            "POST",
            &format!("{s}/element/{button}/click"),
            Some(json!({})),
        )?;
        let popup = poll("the sign-in popup", Duration::from_secs(30), || {
            let handles = wd("GET", &format!("{s}/window/handles"), None)?;
            Ok(handles
                .as_array()
                .and_then(|h| h.iter().find(|h| **h != main).cloned()))
        })?;
        wd(
            "POST",
            &format!("{s}/window"),
            Some(json!({"handle": popup})),
        )?;
        poll(
            "the simulator's authorize page",
            Duration::from_secs(30),
            || {
                Ok(
                    exec("return !!document.querySelector('#approve')", json!([]))
                        .ok()
                        .and_then(|v| v.as_bool())
                        .filter(|&ready| ready),
                )
            },
        )?;
        let approved = exec(APPROVE, json!([email]))?
            .as_f64()
            .ok_or("no time from the popup")?;
        wd(
            "POST",
            &format!("{s}/window"),
            Some(json!({"handle": main})),
        )?;
        let shown = poll("the first student row", Duration::from_secs(30), || {
            Ok(exec("return window.__zcrmFirstRow", json!([]))?.as_f64())
        })?;
        let calls = exec(API_TIMINGS, json!([]))?
            .as_array()
            .map(|calls| {
                calls
                    .iter()
                    .filter_map(|c| {
                        let (start, end) = (c[1].as_f64()?, c[2].as_f64()?);
                        (start >= approved).then(|| {
                            (
                                c[0].as_str().unwrap_or_default().to_owned(),
                                start - approved,
                                end - start,
                            )
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(BrowserRun {
            total_ms: (shown - approved).max(0.0),
            calls,
        })
    };
    let result = run();
    let _ = wd("DELETE", &s, None);
    result
}

// ---------------------------------------------------------------------------------------------
// The command

pub struct Options {
    pub build: bool,
    /// A CPU profile of the Worker instead of the figures.
    pub profile: bool,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            build: true,
            profile: false,
        };
        for arg in args {
            match arg.as_str() {
                "--no-build" => options.build = false,
                "--profile" => options.profile = true,
                other => return Err(format!("unknown option `{other}` (see `cargo xtask help`)")),
            }
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
        let profiled = profile(&mut bench);
        drop(bench);
        return profiled;
    }
    let measured = measure(&mut bench, &mut report);
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
    bench.start_workerd_with(
        &dir,
        &[format!("--inspector-addr=127.0.0.1:{INSPECTOR_PORT}")],
    )?;
    let session = sign_in("admin@zylker-academy.example")?;
    let paths = [
        "/api/students?page=1&per_page=20".to_owned(),
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
const WARMUP: Duration = Duration::from_millis(500);

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
    let direct = sim_get(&format!("{api}/crm/v8/Leads?{LEADS_QUERY}"), &token);
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
        let window = if concurrency == 1 {
            C1_WINDOW
        } else {
            C32_WINDOW
        };
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
    let list_url = format!("http://127.0.0.1:{SIM_PORT}{api}/crm/v8/Leads?{LEADS_QUERY}");
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
            sim_get(&format!("{api}/crm/v8/Leads?{LEADS_QUERY}"), &token),
        );
        if leads >= 2000 {
            pair(
                "students page 100 (20), records 1981-2000",
                worker_get("/api/students?page=100&per_page=20", &session),
                sim_get(
                    &format!(
                        "{api}/crm/v8/Leads?{}",
                        LEADS_QUERY.replace("page=1&per_page=20", "page=100&per_page=20")
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
    Ok(())
}

const BROWSER_RUNS: usize = 5;

/// One browser sign-in: Accept to the first row, and the portal's calls meanwhile
/// (`(path, start after Accept, duration)`, ms).
struct BrowserRun {
    total_ms: f64,
    calls: Vec<(String, f64, f64)>,
}

// ---------------------------------------------------------------------------------------------
// The report

struct Cold {
    to_first_answer_us: Vec<u64>,
    first_request_us: Vec<u64>,
    warm_health: Summary,
}

struct Steady {
    simulated_hours: u64,
    requests: u64,
    failed: u64,
    refreshes: u64,
    crm_calls: u64,
    unauthorized: u64,
    throttled: u64,
}

struct Tokens {
    steady: Steady,
    burst_requests: usize,
    burst_ok: usize,
    burst_statuses: Vec<u16>,
    burst_refreshes: u64,
    burst_throttled: u64,
    burst_crm_calls: u64,
    burst_unauthorized: u64,
    ahead: Ahead,
}

/// The request that finds its token inside the refresh window, beside the user's usual requests.
struct Ahead {
    usual: Summary,
    refreshing_us: u64,
    status: u16,
    refreshes: u64,
    unauthorized: u64,
}

/// `(what, through the Worker, direct to the simulator)`.
type ScaleRow = (String, Summary, Summary);

#[derive(Default)]
struct Report {
    app: Option<SizeReport>,
    worker: Option<SizeReport>,
    cold: Option<Cold>,
    /// `(concurrency, through the Worker, direct to the simulator)`.
    proxy: Vec<(usize, Summary, Summary)>,
    /// `(concurrency, Worker GET /api/health, Worker GET /api/session)`.
    floor: Vec<(usize, Summary, Summary)>,
    tokens: Option<Tokens>,
    multi: Option<isolates::MultiIsolate>,
    /// The Worker beside the minimal JS Worker, at c=1 and c=32.
    js_floor: Vec<floor::Row>,
    /// `(leads, [(what, through the Worker, direct)])`.
    scale: Vec<(usize, Vec<ScaleRow>)>,
    /// Popup approval to the first student row, each run.
    browser: Vec<BrowserRun>,
}

const RUNTIME: &str = "workerd direct (npm workerd, no wrangler), in-memory KV service";
const LOAD_GENERATOR: &str =
    "xtask's own: a thread per connection, keep-alive HTTP/1.1, TCP_NODELAY, every latency kept";

fn median(values: &[u64]) -> u64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    percentile(&v, 50.0).unwrap_or(0)
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        ((a / b) * 100.0).round() / 100.0
    }
}

impl Report {
    fn print(&self) {
        println!();
        println!("== cargo xtask bench: runtime {RUNTIME}");
        println!("   load generator: {LOAD_GENERATOR}");
        for size in [&self.app, &self.worker].into_iter().flatten() {
            println!();
            println!(
                "-- {} (gzip -9; budget {} KB gzip)",
                size.what, size.budget_kb
            );
            println!("   {:52} {:>10} {:>10}", "file", "raw", "gzip");
            for f in &size.files {
                println!("   {:52} {:>10} {:>10}", f.name, f.raw, f.gzip);
            }
            println!(
                "   {:52} {:>10} {:>10}   {:.0}% of budget{}",
                "total",
                size.raw(),
                size.gzip(),
                size.gzip() as f64 / (size.budget_kb * 10) as f64,
                if size.within_budget() {
                    ""
                } else {
                    "  OVER BUDGET"
                }
            );
        }
        if let Some(cold) = &self.cold {
            println!();
            println!(
                "-- cold start: workerd from spawn to the first answered GET /api/health ({} runs)",
                cold.to_first_answer_us.len()
            );
            println!(
                "   to first answer: median {:.1} ms (min {:.1}, max {:.1}); that first request itself: median {:.2} ms; warm /api/health p50 {:.2} ms",
                ms(median(&cold.to_first_answer_us)),
                ms(*cold.to_first_answer_us.iter().min().unwrap_or(&0)),
                ms(*cold.to_first_answer_us.iter().max().unwrap_or(&0)),
                ms(median(&cold.first_request_us)),
                ms(cold.warm_health.p50_us),
            );
        }
        if !self.proxy.is_empty() {
            println!();
            println!(
                "-- proxy cost: GET /api/students (Worker → simulator) vs the same CRM list straight to the simulator"
            );
            println!(
                "   {:>3} {:10} {:>9} {:>9} {:>9} {:>8} {:>7}",
                "c", "", "p50 ms", "p99 ms", "req/s", "requests", "errors"
            );
            for (c, w, s) in &self.proxy {
                for (name, x) in [("Worker", w), ("direct", s)] {
                    x.print_row(*c, name);
                }
                println!(
                    "   {:>3} {:10} {:>8.2}x {:>8.2}x {:>8.2}x   (Worker / direct)",
                    c,
                    "ratio",
                    ratio(w.p50_us as f64, s.p50_us as f64),
                    ratio(w.p99_us as f64, s.p99_us as f64),
                    ratio(w.rps, s.rps),
                );
            }
            println!(
                "   the Worker alone: /api/health (no I/O) and /api/session (one round trip to the grant's Durable Object; no KV, no Zoho)"
            );
            for (c, health, session) in &self.floor {
                for (name, x) in [("health", health), ("session", session)] {
                    x.print_row(*c, name);
                }
            }
        }
        if let Some(t) = &self.tokens {
            let s = &t.steady;
            println!();
            println!("-- token economy (simulator clock; the Worker's own clock does not move)");
            println!(
                "   steady: {} requests over {} simulated hours, {} a simulated hour, {} failed: {} refreshes ({:.2} per token lifetime), {} requests per refresh, {} CRM calls ({:.3} per request, {} of them 401 INVALID_TOKEN), {} throttled",
                s.requests,
                s.simulated_hours,
                s.requests / s.simulated_hours.max(1),
                s.failed,
                s.refreshes,
                s.refreshes as f64 / s.simulated_hours.max(1) as f64,
                if s.refreshes == 0 {
                    "-".to_owned()
                } else {
                    format!("{:.0}", s.requests as f64 / s.refreshes as f64)
                },
                s.crm_calls,
                s.crm_calls as f64 / s.requests.max(1) as f64,
                s.unauthorized,
                s.throttled,
            );
            println!(
                "   burst: {} requests of one user at once just after expiry: {} refresh(es) (goal 1), {} answered 200, {} CRM calls ({} of them 401), {} throttled",
                t.burst_requests,
                t.burst_refreshes,
                t.burst_ok,
                t.burst_crm_calls,
                t.burst_unauthorized,
                t.burst_throttled
            );
            let a = &t.ahead;
            println!(
                "   ahead: the first request inside the five-minute refresh window (real time, 302 s tokens): {:.2} ms, HTTP {}, {} refresh(es), {} CRM calls refused (goal 0); the user's usual request p50 {:.2} ms",
                ms(a.refreshing_us),
                a.status,
                a.refreshes,
                a.unauthorized,
                ms(a.usual.p50_us),
            );
        }
        floor::print(&self.js_floor);
        if let Some(multi) = &self.multi {
            multi.print(&self.proxy);
        }
        if !self.scale.is_empty() {
            println!();
            println!("-- scale: admin@bulk-university.example with --seed-leads N, concurrency 1");
            println!(
                "   {:>6} {:44} {:>10} {:>10} {:>10} {:>10} {:>7}",
                "leads", "call", "Worker p50", "direct p50", "ratio", "Worker p99", "errors"
            );
            for (leads, rows) in &self.scale {
                for (what, w, s) in rows {
                    println!(
                        "   {:>6} {:44} {:>10.2} {:>10.2} {:>9.2}x {:>10.2} {:>7}",
                        leads,
                        what,
                        ms(w.p50_us),
                        ms(s.p50_us),
                        ratio(w.p50_us as f64, s.p50_us as f64),
                        ms(w.p99_us),
                        w.errors + s.errors
                    );
                }
            }
        }
        println!();
        if self.browser.is_empty() {
            println!(
                "-- in the browser (popup approval to the first page of students): not measured"
            );
        } else {
            let totals: Vec<u64> = self
                .browser
                .iter()
                .map(|r| (r.total_ms * 1000.0) as u64)
                .collect();
            let runs: Vec<String> = totals.iter().map(|&u| format!("{:.0}", ms(u))).collect();
            println!(
                "-- in the browser: popup Accept to the first student row in the main window, headless Chromium, app served by workerd: median {:.0} ms of {} runs ({} ms)",
                ms(median(&totals)),
                totals.len(),
                runs.join(", ")
            );
            let mid = median(&totals);
            if let Some(run) = self
                .browser
                .iter()
                .find(|r| (r.total_ms * 1000.0) as u64 == mid)
            {
                println!(
                    "   the median run's calls from the main window (start after Accept, duration):"
                );
                for (path, start, took) in &run.calls {
                    println!("   {start:>8.0} ms {took:>6.0} ms  {path}");
                }
            }
        }
    }

    fn json(&self) -> Value {
        json!({
            "runtime": RUNTIME,
            "load_generator": LOAD_GENERATOR,
            "sizes": {
                "app_first_load": self.app.as_ref().map(SizeReport::json),
                "worker_bundle": self.worker.as_ref().map(SizeReport::json),
            },
            "cold_start": self.cold.as_ref().map(|c| json!({
                "runs": c.to_first_answer_us.len(),
                "to_first_answer_ms": c.to_first_answer_us.iter().map(|&u| ms(u)).collect::<Vec<_>>(),
                "to_first_answer_median_ms": ms(median(&c.to_first_answer_us)),
                "first_request_median_ms": ms(median(&c.first_request_us)),
                "warm_health": c.warm_health.json(),
            })),
            "proxy": self.proxy.iter().map(|(c, w, s)| json!({
                "concurrency": c,
                "worker": w.json(),
                "direct": s.json(),
                "ratio_p50": ratio(w.p50_us as f64, s.p50_us as f64),
                "ratio_p99": ratio(w.p99_us as f64, s.p99_us as f64),
                "ratio_rps": ratio(w.rps, s.rps),
            })).collect::<Vec<_>>(),
            "worker_alone": self.floor.iter().map(|(c, health, session)| json!({
                "concurrency": c,
                "health": health.json(),
                "session_grant_object_only": session.json(),
            })).collect::<Vec<_>>(),
            "token_economy": self.tokens.as_ref().map(|t| json!({
                "steady": {
                    "simulated_hours": t.steady.simulated_hours,
                    "requests": t.steady.requests,
                    "failed": t.steady.failed,
                    "refreshes": t.steady.refreshes,
                    "requests_per_refresh": if t.steady.refreshes == 0 { Value::Null } else { json!(t.steady.requests as f64 / t.steady.refreshes as f64) },
                    "crm_calls": t.steady.crm_calls,
                    "crm_401": t.steady.unauthorized,
                    "throttled": t.steady.throttled,
                },
                "burst_after_expiry": {
                    "requests": t.burst_requests,
                    "ok": t.burst_ok,
                    "statuses": t.burst_statuses,
                    "refreshes": t.burst_refreshes,
                    "crm_calls": t.burst_crm_calls,
                    "crm_401": t.burst_unauthorized,
                    "throttled": t.burst_throttled,
                },
                "refresh_ahead": {
                    "refreshing_request_ms": ms(t.ahead.refreshing_us),
                    "status": t.ahead.status,
                    "refreshes": t.ahead.refreshes,
                    "crm_401": t.ahead.unauthorized,
                    "usual": t.ahead.usual.json(),
                },
            })),
            "multi_isolate": self.multi.as_ref().map(|m| m.json(&self.proxy)),
            "floor": floor::json(&self.js_floor),
            "scale": self.scale.iter().map(|(leads, rows)| json!({
                "leads": leads,
                "calls": rows.iter().map(|(what, w, s)| json!({
                    "call": what,
                    "worker": w.json(),
                    "direct": s.json(),
                    "ratio_p50": ratio(w.p50_us as f64, s.p50_us as f64),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "browser": if self.browser.is_empty() { json!("not measured") } else { json!({
                "what": "popup Accept click to the first student row in the main window (DOM insertion), headless Chromium, the app served by workerd from dist/",
                "runs_ms": self.browser.iter().map(|r| (r.total_ms * 10.0).round() / 10.0).collect::<Vec<_>>(),
                "median_ms": ms(median(&self.browser.iter().map(|r| (r.total_ms * 1000.0) as u64).collect::<Vec<_>>())),
                "calls": self.browser.iter().map(|r| r.calls.iter().map(|(path, start, took)| json!({
                    "path": path, "start_after_accept_ms": (start * 10.0).round() / 10.0, "ms": (took * 10.0).round() / 10.0,
                })).collect::<Vec<_>>()).collect::<Vec<_>>(),
            }) },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                app_first_load_gzip_kb: 150,
                worker_bundle_gzip_kb: 350
            },
            "the issue's budgets (change them here and in budgets.toml together)"
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
        assert!(c.contains(r#"wasm = embed "index_bg.wasm""#));
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
    }
}
