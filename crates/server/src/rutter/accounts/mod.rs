//! `/versioned/accounting/bank_feeds/accounts`: the FI publishes its customer's bank and card
//! accounts on a connection; the customer links them in the platform.

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::Json as JsonOut;
use bankfeeds_domain::account::deprecated_filter::{
    DeprecatedFilter, MAX_UNIX_MILLIS, MIN_UNIX_MILLIS,
};
use bankfeeds_domain::account::{AccountDetails, AccountQuery, AccountSortKey, TimeFilter};
use bankfeeds_domain::profile::{Door, PlatformProfile};
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, Connection, Timestamp};
use bankfeeds_store::{IdempotencyKey, Outcome, StoreError};

mod dto;
mod patch;
mod queued;

pub use queued::AccountWriteRunner;

pub use dto::*;

use crate::http::auth::ConnectionAuth;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{parse_json, read_json_body, require_object, Query};
use crate::http::idempotency::{idem, replay, saved, IdempotentJson};
use crate::http::path::InPath;
use crate::http::responses::{BodyRefusals, Conflict, Gone, Refusals};
use crate::http::{list_query, pagination};
use crate::rutter::response_mode::ResponseModeParam;
use crate::state::AppState;

const ACCOUNTS_PATH: &str = "/versioned/accounting/bank_feeds/accounts";

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

pub(crate) fn not_found(id: BankFeedAccountId) -> ApiError {
    ApiError::gone(
        "BANK_FEED_ACCOUNT_NOT_FOUND",
        format!("no bank feed account {id} on this connection"),
    )
}

/// A store error about account `id`, its "not found" said as this door says it.
fn store_error(id: BankFeedAccountId) -> impl FnOnce(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound => not_found(id),
        other => other.into(),
    }
}

/// A create's or an update's answer: the account as written, unexpanded.
fn written(account: BankFeedAccount) -> AccountEnvelopeOut {
    AccountEnvelopeOut {
        bank_feed_account: account_out(account, false),
    }
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
    let id = &a.internal_bank_account_id;
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

/// The account a create body describes, checked, and whether it may override the one with
/// the same `internal_bank_account_id`.
fn account_from(
    c: &Connection,
    input: &AccountIn,
    now: Timestamp,
) -> ApiResult<(BankFeedAccount, bool)> {
    // The limit counts the id as sent (what the API document says); it is stored trimmed.
    if input.internal_bank_account_id.chars().count() > MAX_ID_LEN {
        return Err(ApiError::bad_request(
            "INVALID_FIELD_VALUE",
            format!("field `bank_feed_account.internal_bank_account_id` must be 1 to {MAX_ID_LEN} characters"),
        ));
    }
    let profile = PlatformProfile::for_platform(c.platform, Door::Rutter);
    let mut account = BankFeedAccount::new(
        c.org_id,
        c.id,
        &profile,
        input.internal_bank_account_id.trim().to_owned(),
        input.bank_account_type,
        input.currency_code,
        now,
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
    Ok((account, override_existing))
}

/// Writes a checked create; the answer, or the one saved under `key`.
async fn write_create(
    state: &AppState,
    account: &BankFeedAccount,
    override_existing: bool,
    key: &Option<IdempotencyKey>,
) -> ApiResult<Outcome<AccountEnvelopeOut>> {
    let render = |(a, _): &(BankFeedAccount, bool)| saved(200, &written(a.clone()));
    let idem = idem(key, &render);
    Ok(
        match state
            .store
            .create_account(account, override_existing, idem)
            .await?
        {
            Outcome::Replayed(saved) => Outcome::Replayed(saved),
            Outcome::Done((stored, created)) => {
                tracing::info!(bank_feed_account_id = %stored.id, created, "bank feed account written");
                Outcome::Done(written(stored))
            }
        },
    )
}

/// A write's answer: the saved one on a replay, else the new one.
fn respond(outcome: Outcome<impl serde::Serialize>) -> Response {
    match outcome {
        Outcome::Replayed(saved) => replay(saved),
        Outcome::Done(body) => JsonOut(body).into_response(),
    }
}

/// Create a bank feed account (or, with `additional_fields.override_existing`, update the one
/// with the same `internal_bank_account_id`). With `response_mode: async`, the body is checked
/// at once and the answer is the job that writes it.
#[utoipa::path(
    post,
    path = "/versioned/accounting/bank_feeds/accounts",
    tag = "bank feed accounts",
    params(crate::rutter::connections::AccessTokenParam, ResponseModeParam),
    request_body = AccountCreateIn,
    responses(
        (status = 200, description = "The account as written, or the job to poll (`async`)", body = AccountWriteAnswer),
        Refusals, BodyRefusals, Conflict,
    ),
)]
pub async fn create_account(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    Query(query): Query<ResponseModeParam>,
    req: IdempotentJson<AccountCreateIn>,
) -> ApiResult<Response> {
    let c = &auth.connection;
    let mode = query.mode_with(req.body.response_mode)?;
    let (account, override_existing) =
        account_from(c, &req.body.bank_feed_account, state.clock.now())?;
    let key = req.key_for(c.org_id);
    if mode == ResponseMode::Async {
        let write = queued::Write::new("POST", ACCOUNTS_PATH.into(), None, req.raw_body());
        return queued::submit(&state, c, write, key).await;
    }
    Ok(respond(
        write_create(&state, &account, override_existing, &key).await?,
    ))
}

