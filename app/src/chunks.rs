//! The parts of the app the first screen does not need, each its own Wasm chunk: the import
//! dialog and the add/edit form. The build splits them off the main module at these functions
//! (`wasm_split`, Trunk's post-build hook `cargo xtask split-app`: xtask/src/split.rs) and the
//! list fetches them as soon as its first answer is drawn (not beside it: they would slow the
//! list's own paint), so they are there by the time they are clicked.
//!
//! A chunk that cannot be fetched (offline, a deploy in between) is said in words, and the rest
//! of the portal keeps working: the loads are `fallible`, never a panic (which would abort the
//! whole app).

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
