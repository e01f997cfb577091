//! Writes: create, update and delete, one record and bulk, with per-record errors.

use super::ids;
use crate::common::*;
use reqwest::Method;
use serde_json::{Value, json};

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
