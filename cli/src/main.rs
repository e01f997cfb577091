//! `zcrm`: Zoho CRM from the command line, on the sans-IO `zoho` crate with a native transport.
//! See `zcrm --help` and the README's "Command-line client" section.

mod args;
mod browser;
mod error;
mod export;
mod help;
mod http;
mod import;
mod login;
mod output;
mod session;
mod store;
mod students;

use std::io::BufRead;
use std::process::ExitCode;
use std::time::Duration;

use zcrm_edge::config::is_loopback_url;
use zoho::secret::{AuthorizationCode, ClientSecret};
use zoho::{DataCenter, Endpoints, Environment};

use args::{Args, number};
use error::{Error, Result};
use session::{Ctx, Session};
use store::Store;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(error::FAILURE);
        }
    };
    match runtime.block_on(run(std::env::args().skip(1))) {
        Ok(status) => ExitCode::from(status),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.status)
        }
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn data_center(value: Option<String>) -> Result<Option<DataCenter>> {
    value
        .map(|v| {
            DataCenter::from_location(v.trim()).ok_or_else(|| {
                Error::usage(format!(
                    "--dc must be one of us, eu, in, au, cn, jp, ca, sa, uk (not `{}`).",
                    error::printable(&v, 20)
                ))
            })
        })
        .transpose()
}

fn environment(value: Option<String>) -> Result<Option<Environment>> {
    value
        .map(|v| {
            v.trim().parse().map_err(|_| {
                Error::usage("--environment must be production, sandbox or developer.")
            })
        })
        .transpose()
}

async fn run(raw: impl Iterator<Item = String>) -> Result<u8> {
    let mut args = Args::parse(raw)?;
    if args.switch("--version") {
        println!("zcrm {}", env!("CARGO_PKG_VERSION"));
        return Ok(0);
    }
    if args.switch("--help") || args.positionals.first().is_some_and(|c| c == "help") {
        let path: Vec<String> = args
            .positionals
            .iter()
            .filter(|p| *p != "help")
            .cloned()
            .collect();
        print!("{}", help::of(&path));
        return Ok(0);
    }
    let endpoints = match env_var("ZOHO_SIM_BASE") {
        None => Endpoints::Zoho,
        Some(base) if is_loopback_url(&base) => Endpoints::simulator(&base),
        Some(_) => {
            return Err(Error::usage(
                "ZOHO_SIM_BASE must be a loopback URL such as http://127.0.0.1:8790 (the simulator is for local work only).",
            ));
        }
    };
    let https_only = endpoints == Endpoints::Zoho;
    let ctx = Ctx {
        http: http::Http::new(https_only)?,
        endpoints,
        store: Store::locate(args.value("--store"))?,
        client_id: args
            .value("--client-id")
            .or_else(|| env_var("ZOHO_CLIENT_ID")),
        client_secret: args
            .value("--client-secret")
            .or_else(|| env_var("ZOHO_CLIENT_SECRET"))
            .map(ClientSecret::new),
        user: args.value("--user"),
        json: args.switch("--json"),
    };
    let command = args.positional();
    match command.as_deref() {
        None => {
            print!("{}", help::MAIN);
            Ok(error::USAGE)
        }
        Some("login") => login(&ctx, args).await,
        Some("users") => {
            args.finish("users")?;
            login::users(&ctx)?;
            Ok(0)
        }
        Some("logout") => {
            let dc = data_center(args.value("--dc"))?;
            let env = environment(args.value("--environment"))?;
            args.finish("logout")?;
            login::logout(&ctx, dc, env).await?;
            Ok(0)
        }
        Some("students") => students(&ctx, args).await,
        Some(other) => Err(Error::usage(format!(
            "Unknown command `{}`. See zcrm --help.",
            error::printable(other, 40)
        ))),
    }
}

async fn login(ctx: &Ctx, mut args: Args) -> Result<u8> {
    let grant = args.value("--grant");
    let browser = args.switch("--browser");
    let dc = data_center(args.value("--dc"))?;
    let env = environment(args.value("--environment"))?;
    let entry = match (grant, browser) {
        (Some(code), false) => {
            args.finish("login")?;
            let dc = dc.ok_or_else(|| {
                Error::usage("--dc is needed with --grant: the data centre whose API console made the code (us, eu, in, au, cn, jp, ca, sa, uk).")
            })?;
            let code = if code == "-" {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line).map_err(|e| {
                    Error::usage(format!("Cannot read the grant code from stdin: {e}"))
                })?;
                line.trim().to_owned()
            } else {
                code.trim().to_owned()
            };
            if code.is_empty() || code.len() > 1024 || !code.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Error::usage(
                    "The grant code is malformed (expected something like 1000.abc…).",
                ));
            }
            login::exchange(
                ctx,
                AuthorizationCode::new(code),
                login::Grant::SelfClient,
                dc,
                env,
            )
            .await?
        }
        (None, true) => {
            let redirect_uri = args
                .value("--redirect-uri")
                .unwrap_or_else(|| browser::DEFAULT_REDIRECT_URI.to_owned());
            let scopes = args
                .value("--scope")
                .unwrap_or_else(|| browser::SCOPES.to_owned());
            let timeout = args
                .value("--timeout")
                .map(|t| number("--timeout", &t, 1, 3600))
                .transpose()?
                .unwrap_or(300);
            args.finish("login")?;
            browser::login(
                ctx,
                dc,
                env,
                redirect_uri,
                scopes,
                Duration::from_secs(timeout.into()),
            )
            .await?
        }
        (Some(_), true) => return Err(Error::usage("Give --grant CODE or --browser, not both.")),
        (None, false) => {
            return Err(Error::usage(
                "zcrm login needs --grant CODE --dc DC (a Self Client code) or --browser. See zcrm login --help.",
            ));
        }
    };
    login::print_signed_in(ctx, &entry);
    Ok(0)
}

async fn students(ctx: &Ctx, mut args: Args) -> Result<u8> {
    let Some(command) = args.positional() else {
        print!("{}", help::STUDENTS);
        return Ok(error::USAGE);
    };
    if !matches!(
        command.as_str(),
        "list" | "get" | "add" | "update" | "delete" | "import" | "export"
    ) {
        return Err(Error::usage(format!(
            "Unknown command `students {}`. See zcrm students --help.",
            error::printable(&command, 40)
        )));
    }
    let dc = data_center(args.value("--dc"))?;
    let env = environment(args.value("--environment"))?;
    let mut session = Session::open(ctx, dc, env).await?;
    let json = ctx.json;
    match command.as_str() {
        "list" => students::list(&mut session, args, json).await.map(|()| 0),
        "get" => students::get(&mut session, args, json).await.map(|()| 0),
        "add" => students::add(&mut session, args, json).await.map(|()| 0),
        "update" => students::update(&mut session, args, json).await.map(|()| 0),
        "delete" => students::delete(&mut session, args, json).await.map(|()| 0),
        "import" => import::import(&mut session, args, json).await,
        _ => export::export(&mut session, args, json).await.map(|()| 0),
    }
}
