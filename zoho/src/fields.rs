//! Field metadata (`GET /settings/fields?module=…`) and the checks Zoho makes of a value.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `pick_list_values[]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickListValue {
    pub display_value: String,
    pub actual_value: String,
    #[serde(default, deserialize_with = "crate::crm::null_as_default")]
    pub id: String,
    #[serde(default, deserialize_with = "crate::crm::null_as_default")]
    pub sequence_number: u32,
    #[serde(rename = "type", default = "used")]
    pub value_type: String,
}

fn used() -> String {
    "used".to_owned()
}

/// `fields[]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub api_name: String,
    pub field_label: String,
    pub display_label: String,
    /// `text`, `email`, `phone`, `picklist`, `textarea`, `ownerlookup`, `datetime`, `bigint`, …
    pub data_type: String,
    /// `string`, `jsonobject`, …
    pub json_type: String,
    pub system_mandatory: bool,
    pub custom_field: bool,
    pub read_only: bool,
    #[serde(default, deserialize_with = "crate::crm::null_as_default")]
    pub length: u32,
    #[serde(default, deserialize_with = "crate::crm::null_as_default")]
    pub pick_list_values: Vec<PickListValue>,
    #[serde(default, deserialize_with = "crate::crm::null_as_default")]
    pub id: String,
}

/// `GET /settings/fields`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldsResponse {
    pub fields: Vec<Field>,
}

/// Why a value does not fit a field; becomes `INVALID_DATA` with these details.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// Wrong JSON type: `expected_data_type` is the field's `data_type`.
    Type { expected_data_type: String },
    /// Too long: `maximum_length`.
    TooLong { maximum_length: u32 },
    /// Not one of the picklist's values: `supported_values`... is not sent by Zoho for long
    /// lists, so only the value's field is named.
    NotInPicklist,
    /// Malformed for its type (an email without `@`, a phone with letters).
    Format,
}

impl Invalid {
    /// The `details` Zoho adds for this (besides `api_name` and `json_path`).
    pub fn details(&self) -> Map<String, Value> {
        let mut m = Map::new();
        match self {
            Invalid::Type { expected_data_type } => {
                m.insert(
                    "expected_data_type".into(),
                    expected_data_type.clone().into(),
                );
            }
            Invalid::TooLong { maximum_length } => {
                m.insert("maximum_length".into(), (*maximum_length).into());
            }
            Invalid::NotInPicklist | Invalid::Format => {}
        }
        m
    }
}

impl Field {
    /// Checks `value` (not `null`) against the field's type, length and picklist.
    pub fn check(&self, value: &Value) -> Result<(), Invalid> {
        let type_error = || Invalid::Type {
            expected_data_type: self.data_type.clone(),
        };
        match self.json_type.as_str() {
            "string" => {
                let s = value.as_str().ok_or_else(type_error)?;
                if self.length > 0 && s.chars().count() > self.length as usize {
                    return Err(Invalid::TooLong {
                        maximum_length: self.length,
                    });
                }
                match self.data_type.as_str() {
                    "email" if !s.is_empty() && !looks_like_email(s) => Err(Invalid::Format),
                    "phone" if !looks_like_phone(s) => Err(Invalid::Format),
                    "picklist"
                        if !s.is_empty()
                            && !self
                                .pick_list_values
                                .iter()
                                .any(|p| p.actual_value == s || p.display_value == s) =>
                    {
                        Err(Invalid::NotInPicklist)
                    }
                    _ => Ok(()),
                }
            }
            "jsonobject" => {
                let obj = value.as_object().ok_or_else(type_error)?;
                match obj.get("id") {
                    Some(Value::String(id)) if is_record_id(id) => Ok(()),
                    _ => Err(type_error()),
                }
            }
            "integer" => value.as_i64().map(|_| ()).ok_or_else(type_error),
            "double" => value.as_f64().map(|_| ()).ok_or_else(type_error),
            "boolean" => value.as_bool().map(|_| ()).ok_or_else(type_error),
            _ => Ok(()),
        }
    }
}

/// A record id: 1 to 25 digits.
pub fn is_record_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 25 && s.bytes().all(|b| b.is_ascii_digit())
}

fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

fn looks_like_phone(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(data_type: &str, json_type: &str, length: u32) -> Field {
        Field {
            api_name: "X".into(),
            field_label: "X".into(),
            display_label: "X".into(),
            data_type: data_type.into(),
            json_type: json_type.into(),
            system_mandatory: false,
            custom_field: false,
            read_only: false,
            length,
            pick_list_values: vec![],
            id: "1".into(),
        }
    }

    #[test]
    fn checks() {
        let t = field("text", "string", 5);
        assert!(t.check(&json!("abcde")).is_ok());
        assert_eq!(
            t.check(&json!("abcdef")),
            Err(Invalid::TooLong { maximum_length: 5 })
        );
        assert_eq!(
            t.check(&json!(5)),
            Err(Invalid::Type {
                expected_data_type: "text".into()
            })
        );
        let e = field("email", "string", 100);
        assert!(e.check(&json!("a@b.example")).is_ok());
        assert_eq!(e.check(&json!("nope")), Err(Invalid::Format));
        let p = field("phone", "string", 30);
        assert!(p.check(&json!("+1 (555) 010-0000")).is_ok());
        assert_eq!(p.check(&json!("call me")), Err(Invalid::Format));
        let mut c = field("picklist", "string", 120);
        c.pick_list_values.push(PickListValue {
            display_value: "Rust".into(),
            actual_value: "Rust".into(),
            id: "1".into(),
            sequence_number: 1,
            value_type: "used".into(),
        });
        assert!(c.check(&json!("Rust")).is_ok());
        assert_eq!(c.check(&json!("Go")), Err(Invalid::NotInPicklist));
        let o = field("ownerlookup", "jsonobject", 0);
        assert!(o.check(&json!({"id":"123"})).is_ok());
        assert!(o.check(&json!({"id":"abc"})).is_err());
        assert!(o.check(&json!("123")).is_err());
        assert_eq!(
            Invalid::TooLong { maximum_length: 80 }
                .details()
                .get("maximum_length"),
            Some(&json!(80))
        );
    }

    #[test]
    fn field_dto_reads_zoho_shape() {
        let f: FieldsResponse = serde_json::from_str(
            r#"{"fields":[{"api_name":"Course","field_label":"Course","display_label":"Course","data_type":"picklist","json_type":"string","system_mandatory":false,"custom_field":true,"read_only":false,"length":120,"pick_list_values":[{"display_value":"Rust","actual_value":"Rust","id":"9","sequence_number":1,"type":"used"}],"id":"5","visible":true}]}"#,
        )
        .unwrap();
        assert_eq!(f.fields[0].pick_list_values[0].display_value, "Rust");
        assert!(f.fields[0].custom_field);
        // Zoho's full field shape (v8.0/fields.json): dozens more keys, many of them null, and
        // picklist values with colour codes.
        let full: FieldsResponse = serde_json::from_str(
            r##"{"fields":[{"api_name":"Owner","field_label":"Lead Owner","display_label":"Lead Owner","data_type":"ownerlookup","json_type":"jsonobject","system_mandatory":false,"custom_field":false,"read_only":false,"length":null,"pick_list_values":null,"id":"1","tooltip":null,"crypt":null,"associated_module":null,"operation_type":{"api_create":true},"profiles":[{"permission_type":"read_write","name":"Administrator","id":"9"}]},
                         {"api_name":"Course","field_label":"Course","display_label":"Course","data_type":"picklist","json_type":"string","system_mandatory":false,"custom_field":true,"read_only":false,"length":120,"enable_colour_code":true,"pick_list_values":[{"display_value":"Rust","actual_value":"Rust","id":null,"sequence_number":null,"type":"used","colour_code":"#A8C4FF","reference_value":"Rust"}]}]}"##,
        )
        .unwrap();
        assert_eq!(full.fields[0].length, 0);
        assert!(full.fields[0].pick_list_values.is_empty());
        assert_eq!(full.fields[1].pick_list_values[0].actual_value, "Rust");
        assert!(is_record_id("5725767000000421001"));
        assert!(!is_record_id("57x"));
    }
}
