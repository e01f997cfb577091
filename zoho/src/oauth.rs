//! Zoho's accounts server: authorization request, callback, token endpoint, revoke, scopes.
//!
//! Both sides use these types: the simulator serves them, the edge sends and reads them. Parsing
//! is tolerant of every variant Zoho is known to send (Zoho's OAuth pages,
//! <https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token.html>, and the token
//! handling of Zoho's official SDKs, zoho/zohocrm-python-sdk-8.0 and zoho/zohocrm-nodejs-sdk-8.0):
//! errors come with HTTP 200 and are judged by the `error` key; the legacy answer has
//! `expires_in_sec` (seconds) with `expires_in` in milliseconds; throttling has its own body.

use crate::form;
use crate::pkce::ChallengeMethod;
use crate::secret::{AccessToken, AuthorizationCode, ClientSecret, CodeVerifier, RefreshToken};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// Access tokens live this long (seconds).
pub const ACCESS_TOKEN_LIFETIME_SECS: u64 = 3600;
/// The `error` of Zoho's throttling answer.
pub const THROTTLE_ERROR: &str = "Access Denied";
/// The `error_description` of Zoho's throttling answer.
pub const THROTTLE_DESCRIPTION: &str =
    "You have made too many requests continuously. Please try again after some time.";

/// Path of the authorization endpoint under an accounts server.
pub const AUTH_PATH: &str = "/oauth/v2/auth";
/// Path of the token endpoint under an accounts server.
pub const TOKEN_PATH: &str = "/oauth/v2/token";
/// Path of the revoke endpoint under an accounts server.
pub const REVOKE_PATH: &str = "/oauth/v2/token/revoke";

/// `access_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessType {
    #[default]
    Online,
    Offline,
}

impl AccessType {
    pub fn parse(s: &str) -> Option<AccessType> {
        match s {
            "online" => Some(AccessType::Online),
            "offline" => Some(AccessType::Offline),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccessType::Online => "online",
            AccessType::Offline => "offline",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Authorization request and callback
// ---------------------------------------------------------------------------------------------

/// The parameters of `GET {accounts}/oauth/v2/auth`.
#[derive(Clone, Debug)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub access_type: AccessType,
    pub prompt_consent: bool,
    pub state: Option<String>,
    /// `(code_challenge, method)`.
    pub code_challenge: Option<(String, ChallengeMethod)>,
}

impl AuthorizeRequest {
    /// The query parameters, in a stable order.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = vec![
            ("response_type", "code".to_owned()),
            ("client_id", self.client_id.clone()),
            ("scope", self.scopes.join(",")),
            ("redirect_uri", self.redirect_uri.clone()),
            ("access_type", self.access_type.as_str().to_owned()),
        ];
        if self.prompt_consent {
            p.push(("prompt", "consent".to_owned()));
        }
        if let Some(state) = &self.state {
            p.push(("state", state.clone()));
        }
        if let Some((challenge, method)) = &self.code_challenge {
            p.push(("code_challenge", challenge.clone()));
            p.push(("code_challenge_method", method.as_str().to_owned()));
        }
        p
    }

    /// The full URL at `authorization_server` (see [`crate::Endpoints::authorization_server`]).
    pub fn url(&self, authorization_server: &str) -> String {
        format!(
            "{}{AUTH_PATH}?{}",
            authorization_server.trim_end_matches('/'),
            form::build(self.params())
        )
    }
}

/// What the redirect to `redirect_uri` carried.
#[derive(Debug)]
pub enum Callback {
    /// `code`, `location`, `accounts-server` (unchecked: compare them with the table), `state`.
    Approved {
        code: AuthorizationCode,
        location: Option<String>,
        accounts_server: Option<String>,
        state: Option<String>,
    },
    /// Any `error` (`access_denied` on denial).
    Denied {
        error: String,
        state: Option<String>,
    },
    /// Neither a code nor an error.
    Malformed,
}

/// Whether `code` has the shape of a Zoho grant code: `1000.` (digits), then two groups of hex
/// digits separated by a dot (`1000.<32 hex>.<32 hex>` as Zoho issues them; 8 to 128 digits a
/// group are accepted). Anything else is refused before a token call is spent on it.
pub fn code_is_well_formed(code: &str) -> bool {
    let mut parts = code.split('.');
    let (Some(client), Some(a), Some(b), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let hex = |p: &str| (8..=128).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_hexdigit());
    (1..=8).contains(&client.len())
        && client.bytes().all(|c| c.is_ascii_digit())
        && hex(a)
        && hex(b)
}

