//! CRM API v8.

use crate::common::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashSet;
use zoho::criteria::{Criteria, Operator};

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

#[tokio::test]
async fn list_requires_fields() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    let a = sim.crm(Method::GET, &t, "Leads?per_page=5", None).await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.text,
        r#"{"code":"REQUIRED_PARAM_MISSING","details":{"param_name":"fields"},"message":"One of the expected parameter is missing","status":"error"}"#
    );
    // Repeated and unknown names are dropped; id comes anyway.
    let a = sim
        .crm(
            Method::GET,
            &t,
            "Leads?fields=Last_Name,Last_Name,Shoe_Size&per_page=1",
            None,
        )
        .await;
    assert_eq!(a.text.matches("\"Last_Name\"").count(), 1, "{}", a.text);
    assert!(!a.text.contains("Shoe_Size"));
    assert!(a.json["data"][0]["id"].is_string());
    let many: Vec<String> = (0..51).map(|i| format!("F{i}")).collect();
    let a = sim
        .crm(
            Method::GET,
            &t,
            &format!("Leads?fields={}", many.join(",")),
            None,
        )
        .await;
    assert_error(&a, 400, "LIMIT_EXCEEDED");
}

#[tokio::test]
async fn list_with_ids_answers_only_those_records() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    let all = sim
        .crm(Method::GET, &t, "Leads?fields=Last_Name&per_page=5", None)
        .await;
    let five = ids(&all);
    let wanted = format!("{},{},{}", five[3], five[0], "123");
    let a = sim
        .crm(
            Method::GET,
            &t,
            &format!("Leads?fields=Last_Name&ids={wanted}"),
            None,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    // In the list's order (id, descending); an id that matches nothing is ignored.
    assert_eq!(ids(&a), [five[0].clone(), five[3].clone()]);
    assert_eq!(a.json["info"]["count"], 2);
    assert_eq!(a.json["info"]["more_records"], false);
    let a = sim
        .crm(Method::GET, &t, "Leads?fields=Last_Name&ids=123,456", None)
        .await;
    assert_eq!(a.status, 204);
    let many: Vec<String> = (0..101).map(|i| (i + 1).to_string()).collect();
    let a = sim
        .crm(
            Method::GET,
            &t,
            &format!("Leads?fields=Last_Name&ids={}", many.join(",")),
            None,
        )
        .await;
    assert_error(&a, 400, "LIMIT_EXCEEDED");
    // A standard user gets only the ones they own.
    let c = sim.sign_in(COORD_A).await;
    let own = ids(&sim
        .crm(Method::GET, &c, "Leads?fields=Last_Name", None)
        .await);
    assert_eq!(own.len(), 10);
    let every = ids(&sim
        .crm(Method::GET, &t, "Leads?fields=Last_Name", None)
        .await);
    let a = sim
        .crm(
            Method::GET,
            &c,
            &format!("Leads?fields=Last_Name&ids={}", every.join(",")),
            None,
        )
        .await;
    assert_eq!(ids(&a), own);
}

