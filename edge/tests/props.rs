//! Property tests of the edge's pure modules: settings, sealing, cookies, sessions, records and
//! the reading and writing of students as Leads. No input makes them panic; sealed values open
//! only as sealed; search terms stay text.

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::test_runner::Config as PropConfig;
use serde_json::{Map, Value, json};
use zcrm_api::students::{FieldLimits, Student, StudentField, StudentInput};
use zcrm_edge::config::{Config, is_loopback_url};
use zcrm_edge::grant::{
    GrantState, MAX_LIVE_TOKENS, MAX_SESSIONS_PER_USER, SessionStatus, TOKENS_PER_WINDOW,
    ZOHO_WINDOW_MS,
};
use zcrm_edge::leads::{self, ListQuery, WriteOutcome};
use zcrm_edge::records::user_key;
use zcrm_edge::seal::Keyring;
use zcrm_edge::{cookies, session};
use zoho::base64::{decode_url, encode_standard, encode_url};
use zoho::criteria::Criteria;
use zoho::fields::{Field, FieldsResponse, PickListValue, is_record_id};
use zoho::{DataCenter, Endpoints, Environment};

/// `cases` per property, times `ZCRM_PROPS_SCALE` (default 1) for a longer soak.
fn config(cases: u32) -> PropConfig {
    let scale = std::env::var("ZCRM_PROPS_SCALE")
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(1);
    PropConfig {
        cases: cases.saturating_mul(scale),
        failure_persistence: None,
        ..PropConfig::default()
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
        1 => "\\PC{0,150}",
        1 => prop::collection::vec(any::<char>(), 0..400).prop_map(|v| v.into_iter().collect()),
    ]
}

/// Any JSON value, with the keys and values of Zoho's answers likely.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::from),
        "[0-9]{1,30}".prop_map(Value::from),
        prop::sample::select(
            &[
                "success",
                "error",
                "SUCCESS",
                "INVALID_DATA",
                "MANDATORY_NOT_FOUND",
                "DUPLICATE_DATA",
                "NOT_FOUND",
                "Email",
                "Company",
                "Last_Name",
                "Course",
            ][..]
        )
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((json_key(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(
            &[
                "data", "code", "details", "message", "status", "id", "api_name", "json_path",
                "maximum_length", "expected_data_type", "First_Name", "Last_Name", "Company",
                "Course", "Email", "Phone",
            ][..]
        )
        .prop_map(str::to_owned),
        1 => text(),
    ]
}

// ---------------------------------------------------------------------------------------------
// config
// ---------------------------------------------------------------------------------------------

const VARIABLES: [&str; 10] = [
    "ZOHO_ENVIRONMENT",
    "ZOHO_CLIENT_ID",
    "ZOHO_CLIENT_SECRET",
    "ZOHO_REDIRECT_URI",
    "ZOHO_SIM_BASE",
    "TOKEN_KEYS",
    "LOG_LEVEL",
    "CONNECT_TIMEOUT_MS",
    "READ_TIMEOUT_MS",
    "ALLOWED_MODULES",
];

const KEY: &str = "v1:emNybS1lZGdlLWxvY2FsLWRldi1rZXktMzItYnl0ZXM=";

/// A value of each variable that is accepted.
fn good(variable: &'static str) -> BoxedStrategy<String> {
    let pick = |v: &'static [&'static str]| prop::sample::select(v).prop_map(str::to_owned).boxed();
    match variable {
        "ZOHO_ENVIRONMENT" => pick(&["production", "sandbox", "developer"]),
        "ZOHO_CLIENT_ID" => "1000\\.[A-Z0-9]{1,30}".boxed(),
        "ZOHO_CLIENT_SECRET" => "[!-~]{1,40}".boxed(),
        "ZOHO_REDIRECT_URI" => pick(&[
            "https://portal.example/redirect.html",
            "http://127.0.0.1:8080/redirect.html",
            "http://[::1]:8080/r?x=1",
        ]),
        "ZOHO_SIM_BASE" => pick(&["http://127.0.0.1:8790", "http://localhost:8790/", " ", ""]),
        "TOKEN_KEYS" => Just(KEY.to_owned()).boxed(),
        "LOG_LEVEL" => pick(&["debug", "info", "warn", "error"]),
        "CONNECT_TIMEOUT_MS" | "READ_TIMEOUT_MS" => {
            (100u32..=120_000).prop_map(|n| n.to_string()).boxed()
        }
        "ALLOWED_MODULES" => pick(&["Leads,Contacts", "Leads", "Deals, Leads"]),
        _ => unreachable!(),
    }
}

