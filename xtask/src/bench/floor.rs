//! The floor: the least any backend-for-frontend can do per request in this runtime. A minimal
//! JS Worker in the same workerd as ours, reading the session from the same KV and fetching the
//! same CRM list with the token, the body passed on as it came. Measured in the same run as the
//! Worker, with CPU time per request of the workerd process (from `/proc`), since CPU is what
//! Workers bill for.

use serde_json::{Value, json};

use super::{Bench, Summary, WARMUP, load, ms, ratio, window};
use crate::http::{once, request_bytes};

/// The floor's socket in the bench's workerd.
pub const PORT: u16 = 19789;

/// The floor Worker: `PUT /seed?s=ID` stores `{"token","url"}` under a session key;
/// `GET /` with the cookie `floor=ID` reads it from KV and fetches the list.
pub const SERVICE: &str = include_str!("../../tools/workerd/bench-floor.js");

/// The floor's and the Worker's figures for one concurrency.
pub struct Row {
    pub concurrency: usize,
    pub worker: Summary,
    pub floor: Summary,
    /// CPU time of the workerd process per request (µs), during each load.
    pub worker_cpu_us: Option<f64>,
    pub floor_cpu_us: Option<f64>,
}

/// The concurrencies the Worker and the floor are loaded at.
const CONCURRENCIES: [usize; 2] = [1, 32];

/// The Worker's routes measured alone after the list (`--floor`): no I/O at all, then the
/// grant object's round trip and nothing else.
pub const ALONE: [&str; 2] = ["/api/health", "/api/session"];

/// One of [`ALONE`] at one concurrency.
pub struct Alone {
    pub path: &'static str,
    pub concurrency: usize,
    pub summary: Summary,
    pub cpu_us: Option<f64>,
}

/// One `--floor` run.
pub struct Run {
    pub rows: Vec<Row>,
    pub alone: Vec<Alone>,
}

/// Seeds the floor with the same user's token and list URL, then loads both.
pub fn measure(
    bench: &mut Bench,
    worker_request: &[u8],
    token: &str,
    list_url: &str,
) -> Result<Vec<Row>, String> {
    let seed = json!({"token": token, "url": list_url}).to_string();
    let seeded = once(
        "PUT",
        PORT,
        "/seed?s=bench",
        &[],
        Some(("application/json", seed.as_bytes())),
    )?;
    if seeded.status != 200 {
        return Err(format!("the floor's seed answered {}", seeded.status));
    }
    let floor_request = request_bytes("GET", PORT, "/", &[("Cookie", "floor=bench")], None);
    let first = once("GET", PORT, "/", &[("Cookie", "floor=bench")], None)?;
    if first.status != 200 {
        return Err(format!("the floor answered {}", first.status));
    }
    let pid = bench.stack.pid("workerd");
    let mut rows = Vec::new();
    for concurrency in CONCURRENCIES {
        // The Worker and the floor take turns, ROUNDS windows each: the machine's speed drifts
        // over a run (the floor alone has ranged over 2x between runs here), and alternating
        // lets the drift fall on both alike. Each figure is the median of its rounds.
        let mut worker = Vec::new();
        let mut floor = Vec::new();
        for _ in 0..ROUNDS {
            worker.push(loaded(
                bench,
                pid,
                super::WORKER_PORT,
                worker_request,
                concurrency,
            ));
            bench.check_stop()?;
            floor.push(loaded(bench, pid, PORT, &floor_request, concurrency));
            bench.check_stop()?;
        }
        let (worker, worker_cpu_us) = median_round(worker);
        let (floor, floor_cpu_us) = median_round(floor);
        rows.push(Row {
            concurrency,
            worker,
            floor,
            worker_cpu_us,
            floor_cpu_us,
        });
    }
    Ok(rows)
}

/// How many windows the Worker and the floor each get, taking turns, at each concurrency.
const ROUNDS: usize = 3;

/// The round with the median rate (its latencies with it), and the median CPU per request.
fn median_round(mut rounds: Vec<(Summary, Option<f64>)>) -> (Summary, Option<f64>) {
    let cpu = Spread::of(rounds.iter().filter_map(|(_, c)| *c).collect()).map(|s| s.median);
    rounds.sort_by(|a, b| a.0.rps.total_cmp(&b.0.rps));
    let (summary, _) = rounds.swap_remove(rounds.len() / 2);
    (summary, cpu)
}

/// One more Worker route under the same load as the floor's rows, with its CPU per request:
/// `(concurrency, summary, CPU µs per request)` at c=1 and c=32.
pub fn worker_cpu(bench: &mut Bench, request: &[u8]) -> Vec<(usize, Summary, Option<f64>)> {
    let pid = bench.stack.pid("workerd");
    CONCURRENCIES
        .into_iter()
        .map(|concurrency| {
            let (summary, cpu) = loaded(bench, pid, super::WORKER_PORT, request, concurrency);
            (concurrency, summary, cpu)
        })
        .collect()
}

