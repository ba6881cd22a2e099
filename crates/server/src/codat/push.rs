//! Push operations: `POST …/push/bankAccounts/{accountId}/bankTransactions` accepts a batch as
//! a job at once (status `Pending`, `statusCode` 202, well inside the SDK's 5 s timeout) and a
//! worker applies it under the platform's Codat-door rules (QuickBooks: no future dates, at
//! most 7 days before the feed start date, chronological, none older than the newest stored,
//! at most 1000); the operation then ends `Success` (with one `Created` change per new
//! transaction), `Failed` (with `validation.errors` naming each offending transaction), or
//! `TimedOut` when `timeoutInMinutes` passes first (the batch is then never applied).
//!
//! The job keeps the request as sent and, once finished, the Codat fragment of its outcome;
//! a push operation is rendered from the two.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use bankfeeds_domain::batch::{BatchItem, BatchRefusal};
use bankfeeds_domain::codat::bank_transaction::{self, Problem};
use bankfeeds_domain::codat::source_account;
use bankfeeds_domain::job::{JobKind, JobRequest, RawJson};
use bankfeeds_domain::profile::{Door, PlatformProfile};
use bankfeeds_domain::{Job, JobHead, JobId, Timestamp};
use bankfeeds_store::{BatchCall, StoreResult};
use chrono::TimeDelta;
use serde_json::Value;

use super::company_of;
use super::error::{CodatError, CodatResult};
use super::responses::{BodyRefused, Missing, Refused};
use super::source_accounts::source_account_of;
use super::wire::{
    BankTransactionsIn, Change, PushOperation, PushOutcome, RecordRef, Validation, ValidationItem,
};
use super::{time, CodatAuth, CodatRawJson};
use crate::state::AppState;

/// The door's mount point, which a push job's request URL starts with (as `GET` shows it).
const JOB_PREFIX: &str = "/codat/";
/// Longest `timeoutInMinutes` taken: a year.
const MAX_TIMEOUT_MINUTES: i64 = 366 * 24 * 60;

pub(super) fn timeout_of(url: &str) -> Option<i64> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "timeoutInMinutes")
        .and_then(|(_, v)| v.parse::<i64>().ok())
}

/// When a push requested at `created_at` with this URL times out, if it asked to.
pub(super) fn deadline_at(url: &str, created_at: Timestamp) -> Option<Timestamp> {
    timeout_of(url).map(|m| created_at + TimeDelta::minutes(m))
}

fn deadline(job: &Job) -> Option<Timestamp> {
    deadline_at(&job.request.url, job.created_at)
}

fn problems_json(problems: &[Problem]) -> Vec<ValidationItem> {
    problems
        .iter()
        .map(|p| ValidationItem {
            item_id: p
                .item_id
                .clone()
                .or_else(|| p.index.map(|i| format!("transactions[{i}]"))),
            message: p.message.clone(),
            validator_name: p.code.into(),
        })
        .collect()
}

fn warnings_of(job: &Job) -> Vec<ValidationItem> {
    let body: Option<BankTransactionsIn> = serde_json::from_str(job.request.body.as_str()).ok();
    let txs = body.and_then(|b| b.transactions).unwrap_or_default();
    problems_json(&bank_transaction::warnings(&txs))
}

fn failed_with(status: u16, message: String, errors: Vec<ValidationItem>) -> PushOutcome {
    PushOutcome {
        validation: Some(Validation {
            errors,
            warnings: Vec::new(),
        }),
        ..PushOutcome::failed(status, message)
    }
}

/// The Codat fragment a finished push job keeps as its answer.
pub fn render_outcome(outcome: &Result<Vec<BatchItem>, BatchRefusal>) -> (u16, RawJson) {
    let fragment = match outcome {
        Ok(items) => PushOutcome {
            status: "Success".into(),
            status_code: 200,
            error_message: None,
            changes: Some(
                items
                    .iter()
                    .filter(|i| !i.duplicate)
                    .map(|i| Change {
                        kind: "Created".into(),
                        record_ref: RecordRef {
                            id: i.transaction.data.transaction_id.clone(),
                            data_type: "bankTransactions".into(),
                        },
                    })
                    .collect(),
            ),
            validation: None,
        },
        Err(BatchRefusal::Invalid(violations)) => {
            let problems: Vec<Problem> = violations
                .iter()
                .map(|v| Problem {
                    index: v.index,
                    item_id: v.transaction_id.clone(),
                    code: v.code,
                    message: v.message.clone(),
                })
                .collect();
            failed_with(
                400,
                bankfeeds_domain::batch::summary(violations),
                problems_json(&problems),
            )
        }
        Err(BatchRefusal::Conflict { transaction_ids }) => failed_with(
            409,
            format!(
                "transaction id {} is already stored for this account with different content",
                transaction_ids.join(", ")
            ),
            transaction_ids
                .iter()
                .map(|id| {
                    ValidationItem::new(
                        id,
                        "already stored with different content",
                        "TRANSACTION_ID_CONFLICT",
                    )
                })
                .collect(),
        ),
        Err(BatchRefusal::BalanceMismatch { check, currency }) => {
            crate::codat::continuity::mismatch_fragment(check, *currency)
        }
        Err(BatchRefusal::AccountNotFound) => {
            PushOutcome::failed(404, "the source account no longer exists")
        }
    };
    (
        fragment.status_code,
        RawJson::from_value(&to_value(&fragment)),
    )
}

