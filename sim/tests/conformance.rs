//! The simulator's answers against Zoho's OpenAPI description of CRM v8 (GitHub zoho/crm-oas,
//! folder v8.0/, vendored in `oas/v8.0/` at the commit and SHA-256 hashes of `oas/MANIFEST.json`).
//!
//! This test starts the simulator in-process on an ephemeral loopback port, makes every call the
//! portal and the official SDKs make (users, org, modules, fields, records list/get/create/update/
//! delete, search), success and error cases alike, records each answer (status, Content-Type,
//! body), and has `oas/validate.py` check them all with openapi-schema-validator (a maintained
//! validator, pinned in `xtask/tools/oas-validator/requirements.txt`): statuses documented,
//! content types documented, bodies valid against the operation's response schema. The only
//! departures are `oas/exceptions.json`, each with its reason and source.
//!
//! `#[ignore]`d in a plain `cargo test`: it needs the validator's virtualenv, which
//! `cargo xtask tools` installs; `cargo xtask fidelity` (and `cargo xtask test`) run it with
//! `ZCRM_OAS_PYTHON` set to that virtualenv's python.

mod support;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Instant;
use support::{Call, Client};

/// One recorded answer, tagged with the operation of the description it answers.
struct Recorded {
    name: String,
    file: &'static str,
    method: &'static str,
    path: &'static str,
    call: Call,
}

#[derive(Default)]
struct Recorder {
    answers: Vec<Recorded>,
}

