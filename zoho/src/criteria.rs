//! Zoho's search criteria: `((Last_Name:equals:Burns\,B)and(Email:starts_with:a))`.
//!
//! Grammar (connectors are case-insensitive, spaces around them are allowed):
//!
//! ```text
//! criteria  := group | condition
//! group     := "(" ( criteria-list | condition ) ")"
//! criteria-list := group ( ("and" | "or") group )*      -- "and" binds tighter than "or"
//! condition := field ":" operator ":" value ( "," value )*
//! ```
//!
//! In a value, `\(`, `\)`, `\,` and `\\` stand for `(`, `)`, `,` and `\`; an unescaped `,`
//! separates values (for `in`, `between`, or several alternatives). [`Criteria`]'s `Display`
//! builds the string with every special character escaped; [`Criteria::parse`] reads it back.
//! Put the result through URL encoding (e.g. [`crate::form::build`]) before sending it.

use std::fmt;

/// Search operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    Equals,
    NotEqual,
    StartsWith,
    EndsWith,
    Contains,
    NotContains,
    In,
    NotIn,
    GreaterThan,
    GreaterEqual,
    LessThan,
    LessEqual,
    Between,
    NotBetween,
}

impl Operator {
    const ALL: [Operator; 14] = [
        Operator::Equals,
        Operator::NotEqual,
        Operator::StartsWith,
        Operator::EndsWith,
        Operator::Contains,
        Operator::NotContains,
        Operator::In,
        Operator::NotIn,
        Operator::GreaterThan,
        Operator::GreaterEqual,
        Operator::LessThan,
        Operator::LessEqual,
        Operator::Between,
        Operator::NotBetween,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "equals",
            Operator::NotEqual => "not_equal",
            Operator::StartsWith => "starts_with",
            Operator::EndsWith => "ends_with",
            Operator::Contains => "contains",
            Operator::NotContains => "not_contains",
            Operator::In => "in",
            Operator::NotIn => "not_in",
            Operator::GreaterThan => "greater_than",
            Operator::GreaterEqual => "greater_equal",
            Operator::LessThan => "less_than",
            Operator::LessEqual => "less_equal",
            Operator::Between => "between",
            Operator::NotBetween => "not_between",
        }
    }

    pub fn parse(s: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// One `(field:operator:values)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub field: String,
    pub op: Operator,
    pub values: Vec<String>,
}

/// A parsed or built criteria expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Criteria {
    Cond(Condition),
    And(Vec<Criteria>),
    Or(Vec<Criteria>),
}

/// A criteria string that does not parse; `at` is a byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub at: usize,
    pub reason: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid criteria at {}: {}", self.at, self.reason)
    }
}

impl std::error::Error for ParseError {}

/// Escapes `\`, `(`, `)` and `,` in a value.
pub fn escape_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '\\' | '(' | ')' | ',') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Criteria {
    /// `(field:op:value)`.
    pub fn cond(field: &str, op: Operator, value: &str) -> Criteria {
        Criteria::Cond(Condition {
            field: field.to_owned(),
            op,
            values: vec![value.to_owned()],
        })
    }

    /// `(field:op:v1,v2,…)`.
    pub fn cond_many<S: AsRef<str>>(field: &str, op: Operator, values: &[S]) -> Criteria {
        Criteria::Cond(Condition {
            field: field.to_owned(),
            op,
            values: values.iter().map(|v| v.as_ref().to_owned()).collect(),
        })
    }

    pub fn equals(field: &str, value: &str) -> Criteria {
        Criteria::cond(field, Operator::Equals, value)
    }

    pub fn starts_with(field: &str, value: &str) -> Criteria {
        Criteria::cond(field, Operator::StartsWith, value)
    }

    pub fn and(self, other: Criteria) -> Criteria {
        match self {
            Criteria::And(mut v) => {
                v.push(other);
                Criteria::And(v)
            }
            c => Criteria::And(vec![c, other]),
        }
    }

    pub fn or(self, other: Criteria) -> Criteria {
        match self {
            Criteria::Or(mut v) => {
                v.push(other);
                Criteria::Or(v)
            }
            c => Criteria::Or(vec![c, other]),
        }
    }

    /// How many conditions (Zoho allows at most 10).
    pub fn condition_count(&self) -> usize {
        match self {
            Criteria::Cond(_) => 1,
            Criteria::And(v) | Criteria::Or(v) => v.iter().map(Criteria::condition_count).sum(),
        }
    }

    /// Every condition, in order.
    pub fn conditions(&self) -> Vec<&Condition> {
        match self {
            Criteria::Cond(c) => vec![c],
            Criteria::And(v) | Criteria::Or(v) => v.iter().flat_map(Criteria::conditions).collect(),
        }
    }

    /// Parses a criteria string.
    pub fn parse(input: &str) -> Result<Criteria, ParseError> {
        let mut p = Parser {
            s: input.as_bytes(),
            src: input,
            i: 0,
            depth: 0,
        };
        p.skip_ws();
        let c = if p.peek() == Some(b'(') {
            p.list()?
        } else {
            p.condition(false)?
        };
        p.skip_ws();
        if p.i != p.s.len() {
            return Err(p.err("unexpected text after the criteria"));
        }
        Ok(c)
    }

    /// Evaluates the criteria against a record. `value_of(field)` gives the field's value as
    /// text (`None` when empty). Text comparisons ignore case; `greater_than` and friends compare
    /// numbers when both sides are numbers and text otherwise (ISO dates compare correctly).
    pub fn matches(&self, value_of: &dyn Fn(&str) -> Option<String>) -> bool {
        match self {
            Criteria::And(v) => v.iter().all(|c| c.matches(value_of)),
            Criteria::Or(v) => v.iter().any(|c| c.matches(value_of)),
            Criteria::Cond(c) => c.matches(value_of(&c.field).as_deref()),
        }
    }
}

