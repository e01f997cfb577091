//! Logging in (US and EU, self-client and browser), users, logout, exit statuses.

use crate::common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn us_and_eu_users_log_in_and_are_listed() {
    let sim = start().await;
    let us = sim.login(ADMIN_US, "us").await.ok();
    assert!(
        us.stdout
            .contains("Logged in as Amelia Zylker <admin@zylker-academy.example>"),
        "{us:?}"
    );
    assert!(us.stdout.contains("data centre us, production"));
    let code = sim.grant(ADMIN_EU, "production").await;
    let eu = sim
        .zcrm(&["--json", "login", "--grant", &code, "--dc", "eu"])
        .await
        .ok();
    let v = eu.json();
    assert_eq!(v["email"], ADMIN_EU);
    assert_eq!(v["data_center"], "eu");
    assert_eq!(v["org"], "EuroTech Institute");

    let users = sim.zcrm(&["users", "--json"]).await.ok().json();
    let list = users["users"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    for u in list {
        let keys: Vec<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["data_center", "email", "environment", "expires_at", "org"]
        );
        assert!(u["expires_at"].as_str().unwrap().ends_with('Z'));
    }
    let human = sim.zcrm(&["users"]).await.ok();
    assert!(
        human.stdout.contains("EuroTech Institute") && human.stdout.contains("min left"),
        "{human:?}"
    );

    // Two users stored: a student command must be told which.
    let ambiguous = sim.zcrm(&["students", "list"]).await;
    assert_eq!(ambiguous.status, 2, "{ambiguous:?}");
    assert!(ambiguous.stderr.contains("--user"));
    let eu_list = sim
        .zcrm(&["--user", ADMIN_EU, "students", "list", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(eu_list["students"].as_array().unwrap().len(), 20);

    // Each data centre's calls went to its own servers.
    let stats = sim.stats().await;
    assert_eq!(stats["by_server"]["eu/accounts"], 1, "{stats}");
    assert!(stats["by_server"]["eu/production"].as_u64().unwrap() >= 3);
    assert_eq!(stats["token"]["code_grants"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_login_replaces_the_entry_and_revokes_the_old_grant() {
    let sim = start().await;
    sim.login(ADMIN_B, "us").await.ok();
    sim.login(ADMIN_B, "us").await.ok();
    let users = sim.zcrm(&["users", "--json"]).await.ok().json();
    assert_eq!(users["users"].as_array().unwrap().len(), 1);
    let stats = sim.stats().await;
    assert_eq!(stats["token"]["revokes"], 1, "{stats}");
    assert_eq!(stats["users"][ADMIN_B]["refresh_tokens"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_at_zoho_and_forgets() {
    let sim = start().await;
    sim.login(ADMIN_B, "us").await.ok();
    let out = sim.zcrm(&["logout", "--user", ADMIN_B]).await.ok();
    assert!(out.stdout.contains("revoked at Zoho"), "{out:?}");
    let stats = sim.stats().await;
    assert_eq!(stats["token"]["revokes"], 1);
    assert_eq!(stats["users"][ADMIN_B]["refresh_tokens"], 0);
    assert_eq!(stats["users"][ADMIN_B]["live_access_tokens"], 0);
    let users = sim.zcrm(&["--json", "users"]).await.ok().json();
    assert_eq!(users, json!({"users": []}));
    let after = sim.zcrm(&["students", "list"]).await;
    assert_eq!(after.status, 2);
    assert!(after.stderr.contains("Nobody is logged in"), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_bad_usage_have_their_exit_statuses() {
    let sim = start().await;
    // A code from the EU exchanged at the US accounts server: Zoho refuses it.
    let code = sim.grant(ADMIN_EU, "production").await;
    let wrong_dc = sim.zcrm(&["login", "--grant", &code, "--dc", "us"]).await;
    assert_eq!(wrong_dc.status, 1, "{wrong_dc:?}");
    assert!(wrong_dc.stderr.contains("--dc"));
    // A used code.
    let code = sim.grant(ADMIN_EU, "production").await;
    sim.zcrm(&["login", "--grant", &code, "--dc", "eu"])
        .await
        .ok();
    let reused = sim.zcrm(&["login", "--grant", &code, "--dc", "eu"]).await;
    assert_eq!(reused.status, 1);
    assert!(reused.stderr.contains("expired"), "{reused:?}");
    // A developer-environment code said to be production is refused; without --environment the
    // answer's API domain tells.
    let code = sim.grant(ADMIN_EU, "developer").await;
    let env = sim
        .zcrm(&[
            "login",
            "--grant",
            &code,
            "--dc",
            "eu",
            "--environment",
            "production",
        ])
        .await;
    assert_eq!(env.status, 2, "{env:?}");
    assert!(env.stderr.contains("--environment developer"), "{env:?}");
    let code = sim.grant(ADMIN_EU, "developer").await;
    let dev = sim
        .zcrm(&["login", "--grant", &code, "--dc", "eu"])
        .await
        .ok();
    assert!(dev.stdout.contains("data centre eu, developer"), "{dev:?}");
    assert_eq!(
        sim.stats().await["users"][ADMIN_EU]["refresh_tokens"],
        2,
        "the refused one was revoked"
    );

    for (args, needle) in [
        (&["login", "--grant", "1000.x"][..], "--dc"),
        (
            &["login", "--grant", "1000.x", "--dc", "mars"],
            "--dc must be",
        ),
        (&["login"], "--grant"),
        (&["frobnicate"], "Unknown command"),
        (&["students", "list", "--colour"], "Unknown option"),
        (&["--user", ADMIN_EU, "students", "list"], "2 entries match"),
        (
            &[
                "--user",
                ADMIN_EU,
                "--environment",
                "developer",
                "students",
                "get",
                "12ab",
            ],
            "not a Zoho record id",
        ),
        (
            &[
                "--user",
                ADMIN_EU,
                "--environment",
                "production",
                "students",
                "list",
                "--page",
                "0",
            ],
            "--page",
        ),
        (
            &[
                "--user",
                ADMIN_EU,
                "--environment",
                "production",
                "students",
                "import",
            ],
            "CSV file",
        ),
    ] {
        let run = sim.zcrm(args).await;
        assert_eq!(run.status, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains(needle), "{args:?}: {run:?}");
    }
    let foreign = sim
        .zcrm_with(&["users"], &[("ZOHO_SIM_BASE", "http://sim.example:8790")])
        .await;
    assert_eq!(foreign.status, 2);
    assert!(foreign.stderr.contains("loopback"), "{foreign:?}");
    let help = sim.zcrm(&["--help"]).await.ok();
    assert!(
        help.stdout
            .contains("Exit status: 0 success, 1 the request failed, 2 bad usage")
    );
    let import_help = sim.zcrm(&["students", "import", "--help"]).await.ok();
    assert!(
        import_help
            .stdout
            .contains("\"created\":N,\"duplicate\":N,\"invalid\":N")
    );
}

/// `zcrm login --browser` running against a simulator that has its redirect URI registered.
struct BrowserLogin {
    sim: Sim,
    redirect: String,
    child: tokio::process::Child,
    stderr: tokio::io::BufReader<tokio::process::ChildStderr>,
    /// The authorization URL it printed.
    url: String,
    seen: String,
}

impl BrowserLogin {
    async fn start() -> BrowserLogin {
        use tokio::io::AsyncBufReadExt;
        // A port for the redirect URI, registered with the simulator as Zoho requires.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let redirect = format!("http://127.0.0.1:{port}/callback");
        let sim = start_with(zoho_sim::Config {
            redirect_uris: vec![redirect.clone()],
            ..Default::default()
        })
        .await;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_zcrm"))
            .args([
                "login",
                "--browser",
                "--redirect-uri",
                &redirect,
                "--timeout",
                "30",
            ])
            .env_clear()
            .env("ZOHO_SIM_BASE", &sim.base)
            .env("ZOHO_CLIENT_ID", CLIENT_ID)
            .env("ZOHO_CLIENT_SECRET", SECRET)
            .env("ZCRM_STORE", sim.store())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = tokio::io::BufReader::new(child.stderr.take().unwrap());
        let mut url = String::new();
        let mut seen = String::new();
        while url.is_empty() {
            let mut line = String::new();
            assert!(
                stderr.read_line(&mut line).await.unwrap() > 0,
                "no URL printed: {seen}"
            );
            seen.push_str(&line);
            if let Some(u) = line.trim().strip_prefix("http") {
                url = format!("http{u}");
            }
        }
        BrowserLogin {
            sim,
            redirect,
            child,
            stderr,
            url,
            seen,
        }
    }

    /// What the browser shows for `url`.
    async fn page(&self, url: &str) -> String {
        self.sim
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Waits for zcrm to end.
    async fn finish(mut self) -> (Sim, Run) {
        use tokio::io::AsyncReadExt;
        let status = self.child.wait().await.unwrap();
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .await
            .unwrap();
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).await.unwrap();
        let run = Run {
            status: status.code().unwrap_or(-1),
            stdout: out,
            stderr: format!("{}{rest}", self.seen),
        };
        self.sim.assert_no_secret(&run);
        (self.sim, run)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_login_through_the_loopback_redirect() {
    let login = BrowserLogin::start().await;
    let url = login.url.clone();
    assert!(
        url.contains("code_challenge_method=S256") && url.contains("state="),
        "{url}"
    );
    // The user approves at Zoho (headless), and the browser follows the redirect.
    let approved = login
        .sim
        .http
        .get(format!("{url}&sim_user={ADMIN_US}"))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), 302);
    let location = approved.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&login.redirect), "{location}");
    assert_eq!(
        login.page(&format!("{}/elsewhere", login.redirect)).await,
        "",
        "404 elsewhere"
    );
    assert!(login.page(&location).await.contains("Signed in"));
    let (sim, run) = login.finish().await;
    let run = run.ok();
    assert!(run.stdout.contains("Logged in as Amelia Zylker"), "{run:?}");
    sim.zcrm(&["students", "list"]).await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_with_another_state_is_refused_and_nothing_exchanged() {
    let login = BrowserLogin::start().await;
    // A code for the same user, but not from this sign-in (its state is not the one zcrm made).
    let forged = login.url.replace("state=", "state=forged");
    let answer = login
        .sim
        .http
        .get(format!("{forged}&sim_user={ADMIN_US}"))
        .send()
        .await
        .unwrap();
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("state=forged"), "{location}");
    assert!(login.page(&location).await.contains("did not complete"));
    let (sim, run) = login.finish().await;
    assert_eq!(run.status, 1, "{run:?}");
    assert!(run.stderr.contains("state mismatch"), "{run:?}");
    assert_eq!(
        sim.stats().await["token"]["code_grants"],
        0,
        "no code was exchanged"
    );
    assert_eq!(
        sim.zcrm(&["users", "--json"]).await.ok().json()["users"],
        json!([])
    );
}