/// A plausible value of each variable, good or subtly bad.
fn plausible(variable: &'static str) -> BoxedStrategy<String> {
    let pick = |v: &'static [&'static str]| prop::sample::select(v).prop_map(str::to_owned).boxed();
    match variable {
        "ZOHO_ENVIRONMENT" => pick(&[
            "production",
            "sandbox",
            "developer",
            " sandbox ",
            "Sandbox",
            "",
        ]),
        "ZOHO_CLIENT_ID" => prop_oneof!["1000\\.[A-Z0-9]{1,30}", "[ -~]{0,250}"].boxed(),
        "ZOHO_CLIENT_SECRET" => "[ -~]{0,40}".boxed(),
        "ZOHO_REDIRECT_URI" | "ZOHO_SIM_BASE" => url().boxed(),
        "TOKEN_KEYS" => prop_oneof![
            Just(KEY.to_owned()),
            keyring_spec(),
            "[a-zA-Z0-9:,=+/ ]{0,60}",
        ]
        .boxed(),
        "LOG_LEVEL" => pick(&["debug", "INFO", "warn", "warning", "error", "trace", ""]),
        "CONNECT_TIMEOUT_MS" | "READ_TIMEOUT_MS" => prop_oneof![
            (0u64..200_000).prop_map(|n| n.to_string()),
            pick(&[
                "99", "100", "120000", "120001", " 500 ", "+500", "-1", "1e3", ""
            ]),
        ]
        .boxed(),
        "ALLOWED_MODULES" => prop_oneof![
            "[A-Za-z_]{1,10}(,[ A-Za-z_]{0,10}){0,3}",
            pick(&["Leads,../x", "Leads,Contacts", ",,", "", "Leads;Deals"]),
        ]
        .boxed(),
        _ => unreachable!(),
    }
}

/// URLs around the loopback and https cases, with the usual tricks.
fn url() -> impl Strategy<Value = String> {
    let scheme =
        prop::sample::select(&["http://", "https://", "HTTP://", "http:/", "", "ftp://"][..]);
    let host = prop::sample::select(
        &[
            "127.0.0.1",
            "localhost",
            "[::1]",
            "::1",
            "127.0.0.2",
            "127.0.0.1.evil.example",
            "localhost.example",
            "[::1",
            "[::2]",
            "evil.example",
            "portal.example",
            "LOCALHOST",
            "127.0.0.1@evil.example",
            "evil.example@127.0.0.1",
            "[::ffff:127.0.0.1]",
            "0.0.0.0",
            "",
            "127.1",
        ][..],
    );
    let port = prop_oneof![
        Just(String::new()),
        (1u32..70_000).prop_map(|p| format!(":{p}")),
        prop::sample::select(
            &[
                ":",
                ":0",
                ":+80",
                ":-1",
                ":x",
                ":8790@evil.example",
                ": 80",
                ":08790"
            ][..]
        )
        .prop_map(str::to_owned),
    ];
    let tail = prop::sample::select(
        &[
            "",
            "/",
            "/redirect.html",
            "?x=1",
            "#f",
            "@evil.example",
            "\\evil.example",
            ".evil.example",
            "/@evil.example",
            " /x",
            "%2F",
        ][..],
    );
    prop_oneof![
        4 => (scheme, host, port, tail).prop_map(|(s, h, p, t)| format!("{s}{h}{p}{t}")),
        1 => text(),
    ]
}

/// Up to three entries of `id:base64key`, now and then broken.
fn keyring_spec() -> impl Strategy<Value = String> {
    let entry = (
        prop_oneof![4 => "[A-Za-z0-9]{1,16}", 1 => "[ -~]{0,20}"],
        prop_oneof![
            4 => prop::collection::vec(any::<u8>(), 32).prop_map(|k| encode_standard(&k)),
            1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(|k| encode_standard(&k)),
            1 => "[ -~]{0,50}",
        ],
    )
        .prop_map(|(id, key)| format!("{id}:{key}"));
    (
        prop::collection::vec(entry, 0..4),
        prop::sample::select(&[",", ", ", " , ", ";"][..]),
    )
        .prop_map(|(entries, sep)| entries.join(sep))
}

