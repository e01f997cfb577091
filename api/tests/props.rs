//! Property tests of the validation the app and the edge share: no input makes it panic, what it
//! accepts is trimmed and accepted again unchanged, and every error names the field at fault.

use proptest::prelude::*;
use proptest::test_runner::Config;
use zcrm_api::students::{
    FieldLimits, StudentField, StudentInput, StudentsMeta, check_field, is_email, is_phone,
};

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

/// Any string: unicode, control characters, whitespace of every kind, now and then huge.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        2 => "[ -~]{0,40}",
        2 => "[ \t\n\u{a0}\u{2003}\u{3000}]{0,3}[a-zA-Z@.+()0-9 -]{0,30}[ \t\r\u{85}\u{2028}]{0,3}",
        1 => "\\PC{0,120}",
        1 => prop::collection::vec(any::<char>(), 0..300).prop_map(|v| v.into_iter().collect()),
        1 => ("\\PC{1,3}", 0usize..3000).prop_map(|(s, n)| s.repeat(n)),
    ]
}

const COURSES: [&str; 3] = ["Rust Fundamentals", "Data Science", "Émigré Studies (Ω)"];

fn meta() -> impl Strategy<Value = StudentsMeta> {
    (
        prop::collection::vec(prop_oneof![prop::sample::select(&COURSES[..]).prop_map(str::to_owned), text()], 0..4),
        prop_oneof![
            3 => Just(FieldLimits::default()),
            1 => (0u32..300, 0u32..300, 0u32..300, 0u32..300, 0u32..300).prop_map(
                |(first_name, last_name, college, email, phone)| FieldLimits { first_name, last_name, college, email, phone },
            ),
        ],
    )
        .prop_map(|(courses, limits)| StudentsMeta { courses, limits })
}

/// Arbitrary input, with each field now and then a plausible value.
fn input(courses: Vec<String>) -> impl Strategy<Value = StudentInput> {
    let course = if courses.is_empty() {
        text().boxed()
    } else {
        prop_oneof![3 => prop::sample::select(courses), 1 => text()].boxed()
    };
    (
        prop_oneof![1 => text(), 3 => "[A-Z][a-z]{0,10}"],
        prop_oneof![1 => text(), 3 => "[A-Z][a-z]{0,10}"],
        prop_oneof![1 => text(), 3 => "[A-Z][a-z]{0,10} College"],
        course,
        prop_oneof![1 => text(), 3 => email()],
        prop_oneof![1 => text(), 3 => phone()],
    )
        .prop_map(
            |(first_name, last_name, college, course, email, phone)| StudentInput {
                first_name,
                last_name,
                college,
                course,
                email,
                phone,
            },
        )
}

fn email() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9.+_-]{0,12}@[a-z0-9-]{1,10}(\\.[a-z]{2,6}){1,2}"
}

fn phone() -> impl Strategy<Value = String> {
    "\\+?[0-9]{1,3}[ -]?(\\([0-9]{2,4}\\) )?[0-9]{3,5}[ .-]?[0-9]{3,5}"
}

/// Whitespace `str::trim` removes, around a value.
fn pad() -> impl Strategy<Value = String> {
    "[ \t\n\r\u{a0}\u{2003}\u{3000}]{0,3}".prop_filter("trim removes it", |s| s.trim().is_empty())
}

