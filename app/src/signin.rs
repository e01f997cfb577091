//! Sign-in with Zoho: a popup on `/auth/start` (opened synchronously in the click handler), the
//! redirect page (`/redirect.html`, plain JS) handing `code`/`state`/`location`/`accounts-server`
//! or `error` over through localStorage, and `POST /auth/callback`. Without a popup (blocked), the
//! whole page goes to `/auth/start` and the redirect page comes back to `/`, where [`install`]
//! finds the values on load.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use leptos::either::EitherOf3 as Either3;
use leptos::ev;
use leptos::prelude::*;
use zcrm_api::{AUTH_START_PATH, CallbackRequest, SignedOutReason, codes, redirect_keys as keys};

use crate::{Auth, Ctx, SignedOutWhy, api, chunks, dom, use_ctx};

/// What the sign-in screen is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    /// The popup is open; waiting for the redirect page or for the popup to close.
    Waiting,
    /// The browser refused the popup.
    Blocked,
    /// `POST /auth/callback` is under way.
    Completing,
}

#[derive(Clone, Copy)]
struct SignInState {
    phase: RwSignal<Phase>,
}

/// Wires sign-in into the page: the `storage` listener, and on load the session check, then
/// (signed out only) the end of a full-page sign-in this tab started.
pub fn install(ctx: Ctx) {
    let state = SignInState {
        phase: RwSignal::new(Phase::Idle),
    };
    provide_context(state);

    // The redirect page writes `code` or `error` last: act on those (if they are this tab's).
    let listener = window_event_listener(ev::storage, move |e: web_sys::StorageEvent| {
        let key = e.key();
        if matches!(key.as_deref(), Some(keys::CODE) | Some(keys::ERROR))
            && e.new_value().is_some()
            && !matches!(ctx.auth.get_untracked(), Auth::SignedIn(_))
        {
            take_pending(ctx, state);
        }
    });
    // The app lives as long as the page.
    std::mem::forget(listener);

    leptos::task::spawn_local(async move {
        // No hint cookie, no session: signed out without asking (a first visit makes no
        // request that the browser would log as a failed one).
        let checked = if dom::has_cookie(zcrm_api::SESSION_HINT_COOKIE) {
            // Likely signed in: the students screen comes beside the session check.
            chunks::fetch_students();
            crate::students::ask_early();
            api::session().await
        } else {
            Err(api::Failure::signed_out_here())
        };
        match checked {
            Ok(user) => {
                // Signed in already: whatever was handed over is not acted on.
                if pending_is_mine() {
                    clear_keys();
                }
                end_attempt();
                ctx.auth.set(Auth::SignedIn(user));
            }
            Err(f) => {
                api::forget_early();
                if take_pending(ctx, state) {
                    return;
                }
                if f.is_unauthenticated() {
                    // A first visit is signed out too: only a reason worth telling is told.
                    ctx.signed_out
                        .set(why(&f).filter(|w| w.reason != SignedOutReason::SignedOut));
                } else {
                    ctx.error(format!(
                        "Could not check whether you are signed in: {}",
                        f.message()
                    ));
                }
                ctx.auth.set(Auth::SignedOut);
            }
        }
    });
}

/// What the edge said about why the user is not signed in, if it said.
pub fn why(f: &api::Failure) -> Option<SignedOutWhy> {
    f.signed_out()
        .map(|(reason, retry_after_secs)| SignedOutWhy {
            reason,
            retry_after_secs,
            message: f.message(),
        })
}

/// The sign-in screen's sentence for a reason.
fn reason_words(why: &SignedOutWhy) -> String {
    match why.reason {
        SignedOutReason::SignedOut => {
            "You were signed out (here, in another tab or on another device). Sign in again to carry on.".to_owned()
        }
        SignedOutReason::Expired => {
            "Your sign-in expired. Sign in again to carry on.".to_owned()
        }
        SignedOutReason::RevokedAtZoho => {
            "Zoho no longer accepts this portal's access to your account: it was revoked in Zoho, or replaced by a newer sign-in. Sign in again to carry on.".to_owned()
        }
        // The edge's sentence names the organisation and what to do.
        SignedOutReason::OrgNotAllowed => why.message.clone(),
        SignedOutReason::Throttled => format!(
            "Zoho is limiting sign-ins for now, so you are not signed in. Try again {}.",
            match why.retry_after_secs {
                Some(secs) => format!("in {}", wait_in_words(secs)),
                None => "in a few minutes".to_owned(),
            }
        ),
    }
}

