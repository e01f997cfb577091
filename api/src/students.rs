//! Students: the portal's view of a Zoho CRM Lead, and the rules a student must satisfy.
//!
//! The app runs [`StudentInput::validate`] as the coordinator types; the edge runs the same
//! function on every create and update before anything reaches Zoho. The limits and the course
//! choices come from Zoho's field metadata ([`StudentsMeta`], served by `GET /api/students/meta`).

use serde::{Deserialize, Serialize};

/// A student as the portal shows it. Maps to a Lead: `First_Name`, `Last_Name`, `Company`
/// (the college), `Course` (a custom picklist), `Email`, `Phone`.
///
/// On the wire the id and the fields are one flat object, `{"id","first_name",…}`; it is read
/// and written through [`StudentWire`] rather than `#[serde(flatten)]`, whose buffering code
/// would cost the app's first load several KB.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StudentWire", into = "StudentWire")]
pub struct Student {
    pub id: String,
    pub fields: StudentInput,
}

/// [`Student`] as JSON has it.
#[derive(Clone, Serialize, Deserialize)]
struct StudentWire {
    id: String,
    #[serde(default)]
    first_name: String,
    last_name: String,
    college: String,
    course: String,
    email: String,
    #[serde(default)]
    phone: String,
}

impl From<StudentWire> for Student {
    fn from(w: StudentWire) -> Student {
        Student {
            id: w.id,
            fields: StudentInput {
                first_name: w.first_name,
                last_name: w.last_name,
                college: w.college,
                course: w.course,
                email: w.email,
                phone: w.phone,
            },
        }
    }
}

impl From<Student> for StudentWire {
    fn from(s: Student) -> StudentWire {
        let f = s.fields;
        StudentWire {
            id: s.id,
            first_name: f.first_name,
            last_name: f.last_name,
            college: f.college,
            course: f.course,
            email: f.email,
            phone: f.phone,
        }
    }
}

/// What a coordinator types into the form: the body of `POST /api/students` and
/// `PUT /api/students/{id}`. Empty optional fields are empty strings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudentInput {
    #[serde(default)]
    pub first_name: String,
    pub last_name: String,
    pub college: String,
    pub course: String,
    pub email: String,
    #[serde(default)]
    pub phone: String,
}

/// The fields of a student, named as the API and the app's form name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StudentField {
    FirstName,
    LastName,
    College,
    Course,
    Email,
    Phone,
}

impl StudentField {
    pub const ALL: [StudentField; 6] = [
        StudentField::FirstName,
        StudentField::LastName,
        StudentField::College,
        StudentField::Course,
        StudentField::Email,
        StudentField::Phone,
    ];

    /// The name in JSON bodies and in `error.field`.
    pub fn as_str(self) -> &'static str {
        match self {
            StudentField::FirstName => "first_name",
            StudentField::LastName => "last_name",
            StudentField::College => "college",
            StudentField::Course => "course",
            StudentField::Email => "email",
            StudentField::Phone => "phone",
        }
    }

    /// Whether a student needs it. (Which Lead field holds it is the Worker's business:
    /// `zcrm_edge::leads::lead_field`.)
    pub fn is_required(self) -> bool {
        matches!(
            self,
            StudentField::LastName
                | StudentField::College
                | StudentField::Course
                | StudentField::Email
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            StudentField::FirstName => "First name",
            StudentField::LastName => "Last name",
            StudentField::College => "College",
            StudentField::Course => "Course",
            StudentField::Email => "Email",
            StudentField::Phone => "Phone",
        }
    }
}

/// `GET /api/students/meta`: the course choices and the field lengths, from Zoho's metadata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudentsMeta {
    pub courses: Vec<String>,
    pub limits: FieldLimits,
}

/// Maximum lengths in characters, as Zoho reports them for the Lead fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldLimits {
    pub first_name: u32,
    pub last_name: u32,
    pub college: u32,
    pub email: u32,
    pub phone: u32,
}

