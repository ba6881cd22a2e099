//! `/versioned/accounting/bank_feeds/accounts`: the FI publishes its customer's bank and card
//! accounts on a connection; the customer links them in the platform.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json as JsonOut;
use bankfeeds_domain::account::{
    AccountDetails, AccountPatch, AccountQuery, AccountSortKey, BankAccountType, FeedStatus,
    DETAIL_FIELDS,
};
use bankfeeds_domain::profile::{Door, PlatformProfile};
use bankfeeds_domain::{Amount, BankFeedAccount, BankFeedAccountId, Currency, Timestamp};
use bankfeeds_store::{Idem, Outcome};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::ConnectionAuth;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::http::idempotency::{replay, saved, IdempotentJson};
use crate::http::{list_query, pagination, time_param};
use crate::rutter::connections::ConnectionRefOut;
use crate::state::AppState;

const MAX_ID_LEN: usize = 255;
const MAX_TEXT_LEN: usize = 1000;

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    #[default]
    PreferSync,
    Async,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AdditionalFieldsIn {
    /// Update the account with the same `internal_bank_account_id` instead of refusing (409).
    #[serde(default)]
    pub override_existing: bool,
    #[serde(default)]
    pub skip_account_link: bool,
}

/// The FI's fields of a bank feed account. Read-only fields (`id`, `feed_status`,
/// `transaction_ready`, `last_synced_at`) are ignored if sent: the platform owns the feed state.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AccountIn {
    /// The FI's own id for the account; unique within the connection.
    pub internal_bank_account_id: String,
    pub bank_account_type: BankAccountType,
    pub currency_code: Currency,
    #[serde(default)]
    pub name: Option<String>,
    /// The platform (ledger) account this feed maps to, if known.
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub parent_bank_feed_account_id: Option<BankFeedAccountId>,
    #[serde(default, deserialize_with = "time_param::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub transaction_start_date: Option<Timestamp>,
    #[serde(default)]
    pub bank_account_number: Option<String>,
    #[serde(default)]
    pub routing_number: Option<String>,
    #[serde(default)]
    pub line_of_business: Option<String>,
    #[serde(default)]
    pub current_balance: Option<Amount>,
    #[serde(default)]
    pub available_balance: Option<Amount>,
    #[serde(default)]
    pub available_credit: Option<Amount>,
    #[serde(default)]
    pub credit_limit: Option<Amount>,
    #[serde(default)]
    pub last_statement_balance: Option<Amount>,
    #[serde(default, deserialize_with = "time_param::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_statement_date: Option<Timestamp>,
    #[serde(default)]
    pub minimum_payment_amount: Option<Amount>,
    #[serde(default)]
    pub next_payment_amount: Option<Amount>,
    #[serde(default, deserialize_with = "time_param::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_payment_date: Option<Timestamp>,
    #[serde(default)]
    pub past_due_amount: Option<Amount>,
    /// A rate, not money: not checked against the currency's decimal places.
    #[serde(default)]
    pub purchases_apr: Option<Amount>,
    #[serde(default)]
    pub finance_charges: Option<Amount>,
    #[serde(default)]
    pub additional_fields: Option<AdditionalFieldsIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AccountCreateIn {
    pub bank_feed_account: AccountIn,
    /// Accepted for compatibility; account writes always complete synchronously.
    #[serde(default)]
    pub response_mode: Option<ResponseMode>,
}