/// Parses the query string of the redirect (with or without the leading `?`).
pub fn parse_callback(query: &str) -> Callback {
    let mut code = None;
    let mut location = None;
    let mut accounts_server = None;
    let mut state = None;
    let mut error = None;
    for (k, v) in form::parse(query) {
        match k.as_str() {
            "code" => code = Some(v),
            "location" => location = Some(v),
            "accounts-server" => accounts_server = Some(v),
            "state" => state = Some(v),
            "error" => error = Some(v),
            _ => {}
        }
    }
    match (error, code) {
        (Some(error), _) => Callback::Denied { error, state },
        (None, Some(code)) if !code.is_empty() => Callback::Approved {
            code: AuthorizationCode::new(code),
            location,
            accounts_server,
            state,
        },
        _ => Callback::Malformed,
    }
}

// ---------------------------------------------------------------------------------------------
// Token endpoint
// ---------------------------------------------------------------------------------------------

/// A request to `POST {accounts}/oauth/v2/token`.
#[derive(Debug)]
pub enum TokenRequest {
    AuthorizationCode {
        client_id: String,
        client_secret: ClientSecret,
        /// Absent for Self Client codes.
        redirect_uri: Option<String>,
        code: AuthorizationCode,
        code_verifier: Option<CodeVerifier>,
    },
    RefreshToken {
        client_id: String,
        client_secret: ClientSecret,
        refresh_token: RefreshToken,
    },
}

impl TokenRequest {
    /// The form parameters (send them as the body, `application/x-www-form-urlencoded`).
    pub fn form_params(&self) -> Vec<(&'static str, &str)> {
        match self {
            TokenRequest::AuthorizationCode {
                client_id,
                client_secret,
                redirect_uri,
                code,
                code_verifier,
            } => {
                let mut p = vec![
                    ("grant_type", "authorization_code"),
                    ("client_id", client_id.as_str()),
                    ("client_secret", client_secret.secret()),
                ];
                if let Some(r) = redirect_uri {
                    p.push(("redirect_uri", r.as_str()));
                }
                p.push(("code", code.secret()));
                if let Some(v) = code_verifier {
                    p.push(("code_verifier", v.secret()));
                }
                p
            }
            TokenRequest::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
            } => vec![
                ("grant_type", "refresh_token"),
                ("client_id", client_id.as_str()),
                ("client_secret", client_secret.secret()),
                ("refresh_token", refresh_token.secret()),
            ],
        }
    }

    /// The form body.
    pub fn form_body(&self) -> String {
        form::build(self.form_params())
    }

    /// Reads a token request from its parameters (query and body merged; the first occurrence of
    /// a name wins). Fails with the error Zoho gives for what is missing.
    pub fn from_params<'a, I>(params: I) -> Result<TokenRequest, TokenError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut get = Map::new();
        for (k, v) in params {
            if !get.contains_key(k) {
                get.insert(k.to_owned(), Value::String(v.to_owned()));
            }
        }
        let s = |k: &str| {
            get.get(k)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let client_id = s("client_id").ok_or(TokenError::new(TokenErrorKind::InvalidClient))?;
        let client_secret = s("client_secret")
            .map(ClientSecret::new)
            .ok_or(TokenError::new(TokenErrorKind::InvalidClientSecret))?;
        match s("grant_type").as_deref() {
            Some("authorization_code") => Ok(TokenRequest::AuthorizationCode {
                client_id,
                client_secret,
                redirect_uri: s("redirect_uri"),
                code: AuthorizationCode::new(
                    s("code").ok_or(TokenError::new(TokenErrorKind::InvalidCode))?,
                ),
                code_verifier: s("code_verifier").map(CodeVerifier::new),
            }),
            Some("refresh_token") => Ok(TokenRequest::RefreshToken {
                client_id,
                client_secret,
                refresh_token: RefreshToken::new(
                    s("refresh_token").ok_or(TokenError::new(TokenErrorKind::InvalidCode))?,
                ),
            }),
            _ => Err(TokenError::new(TokenErrorKind::UnsupportedGrantType)),
        }
    }

    pub fn client_id(&self) -> &str {
        match self {
            TokenRequest::AuthorizationCode { client_id, .. }
            | TokenRequest::RefreshToken { client_id, .. } => client_id,
        }
    }

    pub fn client_secret(&self) -> &ClientSecret {
        match self {
            TokenRequest::AuthorizationCode { client_secret, .. }
            | TokenRequest::RefreshToken { client_secret, .. } => client_secret,
        }
    }
}

