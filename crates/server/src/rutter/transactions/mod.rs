//! `/versioned/accounting/bank_feeds/transactions`: the FI pushes posted transactions in
//! batches for one account. Every batch becomes a job; `prefer_sync` waits for it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json as JsonOut;
use bankfeeds_domain::batch::{summary, validate_batch, AccountContext};
use bankfeeds_domain::batch::{BatchItem, BatchRefusal};
use bankfeeds_domain::job::{JobRequest, RawJson};
use bankfeeds_domain::profile::{Door, PlatformProfile};
use bankfeeds_domain::transaction::TransactionQuery;
use bankfeeds_domain::{Currency, Job, Timestamp, TransactionId};
use bankfeeds_store::Outcome;

mod dto;

pub use dto::*;

use crate::http::auth::ConnectionAuth;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::http::idempotency::{idem, replay, saved, IdempotentJson};
use crate::http::path::{parse_id, InPath};
use crate::http::responses::{BodyRefusals, Conflict, Gone, Refusals};
use crate::http::{pagination, time_param};
use crate::jobs;
use crate::rutter::accounts::ResponseMode;
use crate::rutter::jobs::{async_envelope, AsyncEnvelopeOut};
use crate::rutter::response_mode::ResponseModeParam;
use crate::state::AppState;

/// The answer a finished batch job saves: what the synchronous call would have said, rendered
/// once as text. The job keeps that text, and the synchronous answer, `GET /versioned/jobs/:id`
/// and replays all send it.
/// Without the account's currency (`None`), amounts are written as stored.
pub fn render_outcome(
    currency: Option<Currency>,
    outcome: &Result<Vec<BatchItem>, BatchRefusal>,
) -> (u16, RawJson) {
    render(outcome, currency, None)
}

/// [`render_outcome`] for `job`: a stored batch's answer names its job in the body
/// (`async_response`), as seed 003 has it: "the response will include a job ID which can be used
/// to check the status of the POST request".
/// `currency` is the batch account's: money is written with its minor units.
pub fn render_job_outcome(
    public_base: &str,
    job: &Job,
    currency: Option<Currency>,
    outcome: &Result<Vec<BatchItem>, BatchRefusal>,
) -> (u16, RawJson) {
    let mut envelope = async_envelope(public_base, job).async_response;
    envelope.status = bankfeeds_domain::job::JobStatus::Success;
    render(outcome, currency, Some(envelope))
}

fn render(
    outcome: &Result<Vec<BatchItem>, BatchRefusal>,
    currency: Option<Currency>,
    async_response: Option<crate::rutter::jobs::AsyncResponseOut>,
) -> (u16, RawJson) {
    match outcome {
        Ok(items) => {
            let body = TransactionsCreatedOut {
                bank_feed_transactions: items
                    .iter()
                    .map(|i| transaction_out(&i.transaction, currency, Some(i.duplicate)))
                    .collect(),
                async_response,
            };
            let text = serde_json::to_string(&body).expect("transactions serialise");
            (200, RawJson::trusted(text))
        }
        Err(refusal) => {
            let e = refusal_error(refusal);
            (e.status.as_u16(), RawJson::from_value(&e.body()))
        }
    }
}

fn refusal_error(refusal: &BatchRefusal) -> ApiError {
    match refusal {
        BatchRefusal::Conflict { transaction_ids } => ApiError::conflict(
            "TRANSACTION_ID_CONFLICT",
            format!(
                "transaction_id {} is already stored for this account with different content; \
                 a transaction never changes once sent (send a new transaction_id for a new transaction)",
                transaction_ids.join(", ")
            ),
        )
        .with_errors(serde_json::json!(transaction_ids
            .iter()
            .map(|id| serde_json::json!({"code": "TRANSACTION_ID_CONFLICT", "transaction_id": id}))
            .collect::<Vec<_>>())),
        BatchRefusal::Invalid(violations) => {
            ApiError::bad_request(violations.first().map_or("INVALID_BATCH", |v| v.code), summary(violations))
                .with_errors(serde_json::to_value(violations).expect("violations serialise"))
        }
        BatchRefusal::AccountNotFound => account_not_found(),
        BatchRefusal::BalanceMismatch { check, currency } => {
            crate::rutter::continuity::mismatch_error(check, *currency)
        }
    }
}

fn account_not_found() -> ApiError {
    ApiError::gone(
        "BANK_FEED_ACCOUNT_NOT_FOUND",
        "bank_feed_account_id names no bank feed account of this connection",
    )
}

