//! Signing in and out: the popup's start, the callback, the session, logout.
//!
//! Sign-in follows the backend-for-frontend pattern: `state` and the PKCE verifier live in a
//! sealed, HttpOnly login cookie; the code is exchanged here, at the accounts server the table
//! gives for the user's data centre; the tokens are sealed and handed to the grant's Durable
//! Object (`grant_object.rs`), which keeps the sessions and writes the record to KV; the browser
//! gets a random session id (and the name of its grant) in an HttpOnly cookie and nothing else.

use futures_util::future::join;
use worker::{Method, Request};
use zcrm_api::{CallbackRequest, SessionInfo, SignedOutReason, codes};
use zoho::crm::{OrgResponse, UsersResponse, authorization_header};
use zoho::oauth::{
    self, AccessType, AuthorizeRequest, TokenErrorKind, TokenRequest, TokenResponseError,
};
use zoho::pkce::{ChallengeMethod, s256_challenge};
use zoho::secret::{AccessToken, AuthorizationCode, CodeVerifier, RefreshToken};
use zoho::{DataCenter, Environment};

use crate::cookies::{self, LOGIN, LOGIN_MAX_AGE_SECS, SESSION, SESSION_MAX_AGE_SECS};
use crate::glue::body::read_body;
use crate::glue::crm::upstream_failure;
use crate::glue::ctx::Ctx;
use crate::glue::grant_object;
use crate::glue::limits;
use crate::glue::log::fields;
use crate::glue::login_object;
use crate::glue::reply::{self, Failure, Outcome};
use crate::glue::upstream::{self, Answer};
use crate::grant::{GrantCall, UserView};
use crate::session::{Login, parse_session_cookie, random_token, session_cookie, session_hash};
use crate::signin::{self, ApiDomainRefusal, CallbackRefusal};

/// The largest `/auth/callback` body accepted.
const MAX_CALLBACK_BODY: usize = 4 * 1024;

/// Zoho's window for code exchanges per client (10 in 10 minutes): how long a throttled
/// sign-in waits.
const CODE_EXCHANGE_WINDOW_SECS: u64 = 600;

/// `GET /auth/start`: a new login (sealed into its cookie) and a redirect to Zoho.
pub async fn start(req: &Request, ctx: &Ctx) -> Outcome {
    limits::sign_in(req, ctx, "start").await?;
    let login = Login::new(ctx.now_ms);
    let config = &ctx.config;
    let url = AuthorizeRequest {
        client_id: config.client_id.clone(),
        redirect_uri: config.redirect_uri.clone(),
        // Least privilege: only what the configured modules need (`Config::scopes`).
        scopes: config.scopes(),
        access_type: AccessType::Offline,
        // With offline access Zoho issues a refresh token on first consent only, unless asked
        // to consent again: ask every time, so every sign-in brings a fresh refresh token.
        prompt_consent: true,
        state: Some(login.state.clone()),
        code_challenge: Some((
            s256_challenge(&CodeVerifier::new(login.verifier.clone())),
            ChallengeMethod::S256,
        )),
    }
    .url(&config.endpoints.authorization_server());
    let sealed = config.login_keys.seal(
        "login",
        &serde_json::to_vec(&login).map_err(|_| Failure::internal())?,
    );
    let mut response = reply::redirect(&url);
    reply::add_cookie(
        &mut response,
        &cookies::set(LOGIN, &sealed, LOGIN_MAX_AGE_SECS),
    );
    ctx.log.debug("login_started", fields!());
    Ok(response)
}

/// `POST /auth/callback`: checks everything the redirect carried, exchanges the code, maps the
/// tokens to the user and org, and starts a session.
pub async fn callback(mut req: Request, ctx: &Ctx) -> Outcome {
    // The login is single use: whatever happens next, its cookie goes.
    let result = callback_inner(&mut req, ctx).await;
    let mut response = result.unwrap_or_else(|f| f.response());
    reply::add_cookie(&mut response, &cookies::clear(LOGIN));
    Ok(response)
}

