//! Property tests of every parser of the `zoho` crate: no input makes one panic, and what the
//! crate builds reads back as it was built. Bounded case counts keep the whole file to a few
//! seconds in the dev profile; `cargo xtask test` runs it with the rest of `cargo test`.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value, json};
use zoho::criteria::{Condition, Criteria, Operator};
use zoho::crm::{self, ApiResponse, ErrorCode};
use zoho::fields::{Field, Invalid, PickListValue};
use zoho::oauth::{self, Callback, TokenRequest, TokenResponseError};
use zoho::pkce::{self, ChallengeMethod};
use zoho::secret::{AccessToken, AuthorizationCode, ClientSecret, CodeVerifier, RefreshToken};
use zoho::{DataCenter, Endpoints, Environment, form};

/// `cases` per property, times `ZCRM_PROPS_SCALE` (default 1) for a longer soak.
fn config(cases: u32) -> Config {
    let scale = std::env::var("ZCRM_PROPS_SCALE")
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(1);
    Config {
        cases: cases.saturating_mul(scale),
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/// Any string: arbitrary unicode (control characters included), mostly short.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        2 => "[ -~]{0,40}",
        1 => "\\PC{0,200}",
        1 => prop::collection::vec(any::<char>(), 0..600).prop_map(|v| v.into_iter().collect()),
    ]
}

const OPERATORS: [&str; 14] = [
    "equals",
    "not_equal",
    "starts_with",
    "ends_with",
    "contains",
    "not_contains",
    "in",
    "not_in",
    "greater_than",
    "greater_equal",
    "less_than",
    "less_equal",
    "between",
    "not_between",
];

fn operator() -> impl Strategy<Value = Operator> {
    prop::sample::select(&OPERATORS[..]).prop_map(|s| Operator::parse(s).expect("an operator"))
}

/// Strings made of the criteria grammar's own tokens, so that the parser goes deep.
fn criteria_ish() -> impl Strategy<Value = String> {
    let token = prop::sample::select(
        &[
            "(",
            "(",
            "(",
            ")",
            ")",
            ")",
            ":",
            ":",
            ",",
            "\\",
            "\\(",
            "\\)",
            "\\,",
            "\\\\",
            "and",
            "or",
            "AND",
            "Or",
            " ",
            "equals",
            "starts_with",
            "in",
            "between",
            "Last_Name",
            "A",
            "$x",
            "1",
            "é",
            "\u{0}",
            "${empty}",
            "null",
            ")and(",
            ")or(",
            "((",
        ][..],
    );
    prop::collection::vec(token, 0..40).prop_map(|v| v.concat())
}

/// A field name the grammar accepts.
fn field_name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.$]{1,20}"
}

/// Values heavy in the characters that must be escaped.
fn criteria_value() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => text(),
        2 => "[()\\\\, a-z:é]{0,12}",
        1 => Just(String::new()),
    ]
}

fn condition() -> impl Strategy<Value = Criteria> {
    (
        field_name(),
        operator(),
        prop::collection::vec(criteria_value(), 1..4),
    )
        .prop_map(|(field, op, values)| Criteria::Cond(Condition { field, op, values }))
}

/// Criteria trees as the builders make them: `and`/`or` always join two or more.
fn criteria_tree() -> impl Strategy<Value = Criteria> {
    condition().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..5).prop_map(Criteria::And),
            prop::collection::vec(inner, 2..5).prop_map(Criteria::Or),
        ]
    })
}

/// Keys Zoho's answers use, and a few others.
fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(
            &[
                "error", "error_description", "status", "access_token", "refresh_token",
                "api_domain", "token_type", "expires_in", "expires_in_sec", "scope", "code",
                "details", "message", "data", "id", "info", "more_records",
            ][..],
        )
        .prop_map(str::to_owned),
        1 => text(),
    ]
}