/// The success body as it is on the wire. The simulator serializes it; clients should read
/// answers with [`parse_token_response`] instead.
#[derive(Debug, Serialize, Deserialize)]
pub struct TokenResponseBody {
    pub access_token: AccessToken,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshToken>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub api_domain: String,
    pub token_type: String,
    /// Seconds, or milliseconds when `expires_in_sec` is present (legacy variant).
    pub expires_in: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_sec: Option<u64>,
}

impl TokenResponseBody {
    /// A body for a token living `lifetime_secs`, in the current or the legacy variant.
    pub fn new(
        access_token: AccessToken,
        refresh_token: Option<RefreshToken>,
        scope: Option<String>,
        api_domain: String,
        lifetime_secs: u64,
        legacy: bool,
    ) -> TokenResponseBody {
        TokenResponseBody {
            access_token,
            refresh_token,
            scope,
            api_domain,
            token_type: "Bearer".to_owned(),
            expires_in: if legacy {
                lifetime_secs * 1000
            } else {
                lifetime_secs
            },
            expires_in_sec: legacy.then_some(lifetime_secs),
        }
    }
}

/// A token answer, normalized.
#[derive(Debug)]
pub struct TokenSuccess {
    pub access_token: AccessToken,
    pub refresh_token: Option<RefreshToken>,
    pub scope: Option<String>,
    /// Unchecked: locate it with [`crate::Endpoints::locate_api_domain`] before use.
    pub api_domain: String,
    pub token_type: String,
    /// Lifetime in seconds, whichever variant the server sent.
    pub expires_in_secs: u64,
}

/// The kinds of token endpoint error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenErrorKind {
    /// Expired, reused or unknown code; also a revoked or unknown refresh token.
    InvalidCode,
    /// Unknown client, or the wrong data centre.
    InvalidClient,
    InvalidClientSecret,
    InvalidRedirectUri,
    UnsupportedGrantType,
    /// Too many requests (`"error":"Access Denied"`).
    Throttled,
    /// Any other `error` value.
    Other,
}

impl TokenErrorKind {
    /// The `error` string Zoho sends (for `Other`, `"invalid_request"`).
    pub fn as_str(self) -> &'static str {
        match self {
            TokenErrorKind::InvalidCode => "invalid_code",
            TokenErrorKind::InvalidClient => "invalid_client",
            TokenErrorKind::InvalidClientSecret => "invalid_client_secret",
            TokenErrorKind::InvalidRedirectUri => "invalid_redirect_uri",
            TokenErrorKind::UnsupportedGrantType => "unsupported_grant_type",
            TokenErrorKind::Throttled => THROTTLE_ERROR,
            TokenErrorKind::Other => "invalid_request",
        }
    }

    pub fn from_error(error: &str) -> TokenErrorKind {
        match error {
            "invalid_code" => TokenErrorKind::InvalidCode,
            "invalid_client" => TokenErrorKind::InvalidClient,
            "invalid_client_secret" => TokenErrorKind::InvalidClientSecret,
            "invalid_redirect_uri" => TokenErrorKind::InvalidRedirectUri,
            "unsupported_grant_type" => TokenErrorKind::UnsupportedGrantType,
            e if e.eq_ignore_ascii_case(THROTTLE_ERROR) => TokenErrorKind::Throttled,
            _ => TokenErrorKind::Other,
        }
    }
}

/// A token endpoint error body: `{"error": …}`, plus `error_description` and `status` when
/// throttled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenError {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl TokenError {
    /// The exact body Zoho sends for `kind`.
    pub fn new(kind: TokenErrorKind) -> TokenError {
        match kind {
            TokenErrorKind::Throttled => TokenError {
                error: THROTTLE_ERROR.to_owned(),
                error_description: Some(THROTTLE_DESCRIPTION.to_owned()),
                status: Some("failure".to_owned()),
            },
            k => TokenError {
                error: k.as_str().to_owned(),
                error_description: None,
                status: None,
            },
        }
    }

    pub fn kind(&self) -> TokenErrorKind {
        if self
            .error_description
            .as_deref()
            .is_some_and(|d| d.to_ascii_lowercase().contains("too many requests"))
        {
            return TokenErrorKind::Throttled;
        }
        TokenErrorKind::from_error(&self.error)
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token endpoint error: {}", self.error)
    }
}

