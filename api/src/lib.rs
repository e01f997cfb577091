//! The contract between the app (browser) and the edge (Worker): request and response bodies of
//! `/api/*` and `/auth/*`, and the validation rules both sides apply. Knows nothing of Zoho's wire
//! format (that is the `zoho` crate) and does no I/O.

pub mod csv;
pub mod students;

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
    /// Every field that failed validation, when the error is about a student's fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<students::FieldError>,
    /// With `rate_limited`: how long to wait before trying again, when that is known (also the
    /// `Retry-After` header); the message then says it in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// Why there is no usable session, on every 401 and on the refusals that keep a user from
    /// being signed in (`org_not_allowed`, a throttled sign-in or refresh with
    /// `retry_after_secs`). Optional: older clients ignore it, older Workers never send it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<SignedOutReason>,
}

/// Why a user is not (or no longer) signed in, as the sign-in screen says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignedOutReason {
    /// No session: never signed in, signed out here, in another tab, or everywhere.
    SignedOut,
    /// The session outlived its time, or the portal can no longer open the sign-in it kept
    /// (its key was retired).
    Expired,
    /// Zoho no longer accepts the portal's access (revoked in Zoho's connected apps, or the
    /// grant was replaced).
    RevokedAtZoho,
    /// The user's Zoho organisation is not one the portal serves (`ALLOWED_ORGS`).
    OrgNotAllowed,
    /// Zoho (or the portal's limit on sign-ins) refuses for now: try again after
    /// `retry_after_secs`.
    Throttled,
}

impl SignedOutReason {
    pub const ALL: [SignedOutReason; 5] = [
        SignedOutReason::SignedOut,
        SignedOutReason::Expired,
        SignedOutReason::RevokedAtZoho,
        SignedOutReason::OrgNotAllowed,
        SignedOutReason::Throttled,
    ];

    /// The wire name (`signed_out`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SignedOutReason::SignedOut => "signed_out",
            SignedOutReason::Expired => "expired",
            SignedOutReason::RevokedAtZoho => "revoked_at_zoho",
            SignedOutReason::OrgNotAllowed => "org_not_allowed",
            SignedOutReason::Throttled => "throttled",
        }
    }
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            error: ErrorBody {
                code: code.to_owned(),
                message: message.into(),
                field: None,
                fields: Vec::new(),
                retry_after_secs: None,
                reason: None,
            },
        }
    }
}

/// The header every response of the edge carries, naming the request in the edge's logs.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

// ---------------------------------------------------------------------------------------------
// Sign-in and sessions (`/auth/*`, `/api/session`)
// ---------------------------------------------------------------------------------------------

/// State-changing requests (every method but GET and HEAD) must carry this header with
/// [`CSRF_VALUE`]: a cross-site form cannot set it, and a cross-site `fetch` that sets it needs a
/// CORS preflight that the edge never grants.
pub const CSRF_HEADER: &str = "x-requested-with";
pub const CSRF_VALUE: &str = "zcrm-edge";

/// The cookie beside a session that the app's script may read (value `1`, no secret): without
/// it the app is signed out and makes no session check.
pub const SESSION_HINT_COOKIE: &str = "__Host-zcrm-hint";

/// The optional header of `POST /api/students`: a retried submit with the same key creates one
/// student.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// Where the sign-in popup starts (same origin; the edge redirects it to Zoho).
pub const AUTH_START_PATH: &str = "/auth/start";
/// The page Zoho redirects the popup to; it hands the query to the main window and closes.
pub const REDIRECT_PAGE_PATH: &str = "/redirect.html";

/// The `localStorage` keys the redirect page writes, as Zoho's own sample does. The main window
/// reads and removes them at once.
pub mod redirect_keys {
    pub const CODE: &str = "zcrm.oauth.code";
    pub const STATE: &str = "zcrm.oauth.state";
    pub const LOCATION: &str = "zcrm.oauth.location";
    pub const ACCOUNTS_SERVER: &str = "zcrm.oauth.accounts-server";
    pub const ERROR: &str = "zcrm.oauth.error";
    /// The attempt the values belong to: the redirect page copies it from [`SIGN_IN_ATTEMPT`]
    /// of its own window (the popup's session storage starts as a copy of its opener's, and a
    /// full-page sign-in is the same window), and writes nothing when there is none.
    pub const ATTEMPT: &str = "zcrm.oauth.attempt";
    /// `sessionStorage`: the sign-in this tab started, `<random id>.<started, ms since the
    /// epoch>`. The app acts on handed-over values only while this is set, young (at most
    /// [`super::SIGN_IN_MAX_AGE_SECS`]) and equal to [`ATTEMPT`].
    pub const SIGN_IN_ATTEMPT: &str = "zcrm.signin.attempt";
}