fn variables() -> impl Strategy<Value = HashMap<String, String>> {
    let one = |v: &'static str| {
        prop_oneof![
            1 => Just(None),
            30 => good(v).prop_map(Some),
            4 => plausible(v).prop_map(Some),
            1 => text().prop_map(Some),
        ]
        .prop_map(move |x| x.map(|x| (v.to_owned(), x)))
    };
    (
        (
            one(VARIABLES[0]),
            one(VARIABLES[1]),
            one(VARIABLES[2]),
            one(VARIABLES[3]),
            one(VARIABLES[4]),
        ),
        (
            one(VARIABLES[5]),
            one(VARIABLES[6]),
            one(VARIABLES[7]),
            one(VARIABLES[8]),
            one(VARIABLES[9]),
        ),
    )
        .prop_map(|((a, b, c, d, e), (f, g, h, i, j))| {
            [a, b, c, d, e, f, g, h, i, j]
                .into_iter()
                .flatten()
                .collect()
        })
}

/// What a loopback URL must be: `http://` then exactly one of the three loopback hosts, an
/// optional port of digits (1 to 65535), and nothing else before the path.
fn strictly_loopback(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let port = ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .find_map(|h| authority.strip_prefix(h));
    match port {
        Some("") => true,
        Some(p) => p.strip_prefix(':').is_some_and(|d| {
            !d.is_empty()
                && d.bytes().all(|b| b.is_ascii_digit())
                && d.parse::<u16>().is_ok_and(|n| n != 0)
        }),
        None => false,
    }
}

proptest! {
    #![proptest_config(config(10000))]

    /// `is_loopback_url` agrees with a strict reading of the URL: it never lets another host in.
    #[test]
    fn loopback_means_exactly_loopback(u in url()) {
        prop_assert_eq!(is_loopback_url(&u), strictly_loopback(&u), "{:?}", u);
    }
}

