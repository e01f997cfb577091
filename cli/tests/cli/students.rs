//! list, get, add, update, delete.

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_add_get_update_delete() {
    let sim = start().await;
    sim.login(ADMIN_B, "us").await.ok();

    let page = sim.zcrm(&["students", "list", "--json"]).await.ok().json();
    let keys: Vec<&str> = page
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["more", "page", "students"]);
    assert_eq!(page["page"], 1);
    assert_eq!(page["more"], true, "26 leads, 20 a page");
    assert_eq!(page["students"].as_array().unwrap().len(), 20);
    let second = sim
        .zcrm(&["students", "list", "--page", "2", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(second["students"].as_array().unwrap().len(), 6);
    assert_eq!(second["more"], false);
    let all = sim
        .zcrm(&["students", "list", "--all", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(all["students"].as_array().unwrap().len(), 26);

    let added = sim
        .zcrm(&[
            "students",
            "add",
            "--json",
            "--first-name",
            "Asha",
            "--last-name",
            "Rao",
            "--college",
            "Zylker College",
            "--course",
            "Data Science",
            "--email",
            "asha.rao@cli.example",
            "--phone",
            "+91 98765 43210",
        ])
        .await
        .ok()
        .json();
    let id = added["id"].as_str().unwrap().to_owned();
    let keys: Vec<&str> = added
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "college",
            "course",
            "email",
            "first_name",
            "id",
            "last_name",
            "phone"
        ]
    );
    let got = sim
        .zcrm(&["students", "get", &id, "--json"])
        .await
        .ok()
        .json();
    assert_eq!(got, added);
    let human = sim.zcrm(&["students", "get", &id]).await.ok();
    assert!(human.stdout.contains("Asha Rao") && human.stdout.contains("asha.rao@cli.example"));

    let found = sim
        .zcrm(&["students", "list", "--search", "asha.rao@cli", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(found["students"][0]["id"], id.as_str());

    let updated = sim
        .zcrm(&[
            "students",
            "update",
            &id,
            "--course",
            "Web Development",
            "--phone",
            "",
            "--json",
        ])
        .await
        .ok()
        .json();
    assert_eq!(updated["course"], "Web Development");
    assert_eq!(updated["phone"], "");
    assert_eq!(updated["email"], "asha.rao@cli.example");
    let got = sim
        .zcrm(&["students", "get", &id, "--json"])
        .await
        .ok()
        .json();
    assert_eq!(got, updated);

    // The portal's rules and the picklist, before anything is sent.
    let before = sim.stats().await["requests_total"].as_u64().unwrap();
    let bad = sim
        .zcrm(&[
            "students",
            "add",
            "--last-name",
            "Rao",
            "--college",
            "Z",
            "--course",
            "Basket Weaving",
            "--email",
            "nope",
        ])
        .await;
    assert_eq!(bad.status, 2, "{bad:?}");
    assert!(
        bad.stderr
            .contains("--course: Choose one of the courses offered."),
        "{bad:?}"
    );
    assert!(bad.stderr.contains("--email:"));
    assert!(
        bad.stderr.contains("Rust Fundamentals"),
        "the choices are listed"
    );
    let bad_update = sim
        .zcrm(&["students", "update", &id, "--last-name", ""])
        .await;
    assert_eq!(bad_update.status, 2);
    assert!(bad_update.stderr.contains("Last name is required"));
    let nothing = sim.zcrm(&["students", "update", &id]).await;
    assert_eq!(nothing.status, 2);
    let after = sim.stats().await["requests_total"].as_u64().unwrap();
    let creates = sim.stats().await["by_route"]["POST /{dc}/{env}/crm/v8/Leads"]
        .as_u64()
        .unwrap();
    assert_eq!(creates, 1, "only the good add was sent");
    assert!(after > before);

    // A duplicate email is Zoho's refusal: status 1.
    let dup = sim
        .zcrm(&[
            "students",
            "add",
            "--last-name",
            "Other",
            "--college",
            "Z",
            "--course",
            "Data Science",
            "--email",
            "ASHA.RAO@cli.example",
        ])
        .await;
    assert_eq!(dup.status, 1, "{dup:?}");
    assert!(dup.stderr.contains("already has this email"));

    let deleted = sim
        .zcrm(&["students", "delete", &id, "--json"])
        .await
        .ok()
        .json();
    assert_eq!(deleted["deleted"], true);
    let gone = sim.zcrm(&["students", "get", &id]).await;
    assert_eq!(gone.status, 1);
    assert!(gone.stderr.contains("No student has the id"), "{gone:?}");
    let again = sim.zcrm(&["students", "delete", &id]).await;
    assert_eq!(again.status, 1, "{again:?}");
}
