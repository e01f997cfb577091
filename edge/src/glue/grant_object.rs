//! The grant's Durable Object (class `Grant`, binding `GRANTS`, one object per user key), and
//! the Worker's calls to it ([`call`], over RPC: `edge/worker.js`). The state and the rules are
//! in [`crate::grant`].
//!
//! One object per Zoho grant is the one place that decides, for every isolate and location at
//! once, whether a session is live and when the access token is refreshed:
//! - a refresh is single-flight inside the object: the first request that needs one starts it,
//!   the others await the same future (an object, unlike a Worker, may share a promise between
//!   requests), and it runs to its end even if every caller goes away;
//! - Zoho's budget is counted here before a token call is made, and a throttle is remembered;
//! - the user record in KV is written by the object only, each write with the next version,
//!   one write at a time, always the newest record: no write is lost or undone.
//!
//! Outbound `fetch` lets other requests into the object meanwhile, so nothing here holds a
//! `RefCell` borrow across an `await`, and every change of state is made synchronously
//! (read, decide, write) between awaits.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures_util::FutureExt;
use futures_util::future::{LocalBoxFuture, Shared};
use futures_util::lock::Mutex;
use wasm_bindgen::prelude::*;
use worker::js_sys::Promise;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{DurableObject, Env, Request, Response, Result, State, durable_object};
use zcrm_api::{SignedOutReason, codes};
use zoho::oauth::{self, TokenErrorKind, TokenRequest, TokenResponseError};

use crate::cookies::SESSION_MAX_AGE_SECS;
use crate::glue::ctx::Ctx;
use crate::glue::log::Log;
use crate::glue::log::fields;
use crate::glue::reply::Failure;
use crate::glue::store::Store;
use crate::glue::upstream::{self, UpstreamError};
use crate::grant::{
    GrantAnswer, GrantCall, GrantFailure, GrantState, Need, SessionStatus, UserView, need,
    retry_after_secs,
};
use crate::records::UserRecord;

/// The binding of the namespace in `wrangler.toml`.
pub const BINDING: &str = "GRANTS";
/// The one storage key of an object: its [`GrantState`].
const STATE_KEY: &str = "grant";
const SESSION_MAX_AGE_MS: u64 = SESSION_MAX_AGE_SECS * 1000;

/// A sealed access token and when it expires (ms).
type Access = (String, u64);
type RefreshFuture = Shared<LocalBoxFuture<'static, std::result::Result<Access, GrantFailure>>>;

// ---------------------------------------------------------------------------------------------
// The Worker's side

/// Sends `call` to its grant's object; its answer, or the failure to give the browser.
///
/// One RPC call, `answer(call, request id)` on the object's stub, the call and its answer as
/// JSON text: no `Request` or `Response` is built on either side (`edge/worker.js` declares the
/// class so that it can be called so).
pub async fn call(
    ctx: &Ctx,
    call: &GrantCall,
) -> std::result::Result<(Option<UserView>, Option<Access>), Failure> {
    let stub: GrantStub = ctx
        .env
        .durable_object(BINDING)?
        .get_by_name(call.key())?
        .into_rpc();
    let call = serde_json::to_string(call).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let text = JsFuture::from(stub.answer(&call, &ctx.log.request_id))
        .await
        .map_err(worker::Error::from)?
        .as_string()
        .ok_or_else(|| worker::Error::RustError("the grant's answer is not text".into()))?;
    let answer = serde_json::from_str::<GrantAnswer>(&text)
        .map_err(|e| worker::Error::RustError(format!("grant answer: {e}")))?;
    match answer {
        GrantAnswer::Ok { user, access } => Ok((user, access)),
        GrantAnswer::Failed(failure) => Err(failure_of(&ctx.log, failure)),
    }
}

#[wasm_bindgen]
extern "C" {
    /// A stub of a grant's object, as the runtime gives it.
    type GrantStub;

    /// The object's one RPC method (`Grant::answer`): the answer to a call, as JSON text.
    #[wasm_bindgen(method)]
    fn answer(this: &GrantStub, call: &str, request_id: &str) -> Promise;
}

