//! `GET /crm/v8/{module}/actions/count`: Zoho's record count ("Record Count" of
//! `v8.0/record.json`), with and without a filter, as each user sees the records.

use crate::common::*;
use reqwest::Method;

fn count_of(a: &Answer) -> u64 {
    assert_eq!(a.status, 200, "{}", a.text);
    // A `Long` sent as text, as the description and the SDKs have it.
    a.json["count"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn counts_what_each_user_sees_with_and_without_a_filter() {
    let sim = start().await;
    let admin = sim.sign_in(ADMIN_A).await;
    let all = sim
        .crm(Method::GET, &admin, "Leads/actions/count", None)
        .await;
    assert_eq!(count_of(&all), 30);
    let listed = sim
        .crm(
            Method::GET,
            &admin,
            "Leads?fields=Course&per_page=200",
            None,
        )
        .await;
    let courses: Vec<&str> = listed.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["Course"].as_str())
        .collect();
    let course = courses[0];
    let of_course = courses.iter().filter(|c| **c == course).count() as u64;
    assert!(of_course < 30);
    let criteria = zoho::form::encode_component(&format!("(Course:equals:{course})"));
    let filtered = sim
        .crm(
            Method::GET,
            &admin,
            &format!("Leads/actions/count?criteria={criteria}"),
            None,
        )
        .await;
    assert_eq!(count_of(&filtered), of_course);
    let email = listed.json["data"][0]["id"].as_str().unwrap().to_owned();
    let one = sim
        .crm(
            Method::GET,
            &admin,
            &format!("Leads?fields=Email&ids={email}"),
            None,
        )
        .await;
    let email = one.json["data"][0]["Email"].as_str().unwrap();
    let by_email = sim
        .crm(
            Method::GET,
            &admin,
            &format!(
                "Leads/actions/count?email={}",
                zoho::form::encode_component(email)
            ),
            None,
        )
        .await;
    assert_eq!(count_of(&by_email), 1);
    let none = sim
        .crm(
            Method::GET,
            &admin,
            "Leads/actions/count?word=no-such-word-anywhere",
            None,
        )
        .await;
    assert_eq!(
        count_of(&none),
        0,
        "nothing matches: a count of 0, not a 204"
    );
    // A standard user counts only their own records.
    let coord = sim.sign_in(COORD_A).await;
    assert_eq!(
        count_of(
            &sim.crm(Method::GET, &coord, "Leads/actions/count", None)
                .await
        ),
        10
    );
    assert_eq!(
        count_of(
            &sim.crm(Method::GET, &admin, "Contacts/actions/count", None)
                .await
        ),
        6
    );

    for (path, status, code) in [
        (
            "Leads/actions/count?criteria=(Shoe_Size:equals:9)",
            400,
            "INVALID_QUERY",
        ),
        (
            "Leads/actions/count?criteria=((Email:equals:",
            400,
            "INVALID_QUERY",
        ),
        ("Leads/actions/count?cvid=1", 400, "INVALID_DATA"),
        ("Deals/actions/count", 400, "INVALID_MODULE"),
    ] {
        assert_error(
            &sim.crm(Method::GET, &admin, path, None).await,
            status,
            code,
        );
    }
    assert_error(
        &sim.crm(Method::POST, &admin, "Leads/actions/count", None)
            .await,
        405,
        "INVALID_REQUEST_METHOD",
    );
    let stats = sim
        .control(Method::GET, "stats", serde_json::Value::Null)
        .await;
    assert!(
        stats.json["by_route"]["GET /{dc}/{env}/crm/v8/Leads/actions/count"]
            .as_u64()
            .unwrap()
            >= 5,
        "{}",
        stats.json["by_route"]
    );
}
