//! A Worker of a test's own: `wrangler dev` of the stack's build (the production Worker's
//! configuration, in front of the stack's simulator), on a port and with local KV and Durable
//! Objects of its own, that the test stops and starts again with another key ring over the same
//! storage, as a deploy that rotates `TOKEN_KEYS` does. Started by the test, so it needs what
//! `cargo xtask test` (or `--only`) passes: `ZCRM_NODE`, `ZCRM_WRANGLER`, `ZCRM_CLIENT_ID`,
//! `ZCRM_STATE_DIR` (its storage goes under it as `worker-<name>-test`, where the after-all scan
//! looks), `ZCRM_LOG_DIR`, `ZCRM_SIM_URL` and `ZCRM_APP_URL`.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct OwnWorker {
    /// Its base URL, the same across restarts.
    pub url: String,
    /// Its local KV and objects (`--persist-to`).
    pub storage: PathBuf,
    port: u16,
    config: PathBuf,
    secrets: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

fn var(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the stack tests with `cargo xtask`"))
}

impl OwnWorker {
    /// Starts the Worker `name` with the key ring `token_keys`, from empty storage.
    pub fn start(name: &str, token_keys: &str) -> OwnWorker {
        let state = PathBuf::from(var("ZCRM_STATE_DIR"));
        let storage = state.join(format!("worker-{name}-test"));
        let _ = std::fs::remove_dir_all(&storage);
        let config = state.join(format!("{name}.wrangler.toml"));
        std::fs::write(&config, config_without_build()).expect("the Worker's config");
        let port = crate::free_port();
        let mut worker = OwnWorker {
            url: format!("http://127.0.0.1:{port}"),
            storage,
            port,
            config,
            secrets: state.join(format!("{name}-secrets.env")),
            log: Path::new(&var("ZCRM_LOG_DIR")).join(format!("worker-{name}.log")),
            child: None,
        };
        worker.spawn(token_keys);
        worker
    }

    /// Stops it and starts it again on the same port and storage with `token_keys`.
    pub fn restart(&mut self, token_keys: &str) {
        self.stop();
        self.spawn(token_keys);
    }

    fn spawn(&mut self, token_keys: &str) {
        // The client secret the stack's Workers have (written by xtask beside their storage).
        let stack_secrets =
            std::fs::read_to_string(Path::new(&var("ZCRM_STATE_DIR")).join("edge-secrets.env"))
                .expect("the stack's edge-secrets.env");
        let client_secret = stack_secrets
            .lines()
            .find(|l| l.starts_with("ZOHO_CLIENT_SECRET="))
            .expect("the stack's client secret");
        std::fs::write(
            &self.secrets,
            format!("{client_secret}\nTOKEN_KEYS={token_keys}\n"),
        )
        .expect("the Worker's secrets");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the Worker's log");
        let mut command = Command::new(var("ZCRM_NODE"));
        command
            .arg(var("ZCRM_WRANGLER"))
            .args(["dev", "--local", "--ip", "127.0.0.1"])
            .arg("--show-interactive-dev-session=false")
            .arg("--config")
            .arg(&self.config)
            .args(["--port", &self.port.to_string()])
            .args(["--inspector-port", &crate::free_port().to_string()])
            .arg("--persist-to")
            .arg(&self.storage)
            .arg("--env-file")
            .arg(&self.secrets)
            .args(["--var", "ZOHO_ENVIRONMENT:production"])
            .args(["--var", &format!("ZOHO_SIM_BASE:{}", var("ZCRM_SIM_URL"))])
            .args([
                "--var",
                &format!("ZOHO_CLIENT_ID:{}", var("ZCRM_CLIENT_ID")),
            ])
            // Registered at the simulator; the tests hand the code over themselves.
            .args([
                "--var",
                &format!("ZOHO_REDIRECT_URI:{}/redirect.html", var("ZCRM_APP_URL")),
            ])
            .env("WRANGLER_SEND_METRICS", "false")
            .env("WRANGLER_HIDE_BANNER", "true")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log"))
            .stderr(log)
            // Its own process group, so that stopping it stops workerd too.
            .process_group(0);
        // If the test process dies, the Worker gets SIGTERM.
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command.spawn().expect("wrangler dev starts");
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the Worker of {} stopped ({status}); see {}",
                    self.url,
                    self.log.display()
                );
            }
            if healthy(self.port) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the Worker of {} did not answer /api/health; see {}",
                self.url,
                self.log.display()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        self.child = Some(child);
    }

    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let group = -(child.id() as i32);
        // SAFETY: kill(2) on the process group this Worker was started in.
        unsafe { libc::kill(group, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        // SAFETY: signal 0 only checks that some process of the group exists.
        while Instant::now() < deadline && unsafe { libc::kill(group, 0) } == 0 {
            let _ = child.try_wait();
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above.
        unsafe { libc::kill(group, libc::SIGKILL) };
        let _ = child.wait();
        // The port is free again before anything starts on it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "port {} stays taken", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for OwnWorker {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(&self.secrets);
    }
}

/// `edge/wrangler.toml` without its `[build]` step (the stack built the Worker before the
/// tests; a test runs that build, it does not make one), with its paths made absolute, since the
/// copy lives elsewhere.
fn config_without_build() -> String {
    let edge = Path::new(env!("CARGO_MANIFEST_DIR")).join("../edge");
    let original = std::fs::read_to_string(edge.join("wrangler.toml")).expect("wrangler.toml");
    let mut out = String::new();
    let mut in_build = false;
    for line in original.lines() {
        if line.starts_with('[') {
            in_build = line.trim() == "[build]";
        }
        if !in_build {
            out.push_str(line);
            out.push('\n');
        }
    }
    let absolute = |relative: &str| edge.join(relative).display().to_string();
    let main = "main = \"worker.js\"";
    let assets = "directory = \"../dist\"";
    assert!(
        out.contains(main) && out.contains(assets) && !out.contains("[build]"),
        "edge/wrangler.toml changed its main, assets or build: update tests/src/own_worker.rs"
    );
    out.replace(main, &format!("main = {:?}", absolute("worker.js")))
        .replace(assets, &format!("directory = {:?}", absolute("../dist")))
}

/// A new key for `TOKEN_KEYS`: `id:` and 32 random bytes in base64.
pub fn random_key(id: &str) -> String {
    use base64::Engine;
    let mut key = [0u8; 32];
    zcrm_edge::session::random_bytes(&mut key);
    format!(
        "{id}:{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

fn healthy(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let request = "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let mut answer = [0u8; 12];
    s.write_all(request.as_bytes()).is_ok()
        && s.read_exact(&mut answer).is_ok()
        && answer.starts_with(b"HTTP/1.1 200")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_config_keeps_everything_but_the_build() {
        let c = super::config_without_build();
        assert!(!c.contains("[build]") && !c.contains("cargo xtask worker-build"));
        for kept in [
            "[[kv_namespaces]]",
            "GRANTS",
            "LOGINS",
            "AUTH_LIMITER",
            "[assets]",
        ] {
            assert!(c.contains(kept), "{kept}");
        }
        assert!(c.contains("/edge/worker.js\""), "{c}");
    }

    #[test]
    fn random_keys_are_keys_of_a_ring_and_new_each_time() {
        let (a, b) = (super::random_key("a1"), super::random_key("b2"));
        assert_ne!(a[3..], b[3..]);
        zcrm_edge::seal::Keyring::parse(&format!("{a},{b}")).unwrap();
    }
}