impl Condition {
    fn matches(&self, actual: Option<&str>) -> bool {
        use std::cmp::Ordering;
        let a = actual.unwrap_or("").to_lowercase();
        let vals: Vec<String> = self.values.iter().map(|v| v.to_lowercase()).collect();
        let cmp = |v: &str| -> Ordering {
            match (a.trim().parse::<f64>(), v.trim().parse::<f64>()) {
                (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                _ => a.as_str().cmp(v),
            }
        };
        let present = actual.is_some_and(|s| !s.is_empty());
        let is_null = |v: &str| v == "${empty}" || v == "null";
        match self.op {
            Operator::Equals | Operator::In => vals
                .iter()
                .any(|v| if is_null(v) { !present } else { *v == a }),
            Operator::NotEqual | Operator::NotIn => vals
                .iter()
                .all(|v| if is_null(v) { present } else { *v != a }),
            Operator::StartsWith => present && vals.iter().any(|v| a.starts_with(v.as_str())),
            Operator::EndsWith => present && vals.iter().any(|v| a.ends_with(v.as_str())),
            Operator::Contains => present && vals.iter().any(|v| a.contains(v.as_str())),
            Operator::NotContains => vals.iter().all(|v| !a.contains(v.as_str())),
            Operator::GreaterThan => present && vals.first().is_some_and(|v| cmp(v).is_gt()),
            Operator::GreaterEqual => present && vals.first().is_some_and(|v| cmp(v).is_ge()),
            Operator::LessThan => present && vals.first().is_some_and(|v| cmp(v).is_lt()),
            Operator::LessEqual => present && vals.first().is_some_and(|v| cmp(v).is_le()),
            Operator::Between | Operator::NotBetween => {
                let inside =
                    present && vals.len() == 2 && cmp(&vals[0]).is_ge() && cmp(&vals[1]).is_le();
                inside == (self.op == Operator::Between)
            }
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}:{}:", self.field, self.op.as_str())?;
        for (i, v) in self.values.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(&escape_value(v))?;
        }
        f.write_str(")")
    }
}

impl fmt::Display for Criteria {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, v: &[Criteria], word: &str| -> fmt::Result {
            f.write_str("(")?;
            for (i, c) in v.iter().enumerate() {
                if i > 0 {
                    f.write_str(word)?;
                }
                write!(f, "{c}")?;
            }
            f.write_str(")")
        };
        match self {
            Criteria::Cond(c) => c.fmt(f),
            Criteria::And(v) => join(f, v, "and"),
            Criteria::Or(v) => join(f, v, "or"),
        }
    }
}

