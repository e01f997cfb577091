//! A signed-in user's CRM calls: picks the entry of the token store, keeps its access token
//! fresh, and sends calls to the API domain the data-centre table gives for it.
//!
//! Refresh follows Zoho's token rules (<https://www.zoho.com/crm/developer/docs/api/v8/refresh.html>,
//! <https://www.zoho.com/crm/developer/docs/api/v8/token-validity.html>): an access token lives an hour; it
//! is refreshed ahead, when less than five minutes are left ([`Entry::refresh_due`]), and once when Zoho answers
//! `INVALID_TOKEN` (then the call is sent once more). Each refresh happens under the store's lock
//! and only after reading the store again: a token another command refreshed meanwhile is used
//! instead, so concurrent jobs make one refresh, not one each, and stay within Zoho's ten
//! refreshes per ten minutes. A refresh token Zoho no longer accepts (`invalid_code`: revoked, or
//! deleted as the 21st) is a message to log in again.

use zcrm_edge::seal::Keyring;
use zoho::crm::{API_PREFIX, ApiResponse, ErrorCode, classify_response};
use zoho::oauth::{self, TokenErrorKind, TokenRequest, TokenResponseError};
use zoho::secret::{AccessToken, ClientSecret, RefreshToken, constant_time_eq};
use zoho::{DataCenter, Endpoints, Environment};

use crate::error::{Error, Result, printable};
use crate::http::{Answer, Body, Http, Method};
use crate::store::{Entry, Store};

