//! `…/connectionInfo/bankFeedAccounts/credentials`: the username and password a QuickBooks
//! customer types into QuickBooks, generated (a new set each call, stored hashed) and revoked.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::connections::DataConnection;
use super::error::CodatResult;
use super::responses::{Missing, Refused};
use super::wire::Credentials;
use crate::state::AppState;

/// `POST …/bankFeedAccounts/credentials`: a new username and password for the customer to type
/// into QuickBooks; each call a new set. The SDK sends an odd body (a JSON string); it is
/// ignored.
#[utoipa::path(
    post,
    path = "/codat/companies/{companyId}/connections/{connectionId}/connectionInfo/bankFeedAccounts/credentials",
    operation_id = "generate-credentials",
    tag = "Source accounts",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id")),
    responses((status = 200, description = "A new set; the password is shown only here", body = Credentials), Refused, Missing),
)]
pub async fn generate(
    State(state): State<AppState>,
    DataConnection(cc): DataConnection,
) -> CodatResult<Json<Credentials>> {
    let (credentials, password) = bankfeeds_domain::credentials::BankFeedCredentials::generate(
        &cc.connection,
        state.clock.now(),
    );
    state.store.create_credentials(&credentials).await?;
    tracing::info!(connection_id = %cc.connection.id, "bank feed credentials generated");
    Ok(Json(Credentials {
        username: credentials.username,
        password: password.expose().to_owned(),
    }))
}

/// `DELETE …/bankFeedAccounts/credentials`: revokes every set of the connection; 204.
#[utoipa::path(
    delete,
    path = "/codat/companies/{companyId}/connections/{connectionId}/connectionInfo/bankFeedAccounts/credentials",
    operation_id = "delete-bank-credentials",
    tag = "Source accounts",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id")),
    responses((status = 204, description = "Every set revoked"), Refused, Missing),
)]
pub async fn delete(
    State(state): State<AppState>,
    DataConnection(cc): DataConnection,
) -> CodatResult<Response> {
    state
        .store
        .revoke_credentials(cc.connection.id, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
