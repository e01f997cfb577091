//! Building answers: JSON bodies, the one error shape of `zcrm_api::ApiError`, and the headers
//! every answer carries.

use serde::Serialize;
use wasm_bindgen::prelude::*;
use worker::{Headers, Response, ResponseBody, js_sys, web_sys};
use zcrm_api::students::FieldError;
use zcrm_api::{ApiError, REQUEST_ID_HEADER, SignedOutReason, codes};

/// An error answer: status, a stable code from `zcrm_api::codes`, a message for people.
#[derive(Debug)]
pub struct Failure {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub fields: Vec<FieldError>,
    /// What went wrong inside, for the logs only (never sent).
    pub internal: Option<String>,
    /// Seconds, sent as `Retry-After` (a 429 or 503 that knows when to try again).
    pub retry_after: Option<u64>,
    /// Why the user is not signed in (every 401, and the refusals that keep one from signing in).
    pub reason: Option<SignedOutReason>,
}

impl Failure {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            status,
            code,
            message: message.into(),
            field: None,
            fields: Vec::new(),
            internal: None,
            retry_after: None,
            reason: None,
        }
    }

    /// The same failure, saying why the user is not signed in.
    pub fn because(self, reason: SignedOutReason) -> Failure {
        Failure {
            reason: Some(reason),
            ..self
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Failure {
        Failure::new(400, codes::INVALID_REQUEST, message)
    }

    /// No session: none was sent, or it is unknown (signed out, here or everywhere).
    pub fn unauthenticated() -> Failure {
        Failure::new(401, codes::UNAUTHENTICATED, "Sign in to continue.")
            .because(SignedOutReason::SignedOut)
    }

    /// Zoho no longer accepts the portal's access to this user's account.
    pub fn revoked_at_zoho() -> Failure {
        Failure::new(
            401,
            codes::SESSION_EXPIRED,
            "Zoho no longer accepts your sign-in. Sign in again.",
        )
        .because(SignedOutReason::RevokedAtZoho)
    }

    pub fn internal() -> Failure {
        Failure::new(
            500,
            codes::INTERNAL,
            "Something went wrong in the portal service.",
        )
    }

    pub fn upstream(message: impl Into<String>) -> Failure {
        Failure::new(502, codes::UPSTREAM, message)
    }

    pub fn response(&self) -> Response {
        let mut body = ApiError::new(self.code, self.message.clone());
        body.error.field = self.field.clone();
        body.error.fields = self.fields.clone();
        body.error.retry_after_secs = self.retry_after;
        body.error.reason = self.reason;
        let mut response = json(self.status, &body);
        if let Some(secs) = self.retry_after {
            let _ = response.headers_mut().set("retry-after", &secs.to_string());
        }
        response
    }
}

/// A worker error (KV, fetch plumbing) is our fault, not the user's: 500, details only in logs.
impl From<worker::Error> for Failure {
    fn from(e: worker::Error) -> Failure {
        Failure {
            internal: Some(e.to_string()),
            ..Failure::internal()
        }
    }
}

pub type Outcome = Result<Response, Failure>;

pub fn json<T: Serialize>(status: u16, value: &T) -> Response {
    match Response::from_json(value) {
        Ok(response) => response.with_status(status),
        Err(_) => plain_500(),
    }
}

/// A body that is JSON text already (the caller checked it), sent as it is.
pub fn json_text(status: u16, body: String) -> Response {
    let headers = Headers::new();
    match (
        headers.set("content-type", "application/json"),
        Response::ok(body),
    ) {
        (Ok(()), Ok(response)) => response.with_status(status).with_headers(headers),
        _ => plain_500(),
    }
}

pub fn empty(status: u16) -> Response {
    Response::empty().map_or_else(|_| plain_500(), |r| r.with_status(status))
}

pub fn redirect(location: &str) -> Response {
    let headers = Headers::new();
    if headers.set("location", location).is_err() {
        return plain_500();
    }
    empty(302).with_headers(headers)
}

fn plain_500() -> Response {
    Response::error("internal error", 500).unwrap_or_else(|_| Response::empty().unwrap())
}

/// The headers on every answer of `/api/*` and `/auth/*`, besides its request id.
const EVERY_ANSWER: [(&str, &str); 6] = [
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    // HTTPS only, as the app's `_headers` say (browsers ignore it on plain-HTTP loopback).
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
    // API answers are data, never documents: nothing may run, load or frame them.
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
];

thread_local! {
    /// [`EVERY_ANSWER`] as the JS array of pairs `transport.js` sets, made once per isolate.
    static EVERY_ANSWER_JS: JsValue = EVERY_ANSWER
        .iter()
        .map(|(name, value)| {
            js_sys::Array::of2(&JsValue::from_str(name), &JsValue::from_str(value))
        })
        .collect::<js_sys::Array>()
        .into();
}

/// The answer as the runtime takes it, with the headers every answer carries and its request
/// id: set and made in one call to `transport.js` (the answers of this Worker carry no web
/// socket and no `cf`, the only parts of a `worker::Response` this leaves out).
pub fn finish(response: Response, request_id: &str) -> web_sys::Response {
    let status = response.status_code();
    let body: JsValue = match response.body() {
        ResponseBody::Body(bytes) => js_sys::Uint8Array::from(bytes.as_slice()).into(),
        ResponseBody::Stream(stream) => stream.clone().into(),
        ResponseBody::Empty => JsValue::NULL,
    };
    EVERY_ANSWER_JS.with(|common| {
        transport_finish(
            status,
            &response.headers().0,
            &body,
            common,
            REQUEST_ID_HEADER,
            request_id,
        )
    })
}

#[wasm_bindgen(module = "/src/glue/transport.js")]
extern "C" {
    #[wasm_bindgen(js_name = finish)]
    fn transport_finish(
        status: u16,
        headers: &web_sys::Headers,
        body: &JsValue,
        common: &JsValue,
        id_name: &str,
        id: &str,
    ) -> web_sys::Response;
}

pub fn add_cookie(response: &mut Response, set_cookie: &str) {
    let _ = response.headers_mut().append("set-cookie", set_cookie);
}
