//! The native transport: the one place that opens sockets. The `zoho` crate builds every request
//! and reads every answer; this sends them (reqwest, rustls) with timeouts, never follows
//! redirects, and retries only what is safe to retry:
//! - reads (GET) after a dropped connection or a 500/502/503/504, twice, with the Worker's
//!   back-off ([`zcrm_edge::retry`]);
//! - any call answered 429: Zoho refused it before doing anything ("concurrency limit exceeded",
//!   <https://www.zoho.com/crm/developer/docs/api/v8/api-limits.html>), so it is sent again
//!   after a pause, three times at most.

use std::time::Duration;

use zcrm_edge::retry::{Attempt, pause_before_retry};
use zoho::crm::authorization_header;
use zoho::secret::AccessToken;

use crate::error::{Error, Result};

/// The largest answer read (an export page of 200 records is well under 1 MiB).
const MAX_BODY: usize = 32 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const TIMEOUT: Duration = Duration::from_secs(60);
const TOO_MANY_PAUSES_MS: [u64; 3] = [500, 1_000, 2_000];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    fn reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

/// An answer: status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// A body and its content type.
pub enum Body {
    Form(String),
    Json(String),
}

pub struct Http {
    client: reqwest::Client,
}

impl Http {
    /// `https_only` everywhere but the simulator.
    pub fn new(https_only: bool) -> Result<Http> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TIMEOUT)
            .https_only(https_only)
            .user_agent(concat!("zcrm/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::failure(format!("Cannot set up HTTPS: {e}")))?;
        Ok(Http { client })
    }

    /// Sends a request, retrying as described above.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        token: Option<&AccessToken>,
        body: Option<&Body>,
    ) -> Result<Answer> {
        let mut attempt = 0;
        let mut too_many = 0;
        loop {
            let outcome = self.once(method, url, token, body).await;
            let status = match &outcome {
                Ok(a) => Attempt::Status(a.status),
                Err(Failed::Network(_)) => Attempt::Network,
                Err(Failed::Timeout) => Attempt::Timeout,
                Err(Failed::Other(_)) => Attempt::Timeout,
            };
            if let Ok(a) = &outcome
                && a.status == 429
                && let Some(&pause) = TOO_MANY_PAUSES_MS.get(too_many)
            {
                too_many += 1;
                tokio::time::sleep(Duration::from_millis(pause)).await;
                continue;
            }
            match pause_before_retry(method == Method::Get, status, attempt) {
                Some(pause) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
                None => return outcome.map_err(|f| f.into_error(url)),
            }
        }
    }

    async fn once(
        &self,
        method: Method,
        url: &str,
        token: Option<&AccessToken>,
        body: Option<&Body>,
    ) -> std::result::Result<Answer, Failed> {
        let mut request = self.client.request(method.reqwest(), url);
        if let Some(token) = token {
            request = request.header("authorization", authorization_header(token));
        }
        request = match body {
            Some(Body::Form(b)) => request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(b.clone()),
            Some(Body::Json(b)) => request
                .header("content-type", "application/json")
                .body(b.clone()),
            None => request,
        };
        let mut response = request.send().await.map_err(Failed::of)?;
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(Failed::of)? {
            if bytes.len() + chunk.len() > MAX_BODY {
                return Err(Failed::Other("the answer is too large"));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }
}

enum Failed {
    Network(String),
    Timeout,
    Other(&'static str),
}

impl Failed {
    fn of(e: reqwest::Error) -> Failed {
        if e.is_timeout() {
            Failed::Timeout
        } else if e.is_connect() {
            Failed::Network("could not connect".to_owned())
        } else {
            // reqwest's text names the URL; only the kind of failure is kept.
            Failed::Network("the connection failed".to_owned())
        }
    }

    fn into_error(self, url: &str) -> Error {
        let host = origin(url);
        Error::failure(match self {
            Failed::Network(what) => format!("Zoho at {host}: {what}."),
            Failed::Timeout => format!("Zoho at {host} did not answer in time."),
            Failed::Other(what) => format!("Zoho at {host}: {what}."),
        })
    }
}

/// `scheme://host[:port]` of a URL (never its path or query).
pub fn origin(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url[after..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after + i);
    &url[..end]
}