proptest! {
    #![proptest_config(config(3000))]

    /// Any variables: a configuration that holds the invariants, or an error naming a variable
    /// (and never echoing a value).
    #[test]
    fn config_parse_is_total(vars in variables()) {
        match Config::parse(|k| vars.get(k).cloned()) {
            Ok(c) => {
                prop_assert!(c.redirect_uri.starts_with("https://") || is_loopback_url(&c.redirect_uri));
                prop_assert!(!c.client_id.is_empty() && c.client_id.len() <= 200);
                prop_assert!(c.client_id.bytes().all(|b| b.is_ascii_graphic()));
                prop_assert!(!c.client_secret.secret().is_empty());
                match &c.endpoints {
                    Endpoints::Zoho => prop_assert!(vars.get("ZOHO_SIM_BASE").is_none_or(|v| v.trim().is_empty())),
                    Endpoints::Simulator { base } => {
                        let with_slash = format!("{base}/");
                        prop_assert!(strictly_loopback(&with_slash), "{}", base);
                    }
                }
                for ms in [c.connect_timeout_ms, c.read_timeout_ms] {
                    prop_assert!((100..=120_000).contains(&ms));
                }
                for m in &c.allowed_modules {
                    prop_assert!(!m.is_empty() && m.len() <= 50);
                    prop_assert!(m.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
                }
                let origin = c.app_origin();
                prop_assert!(c.redirect_uri.starts_with(origin));
                let host = origin.split_once("://").map_or(origin, |(_, h)| h);
                prop_assert!(!host.contains(['/', '?', '#']), "{}", origin);
                // The sealing key works.
                let sealed = c.token_keys.seal("p", b"x");
                prop_assert_eq!(c.token_keys.open("p", &sealed), Some(b"x".to_vec()));
            }
            Err(e) => {
                prop_assert!(VARIABLES.contains(&e.variable), "{}", e);
                let message = e.to_string();
                for (k, v) in &vars {
                    let v = v.trim();
                    // Values that are words of the fixed message itself (`120000`) don't count.
                    if v.len() >= 4 && !e.problem.contains(v) && !e.variable.contains(v) {
                        prop_assert!(!message.contains(v), "{} echoes {}", message, k);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// seal
// ---------------------------------------------------------------------------------------------

fn ring(id: &str, key: &[u8; 32]) -> Keyring {
    Keyring::parse(&format!("{id}:{}", encode_standard(key))).expect("a valid ring")
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn keyring_parse_never_panics(spec in prop_oneof![keyring_spec(), text()]) {
        if let Ok(ring) = Keyring::parse(&spec) {
            let sealed = ring.seal("login", b"x");
            prop_assert_eq!(ring.open("login", &sealed), Some(b"x".to_vec()));
        }
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// Sealing then opening gives the bytes back for the same purpose only, and only with the
    /// key that sealed them; rotation keeps old values readable.
    #[test]
    fn seal_open_round_trip(
        id in "[A-Za-z0-9]{1,16}",
        key in any::<[u8; 32]>(),
        other_id in "[A-Za-z0-9]{1,16}",
        other_key in any::<[u8; 32]>(),
        purpose in text(),
        other_purpose in text(),
        plaintext in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let r = ring(&id, &key);
        let sealed = r.seal(&purpose, &plaintext);
        prop_assert!(sealed.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        prop_assert_eq!(r.open(&purpose, &sealed), Some(plaintext.clone()));
        prop_assert_ne!(&sealed, &r.seal(&purpose, &plaintext), "a fresh nonce each time");
        if other_purpose != purpose {
            prop_assert_eq!(r.open(&other_purpose, &sealed), None);
        }
        prop_assert_eq!(ring(&id, &other_key).open(&purpose, &sealed), None, "same id, other key");
        if other_id != id {
            prop_assert_eq!(ring(&other_id, &key).open(&purpose, &sealed), None, "unknown key id");
            let rotated = Keyring::parse(&format!(
                "{other_id}:{},{id}:{}",
                encode_standard(&other_key),
                encode_standard(&key)
            ))
            .unwrap();
            prop_assert_eq!(rotated.open(&purpose, &sealed), Some(plaintext.clone()));
            let resealed = rotated.seal(&purpose, &plaintext);
            prop_assert_eq!(r.open(&purpose, &resealed), None, "sealed with the new key");
        }
    }
}

proptest! {
    #![proptest_config(config(3000))]

    /// No change to a sealed value opens: a flipped bit anywhere, a changed character, a cut or
    /// an addition.
    #[test]
    fn tampered_values_never_open(
        key in any::<[u8; 32]>(),
        plaintext in prop::collection::vec(any::<u8>(), 0..100),
        at in any::<prop::sample::Index>(),
        bit in 0u8..8,
        ch in prop::sample::select(&b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[..]),
        extra in "[A-Za-z0-9_-]{1,4}",
    ) {
        let r = ring("v1", &key);
        let sealed = r.seal("refresh:user:eu:production:1:2", &plaintext);
        let purpose = "refresh:user:eu:production:1:2";
        let mut bytes = decode_url(&sealed).unwrap();
        let i = at.index(bytes.len());
        bytes[i] ^= 1 << bit;
        prop_assert_eq!(r.open(purpose, &encode_url(&bytes)), None, "bit {} of byte {}", bit, i);
        let j = at.index(sealed.len());
        let mut changed = sealed.clone().into_bytes();
        if changed[j] != ch {
            changed[j] = ch;
            prop_assert_eq!(r.open(purpose, std::str::from_utf8(&changed).unwrap()), None);
        }
        prop_assert_eq!(r.open(purpose, &sealed[..j]), None);
        prop_assert_eq!(r.open(purpose, &format!("{sealed}{extra}")), None);
    }
}

proptest! {
    #![proptest_config(config(5000))]

    #[test]
    fn open_never_panics(
        s in prop_oneof![
            text(),
            prop::collection::vec(any::<u8>(), 0..120).prop_map(|b| encode_url(&b)),
            (0u8..20, prop::collection::vec(any::<u8>(), 0..80))
                .prop_map(|(n, rest)| encode_url(&[&[n][..], b"v1", &rest].concat())),
        ],
        purpose in text(),
    ) {
        let r = ring("v1", &[7; 32]);
        prop_assert_eq!(r.open(&purpose, &s), None);
    }
}

// ---------------------------------------------------------------------------------------------
// cookies and sessions
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(5000))]

    /// A value is only ever read from the header as it is there, for exactly that name, and only
    /// when it has our cookies' shape.
    #[test]
    fn cookie_get_never_panics(
        header in prop_oneof![
            text(),
            prop::collection::vec(("[ -~]{0,12}", "[ -~]{0,12}"), 0..6)
                .prop_map(|v| v.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")),
        ],
        name in prop_oneof![Just(cookies::SESSION.to_owned()), Just(cookies::LOGIN.to_owned()), text()],
    ) {
        if let Some(v) = cookies::get(Some(&header), &name) {
            prop_assert!(!v.is_empty() && v.len() <= 4096);
            prop_assert!(v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            let pair = format!("{name}={v}");
            prop_assert!(header.contains(&pair));
        }
    }
}

proptest! {
    #![proptest_config(config(2000))]

    /// Our cookie is found among others, wherever it is and however the header is spaced.
    #[test]
    fn cookie_get_finds_ours(
        value in "[A-Za-z0-9_-]{1,200}",
        others in prop::collection::vec(("[A-Za-z0-9_.-]{1,20}", "[ -:<-~]{0,20}"), 0..5),
        at in any::<prop::sample::Index>(),
        sep in prop::sample::select(&[";", "; ", " ;  "][..]),
    ) {
        let mut pairs: Vec<String> = others
            .iter()
            .filter(|(k, _)| k != cookies::SESSION)
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let i = at.index(pairs.len() + 1);
        pairs.insert(i, format!("{}={value}", cookies::SESSION));
        let header = pairs.join(sep);
        prop_assert_eq!(cookies::get(Some(&header), cookies::SESSION), Some(value.as_str()));
        prop_assert_eq!(cookies::get(Some(&header), cookies::LOGIN), None);
        let set = cookies::set(cookies::SESSION, &value, 60);
        prop_assert_eq!(cookies::get(Some(set.split(';').next().unwrap()), cookies::SESSION), Some(value.as_str()));
    }
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn session_shapes(s in prop_oneof![text(), "[A-Za-z0-9_-]{43}"], now in any::<u64>(), started in any::<u64>()) {
        if session::is_token_shaped(&s) {
            prop_assert_eq!(s.len(), 43);
        }
        let hash = session::session_hash(&s);
        prop_assert_eq!(hash.len(), 64);
        prop_assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
        prop_assert!(s.len() < 8 || !hash.contains(&s));
        // A cookie value that parses names a valid user key, whatever follows the id.
        if let Some((id, key)) = session::parse_session_cookie(&s) {
            prop_assert!(session::is_token_shaped(id));
            prop_assert_eq!(session::session_cookie(id, &key), s.clone());
        }
        let login = session::Login { state: s.clone(), verifier: s, started_at: started };
        let fresh = login.is_fresh(now);
        prop_assert_eq!(fresh, now >= started && now - started <= 600_000);
        let _ = serde_json::from_str::<session::Login>(&format!("{{\"state\":\"a\",\"verifier\":\"b\",\"started_at\":{now}}}"));
    }
}

#[test]
fn random_tokens_are_token_shaped() {
    let tokens: Vec<String> = (0..200).map(|_| session::random_token()).collect();
    for t in &tokens {
        assert!(session::is_token_shaped(t), "{t}");
        assert!(zoho::pkce::verifier_is_valid(t));
    }
    let mut unique = tokens.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), tokens.len());
}

// ---------------------------------------------------------------------------------------------
// records
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(5000))]

    /// A user's KV key is made of the table's names and digits only: nothing from input can
    /// add a segment.
    #[test]
    fn user_keys_are_ids_only(
        dc in prop::sample::select(&DataCenter::ALL[..]),
        env in prop::sample::select(&Environment::ALL[..]),
        org in prop_oneof![text(), "[0-9]{1,35}"],
        user in prop_oneof![text(), "[0-9]{1,35}"],
    ) {
        let is_id = |s: &str| !s.is_empty() && s.len() <= 30 && s.bytes().all(|b| b.is_ascii_digit());
        match user_key(dc, env, &org, &user) {
            Some(k) => {
                prop_assert!(is_id(&org) && is_id(&user));
                prop_assert_eq!(k.split(':').collect::<Vec<_>>(), vec!["user", dc.location(), env.as_str(), &org, &user]);
            }
            None => prop_assert!(!is_id(&org) || !is_id(&user)),
        }
    }
}

proptest! {
    #![proptest_config(config(500))]

    /// Sign-ins and sign-outs in any order: never more than the cap, never a session twice,
    /// the newest always live, a signed-out one never.
    #[test]
    fn sessions_per_user_are_capped(ops in prop::collection::vec(("[a-c]{1,2}|s[0-9]{1,2}", any::<bool>()), 0..60)) {
        let day = 24 * 3600 * 1000;
        let mut g = GrantState::default();
        for (i, (s, sign_in)) in ops.into_iter().enumerate() {
            let now = 1_000 + i as u64;
            if sign_in {
                let v = g.version;
                prop_assert_eq!(g.sign_in(s.clone(), now, day, 0), v + 1);
                prop_assert_eq!(g.session_status(&s, now, day), SessionStatus::Live);
            } else {
                g.sign_out(&s);
                prop_assert_eq!(g.session_status(&s, now, day), SessionStatus::Unknown);
            }
            prop_assert!(g.sessions.len() <= MAX_SESSIONS_PER_USER);
            let mut all: Vec<&str> = g.sessions.iter().map(|e| e.hash.as_str()).collect();
            all.sort();
            all.dedup();
            prop_assert_eq!(all.len(), g.sessions.len(), "no session twice");
        }
    }

    /// Whatever the timing of the requests, minting only when `may_mint` allows never exceeds
    /// Zoho's 10 tokens per rolling window nor its 15 live tokens.
    #[test]
    fn the_token_budget_holds(gaps in prop::collection::vec(0u64..200_000, 1..120), window in prop::sample::select(&[15_000u64, ZOHO_WINDOW_MS][..])) {
        let lifetime = 3_600_000;
        let mut g = GrantState::default();
        let mut now = 0;
        g.sign_in("s".into(), now, u64::MAX, lifetime);
        let mut minted = vec![now];
        for gap in gaps {
            now += gap;
            match g.may_mint(now, window) {
                Ok(()) => {
                    g.minted(now, lifetime, window);
                    minted.push(now);
                }
                Err(wait) => prop_assert!(wait > 0 && wait <= lifetime.max(window)),
            }
            let in_window = minted.iter().filter(|&&t| t + window > now).count();
            let live = minted.iter().filter(|&&t| t + lifetime > now).count();
            prop_assert!(in_window <= TOKENS_PER_WINDOW, "{in_window} in the window at {now}");
            prop_assert!(live <= MAX_LIVE_TOKENS, "{live} live at {now}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// leads
// ---------------------------------------------------------------------------------------------

const LEAD_FIELDS: [&str; 5] = ["First_Name", "Last_Name", "Email", "Course", "Phone"];

/// Search terms: any text, and texts written to break out of a criteria value.
fn term() -> impl Strategy<Value = String> {
    let hostile = prop::collection::vec(
        prop::sample::select(
            &[
                "a",
                "Asha",
                " ",
                "  ",
                ")",
                "(",
                ",",
                "\\",
                ":",
                "or",
                "and",
                "(Email:starts_with:",
                ")or(",
                ")and(",
                "Email:equals:x",
                "${empty}",
                "null",
                "123",
                "9",
                "é",
                "*",
                "%",
                "\u{0}",
            ][..],
        ),
        0..12,
    )
    .prop_map(|v| v.concat());
    prop_oneof![text(), hostile]
}

proptest! {
    #![proptest_config(config(5000))]

    /// The criteria of any search term read back as built, stay within Zoho's 10 conditions,
    /// test only the student's fields, and carry the term as text: it adds no condition and
    /// an empty record never matches.
    #[test]
    fn search_criteria_are_text_only(term in term()) {
        let c = leads::search_criteria(&term);
        let s = c.to_string();
        prop_assert_eq!(Criteria::parse(&s), Ok(c.clone()), "{}", s);
        prop_assert!(c.condition_count() <= 10);
        let split = term.split_once(' ').map(|(a, b)| (a.trim().to_owned(), b.trim().to_owned()));
        for cond in c.conditions() {
            prop_assert!(LEAD_FIELDS.contains(&cond.field.as_str()), "{}", cond.field);
            prop_assert_eq!(cond.values.len(), 1);
            let v = &cond.values[0];
            let from_split = split.as_ref().is_some_and(|(a, b)| v == a || v == b);
            prop_assert!(*v == term || from_split, "{:?} not from {:?}", v, term);
        }
        prop_assert!(!c.matches(&|_| None), "an empty record never matches");
        prop_assert_eq!(c.matches(&|_| Some(term.clone())), !term.is_empty());
    }
}

proptest! {
    #![proptest_config(config(5000))]

    /// Any query parameters: a valid query or a message; a valid query's Zoho path carries the
    /// search criteria intact through URL encoding.
    #[test]
    fn list_query_parse_is_total(pairs in prop::collection::vec(
        (
            prop_oneof![
                4 => prop::sample::select(&["page", "per_page", "q"][..]).prop_map(str::to_owned),
                1 => text(),
            ],
            prop_oneof![
                (0u64..5000).prop_map(|n| n.to_string()),
                prop::sample::select(&["", "+1", "-1", "1.0", " 2", "4294967296", "18446744073709551616"][..]).prop_map(str::to_owned),
                term(),
            ],
        ),
        0..5,
    )) {
        match ListQuery::parse(&pairs) {
            Ok(q) => {
                prop_assert!(q.page >= 1);
                prop_assert!((1..=200).contains(&q.per_page));
                prop_assert!(q.page == 1 || u64::from(q.page) * u64::from(q.per_page) <= 2000);
                let path = q.zoho_path();
                let (_, query) = path.split_once('?').unwrap();
                let params = zoho::form::parse(query);
                let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                prop_assert_eq!(get("page"), Some(q.page.to_string()));
                prop_assert_eq!(get("per_page"), Some(q.per_page.to_string()));
                match &q.search {
                    Some(term) => {
                        prop_assert!(!term.is_empty() && term.trim() == term);
                        prop_assert!(term.chars().count() <= 100 && !term.chars().any(char::is_control));
                        let criteria = get("criteria").expect("a search has criteria");
                        prop_assert_eq!(Criteria::parse(&criteria), Ok(leads::search_criteria(term)));
                    }
                    None => prop_assert!(get("criteria").is_none()),
                }
            }
            Err(message) => prop_assert!(!message.is_empty()),
        }
    }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn student_from_any_record(v in prop_oneof![
        json_value(),
        (prop_oneof![json_value(), "[0-9]{1,25}".prop_map(Value::from)],
         prop::collection::vec((json_key(), json_value()), 0..8))
            .prop_map(|(id, kv)| {
                let mut m: Map<String, Value> = kv.into_iter().collect();
                m.insert("id".into(), id);
                Value::Object(m)
            }),
    ]) {
        let Value::Object(record) = v else { return Ok(()) };
        match leads::student_from_record(&record) {
            Some(s) => {
                prop_assert!(is_record_id(&s.id));
                prop_assert_eq!(record.get("id"), Some(&Value::from(s.id.clone())));
                for f in StudentField::ALL {
                    let expected = record.get(zcrm_edge::leads::lead_field(f)).and_then(Value::as_str).unwrap_or("");
                    prop_assert_eq!(s.fields.get(f), expected);
                }
            }
            None => prop_assert!(!record.get("id").and_then(Value::as_str).is_some_and(is_record_id)),
        }
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// A student written as a Lead reads back as the same student.
    #[test]
    fn student_record_round_trip(
        id in "[0-9]{1,25}",
        fields in prop::collection::vec(text(), 6),
    ) {
        let mut input = StudentInput::default();
        for (f, v) in StudentField::ALL.into_iter().zip(fields) {
            *input.get_mut(f) = v;
        }
        let body: Value = serde_json::from_str(&leads::write_body(&input, Some(&id))).unwrap();
        let record = body["data"][0].as_object().unwrap();
        prop_assert_eq!(record.len(), 7);
        prop_assert_eq!(leads::student_from_record(record), Some(Student { id, fields: input }));
    }
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn write_answers_never_panic(body in prop_oneof![
        json_value(),
        (
            prop_oneof![
                prop::sample::select(&["SUCCESS", "INVALID_DATA", "MANDATORY_NOT_FOUND", "DUPLICATE_DATA", "NOT_FOUND", "INVALID_URL_PATTERN"][..]).prop_map(Value::from),
                json_value(),
            ],
            prop::sample::select(&["success", "error", ""][..]),
            prop::collection::vec((json_key(), json_value()), 0..4),
            prop::option::of(prop::sample::select(&["First_Name", "Last_Name", "Company", "Course", "Email", "Phone", "Owner"][..])),
            prop::option::of(prop_oneof!["[0-9]{1,25}", "[0-9]{26,30}", text()]),
            any::<bool>(),
        )
            .prop_map(|(code, status, details, api_name, id, wrapped)| {
                let mut d: Map<String, Value> = details.into_iter().collect();
                if let Some(n) = api_name {
                    d.insert("api_name".into(), n.into());
                }
                if let Some(id) = id {
                    d.insert("id".into(), id.into());
                }
                let r = json!({"code": code, "status": status, "details": d, "message": "m"});
                if wrapped { json!({"data": [r]}) } else { r }
            }),
    ]) {
        // Read as the Worker reads a write's answer: typed once, then each status object.
        let result = match zoho::crm::read_write(201, &body.to_string()) {
            zoho::crm::WriteAnswer::Records(records) => Some(records.into_iter().next().unwrap()),
            zoho::crm::WriteAnswer::Whole(_, e) => Some(e),
            _ => None,
        };
        let Some(result) = result else { return Ok(()) };
        match leads::write_outcome(&result) {
            WriteOutcome::Done { id } => prop_assert!(is_record_id(&id)),
            WriteOutcome::Field { field, message } => {
                prop_assert!(message.to_lowercase().contains(&field.label().to_lowercase()), "{}", message);
            }
            WriteOutcome::Other { .. } | WriteOutcome::Duplicate | WriteOutcome::NotFound => {}
        }
    }
}

proptest! {
    #![proptest_config(config(2000))]

    /// Any field metadata gives limits and courses the form can use.
    #[test]
    fn meta_from_any_fields(fields in prop::collection::vec(
        (
            prop_oneof![
                prop::sample::select(&["First_Name", "Last_Name", "Company", "Course", "Email", "Phone", "Owner"][..]).prop_map(str::to_owned),
                text(),
            ],
            prop_oneof![0u32..300, any::<u32>()],
            prop::collection::vec(prop_oneof![Just("-None-".to_owned()), Just(String::new()), text()], 0..5),
        ),
        0..8,
    )) {
        let response = FieldsResponse {
            fields: fields
                .iter()
                .map(|(api_name, length, picks)| Field {
                    api_name: api_name.clone(),
                    field_label: String::new(),
                    display_label: String::new(),
                    data_type: "text".into(),
                    json_type: "string".into(),
                    system_mandatory: false,
                    custom_field: false,
                    read_only: false,
                    length: *length,
                    pick_list_values: picks
                        .iter()
                        .map(|p| PickListValue {
                            display_value: p.clone(),
                            actual_value: p.clone(),
                            id: String::new(),
                            sequence_number: 0,
                            value_type: "used".into(),
                        })
                        .collect(),
                    id: String::new(),
                })
                .collect(),
        };
        let meta = leads::meta_from_fields(&response);
        for c in &meta.courses {
            prop_assert!(!c.is_empty() && c != "-None-");
        }
        let default = FieldLimits::default();
        for f in StudentField::ALL {
            if let Some(limit) = meta.limits.of(f) {
                let from_zoho = fields.iter().any(|(n, l, _)| n == zcrm_edge::leads::lead_field(f) && *l == limit);
                prop_assert!(limit > 0);
                prop_assert!(from_zoho || Some(limit) == default.of(f));
            }
        }
    }
}
