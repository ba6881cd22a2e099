//! `{D}/bankFeeds/…`: an OTP for the connection (Codat documents it for Sage; here it is the
//! same OTP the redirect link flow uses, for any platform), and the linked company's
//! information.

use super::connections::DataConnection;
use super::error::{CodatError, CodatResult};
use super::responses::{Missing, Refused};
use super::source_accounts::all_accounts;
use super::time;
use super::wire::{CompanyInformation, Otp};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use bankfeeds_domain::otp::NewOtp;

/// `POST {D}/bankFeeds/otp`: `{otp, expiry}`; a new one cancels the previous.
#[utoipa::path(
    post,
    path = "/codat/companies/{companyId}/connections/{connectionId}/bankFeeds/otp",
    operation_id = "generate-otp",
    tag = "Bank feeds",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id")),
    responses((status = 200, description = "A new OTP (the previous one is cancelled)", body = Otp), Refused, Missing),
)]
pub async fn generate_otp(
    State(state): State<AppState>,
    DataConnection(cc): DataConnection,
) -> CodatResult<Json<Otp>> {
    let (otp, secret) = NewOtp::generate(&cc.connection, state.clock.now());
    state.store.issue_otp(&otp).await?;
    Ok(Json(Otp {
        otp: secret.expose().to_owned(),
        expiry: time(otp.expires_at),
    }))
}

/// `GET {D}/bankFeeds/info`: the platform company the customer linked, with its currencies
/// (those of its connected feeds). 404 until the connection is linked.
#[utoipa::path(
    get,
    path = "/codat/companies/{companyId}/connections/{connectionId}/bankFeeds/info",
    operation_id = "get-company-information",
    tag = "Bank feeds",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id")),
    responses((status = 200, description = "The platform company the customer linked", body = CompanyInformation), Refused, Missing),
)]
pub async fn company_information(
    State(state): State<AppState>,
    DataConnection(cc): DataConnection,
) -> CodatResult<Json<CompanyInformation>> {
    let linked = state
        .store
        .connection_company(cc.connection.id)
        .await?
        .ok_or_else(|| {
            CodatError::not_found(
                "COMPANY_INFORMATION_NOT_AVAILABLE",
                "the customer has not linked this connection to a company in the platform yet",
            )
        })?;
    let mut currencies: Vec<&'static str> = Vec::new();
    for a in all_accounts(&state, cc.connection.id).await? {
        if !currencies.contains(&a.currency.code()) {
            currencies.push(a.currency.code());
        }
    }
    Ok(Json(CompanyInformation {
        company_name: linked.name,
        base_currency: currencies.first().copied().unwrap_or("USD").into(),
        multicurrency_enabled: currencies.len() > 1,
    }))
}
