//! `zcrm login`, `zcrm users`, `zcrm logout`.
//!
//! A self-client grant code (Zoho's API console, "Self Client" → "Generate Code",
//! <https://www.zoho.com/crm/developer/docs/api/v8/auth-request.html#self-client>) or the
//! code of a browser sign-in is exchanged at the accounts server the data-centre table names
//! for `--dc` (never one taken from input), the API domain of the answer is checked against
//! the table, the user and org are read, and the tokens go into the store under
//! `user:<dc>:<env>:<org id>:<user id>`: a second login of that user replaces the entry, and
//! the refresh token it held is revoked (Zoho keeps only 20 per user and client).

use serde_json::json;
use zcrm_edge::records::user_key;
use zoho::crm::{ApiResponse, OrgResponse, UsersResponse, classify_response};
use zoho::oauth::{TokenRequest, TokenSuccess};
use zoho::secret::{AuthorizationCode, ClientSecret, CodeVerifier, RefreshToken, constant_time_eq};
use zoho::{DataCenter, Environment};

use crate::error::{Error, Result, printable};
use crate::http::Method;
use crate::output;
use crate::session::{Ctx, crm_error, now_secs, token_error};
use crate::store::Entry;

/// How a code came: from the API console's Self Client, or from a browser sign-in.
pub enum Grant {
    /// Self Client codes are exchanged without a redirect URI.
    SelfClient,
    /// A browser sign-in's code, with its redirect URI and PKCE verifier.
    Browser {
        redirect_uri: String,
        verifier: CodeVerifier,
    },
}

/// Exchanges a code at `dc`'s accounts server and stores the tokens.
pub async fn exchange(
    ctx: &Ctx,
    code: AuthorizationCode,
    grant: Grant,
    dc: DataCenter,
    env: Option<Environment>,
) -> Result<Entry> {
    let (client_id, client_secret) = ctx.credentials()?;
    let (redirect_uri, code_verifier) = match grant {
        Grant::SelfClient => (None, None),
        Grant::Browser {
            redirect_uri,
            verifier,
        } => (Some(redirect_uri), Some(verifier)),
    };
    let request = TokenRequest::AuthorizationCode {
        client_id: client_id.clone(),
        client_secret: client_secret.clone(),
        redirect_uri,
        code,
        code_verifier,
    };
    let tokens = ctx
        .token_call(dc, &request)
        .await?
        .map_err(|e| token_error(&e, "code exchange", ""))?;
    finish(ctx, dc, env, tokens, client_id, client_secret).await
}

async fn finish(
    ctx: &Ctx,
    dc: DataCenter,
    wanted: Option<Environment>,
    tokens: TokenSuccess,
    client_id: String,
    client_secret: ClientSecret,
) -> Result<Entry> {
    let env = match ctx.endpoints.locate_api_domain(&tokens.api_domain) {
        Some((found_dc, found_env)) if found_dc == dc => match wanted {
            Some(env) if env != found_env => {
                // The token works only there; revoke what it gave rather than strand it.
                if let Some(r) = &tokens.refresh_token {
                    let _ = ctx.revoke(dc, r).await;
                }
                return Err(Error::usage(format!(
                    "The grant is for Zoho's {found_env} environment, not {env}. Make a new code in {env}, or log in to {found_env} with a new code and --environment {found_env}."
                )));
            }
            _ => found_env,
        },
        _ => {
            return Err(Error::failure(
                "Zoho answered with an API domain outside its data-centre table; nothing was sent there.",
            ));
        }
    };
    let Some(refresh_token) = tokens.refresh_token.clone() else {
        return Err(Error::failure(
            "Zoho gave no refresh token (the grant was made for online access). Make a new code and log in again.",
        ));
    };
    let result = store_login(
        ctx,
        dc,
        env,
        &tokens,
        &refresh_token,
        client_id,
        client_secret,
    )
    .await;
    if result.is_err() {
        // Nothing will use these tokens: don't leave a live grant behind at Zoho.
        let _ = ctx.revoke(dc, &refresh_token).await;
    }
    result
}

