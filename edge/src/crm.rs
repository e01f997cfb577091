//! Calls to Zoho CRM on behalf of the signed-in user: a fresh access token (refreshed ahead of
//! expiry, once per isolate however many requests wait for it), the user's own data centre,
//! and one retry after a refresh when Zoho says `INVALID_TOKEN`.
//!
//! Workers forbid awaiting another request's promise, so concurrent requests cannot share one
//! refresh future. Instead the first request marks the user's refresh as in flight in this
//! isolate; the others wait on their own timers and re-read the user's record from KV until the
//! new token is there (or the refresh is given up on).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::json;
use worker::{Env, Method};
use zcrm_api::codes;
use zoho::crm::{ApiResponse, authorization_header, classify_response};
use zoho::oauth::{self, TokenErrorKind, TokenRequest, TokenResponseError};
use zoho::secret::AccessToken;

use crate::config::Config;
use crate::log::Log;
use crate::records::UserRecord;
use crate::reply::Failure;
use crate::retry::{self, Attempt};
use crate::routes::Ctx;
use crate::store::Store;
use crate::upstream::{self, Answer, UpstreamError};

/// Refresh when less than this is left of the access token's life (Zoho's SDK waits until 5 s).
pub const REFRESH_AHEAD_MS: u64 = 5 * 60 * 1000;

/// The signed-in user's CRM, for one request.
pub struct Crm<'a> {
    ctx: &'a Ctx,
    pub user: UserRecord,
}

/// Why a refresh failed.
#[derive(Debug)]
enum RefreshError {
    /// The grant was revoked or expired: the user must sign in again.
    Revoked,
    Throttled,
    Timeout,
    Upstream(String),
    Internal(String),
}

struct Fresh {
    token: AccessToken,
    sealed: String,
    expires_at: u64,
}

/// How long waiters wait for another request's refresh before trying their own.
const WAIT_FOR_REFRESH_MS: u64 = 15_000;
const POLL_MS: u64 = 50;

thread_local! {
    /// Users whose refresh is in flight in this isolate, with when it started.
    static IN_FLIGHT: RefCell<HashMap<String, u64>> = RefCell::new(HashMap::new());
}

/// Clears the in-flight mark however the refresh ends (error, or the request being dropped).
struct InFlight(String);

impl InFlight {
    /// Marks `key`, unless another request of this isolate is refreshing it (and not for long).
    fn claim(key: &str, now_ms: u64) -> Option<InFlight> {
        IN_FLIGHT.with(|m| {
            let mut m = m.borrow_mut();
            match m.get(key) {
                Some(&started) if now_ms.saturating_sub(started) < WAIT_FOR_REFRESH_MS => None,
                _ => {
                    m.insert(key.to_owned(), now_ms);
                    Some(InFlight(key.to_owned()))
                }
            }
        })
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.with(|m| m.borrow_mut().remove(&self.0));
    }
}