/// Deepest nesting of `(` groups the parser follows (it recurses once per level; Zoho allows
/// 10 conditions, so deeper nesting is never meaningful and must not exhaust the stack).
const MAX_DEPTH: usize = 32;

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
    /// Groups open around the current position.
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, reason: &'static str) -> ParseError {
        ParseError { at: self.i, reason }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| b == b' ') {
            self.i += 1;
        }
    }

    /// group ( connector group )* with `and` over `or`.
    fn list(&mut self) -> Result<Criteria, ParseError> {
        let mut ors: Vec<Criteria> = Vec::new();
        let mut ands: Vec<Criteria> = vec![self.group()?];
        loop {
            self.skip_ws();
            let rest = &self.s[self.i..];
            let word = if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(b"and") {
                "and"
            } else if rest.len() >= 2 && rest[..2].eq_ignore_ascii_case(b"or") {
                "or"
            } else {
                break;
            };
            self.i += word.len();
            self.skip_ws();
            if self.peek() != Some(b'(') {
                return Err(self.err("expected ( after a connector"));
            }
            let next = self.group()?;
            if word == "and" {
                ands.push(next);
            } else {
                ors.push(collapse_and(std::mem::take(&mut ands)));
                ands.push(next);
            }
        }
        let last = collapse_and(ands);
        if ors.is_empty() {
            Ok(last)
        } else {
            ors.push(last);
            Ok(Criteria::Or(ors))
        }
    }

    /// "(" ( list | condition ) ")"
    fn group(&mut self) -> Result<Criteria, ParseError> {
        if self.peek() != Some(b'(') {
            return Err(self.err("expected ("));
        }
        if self.depth == MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.i += 1;
        self.skip_ws();
        self.depth += 1;
        let inner = if self.peek() == Some(b'(') {
            self.list()
        } else {
            self.condition(true)
        };
        self.depth -= 1;
        let inner = inner?;
        self.skip_ws();
        if self.peek() != Some(b')') {
            return Err(self.err("expected )"));
        }
        self.i += 1;
        Ok(inner)
    }

    fn condition(&mut self, in_group: bool) -> Result<Criteria, ParseError> {
        let field = self.name()?;
        if self.peek() != Some(b':') {
            return Err(self.err("expected : after the field"));
        }
        self.i += 1;
        let op_start = self.i;
        let op = self.name()?;
        let op = Operator::parse(&op).ok_or(ParseError {
            at: op_start,
            reason: "unknown operator",
        })?;
        if self.peek() != Some(b':') {
            return Err(self.err("expected : after the operator"));
        }
        self.i += 1;
        let mut values = Vec::new();
        let mut cur: Vec<u8> = Vec::new();
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None if in_group => return Err(self.err("unclosed (")),
                None => break,
                Some(b'\\') => {
                    match self.s.get(self.i + 1) {
                        Some(&c @ (b'(' | b')' | b',' | b'\\')) => cur.push(c),
                        Some(&c) => {
                            cur.push(b'\\');
                            cur.push(c);
                        }
                        None => cur.push(b'\\'),
                    }
                    self.i += 2.min(self.s.len() - self.i);
                    continue;
                }
                Some(b')') if depth == 0 && in_group => break,
                Some(b')') if depth > 0 => depth -= 1,
                Some(b'(') => depth += 1,
                Some(b',') => {
                    values.push(String::from_utf8_lossy(&cur).into_owned());
                    cur.clear();
                    self.i += 1;
                    continue;
                }
                Some(_) => {}
            }
            cur.push(self.s[self.i]);
            self.i += 1;
        }
        values.push(String::from_utf8_lossy(&cur).into_owned());
        Ok(Criteria::Cond(Condition { field, op, values }))
    }

    fn name(&mut self) -> Result<String, ParseError> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'$')
        {
            self.i += 1;
        }
        if self.i == start {
            return Err(self.err("expected a name"));
        }
        Ok(self.src[start..self.i].to_owned())
    }
}

