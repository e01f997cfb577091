//! CRM API v8: who the user and org are and the field metadata here; reads, writes, and
//! access (authentication, scopes, URL patterns, limits) in their own files.

mod access;
mod read;
mod write;

use crate::common::*;
use reqwest::Method;
use serde_json::json;
use std::collections::HashSet;

fn ids(a: &Answer) -> Vec<String> {
    a.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn enc(s: &str) -> String {
    zoho::form::encode_component(s)
}

#[tokio::test]
async fn current_user_and_org_as_the_sdk_reads_them() {
    let sim = start().await;
    let t = sim.sign_in(COORD_A).await;
    let a = sim
        .crm(Method::GET, &t, "users?type=CurrentUser", None)
        .await;
    assert_eq!(a.status, 200);
    let users: zoho::crm::UsersResponse = serde_json::from_value(a.json.clone()).unwrap();
    assert_eq!(users.users.len(), 1);
    let u = &users.users[0];
    assert_eq!(u.email, COORD_A);
    assert_eq!(u.profile.name, "Standard");
    assert_eq!(u.status, "active");
    assert!(u.id.chars().all(|c| c.is_ascii_digit()));
    assert_eq!(a.json["info"]["count"], 1);

    let all = sim.crm(Method::GET, &t, "users", None).await;
    let emails: HashSet<&str> = all.json["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, HashSet::from([ADMIN_A, COORD_A]));
    let admins = sim
        .crm(Method::GET, &t, "users?type=AdminUsers", None)
        .await;
    assert_eq!(admins.json["users"].as_array().unwrap().len(), 1);
    assert_error(
        &sim.crm(Method::GET, &t, "users?type=Bogus", None).await,
        400,
        "INVALID_DATA",
    );

    let a = sim.crm(Method::GET, &t, "org", None).await;
    let org: zoho::crm::OrgResponse = serde_json::from_value(a.json.clone()).unwrap();
    assert_eq!(org.org[0].company_name, "Zylker Academy");
    assert!(a.json["org"][0]["zgid"].is_string());
    // Capitalized, as Zoho's OpenAPI description (v8.0/org.json, `type` enum) and both SDKs
    // (the Node.js SDK's json_details.json, org `type` values) have it.
    assert_eq!(org.org[0].org_type, "Production");
    assert_eq!(org.org[0].primary_email, ADMIN_A);
    // Different orgs, different zgids.
    let b = sim.sign_in(ADMIN_B).await;
    let org_b = sim.crm(Method::GET, &b, "org", None).await;
    assert_ne!(org_b.json["org"][0]["zgid"], a.json["org"][0]["zgid"]);
}

#[tokio::test]
async fn field_metadata_of_leads_and_contacts() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    let a = sim
        .crm(Method::GET, &t, "settings/fields?module=Leads", None)
        .await;
    assert_eq!(a.status, 200);
    let f: zoho::fields::FieldsResponse = serde_json::from_value(a.json.clone()).unwrap();
    let get = |n: &str| f.fields.iter().find(|x| x.api_name == n).unwrap().clone();
    let last = get("Last_Name");
    assert!(last.system_mandatory);
    assert_eq!((last.data_type.as_str(), last.length), ("text", 80));
    assert_eq!(
        (
            get("First_Name").data_type.as_str(),
            get("First_Name").length
        ),
        ("text", 40)
    );
    assert!(!get("First_Name").system_mandatory);
    assert_eq!(get("Company").length, 200);
    assert_eq!(get("Email").data_type, "email");
    assert_eq!(get("Phone").data_type, "phone");
    let course = get("Course");
    assert_eq!(course.data_type, "picklist");
    assert!(course.custom_field);
    let values: Vec<&str> = course
        .pick_list_values
        .iter()
        .map(|p| p.display_value.as_str())
        .collect();
    assert!(values.contains(&"Rust Fundamentals") && values.contains(&"Data Science"));
    assert!(values.len() >= 5);
    assert_eq!(get("Owner").json_type, "jsonobject");
    assert!(get("Created_Time").read_only);
    // Every field has what the SDK reads.
    for field in a.json["fields"].as_array().unwrap() {
        for k in [
            "api_name",
            "data_type",
            "json_type",
            "system_mandatory",
            "custom_field",
            "length",
        ] {
            assert!(field.get(k).is_some(), "{k} missing in {field}");
        }
    }
    let c = sim
        .crm(Method::GET, &t, "settings/fields?module=Contacts", None)
        .await;
    assert!(
        c.json["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["api_name"] == "Mailing_City")
    );
    assert_eq!(
        sim.crm(Method::GET, &t, "settings/fields", None).await.json,
        json!({"code":"REQUIRED_PARAM_MISSING","details":{"param_name":"module"},"message":"One of the expected parameter is missing","status":"error"})
    );
    assert_error(
        &sim.crm(Method::GET, &t, "settings/fields?module=Potatoes", None)
            .await,
        400,
        "INVALID_MODULE",
    );
    let m = sim.crm(Method::GET, &t, "settings/modules", None).await;
    let modules: zoho::crm::ModulesResponse = serde_json::from_value(m.json).unwrap();
    let names: Vec<&str> = modules
        .modules
        .iter()
        .map(|m| m.api_name.as_str())
        .collect();
    // The standard modules of an org, as Zoho lists them (the simulator listed only the two
    // modules it keeps records of before).
    assert_eq!(names[..2], ["Leads", "Contacts"]);
    for standard in [
        "Accounts",
        "Deals",
        "Tasks",
        "Events",
        "Calls",
        "Products",
        "Campaigns",
    ] {
        assert!(names.contains(&standard), "{standard} missing: {names:?}");
    }
    // Each listed module has field metadata.
    for name in &names {
        let f = sim
            .crm(
                Method::GET,
                &t,
                &format!("settings/fields?module={name}"),
                None,
            )
            .await;
        assert_eq!(f.status, 200, "{name}: {}", f.text);
        let fields: zoho::fields::FieldsResponse = serde_json::from_value(f.json).unwrap();
        assert!(fields.fields.iter().any(|f| f.system_mandatory), "{name}");
    }
    assert!(
        modules
            .modules
            .iter()
            .all(|m| m.api_supported && m.generated_type == "default")
    );
}