/// Reads who the tokens belong to and stores them, replacing that user's entry.
async fn store_login(
    ctx: &Ctx,
    dc: DataCenter,
    env: Environment,
    tokens: &TokenSuccess,
    refresh_token: &RefreshToken,
    client_id: String,
    client_secret: ClientSecret,
) -> Result<Entry> {
    let base = ctx.endpoints.api_domain(dc, env);
    let get = |path: &'static str| {
        let url = format!("{base}{}{path}", zoho::crm::API_PREFIX);
        let token = &tokens.access_token;
        async move {
            let a = ctx.http.send(Method::Get, &url, Some(token), None).await?;
            match classify_response(a.status, &a.body) {
                ApiResponse::Json(200, v) => Ok(v),
                other => Err(crm_error("reading who you are", other)),
            }
        }
    };
    let users: UsersResponse = serde_json::from_value(get("/users?type=CurrentUser").await?)
        .map_err(|_| Error::failure("Zoho's answer about the current user is malformed."))?;
    let org: OrgResponse = serde_json::from_value(get("/org").await?)
        .map_err(|_| Error::failure("Zoho's answer about the organisation is malformed."))?;
    let (Some(user), Some(org)) = (users.users.into_iter().next(), org.org.into_iter().next())
    else {
        return Err(Error::failure(
            "Zoho did not name the current user and organisation.",
        ));
    };
    let key = user_key(dc, env, &org.id, &user.id)
        .ok_or_else(|| Error::failure("Zoho answered with malformed user or org ids."))?;

    let keys = ctx.store.keys(true)?;
    let now = now_secs();
    let mut entry = Entry {
        key: key.clone(),
        email: user.email,
        name: user.full_name,
        user_id: user.id,
        org_id: org.id,
        org_name: org.company_name,
        data_center: dc.location().to_owned(),
        environment: env.as_str().to_owned(),
        client_id,
        client_secret: String::new(),
        refresh_token: String::new(),
        access_token: String::new(),
        expires_at: now + tokens.expires_in_secs,
        lifetime_secs: tokens.expires_in_secs,
        scope: tokens.scope.clone().unwrap_or_default(),
        updated_at: now,
    };
    entry.seal(&keys, refresh_token, &tokens.access_token, &client_secret);
    let previous = {
        let lock = ctx.store.lock()?;
        let mut entries = ctx.store.read()?;
        let previous = entries
            .iter()
            .position(|e| e.key == key)
            .map(|at| entries.remove(at));
        entries.push(entry.clone());
        ctx.store.write(&lock, &entries)?;
        previous
    };
    if let Some(old) = previous
        && let Ok(old) = old.refresh_token(&keys)
        && !constant_time_eq(old.secret().as_bytes(), refresh_token.secret().as_bytes())
        && ctx.revoke(dc, &old).await.is_err()
    {
        eprintln!("warning: the previous refresh token of this user could not be revoked at Zoho.");
    }
    Ok(entry)
}

/// What `login` prints.
pub fn print_signed_in(ctx: &Ctx, entry: &Entry) {
    if ctx.json {
        output::json(&json!({
            "email": entry.email,
            "name": entry.name,
            "org": entry.org_name,
            "org_id": entry.org_id,
            "data_center": entry.data_center,
            "environment": entry.environment,
            "expires_at": output::rfc3339(entry.expires_at),
        }));
    } else {
        println!(
            "Logged in as {} <{}>, {} (org {}), data centre {}, {}.",
            printable(&entry.name, 100),
            printable(&entry.email, 100),
            printable(&entry.org_name, 100),
            printable(&entry.org_id, 30),
            entry.data_center,
            entry.environment
        );
        println!("Tokens stored in {}.", ctx.store.path().display());
    }
}

/// `zcrm users`.
pub fn users(ctx: &Ctx) -> Result<()> {
    let entries = ctx.store.read()?;
    if ctx.json {
        let users: Vec<_> = entries
            .iter()
            .map(|e| {
                json!({"email": e.email, "org": e.org_name, "data_center": e.data_center,
                       "environment": e.environment, "expires_at": output::rfc3339(e.expires_at)})
            })
            .collect();
        output::json(&json!({ "users": users }));
        return Ok(());
    }
    if entries.is_empty() {
        println!("Nobody is logged in ({}).", ctx.store.path().display());
        return Ok(());
    }
    let now = now_secs();
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let left = if e.expires_at > now {
                format!(
                    "{} ({} min left)",
                    output::rfc3339(e.expires_at),
                    (e.expires_at - now) / 60
                )
            } else {
                format!(
                    "{} (expired; refreshed on next use)",
                    output::rfc3339(e.expires_at)
                )
            };
            vec![
                printable(&e.email, 60),
                printable(&e.org_name, 40),
                e.data_center.clone(),
                e.environment.clone(),
                left,
            ]
        })
        .collect();
    output::table(
        &["EMAIL", "ORG", "DC", "ENVIRONMENT", "ACCESS TOKEN EXPIRES"],
        &rows,
    );
    Ok(())
}

/// `zcrm logout`: revokes the refresh token at Zoho, then removes the entry. If Zoho cannot be
/// reached the entry stays, so that the token can still be revoked by a second try.
pub async fn logout(ctx: &Ctx, dc: Option<DataCenter>, env: Option<Environment>) -> Result<()> {
    let entry = ctx.select(&ctx.store.read()?, dc, env)?;
    let keys = ctx.store.keys(false)?;
    let refresh = entry.refresh_token(&keys)?;
    let known = ctx.revoke(entry.data_center()?, &refresh).await?;
    {
        let lock = ctx.store.lock()?;
        let mut entries = ctx.store.read()?;
        entries.retain(|e| e.key != entry.key);
        ctx.store.write(&lock, &entries)?;
    }
    if ctx.json {
        output::json(&json!({"email": entry.email, "revoked": known, "removed": true}));
    } else if known {
        println!(
            "Logged out {}: the grant is revoked at Zoho and removed from the store.",
            printable(&entry.email, 100)
        );
    } else {
        println!(
            "Logged out {}: Zoho no longer knew the grant; removed from the store.",
            printable(&entry.email, 100)
        );
    }
    Ok(())
}
