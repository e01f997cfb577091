//! CRM API v8 on the wire: the error body, per-record action results, list `info`, users, org
//! and modules.

use crate::secret::AccessToken;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};
use std::fmt;

/// The path prefix of every CRM call under an API domain.
pub const API_PREFIX: &str = "/crm/v8";
/// The scheme of the `Authorization` header (not `Bearer`).
pub const AUTH_SCHEME: &str = "Zoho-oauthtoken";
/// Most records per page.
pub const MAX_PER_PAGE: u32 = 200;
/// How far `page`/`per_page` can read; past it, `page_token` is needed.
pub const MAX_DISCRETE_RECORDS: u32 = 2000;
/// Most records in one create, update or delete.
pub const MAX_RECORDS_PER_WRITE: usize = 100;
/// Most fields in a `fields` parameter.
pub const MAX_FIELDS: usize = 50;

/// Reads `null` as the type's default: Zoho sends `null` for keys it has no value for (a user
/// without a first name, a list `info` without a page; `v8.0/common.json` `info` and
/// `v8.0/modules.json` labels are nullable in Zoho's OpenAPI description). Use with
/// `#[serde(default, deserialize_with = "null_as_default")]`.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `Authorization: Zoho-oauthtoken {token}`.
pub fn authorization_header(token: &AccessToken) -> String {
    format!("{AUTH_SCHEME} {}", token.secret())
}

/// The token in an `Authorization` header value, if it uses Zoho's scheme.
pub fn token_from_authorization(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case(AUTH_SCHEME) && !token.is_empty()).then_some(token)
}

/// Defines [`ErrorCode`] from one table: each code's variant, Zoho's name for it, the HTTP status
/// Zoho uses with it and its usual message.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $status:literal, $message:literal;)*) => {
        /// An error code Zoho sends, for a whole request or for one record of a write, and its
        /// usual HTTP status and message (Zoho CRM API v8 "Status codes" and each API's error
        /// table; the codes of `v8.0/record.json`'s `API_Exception` in GitHub zoho/crm-oas).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, once.
            pub const ALL: [ErrorCode; [$(ErrorCode::$variant),*].len()] = [$(ErrorCode::$variant),*];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)*
                }
            }

            pub const fn http_status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                }
            }

            pub const fn message(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $message,)*
                }
            }
        }
    };
}

error_codes! {
    InvalidToken = "INVALID_TOKEN", 401, "invalid oauth token";
    AuthenticationFailure = "AUTHENTICATION_FAILURE", 401, "Authentication failed";
    OauthScopeMismatch = "OAUTH_SCOPE_MISMATCH", 401, "invalid oauth scope to access this URL";
    NoPermission = "NO_PERMISSION", 403, "permission denied";
    InvalidUrlPattern = "INVALID_URL_PATTERN", 404,
        "Please check if the URL trying to access is a correct one";
    InvalidModule = "INVALID_MODULE", 400, "the module name given seems to be invalid";
    RequiredParamMissing = "REQUIRED_PARAM_MISSING", 400, "One of the expected parameter is missing";
    InvalidData = "INVALID_DATA", 400, "invalid data";
    InvalidRequest = "INVALID_REQUEST", 400, "invalid request";
    InvalidQuery = "INVALID_QUERY", 400, "invalid query formed";
    LimitExceeded = "LIMIT_EXCEEDED", 400, "the limit has been exceeded";
    DiscretePaginationLimitExceeded = "DISCRETE_PAGINATION_LIMIT_EXCEEDED", 400,
        "you cannot fetch more than 2000 records using page; use page_token instead";
    TooManyRequests = "TOO_MANY_REQUESTS", 429, "too many requests";
    InternalError = "INTERNAL_ERROR", 500, "Internal Server Error";
    InvalidRequestMethod = "INVALID_REQUEST_METHOD", 405,
        "The http request method type is not a valid one";
    MandatoryNotFound = "MANDATORY_NOT_FOUND", 400, "required field not found";
    /// A record's unique field (a Lead's `Email`) is taken: `details.duplicate_record`.
    DuplicateData = "DUPLICATE_DATA", 400, "duplicate data";
    /// Search without any of `criteria`, `email`, `phone`, `word`: `details.param_names`
    /// (`v8.0/module_search.json`, `Mandatory_Param_Missing`).
    ExpectedParamMissing = "EXPECTED_PARAM_MISSING", 400, "One of the expected parameter is missing";
    NotFound = "NOT_FOUND", 404, "the requested resource was not found";
}

