//! `zoho-sim`: Zoho's accounts server and CRM v8 API, simulated, for tests and local development.
//!
//! Start it in-process:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let sim = zoho_sim::spawn(listener, zoho_sim::Config::default())?;
//! let base = sim.base_url(); // http://127.0.0.1:PORT
//! // ... drive it over HTTP ...
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! See `sim/README.md` for the URL layout, the control API and the seed.

// `json!` with Zoho's many metadata keys (meta.rs) nests deeper than the default allows.
#![recursion_limit = "512"]

mod accounts;
mod control;
mod crm_api;
mod meta;
mod params;
pub mod seed;
pub mod state;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use state::{Limits, State};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;
use zoho::{DataCenter, Environment};

/// Default OAuth client id.
pub const DEFAULT_CLIENT_ID: &str = "1000.ZCRMEDGEDEV";
/// Default OAuth client secret.
pub const DEFAULT_CLIENT_SECRET: &str = "zcrm-edge-dev-secret";
/// Default registered redirect URIs.
pub const DEFAULT_REDIRECT_URIS: [&str; 2] = [
    "http://127.0.0.1:8080/redirect.html",
    "http://localhost:8080/redirect.html",
];
/// Default listen address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8790";

/// How the simulator is set up.
#[derive(Clone, Debug)]
pub struct Config {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    /// Leads of the big org (`admin@bulk-university.example`).
    pub seed_leads: usize,
    /// Answer tokens in the legacy variant: `expires_in_sec` in seconds, `expires_in` in ms.
    pub legacy_expires: bool,
    /// HTTP status of the throttling answer of the token endpoint (Zoho: 200 or 400).
    pub throttle_status: u16,
    /// The simulator's public base URL; `None`: `http://{Host header}`.
    pub public_base: Option<String>,
    /// Log one line per request to stderr.
    pub log: bool,
    pub limits: Limits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            redirect_uris: DEFAULT_REDIRECT_URIS.map(str::to_owned).to_vec(),
            seed_leads: 2500,
            legacy_expires: false,
            throttle_status: 400,
            public_base: None,
            log: false,
            limits: Limits::default(),
        }
    }
}

pub(crate) struct Shared {
    pub cfg: Config,
    state: RwLock<State>,
}

impl Shared {
    /// The state, for writing (short sections only; never held across an await).
    pub fn lock(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The state, for reading.
    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Back to the seed. The new state is built, and the old one dropped, outside the lock
    /// (with 20,000 leads each takes tens of milliseconds that no request should wait for).
    pub fn reset(&self) {
        let fresh = State::new(&self.cfg);
        let old = std::mem::replace(&mut *self.lock(), fresh);
        drop(old);
    }
}

/// A request, read whole.
pub(crate) struct Req {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// `http://host:port` this request came in on (or the configured public base).
    pub base: String,
}

impl Req {
    /// Query parameters, decoded.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        zoho::form::parse(&self.query)
    }

    pub fn param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An answer.
pub(crate) struct Resp {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Bytes,
}

pub(crate) const JSON: &str = "application/json;charset=UTF-8";

impl Resp {
    pub fn json(status: u16, v: &Value) -> Resp {
        Resp {
            status,
            content_type: Some(JSON.to_owned()),
            location: None,
            body: Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
        }
    }

    pub fn empty(status: u16) -> Resp {
        Resp {
            status,
            content_type: None,
            location: None,
            body: Bytes::new(),
        }
    }

    pub fn text(status: u16, s: &str) -> Resp {
        Resp {
            status,
            content_type: Some("text/plain;charset=UTF-8".to_owned()),
            location: None,
            body: Bytes::from(s.to_owned()),
        }
    }

    pub fn html(status: u16, s: String) -> Resp {
        Resp {
            status,
            content_type: Some("text/html;charset=UTF-8".to_owned()),
            location: None,
            body: Bytes::from(s),
        }
    }

    pub fn redirect(url: String) -> Resp {
        Resp {
            status: 302,
            content_type: None,
            location: Some(url),
            body: Bytes::new(),
        }
    }

    pub fn api_error(e: &zoho::crm::Status) -> Resp {
        Resp::json(e.http_status(), &e.to_json())
    }
}

/// What the handlers tell the statistics about a request.
#[derive(Default)]
pub(crate) struct Ctx {
    pub route: String,
    pub user: Option<usize>,
}

/// A running simulator.
pub struct SimHandle {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and waits for the accept loop to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Runs the simulator on `listener` in a background task.
pub fn spawn(listener: TcpListener, config: Config) -> std::io::Result<SimHandle> {
    let addr = listener.local_addr()?;
    let (stop, mut rx) = watch::channel(false);
    let task = tokio::spawn(async move {
        let _ = serve(listener, config, async move {
            let _ = rx.wait_for(|s| *s).await;
        })
        .await;
    });
    Ok(SimHandle { addr, stop, task })
}

/// Serves on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let shared = Arc::new(Shared {
        state: RwLock::new(State::new(&config)),
        cfg: config,
    });
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off briefly.
                    if shared.cfg.log {
                        eprintln!("WARN zoho_sim: accept failed: {e}");
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            // Each request runs in a task of its own, so that a client giving up (a timeout,
            // a closed connection) does not cancel it: as at Zoho, a create whose answer
            // nobody waits for still creates.
            let svc = service_fn(move |req| {
                let work = tokio::spawn(handle(shared.clone(), req));
                async move { work.await.unwrap_or(Err(Dropped)) }
            });
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

/// The error that makes hyper drop the connection without answering (the `drop` fault).
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault")
    }
}

impl std::error::Error for Dropped {}

