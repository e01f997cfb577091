//! Helpers of the black-box tests: a headless sign-in through the real redirect chain
//! (Worker → simulator → redirect URI), cookies handled by hand so that their attributes are
//! checked, and the simulator's control API.

#![allow(dead_code)]

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use zcrm_api::{CSRF_HEADER, CSRF_VALUE, CallbackRequest, SessionInfo};
use zcrm_tests::Stack;

pub const SESSION_COOKIE: &str = "__Host-zcrm-session";
pub const LOGIN_COOKIE: &str = "__Host-zcrm-login";

/// The black-box tests share one simulator and one Worker: they take turns.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub struct Env {
    pub stack: Stack,
    pub http: Client,
    /// The Worker these helpers talk to (the production one unless [`Env::at`] says otherwise).
    pub worker_url: String,
    /// `sim_environment` chosen at the simulator's authorize page.
    pub sim_environment: &'static str,
}

impl Env {
    /// The stack with the simulator back at its seed. The Env speaks for a client of its own
    /// address (see [`client`]), so that one test's sign-ins do not count against another's.
    pub async fn new() -> Env {
        let stack = Stack::from_env();
        let env = Env {
            worker_url: stack.worker.clone(),
            stack,
            http: client(&new_client_address()),
            sim_environment: "production",
        };
        env.sim_post("reset", json!({})).await;
        env
    }

    /// The same stack, through the Worker configured for `environment` (`ZCRM_WORKER_<ENV>_URL`).
    pub fn at(mut self, environment: &'static str) -> Env {
        let var = format!("ZCRM_WORKER_{}_URL", environment.to_uppercase());
        self.worker_url = std::env::var(&var)
            .unwrap_or_else(|_| panic!("{var} is not set: run with `cargo xtask test`"));
        self.sim_environment = environment;
        self
    }

    /// Isolate `i` of the several isolates of test runs (`ZCRM_ISOLATE_URLS`), with their own
    /// simulator (`ZCRM_ISOLATE_SIM_URL`). Nothing is reset.
    pub fn isolate(i: usize) -> Env {
        let var = |name: &str| {
            std::env::var(name)
                .unwrap_or_else(|_| panic!("{name} is not set: run with `cargo xtask test`"))
        };
        let urls = var("ZCRM_ISOLATE_URLS");
        let url = urls
            .split(',')
            .nth(i)
            .unwrap_or_else(|| panic!("no isolate {i} in ZCRM_ISOLATE_URLS={urls}"));
        Env {
            stack: Stack {
                sim: var("ZCRM_ISOLATE_SIM_URL"),
                worker: url.to_owned(),
                app: String::new(),
            },
            http: zcrm_tests::http_no_cookies(),
            worker_url: url.to_owned(),
            sim_environment: "production",
        }
    }

    pub fn worker(&self, path: &str) -> String {
        format!("{}{path}", self.worker_url)
    }