impl ErrorCode {
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }
}

/// Zoho's status object `{"code","details","message","status"}`: the body of an error for a
/// whole request, and each per-record result (`SUCCESS` or an error) in a write's `data`
/// (the SDKs' `APIException` and `SuccessResponse` share it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub code: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub details: Map<String, Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: String,
}

impl Status {
    /// `code` with its usual message and empty details.
    pub fn new(code: ErrorCode) -> Status {
        Status {
            code: code.as_str().to_owned(),
            details: Map::new(),
            message: code.message().to_owned(),
            status: "error".to_owned(),
        }
    }

    /// Adds a detail.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Status {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    pub fn with_message(mut self, message: &str) -> Status {
        self.message = message.to_owned();
        self
    }

    /// `REQUIRED_PARAM_MISSING` for `param`.
    pub fn required_param_missing(param: &str) -> Status {
        Status::new(ErrorCode::RequiredParamMissing).with("param_name", param)
    }

    /// `EXPECTED_PARAM_MISSING`: none of `params` was given (`details.param_names`).
    pub fn expected_param_missing(params: &[&str]) -> Status {
        Status::new(ErrorCode::ExpectedParamMissing).with("param_names", params.to_vec())
    }

    /// The code, if it is one this crate knows.
    pub fn error_code(&self) -> Option<ErrorCode> {
        ErrorCode::parse(&self.code)
    }

    /// The HTTP status Zoho uses with this code (400 for codes this crate does not know).
    pub fn http_status(&self) -> u16 {
        self.error_code().map_or(400, ErrorCode::http_status)
    }

    /// The status a JSON tree holds, as its `Deserialize` reads it (`code` a string; `details` an
    /// object, `message` and `status` strings, each of them null or absent for empty). Read by
    /// hand rather than with `serde_json::from_value`, whose decoder of the tree would be a
    /// second JSON decoder in the Worker's Wasm beside the one from text.
    pub fn of_value(v: &Value) -> Option<Status> {
        let text = |key: &str| match v.get(key) {
            None | Some(Value::Null) => Some(String::new()),
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => None,
        };
        Some(Status {
            code: v.get("code")?.as_str()?.to_owned(),
            details: match v.get("details") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(map)) => map.clone(),
                Some(_) => return None,
            },
            message: text("message")?,
            status: text("status")?,
        })
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Status {}

/// A user or owner reference: `{"name","id"}` (`email` on owners).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdName {
    pub name: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A successful per-record result: `code: SUCCESS`, `status: success`.
pub fn action_success(message: &str, details: Map<String, Value>) -> Status {
    Status {
        code: "SUCCESS".to_owned(),
        details,
        message: message.to_owned(),
        status: "success".to_owned(),
    }
}

/// Message of a created record.
pub const MSG_ADDED: &str = "record added";
/// Message of an updated record.
pub const MSG_UPDATED: &str = "record updated";
/// Message of a deleted record.
pub const MSG_DELETED: &str = "record deleted";

/// The HTTP status of a write answer: 201 (create) or 200 when every record succeeded, 207 when
/// some did, 400 when none did.
pub fn write_status(results: &[Status], all_ok_status: u16) -> u16 {
    let ok = results.iter().filter(|r| r.status == "success").count();
    if ok == results.len() {
        all_ok_status
    } else if ok == 0 {
        400
    } else {
        207
    }
}

/// The `info` of a list or search answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Info {
    #[serde(default, deserialize_with = "null_as_default")]
    pub per_page: u32,
    #[serde(default, deserialize_with = "null_as_default")]
    pub count: u32,
    #[serde(default, deserialize_with = "null_as_default")]
    pub page: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub more_records: bool,
    #[serde(default)]
    pub next_page_token: Option<String>,
    #[serde(default)]
    pub previous_page_token: Option<String>,
    #[serde(default)]
    pub page_token_expiry: Option<String>,
}

/// A record: field API names to values; `id` is a string of digits.
pub type Record = Map<String, Value>;

/// A list or search answer (HTTP 200; "no records" is HTTP 204 with no body instead).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListResponse {
    pub data: Vec<Record>,
    pub info: Info,
}

/// One record's answer (`GET /{module}/{id}`): `data` without `info`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordResponse {
    pub data: Vec<Record>,
}

