//! Source accounts: the FI's accounts a company may connect, as bank feed accounts of the data
//! connection. The Codat `id` is the account's `internal_bank_account_id`. Created with the V2
//! model (or the v1 model, whose only required field is `id`) and answered in the same model.

use std::collections::{HashMap, HashSet};

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bankfeeds_domain::account::{
    AccountQuery, AccountSortField, AccountSortKey, SortDirection, MAX_DETAIL_CHARS,
    MAX_INTERNAL_ID_CHARS,
};
use bankfeeds_domain::codat::source_account::{self as rules, Model, V2_ACCOUNT_TYPES};
use bankfeeds_domain::customer::CustomerConnection;
use bankfeeds_domain::profile::{Door, PlatformProfile};
use bankfeeds_domain::{BankFeedAccount, ConnectionId, Currency, OrgId};
use bankfeeds_store::{Outcome, StoreError};
use serde_json::{json, Value};

use super::connections::{connection_of, DataConnection};
use super::error::{CodatError, CodatResult};
use super::responses::{BodyRefused, Missing, Refused};
use super::wire::{BatchItemOutcome, BatchItemResult, ItemStatus, SourceAccount, SourceAccountIn};
use super::{time, CodatAnyJson, CodatAuth, CodatJson};
use crate::state::AppState;

fn field_error(item: &str, code: &'static str, message: String) -> CodatError {
    CodatError::field(code, item, message, "SourceAccountValidator")
}

pub fn account_json(a: &BankFeedAccount) -> SourceAccount {
    let codat = rules::codat_data(a);
    let text = |key: &str| codat.get(key).and_then(Value::as_str).map(str::to_owned);
    let v2 = rules::model(a) == Model::V2;
    SourceAccount {
        id: a.internal_bank_account_id.clone(),
        account_name: a.details.name.clone(),
        account_type: text("accountType"),
        account_number: a.details.bank_account_number.clone(),
        sort_code: text("sortCode"),
        currency: a.currency.code().into(),
        balance: a.current_balance.map(|b| b.in_currency(a.currency)),
        modified_date: time(a.updated_at),
        status: rules::status(a).into(),
        feed_start_date: a.transaction_start_date.map(time),
        // Always present on V2 accounts (Codat's default type is `bankcode`): the SDK tells
        // the two models apart by these fields.
        routing_info: v2.then(|| {
            codat
                .get("routingInfo")
                .filter(|v| v.is_object())
                .cloned()
                .unwrap_or_else(|| json!({"bankCode": null, "type": "bankcode"}))
        }),
        account_info: codat
            .get("accountInfo")
            .filter(|v| v2 && !v.is_null())
            .cloned(),
    }
}

/// The Rutter door's length limits on an account's names and numbers, checked when the request
/// arrives.
fn check_lengths(body: &SourceAccountIn) -> CodatResult<()> {
    let text = |v: &Option<String>| v.as_deref().map(|v| v.chars().count());
    let json = |v: &Option<Value>| v.as_ref().map(|v| v.to_string().chars().count());
    for (field, chars) in [
        ("accountName", text(&body.account_name)),
        ("accountNumber", text(&body.account_number)),
        ("sortCode", text(&body.sort_code)),
        ("modifiedDate", text(&body.modified_date)),
        ("routingInfo", json(&body.routing_info)),
        ("accountInfo", json(&body.account_info)),
    ] {
        if chars.is_some_and(|n| n > MAX_DETAIL_CHARS) {
            return Err(field_error(
                field,
                "FIELD_TOO_LONG",
                format!("`{field}` is longer than {MAX_DETAIL_CHARS} characters"),
            ));
        }
    }
    Ok(())
}