impl std::error::Error for TokenError {}

/// Why a token answer was not a success.
#[derive(Debug)]
pub enum TokenResponseError {
    /// The body had an `error` key (whatever the HTTP status).
    Token(TokenError),
    /// A non-2xx status without an `error` key.
    Http(u16),
    /// A 2xx status whose body was not a token answer.
    Malformed(String),
}

impl fmt::Display for TokenResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenResponseError::Token(e) => e.fmt(f),
            TokenResponseError::Http(s) => write!(f, "token endpoint answered HTTP {s}"),
            TokenResponseError::Malformed(m) => write!(f, "malformed token answer: {m}"),
        }
    }
}

impl std::error::Error for TokenResponseError {}

/// Reads an answer of the token endpoint, tolerant of every variant: errors are judged by the
/// `error` key (Zoho sends them with HTTP 200); the legacy `expires_in_sec` makes `expires_in`
/// milliseconds; numbers may come as strings.
pub fn parse_token_response(status: u16, body: &str) -> Result<TokenSuccess, TokenResponseError> {
    let value: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) if (200..300).contains(&status) => {
            return Err(TokenResponseError::Malformed(e.to_string()));
        }
        Err(_) => return Err(TokenResponseError::Http(status)),
    };
    let Some(obj) = value.as_object() else {
        return Err(if (200..300).contains(&status) {
            TokenResponseError::Malformed("not a JSON object".to_owned())
        } else {
            TokenResponseError::Http(status)
        });
    };
    if let Some(error) = obj.get("error") {
        let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_owned);
        return Err(TokenResponseError::Token(TokenError {
            error: error
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| error.to_string()),
            error_description: text("error_description"),
            status: text("status"),
        }));
    }
    if !(200..300).contains(&status) {
        return Err(TokenResponseError::Http(status));
    }
    let text = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let number = |k: &str| match obj.get(k) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let access_token = text("access_token")
        .ok_or_else(|| TokenResponseError::Malformed("no access_token".to_owned()))?;
    let api_domain = text("api_domain")
        .ok_or_else(|| TokenResponseError::Malformed("no api_domain".to_owned()))?;
    let expires_in_secs = match (number("expires_in_sec"), number("expires_in")) {
        (Some(secs), _) => secs,
        (None, Some(secs)) => secs,
        (None, None) => ACCESS_TOKEN_LIFETIME_SECS,
    };
    Ok(TokenSuccess {
        access_token: AccessToken::new(access_token),
        refresh_token: text("refresh_token").map(RefreshToken::new),
        scope: text("scope"),
        api_domain,
        token_type: text("token_type").unwrap_or_else(|| "Bearer".to_owned()),
        expires_in_secs,
    })
}

/// Reads an answer of the revoke endpoint: `{"status":"success"}` is success.
pub fn parse_revoke_response(status: u16, body: &str) -> Result<(), TokenResponseError> {
    let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    if let Some(error) = value.get("error") {
        return Err(TokenResponseError::Token(TokenError {
            error: error.as_str().unwrap_or("invalid_request").to_owned(),
            error_description: None,
            status: value
                .get("status")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }));
    }
    if (200..300).contains(&status)
        && value.get("status").and_then(Value::as_str) == Some("success")
    {
        Ok(())
    } else if (200..300).contains(&status) {
        Err(TokenResponseError::Malformed(
            body.chars().take(200).collect(),
        ))
    } else {
        Err(TokenResponseError::Http(status))
    }
}

// ---------------------------------------------------------------------------------------------
// Scopes
// ---------------------------------------------------------------------------------------------

/// What an operation needs of a scope's last segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeOp {
    Read,
    Create,
    Update,
    Delete,
}

impl ScopeOp {
    fn satisfied_by(self, granted: &str) -> bool {
        let g = granted.to_ascii_uppercase();
        match g.as_str() {
            "ALL" => true,
            "READ" => self == ScopeOp::Read,
            "CREATE" => self == ScopeOp::Create,
            "UPDATE" => self == ScopeOp::Update,
            "DELETE" => self == ScopeOp::Delete,
            "WRITE" => self != ScopeOp::Read,
            _ => false,
        }
    }
}