/// List the connection's bank feed accounts.
#[utoipa::path(
    get,
    path = "/versioned/accounting/bank_feeds/accounts",
    tag = "bank feed accounts",
    params(AccountListParams),
    responses(
        (status = 200, body = AccountListOut),
        Refusals,
    ),
)]
pub async fn list_accounts(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    Query(params): Query<AccountListParams>,
) -> ApiResult<JsonOut<AccountListOut>> {
    let expand = wants_platform_data(params.expand.as_deref())?;
    let mut filters = list_query::parse_filter(params.filter.as_deref().unwrap_or_default())?;
    filters.extend(deprecated_filters(&params)?);
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
    let ids: Vec<_> = page.items.iter().map(|a| a.id).collect();
    let mut live: std::collections::HashMap<_, _> = state
        .store
        .live_feeds_of(&ids)
        .await?
        .into_iter()
        .map(|f| (f.account_id, f))
        .collect();
    Ok(JsonOut(AccountListOut {
        connection: crate::rutter::connections::connection_ref(&auth.connection),
        bank_feed_accounts: page
            .items
            .into_iter()
            .map(|a| {
                let feed = live.remove(&a.id).map(live_feed_out);
                AccountOut {
                    live_feed: feed,
                    ..account_out(a, expand)
                }
            })
            .collect(),
        next_cursor,
    }))
}

/// Rutter's deprecated Unix-millisecond filters as clauses of the list's filter.
fn deprecated_filters(p: &AccountListParams) -> Result<Vec<TimeFilter>, ApiError> {
    [
        (DeprecatedFilter::UpdatedAtMin, p.updated_at_min),
        (DeprecatedFilter::UpdatedAtMax, p.updated_at_max),
        (DeprecatedFilter::LastSyncedAtMin, p.last_synced_at_min),
    ]
    .into_iter()
    .filter_map(|(f, v)| v.map(|v| (f, v)))
    .map(|(f, v)| {
        f.clause(v).ok_or_else(|| {
            ApiError::bad_request(
                "INVALID_QUERY_PARAMETER",
                format!(
                    "`{}` {v} is not a Unix time in milliseconds between {MIN_UNIX_MILLIS} \
                     (1900) and {MAX_UNIX_MILLIS} (9999)",
                    f.name()
                ),
            )
        })
    })
    .collect()
}

/// The account `id` on the token's connection: 410 `BANK_FEED_ACCOUNT_NOT_FOUND` when it is
/// not one of the connection's accounts.
pub(crate) async fn find_account(
    state: &AppState,
    auth: &ConnectionAuth,
    id: BankFeedAccountId,
) -> ApiResult<BankFeedAccount> {
    state
        .store
        .get_account(auth.connection.id, id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// Fetch one bank feed account.
#[utoipa::path(
    get,
    path = "/versioned/accounting/bank_feeds/accounts/{id}",
    tag = "bank feed accounts",
    params(InPath<BankFeedAccountId>, AccountGetParams),
    responses(
        (status = 200, body = AccountGetOut),
        Refusals, Gone,
    ),
)]
pub async fn get_account(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    InPath(id): InPath<BankFeedAccountId>,
    Query(params): Query<AccountGetParams>,
) -> ApiResult<JsonOut<AccountGetOut>> {
    let expand = wants_platform_data(params.expand.as_deref())?;
    let account = find_account(&state, &auth, id).await?;
    let live_feed = state
        .store
        .get_live_feed(account.id)
        .await?
        .map(live_feed_out);
    Ok(JsonOut(AccountGetOut {
        connection: crate::rutter::connections::connection_ref(&auth.connection),
        bank_feed_account: AccountOut {
            live_feed,
            ..account_out(account, expand)
        },
    }))
}