fn to_value(outcome: &PushOutcome) -> Value {
    serde_json::to_value(outcome).expect("a push outcome serialises")
}

fn timed_out_fragment() -> Value {
    to_value(&PushOutcome::failed(
        504,
        "the push operation did not complete within timeoutInMinutes; nothing was applied",
    ))
}

/// A push operation's status as its HTTP status tells it (what every stored fragment says).
fn status_name(code: u16) -> &'static str {
    match code {
        200..=299 => "Success",
        504 => "TimedOut",
        _ => "Failed",
    }
}

/// What a push operation's head alone decides (the list filters on these): the operation as
/// its head shows it, before its stored outcome is laid over it ([`push_operation`]).
pub(super) fn head_operation(head: &JobHead, company: &str) -> PushOperation {
    let (status, code) = match head.response_status {
        Some(code) if head.status.is_finished() => (status_name(code), code),
        _ => ("Pending", 202),
    };
    PushOperation {
        company_id: company.to_owned(),
        push_operation_key: head.id.to_string(),
        data_connection_key: head.connection_id.to_string(),
        requested_on_utc: time(head.created_at),
        completed_on_utc: head.finished_at.map(time),
        timeout_in_minutes: timeout_of(&head.url),
        status: status.into(),
        status_code: code,
        data_type: "bankTransactions".into(),
        error_message: None,
        validation: Validation::default(),
        changes: Vec::new(),
        data: None,
    }
}

/// A push operation as Codat shows it.
pub fn push_operation(job: &Job, company: &str, with_data: bool) -> PushOperation {
    let mut out = head_operation(&job.head(), company);
    out.validation.warnings = warnings_of(job);
    let stored = job
        .response
        .as_ref()
        .and_then(|(_, body)| serde_json::from_str::<PushOutcome>(body.as_str()).ok());
    if let Some(fragment) = stored {
        out.status = fragment.status;
        out.status_code = fragment.status_code;
        out.error_message = fragment.error_message;
        out.changes = fragment.changes.unwrap_or_default();
        if let Some(v) = fragment.validation {
            out.validation.errors = v.errors;
        }
    }
    if job.bodies_deleted_at.is_some() {
        // Retention deleted the stored fragment: the outcome is what the HTTP status says (as
        // `head_operation` already rendered it).
        if let Some((status, _)) = &job.response {
            if !(200..300).contains(status) {
                out.error_message =
                    Some("the details of this push operation were deleted by retention".into());
            }
        }
    }
    if with_data {
        out.data = Some(job.request.body.to_value());
    }
    out
}

/// A pending job past its `timeoutInMinutes` is finished as timed out (unless a worker
/// finishes it first; the store lets only one of them win).
pub(super) async fn settle(state: &AppState, job: Job) -> StoreResult<Job> {
    match deadline(&job) {
        Some(d) if !job.status.is_finished() && d <= state.clock.now() => {
            state
                .store
                .fail_job(job.id, 504, &timed_out_fragment(), state.clock.now())
                .await
        }
        _ => Ok(job),
    }
}

/// The worker's part of the Codat door: applies a push job, or times it out.
pub struct PushRunner;

#[async_trait::async_trait]
impl crate::jobs::JobRunner<AppState> for PushRunner {
    async fn run(
        &self,
        state: &AppState,
        job: Job,
        _batch: Option<&bankfeeds_domain::batch::BatchRequest>,
    ) -> StoreResult<Job> {
        run_claimed(state, job).await
    }

    fn abandoned(&self) -> (u16, Value) {
        (
            500,
            to_value(&PushOutcome::failed(
                500,
                "the push operation failed on the server too often; it was not applied",
            )),
        )
    }
}

async fn run_claimed(state: &AppState, job: Job) -> StoreResult<Job> {
    let now = state.clock.now();
    if deadline(&job).is_some_and(|d| d <= now) {
        return state
            .store
            .fail_job(job.id, 504, &timed_out_fragment(), now)
            .await;
    }
    let Some(connection) = state
        .store
        .get_connection(job.org_id, job.connection_id)
        .await?
    else {
        let gone = to_value(&PushOutcome::failed(
            404,
            "the data connection was deleted before the push ran",
        ));
        return state.store.fail_job(job.id, 404, &gone, now).await;
    };
    let body: Result<BankTransactionsIn, _> = serde_json::from_str(job.request.body.as_str());
    let batch = body.ok().and_then(|b| {
        let account = job.bank_feed_account_id?;
        bank_transaction::to_batch(
            connection.platform,
            account,
            &b.transactions.unwrap_or_default(),
        )
        .ok()
    });
    let Some(batch) = batch else {
        // Checked when the push was accepted; only a corrupted row gets here.
        tracing::error!(job_id = %job.id, "push job request unreadable");
        let bad = to_value(&PushOutcome::failed(
            400,
            "the push operation's request could not be read",
        ));
        return state.store.fail_job(job.id, 400, &bad, now).await;
    };
    let profile = PlatformProfile::for_platform(connection.platform, Door::Codat);
    let render = |_, o: &_| render_outcome(o);
    let call = BatchCall {
        job: job.id,
        batch: &batch,
        profile: &profile,
        now,
        render: &render,
    };
    state.apply_counted_batch(Door::Codat, call).await
}

