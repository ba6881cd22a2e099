//! `/versioned/connections`: an FI creates one connection per business customer and platform,
//! and selects it on later calls with the connection's `access_token`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json as JsonOut;
use bankfeeds_domain::{Connection, ConnectionId, NewConnection};
use bankfeeds_store::Outcome;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::auth::{ConnectionAuth, OrgAuth};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::http::idempotency::{idem, replay, saved, IdempotentJson};
use crate::http::pagination::{ListParams, PageOut};
use crate::http::path::InPath;
use crate::http::responses::{BodyRefusals, Gone, Refusals};
use crate::state::AppState;

pub use bankfeeds_wire::connections::*;

fn created_out(
    state: &AppState,
    c: &Connection,
    access_token: Option<String>,
) -> ConnectionCreateOut {
    let connection = ConnectionCreatedOut {
        link_url: link_url(state, c.id),
        id: c.id,
        access_token,
        name: c.name.clone(),
        platform: c.platform,
    };
    ConnectionCreateOut { connection }
}

/// A store's `NotFound` for connection `id` as this door says it (410); anything else as is.
pub(crate) fn connection_gone(e: bankfeeds_store::StoreError, id: ConnectionId) -> ApiError {
    match e {
        bankfeeds_store::StoreError::NotFound => not_a_connection(id),
        other => other.into(),
    }
}

/// 410 `CONNECTION_NOT_FOUND`: no connection `id` in the caller's organisation.
pub(crate) fn not_a_connection(id: ConnectionId) -> ApiError {
    ApiError::gone(
        "CONNECTION_NOT_FOUND",
        format!("no connection {id} in this organisation"),
    )
}

/// The connection as another answer names it.
pub fn connection_ref(c: &Connection) -> ConnectionRefOut {
    ConnectionRefOut {
        id: c.id,
        org_id: c.org_id.to_string(),
        platform: c.platform,
    }
}

/// `?access_token=` as documented; the extractor reads it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessTokenParam {
    /// The connection's access token.
    #[allow(dead_code)]
    #[param(min_length = 1)]
    pub access_token: String,
}

fn link_url(state: &AppState, id: ConnectionId) -> String {
    format!("{}/link/connections/{id}", state.public_base)
}

fn connection_out(state: &AppState, c: Connection) -> ConnectionOut {
    ConnectionOut {
        link_url: link_url(state, c.id),
        id: c.id,
        platform: c.platform,
        name: c.name,
        disabled: false,
        needs_update: false,
        unavailable_objects: Vec::new(),
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

/// Create a connection for one business customer and platform.
#[utoipa::path(
    post,
    path = "/versioned/connections/create",
    tag = "connections",
    request_body = ConnectionIn,
    responses(
        (status = 200, body = ConnectionCreateOut),
        Refusals, BodyRefusals,
    ),
)]
pub async fn create_connection(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    req: IdempotentJson<ConnectionIn>,
) -> ApiResult<Response> {
    let body = &req.body;
    let (new, token) = NewConnection::generate(
        org.id,
        body.platform,
        body.name.as_deref(),
        state.clock.now(),
    )
    .map_err(|e| ApiError::bad_request("INVALID_FIELD_VALUE", format!("field `name`: {e}")))?;
    let created = |c: &Connection, token: Option<String>| created_out(&state, c, token);
    let key = req.key_for(org.id);
    // The saved answer leaves the token out: secrets are stored only hashed.
    let render = |c: &Connection| saved(200, &created(c, None));
    let idem = idem(&key, &render);
    match state.store.create_connection(&new, idem).await? {
        Outcome::Replayed(saved) => Ok(replay(saved)),
        Outcome::Done(()) => {
            let c = &new.connection;
            tracing::info!(connection_id = %c.id, platform = %c.platform, "connection created");
            Ok(JsonOut(created(c, Some(token.expose().to_owned()))).into_response())
        }
    }
}

