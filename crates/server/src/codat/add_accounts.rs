//! Adding source accounts: `POST …/connectionInfo/bankFeedAccounts` with one account (answered
//! as that account) or a list, and `PUT` on the same path with a list, as Codat's QuickBooks
//! guide adds them; a list is answered with the created accounts, in order. A list is checked
//! whole (every account valid, no id twice, none already on the connection) before any is
//! stored, so a refused list adds nothing.

use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::Json;
use bankfeeds_domain::customer::CustomerConnection;
use serde_json::Value;

use super::connections::connection_of;
use super::error::{CodatError, CodatResult};
use super::responses::{BodyRefused, Missing, Refused};
use super::source_accounts::{account_from, account_json, all_accounts, store_new};
use super::wire::{OneOrMore, SourceAccount, SourceAccountIn};
use super::{CodatAnyJson, CodatAuth};
use crate::http::extract::parse_json;
use crate::state::AppState;

/// The most accounts one list may add (as a link may offer).
pub const MAX_ACCOUNTS_PER_REQUEST: usize = 1000;

/// `POST …/connectionInfo/bankFeedAccounts`: one account (200 with it, `pending`) or a list
/// (200 with the list).
#[utoipa::path(
    post,
    path = "/codat/companies/{companyId}/connections/{connectionId}/connectionInfo/bankFeedAccounts",
    operation_id = "create-source-account",
    tag = "Source accounts",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id")),
    request_body = SourceAccountIn,
    responses((status = 200, description = "The account (or, for a list, the accounts) as stored", body = OneOrMore), Refused, Missing, BodyRefused),
)]
pub async fn create(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path((company, connection)): Path<(String, String)>,
    CodatAnyJson(body): CodatAnyJson<Value>,
) -> CodatResult<Json<OneOrMore>> {
    let cc = connection_of(&state, org.id, &company, &connection).await?;
    let bytes = body.to_string().into_bytes();
    if body.is_array() {
        let list: Vec<SourceAccountIn> = parse_json(&bytes)?;
        return Ok(Json(OneOrMore::More(add(&state, &cc, list).await?)));
    }
    let one: SourceAccountIn = parse_json(&bytes)?;
    let a = account_from(&cc, one, state.clock.now())?;
    let stored = store_new(&state, &a).await?;
    Ok(Json(OneOrMore::One(Box::new(account_json(&stored)))))
}

/// `PUT …/connectionInfo/bankFeedAccounts`: a list of accounts to add; 200 with them.
#[utoipa::path(
    put,
    path = "/codat/companies/{companyId}/connections/{connectionId}/connectionInfo/bankFeedAccounts",
    operation_id = "add-source-accounts",
    tag = "Source accounts",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id")),
    request_body = Vec<SourceAccountIn>,
    responses((status = 200, description = "The accounts as stored, in order", body = Vec<SourceAccount>), Refused, Missing, BodyRefused),
)]
pub async fn put(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path((company, connection)): Path<(String, String)>,
    CodatAnyJson(list): CodatAnyJson<Vec<SourceAccountIn>>,
) -> CodatResult<Json<Vec<SourceAccount>>> {
    let cc = connection_of(&state, org.id, &company, &connection).await?;
    Ok(Json(add(&state, &cc, list).await?))
}

/// Checks the whole list, then stores each account; answers them as stored.
async fn add(
    state: &AppState,
    cc: &CustomerConnection,
    list: Vec<SourceAccountIn>,
) -> CodatResult<Vec<SourceAccount>> {
    if list.is_empty() {
        return Err(CodatError::bad_request(
            "EMPTY_BATCH",
            "send at least one source account",
        ));
    }
    if list.len() > MAX_ACCOUNTS_PER_REQUEST {
        return Err(CodatError::bad_request(
            "TOO_MANY_ACCOUNTS",
            format!(
                "{} accounts in one request; at most {MAX_ACCOUNTS_PER_REQUEST}",
                list.len()
            ),
        ));
    }
    let now = state.clock.now();
    let mut accounts = Vec::with_capacity(list.len());
    let mut seen = HashSet::new();
    for (i, item) in list.into_iter().enumerate() {
        let a = account_from(cc, item, now).map_err(|mut e| {
            e.message = format!("[{i}] {}", e.message);
            e
        })?;
        if !seen.insert(a.internal_bank_account_id.clone()) {
            return Err(CodatError::bad_request(
                "DUPLICATE_IN_BATCH",
                format!(
                    "[{i}] id {:?} appears twice in the list",
                    a.internal_bank_account_id
                ),
            ));
        }
        accounts.push(a);
    }
    let existing: HashSet<String> = all_accounts(state, cc.connection.id)
        .await?
        .into_iter()
        .map(|a| a.internal_bank_account_id)
        .collect();
    if let Some((i, a)) = accounts
        .iter()
        .enumerate()
        .find(|(_, a)| existing.contains(&a.internal_bank_account_id))
    {
        return Err(CodatError::bad_request(
            "SOURCE_ACCOUNT_EXISTS",
            format!(
                "[{i}] a source account with id {:?} already exists on this connection",
                a.internal_bank_account_id
            ),
        ));
    }
    let mut out = Vec::with_capacity(accounts.len());
    for a in &accounts {
        out.push(account_json(&store_new(state, a).await?));
    }
    Ok(out)
}