/// What the browser is told when the grant's object says no.
fn failure_of(log: &Log, failure: GrantFailure) -> Failure {
    match failure {
        GrantFailure::Unauthenticated => Failure::unauthenticated(),
        GrantFailure::Expired => Failure::new(
            401,
            codes::SESSION_EXPIRED,
            "Your sign-in has expired. Sign in again.",
        )
        .because(SignedOutReason::Expired),
        GrantFailure::Revoked => Failure::new(
            401,
            codes::SESSION_EXPIRED,
            "Your Zoho sign-in has expired or was revoked. Sign in again.",
        )
        .because(SignedOutReason::RevokedAtZoho),
        GrantFailure::Throttled { retry_after_secs } => Failure {
            retry_after: Some(retry_after_secs),
            ..Failure::new(
                429,
                codes::RATE_LIMITED,
                format!(
                    "Zoho's limit on renewing your sign-in is reached. Try again in {}.",
                    wait_in_words(retry_after_secs)
                ),
            )
        }
        .because(SignedOutReason::Throttled),
        GrantFailure::Timeout => Failure::new(
            504,
            codes::UPSTREAM_TIMEOUT,
            "Zoho did not answer in time. Try again.",
        ),
        GrantFailure::Upstream(detail) => {
            log.warn("refresh_failed", fields!("error" => detail));
            Failure::upstream("Zoho could not refresh your sign-in. Try again.")
        }
        GrantFailure::Internal(detail) => Failure {
            internal: Some(detail),
            ..Failure::internal()
        },
    }
}

fn wait_in_words(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} seconds"),
        60..=119 => "a minute".to_owned(),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

// ---------------------------------------------------------------------------------------------
// The object

#[durable_object(fetch)]
pub struct Grant {
    inner: Rc<Inner>,
}

struct Inner {
    state: State,
    env: Env,
    /// Loaded from storage on first use, then kept: the object is the only writer.
    grant: RefCell<Option<GrantState>>,
    /// The user record as last read from or written to KV by this object.
    record: RefCell<Option<UserRecord>>,
    /// The version of the record whose tokens were seen to open with this isolate's key ring.
    opens: Cell<Option<u64>>,
    /// The refresh in flight, if any.
    refresh: RefCell<Option<RefreshFuture>>,
    /// One KV write of the record at a time.
    writes: Mutex<()>,
}

impl DurableObject for Grant {
    fn new(state: State, env: Env) -> Self {
        Grant {
            inner: Rc::new(Inner {
                state,
                env,
                grant: RefCell::new(None),
                record: RefCell::new(None),
                opens: Cell::new(None),
                refresh: RefCell::new(None),
                writes: Mutex::new(()),
            }),
        }
    }

    /// The object is called over RPC ([`Grant::answer`]), not `fetch`.
    async fn fetch(&self, _req: Request) -> Result<Response> {
        Response::error(
            "the grant's object answers RPC calls (answer), not fetch",
            405,
        )
    }
}

#[wasm_bindgen]
impl Grant {
    /// The object's one RPC method: the answer to `call` (a [`GrantCall`] as JSON), as JSON
    /// text (a [`GrantAnswer`]); `request_id` is the caller's, for the object's log lines.
    /// A failure is an answer; the promise rejects only if the answer cannot be encoded.
    pub fn answer(&self, call: String, request_id: String) -> Promise {
        let inner = Rc::clone(&self.inner);
        worker::wasm_bindgen_futures::future_to_promise(async move {
            let answer = inner.answer(&call, request_id).await;
            serde_json::to_string(&answer)
                .map(JsValue::from)
                .map_err(|e| JsValue::from(format!("grant answer not encoded: {e}")))
        })
    }
}

type Served = std::result::Result<(Option<UserView>, Option<Access>), GrantFailure>;

