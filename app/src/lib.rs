//! The portal's components. `main.rs` only mounts [`App`]; everything the browser shows lives here.
//!
//! - [`signin`]: the popup sign-in (and its full-page fallback) and what each ending looks like;
//! - [`students`]: the students table, paging and search;
//! - [`form`]: the add/edit form and the delete confirmation;
//! - [`import`]: the import of a spreadsheet (preview, progress, report);
//! - [`chunks`]: the students screen, the import dialog and the form, each its own Wasm chunk;
//! - [`tabs`]: the other open tabs of the portal told of sign-ins, sign-outs and changes;
//! - [`dom`]: the few browser calls Leptos does not wrap (storage, focus, random ids).
//!
//! Every element that tests and screenshots look for has a stable `data-testid`.

mod api;
mod chunks;
mod dom;
mod form;
mod import;
mod signin;
mod students;
mod tabs;

use leptos::either::EitherOf3 as Either3;
use leptos::prelude::*;
use zcrm_api::{SessionInfo, SignedOutReason};

pub use api::Failure;

/// Where the app is: what the main area shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Auth {
    /// Checking `/api/session` (or finishing a full-page sign-in) on load.
    Checking,
    SignedOut,
    SignedIn(SessionInfo),
}

/// A message for the whole page, under the header.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub error: bool,
    pub text: String,
}

/// Why the sign-in screen is shown, as the edge said it: the reason, the wait when known, and
/// the edge's own sentence (it names the organisation that is not served).
#[derive(Clone, Debug, PartialEq)]
pub struct SignedOutWhy {
    pub reason: SignedOutReason,
    pub retry_after_secs: Option<u64>,
    pub message: String,
}

/// Shared by every component (all fields are `Copy` signals).
#[derive(Clone, Copy)]
pub struct Ctx {
    pub auth: RwSignal<Auth>,
    pub notice: RwSignal<Option<Notice>>,
    /// Bumped when another tab changed students: the list loads again.
    pub students_changed: RwSignal<u32>,
    /// Shown on the sign-in screen: why you are not signed in (none on a first visit).
    pub signed_out: RwSignal<Option<SignedOutWhy>>,
}

impl Ctx {
    pub fn info(&self, text: impl Into<String>) {
        self.notice.set(Some(Notice {
            error: false,
            text: text.into(),
        }));
    }

    pub fn error(&self, text: impl Into<String>) {
        self.notice.set(Some(Notice {
            error: true,
            text: text.into(),
        }));
    }

    /// The edge said the session is over (a 401 on any call): back to sign-in, where the
    /// screen says why.
    pub fn session_ended(&self, failure: &Failure) {
        self.signed_out
            .set(Some(signin::why(failure).unwrap_or(SignedOutWhy {
                reason: SignedOutReason::SignedOut,
                retry_after_secs: None,
                message: String::new(),
            })));
        if form::has_draft() {
            self.info(
                "What you typed in the student form is kept: it opens again after you sign in.",
            );
        } else {
            self.notice.set(None);
        }
        self.auth.set(Auth::SignedOut);
    }
}

pub fn use_ctx() -> Ctx {
    expect_context::<Ctx>()
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx {
        auth: RwSignal::new(Auth::Checking),
        notice: RwSignal::new(None),
        students_changed: RwSignal::new(0),
        signed_out: RwSignal::new(None),
    };
    provide_context(ctx);
    signin::install(ctx);
    tabs::install(ctx);

    view! {
        <Header />
        <main id="main">
            <NoticeLine />
            {move || match ctx.auth.get() {
                Auth::Checking => Either3::A(view! {
                    <p class="muted" data-testid="checking-session" role="status">"Checking whether you are signed in…"</p>
                }),
                Auth::SignedOut => Either3::B(view! { <signin::SignIn /> }),
                Auth::SignedIn(_) => Either3::C(view! { <chunks::Students /> }),
            }}
        </main>
        <footer class="footer">
            <ApiStatus />
        </footer>
    }
}

/// The page-wide message: role `alert` for errors, `status` otherwise.
#[component]
fn NoticeLine() -> impl IntoView {
    let ctx = use_ctx();
    move || {
        ctx.notice.get().map(|n| {
            view! {
                <div
                    class=if n.error { "notice notice-error" } else { "notice" }
                    role=if n.error { "alert" } else { "status" }
                    data-testid="notice"
                >
                    <span>{n.text}</span>
                    <button
                        type="button"
                        class="link"
                        aria-label="Dismiss message"
                        on:click=move |_| ctx.notice.set(None)
                    >
                        "×"
                    </button>
                </div>
            }
        })
    }
}

/// The top bar: the portal's name, and who is signed in with the two ways to sign out.
#[component]
fn Header() -> impl IntoView {
    let ctx = use_ctx();
    let busy = RwSignal::new(false);
    let sign_out = move |everywhere: bool| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = api::logout(everywhere).await;
            busy.set(false);
            match result {
                Ok(()) => {
                    form::clear_draft();
                    ctx.signed_out.set(None);
                    ctx.auth.set(Auth::SignedOut);
                    ctx.info(if everywhere {
                        "You are signed out on every device, and the portal's access to your Zoho account is revoked."
                    } else {
                        "You are signed out."
                    });
                }
                Err(f) if f.is_unauthenticated() => {
                    form::clear_draft();
                    ctx.signed_out.set(None);
                    ctx.auth.set(Auth::SignedOut);
                    ctx.info("You are signed out.");
                }
                Err(f) => ctx.error(format!("Signing out failed: {}", f.message())),
            }
        });
    };

    view! {
        <header class="topbar">
            <div class="brand">
                <span class="brand-name">"Zylker Academy"</span>
                <span class="muted">"Student portal"</span>
            </div>
            {move || match ctx.auth.get() {
                Auth::SignedIn(user) => Some(view! {
                    <div class="user" data-testid="user">
                        <div class="user-info">
                            <span class="user-name" data-testid="user-name">{user.name.clone()}</span>
                            <span class="muted">
                                <span data-testid="user-org">{user.org_name.clone()}</span>
                                " · "
                                <span data-testid="user-dc" title="Zoho data centre and environment">
                                    {format!("{} · {}", user.data_center.to_uppercase(), user.environment)}
                                </span>
                            </span>
                        </div>
                        <div class="user-actions">
                            <button
                                type="button"
                                data-testid="sign-out"
                                disabled=move || busy.get()
                                on:click=move |_| sign_out(false)
                            >
                                "Sign out"
                            </button>
                            <button
                                type="button"
                                data-testid="sign-out-everywhere"
                                title="Ends every session of yours and revokes the portal's access at Zoho"
                                disabled=move || busy.get()
                                on:click=move |_| sign_out(true)
                            >
                                "Sign out everywhere"
                            </button>
                        </div>
                    </div>
                }),
                _ => None,
            }}
        </header>
    }
}

/// Shows whether the edge answers `GET /api/health`.
#[component]
fn ApiStatus() -> impl IntoView {
    let health = RwSignal::new(None);
    leptos::task::spawn_local(async move { health.set(Some(api::health().await)) });
    view! {
        <p class="api-status" data-testid="api-status">
            {move || match health.get() {
                None => "Checking the portal service…".to_owned(),
                Some(Ok(h)) => format!("Portal service: {} ({} {}, {})", h.status, h.service, h.version, h.environment),
                Some(Err(e)) => format!("Portal service unreachable: {}", e.message()),
            }}
        </p>
    }
}