impl Recorder {
    fn add(
        &mut self,
        name: &str,
        (file, method, path): (&'static str, &'static str, &'static str),
        call: Call,
    ) -> &Call {
        self.answers.push(Recorded {
            name: name.to_owned(),
            file,
            method,
            path,
            call,
        });
        &self.answers.last().expect("just pushed").call
    }

    fn to_json(&self) -> Value {
        let answers: Vec<Value> = self
            .answers
            .iter()
            .map(|a| {
                json!({"name": a.name, "file": a.file, "method": a.method, "path": a.path,
                       "status": a.call.status, "content_type": a.call.content_type, "body": a.call.text})
            })
            .collect();
        json!({ "answers": answers })
    }
}

// The operations, as the description names them.
const USERS: (&str, &str, &str) = ("users.json", "get", "/crm/v8/users");
const USER: (&str, &str, &str) = ("users.json", "get", "/crm/v8/users/{user}");
const ORG: (&str, &str, &str) = ("org.json", "get", "/crm/v8/org");
const MODULES: (&str, &str, &str) = ("modules.json", "get", "/crm/v8/settings/modules");
const FIELDS: (&str, &str, &str) = ("fields.json", "get", "/crm/v8/settings/fields");
const LIST: (&str, &str, &str) = ("record.json", "get", "/crm/v8/{module_api_name}");
const GET: (&str, &str, &str) = ("record.json", "get", "/crm/v8/{module_api_name}/{id}");
const CREATE: (&str, &str, &str) = ("record.json", "post", "/crm/v8/{module_api_name}");
const UPDATE_MANY: (&str, &str, &str) = ("record.json", "put", "/crm/v8/{module_api_name}");
const UPDATE: (&str, &str, &str) = ("record.json", "put", "/crm/v8/{module_api_name}/{id}");
const DELETE_MANY: (&str, &str, &str) = ("record.json", "delete", "/crm/v8/{module_api_name}");
const DELETE: (&str, &str, &str) = ("record.json", "delete", "/crm/v8/{module_api_name}/{id}");
const SEARCH: (&str, &str, &str) = ("module_search.json", "get", "/crm/v8/{module}/search");
const COUNT: (&str, &str, &str) = (
    "record.json",
    "get",
    "/crm/v8/{module_api_name}/actions/count",
);

/// Drives the simulator through every case and records the answers.
async fn record_answers(base: &str) -> Recorder {
    let mut r = Recorder::default();
    for (who, email) in [
        ("us", "admin@zylker-academy.example"),
        ("eu", "admin@eurotech-institute.example"),
    ] {
        let c = Client::sign_in(base, email, support::SCOPES).await;
        let n = |s: &str| format!("{who} {s}");
        r.add(
            &n("current user"),
            USERS,
            c.get("users?type=CurrentUser").await,
        );
        r.add(&n("all users"), USERS, c.get("users?type=AllUsers").await);
        r.add(
            &n("no deleted users"),
            USERS,
            c.get("users?type=DeletedUsers").await,
        );
        r.add(
            &n("users of an unknown type"),
            USERS,
            c.get("users?type=Martians").await,
        );
        let me = c.get("users?type=CurrentUser").await.json["users"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        r.add(&n("one user"), USER, c.get(&format!("users/{me}")).await);
        r.add(&n("org"), ORG, c.get("org").await);
        let modules = r.add(&n("modules"), MODULES, c.get("settings/modules").await);
        let last_modified = modules.json["modules"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["api_name"] == "Leads"))
            .and_then(|m| m["modified_time"].as_str())
            .unwrap_or("2020-01-01T00:00:00+00:00")
            .to_owned();
        let since = [("If-Modified-Since", last_modified.as_str())];
        r.add(
            &n("modules not modified"),
            MODULES,
            c.get_with("settings/modules", &since).await,
        );
        r.add(
            &n("lead fields"),
            FIELDS,
            c.get("settings/fields?module=Leads").await,
        );
        r.add(
            &n("contact fields"),
            FIELDS,
            c.get("settings/fields?module=Contacts").await,
        );
        r.add(
            &n("deal fields"),
            FIELDS,
            c.get("settings/fields?module=Deals").await,
        );
        r.add(
            &n("fields not modified"),
            FIELDS,
            c.get_with(
                "settings/fields?module=Leads",
                &[("If-Modified-Since", "2099-01-01T00:00:00+00:00")],
            )
            .await,
        );
        r.add(
            &n("fields without module"),
            FIELDS,
            c.get("settings/fields").await,
        );
        r.add(
            &n("fields of an invalid module"),
            FIELDS,
            c.get("settings/fields?module=Spaceships").await,
        );

        // Lists.
        let list = r.add(
            &n("list"),
            LIST,
            c.get("Leads?fields=First_Name,Last_Name,Email,Phone,Company,Course,Owner,Created_Time&per_page=5")
                .await,
        );
        let token = list.json["info"]["next_page_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        r.add(
            &n("list by page token"),
            LIST,
            c.get(&format!("Leads?fields=Last_Name&page_token={token}"))
                .await,
        );
        r.add(
            &n("list of contacts"),
            LIST,
            c.get("Contacts?fields=Last_Name,Email").await,
        );
        r.add(
            &n("list, nothing converted"),
            LIST,
            c.get("Leads?fields=Last_Name&converted=true").await,
        );
        r.add(&n("list without fields"), LIST, c.get("Leads").await);
        r.add(
            &n("list, invalid per_page"),
            LIST,
            c.get("Leads?fields=Last_Name&per_page=0").await,
        );
        r.add(
            &n("list of an invalid module"),
            LIST,
            c.get("Spaceships?fields=Name").await,
        );
        r.add(
            &n("list past record 2000"),
            LIST,
            c.get("Leads?fields=Last_Name&page=11&per_page=200").await,
        );
        let many_ids: Vec<String> = (0..101)
            .map(|i| (1_000_000_000_000_000_000u64 + i).to_string())
            .collect();
        r.add(
            &n("list of more than 100 ids"),
            LIST,
            c.get(&format!(
                "Leads?fields=Last_Name&ids={}",
                many_ids.join(",")
            ))
            .await,
        );
        r.add(
            &n("list with page and page_token"),
            LIST,
            c.get(&format!("Leads?fields=Last_Name&page=2&page_token={token}"))
                .await,
        );
        r.add(&n("count"), COUNT, c.get("Leads/actions/count").await);
        r.add(
            &n("count by criteria"),
            COUNT,
            c.get("Leads/actions/count?criteria=(Course:equals:Data%20Science)")
                .await,
        );
        r.add(
            &n("count of nothing"),
            COUNT,
            c.get("Leads/actions/count?word=no-such-word-anywhere")
                .await,
        );
        r.add(
            &n("list sorted by an unknown field"),
            LIST,
            c.get("Leads?fields=Last_Name&sort_by=Shoe_Size").await,
        );
        // The org's concurrency limit reached: 429.
        support::control(
            base,
            reqwest::Method::POST,
            "limits",
            json!({"org_concurrency": 0}),
        )
        .await;
        r.add(
            &n("too many requests"),
            LIST,
            c.get("Leads?fields=Last_Name").await,
        );
        support::control(
            base,
            reqwest::Method::POST,
            "limits",
            json!({"org_concurrency": 25}),
        )
        .await;

        // Create, read, update, search, delete.
        let tag = format!("{who}{}", std::process::id());
        let email_addr = format!("oas.{tag}@students.example");
        let lead = json!({"data": [{"First_Name": "Oas", "Last_Name": format!("Conform{tag}"),
            "Email": email_addr, "Phone": "+1 555 0100", "Company": "Spec College", "Course": "Data Science"}],
            "trigger": []});
        let created = r.add(&n("create"), CREATE, c.send("POST", "Leads", &lead).await);
        let id = created.json["data"][0]["details"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let dup = json!({"data": [{"Last_Name": "Twin", "Email": email_addr}]});
        r.add(
            &n("create a duplicate"),
            CREATE,
            c.send("POST", "Leads", &dup).await,
        );
        let missing = json!({"data": [{"First_Name": "Nameless"}]});
        r.add(
            &n("create without Last_Name"),
            CREATE,
            c.send("POST", "Leads", &missing).await,
        );
        let invalid = json!({"data": [{"Last_Name": "Bad", "Email": "not an address"}]});
        r.add(
            &n("create with invalid data"),
            CREATE,
            c.send("POST", "Leads", &invalid).await,
        );
        let mixed =
            json!({"data": [{"Last_Name": format!("Mixed{tag}")}, {"First_Name": "Nameless"}]});
        let mixed_answer = r.add(
            &n("create, one of two fails"),
            CREATE,
            c.send("POST", "Leads", &mixed).await,
        );
        let mixed_id = mixed_answer.json["data"][0]["details"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        r.add(
            &n("create without data"),
            CREATE,
            c.send("POST", "Leads", &json!({})).await,
        );
        r.add(&n("get"), GET, c.get(&format!("Leads/{id}")).await);
        r.add(
            &n("get some fields"),
            GET,
            c.get(&format!("Leads/{id}?fields=Last_Name,Email")).await,
        );
        r.add(
            &n("get an unknown id"),
            GET,
            c.get("Leads/1234567890123456789").await,
        );
        r.add(&n("get an invalid id"), GET, c.get("Leads/not-an-id").await);
        let change = json!({"data": [{"Course": "Cloud Computing", "Phone": "+1 555 0199"}]});
        r.add(
            &n("update"),
            UPDATE,
            c.send("PUT", &format!("Leads/{id}"), &change).await,
        );
        let blank = json!({"data": [{"Last_Name": ""}]});
        r.add(
            &n("update blanking Last_Name"),
            UPDATE,
            c.send("PUT", &format!("Leads/{id}"), &blank).await,
        );
        let many = json!({"data": [{"id": id, "Description": "bulk"}, {"id": mixed_id, "Description": "bulk"}]});
        r.add(
            &n("update many"),
            UPDATE_MANY,
            c.send("PUT", "Leads", &many).await,
        );
        let unknown = json!({"data": [{"id": "1234567890123456789", "Description": "x"}]});
        r.add(
            &n("update an unknown id"),
            UPDATE_MANY,
            c.send("PUT", "Leads", &unknown).await,
        );

        let criteria = format!("((Last_Name:equals:Conform{tag})and(Email:starts_with:oas.))");
        r.add(
            &n("search by criteria"),
            SEARCH,
            c.get(&format!(
                "Leads/search?criteria={}",
                zoho::form::encode_component(&criteria)
            ))
            .await,
        );
        r.add(
            &n("search by email"),
            SEARCH,
            c.get(&format!(
                "Leads/search?email={}",
                zoho::form::encode_component(&email_addr)
            ))
            .await,
        );
        r.add(
            &n("search by word"),
            SEARCH,
            c.get(&format!("Leads/search?word=Conform{tag}")).await,
        );
        r.add(
            &n("search by phone"),
            SEARCH,
            c.get("Leads/search?phone=5550199").await,
        );
        r.add(
            &n("search finding nothing"),
            SEARCH,
            c.get("Leads/search?word=nobody-at-all").await,
        );
        r.add(
            &n("search without a term"),
            SEARCH,
            c.get("Leads/search").await,
        );
        r.add(
            &n("search with bad criteria"),
            SEARCH,
            c.get("Leads/search?criteria=((Last_Name:equals").await,
        );
        r.add(
            &n("search on an unknown field"),
            SEARCH,
            c.get("Leads/search?criteria=(Shoe_Size:equals:9)").await,
        );
        r.add(
            &n("search an invalid module"),
            SEARCH,
            c.get("Spaceships/search?word=x").await,
        );

        r.add(&n("delete"), DELETE, c.delete(&format!("Leads/{id}")).await);
        r.add(
            &n("delete again"),
            DELETE,
            c.delete(&format!("Leads/{id}")).await,
        );
        r.add(
            &n("delete many"),
            DELETE_MANY,
            c.delete(&format!("Leads?ids={mixed_id},1234567890123456789"))
                .await,
        );
        r.add(
            &n("delete many without ids"),
            DELETE_MANY,
            c.delete("Leads").await,
        );

        // Tokens and scopes.
        let stale = Client::with_token(&c.api_domain, "1000.not-a-token");
        r.add(&n("invalid token"), ORG, stale.get("org").await);
        r.add(
            &n("invalid token on a list"),
            LIST,
            stale.get("Leads?fields=Last_Name").await,
        );
        let narrow = Client::sign_in(base, email, "ZohoCRM.users.READ").await;
        r.add(
            &n("scope mismatch"),
            LIST,
            narrow.get("Leads?fields=Last_Name").await,
        );
        r.add(&n("scope mismatch on org"), ORG, narrow.get("org").await);
    }
    // A standard user and a lead he does not own: 403 to read it, NO_PERMISSION per record to
    // change or delete it.
    let admin = Client::sign_in(base, "admin@zylker-academy.example", support::SCOPES).await;
    let coordinator =
        Client::sign_in(base, "coordinator@zylker-academy.example", support::SCOPES).await;
    let list = admin.get("Leads?fields=Owner&per_page=50").await;
    let theirs = list.json["data"]
        .as_array()
        .and_then(|d| {
            d.iter()
                .find(|l| l["Owner"]["email"] != "coordinator@zylker-academy.example")
        })
        .and_then(|l| l["id"].as_str())
        .expect("a lead the coordinator does not own")
        .to_owned();
    r.add(
        "us coordinator reads another's lead",
        GET,
        coordinator.get(&format!("Leads/{theirs}")).await,
    );
    let change = json!({"data": [{"Description": "not mine"}]});
    r.add(
        "us coordinator updates another's lead",
        UPDATE,
        coordinator
            .send("PUT", &format!("Leads/{theirs}"), &change)
            .await,
    );
    r.add(
        "us coordinator deletes another's lead",
        DELETE,
        coordinator.delete(&format!("Leads/{theirs}")).await,
    );
    r
}

/// Runs `oas/validate.py` over `answers`: (passed, its output).
fn validate(python: &Path, answers: &Value, tag: &str) -> (bool, String) {
    let file = std::env::temp_dir().join(format!(
        "zcrm-oas-answers-{tag}-{}.json",
        std::process::id()
    ));
    std::fs::write(&file, serde_json::to_vec_pretty(answers).unwrap()).unwrap();
    let out = std::process::Command::new(python)
        .arg(oas_dir().join("validate.py"))
        .arg(&file)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run oas/validate.py");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        let _ = std::fs::remove_file(&file);
    } else {
        text.push_str(&format!("\n(answers kept in {})", file.display()));
    }
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OpenAPI validator: run by `cargo xtask fidelity` / `cargo xtask test`"]
async fn every_answer_conforms_to_zohos_openapi_description() {
    let python = support::tool_path("ZCRM_OAS_PYTHON");
    let started = Instant::now();
    let (sim, base) = support::start().await;
    let recorder = record_answers(&base).await;
    sim.shutdown().await;
    let (passed, out) = validate(&python, &recorder.to_json(), "all");
    assert!(
        passed,
        "answers that do not conform to Zoho's OpenAPI description:\n{}",
        out.lines()
            .filter(|l| !l.starts_with("ok "))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let summary: Value = serde_json::from_str(out.lines().last().unwrap_or("{}")).unwrap();
    assert_eq!(
        summary["answers"].as_u64(),
        Some(recorder.answers.len() as u64)
    );
    assert_eq!(summary["failed"].as_u64(), Some(0), "{summary}");
    assert!(summary["operations"].as_u64() >= Some(13), "{summary}");
    parse_with_the_workers_types(&recorder);
    assert_the_cases_are_what_they_say(&recorder);
    support::progress(&format!(
        "conformance: {} answers of {} operations conform ({} exceptions), {:.1} s",
        summary["answers"],
        summary["operations"],
        summary["exceptions"],
        started.elapsed().as_secs_f64()
    ));
}

/// Each case answers what its name says (so that the description is checked on that answer).
fn assert_the_cases_are_what_they_say(r: &Recorder) {
    let expected: [(&str, u16, Option<&str>); 21] = [
        ("create", 201, None),
        ("create, one of two fails", 207, None),
        ("create a duplicate", 400, None),
        ("create without Last_Name", 400, None),
        ("create with invalid data", 400, None),
        ("modules not modified", 304, None),
        ("fields not modified", 304, None),
        ("no deleted users", 204, None),
        ("list, nothing converted", 204, None),
        ("search finding nothing", 204, None),
        ("get an unknown id", 204, None),
        ("search without a term", 400, Some("EXPECTED_PARAM_MISSING")),
        ("search with bad criteria", 400, Some("INVALID_QUERY")),
        ("list without fields", 400, Some("REQUIRED_PARAM_MISSING")),
        ("list of an invalid module", 400, Some("INVALID_MODULE")),
        ("fields of an invalid module", 400, Some("INVALID_MODULE")),
        (
            "list past record 2000",
            400,
            Some("DISCRETE_PAGINATION_LIMIT_EXCEEDED"),
        ),
        ("too many requests", 429, Some("TOO_MANY_REQUESTS")),
        ("invalid token", 401, Some("INVALID_TOKEN")),
        ("scope mismatch", 401, Some("OAUTH_SCOPE_MISMATCH")),
        ("users of an unknown type", 400, Some("INVALID_DATA")),
    ];
    for who in ["us", "eu"] {
        for (name, status, code) in expected {
            let name = format!("{who} {name}");
            let a = r
                .answers
                .iter()
                .find(|a| a.name == name)
                .unwrap_or_else(|| panic!("no case {name}"));
            assert_eq!(a.call.status, status, "{name}: {}", a.call.text);
            if let Some(code) = code {
                assert_eq!(a.call.json["code"], code, "{name}: {}", a.call.text);
            }
        }
    }
    for (name, status, code) in [
        ("us coordinator reads another's lead", 403, "NO_PERMISSION"),
        (
            "us coordinator updates another's lead",
            400,
            "NO_PERMISSION",
        ),
        (
            "us coordinator deletes another's lead",
            400,
            "NO_PERMISSION",
        ),
    ] {
        let a = r.answers.iter().find(|a| a.name == name).expect("the case");
        assert_eq!(a.call.status, status, "{name}: {}", a.call.text);
        let got = a.call.json["code"]
            .as_str()
            .or(a.call.json["data"][0]["code"].as_str());
        assert_eq!(got, Some(code), "{name}: {}", a.call.text);
    }
}

/// The same answers read with the `zoho` crate's types, as the Worker reads them.
fn parse_with_the_workers_types(r: &Recorder) {
    use zoho::crm::{ApiResponse, classify_response};
    for a in &r.answers {
        let what = format!("{} ({})", a.name, a.call.status);
        let parsed = match classify_response(a.call.status, &a.call.text) {
            ApiResponse::NoContent => Ok(()),
            ApiResponse::Error(_, e) => {
                assert!(e.error_code().is_some(), "{what}: unknown code {}", e.code);
                Ok(())
            }
            ApiResponse::Json(_, v) => match (a.file, a.method) {
                ("users.json", _) => {
                    serde_json::from_value::<zoho::crm::UsersResponse>(v).map(drop)
                }
                ("org.json", _) => serde_json::from_value::<zoho::crm::OrgResponse>(v).map(drop),
                ("modules.json", _) => {
                    serde_json::from_value::<zoho::crm::ModulesResponse>(v).map(drop)
                }
                ("fields.json", _) => {
                    serde_json::from_value::<zoho::fields::FieldsResponse>(v).map(drop)
                }
                (_, "get") if a.path == COUNT.2 => {
                    serde_json::from_value::<zoho::crm::CountResponse>(v).map(drop)
                }
                (_, "get") if a.path == GET.2 => {
                    serde_json::from_value::<Vec<zoho::crm::Record>>(v["data"].clone()).map(drop)
                }
                (_, "get") if a.path == LIST.2 || a.file == SEARCH.0 => {
                    serde_json::from_value::<zoho::crm::ListResponse>(v).map(drop)
                }
                _ => serde_json::from_value::<Vec<zoho::crm::Status>>(v["data"].clone()).map(drop),
            },
        };
        parsed.unwrap_or_else(|e| panic!("{what}: the zoho crate cannot read it: {e}"));
    }
}

/// The check can fail: answers broken the ways a simulator could get Zoho wrong are rejected,
/// each of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OpenAPI validator: run by `cargo xtask fidelity` / `cargo xtask test`"]
async fn the_check_rejects_answers_that_break_the_description() {
    let python = support::tool_path("ZCRM_OAS_PYTHON");
    let (sim, base) = support::start().await;
    let recorder = record_answers(&base).await;
    sim.shutdown().await;
    let mut answers = recorder.to_json();
    let mut broken = Vec::new();
    let mut breaks = |name: &str, change: &dyn Fn(&mut Value) -> Option<String>| {
        let list = answers["answers"].as_array_mut().unwrap();
        let a = list.iter_mut().find(|a| a["name"] == name).unwrap();
        if let Some(body) = change(a) {
            a["body"] = body.into();
        }
        broken.push(name.to_owned());
    };
    let body = |a: &Value| -> Value { serde_json::from_str(a["body"].as_str().unwrap()).unwrap() };
    breaks("us org", &|a| {
        let mut b = body(a);
        b["org"][0].as_object_mut().unwrap().remove("zgid");
        Some(b.to_string())
    });
    breaks("us lead fields", &|a| {
        let mut b = body(a);
        let course = b["fields"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|f| f["api_name"] == "Course")
            .unwrap();
        course["pick_list_values"][1]
            .as_object_mut()
            .unwrap()
            .remove("colour_code");
        Some(b.to_string())
    });
    breaks("us create", &|a| {
        let mut b = body(a);
        b["data"][0]["status"] = "ok".into();
        Some(b.to_string())
    });
    // The simulator's old answer to a search without a term.
    breaks("us search without a term", &|_| {
        Some(r#"{"code":"REQUIRED_PARAM_MISSING","details":{"param_name":"criteria"},"message":"One of the expected parameter is missing","status":"error"}"#.to_owned())
    });
    breaks("us list, nothing converted", &|_| Some("{}".to_owned()));
    breaks("us list", &|a| {
        a["content_type"] = "text/html".into();
        None
    });
    breaks("us current user", &|a| {
        let mut b = body(a);
        b["users"][0]["id"] = 5.into();
        Some(b.to_string())
    });
    let (passed, out) = validate(&python, &answers, "broken");
    assert!(!passed, "broken answers passed:\n{out}");
    for name in &broken {
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("FAIL {name}: "))),
            "{name} was not rejected:\n{out}"
        );
    }
    let failed = out.lines().filter(|l| l.starts_with("FAIL ")).count();
    assert_eq!(failed, broken.len(), "only the broken answers fail:\n{out}");
}

fn oas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oas")
}

/// The vendored description is the one MANIFEST.json records (runs in a plain `cargo test`).
#[test]
fn the_vendored_description_matches_its_recorded_hashes() {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(oas_dir().join("MANIFEST.json")).unwrap()).unwrap();
    assert_eq!(manifest["commit"].as_str().map(str::len), Some(40));
    let files = manifest["files"].as_object().unwrap();
    let mut on_disk: Vec<String> = std::fs::read_dir(oas_dir().join("v8.0"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, files.keys().cloned().collect::<Vec<_>>());
    for (name, digest) in files {
        let bytes = std::fs::read(oas_dir().join("v8.0").join(name)).unwrap();
        assert_eq!(
            support::sha256_hex(&bytes),
            digest.as_str().unwrap(),
            "oas/v8.0/{name} differs from the copy of zoho/crm-oas MANIFEST.json records"
        );
    }
}

/// Every exception names its reason and a source, and the list stays short.
#[test]
fn the_exceptions_are_sourced() {
    let list: Value =
        serde_json::from_slice(&std::fs::read(oas_dir().join("exceptions.json")).unwrap()).unwrap();
    let list = list["exceptions"].as_array().unwrap();
    assert!(
        list.len() <= 12,
        "{} exceptions: fix the simulator instead",
        list.len()
    );
    for e in list {
        for key in ["id", "kind", "reason", "source"] {
            assert!(
                e[key].as_str().is_some_and(|s| !s.is_empty()),
                "exception without {key}: {e}"
            );
        }
        let names_files = e["file"].is_string()
            || e["files"]
                .as_array()
                .is_some_and(|f| !f.is_empty() && f.iter().all(Value::is_string));
        assert!(names_files, "exception without file(s): {e}");
        match e["kind"].as_str() {
            Some("patch") => assert!(
                e["patches"].as_array().is_some_and(|p| !p.is_empty()),
                "{e}"
            ),
            Some("undocumented_status") => {
                assert!(
                    e["statuses"].as_array().is_some_and(|s| !s.is_empty()),
                    "{e}"
                )
            }
            other => panic!("unknown kind {other:?}: {e}"),
        }
    }
}
