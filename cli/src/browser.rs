//! `zcrm login --browser`: the authorization code flow for a native app (RFC 8252): the
//! authorization URL (with `state` and a PKCE S256 challenge, RFC 7636) is printed for the user
//! to open, and Zoho's redirect is received on a loopback port. Zoho matches redirect URIs
//! exactly, so the URI (`--redirect-uri`, default [`DEFAULT_REDIRECT_URI`]) must be registered
//! for the client in Zoho's API console
//! (<https://www.zoho.com/accounts/protocol/oauth/web-apps/authorization.html>).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use zcrm_edge::config::is_loopback_url;
use zcrm_edge::session::random_token;
use zoho::oauth::{AccessType, AuthorizeRequest, Callback, parse_callback};
use zoho::pkce::{ChallengeMethod, s256_challenge};
use zoho::secret::{CodeVerifier, constant_time_eq};
use zoho::{DataCenter, Environment};

use crate::error::{Error, Result};
use crate::session::Ctx;
use crate::store::Entry;

pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:53682/callback";
/// What a sign-in asks for: records, field metadata, who the user and org are (as the portal).
pub const SCOPES: &str =
    "ZohoCRM.modules.ALL,ZohoCRM.settings.fields.READ,ZohoCRM.users.READ,ZohoCRM.org.READ";
const MAX_REQUEST: usize = 8 * 1024;

pub async fn login(
    ctx: &Ctx,
    dc: Option<DataCenter>,
    env: Option<Environment>,
    redirect_uri: String,
    scopes: String,
    timeout: Duration,
) -> Result<Entry> {
    let (client_id, _) = ctx.credentials()?;
    if !is_loopback_url(&redirect_uri) {
        return Err(Error::usage(
            "--redirect-uri must be http://127.0.0.1:PORT/PATH (or localhost, [::1]): the redirect is received on this machine.",
        ));
    }
    let rest = &redirect_uri["http://".len()..];
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if !authority.contains(':') || authority.ends_with(']') {
        return Err(Error::usage(
            "--redirect-uri must name its port (the one registered at Zoho).",
        ));
    }
    // `localhost` may resolve elsewhere; the loopback address is what it stands for.
    let bind = authority.replace("localhost", "127.0.0.1");
    let listener = TcpListener::bind(&bind)
        .await
        .map_err(|e| Error::failure(format!("Cannot listen on {bind} for the redirect: {e}")))?;

    let state = random_token();
    let verifier = CodeVerifier::new(random_token());
    let server = match dc {
        Some(dc) => ctx.endpoints.accounts_server(dc),
        None => ctx.endpoints.authorization_server(),
    };
    let url = AuthorizeRequest {
        client_id,
        redirect_uri: redirect_uri.clone(),
        scopes: scopes
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        access_type: AccessType::Offline,
        // Offline access brings a refresh token on first consent only, unless consent is asked again.
        prompt_consent: true,
        state: Some(state.clone()),
        code_challenge: Some((s256_challenge(&verifier), ChallengeMethod::S256)),
    }
    .url(&server);
    eprintln!(
        "Open this URL in a browser to sign in with Zoho:\n\n  {url}\n\nWaiting for Zoho's redirect to {redirect_uri} ..."
    );

    let callback = tokio::time::timeout(timeout, receive(&listener, path, &state))
        .await
        .map_err(|_| {
            Error::failure(format!(
                "No sign-in arrived within {} s.",
                timeout.as_secs()
            ))
        })??;
    // `receive` has checked the state.
    let (code, location, accounts_server) = match callback {
        Callback::Approved {
            code,
            location,
            accounts_server,
            ..
        } => (code, location, accounts_server),
        Callback::Denied { error, .. } if error == "access_denied" => {
            return Err(Error::failure("The sign-in was declined at Zoho."));
        }
        Callback::Denied { error, .. } => {
            return Err(Error::failure(format!(
                "Zoho refused the sign-in: {}.",
                crate::error::printable(&error, 60)
            )));
        }
        Callback::Malformed => {
            return Err(Error::failure(
                "Zoho's redirect carried neither a code nor an error.",
            ));
        }
    };
    // location and accounts-server must agree with the table, as the Worker checks them.
    let found = location
        .as_deref()
        .and_then(DataCenter::from_location)
        .filter(|&d| {
            accounts_server
                .as_deref()
                .and_then(|s| ctx.endpoints.data_center_of_accounts_server(s))
                == Some(d)
        })
        .ok_or_else(|| Error::failure("The redirect does not name a known Zoho data centre."))?;
    if dc.is_some_and(|d| d != found) {
        return Err(Error::failure(format!(
            "You signed in at data centre {found}, not the one asked for."
        )));
    }
    crate::login::exchange(
        ctx,
        code,
        crate::login::Grant::Browser {
            redirect_uri,
            verifier,
        },
        found,
        env,
    )
    .await
}

/// Whether a redirect carries this sign-in's `state`.
fn state_matches(callback: &Callback, state: &str) -> bool {
    let got = match callback {
        Callback::Approved { state, .. } | Callback::Denied { state, .. } => state.as_deref(),
        Callback::Malformed => None,
    };
    got.is_some_and(|s| constant_time_eq(s.as_bytes(), state.as_bytes()))
}

/// Answers requests on the listener until one for `path` arrives; answers it with a page. A
/// redirect without this sign-in's `state` ends the sign-in, nothing exchanged.
async fn receive(listener: &TcpListener, path: &str, state: &str) -> Result<Callback> {
    loop {
        let (mut socket, _) = listener
            .accept()
            .await
            .map_err(|e| Error::failure(format!("The redirect listener failed: {e}")))?;
        let mut buf = Vec::with_capacity(1024);
        let mut chunk = [0u8; 1024];
        let head = loop {
            match tokio::time::timeout(Duration::from_secs(10), socket.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => {
                    buf.extend_from_slice(&chunk[..n]);
                    if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.len() > MAX_REQUEST {
                        break Some(String::from_utf8_lossy(&buf).into_owned());
                    }
                }
                _ => break None,
            }
        };
        let Some(head) = head else { continue };
        let target = head
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("GET "))
            .and_then(|l| l.split(' ').next())
            .unwrap_or("");
        let (req_path, query) = target.split_once('?').unwrap_or((target, ""));
        if req_path != path {
            let _ = socket
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
            continue;
        }
        let callback = parse_callback(query);
        let ours = state_matches(&callback, state);
        let text = match &callback {
            Callback::Approved { .. } if ours => {
                "Signed in. You can close this window and return to the terminal."
            }
            _ => "The sign-in did not complete. Return to the terminal.",
        };
        let page = format!("<!doctype html><meta charset=utf-8><title>zcrm</title><p>{text}</p>");
        let _ = socket
            .write_all(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncache-control: no-store\r\nreferrer-policy: no-referrer\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                    page.len()
                )
                .as_bytes(),
            )
            .await;
        let _ = socket.shutdown().await;
        if !ours {
            return Err(Error::failure(
                "The redirect does not belong to this sign-in (state mismatch); nothing was exchanged.",
            ));
        }
        return Ok(callback);
    }
}
