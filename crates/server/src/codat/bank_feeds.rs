//! `{D}/bankFeeds/…`: an OTP for the connection (Codat documents it for Sage; here it is the
//! same OTP the redirect link flow uses, for any platform), and the linked company's
//! information.

use axum::extract::State;
use axum::Json;
use bankfeeds_domain::otp::NewOtp;
use serde_json::{json, Value};

use super::connections::DataConnection;
use super::error::{CodatError, CodatResult};
use super::source_accounts::all_accounts;
use super::time;
use crate::state::AppState;

/// `POST {D}/bankFeeds/otp`: `{otp, expiry}`; a new one cancels the previous.
pub async fn generate_otp(
    State(state): State<AppState>,
    DataConnection(cc): DataConnection,
) -> CodatResult<Json<Value>> {
    let (otp, secret) = NewOtp::generate(&cc.connection, state.clock.now());
    state.store.issue_otp(&otp).await?;
    Ok(Json(
        json!({"otp": secret.expose(), "expiry": time(otp.expires_at)}),
    ))
}

/// `GET {D}/bankFeeds/info`: the platform company the customer linked, with its currencies
/// (those of its connected feeds). 404 until the connection is linked.
pub async fn company_information(
    State(state): State<AppState>,
    DataConnection(cc): DataConnection,
) -> CodatResult<Json<Value>> {
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
    Ok(Json(json!({
        "companyName": linked.name,
        "baseCurrency": currencies.first().copied().unwrap_or("USD"),
        "multicurrencyEnabled": currencies.len() > 1,
    })))
}