impl Inner {
    async fn answer(self: Rc<Self>, call: &str, request_id: String) -> GrantAnswer {
        let config = match crate::glue::ctx::config(&self.env) {
            Ok(config) => config,
            Err(e) => {
                return GrantAnswer::Failed(GrantFailure::Internal(format!("misconfigured: {e}")));
            }
        };
        let ctx = Ctx {
            log: Log {
                level: config.log_level,
                request_id: crate::glue::ctx::checked_request_id(Some(request_id)),
            },
            config,
            env: self.env.clone(),
            now_ms: worker::Date::now().as_millis(),
        };
        match serde_json::from_str::<GrantCall>(call) {
            Ok(call) => match self.serve(call, &ctx).await {
                Ok((user, access)) => GrantAnswer::Ok { user, access },
                Err(failure) => GrantAnswer::Failed(failure),
            },
            Err(e) => GrantAnswer::Failed(GrantFailure::Internal(format!("bad grant call: {e}"))),
        }
    }

    async fn serve(self: Rc<Self>, call: GrantCall, ctx: &Ctx) -> Served {
        self.load().await?;
        match call {
            GrantCall::Session {
                key,
                session,
                token,
                refused,
            } => self.session(ctx, &key, &session, token, refused).await,
            GrantCall::SignIn { session, record } => self.sign_in(ctx, session, record).await,
            GrantCall::SignOut {
                key,
                session,
                everywhere,
            } => self.sign_out(ctx, &key, &session, everywhere).await,
        }
    }

    async fn session(
        self: &Rc<Self>,
        ctx: &Ctx,
        key: &str,
        session: &str,
        token: bool,
        refused: Option<String>,
    ) -> Served {
        match self.with_grant(|g| g.session_status(session, ctx.now_ms, SESSION_MAX_AGE_MS)) {
            SessionStatus::Live => {}
            SessionStatus::Ended => return Err(GrantFailure::Revoked),
            SessionStatus::TooOld => return Err(GrantFailure::Expired),
            SessionStatus::Unknown => return Err(GrantFailure::Unauthenticated),
        }
        let record = self.current_record(ctx, key).await?;
        let user = UserView::from(&record);
        if !token {
            return Ok((Some(user), None));
        }
        let current = (record.access_token.clone(), record.access_expires_at);
        let refused = refused.map(|r| r == current.0);
        match need(current.1, ctx.now_ms, refused) {
            Need::Use => Ok((Some(user), Some(current))),
            Need::Refresh { fallback } => match self.refreshed(ctx, key).await {
                Ok(access) => Ok((Some(user), Some(access))),
                Err(e)
                    if fallback && !matches!(e, GrantFailure::Revoked | GrantFailure::Expired) =>
                {
                    ctx.log.warn(
                        "refresh_ahead_failed",
                        fields!("user" => key, "error" => format!("{e:?}")),
                    );
                    Ok((Some(user), Some(current)))
                }
                Err(e) => Err(e),
            },
        }
    }

    /// A fresh access token: the refresh in flight, or a new one.
    async fn refreshed(
        self: &Rc<Self>,
        ctx: &Ctx,
        key: &str,
    ) -> std::result::Result<Access, GrantFailure> {
        let in_flight = self.refresh.borrow().clone();
        let future = match in_flight {
            Some(future) => future,
            None => {
                let me = Rc::clone(self);
                let ctx = ctx.clone();
                let key = key.to_owned();
                let future = async move {
                    let result = me.refresh_now(&ctx, &key).await;
                    me.refresh.borrow_mut().take();
                    result
                }
                .boxed_local()
                .shared();
                *self.refresh.borrow_mut() = Some(future.clone());
                // It runs to its end even if every request waiting for it goes away (in an
                // object, I/O belongs to the object, not to the request that started it).
                worker::wasm_bindgen_futures::spawn_local(future.clone().map(drop));
                future
            }
        };
        future.await
    }

