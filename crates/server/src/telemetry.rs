//! Logging via `tracing`, human-readable or JSON; one span per request, named by its route.
//!
//! Request spans carry the method, the route template and the request id, never the URI: query
//! strings hold access tokens.

use axum::extract::{MatchedPath, Request};
use tower_http::request_id::RequestId;
use tracing::Span;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. Call once, from `main`.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal, not in files or log collectors.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
    }
}

pub fn request_span(req: &Request) -> Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-")
        .to_owned();
    // `org_id` is filled in once the caller has authenticated (`http::auth`), so every line a
    // request logs, its refusal included, says whose request it was.
    tracing::info_span!(
        "request",
        method = %req.method(),
        route = %route,
        request_id = %request_id,
        org_id = tracing::field::Empty,
    )
}