/// Splits a `scope` parameter (comma separated; spaces tolerated) into scopes. Fails on an empty
/// list or a scope that is not `Service.name[.sub].OPERATION`.
pub fn parse_scopes(scope: &str) -> Result<Vec<String>, String> {
    let scopes: Vec<String> = scope
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if scopes.is_empty() {
        return Err(String::new());
    }
    for s in &scopes {
        let parts: Vec<&str> = s.split('.').collect();
        let well_formed = parts.len() >= 2
            && parts.iter().all(|p| {
                !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            });
        if !well_formed {
            return Err(s.clone());
        }
    }
    Ok(scopes)
}

/// Whether any of `granted` covers `path` (e.g. `ZohoCRM.modules.leads`) for `op`: a granted
/// scope `A.b.OP` covers every path that starts with `A.b` (segment-wise, case-insensitive) when
/// `OP` is `ALL` or matches `op`. `ZohoCRM.modules.ALL` thus covers `ZohoCRM.modules.leads`.
pub fn scope_allows<S: AsRef<str>>(granted: &[S], path: &str, op: ScopeOp) -> bool {
    let want: Vec<&str> = path.split('.').collect();
    granted.iter().any(|g| {
        let parts: Vec<&str> = g.as_ref().split('.').collect();
        let Some((last, prefix)) = parts.split_last() else {
            return false;
        };
        prefix.len() <= want.len()
            && prefix
                .iter()
                .zip(&want)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
            && op.satisfied_by(last)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_codes_have_zohos_shape() {
        let good = format!("1000.{}.{}", "a1".repeat(16), "F0".repeat(16));
        assert!(code_is_well_formed(&good));
        for bad in [
            "",
            "1000.x",
            "1000.abc.def",
            "junk",
            "1000..",
            &format!("1000.{}.{}.00000000", "a".repeat(32), "b".repeat(32)),
            &format!("x000.{}.{}", "a".repeat(32), "b".repeat(32)),
            &format!("1000.{}.{}", "g".repeat(32), "b".repeat(32)),
            &format!("1000.{}.{}", "a".repeat(129), "b".repeat(32)),
            &format!("1000.{}.{} ", "a".repeat(32), "b".repeat(32)),
        ] {
            assert!(!code_is_well_formed(bad), "{bad}");
        }
    }

    #[test]
    fn success_current_variant() {
        let body = r#"{"access_token":"1000.a","refresh_token":"1000.r","scope":"ZohoCRM.modules.ALL","api_domain":"http://127.0.0.1:8790/eu/production","token_type":"Bearer","expires_in":3600}"#;
        let t = parse_token_response(200, body).unwrap();
        assert_eq!(t.access_token.secret(), "1000.a");
        assert_eq!(t.refresh_token.unwrap().secret(), "1000.r");
        assert_eq!(t.expires_in_secs, 3600);
        assert_eq!(t.api_domain, "http://127.0.0.1:8790/eu/production");
        assert_eq!(t.scope.as_deref(), Some("ZohoCRM.modules.ALL"));
    }

    #[test]
    fn success_legacy_variant_uses_seconds() {
        let body = r#"{"access_token":"1000.a","api_domain":"x","token_type":"Bearer","expires_in_sec":3600,"expires_in":3600000}"#;
        let t = parse_token_response(200, body).unwrap();
        assert_eq!(t.expires_in_secs, 3600);
        assert!(t.refresh_token.is_none());
        // Numbers as strings are tolerated.
        let body = r#"{"access_token":"1000.a","api_domain":"x","expires_in":"1800"}"#;
        assert_eq!(
            parse_token_response(200, body).unwrap().expires_in_secs,
            1800
        );
    }

    #[test]
    fn errors_with_http_200_are_errors() {
        for (body, kind) in [
            (r#"{"error":"invalid_code"}"#, TokenErrorKind::InvalidCode),
            (
                r#"{"error":"invalid_client"}"#,
                TokenErrorKind::InvalidClient,
            ),
            (
                r#"{"error":"invalid_client_secret"}"#,
                TokenErrorKind::InvalidClientSecret,
            ),
            (
                r#"{"error":"invalid_redirect_uri"}"#,
                TokenErrorKind::InvalidRedirectUri,
            ),
            (r#"{"error":"something_new"}"#, TokenErrorKind::Other),
        ] {
            match parse_token_response(200, body) {
                Err(TokenResponseError::Token(e)) => assert_eq!(e.kind(), kind, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn throttle_body_in_both_statuses() {
        let body = serde_json::to_string(&TokenError::new(TokenErrorKind::Throttled)).unwrap();
        assert_eq!(
            body,
            r#"{"error":"Access Denied","error_description":"You have made too many requests continuously. Please try again after some time.","status":"failure"}"#
        );
        for status in [200, 400] {
            match parse_token_response(status, &body) {
                Err(TokenResponseError::Token(e)) => {
                    assert_eq!(e.kind(), TokenErrorKind::Throttled)
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn malformed_and_http_errors() {
        assert!(matches!(
            parse_token_response(200, "<html>"),
            Err(TokenResponseError::Malformed(_))
        ));
        assert!(matches!(
            parse_token_response(502, "<html>"),
            Err(TokenResponseError::Http(502))
        ));
        assert!(matches!(
            parse_token_response(500, "{}"),
            Err(TokenResponseError::Http(500))
        ));
        assert!(matches!(
            parse_token_response(200, r#"{"api_domain":"x"}"#),
            Err(TokenResponseError::Malformed(_))
        ));
        assert!(matches!(
            parse_token_response(200, "[]"),
            Err(TokenResponseError::Malformed(_))
        ));
    }

    #[test]
    fn response_body_serializes_both_variants() {
        let b = TokenResponseBody::new(
            AccessToken::new("a"),
            None,
            Some("s".into()),
            "d".into(),
            3600,
            false,
        );
        let v: Value = serde_json::to_value(&b).unwrap();
        assert_eq!(v["expires_in"], 3600);
        assert!(v.get("expires_in_sec").is_none());
        assert!(v.get("refresh_token").is_none());
        let b = TokenResponseBody::new(
            AccessToken::new("a"),
            Some(RefreshToken::new("r")),
            None,
            "d".into(),
            3600,
            true,
        );
        let v: Value = serde_json::to_value(&b).unwrap();
        assert_eq!(v["expires_in"], 3_600_000);
        assert_eq!(v["expires_in_sec"], 3600);
        assert_eq!(v["refresh_token"], "r");
        assert_eq!(
            parse_token_response(200, &v.to_string())
                .unwrap()
                .expires_in_secs,
            3600
        );
    }

    #[test]
    fn token_request_round_trips_through_form() {
        let req = TokenRequest::AuthorizationCode {
            client_id: "1000.X".into(),
            client_secret: ClientSecret::new("s e"),
            redirect_uri: Some("http://127.0.0.1:8080/redirect.html".into()),
            code: AuthorizationCode::new("1000.c"),
            code_verifier: Some(CodeVerifier::new("v")),
        };
        let body = req.form_body();
        assert!(body.contains("grant_type=authorization_code"));
        assert!(!format!("{req:?}").contains("1000.c"));
        let pairs = form::parse(&body);
        let back =
            TokenRequest::from_params(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
        match back {
            TokenRequest::AuthorizationCode {
                client_secret,
                redirect_uri,
                code,
                code_verifier,
                ..
            } => {
                assert_eq!(client_secret.secret(), "s e");
                assert_eq!(
                    redirect_uri.as_deref(),
                    Some("http://127.0.0.1:8080/redirect.html")
                );
                assert_eq!(code.secret(), "1000.c");
                assert_eq!(code_verifier.unwrap().secret(), "v");
            }
            _ => panic!(),
        }
        let refresh = TokenRequest::RefreshToken {
            client_id: "c".into(),
            client_secret: ClientSecret::new("s"),
            refresh_token: RefreshToken::new("r"),
        };
        let pairs = form::parse(&refresh.form_body());
        let back =
            TokenRequest::from_params(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
        assert!(matches!(back, TokenRequest::RefreshToken { .. }));
        assert_eq!(back.client_id(), "c");
    }

    #[test]
    fn token_request_missing_parts() {
        let kind = |pairs: &[(&str, &str)]| {
            TokenRequest::from_params(pairs.iter().copied())
                .unwrap_err()
                .kind()
        };
        assert_eq!(
            kind(&[("grant_type", "refresh_token")]),
            TokenErrorKind::InvalidClient
        );
        assert_eq!(
            kind(&[("client_id", "c")]),
            TokenErrorKind::InvalidClientSecret
        );
        assert_eq!(
            kind(&[("client_id", "c"), ("client_secret", "s")]),
            TokenErrorKind::UnsupportedGrantType
        );
        assert_eq!(
            kind(&[
                ("client_id", "c"),
                ("client_secret", "s"),
                ("grant_type", "authorization_code")
            ]),
            TokenErrorKind::InvalidCode
        );
    }

    #[test]
    fn authorize_url_and_callback() {
        let req = AuthorizeRequest {
            client_id: "1000.ZCRMEDGEDEV".into(),
            redirect_uri: "http://127.0.0.1:8080/redirect.html".into(),
            scopes: vec!["ZohoCRM.modules.ALL".into(), "ZohoCRM.users.READ".into()],
            access_type: AccessType::Offline,
            prompt_consent: true,
            state: Some("st 1".into()),
            code_challenge: Some(("ch".into(), ChallengeMethod::S256)),
        };
        let url = req.url("http://127.0.0.1:8790/us/accounts/");
        assert!(url.starts_with("http://127.0.0.1:8790/us/accounts/oauth/v2/auth?response_type=code&client_id=1000.ZCRMEDGEDEV"));
        assert!(url.contains("scope=ZohoCRM.modules.ALL%2CZohoCRM.users.READ"));
        assert!(url.contains("state=st%201"));
        assert!(url.contains("code_challenge_method=S256"));

        match parse_callback(
            "?state=s&code=1000.c&location=eu&accounts-server=http%3A%2F%2F127.0.0.1%3A8790%2Feu%2Faccounts",
        ) {
            Callback::Approved {
                code,
                location,
                accounts_server,
                state,
            } => {
                assert_eq!(code.secret(), "1000.c");
                assert_eq!(location.as_deref(), Some("eu"));
                assert_eq!(
                    accounts_server.as_deref(),
                    Some("http://127.0.0.1:8790/eu/accounts")
                );
                assert_eq!(state.as_deref(), Some("s"));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(parse_callback("error=access_denied&state=s"), Callback::Denied { ref error, .. } if error == "access_denied")
        );
        assert!(matches!(
            parse_callback("code=1000.c&error=x"),
            Callback::Denied { .. }
        ));
        assert!(matches!(parse_callback("state=s"), Callback::Malformed));
    }

    #[test]
    fn revoke_answers() {
        assert!(parse_revoke_response(200, r#"{"status":"success"}"#).is_ok());
        assert!(
            parse_revoke_response(400, r#"{"status":"failure","error":"invalid_token"}"#).is_err()
        );
        assert!(matches!(
            parse_revoke_response(400, ""),
            Err(TokenResponseError::Http(400))
        ));
    }

    #[test]
    fn scopes() {
        assert_eq!(
            parse_scopes("ZohoCRM.modules.ALL, ZohoCRM.users.READ").unwrap(),
            vec!["ZohoCRM.modules.ALL", "ZohoCRM.users.READ"]
        );
        assert!(parse_scopes("").is_err());
        assert_eq!(parse_scopes("ZohoCRM.modules.ALL,bad").unwrap_err(), "bad");
        assert_eq!(parse_scopes("ZohoCRM..ALL").unwrap_err(), "ZohoCRM..ALL");

        let g = ["ZohoCRM.modules.ALL", "ZohoCRM.users.READ"];
        assert!(scope_allows(&g, "ZohoCRM.modules.leads", ScopeOp::Delete));
        assert!(scope_allows(&g, "ZohoCRM.users", ScopeOp::Read));
        assert!(!scope_allows(&g, "ZohoCRM.users", ScopeOp::Update));
        assert!(!scope_allows(&g, "ZohoCRM.org", ScopeOp::Read));
        assert!(!scope_allows(&g, "ZohoCRM.settings.fields", ScopeOp::Read));
        let g = ["zohocrm.modules.leads.READ", "ZohoCRM.settings.ALL"];
        assert!(scope_allows(&g, "ZohoCRM.modules.leads", ScopeOp::Read));
        assert!(!scope_allows(&g, "ZohoCRM.modules.leads", ScopeOp::Create));
        assert!(!scope_allows(&g, "ZohoCRM.modules.contacts", ScopeOp::Read));
        assert!(scope_allows(&g, "ZohoCRM.settings.fields", ScopeOp::Read));
        assert!(!scope_allows(
            &["ZohoCRM.modules.leads.ALL"],
            "ZohoCRM.modules",
            ScopeOp::Read
        ));
    }
}
