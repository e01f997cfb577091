//! Calls to the edge. Only `/api/*` and `/auth/*` on the page's own origin, never Zoho.
//!
//! Every call returns [`Failure`] on error: either the request never got an answer (network), or
//! the edge answered with an [`ApiError`] body (or something that is not one).

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use zcrm_api::students::{Student, StudentInput, StudentsMeta, StudentsPage};
use zcrm_api::{
    ApiError, CSRF_HEADER, CSRF_VALUE, CallbackRequest, ErrorBody, Health, SessionInfo, codes,
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
            Failure::Api { error, .. } if error.code == codes::RATE_LIMITED => {
                "Too many requests right now. Wait a moment and try again.".to_owned()
            }
            Failure::Api { error, .. } if !error.message.is_empty() => error.message.clone(),
            Failure::Api { status, .. } => format!("The portal service failed (HTTP {status})."),
        }
    }
}

async fn send(builder: Result<Request, gloo_net::Error>) -> Result<Response, Failure> {
    let request = builder.map_err(|_| Failure::Network)?;
    let response = request.send().await.map_err(|_| Failure::Network)?;
    if response.ok() {
        Ok(response)
    } else {
        let status = response.status();
        let error = match response.json::<ApiError>().await {
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
            },
        };
        Err(Failure::Api { status, error })
    }
}

async fn json<T: DeserializeOwned>(
    builder: Result<Request, gloo_net::Error>,
) -> Result<T, Failure> {
    let response = send(builder).await?;
    response.json::<T>().await.map_err(|_| Failure::Api {
        status: response.status(),
        error: ErrorBody {
            code: codes::UPSTREAM.to_owned(),
            message: "The portal service answered something unexpected.".to_owned(),
            field: None,
            fields: Vec::new(),
        },
    })
}

/// A state-changing request: carries the CSRF header.
fn write(builder: RequestBuilder) -> RequestBuilder {
    builder.header(CSRF_HEADER, CSRF_VALUE)
}

pub async fn health() -> Result<Health, Failure> {
    json(Request::get("/api/health").build()).await
}

pub async fn session() -> Result<SessionInfo, Failure> {
    json(Request::get("/api/session").build()).await
}

pub async fn callback(request: &CallbackRequest) -> Result<SessionInfo, Failure> {
    json(write(Request::post("/auth/callback")).json(request)).await
}

pub async fn logout(everywhere: bool) -> Result<(), Failure> {
    let url = if everywhere {
        "/auth/logout?everywhere=1"
    } else {
        "/auth/logout"
    };
    send(write(Request::post(url)).build()).await.map(drop)
}

pub async fn students(page: u32, per_page: u32, q: &str) -> Result<StudentsPage, Failure> {
    let page = page.to_string();
    let per_page = per_page.to_string();
    let mut params = vec![("page", page.as_str()), ("per_page", per_page.as_str())];
    if !q.is_empty() {
        params.push(("q", q));
    }
    json(Request::get("/api/students").query(params).build()).await
}

pub async fn students_meta() -> Result<StudentsMeta, Failure> {
    json(Request::get("/api/students/meta").build()).await
}

pub async fn create_student(
    input: &StudentInput,
    idempotency_key: &str,
) -> Result<Student, Failure> {
    json(
        write(Request::post("/api/students"))
            .header("idempotency-key", idempotency_key)
            .json(input),
    )
    .await
}

pub async fn update_student(id: &str, input: &StudentInput) -> Result<Student, Failure> {
    json(write(Request::put(&format!("/api/students/{}", path_segment(id)))).json(input)).await
}

pub async fn delete_student(id: &str) -> Result<(), Failure> {
    send(
        write(Request::delete(&format!(
            "/api/students/{}",
            path_segment(id)
        )))
        .build(),
    )
    .await
    .map(drop)
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
