//! Calls to the edge. Only `/api/*` and `/auth/*` on the page's own origin, never Zoho.
//!
//! Every call returns [`Failure`] on error: either the request never got an answer (network), or
//! the edge answered with an [`ApiError`] body (or something that is not one).

use std::cell::RefCell;

use gloo_net::http::{Method, RequestBuilder, Response};
use leptos::prelude::window;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::js_sys::{Date, Promise, encode_uri_component};
use zcrm_api::students::{
    BulkOutcomes, BulkRequest, Student, StudentInput, StudentsCount, StudentsMeta, StudentsPage,
};
use zcrm_api::{
    ApiError, CSRF_HEADER, CSRF_VALUE, CallbackRequest, ErrorBody, Health, IDEMPOTENCY_HEADER,
    SessionInfo, SignedOutReason, codes,
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

    /// Signed out, for no reason worth telling: what a session check answers where there is no
    /// session (and what the app assumes without asking when there is no session hint).
    pub fn signed_out_here() -> Failure {
        Failure::Api {
            status: 401,
            error: ErrorBody {
                code: codes::UNAUTHENTICATED.to_owned(),
                message: String::new(),
                field: None,
                fields: Vec::new(),
                retry_after_secs: None,
                reason: Some(SignedOutReason::SignedOut),
            },
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

/// The one place that talks to the network: gloo-net's `fetch` on the page's own origin. Not
/// generic, so every call shares it. Bodies are JSON for the browser to read and write
/// (`Response.json()`, `JSON.stringify`), handed to and from Rust types by serde-wasm-bindgen:
/// the app carries no JSON parser of its own (README, Performance).
async fn send(
    method: Method,
    url: &str,
    body: Option<JsValue>,
    idempotency_key: Option<&str>,
) -> Result<JsValue, Failure> {
    let early = (method == Method::GET).then(|| take_early(url)).flatten();
    let response: web_sys::Response = match early {
        Some(promise) => JsFuture::from(promise)
            .await
            .map_err(|_| Failure::Network)?
            .into(),
        None => fetch(method, url, body, idempotency_key)
            .await
            .map_err(|_| Failure::Network)?
            .into(),
    };
    let status = response.status();
    // An empty body (204) or one that is not JSON reads as `undefined`.
    let body = match response.json() {
        Ok(promise) => JsFuture::from(promise).await.unwrap_or(JsValue::UNDEFINED),
        Err(_) => JsValue::UNDEFINED,
    };
    if (200..300).contains(&status) {
        return Ok(body);
    }
    Err(match serde_wasm_bindgen::from_value::<ApiError>(body) {
        Ok(e) => Failure::Api {
            status,
            error: e.error,
        },
        // A 401 without the Worker's body (a proxy's): signed out all the same.
        Err(_) if status == 401 => Failure::signed_out_here(),
        Err(_) => Failure::Api {
            status,
            error: ErrorBody {
                code: format!("http_{status}"),
                message: String::new(),
                field: None,
                fields: Vec::new(),
                retry_after_secs: None,
                reason: None,
            },
        },
    })
}

/// How long an early answer waits to be taken: it is asked for beside the session check and
/// taken a moment later, or not at all (and then not trusted later).
const EARLY_FOR_MS: f64 = 10_000.0;

thread_local! {
    /// GETs started before anything asks for them ([`early`]): the URL, when, the `fetch`.
    static EARLY: RefCell<Vec<(String, f64, Promise)>> = const { RefCell::new(Vec::new()) };
}

/// Starts `GET url` now: the first call for the same URL within [`EARLY_FOR_MS`] takes its
/// answer instead of asking again. For the calls a signed-in first screen makes anyway, asked
/// beside the session check rather than after it and after the screen's chunk.
pub fn early(url: String) {
    let promise = window().fetch_with_str(&url);
    EARLY.with(|e| e.borrow_mut().push((url, Date::now(), promise)));
}

/// Forgets the early answers nobody took (the session check said signed out).
pub fn forget_early() {
    EARLY.with(|e| e.borrow_mut().clear());
}

/// The early `fetch` of `url`, if one is young enough (older ones are dropped).
fn take_early(url: &str) -> Option<Promise> {
    let now = Date::now();
    EARLY.with(|e| {
        let mut early = e.borrow_mut();
        early.retain(|(_, at, _)| now - at <= EARLY_FOR_MS);
        let i = early.iter().position(|(u, _, _)| u == url)?;
        Some(early.swap_remove(i).2)
    })
}

async fn fetch(
    method: Method,
    url: &str,
    body: Option<JsValue>,
    idempotency_key: Option<&str>,
) -> Result<Response, gloo_net::Error> {
    let mut request = RequestBuilder::new(url).method(method.clone());
    if method != Method::GET {
        request = request.header(CSRF_HEADER, CSRF_VALUE);
    }
    if let Some(key) = idempotency_key {
        request = request.header(IDEMPOTENCY_HEADER, key);
    }
    match body {
        Some(body) => {
            request
                .header("content-type", "application/json")
                .body(body)?
                .send()
                .await
        }
        None => request.send().await,
    }
}

async fn json<T: DeserializeOwned>(
    method: Method,
    url: &str,
    body: Option<JsValue>,
    idempotency_key: Option<&str>,
) -> Result<T, Failure> {
    let body = send(method, url, body, idempotency_key).await?;
    serde_wasm_bindgen::from_value(body).map_err(|_| Failure::Api {
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

/// `value` as JSON text (a JS string), written by the browser's `JSON.stringify`. Maps become
/// plain objects, as serde_json would write them.
fn to_json(value: &impl Serialize) -> Option<JsValue> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let value = value.serialize(&serializer).ok()?;
    web_sys::js_sys::JSON::stringify(&value)
        .ok()
        .map(Into::into)
}

pub async fn health() -> Result<Health, Failure> {
    json(Method::GET, "/api/health", None, None).await
}

pub async fn session() -> Result<SessionInfo, Failure> {
    json(Method::GET, "/api/session", None, None).await
}

pub async fn callback(request: &CallbackRequest) -> Result<SessionInfo, Failure> {
    json(Method::POST, "/auth/callback", to_json(request), None).await
}

pub async fn logout(everywhere: bool) -> Result<(), Failure> {
    let url = if everywhere {
        "/auth/logout?everywhere=1"
    } else {
        "/auth/logout"
    };
    send(Method::POST, url, None, None).await.map(drop)
}

/// The URL of a page of the list `query` names (`page`, `q`, `course`, `sort`, `order`, encoded).
pub fn students_url(per_page: u32, query: &str) -> String {
    format!("/api/students?per_page={per_page}&{query}")
}

pub async fn students(per_page: u32, query: &str) -> Result<StudentsPage, Failure> {
    json(Method::GET, &students_url(per_page, query), None, None).await
}

/// The URL of how many students the list has with `query`'s search and course (`q`, `course`,
/// encoded).
pub fn students_count_url(query: &str) -> String {
    format!("/api/students/count?{query}")
}

pub async fn students_count(query: &str) -> Result<StudentsCount, Failure> {
    json(Method::GET, &students_count_url(query), None, None).await
}

/// A query parameter's value, percent-encoded.
pub fn encode(value: &str) -> String {
    encode_uri_component(value).into()
}

pub const STUDENTS_META_URL: &str = "/api/students/meta";

pub async fn students_meta() -> Result<StudentsMeta, Failure> {
    json(Method::GET, STUDENTS_META_URL, None, None).await
}

pub async fn create_student(
    input: &StudentInput,
    idempotency_key: &str,
) -> Result<Student, Failure> {
    json(
        Method::POST,
        "/api/students",
        to_json(input),
        Some(idempotency_key),
    )
    .await
}

/// Up to `MAX_BULK` students with one Zoho insert: what became of each.
pub async fn import_students(request: &BulkRequest) -> Result<BulkOutcomes, Failure> {
    json(Method::POST, "/api/students/bulk", to_json(request), None).await
}

pub async fn update_student(id: &str, input: &StudentInput) -> Result<Student, Failure> {
    let url = format!("/api/students/{}", path_segment(id));
    json(Method::PUT, &url, to_json(input), None).await
}

pub async fn delete_student(id: &str) -> Result<(), Failure> {
    let url = format!("/api/students/{}", path_segment(id));
    send(Method::DELETE, &url, None, None).await.map(drop)
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