/// What every command works with: the transport, the table, the store and the options.
pub struct Ctx {
    pub http: Http,
    pub endpoints: Endpoints,
    pub store: Store,
    pub client_id: Option<String>,
    pub client_secret: Option<ClientSecret>,
    pub user: Option<String>,
    pub json: bool,
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Ctx {
    /// The client id and secret of the flags or environment, required.
    pub fn credentials(&self) -> Result<(String, ClientSecret)> {
        let id = self.client_id.clone().ok_or_else(|| {
            Error::usage(
                "Set ZOHO_CLIENT_ID (or --client-id): the client id from Zoho's API console.",
            )
        })?;
        let secret = self.client_secret.clone().ok_or_else(|| {
            Error::usage("Set ZOHO_CLIENT_SECRET (or --client-secret): the client secret from Zoho's API console.")
        })?;
        Ok((id, secret))
    }

    /// The entry `--user` (and the optional data centre and environment) names; with no
    /// `--user`, the only entry there is.
    pub fn select(
        &self,
        entries: &[Entry],
        dc: Option<DataCenter>,
        env: Option<Environment>,
    ) -> Result<Entry> {
        let matching: Vec<&Entry> = entries
            .iter()
            .filter(|e| {
                self.user
                    .as_deref()
                    .is_none_or(|u| e.email.eq_ignore_ascii_case(u.trim()))
                    && dc.is_none_or(|dc| e.data_center == dc.location())
                    && env.is_none_or(|env| e.environment == env.as_str())
            })
            .collect();
        match matching.as_slice() {
            [one] => Ok((*one).clone()),
            [] if entries.is_empty() => Err(Error::usage(
                "Nobody is logged in. Run zcrm login --grant CODE --dc DC first.",
            )),
            [] => Err(Error::usage(match &self.user {
                Some(u) => format!(
                    "{} is not logged in here (zcrm users lists who is).",
                    printable(u, 100)
                ),
                None => "Nobody logged in matches. zcrm users lists who is.".to_owned(),
            })),
            several => Err(Error::usage(format!(
                "{} entries match ({}); choose one with --user EMAIL (and --dc, --environment).",
                several.len(),
                several
                    .iter()
                    .map(|e| format!("{} {}/{}", e.email, e.data_center, e.environment))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// `POST {accounts}/oauth/v2/token` at `dc`'s accounts server from the table.
    pub async fn token_call(
        &self,
        dc: DataCenter,
        request: &TokenRequest,
    ) -> Result<std::result::Result<oauth::TokenSuccess, TokenResponseError>> {
        let url = format!(
            "{}{}",
            self.endpoints.accounts_server(dc),
            oauth::TOKEN_PATH
        );
        let answer = self
            .http
            .send(
                Method::Post,
                &url,
                None,
                Some(&Body::Form(request.form_body())),
            )
            .await?;
        Ok(oauth::parse_token_response(answer.status, &answer.body))
    }

    /// Revokes a refresh token at `dc` (`POST {accounts}/oauth/v2/token/revoke`,
    /// <https://www.zoho.com/crm/developer/docs/api/v8/revoke-tokens.html>). `Ok(false)`:
    /// Zoho did not know it (already revoked).
    pub async fn revoke(&self, dc: DataCenter, token: &RefreshToken) -> Result<bool> {
        let url = format!(
            "{}{}",
            self.endpoints.accounts_server(dc),
            oauth::REVOKE_PATH
        );
        let body = Body::Form(zoho::form::build([("token", token.secret())]));
        let answer = self
            .http
            .send(Method::Post, &url, None, Some(&body))
            .await?;
        match oauth::parse_revoke_response(answer.status, &answer.body) {
            Ok(()) => Ok(true),
            Err(TokenResponseError::Token(_)) => Ok(false),
            Err(e) => Err(Error::failure(format!(
                "Zoho could not revoke the token: {e}."
            ))),
        }
    }
}

/// The message for a token endpoint's refusal.
pub fn token_error(error: &TokenResponseError, during: &str, email: &str) -> Error {
    match error {
        TokenResponseError::Token(e) => match e.kind() {
            TokenErrorKind::InvalidCode if during == "refresh" => Error::failure(format!(
                "Zoho no longer accepts the stored grant of {} (it was revoked, or replaced by newer ones). Log in again: zcrm login --grant CODE --dc DC.",
                printable(email, 100)
            )),
            TokenErrorKind::InvalidCode => Error::failure(
                "Zoho refused the grant code: it expired (codes live a few minutes), was already used, or belongs to another data centre or client. Make a new one and log in again.",
            ),
            TokenErrorKind::Throttled => Error::failure(
                "Zoho is limiting token requests (too many in a short time). Try again in a few minutes.",
            ),
            TokenErrorKind::InvalidClient => Error::failure(
                "Zoho does not know this client at that data centre: check ZOHO_CLIENT_ID and --dc.",
            ),
            TokenErrorKind::InvalidClientSecret => {
                Error::failure("Zoho refused the client secret: check ZOHO_CLIENT_SECRET.")
            }
            _ => Error::failure(format!(
                "Zoho's accounts server refused the {during}: {}.",
                printable(&e.error, 60)
            )),
        },
        other => Error::failure(format!(
            "Zoho's accounts server failed the {during}: {other}."
        )),
    }
}

/// One entry's CRM calls.
pub struct Session<'a> {
    ctx: &'a Ctx,
    keys: Keyring,
    pub entry: Entry,
    dc: DataCenter,
    env: Environment,
    access: AccessToken,
}

impl<'a> Session<'a> {
    /// The selected user's session, its access token refreshed if it is about to expire.
    pub async fn open(
        ctx: &'a Ctx,
        dc: Option<DataCenter>,
        env: Option<Environment>,
    ) -> Result<Session<'a>> {
        let entry = ctx.select(&ctx.store.read()?, dc, env)?;
        let keys = ctx.store.keys(false)?;
        let access = entry.access_token(&keys)?;
        let mut session = Session {
            ctx,
            keys,
            dc: entry.data_center()?,
            env: entry.environment()?,
            entry,
            access,
        };
        if session.entry.refresh_due(now_secs()) {
            session.refresh(false).await?;
        }
        Ok(session)
    }

    /// Refreshes under the lock, unless the store already has a usable token: an unexpired one
    /// other than the one this command holds (another command refreshed it), or, ahead of
    /// expiry (`after_rejection` false), one with more than the refresh-ahead time left.
    async fn refresh(&mut self, after_rejection: bool) -> Result<()> {
        let store = &self.ctx.store;
        let lock = store.lock()?;
        let mut entries = store.read()?;
        let Some(at) = entries.iter().position(|e| e.key == self.entry.key) else {
            return Err(Error::failure(format!(
                "{} was logged out meanwhile. Log in again.",
                printable(&self.entry.email, 100)
            )));
        };
        let current = entries[at].clone();
        let stored = current.access_token(&self.keys)?;
        let now = now_secs();
        let other_token =
            !constant_time_eq(stored.secret().as_bytes(), self.access.secret().as_bytes());
        // Another command refreshed since this one read the store: its token is the one to use.
        let usable = (other_token && current.expires_at > now)
            || (!after_rejection && !current.refresh_due(now));
        if usable {
            self.access = stored;
            self.entry = current;
            return Ok(());
        }
        let secret = match &self.ctx.client_secret {
            Some(s)
                if self
                    .ctx
                    .client_id
                    .as_deref()
                    .is_none_or(|id| id == current.client_id) =>
            {
                s.clone()
            }
            _ => current.client_secret(&self.keys)?,
        };
        let request = TokenRequest::RefreshToken {
            client_id: current.client_id.clone(),
            client_secret: secret,
            refresh_token: current.refresh_token(&self.keys)?,
        };
        let tokens = self
            .ctx
            .token_call(self.dc, &request)
            .await?
            .map_err(|e| token_error(&e, "refresh", &current.email))?;
        if self.ctx.endpoints.locate_api_domain(&tokens.api_domain) != Some((self.dc, self.env)) {
            return Err(Error::failure(
                "Zoho answered the refresh with an API domain outside its data-centre table; nothing was sent there.",
            ));
        }
        let mut updated = current;
        updated.seal_access(&self.keys, &tokens.access_token);
        updated.expires_at = now + tokens.expires_in_secs;
        updated.lifetime_secs = tokens.expires_in_secs;
        updated.updated_at = now;
        entries[at] = updated.clone();
        store.write(&lock, &entries)?;
        self.access = tokens.access_token;
        self.entry = updated;
        Ok(())
    }

    /// A CRM call under `/crm/v8` at the table's API domain for this entry. An `INVALID_TOKEN`
    /// answer is refreshed once and the call sent once more.
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Answer> {
        let url = format!(
            "{}{API_PREFIX}{path}",
            self.ctx.endpoints.api_domain(self.dc, self.env)
        );
        let body = body.map(Body::Json);
        let mut answer = self
            .ctx
            .http
            .send(method, &url, Some(&self.access), body.as_ref())
            .await?;
        if rejected_token(&answer) {
            self.refresh(true).await?;
            answer = self
                .ctx
                .http
                .send(method, &url, Some(&self.access), body.as_ref())
                .await?;
            if rejected_token(&answer) {
                return Err(Error::failure(
                    "Zoho refused a freshly refreshed access token. Log in again.",
                ));
            }
        }
        Ok(answer)
    }
}

fn rejected_token(answer: &Answer) -> bool {
    answer.status == 401
        && matches!(
            classify_response(answer.status, &answer.body),
            ApiResponse::Error(_, e) if e.error_code() == Some(ErrorCode::InvalidToken)
        )
}

/// A CRM answer that is not what `what` expected, as a message.
pub fn crm_error(what: &str, response: ApiResponse) -> Error {
    match response {
        ApiResponse::Error(status, e) => {
            let message = printable(&e.message, 200);
            match e.error_code() {
                Some(ErrorCode::OauthScopeMismatch) => Error::failure(format!(
                    "The grant does not cover {what} (Zoho: {message}). Make a grant code with the scopes ZohoCRM.modules.ALL,ZohoCRM.settings.fields.READ,ZohoCRM.users.READ,ZohoCRM.org.READ and log in again."
                )),
                Some(ErrorCode::NoPermission) => Error::failure(format!(
                    "Zoho does not allow you {what} (permission denied)."
                )),
                Some(ErrorCode::TooManyRequests) => Error::failure(format!(
                    "Zoho is limiting requests to your org; {what} was not done. Try again shortly."
                )),
                _ => Error::failure(format!(
                    "Zoho refused {what}: {} ({message}, HTTP {status}).",
                    printable(&e.code, 60)
                )),
            }
        }
        ApiResponse::Json(status, _) => Error::failure(format!(
            "Zoho's answer to {what} was not what it should be (HTTP {status})."
        )),
        ApiResponse::NoContent => Error::failure(format!("Zoho answered {what} with nothing.")),
    }
}
