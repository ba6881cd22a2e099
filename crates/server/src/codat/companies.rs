//! Companies: the FI's business customers. `redirect` is a page listing the company's data
//! connections, each with the way to link it.

use std::collections::BTreeMap;

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bankfeeds_domain::customer::{self, Customer, CustomerConnection, CustomerId};
use serde::Deserialize;
use serde_json::{json, Value};

use super::connections::connection_json;
use super::error::{CodatError, CodatResult};
use super::paging::ListParams;
use super::{company_of, time, CodatAuth, CodatJson};
use crate::link::codat::page_url;
use crate::state::AppState;

pub fn company_json(state: &AppState, c: &Customer, connections: &[CustomerConnection]) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "description": c.description,
        "redirect": format!("{}/link/orgs/{}/customers/{}", state.public_base, c.org_id, c.id),
        "lastSync": connections.iter().filter_map(|c| c.last_synced_at).max().map(time),
        "created": time(c.created_at),
        "createdByUserName": null,
        "products": ["bankFeeds"],
        "tags": c.tags,
        "referenceParentCompany": null,
        "referenceSubsidiaryCompanies": [],
        "dataConnections": connections.iter().map(|cc| connection_json(cc, &page_url(state, cc))).collect::<Vec<_>>(),
    })
}

async fn render(state: &AppState, c: &Customer) -> CodatResult<Value> {
    let connections = state
        .store
        .list_customer_connections(c.org_id, c.id)
        .await?;
    Ok(company_json(state, c, &connections))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompanyIn {
    name: Option<String>,
    description: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(invalid)`
fn invalid(e: customer::CustomerError) -> CodatError {
    CodatError::bad_request("INVALID_FIELD_VALUE", e.to_string()).with_validation(&json!([
        {"itemId": e.field(), "message": e.to_string(), "validatorName": "CompanyValidator"}
    ]))
}

fn name_of(raw: Option<&str>) -> CodatResult<String> {
    let raw = raw.ok_or_else(|| {
        CodatError::bad_request("MISSING_FIELD", "field `name` is required").with_validation(
            &json!([{"itemId": "name", "message": "name is required", "validatorName": "CompanyValidator"}]),
        )
    })?;
    customer::clean_name(raw).map_err(invalid)
}

fn tags_of(tags: Option<BTreeMap<String, String>>) -> CodatResult<BTreeMap<String, String>> {
    let tags = tags.unwrap_or_default();
    customer::check_tags(&tags).map_err(invalid)?;
    Ok(tags)
}

pub async fn create(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    CodatJson(body): CodatJson<CompanyIn>,
) -> CodatResult<Json<Value>> {
    let now = state.clock.now();
    let c = Customer {
        id: CustomerId::new(),
        org_id: org.id,
        name: name_of(body.name.as_deref())?,
        description: customer::check_description(body.description.as_deref()).map_err(invalid)?,
        tags: tags_of(body.tags)?,
        created_at: now,
        updated_at: now,
    };
    state.store.create_customer(&c).await?;
    Ok(Json(company_json(&state, &c, &[])))
}

pub async fn list(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> CodatResult<Json<Value>> {
    let params = ListParams::parse(query.as_deref())?;
    let mut items = Vec::new();
    for c in state.store.list_customers(org.id).await? {
        items.push(render(&state, &c).await?);
    }
    Ok(Json(params.page(items, uri.path())))
}

pub async fn get(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path(company): Path<String>,
) -> CodatResult<Json<Value>> {
    let c = company_of(&state, org.id, &company).await?;
    Ok(Json(render(&state, &c).await?))
}

/// PUT: the company becomes exactly what the body says (absent fields are cleared). PATCH:
/// only the fields sent change.
pub async fn change(
    State(state): State<AppState>,
    method: Method,
    CodatAuth(org): CodatAuth,
    Path(company): Path<String>,
    CodatJson(body): CodatJson<CompanyIn>,
) -> CodatResult<Json<Value>> {
    let whole = method == Method::PUT;
    let mut c = company_of(&state, org.id, &company).await?;
    if whole || body.name.is_some() {
        c.name = name_of(body.name.as_deref())?;
    }
    if whole || body.description.is_some() {
        c.description =
            customer::check_description(body.description.as_deref()).map_err(invalid)?;
    }
    if whole || body.tags.is_some() {
        c.tags = tags_of(body.tags)?;
    }
    c.updated_at = state.clock.now();
    state.store.update_customer(&c).await?;
    Ok(Json(render(&state, &c).await?))
}

/// 204; the company's data connections go with it.
pub async fn delete(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path(company): Path<String>,
) -> CodatResult<Response> {
    let c = company_of(&state, org.id, &company).await?;
    match state
        .store
        .delete_customer(org.id, c.id, state.clock.now())
        .await
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(bankfeeds_store::StoreError::NotFound) => Err(CodatError::company_not_found(&company)),
        Err(e) => Err(e.into()),
    }
}

/// `GET /companies/{companyId}/accessToken`: a one-hour token (stored hashed) that opens the
/// company's link page (`redirect?access_token=…`) with working links: fresh OTPs for its
/// QuickBooks connections. Each call makes a new token.
pub async fn access_token(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path(company): Path<String>,
) -> CodatResult<Json<Value>> {
    let c = company_of(&state, org.id, &company).await?;
    let (token, secret) = customer::CustomerToken::generate(&c, state.clock.now());
    state.store.create_customer_token(&token).await?;
    Ok(Json(json!({
        "expiresIn": customer::ACCESS_TOKEN_TTL.num_seconds(),
        "accessToken": secret.expose(),
        "tokenType": "Bearer",
    })))
}
