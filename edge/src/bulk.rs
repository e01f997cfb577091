//! Many students at once, as the portal's bulk import (`POST /api/students/bulk`) and the `zcrm`
//! CLI's `students import` both send them: which rows are sent, how the students already in
//! Zoho are found first (so that importing a file again creates nothing twice), one insert of
//! up to 100 records (<https://www.zoho.com/crm/developer/docs/api/v8/insert-records.html>) and
//! what Zoho said of each. Pure: the callers do the I/O.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use zcrm_api::students::{StudentField, StudentInput};
use zoho::criteria::{Criteria, Operator};
use zoho::crm::{ListResponse, Status as ZohoStatus};

use crate::leads::{self, LEAD_FIELDS, MODULE, WriteOutcome};

/// Zoho's most conditions in one search criteria.
pub const MAX_CONDITIONS: usize = 10;
/// The most search pages read for one batch's emails (200 each: more than a batch holds).
pub const MAX_SEARCH_PAGES: u32 = 10;

/// A valid row: its number, the student, and what the caller keeps beside it.
pub type Row<T> = zcrm_api::csv::ValidRow<T>;

/// The app's import skips the same repeats before sending: the rule is `zcrm-api`'s.
pub use zcrm_api::csv::first_of_each_email;

/// The searches that find which of `emails` Zoho has: first one `in` condition
/// (<https://www.zoho.com/crm/developer/docs/api/v8/search-records.html>); where Zoho refuses
/// `in` for Email (`INVALID_QUERY`), [`emails_equal`].
pub fn emails_in(emails: &[&str]) -> Criteria {
    Criteria::cond_many("Email", Operator::In, emails)
}

/// The same as `equals` conditions, ten at a time.
pub fn emails_equal(emails: &[&str]) -> Vec<Criteria> {
    emails
        .chunks(MAX_CONDITIONS)
        .filter_map(|chunk| {
            chunk
                .iter()
                .map(|e| Criteria::equals("Email", e))
                .reduce(Criteria::or)
        })
        .collect()
}

/// Page `page` of a search for existing students.
pub fn search_path(criteria: &Criteria, page: u32) -> String {
    format!(
        "/{MODULE}/search?criteria={}&fields={LEAD_FIELDS}&per_page=200&page={page}",
        zoho::form::encode_component(&criteria.to_string())
    )
}

/// Adds a search page's students to `found` (email in ASCII lower case → id, the first one
/// kept): emails compare as the import compares them (`zcrm_api::csv::first_of_each_email`).
pub fn note_found(list: &ListResponse, found: &mut BTreeMap<String, String>) {
    for s in list.data.iter().filter_map(leads::student_from_record) {
        found
            .entry(s.fields.email.to_ascii_lowercase())
            .or_insert(s.id);
    }
}

/// The body of one insert of these (validated) students.
pub fn insert_body<'a>(inputs: impl IntoIterator<Item = &'a StudentInput>) -> String {
    let records: Vec<Value> = inputs
        .into_iter()
        .map(|input| Value::Object(leads::record_from_input(input)))
        .collect();
    json!({"data": records, "trigger": []}).to_string()
}

/// What Zoho said of one record of an insert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inserted {
    Created {
        id: String,
    },
    /// Zoho's duplicate check on Email caught it (`DUPLICATE_DATA`), with the existing record.
    Duplicate {
        existing: Option<String>,
    },
    /// Refused: the field (when Zoho named one of the student's) and why.
    Refused {
        field: Option<StudentField>,
        reason: String,
    },
}

/// Each record's outcome of an insert answer (`data[]`, 201, 207 or 400 alike, read by
/// [`zoho::crm::read_write`]), in the order sent; `None` when the answer does not have one
/// element per record sent.
pub fn inserted(results: &[ZohoStatus], sent: usize) -> Option<Vec<Inserted>> {
    if results.len() != sent {
        return None;
    }
    Some(
        results
            .iter()
            .map(|result| {
                let existing = result
                    .details
                    .get("duplicate_record")
                    .and_then(|d| d.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                match leads::write_outcome(result) {
                    WriteOutcome::Done { id } => Inserted::Created { id },
                    WriteOutcome::Duplicate => Inserted::Duplicate { existing },
                    WriteOutcome::Field { field, message } => Inserted::Refused {
                        field: Some(field),
                        reason: message,
                    },
                    WriteOutcome::NotFound => Inserted::Refused {
                        field: None,
                        reason: "Zoho refused the row (invalid data).".into(),
                    },
                    WriteOutcome::Other { code } => Inserted::Refused {
                        field: None,
                        reason: format!(
                            "Zoho refused the row: {}.",
                            code.chars().take(60).collect::<String>()
                        ),
                    },
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn existing_emails_are_searched_as_text() {
        let emails = ["a@x.example", "b)or(Email:starts_with:@x.example"];
        let c = emails_in(&emails);
        assert_eq!(Criteria::parse(&c.to_string()).unwrap(), c);
        let many: Vec<String> = (0..25).map(|i| format!("s{i}@x.example")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let chunks = emails_equal(&many);
        assert_eq!(chunks.len(), 3);
        assert!(chunks.iter().all(|c| c.condition_count() <= MAX_CONDITIONS));
        assert!(search_path(&c, 2).ends_with("&per_page=200&page=2"));
        let list: ListResponse = serde_json::from_value(json!({
            "data": [{"id": "5725767000000000001", "Last_Name": "Rao", "Email": "A@x.example"},
                     {"id": "5725767000000000002", "Last_Name": "Rao", "Email": "a@x.example"}],
            "info": {"per_page": 200, "count": 2, "page": 1, "more_records": false}
        }))
        .unwrap();
        let mut found = BTreeMap::new();
        note_found(&list, &mut found);
        assert_eq!(found["a@x.example"], "5725767000000000001");
    }

    #[test]
    fn each_record_of_an_insert_has_its_outcome() {
        let body: Value = serde_json::from_str(&insert_body([&input("a@x.example")])).unwrap();
        assert_eq!(body["data"][0]["Email"], "a@x.example");
        assert_eq!(body["trigger"], json!([]));
        let answer = json!({"data": [
            {"code": "SUCCESS", "details": {"id": "5725767000000000009"}, "message": "record added", "status": "success"},
            {"code": "DUPLICATE_DATA", "details": {"api_name": "Email", "duplicate_record": {"id": "5725767000000000001"}}, "message": "duplicate data", "status": "error"},
            {"code": "INVALID_DATA", "details": {"api_name": "Course"}, "message": "invalid data", "status": "error"},
            {"code": "LIMIT_EXCEEDED", "details": {}, "message": "x", "status": "error"}
        ]});
        let answer = zoho::crm::read_write(207, &answer.to_string())
            .into_records()
            .unwrap();
        assert_eq!(
            inserted(&answer, 4).unwrap(),
            [
                Inserted::Created {
                    id: "5725767000000000009".into()
                },
                Inserted::Duplicate {
                    existing: Some("5725767000000000001".into())
                },
                Inserted::Refused {
                    field: Some(StudentField::Course),
                    reason: "Zoho did not accept this course.".into()
                },
                Inserted::Refused {
                    field: None,
                    reason: "Zoho refused the row: LIMIT_EXCEEDED.".into()
                },
            ]
        );
        assert_eq!(inserted(&answer, 3), None, "one answer per record sent");
    }
}