    pub async fn sim_get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}/__sim/{path}", self.stack.sim))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "GET /__sim/{path}");
        r.json().await.unwrap()
    }

    pub async fn sim_post(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/__sim/{path}", self.stack.sim))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "POST /__sim/{path}: {}",
            r.status()
        );
        r.json().await.unwrap()
    }

    /// Removes every fault from the simulator.
    pub async fn clear_faults(&self) {
        let r = self
            .http
            .delete(format!("{}/__sim/faults", self.stack.sim))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "DELETE /__sim/faults");
    }

    /// `GET /auth/start`: the authorize URL and the login cookie.
    pub async fn start(&self) -> Started {
        let r = self
            .http
            .get(self.worker("/auth/start"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FOUND);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let login = set_cookie(&r, LOGIN_COOKIE).expect("a login cookie");
        Started {
            authorize_url: location,
            login_cookie: login.value,
        }
    }

    /// Approves at the simulator as `email` (headless `sim_user`) and returns what the redirect
    /// to the app's redirect page carried.
    pub async fn approve(&self, started: &Started, email: &str) -> CallbackRequest {
        let url = format!(
            "{}&sim_user={email}&sim_environment={}",
            started.authorize_url, self.sim_environment
        );
        let r = self.http.get(url).send().await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::FOUND,
            "the simulator approves {email}"
        );
        let redirect = r.headers()["location"].to_str().unwrap().to_owned();
        let query: Vec<(String, String)> = reqwest::Url::parse(&redirect)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let get = |k: &str| {
            query
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("the redirect carries {k}: {redirect}"))
        };
        CallbackRequest {
            code: get("code"),
            state: get("state"),
            location: get("location"),
            accounts_server: get("accounts-server"),
        }
    }

    /// `POST /auth/callback` as the app's main window does it.
    pub async fn callback(&self, login_cookie: &str, body: &CallbackRequest) -> Response {
        self.http
            .post(self.worker("/auth/callback"))
            .header(CSRF_HEADER, CSRF_VALUE)
            .header("cookie", format!("{LOGIN_COOKIE}={login_cookie}"))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// The whole sign-in; returns the session cookie's value and who the Worker says we are.
    pub async fn sign_in(&self, email: &str) -> (String, SessionInfo) {
        let started = self.start().await;
        let callback = self.approve(&started, email).await;
        let r = self.callback(&started.login_cookie, &callback).await;
        assert_eq!(r.status(), 200, "sign-in of {email}");
        let session = set_cookie(&r, SESSION_COOKIE).expect("a session cookie");
        let info: SessionInfo = r.json().await.unwrap();
        (session.value, info)
    }

    pub async fn get_with_session(&self, path: &str, session: &str) -> Response {
        self.http
            .get(self.worker(path))
            .header("cookie", format!("{SESSION_COOKIE}={session}"))
            .send()
            .await
            .unwrap()
    }

    pub async fn post_with_session(&self, path: &str, session: &str) -> Response {
        self.http
            .post(self.worker(path))
            .header(CSRF_HEADER, CSRF_VALUE)
            .header("cookie", format!("{SESSION_COOKIE}={session}"))
            .send()
            .await
            .unwrap()
    }

    /// The simulator's counters for one user.
    pub async fn sim_user_stats(&self, email: &str) -> Value {
        self.sim_get("stats").await["users"][email].clone()
    }
}

/// A client address of its own (IPv6 documentation range: the pid and a counter).
pub fn new_client_address() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("2001:db8::{:x}:{n:x}", std::process::id())
}

/// An HTTP client like [`zcrm_tests::http_no_cookies`] whose requests come from `address`:
/// `CF-Connecting-IP`, which Cloudflare sets on every request and `wrangler dev` passes on as
/// sent, so the Worker's per-address limits see distinct clients.
pub fn client(address: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("cf-connecting-ip", address.parse().unwrap());
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .default_headers(headers)
        .build()
        .expect("an HTTP client")
}

/// A TCP listener that stands for "somewhere else": the test checks nobody connected.
pub struct Elsewhere {
    listener: std::net::TcpListener,
}

impl Elsewhere {
    pub fn new() -> Elsewhere {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Elsewhere { listener }
    }
    pub fn url(&self) -> String {
        format!("http://{}", self.listener.local_addr().unwrap())
    }
    pub fn assert_untouched(&self, what: &str) {
        assert!(
            self.listener.accept().is_err(),
            "{what}: the Worker connected to an address outside the data-centre table"
        );
    }
}

pub struct Started {
    pub authorize_url: String,
    pub login_cookie: String,
}

pub struct Cookie {
    pub value: String,
    pub attributes: String,
}

/// The `Set-Cookie` of `name` in a response.
pub fn set_cookie(r: &Response, name: &str) -> Option<Cookie> {
    r.headers().get_all("set-cookie").iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let (pair, attributes) = v.split_once(';').unwrap_or((v, ""));
        let (k, value) = pair.split_once('=')?;
        (k.trim() == name).then(|| Cookie {
            value: value.to_owned(),
            attributes: attributes.to_owned(),
        })
    })
}

/// Answers are checked for anything that looks like a Zoho token or the client secret.
pub fn assert_no_secrets(text: &str) {
    assert!(!text.contains("1000."), "a token leaked: {text}");
    assert!(
        !text.contains("zcrm-edge-dev-secret"),
        "the client secret leaked: {text}"
    );
}
