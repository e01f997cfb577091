//! Students as Zoho Leads: the mapping both ways and the reading of Zoho's answers into the
//! portal's terms (the list's, search's and count's requests are in [`crate::listing`]). Pure:
//! the Worker glue sends what this builds.

use serde_json::{Map, Value, json};
use zcrm_api::students::{
    FieldLimits, MAX_PER_PAGE, Student, StudentField, StudentInput, StudentsMeta, StudentsPage,
};
use zoho::criteria::Criteria;
use zoho::crm::{ErrorCode, ListResponse, Record, Status as ZohoStatus};
use zoho::fields::FieldsResponse;

pub const MODULE: &str = "Leads";

/// The one table of which Lead field holds which student field; it makes [`lead_field`],
/// [`student_field`] and [`LEAD_FIELDS`].
macro_rules! lead_fields {
    ($first:ident => $first_name:literal $(, $field:ident => $name:literal)* $(,)?) => {
        /// The Lead field that holds `field`.
        pub fn lead_field(field: StudentField) -> &'static str {
            match field {
                StudentField::$first => $first_name,
                $(StudentField::$field => $name,)*
            }
        }

        /// The student field a Lead field holds, if any.
        pub fn student_field(api_name: &str) -> Option<StudentField> {
            match api_name {
                $first_name => Some(StudentField::$first),
                $($name => Some(StudentField::$field),)*
                _ => None,
            }
        }

        /// The Lead fields a student is made of, for `fields=` (mandatory on lists).
        pub const LEAD_FIELDS: &str = concat!($first_name $(, ",", $name)*);
    };
}

lead_fields! {
    FirstName => "First_Name",
    LastName => "Last_Name",
    College => "Company",
    Course => "Course",
    Email => "Email",
    Phone => "Phone",
}
/// Zoho pages through at most this many records by page number.
pub const MAX_PAGED_RECORDS: u32 = 2000;

pub use crate::listing::{CountQuery, ListQuery, search_criteria};

/// Where a create whose outcome is unknown (it timed out, or the answer was cut) is looked for
/// before it is sent again: the Leads with the same last name and email.
pub fn same_student_path(input: &StudentInput) -> String {
    let mut criteria = Criteria::equals("Last_Name", &input.last_name);
    if !input.email.is_empty() {
        criteria = criteria.and(Criteria::equals("Email", &input.email));
    }
    format!(
        "/{MODULE}/search?criteria={}&fields={LEAD_FIELDS}&per_page={}",
        zoho::form::encode_component(&criteria.to_string()),
        MAX_PER_PAGE
    )
}

/// The student of a search answer whose fields are exactly `input`'s.
pub fn find_same(list: &ListResponse, input: &StudentInput) -> Option<Student> {
    list.data
        .iter()
        .filter_map(student_from_record)
        .find(|s| s.fields == *input)
}

/// A Lead record as a student; `None` without an id.
pub fn student_from_record(record: &Record) -> Option<Student> {
    let id = record.get("id")?.as_str()?.to_owned();
    if !zoho::fields::is_record_id(&id) {
        return None;
    }
    let mut fields = StudentInput::default();
    for field in StudentField::ALL {
        *fields.get_mut(field) = match record.get(lead_field(field)) {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
    }
    Some(Student { id, fields })
}

/// The Lead fields of a (validated) student: empty optional fields are sent as `null`, which
/// clears them on update.
pub fn record_from_input(input: &StudentInput) -> Map<String, Value> {
    // Inserted one by one: `collect` into a map sorts first, a sort's code for this one use.
    let mut record = Map::new();
    for field in StudentField::ALL {
        let value = input.get(field);
        let value = if value.is_empty() {
            Value::Null
        } else {
            json!(value)
        };
        record.insert(lead_field(field).to_owned(), value);
    }
    record
}

/// The body of a create or update of one record.
pub fn write_body(input: &StudentInput, id: Option<&str>) -> String {
    let mut record = record_from_input(input);
    if let Some(id) = id {
        record.insert("id".into(), json!(id));
    }
    json!({"data": [record], "trigger": []}).to_string()
}

/// A page of students from a list or search answer (`None` = Zoho's 204 "no records").
pub fn page(list: Option<ListResponse>, query: &ListQuery) -> StudentsPage {
    let (students, more) = match list {
        Some(list) => (
            list.data.iter().filter_map(student_from_record).collect(),
            list.info.more_records,
        ),
        None => (Vec::new(), false),
    };
    StudentsPage {
        students,
        page: query.page,
        per_page: query.per_page,
        more,
    }
}

/// What became of a one-record write.
#[derive(Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    Done {
        id: String,
    },
    /// Zoho refused a field (`INVALID_DATA`, `MANDATORY_NOT_FOUND`).
    Field {
        field: StudentField,
        message: String,
    },
    /// Another record has this email (`DUPLICATE_DATA`).
    Duplicate,
    /// The record does not exist (or this user cannot see it).
    NotFound,
    /// Anything else: Zoho's code, for the logs.
    Other {
        code: String,
    },
}