/// Any JSON value, with Zoho's keys and values likely.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::from),
        prop::sample::select(
            &[
                "error",
                "success",
                "Access Denied",
                "invalid_code",
                "INVALID_DATA",
                "3600",
                "1000.x",
                "",
            ][..]
        )
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((json_key(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A JSON body, or something close to one, or nothing like one.
fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => json_value().prop_map(|v| v.to_string()),
        1 => text(),
        1 => json_value().prop_flat_map(|v| {
            let s = v.to_string();
            let len = s.len();
            (Just(s), 0..=len).prop_map(|(s, cut)| {
                s.get(..cut).unwrap_or(&s).to_owned()
            })
        }),
    ]
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        3 => prop::sample::select(&[200u16, 201, 202, 204, 207, 400, 401, 403, 404, 429, 500, 502, 503][..]),
        1 => any::<u16>(),
    ]
}

// ---------------------------------------------------------------------------------------------
// criteria
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(10000))]

    /// Whatever parses prints back to a string that parses to the same criteria, and evaluating
    /// it against any record does not panic.
    #[test]
    fn criteria_parse_never_panics(s in prop_oneof![text(), criteria_ish()], v in text()) {
        if let Ok(c) = Criteria::parse(&s) {
            prop_assert_eq!(Criteria::parse(&c.to_string()), Ok(c.clone()), "{}", s);
            prop_assert_eq!(c.condition_count(), c.conditions().len());
            let _ = c.matches(&|_| Some(v.clone()));
            let _ = c.matches(&|_| None);
        }
    }
}

proptest! {
    #![proptest_config(config(2000))]

    /// Built criteria, with values full of `( ) , \` and unicode, read back as built.
    #[test]
    fn criteria_round_trip(c in criteria_tree()) {
        let s = c.to_string();
        prop_assert_eq!(Criteria::parse(&s), Ok(c.clone()), "{}", s);
        prop_assert_eq!(c.condition_count(), c.conditions().len());
    }
}

proptest! {
    #![proptest_config(config(3000))]

    /// A value is always one value of one condition, whatever it contains.
    #[test]
    fn criteria_values_are_text(field in field_name(), value in criteria_value()) {
        let c = Criteria::equals(&field, &value);
        let back = Criteria::parse(&c.to_string()).expect("parses");
        prop_assert_eq!(back.condition_count(), 1);
        prop_assert_eq!(&back.conditions()[0].values, &vec![value]);
    }
}

/// Nesting deep enough to exhaust the stack of a recursive parser is refused, not a crash
/// (5,000 levels used to abort the process).
#[test]
fn criteria_deep_nesting_is_an_error() {
    for depth in [33, 1_000, 100_000] {
        assert!(Criteria::parse(&"(".repeat(depth)).is_err());
        let s = format!("{}A:equals:1{}", "(".repeat(depth), ")".repeat(depth));
        assert!(Criteria::parse(&s).is_err(), "depth {depth}");
        let s = format!(
            "{}(A:equals:1)and(B:equals:2){}",
            "(".repeat(depth),
            ")".repeat(depth)
        );
        assert!(Criteria::parse(&s).is_err(), "depth {depth}");
    }
}

// ---------------------------------------------------------------------------------------------
// form
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn form_encode_decode_is_identity(s in text()) {
        let e = form::encode_component(&s);
        prop_assert!(e.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)), "{}", e);
        prop_assert_eq!(form::decode_component(&e), s);
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn form_build_parse_is_identity(pairs in prop::collection::vec((text(), text()), 0..6)) {
        let q = form::build(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        prop_assert_eq!(form::parse(&q), pairs.clone());
        prop_assert_eq!(form::parse(&format!("?{q}")), pairs);
    }
}

proptest! {
    #![proptest_config(config(5000))]

    #[test]
    fn form_parsers_never_panic(s in prop_oneof![text(), "[%+&=?a-fA-F0-9é]{0,30}"]) {
        let _ = form::decode_component(&s);
        let pairs = form::parse(&s);
        prop_assert!(pairs.len() <= s.matches('&').count() + 1);
        let _ = form::parse_bool(&s);
    }
}

// ---------------------------------------------------------------------------------------------
// oauth
// ---------------------------------------------------------------------------------------------

