//! Students as CSV, for bulk import and export (the `zcrm` command line now, the portal later).
//!
//! One place holds the rules, so every import and export agrees:
//! - Columns (header row, names case-insensitive, `First Name` = `first_name`): `first_name`,
//!   `last_name`, `college`, `course`, `email`, `phone`; on export `id` comes first. Instead of
//!   `first_name` and `last_name` an import may have one `name` column, split as the portal joins
//!   it ([`split_name`], the inverse of [`StudentInput::full_name`]). An `id` column is accepted
//!   on import and ignored, so an export can be imported elsewhere.
//! - The format is RFC 4180: fields separated by `,`, records by CRLF or LF, a field in double
//!   quotes may hold `,`, quotes (doubled) and line breaks. A UTF-8 byte-order mark is skipped.
//! - Spreadsheet formula injection (OWASP "CSV Injection"): on export a cell starting with
//!   `=`, `+`, `-`, `@` (or a tab or carriage return) gets a leading `'`, so a spreadsheet shows
//!   text instead of running a formula (as does a cell starting with `'` itself); on import one
//!   leading `'` before such a character or another `'` is removed again, so an export imports
//!   back to the same values.
//! - Every row is checked with [`StudentInput::validate`], the portal's own rules.
//!
//! Rows are numbered from 1, the first row after the header; blank rows are skipped but keep
//! their number, so a number always names the same row of the file.

use crate::students::{FieldError, Student, StudentField, StudentInput, StudentsMeta};
use std::fmt;

/// The columns of an import, in the order an export writes them (after `id`).
pub const COLUMNS: [&str; 6] = [
    "first_name",
    "last_name",
    "college",
    "course",
    "email",
    "phone",
];
/// The first column of an export.
pub const ID_COLUMN: &str = "id";
/// The single-column alternative to `first_name` + `last_name` on import.
pub const NAME_COLUMN: &str = "name";
/// Most data rows one import takes.
pub const MAX_ROWS: usize = 100_000;
/// Longest cell accepted (longer than any Lead field, so validation names the field).
pub const MAX_CELL_CHARS: usize = 1_000;

/// A file that cannot be read as students at all (as opposed to one bad row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError(pub String);

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FileError {}

/// One data row of an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// 1 = the first row after the header.
    pub row: usize,
    /// The student, validated and trimmed, or what is wrong with the row.
    pub student: Result<StudentInput, RowError>,
    /// Who the row names, as read (`Full Name` and email; empty where the row has no such
    /// cells): what a report shows beside a refused row.
    pub name: String,
    pub email: String,
}

/// Why a row is refused: the field (when one is to blame) and a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub field: Option<StudentField>,
    pub reason: String,
}