/// What one status object of a write's answer (a record's result, or the whole request's error)
/// means for the student.
pub fn write_outcome(result: &ZohoStatus) -> WriteOutcome {
    if result.status == "success" {
        return match result.details.get("id").and_then(Value::as_str) {
            Some(id) if zoho::fields::is_record_id(id) => WriteOutcome::Done { id: id.to_owned() },
            _ => WriteOutcome::Other {
                code: "NO_ID".into(),
            },
        };
    }
    outcome_of_error(result)
}

fn outcome_of_error(e: &ZohoStatus) -> WriteOutcome {
    let field = e
        .details
        .get("api_name")
        .and_then(Value::as_str)
        .and_then(student_field);
    match (e.error_code(), field) {
        (Some(ErrorCode::DuplicateData), _) => WriteOutcome::Duplicate,
        (Some(ErrorCode::InvalidData | ErrorCode::MandatoryNotFound), Some(field)) => {
            WriteOutcome::Field {
                field,
                message: field_message(field, e),
            }
        }
        (Some(ErrorCode::InvalidData), None) if e.details.get("id").is_some() => {
            WriteOutcome::NotFound
        }
        (Some(ErrorCode::NotFound | ErrorCode::InvalidUrlPattern), _) => WriteOutcome::NotFound,
        // Zoho's own string, for the logs.
        _ => WriteOutcome::Other {
            code: e.code.clone(),
        },
    }
}

/// A sentence for people from Zoho's per-field error.
fn field_message(field: StudentField, e: &ZohoStatus) -> String {
    let label = field.label();
    if e.error_code() == Some(ErrorCode::MandatoryNotFound) {
        return format!("{label} is required.");
    }
    if let Some(max) = e.details.get("maximum_length").and_then(Value::as_u64) {
        return format!("{label} can be at most {max} characters.");
    }
    if let Some(expected) = e.details.get("expected_data_type").and_then(Value::as_str) {
        return format!("{label} must be a valid {expected}.");
    }
    format!("Zoho did not accept this {}.", label.to_ascii_lowercase())
}

/// Where the Leads' field metadata is read (<https://www.zoho.com/crm/developer/docs/api/v8/field-meta.html>).
pub fn meta_path() -> String {
    format!("/settings/fields?module={MODULE}")
}