/// Builds the account a create asks for, or says why not.
pub(super) fn account_from(
    cc: &CustomerConnection,
    body: SourceAccountIn,
    now: bankfeeds_domain::Timestamp,
) -> CodatResult<BankFeedAccount> {
    check_lengths(&body)?;
    let id = body
        .id
        .map(|i| i.trim().to_owned())
        .filter(|i| !i.is_empty() && i.chars().count() <= MAX_INTERNAL_ID_CHARS)
        .ok_or_else(|| {
            field_error(
                "id",
                "MISSING_FIELD",
                format!("`id` is required (1 to {MAX_INTERNAL_ID_CHARS} characters)"),
            )
        })?;
    let v2 = body
        .account_type
        .as_deref()
        .is_some_and(|t| V2_ACCOUNT_TYPES.contains(&t))
        && body.account_name.is_some()
        && body.account_number.is_some()
        && body.currency.is_some()
        && body.balance.is_some();
    if let Some(t) = body.account_type.as_deref() {
        let v2_shaped =
            body.account_name.is_some() && body.account_number.is_some() && body.balance.is_some();
        if v2_shaped
            && !V2_ACCOUNT_TYPES.contains(&t)
            && t.chars().next().is_some_and(char::is_lowercase)
        {
            return Err(field_error(
                "accountType",
                "INVALID_ENUM_VALUE",
                format!(
                    "`accountType` {t:?} is not one of {}",
                    V2_ACCOUNT_TYPES.join(", ")
                ),
            ));
        }
    }
    let code = body.currency.as_deref().unwrap_or("USD");
    let currency = Currency::from_code(code).ok_or_else(|| {
        field_error(
            "currency",
            "INVALID_CURRENCY",
            format!("{code:?} is not an ISO 4217 currency code"),
        )
    })?;
    let profile = PlatformProfile::for_platform(cc.connection.platform, Door::Codat);
    let mut a = BankFeedAccount::new(
        cc.connection.org_id,
        cc.connection.id,
        &profile,
        id,
        rules::bank_account_type(body.account_type.as_deref()),
        currency,
        now,
    );
    a.details.name = body.account_name;
    a.details.bank_account_number = body.account_number;
    a.current_balance = body.balance;
    if let Some(b) = a.current_balance {
        if !b.fits_minor_units(currency.minor_units()) {
            return Err(field_error(
                "balance",
                "TOO_MANY_DECIMALS",
                format!("{} has more decimals than {} allows", b, currency.code()),
            ));
        }
    }
    rules::set_codat_data(
        &mut a,
        json!({
            "model": if v2 { "v2" } else { "v1" },
            "accountType": body.account_type,
            "sortCode": body.sort_code,
            "routingInfo": body.routing_info,
            "accountInfo": body.account_info,
            "modifiedDate": body.modified_date,
        }),
    );
    Ok(a)
}

/// Every live account of the connection, oldest first.
pub(super) async fn all_accounts(
    state: &AppState,
    connection: ConnectionId,
) -> CodatResult<Vec<BankFeedAccount>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let q = AccountQuery {
            filters: Vec::new(),
            sort: AccountSortField::UpdatedAt,
            direction: SortDirection::Asc,
            after,
            limit: 500,
        };
        let page = state.store.list_accounts(connection, &q).await?;
        after = page
            .items
            .last()
            .map(|a| AccountSortKey::of(a, AccountSortField::UpdatedAt));
        out.extend(page.items);
        if !page.has_more {
            break;
        }
    }
    out.sort_by_key(|a| (a.created_at, a.id));
    Ok(out)
}

pub(super) async fn account_of(
    state: &AppState,
    cc: &CustomerConnection,
    raw: &str,
) -> CodatResult<BankFeedAccount> {
    all_accounts(state, cc.connection.id)
        .await?
        .into_iter()
        .find(|a| a.internal_bank_account_id == raw)
        .ok_or_else(|| CodatError::source_account_not_found(raw))
}

/// The calling organisation's data connection and source account the path names, looked up
/// by the operations that take a body once it has been read (a malformed body is answered
/// first, as it always was).
pub(super) async fn source_account_of(
    state: &AppState,
    org: OrgId,
    (company, connection, account): (&str, &str, &str),
) -> CodatResult<(CustomerConnection, BankFeedAccount)> {
    let cc = connection_of(state, org, company, connection).await?;
    let a = account_of(state, &cc, account).await?;
    Ok((cc, a))
}

/// The source account named in the path (`{company}`, `{connection}`, `{account}`) with its
/// data connection, for the operations that take no body, as `DataConnection` is.
pub struct SourceAccountAt(pub CustomerConnection, pub BankFeedAccount);