impl Default for FieldLimits {
    /// Zoho's standard lengths for these Lead fields.
    fn default() -> FieldLimits {
        FieldLimits {
            first_name: 40,
            last_name: 80,
            college: 200,
            email: 100,
            phone: 30,
        }
    }
}

impl FieldLimits {
    /// The limit of `field`; a course is a picklist choice and has none.
    pub fn of(&self, field: StudentField) -> Option<u32> {
        let mut limits = *self;
        limits.slot(field).map(|limit| *limit)
    }

    /// Sets the limit of `field`, if it has one.
    pub fn set(&mut self, field: StudentField, limit: u32) {
        if let Some(slot) = self.slot(field) {
            *slot = limit;
        }
    }

    /// The one mapping from a field to its limit.
    fn slot(&mut self, field: StudentField) -> Option<&mut u32> {
        match field {
            StudentField::FirstName => Some(&mut self.first_name),
            StudentField::LastName => Some(&mut self.last_name),
            StudentField::College => Some(&mut self.college),
            StudentField::Email => Some(&mut self.email),
            StudentField::Phone => Some(&mut self.phone),
            StudentField::Course => None,
        }
    }
}

/// One reason a student is not acceptable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: StudentField,
    pub message: String,
}

/// The most a page may hold (Zoho's own maximum).
pub const MAX_PER_PAGE: u32 = 200;
pub const DEFAULT_PER_PAGE: u32 = 20;
/// Longest search term accepted.
pub const MAX_SEARCH_LEN: usize = 100;

/// Most students in one `POST /api/students/bulk` (Zoho's most records in one insert).
pub const MAX_BULK: usize = 100;

/// `POST /api/students/bulk`: students to create at once, with one Zoho insert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    pub students: Vec<StudentInput>,
}

/// The answer of `POST /api/students/bulk`: one result per row sent, in the order sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkResponse {
    pub results: Vec<BulkResult>,
}

/// What became of one row (`row`: 1 = the first student of the request).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum BulkResult {
    /// Created in Zoho.
    Created { row: usize, student: Student },
    /// Not created: a student with this email is already in Zoho, or an earlier row has it.
    Duplicate { row: usize, field: StudentField },
    /// Refused: each field to blame and why (`row` when Zoho refused the row as a whole).
    Invalid {
        row: usize,
        fields: std::collections::BTreeMap<String, String>,
    },
}

impl BulkResult {
    pub fn row(&self) -> usize {
        match self {
            BulkResult::Created { row, .. }
            | BulkResult::Duplicate { row, .. }
            | BulkResult::Invalid { row, .. } => *row,
        }
    }
}

/// [`BulkResponse`] as the app reads it: each row's number, status and refused fields (the
/// created student is not kept). Flat, so the app's Wasm carries no serde code for internally
/// tagged enums (14 KB gzip); it reads exactly what [`BulkResponse`] writes.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct BulkOutcomes {
    pub results: Vec<BulkOutcome>,
}

/// One row of [`BulkOutcomes`].
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct BulkOutcome {
    pub row: usize,
    pub status: BulkStatus,
    /// With [`BulkStatus::Invalid`]: each field to blame (or `row`) and why.
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, String>,
}

/// `status` of a [`BulkResult`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkStatus {
    Created,
    Duplicate,
    Invalid,
}

/// `GET /api/students/count[?q=&course=]`: how many students the list has with that search and
/// filter (Zoho's record count).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudentsCount {
    pub count: u64,
}

/// Longest `course` filter accepted (longer than any picklist value).
pub const MAX_COURSE_LEN: usize = 120;

/// The columns `GET /api/students?sort=` and the export sort by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Name,
    College,
    Course,
    Email,
    Created,
    Modified,
}

impl SortKey {
    pub const ALL: [SortKey; 6] = [
        SortKey::Name,
        SortKey::College,
        SortKey::Course,
        SortKey::Email,
        SortKey::Created,
        SortKey::Modified,
    ];

