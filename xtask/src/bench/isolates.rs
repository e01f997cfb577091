//! `multi_isolate`: the Worker as Cloudflare's network runs it (`crate::isolates`: 4 isolates of
//! one workerd, one Durable Object namespace, KV views 60 s stale), measured in the same run as
//! the single isolate: a burst of one user just after expiry spread over every isolate, and the
//! students list at c=1 and c=32 spread over them.

use std::time::Duration;

use serde_json::{Value, json};

use super::{
    Bench, REDIRECT_URI, SIM_PORT, Summary, WARMUP, burst, count, load, ms, sign_in_at,
    token_stats, window, worker_get_at,
};
use crate::isolates::Isolates;

const ISOLATES: usize = 4;
const STALE_KV_SECS: u64 = 60;
/// Isolate `i` listens on `FIRST_PORT + i` (19791-19794).
const FIRST_PORT: u16 = 19791;
const BURST_PER_ISOLATE: usize = 50;

pub struct MultiIsolate {
    isolates: usize,
    stale_kv_secs: u64,
    requests: usize,
    ok: usize,
    refreshes: u64,
    throttled: u64,
    /// `(concurrency, the list spread over the isolates)`.
    list: Vec<(usize, Summary)>,
}

pub fn measure(bench: &mut Bench) -> Result<MultiIsolate, String> {
    let isolates = Isolates {
        isolates: ISOLATES,
        stale_kv_secs: STALE_KV_SECS,
        first_port: FIRST_PORT,
        sim_url: format!("http://127.0.0.1:{SIM_PORT}"),
        redirect_uri: REDIRECT_URI.to_owned(),
        vars: Vec::new(),
    };
    let ports = isolates.ports();
    let dir = bench.dir.join("isolates");
    let _ = std::fs::remove_dir_all(&dir);
    isolates.prepare(&dir)?;
    // The single isolate's workerd makes way (one workerd at a time on 2 cores).
    bench.stack.stop("workerd");
    let mut workerd = std::process::Command::new(bench.tools.workerd());
    workerd.arg("serve").arg("config.capnp").current_dir(&dir);
    bench.stack.spawn("isolates", &mut workerd)?;
    for &port in &ports {
        bench.stack.wait_ready(
            "isolates",
            port,
            "/api/health",
            Duration::from_secs(60),
            &bench.stop,
        )?;
    }
    bench.stack.quiet();

    let email = "admin@eurotech-institute.example";
    let session = sign_in_at(ports[0], email)?;
    let request = worker_get_at(ports[0], "/api/students", &session);
    // Every isolate warm, with the session served once.
    for &port in &ports {
        let status = burst(&[port], &request, 1);
        if status != [200] {
            return Err(format!("isolate on {port} answered {status:?}"));
        }
    }
    super::sim_json("POST", "/__sim/clock", json!({"advance_secs": 3601}))?;
    let before = token_stats(email)?;
    let statuses = burst(&ports, &request, BURST_PER_ISOLATE * ports.len());
    let after = token_stats(email)?;
    let mut list = Vec::new();
    for concurrency in [1, 32] {
        let window = window(concurrency);
        list.push((
            concurrency,
            load(&ports, &request, concurrency, WARMUP, window, &bench.stop),
        ));
        bench.check_stop()?;
    }
    bench.stack.stop("isolates");
    // The single isolate back for what follows (a fresh KV and fresh objects).
    let single = bench.dir.join("workerd");
    bench.start_workerd(&single)?;
    Ok(MultiIsolate {
        isolates: ports.len(),
        stale_kv_secs: STALE_KV_SECS,
        requests: statuses.len(),
        ok: statuses.iter().filter(|&&s| s == 200).count(),
        refreshes: count(&after, "refreshes") - count(&before, "refreshes"),
        throttled: count(&after, "throttled") - count(&before, "throttled"),
        list,
    })
}

impl MultiIsolate {
    /// `proxy`: the single isolate's `(concurrency, Worker, direct)` of the same run.
    pub fn print(&self, proxy: &[(usize, Summary, Summary)]) {
        println!();
        println!(
            "-- multi-isolate: {} isolates of one workerd, one Durable Object namespace, KV views {} s stale",
            self.isolates, self.stale_kv_secs
        );
        println!(
            "   burst: {} requests of one user at once just after expiry, spread over the isolates: {} refresh(es) (goal 1), {} answered 200, {} throttled",
            self.requests, self.refreshes, self.ok, self.throttled
        );
        for (c, summary) in &self.list {
            summary.print_row(*c, "list over isolates");
            if let Some((_, _, d)) = proxy.iter().find(|(pc, _, _)| pc == c) {
                println!(
                    "   {:>4} {:<26} {:.2}x the direct call's req/s",
                    c,
                    "ratio",
                    super::ratio(summary.rps, d.rps)
                );
            }
        }
    }

    pub fn json(&self, proxy: &[(usize, Summary, Summary)]) -> Value {
        let at = |c: usize| self.list.iter().find(|(x, _)| *x == c).map(|(_, s)| s);
        let direct_rps = |c: usize| {
            proxy
                .iter()
                .find(|(x, _, _)| *x == c)
                .map(|(_, _, d)| d.rps)
        };
        let figures = |c: usize| {
            at(c).map(|s| {
                json!({
                    "p50_ms": ms(s.p50_us),
                    "rps": s.rps,
                    "ratio_rps_to_direct": direct_rps(c).map(|d| super::ratio(s.rps, d)),
                    "summary": s.json(),
                })
            })
        };
        json!({
            "isolates": self.isolates,
            "stale_kv_secs": self.stale_kv_secs,
            "requests": self.requests,
            "ok": self.ok,
            "refreshes": self.refreshes,
            "throttled": self.throttled,
            "list_c1": figures(1),
            "list_c32": figures(32),
        })
    }
}
