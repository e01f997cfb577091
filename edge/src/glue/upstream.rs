//! Calls to Zoho: `fetch` with a connect timeout (until the answer's headers) and a read timeout
//! (until its body), and nothing else. Callers choose the URL from the data-centre table only.
//! Redirects are never followed (`redirect: manual`): a 3xx would re-send the client secret, a
//! code or a token to wherever its `Location` points, so it is an upstream failure instead.

use std::time::Duration;

use futures_util::future::{Either, select};
use futures_util::pin_mut;
use worker::{
    AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, RequestRedirect,
};

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
    let request_headers = Headers::new();
    for (name, value) in headers {
        request_headers
            .set(name, value)
            .map_err(|e| UpstreamError::Network(format!("header {name}: {e}")))?;
    }
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(request_headers)
        .with_redirect(RequestRedirect::Manual);
    if let Some(body) = body {
        init.with_body(Some(body.into()));
    }
    let request = Request::new_with_init(url, &init)
        .map_err(|e| UpstreamError::Network(format!("request: {e}")))?;

    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let sending = fetch.send_with_signal(&signal);
    let connect_timeout = Delay::from(Duration::from_millis(config.connect_timeout_ms.into()));
    pin_mut!(sending, connect_timeout);
    let response = match select(sending, connect_timeout).await {
        Either::Left((Ok(response), _)) => response,
        Either::Left((Err(e), _)) => return Err(UpstreamError::Network(e.to_string())),
        Either::Right(_) => {
            controller.abort();
            return Err(UpstreamError::Timeout);
        }
    };
    let status = response.status_code();
    if (300..400).contains(&status) {
        // Its body is not read: nothing in a redirect is used.
        controller.abort();
        return Err(UpstreamError::Redirect(status));
    }
    let reading = body_text(response);
    let read_timeout = Delay::from(Duration::from_millis(config.read_timeout_ms.into()));
    pin_mut!(reading, read_timeout);
    match select(reading, read_timeout).await {
        Either::Left((Ok(body), _)) => Ok(Answer { status, body }),
        Either::Left((Err(e), _)) => Err(UpstreamError::Network(e.to_string())),
        Either::Right(_) => {
            controller.abort();
            Err(UpstreamError::Timeout)
        }
    }
}

/// The whole body as text, read by the runtime in one call. (`worker::Response::text` reads a
/// fetched body chunk by chunk through a stream reader: in a profile of the list route that was
/// a tenth of the Worker's time.)
pub(crate) async fn body_text(response: worker::Response) -> Result<String, worker::Error> {
    let response = worker::web_sys::Response::from(response);
    let text = worker::wasm_bindgen_futures::JsFuture::from(response.text()?).await?;
    text.as_string()
        .ok_or_else(|| worker::Error::RustError("the body is not text".into()))
}