#[tokio::test]
async fn list_pages_sorts_and_answers_204_past_the_end() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    let mut seen = Vec::new();
    for page in 1..=3 {
        let a = sim
            .crm(
                Method::GET,
                &t,
                &format!("Leads?fields=Last_Name,Email,Course&per_page=12&page={page}"),
                None,
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        let info: zoho::crm::Info = serde_json::from_value(a.json["info"].clone()).unwrap();
        assert_eq!(info.page, page);
        assert_eq!(info.per_page, 12);
        assert_eq!(info.count as usize, if page < 3 { 12 } else { 6 });
        assert_eq!(info.more_records, page < 3);
        assert_eq!(info.sort_by.as_deref(), Some("id"));
        assert_eq!(info.sort_order.as_deref(), Some("desc"));
        let rec = &a.json["data"][0];
        let mut keys: Vec<&String> = rec.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["Course", "Email", "Last_Name", "id"]);
        seen.extend(ids(&a));
    }
    assert_eq!(seen.len(), 30);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 30);
    let numeric: Vec<u64> = seen.iter().map(|s| s.parse().unwrap()).collect();
    assert!(numeric.windows(2).all(|w| w[0] > w[1]), "descending ids");

    let a = sim
        .crm(
            Method::GET,
            &t,
            "Leads?fields=Last_Name&per_page=12&page=4",
            None,
        )
        .await;
    assert_eq!(a.status, 204);
    assert!(a.text.is_empty());
    assert!(a.content_type.is_none());

    let asc = sim
        .crm(
            Method::GET,
            &t,
            "Leads?fields=Created_Time&sort_by=Created_Time&sort_order=asc&per_page=200",
            None,
        )
        .await;
    let times: Vec<&str> = asc.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Created_Time"].as_str().unwrap())
        .collect();
    assert_eq!(times.len(), 30);
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    // Any field of the module sorts (text ignoring case, then id); an unknown one is refused.
    for order in ["asc", "desc"] {
        let a = sim
            .crm(
                Method::GET,
                &t,
                &format!("Leads?fields=Last_Name,Course&sort_by=Last_Name&sort_order={order}&per_page=200"),
                None,
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        assert_eq!(a.json["info"]["sort_by"], "Last_Name");
        let names: Vec<String> = a.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Last_Name"].as_str().unwrap().to_lowercase())
            .collect();
        assert_eq!(names.len(), 30);
        let mut sorted = names.clone();
        sorted.sort();
        if order == "desc" {
            sorted.reverse();
        }
        assert_eq!(names, sorted, "{order}");
        assert_ne!(
            names.first(),
            names.last(),
            "the seed has more than one name"
        );
    }
    #[rustfmt::skip]
    let errors = [
        (Method::GET, "Leads?fields=Last_Name&sort_by=Shoe_Size", 400, "INVALID_DATA"),
        (Method::GET, "Leads?fields=Last_Name&sort_order=up", 400, "INVALID_DATA"),
        (Method::GET, "Leads?fields=Last_Name&per_page=201", 400, "INVALID_DATA"),
        (Method::GET, "Leads?fields=Last_Name&page=0", 400, "INVALID_DATA"),
    ];
    sim.expect_errors(&t, &errors).await;
    // Contacts list too.
    let c = sim
        .crm(
            Method::GET,
            &t,
            "Contacts?fields=Last_Name,Mailing_City",
            None,
        )
        .await;
    assert_eq!(c.status, 200);
    assert_eq!(c.json["info"]["count"], 6);
}

