//! The built-in sandbox accounting platforms (QuickBooks Online, Xero, Sage Intacct, Sage
//! Business Cloud, NetSuite): companies, "connect your bank", linked feeds and ingestion, as web
//! pages (`pages`) and as a JSON interface for tests and scripts (`api`), over one set of
//! operations (`ops`) and one set of ingestion rules (`sync`). Mounted only when the operator
//! turns them on, and then only for someone who knows the sandbox password (`signin`).

pub mod api;
pub mod ops;
pub mod pages;
pub mod signin;
pub mod sync;

use axum::middleware::from_fn_with_state;
use axum::Router;

use crate::state::AppState;

/// The sandboxes' routes: the JSON interface behind the sandbox password, the pages behind a
/// signed-in session, and the sign-in itself.
pub fn router(state: &AppState) -> Router<AppState> {
    api::router()
        .route_layer(from_fn_with_state(state.clone(), signin::require_password))
        .merge(
            pages::router().route_layer(from_fn_with_state(state.clone(), signin::require_session)),
        )
        .merge(signin::router())
}
