//! Shared harness of the stack tests: where the running stack is, and a headless Chromium.
//!
//! `cargo xtask test` starts the simulator, the Worker (`wrangler dev`, real workerd) and the app
//! (`trunk serve`), then runs the `#[ignore]`d tests of this crate with their URLs in the
//! environment. Run alone (`cargo test`), those tests are skipped as ignored; run with
//! `--ignored` but without the stack, they fail and say how to start it.

use std::time::Duration;

pub mod kv;
pub mod own_worker;
pub use own_worker::OwnWorker;

/// Leads of Bulk University (`admin@bulk-university.example`) in the stack's simulator, as
/// `cargo xtask dev` and `test` seed it (`BIG_ORG_LEADS` in xtask/src/stack.rs).
pub const BULK_LEADS: usize = 20_000;

/// The running stack's base URLs.
pub struct Stack {
    pub sim: String,
    pub worker: String,
    pub app: String,
}

impl Stack {
    pub fn from_env() -> Stack {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} is not set: run the stack tests with `cargo xtask test`")
            })
        };
        Stack {
            sim: var("ZCRM_SIM_URL"),
            worker: var("ZCRM_WORKER_URL"),
            app: var("ZCRM_APP_URL"),
        }
    }
}

/// An HTTP client for black-box tests: no redirects followed, a cookie jar, short timeouts.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// An HTTP client that keeps no cookies: tests pass cookies by hand and check their attributes.
pub fn http_no_cookies() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// A headless Chromium driven through its own chromedriver; both end when this is dropped.
pub struct Browser {
    pub client: fantoccini::Client,
    driver: tokio::process::Child,
    _profile: TempDir,
}

impl Browser {
    pub async fn start() -> Browser {
        let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or("/usr/bin/chromedriver".into());
        let chrome = std::env::var("CHROME").unwrap_or("/usr/bin/chromium".into());
        let port = free_port();
        let driver = tokio::process::Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {chromedriver}: {e}"));
        let profile = TempDir::new("chromium-profile");
        let capabilities = serde_json::json!({
            "goog:chromeOptions": {
                "binary": chrome,
                // Headless and offline: without the background-networking flags Chromium keeps
                // calling Google's hosts, which this machine refuses.
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1280,800",
                    format!("--user-data-dir={}", profile.0.display()),
                ]
            }
        });
        let capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => unreachable!(),
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = String::new();
        for _ in 0..100 {
            let builder = fantoccini::ClientBuilder::new(
                hyper_util::client::legacy::connect::HttpConnector::new(),
            )
            .capabilities(capabilities.clone())
            .connect(&url)
            .await;
            match builder {
                Ok(client) => {
                    return Browser {
                        client,
                        driver,
                        _profile: profile,
                    };
                }
                Err(e) => last_error = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver at {url} did not start a session: {last_error}");
    }

    /// Ends the session (closing Chromium) and stops chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }

    /// Waits until `css` matches an element whose text satisfies `done`, and returns that text.
    pub async fn wait_for_text(
        &self,
        css: &str,
        timeout: Duration,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut last = String::from("(no such element)");
        loop {
            if let Ok(element) = self.client.find(fantoccini::Locator::Css(css)).await
                && let Ok(text) = element.text().await
            {
                if done(&text) {
                    return text;
                }
                last = text;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "`{css}` did not reach the expected text within {timeout:?}; last: {last:?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A folder under the system temp dir, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let unique = format!(
            "{prefix}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        );
        let path = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&path).expect("a temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
