//! Calls to the edge. Only `/api/*` and `/auth/*` on the page's own origin, never Zoho.

use gloo_net::http::Request;
use zcrm_api::{ApiError, Health};

pub async fn health() -> Result<Health, String> {
    let response = Request::get("/api/health")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.ok() {
        response.json::<Health>().await.map_err(|e| e.to_string())
    } else {
        match response.json::<ApiError>().await {
            Ok(e) => Err(e.error.message),
            Err(_) => Err(format!("HTTP {}", response.status())),
        }
    }
}