/// `GET /{module}/actions/count`: `{"count": "N"}`. `v8.0/record.json` ("Record Count") types
/// `count` as a string and Zoho's SDKs read it as a `Long` sent as text; a number is read too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountResponse {
    #[serde(deserialize_with = "count_of")]
    pub count: u64,
}

fn count_of<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Count {
        Number(u64),
        Text(String),
    }
    match Count::deserialize(d)? {
        Count::Number(n) => Ok(n),
        Count::Text(t) => t
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom("count is not a whole number")),
    }
}

/// `users[]` of `GET /users`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub full_name: String,
    /// Optional in Zoho CRM (only the last name is mandatory for a user): may be `null`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub first_name: String,
    pub last_name: String,
    pub zuid: String,
    pub role: IdName,
    pub profile: IdName,
    pub status: String,
}

/// `GET /users?type=CurrentUser`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsersResponse {
    pub users: Vec<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Value>,
}

/// `org[]` of `GET /org`. `zgid` is a string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    pub id: String,
    pub domain_name: String,
    pub zgid: String,
    pub company_name: String,
    pub primary_email: String,
    pub country_code: String,
    pub time_zone: String,
    pub currency: String,
    #[serde(rename = "type")]
    pub org_type: String,
}

/// `GET /org`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgResponse {
    pub org: Vec<Org>,
}

/// `modules[]` of `GET /settings/modules`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Module {
    pub api_name: String,
    pub module_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub singular_label: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub plural_label: String,
    pub api_supported: bool,
    pub generated_type: String,
    pub id: String,
}

/// `GET /settings/modules`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModulesResponse {
    pub modules: Vec<Module>,
}

/// An answer of the CRM API, classified.
#[derive(Debug, PartialEq)]
pub enum ApiResponse {
    /// 2xx with a JSON body (207 included: look at each `data[]` element).
    Json(u16, Value),
    /// 204, or any 2xx with an empty body: no records.
    NoContent,
    /// An error body `{"code",…}` (any status), or a synthetic one for a body that is not JSON.
    Error(u16, Status),
}

/// Classifies an answer: 204/empty → no content; a 4xx/5xx, or a 2xx whose body is a bare
/// `{"code",…,"status":"error"}`, → an error; a body that is not JSON on an error status becomes
/// `INTERNAL_ERROR`. Whether a content type was sent does not matter.
pub fn classify_response(status: u16, body: &str) -> ApiResponse {
    if status == 204 || ((200..300).contains(&status) && body.trim().is_empty()) {
        return ApiResponse::NoContent;
    }
    let value: Option<Value> = serde_json::from_str(body).ok();
    let as_error = |v: &Value| -> Option<Status> {
        if v.get("code").is_some() && v.get("status").and_then(Value::as_str) == Some("error") {
            Status::of_value(v)
        } else {
            None
        }
    };
    match value {
        Some(v) if (200..300).contains(&status) => match as_error(&v) {
            Some(e) => ApiResponse::Error(status, e),
            None => ApiResponse::Json(status, v),
        },
        Some(v) => {
            if let Some(e) = as_error(&v) {
                ApiResponse::Error(status, e)
            } else if v
                .get("data")
                .and_then(Value::as_array)
                .and_then(|d| d.first())
                .and_then(as_error)
                .is_some()
            {
                // A write whose records all failed: 400 with `data[]`.
                ApiResponse::Json(status, v)
            } else {
                ApiResponse::Error(
                    status,
                    Status::new(ErrorCode::InternalError).with("body", json!(v)),
                )
            }
        }
        None => ApiResponse::Error(
            status,
            Status::new(ErrorCode::InternalError)
                .with("body", body.chars().take(200).collect::<String>()),
        ),
    }
}

/// A write's answer (create, update or delete; 200, 201, 202, 207 or 400 alike), parsed once.
#[derive(Debug, PartialEq)]
pub enum WriteAnswer {
    /// `{"data":[…]}`: one status object per record sent, in the order sent.
    Records(Vec<Status>),
    /// A bare error status object for the whole request (any HTTP status).
    Whole(u16, Status),
    /// 204, or an empty 2xx body.
    NoContent,
    /// Not Zoho's shape: what [`classify_response`] makes of it.
    Other(ApiResponse),
}