/// Writes a checked PATCH; the answer, or the one saved under `key`.
async fn write_update(
    state: &AppState,
    connection: &Connection,
    id: BankFeedAccountId,
    body: &AccountPatchIn,
    key: &Option<IdempotencyKey>,
) -> ApiResult<Outcome<AccountEnvelopeOut>> {
    let patch = patch::patch_from(&body.bank_feed_account)?;
    let render = |a: &BankFeedAccount| saved(200, &written(a.clone()));
    let idem = idem(key, &render);
    let now = state.clock.now();
    let outcome = state
        .store
        .update_account(connection.id, id, &patch, now, idem)
        .await
        .map_err(store_error(id))?;
    // Money fields were checked against the final currency inside the store's transaction.
    Ok(match outcome {
        Outcome::Replayed(saved) => Outcome::Replayed(saved),
        Outcome::Done(account) => Outcome::Done(written(account)),
    })
}

/// Deletes the account; its transactions stay stored.
async fn write_delete(
    state: &AppState,
    connection: &Connection,
    id: BankFeedAccountId,
) -> ApiResult<AccountDeletedOut> {
    state
        .store
        .delete_account(connection.id, id, state.clock.now())
        .await
        .map_err(store_error(id))?;
    Ok(AccountDeletedOut {
        code: "deleted".into(),
        success: true,
    })
}

/// Update a bank feed account's FI fields, or pause its feed (`status: inactive`). Otherwise feed
/// state belongs to the platform and is not patchable. With `response_mode: async`, the body is
/// checked at once and the answer is the job that applies it.
#[utoipa::path(
    patch,
    path = "/versioned/accounting/bank_feeds/accounts/{id}",
    tag = "bank feed accounts",
    params(InPath<BankFeedAccountId>, crate::rutter::connections::AccessTokenParam, ResponseModeParam),
    request_body = AccountPatchIn,
    responses(
        (status = 200, description = "The account as written, or the job to poll (`async`)", body = AccountWriteAnswer),
        Refusals, BodyRefusals, Conflict, Gone,
    ),
)]
pub async fn update_account(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    InPath(id): InPath<BankFeedAccountId>,
    Query(query): Query<ResponseModeParam>,
    req: IdempotentJson<AccountPatchIn>,
) -> ApiResult<Response> {
    let c = &auth.connection;
    let mode = query.mode_with(req.body.response_mode)?;
    let key = req.key_for(c.org_id);
    if mode == ResponseMode::Async {
        // What needs no database is refused now, as the synchronous call would; the job
        // checks the rest against the account as it is when it runs.
        patch::patch_from(&req.body.bank_feed_account)?;
        let account = find_account(&state, &auth, id).await?;
        let url = format!("{ACCOUNTS_PATH}/{}", account.id);
        let write = queued::Write::new("PATCH", url, Some(account.id), req.raw_body());
        return queued::submit(&state, c, write, key).await;
    }
    Ok(respond(write_update(&state, c, id, &req.body, &key).await?))
}

/// Delete a bank feed account. Its transactions stay stored. The body is optional; with
/// `response_mode: async` (in it or in the query) the answer is the job that deletes it.
#[utoipa::path(
    delete,
    path = "/versioned/accounting/bank_feeds/accounts/{id}",
    tag = "bank feed accounts",
    params(InPath<BankFeedAccountId>, crate::rutter::connections::AccessTokenParam, ResponseModeParam),
    request_body(content = AccountDeleteIn, description = "Optional (`openapi.rs` marks it not required)"),
    responses(
        (status = 200, description = "Deleted, or the job to poll (`async`)", body = AccountDeleteAnswer),
        Refusals, BodyRefusals, Gone,
    ),
)]
pub async fn delete_account(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    InPath(id): InPath<BankFeedAccountId>,
    Query(query): Query<ResponseModeParam>,
    request: Request,
) -> ApiResult<Response> {
    let bytes = read_json_body(request, &state).await?;
    // No body, or JSON `null` (what the document's optional body allows), asks for nothing.
    let text = bytes.trim_ascii();
    let body = if text.is_empty() || text == b"null" {
        AccountDeleteIn::default()
    } else {
        require_object(&bytes)?;
        parse_json::<AccountDeleteIn>(&bytes)?
    };
    let mode = query.mode_with(body.response_mode)?;
    let c = &auth.connection;
    if mode == ResponseMode::Async {
        let account = find_account(&state, &auth, id).await?;
        let url = format!("{ACCOUNTS_PATH}/{}", account.id);
        let raw = bankfeeds_domain::job::RawJson::from_value(
            &serde_json::to_value(&body).expect("a delete body serialises"),
        );
        let write = queued::Write::new("DELETE", url, Some(account.id), &raw);
        return queued::submit(&state, c, write, None).await;
    }
    Ok(JsonOut(write_delete(&state, c, id).await?).into_response())
}