impl From<FieldError> for RowError {
    fn from(e: FieldError) -> RowError {
        RowError {
            field: Some(e.field),
            reason: e.message,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Field(StudentField),
    Name,
    Id,
}

/// Reads an import file: the header, then every row, each validated against `meta`.
pub fn read_students(text: &str, meta: &StudentsMeta) -> Result<Vec<Row>, FileError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut records = Records::new(text);
    let header = match records.next() {
        None => {
            return Err(FileError(
                "The file is empty: expected a header row.".into(),
            ));
        }
        Some(Err(e)) => return Err(e),
        Some(Ok(h)) => h,
    };
    let columns = header_columns(&header)?;
    let mut rows = Vec::new();
    for (index, record) in records.enumerate() {
        let row = index + 1;
        if row > MAX_ROWS {
            return Err(FileError(format!(
                "The file has more than {MAX_ROWS} rows; split it."
            )));
        }
        let record = record?;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let (read, student) = student_of(&columns, &record, meta);
        rows.push(Row {
            row,
            student,
            name: read.full_name(),
            email: read.email,
        });
    }
    Ok(rows)
}

fn header_columns(header: &[String]) -> Result<Vec<Column>, FileError> {
    let mut columns = Vec::with_capacity(header.len());
    for name in header {
        // Column names are ASCII: folding ASCII case alone reads every one of them.
        let normal = name.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        let column = match normal.as_str() {
            ID_COLUMN => Column::Id,
            NAME_COLUMN | "full_name" => Column::Name,
            other => match StudentField::ALL.into_iter().find(|f| f.as_str() == other) {
                Some(f) => Column::Field(f),
                None => {
                    let shown: String = name.chars().take(40).collect();
                    return Err(FileError(format!(
                        "Unknown column `{}` in the header; the columns are {}, or name instead of first_name and last_name.",
                        shown.escape_debug(),
                        COLUMNS.join(", ")
                    )));
                }
            },
        };
        if columns.contains(&column) {
            return Err(FileError(format!(
                "The header names the column `{normal}` twice."
            )));
        }
        columns.push(column);
    }
    let has = |f: StudentField| columns.contains(&Column::Field(f));
    if columns.contains(&Column::Name)
        && (has(StudentField::FirstName) || has(StudentField::LastName))
    {
        return Err(FileError(
            "The header has both name and first_name/last_name: use one or the other.".into(),
        ));
    }
    let mut missing: Vec<&str> = [
        StudentField::College,
        StudentField::Course,
        StudentField::Email,
    ]
    .into_iter()
    .filter(|&f| !has(f))
    .map(StudentField::as_str)
    .collect();
    if !has(StudentField::LastName) && !columns.contains(&Column::Name) {
        missing.insert(0, "last_name (or name)");
    }
    if !missing.is_empty() {
        return Err(FileError(format!(
            "The header lacks the column(s) {}.",
            missing.join(", ")
        )));
    }
    Ok(columns)
}

/// The row's values as read, and the student they make (or why they make none).
fn student_of(
    columns: &[Column],
    record: &[String],
    meta: &StudentsMeta,
) -> (StudentInput, Result<StudentInput, RowError>) {
    let mut input = StudentInput::default();
    let student = checked_student(columns, record, meta, &mut input);
    (input, student)
}

fn checked_student(
    columns: &[Column],
    record: &[String],
    meta: &StudentsMeta,
    input: &mut StudentInput,
) -> Result<StudentInput, RowError> {
    if record.len() != columns.len() {
        return Err(RowError {
            field: None,
            reason: format!(
                "The row has {} cells; the header has {}.",
                record.len(),
                columns.len()
            ),
        });
    }
    for (column, cell) in columns.iter().zip(record) {
        let value = unneutralise(cell);
        let too_long = |field: Option<StudentField>| RowError {
            field,
            reason: format!("The cell is longer than {MAX_CELL_CHARS} characters."),
        };
        match column {
            Column::Id => {}
            Column::Name => {
                if value.chars().count() > MAX_CELL_CHARS {
                    return Err(too_long(Some(StudentField::LastName)));
                }
                let (first, last) = split_name(value);
                input.first_name = first.to_owned();
                input.last_name = last.to_owned();
            }
            Column::Field(field) => {
                if value.chars().count() > MAX_CELL_CHARS {
                    return Err(too_long(Some(*field)));
                }
                *input.get_mut(*field) = value.to_owned();
            }
        }
    }
    input.validate(meta).map_err(|errors| {
        errors
            .into_iter()
            .next()
            .map(RowError::from)
            .unwrap_or(RowError {
                field: None,
                reason: "The row is not a valid student.".into(),
            })
    })
}

/// A valid row: its number, the student, and what the caller keeps beside it.
pub type ValidRow<T> = (usize, StudentInput, T);

/// Splits valid rows (`(row, student, what the caller keeps beside it)`) into those to send and
/// those whose email an earlier row (of the same import) has: `(to send, [(row, the earlier
/// row)])`. Emails compare ignoring ASCII case (`A@X.example` repeats `a@x.example`; other
/// letters compare as written, and Zoho's own duplicate check on Email has the last word): the
/// full Unicode case tables would cost the app's first load 8 KB gzip. The portal's import (app
/// and Worker) and the `zcrm` CLI's skip the same repeats.
pub fn first_of_each_email<T>(rows: Vec<ValidRow<T>>) -> (Vec<ValidRow<T>>, Vec<(usize, usize)>) {
    let mut first_row_of: std::collections::HashMap<String, usize> =
        std::collections::HashMap::new();
    let mut send = Vec::new();
    let mut repeated = Vec::new();
    for (row, input, extra) in rows {
        match first_row_of.get(&input.email.to_ascii_lowercase()) {
            Some(&first) => repeated.push((row, first)),
            None => {
                first_row_of.insert(input.email.to_ascii_lowercase(), row);
                send.push((row, input, extra));
            }
        }
    }
    (send, repeated)
}

/// Splits a full name as the portal joins it ([`StudentInput::full_name`] puts one space between
/// first and last name) and as its search reads "Asha Rao": the first word is the first name,
/// the rest the last name; a single word is the last name (the one Zoho requires).
pub fn split_name(name: &str) -> (&str, &str) {
    let name = name.trim();
    match name.split_once(char::is_whitespace) {
        Some((first, last)) if !last.trim().is_empty() => (first, last.trim()),
        _ => ("", name),
    }
}

/// Whether a spreadsheet would read a cell starting like this as a formula.
fn is_formula_start(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// The cell as written on export: `'` before a leading formula character, and before a
/// leading `'` (so that a value that itself starts with `'` comes back unchanged).
pub fn neutralise(cell: &str) -> String {
    match cell.chars().next() {
        Some(c) if is_formula_start(c) || c == '\'' => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

/// The value of a cell as read on import: the `'` that [`neutralise`] added is dropped (a
/// leading `'` before a formula character or another `'`); any other `'` is the value's own.
pub fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest)
            if rest
                .chars()
                .next()
                .is_some_and(|c| is_formula_start(c) || c == '\'') =>
        {
            rest
        }
        _ => cell,
    }
}

/// Appends one CSV field, quoted when it must be.
fn push_field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// The header of an export: `id` then [`COLUMNS`], CRLF-terminated (RFC 4180).
pub fn export_header() -> String {
    let mut out = String::from(ID_COLUMN);
    for c in COLUMNS {
        out.push(',');
        out.push_str(c);
    }
    out.push_str("\r\n");
    out
}

/// One export row for `student`, formula characters neutralised.
pub fn export_row(student: &Student) -> String {
    let mut out = String::new();
    push_field(&mut out, &neutralise(&student.id));
    for field in StudentField::ALL {
        out.push(',');
        push_field(&mut out, &neutralise(student.fields.get(field)));
    }
    out.push_str("\r\n");
    out
}

/// RFC 4180 records of a text.
struct Records<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    /// Line of the record being read (1-based), for error messages.
    line: usize,
    done: bool,
}

