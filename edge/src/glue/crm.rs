//! Calls to Zoho CRM on behalf of the signed-in user: the access token the grant's Durable
//! Object hands out (refreshed there ahead of expiry, once for every isolate however many
//! requests wait for it), the user's own data centre, and one retry with a new token when Zoho
//! says `INVALID_TOKEN`.

use worker::Method;
use zcrm_api::codes;
use zoho::crm::{ApiResponse, ErrorCode, Read, authorization_header, classify_response};
use zoho::secret::AccessToken;

use crate::glue::auth::{self, SignedIn};
use crate::glue::ctx::Ctx;
use crate::glue::log::Log;
use crate::glue::log::fields;
use crate::glue::reply::Failure;
use crate::glue::upstream::{self, Answer, UpstreamError};
use crate::grant::UserView;
use crate::retry::{self, Attempt};

/// The signed-in user's CRM, for one request.
pub struct Crm<'a> {
    ctx: &'a Ctx,
    pub user: UserView,
    session: String,
    /// The sealed access token in use.
    sealed: String,
}

/// A [`Crm`] without the borrow of its request's context: what a streamed answer carries from
/// one page to the next.
pub struct CrmParts {
    user: UserView,
    session: String,
    sealed: String,
}

impl<'a> Crm<'a> {
    pub fn into_parts(self) -> CrmParts {
        CrmParts {
            user: self.user,
            session: self.session,
            sealed: self.sealed,
        }
    }

    pub fn from_parts(ctx: &'a Ctx, parts: CrmParts) -> Crm<'a> {
        Crm {
            ctx,
            user: parts.user,
            session: parts.session,
            sealed: parts.sealed,
        }
    }

    /// The request's session and a usable access token: one round trip to the grant's object.
    pub async fn for_request(req: &worker::Request, ctx: &'a Ctx) -> Result<Crm<'a>, Failure> {
        let signed_in = auth::current(req, ctx, true, None).await?;
        Crm::of(ctx, signed_in)
    }

    fn of(ctx: &'a Ctx, signed_in: SignedIn) -> Result<Crm<'a>, Failure> {
        let (sealed, _) = signed_in.access.ok_or_else(Failure::internal)?;
        Ok(Crm {
            ctx,
            user: signed_in.user,
            session: signed_in.session,
            sealed,
        })
    }

    /// `GET path`, read into `T` by [`zoho::crm::read`] (one parse): `None` when Zoho has no
    /// records. Anything that is not a `T` is a failure; `what` names the answer in its message
    /// ("Zoho's {what} is malformed.") and in the log.
    pub async fn get<T: serde::de::DeserializeOwned>(
        &mut self,
        path: &str,
        what: &str,
    ) -> Result<Option<T>, Failure> {
        let answer = self.call(Method::Get, path, None).await?;
        expect(self.ctx, what, zoho::crm::read(answer.status, &answer.body))
    }

    /// `method {api_domain}/crm/v8{path}`, with the user's token; refreshes and retries once on
    /// `INVALID_TOKEN`.
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Answer, Failure> {
        let token = self.token()?;
        let answer = self
            .send(&token, method.clone(), path, body.clone())
            .await?;
        if answer.status == 401 && is_invalid_token(&answer) {
            self.ctx
                .log
                .info("crm_invalid_token", fields!("user" => self.user.key));
            // The grant's object refreshes unless someone did since this token was handed out.
            let refused = std::mem::take(&mut self.sealed);
            let signed_in = auth::again(
                self.ctx,
                self.user.key.clone(),
                self.session.clone(),
                true,
                Some(refused),
            )
            .await?;
            *self = Crm::of(self.ctx, signed_in)?;
            let token = self.token()?;
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
        let (dc, env) = (self.user.location, self.user.environment);
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
                // A redirect is not followed, and asking again would only bring it again.
                Err(UpstreamError::Redirect(status)) => Attempt::Status(*status),
            };
            let Some(pause) = retry::pause_before_retry(is_get, outcome, attempt) else {
                return result.map_err(|e| upstream_failure(&self.ctx.log, "crm", &e));
            };
            self.ctx.log.info(
                "crm_retry",
                fields!("attempt" => attempt + 1, "after" => format!("{outcome:?}")),
            );
            worker::Delay::from(std::time::Duration::from_millis(pause)).await;
            attempt += 1;
        }
    }

    /// The access token in use, opened (it was sealed for this user).
    fn token(&self) -> Result<AccessToken, Failure> {
        crate::records::open_access(&self.ctx.config.token_keys, &self.user.key, &self.sealed)
            .ok_or_else(|| Failure {
                internal: Some(format!(
                    "the access token of {} does not open",
                    self.user.key
                )),
                ..Failure::internal()
            })
    }
}

fn is_invalid_token(answer: &Answer) -> bool {
    matches!(classify_response(answer.status, &answer.body), ApiResponse::Error(_, e) if e.error_code() == Some(ErrorCode::InvalidToken))
}

pub fn upstream_failure(log: &Log, call: &str, error: &UpstreamError) -> Failure {
    log.warn(
        "upstream_failed",
        fields!("call" => call, "error" => error.describe()),
    );
    match error {
        UpstreamError::Timeout => Failure::new(
            504,
            codes::UPSTREAM_TIMEOUT,
            "Zoho did not answer in time. Try again.",
        ),
        UpstreamError::Network(_) => Failure::upstream("Zoho could not be reached. Try again."),
        UpstreamError::Redirect(_) => {
            Failure::upstream("Zoho answered with a redirect, which is not followed.")
        }
    }
}

/// A read of Zoho in the portal's terms: its value, `None` for no records, or a failure.
pub fn expect<T>(ctx: &Ctx, what: &str, read: Read<T>) -> Result<Option<T>, Failure> {
    match read {
        Read::Ok(value) => Ok(Some(value)),
        Read::NoContent => Ok(None),
        Read::Malformed => Err(Failure::upstream(format!("Zoho's {what} is malformed."))),
        Read::Refused(other) => Err(crm_failure(ctx, what, other)),
    }
}

/// A whole-request error from Zoho, in the portal's terms. Decided on the typed code; Zoho's
/// own string goes to the log only.
pub fn crm_failure(ctx: &Ctx, call: &str, response: ApiResponse) -> Failure {
    let (status, code, known) = match &response {
        ApiResponse::Error(status, e) => (*status, e.code.clone(), e.error_code()),
        ApiResponse::Json(status, _) => (*status, "UNEXPECTED_STATUS".to_owned(), None),
        ApiResponse::NoContent => (204, "NO_CONTENT".to_owned(), None),
    };
    ctx.log.warn(
        "crm_error",
        fields!("call" => call, "status" => status, "code" => code),
    );
    match known {
        Some(ErrorCode::NoPermission) => {
            Failure::new(403, codes::NO_PERMISSION, "Zoho says you may not do this.")
        }
        Some(ErrorCode::OauthScopeMismatch) => Failure::new(
            403,
            codes::NO_PERMISSION,
            "Your Zoho sign-in does not allow this. Sign out and sign in again.",
        ),
        Some(ErrorCode::InvalidToken | ErrorCode::AuthenticationFailure) => {
            Failure::revoked_at_zoho()
        }
        Some(ErrorCode::TooManyRequests) => Failure::new(
            429,
            codes::RATE_LIMITED,
            "Zoho is busy. Try again in a moment.",
        ),
        Some(ErrorCode::InvalidUrlPattern | ErrorCode::NotFound) => crate::glue::leads::not_found(),
        _ => Failure::upstream(format!("Zoho failed ({code}). Try again.")),
    }
}
