//! Account writes sent with `response_mode: async` (seeds 000 and 002): the request is checked
//! as far as it can be without the database, stored as a job of kind `AccountWrite`, and
//! answered at once with the job; a worker runs it through the same write as the synchronous
//! call, and the job keeps the answer that call would have had.
//!
//! A PATCH's or DELETE's job names its account, so it waits behind the account's queued batches
//! and they behind it, in arrival order. A job can run twice (a crash between the write and the
//! job's outcome): create and PATCH then replay the first run's answer, saved under a key made
//! from the job's id; a DELETE run again finds the account gone and answers
//! `BANK_FEED_ACCOUNT_NOT_FOUND` (nothing is deleted twice).

use async_trait::async_trait;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json as JsonOut;
use bankfeeds_domain::batch::BatchRequest;
use bankfeeds_domain::job::{JobKind, JobRequest, RawJson};
use bankfeeds_domain::{BankFeedAccountId, Connection, Job};
use bankfeeds_store::{IdempotencyKey, Outcome, StoreResult};

use super::{account_from, write_create, write_delete, write_update};
use super::{AccountCreateIn, AccountPatchIn};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::parse_json;
use crate::http::idempotency::{idem, replay, saved};
use crate::jobs::JobRunner;
use crate::rutter::jobs::{async_envelope, JOB_ID_HEADER};
use crate::state::AppState;

/// The write a job stands for: its method, its URL (without the access token), the account it
/// touches (not for a create) and its body as sent.
pub(super) struct Write {
    method: &'static str,
    url: String,
    account: Option<BankFeedAccountId>,
    body: RawJson,
}

impl Write {
    pub(super) fn new(
        method: &'static str,
        url: String,
        account: Option<BankFeedAccountId>,
        body: &RawJson,
    ) -> Self {
        Write {
            method,
            url,
            account,
            body: body.clone(),
        }
    }
}

/// Stores the write as a job and answers with it; with an idempotency key, a repeat answers
/// with the same job.
pub(super) async fn submit(
    state: &AppState,
    c: &Connection,
    write: Write,
    key: Option<IdempotencyKey>,
) -> ApiResult<Response> {
    let job = Job::new(
        JobKind::AccountWrite,
        c.org_id,
        c.id,
        write.account,
        JobRequest {
            method: write.method.into(),
            url: write.url,
            body: write.body,
            idempotency_key: key.as_ref().map(|k| k.key.clone()),
        },
        state.clock.now(),
    );
    let base = state.public_base.clone();
    let render = move |j: &Job| saved(200, &async_envelope(&base, j));
    let job = match state.store.submit_job(&job, idem(&key, &render)).await? {
        Outcome::Done(job) => job,
        Outcome::Replayed(saved) => return Ok(replay(saved)),
    };
    state.job_notify.notify_one();
    let mut answer = JsonOut(async_envelope(&state.public_base, &job)).into_response();
    if let Ok(v) = HeaderValue::from_str(&job.id.to_string()) {
        answer.headers_mut().insert(JOB_ID_HEADER, v);
    }
    Ok(answer)
}

/// Runs `AccountWrite` jobs.
pub struct AccountWriteRunner;

#[async_trait]
impl JobRunner<AppState> for AccountWriteRunner {
    async fn run(
        &self,
        state: &AppState,
        job: Job,
        _batch: Option<&BatchRequest>,
    ) -> StoreResult<Job> {
        let (status, body) = match perform(state, &job).await {
            Ok(answer) => answer,
            Err(e) => (e.status.as_u16(), e.body()),
        };
        state
            .store
            .finish_job(job.id, status, &body, state.clock.now())
            .await
    }

    fn abandoned(&self) -> (u16, serde_json::Value) {
        let e = ApiError::internal_opaque();
        (e.status.as_u16(), e.body())
    }
}

/// The answer the synchronous call would have had, written now.
async fn perform(state: &AppState, job: &Job) -> ApiResult<(u16, serde_json::Value)> {
    let Some(c) = state
        .store
        .get_connection(job.org_id, job.connection_id)
        .await?
    else {
        return Err(ApiError::unauthorized(
            "CONNECTION_DELETED",
            "the connection was deleted before the write ran",
        ));
    };
    // A second run of the job replays what the first one wrote. The key cannot be an FI's:
    // theirs are kept under their own text, and this one embeds the job's id.
    let key = Some(IdempotencyKey {
        org_id: job.org_id,
        key: format!("bankfeeds:job:{}", job.id),
        fingerprint: job.id.to_string(),
    });
    let body = job.request.body.as_str().as_bytes();
    let unreadable = || {
        // Checked when the job was accepted; only a corrupted row gets here.
        tracing::error!(job_id = %job.id, "account write job unreadable");
        ApiError::bad_request(
            "INVALID_REQUEST_BODY",
            "the job's request could not be read",
        )
    };
    let outcome = match (job.request.method.as_str(), job.bank_feed_account_id) {
        ("POST", None) => {
            let input: AccountCreateIn = parse_json(body)?;
            let (account, override_existing) =
                account_from(&c, &input.bank_feed_account, state.clock.now())?;
            value(write_create(state, &account, override_existing, &key).await?)
        }
        ("PATCH", Some(id)) => {
            let input: AccountPatchIn = parse_json(body)?;
            value(write_update(state, &c, id, &input, &key).await?)
        }
        ("DELETE", Some(id)) => Outcome::Done(json(&write_delete(state, &c, id).await?)),
        _ => return Err(unreadable()),
    };
    Ok(match outcome {
        Outcome::Done(v) => (200, v),
        Outcome::Replayed(saved) => (
            saved.status,
            serde_json::from_str(&saved.body).unwrap_or(serde_json::Value::Null),
        ),
    })
}

fn json(v: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(v).expect("answers serialise")
}

fn value(o: Outcome<impl serde::Serialize>) -> Outcome<serde_json::Value> {
    match o {
        Outcome::Done(v) => Outcome::Done(json(&v)),
        Outcome::Replayed(saved) => Outcome::Replayed(saved),
    }
}
