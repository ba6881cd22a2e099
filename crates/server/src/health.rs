//! Liveness and readiness probes.

use axum::extract::State;
use axum::Json;
use bankfeeds_store::Durability;
use serde::Serialize;

use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct HealthOut {
    pub status: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReadyOut {
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// `full`: every acknowledged write survives a power cut. `reduced`: the operator chose
    /// settings under which acknowledged writes can be lost; `warning` says which.
    pub durability: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = HealthOut)))]
pub async fn healthz() -> Json<HealthOut> {
    Json(HealthOut { status: "ok" })
}

/// The process can serve: its database answers.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses((status = 200, body = ReadyOut), (status = 503, body = crate::http::error::ErrorOut))
)]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<ReadyOut>> {
    match state.store.ping().await {
        Ok(()) => {
            let (durability, warning) = match state.store.durability() {
                Durability::Full => ("full", None),
                Durability::Reduced(why) => ("reduced", Some(why)),
            };
            Ok(Json(ReadyOut {
                status: "ready",
                database: state.store.backend(),
                durability,
                warning,
            }))
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::unavailable("the database is not reachable"))
        }
    }
}