/// Push a batch of posted transactions for one bank feed account.
#[utoipa::path(
    post,
    path = "/versioned/accounting/bank_feeds/transactions",
    tag = "bank feed transactions",
    params(crate::rutter::connections::AccessTokenParam, ResponseModeParam),
    request_body = TransactionsCreateIn,
    responses(
        (status = 200, description = "The stored transactions, or the job to poll (`async`, or `prefer_sync` still queued): one of two shapes: only the stored answer has `bank_feed_transactions` (both name the job in `async_response`)", body = dto::TransactionsCreateAnswer),
        Refusals, BodyRefusals, Conflict, Gone,
    ),
)]
pub async fn create_transactions(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    Query(query): Query<ResponseModeParam>,
    req: IdempotentJson<TransactionsCreateIn>,
) -> ApiResult<Response> {
    let c = &auth.connection;
    let key = req.key_for(c.org_id);
    let idempotency_key = req.key().map(str::to_owned);
    let raw_body = req.raw_body().clone();
    let mode = query.mode_with(req.body.response_mode)?;
    let batch = batch_request(req.body);
    let account = state
        .store
        .get_account(c.id, batch.bank_feed_account_id)
        .await?
        .ok_or_else(account_not_found)?;

    // The rules that do not depend on what is stored are checked now, so a malformed batch is
    // refused at once and never becomes a job. The job re-checks everything against the store.
    let profile = PlatformProfile::for_platform(c.platform, Door::Rutter);
    let stateless = AccountContext {
        minor_units: account.currency.minor_units(),
        transaction_ready: account.transaction_ready,
        transaction_start_date: None,
        newest_posted_at: None,
        has_transactions: true,
    };
    let all_seen = vec![false; batch.transactions.len()];
    if let Err(v) = validate_batch(
        &profile,
        &stateless,
        &batch.transactions,
        &all_seen,
        state.clock.now(),
    ) {
        return Err(refusal_error(&BatchRefusal::Invalid(v)));
    }
    if let Some(balance) = batch.current_balance {
        if !balance.fits_minor_units(account.currency.minor_units()) {
            return Err(ApiError::bad_request(
                "TOO_MANY_DECIMALS",
                format!(
                    "field `bank_feed_transactions.current_balance`: {balance} has more than the {} decimal places {} allows",
                    account.currency.minor_units(),
                    account.currency.code()
                ),
            ));
        }
    }

    let job = Job::new(
        bankfeeds_domain::job::JobKind::TransactionBatch,
        c.org_id,
        c.id,
        Some(account.id),
        JobRequest {
            method: "POST".into(),
            url: "/versioned/accounting/bank_feeds/transactions".into(),
            body: raw_body,
            idempotency_key,
        },
        state.clock.now(),
    );
    let base = state.public_base.clone();
    let render = move |j: &Job| saved(200, &async_envelope(&base, j));
    let idem = idem(&key, &render);
    let job = match state.store.submit_job(&job, idem).await? {
        Outcome::Done(job) => job,
        Outcome::Replayed(saved) => return replay_job(&state, auth.org.id, saved).await,
    };
    let mut answer = if matches!(mode, ResponseMode::Async) {
        state.job_notify.notify_one();
        JsonOut(async_envelope(&state.public_base, &job)).into_response()
    } else {
        // This request runs its own job, with the batch it has already parsed. Workers are not
        // woken for it (they would only race it and parse the stored body again); they poll,
        // and are woken if the wait runs out first.
        let batch = std::sync::Arc::new(batch);
        let done = jobs::run_now_or_wait(&state, job.clone(), state.sync_wait, Some(batch)).await?;
        if !done.status.is_finished() {
            state.job_notify.notify_one();
        }
        job_answer(&state, &done)
    };
    // As Rutter does, an accepted request names its job.
    if let Ok(v) = axum::http::HeaderValue::from_str(&job.id.to_string()) {
        answer.headers_mut().insert(JOB_ID_HEADER, v);
    }
    Ok(answer)
}

pub use crate::rutter::jobs::JOB_ID_HEADER;

/// The job's own answer once finished, else the async envelope.
fn job_answer(state: &AppState, job: &Job) -> Response {
    match &job.response {
        // The text the job saved, sent as is.
        Some((status, body)) => (
            StatusCode::from_u16(*status).unwrap_or(StatusCode::OK),
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body.as_str().to_owned(),
        )
            .into_response(),
        None => JsonOut(async_envelope(&state.public_base, job)).into_response(),
    }
}

