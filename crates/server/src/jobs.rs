//! Running jobs: workers drain the durable queue in the database; a `prefer_sync` request runs
//! its own job at once when it is first in its account's queue, or waits for it.
//!
//! Delivery is at least once (a worker that dies leaves its lease to expire and another worker
//! claims the job again); running a job twice is harmless because the store applies a batch and
//! records the job's outcome in one transaction, and returns a finished job unchanged.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bankfeeds_domain::batch::BatchRequest;
use bankfeeds_domain::job::JobKind;
use bankfeeds_domain::Job;
use bankfeeds_store::StoreResult;
use chrono::TimeDelta;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// How long a claimed job is reserved for its worker.
const LEASE: TimeDelta = TimeDelta::seconds(60);
/// After this many claims a job is given up on and finished as a server failure.
const MAX_ATTEMPTS: u32 = 5;
/// How often idle workers look for jobs submitted through other hub instances.
const POLL: Duration = Duration::from_millis(250);

/// Runs one kind of job. The door that accepts a kind of job registers its runner, so the
/// queue knows no door: it claims, hands over, retries and gives up.
#[async_trait]
pub trait JobRunner: Send + Sync + 'static {
    /// Runs a claimed job to its outcome and returns the job as finished (or, for a job that
    /// must wait longer, as it stands). `batch` is the job's request already parsed, when the
    /// request that submitted it runs it at once; otherwise the runner reads the stored one.
    async fn run(
        &self,
        state: &AppState,
        job: Job,
        batch: Option<&BatchRequest>,
    ) -> StoreResult<Job>;

    /// The HTTP status and body a job of this kind finishes with when it has failed too often
    /// to try again, in the shape of its door's errors.
    fn abandoned(&self) -> (u16, serde_json::Value);
}

/// One runner per job kind, total by construction: the doors are asked for every kind.
#[derive(Clone)]
pub struct Runners(Arc<HashMap<JobKind, Arc<dyn JobRunner>>>);

impl Runners {
    pub fn new(runner_for: impl Fn(JobKind) -> Arc<dyn JobRunner>) -> Self {
        Self(Arc::new(
            JobKind::ALL
                .into_iter()
                .map(|k| (k, runner_for(k)))
                .collect(),
        ))
    }

    fn get(&self, kind: JobKind) -> &dyn JobRunner {
        // Every kind was registered in `new`.
        self.0[&kind].as_ref()
    }
}

/// Runs one claimed job to its outcome with the runner registered for its kind.
async fn run_claimed(state: &AppState, job: Job, batch: Option<&BatchRequest>) -> StoreResult<Job> {
    let runner = state.job_runners.get(job.kind);
    if job.attempts > MAX_ATTEMPTS {
        tracing::error!(job_id = %job.id, attempts = job.attempts, "job failed too often; giving up");
        let (status, body) = runner.abandoned();
        return state
            .store
            .fail_job(job.id, status, &body, state.clock.now())
            .await;
    }
    let done = runner.run(state, job, batch).await?;
    tracing::info!(job_id = %done.id, status = done.status.as_str(), "job finished");
    Ok(done)
}

/// Runs a claimed job in its own task, so a panic fails only that attempt (the lease then
/// expires and the job is retried), and wakes anyone waiting for jobs to finish.
async fn run_guarded(state: &AppState, job: Job, batch: Option<Arc<BatchRequest>>) -> Option<Job> {
    let id = job.id;
    let task_state = state.clone();
    let result =
        tokio::spawn(async move { run_claimed(&task_state, job, batch.as_deref()).await }).await;
    state.job_done.notify_waiters();
    match result {
        Ok(Ok(job)) => Some(job),
        Ok(Err(e)) => {
            tracing::error!(job_id = %id, error = %e, "job attempt failed; it will be retried");
            None
        }
        Err(panic) => {
            tracing::error!(job_id = %id, error = %panic, "job attempt panicked; it will be retried");
            None
        }
    }
}

/// For `prefer_sync`: runs the job now if it is first in its account's queue, otherwise waits
/// (running it as soon as its turn comes) until it finishes or `wait` passes. Returns the job
/// as it then stands. `batch` is the job's request, parsed, if the caller has it.
pub async fn run_now_or_wait(
    state: &AppState,
    job: Job,
    wait: Duration,
    batch: Option<Arc<BatchRequest>>,
) -> StoreResult<Job> {
    let deadline = Instant::now() + wait;
    loop {
        let now = state.clock.now();
        if let Some(claimed) = state
            .store
            .claim_job(Some(job.id), now + LEASE, now)
            .await?
        {
            if let Some(done) = run_guarded(state, claimed, batch.clone()).await {
                return Ok(done);
            }
        }
        let current = state
            .store
            .get_job(job.org_id, job.id)
            .await?
            .unwrap_or(job.clone());
        if current.status.is_finished() || Instant::now() >= deadline {
            return Ok(current);
        }
        let notified = state.job_done.notified();
        tokio::select! {
            () = notified => {}
            () = tokio::time::sleep(Duration::from_millis(25)) => {}
        }
    }
}

/// Starts `count` workers that drain the queue until `shutdown`.
pub fn spawn_workers(state: &AppState, count: usize, shutdown: &CancellationToken) -> JoinSet<()> {
    let mut set = JoinSet::new();
    for worker in 0..count {
        let state = state.clone();
        let shutdown = shutdown.clone();
        set.spawn(async move {
            tracing::debug!(worker, "job worker started");
            while !shutdown.is_cancelled() {
                let now = state.clock.now();
                match state.store.claim_job(None, now + LEASE, now).await {
                    Ok(Some(job)) => {
                        run_guarded(&state, job, None).await;
                    }
                    Ok(None) => {
                        let submitted = state.job_notify.notified();
                        tokio::select! {
                            () = submitted => {}
                            () = tokio::time::sleep(POLL) => {}
                            () = shutdown.cancelled() => {}
                        }
                    }
                    Err(e) => {
                        tracing::warn!(worker, error = %e, "cannot claim jobs; retrying");
                        tokio::select! {
                            () = tokio::time::sleep(Duration::from_secs(1)) => {}
                            () = shutdown.cancelled() => {}
                        }
                    }
                }
            }
            tracing::debug!(worker, "job worker stopped");
        });
    }
    set
}
