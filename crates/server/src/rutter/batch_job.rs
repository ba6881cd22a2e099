//! The Rutter-shaped door's job: a `POST /bank_feeds/transactions` batch accepted for later
//! (or for `prefer_sync`), applied under the platform's rules for this door.

use async_trait::async_trait;
use bankfeeds_domain::batch::BatchRequest;
use bankfeeds_domain::profile::{Door, PlatformProfile};
use bankfeeds_domain::{Job, Timestamp};
use bankfeeds_store::{BatchCall, StoreResult};

use crate::http::error::ApiError;
use crate::jobs::JobRunner;
use crate::rutter::transactions::{render_job_outcome, TransactionsCreateIn};
use crate::state::AppState;

pub struct BatchRunner;

#[async_trait]
impl JobRunner<AppState> for BatchRunner {
    async fn run(
        &self,
        state: &AppState,
        job: Job,
        batch: Option<&BatchRequest>,
    ) -> StoreResult<Job> {
        let now = state.clock.now();
        let parsed;
        let batch = match batch {
            Some(batch) => batch,
            None => match serde_json::from_str::<TransactionsCreateIn>(job.request.body.as_str()) {
                Ok(r) => {
                    parsed = crate::rutter::transactions::batch_request(r);
                    &parsed
                }
                Err(e) => {
                    // Checked when the job was accepted; only a corrupted row gets here.
                    tracing::error!(job_id = %job.id, error = %e, "job request unreadable");
                    let e = ApiError::bad_request(
                        "INVALID_REQUEST_BODY",
                        "the job's request could not be read",
                    );
                    return fail(state, &job, e, now).await;
                }
            },
        };
        let Some(connection) = state
            .store
            .get_connection(job.org_id, job.connection_id)
            .await?
        else {
            let e = ApiError::unauthorized(
                "CONNECTION_DELETED",
                "the connection was deleted before the batch ran",
            );
            return fail(state, &job, e, now).await;
        };
        let profile = PlatformProfile::for_platform(connection.platform, Door::Rutter);
        // The answer writes money with the minor units of the account the store applied the
        // batch to, which it hands over with the outcome.
        let render = |currency, o: &_| render_job_outcome(&state.public_base, &job, currency, o);
        let call = BatchCall {
            job: job.id,
            batch,
            profile: &profile,
            now,
            render: &render,
        };
        state.apply_counted_batch(Door::Rutter, call).await
    }

    fn abandoned(&self) -> (u16, serde_json::Value) {
        let e = ApiError::internal_opaque();
        (e.status.as_u16(), e.body())
    }
}

/// Finishes the job with the door's error as its answer.
async fn fail(state: &AppState, job: &Job, e: ApiError, now: Timestamp) -> StoreResult<Job> {
    state
        .store
        .fail_job(job.id, e.status.as_u16(), &e.body(), now)
        .await
}