#[tokio::test]
async fn reading_past_2000_records_needs_page_token() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_BULK).await;
    let a = sim
        .crm(
            Method::GET,
            &t,
            "Leads?fields=Last_Name&page=10&per_page=200",
            None,
        )
        .await;
    assert_eq!(a.status, 200);
    let a = sim
        .crm(
            Method::GET,
            &t,
            "Leads?fields=Last_Name&page=11&per_page=200",
            None,
        )
        .await;
    assert_error(&a, 400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED");

    let mut all = HashSet::new();
    let mut url = "Leads?fields=Last_Name,Email&per_page=200".to_owned();
    let mut pages = 0;
    loop {
        let a = sim.crm(Method::GET, &t, &url, None).await;
        assert_eq!(a.status, 200, "{}", a.text);
        pages += 1;
        all.extend(ids(&a));
        let info = &a.json["info"];
        if !info["more_records"].as_bool().unwrap() {
            assert!(info["next_page_token"].is_null());
            break;
        }
        let token = info["next_page_token"].as_str().unwrap();
        assert!(info["page_token_expiry"].is_string());
        url = format!(
            "Leads?fields=Last_Name,Email&per_page=200&page_token={}",
            enc(token)
        );
    }
    assert_eq!(pages, 13);
    assert_eq!(all.len(), 2500);
    let a = sim
        .crm(Method::GET, &t, "Leads?fields=Last_Name&per_page=200", None)
        .await;
    let token = a.json["info"]["next_page_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = sim
        .crm(
            Method::GET,
            &t,
            &format!("Leads?fields=Last_Name&page=2&page_token={}", enc(&token)),
            None,
        )
        .await;
    assert_error(&a, 400, "INVALID_REQUEST");
    assert_error(
        &sim.crm(
            Method::GET,
            &t,
            "Leads?fields=Last_Name&page_token=zz",
            None,
        )
        .await,
        400,
        "INVALID_DATA",
    );
    // Page tokens expire after a day.
    sim.advance(86_401).await;
    let t = sim.sign_in(ADMIN_BULK).await;
    let a = sim
        .crm(
            Method::GET,
            &t,
            &format!("Leads?fields=Last_Name&page_token={}", enc(&token)),
            None,
        )
        .await;
    assert_error(&a, 400, "INVALID_DATA");
}

#[tokio::test]
async fn a_standard_user_sees_only_their_own_records() {
    let sim = start().await;
    let admin = sim.sign_in(ADMIN_A).await;
    let coord = sim.sign_in(COORD_A).await;
    let coord_id = sim
        .crm(Method::GET, &coord, "users?type=CurrentUser", None)
        .await
        .json["users"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mine = sim
        .crm(Method::GET, &coord, "Leads?fields=Owner,Last_Name", None)
        .await;
    let rows = mine.json["data"].as_array().unwrap();
    assert_eq!(rows.len(), 10);
    assert!(rows.iter().all(|r| r["Owner"]["id"] == coord_id.as_str()));
    let all = sim
        .crm(Method::GET, &admin, "Leads?fields=Owner", None)
        .await;
    assert_eq!(all.json["data"].as_array().unwrap().len(), 30);
    let admins_lead = all.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Owner"]["id"] != coord_id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = sim
        .crm(Method::GET, &coord, &format!("Leads/{admins_lead}"), None)
        .await;
    assert_eq!(
        a.json,
        json!({"code":"NO_PERMISSION","details":{},"message":"permission denied","status":"error"})
    );
    assert_eq!(a.status, 403);
    let a = sim
        .crm(
            Method::PUT,
            &coord,
            &format!("Leads/{admins_lead}"),
            Some(json!({"data":[{"Last_Name":"X"}]})),
        )
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json["data"][0]["code"], "NO_PERMISSION");
    let a = sim
        .crm(
            Method::DELETE,
            &coord,
            &format!("Leads?ids={admins_lead}"),
            None,
        )
        .await;
    assert_eq!(a.json["data"][0]["code"], "NO_PERMISSION");
    // Searching does not reveal others' records either.
    let a = sim
        .crm(
            Method::GET,
            &coord,
            "Leads/search?word=student.example",
            None,
        )
        .await;
    assert_eq!(a.json["info"]["count"], 10);
    // A lead the coordinator creates is theirs.
    let a = sim
        .crm(
            Method::POST,
            &coord,
            "Leads",
            Some(json!({"data":[{"Last_Name":"Mine","Email":"mine@student.example"}]})),
        )
        .await;
    assert_eq!(a.status, 201);
    let mine = sim
        .crm(Method::GET, &coord, "Leads?fields=Last_Name", None)
        .await;
    assert_eq!(mine.json["info"]["count"], 11);
}

#[tokio::test]
async fn get_one_record() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_IN).await;
    let list = sim
        .crm(Method::GET, &t, "Leads?fields=Last_Name&per_page=1", None)
        .await;
    let id = ids(&list)[0].clone();
    let a = sim.crm(Method::GET, &t, &format!("Leads/{id}"), None).await;
    assert_eq!(a.status, 200);
    let r = &a.json["data"][0];
    assert_eq!(r["id"], id.as_str());
    for k in [
        "First_Name",
        "Last_Name",
        "Company",
        "Email",
        "Phone",
        "Course",
        "Owner",
        "Created_Time",
        "Modified_Time",
    ] {
        assert!(!r[k].is_null(), "{k} is null in {r}");
    }
    assert!(r["Created_Time"].as_str().unwrap().ends_with("+05:30"));
    assert_eq!(
        sim.crm(Method::GET, &t, "Leads/5725767999999999999", None)
            .await
            .status,
        204
    );
    assert_error(
        &sim.crm(Method::GET, &t, "Leads/not-an-id", None).await,
        400,
        "INVALID_DATA",
    );
}