/// `POST …/push/bankAccounts/{accountId}/bankTransactions`.
#[utoipa::path(
    post,
    path = "/codat/companies/{companyId}/connections/{connectionId}/push/bankAccounts/{accountId}/bankTransactions",
    operation_id = "create-bank-transactions",
    tag = "Transactions",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id"), ("accountId" = String, Path, description = "The source account's id (the FI's own id of the account)"), ("timeoutInMinutes" = Option<u32>, Query, minimum = 1, description = "Time the push out (nothing applied) if it has not run by then")),
    request_body = BankTransactionsIn,
    responses((status = 200, description = "The push operation, Pending", body = PushOperation), Refused, Missing, BodyRefused),
)]
pub async fn create(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path((company, connection, account)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    body: CodatRawJson<BankTransactionsIn>,
) -> CodatResult<Json<PushOperation>> {
    let (cc, a) = source_account_of(&state, org.id, (&company, &connection, &account)).await?;
    if body
        .value
        .account_id
        .as_deref()
        .is_some_and(|id| id != account)
    {
        return Err(CodatError::bad_request(
            "ACCOUNT_ID_MISMATCH",
            format!("the body's accountId does not match the path's {account:?}"),
        ));
    }
    if source_account::status(&a) != "connected" {
        return Err(CodatError::bad_request(
            "SOURCE_ACCOUNT_NOT_CONNECTED",
            format!(
                "source account {account:?} is {}: the customer must connect it in the accounting platform before transactions can be pushed",
                source_account::status(&a)
            ),
        ));
    }
    let timeout = match form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "timeoutInMinutes")
        .map(|(_, v)| v.into_owned())
    {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .filter(|m| *m >= 1)
                .map(|m| m.min(MAX_TIMEOUT_MINUTES))
                .ok_or_else(|| {
                    CodatError::bad_request(
                        "INVALID_TIMEOUT",
                        "`timeoutInMinutes` must be a whole number of minutes from 1",
                    )
                })?,
        ),
    };
    let txs = body.value.transactions.as_deref().unwrap_or_default();
    if let Err(problems) = bank_transaction::to_batch(cc.connection.platform, a.id, txs) {
        return Err(CodatError::bad_request(
            problems.first().map_or("INVALID_FIELD_VALUE", |p| p.code),
            format!(
                "{} transaction problem(s): {}",
                problems.len(),
                problems[0].message
            ),
        )
        .with_validation(problems_json(&problems)));
    }
    let url = match timeout {
        Some(m) => format!("{JOB_PREFIX}companies/{company}/connections/{connection}/push/bankAccounts/{account}/bankTransactions?timeoutInMinutes={m}"),
        None => format!("{JOB_PREFIX}companies/{company}/connections/{connection}/push/bankAccounts/{account}/bankTransactions"),
    };
    let job = Job::new(
        bankfeeds_domain::job::JobKind::CodatPush,
        org.id,
        cc.connection.id,
        Some(a.id),
        JobRequest {
            method: "POST".into(),
            url,
            body: body.raw,
            idempotency_key: None,
        },
        state.clock.now(),
    );
    let job = match state.store.submit_job(&job, None).await? {
        bankfeeds_store::Outcome::Done(j) => j,
        bankfeeds_store::Outcome::Replayed(_) => job,
    };
    state.job_notify.notify_one();
    Ok(Json(push_operation(&job, &company, true)))
}

/// `GET /companies/{companyId}/push/{pushOperationKey}`.
#[utoipa::path(
    get,
    path = "/codat/companies/{companyId}/push/{pushOperationKey}",
    operation_id = "get-push-operation",
    tag = "Transactions",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("pushOperationKey" = uuid::Uuid, Path, description = "The push operation's key")),
    responses((status = 200, description = "The push operation", body = PushOperation), Refused, Missing),
)]
pub async fn get(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path((company, key)): Path<(String, String)>,
) -> CodatResult<Json<PushOperation>> {
    let customer = company_of(&state, org.id, &company).await?;
    let not_found = || {
        CodatError::not_found(
            "PUSH_OPERATION_NOT_FOUND",
            format!("Push operation {key} not found"),
        )
    };
    let id: JobId = key.parse().map_err(|_| not_found())?;
    let job = state
        .store
        .get_job(org.id, id)
        .await?
        .ok_or_else(not_found)?;
    let theirs = state
        .store
        .get_customer_connection(org.id, customer.id, job.connection_id)
        .await?
        .is_some();
    if !theirs || job.kind != JobKind::CodatPush {
        return Err(not_found());
    }
    let job = settle(&state, job).await?;
    Ok(Json(push_operation(&job, &company, false)))
}
