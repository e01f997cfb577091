//! The portal's components. `main.rs` only mounts [`App`]; everything the browser shows lives here.

mod api;

use leptos::prelude::*;

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <header class="topbar">
            <h1>"Zylker Academy"</h1>
            <span class="subtitle">"Student portal"</span>
        </header>
        <main>
            <ApiStatus />
        </main>
    }
}

/// Shows whether the edge answers `GET /api/health`.
#[component]
fn ApiStatus() -> impl IntoView {
    let health = LocalResource::new(api::health);
    view! {
        <p class="api-status" data-testid="api-status">
            {move || match health.get() {
                None => "Checking the portal service…".to_owned(),
                Some(Ok(h)) => format!("Portal service: {} ({} {}, {})", h.status, h.service, h.version, h.environment),
                Some(Err(e)) => format!("Portal service unreachable: {e}"),
            }}
        </p>
    }
}