/// The course choices and the lengths, from [`meta_path`]'s answer.
pub fn meta_from_fields(fields: &FieldsResponse) -> StudentsMeta {
    let mut limits = FieldLimits::default();
    let mut courses = Vec::new();
    for f in &fields.fields {
        let Some(field) = student_field(&f.api_name) else {
            continue;
        };
        if field == StudentField::Course {
            courses = f
                .pick_list_values
                .iter()
                .map(|p| p.actual_value.clone())
                .filter(|v| !v.is_empty() && v != "-None-")
                .collect();
        } else if f.length > 0 {
            limits.set(field, f.length);
        }
    }
    StudentsMeta { courses, limits }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_student_field_has_one_lead_field() {
        let names: Vec<&str> = StudentField::ALL.into_iter().map(lead_field).collect();
        assert_eq!(LEAD_FIELDS, names.join(","));
        for field in StudentField::ALL {
            assert_eq!(student_field(lead_field(field)), Some(field));
        }
        assert_eq!(student_field("Owner"), None);
    }

    #[test]
    fn an_unknown_create_is_found_by_its_exact_fields_only() {
        let input = StudentInput {
            first_name: "Asha".into(),
            last_name: "Rao)or(Email:starts_with:".into(),
            college: "Zylker College".into(),
            course: "Data Science".into(),
            email: "asha@college.example".into(),
            phone: String::new(),
        };
        let path = same_student_path(&input);
        let criteria = zoho::form::decode_component(
            path.split("criteria=")
                .nth(1)
                .and_then(|c| c.split('&').next())
                .unwrap(),
        );
        assert_eq!(
            Criteria::parse(&criteria).unwrap(),
            Criteria::equals("Last_Name", &input.last_name)
                .and(Criteria::equals("Email", &input.email))
        );
        let record = |id: &str, course: &str| {
            json!({"id": id, "First_Name": "Asha", "Last_Name": input.last_name,
                "Company": "Zylker College", "Course": course, "Email": "asha@college.example",
                "Phone": null})
        };
        let list: ListResponse = serde_json::from_value(json!({
            "data": [record("5725767000000400001", "Web Development"),
                     record("5725767000000400002", "Data Science")],
            "info": {"per_page": 200, "count": 2, "page": 1, "more_records": false}
        }))
        .unwrap();
        assert_eq!(
            find_same(&list, &input).map(|s| s.id).as_deref(),
            Some("5725767000000400002")
        );
        let other = StudentInput {
            phone: "+1 555 0100".into(),
            ..input
        };
        assert_eq!(find_same(&list, &other), None);
    }

    #[test]
    fn records_and_students() {
        let record: Record = serde_json::from_value(json!({
            "id": "5725767000000412001", "First_Name": "Asha", "Last_Name": "Rao",
            "Company": "Zylker College", "Course": "Data Science", "Email": "asha@zylker.edu",
            "Phone": null, "Owner": {"id": "1"}
        }))
        .unwrap();
        let student = student_from_record(&record).unwrap();
        assert_eq!(student.id, "5725767000000412001");
        assert_eq!(student.fields.college, "Zylker College");
        assert_eq!(student.fields.phone, "");
        let back = record_from_input(&student.fields);
        assert_eq!(back["Phone"], Value::Null);
        assert_eq!(back["Company"], "Zylker College");
        assert_eq!(back.len(), 6, "only the student's own fields are written");
        let mut no_id = record.clone();
        no_id.insert("id".into(), json!("12a"));
        assert_eq!(student_from_record(&no_id), None);
        let body: Value = serde_json::from_str(&write_body(&student.fields, Some("42"))).unwrap();
        assert_eq!(body["data"][0]["id"], "42");
        assert_eq!(body["trigger"], json!([]));
    }

    /// The first status object of a write's answer, as the Worker reads it.
    fn write_outcome_of(body: &Value) -> WriteOutcome {
        match zoho::crm::read_write(201, &body.to_string()) {
            zoho::crm::WriteAnswer::Records(records) => write_outcome(&records[0]),
            zoho::crm::WriteAnswer::Whole(_, e) => write_outcome(&e),
            _ => WriteOutcome::Other {
                code: "MALFORMED".into(),
            },
        }
    }

    #[test]
    fn write_outcomes() {
        let ok = json!({"data": [{"code": "SUCCESS", "details": {"id": "123"}, "message": "record added", "status": "success"}]});
        assert_eq!(
            write_outcome_of(&ok),
            WriteOutcome::Done { id: "123".into() }
        );
        let dup = json!({"data": [{"code": "DUPLICATE_DATA", "details": {"api_name": "Email", "json_path": "$.data[0].Email"}, "message": "duplicate data", "status": "error"}]});
        assert_eq!(write_outcome_of(&dup), WriteOutcome::Duplicate);
        let long = json!({"data": [{"code": "INVALID_DATA", "details": {"api_name": "Company", "maximum_length": 200}, "message": "invalid data", "status": "error"}]});
        assert_eq!(
            write_outcome_of(&long),
            WriteOutcome::Field {
                field: StudentField::College,
                message: "College can be at most 200 characters.".into()
            }
        );
        let missing = json!({"data": [{"code": "MANDATORY_NOT_FOUND", "details": {"api_name": "Last_Name"}, "message": "required field not found", "status": "error"}]});
        assert_eq!(
            write_outcome_of(&missing),
            WriteOutcome::Field {
                field: StudentField::LastName,
                message: "Last name is required.".into()
            }
        );
        let gone = json!({"data": [{"code": "INVALID_DATA", "details": {"id": "9"}, "message": "the related id given seems to be invalid", "status": "error"}]});
        assert_eq!(write_outcome_of(&gone), WriteOutcome::NotFound);
        let whole =
            json!({"code": "INVALID_MODULE", "details": {}, "message": "x", "status": "error"});
        assert_eq!(
            write_outcome_of(&whole),
            WriteOutcome::Other {
                code: "INVALID_MODULE".into()
            }
        );
        assert_eq!(
            write_outcome_of(&json!("nonsense")),
            WriteOutcome::Other {
                code: "MALFORMED".into()
            }
        );
    }

    #[test]
    fn meta_from_zoho_fields() {
        let fields: FieldsResponse = serde_json::from_value(json!({"fields": [
            {"api_name": "Last_Name", "field_label": "Last Name", "display_label": "Last Name", "data_type": "text", "json_type": "string", "system_mandatory": true, "custom_field": false, "read_only": false, "length": 80},
            {"api_name": "Company", "field_label": "Company", "display_label": "Company", "data_type": "text", "json_type": "string", "system_mandatory": false, "custom_field": false, "read_only": false, "length": 150},
            {"api_name": "Course", "field_label": "Course", "display_label": "Course", "data_type": "picklist", "json_type": "string", "system_mandatory": false, "custom_field": true, "read_only": false, "length": 120,
             "pick_list_values": [{"display_value": "-None-", "actual_value": "-None-", "id": "1", "sequence_number": 1, "type": "used"},
                                  {"display_value": "Data Science", "actual_value": "Data Science", "id": "2", "sequence_number": 2, "type": "used"}]},
            {"api_name": "Owner", "field_label": "Owner", "display_label": "Owner", "data_type": "ownerlookup", "json_type": "jsonobject", "system_mandatory": false, "custom_field": false, "read_only": false, "length": 0}
        ]}))
        .unwrap();
        let meta = meta_from_fields(&fields);
        assert_eq!(meta.courses, ["Data Science"]);
        assert_eq!(meta.limits.college, 150);
        assert_eq!(
            meta.limits.email,
            FieldLimits::default().email,
            "absent fields keep defaults"
        );
    }
}