/// List the organisation's connections, oldest first.
#[utoipa::path(
    get,
    path = "/versioned/connections",
    tag = "connections",
    params(ListParams),
    responses(
        (status = 200, body = ConnectionListOut),
        Refusals,
    ),
)]
pub async fn list_connections(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    Query(params): Query<ListParams>,
) -> ApiResult<JsonOut<ConnectionListOut>> {
    let page = params.page_request(|key| key.parse::<ConnectionId>().ok())?;
    let found = state.store.list_connections(org.id, &page).await?;
    let PageOut { items, next_cursor } = PageOut::from_page(found, |c| c.id.to_string());
    Ok(JsonOut(ConnectionListOut {
        connections: items
            .into_iter()
            .map(|c| connection_out(&state, c))
            .collect(),
        next_cursor,
    }))
}

/// Fetch the connection an access token belongs to.
#[utoipa::path(
    get,
    path = "/versioned/connections/access_token",
    tag = "connections",
    params(AccessTokenParam),
    responses(
        (status = 200, body = ConnectionGetOut),
        Refusals,
    ),
)]
pub async fn get_connection(
    State(state): State<AppState>,
    auth: ConnectionAuth,
) -> JsonOut<ConnectionGetOut> {
    JsonOut(ConnectionGetOut {
        connection: connection_out(&state, auth.connection),
    })
}

/// The status of the connection an access token belongs to.
#[utoipa::path(
    get,
    path = "/versioned/connections/status",
    tag = "connections",
    params(AccessTokenParam),
    responses(
        (status = 200, body = ConnectionStatusOut),
        Refusals,
    ),
)]
pub async fn get_connection_status(
    State(state): State<AppState>,
    auth: ConnectionAuth,
) -> JsonOut<ConnectionStatusOut> {
    let c = auth.connection;
    JsonOut(ConnectionStatusOut {
        connection: connection_ref(&c),
        status: StatusOut {
            created_at: c.created_at,
            is_ready: true,
            is_healthy: true,
            link_url: link_url(&state, c.id),
            platform: c.platform,
            disabled_status: DisabledStatusOut {
                is_disabled: false,
                disabled_reason: None,
            },
            needs_update_status: NeedsUpdateStatusOut {
                needs_update: false,
            },
        },
    })
}

/// Delete a connection. Its access token stops working at once, and its bank feed accounts are
/// deleted with it: their feeds leave every accounting platform and are no longer synced.
#[utoipa::path(
    delete,
    path = "/versioned/connections/{id}",
    tag = "connections",
    params(InPath<ConnectionId>),
    responses(
        (status = 200, body = DeletedOut),
        Refusals, Gone,
    ),
)]
pub async fn delete_connection(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    InPath(id): InPath<ConnectionId>,
) -> ApiResult<JsonOut<DeletedOut>> {
    state
        .store
        .delete_connection(org.id, id, state.clock.now())
        .await
        .map_err(|e| connection_gone(e, id))?;
    tracing::info!(connection_id = %id, "connection deleted");
    Ok(JsonOut(DeletedOut { success: true }))
}

/// Give a connection a new access token; the old one stops working at once. Also how an FI
/// gets a token for a connection made through the Codat door, to read it through this API.
#[utoipa::path(
    post,
    path = "/versioned/connections/{id}/rotate_access_token",
    tag = "connections",
    params(InPath<ConnectionId>),
    responses(
        (status = 200, body = ConnectionCreateOut),
        Refusals, Gone,
    ),
)]
pub async fn rotate_access_token(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    InPath(id): InPath<ConnectionId>,
) -> ApiResult<JsonOut<ConnectionCreateOut>> {
    let token = bankfeeds_domain::Secret::generate(bankfeeds_domain::SecretKind::AccessToken);
    let c = state
        .store
        .rotate_access_token(org.id, id, &token.hash(), state.clock.now())
        .await
        .map_err(|e| connection_gone(e, id))?;
    tracing::info!(connection_id = %id, "access token rotated");
    let token = Some(token.expose().to_owned());
    Ok(JsonOut(created_out(&state, &c, token)))
}