impl WriteAnswer {
    /// The per-record results, or what the answer is instead (as [`classify_response`] puts it).
    pub fn into_records(self) -> Result<Vec<Status>, ApiResponse> {
        match self {
            WriteAnswer::Records(records) => Ok(records),
            WriteAnswer::Whole(status, e) => Err(ApiResponse::Error(status, e)),
            WriteAnswer::NoContent => Err(ApiResponse::NoContent),
            WriteAnswer::Other(other) => Err(other),
        }
    }
}

/// Reads a write's answer: the body is parsed straight into per-record status objects, or into
/// one for the whole request; only what is neither (an empty body included) is classified.
pub fn read_write(status: u16, body: &str) -> WriteAnswer {
    #[derive(Deserialize)]
    struct Records {
        data: Vec<Status>,
    }
    if let Ok(Records { data }) = serde_json::from_str::<Records>(body)
        && !data.is_empty()
    {
        return WriteAnswer::Records(data);
    }
    if let Ok(whole) = serde_json::from_str::<Status>(body)
        && whole.status == "error"
    {
        return WriteAnswer::Whole(status, whole);
    }
    match classify_response(status, body) {
        ApiResponse::NoContent => WriteAnswer::NoContent,
        other => WriteAnswer::Other(other),
    }
}

/// A read's answer in its type.
#[derive(Debug, PartialEq)]
pub enum Read<T> {
    /// A 200 whose body is a `T`.
    Ok(T),
    /// 204, or an empty 2xx body: no records.
    NoContent,
    /// A 200 whose JSON is neither a `T` nor Zoho's error.
    Malformed,
    /// Anything else, as [`classify_response`] reads it: Zoho's error, or a status a read does
    /// not expect.
    Refused(ApiResponse),
}

