//! The contract between the app (browser) and the edge (Worker): request and response bodies of
//! `/api/*` and `/auth/*`, and the validation rules both sides apply. Knows nothing of Zoho's wire
//! format (that is the `zoho` crate) and does no I/O.

use serde::{Deserialize, Serialize};

/// `GET /api/health`: the Worker is up and says which build and environment it runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Always `"ok"` when the Worker answers at all.
    pub status: String,
    pub service: String,
    pub version: String,
    /// The Zoho environment this Worker is configured for (`production`, `sandbox`, `developer`).
    pub environment: String,
}

/// Every error the edge returns, whatever the route: a stable machine code and a human message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ErrorBody,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable, lower-snake-case code the app can act on (`not_found`, `unauthenticated`, ...).
    pub code: String,
    /// A sentence for people; never contains a token, code or secret.
    pub message: String,
    /// The field the error is about, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            error: ErrorBody {
                code: code.to_owned(),
                message: message.into(),
                field: None,
            },
        }
    }
}

/// The header every response of the edge carries, naming the request in the edge's logs.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
