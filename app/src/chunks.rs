//! The parts of the app a first visit does not need, each its own Wasm chunk: the students
//! screen, the import dialog and the add/edit form. The build splits them off the main module at
//! these functions (`wasm_split`, Trunk's post-build hook `cargo xtask split-app`:
//! xtask/src/split.rs).
//!
//! - The students screen is fetched as soon as a signed-in screen is likely: on load when the
//!   session's hint cookie is there (beside the session check, not after it), when a full-page
//!   sign-in comes back, and when the sign-in popup opens (while the user is at Zoho). A first
//!   visit, signed out, fetches none of it.
//! - The import dialog and the form are fetched once the list's first answer is drawn (not beside
//!   it: they would slow the list's own paint), so they are there by the time they are clicked.
//!
//! A chunk that cannot be fetched (offline, a deploy in between) is said in words, and the rest
//! of the portal keeps working: the loads are `fallible`, never a panic (which would abort the
//! whole app), and a failed load is tried again the next time it is asked for.

use leptos::prelude::*;
use leptos::wasm_split::{SplitLoaderError, wasm_split};

use crate::students::StudentsCtx;
use crate::use_ctx;

/// A chunk that did not arrive.
#[derive(Clone, Copy, Debug)]
pub struct NotLoaded;

impl From<SplitLoaderError> for NotLoaded {
    fn from(_: SplitLoaderError) -> Self {
        NotLoaded
    }
}

#[wasm_split(students_screen, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_students))]
fn students_chunk() -> Result<AnyView, NotLoaded> {
    Ok(view! { <crate::students::Students /> }.into_any())
}

/// Starts fetching the students screen's chunk, if it is not there yet (it is fetched once).
pub fn fetch_students() {
    leptos::task::spawn_local(async {
        // A failure is not kept: the screen asks again, and says so if it fails again.
        let _ = preload_students().await;
    });
}

/// The students screen. Until its chunk is there, a line says it is coming; if it does not
/// come, a line says so, with a button to try again.
#[component]
pub fn Students() -> impl IntoView {
    // Bumped by "Try again"; `loading` until this attempt has its answer, chunk or not.
    let attempt = RwSignal::new(0u32);
    let loading = RwSignal::new(true);
    view! {
        {move || loading.get().then(|| view! {
            <p class="muted" role="status" data-testid="students-loading">"Loading the students…"</p>
        })}
        {move || {
            attempt.track();
            Suspend::new(async move {
                let loaded = students_chunk().await;
                loading.set(false);
                loaded.unwrap_or_else(|NotLoaded| view! {
                    <div class="error-box" role="alert" data-testid="students-not-loaded">
                        <p>"The students could not be loaded: check your connection and try again."</p>
                        <button
                            type="button"
                            on:click=move |_| {
                                loading.set(true);
                                attempt.update(|n| *n += 1);
                            }
                        >
                            "Try again"
                        </button>
                    </div>
                }
                .into_any())
            })
        }}
    }
}

#[wasm_split(import_dialog, wasm_split_path = ::leptos::wasm_split, fallible)]
fn import_chunk() -> Result<AnyView, NotLoaded> {
    Ok(view! { <crate::import::ImportButton /> }.into_any())
}

#[wasm_split(student_form, wasm_split_path = ::leptos::wasm_split, fallible)]
fn form_chunk() -> Result<AnyView, NotLoaded> {
    Ok(view! { <crate::form::StudentForm /> }.into_any())
}

/// The "Import CSV" button and its dialog. Until its chunk is there, the same button, disabled,
/// holds its place (nothing moves when it arrives). No `<Suspense>` for that: its code would
/// cost the first load 3.8 KB gzip.
#[component]
pub fn Import() -> impl IntoView {
    let waiting = |title: &'static str| {
        view! {
            <button type="button" id="import-open" disabled=true title=title>
                "Import CSV"
            </button>
        }
    };
    let arrived = RwSignal::new(false);
    let drawn = expect_context::<StudentsCtx>().drawn;
    view! {
        {move || (!arrived.get()).then(|| waiting("Loading…"))}
        {move || drawn.get().then(|| Suspend::new(async move {
            let view = match import_chunk().await {
                Ok(view) => view,
                Err(NotLoaded) => waiting(
                    "The import could not be loaded: check your connection and reload the page.",
                )
                .into_any(),
            };
            arrived.set(true);
            view
        }))}
    }
}

/// The add/edit form (a modal dialog: nothing on the page until it opens). If its chunk does not
/// arrive, asking for the form says so instead of doing nothing.
#[component]
pub fn Form() -> impl IntoView {
    let drawn = expect_context::<StudentsCtx>().drawn;
    view! {
        {move || drawn.get().then(|| Suspend::new(async move {
            match form_chunk().await {
                Ok(view) => view,
                Err(NotLoaded) => view! { <FormNotLoaded /> }.into_any(),
            }
        }))}
    }
}

#[component]
fn FormNotLoaded() -> impl IntoView {
    let ctx = use_ctx();
    let sctx = expect_context::<StudentsCtx>();
    Effect::new(move |_| {
        if sctx.form.get().is_some() {
            sctx.form.set(None);
            ctx.error(
                "The student form could not be loaded: check your connection and reload the page.",
            );
        }
    });
}
