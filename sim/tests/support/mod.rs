//! What the fidelity suites (`official_sdk.rs`, `conformance.rs`) share: the in-process
//! simulator, a small CRM client signed in with a Self Client grant, and the tools xtask installs.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::path::PathBuf;

pub const CLIENT_ID: &str = "1000.ZCRMEDGEDEV";
pub const SECRET: &str = "zcrm-edge-dev-secret";
pub const SCOPES: &str =
    "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ";

/// The simulator in-process on an ephemeral loopback port.
pub async fn start() -> (zoho_sim::SimHandle, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = zoho_sim::spawn(listener, zoho_sim::Config::default()).unwrap();
    let base = handle.base_url();
    (handle, base)
}

/// A tool's path from the environment `cargo xtask fidelity` sets, or a failure saying so.
pub fn tool_path(var: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => panic!(
            "{var} is not set: this suite needs the tools `cargo xtask tools` installs; \
             run it with `cargo xtask fidelity` (or `cargo xtask test`)"
        ),
    }
}

/// A progress line on the real stderr (the test harness does not capture it).
pub fn progress(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    zoho::pkce::sha256(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A control call (`/__sim/...`).
pub async fn control(base: &str, method: reqwest::Method, path: &str, body: Value) -> Value {
    let mut request = reqwest::Client::new().request(method, format!("{base}/__sim/{path}"));
    if !body.is_null() {
        request = request.json(&body);
    }
    request.send().await.unwrap().json().await.unwrap()
}

/// An answer, as recorded.
#[derive(Debug, Clone)]
pub struct Call {
    pub status: u16,
    pub content_type: Option<String>,
    pub text: String,
    pub json: Value,
}

/// A CRM client of one user: an access token for the user's API domain.
pub struct Client {
    http: reqwest::Client,
    pub api_domain: String,
    token: String,
}

impl Client {
    /// Signs `email` in as a Self Client would: a grant code from `/__sim/grant`, exchanged at
    /// the user's accounts server.
    pub async fn sign_in(base: &str, email: &str, scope: &str) -> Client {
        let grant = control(
            base,
            reqwest::Method::POST,
            "grant",
            json!({"email": email, "scope": scope}),
        )
        .await;
        let code = grant["code"].as_str().expect("a grant code");
        let accounts = grant["accounts_server"].as_str().expect("accounts_server");
        let http = reqwest::Client::new();
        let tokens: Value = http
            .post(format!("{accounts}/oauth/v2/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("code", code),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = tokens["access_token"].as_str().expect("an access token");
        let api_domain = tokens["api_domain"].as_str().expect("api_domain");
        Client {
            http,
            api_domain: api_domain.to_owned(),
            token: token.to_owned(),
        }
    }

    /// A client of `api_domain` sending `token` (an invalid one, for the errors).
    pub fn with_token(api_domain: &str, token: &str) -> Client {
        Client {
            http: reqwest::Client::new(),
            api_domain: api_domain.to_owned(),
            token: token.to_owned(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/crm/v8/{path}", self.api_domain)
    }

    async fn run(&self, request: reqwest::RequestBuilder) -> Call {
        let resp = request
            .header("Authorization", format!("Zoho-oauthtoken {}", self.token))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        let text = resp.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Call {
            status,
            content_type,
            text,
            json,
        }
    }

    pub async fn get(&self, path: &str) -> Call {
        self.run(self.http.get(self.url(path))).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Call {
        let mut request = self.http.get(self.url(path));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.run(request).await
    }

    pub async fn send(&self, method: &str, path: &str, body: &Value) -> Call {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        self.run(self.http.request(method, self.url(path)).json(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Call {
        self.run(self.http.delete(self.url(path))).await
    }
}