impl FromRequestParts<AppState> for SourceAccountAt {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let DataConnection(cc) = DataConnection::from_request_parts(parts, state).await?;
        let Path(path) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let raw = path.get("account").map(String::as_str).unwrap_or_default();
        let a = account_of(state, &cc, raw)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(SourceAccountAt(cc, a))
    }
}

pub(super) async fn store_new(
    state: &AppState,
    a: &BankFeedAccount,
) -> CodatResult<BankFeedAccount> {
    match state.store.create_account(a, false, None).await {
        Ok(Outcome::Done((stored, _))) => Ok(stored),
        // Only with an idempotency key, which this door does not pass.
        Ok(Outcome::Replayed(_)) => Ok(a.clone()),
        Err(StoreError::Conflict("bank_feed_accounts_internal_id_key")) => Err(field_error(
            "id",
            "SOURCE_ACCOUNT_EXISTS",
            format!(
                "a source account with id {:?} already exists on this connection",
                a.internal_bank_account_id
            ),
        )),
        Err(e) => Err(e.into()),
    }
}

/// `POST …/bankFeedAccounts/batch`: 201 when every account was created, 207 when some were
/// refused; one result per account, in order.
#[utoipa::path(
    post,
    path = "/codat/companies/{companyId}/connections/{connectionId}/connectionInfo/bankFeedAccounts/batch",
    operation_id = "create-batch-source-account",
    tag = "Source accounts",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id")),
    request_body = Vec<SourceAccountIn>,
    responses((status = 201, description = "Every account was created", body = Vec<BatchItemResult>), (status = 207, description = "Some were refused: one result per account, in order", body = Vec<BatchItemResult>), Refused, Missing, BodyRefused),
)]
pub async fn create_batch(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path((company, connection)): Path<(String, String)>,
    CodatAnyJson(body): CodatAnyJson<Vec<SourceAccountIn>>,
) -> CodatResult<Response> {
    let cc = connection_of(&state, org.id, &company, &connection).await?;
    if body.is_empty() {
        return Err(CodatError::bad_request(
            "EMPTY_BATCH",
            "send at least one source account",
        ));
    }
    let mut results = Vec::with_capacity(body.len());
    let mut seen = HashSet::new();
    let mut all_ok = true;
    for item in body {
        let source_id = item.id.clone().unwrap_or_default();
        let outcome = if !seen.insert(source_id.clone()) {
            Err(field_error(
                "id",
                "DUPLICATE_IN_BATCH",
                format!("id {source_id:?} appears twice in the batch"),
            ))
        } else {
            match account_from(&cc, item, state.clock.now()) {
                Ok(a) => store_new(&state, &a).await,
                Err(e) => Err(e),
            }
        };
        let result = match outcome {
            Ok(a) => BatchItemOutcome {
                status_code: ItemStatus::Created(201),
                error: None,
                account: Some(account_json(&a)),
            },
            Err(e) if e.status.is_client_error() => {
                all_ok = false;
                BatchItemOutcome {
                    status_code: ItemStatus::Refused(e.status.as_u16().to_string()),
                    error: Some(e.message),
                    account: None,
                }
            }
            Err(e) => return Err(e),
        };
        results.push(BatchItemResult {
            source_account_id: source_id,
            result,
        });
    }
    let status = if all_ok {
        StatusCode::CREATED
    } else {
        StatusCode::MULTI_STATUS
    };
    Ok((status, Json(results)).into_response())
}

/// `GET …/connectionInfo/bankFeedAccounts`: a bare array.
#[utoipa::path(
    get,
    path = "/codat/companies/{companyId}/connections/{connectionId}/connectionInfo/bankFeedAccounts",
    operation_id = "list-source-accounts",
    tag = "Source accounts",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id")),
    responses((status = 200, description = "Every source account of the connection", body = Vec<SourceAccount>), Refused, Missing),
)]
pub async fn list(
    State(state): State<AppState>,
    DataConnection(cc): DataConnection,
) -> CodatResult<Json<Vec<SourceAccount>>> {
    let accounts = all_accounts(&state, cc.connection.id).await?;
    Ok(Json(accounts.iter().map(account_json).collect()))
}

