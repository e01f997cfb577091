//! The local portal: the Zoho simulator, the Worker under `wrangler dev` and the app under
//! `trunk serve`, started in that order, each in its own process group, and stopped together.
//!
//! `cargo xtask dev` runs the stack until Ctrl-C or SIGTERM; `cargo xtask test` (in
//! `testrun.rs`) runs the unit tiers, starts the same stack and runs the black-box and browser
//! tests against it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::build::{self, target_dir};
use crate::cmd;
use crate::tools::Tools;

/// The OAuth client the simulator registers by default (see sim/README.md). Development only:
/// a deployed Worker gets its real client id from `wrangler.toml` and its secret from
/// `wrangler secret put`.
pub(crate) const DEV_CLIENT_ID: &str = "1000.ZCRMEDGEDEV";
pub(crate) const DEV_CLIENT_SECRET: &str = "zcrm-edge-dev-secret";
/// A fixed key for encrypting tokens in the local KV (32 bytes, base64). Development only.
pub(crate) const DEV_TOKEN_KEY: &str = "v1:emNybS1lZGdlLWxvY2FsLWRldi1rZXktMzItYnl0ZXM=";

/// Leads of the big org (`admin@bulk-university.example`) in the simulator that `dev` and `test`
/// start (the simulator's own default, for its own tests and the CLI's, is 2,500): the browser
/// test of the export reads an org of 20,000 (100 pages by `page_token`). Measured on the debug
/// build the stack runs: ready in 47 ms instead of 13, 29 MB resident instead of 8. The tests
/// know it as `zcrm_tests::BULK_LEADS`: move them together.
pub(crate) const BIG_ORG_LEADS: usize = 20_000;

/// The isolates of test runs, and how long their KV views lag behind each other.
const ISOLATES: usize = 4;
pub(crate) const ISOLATES_STALE_KV_SECS: u64 = 60;
pub(crate) const ISOLATES_TOKEN_WINDOW_SECS: u64 = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports {
    pub sim: u16,
    pub worker: u16,
    pub app: u16,
}

impl Ports {
    pub const DEFAULT: Ports = Ports {
        sim: 8790,
        worker: 8787,
        app: 8080,
    };

    pub fn parse(args: &[String]) -> Result<Ports, String> {
        let mut ports = Ports::DEFAULT;
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let slot = match flag.as_str() {
                "--sim-port" => &mut ports.sim,
                "--worker-port" => &mut ports.worker,
                "--app-port" => &mut ports.app,
                other => return Err(format!("unknown option `{other}` (see `cargo xtask help`)")),
            };
            *slot = args
                .next()
                .and_then(|v| v.parse().ok())
                .filter(|&p: &u16| p != 0)
                .ok_or_else(|| format!("{flag} needs a port number"))?;
        }
        // Test runs also use the two ports after the Worker's (sandbox and developer Workers).
        let workers = ports.worker..=ports.worker.saturating_add(2);
        if ports.sim == ports.app || workers.contains(&ports.sim) || workers.contains(&ports.app) {
            return Err("the ports must differ (the Worker's next two ports are taken too)".into());
        }
        Ok(ports)
    }

    pub(crate) fn url(port: u16) -> String {
        format!("http://127.0.0.1:{port}")
    }
    pub fn sim_url(&self) -> String {
        Ports::url(self.sim)
    }
    pub fn worker_url(&self) -> String {
        Ports::url(self.worker)
    }
    pub fn app_url(&self) -> String {
        Ports::url(self.app)
    }
    /// The redirect page of the app served on `port`.
    fn redirect_uri(port: u16) -> String {
        format!("{}/redirect.html", Ports::url(port))
    }
    /// Test runs' several isolates of the Worker (`xtask/src/isolates.rs`): 4 isolates on the
    /// four ports after the Worker's three (8791-8794 by default), with their own simulator on
    /// the sixth port after the simulator's (8796), so that its clock and faults are theirs.
    pub fn isolates(&self) -> crate::isolates::Isolates {
        let first_port = self.worker.wrapping_add(4);
        crate::isolates::Isolates {
            isolates: ISOLATES,
            stale_kv_secs: ISOLATES_STALE_KV_SECS,
            first_port,
            sim_url: Ports::url(self.isolates_sim()),
            redirect_uri: Ports::redirect_uri(first_port),
            // Zoho's 10-minute token window, shortened so that the throttle test sees it pass.
            vars: vec![(
                "ZOHO_TOKEN_WINDOW_SECS",
                ISOLATES_TOKEN_WINDOW_SECS.to_string(),
            )],
        }
    }
    pub(crate) fn isolates_sim(&self) -> u16 {
        self.sim.wrapping_add(6)
    }

    /// wrangler's devtools port: 9229 for the default Worker port, shifted with it.
    fn inspector(worker_port: u16) -> u16 {
        worker_port.wrapping_add(442)
    }

    /// The Workers to run: `(name, ZOHO_ENVIRONMENT, port)`. Test runs add a Worker configured
    /// for each of the other two Zoho environments, on the next two ports.
    fn workers(&self, mode: Mode) -> Vec<(&'static str, &'static str, u16)> {
        let mut workers = vec![("worker", "production", self.worker)];
        if mode == Mode::Test {
            workers.push(("worker-sandbox", "sandbox", self.worker.wrapping_add(1)));
            workers.push(("worker-developer", "developer", self.worker.wrapping_add(2)));
        }
        workers
    }
}