/// A PATCH body: the fields to change (`null` clears a nullable field).
#[derive(Debug, Deserialize, ToSchema)]
pub struct AccountPatchIn {
    #[schema(value_type = Object)]
    pub bank_feed_account: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountOut {
    pub id: BankFeedAccountId,
    pub account_id: Option<String>,
    pub internal_bank_account_id: String,
    pub parent_bank_feed_account_id: Option<BankFeedAccountId>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_statement_date: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_payment_date: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub transaction_start_date: Option<Timestamp>,
    pub bank_account_type: BankAccountType,
    pub feed_status: FeedStatus,
    pub transaction_ready: bool,
    pub available_balance: Option<Amount>,
    pub available_credit: Option<Amount>,
    pub bank_account_number: Option<String>,
    pub credit_limit: Option<Amount>,
    pub currency_code: Currency,
    pub current_balance: Option<Amount>,
    pub finance_charges: Option<Amount>,
    pub last_statement_balance: Option<Amount>,
    pub line_of_business: Option<String>,
    pub minimum_payment_amount: Option<Amount>,
    pub name: Option<String>,
    pub next_payment_amount: Option<Amount>,
    pub past_due_amount: Option<Amount>,
    pub purchases_apr: Option<Amount>,
    pub routing_number: Option<String>,
    /// When the platform last ingested this feed; null until it has.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_synced_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Only with `expand=platform_data`: what the platform recorded about the feed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub platform_data: Option<Option<serde_json::Value>>,
}

impl AccountOut {
    pub fn new(a: BankFeedAccount, expand_platform_data: bool) -> Self {
        let d = a.details;
        AccountOut {
            id: a.id,
            account_id: d.account_id,
            internal_bank_account_id: a.internal_bank_account_id,
            parent_bank_feed_account_id: a.parent_bank_feed_account_id,
            last_statement_date: d.last_statement_date,
            next_payment_date: d.next_payment_date,
            transaction_start_date: a.transaction_start_date,
            bank_account_type: a.bank_account_type,
            feed_status: a.feed_status,
            transaction_ready: a.transaction_ready,
            available_balance: d.available_balance,
            available_credit: d.available_credit,
            bank_account_number: d.bank_account_number,
            credit_limit: d.credit_limit,
            currency_code: a.currency,
            current_balance: a.current_balance,
            finance_charges: d.finance_charges,
            last_statement_balance: d.last_statement_balance,
            line_of_business: d.line_of_business,
            minimum_payment_amount: d.minimum_payment_amount,
            name: d.name,
            next_payment_amount: d.next_payment_amount,
            past_due_amount: d.past_due_amount,
            purchases_apr: d.purchases_apr,
            routing_number: d.routing_number,
            last_synced_at: a.last_synced_at,
            created_at: a.created_at,
            updated_at: a.updated_at,
            platform_data: expand_platform_data.then_some(a.platform_data),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountEnvelopeOut {
    pub bank_feed_account: AccountOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountGetOut {
    pub connection: ConnectionRefOut,
    pub bank_feed_account: AccountOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountListOut {
    pub connection: ConnectionRefOut,
    pub bank_feed_accounts: Vec<AccountOut>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountDeletedOut {
    pub code: &'static str,
    pub success: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountListParams {
    /// The connection's access token.
    #[allow(dead_code)]
    pub access_token: Option<String>,
    pub cursor: Option<String>,
    /// Rows per page: 1 to 500, default 50.
    pub limit: Option<u32>,
    /// e.g. `updated_at >= 2024-01-01 AND last_synced_at < 2024-02-01T00:00:00Z`.
    pub filter: Option<String>,
    /// `updated_at` or `last_synced_at`, then `ASC` (default) or `DESC`; default `updated_at DESC`.
    pub sort: Option<String>,
    /// `platform_data` to include the platform's record of each feed.
    pub expand: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountGetParams {
    /// The connection's access token.
    #[allow(dead_code)]
    pub access_token: Option<String>,
    pub expand: Option<String>,
}

fn wants_platform_data(expand: Option<&str>) -> Result<bool, ApiError> {
    match expand.map(str::trim).filter(|e| !e.is_empty()) {
        None => Ok(false),
        Some("platform_data") => Ok(true),
        Some(other) => Err(ApiError::bad_request(
            "INVALID_QUERY_PARAMETER",
            format!("expand supports only `platform_data`, not {other:?}"),
        )),
    }
}

fn parse_account_id(raw: &str) -> Result<BankFeedAccountId, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::bad_request(
            "INVALID_ID",
            format!("{raw:?} is not a bank feed account id"),
        )
    })
}

fn not_found(id: BankFeedAccountId) -> ApiError {
    ApiError::gone(
        "BANK_FEED_ACCOUNT_NOT_FOUND",
        format!("no bank feed account {id} on this connection"),
    )
}

fn check_text(field: &str, value: Option<&str>, max: usize) -> Result<(), ApiError> {
    match value {
        Some(v) if v.chars().count() > max => Err(ApiError::bad_request(
            "FIELD_TOO_LONG",
            format!("field `bank_feed_account.{field}` is longer than {max} characters"),
        )),
        _ => Ok(()),
    }
}

fn check_account(a: &BankFeedAccount) -> Result<(), ApiError> {
    let id = a.internal_bank_account_id.trim();
    if id.is_empty() || id.chars().count() > MAX_ID_LEN {
        return Err(ApiError::bad_request(
            "INVALID_FIELD_VALUE",
            format!("field `bank_feed_account.internal_bank_account_id` must be 1 to {MAX_ID_LEN} characters"),
        ));
    }
    let d = &a.details;
    for (field, value) in [
        ("name", d.name.as_deref()),
        ("account_id", d.account_id.as_deref()),
        ("bank_account_number", d.bank_account_number.as_deref()),
        ("routing_number", d.routing_number.as_deref()),
        ("line_of_business", d.line_of_business.as_deref()),
    ] {
        check_text(field, value, MAX_TEXT_LEN)?;
    }
    a.check_money()
        .map_err(|e| ApiError::bad_request(e.code(), format!("bank_feed_account.{e}")))
}

/// Create a bank feed account (or, with `additional_fields.override_existing`, update the one
/// with the same `internal_bank_account_id`).
#[utoipa::path(
    post,
    path = "/versioned/accounting/bank_feeds/accounts",
    tag = "bank feed accounts",
    params(crate::rutter::connections::AccessTokenParam),
    request_body = AccountCreateIn,
    responses(
        (status = 200, body = AccountEnvelopeOut),
        (status = 400, body = crate::http::error::ErrorOut),
        (status = 401, body = crate::http::error::ErrorOut),
        (status = 409, body = crate::http::error::ErrorOut),
    ),
    security(("basic" = []))
)]
pub async fn create_account(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    req: IdempotentJson<AccountCreateIn>,
) -> ApiResult<Response> {
    let c = &auth.connection;
    let input = &req.body.bank_feed_account;
    let profile = PlatformProfile::for_platform(c.platform, Door::Rutter);
    let mut account = BankFeedAccount::new(
        c.org_id,
        c.id,
        &profile,
        input.internal_bank_account_id.trim().to_owned(),
        input.bank_account_type,
        input.currency_code,
        state.clock.now(),
    );
    account.parent_bank_feed_account_id = input.parent_bank_feed_account_id;
    account.transaction_start_date = input.transaction_start_date;
    account.current_balance = input.current_balance;
    account.details = AccountDetails {
        name: input.name.clone(),
        account_id: input.account_id.clone(),
        bank_account_number: input.bank_account_number.clone(),
        routing_number: input.routing_number.clone(),
        line_of_business: input.line_of_business.clone(),
        available_balance: input.available_balance,
        available_credit: input.available_credit,
        credit_limit: input.credit_limit,
        last_statement_balance: input.last_statement_balance,
        last_statement_date: input.last_statement_date,
        minimum_payment_amount: input.minimum_payment_amount,
        next_payment_amount: input.next_payment_amount,
        next_payment_date: input.next_payment_date,
        past_due_amount: input.past_due_amount,
        purchases_apr: input.purchases_apr,
        finance_charges: input.finance_charges,
    };
    check_account(&account)?;
    let override_existing = input
        .additional_fields
        .as_ref()
        .is_some_and(|f| f.override_existing);

    let key = req.key_for(c.org_id);
    let render = |(a, _): &(BankFeedAccount, bool)| {
        saved(
            200,
            &AccountEnvelopeOut {
                bank_feed_account: AccountOut::new(a.clone(), false),
            },
        )
    };
    let idem = key.as_ref().map(|key| Idem {
        key,
        render: &render,
    });
    match state
        .store
        .create_account(&account, override_existing, idem)
        .await?
    {
        Outcome::Replayed(saved) => Ok(replay(saved)),
        Outcome::Done((stored, created)) => {
            tracing::info!(bank_feed_account_id = %stored.id, created, "bank feed account written");
            Ok(JsonOut(AccountEnvelopeOut {
                bank_feed_account: AccountOut::new(stored, false),
            })
            .into_response())
        }
    }
}

/// List the connection's bank feed accounts.
#[utoipa::path(
    get,
    path = "/versioned/accounting/bank_feeds/accounts",
    tag = "bank feed accounts",
    params(AccountListParams),
    responses(
        (status = 200, body = AccountListOut),
        (status = 400, body = crate::http::error::ErrorOut),
        (status = 401, body = crate::http::error::ErrorOut),
    ),
    security(("basic" = []))
)]
pub async fn list_accounts(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    Query(params): Query<AccountListParams>,
) -> ApiResult<JsonOut<AccountListOut>> {
    let expand = wants_platform_data(params.expand.as_deref())?;
    let filters = list_query::parse_filter(params.filter.as_deref().unwrap_or_default())?;
    let (sort, direction) = list_query::parse_sort(params.sort.as_deref())?;
    let limit = pagination::check_limit(params.limit, 500)?;
    // The cursor names the sort it belongs to, so it cannot be replayed under another one.
    let sort_tag = format!("{sort:?}:{direction:?}");
    let after = pagination::decode_cursor(params.cursor.as_deref(), |c| {
        c.strip_prefix(&format!("{sort_tag}|"))
            .and_then(AccountSortKey::decode)
    })?;
    let query = AccountQuery {
        filters,
        sort,
        direction,
        after,
        limit,
    };
    let page = state
        .store
        .list_accounts(auth.connection.id, &query)
        .await?;
    let next_cursor = pagination::next_cursor(&page, |a| {
        format!("{sort_tag}|{}", AccountSortKey::of(a, sort).encode())
    });
    Ok(JsonOut(AccountListOut {
        connection: ConnectionRefOut::new(&auth.connection),
        bank_feed_accounts: page
            .items
            .into_iter()
            .map(|a| AccountOut::new(a, expand))
            .collect(),
        next_cursor,
    }))
}

/// Fetch one bank feed account.
#[utoipa::path(
    get,
    path = "/versioned/accounting/bank_feeds/accounts/{id}",
    tag = "bank feed accounts",
    params(("id" = String, Path, description = "The bank feed account's id"), AccountGetParams),
    responses(
        (status = 200, body = AccountGetOut),
        (status = 400, body = crate::http::error::ErrorOut),
        (status = 401, body = crate::http::error::ErrorOut),
        (status = 410, body = crate::http::error::ErrorOut),
    ),
    security(("basic" = []))
)]
pub async fn get_account(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    Path(id): Path<String>,
    Query(params): Query<AccountGetParams>,
) -> ApiResult<JsonOut<AccountGetOut>> {
    let expand = wants_platform_data(params.expand.as_deref())?;
    let id = parse_account_id(&id)?;
    let account = state
        .store
        .get_account(auth.connection.id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(JsonOut(AccountGetOut {
        connection: ConnectionRefOut::new(&auth.connection),
        bank_feed_account: AccountOut::new(account, expand),
    }))
}

/// Update a bank feed account's FI fields. Feed state belongs to the platform and is not patchable.
#[utoipa::path(
    patch,
    path = "/versioned/accounting/bank_feeds/accounts/{id}",
    tag = "bank feed accounts",
    params(("id" = String, Path, description = "The bank feed account's id"), crate::rutter::connections::AccessTokenParam),
    request_body = AccountPatchIn,
    responses(
        (status = 200, body = AccountEnvelopeOut),
        (status = 400, body = crate::http::error::ErrorOut),
        (status = 401, body = crate::http::error::ErrorOut),
        (status = 409, body = crate::http::error::ErrorOut),
        (status = 410, body = crate::http::error::ErrorOut),
    ),
    security(("basic" = []))
)]
pub async fn update_account(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    Path(id): Path<String>,
    req: IdempotentJson<AccountPatchIn>,
) -> ApiResult<Response> {
    let id = parse_account_id(&id)?;
    let patch = patch_from(&req.body.bank_feed_account)?;
    let key = req.key_for(auth.connection.org_id);
    let render = |a: &BankFeedAccount| {
        saved(
            200,
            &AccountEnvelopeOut {
                bank_feed_account: AccountOut::new(a.clone(), false),
            },
        )
    };
    let idem = key.as_ref().map(|key| Idem {
        key,
        render: &render,
    });
    let now = state.clock.now();
    let outcome = state
        .store
        .update_account(auth.connection.id, id, &patch, now, idem)
        .await
        .map_err(|e| match e {
            bankfeeds_store::StoreError::NotFound => not_found(id),
            other => other.into(),
        })?;
    match outcome {
        Outcome::Replayed(saved) => Ok(replay(saved)),
        Outcome::Done(account) => {
            // Money fields were checked against the final currency inside the store's transaction.
            Ok(JsonOut(AccountEnvelopeOut {
                bank_feed_account: AccountOut::new(account, false),
            })
            .into_response())
        }
    }
}

