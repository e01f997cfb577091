//! The simulator in-process on 127.0.0.1:0, and the built `zcrm` binary run against it.

use std::path::PathBuf;
use std::process::Stdio;

use serde_json::{Value, json};
use zoho_sim::{Config, SimHandle};

pub const CLIENT_ID: &str = "1000.ZCRMEDGEDEV";
pub const SECRET: &str = "zcrm-edge-dev-secret";
pub const ADMIN_US: &str = "admin@zylker-academy.example";
pub const ADMIN_B: &str = "admin@northwind-college.example";
pub const ADMIN_EU: &str = "admin@eurotech-institute.example";
pub const ADMIN_BULK: &str = "admin@bulk-university.example";

pub struct Sim {
    _handle: SimHandle,
    pub base: String,
    pub http: reqwest::Client,
    pub dir: PathBuf,
    /// Every grant code handed out, to check that no output shows one.
    pub codes: std::sync::Mutex<Vec<String>>,
}

/// What a run of `zcrm` gave.
#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {self:?}"))
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.status, 0, "{self:?}");
        self
    }
}

pub async fn start() -> Sim {
    start_with(Config::default()).await
}

pub async fn start_with(cfg: Config) -> Sim {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = zoho_sim::spawn(listener, cfg).unwrap();
    let base = handle.base_url();
    let dir = std::env::temp_dir().join(format!(
        "zcrm-cli-test-{}-{}",
        std::process::id(),
        handle.addr().port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Sim {
        _handle: handle,
        base,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        dir,
        codes: Default::default(),
    }
}

/// A token shape of the simulator: `1000.` and 32 hex digits.
fn has_token(s: &str) -> bool {
    s.match_indices("1000.").any(|(i, _)| {
        let rest = &s[i + 5..];
        rest.len() >= 32 && rest[..32].bytes().all(|b| b.is_ascii_hexdigit())
    })
}

impl Sim {
    pub fn store(&self) -> PathBuf {
        self.dir.join("tokens.json")
    }

    /// A Self Client grant code, as Zoho's API console would mint it.
    pub async fn grant(&self, email: &str, environment: &str) -> String {
        let v = self
            .control(
                "POST",
                "grant",
                json!({"email": email, "environment": environment}),
            )
            .await;
        let code = v["code"]
            .as_str()
            .unwrap_or_else(|| panic!("{v}"))
            .to_owned();
        self.codes.lock().unwrap().push(code.clone());
        code
    }

    pub async fn control(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/__sim/{path}", self.base);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        req.send().await.unwrap().json().await.unwrap()
    }

    pub async fn stats(&self) -> Value {
        self.control("GET", "stats", Value::Null).await
    }

    /// Runs `zcrm` with the simulator's client and this test's store.
    pub async fn zcrm(&self, args: &[&str]) -> Run {
        self.zcrm_with(args, &[]).await
    }

    pub async fn zcrm_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_zcrm"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.dir)
            .env("ZOHO_SIM_BASE", &self.base)
            .env("ZOHO_CLIENT_ID", CLIENT_ID)
            .env("ZOHO_CLIENT_SECRET", SECRET)
            .env("ZCRM_STORE", self.store())
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().await.unwrap();
        let run = Run {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        self.assert_no_secret(&run);
        run
    }

    /// Nothing secret in any output: no token, no grant code, no client secret.
    #[track_caller]
    pub fn assert_no_secret(&self, run: &Run) {
        for text in [&run.stdout, &run.stderr] {
            assert!(!has_token(text), "a token in the output: {run:?}");
            assert!(
                !text.contains(SECRET),
                "the client secret in the output: {run:?}"
            );
            for code in self.codes.lock().unwrap().iter() {
                assert!(
                    !text.contains(code.as_str()),
                    "a grant code in the output: {run:?}"
                );
            }
        }
        if let Ok(store) = std::fs::read_to_string(self.store()) {
            assert!(!has_token(&store), "a plain token in the store");
            assert!(
                !store.contains(SECRET),
                "the plain client secret in the store"
            );
        }
    }

    /// `zcrm login --grant` for `email` at `dc`.
    pub async fn login(&self, email: &str, dc: &str) -> Run {
        let code = self.grant(email, "production").await;
        self.zcrm(&["login", "--grant", &code, "--dc", dc]).await
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `token.refreshes` of the stats.
pub fn refreshes(stats: &Value) -> u64 {
    stats["token"]["refreshes"].as_u64().unwrap()
}