impl<'a> Crm<'a> {
    pub async fn for_request(
        req: &worker::Request,
        ctx: &'a Ctx,
        store: &Store,
    ) -> Result<Crm<'a>, Failure> {
        let (_, user) = crate::auth::current(req, ctx, store).await?;
        Ok(Crm { ctx, user })
    }

    /// `method {api_domain}/crm/v8{path}`, with the user's token; refreshes and retries once on
    /// `INVALID_TOKEN`.
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Answer, Failure> {
        let token = self.token(false).await?;
        let answer = self
            .send(&token, method.clone(), path, body.clone())
            .await?;
        if answer.status == 401 && is_invalid_token(&answer) {
            self.ctx
                .log
                .info("crm_invalid_token", json!({"user": self.user.key}));
            let token = self.token(true).await?;
            return self.send(&token, method, path, body).await;
        }
        Ok(answer)
    }

    async fn send(
        &self,
        token: &AccessToken,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Answer, Failure> {
        let (dc, env) = self.location()?;
        let url = format!(
            "{}{}{path}",
            self.ctx.config.endpoints.api_domain(dc, env),
            zoho::crm::API_PREFIX
        );
        let auth = authorization_header(token);
        let mut headers = vec![("authorization", auth.as_str())];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let is_get = method == Method::Get;
        let mut attempt = 0;
        loop {
            let result = upstream::send(
                &self.ctx.config,
                method.clone(),
                &url,
                &headers,
                body.clone(),
            )
            .await;
            let outcome = match &result {
                Ok(answer) => Attempt::Status(answer.status),
                Err(UpstreamError::Network(_)) => Attempt::Network,
                Err(UpstreamError::Timeout) => Attempt::Timeout,
            };
            let Some(pause) = retry::pause_before_retry(is_get, outcome, attempt) else {
                return result.map_err(|e| upstream_failure(&self.ctx.log, "crm", &e));
            };
            self.ctx.log.info(
                "crm_retry",
                json!({"attempt": attempt + 1, "after": format!("{outcome:?}")}),
            );
            worker::Delay::from(std::time::Duration::from_millis(pause)).await;
            attempt += 1;
        }
    }

    fn location(&self) -> Result<(zoho::DataCenter, zoho::Environment), Failure> {
        match (self.user.data_center(), self.user.env()) {
            (Some(dc), Some(env)) => Ok((dc, env)),
            _ => Err(Failure {
                internal: Some(format!(
                    "user record {} has no valid location",
                    self.user.key
                )),
                ..Failure::internal()
            }),
        }
    }

    /// The access token, refreshed first when it is about to expire, or when `stale` (Zoho
    /// refused it).
    async fn token(&mut self, stale: bool) -> Result<AccessToken, Failure> {
        if !stale
            && self.user.access_expires_at > self.ctx.now_ms + REFRESH_AHEAD_MS
            && let Some(token) = self.user.open_access(&self.ctx.config.keys)
        {
            return Ok(token);
        }
        match refresh(self.ctx, &self.user, stale).await {
            Ok(fresh) => {
                self.user.access_token = fresh.sealed;
                self.user.access_expires_at = fresh.expires_at;
                Ok(fresh.token)
            }
            Err(RefreshError::Revoked) => Err(Failure::new(
                401,
                codes::SESSION_EXPIRED,
                "Your Zoho sign-in has expired or was revoked. Sign in again.",
            )),
            Err(RefreshError::Throttled) => Err(Failure::new(
                429,
                codes::RATE_LIMITED,
                "Zoho is limiting token refreshes. Try again in a few minutes.",
            )),
            Err(RefreshError::Timeout) => Err(Failure::new(
                504,
                codes::UPSTREAM_TIMEOUT,
                "Zoho did not answer in time. Try again.",
            )),
            Err(RefreshError::Upstream(detail)) => {
                self.ctx.log.warn(
                    "refresh_failed",
                    json!({"user": self.user.key, "error": detail}),
                );
                Err(Failure::upstream(
                    "Zoho could not refresh your sign-in. Try again.",
                ))
            }
            Err(RefreshError::Internal(detail)) => Err(Failure {
                internal: Some(detail),
                ..Failure::internal()
            }),
        }
    }
}

fn is_invalid_token(answer: &Answer) -> bool {
    matches!(classify_response(answer.status, &answer.body), ApiResponse::Error(_, e) if e.code == "INVALID_TOKEN")
}

/// A fresh token for `user`: another request's refresh if one is in flight in this isolate
/// (waiting for it through KV), else this request's own.
async fn refresh(ctx: &Ctx, user: &UserRecord, stale: bool) -> Result<Fresh, RefreshError> {
    let job = Refresh {
        config: Rc::clone(&ctx.config),
        env: ctx.env.clone(),
        log: ctx.log.clone(),
        key: user.key.clone(),
        seen_sealed: user.access_token.clone(),
        stale,
        now_ms: ctx.now_ms,
    };
    let waited_since = worker::Date::now().as_millis();
    loop {
        if let Some(_mark) = InFlight::claim(&user.key, worker::Date::now().as_millis()) {
            return job.run().await;
        }
        // Someone else is refreshing: wait, then see whether KV has their token.
        worker::Delay::from(std::time::Duration::from_millis(POLL_MS)).await;
        if let Some(fresh) = job.newer_in_store().await? {
            return Ok(fresh);
        }
        if worker::Date::now().as_millis().saturating_sub(waited_since) > WAIT_FOR_REFRESH_MS {
            return job.run().await;
        }
    }
}

