//! Companies: the FI's business customers. `redirect` is a page listing the company's data
//! connections, each with the way to link it.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bankfeeds_domain::customer::{self, Customer, CustomerConnection, CustomerId};
use serde_json::Value;

use super::connections::connection_json;
use super::error::{CodatError, CodatResult};
use super::paging::Listing;
use super::responses::{BodyRefused, ListQuery, Missing, Refused};
use super::wire::{AccessToken, Company, CompanyIn, Page};
use super::{company_of, time, CodatAuth, CodatJson};
use crate::link::codat::page_url;
use crate::state::AppState;

pub fn company_json(state: &AppState, c: &Customer, connections: &[CustomerConnection]) -> Company {
    Company {
        id: c.id.to_string(),
        name: c.name.clone(),
        description: c.description.clone(),
        redirect: format!(
            "{}/link/orgs/{}/customers/{}",
            state.public_base, c.org_id, c.id
        ),
        last_sync: connections
            .iter()
            .filter_map(|c| c.last_synced_at)
            .max()
            .map(time),
        created: time(c.created_at),
        created_by_user_name: None,
        products: vec!["bankFeeds".into()],
        tags: c.tags.clone(),
        reference_parent_company: None,
        reference_subsidiary_companies: Vec::new(),
        data_connections: connections
            .iter()
            .map(|cc| connection_json(cc, &page_url(state, cc)))
            .collect(),
    }
}

async fn render(state: &AppState, c: &Customer) -> CodatResult<Company> {
    let connections = state
        .store
        .list_customer_connections(c.org_id, c.id)
        .await?;
    Ok(company_json(state, c, &connections))
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(invalid)`
fn invalid(e: customer::CustomerError) -> CodatError {
    CodatError::field(
        "INVALID_FIELD_VALUE",
        e.field(),
        e.to_string(),
        "CompanyValidator",
    )
}

fn name_of(raw: Option<&str>) -> CodatResult<String> {
    let raw = raw.ok_or_else(|| {
        CodatError::field(
            "MISSING_FIELD",
            "name",
            "field `name` is required",
            "CompanyValidator",
        )
    })?;
    customer::clean_name(raw).map_err(invalid)
}

fn tags_of(tags: Option<BTreeMap<String, String>>) -> CodatResult<BTreeMap<String, String>> {
    let tags = tags.unwrap_or_default();
    customer::check_tags(&tags).map_err(invalid)?;
    Ok(tags)
}

#[utoipa::path(
    post,
    path = "/codat/companies",
    operation_id = "create-company",
    tag = "Companies",
    request_body = CompanyIn,
    responses((status = 200, description = "The company", body = Company), Refused, BodyRefused),
)]
pub async fn create(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    CodatJson(body): CodatJson<CompanyIn>,
) -> CodatResult<Json<Company>> {
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

#[utoipa::path(
    get,
    path = "/codat/companies",
    operation_id = "list-companies",
    tag = "Companies",
    params(ListQuery),
    responses((status = 200, description = "A page of companies", body = Page<Company>), Refused),
)]
pub async fn list(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    listing: Listing,
) -> CodatResult<Json<Page<Value>>> {
    let mut items = Vec::new();
    for c in state.store.list_customers(org.id).await? {
        items.push(render(&state, &c).await?);
    }
    Ok(Json(listing.page(items)))
}

#[utoipa::path(
    get,
    path = "/codat/companies/{companyId}",
    operation_id = "get-company",
    tag = "Companies",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id")),
    responses((status = 200, description = "The company", body = Company), Refused, Missing),
)]
pub async fn get(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path(company): Path<String>,
) -> CodatResult<Json<Company>> {
    let c = company_of(&state, org.id, &company).await?;
    Ok(Json(render(&state, &c).await?))
}

/// Replace a company: it becomes exactly what the body says (absent fields are cleared).
#[utoipa::path(
    put,
    path = "/codat/companies/{companyId}",
    operation_id = "replace-company",
    tag = "Companies",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id")),
    request_body = CompanyIn,
    responses((status = 200, description = "The company", body = Company), Refused, Missing, BodyRefused),
)]
pub async fn replace(
    state: State<AppState>,
    auth: CodatAuth,
    company: Path<String>,
    body: CodatJson<CompanyIn>,
) -> CodatResult<Json<Company>> {
    change(state, true, auth, company, body).await
}

/// Update a company: only the fields sent change.
#[utoipa::path(
    patch,
    path = "/codat/companies/{companyId}",
    operation_id = "update-company",
    tag = "Companies",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id")),
    request_body = CompanyIn,
    responses((status = 200, description = "The company", body = Company), Refused, Missing, BodyRefused),
)]
pub async fn update(
    state: State<AppState>,
    auth: CodatAuth,
    company: Path<String>,
    body: CodatJson<CompanyIn>,
) -> CodatResult<Json<Company>> {
    change(state, false, auth, company, body).await
}

async fn change(
    State(state): State<AppState>,
    whole: bool,
    CodatAuth(org): CodatAuth,
    Path(company): Path<String>,
    CodatJson(body): CodatJson<CompanyIn>,
) -> CodatResult<Json<Company>> {
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
#[utoipa::path(
    delete,
    path = "/codat/companies/{companyId}",
    operation_id = "delete-company",
    tag = "Companies",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id")),
    responses((status = 204, description = "Deleted, with its data connections"), Refused, Missing),
)]
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
#[utoipa::path(
    get,
    path = "/codat/companies/{companyId}/accessToken",
    operation_id = "get-company-access-token",
    tag = "Companies",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id")),
    responses((status = 200, description = "A new one-hour token", body = AccessToken), Refused, Missing),
)]
pub async fn access_token(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path(company): Path<String>,
) -> CodatResult<Json<AccessToken>> {
    let c = company_of(&state, org.id, &company).await?;
    let (token, secret) = customer::CustomerToken::generate(&c, state.clock.now());
    state.store.create_customer_token(&token).await?;
    Ok(Json(AccessToken {
        expires_in: customer::ACCESS_TOKEN_TTL.num_seconds(),
        access_token: secret.expose().to_owned(),
        token_type: "Bearer".into(),
    }))
}
