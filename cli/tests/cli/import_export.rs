//! CSV import (1,000 rows with bad rows and duplicates, re-run) and export (20,000 records).

use std::collections::{BTreeMap, BTreeSet};

use crate::common::*;
use serde_json::{Value, json};

const COURSES: [&str; 3] = ["Data Science", "Rust Fundamentals", "Web Development"];

/// What each row of the generated file should come to.
#[derive(Debug, Clone, PartialEq)]
enum Want {
    Created,
    Duplicate,
    Invalid(Option<&'static str>),
}

/// A 1,000-row file: bad courses, emails, cell counts and names, the same email twice, and an
/// email Zoho already has; commas, quotes and a formula in cells.
fn thousand_rows(existing_email: &str) -> (String, Vec<Want>) {
    let mut csv = String::from("first_name,last_name,college,course,email,phone\n");
    let mut want = Vec::new();
    for i in 1..=1000usize {
        let mut last = format!("Student{i}");
        let mut college = format!("College {}", i % 7);
        let mut course = COURSES[i % 3].to_owned();
        let mut email = format!("s{i}@import.example");
        let phone = format!("+1 555 {:04}", i);
        let mut expected = Want::Created;
        if i % 97 == 0 {
            course = "Cooking".into();
            expected = Want::Invalid(Some("course"));
        } else if i % 101 == 0 {
            email = "not-an-email".into();
            expected = Want::Invalid(Some("email"));
        } else if i == 600 {
            last = String::new();
            expected = Want::Invalid(Some("last_name"));
        } else if i % 53 == 0 && want.last() == Some(&Want::Created) {
            email = format!("S{}@IMPORT.example", i - 1);
            expected = Want::Duplicate;
        } else if i == 3 {
            email = existing_email.to_owned();
            expected = Want::Duplicate;
        }
        if i == 7 {
            last = "O\"Neil, Jr.".into();
        }
        if i == 8 {
            college = "=SUM(A1:A9)".into();
        }
        if i == 500 {
            csv.push_str("Only,three,cells\n");
            want.push(Want::Invalid(None));
            continue;
        }
        let quote = |s: &str| {
            if s.contains([',', '"']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        };
        csv.push_str(&format!(
            "Stu{i},{},{},{course},{email},{phone}\n",
            quote(&last),
            quote(&college)
        ));
        want.push(expected);
    }
    (csv, want)
}

async fn students_in_zoho(sim: &Sim) -> usize {
    let all = sim
        .zcrm(&["students", "list", "--all", "--json"])
        .await
        .ok()
        .json();
    all["students"].as_array().unwrap().len()
}

fn statuses(report: &Value) -> Vec<(u64, String, Option<String>)> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["row"].as_u64().unwrap(),
                r["status"].as_str().unwrap().to_owned(),
                r["field"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_reports_every_row_and_a_rerun_creates_nothing() {
    let sim = start().await;
    sim.login(ADMIN_B, "us").await.ok();
    let page = sim.zcrm(&["students", "list", "--json"]).await.ok().json();
    let existing = page["students"][0]["email"].as_str().unwrap().to_owned();
    let (csv, want) = thousand_rows(&existing);
    let file = sim.path("enquiries.csv");
    std::fs::write(&file, csv).unwrap();

    // A dry run sends no create.
    let dry = sim
        .zcrm(&["students", "import", &file, "--dry-run", "--json"])
        .await;
    assert_eq!(dry.status, 2, "bad rows: {}", dry.stderr);
    let dry = dry.json();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["created"], 0);
    let creates = |s: &Value| {
        s["by_route"]["POST /{dc}/{env}/crm/v8/Leads"]
            .as_u64()
            .unwrap_or(0)
    };
    assert_eq!(creates(&sim.stats().await), 0);

    let started = std::time::Instant::now();
    let run = sim.zcrm(&["students", "import", &file, "--json"]).await;
    let took = started.elapsed();
    assert_eq!(
        run.status, 2,
        "exit 2: some rows were refused: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("importing: 100/"),
        "plain progress lines: {}",
        run.stderr
    );
    let report = run.json();
    let rows = statuses(&report);
    assert_eq!(rows.len(), 1000);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for ((row, status, field), want) in rows.iter().zip(&want) {
        let (s, f) = match want {
            Want::Created => ("created", None),
            Want::Duplicate => ("duplicate", Some("email")),
            Want::Invalid(f) => ("invalid", *f),
        };
        assert_eq!((status.as_str(), field.as_deref()), (s, f), "row {row}");
        *counts.entry(s).or_default() += 1;
    }
    for (i, r) in report["rows"].as_array().unwrap().iter().enumerate() {
        assert_eq!(r["row"], i + 1);
        match r["status"].as_str().unwrap() {
            "created" => assert!(r["id"].as_str().is_some_and(|id| id.len() == 19), "{r}"),
            "invalid" => assert!(r["reason"].as_str().is_some_and(|s| !s.is_empty()), "{r}"),
            _ => {}
        }
    }
    assert_eq!(report["created"], counts["created"]);
    assert_eq!(report["duplicate"], counts["duplicate"]);
    assert_eq!(report["invalid"], counts["invalid"]);
    assert_eq!(
        report["rows"][2]["id"], page["students"][0]["id"],
        "the duplicate names the record Zoho has"
    );
    let created = counts["created"];
    assert!(created > 900, "{counts:?}");
    let stats = sim.stats().await;
    assert_eq!(
        creates(&stats) as usize,
        created.div_ceil(100),
        "100 records a call"
    );
    assert_eq!(students_in_zoho(&sim).await, 26 + created);
    eprintln!("import of 1,000 rows: {took:?}");

    // Again: nothing is created twice.
    let again = sim.zcrm(&["students", "import", &file, "--json"]).await;
    assert_eq!(again.status, 2);
    let again = again.json();
    assert_eq!(again["created"], 0);
    assert_eq!(again["duplicate"], created + counts["duplicate"]);
    assert_eq!(again["invalid"], counts["invalid"]);
    assert_eq!(
        creates(&sim.stats().await) as usize,
        created.div_ceil(100),
        "no create sent"
    );
    assert_eq!(students_in_zoho(&sim).await, 26 + created);

    // The export imports back as duplicates only, formula cells included.
    let out = sim.path("northwind.csv");
    sim.zcrm(&["students", "export", "--out", &out]).await.ok();
    let exported = std::fs::read_to_string(&out).unwrap();
    assert!(
        exported.contains(",'=SUM(A1:A9),"),
        "the formula is neutralised"
    );
    assert!(exported.contains("\"O\"\"Neil, Jr.\""));
    let back = sim
        .zcrm(&["students", "import", &out, "--json"])
        .await
        .ok()
        .json();
    assert_eq!(back["created"], 0);
    assert_eq!(back["invalid"], 0);
    assert_eq!(back["duplicate"], 26 + created);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_import_exits_zero_with_a_human_report() {
    let sim = start().await;
    sim.login(ADMIN_B, "us").await.ok();
    let file = sim.path("two.csv");
    std::fs::write(
        &file,
        "name,college,course,email\r\nAsha Rao,Zylker College,Data Science,asha@two.example\r\nPlato,Academy,Data Science,plato@two.example\r\n",
    )
    .unwrap();
    let run = sim.zcrm(&["students", "import", &file]).await.ok();
    assert!(
        run.stdout
            .contains("2 created, 0 skipped as duplicate email, 0 refused."),
        "{run:?}"
    );
    let got = sim
        .zcrm(&["students", "list", "--search", "Asha Rao", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(got["students"][0]["first_name"], "Asha");
    assert_eq!(got["students"][0]["last_name"], "Rao");
    let again = sim.zcrm(&["students", "import", &file]).await.ok();
    assert!(again.stdout.contains("0 created, 2 skipped"), "{again:?}");
    // A file that is not CSV of students is bad input, before anything is sent.
    std::fs::write(&file, "shoe,size\n1,2\n").unwrap();
    let bad = sim.zcrm(&["students", "import", &file]).await;
    assert_eq!(bad.status, 2);
    assert!(bad.stderr.contains("Unknown column `shoe`"), "{bad:?}");
    std::fs::write(&file, [0xff, 0xfe, b'a']).unwrap();
    let bad = sim.zcrm(&["students", "import", &file]).await;
    assert_eq!(bad.status, 2);
    assert!(bad.stderr.contains("not UTF-8"), "{bad:?}");
}

/// Every Lead of the org, read straight from the simulator with a token of its own.
async fn leads_of(sim: &Sim, email: &str) -> BTreeSet<(String, String)> {
    let code = sim.grant(email, "production").await;
    let tokens: Value = sim
        .http
        .post(format!("{}/us/accounts/oauth/v2/token", sim.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("code", &code),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let mut out = BTreeSet::new();
    let mut page_token: Option<String> = None;
    loop {
        let mut url = format!(
            "{}/us/production/crm/v8/Leads?fields=Email&per_page=200",
            sim.base
        );
        if let Some(t) = &page_token {
            url.push_str(&format!("&page_token={t}"));
        }
        let v: Value = sim
            .http
            .get(url)
            .header("authorization", format!("Zoho-oauthtoken {token}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for r in v["data"].as_array().unwrap() {
            out.insert((
                r["id"].as_str().unwrap().to_owned(),
                r["Email"].as_str().unwrap_or("").to_owned(),
            ));
        }
        if v["info"]["more_records"] != json!(true) {
            return out;
        }
        page_token = Some(v["info"]["next_page_token"].as_str().unwrap().to_owned());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_of_twenty_thousand_matches_zoho() {
    let sim = start_with(zoho_sim::Config {
        seed_leads: 20_000,
        ..Default::default()
    })
    .await;
    sim.login(ADMIN_BULK, "us").await.ok();
    let out = sim.path("bulk.csv");
    let started = std::time::Instant::now();
    let run = sim
        .zcrm(&["students", "export", "--out", &out, "--json"])
        .await
        .ok();
    let took = started.elapsed();
    assert_eq!(run.json()["exported"], 20_000);
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.split("\r\n");
    assert_eq!(
        lines.next(),
        Some("id,first_name,last_name,college,course,email,phone")
    );
    let exported: BTreeSet<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].to_owned(), cells[cells.len() - 2].to_owned())
        })
        .collect();
    assert_eq!(exported.len(), 20_000);
    assert_eq!(exported, leads_of(&sim, ADMIN_BULK).await);
    let stats = sim.stats().await;
    assert!(
        stats["by_path"]["GET /us/production/crm/v8/Leads"]
            .as_u64()
            .unwrap()
            >= 100 + 100
    );
    eprintln!("export of 20,000: {took:?}");
    // To stdout as well.
    let stdout = sim.zcrm(&["students", "export"]).await.ok();
    assert_eq!(stdout.stdout.lines().count(), 20_001);
}