    async fn refresh_now(&self, ctx: &Ctx, key: &str) -> std::result::Result<Access, GrantFailure> {
        let window = ctx.config.token_window_ms;
        let now = worker::Date::now().as_millis();
        if let Err(wait) = self.with_grant(|g| g.may_mint(now, window)) {
            ctx.log.warn(
                "refresh_budget_spent",
                fields!("user" => key, "retry_after_secs" => retry_after_secs(wait)),
            );
            return Err(GrantFailure::Throttled {
                retry_after_secs: retry_after_secs(wait),
            });
        }
        let record = self.current_record(ctx, key).await?;
        let Some(refresh_token) = record.open_refresh(&ctx.config.token_keys) else {
            return Err(self.retired(ctx, key, record.version).await);
        };
        let kept = refresh_token.clone();
        let dc = record.location;
        let request = TokenRequest::RefreshToken {
            client_id: ctx.config.client_id.clone(),
            client_secret: ctx.config.client_secret.clone(),
            refresh_token,
        };
        let answer =
            upstream::accounts_post(&ctx.config, dc, oauth::TOKEN_PATH, request.form_body())
                .await
                .map_err(|e| {
                    ctx.log.warn(
                        "refresh_failed",
                        fields!("user" => key, "error" => e.describe()),
                    );
                    match e {
                        UpstreamError::Timeout => GrantFailure::Timeout,
                        UpstreamError::Network(detail) => GrantFailure::Upstream(detail),
                        e @ UpstreamError::Redirect(_) => GrantFailure::Upstream(e.describe()),
                    }
                })?;
        let now = worker::Date::now().as_millis();
        let tokens = match oauth::parse_token_response(answer.status, &answer.body) {
            Ok(tokens) => tokens,
            Err(TokenResponseError::Token(e)) if e.kind() == TokenErrorKind::InvalidCode => {
                ctx.log
                    .info("refresh_token_revoked_at_zoho", fields!("user" => key));
                self.forget(key, record.version, GrantState::revoked_at_zoho)
                    .await?;
                return Err(GrantFailure::Revoked);
            }
            Err(TokenResponseError::Token(e)) if e.kind() == TokenErrorKind::Throttled => {
                let wait = self.with_grant_mut(|g| g.throttled(now, window));
                self.persist().await?;
                ctx.log.warn("refresh_throttled", fields!("user" => key));
                return Err(GrantFailure::Throttled {
                    retry_after_secs: retry_after_secs(wait),
                });
            }
            Err(e) => return Err(GrantFailure::Upstream(e.to_string())),
        };
        // A sign-in (or sign-out everywhere) meanwhile replaced the grant this token came from:
        // its record stands, with its own fresh token.
        if self.version() != record.version {
            return match self.record.borrow().as_ref() {
                Some(r) => Ok((r.access_token.clone(), r.access_expires_at)),
                None => Err(GrantFailure::Unauthenticated),
            };
        }
        let lifetime = tokens.expires_in_secs * 1000;
        let mut next = record;
        // Both tokens sealed again with the ring's newest key: a rotation completes with use.
        next.seal_tokens(
            &ctx.config.token_keys,
            &kept,
            &tokens.access_token,
            now + lifetime,
        );
        next.updated_at = now;
        next.version = self.with_grant_mut(|g| {
            g.minted(now, lifetime, window);
            g.version += 1;
            g.version
        });
        let access = (next.access_token.clone(), next.access_expires_at);
        *self.record.borrow_mut() = Some(next);
        self.write_record(key).await?;
        self.persist().await?;
        ctx.log
            .info("access_token_refreshed", fields!("user" => key));
        Ok(access)
    }

