//! Account mapping (`{D}/bankFeedAccounts/mapping`): which source account feeds which account
//! of the platform company. In the sandboxes the target is the feed itself, so a mapping is the
//! feed's link. Like Codat, mapping through the API is for Xero and NetSuite; QuickBooks and
//! Sage customers map inside the platform (the link flow), and a POST for them is refused.

use axum::extract::{Path, State};
use axum::Json;
use bankfeeds_domain::codat::source_account;
use bankfeeds_domain::link::Company;
use bankfeeds_domain::{BankFeedAccount, Platform};

use super::connections::{connection_of, DataConnection};
use super::error::{CodatError, CodatResult};
use super::responses::{BodyRefused, Missing, Refused};
use super::source_accounts::{account_of, all_accounts};
use super::wire::{AccountMapping, MappingIn, MappingResult, TargetAccount};
use super::{time, CodatAuth, CodatJson};
use crate::state::AppState;

fn maps_by_api(p: Platform) -> bool {
    matches!(p, Platform::Xero | Platform::Netsuite)
}

fn mapping_json(a: &BankFeedAccount, company: Option<&Company>) -> AccountMapping {
    let status = source_account::status(a);
    let name = a
        .details
        .name
        .clone()
        .unwrap_or_else(|| a.internal_bank_account_id.clone());
    let connected = status == "connected";
    AccountMapping {
        source_account_id: a.internal_bank_account_id.clone(),
        source_account_name: a.details.name.clone(),
        source_account_number: a.details.bank_account_number.clone(),
        source_balance: a.current_balance.map(|b| b.in_currency(a.currency)),
        source_currency: a.currency.code().into(),
        target_account_id: connected.then(|| a.id.to_string()),
        target_account_name: connected.then(|| name.clone()),
        status: status.into(),
        target_account_options: company
            .map(|c| {
                vec![TargetAccount {
                    id: a.id.to_string(),
                    name: format!("{name} (a new bank feed in {})", c.name),
                    balance: a.current_balance.map(|b| b.in_currency(a.currency)),
                    account_number: a.details.bank_account_number.clone(),
                }]
            })
            .unwrap_or_default(),
        feed_start_date: a.transaction_start_date.map(time),
    }
}

/// `GET …/bankFeedAccounts/mapping`: a bare array, one entry per source account.
#[utoipa::path(
    get,
    path = "/codat/companies/{companyId}/connections/{connectionId}/bankFeedAccounts/mapping",
    operation_id = "get-bank-account-mapping",
    tag = "Account mapping",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id")),
    responses((status = 200, description = "One entry per source account", body = Vec<AccountMapping>), Refused, Missing),
)]
pub async fn get(
    State(state): State<AppState>,
    DataConnection(cc): DataConnection,
) -> CodatResult<Json<Vec<AccountMapping>>> {
    let linked_company = state.store.connection_company(cc.connection.id).await?;
    let accounts = all_accounts(&state, cc.connection.id).await?;
    Ok(Json(
        accounts
            .iter()
            .map(|a| mapping_json(a, linked_company.as_ref()))
            .collect(),
    ))
}

/// `POST …/bankFeedAccounts/mapping`: connects a source account into the company the customer
/// linked the connection to.
#[utoipa::path(
    post,
    path = "/codat/companies/{companyId}/connections/{connectionId}/bankFeedAccounts/mapping",
    operation_id = "create-bank-account-mapping",
    tag = "Account mapping",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id")),
    request_body = MappingIn,
    responses((status = 200, description = "What the mapping did", body = MappingResult), Refused, Missing, BodyRefused),
)]
pub async fn create(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path((company, connection)): Path<(String, String)>,
    CodatJson(body): CodatJson<MappingIn>,
) -> CodatResult<Json<MappingResult>> {
    let cc = connection_of(&state, org.id, &company, &connection).await?;
    let platform = cc.connection.platform;
    if !maps_by_api(platform) {
        return Err(CodatError::bad_request(
            "MAPPING_IN_PLATFORM",
            format!(
                "{} customers map their accounts inside the platform, not through the API",
                platform.display_name()
            ),
        ));
    }
    let source = body
        .source_account_id
        .ok_or_else(|| CodatError::bad_request("MISSING_FIELD", "`sourceAccountId` is required"))?;
    let a = account_of(&state, &cc, &source).await?;
    let linked_company = state
        .store
        .connection_company(cc.connection.id)
        .await?
        .ok_or_else(|| {
            CodatError::bad_request(
                "CONNECTION_NOT_LINKED",
                "the customer has not linked this connection to a company in the platform yet",
            )
        })?;
    if body
        .target_account_id
        .as_deref()
        .is_some_and(|t| t != a.id.to_string())
    {
        return Err(CodatError::bad_request(
            "UNKNOWN_TARGET_ACCOUNT",
            "`targetAccountId` must be one of the mapping's targetAccountOptions",
        ));
    }
    let start = match body.feed_start_date.as_deref() {
        None => a.transaction_start_date.or(Some(state.clock.now())),
        Some(d) => Some(
            bankfeeds_domain::codat::bank_transaction::local_date_time(d).ok_or_else(|| {
                CodatError::bad_request(
                    "INVALID_DATE",
                    format!("`feedStartDate` {d:?} is not a date"),
                )
            })?,
        ),
    };
    let linked = state
        .store
        .link_feed(
            linked_company.id,
            cc.connection.id,
            a.id,
            start,
            state.clock.now(),
        )
        .await?;
    Ok(Json(MappingResult {
        source_account_id: linked.internal_bank_account_id.clone(),
        target_account_id: linked.id.to_string(),
        status: source_account::status(&linked).into(),
        error: None,
    }))
}