/// `request` loaded on `port` at `concurrency`, with the CPU per request of the process `pid`.
fn loaded(
    bench: &Bench,
    pid: Option<u32>,
    port: u16,
    request: &[u8],
    concurrency: usize,
) -> (Summary, Option<f64>) {
    with_cpu(pid, || {
        load(
            &[port],
            request,
            concurrency,
            WARMUP,
            window(concurrency),
            &bench.stop,
        )
    })
}

/// Runs `f` (a load: warm-up then a window), returning its summary and the CPU time the process
/// `pid` spent per request over the whole load (warm-up included, so divided by all requests).
fn with_cpu(pid: Option<u32>, f: impl FnOnce() -> Summary) -> (Summary, Option<f64>) {
    let before = pid.and_then(cpu_ticks);
    let started = std::time::Instant::now();
    let summary = f();
    let elapsed = started.elapsed();
    let after = pid.and_then(cpu_ticks);
    let per_request = match (before, after) {
        (Some(b), Some(a)) if summary.requests > 0 => {
            // Requests over the whole load, estimated from the window's rate.
            let all = summary.rps * elapsed.as_secs_f64();
            Some((a - b) as f64 * 1e6 / TICKS_PER_SEC / all.max(1.0))
        }
        _ => None,
    };
    (summary, per_request)
}

/// `sysconf(_SC_CLK_TCK)` on Linux.
const TICKS_PER_SEC: f64 = 100.0;

/// utime + stime of `pid`, in clock ticks (`/proc/<pid>/stat` fields 14 and 15).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

pub fn print(rows: &[Row]) {
    if rows.is_empty() {
        return;
    }
    println!();
    println!(
        "-- the floor: a minimal JS Worker in the same workerd (one KV read, one fetch of the same list, the body passed on)"
    );
    println!(
        "   (the Worker and the floor take turns, {ROUNDS} windows each; each figure is the median round's)"
    );
    println!(
        "     c {:<10} {:>9} {:>9} {:>9} {:>14}",
        "", "p50 ms", "p99 ms", "req/s", "CPU µs/request"
    );
    let cpu = |c: Option<f64>| c.map_or("-".to_owned(), |c| format!("{c:.0}"));
    for r in rows {
        for (name, s, c) in [
            ("Worker", &r.worker, r.worker_cpu_us),
            ("floor", &r.floor, r.floor_cpu_us),
        ] {
            println!(
                "  {:>4} {:<10} {:>9.2} {:>9.2} {:>9.0} {:>14}",
                r.concurrency,
                name,
                ms(s.p50_us),
                ms(s.p99_us),
                s.rps,
                cpu(c)
            );
        }
        println!(
            "  {:>4} {:<10} req/s {:.2}x of the floor's, p50 {:+.2} ms",
            r.concurrency,
            "Worker",
            ratio(r.worker.rps, r.floor.rps),
            ms(r.worker.p50_us) - ms(r.floor.p50_us),
        );
    }
}

/// A run's routes alone, then its list beside the floor.
pub fn print_run(run: &Run) {
    for a in &run.alone {
        println!(
            "  c={:<3} {:<14} p50 {:.2} ms, {:.0} req/s, CPU {} µs/request",
            a.concurrency,
            a.path,
            ms(a.summary.p50_us),
            a.summary.rps,
            a.cpu_us.map_or("-".to_owned(), |c| format!("{c:.0}"))
        );
    }
    print(&run.rows);
}

/// The median of `values` and their range, `None` for none.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(mut values: Vec<f64>) -> Option<Spread> {
        values.sort_by(f64::total_cmp);
        Some(Spread {
            median: *values.get(values.len() / 2)?,
            min: *values.first()?,
            max: *values.last()?,
        })
    }

    fn json(self) -> Value {
        json!({"median": self.median, "min": self.min, "max": self.max})
    }
}

/// Per concurrency: the Worker's req/s against the floor's, its p50 over the floor's (ms) and its
/// CPU per request against the floor's, one value per run. (With an even number of runs the
/// median is the higher middle one.)
fn ratios(runs: &[Run], concurrency: usize) -> [Option<Spread>; 3] {
    let rows = || {
        runs.iter()
            .flat_map(|r| &r.rows)
            .filter(move |r| r.concurrency == concurrency)
    };
    [
        Spread::of(rows().map(|r| ratio(r.worker.rps, r.floor.rps)).collect()),
        Spread::of(
            rows()
                .map(|r| ms(r.worker.p50_us) - ms(r.floor.p50_us))
                .collect(),
        ),
        Spread::of(
            rows()
                .filter_map(|r| Some(ratio(r.worker_cpu_us?, r.floor_cpu_us?)))
                .collect(),
        ),
    ]
}

/// One route alone at one concurrency over the runs: its p50 (ms) and CPU per request (µs).
fn alone_spread(runs: &[Run], path: &str, concurrency: usize) -> [Option<Spread>; 2] {
    let alone = || {
        runs.iter()
            .flat_map(|r| &r.alone)
            .filter(move |a| a.path == path && a.concurrency == concurrency)
    };
    [
        Spread::of(alone().map(|a| ms(a.summary.p50_us)).collect()),
        Spread::of(alone().filter_map(|a| a.cpu_us).collect()),
    ]
}

