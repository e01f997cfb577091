//! One log line: a JSON object on one line, `level`, `event` and `request_id` first, then the
//! caller's fields. Written straight into a string: no JSON tree is built for a line, so a log
//! call costs its fields' text and nothing else (and little code per call site). Callers pass
//! only what is safe to log: ids, codes, statuses, durations. Never a token, code or secret.

use std::fmt::Write;

use crate::config::Level;

/// A value a log line can carry.
pub trait Field {
    fn write_json(&self, out: &mut String);
}

impl Field for str {
    fn write_json(&self, out: &mut String) {
        out.push('"');
        for c in self.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if u32::from(c) < 0x20 => {
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
}

impl Field for String {
    fn write_json(&self, out: &mut String) {
        self.as_str().write_json(out);
    }
}

impl<T: Field + ?Sized> Field for &T {
    fn write_json(&self, out: &mut String) {
        (**self).write_json(out);
    }
}

impl<T: Field> Field for Option<T> {
    fn write_json(&self, out: &mut String) {
        match self {
            Some(value) => value.write_json(out),
            None => out.push_str("null"),
        }
    }
}

impl Field for bool {
    fn write_json(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

macro_rules! number_fields {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn write_json(&self, out: &mut String) {
                let _ = write!(out, "{self}");
            }
        }
    )*};
}

number_fields!(u8, u16, u32, u64, usize, i64);

/// The line of one event.
pub fn line(level: Level, event: &str, request_id: &str, fields: &[(&str, &dyn Field)]) -> String {
    let mut out = String::with_capacity(96);
    out.push_str("{\"level\":");
    level.as_str().write_json(&mut out);
    out.push_str(",\"event\":");
    event.write_json(&mut out);
    out.push_str(",\"request_id\":");
    request_id.write_json(&mut out);
    for (key, value) in fields {
        out.push(',');
        key.write_json(&mut out);
        out.push(':');
        value.write_json(&mut out);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_line_is_one_json_object_with_its_fields() {
        let id = "5725767000000412001".to_owned();
        let line = line(
            Level::Warn,
            "crm_error",
            "abc",
            &[
                ("id", &id),
                ("status", &502u16),
                ("retry", &None::<u64>),
                ("ok", &false),
            ],
        );
        assert_eq!(
            line,
            r#"{"level":"warn","event":"crm_error","request_id":"abc","id":"5725767000000412001","status":502,"retry":null,"ok":false}"#
        );
    }

    proptest! {
        /// Whatever the text, the line parses as JSON and gives it back unchanged.
        #[test]
        fn any_text_round_trips(text in any::<String>(), n in any::<u64>()) {
            let line = line(Level::Info, "e", "r", &[("text", &text), ("n", &n)]);
            let value: serde_json::Value = serde_json::from_str(&line).unwrap();
            prop_assert_eq!(value["text"].as_str(), Some(text.as_str()));
            prop_assert_eq!(value["n"].as_u64(), Some(n));
            prop_assert!(!line.contains('\n'));
        }
    }
}