/// A replayed batch POST answers with its job's outcome when there is one.
async fn replay_job(
    state: &AppState,
    org: bankfeeds_domain::OrgId,
    saved: bankfeeds_store::StoredResponse,
) -> ApiResult<Response> {
    let envelope: Option<AsyncEnvelopeOut> = serde_json::from_str(&saved.body).ok();
    let job_id = envelope.and_then(|e| e.async_response.id.parse().ok());
    let Some(job_id) = job_id else {
        return Ok(replay(saved));
    };
    match state.store.get_job(org, job_id).await? {
        Some(job) if job.status.is_finished() => {
            let mut r = job_answer(state, &job);
            r.headers_mut().insert(
                "idempotent-replayed",
                axum::http::HeaderValue::from_static("true"),
            );
            Ok(r)
        }
        _ => Ok(replay(saved)),
    }
}

/// List the connection's transactions, oldest first.
#[utoipa::path(
    get,
    path = "/versioned/accounting/bank_feeds/transactions",
    tag = "bank feed transactions",
    params(TransactionListParams),
    responses(
        (status = 200, body = TransactionListOut<'_>),
        Refusals,
    ),
)]
pub async fn list_transactions(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    Query(p): Query<TransactionListParams>,
) -> ApiResult<Response> {
    let limit = pagination::check_limit(p.limit, 1000)?;
    let time = |raw: &Option<String>, name: &str| -> Result<Option<Timestamp>, ApiError> {
        raw.as_deref()
            .map(|s| {
                time_param::parse(s).ok_or_else(|| {
                    ApiError::bad_request(
                        "INVALID_QUERY_PARAMETER",
                        format!("{name}: {s:?} is not a timestamp"),
                    )
                })
            })
            .transpose()
    };
    let after =
        pagination::decode_cursor(p.cursor.as_deref(), |c| c.parse::<TransactionId>().ok())?;
    let query = TransactionQuery {
        bank_feed_account_id: p
            .bank_feed_account_id
            .as_deref()
            .map(parse_id)
            .transpose()?,
        posted_at_min: time(&p.posted_at_min, "posted_at_min")?,
        posted_at_max: time(&p.posted_at_max, "posted_at_max")?,
        platform_ingested: p.platform_ingested,
        after,
        limit,
    };
    let page = state
        .store
        .list_transactions(auth.connection.id, &query)
        .await?;
    let next_cursor = pagination::next_cursor(&page, |t| t.id.to_string());
    let currencies = account_currencies(&state, auth.connection.id, &page.items).await?;
    Ok(JsonOut(TransactionListOut {
        connection: crate::rutter::connections::connection_ref(&auth.connection),
        bank_feed_transactions: page
            .items
            .iter()
            .map(|t| transaction_out(t, currencies.get(&t.bank_feed_account_id).copied(), None))
            .collect(),
        next_cursor,
    })
    .into_response())
}

/// Fetch one transaction.
#[utoipa::path(
    get,
    path = "/versioned/accounting/bank_feeds/transactions/{id}",
    tag = "bank feed transactions",
    params(("id" = uuid::Uuid, Path, description = "The transaction's id (the hub's, not transaction_id)"), crate::rutter::connections::AccessTokenParam),
    responses(
        (status = 200, body = TransactionGetOut<'_>),
        Refusals, Gone,
    ),
)]
pub async fn get_transaction(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    InPath(id): InPath<TransactionId>,
) -> ApiResult<Response> {
    let t = state
        .store
        .get_transaction(auth.connection.id, id)
        .await?
        .ok_or_else(|| {
            ApiError::gone(
                "TRANSACTION_NOT_FOUND",
                format!("no transaction {id} on this connection"),
            )
        })?;
    let currencies =
        account_currencies(&state, auth.connection.id, std::slice::from_ref(&t)).await?;
    Ok(JsonOut(TransactionGetOut {
        connection: crate::rutter::connections::connection_ref(&auth.connection),
        bank_feed_transaction: transaction_out(
            &t,
            currencies.get(&t.bank_feed_account_id).copied(),
            None,
        ),
    })
    .into_response())
}

/// The currency of each account the transactions are on (its money's scale), one read per
/// account. A deleted account has none; its transactions' amounts are written as stored.
async fn account_currencies(
    state: &AppState,
    connection: bankfeeds_domain::ConnectionId,
    transactions: &[bankfeeds_domain::transaction::Transaction],
) -> ApiResult<std::collections::HashMap<bankfeeds_domain::BankFeedAccountId, Currency>> {
    let mut out = std::collections::HashMap::new();
    for t in transactions {
        let id = t.bank_feed_account_id;
        if out.contains_key(&id) {
            continue;
        }
        if let Some(a) = state.store.get_account(connection, id).await? {
            out.insert(id, a.currency);
        }
    }
    Ok(out)
}
