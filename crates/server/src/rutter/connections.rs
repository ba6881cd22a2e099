//! `/versioned/connections`: an FI creates one connection per business customer and platform,
//! and selects it on later calls with the connection's `access_token`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json as JsonOut;
use bankfeeds_domain::{Connection, ConnectionId, NewConnection, Platform, Timestamp};
use bankfeeds_store::Outcome;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::{ConnectionAuth, OrgAuth};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{parse_id, Query};
use crate::http::idempotency::{idem, replay, saved, IdempotentJson};
use crate::http::pagination::{ListParams, PageOut};
use crate::http::responses::{BodyRefusals, Gone, Refusals};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionIn {
    /// The accounting platform this customer's feeds go to.
    pub platform: Platform,
    /// A label for the FI's own use, e.g. the customer's business name (up to 200 characters;
    /// stored trimmed, blank means none).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub name: Option<String>,
}

/// A freshly created connection: the only time its `access_token` is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionCreatedOut {
    pub id: ConnectionId,
    /// Selects this connection on later calls. Stored hashed: keep it, it cannot be shown
    /// again (an idempotent replay of this request answers null here).
    pub access_token: Option<String>,
    /// Where the customer's browser goes to link feeds to the platform.
    pub link_url: String,
    pub name: Option<String>,
    pub platform: Platform,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionCreateOut {
    pub connection: ConnectionCreatedOut,
}

impl ConnectionCreateOut {
    fn new(state: &AppState, c: &Connection, access_token: Option<String>) -> Self {
        let connection = ConnectionCreatedOut {
            link_url: link_url(state, c.id),
            id: c.id,
            access_token,
            name: c.name.clone(),
            platform: c.platform,
        };
        ConnectionCreateOut { connection }
    }
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

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionOut {
    pub id: ConnectionId,
    pub platform: Platform,
    pub name: Option<String>,
    pub link_url: String,
    /// Always false while the connection exists: a deleted connection answers 401.
    pub disabled: bool,
    pub needs_update: bool,
    /// Objects this connection cannot read or write. Bank feed connections support all.
    pub unavailable_objects: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionGetOut {
    pub connection: ConnectionOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionListOut {
    /// The page of connections, oldest first. Access tokens are stored hashed and never listed.
    pub connections: Vec<ConnectionOut>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionRefOut {
    pub id: ConnectionId,
    #[serde(rename = "orgId")]
    pub org_id: String,
    pub platform: Platform,
}

impl ConnectionRefOut {
    pub fn new(c: &Connection) -> Self {
        ConnectionRefOut {
            id: c.id,
            org_id: c.org_id.to_string(),
            platform: c.platform,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DisabledStatusOut {
    pub is_disabled: bool,
    pub disabled_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NeedsUpdateStatusOut {
    pub needs_update: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusOut {
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Bank feed connections need no initial sync: ready as soon as created.
    pub is_ready: bool,
    pub is_healthy: bool,
    pub link_url: String,
    pub platform: Platform,
    pub disabled_status: DisabledStatusOut,
    pub needs_update_status: NeedsUpdateStatusOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionStatusOut {
    pub connection: ConnectionRefOut,
    pub status: StatusOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedOut {
    pub success: bool,
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
    security(("basic" = []))
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
    let created =
        |c: &Connection, token: Option<String>| ConnectionCreateOut::new(&state, c, token);
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
    security(("basic" = []))
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
    security(("basic" = []))
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
    security(("basic" = []))
)]
pub async fn get_connection_status(
    State(state): State<AppState>,
    auth: ConnectionAuth,
) -> JsonOut<ConnectionStatusOut> {
    let c = auth.connection;
    JsonOut(ConnectionStatusOut {
        connection: ConnectionRefOut::new(&c),
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
    params(("id" = uuid::Uuid, Path, description = "The connection's id")),
    responses(
        (status = 200, body = DeletedOut),
        Refusals, Gone,
    ),
    security(("basic" = []))
)]
pub async fn delete_connection(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    Path(id): Path<String>,
) -> ApiResult<JsonOut<DeletedOut>> {
    let id: ConnectionId = parse_id(&id, "connection")?;
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
    params(("id" = uuid::Uuid, Path, description = "The connection's id")),
    responses(
        (status = 200, body = ConnectionCreateOut),
        Refusals, Gone,
    ),
    security(("basic" = []))
)]
pub async fn rotate_access_token(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    Path(id): Path<String>,
) -> ApiResult<JsonOut<ConnectionCreateOut>> {
    let id: ConnectionId = parse_id(&id, "connection")?;
    let token = bankfeeds_domain::Secret::generate(bankfeeds_domain::SecretKind::AccessToken);
    let c = state
        .store
        .rotate_access_token(org.id, id, &token.hash(), state.clock.now())
        .await
        .map_err(|e| connection_gone(e, id))?;
    tracing::info!(connection_id = %id, "access token rotated");
    let token = Some(token.expose().to_owned());
    Ok(JsonOut(ConnectionCreateOut::new(&state, &c, token)))
}