/// Reads an answer into `T`: a 200 body is parsed straight into its type, once, with no
/// [`Value`] in between; only what is not a `T` is classified. `T` must have a required key
/// that Zoho's error body lacks (`data`, `fields`, `count`), so that a 200 carrying an error is
/// never read as an empty `T`.
pub fn read<T: serde::de::DeserializeOwned>(status: u16, body: &str) -> Read<T> {
    if status == 200
        && let Ok(value) = serde_json::from_str::<T>(body)
    {
        return Read::Ok(value);
    }
    match classify_response(status, body) {
        ApiResponse::NoContent => Read::NoContent,
        ApiResponse::Json(200, _) => Read::Malformed,
        other => Read::Refused(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_answers_are_typed_once() {
        let ok = r#"{"data":[{"code":"SUCCESS","details":{"id":"1"},"message":"record added","status":"success"}]}"#;
        match read_write(201, ok) {
            WriteAnswer::Records(r) => assert_eq!((r.len(), r[0].code.as_str()), (1, "SUCCESS")),
            other => panic!("{other:?}"),
        }
        let whole = r#"{"code":"INVALID_MODULE","details":{},"message":"x","status":"error"}"#;
        assert!(
            matches!(read_write(400, whole), WriteAnswer::Whole(400, e) if e.code == "INVALID_MODULE")
        );
        assert_eq!(read_write(204, ""), WriteAnswer::NoContent);
        assert!(matches!(
            read_write(500, "<html>"),
            WriteAnswer::Other(ApiResponse::Error(500, _))
        ));
        assert!(matches!(
            read_write(200, r#"{"data":[]}"#),
            WriteAnswer::Other(ApiResponse::Json(200, _))
        ));
        assert!(read_write(200, "[1]").into_records().is_err());
    }

    #[test]
    fn reads_are_typed_once_and_errors_are_never_empty_values() {
        let list = r#"{"data":[{"id":"1"}],"info":{"more_records":false,"per_page":200,"count":1,"page":1}}"#;
        assert!(matches!(read::<ListResponse>(200, list), Read::Ok(l) if l.data.len() == 1));
        assert_eq!(read::<ListResponse>(204, ""), Read::NoContent);
        // One record's answer has no `info`: it is not a list.
        let one = r#"{"data":[{"id":"1"}]}"#;
        assert!(matches!(read::<RecordResponse>(200, one), Read::Ok(r) if r.data.len() == 1));
        assert_eq!(read::<ListResponse>(200, one), Read::Malformed);
        assert_eq!(
            read::<ListResponse>(200, r#"{"data":"x"}"#),
            Read::Malformed
        );
        let error = r#"{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}"#;
        for status in [200, 401] {
            match read::<ListResponse>(status, error) {
                Read::Refused(ApiResponse::Error(s, e)) => {
                    assert_eq!((s, e.error_code()), (status, Some(ErrorCode::InvalidToken)))
                }
                other => panic!("{status}: {other:?}"),
            }
        }
        assert!(matches!(
            read::<CountResponse>(201, r#"{"count":"3"}"#),
            Read::Refused(ApiResponse::Json(201, _))
        ));
    }

    #[test]
    fn error_bodies_are_exact() {
        let e = Status::required_param_missing("fields");
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"code":"REQUIRED_PARAM_MISSING","details":{"param_name":"fields"},"message":"One of the expected parameter is missing","status":"error"}"#
        );
        assert_eq!(e.http_status(), 400);
        let e = Status::new(ErrorCode::InvalidToken);
        assert_eq!(
            e.to_json(),
            json!({"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"})
        );
        assert_eq!(e.http_status(), 401);
        assert_eq!(Status::new(ErrorCode::NoPermission).http_status(), 403);
        assert_eq!(Status::new(ErrorCode::InvalidUrlPattern).http_status(), 404);
        assert_eq!(Status::new(ErrorCode::TooManyRequests).http_status(), 429);
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(c.as_str()), Some(c));
            assert!(!c.message().is_empty());
        }
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        assert_eq!(
            ErrorCode::parse("DUPLICATE_DATA"),
            Some(ErrorCode::DuplicateData)
        );
        assert_eq!(ErrorCode::parse("NOT_A_CODE"), None);
        assert_eq!(
            Status::expected_param_missing(&["criteria", "email"]).to_json(),
            json!({"code": "EXPECTED_PARAM_MISSING", "details": {"param_names": ["criteria", "email"]},
                   "message": "One of the expected parameter is missing", "status": "error"})
        );
    }

    #[test]
    fn authorization_header_round_trip() {
        let t = AccessToken::new("1000.abc");
        let h = authorization_header(&t);
        assert_eq!(h, "Zoho-oauthtoken 1000.abc");
        assert_eq!(token_from_authorization(&h), Some("1000.abc"));
        assert_eq!(token_from_authorization("Bearer 1000.abc"), None);
        assert_eq!(token_from_authorization("Zoho-oauthtoken "), None);
    }

    #[test]
    fn write_statuses() {
        let ok = action_success(MSG_ADDED, Map::new());
        let bad = Status::new(ErrorCode::MandatoryNotFound);
        assert_eq!(write_status(&[ok.clone(), ok.clone()], 201), 201);
        assert_eq!(write_status(&[ok.clone(), bad.clone()], 201), 207);
        assert_eq!(write_status(&[bad], 201), 400);
        assert_eq!(write_status(&[ok], 200), 200);
    }

    #[test]
    fn a_status_read_by_hand_is_what_serde_reads() {
        for text in [
            r#"{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}"#,
            r#"{"code":"X","details":null,"message":null,"status":null}"#,
            r#"{"code":"X"}"#,
            r#"{"code":"X","details":{"api_name":"Email"},"extra":[1],"status":"error"}"#,
            r#"{"code":7,"status":"error"}"#,
            r#"{"code":"X","details":[],"status":"error"}"#,
            r#"{"code":"X","message":3,"status":"error"}"#,
            r#"{"code":"X","status":false}"#,
            r#"{"status":"error"}"#,
            r#"[1]"#,
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                Status::of_value(&value),
                serde_json::from_str::<Status>(text).ok(),
                "{text}"
            );
        }
    }

    #[test]
    fn classify() {
        assert!(matches!(classify_response(204, ""), ApiResponse::NoContent));
        assert!(matches!(
            classify_response(200, " "),
            ApiResponse::NoContent
        ));
        match classify_response(
            401,
            r#"{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}"#,
        ) {
            ApiResponse::Error(401, e) => assert_eq!(e.error_code(), Some(ErrorCode::InvalidToken)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify_response(502, "<html>"),
            ApiResponse::Error(502, _)
        ));
        assert!(matches!(
            classify_response(200, r#"{"data":[]}"#),
            ApiResponse::Json(200, _)
        ));
        let all_failed = r#"{"data":[{"code":"MANDATORY_NOT_FOUND","details":{},"message":"required field not found","status":"error"}]}"#;
        assert!(matches!(
            classify_response(400, all_failed),
            ApiResponse::Json(400, _)
        ));
    }

    #[test]
    fn dtos_parse_zoho_shapes() {
        let org: OrgResponse = serde_json::from_str(
            r#"{"org":[{"id":"1","domain_name":"org1","zgid":"77","company_name":"C","primary_email":"a@b","country_code":"US","time_zone":"America/New_York","currency":"USD","type":"production","extra":1}]}"#,
        )
        .unwrap();
        assert_eq!(org.org[0].zgid, "77");
        assert_eq!(org.org[0].org_type, "production");
        let users: UsersResponse = serde_json::from_str(
            r#"{"users":[{"id":"1","email":"a@b","full_name":"A B","first_name":"A","last_name":"B","zuid":"9","role":{"name":"CEO","id":"2"},"profile":{"name":"Administrator","id":"3"},"status":"active"}],"info":{"count":1}}"#,
        )
        .unwrap();
        assert_eq!(users.users[0].role.name, "CEO");
        let list: ListResponse = serde_json::from_str(
            r#"{"data":[{"id":"1","Last_Name":"X"}],"info":{"per_page":1,"count":1,"page":1,"sort_by":"id","sort_order":"desc","more_records":true,"next_page_token":"t","previous_page_token":null,"page_token_expiry":"2026-01-01T00:00:00+00:00"}}"#,
        )
        .unwrap();
        assert!(list.info.more_records);
        assert_eq!(list.info.next_page_token.as_deref(), Some("t"));
    }

    #[test]
    fn counts_as_text_or_number() {
        let text: CountResponse = serde_json::from_str(r#"{"count":"2500"}"#).unwrap();
        let number: CountResponse = serde_json::from_str(r#"{"count":16}"#).unwrap();
        assert_eq!((text.count, number.count), (2500, 16));
        for bad in [
            r#"{"count":"-1"}"#,
            r#"{"count":"many"}"#,
            r#"{"count":null}"#,
            "{}",
        ] {
            assert!(serde_json::from_str::<CountResponse>(bad).is_err(), "{bad}");
        }
    }

    /// Zoho's full shapes: keys this crate does not know, and `null` where Zoho documents it.
    #[test]
    fn dtos_accept_unknown_keys_and_documented_nulls() {
        let users: UsersResponse = serde_json::from_str(
            r#"{"users":[{"id":"1","email":"a@b","full_name":"B","first_name":null,"last_name":"B","zuid":"9","role":{"name":"CEO","id":"2"},"profile":{"name":"Administrator","id":"3"},"status":"active","time_zone":"Asia/Kolkata","$current_shift":null,"customize_info":{"notes_desc":null}}],"info":{"per_page":200,"count":1,"page":1,"more_records":false}}"#,
        )
        .unwrap();
        assert_eq!(users.users[0].first_name, "");
        let info: Info = serde_json::from_str(
            r#"{"per_page":null,"count":2,"page":null,"more_records":null,"next_page_token":null,"previous_page_token":null,"page_token_expiry":null,"call":false}"#,
        )
        .unwrap();
        assert_eq!(
            (info.per_page, info.count, info.page, info.more_records),
            (0, 2, 0, false)
        );
        let modules: ModulesResponse = serde_json::from_str(
            r#"{"modules":[{"api_name":"Leads","module_name":"Leads","singular_label":null,"plural_label":null,"api_supported":true,"generated_type":"default","id":"5","global_search_supported":true,"parent_module":{},"modified_by":null,"profiles":[{"name":"Administrator","id":"1"}]}]}"#,
        )
        .unwrap();
        assert_eq!(modules.modules[0].plural_label, "");
        let org: OrgResponse = serde_json::from_str(
            r#"{"org":[{"id":"1","domain_name":"org1","zgid":"77","company_name":"C","primary_email":"a@b","country_code":"US","time_zone":"America/New_York","currency":"USD","type":"Production","alias":null,"license_details":{"paid":true,"trial_type":null},"zia_zgid":77}]}"#,
        )
        .unwrap();
        assert_eq!(org.org[0].org_type, "Production");
        let e: Status = serde_json::from_str(
            r#"{"code":"EXPECTED_PARAM_MISSING","details":null,"message":null,"status":"error"}"#,
        )
        .unwrap();
        assert_eq!(e.error_code(), Some(ErrorCode::ExpectedParamMissing));
        assert!(e.details.is_empty() && e.message.is_empty());
    }
}