const MAX_BODY: usize = 16 * 1024 * 1024;

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(finish(Resp::text(413, "body too large"))),
    };
    let base = match &shared.cfg.public_base {
        Some(b) => b.trim_end_matches('/').to_owned(),
        None => {
            let host = parts
                .headers
                .get(hyper::header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| !h.is_empty())
                .unwrap_or("127.0.0.1:8790");
            format!("http://{host}")
        }
    };
    let req = Req {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts.headers,
        body,
        base,
    };

    if req.path == "/__sim" || req.path.starts_with("/__sim/") {
        let resp = control::handle(&shared, &req);
        log(&shared, &req, resp.status, started, "");
        return Ok(finish(resp));
    }

    let mut ctx = Ctx::default();
    let fault = shared.lock().take_fault(&req.method, &req.path, &req.query);
    let mut delay = Duration::ZERO;
    if let Some(f) = fault {
        let d = Duration::from_millis(f.delay_ms);
        if f.drop {
            tokio::time::sleep(d).await;
            record(&shared, &req, &ctx, 0);
            log(&shared, &req, 0, started, FAULT_MARK);
            return Err(Dropped);
        }
        if let Some(status) = f.status {
            tokio::time::sleep(d).await;
            let (content_type, body) = match &f.body {
                None | Some(Value::Null) => (None, Bytes::new()),
                Some(Value::String(s)) => (None, Bytes::from(s.clone())),
                Some(v) => (
                    Some(JSON.to_owned()),
                    Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
                ),
            };
            let resp = Resp {
                status,
                content_type: f.content_type.clone().or(content_type),
                location: f.location.clone(),
                body,
            };
            ctx.route = "fault".to_owned();
            record(&shared, &req, &ctx, status);
            log(&shared, &req, status, started, FAULT_MARK);
            return Ok(finish(resp));
        }
        delay = d;
    }

    let resp = route(&shared, &req, &mut ctx, delay).await;
    record(&shared, &req, &ctx, resp.status);
    let mark = if delay.is_zero() { "" } else { SLOW_FAULT_MARK };
    log(&shared, &req, resp.status, started, mark);
    Ok(finish(resp))
}

async fn route(shared: &Arc<Shared>, req: &Req, ctx: &mut Ctx, delay: Duration) -> Resp {
    let segs: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    let dc = segs.first().and_then(|s| DataCenter::from_location(s));
    match (dc, segs.get(1).copied()) {
        (Some(dc), Some("accounts")) => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            accounts::handle(shared, req, ctx, dc, &segs[2..])
        }
        (Some(dc), Some(env)) if env.parse::<Environment>().is_ok() => {
            let env = env.parse::<Environment>().unwrap_or_default();
            crm_api::handle(shared, req, ctx, dc, env, &segs[2..], delay).await
        }
        _ if req.path == "/" => {
            ctx.route = "GET /".to_owned();
            Resp::text(200, "zoho-sim: see /__sim/users")
        }
        _ => {
            ctx.route = "unknown".to_owned();
            Resp::text(404, "Not Found")
        }
    }
}

fn record(shared: &Shared, req: &Req, ctx: &Ctx, status: u16) {
    let mut st = shared.lock();
    let s = &mut st.stats;
    s.requests_total += 1;
    let route = if ctx.route.is_empty() {
        "unknown"
    } else {
        &ctx.route
    };
    *s.by_route.entry(route.to_owned()).or_default() += 1;
    *s.by_path
        .entry(format!("{} {}", req.method, req.path))
        .or_default() += 1;
    let mut segs = req.path.trim_start_matches('/').split('/');
    let first = segs.next().unwrap_or("");
    if DataCenter::from_location(first).is_some() {
        *s.by_dc.entry(first.to_owned()).or_default() += 1;
        if let Some(second) = segs.next() {
            *s.by_server.entry(format!("{first}/{second}")).or_default() += 1;
        }
    }
    *s.by_status.entry(status).or_default() += 1;
    if s.recent.len() >= state::RECENT_MAX {
        s.recent.pop_front();
    }
    if let Some(u) = ctx.user
        && route.contains("/crm/v8/")
    {
        st.stats.users.entry(u).or_default().crm_requests += 1;
    }
    let user = ctx.user.map(|u| st.users[u].email.clone());
    st.stats.recent.push_back(json!({
        "method": req.method,
        "path": req.path,
        "query": req.query,
        "route": route,
        "status": status,
        "user": user,
    }));
}

/// Ends the log line of an answer made (or a connection dropped) by a fault; `cargo xtask test`
/// counts these.
pub const FAULT_MARK: &str = " [fault]";
/// Ends the log line of an answer a fault delayed.
pub const SLOW_FAULT_MARK: &str = " [fault: slow]";

fn log(shared: &Shared, req: &Req, status: u16, started: Instant, mark: &str) {
    if shared.cfg.log {
        eprintln!(
            "INFO zoho_sim: {} {}{}{} -> {} ({} us){mark}",
            req.method,
            req.path,
            if req.query.is_empty() { "" } else { "?" },
            redact_query(&req.query),
            if status == 0 {
                "dropped".to_owned()
            } else {
                status.to_string()
            },
            started.elapsed().as_micros()
        );
    }
}

/// Hides the values of secret query parameters in log lines.
fn redact_query(q: &str) -> String {
    q.split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _))
                if matches!(
                    k,
                    "code" | "client_secret" | "refresh_token" | "token" | "code_verifier"
                ) =>
            {
                format!("{k}=***")
            }
            _ => p.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn finish(r: Resp) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(r.body));
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    if let Some(ct) = r.content_type
        && let Ok(v) = HeaderValue::from_str(&ct)
    {
        h.insert(hyper::header::CONTENT_TYPE, v);
    }
    if let Some(loc) = r.location
        && let Ok(v) = HeaderValue::from_str(&loc)
    {
        h.insert(hyper::header::LOCATION, v);
    }
    resp
}