    async fn sign_in(&self, ctx: &Ctx, session: String, mut record: UserRecord) -> Served {
        // The record this one replaces, to revoke its refresh token (best effort: a first
        // sign-in has none).
        self.load_record(ctx, &record.key, None).await?;
        let lifetime = record.access_expires_at.saturating_sub(ctx.now_ms);
        record.version =
            self.with_grant_mut(|g| g.sign_in(session, ctx.now_ms, SESSION_MAX_AGE_MS, lifetime));
        record.updated_at = ctx.now_ms;
        let user = UserView::from(&record);
        let key = record.key.clone();
        // Taken at the same moment as the new one goes in: two sign-ins at once each revoke
        // exactly the one they replaced.
        let previous = self.record.borrow_mut().replace(record.clone());
        self.write_record(&key).await?;
        self.persist().await?;
        let dc = record.location;
        if let Some(old) = previous
            .as_ref()
            .and_then(|p| p.open_refresh(&ctx.config.token_keys))
            && record
                .open_refresh(&ctx.config.token_keys)
                .map(|r| r.secret().to_owned())
                != Some(old.secret().to_owned())
        {
            crate::glue::auth::revoke(ctx, dc, &old).await;
        }
        Ok((Some(user), None))
    }

    async fn sign_out(&self, ctx: &Ctx, key: &str, session: &str, everywhere: bool) -> Served {
        let live = self.with_grant(|g| g.session_status(session, ctx.now_ms, SESSION_MAX_AGE_MS))
            == SessionStatus::Live;
        if !live {
            // A session that is over already: nothing more to end (but forget it).
            if self.with_grant_mut(|g| g.sign_out(session)) {
                self.persist().await?;
            }
            return Err(GrantFailure::Unauthenticated);
        }
        if !everywhere {
            self.with_grant_mut(|g| g.sign_out(session));
            self.persist().await?;
            ctx.log.info("signed_out", fields!("user" => key));
            return Ok((None, None));
        }
        self.load_record(ctx, key, None).await?;
        let sessions = self.with_grant_mut(|g| {
            let n = g.sessions.len();
            g.sign_out_everywhere();
            n
        });
        let previous = self.record.borrow_mut().take();
        self.write_record(key).await?;
        self.persist().await?;
        if let Some(record) = previous
            && let Some(token) = record.open_refresh(&ctx.config.token_keys)
        {
            crate::glue::auth::revoke(ctx, record.location, &token).await;
        }
        ctx.log.info(
            "signed_out_everywhere",
            fields!("user" => key, "sessions" => sessions),
        );
        Ok((None, None))
    }

    // -- state and record ----------------------------------------------------------------------

