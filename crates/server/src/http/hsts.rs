//! `Strict-Transport-Security` on every answer when browsers reach the hub over https (its
//! `public_url`), so they never fall back to plain http for it; nothing over plain http, where
//! the header means nothing and would only mislead.

use axum::extract::{Request, State};
use axum::http::header::STRICT_TRANSPORT_SECURITY;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// One year; subdomains are the operator's to decide, so they are left out.
pub const HSTS: &str = "max-age=31536000";

pub async fn add(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if state.secure_cookies() {
        response
            .headers_mut()
            .insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    response
}