/// Objects shaped like token answers, with each key present or not and any value.
fn token_answer() -> impl Strategy<Value = Value> {
    let key = |k: &'static str| {
        prop::option::of(prop_oneof![
            json_value(),
            text().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<u64>().prop_map(|n| Value::from(n.to_string())),
        ])
        .prop_map(move |v| (k, v))
    };
    (
        key("access_token"),
        key("refresh_token"),
        key("api_domain"),
        key("expires_in"),
        key("expires_in_sec"),
        key("error"),
        key("error_description"),
        key("token_type"),
    )
        .prop_map(|(a, b, c, d, e, f, g, h)| {
            Value::Object(
                [a, b, c, d, e, f, g, h]
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
                    .collect(),
            )
        })
}

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn token_response_never_panics(
        status in status(),
        body in prop_oneof![body(), token_answer().prop_map(|v| v.to_string())],
    ) {
        let ok = (200..300).contains(&status);
        let value: Option<Value> = serde_json::from_str(&body).ok();
        let has_error = value.as_ref().and_then(Value::as_object).is_some_and(|o| o.contains_key("error"));
        match oauth::parse_token_response(status, &body) {
            Ok(t) => {
                prop_assert!(ok && !has_error);
                prop_assert!(!t.access_token.secret().is_empty());
                prop_assert!(!t.api_domain.is_empty());
            }
            Err(TokenResponseError::Token(e)) => {
                prop_assert!(has_error);
                let _ = e.kind();
            }
            Err(TokenResponseError::Http(s)) => prop_assert!(!ok && s == status),
            Err(TokenResponseError::Malformed(_)) => prop_assert!(ok),
        }
        let _ = oauth::parse_revoke_response(status, &body).map_err(|e| e.to_string());
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// What the simulator serializes, the edge reads, in both variants.
    #[test]
    fn token_body_round_trip(
        access in "[ -~]{1,60}",
        refresh in prop::option::of("[ -~]{1,60}"),
        scope in prop::option::of("[ -~]{1,60}"),
        domain in "[ -~]{1,60}",
        lifetime in 0u64..1_000_000_000,
        legacy in any::<bool>(),
    ) {
        let body = oauth::TokenResponseBody::new(
            AccessToken::new(access.clone()),
            refresh.clone().map(RefreshToken::new),
            scope.clone(),
            domain.clone(),
            lifetime,
            legacy,
        );
        let t = oauth::parse_token_response(200, &serde_json::to_string(&body).unwrap()).unwrap();
        prop_assert_eq!(t.access_token.secret(), access.as_str());
        prop_assert_eq!(t.refresh_token.map(RefreshToken::into_secret), refresh);
        prop_assert_eq!(t.scope, scope);
        prop_assert_eq!(t.api_domain, domain);
        prop_assert_eq!(t.expires_in_secs, lifetime);
    }
}

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn callback_never_panics(q in prop_oneof![
        text(),
        prop::collection::vec(
            (prop::sample::select(&["code", "state", "location", "accounts-server", "error", "x"][..]), text()),
            0..6,
        ).prop_map(form::build),
    ]) {
        match oauth::parse_callback(&q) {
            Callback::Approved { code, .. } => prop_assert!(!code.secret().is_empty()),
            Callback::Denied { .. } | Callback::Malformed => {}
        }
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// The redirect's parameters come back exactly, whatever they hold.
    #[test]
    fn callback_round_trip(
        code in text().prop_filter("non-empty", |c| !c.is_empty()),
        location in text(),
        server in text(),
        state in text(),
        noise in prop::collection::vec(("[a-z_]{1,8}".prop_filter("not ours", |k| !matches!(k.as_str(), "code" | "state" | "location" | "error")), text()), 0..3),
    ) {
        let mut pairs: Vec<(&str, &str)> = vec![
            ("state", &state),
            ("code", &code),
            ("location", &location),
            ("accounts-server", &server),
        ];
        pairs.extend(noise.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        match oauth::parse_callback(&form::build(pairs)) {
            Callback::Approved { code: c, location: l, accounts_server: a, state: s } => {
                prop_assert_eq!(c.secret(), code.as_str());
                prop_assert_eq!(l, Some(location));
                prop_assert_eq!(a, Some(server));
                prop_assert_eq!(s, Some(state.clone()));
            }
            other => prop_assert!(false, "{:?}", other),
        }
        let denied = form::build([("error", "access_denied"), ("code", &code), ("state", &state)]);
        let is_denied = matches!(oauth::parse_callback(&denied), Callback::Denied { error, state: Some(s) } if error == "access_denied" && s == state);
        prop_assert!(is_denied);
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// Token requests read back from their own form body.
    #[test]
    fn token_request_round_trip(
        id in text().prop_filter("non-empty", |s| !s.is_empty()),
        secret in text().prop_filter("non-empty", |s| !s.is_empty()),
        code in text().prop_filter("non-empty", |s| !s.is_empty()),
        redirect in prop::option::of(text().prop_filter("non-empty", |s| !s.is_empty())),
        verifier in prop::option::of(text().prop_filter("non-empty", |s| !s.is_empty())),
        refresh in any::<bool>(),
    ) {
        let req = if refresh {
            TokenRequest::RefreshToken {
                client_id: id.clone(),
                client_secret: ClientSecret::new(secret.clone()),
                refresh_token: RefreshToken::new(code.clone()),
            }
        } else {
            TokenRequest::AuthorizationCode {
                client_id: id.clone(),
                client_secret: ClientSecret::new(secret.clone()),
                redirect_uri: redirect.clone(),
                code: AuthorizationCode::new(code.clone()),
                code_verifier: verifier.clone().map(CodeVerifier::new),
            }
        };
        let pairs = form::parse(&req.form_body());
        let back = TokenRequest::from_params(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
        prop_assert_eq!(back.client_id(), id.as_str());
        prop_assert_eq!(back.client_secret().secret(), secret.as_str());
        match back {
            TokenRequest::RefreshToken { refresh_token, .. } => {
                prop_assert!(refresh);
                prop_assert_eq!(refresh_token.secret(), code.as_str());
            }
            TokenRequest::AuthorizationCode { redirect_uri, code: c, code_verifier, .. } => {
                prop_assert!(!refresh);
                prop_assert_eq!(c.secret(), code.as_str());
                prop_assert_eq!(redirect_uri, redirect);
                prop_assert_eq!(code_verifier.map(CodeVerifier::into_secret), verifier);
            }
        }
    }
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn token_request_from_any_params(pairs in prop::collection::vec(
        (prop_oneof![
            prop::sample::select(&["grant_type", "client_id", "client_secret", "code", "refresh_token", "redirect_uri", "code_verifier"][..]).prop_map(str::to_owned),
            text(),
        ], prop_oneof![
            prop::sample::select(&["authorization_code", "refresh_token", ""][..]).prop_map(str::to_owned),
            text(),
        ]),
        0..8,
    )) {
        match TokenRequest::from_params(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            Ok(r) => {
                prop_assert!(!r.client_id().is_empty() && !r.client_secret().secret().is_empty());
                let _ = r.form_body();
            }
            Err(e) => {
                let _ = e.kind();
            }
        }
    }
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn scopes_never_panic(s in prop_oneof![text(), "[A-Za-z_., ]{0,40}"], path in "[A-Za-z_.]{0,30}") {
        if let Ok(scopes) = oauth::parse_scopes(&s) {
            prop_assert!(!scopes.is_empty());
            for op in [oauth::ScopeOp::Read, oauth::ScopeOp::Create, oauth::ScopeOp::Update, oauth::ScopeOp::Delete] {
                let _ = oauth::scope_allows(&scopes, &path, op);
            }
        }
        let _ = oauth::scope_allows(&[s.as_str()], &path, oauth::ScopeOp::Read);
        let _ = oauth::AccessType::parse(&s);
        let _ = oauth::TokenErrorKind::from_error(&s);
    }
}

// ---------------------------------------------------------------------------------------------
// crm
// ---------------------------------------------------------------------------------------------

/// Bodies shaped like the CRM's answers: an error at the top or in `data[]`, or records.
fn crm_answer() -> impl Strategy<Value = Value> {
    let error = (
        prop_oneof![
            prop::sample::select(&["INVALID_DATA", "DUPLICATE_DATA", "SUCCESS", "INTERNAL_ERROR"][..]).prop_map(Value::from),
            json_value(),
        ],
        prop::sample::select(&["error", "success", ""][..]),
        json_value(),
    )
        .prop_map(|(code, status, details)| json!({"code": code, "status": status, "details": details, "message": "m"}))
        .boxed();
    prop_oneof![
        error.clone(),
        prop::collection::vec(prop_oneof![error, json_value()], 0..3)
            .prop_map(|d| json!({"data": d})),
        json_value(),
    ]
}

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn classify_response_never_panics(
        status in status(),
        body in prop_oneof![body(), crm_answer().prop_map(|v| v.to_string())],
    ) {
        let ok = (200..300).contains(&status);
        match crm::classify_response(status, &body) {
            ApiResponse::NoContent => prop_assert!(status == 204 || (ok && body.trim().is_empty())),
            ApiResponse::Json(s, v) => {
                prop_assert_eq!(s, status);
                if !ok {
                    // Only a write whose records all failed passes as JSON on an error status.
                    prop_assert!(v.get("data").and_then(Value::as_array).is_some_and(|d| !d.is_empty()));
                }
            }
            ApiResponse::Error(s, e) => {
                prop_assert_eq!(s, status);
                prop_assert!(!e.code.is_empty() || serde_json::from_str::<Value>(&body).is_ok());
                let _ = (e.error_code(), e.http_status(), e.to_json());
            }
        }
    }
}

proptest! {
    #![proptest_config(config(5000))]

    #[test]
    fn crm_small_parsers_never_panic(s in text()) {
        if let Some(code) = ErrorCode::parse(&s) {
            prop_assert_eq!(code.as_str(), s.as_str());
        }
        if let Some(t) = crm::token_from_authorization(&s) {
            prop_assert!(!t.is_empty() && s.contains(t));
        }
        if zoho::fields::is_record_id(&s) {
            prop_assert!(!s.is_empty() && s.len() <= 25 && s.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn authorization_header_round_trip(token in "[!-~]{1,80}") {
        let h = crm::authorization_header(&AccessToken::new(token.clone()));
        prop_assert_eq!(crm::token_from_authorization(&h), Some(token.as_str()));
    }
}

// ---------------------------------------------------------------------------------------------
// fields
// ---------------------------------------------------------------------------------------------

fn field() -> impl Strategy<Value = Field> {
    (
        prop::sample::select(
            &[
                "string",
                "jsonobject",
                "integer",
                "double",
                "boolean",
                "jsonarray",
                "",
            ][..],
        ),
        prop::sample::select(
            &[
                "text",
                "email",
                "phone",
                "picklist",
                "textarea",
                "ownerlookup",
                "bigint",
                "",
            ][..],
        ),
        prop_oneof![0u32..50, any::<u32>()],
        prop::collection::vec(text(), 0..4),
    )
        .prop_map(|(json_type, data_type, length, picks)| Field {
            api_name: "F".into(),
            field_label: "F".into(),
            display_label: "F".into(),
            data_type: data_type.into(),
            json_type: json_type.into(),
            system_mandatory: false,
            custom_field: false,
            read_only: false,
            length,
            pick_list_values: picks
                .into_iter()
                .map(|p| PickListValue {
                    display_value: p.clone(),
                    actual_value: p,
                    id: String::new(),
                    sequence_number: 0,
                    value_type: "used".into(),
                })
                .collect(),
            id: String::new(),
        })
}

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn field_check_never_panics(f in field(), v in prop_oneof![
        json_value(),
        text().prop_map(Value::from),
        "[0-9]{1,30}".prop_map(|id| json!({"id": id})),
    ]) {
        match f.check(&v) {
            Ok(()) => {
                if f.json_type == "string" {
                    let s = v.as_str().expect("a string passed");
                    prop_assert!(f.length == 0 || s.chars().count() <= f.length as usize);
                }
            }
            Err(Invalid::TooLong { maximum_length }) => {
                prop_assert_eq!(maximum_length, f.length);
                prop_assert!(v.as_str().unwrap().chars().count() > f.length as usize);
            }
            Err(e) => {
                let _ = e.details();
            }
        }
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// A picklist accepts each of its own values and nothing outside them.
    #[test]
    fn picklist_accepts_its_values(mut f in field(), s in text()) {
        f.json_type = "string".into();
        f.data_type = "picklist".into();
        f.length = 0;
        for p in &f.pick_list_values {
            prop_assert_eq!(f.check(&Value::from(p.actual_value.clone())), Ok(()));
        }
        let listed = f.pick_list_values.iter().any(|p| p.actual_value == s);
        prop_assert_eq!(f.check(&Value::from(s.clone())).is_ok(), s.is_empty() || listed);
    }
}

// ---------------------------------------------------------------------------------------------
// pkce and the data-centre table
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn pkce_verifies_its_own_challenge(verifier in prop_oneof!["[A-Za-z0-9._~-]{43,128}", text()], other in text()) {
        let challenge = pkce::s256_challenge(&CodeVerifier::new(verifier.clone()));
        prop_assert_eq!(challenge.len(), 43);
        prop_assert!(challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        prop_assert!(pkce::verify(ChallengeMethod::S256, &challenge, &verifier));
        prop_assert!(pkce::verify(ChallengeMethod::Plain, &verifier, &verifier));
        if other != verifier {
            prop_assert!(!pkce::verify(ChallengeMethod::S256, &challenge, &other));
            prop_assert!(!pkce::verify(ChallengeMethod::Plain, &verifier, &other));
        }
        if pkce::verifier_is_valid(&verifier) {
            prop_assert!((43..=128).contains(&verifier.len()));
        }
        let _ = ChallengeMethod::parse(&other);
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn base64url_has_the_right_shape(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let e = zoho::base64::encode_url(&bytes);
        prop_assert_eq!(e.len(), (bytes.len() * 4).div_ceil(3));
        prop_assert!(e.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }
}

proptest! {
    #![proptest_config(config(3000))]

    /// Only the table's own URLs are recognised: nothing else is ever taken as a data centre.
    #[test]
    fn the_table_recognises_only_itself(
        s in prop_oneof![
            text(),
            (prop::sample::select(&DataCenter::ALL[..]), prop::sample::select(&Environment::ALL[..]), "[/ .a-z]{0,3}")
                .prop_map(|(dc, env, tail)| format!("{}{tail}", Endpoints::Zoho.api_domain(dc, env))),
            (prop::sample::select(&DataCenter::ALL[..]), "[/ .a-z]{0,3}")
                .prop_map(|(dc, tail)| format!("{}{tail}", Endpoints::Zoho.accounts_server(dc))),
        ],
        base in prop_oneof![Just("http://127.0.0.1:8790".to_owned()), text()],
    ) {
        for endpoints in [Endpoints::Zoho, Endpoints::simulator(&base)] {
            if let Some(dc) = endpoints.data_center_of_accounts_server(&s) {
                prop_assert_eq!(s.strip_suffix('/').unwrap_or(&s), endpoints.accounts_server(dc));
            }
            if let Some((dc, env)) = endpoints.locate_api_domain(&s) {
                prop_assert_eq!(s.strip_suffix('/').unwrap_or(&s), endpoints.api_domain(dc, env));
            }
        }
        if let Some(dc) = DataCenter::from_location(&s) {
            prop_assert_eq!(dc.location(), s.as_str());
        }
        if let Ok(env) = s.parse::<Environment>() {
            prop_assert_eq!(env.as_str(), s.as_str());
        }
    }
}