fn wait_in_words(secs: u64) -> String {
    match secs {
        0..=59 => format!("{} seconds", secs.max(1)),
        60..=119 => "a minute".to_owned(),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

fn clear_keys() {
    for key in [
        keys::CODE,
        keys::STATE,
        keys::LOCATION,
        keys::ACCOUNTS_SERVER,
        keys::ERROR,
        keys::ATTEMPT,
    ] {
        dom::local_remove(key);
    }
}

/// A new sign-in of this tab, remembered in its session storage (which a popup it opens
/// starts with a copy of) before the popup opens or the page leaves.
fn begin_attempt() {
    let now = web_sys::js_sys::Date::now() as u64;
    dom::session_set(
        keys::SIGN_IN_ATTEMPT,
        &format!("{}.{now}", dom::random_id()),
    );
}

fn end_attempt() {
    dom::session_remove(keys::SIGN_IN_ATTEMPT);
}

/// This tab's sign-in, while it is young enough to finish.
fn current_attempt() -> Option<String> {
    let attempt = dom::session_get(keys::SIGN_IN_ATTEMPT)?;
    let started: u64 = attempt.rsplit_once('.')?.1.parse().ok()?;
    let now = web_sys::js_sys::Date::now() as u64;
    let young = now.saturating_sub(started) <= zcrm_api::SIGN_IN_MAX_AGE_SECS * 1000;
    if !young {
        end_attempt();
    }
    young.then_some(attempt)
}

/// Whether what the redirect page left belongs to this tab's young sign-in.
fn pending_is_mine() -> bool {
    current_attempt().is_some_and(|mine| dom::local_get(keys::ATTEMPT).as_deref() == Some(&mine))
}

/// Reads and removes what the redirect page left, and acts on it, if it is this tab's young
/// sign-in's. `false` if nothing of this tab's was there (other tabs' values are left to them).
fn take_pending(ctx: Ctx, state: SignInState) -> bool {
    let code = dom::local_get(keys::CODE);
    let error = dom::local_get(keys::ERROR);
    if code.is_none() && error.is_none() || !pending_is_mine() {
        return false;
    }
    let request = CallbackRequest {
        code: code.unwrap_or_default(),
        state: dom::local_get(keys::STATE).unwrap_or_default(),
        location: dom::local_get(keys::LOCATION).unwrap_or_default(),
        accounts_server: dom::local_get(keys::ACCOUNTS_SERVER).unwrap_or_default(),
    };
    clear_keys();
    end_attempt();
    ctx.signed_out.set(None);
    if let Some(error) = error {
        state.phase.set(Phase::Idle);
        ctx.auth.set(Auth::SignedOut);
        // Only the errors Zoho is known to send are shown, in words: never the value itself.
        ctx.error(
            zcrm_api::authorize_error_words(&error)
                .unwrap_or("Zoho could not sign you in. Try signing in again."),
        );
        return true;
    }
    state.phase.set(Phase::Completing);
    // The students screen comes while the edge completes the sign-in (if the popup's opening
    // did not already fetch it).
    chunks::fetch_students();
    ctx.notice.set(None);
    leptos::task::spawn_local(async move {
        let result = api::callback(&request).await;
        state.phase.set(Phase::Idle);
        match result {
            Ok(user) => {
                ctx.notice.set(None);
                ctx.auth.set(Auth::SignedIn(user));
            }
            Err(f) => {
                ctx.auth.set(Auth::SignedOut);
                match why(&f) {
                    // Not signed in for a reason the sign-in screen tells.
                    Some(why) => ctx.signed_out.set(Some(why)),
                    None => ctx.error(callback_message(&f)),
                }
            }
        }
    });
    true
}

fn callback_message(f: &api::Failure) -> String {
    match f.code() {
        codes::INVALID_GRANT => {
            "The sign-in code from Zoho expired or was already used. Please sign in again.".into()
        }
        codes::INVALID_STATE => {
            "This sign-in attempt expired or was started in another window. Please sign in again."
                .into()
        }
        codes::RATE_LIMITED => f.message(),
        "network" => "The portal service could not be reached, so sign-in did not finish. Check your connection and sign in again.".into(),
        _ => format!("Sign-in did not finish: {} Please try again.", f.message()),
    }
}

/// Opens the popup. Must run synchronously inside the click handler: no `await` before
/// `window.open`, or the browser blocks it.
fn open_popup(ctx: Ctx, state: SignInState) {
    clear_keys();
    begin_attempt();
    ctx.notice.set(None);
    ctx.signed_out.set(None);
    let popup = window()
        .open_with_url_and_target_and_features(
            AUTH_START_PATH,
            // A new name each attempt: no other window can guess it to navigate the popup.
            &format!("zcrm-signin-{}", dom::random_id()),
            "popup,width=520,height=680",
        )
        .ok()
        .flatten();
    let Some(popup) = popup else {
        state.phase.set(Phase::Blocked);
        dom::focus_id_soon("full-page-sign-in");
        return;
    };
    let _ = popup.focus();
    state.phase.set(Phase::Waiting);
    // While the user is at Zoho, the screen that follows a sign-in is fetched.
    chunks::fetch_students();
    // Fallback for a missed `storage` event, and the only way to notice a popup closed early.
    let handle: Rc<Cell<Option<IntervalHandle>>> = Rc::new(Cell::new(None));
    let inner = Rc::clone(&handle);
    let tick = move || {
        let stop = || {
            if let Some(h) = inner.take() {
                h.clear();
            }
        };
        if state.phase.get_untracked() != Phase::Waiting {
            stop();
            return;
        }
        if popup.closed().unwrap_or(true) {
            stop();
            if !take_pending(ctx, state) {
                state.phase.set(Phase::Idle);
                ctx.error(
                    "The sign-in window was closed before sign-in finished. You are not signed in.",
                );
                dom::focus_id_soon("sign-in");
            }
        }
    };
    if let Ok(h) = set_interval_with_handle(tick, Duration::from_millis(400)) {
        handle.set(Some(h));
    }
}

/// The signed-out screen.
#[component]
pub fn SignIn() -> impl IntoView {
    let ctx = use_ctx();
    let state = expect_context::<SignInState>();
    let phase = state.phase;
    view! {
        <section class="card signin" data-testid="sign-in-screen" aria-labelledby="sign-in-title">
            <h1 id="sign-in-title">"Sign in"</h1>
            {move || ctx.signed_out.get().map(|why| view! {
                <p class="signed-out-reason" role="status" data-testid="signed-out-reason" data-reason=why.reason.as_str()>
                    {reason_words(&why)}
                </p>
            })}
            <p>"Manage Zylker Academy's students in Zoho CRM. Sign in with your Zoho account: a Zoho window opens, and your password never reaches this portal."</p>
            <button
                type="button"
                id="sign-in"
                class="primary"
                data-testid="sign-in"
                disabled=move || matches!(phase.get(), Phase::Completing)
                on:click=move |_| open_popup(ctx, state)
            >
                "Sign in with Zoho"
            </button>
            {move || match phase.get() {
                Phase::Idle => None,
                Phase::Waiting => Some(Either3::A(view! {
                    <p class="muted" role="status" data-testid="sign-in-waiting">
                        "Finish signing in in the Zoho window. If you cannot find it, press the button again."
                    </p>
                })),
                Phase::Completing => Some(Either3::B(view! {
                    <p class="muted" role="status" data-testid="sign-in-completing">"Signing you in…"</p>
                })),
                Phase::Blocked => Some(Either3::C(view! {
                    <div class="blocked" role="alert" data-testid="popup-blocked">
                        <p>"Your browser blocked the Zoho sign-in window. Allow pop-ups for this site and try again, or sign in in this window instead (you come back here afterwards)."</p>
                        <button
                            type="button"
                            id="full-page-sign-in"
                            data-testid="full-page-sign-in"
                            on:click=move |_| {
                                begin_attempt();
                                dom::navigate(AUTH_START_PATH)
                            }
                        >
                            "Sign in in this window"
                        </button>
                    </div>
                })),
            }}
        </section>
    }
}
