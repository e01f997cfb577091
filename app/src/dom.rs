//! The few browser calls that Leptos does not wrap. Storage that is missing or refuses (private
//! modes, quotas) behaves as empty: nothing here panics.

use leptos::prelude::window;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, Storage};

fn local() -> Option<Storage> {
    window().local_storage().ok().flatten()
}

fn session() -> Option<Storage> {
    window().session_storage().ok().flatten()
}

/// Whether the page's cookies (those its script may read) include `name`.
pub fn has_cookie(name: &str) -> bool {
    let cookies = window()
        .document()
        .and_then(|d| web_sys::js_sys::Reflect::get(&d, &"cookie".into()).ok())
        .and_then(|c| c.as_string())
        .unwrap_or_default();
    cookies
        .split(';')
        .any(|pair| pair.trim().split('=').next() == Some(name))
}

pub fn local_get(key: &str) -> Option<String> {
    local()?.get_item(key).ok().flatten()
}

pub fn local_remove(key: &str) {
    if let Some(s) = local() {
        let _ = s.remove_item(key);
    }
}

pub fn session_get(key: &str) -> Option<String> {
    session()?.get_item(key).ok().flatten()
}

pub fn session_set(key: &str, value: &str) {
    if let Some(s) = session() {
        let _ = s.set_item(key, value);
    }
}

pub fn session_remove(key: &str) {
    if let Some(s) = session() {
        let _ = s.remove_item(key);
    }
}

/// Moves keyboard focus to the element with this id, if there is one.
pub fn focus_id(id: &str) {
    if let Some(el) = window()
        .document()
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// Focuses `id` once the current render has reached the DOM.
pub fn focus_id_soon(id: &'static str) {
    leptos::prelude::request_animation_frame(move || focus_id(id));
}

/// A random id for an `Idempotency-Key` (a UUID from WebCrypto).
pub fn random_id() -> String {
    window()
        .crypto()
        .ok()
        .map(|c| c.random_uuid())
        .unwrap_or_else(|| {
            let r = || (web_sys::js_sys::Math::random() * f64::from(u32::MAX)) as u32;
            format!("{:08x}{:08x}{:08x}{:08x}", r(), r(), r(), r())
        })
}

/// Leaves the app for a same-origin URL (the full-page sign-in).
pub fn navigate(url: &str) {
    let _ = window().location().assign(url);
}

/// A parameter of the page's own query, decoded.
pub fn url_param(name: &str) -> Option<String> {
    let search = window().location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

/// Shows `query` as the page's URL query (no new history entry; nothing is loaded).
pub fn set_url_query(query: &str) {
    let w = window();
    let path = w.location().pathname().unwrap_or_else(|_| "/".to_owned());
    let url = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    if let Ok(history) = w.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}
