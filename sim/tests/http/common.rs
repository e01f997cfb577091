//! Starting the simulator in-process and talking to it.

use reqwest::{Client, Method};
use serde_json::{Value, json};
use zoho_sim::{Config, SimHandle};

pub const CLIENT_ID: &str = "1000.ZCRMEDGEDEV";
pub const SECRET: &str = "zcrm-edge-dev-secret";
pub const REDIRECT: &str = "http://127.0.0.1:8080/redirect.html";
pub const ALL_SCOPES: &str = "ZohoCRM.modules.ALL,ZohoCRM.settings.fields.ALL,ZohoCRM.settings.modules.READ,ZohoCRM.users.READ,ZohoCRM.org.READ";

pub const ADMIN_A: &str = "admin@zylker-academy.example";
pub const COORD_A: &str = "coordinator@zylker-academy.example";
pub const ADMIN_B: &str = "admin@northwind-college.example";
pub const ADMIN_EU: &str = "admin@eurotech-institute.example";
pub const ADMIN_IN: &str = "admin@bharat-learning.example";
pub const ADMIN_BULK: &str = "admin@bulk-university.example";

pub struct Sim {
    handle: Option<SimHandle>,
    pub base: String,
    pub http: Client,
}

/// The answer of a call: status, content type, raw body, JSON body (if any).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub text: String,
    pub json: Value,
}

pub struct Tokens {
    pub access: String,
    pub refresh: Option<String>,
    pub api_domain: String,
    pub body: Value,
}

pub async fn start() -> Sim {
    start_with(Config::default()).await
}

pub async fn start_with(cfg: Config) -> Sim {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = zoho_sim::spawn(listener, cfg).unwrap();
    let base = handle.base_url();
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Sim {
        handle: Some(handle),
        base,
        http,
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            drop(h);
        }
    }
}

pub async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let location = resp
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = resp.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        content_type,
        location,
        text,
        json,
    }
}

/// Query parameters of a URL.
pub fn query_of(url: &str) -> Vec<(String, String)> {
    zoho::form::parse(url.split_once('?').map(|x| x.1).unwrap_or(""))
}

pub fn param(url: &str, k: &str) -> Option<String> {
    query_of(url)
        .into_iter()
        .find(|(a, _)| a == k)
        .map(|(_, v)| v)
}

impl Sim {
    pub fn accounts(&self, dc: &str) -> String {
        format!("{}/{dc}/accounts", self.base)
    }

    pub fn auth_url(&self, extra: &[(&str, &str)]) -> String {
        let mut p = vec![
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", ALL_SCOPES),
            ("access_type", "offline"),
            ("state", "st-1"),
        ];
        for (k, v) in extra {
            p.retain(|(a, _)| a != k);
            p.push((k, v));
        }
        format!(
            "{}/oauth/v2/auth?{}",
            self.accounts("us"),
            zoho::form::build(p)
        )
    }

    pub async fn get_url(&self, url: &str) -> Answer {
        answer(self.http.get(url).send().await.unwrap()).await
    }

    /// Runs the sign-in redirect with `sim_user` and answers the redirect's URL.
    pub async fn authorize(&self, extra: &[(&str, &str)]) -> Answer {
        self.get_url(&self.auth_url(extra)).await
    }

    /// A code for `email` through the authorize endpoint; answers (code, location).
    pub async fn code_for(&self, email: &str, extra: &[(&str, &str)]) -> (String, String) {
        let mut e = vec![("sim_user", email)];
        e.extend_from_slice(extra);
        let a = self.authorize(&e).await;
        assert_eq!(a.status, 302, "{}", a.text);
        let loc = a.location.unwrap();
        (
            param(&loc, "code").unwrap(),
            param(&loc, "location").unwrap(),
        )
    }

    pub async fn token(&self, dc: &str, params: &[(&str, &str)]) -> Answer {
        answer(
            self.http
                .post(format!("{}/oauth/v2/token", self.accounts(dc)))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(zoho::form::build(params.iter().copied()))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn exchange(&self, dc: &str, code: &str) -> Answer {
        self.token(
            dc,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("redirect_uri", REDIRECT),
                ("code", code),
            ],
        )
        .await
    }

    pub async fn refresh(&self, dc: &str, refresh: &str) -> Answer {
        self.token(
            dc,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("refresh_token", refresh),
            ],
        )
        .await
    }