/// Dev runs keep their local KV between runs; test runs start from an empty one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Dev,
    Test,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Dev => "dev",
            Mode::Test => "test",
        }
    }
}

/// `cargo xtask dev`.
pub fn dev(ports: Ports) -> Result<(), String> {
    let stop = stop_flag()?;
    let tools = Tools::ensure()?;
    let mut stack = Stack::start(&tools, ports, Mode::Dev, &stop)?;
    println!();
    println!("  Zylker Academy student portal: {}/", ports.app_url());
    println!(
        "  Worker (wrangler dev):          {}/api/health",
        ports.worker_url()
    );
    println!(
        "  Zoho simulator:                 {}/__sim/users",
        ports.sim_url()
    );
    println!("  Demo users (sign in with any; the simulator's page lets you pick):");
    for user in demo_users(&ports) {
        println!("    {user}");
    }
    println!("  Logs: {}", stack.log_dir.display());
    println!("  Ctrl-C stops everything.");
    println!();
    let result = stack.watch(&stop);
    drop(stack);
    result
}

/// `cargo xtask isolates`: only the several isolates of test runs and their simulator (see
/// [`Ports::isolates`]), from the Worker's current build, until Ctrl-C: for running
/// `tests/tests/isolates.rs` by hand, or looking at the Worker across isolates.
pub fn isolates(ports: Ports) -> Result<(), String> {
    let stop = stop_flag()?;
    let tools = Tools::ensure()?;
    let state = target_dir().join("xtask");
    let mut stack = Stack::empty(state.join("logs"))?;
    cmd::run(
        crate::cmd::cargo()
            .args(["build", "--quiet", "-p", "zoho-sim"])
            .current_dir(crate::root()),
    )?;
    build::worker(&tools, build::Profile::Release)?;
    stack.start_isolates(&tools, &ports, &stop)?;
    println!();
    println!("  Isolates:  {}", ports.isolates().urls().join(" "));
    println!("  Simulator: {}", Ports::url(ports.isolates_sim()));
    println!("  Logs: {}", stack.log_dir.display());
    println!("  Ctrl-C stops everything.");
    let result = stack.watch(&stop);
    drop(stack);
    result
}

/// Set by Ctrl-C, SIGTERM or SIGHUP: the stack then stops in order instead of dying at once.
pub(crate) fn stop_flag() -> Result<Arc<AtomicBool>, String> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        signal_hook::flag::register(signal, Arc::clone(&flag))
            .map_err(|e| format!("cannot handle signal {signal}: {e}"))?;
    }
    Ok(flag)
}

