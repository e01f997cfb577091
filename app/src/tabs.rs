//! Tabs that agree: every open tab of the portal hears, through one `BroadcastChannel`, when
//! another tab signed in or out and when it changed a student, so each shows the same session
//! and the same list without a reload. Messages are plain strings (nothing secret: no token
//! ever reaches the browser): `in:<email>`, `out`, `students`. A message is a cue, not a fact:
//! who is signed in is asked of the Worker (`GET /api/session`) before a tab follows one.

use std::cell::OnceCell;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{BroadcastChannel, MessageEvent};

use zcrm_api::SignedOutReason;

use crate::{Auth, Ctx, api};

const CHANNEL: &str = "zcrm-portal";
const SIGNED_OUT: &str = "out";
const SIGNED_IN: &str = "in:";
const STUDENTS: &str = "students";

thread_local! {
    static OPEN: OnceCell<Option<BroadcastChannel>> = const { OnceCell::new() };
}

/// Posts `message` to the other tabs (never to this one); without the channel, nothing.
fn post(message: &str) {
    OPEN.with(|c| {
        if let Some(Some(channel)) = c.get() {
            let _ = channel.post_message(&message.into());
        }
    });
}

/// After this tab created, changed, deleted or imported students: the others load their list again.
pub fn students_changed() {
    post(STUDENTS);
}

/// Opens the channel, tells the other tabs of every sign-in and sign-out of this one, and
/// follows theirs.
pub fn install(ctx: Ctx) {
    let Ok(channel) = BroadcastChannel::new(CHANNEL) else {
        return;
    };
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
        let Some(message) = ev.data().as_string() else {
            return;
        };
        let shown = match ctx.auth.get_untracked() {
            Auth::SignedIn(user) => Some(user.email),
            _ => None,
        };
        if message == STUDENTS {
            ctx.students_changed.update(|n| *n = n.wrapping_add(1));
        } else if message == SIGNED_OUT {
            if shown.is_some() {
                // The Worker says whether the session (one cookie for every tab) really ended.
                leptos::task::spawn_local(async move {
                    match api::session().await {
                        // Ended for a reason of its own (expired, revoked at Zoho…): the
                        // sign-in screen says which.
                        Err(f)
                            if f.is_unauthenticated()
                                && crate::signin::why(&f)
                                    .is_some_and(|w| w.reason != SignedOutReason::SignedOut) =>
                        {
                            ctx.session_ended(&f)
                        }
                        Err(f) if f.is_unauthenticated() => {
                            ctx.auth.set(Auth::SignedOut);
                            ctx.info("You were signed out in another tab of the portal.");
                        }
                        _ => {}
                    }
                });
            }
        } else if let Some(email) = message.strip_prefix(SIGNED_IN)
            && shown.as_deref() != Some(email)
        {
            // Who it is comes from the Worker (the shared cookie), never from the message.
            leptos::task::spawn_local(async move {
                if let Ok(user) = api::session().await {
                    ctx.notice.set(None);
                    ctx.auth.set(Auth::SignedIn(user));
                }
            });
        }
    });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    OPEN.with(|c| {
        let _ = c.set(Some(channel));
    });

    // This tab's own changes of who is signed in, told to the others (a change a message
    // brought is told again; the tabs that already agree ignore it).
    Effect::new(move |before: Option<Option<String>>| {
        let now = match ctx.auth.get() {
            Auth::SignedIn(user) => Some(user.email),
            Auth::SignedOut => None,
            // Still checking: nothing changed yet.
            Auth::Checking => return before.flatten(),
        };
        if let Some(before) = before
            && before != now
        {
            match &now {
                Some(email) => post(&format!("{SIGNED_IN}{email}")),
                None => post(SIGNED_OUT),
            }
        }
        now
    });
}