    async fn load(&self) -> std::result::Result<(), GrantFailure> {
        if self.grant.borrow().is_some() {
            return Ok(());
        }
        // Kept as JSON text: the one codec the Worker carries anyway.
        let stored: Option<String> = self
            .state
            .storage()
            .get(STATE_KEY)
            .await
            .map_err(|e| GrantFailure::Internal(format!("grant storage: {e}")))?;
        let stored: Option<GrantState> = stored
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|e| GrantFailure::Internal(format!("grant storage: {e}")))?;
        let mut grant = self.grant.borrow_mut();
        if grant.is_none() {
            *grant = Some(stored.unwrap_or_default());
        }
        Ok(())
    }

    fn with_grant<T>(&self, f: impl FnOnce(&GrantState) -> T) -> T {
        f(self.grant.borrow().as_ref().expect("loaded first"))
    }

    fn with_grant_mut<T>(&self, f: impl FnOnce(&mut GrantState) -> T) -> T {
        f(self.grant.borrow_mut().as_mut().expect("loaded first"))
    }

    fn version(&self) -> u64 {
        self.with_grant(|g| g.version)
    }

    /// The record's tokens do not open with the key ring: sealed with a key since rotated out.
    /// The grant is of no use any more: its record goes and the user signs in again (expired).
    async fn retired(&self, ctx: &Ctx, key: &str, version: u64) -> GrantFailure {
        ctx.log.warn("tokens_unopenable", fields!("user" => key));
        match self
            .forget(key, version, GrantState::sealed_with_a_retired_key)
            .await
        {
            Ok(()) => GrantFailure::Expired,
            Err(e) => e,
        }
    }

    /// The grant is over (Zoho revoked it, or its tokens no longer open; `end` records which):
    /// its sessions end and its record goes from KV, unless a sign-in since replaced record
    /// `version`.
    async fn forget(
        &self,
        key: &str,
        version: u64,
        end: fn(&mut GrantState),
    ) -> std::result::Result<(), GrantFailure> {
        if self.version() == version {
            self.with_grant_mut(end);
            self.record.borrow_mut().take();
            self.write_record(key).await?;
            self.persist().await?;
        }
        Ok(())
    }

    async fn persist(&self) -> std::result::Result<(), GrantFailure> {
        let grant = self
            .with_grant(serde_json::to_string)
            .map_err(|e| GrantFailure::Internal(format!("grant storage: {e}")))?;
        self.state
            .storage()
            .put_raw(STATE_KEY, grant)
            .await
            .map_err(|e| GrantFailure::Internal(format!("grant storage: {e}")))
    }

    /// The record of a live session: the object's copy, or KV's once it has caught up; its
    /// tokens open with the key ring, or the grant ends ([`Inner::retired`]).
    async fn current_record(
        &self,
        ctx: &Ctx,
        key: &str,
    ) -> std::result::Result<UserRecord, GrantFailure> {
        for attempt in 0..5u64 {
            let version = self.version();
            self.load_record(ctx, key, Some(version)).await?;
            let current = self
                .record
                .borrow()
                .as_ref()
                .filter(|r| r.version >= self.version())
                .cloned();
            if let Some(record) = current {
                // Checked once per version: a record this object sealed opens by construction,
                // one read from KV may be sealed with a key the ring no longer has.
                let keys = &ctx.config.token_keys;
                if self.opens.get() != Some(record.version) {
                    if record.open_refresh(keys).is_none() || record.open_access(keys).is_none() {
                        return Err(self.retired(ctx, key, record.version).await);
                    }
                    self.opens.set(Some(record.version));
                }
                return Ok(record);
            }
            // KV has not caught up with the object's last write yet.
            worker::Delay::from(std::time::Duration::from_millis(50 * (attempt + 1))).await;
        }
        Err(GrantFailure::Internal(format!(
            "the user record of {key} in KV is behind its grant"
        )))
    }

    /// Reads the record from KV unless the object's copy is at least `wanted` (or, with
    /// `None`, unless it has a copy). A read never replaces a newer copy.
    async fn load_record(
        &self,
        ctx: &Ctx,
        key: &str,
        wanted: Option<u64>,
    ) -> std::result::Result<(), GrantFailure> {
        let have = self.record.borrow().as_ref().map(|r| r.version);
        match (have, wanted) {
            (Some(_), None) => return Ok(()),
            (Some(v), Some(w)) if v >= w => return Ok(()),
            _ => {}
        }
        let store = Store::new(&ctx.env).map_err(internal)?;
        let Some(read) = store.user(key).await.map_err(internal)? else {
            return Ok(());
        };
        let mut record = self.record.borrow_mut();
        if record.as_ref().is_none_or(|r| r.version < read.version) {
            // KV ahead of the object's storage: the write of the state after it was lost.
            self.with_grant_mut(|g| g.version = g.version.max(read.version));
            *record = Some(read);
        }
        Ok(())
    }

    /// Writes the object's newest record to KV (or deletes it), one write at a time, so that
    /// writes land in order and the last one is the newest.
    async fn write_record(&self, key: &str) -> std::result::Result<(), GrantFailure> {
        let _turn = self.writes.lock().await;
        let store = Store::new(&self.env).map_err(internal)?;
        let record = self.record.borrow().clone();
        match record {
            Some(record) => store.put_user(&record).await.map_err(internal),
            None => store.delete(key).await.map_err(internal),
        }
    }
}

fn internal(e: worker::Error) -> GrantFailure {
    GrantFailure::Internal(e.to_string())
}