async fn callback_inner(req: &mut Request, ctx: &Ctx) -> Outcome {
    limits::sign_in(req, ctx, "callback").await?;
    let config = &ctx.config;
    let body = read_body(req, MAX_CALLBACK_BODY).await?;
    let callback: CallbackRequest = serde_json::from_str(&body).map_err(|_| {
        Failure::bad_request(
            "Expected a JSON object with exactly code, state, location and accounts_server.",
        )
    })?;
    // 1-2. The code's shape, the login this browser started, its state, and the data centre
    //      (its accounts server from the table): `signin::check_callback`.
    let login = cookies::get(cookie_header(req).as_deref(), LOGIN)
        .and_then(|sealed| config.login_keys.open("login", sealed))
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| serde_json::from_str::<Login>(&text).ok());
    let (dc, login) = signin::check_callback(&callback, login, ctx.now_ms, &config.endpoints)
        .map_err(|refusal| callback_refused(ctx, refusal, &callback))?;

    // 3. The login is single use across every isolate: the first callback that gets this far
    //    consumes it, whatever comes of it; a replay is refused before any token call.
    if !login_object::consume(ctx, &login.state).await? {
        ctx.log.warn("callback_login_reused", fields!());
        return Err(Failure::new(
            400,
            codes::INVALID_STATE,
            "This sign-in was already used. Sign in again.",
        ));
    }

    // 4. The code exchange, at the table's accounts server for that data centre.
    let token_request = TokenRequest::AuthorizationCode {
        client_id: config.client_id.clone(),
        client_secret: config.client_secret.clone(),
        redirect_uri: Some(config.redirect_uri.clone()),
        code: AuthorizationCode::new(callback.code),
        code_verifier: Some(CodeVerifier::new(login.verifier)),
    };
    let answer = token_call(ctx, dc, token_request).await?;
    let tokens = oauth::parse_token_response(answer.status, &answer.body)
        .map_err(|e| token_failure(ctx, "code_exchange", &e))?;
    let granted = tokens.refresh_token.clone();
    let result = start_session(ctx, dc, tokens).await;
    if result.is_err()
        && let Some(token) = &granted
    {
        // Nothing will ever use the grant this exchange made: end it at Zoho, not leave it live.
        revoke(ctx, dc, token).await;
    }
    result
}

/// A callback refused before any call to Zoho, logged and in the portal's terms.
fn callback_refused(ctx: &Ctx, refusal: CallbackRefusal, callback: &CallbackRequest) -> Failure {
    match refusal {
        CallbackRefusal::MalformedCode => Failure::bad_request("The sign-in code is malformed."),
        CallbackRefusal::NoLogin => {
            ctx.log.warn("callback_without_login", fields!());
            Failure::new(
                400,
                codes::INVALID_STATE,
                "This sign-in was not started here or has expired. Sign in again.",
            )
        }
        CallbackRefusal::StateMismatch => {
            ctx.log.warn("callback_state_mismatch", fields!());
            Failure::new(
                400,
                codes::INVALID_STATE,
                "The sign-in answer does not belong to this sign-in. Sign in again.",
            )
        }
        CallbackRefusal::UnknownDataCenter => {
            ctx.log.warn(
                "callback_unknown_data_center",
                fields!("location_len" => callback.location.len()),
            );
            Failure::bad_request(
                "location and accounts_server do not name a known Zoho data centre.",
            )
        }
    }
}

/// After the code exchange: checks what Zoho answered, who the user is, and starts the session.
async fn start_session(ctx: &Ctx, dc: DataCenter, tokens: oauth::TokenSuccess) -> Outcome {
    let config = &ctx.config;
    let env = config.environment;
    // 5. The API domain Zoho names must be the table's for this data centre and environment.
    match signin::check_api_domain(&config.endpoints, &tokens.api_domain, dc, env) {
        Ok(()) => {}
        Err(ApiDomainRefusal::OtherEnvironment(found_env)) => {
            ctx.log.info(
                "callback_other_environment",
                fields!("chosen" => found_env.as_str()),
            );
            return Err(Failure::bad_request(format!(
                "You signed in to Zoho's {found_env} environment, but this portal works with \
                 {env}. Sign in again and choose {env}."
            )));
        }
        Err(ApiDomainRefusal::Foreign) => {
            ctx.log.warn(
                "callback_foreign_api_domain",
                fields!("dc" => dc.location()),
            );
            return Err(Failure::upstream(
                "Zoho answered with an API domain outside its data-centre table; nothing was sent there.",
            ));
        }
    }
    let Some(refresh_token) = tokens.refresh_token else {
        return Err(Failure::upstream(
            "Zoho did not grant offline access. Sign in again.",
        ));
    };

    // 6. Who is this? The user and org key the tokens.
    let (user, org) = whoami(ctx, dc, env, &tokens.access_token).await?;
    if !config.org_allowed(dc, &org.id) {
        ctx.log.warn(
            "org_not_allowed",
            fields!("dc" => dc.location(), "org" => org.id),
        );
        return Err(org_not_allowed(403, &org.company_name));
    }
    // 7. One record per user: the grant's object replaces the tokens in place, adds the
    //    session and revokes the refresh token it replaces.
    let granted = signin::Granted {
        dc,
        env,
        user: &user,
        org: &org,
        refresh: &refresh_token,
        access: &tokens.access_token,
        expires_in_secs: tokens.expires_in_secs,
    };
    let Some(record) = signin::new_record(&config.token_keys, &granted, ctx.now_ms) else {
        return Err(Failure::upstream(
            "Zoho answered with malformed user or org ids.",
        ));
    };
    let key = record.key.clone();
    let session_id = random_token();
    let call = GrantCall::SignIn {
        session: session_hash(&session_id),
        record,
    };
    let (view, _) = grant_object::call(ctx, &call).await?;
    let view = view.ok_or_else(Failure::internal)?;
    ctx.log.info(
        "signed_in",
        fields!("user" => key, "dc" => dc.location(), "environment" => env.as_str()),
    );
    let mut response = reply::json(200, &session_info(&view));
    reply::add_cookie(
        &mut response,
        &cookies::set(
            SESSION,
            &session_cookie(&session_id, &key),
            SESSION_MAX_AGE_SECS,
        ),
    );
    reply::add_cookie(&mut response, &cookies::set_hint(SESSION_MAX_AGE_SECS));
    Ok(response)
}