    /// The value of `sort=`.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::College => "college",
            SortKey::Course => "course",
            SortKey::Email => "email",
            SortKey::Created => "created",
            SortKey::Modified => "modified",
        }
    }

    pub fn parse(value: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.as_str() == value)
    }
}

/// `order=asc|desc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

impl SortOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Asc => "asc",
            SortOrder::Desc => "desc",
        }
    }

    pub fn parse(value: &str) -> Option<SortOrder> {
        match value {
            "asc" => Some(SortOrder::Asc),
            "desc" => Some(SortOrder::Desc),
            _ => None,
        }
    }
}

impl StudentInput {
    /// Trims every field, then checks it against the portal's rules and Zoho's metadata.
    /// Returns the trimmed input, or every problem found (at most one per field).
    pub fn validate(&self, meta: &StudentsMeta) -> Result<StudentInput, Vec<FieldError>> {
        let trimmed = StudentInput {
            first_name: self.first_name.trim().to_owned(),
            last_name: self.last_name.trim().to_owned(),
            college: self.college.trim().to_owned(),
            course: self.course.trim().to_owned(),
            email: self.email.trim().to_owned(),
            phone: self.phone.trim().to_owned(),
        };
        let errors: Vec<FieldError> = StudentField::ALL
            .into_iter()
            .filter_map(|field| {
                check_field(field, trimmed.get(field), meta)
                    .err()
                    .map(|message| FieldError { field, message })
            })
            .collect();
        if errors.is_empty() {
            Ok(trimmed)
        } else {
            Err(errors)
        }
    }

    pub fn get(&self, field: StudentField) -> &str {
        match field {
            StudentField::FirstName => &self.first_name,
            StudentField::LastName => &self.last_name,
            StudentField::College => &self.college,
            StudentField::Course => &self.course,
            StudentField::Email => &self.email,
            StudentField::Phone => &self.phone,
        }
    }

    pub fn get_mut(&mut self, field: StudentField) -> &mut String {
        match field {
            StudentField::FirstName => &mut self.first_name,
            StudentField::LastName => &mut self.last_name,
            StudentField::College => &mut self.college,
            StudentField::Course => &mut self.course,
            StudentField::Email => &mut self.email,
            StudentField::Phone => &mut self.phone,
        }
    }

    /// The full name as the portal shows it.
    pub fn full_name(&self) -> String {
        match (self.first_name.is_empty(), self.last_name.is_empty()) {
            (true, _) => self.last_name.clone(),
            (false, true) => self.first_name.clone(),
            (false, false) => format!("{} {}", self.first_name, self.last_name),
        }
    }
}

/// Checks one trimmed value. The message is for people and names no internals.
pub fn check_field(field: StudentField, value: &str, meta: &StudentsMeta) -> Result<(), String> {
    if value.is_empty() {
        return if field.is_required() {
            Err(format!("{} is required.", field.label()))
        } else {
            Ok(())
        };
    }
    if value
        .chars()
        .any(|c| c.is_control() || is_invisible_format(c))
    {
        return Err(format!(
            "{} cannot contain control or invisible formatting characters.",
            field.label()
        ));
    }
    if let Some(limit) = meta.limits.of(field) {
        let len = value.chars().count();
        if len > limit as usize {
            return Err(format!(
                "{} can be at most {limit} characters ({len} now).",
                field.label()
            ));
        }
    }
    match field {
        StudentField::Email if !is_email(value) => {
            Err("Enter an email address like name@college.edu.".to_owned())
        }
        StudentField::Phone if !is_phone(value) => Err(
            "Enter a phone number: digits, spaces and + - ( ) . only, at least 6 digits."
                .to_owned(),
        ),
        StudentField::Course if !meta.courses.iter().any(|c| c == value) => {
            Err("Choose one of the courses offered.".to_owned())
        }
        _ => Ok(()),
    }
}

