//! Data connections: one per company and platform (`platformKey` hcws, gbol, olpr, akxx).
//! Their status follows the core: `PendingAuth` until the platform links a feed, `Linked`
//! while one is active, `Unlinked` once unlinked here.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bankfeeds_domain::codat::{self, ConnectionStatus};
use bankfeeds_domain::customer::CustomerConnection;
use bankfeeds_domain::{ConnectionId, NewConnection};
use serde_json::Value;

use super::error::{CodatError, CodatResult};
use super::paging::Listing;
use super::responses::{BodyRefused, ListQuery, Missing, Refused};
use super::wire::{Connection, ConnectionIn, Page, UnlinkIn, ValidationItem};
use super::{company_of, time, CodatAuth, CodatJson};
use crate::link::codat::link_url;
use crate::state::AppState;

pub fn status(cc: &CustomerConnection) -> ConnectionStatus {
    if cc.unlinked_at.is_some() {
        ConnectionStatus::Unlinked
    } else if cc.active_feeds > 0 {
        ConnectionStatus::Linked
    } else {
        ConnectionStatus::PendingAuth
    }
}

pub fn connection_json(cc: &CustomerConnection, link_url: &str) -> Connection {
    let c = &cc.connection;
    let (integration, source) = codat::integration_ids(c.platform);
    Connection {
        id: c.id.to_string(),
        integration_id: integration.to_string(),
        integration_key: c.platform.codat_key().to_string(),
        source_id: source.to_string(),
        source_type: "BankFeed".into(),
        platform_name: codat::platform_name(c.platform).to_string(),
        link_url: link_url.to_owned(),
        status: status(cc).as_str().into(),
        last_sync: cc.last_synced_at.map(time),
        created: time(c.created_at),
        data_connection_errors: Vec::new(),
        connection_info: Default::default(),
    }
}

pub(super) async fn connection_of(
    state: &AppState,
    org: bankfeeds_domain::OrgId,
    company: &str,
    raw: &str,
) -> CodatResult<CustomerConnection> {
    let customer = company_of(state, org, company).await?;
    let id: ConnectionId = raw
        .parse()
        .map_err(|_| CodatError::connection_not_found(raw))?;
    state
        .store
        .get_customer_connection(org, customer.id, id)
        .await?
        .ok_or_else(|| CodatError::connection_not_found(raw))
}

/// The calling organisation's data connection named in the path (`{company}`, `{connection}`),
/// for the operations that take no body. Those that take one look the connection up after
/// reading it, so that a malformed body is answered first, as it always was.
pub struct DataConnection(pub CustomerConnection);

impl FromRequestParts<AppState> for DataConnection {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let CodatAuth(org) = CodatAuth::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Path(path) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let named = |name: &str| path.get(name).map(String::as_str).unwrap_or_default();
        connection_of(state, org.id, named("company"), named("connection"))
            .await
            .map(DataConnection)
            .map_err(IntoResponse::into_response)
    }
}

#[utoipa::path(
    post,
    path = "/codat/companies/{companyId}/connections",
    operation_id = "create-connection",
    tag = "Connections",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id")),
    request_body = ConnectionIn,
    responses((status = 200, description = "The data connection", body = Connection), Refused, Missing, BodyRefused),
)]
pub async fn create(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path(company): Path<String>,
    CodatJson(body): CodatJson<ConnectionIn>,
) -> CodatResult<Json<Connection>> {
    let customer = company_of(&state, org.id, &company).await?;
    let key = body.platform_key.unwrap_or_default();
    let platform = codat::platform_for_key(&key).ok_or_else(|| {
        CodatError::bad_request(
            "UNKNOWN_PLATFORM_KEY",
            format!("{key:?} is not a bank feeds integration: use hcws, gbol, olpr or akxx"),
        )
        .with_validation(vec![ValidationItem::new(
            "platformKey",
            "unknown platform key",
            "PlatformKeyValidator",
        )])
    })?;
    // The Codat door addresses connections by company and id; the core's access token is
    // not handed out here (it stays usable only if the FI fetched it another way: it cannot).
    let (new, _token) =
        NewConnection::generate(org.id, platform, Some(&customer.name), state.clock.now())
            .map_err(|e| CodatError::bad_request("INVALID_FIELD_VALUE", e.to_string()))?;
    state
        .store
        .create_customer_connection(customer.id, &new)
        .await?;
    let cc = state
        .store
        .get_customer_connection(org.id, customer.id, new.connection.id)
        .await?
        .ok_or_else(|| CodatError::connection_not_found(&new.connection.id.to_string()))?;
    let url = link_url(&state, &cc).await?;
    Ok(Json(connection_json(&cc, &url)))
}

