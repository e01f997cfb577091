//! Calls to Zoho: `fetch` with a connect timeout (until the answer's headers) and a read timeout
//! (until its body), and nothing else. Callers choose the URL from the data-centre table only.
//! Redirects are never followed (`redirect: manual`): a 3xx would re-send the client secret, a
//! code or a token to wherever its `Location` points, so it is an upstream failure instead.
//! The call and its timeouts run in one promise of `transport.js`.

use wasm_bindgen::prelude::*;
use worker::js_sys::{self, Promise};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Method, web_sys};

use crate::config::Config;

#[derive(Debug)]
pub enum UpstreamError {
    Timeout,
    /// The connection failed (refused, reset, DNS). The detail is for logs only.
    Network(String),
    /// Zoho answered with a redirect (this status), which is not followed.
    Redirect(u16),
}

impl UpstreamError {
    pub fn describe(&self) -> String {
        match self {
            UpstreamError::Timeout => "timeout".into(),
            UpstreamError::Network(detail) => format!("network: {detail}"),
            UpstreamError::Redirect(status) => format!("redirect {status} not followed"),
        }
    }
}

/// An answer: status and body text (Zoho sometimes omits the content type: never rely on it).
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// `POST {accounts server of dc}{path}` with a form body, as Zoho's SDK sends token calls. The
/// accounts server comes from the data-centre table, never from input.
pub async fn accounts_post(
    config: &Config,
    dc: zoho::DataCenter,
    path: &str,
    form_body: String,
) -> Result<Answer, UpstreamError> {
    let url = format!("{}{path}", config.endpoints.accounts_server(dc));
    send(
        config,
        Method::Post,
        &url,
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(form_body),
    )
    .await
}

pub async fn send(
    config: &Config,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Result<Answer, UpstreamError> {
    // web-sys's own `RequestInit` and one promise (`transport.js`): workers-rs's `Fetch` would
    // construct the request twice (`new Request`, then `fetch` with a second init for the
    // signal), rebuild the answer around its body's stream before reading it, and each of its
    // awaits and timers crosses between Wasm and JS with closures of its own.
    let request_headers =
        web_sys::Headers::new().map_err(|e| UpstreamError::Network(format!("headers: {e:?}")))?;
    for (name, value) in headers {
        request_headers
            .set(name, value)
            .map_err(|_| UpstreamError::Network(format!("header {name}")))?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(method.as_ref());
    init.set_headers(&request_headers);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if let Some(body) = body {
        init.set_body(&JsValue::from(body));
    }
    let outcome = JsFuture::from(fetch_text(
        url,
        &init,
        config.connect_timeout_ms,
        config.read_timeout_ms,
    ))
    .await
    .map_err(|e| UpstreamError::Network(worker::Error::from(e).to_string()))?;
    let outcome: js_sys::Array = outcome.unchecked_into();
    let status = outcome.get(1).as_f64().unwrap_or(0.0) as u16;
    match outcome.get(0).as_f64() {
        Some(0.0) => Ok(Answer {
            status,
            body: outcome.get(2).as_string().unwrap_or_default(),
        }),
        Some(1.0) => Err(UpstreamError::Timeout),
        _ => Err(UpstreamError::Redirect(status)),
    }
}

#[wasm_bindgen(module = "/src/glue/transport.js")]
extern "C" {
    /// `[0, status, text]`, `[1]` for a timeout, `[2, status]` for a redirect; rejects when the
    /// connection fails.
    #[wasm_bindgen(js_name = fetchText)]
    fn fetch_text(url: &str, init: &web_sys::RequestInit, connect_ms: u32, read_ms: u32)
    -> Promise;
}
