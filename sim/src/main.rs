//! `zoho-sim`: see `sim/README.md`.

use std::net::SocketAddr;
use std::process::ExitCode;
use zoho_sim::{Config, DEFAULT_ADDR};

const HELP: &str = "zoho-sim: a Zoho accounts server and CRM v8 simulator

USAGE: zoho-sim [OPTIONS]

  --addr ADDR               listen address (default 127.0.0.1:8790)
  --client-id ID            OAuth client id (default 1000.ZCRMEDGEDEV)
  --client-secret SECRET    OAuth client secret (default zcrm-edge-dev-secret)
  --redirect-uri URI        registered redirect URI; repeatable; the first one given replaces the
                            defaults (http://127.0.0.1:8080/redirect.html, http://localhost:8080/redirect.html)
  --seed-leads N            leads of the big org admin@bulk-university.example (default 2500)
  --legacy-expires          token answers carry expires_in_sec (s) and expires_in in milliseconds
  --code-lifetime SECS      grant code lifetime (default 120)
  --token-lifetime SECS     access token lifetime (default 3600)
  --org-concurrency N       concurrent CRM calls per org before 429 (default 25)
  --grant-code-limit N      code exchanges per client (all users) per 10 min; 0 = off (default 10)
  --refresh-limit N         refreshes per refresh token per 10 min (default 10)
  --throttle-status CODE    HTTP status of the token endpoint's throttling answer (default 400)
  --public-base URL         base URL to put in api_domain and accounts-server (default: from Host)
  --quiet                   no request log
  -h, --help                this text
";

fn parse(args: Vec<String>) -> Result<(SocketAddr, Config), String> {
    let mut cfg = Config {
        log: true,
        ..Config::default()
    };
    let mut addr = DEFAULT_ADDR.to_owned();
    let mut custom_redirects = false;
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (flag, None),
        };
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let num = |v: String| -> Result<u64, String> {
            v.parse::<u64>().map_err(|_| format!("not a number: {v}"))
        };
        match flag.as_str() {
            "--addr" => addr = value()?,
            "--client-id" => cfg.client_id = value()?,
            "--client-secret" => cfg.client_secret = value()?,
            "--redirect-uri" => {
                if !custom_redirects {
                    cfg.redirect_uris.clear();
                    custom_redirects = true;
                }
                cfg.redirect_uris.push(value()?);
            }
            "--seed-leads" => cfg.seed_leads = num(value()?)? as usize,
            "--legacy-expires" => cfg.legacy_expires = true,
            "--code-lifetime" => cfg.limits.code_lifetime_secs = num(value()?)? as i64,
            "--token-lifetime" => cfg.limits.access_token_lifetime_secs = num(value()?)? as i64,
            "--org-concurrency" => cfg.limits.org_concurrency = num(value()?)? as usize,
            "--grant-code-limit" => cfg.limits.code_exchanges_per_window = num(value()?)? as usize,
            "--refresh-limit" => cfg.limits.refreshes_per_window = num(value()?)? as usize,
            "--throttle-status" => cfg.throttle_status = num(value()?)? as u16,
            "--public-base" => cfg.public_base = Some(value()?),
            "--quiet" => cfg.log = false,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    let addr = addr
        .parse()
        .map_err(|_| format!("--addr: not a socket address: {addr}"))?;
    Ok((addr, cfg))
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn main() -> ExitCode {
    let (addr, cfg) = match parse(std::env::args().skip(1).collect()) {
        Ok(x) => x,
        Err(e) if e.is_empty() => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("zoho-sim: {e}\n\n{HELP}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("zoho-sim: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let socket = match if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        } {
            Ok(s) => s,
            Err(e) => {
                eprintln!("zoho-sim: socket: {e}");
                return ExitCode::FAILURE;
            }
        };
        let _ = socket.set_reuseaddr(true);
        if let Err(e) = socket.bind(addr) {
            eprintln!("zoho-sim: cannot bind {addr}: {e}");
            return ExitCode::FAILURE;
        }
        let listener = match socket.listen(4096) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("zoho-sim: listen: {e}");
                return ExitCode::FAILURE;
            }
        };
        eprintln!(
            "INFO zoho_sim: listening on http://{addr} (client_id {}, redirect URIs {})",
            cfg.client_id,
            cfg.redirect_uris.join(" ")
        );
        match zoho_sim::serve(listener, cfg, shutdown_signal()).await {
            Ok(()) => {
                eprintln!("INFO zoho_sim: shutting down");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("zoho-sim: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