/// A sign-in refused (403), or a session ended (401), because the user's organisation is not
/// one the portal serves.
fn org_not_allowed(status: u16, org_name: &str) -> Failure {
    Failure::new(
        status,
        codes::ORG_NOT_ALLOWED,
        format!(
            "This portal does not serve the Zoho organisation {org_name}. Sign in with an account \
             of an organisation it serves, or ask its administrator to add yours."
        ),
    )
    .because(SignedOutReason::OrgNotAllowed)
}

/// `GET /api/session`: who is signed in, or 401.
pub async fn session(req: &Request, ctx: &Ctx) -> Outcome {
    let signed_in = current(req, ctx, false, None).await?;
    Ok(reply::json(200, &session_info(&signed_in.user)))
}

/// `POST /auth/logout[?everywhere=1]`: ends this session; with `everywhere`, also revokes the
/// refresh token at Zoho and ends every session of the user. Always clears the cookie. Once
/// this has answered, no isolate anywhere serves the session again: the grant's object ended it.
pub async fn logout(req: &Request, ctx: &Ctx) -> Outcome {
    let everywhere = crate::glue::routes::query_pairs(req)
        .iter()
        .any(|(k, v)| k == "everywhere" && (v == "1" || v == "true"));
    if let Some((id, key)) = session_of(req) {
        let call = GrantCall::SignOut {
            key,
            session: session_hash(&id),
            everywhere,
        };
        match grant_object::call(ctx, &call).await {
            // Not signed in (any more): there is nothing to end.
            Ok(_) | Err(Failure { status: 401, .. }) => {}
            Err(other) => return Err(other),
        }
    }
    let mut response = reply::empty(204);
    reply::add_cookie(&mut response, &cookies::clear(SESSION));
    reply::add_cookie(&mut response, &cookies::clear_hint());
    Ok(response)
}

/// A request's session, as its grant's object vouches for it.
pub struct SignedIn {
    pub user: UserView,
    /// The session's hash, as the object knows it.
    pub session: String,
    /// The sealed access token and when it expires (ms), when one was asked for.
    pub access: Option<(String, u64)>,
}

/// The session id and user key in the request's session cookie.
fn session_of(req: &Request) -> Option<(String, String)> {
    let cookie = cookie_header(req);
    let value = cookies::get(cookie.as_deref(), SESSION)?;
    parse_session_cookie(value).map(|(id, key)| (id.to_owned(), key))
}

/// The request's session and its user, or 401: one round trip to the grant's object. With
/// `token`, also a usable access token (refreshed first if due, or if `refused` is the sealed
/// token Zoho just refused).
pub async fn current(
    req: &Request,
    ctx: &Ctx,
    token: bool,
    refused: Option<String>,
) -> Result<SignedIn, Failure> {
    let (id, key) = session_of(req).ok_or_else(Failure::unauthenticated)?;
    let session = session_hash(&id);
    again(ctx, key, session, token, refused).await
}

/// [`current`] for a session already parsed.
pub async fn again(
    ctx: &Ctx,
    key: String,
    session: String,
    token: bool,
    refused: Option<String>,
) -> Result<SignedIn, Failure> {
    let call = GrantCall::Session {
        key,
        session: session.clone(),
        token,
        refused,
    };
    let (user, access) = grant_object::call(ctx, &call).await?;
    let user = user.ok_or_else(Failure::internal)?;
    // An organisation no longer served (ALLOWED_ORGS changed) keeps no session.
    if !ctx.config.org_allowed(user.location, &user.org_id) {
        return Err(org_not_allowed(401, &user.org_name));
    }
    Ok(SignedIn {
        user,
        session,
        access,
    })
}

