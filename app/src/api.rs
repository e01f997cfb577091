//! Calls to the edge. Only `/api/*` and `/auth/*` on the page's own origin, never Zoho.
//!
//! Every call returns [`Failure`] on error: either the request never got an answer (network), or
//! the edge answered with an [`ApiError`] body (or something that is not one).

use leptos::prelude::window;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::js_sys::encode_uri_component;
use web_sys::{Headers, RequestInit, Response};
use zcrm_api::students::{Student, StudentInput, StudentsCount, StudentsMeta, StudentsPage};
use zcrm_api::{
    ApiError, CSRF_HEADER, CSRF_VALUE, CallbackRequest, ErrorBody, Health, SessionInfo,
    SignedOutReason, codes,
};

/// Why a call failed.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// No answer: offline, the edge is down, the request was cut.
    Network,
    /// The edge answered with an error status.
    Api { status: u16, error: ErrorBody },
}

impl Failure {
    /// The session is gone (any 401): the app goes back to sign-in.
    pub fn is_unauthenticated(&self) -> bool {
        matches!(self, Failure::Api { status: 401, .. })
    }

    /// Why the user is not signed in, when the edge says (every 401 does; so do the refusals
    /// that keep one from signing in), with how long to wait when that is known.
    pub fn signed_out(&self) -> Option<(SignedOutReason, Option<u64>)> {
        match self {
            Failure::Api { error, .. } => error.reason.map(|r| (r, error.retry_after_secs)),
            Failure::Network => None,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            Failure::Network => "network",
            Failure::Api { error, .. } => &error.code,
        }
    }

    /// A sentence for people.
    pub fn message(&self) -> String {
        match self {
            Failure::Network => {
                "The portal service could not be reached. Check your connection and try again."
                    .to_owned()
            }
            Failure::Api { error, .. } if error.code == codes::UPSTREAM_TIMEOUT => {
                "Zoho CRM did not answer in time. Try again in a moment.".to_owned()
            }
            // The Worker's message says how long to wait, when it knows.
            Failure::Api { error, .. }
                if error.code == codes::RATE_LIMITED && error.retry_after_secs.is_none() =>
            {
                "Too many requests right now. Wait a moment and try again.".to_owned()
            }
            Failure::Api { error, .. } if !error.message.is_empty() => error.message.clone(),
            Failure::Api { status, .. } => format!("The portal service failed (HTTP {status})."),
        }
    }
}

/// The one place that talks to the network: `fetch` on the page's own origin, the whole body
/// read as text. Not generic, so every call shares it (JSON is parsed by the small [`json`]).
/// Written on `web_sys` directly: an HTTP client crate would bring streams and I/O code the
/// app never uses into the Wasm.
async fn send(
    method: &str,
    url: &str,
    body: Option<String>,
    idempotency_key: Option<&str>,
) -> Result<String, Failure> {
    let (status, body) = fetch(method, url, body, idempotency_key)
        .await
        .map_err(|_| Failure::Network)?;
    if (200..300).contains(&status) {
        return Ok(body);
    }
    let error = match serde_json::from_str::<ApiError>(&body) {
        Ok(e) => e.error,
        Err(_) => ErrorBody {
            code: if status == 401 {
                codes::UNAUTHENTICATED.to_owned()
            } else {
                format!("http_{status}")
            },
            message: String::new(),
            field: None,
            fields: Vec::new(),
            retry_after_secs: None,
            reason: (status == 401).then_some(SignedOutReason::SignedOut),
        },
    };
    Err(Failure::Api { status, error })
}

async fn fetch(
    method: &str,
    url: &str,
    body: Option<String>,
    idempotency_key: Option<&str>,
) -> Result<(u16, String), JsValue> {
    let headers = Headers::new()?;
    if method != "GET" {
        headers.set(CSRF_HEADER, CSRF_VALUE)?;
    }
    if let Some(key) = idempotency_key {
        headers.set("idempotency-key", key)?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        headers.set("content-type", "application/json")?;
        init.set_body(&JsValue::from_str(&body));
    }
    init.set_headers(&headers);
    let response: Response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await?
        .dyn_into()?;
    let text = JsFuture::from(response.text()?).await?;
    Ok((response.status(), text.as_string().unwrap_or_default()))
}

async fn json<T: DeserializeOwned>(
    method: &str,
    url: &str,
    body: Option<String>,
    idempotency_key: Option<&str>,
) -> Result<T, Failure> {
    let body = send(method, url, body, idempotency_key).await?;
    serde_json::from_str(&body).map_err(|_| Failure::Api {
        status: 200,
        error: ErrorBody {
            code: codes::UPSTREAM.to_owned(),
            message: "The portal service answered something unexpected.".to_owned(),
            field: None,
            fields: Vec::new(),
            retry_after_secs: None,
            reason: None,
        },
    })
}

fn to_json(value: &impl Serialize) -> Option<String> {
    serde_json::to_string(value).ok()
}

pub async fn health() -> Result<Health, Failure> {
    json("GET", "/api/health", None, None).await
}

pub async fn session() -> Result<SessionInfo, Failure> {
    json("GET", "/api/session", None, None).await
}

pub async fn callback(request: &CallbackRequest) -> Result<SessionInfo, Failure> {
    json("POST", "/auth/callback", to_json(request), None).await
}

pub async fn logout(everywhere: bool) -> Result<(), Failure> {
    let url = if everywhere {
        "/auth/logout?everywhere=1"
    } else {
        "/auth/logout"
    };
    send("POST", url, None, None).await.map(drop)
}

/// A page of the list `query` names (`page`, `q`, `course`, `sort`, `order`, encoded).
pub async fn students(per_page: u32, query: &str) -> Result<StudentsPage, Failure> {
    let url = format!("/api/students?per_page={per_page}&{query}");
    json("GET", &url, None, None).await
}

/// How many students the list has with `query`'s search and course (`q`, `course`, encoded).
pub async fn students_count(query: &str) -> Result<StudentsCount, Failure> {
    json("GET", &format!("/api/students/count?{query}"), None, None).await
}

/// A query parameter's value, percent-encoded.
pub fn encode(value: &str) -> String {
    encode_uri_component(value).into()
}

pub async fn students_meta() -> Result<StudentsMeta, Failure> {
    json("GET", "/api/students/meta", None, None).await
}

pub async fn create_student(
    input: &StudentInput,
    idempotency_key: &str,
) -> Result<Student, Failure> {
    json(
        "POST",
        "/api/students",
        to_json(input),
        Some(idempotency_key),
    )
    .await
}

pub async fn update_student(id: &str, input: &StudentInput) -> Result<Student, Failure> {
    let url = format!("/api/students/{}", path_segment(id));
    json("PUT", &url, to_json(input), None).await
}

pub async fn delete_student(id: &str) -> Result<(), Failure> {
    let url = format!("/api/students/{}", path_segment(id));
    send("DELETE", &url, None, None).await.map(drop)
}

/// Ids are Zoho's digit strings; anything else is percent-encoded rather than trusted in a path.
fn path_segment(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