/// Turns a PATCH body into a domain patch, checking each field's type.
fn patch_from(
    fields: &serde_json::Map<String, serde_json::Value>,
) -> Result<AccountPatch, ApiError> {
    const READ_ONLY: &[&str] = &[
        "id",
        "feed_status",
        "transaction_ready",
        "last_synced_at",
        "created_at",
        "updated_at",
        "platform_data",
    ];
    let mut patch = AccountPatch::default();
    for (field, value) in fields {
        let invalid = |msg: String| {
            ApiError::bad_request(
                "INVALID_FIELD_VALUE",
                format!("field `bank_feed_account.{field}`: {msg}"),
            )
        };
        let typed = |code: &'static str, msg: String| {
            ApiError::bad_request(code, format!("field `bank_feed_account.{field}`: {msg}"))
        };
        match field.as_str() {
            "internal_bank_account_id" => {
                let v = value
                    .as_str()
                    .map(str::trim)
                    .filter(|v| !v.is_empty() && v.chars().count() <= MAX_ID_LEN);
                patch.internal_bank_account_id = Some(
                    v.ok_or_else(|| {
                        invalid(format!("must be a string of 1 to {MAX_ID_LEN} characters"))
                    })?
                    .to_owned(),
                );
            }
            "bank_account_type" => {
                patch.bank_account_type = Some(
                    serde_json::from_value(value.clone())
                        .map_err(|e| typed("INVALID_ENUM_VALUE", e.to_string()))?,
                );
            }
            "currency_code" => {
                patch.currency = Some(
                    serde_json::from_value(value.clone())
                        .map_err(|e| typed("INVALID_ENUM_VALUE", e.to_string()))?,
                );
            }
            "parent_bank_feed_account_id" => {
                patch.parent_bank_feed_account_id = Some(
                    serde_json::from_value(value.clone()).map_err(|e| invalid(e.to_string()))?,
                );
            }
            "transaction_start_date" => {
                let v = match value {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) => Some(
                        time_param::parse(s)
                            .ok_or_else(|| invalid(format!("{s:?} is not a timestamp")))?,
                    ),
                    _ => {
                        return Err(typed(
                            "INVALID_FIELD_TYPE",
                            "must be a timestamp string or null".into(),
                        ))
                    }
                };
                patch.transaction_start_date = Some(v);
            }
            "current_balance" => {
                patch.current_balance = Some(
                    serde_json::from_value(value.clone()).map_err(|e| invalid(e.to_string()))?,
                );
            }
            f if DETAIL_FIELDS.contains(&f) => {
                let value = match value {
                    // Dates in details accept the same forms as elsewhere.
                    serde_json::Value::String(s) if f.ends_with("_date") => serde_json::to_value(
                        time_param::parse(s)
                            .ok_or_else(|| invalid(format!("{s:?} is not a timestamp")))?,
                    )
                    .expect("timestamps serialise"),
                    other => other.clone(),
                };
                if let Some(text) = value.as_str() {
                    if text.chars().count() > MAX_TEXT_LEN {
                        return Err(typed(
                            "FIELD_TOO_LONG",
                            format!("longer than {MAX_TEXT_LEN} characters"),
                        ));
                    }
                }
                patch.details.insert(field.clone(), value);
            }
            f if READ_ONLY.contains(&f) => {
                return Err(typed(
                    "READ_ONLY_FIELD",
                    "is set by the hub or the platform, not by the FI".into(),
                ));
            }
            _ => {
                return Err(typed(
                    "UNKNOWN_FIELD",
                    "is not a field of a bank feed account".into(),
                ))
            }
        }
    }
    Ok(patch)
}

/// Delete a bank feed account. Its transactions stay stored.
#[utoipa::path(
    delete,
    path = "/versioned/accounting/bank_feeds/accounts/{id}",
    tag = "bank feed accounts",
    params(("id" = String, Path, description = "The bank feed account's id"), crate::rutter::connections::AccessTokenParam),
    responses(
        (status = 200, body = AccountDeletedOut),
        (status = 400, body = crate::http::error::ErrorOut),
        (status = 401, body = crate::http::error::ErrorOut),
        (status = 410, body = crate::http::error::ErrorOut),
    ),
    security(("basic" = []))
)]
pub async fn delete_account(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    Path(id): Path<String>,
) -> ApiResult<JsonOut<AccountDeletedOut>> {
    let id = parse_account_id(&id)?;
    state
        .store
        .delete_account(auth.connection.id, id, state.clock.now())
        .await
        .map_err(|e| match e {
            bankfeeds_store::StoreError::NotFound => not_found(id),
            other => other.into(),
        })?;
    Ok(JsonOut(AccountDeletedOut {
        code: "deleted",
        success: true,
    }))
}