proptest! {
    #![proptest_config(config(5000))]

    /// `validate` never panics; when it accepts, the result is trimmed and accepted again
    /// unchanged; when it refuses, each error names a distinct field whose own check fails, and
    /// the fields that pass are exactly those not named.
    #[test]
    fn validate_is_total_trimmed_and_idempotent((meta, input) in meta().prop_flat_map(|m| {
        let courses = m.courses.clone();
        (Just(m), input(courses))
    })) {
        match input.validate(&meta) {
            Ok(valid) => {
                                for f in StudentField::ALL {
                    prop_assert_eq!(valid.get(f), input.get(f).trim());
                    prop_assert_eq!(check_field(f, valid.get(f), &meta), Ok(()));
                }
                prop_assert_eq!(valid.validate(&meta), Ok(valid.clone()));
                prop_assert!(!valid.last_name.is_empty() && !valid.email.is_empty());
                prop_assert!(meta.courses.contains(&valid.course));
                prop_assert!(is_email(&valid.email));
                prop_assert!(valid.phone.is_empty() || is_phone(&valid.phone));
                let _ = valid.full_name();
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                let named: Vec<StudentField> = errors.iter().map(|e| e.field).collect();
                let expected: Vec<StudentField> = StudentField::ALL
                    .into_iter()
                    .filter(|&f| check_field(f, input.get(f).trim(), &meta).is_err())
                    .collect();
                prop_assert_eq!(&named, &expected, "one error per failing field, in form order");
                for e in &errors {
                    prop_assert!(!e.message.is_empty() && e.message.len() < 200, "{}", e.message);
                    prop_assert!(!e.message.chars().any(char::is_control));
                    let json = serde_json::to_value(e).unwrap();
                    prop_assert_eq!(json["field"].as_str(), Some(e.field.as_str()));
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// Leading and trailing whitespace never decides: a padded valid student validates to the
    /// unpadded one.
    #[test]
    fn padding_is_trimmed_away(
        first in "[A-Z][a-z]{0,10}",
        last in "[A-Z][a-z '-]{0,10}[a-z]",
        college in "[A-Z][a-z]{0,10}( [A-Z][a-z]{0,10})?",
        course in prop::sample::select(&COURSES[..]),
        email in email(),
        phone in prop_oneof![Just(String::new()), phone()],
        pads in prop::collection::vec(pad(), 12),
    ) {
        let meta = StudentsMeta {
            courses: COURSES.iter().map(|c| (*c).to_owned()).collect(),
            limits: FieldLimits::default(),
        };
        let clean = StudentInput {
            first_name: first,
            last_name: last,
            college,
            course: course.to_owned(),
            email,
            phone,
        };
        let mut padded = clean.clone();
        for (i, f) in StudentField::ALL.into_iter().enumerate() {
            let v = padded.get_mut(f);
            *v = format!("{}{v}{}", pads[2 * i], pads[2 * i + 1]);
        }
        prop_assert_eq!(clean.validate(&meta), Ok(clean.clone()));
        prop_assert_eq!(padded.validate(&meta), Ok(clean));
    }
}

proptest! {
    #![proptest_config(config(2000))]

    /// A control character anywhere inside a field is refused for that field.
    #[test]
    fn control_characters_are_refused(
        field in prop::sample::select(&StudentField::ALL[..]),
        before in "[a-z]{1,5}",
        control in prop::char::ranges(vec!['\u{0}'..='\u{1f}', '\u{7f}'..='\u{9f}'].into()),
        after in "[a-z]{1,5}",
        meta in meta(),
    ) {
        let value = format!("{before}{control}{after}");
        prop_assert!(check_field(field, &value, &meta).is_err());
    }
}

proptest! {
    #![proptest_config(config(2000))]

    /// Lengths are counted in characters against the meta's limit.
    #[test]
    fn limits_are_characters(
        field in prop::sample::select(&[StudentField::FirstName, StudentField::LastName, StudentField::College][..]),
        c in "[a-zé漢😀]",
        n in 1usize..300,
        meta in meta(),
    ) {
        let value = c.repeat(n);
        let limit = meta.limits.of(field).unwrap() as usize;
        prop_assert_eq!(check_field(field, &value, &meta).is_ok(), n <= limit);
    }
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn email_and_phone_checks_are_sound(s in prop_oneof![text(), email(), phone()]) {
        if is_email(&s) {
            prop_assert_eq!(s.matches('@').count(), 1);
            let (local, domain) = s.split_once('@').unwrap();
            prop_assert!(!local.is_empty() && domain.contains('.'));
            prop_assert!(!domain.starts_with('.') && !domain.ends_with('.') && !domain.contains(".."));
            prop_assert!(!s.chars().any(|c| c.is_whitespace() || c.is_control()));
            prop_assert!(!s.contains(['(', ')', ',', '"', '<', '>']));
        }
        if is_phone(&s) {
            prop_assert!(s.bytes().filter(u8::is_ascii_digit).count() >= 6);
            prop_assert!(s.is_ascii() && !s.chars().any(char::is_control));
        }
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn generated_emails_and_phones_pass(e in email(), p in phone()) {
        prop_assert!(is_email(&e), "{}", e);
        prop_assert!(is_phone(&p), "{}", p);
    }
}

proptest! {
    #![proptest_config(config(3000))]

    /// Bodies of any shape are refused by serde or read into a value `validate` copes with.
    #[test]
    fn student_bodies_never_panic(body in prop_oneof![
        text(),
        prop::collection::vec(
            (prop_oneof![
                prop::sample::select(&["first_name", "last_name", "college", "course", "email", "phone", "Owner"][..]).prop_map(str::to_owned),
                text(),
            ], prop_oneof![text().prop_map(serde_json::Value::from), any::<i64>().prop_map(serde_json::Value::from), Just(serde_json::Value::Null)]),
            0..8,
        ).prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect()).to_string()),
    ]) {
        if let Ok(input) = serde_json::from_str::<StudentInput>(&body) {
            let meta = StudentsMeta { courses: vec!["Data Science".into()], limits: FieldLimits::default() };
            let _ = input.validate(&meta);
        }
    }
}