fn collapse_and(mut v: Vec<Criteria>) -> Criteria {
    if v.len() == 1 {
        v.pop().expect("one element")
    } else {
        Criteria::And(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_zoho_examples() {
        let c = Criteria::parse("((Last_Name:equals:Burns)and(Email:starts_with:ma))").unwrap();
        assert_eq!(
            c,
            Criteria::equals("Last_Name", "Burns").and(Criteria::starts_with("Email", "ma"))
        );
        let c = Criteria::parse("(Last_Name:equals:Burns)").unwrap();
        assert_eq!(c, Criteria::equals("Last_Name", "Burns"));
        let c = Criteria::parse("Last_Name:equals:Burns").unwrap();
        assert_eq!(c, Criteria::equals("Last_Name", "Burns"));
        let c = Criteria::parse("((A:equals:1) OR (B:equals:2))").unwrap();
        assert_eq!(c, Criteria::equals("A", "1").or(Criteria::equals("B", "2")));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let c = Criteria::parse("((A:equals:1)or(B:equals:2)and(C:equals:3))").unwrap();
        assert_eq!(
            c,
            Criteria::Or(vec![
                Criteria::equals("A", "1"),
                Criteria::equals("B", "2").and(Criteria::equals("C", "3")),
            ])
        );
        let c = Criteria::parse("(((A:equals:1)or(B:equals:2))and(C:equals:3))").unwrap();
        assert_eq!(
            c,
            Criteria::And(vec![
                Criteria::equals("A", "1").or(Criteria::equals("B", "2")),
                Criteria::equals("C", "3"),
            ])
        );
    }

    #[test]
    fn escapes() {
        let c = Criteria::equals("Company", r"Zylker (North), Inc\Ltd");
        let s = c.to_string();
        assert_eq!(s, r"(Company:equals:Zylker \(North\)\, Inc\\Ltd)");
        assert_eq!(Criteria::parse(&s).unwrap(), c);
        let c = Criteria::parse(r"(Course:in:Rust Fundamentals,Data Science\, Advanced)").unwrap();
        assert_eq!(
            c,
            Criteria::cond_many(
                "Course",
                Operator::In,
                &["Rust Fundamentals", "Data Science, Advanced"]
            )
        );
        // Unescaped balanced parentheses inside a value are tolerated.
        let c = Criteria::parse("(Company:equals:Foo (Ltd))").unwrap();
        assert_eq!(c, Criteria::equals("Company", "Foo (Ltd)"));
    }

    #[test]
    fn round_trips() {
        let cases = vec![
            Criteria::equals("Last_Name", "O'Brien"),
            Criteria::equals("A", "").and(Criteria::starts_with("B", "(")),
            Criteria::equals("A", ")")
                .or(Criteria::equals("B", ","))
                .or(Criteria::equals("C", "\\")),
            Criteria::And(vec![
                Criteria::Or(vec![
                    Criteria::equals("A", "x y"),
                    Criteria::equals("B", "a\\,b"),
                ]),
                Criteria::cond_many("C", Operator::Between, &["1", "9"]),
            ]),
            Criteria::cond("Email", Operator::NotEqual, "and(or)"),
        ];
        for c in cases {
            let s = c.to_string();
            assert_eq!(Criteria::parse(&s).unwrap(), c, "{s}");
        }
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "(",
            "()",
            "(A:equals:1",
            "(A:eq:1)",
            "(A equals 1)",
            "((A:equals:1)and)",
            "((A:equals:1)xor(B:equals:2))",
            "(A:equals:1)junk",
            "(:equals:1)",
        ] {
            assert!(Criteria::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let nested = |d: usize| format!("{}A:equals:1{}", "(".repeat(d), ")".repeat(d));
        assert_eq!(
            Criteria::parse(&nested(MAX_DEPTH)).unwrap(),
            Criteria::equals("A", "1")
        );
        let e = Criteria::parse(&nested(MAX_DEPTH + 1)).unwrap_err();
        assert_eq!((e.at, e.reason), (MAX_DEPTH, "nested too deeply"));
        // Used to overflow the stack (and abort the simulator) from about 5,000 levels.
        assert!(Criteria::parse(&nested(100_000)).is_err());
        assert!(Criteria::parse(&"(".repeat(100_000)).is_err());
    }

    #[test]
    fn evaluation() {
        let rec = |f: &str| match f {
            "Last_Name" => Some("Burns".to_owned()),
            "Email" => Some("Mary.Burns@college.example".to_owned()),
            "Age" => Some("21".to_owned()),
            _ => None,
        };
        let t = |s: &str| Criteria::parse(s).unwrap().matches(&rec);
        assert!(t("((Last_Name:equals:burns)and(Email:starts_with:mary))"));
        assert!(!t("((Last_Name:equals:burns)and(Email:starts_with:john))"));
        assert!(t("((Last_Name:equals:Smith)or(Email:ends_with:.example))"));
        assert!(t("(Last_Name:in:Smith,Burns)"));
        assert!(t("(Last_Name:not_in:Smith,Jones)"));
        assert!(t("(Age:greater_than:9)"));
        assert!(t("(Age:between:18,30)"));
        assert!(!t("(Age:not_between:18,30)"));
        assert!(t("(Phone:equals:${empty})"));
        assert!(!t("(Phone:starts_with:1)"));
        assert!(t("(Email:contains:burns@)"));
        assert_eq!(
            Criteria::parse("((A:equals:1)and(B:equals:2)or(C:equals:3))")
                .unwrap()
                .condition_count(),
            3
        );
    }
}