/// `--floor --runs N`: the median of the runs, and their range, for each ratio.
pub fn print_medians(runs: &[Run]) {
    let show = |s: Option<Spread>, unit: &str, signed: bool| match s {
        None => "-".to_owned(),
        Some(s) if signed => format!("{:+.2}{unit} ({:+.2} to {:+.2})", s.median, s.min, s.max),
        Some(s) => format!("{:.2}{unit} ({:.2}-{:.2})", s.median, s.min, s.max),
    };
    println!();
    println!(
        "-- {} runs: the median, and the lowest and highest run",
        runs.len()
    );
    for concurrency in CONCURRENCIES {
        let [rps, p50, cpu] = ratios(runs, concurrency);
        println!(
            "  {concurrency:>4} Worker     req/s {} of the floor's, p50 {}, CPU per request {} the floor's",
            show(rps, "x", false),
            show(p50, " ms", true),
            show(cpu, "x", false),
        );
    }
    for path in ALONE {
        for concurrency in CONCURRENCIES {
            let [p50, cpu] = alone_spread(runs, path, concurrency);
            let cpu = cpu.map_or("-".to_owned(), |s| {
                format!("{:.0} µs ({:.0}-{:.0})", s.median, s.min, s.max)
            });
            println!(
                "  c={concurrency:<3} {path:<14} p50 {}, CPU per request {cpu}",
                show(p50, " ms", false)
            );
        }
    }
}

/// `target/bench/floor.json` of `--floor --runs N`: each run's rows, and the medians.
pub fn runs_json(runs: &[Run]) -> Value {
    let spread = |s: Option<Spread>| s.map_or(Value::Null, Spread::json);
    let medians: Vec<Value> = CONCURRENCIES
        .into_iter()
        .map(|c| {
            let [rps, p50, cpu] = ratios(runs, c);
            json!({
                "concurrency": c,
                "ratio_rps": spread(rps),
                "p50_ms_over_floor": spread(p50),
                "cpu_ratio": spread(cpu),
            })
        })
        .collect();
    let alone: Vec<Value> = ALONE
        .into_iter()
        .flat_map(|path| {
            CONCURRENCIES.map(|c| {
                let [p50, cpu] = alone_spread(runs, path, c);
                json!({
                    "path": path,
                    "concurrency": c,
                    "p50_ms": spread(p50),
                    "cpu_us_per_request": spread(cpu),
                })
            })
        })
        .collect();
    let runs: Vec<Value> = runs.iter().map(|r| json(&r.rows)).collect();
    json!({"runs": runs, "medians": medians, "alone": alone})
}

pub fn json(rows: &[Row]) -> Value {
    json!(
        rows.iter()
            .map(|r| json!({
                "concurrency": r.concurrency,
                "worker": r.worker.json(),
                "floor": r.floor.json(),
                "ratio_rps": ratio(r.worker.rps, r.floor.rps),
                "p50_ms_over_floor": ((ms(r.worker.p50_us) - ms(r.floor.p50_us)) * 100.0).round() / 100.0,
                "worker_cpu_us_per_request": r.worker_cpu_us.map(|c| c.round()),
                "floor_cpu_us_per_request": r.floor_cpu_us.map(|c| c.round()),
            }))
            .collect::<Vec<_>>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spread_is_the_middle_value_and_the_range() {
        assert_eq!(Spread::of(vec![]), None);
        assert_eq!(
            Spread::of(vec![0.53, 0.42, 0.54]),
            Some(Spread {
                median: 0.53,
                min: 0.42,
                max: 0.54
            })
        );
        let two = Spread::of(vec![2.0, 1.0]).unwrap();
        assert_eq!((two.median, two.min, two.max), (2.0, 1.0, 2.0));
    }

    #[test]
    fn the_median_round_is_taken_by_rate_and_the_cpu_on_its_own() {
        let round = |rps: f64, p50_us: u64, cpu: Option<f64>| {
            (
                Summary {
                    requests: 10,
                    errors: 0,
                    p50_us,
                    p99_us: p50_us * 2,
                    rps,
                },
                cpu,
            )
        };
        let (summary, cpu) = median_round(vec![
            round(300.0, 1, Some(30.0)),
            round(100.0, 3, Some(10.0)),
            round(200.0, 2, None),
        ]);
        assert_eq!(
            (summary.rps, summary.p50_us),
            (200.0, 2),
            "the middle rate, whole"
        );
        assert_eq!(cpu, Some(30.0), "the middle of the CPU figures there are");
        assert_eq!(median_round(vec![round(1.0, 1, None)]).1, None);
    }

    #[test]
    fn cpu_ticks_of_this_process() {
        let ticks = super::cpu_ticks(std::process::id());
        assert!(ticks.is_some());
    }
}