#[utoipa::path(
    get,
    path = "/codat/companies/{companyId}/connections",
    operation_id = "list-connections",
    tag = "Connections",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ListQuery),
    responses((status = 200, description = "A page of data connections", body = Page<Connection>), Refused, Missing),
)]
pub async fn list(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path(company): Path<String>,
    listing: Listing,
) -> CodatResult<Json<Page<Value>>> {
    let customer = company_of(&state, org.id, &company).await?;
    let mut items = Vec::new();
    for cc in state
        .store
        .list_customer_connections(org.id, customer.id)
        .await?
    {
        let url = link_url(&state, &cc).await?;
        items.push(connection_json(&cc, &url));
    }
    Ok(Json(listing.page(items)))
}

#[utoipa::path(
    get,
    path = "/codat/companies/{companyId}/connections/{connectionId}",
    operation_id = "get-connection",
    tag = "Connections",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id")),
    responses((status = 200, description = "The data connection", body = Connection), Refused, Missing),
)]
pub async fn get(
    State(state): State<AppState>,
    DataConnection(cc): DataConnection,
) -> CodatResult<Json<Connection>> {
    let url = link_url(&state, &cc).await?;
    Ok(Json(connection_json(&cc, &url)))
}

/// `PATCH {status: "Unlinked"}`: the platform stops taking the connection's feeds.
#[utoipa::path(
    patch,
    path = "/codat/companies/{companyId}/connections/{connectionId}",
    operation_id = "unlink-connection",
    tag = "Connections",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id")),
    request_body = UnlinkIn,
    responses((status = 200, description = "The data connection, unlinked", body = Connection), Refused, Missing, BodyRefused),
)]
pub async fn unlink(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path((company, connection)): Path<(String, String)>,
    CodatJson(body): CodatJson<UnlinkIn>,
) -> CodatResult<Json<Connection>> {
    let cc = connection_of(&state, org.id, &company, &connection).await?;
    if ConnectionStatus::parse(&body.status) != Some(ConnectionStatus::Unlinked) {
        return Err(CodatError::bad_request(
            "INVALID_STATUS",
            format!(
                "a data connection can only be set to \"Unlinked\", not {:?}",
                body.status
            ),
        ));
    }
    let done = state
        .store
        .unlink_customer_connection(org.id, cc.customer_id, cc.connection.id, state.clock.now())
        .await?;
    let url = link_url(&state, &done).await?;
    Ok(Json(connection_json(&done, &url)))
}

/// 200 with no body (what Codat's SDK expects); the connection's feeds stop.
#[utoipa::path(
    delete,
    path = "/codat/companies/{companyId}/connections/{connectionId}",
    operation_id = "delete-connection",
    tag = "Connections",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id")),
    responses((status = 200, description = "Deleted; its feeds stop"), Refused, Missing),
)]
pub async fn delete(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path((company, connection)): Path<(String, String)>,
) -> CodatResult<Response> {
    let cc = connection_of(&state, org.id, &company, &connection).await?;
    match state
        .store
        .delete_connection(org.id, cc.connection.id, state.clock.now())
        .await
    {
        Ok(()) => Ok(StatusCode::OK.into_response()),
        Err(bankfeeds_store::StoreError::NotFound) => {
            Err(CodatError::connection_not_found(&connection))
        }
        Err(e) => Err(e.into()),
    }
}
