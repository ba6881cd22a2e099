//! A push's answer: the stored transactions, or the job still to run, awaited as a future
//! that polls `GET /versioned/jobs/:id` until the job has finished.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::{Duration, Instant};

use bankfeeds_domain::JobStatus;

use crate::wire::jobs::AsyncResponseOut;
use crate::wire::transactions::TransactionsCreatedOut;
use crate::{decode, Client, Error, Result};

/// What `POST …/transactions` answered. `replayed`: the hub answered with the saved outcome
/// of an earlier push with the same `Idempotency-Key` (nothing was pushed again).
#[derive(Debug)]
pub enum Pushed {
    /// The batch ran within the wait: the transactions as stored (each with `duplicate`).
    Stored {
        answer: TransactionsCreatedOut<'static>,
        replayed: bool,
    },
    /// The batch is queued: await the job for the same answer.
    Queued { job: PendingJob, replayed: bool },
}

impl Pushed {
    /// Whether this is the saved answer of an earlier push with the same key.
    pub fn replayed(&self) -> bool {
        match self {
            Pushed::Stored { replayed, .. } | Pushed::Queued { replayed, .. } => *replayed,
        }
    }

    /// The stored transactions, waiting for the job first when the batch was queued.
    pub async fn stored(self) -> Result<TransactionsCreatedOut<'static>> {
        match self {
            Pushed::Stored { answer, .. } => Ok(answer),
            Pushed::Queued { job, .. } => job.await,
        }
    }
}

/// A queued batch. `.await` it (or [`PendingJob::wait_for`]) for what the synchronous push
/// would have answered: the stored transactions, or the refusal as [`Error::Api`].
pub struct PendingJob {
    client: Client,
    job: AsyncResponseOut,
}

impl std::fmt::Debug for PendingJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingJob")
            .field("job", &self.job)
            .finish()
    }
}

/// How long `.await` on a job waits before giving up with [`Error::JobTimedOut`].
const DEFAULT_JOB_WAIT: Duration = Duration::from_secs(600);

impl PendingJob {
    pub(crate) fn new(client: Client, job: AsyncResponseOut) -> Self {
        PendingJob { client, job }
    }

    /// The job's id (also the `X-Rutter-Job-Id` header of the push).
    pub fn id(&self) -> &str {
        &self.job.id
    }

    /// Polls the job (quickly at first, then at most every `job_poll_max`) until it finished
    /// or `limit` passed.
    pub async fn wait_for(self, limit: Duration) -> Result<TransactionsCreatedOut<'static>> {
        let started = Instant::now();
        let max_pause = self.client.inner.job_poll_max;
        let mut pause = Duration::from_millis(50).min(max_pause);
        loop {
            let job = self.client.get_job(&self.job.id).await?;
            if matches!(job.status, JobStatus::Success | JobStatus::Failure) {
                if let Some(answer) = job.response {
                    let body = serde_json::to_vec(&answer.body).expect("JSON re-serialises");
                    return decode(answer.http_status, &body);
                }
            }
            if started.elapsed() >= limit {
                return Err(Error::JobTimedOut {
                    job_id: self.job.id.clone(),
                    waited_secs: started.elapsed().as_secs(),
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(max_pause);
        }
    }
}

impl IntoFuture for PendingJob {
    type Output = Result<TransactionsCreatedOut<'static>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.wait_for(DEFAULT_JOB_WAIT))
    }
}