impl<'a> Records<'a> {
    fn new(text: &'a str) -> Records<'a> {
        Records {
            chars: text.char_indices().peekable(),
            line: 1,
            done: text.is_empty(),
        }
    }
}

impl Iterator for Records<'_> {
    type Item = Result<Vec<String>, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let start_line = self.line;
        let mut record = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut after_quote = false;
        loop {
            let Some((_, c)) = self.chars.next() else {
                self.done = true;
                if quoted {
                    return Some(Err(FileError(format!(
                        "A quoted cell opened on line {start_line} is never closed."
                    ))));
                }
                record.push(field);
                return Some(Ok(record));
            };
            if quoted {
                match c {
                    '"' if self.chars.peek().is_some_and(|&(_, n)| n == '"') => {
                        self.chars.next();
                        field.push('"');
                    }
                    '"' => {
                        quoted = false;
                        after_quote = true;
                    }
                    '\n' => {
                        self.line += 1;
                        field.push(c);
                    }
                    _ => field.push(c),
                }
                continue;
            }
            match c {
                ',' => {
                    record.push(std::mem::take(&mut field));
                    after_quote = false;
                }
                '\r' if self.chars.peek().is_some_and(|&(_, n)| n == '\n') => {}
                '\n' | '\r' => {
                    self.line += 1;
                    record.push(field);
                    if self.chars.peek().is_none() {
                        self.done = true;
                    }
                    return Some(Ok(record));
                }
                '"' if field.is_empty() && !after_quote => quoted = true,
                _ if after_quote => {
                    return Some(Err(FileError(format!(
                        "Line {}: text after a closing quote (a quote inside a cell is written as two quotes).",
                        self.line
                    ))));
                }
                _ => field.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::students::FieldLimits;

    fn meta() -> StudentsMeta {
        StudentsMeta {
            courses: vec!["Data Science".into(), "Rust Fundamentals".into()],
            limits: FieldLimits::default(),
        }
    }

    #[test]
    fn reads_quoted_cells_crlf_and_bom() {
        let text = "\u{FEFF}First Name,last_name,college,course,email,phone\r\n\
                    Asha,\"Rao, Jr.\",\"Zylker \"\"North\"\"\",Data Science,asha@z.example,'+91 98765 43210\r\n\
                    \r\n\
                    ,Li,\"Multi\nline\",Data Science,li@z.example,\n";
        let rows = read_students(text, &meta()).unwrap();
        assert_eq!(rows.len(), 2);
        let asha = rows[0].student.as_ref().unwrap();
        assert_eq!(rows[0].row, 1);
        assert_eq!(asha.last_name, "Rao, Jr.");
        assert_eq!(asha.college, "Zylker \"North\"");
        assert_eq!(asha.phone, "+91 98765 43210", "the export's ' is dropped");
        assert_eq!(rows[1].row, 3, "the blank row keeps its number");
        let li = rows[1].student.as_ref().unwrap_err();
        assert_eq!(
            li.field,
            Some(StudentField::College),
            "a line break is a control character"
        );
    }

    fn input(email: &str) -> StudentInput {
        StudentInput {
            last_name: "Rao".into(),
            college: "Z".into(),
            course: "Data Science".into(),
            email: email.into(),
            ..StudentInput::default()
        }
    }

    #[test]
    fn the_first_row_of_each_email_is_sent() {
        let rows = vec![
            (1, input("a@x.example"), ()),
            (2, input("b@x.example"), ()),
            (4, input("A@X.example"), ()),
        ];
        let (send, repeated) = first_of_each_email(rows);
        let sent: Vec<usize> = send.iter().map(|(r, _, _)| *r).collect();
        assert_eq!(sent, [1, 2]);
        assert_eq!(repeated, [(4, 1)]);
    }

    #[test]
    fn names_split_as_the_portal_joins_them() {
        assert_eq!(split_name(" Asha  Rao Menon "), ("Asha", "Rao Menon"));
        assert_eq!(split_name("Rao"), ("", "Rao"));
        assert_eq!(split_name(""), ("", ""));
        let text = "name,college,course,email\nAsha Rao,Z,Data Science,a@z.example\nPlato,Z,Data Science,p@z.example\n";
        let rows = read_students(text, &meta()).unwrap();
        let asha = rows[0].student.as_ref().unwrap();
        assert_eq!(
            (asha.first_name.as_str(), asha.last_name.as_str()),
            ("Asha", "Rao")
        );
        assert_eq!(asha.full_name(), "Asha Rao");
        assert_eq!(rows[1].student.as_ref().unwrap().last_name, "Plato");
    }

    #[test]
    fn bad_headers_are_file_errors() {
        for (text, needle) in [
            ("", "empty"),
            ("first_name,last_name,college,course,email,shoe\n", "shoe"),
            ("last_name,last_name,college,course,email\n", "twice"),
            ("name,last_name,college,course,email\n", "both"),
            ("first_name,college,course,email\n", "last_name"),
            ("last_name,college,email\n", "course"),
            ("last_name,college,course,email\n\"open", "never closed"),
        ] {
            let e = read_students(text, &meta()).unwrap_err();
            assert!(e.0.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn bad_rows_name_field_and_reason() {
        let text = "last_name,college,course,email\n\
                    Rao,Z,Cooking,a@z.example\n\
                    Rao,Z,Data Science,not-an-email\n\
                    Rao,Z\n";
        let e = read_students(
            &format!("{text}\"Rao\"x,Z,Data Science,a@z.example\n"),
            &meta(),
        )
        .unwrap_err();
        assert!(e.0.contains("Line 5"), "{e}");
        let rows = read_students(text, &meta()).unwrap();
        let errors: Vec<_> = rows
            .iter()
            .map(|r| r.student.clone().unwrap_err())
            .collect();
        assert_eq!(errors[0].field, Some(StudentField::Course));
        assert_eq!(errors[1].field, Some(StudentField::Email));
        assert_eq!(errors[2].field, None);
        assert!(errors[2].reason.contains("2 cells"));
        // Who a refused row names, as read, for the report.
        assert_eq!(
            (rows[0].name.as_str(), rows[0].email.as_str()),
            ("Rao", "a@z.example")
        );
        assert_eq!(rows[1].email, "not-an-email");
        assert_eq!(
            rows[2].email, "",
            "cells that do not match the header are not read"
        );
    }

    #[test]
    fn export_neutralises_formulas_and_round_trips() {
        let student = Student {
            id: "5725767000000412001".into(),
            fields: StudentInput {
                first_name: "=HYPERLINK(\"x\")".into(),
                last_name: "@Rao".into(),
                college: "Zylker, North".into(),
                course: "Data Science".into(),
                email: "a@z.example".into(),
                phone: "+1 555 0100".into(),
            },
        };
        let row = export_row(&student);
        assert_eq!(
            row,
            "5725767000000412001,\"'=HYPERLINK(\"\"x\"\")\",'@Rao,\"Zylker, North\",Data Science,a@z.example,'+1 555 0100\r\n"
        );
        let text = format!("{}{row}", export_header());
        let rows = read_students(&text, &meta()).unwrap();
        assert_eq!(rows[0].student.as_ref().unwrap(), &student.fields);
        assert_eq!(neutralise("plain"), "plain");
        assert_eq!(
            unneutralise("'plain"),
            "'plain",
            "only the export's own quote goes"
        );
        for own in ["'plain", "'=x", "''"] {
            assert_eq!(unneutralise(&neutralise(own)), own);
        }
    }

    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => any::<String>(),
            3 => "[ -~]{0,30}",
            2 => "['=+@-]{0,2}[a-zA-Z ,\"']{0,20}",
            1 => "[,\"\r\n a]{0,12}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

        /// No file makes the reader panic, and every row it reports is numbered within the file.
        #[test]
        fn any_text_reads_without_panicking(body in text(), header in prop::bool::ANY) {
            let text = if header {
                format!("name,college,course,email,phone\n{body}")
            } else {
                body
            };
            if let Ok(rows) = read_students(&text, &meta()) {
                let records = text.matches(['\n', '\r']).count() + 1;
                prop_assert!(rows.iter().all(|r| r.row >= 1 && r.row <= records));
            }
        }

        /// Whatever the portal accepts is exported and imported back unchanged.
        #[test]
        fn valid_students_round_trip(
            first in text(),
            last in text(),
            college in text(),
            email_local in "[a-z0-9.+=-]{1,12}",
            phone in prop_oneof![Just(String::new()), "[+]?[0-9 ()-]{6,16}"],
            course in prop::sample::select(vec!["Data Science", "Rust Fundamentals"]),
        ) {
            let input = StudentInput {
                first_name: first,
                last_name: last,
                college,
                course: course.to_owned(),
                email: format!("{email_local}@college.example"),
                phone,
            };
            if let Ok(valid) = input.validate(&meta()) {
                let student = Student { id: "5725767000000412001".into(), fields: valid };
                let text = format!("{}{}", export_header(), export_row(&student));
                let rows = read_students(&text, &meta()).unwrap();
                prop_assert_eq!(rows.len(), 1);
                prop_assert_eq!(rows[0].student.as_ref().unwrap(), &student.fields);
            }
        }
    }
}