#[tokio::test]
async fn search_by_criteria_email_phone_and_word() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    let created = sim
        .crm(
            Method::POST,
            &t,
            "Leads",
            Some(json!({"data":[
                {"Last_Name":"Quixote","First_Name":"Mary","Email":"mary.burns@college.example","Company":"Zylker (North), Inc\\Ltd","Phone":"+1 555 777 0001","Course":"Data Science"},
                {"Last_Name":"Quixote","First_Name":"John","Email":"john.burns@college.example","Company":"Other","Course":"Rust Fundamentals"}
            ]})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let search = |c: Criteria| {
        let sim = &sim;
        let t = &t;
        async move {
            sim.crm(
                Method::GET,
                t,
                &format!("Leads/search?criteria={}", enc(&c.to_string())),
                None,
            )
            .await
        }
    };
    let a = search(
        Criteria::equals("Last_Name", "Quixote").and(Criteria::starts_with("Email", "mary")),
    )
    .await;
    assert_eq!(a.json["info"]["count"], 1, "{}", a.text);
    assert_eq!(a.json["data"][0]["First_Name"], "Mary");
    let a = search(Criteria::equals("Last_Name", "quixote")).await;
    assert_eq!(a.json["info"]["count"], 2);
    let a = search(Criteria::equals("Company", "Zylker (North), Inc\\Ltd")).await;
    assert_eq!(
        a.json["info"]["count"], 1,
        "escaped parentheses, comma and backslash"
    );
    let a =
        search(Criteria::equals("First_Name", "John").or(Criteria::equals("First_Name", "Mary")))
            .await;
    assert_eq!(a.json["info"]["count"], 2);
    let a = search(
        Criteria::cond_many("Course", Operator::In, &["Data Science", "Nothing"])
            .and(Criteria::equals("Last_Name", "Quixote")),
    )
    .await;
    assert_eq!(a.json["info"]["count"], 1);
    // Written by hand, the way Zoho's docs show it.
    let a = sim
        .crm(
            Method::GET,
            &t,
            "Leads/search?criteria=((Last_Name:equals:Quixote)and(First_Name:starts_with:J))",
            None,
        )
        .await;
    assert_eq!(a.json["info"]["count"], 1);

    let a = sim
        .crm(
            Method::GET,
            &t,
            "Leads/search?email=MARY.burns@college.example",
            None,
        )
        .await;
    assert_eq!(ids(&a).len(), 1);
    let a = sim
        .crm(
            Method::GET,
            &t,
            &format!("Leads/search?phone={}", enc("+1 (555) 777-0001")),
            None,
        )
        .await;
    assert_eq!(ids(&a).len(), 1);
    let a = sim
        .crm(Method::GET, &t, "Leads/search?word=north", None)
        .await;
    assert_eq!(ids(&a).len(), 1);
    let a = sim
        .crm(
            Method::GET,
            &t,
            "Leads/search?criteria=(Last_Name:equals:Nobody)",
            None,
        )
        .await;
    assert_eq!(a.status, 204);
    assert!(a.text.is_empty());
    // Zoho's search documentation and v8.0/module_search.json: EXPECTED_PARAM_MISSING naming
    // the four parameters (the simulator said REQUIRED_PARAM_MISSING before).
    let none = sim.crm(Method::GET, &t, "Leads/search", None).await;
    assert_error(&none, 400, "EXPECTED_PARAM_MISSING");
    assert_eq!(
        none.json["details"]["param_names"],
        json!(["criteria", "email", "phone", "word"])
    );
    #[rustfmt::skip]
    let errors = [
        (Method::GET, "Leads/search?criteria=(Last_Name:equals:X", 400, "INVALID_QUERY"),
        (Method::GET, "Leads/search?criteria=(Last_Name:resembles:X)", 400, "INVALID_QUERY"),
    ];
    sim.expect_errors(&t, &errors).await;
    let a = sim
        .crm(
            Method::GET,
            &t,
            "Leads/search?criteria=(Shoe_Size:equals:X)",
            None,
        )
        .await;
    assert_error(&a, 400, "INVALID_QUERY");
    assert_eq!(a.json["details"]["api_name"], "Shoe_Size");
    let eleven: Vec<Criteria> = (0..11)
        .map(|i| Criteria::equals("Last_Name", &i.to_string()))
        .collect();
    let a = search(Criteria::Or(eleven)).await;
    assert_error(&a, 400, "INVALID_QUERY");
}

#[tokio::test]
async fn create_single_and_bulk_with_per_record_errors() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_B).await;
    // One record, no Content-Type.
    let a = sim
        .crm(Method::POST, &t, "Leads", Some(json!({"data":[{"Last_Name":"Solo","Email":"solo@student.example","Course":"Cloud Computing"}],"trigger":[]})))
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let r = &a.json["data"][0];
    assert_eq!(r["code"], "SUCCESS");
    assert_eq!(r["status"], "success");
    assert_eq!(r["message"], "record added");
    for k in [
        "id",
        "Created_Time",
        "Modified_Time",
        "Created_By",
        "Modified_By",
    ] {
        assert!(!r["details"][k].is_null(), "{k}");
    }
    assert_eq!(r["details"]["Created_By"]["name"], "Nora Winters");
    let id = r["details"]["id"].as_str().unwrap();
    let got = sim.crm(Method::GET, &t, &format!("Leads/{id}"), None).await;
    assert_eq!(got.json["data"][0]["Course"], "Cloud Computing");

    // Mixed: 207.
    let long = "x".repeat(81);
    let a = sim
        .crm(
            Method::POST,
            &t,
            "Leads",
            Some(json!({"data":[
                {"Last_Name":"Good","Email":"good@student.example"},
                {"First_Name":"NoLast"},
                {"Last_Name": long},
                {"Last_Name":"Typed","Phone": 5551234},
                {"Last_Name":"Dup","Email":"SOLO@student.example"},
                {"Last_Name":"Course","Course":"Underwater Basket Weaving"},
                {"Last_Name":"Mail","Email":"not-an-email"},
                "not an object"
            ]})),
        )
        .await;
    assert_eq!(a.status, 207, "{}", a.text);
    let d = a.json["data"].as_array().unwrap();
    assert_eq!(d[0]["code"], "SUCCESS");
    assert_eq!(
        d[1],
        json!({"code":"MANDATORY_NOT_FOUND","details":{"api_name":"Last_Name","json_path":"$.data[1].Last_Name"},"message":"required field not found","status":"error"})
    );
    assert_eq!(d[2]["code"], "INVALID_DATA");
    assert_eq!(d[2]["details"]["maximum_length"], 80);
    assert_eq!(d[2]["details"]["api_name"], "Last_Name");
    assert_eq!(d[2]["details"]["json_path"], "$.data[2].Last_Name");
    assert_eq!(d[3]["code"], "INVALID_DATA");
    assert_eq!(d[3]["details"]["expected_data_type"], "phone");
    assert_eq!(d[4]["code"], "DUPLICATE_DATA");
    assert_eq!(d[4]["message"], "duplicate data");
    assert_eq!(d[4]["details"]["api_name"], "Email");
    assert_eq!(d[4]["details"]["duplicate_record"]["id"], id);
    assert_eq!(
        d[4]["details"]["duplicate_record"]["module"]["api_name"],
        "Leads"
    );
    assert_eq!(d[5]["code"], "INVALID_DATA");
    assert_eq!(d[5]["details"]["api_name"], "Course");
    assert_eq!(d[6]["code"], "INVALID_DATA");
    assert_eq!(d[6]["details"]["api_name"], "Email");
    assert_eq!(d[7]["code"], "INVALID_DATA");
    assert!(d[1..].iter().all(|r| r["status"] == "error"));

    // All failing: 400 with data[].
    let a = sim
        .crm(
            Method::POST,
            &t,
            "Leads",
            Some(json!({"data":[{"First_Name":"A"},{"First_Name":"B"}]})),
        )
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.json["data"][1]["details"]["json_path"],
        "$.data[1].Last_Name"
    );
    // Whole-request errors.
    let hundred_one: Vec<Value> = (0..101)
        .map(|i| json!({"Last_Name": format!("L{i}")}))
        .collect();
    assert_error(
        &sim.crm(
            Method::POST,
            &t,
            "Leads",
            Some(json!({"data": hundred_one})),
        )
        .await,
        400,
        "LIMIT_EXCEEDED",
    );
    assert_error(
        &sim.crm(Method::POST, &t, "Leads", Some(json!({"records": []})))
            .await,
        400,
        "MANDATORY_NOT_FOUND",
    );
    let a = answer(
        sim.http
            .post(format!("{}/crm/v8/Leads", t.api_domain))
            .header("Authorization", format!("Zoho-oauthtoken {}", t.access))
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&a, 400, "INVALID_DATA");
    // A hundred is fine.
    let hundred: Vec<Value> = (0..100)
        .map(|i| json!({"Last_Name": format!("L{i}")}))
        .collect();
    assert_eq!(
        sim.crm(Method::POST, &t, "Leads", Some(json!({"data": hundred})))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn update_single_and_bulk() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_EU).await;
    let list = sim
        .crm(Method::GET, &t, "Leads?fields=Email&per_page=3", None)
        .await;
    let ids = ids(&list);
    let a = sim
        .crm(
            Method::PUT,
            &t,
            &format!("Leads/{}", ids[0]),
            Some(json!({"data":[{"Course":"Machine Learning","Phone":"+49 30 1234"}]})),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["data"][0]["message"], "record updated");
    assert_eq!(a.json["data"][0]["details"]["id"], ids[0].as_str());
    let got = sim
        .crm(Method::GET, &t, &format!("Leads/{}", ids[0]), None)
        .await;
    assert_eq!(got.json["data"][0]["Course"], "Machine Learning");
    assert_eq!(got.json["data"][0]["Phone"], "+49 30 1234");

    let other_email = list.json["data"][1]["Email"].as_str().unwrap();
    let a = sim
        .crm(
            Method::PUT,
            &t,
            "Leads",
            Some(json!({"data":[
                {"id": ids[1], "First_Name": "Renamed"},
                {"First_Name": "No id"},
                {"id": "5725767999999999999", "First_Name": "Ghost"},
                {"id": ids[2], "Last_Name": ""},
                {"id": ids[2], "Email": other_email},
            ]})),
        )
        .await;
    assert_eq!(a.status, 207, "{}", a.text);
    let d = a.json["data"].as_array().unwrap();
    assert_eq!(d[0]["code"], "SUCCESS");
    assert_eq!(d[1]["code"], "MANDATORY_NOT_FOUND");
    assert_eq!(d[1]["details"]["api_name"], "id");
    assert_eq!(d[2]["code"], "INVALID_DATA");
    assert_eq!(d[2]["details"]["api_name"], "id");
    assert_eq!(d[3]["code"], "MANDATORY_NOT_FOUND");
    assert_eq!(d[4]["code"], "DUPLICATE_DATA");
    // Updating a record's own email to itself is no duplicate.
    let own = list.json["data"][2]["Email"].as_str().unwrap();
    let a = sim
        .crm(
            Method::PUT,
            &t,
            "Leads",
            Some(json!({"data":[{"id": ids[2], "Email": own}]})),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
}