    /// Signs `email` in through the redirect chain (offline, all scopes).
    pub async fn sign_in(&self, email: &str) -> Tokens {
        self.sign_in_with(email, &[]).await
    }

    pub async fn sign_in_with(&self, email: &str, extra: &[(&str, &str)]) -> Tokens {
        let (code, loc) = self.code_for(email, extra).await;
        let a = self.exchange(&loc, &code).await;
        assert_eq!(a.status, 200);
        assert!(a.json.get("error").is_none(), "{}", a.text);
        tokens(a.json)
    }

    /// Signs in through a Self Client grant (always a refresh token).
    pub async fn self_client(&self, email: &str, scope: &str, env: &str) -> Tokens {
        let g = self
            .control(
                Method::POST,
                "grant",
                json!({"client_id": CLIENT_ID, "email": email, "scope": scope, "environment": env, "access_type": "offline"}),
            )
            .await;
        assert_eq!(g.status, 200, "{}", g.text);
        let code = g.json["code"].as_str().unwrap().to_owned();
        let loc = g.json["location"].as_str().unwrap().to_owned();
        let a = self
            .token(
                &loc,
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", CLIENT_ID),
                    ("client_secret", SECRET),
                    ("code", &code),
                ],
            )
            .await;
        assert!(a.json.get("access_token").is_some(), "{}", a.text);
        tokens(a.json)
    }

    pub async fn control(&self, method: Method, path: &str, body: Value) -> Answer {
        let mut r = self
            .http
            .request(method, format!("{}/__sim/{path}", self.base));
        if !body.is_null() {
            r = r.json(&body);
        }
        answer(r.send().await.unwrap()).await
    }

    pub async fn advance(&self, secs: i64) {
        let a = self
            .control(Method::POST, "clock", json!({"advance_secs": secs}))
            .await;
        assert_eq!(a.status, 200);
    }

    pub async fn limits(&self, body: Value) {
        let a = self.control(Method::POST, "limits", body).await;
        assert_eq!(a.status, 200, "{}", a.text);
    }

    pub async fn stats(&self) -> Value {
        self.control(Method::GET, "stats", Value::Null).await.json
    }

    /// A CRM call: `path` is under `{api_domain}/crm/v8/`.
    pub async fn crm(&self, method: Method, t: &Tokens, path: &str, body: Option<Value>) -> Answer {
        self.crm_raw(method, &t.api_domain, Some(&t.access), path, body)
            .await
    }

    /// Each `(method, path, status, code)`, sent without a body, is answered with that error.
    pub async fn expect_errors(&self, t: &Tokens, cases: &[(Method, &str, u16, &str)]) {
        for (method, path, status, code) in cases {
            let a = self.crm(method.clone(), t, path, None).await;
            assert_eq!(
                (a.status, a.json["code"].as_str()),
                (*status, Some(*code)),
                "{method} {path}: {}",
                a.text
            );
            assert_error(&a, *status, code);
        }
    }

    pub async fn crm_raw(
        &self,
        method: Method,
        api_domain: &str,
        token: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut r = self
            .http
            .request(method, format!("{api_domain}/crm/v8/{path}"));
        if let Some(t) = token {
            r = r.header("Authorization", format!("Zoho-oauthtoken {t}"));
        }
        if let Some(b) = body {
            // Like Zoho's SDKs sometimes do: no Content-Type at all.
            r = r.body(b.to_string());
        }
        answer(r.send().await.unwrap()).await
    }
}

pub fn tokens(v: Value) -> Tokens {
    Tokens {
        access: v["access_token"].as_str().unwrap().to_owned(),
        refresh: v["refresh_token"].as_str().map(str::to_owned),
        api_domain: v["api_domain"].as_str().unwrap().to_owned(),
        body: v,
    }
}

pub fn assert_error(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(a.json["code"], code, "{}", a.text);
    assert_eq!(a.json["status"], "error", "{}", a.text);
    assert!(a.json["details"].is_object(), "{}", a.text);
    assert!(a.json["message"].is_string(), "{}", a.text);
}

pub fn assert_token_error(a: &Answer, error: &str) {
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json, json!({ "error": error }), "{}", a.text);
}