/// Seed 001: "It's only possible to update the `accountName` field", while its example sends
/// the whole account back. A field that cannot change may be sent with the value it has (a
/// read-modify-write); a different value is refused (`READ_ONLY_FIELD`), never dropped.
fn check_unchanged(stored: &SourceAccount, body: &SourceAccountIn) -> CodatResult<()> {
    for (field, sent, has) in [
        ("accountType", &body.account_type, &stored.account_type),
        (
            "accountNumber",
            &body.account_number,
            &stored.account_number,
        ),
        ("sortCode", &body.sort_code, &stored.sort_code),
        ("currency", &body.currency, &Some(stored.currency.clone())),
    ] {
        let Some(sent) = sent.as_deref() else {
            continue;
        };
        let has = has.as_deref().unwrap_or_default();
        if !sent.eq_ignore_ascii_case(has) {
            return Err(field_error(
                field,
                "READ_ONLY_FIELD",
                format!(
                    "`{field}` cannot be changed by an update (it is {has:?}); only \
                     accountName, balance (while not connected) and status (to disconnected) can"
                ),
            ));
        }
    }
    Ok(())
}

/// `PATCH …/bankFeedAccounts/{accountId}`: the name; the balance while not connected; the
/// status only to `disconnected`. Other fields only as they are (`check_unchanged`).
#[utoipa::path(
    patch,
    path = "/codat/companies/{companyId}/connections/{connectionId}/connectionInfo/bankFeedAccounts/{accountId}",
    operation_id = "update-source-account",
    tag = "Source accounts",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id"), ("accountId" = String, Path, description = "The source account's id (the FI's own id of the account)")),
    request_body = SourceAccountIn,
    responses((status = 200, description = "The source account", body = SourceAccount), Refused, Missing, BodyRefused),
)]
pub async fn update(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path((company, connection, account)): Path<(String, String, String)>,
    CodatJson(body): CodatJson<SourceAccountIn>,
) -> CodatResult<Json<SourceAccount>> {
    let (cc, a) = source_account_of(&state, org.id, (&company, &connection, &account)).await?;
    if body.id.as_deref().is_some_and(|id| id != account) {
        return Err(field_error(
            "id",
            "ID_MISMATCH",
            format!("the body's id does not match {account:?}"),
        ));
    }
    check_lengths(&body)?;
    check_unchanged(&account_json(&a), &body)?;
    let update = rules::check_update(
        &a,
        body.account_name.as_deref(),
        body.balance,
        body.status.as_deref(),
    )
    .map_err(|r| {
        field_error(
            if r.code() == "BALANCE_LOCKED" {
                "balance"
            } else {
                "status"
            },
            r.code(),
            r.to_string(),
        )
    })?;
    let now = state.clock.now();
    let mut patch = bankfeeds_domain::account::AccountPatch::default();
    if let Some(name) = update.account_name {
        patch.details.insert("name".into(), Value::String(name));
    }
    if let Some(b) = update.balance {
        patch.current_balance = Some(Some(b));
    }
    let mut stored = match state
        .store
        .update_account(cc.connection.id, a.id, &patch, now, None)
        .await
    {
        Ok(Outcome::Done(a)) => a,
        Ok(Outcome::Replayed(_)) => a.clone(),
        Err(StoreError::NotFound) => return Err(CodatError::source_account_not_found(&account)),
        Err(e) => return Err(e.into()),
    };
    if update.disconnect {
        stored = state
            .store
            .disconnect_account(cc.connection.id, a.id, now)
            .await?;
    }
    Ok(Json(account_json(&stored)))
}

/// `DELETE …/bankFeedAccounts/{accountId}`: 204.
#[utoipa::path(
    delete,
    path = "/codat/companies/{companyId}/connections/{connectionId}/connectionInfo/bankFeedAccounts/{accountId}",
    operation_id = "delete-source-account",
    tag = "Source accounts",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id"), ("accountId" = String, Path, description = "The source account's id (the FI's own id of the account)")),
    responses((status = 204, description = "Deleted"), Refused, Missing),
)]
pub async fn delete(
    State(state): State<AppState>,
    SourceAccountAt(cc, a): SourceAccountAt,
) -> CodatResult<Response> {
    state
        .store
        .delete_account(cc.connection.id, a.id, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