/// Invisible formatting characters that can disguise text: zero-width characters, bidirectional
/// overrides and isolates, the byte-order mark, the soft hyphen.
pub fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// A pragmatic email check: one `@`, a non-empty local part, a dotted domain, no spaces or
/// control characters.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !s.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '(' | ')' | ',' | '"' | '<' | '>')
        })
}

/// Digits and phone punctuation only, with at least 6 digits.
pub fn is_phone(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')' | '.'))
        && s.chars().filter(char::is_ascii_digit).count() >= 6
}

/// `GET /api/students` answer: one page of Zoho's list or search.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudentsPage {
    pub students: Vec<Student>,
    pub page: u32,
    pub per_page: u32,
    /// Zoho says more records follow this page.
    pub more: bool,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_lean_bulk_answer_reads_what_the_worker_writes() {
        let student = Student {
            id: "5725767000000412001".into(),
            fields: StudentInput::default(),
        };
        let answer = BulkResponse {
            results: vec![
                BulkResult::Created { row: 1, student },
                BulkResult::Duplicate {
                    row: 2,
                    field: StudentField::Email,
                },
                BulkResult::Invalid {
                    row: 3,
                    fields: [("course".to_owned(), "Not offered.".to_owned())].into(),
                },
            ],
        };
        let read: BulkOutcomes =
            serde_json::from_str(&serde_json::to_string(&answer).unwrap()).unwrap();
        let seen: Vec<(usize, BulkStatus, usize)> = read
            .results
            .iter()
            .map(|r| (r.row, r.status, r.fields.len()))
            .collect();
        assert_eq!(
            seen,
            [
                (1, BulkStatus::Created, 0),
                (2, BulkStatus::Duplicate, 0),
                (3, BulkStatus::Invalid, 1)
            ]
        );
        assert_eq!(read.results[2].fields["course"], "Not offered.");
    }

    use super::*;

    #[test]
    fn wire_shapes_are_the_contracts() {
        let student = Student {
            id: "5725767000000412001".into(),
            fields: StudentInput {
                first_name: "Asha".into(),
                last_name: "Rao".into(),
                college: "Z".into(),
                course: "Data Science".into(),
                email: "a@z.example".into(),
                phone: String::new(),
            },
        };
        let flat = serde_json::json!({"id": "5725767000000412001", "first_name": "Asha",
            "last_name": "Rao", "college": "Z", "course": "Data Science", "email": "a@z.example",
            "phone": ""});
        assert_eq!(serde_json::to_value(&student).unwrap(), flat);
        assert_eq!(serde_json::from_value::<Student>(flat).unwrap(), student);
        let results = BulkResponse {
            results: vec![
                BulkResult::Created { row: 1, student },
                BulkResult::Duplicate {
                    row: 2,
                    field: StudentField::Email,
                },
                BulkResult::Invalid {
                    row: 3,
                    fields: [("course".to_owned(), "Choose one.".to_owned())].into(),
                },
            ],
        };
        let v = serde_json::to_value(&results).unwrap();
        assert_eq!(v["results"][0]["status"], "created");
        assert_eq!(v["results"][0]["student"]["email"], "a@z.example");
        assert_eq!(
            v["results"][1],
            serde_json::json!({"row": 2, "status": "duplicate", "field": "email"})
        );
        assert_eq!(
            v["results"][2],
            serde_json::json!({"row": 3, "status": "invalid", "fields": {"course": "Choose one."}})
        );
        assert!(serde_json::from_str::<BulkRequest>(r#"{"students":[],"x":1}"#).is_err());
    }

    #[test]
    fn sort_keys_and_orders_round_trip() {
        for k in SortKey::ALL {
            assert_eq!(SortKey::parse(k.as_str()), Some(k));
        }
        for o in [SortOrder::Asc, SortOrder::Desc] {
            assert_eq!(SortOrder::parse(o.as_str()), Some(o));
        }
        assert_eq!(SortKey::parse("Name"), None, "values are exact");
        assert_eq!(SortOrder::parse("up"), None);
    }

    fn meta() -> StudentsMeta {
        StudentsMeta {
            courses: vec!["Rust Fundamentals".into(), "Data Science".into()],
            limits: FieldLimits::default(),
        }
    }

    fn good() -> StudentInput {
        StudentInput {
            first_name: " Asha ".into(),
            last_name: "Rao".into(),
            college: "Zylker College".into(),
            course: "Data Science".into(),
            email: "asha@zylker.edu".into(),
            phone: "+91 98765 43210".into(),
        }
    }

    fn fields_in_error(input: &StudentInput) -> Vec<StudentField> {
        input
            .validate(&meta())
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_good_student_passes_trimmed() {
        let valid = good().validate(&meta()).unwrap();
        assert_eq!(valid.first_name, "Asha");
        assert_eq!(valid.full_name(), "Asha Rao");
    }

    #[test]
    fn required_fields_and_optional_ones() {
        let empty = StudentInput::default();
        assert_eq!(
            fields_in_error(&empty),
            [
                StudentField::LastName,
                StudentField::College,
                StudentField::Course,
                StudentField::Email
            ]
        );
        let mut no_optional = good();
        no_optional.first_name = "  ".into();
        no_optional.phone.clear();
        assert!(no_optional.validate(&meta()).is_ok());
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        let mut s = good();
        s.last_name = "é".repeat(80);
        assert!(s.validate(&meta()).is_ok());
        s.last_name = "é".repeat(81);
        let errors = s.validate(&meta()).unwrap_err();
        assert_eq!(errors[0].field, StudentField::LastName);
        assert!(errors[0].message.contains("at most 80"));
    }

    #[test]
    fn course_must_be_offered() {
        let mut s = good();
        s.course = "Underwater Basket Weaving".into();
        assert_eq!(fields_in_error(&s), [StudentField::Course]);
        s.course = "data science".into();
        assert_eq!(fields_in_error(&s), [StudentField::Course]);
    }

    #[test]
    fn emails_and_phones() {
        for ok in ["a@b.co", "first.last+tag@college.example.edu"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@b.co",
            "a@@b.co",
            "a@.b",
            "a@b.",
            "a b@c.de",
            "a@b..c",
            "a)@b.co",
            // Found by the property tests: DEL is a control character, not whitespace.
            "\u{7f}@b.co",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        for ok in ["+1 (555) 010-2030", "9876543210"] {
            assert!(is_phone(ok), "{ok}");
        }
        for bad in ["12345", "call me", "555-0100 ext 2"] {
            assert!(!is_phone(bad), "{bad}");
        }
    }

    #[test]
    fn control_characters_are_refused() {
        let mut s = good();
        s.college = "Zylker\u{0}College".into();
        assert_eq!(fields_in_error(&s), [StudentField::College]);
    }

    #[test]
    fn invisible_formatting_characters_are_refused() {
        for c in ['\u{202E}', '\u{200B}', '\u{FEFF}', '\u{2066}', '\u{00AD}'] {
            let mut s = good();
            s.last_name = format!("Ra{c}o");
            assert_eq!(fields_in_error(&s), [StudentField::LastName], "{:?}", c);
        }
        let mut s = good();
        s.last_name = "Ráo Ölçer-Smith".into();
        assert!(
            s.validate(&meta()).is_ok(),
            "accents are letters, not formatting"
        );
    }

    #[test]
    fn unknown_json_fields_are_refused() {
        let body = r#"{"last_name":"R","college":"C","course":"Data Science","email":"a@b.co","Owner":"x"}"#;
        assert!(serde_json::from_str::<StudentInput>(body).is_err());
        let body = r#"{"last_name":"R","college":"C","course":"Data Science","email":"a@b.co"}"#;
        let input: StudentInput = serde_json::from_str(body).unwrap();
        assert!(input.validate(&meta()).is_ok());
    }

    #[test]
    fn field_names_round_trip() {
        for f in StudentField::ALL {
            let json = serde_json::to_string(&f).unwrap();
            assert_eq!(json, format!("\"{}\"", f.as_str()));
        }
    }
}