/// One refresh of one user's access token.
struct Refresh {
    config: Rc<Config>,
    env: Env,
    log: Log,
    key: String,
    /// The sealed access token the caller had: if KV holds another, someone refreshed already.
    seen_sealed: String,
    stale: bool,
    now_ms: u64,
}

impl Refresh {
    /// The token in KV, if it is one this request can use instead of refreshing: fresh, and
    /// (when Zoho refused ours) not the one Zoho refused.
    async fn newer_in_store(&self) -> Result<Option<Fresh>, RefreshError> {
        let store = Store::new(&self.env).map_err(internal)?;
        let Some(user) = store.user(&self.key).await.map_err(internal)? else {
            return Err(RefreshError::Revoked);
        };
        Ok(self.usable(&user))
    }

    fn usable(&self, user: &UserRecord) -> Option<Fresh> {
        let still_fresh = user.access_expires_at > self.now_ms + REFRESH_AHEAD_MS;
        if !still_fresh || (self.stale && user.access_token == self.seen_sealed) {
            return None;
        }
        Some(Fresh {
            token: user.open_access(&self.config.keys)?,
            sealed: user.access_token.clone(),
            expires_at: user.access_expires_at,
        })
    }

    async fn run(&self) -> Result<Fresh, RefreshError> {
        let store = Store::new(&self.env).map_err(internal)?;
        // Another isolate (or an earlier request) may have refreshed: KV has the newest record.
        let Some(mut user) = store.user(&self.key).await.map_err(internal)? else {
            return Err(RefreshError::Revoked);
        };
        if let Some(fresh) = self.usable(&user) {
            return Ok(fresh);
        }
        let refresh_token = user
            .open_refresh(&self.config.keys)
            .ok_or_else(|| RefreshError::Internal("the refresh token does not open".into()))?;
        let dc = user
            .data_center()
            .ok_or_else(|| RefreshError::Internal("user record without a data centre".into()))?;
        let request = TokenRequest::RefreshToken {
            client_id: self.config.client_id.clone(),
            client_secret: self.config.client_secret.clone(),
            refresh_token,
        };
        let answer =
            upstream::accounts_post(&self.config, dc, oauth::TOKEN_PATH, request.form_body())
                .await
                .map_err(|e| match e {
                    UpstreamError::Timeout => RefreshError::Timeout,
                    UpstreamError::Network(detail) => RefreshError::Upstream(detail),
                })?;
        let tokens = match oauth::parse_token_response(answer.status, &answer.body) {
            Ok(tokens) => tokens,
            Err(TokenResponseError::Token(e)) if e.kind() == TokenErrorKind::InvalidCode => {
                // Revoked at Zoho (or expired): forget the user; their sessions end with it.
                self.log
                    .info("refresh_token_revoked_at_zoho", json!({"user": self.key}));
                store.delete(&self.key).await.map_err(internal)?;
                return Err(RefreshError::Revoked);
            }
            Err(TokenResponseError::Token(e)) if e.kind() == TokenErrorKind::Throttled => {
                self.log
                    .warn("refresh_throttled", json!({"user": self.key}));
                return Err(RefreshError::Throttled);
            }
            Err(e) => return Err(RefreshError::Upstream(e.to_string())),
        };
        user.seal_access(
            &self.config.keys,
            &tokens.access_token,
            self.now_ms + tokens.expires_in_secs * 1000,
        );
        user.updated_at = self.now_ms;
        store.put_user(&user).await.map_err(internal)?;
        self.log.info(
            "access_token_refreshed",
            json!({"user": self.key, "stale": self.stale}),
        );
        Ok(Fresh {
            token: tokens.access_token,
            sealed: user.access_token,
            expires_at: user.access_expires_at,
        })
    }
}

fn internal(e: worker::Error) -> RefreshError {
    RefreshError::Internal(e.to_string())
}

pub fn upstream_failure(log: &Log, call: &str, error: &UpstreamError) -> Failure {
    log.warn(
        "upstream_failed",
        json!({"call": call, "error": error.describe()}),
    );
    match error {
        UpstreamError::Timeout => Failure::new(
            504,
            codes::UPSTREAM_TIMEOUT,
            "Zoho did not answer in time. Try again.",
        ),
        UpstreamError::Network(_) => Failure::upstream("Zoho could not be reached. Try again."),
    }
}
