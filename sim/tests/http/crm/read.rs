//! Reads: lists (fields, ids, paging, sorting, past record 2,000), one record, searches.

use super::{enc, ids};
use crate::common::*;
use reqwest::Method;
use serde_json::json;
use std::collections::HashSet;
use zoho::criteria::{Criteria, Operator};

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
