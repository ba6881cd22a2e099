//! `POST`/`DELETE /versioned/connections/:id/ofx_credentials`: what the FI's customer types into
//! Quicken, QuickBooks Desktop or GnuCash to download an `OFX_DIRECT_CONNECT` connection's feeds.
//!
//! The password is shown only in the answer and stored hashed; a new call replaces the set (the
//! old one stops working at once), `DELETE` revokes it. `Idempotency-Key` does not apply, as for
//! OTPs: a hashed secret cannot be replayed, and a retry simply makes the newest set the one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonOut;
use bankfeeds_domain::ofx::{OfxCredentials, OfxInstitution};
use bankfeeds_domain::{Connection, ConnectionId, Org, Platform};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ApiResult};
use crate::http::path::InPath;
use crate::http::responses::{Conflict, Gone, Refusals};
use crate::rutter::connections::DeletedOut;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct OfxCredentialsOut {
    /// The Direct Connect URL the client posts to (`<public_url>/ofx/<organisation id>`).
    pub url: String,
    /// OFX `ORG` (the FI's name for OFX clients).
    pub org: String,
    /// OFX `FID`.
    pub fid: String,
    /// The routing number clients show for bank accounts (an account's own `routing_number`
    /// wins where it has one).
    pub bank_id: String,
    /// OFX `USERID`.
    pub user_id: String,
    /// OFX `USERPASS`: shown only here, stored hashed.
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfxCredentialsEnvelopeOut {
    pub ofx_credentials: OfxCredentialsOut,
}

/// The live `OFX_DIRECT_CONNECT` connection `id` of `org`, or the error that says why not.
async fn ofx_connection(state: &AppState, org: &Org, id: ConnectionId) -> ApiResult<Connection> {
    let c = state
        .store
        .get_connection(org.id, id)
        .await?
        .ok_or_else(|| crate::rutter::connections::not_a_connection(id))?;
    if c.platform != Platform::OfxDirectConnect {
        return Err(ApiError::conflict(
            "NOT_AN_OFX_CONNECTION",
            format!(
                "connection {id} is for {}; OFX credentials exist only for OFX_DIRECT_CONNECT connections",
                c.platform
            ),
        ));
    }
    Ok(c)
}

/// Generate OFX Direct Connect credentials for the connection (replacing any earlier set).
#[utoipa::path(
    post,
    path = "/versioned/connections/{id}/ofx_credentials",
    tag = "connections",
    params(("id" = uuid::Uuid, Path, description = "The connection's id (an OFX_DIRECT_CONNECT one)")),
    responses(
        (status = 201, body = OfxCredentialsEnvelopeOut),
        Refusals, Conflict, Gone,
    ),
)]
pub async fn create_ofx_credentials(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    InPath(id): InPath<ConnectionId>,
) -> ApiResult<(StatusCode, JsonOut<OfxCredentialsEnvelopeOut>)> {
    let c = ofx_connection(&state, &org, id).await?;
    let (creds, password) = OfxCredentials::generate(&c, state.clock.now());
    state.store.replace_ofx_credentials(&creds).await?;
    let config = state
        .store
        .get_fi_config(org.id, Platform::OfxDirectConnect)
        .await?;
    let fi = OfxInstitution::of(&org.name, config.as_ref());
    tracing::info!(connection_id = %c.id, "OFX credentials issued");
    Ok((
        StatusCode::CREATED,
        JsonOut(OfxCredentialsEnvelopeOut {
            ofx_credentials: OfxCredentialsOut {
                url: format!("{}/ofx/{}", state.public_base, org.id),
                org: fi.org,
                fid: fi.fid,
                bank_id: fi.bank_id,
                user_id: creds.user_id,
                password: password.expose().to_owned(),
            },
        }),
    ))
}

/// Revoke the connection's OFX Direct Connect credentials: sign-ons with them fail from now on.
#[utoipa::path(
    delete,
    path = "/versioned/connections/{id}/ofx_credentials",
    tag = "connections",
    params(("id" = uuid::Uuid, Path, description = "The connection's id (an OFX_DIRECT_CONNECT one)")),
    responses(
        (status = 200, body = DeletedOut),
        Refusals, Conflict, Gone,
    ),
)]
pub async fn delete_ofx_credentials(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    InPath(id): InPath<ConnectionId>,
) -> ApiResult<JsonOut<DeletedOut>> {
    let c = ofx_connection(&state, &org, id).await?;
    if !state.store.revoke_ofx_credentials(c.id).await? {
        return Err(ApiError::gone(
            "OFX_CREDENTIALS_NOT_FOUND",
            format!("connection {} has no OFX credentials", c.id),
        ));
    }
    tracing::info!(connection_id = %c.id, "OFX credentials revoked");
    Ok(JsonOut(DeletedOut { success: true }))
}
