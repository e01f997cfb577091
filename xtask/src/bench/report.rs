//! The report: the table printed at the end and `target/bench/bench.json`.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// The report

pub(super) struct Cold {
    pub(super) to_first_answer_us: Vec<u64>,
    pub(super) first_request_us: Vec<u64>,
    pub(super) warm_health: Summary,
}

pub(super) struct Steady {
    pub(super) simulated_hours: u64,
    pub(super) requests: u64,
    pub(super) failed: u64,
    pub(super) refreshes: u64,
    pub(super) crm_calls: u64,
    pub(super) unauthorized: u64,
    pub(super) throttled: u64,
}

pub(super) struct Tokens {
    pub(super) steady: Steady,
    pub(super) burst_requests: usize,
    pub(super) burst_ok: usize,
    pub(super) burst_statuses: Vec<u16>,
    pub(super) burst_refreshes: u64,
    pub(super) burst_throttled: u64,
    pub(super) burst_crm_calls: u64,
    pub(super) burst_unauthorized: u64,
    pub(super) ahead: Ahead,
}

/// The request that finds its token inside the refresh window, beside the user's usual requests.
pub(super) struct Ahead {
    pub(super) usual: Summary,
    pub(super) refreshing_us: u64,
    pub(super) status: u16,
    pub(super) refreshes: u64,
    pub(super) unauthorized: u64,
}

/// `(what, through the Worker, direct to the simulator)`.
type ScaleRow = (String, Summary, Summary);

#[derive(Default)]
pub(super) struct Report {
    pub(super) app: Option<SizeReport>,
    pub(super) worker: Option<SizeReport>,
    pub(super) cold: Option<Cold>,
    /// `(concurrency, through the Worker, direct to the simulator)`.
    pub(super) proxy: Vec<(usize, Summary, Summary)>,
    /// `(concurrency, Worker GET /api/health, Worker GET /api/session)`.
    pub(super) floor: Vec<(usize, Summary, Summary)>,
    pub(super) tokens: Option<Tokens>,
    pub(super) multi: Option<isolates::MultiIsolate>,
    /// The Worker beside the minimal JS Worker, at c=1 and c=32.
    pub(super) js_floor: Vec<floor::Row>,
    /// `(leads, [(what, through the Worker, direct)])`.
    pub(super) scale: Vec<(usize, Vec<ScaleRow>)>,
    /// Popup approval to the first student row, each run.
    pub(super) browser: Vec<BrowserRun>,
    /// Lighthouse: signed out and in, phone and desktop.
    pub(super) lighthouse: Vec<lighthouse::Audit>,
}

pub(super) const RUNTIME: &str = "workerd direct (npm workerd, no wrangler), in-memory KV service";
pub(super) const LOAD_GENERATOR: &str =
    "xtask's own: a thread per connection, keep-alive HTTP/1.1, TCP_NODELAY, every latency kept";

pub(super) fn median(values: &[u64]) -> u64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    percentile(&v, 50.0).unwrap_or(0)
}

pub(super) fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        ((a / b) * 100.0).round() / 100.0
    }
}

impl Report {
    pub(super) fn print(&self) {
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
            if !size.signed_in.is_empty() {
                println!("   then, signed in: the students screen, beside the session check");
                for f in &size.signed_in {
                    println!("   {:52} {:>10} {:>10}", f.name, f.raw, f.gzip);
                }
                println!(
                    "   {:52} {:>10} {:>10}",
                    "signed-in first screen, with the first load",
                    size.raw() + size.signed_in.iter().map(|f| f.raw).sum::<u64>(),
                    size.signed_in_gzip()
                );
            }
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
        println!();
        if self.lighthouse.is_empty() {
            println!("-- Lighthouse: not measured");
        } else {
            println!(
                "-- Lighthouse 12 on the release app served by workerd, headless Chromium (phone: mobile emulation and throttling; desktop: --preset=desktop):"
            );
            for audit in &self.lighthouse {
                println!("   {}", audit.line());
            }
        }
    }

    pub(super) fn json(&self) -> Value {
        json!({
            "lighthouse": if self.lighthouse.is_empty() { json!("not measured") } else {
                json!(self.lighthouse.iter().map(lighthouse::Audit::json).collect::<Vec<_>>())
            },
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
