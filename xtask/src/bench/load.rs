//! The load generator and its statistics: kept-alive connections, every latency kept.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// Statistics

/// Nearest-rank percentile of sorted values: the smallest value with at least `p`% of the values
/// at or below it.
pub(super) fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// What a load run measured.
#[derive(Clone, Debug)]
pub(super) struct Summary {
    pub(super) requests: usize,
    pub(super) errors: usize,
    pub(super) p50_us: u64,
    pub(super) p99_us: u64,
    pub(super) rps: f64,
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
    pub(super) fn print_row(&self, concurrency: usize, name: &str) {
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

    pub(super) fn json(&self) -> Value {
        json!({
            "requests": self.requests,
            "errors": self.errors,
            "p50_ms": ms(self.p50_us),
            "p99_ms": ms(self.p99_us),
            "rps": (self.rps * 10.0).round() / 10.0,
        })
    }
}

pub(super) fn ms(us: u64) -> f64 {
    (us as f64 / 10.0).round() / 100.0
}

// ---------------------------------------------------------------------------------------------
// Load

/// Sends `request` on `concurrency` kept-alive connections (spread over `ports`) for `warmup` +
/// `window`, and summarises the requests started within the window. Any status but 200 is an
/// error.
pub(super) fn load(
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
pub(super) fn burst(ports: &[u16], request: &[u8], n: usize) -> Vec<u16> {
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