fn demo_users(ports: &Ports) -> Vec<String> {
    let Some(body) = crate::http::get(ports.sim, "/__sim/users", Duration::from_secs(10))
        .filter(|r| r.status == 200)
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
    else {
        return vec!["(the simulator did not list its users)".into()];
    };
    // A few fields of the simulator's JSON, without a JSON dependency in xtask.
    body.split("\"email\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

struct Service {
    name: &'static str,
    child: Child,
    /// Whether its output is also echoed to the terminal (always in dev; until ready in test).
    echo: Arc<AtomicBool>,
}

pub(crate) struct Stack {
    services: Vec<Service>,
    pub(crate) log_dir: PathBuf,
}

impl Stack {
    /// A stack with no service yet, logging into `log_dir` (for `cargo xtask bench`, which
    /// starts its own services one by one).
    pub(crate) fn empty(log_dir: PathBuf) -> Result<Stack, String> {
        std::fs::create_dir_all(&log_dir)
            .map_err(|e| format!("cannot create {}: {e}", log_dir.display()))?;
        Ok(Stack {
            services: Vec::new(),
            log_dir,
        })
    }

    /// The process id of the service `name`, if it runs.
    pub(crate) fn pid(&self, name: &str) -> Option<u32> {
        self.services
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.child.id())
    }

    /// Stops the service `name` (its whole process group), if it runs.
    pub(crate) fn stop(&mut self, name: &str) {
        if let Some(at) = self.services.iter().position(|s| s.name == name) {
            let mut service = self.services.remove(at);
            stop_service(&mut service);
        }
    }

    /// Stops echoing the services' output to the terminal (their logs still get it).
    pub(crate) fn quiet(&self) {
        for service in &self.services {
            service.echo.store(false, Ordering::Relaxed);
        }
    }

    pub(crate) fn start(
        tools: &Tools,
        ports: Ports,
        mode: Mode,
        stop: &AtomicBool,
    ) -> Result<Stack, String> {
        let mut needed = vec![("simulator", ports.sim), ("app", ports.app)];
        if mode == Mode::Test {
            needed.push(("isolates' simulator", ports.isolates_sim()));
            needed.extend(
                ports
                    .isolates()
                    .ports()
                    .into_iter()
                    .map(|p| ("isolates", p)),
            );
        }
        needed.extend(
            ports
                .workers(mode)
                .into_iter()
                .map(|(name, _, port)| (name, port)),
        );
        for (name, port) in needed {
            if TcpListener::bind(("127.0.0.1", port)).is_err() {
                return Err(format!(
                    "port {port} (the {name}'s) is taken: is another `cargo xtask dev` running? \
                     Stop it or choose other ports (see `cargo xtask help`)"
                ));
            }
        }
        let root = crate::root();
        let state = target_dir().join("xtask");
        let log_dir = state.join("logs");
        std::fs::create_dir_all(&log_dir)
            .map_err(|e| format!("cannot create {}: {e}", log_dir.display()))?;
        let mut stack = Stack {
            services: Vec::new(),
            log_dir,
        };

        // The simulator (debug build: quick to build, and fast enough for every test).
        cmd::run(
            crate::cmd::cargo()
                .args(["build", "--quiet", "-p", "zoho-sim"])
                .current_dir(&root),
        )?;
        let mut sim = Command::new(target_dir().join("debug/zoho-sim"));
        sim.args(["--addr", &format!("127.0.0.1:{}", ports.sim)]);
        sim.args(["--seed-leads", &BIG_ORG_LEADS.to_string()]);
        if mode == Mode::Test {
            // Zoho allows 10 code exchanges per client in 10 minutes; the browser suites sign in
            // more often than that without resetting the simulator. (Dev runs keep the limit.)
            sim.args(["--grant-code-limit", "0"]);
        }
        for host in ["127.0.0.1", "localhost"] {
            sim.args([
                "--redirect-uri",
                &format!("http://{host}:{}/redirect.html", ports.app),
            ]);
        }
        for (_, _, port) in ports.workers(mode).into_iter().skip(1) {
            sim.args(["--redirect-uri", &Ports::redirect_uri(port)]);
        }
        stack.spawn("sim", &mut sim)?;
        stack.wait_ready(
            "sim",
            ports.sim,
            "/__sim/users",
            Duration::from_secs(30),
            stop,
        )?;

        // The Worker, built once here so that wrangler's own [build] step finds it up to date.
        build::worker(tools, build::Profile::Release)?;
        // An empty assets folder is enough for wrangler dev: trunk serve serves the app.
        std::fs::create_dir_all(root.join("dist"))
            .map_err(|e| format!("cannot create dist/: {e}"))?;
        let secrets = state.join("edge-secrets.env");
        std::fs::write(
            &secrets,
            format!("ZOHO_CLIENT_SECRET={DEV_CLIENT_SECRET}\nTOKEN_KEYS={DEV_TOKEN_KEY}\n"),
        )
        .map_err(|e| format!("cannot write {}: {e}", secrets.display()))?;
        for (name, environment, port) in ports.workers(mode) {
            let persist = state.join(format!("{name}-{}", mode.as_str()));
            if mode == Mode::Test {
                let _ = std::fs::remove_dir_all(&persist);
            }
            let mut worker = tools.wrangler();
            worker
                .args([
                    "dev",
                    "--local",
                    "--ip",
                    "127.0.0.1",
                    "--show-interactive-dev-session=false",
                ])
                .args(["--port", &port.to_string()])
                .args(["--inspector-port", &Ports::inspector(port).to_string()])
                .arg("--persist-to")
                .arg(&persist)
                .arg("--env-file")
                .arg(&secrets)
                .args(["--var", &format!("ZOHO_ENVIRONMENT:{environment}")])
                .args(["--var", &format!("ZOHO_SIM_BASE:{}", ports.sim_url())])
                .args(["--var", &format!("ZOHO_CLIENT_ID:{DEV_CLIENT_ID}")])
                .args([
                    "--var",
                    // The production Worker's app is Trunk's; the sandbox and developer Workers
                    // of test runs are deployed as in production: they serve the app and its
                    // redirect page on their own origin.
                    &format!(
                        "ZOHO_REDIRECT_URI:{}",
                        Ports::redirect_uri(if port == ports.worker {
                            ports.app
                        } else {
                            port
                        })
                    ),
                ]);
            if mode == Mode::Test {
                // Short timeouts, so that the tests of slow answers from Zoho stay quick.
                worker.args([
                    "--var",
                    "CONNECT_TIMEOUT_MS:2000",
                    "--var",
                    "READ_TIMEOUT_MS:2000",
                ]);
            }
            if environment == "developer" {
                // Field metadata fresh for 2 s only, so that tests/tests/failures.rs sees it
                // fetched again, and Zoho failing to give it.
                worker.args(["--var", "META_TTL_SECS:2"]);
                // Only Eurotech's developer org may sign in here: tests/tests/hardening.rs
                // proves that another organisation is refused and leaves nothing behind.
                worker.args(["--var", "ALLOWED_ORGS:eu:60000002002"]);
            }
            stack.spawn(name, &mut worker)?;
            stack.wait_ready(name, port, "/api/health", Duration::from_secs(180), stop)?;
        }

        if mode == Mode::Test {
            stack.start_isolates(tools, &ports, stop)?;
        }

        // The app, served by Trunk with /api and /auth proxied to the Worker.
        let mut app = tools.trunk();
        app.args(["serve", "--offline", "--port", &ports.app.to_string()])
            .arg("--dist")
            .arg(target_dir().join("trunk-serve"));
        if ports.worker != Ports::DEFAULT.worker {
            app.arg("--config").arg(trunk_config_for(ports.worker)?);
        }
        if mode == Mode::Test {
            app.arg("--no-autoreload");
        }
        stack.spawn("app", &mut app)?;
        stack.wait_ready("app", ports.app, "/", Duration::from_secs(900), stop)?;
        // The proxy, not only the page: the chain browser → Trunk → Worker answers.
        stack.wait_ready(
            "app",
            ports.app,
            "/api/health",
            Duration::from_secs(30),
            stop,
        )?;

        if mode == Mode::Test {
            for service in &stack.services {
                service.echo.store(false, Ordering::Relaxed);
            }
        }
        Ok(stack)
    }

    /// The several isolates of test runs and their own simulator (see [`Ports::isolates`]).
    fn start_isolates(
        &mut self,
        tools: &Tools,
        ports: &Ports,
        stop: &AtomicBool,
    ) -> Result<(), String> {
        let isolates = ports.isolates();
        let mut sim = Command::new(target_dir().join("debug/zoho-sim"));
        sim.args(["--addr", &format!("127.0.0.1:{}", ports.isolates_sim())])
            .args(["--redirect-uri", &isolates.redirect_uri]);
        self.spawn("sim-isolates", &mut sim)?;
        self.wait_ready(
            "sim-isolates",
            ports.isolates_sim(),
            "/__sim/users",
            Duration::from_secs(30),
            stop,
        )?;
        let dir = target_dir().join("xtask/isolates");
        let _ = std::fs::remove_dir_all(&dir);
        isolates.prepare(&dir)?;
        let mut workerd = Command::new(tools.workerd());
        workerd.arg("serve").arg("config.capnp").current_dir(&dir);
        self.spawn("isolates", &mut workerd)?;
        for port in isolates.ports() {
            self.wait_ready(
                "isolates",
                port,
                "/api/health",
                Duration::from_secs(60),
                stop,
            )?;
        }
        Ok(())
    }

    /// Starts `command` in its own process group, its output prefixed on the terminal and
    /// written to `<log_dir>/<name>.log`.
    pub(crate) fn spawn(
        &mut self,
        name: &'static str,
        command: &mut Command,
    ) -> Result<(), String> {
        cmd::echo(command);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.process_group(0);
        // If xtask dies without stopping the stack (SIGKILL), the service gets SIGTERM.
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let echo = Arc::new(AtomicBool::new(true));
        let log_path = self.log_dir.join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path)
            .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let log = Arc::new(std::sync::Mutex::new(log));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let (echo, log) = (Arc::clone(&echo), Arc::clone(&log));
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if echo.load(Ordering::Relaxed) {
                        eprintln!("[{name}] {line}");
                    }
                    if let Ok(mut log) = log.lock() {
                        let _ = writeln!(log, "{line}");
                    }
                }
            });
        }
        self.services.push(Service { name, child, echo });
        Ok(())
    }

    /// Polls `GET path` until it answers 200, the service exits, or `timeout` passes.
    pub(crate) fn wait_ready(
        &mut self,
        name: &str,
        port: u16,
        path: &str,
        timeout: Duration,
        stop: &AtomicBool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if crate::http::get(port, path, Duration::from_secs(10))
                .is_some_and(|r| r.status == 200)
            {
                eprintln!("xtask: {name} is ready (GET 127.0.0.1:{port}{path} answered 200)");
                return Ok(());
            }
            if let Some(exited) = self.exited() {
                return Err(format!(
                    "{exited} exited while starting; see {}",
                    self.log_dir.display()
                ));
            }
            if stop.load(Ordering::Relaxed) {
                return Err("stopped".into());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{name} did not answer GET 127.0.0.1:{port}{path} within {} s; see {}",
                    timeout.as_secs(),
                    self.log_dir.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The name and status of a service that has exited, if one has.
    pub(crate) fn exited(&mut self) -> Option<String> {
        self.services.iter_mut().find_map(|s| {
            s.child
                .try_wait()
                .ok()
                .flatten()
                .map(|status| format!("{} ({status})", s.name))
        })
    }

    /// Runs until a stop signal, or until a service dies (an error).
    fn watch(&mut self, stop: &AtomicBool) -> Result<(), String> {
        while !stop.load(Ordering::Relaxed) {
            if let Some(exited) = self.exited() {
                return Err(format!("{exited} exited; stopping the rest"));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        eprintln!("\nxtask: stopping");
        Ok(())
    }
}

impl Drop for Stack {
    /// Stops the services in reverse order: SIGTERM to each process group (wrangler's workerd and
    /// Trunk's builds included), then SIGKILL to whatever is left after a grace period.
    fn drop(&mut self) {
        for service in self.services.iter_mut().rev() {
            stop_service(service);
        }
    }
}

/// SIGTERM to the service's process group, then SIGKILL to whatever is left after a grace period.
fn stop_service(service: &mut Service) {
    let group = -(service.child.id() as i32);
    // SAFETY: kill(2) on a process group we created.
    unsafe { libc::kill(group, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && group_alive(group) {
        let _ = service.child.try_wait();
        std::thread::sleep(Duration::from_millis(50));
    }
    if group_alive(group) {
        eprintln!(
            "xtask: {} did not stop on SIGTERM; killing it",
            service.name
        );
        // SAFETY: as above.
        unsafe { libc::kill(group, libc::SIGKILL) };
    }
    let _ = service.child.wait();
}

fn group_alive(group: i32) -> bool {
    // SAFETY: signal 0 only checks that some process of the group exists.
    unsafe { libc::kill(group, 0) == 0 }
}

/// Trunk.toml with its proxies pointed at another Worker port. Trunk takes the folder of its
/// config as the project folder, so the copy lives beside Trunk.toml (and is git-ignored).
fn trunk_config_for(worker_port: u16) -> Result<PathBuf, String> {
    let root = crate::root();
    let original =
        std::fs::read_to_string(root.join("Trunk.toml")).map_err(|e| format!("Trunk.toml: {e}"))?;
    let default = format!("127.0.0.1:{}/", Ports::DEFAULT.worker);
    if !original.contains(&default) {
        return Err(format!("Trunk.toml no longer proxies to {default}"));
    }
    let path = root.join(".Trunk.ports.toml");
    std::fs::write(
        &path,
        original.replace(&default, &format!("127.0.0.1:{worker_port}/")),
    )
    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn ports_default_and_flags() {
        assert_eq!(Ports::parse(&[]).unwrap(), Ports::DEFAULT);
        let p = Ports::parse(&args("--app-port 9080 --sim-port 9790")).unwrap();
        assert_eq!((p.sim, p.worker, p.app), (9790, 8787, 9080));
        assert!(Ports::parse(&args("--app-port")).is_err());
        assert!(Ports::parse(&args("--app-port 0")).is_err());
        assert!(Ports::parse(&args("--app-port x")).is_err());
        assert!(Ports::parse(&args("--app-port 8787")).is_err());
        assert!(
            Ports::parse(&args("--sim-port 8789")).is_err(),
            "the developer Worker's"
        );
        assert!(Ports::parse(&args("--verbose")).is_err());
        assert_eq!(Ports::inspector(Ports::DEFAULT.worker), 9229);
        let names: Vec<u16> = Ports::DEFAULT
            .workers(Mode::Test)
            .iter()
            .map(|w| w.2)
            .collect();
        assert_eq!(names, [8787, 8788, 8789]);
        assert_eq!(Ports::DEFAULT.workers(Mode::Dev).len(), 1);
    }

    #[test]
    fn the_dev_token_key_is_32_bytes() {
        let b64 = DEV_TOKEN_KEY.strip_prefix("v1:").unwrap();
        // 32 bytes encode to 44 base64 characters ending in one '='.
        assert_eq!(b64.len(), 44);
        assert!(b64.ends_with('=') && !b64.ends_with("=="));
    }

    #[test]
    fn trunk_config_proxies_to_the_default_worker_port() {
        let toml = std::fs::read_to_string(crate::root().join("Trunk.toml")).unwrap();
        assert!(toml.contains("http://127.0.0.1:8787/api/"));
        assert!(toml.contains("http://127.0.0.1:8787/auth/"));
        assert!(toml.contains("port = 8080"));
    }
}