#[tokio::test]
async fn delete_single_and_bulk() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    let list = sim
        .crm(Method::GET, &t, "Leads?fields=Last_Name&per_page=3", None)
        .await;
    let ids = ids(&list);
    let a = sim
        .crm(Method::DELETE, &t, &format!("Leads/{}", ids[0]), None)
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json,
        json!({"data":[{"code":"SUCCESS","details":{"id": ids[0]},"message":"record deleted","status":"success"}]})
    );
    assert_eq!(
        sim.crm(Method::GET, &t, &format!("Leads/{}", ids[0]), None)
            .await
            .status,
        204
    );
    let a = sim
        .crm(
            Method::DELETE,
            &t,
            &format!("Leads?ids={},{},{}", ids[1], ids[0], "abc"),
            None,
        )
        .await;
    assert_eq!(a.status, 207);
    let d = a.json["data"].as_array().unwrap();
    assert_eq!(d[0]["code"], "SUCCESS");
    assert_eq!(d[1]["code"], "INVALID_DATA");
    assert_eq!(d[2]["code"], "INVALID_DATA");
    let a = sim
        .crm(Method::DELETE, &t, &format!("Leads?ids={}", ids[0]), None)
        .await;
    assert_eq!(a.status, 400);
    assert_error(
        &sim.crm(Method::DELETE, &t, "Leads", None).await,
        400,
        "REQUIRED_PARAM_MISSING",
    );
    let many: Vec<String> = (0..101)
        .map(|i| (5725767000000000000u64 + i).to_string())
        .collect();
    assert_error(
        &sim.crm(
            Method::DELETE,
            &t,
            &format!("Leads?ids={}", many.join(",")),
            None,
        )
        .await,
        400,
        "LIMIT_EXCEEDED",
    );
    let after = sim
        .crm(Method::GET, &t, "Leads?fields=Last_Name", None)
        .await;
    assert_eq!(after.json["info"]["count"], 28);
}