/// How long a sign-in may take from its start (the Worker's login lives as long).
pub const SIGN_IN_MAX_AGE_SECS: u64 = 600;

/// The errors an OAuth 2.0 authorization server such as Zoho's puts in the redirect
/// (RFC 6749, section 4.1.2.1), in words. Any other value is not shown: a link to the redirect
/// page can carry any text.
pub fn authorize_error_words(error: &str) -> Option<&'static str> {
    Some(match error {
        "access_denied" => {
            "You declined access in Zoho, so you are not signed in. To use the portal, sign in again and choose Accept."
        }
        "invalid_request" | "unsupported_response_type" | "invalid_scope" => {
            "Zoho could not read the portal's sign-in request. Try signing in again; if it keeps happening, tell the portal's administrator."
        }
        "unauthorized_client" => {
            "Zoho does not allow this portal to sign you in. Tell the portal's administrator."
        }
        "server_error" | "temporarily_unavailable" => {
            "Zoho could not sign you in just now. Try signing in again in a moment."
        }
        _ => return None,
    })
}

/// `POST /auth/callback`: what Zoho's redirect carried, handed over by the main window.
/// Every field is checked by the edge: `state` against the login, `location` and
/// `accounts_server` against the hard-coded data-centre table.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackRequest {
    pub code: String,
    pub state: String,
    pub location: String,
    pub accounts_server: String,
}

/// `GET /api/session` (200), and the answer of a successful `POST /auth/callback`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The user's full name as Zoho CRM has it.
    pub name: String,
    pub email: String,
    pub org_name: String,
    pub org_id: String,
    /// `us`, `eu`, `in`, ... (Zoho's `location`).
    pub data_center: String,
    /// `production`, `sandbox` or `developer`.
    pub environment: String,
}

/// Error codes the app acts on. Every error body carries one of these in `error.code`.
pub mod codes {
    /// No session, or it ended: show sign-in.
    pub const UNAUTHENTICATED: &str = "unauthenticated";
    /// The user's Zoho grant was revoked or expired: sign in again.
    pub const SESSION_EXPIRED: &str = "session_expired";
    /// The body, a parameter or a header is malformed.
    pub const INVALID_REQUEST: &str = "invalid_request";
    /// The CSRF header is missing or wrong, or the origin is foreign.
    pub const FORBIDDEN: &str = "forbidden";
    /// The sign-in attempt is unknown, expired or was already used (state mismatch).
    pub const INVALID_STATE: &str = "invalid_state";
    /// Zoho refused the code (expired, reused, or from another data centre).
    pub const INVALID_GRANT: &str = "invalid_grant";
    /// A field of a student failed validation (`error.field` names it).
    pub const INVALID_FIELD: &str = "invalid_field";
    pub const NOT_FOUND: &str = "not_found";
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    /// Another student already has this email.
    pub const DUPLICATE: &str = "duplicate";
    /// The user's Zoho organisation is not one the portal serves (`ALLOWED_ORGS`).
    pub const ORG_NOT_ALLOWED: &str = "org_not_allowed";
    /// Zoho said no to this user (scope or permission).
    pub const NO_PERMISSION: &str = "no_permission";
    /// Too many requests, at Zoho or at the edge: retry later.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// Zoho failed or answered nonsense.
    pub const UPSTREAM: &str = "upstream_error";
    /// Zoho did not answer in time.
    pub const UPSTREAM_TIMEOUT: &str = "upstream_timeout";
    pub const INTERNAL: &str = "internal_error";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_has_its_wire_name_and_reads_back() {
        for reason in SignedOutReason::ALL {
            let text = serde_json::to_string(&reason).unwrap();
            assert_eq!(text, format!("\"{}\"", reason.as_str()));
            assert_eq!(
                serde_json::from_str::<SignedOutReason>(&text).unwrap(),
                reason
            );
        }
    }

    #[test]
    fn the_reason_is_optional_both_ways() {
        // An error of an older Worker (no reason) still reads, and one without a reason is
        // written as before.
        let old = r#"{"error":{"code":"unauthenticated","message":"Sign in to continue."}}"#;
        let e: ApiError = serde_json::from_str(old).unwrap();
        assert_eq!(e.error.reason, None);
        assert_eq!(serde_json::to_string(&e).unwrap(), old);
        let mut e = ApiError::new(codes::RATE_LIMITED, "Wait.");
        e.error.retry_after_secs = Some(60);
        e.error.reason = Some(SignedOutReason::Throttled);
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"error": {"code": "rate_limited", "message": "Wait.",
                "retry_after_secs": 60, "reason": "throttled"}})
        );
    }
}