fn session_info(user: &UserView) -> SessionInfo {
    SessionInfo {
        name: user.name.clone(),
        email: user.email.clone(),
        org_name: user.org_name.clone(),
        org_id: user.org_id.clone(),
        data_center: user.location.to_string(),
        environment: user.environment.to_string(),
    }
}

/// Reads `users?type=CurrentUser` and `org` with a fresh access token, at the table's domain.
async fn whoami(
    ctx: &Ctx,
    dc: DataCenter,
    env: Environment,
    token: &AccessToken,
) -> Result<(zoho::crm::User, zoho::crm::Org), Failure> {
    let base = ctx.config.endpoints.api_domain(dc, env);
    let auth = authorization_header(token);
    let headers = [("authorization", auth.as_str())];
    let users_url = format!("{base}/crm/v8/users?type=CurrentUser");
    let org_url = format!("{base}/crm/v8/org");
    let (users, org) = join(
        upstream::send(&ctx.config, Method::Get, &users_url, &headers, None),
        upstream::send(&ctx.config, Method::Get, &org_url, &headers, None),
    )
    .await;
    let parse =
        |what: &str, answer: Result<Answer, upstream::UpstreamError>| -> Result<String, Failure> {
            match answer {
                Ok(a) if a.status == 200 => Ok(a.body),
                Ok(a) => {
                    ctx.log.warn(
                        "whoami_failed",
                        fields!("call" => what, "status" => a.status),
                    );
                    Err(Failure::upstream(format!(
                        "Zoho refused to say who you are ({what}: HTTP {}).",
                        a.status
                    )))
                }
                Err(e) => Err(upstream_failure(&ctx.log, what, &e)),
            }
        };
    let users: UsersResponse = serde_json::from_str(&parse("users", users)?)
        .map_err(|_| Failure::upstream("Zoho's answer about the current user is malformed."))?;
    let org: OrgResponse = serde_json::from_str(&parse("org", org)?)
        .map_err(|_| Failure::upstream("Zoho's answer about the organisation is malformed."))?;
    match (users.users.into_iter().next(), org.org.into_iter().next()) {
        (Some(user), Some(org)) => Ok((user, org)),
        _ => Err(Failure::upstream(
            "Zoho did not name the current user and organisation.",
        )),
    }
}

/// `POST {accounts}/oauth/v2/token` for `dc`, the body as a form (as Zoho's SDK sends it).
async fn token_call(ctx: &Ctx, dc: DataCenter, request: TokenRequest) -> Result<Answer, Failure> {
    upstream::accounts_post(&ctx.config, dc, oauth::TOKEN_PATH, request.form_body())
        .await
        .map_err(|e| upstream_failure(&ctx.log, "token", &e))
}

/// Revokes a refresh token at Zoho; failures are logged, not fatal (the token is forgotten here).
pub(crate) async fn revoke(ctx: &Ctx, dc: DataCenter, token: &RefreshToken) {
    let body = zoho::form::build([("token", token.secret())]);
    let result = upstream::accounts_post(&ctx.config, dc, oauth::REVOKE_PATH, body).await;
    match result {
        Ok(answer) if oauth::parse_revoke_response(answer.status, &answer.body).is_ok() => {
            ctx.log
                .info("refresh_token_revoked", fields!("dc" => dc.location()));
        }
        Ok(answer) => ctx
            .log
            .warn("revoke_refused", fields!("status" => answer.status)),
        Err(e) => ctx
            .log
            .warn("revoke_failed", fields!("error" => e.describe())),
    }
}

fn token_failure(ctx: &Ctx, call: &str, error: &TokenResponseError) -> Failure {
    match error {
        TokenResponseError::Token(e) => {
            ctx.log.warn(
                "token_error",
                fields!("call" => call, "error" => e.kind().as_str()),
            );
            match e.kind() {
                TokenErrorKind::InvalidCode => Failure::new(
                    400,
                    codes::INVALID_GRANT,
                    "The sign-in code expired or was already used. Sign in again.",
                ),
                TokenErrorKind::Throttled => Failure {
                    retry_after: Some(CODE_EXCHANGE_WINDOW_SECS),
                    ..Failure::new(
                        429,
                        codes::RATE_LIMITED,
                        "Zoho is limiting sign-ins to the portal for now. Try again in 10 minutes.",
                    )
                }
                .because(SignedOutReason::Throttled),
                _ => Failure::upstream("Zoho refused the sign-in."),
            }
        }
        other => {
            ctx.log.warn(
                "token_error",
                fields!("call" => call, "error" => other.to_string()),
            );
            Failure::upstream("Zoho's accounts server answered something unexpected.")
        }
    }
}

pub fn cookie_header(req: &Request) -> Option<String> {
    req.headers().get("cookie").ok().flatten()
}
