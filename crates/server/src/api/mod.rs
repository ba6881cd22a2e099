//! The Rutter-shaped API under `/versioned`.

pub mod connections;
pub mod pagination;

use axum::routing::{delete, get, post};
use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/versioned/connections", get(connections::list_connections))
        .route(
            "/versioned/connections/create",
            post(connections::create_connection),
        )
        .route(
            "/versioned/connections/access_token",
            get(connections::get_connection),
        )
        .route(
            "/versioned/connections/status",
            get(connections::get_connection_status),
        )
        .route(
            "/versioned/connections/{id}",
            delete(connections::delete_connection),
        )
}