#[tokio::test]
async fn authentication_errors() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    let a = sim
        .crm_raw(Method::GET, &t.api_domain, None, "org", None)
        .await;
    assert_eq!(
        a.json,
        json!({"code":"AUTHENTICATION_FAILURE","details":{},"message":"Authentication failed","status":"error"})
    );
    assert_eq!(a.status, 401);
    let a = answer(
        sim.http
            .get(format!("{}/crm/v8/org", t.api_domain))
            .header("Authorization", format!("Bearer {}", t.access))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&a, 401, "AUTHENTICATION_FAILURE");
    let a = sim
        .crm_raw(
            Method::GET,
            &t.api_domain,
            Some("1000.garbage"),
            "org",
            None,
        )
        .await;
    assert_eq!(
        a.text,
        r#"{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}"#
    );
    // A US token at the EU API domain.
    let eu = format!("{}/eu/production", sim.base);
    assert_error(
        &sim.crm_raw(Method::GET, &eu, Some(&t.access), "org", None)
            .await,
        401,
        "INVALID_TOKEN",
    );
    // The scheme name is case-insensitive.
    let a = answer(
        sim.http
            .get(format!("{}/crm/v8/org", t.api_domain))
            .header("Authorization", format!("zoho-oauthtoken {}", t.access))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn scopes_are_enforced() {
    let sim = start().await;
    let t = sim
        .self_client(ADMIN_A, "ZohoCRM.modules.leads.READ", "production")
        .await;
    assert_eq!(
        sim.crm(Method::GET, &t, "Leads?fields=Last_Name", None)
            .await
            .status,
        200
    );
    let a = sim
        .crm(Method::GET, &t, "users?type=CurrentUser", None)
        .await;
    assert_eq!(
        a.json,
        json!({"code":"OAUTH_SCOPE_MISMATCH","details":{},"message":"invalid oauth scope to access this URL","status":"error"})
    );
    assert_eq!(a.status, 401);
    #[rustfmt::skip]
    let errors = [
        (Method::GET, "org", 401, "OAUTH_SCOPE_MISMATCH"),
        (Method::GET, "settings/fields?module=Leads", 401, "OAUTH_SCOPE_MISMATCH"),
        (Method::GET, "Contacts?fields=Last_Name", 401, "OAUTH_SCOPE_MISMATCH"),
    ];
    sim.expect_errors(&t, &errors).await;
    assert_error(
        &sim.crm(
            Method::POST,
            &t,
            "Leads",
            Some(json!({"data":[{"Last_Name":"X"}]})),
        )
        .await,
        401,
        "OAUTH_SCOPE_MISMATCH",
    );
    let t = sim
        .self_client(
            ADMIN_A,
            "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL",
            "production",
        )
        .await;
    assert_eq!(
        sim.crm(Method::GET, &t, "settings/fields?module=Contacts", None)
            .await
            .status,
        200
    );
    assert_eq!(
        sim.crm(Method::GET, &t, "settings/modules", None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn url_pattern_module_and_method_errors() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    let invalid_url = json!({"code":"INVALID_URL_PATTERN","details":{},"message":"Please check if the URL trying to access is a correct one","status":"error"});
    for path in ["Leads/1/2/3", "settings/nothing", "org/extra"] {
        let a = sim.crm(Method::GET, &t, path, None).await;
        assert_eq!(a.status, 404, "{path}");
        assert_eq!(a.json, invalid_url, "{path}");
    }
    let a = answer(
        sim.http
            .get(format!("{}/crm/v2/Leads", t.api_domain))
            .header("Authorization", format!("Zoho-oauthtoken {}", t.access))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.json, invalid_url);
    let a = sim
        .crm(Method::GET, &t, "Deals?fields=Deal_Name", None)
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json["code"], "INVALID_MODULE");
    assert_eq!(
        a.json["message"],
        "the module name given seems to be invalid"
    );
    assert_error(
        &sim.crm(Method::PATCH, &t, "Leads", None).await,
        405,
        "INVALID_REQUEST_METHOD",
    );
    // Module names are not case-sensitive.
    assert_eq!(
        sim.crm(Method::GET, &t, "leads?fields=Last_Name&per_page=1", None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn booleans_in_query_strings_accept_capitals() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    for v in ["false", "False"] {
        let a = sim
            .crm(
                Method::GET,
                &t,
                &format!("Leads?fields=Last_Name&converted={v}"),
                None,
            )
            .await;
        assert_eq!(a.status, 200, "{v}");
    }
    for v in ["true", "True"] {
        let a = sim
            .crm(
                Method::GET,
                &t,
                &format!("Leads?fields=Last_Name&converted={v}"),
                None,
            )
            .await;
        assert_eq!(a.status, 204, "{v}");
    }
    assert_eq!(
        sim.crm(
            Method::GET,
            &t,
            "Leads?fields=Last_Name&approved=True",
            None
        )
        .await
        .status,
        200
    );
    assert_eq!(
        sim.crm(Method::GET, &t, "Leads/search?word=a&converted=False", None)
            .await
            .status,
        200
    );
    assert_error(
        &sim.crm(
            Method::GET,
            &t,
            "Leads?fields=Last_Name&converted=maybe",
            None,
        )
        .await,
        400,
        "INVALID_DATA",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_org_over_its_concurrency_limit_gets_429() {
    let sim = start().await;
    sim.limits(json!({"org_concurrency": 2})).await;
    let a = sim.sign_in(ADMIN_A).await;
    let b = sim.sign_in(ADMIN_B).await;
    // Every Leads list of any org is slowed down, so calls overlap.
    let f = sim
        .control(
            Method::POST,
            "faults",
            json!({"path": "/us/production/crm/v8/Leads", "delay_ms": 400, "times": 0}),
        )
        .await;
    assert_eq!(f.status, 200);
    let call = |t: &Tokens| {
        let http = sim.http.clone();
        let url = format!("{}/crm/v8/Leads?fields=Last_Name&per_page=1", t.api_domain);
        let auth = format!("Zoho-oauthtoken {}", t.access);
        tokio::spawn(async move {
            answer(
                http.get(url)
                    .header("Authorization", auth)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        })
    };
    let handles: Vec<_> = (0..4).map(|_| call(&a)).collect();
    let other = call(&b);
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.unwrap());
    }
    let other = other.await.unwrap();
    let statuses: Vec<u16> = results.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        2,
        "{statuses:?}"
    );
    let rejected = results.iter().find(|a| a.status == 429).unwrap();
    assert_eq!(rejected.json["code"], "TOO_MANY_REQUESTS");
    assert_eq!(rejected.json["status"], "error");
    assert_eq!(other.status, 200, "another org has its own limit");
    assert_eq!(sim.stats().await["concurrency_rejections"], 2);
    // Once the calls are over, the org is served again.
    assert_eq!(sim.crm(Method::GET, &a, "org", None).await.status, 200);
}

/// `If-Modified-Since` on the metadata APIs: 304 with no body when nothing changed since
/// (Zoho CRM API v8, "Modules API" and "Fields Metadata"); the full answer otherwise.
#[tokio::test]
async fn metadata_answers_304_when_not_modified_since() {
    let sim = start().await;
    let t = sim.sign_in(ADMIN_A).await;
    let modules = sim.crm(Method::GET, &t, "settings/modules", None).await;
    let modified = modules.json["modules"][0]["modified_time"]
        .as_str()
        .unwrap()
        .to_owned();
    let get = |path: &'static str, since: String| {
        let (sim, t) = (&sim, &t);
        async move {
            answer(
                sim.http
                    .get(format!("{}/crm/v8/{path}", t.api_domain))
                    .header("Authorization", format!("Zoho-oauthtoken {}", t.access))
                    .header("If-Modified-Since", since)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    for path in ["settings/modules", "settings/fields?module=Leads"] {
        for since in [modified.clone(), "Thu, 15 Jan 2026 10:00:00 GMT".to_owned()] {
            let a = get(path, since).await;
            assert_eq!(a.status, 304, "{path}: {}", a.text);
            assert!(a.text.is_empty() && a.content_type.is_none(), "{path}");
        }
        for since in ["2025-12-31T23:59:59+00:00", "not a date"] {
            let a = get(path, since.to_owned()).await;
            assert_eq!(a.status, 200, "{path} since {since}");
            assert!(a.json.is_object());
        }
    }
}
