//! Running jobs: workers drain the durable queue in the database; a `prefer_sync` request runs
//! its own job at once when it is first in its account's queue, or waits for it.
//!
//! Delivery is at least once: a claimed job is leased to this instance for a short `LEASE`,
//! renewed while it runs; if the instance dies, another claims the job once the lease runs out,
//! and the instance itself frees its leases at once when it starts again ([`recover`]). Running
//! a job twice is harmless because the store applies a batch and records the job's outcome in
//! one transaction, and returns a finished job unchanged.

mod runner;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bankfeeds_domain::batch::BatchRequest;
use bankfeeds_domain::{Clock, Job};
use bankfeeds_store::{DynStore, StoreResult};
use chrono::TimeDelta;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use runner::{JobRunner, Runners};

/// What the queue needs from the hub it runs in. The hub's state implements it, so the queue
/// depends on no other part of the server.
pub trait JobContext: Clone + Send + Sync + 'static {
    fn store(&self) -> &DynStore;
    fn clock(&self) -> &dyn Clock;
    /// The runner of each kind of job, registered by the doors.
    fn runners(&self) -> &Runners<Self>;
    /// Wakes a worker when a job is submitted on this instance.
    fn job_submitted(&self) -> &Notify;
    /// Wakes `prefer_sync` requests when a job finishes on this instance.
    fn job_finished(&self) -> &Notify;
    /// How many claims are being tried or run on this instance (see [`drain`]).
    fn jobs_in_hand(&self) -> &AtomicUsize;
    /// This instance's name: the holder of the leases it takes.
    fn instance(&self) -> &str;
    /// Told of each job this instance ran to an outcome (for metrics).
    fn job_done(&self, _job: &Job) {}
}

/// Counts a claim attempt and the run that may follow as in hand until dropped.
struct InHand<'a>(&'a AtomicUsize);

impl<'a> InHand<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for InHand<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How long a claim reserves a job for its worker without renewal: the longest a crashed
/// instance that does not come back can stall an account.
const LEASE: TimeDelta = TimeDelta::seconds(10);
/// How often a running job's lease is renewed.
const RENEW_EVERY: Duration = Duration::from_secs(3);
/// After this many claims a job is given up on and finished as a server failure.
const MAX_ATTEMPTS: u32 = 5;
/// How often idle workers look for jobs submitted through other hub instances.
const POLL: Duration = Duration::from_millis(250);

/// Runs one claimed job to its outcome with the runner registered for its kind.
async fn run_claimed<S: JobContext>(
    state: &S,
    job: Job,
    batch: Option<&BatchRequest>,
) -> StoreResult<Job> {
    let runner = state.runners().get(job.kind);
    if job.attempts > MAX_ATTEMPTS {
        tracing::error!(job_id = %job.id, attempts = job.attempts, "job failed too often; giving up");
        let (status, body) = runner.abandoned();
        let failed = state
            .store()
            .fail_job(job.id, status, &body, state.clock().now())
            .await?;
        state.job_done(&failed);
        return Ok(failed);
    }
    let done = runner.run(state, job, batch).await?;
    tracing::info!(job_id = %done.id, status = done.status.as_str(), "job finished");
    if done.status.is_finished() {
        state.job_done(&done);
    }
    Ok(done)
}

/// Runs a claimed job in its own task, so a panic fails only that attempt (the lease then
/// expires and the job is retried), and wakes anyone waiting for jobs to finish.
async fn run_guarded<S: JobContext>(
    state: &S,
    job: Job,
    batch: Option<Arc<BatchRequest>>,
) -> Option<Job> {
    let id = job.id;
    let task_state = state.clone();
    let mut task =
        tokio::spawn(async move { run_claimed(&task_state, job, batch.as_deref()).await });
    let mut renew =
        tokio::time::interval_at(tokio::time::Instant::now() + RENEW_EVERY, RENEW_EVERY);
    let result = loop {
        tokio::select! {
            result = &mut task => break result,
            _ = renew.tick() => {
                let until = state.clock().now() + LEASE;
                match state.store().renew_lease(id, state.instance(), until).await {
                    Ok(true) => {}
                    // Finished meanwhile, or claimed again by another instance after a stall:
                    // the store commits only one outcome either way.
                    Ok(false) => tracing::warn!(job_id = %id, "job lease lost while running"),
                    Err(e) => tracing::warn!(job_id = %id, error = %e, "cannot renew a job lease"),
                }
            }
        }
    };
    state.job_finished().notify_waiters();
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
pub async fn run_now_or_wait<S: JobContext>(
    state: &S,
    job: Job,
    wait: Duration,
    batch: Option<Arc<BatchRequest>>,
) -> StoreResult<Job> {
    let deadline = Instant::now() + wait;
    loop {
        let in_hand = InHand::new(state.jobs_in_hand());
        let now = state.clock().now();
        if let Some(claimed) = state
            .store()
            .claim_job(Some(job.id), state.instance(), now + LEASE, now)
            .await?
        {
            if let Some(done) = run_guarded(state, claimed, batch.clone()).await {
                return Ok(done);
            }
        }
        drop(in_hand);
        let current = state
            .store()
            .get_job(job.org_id, job.id)
            .await?
            .unwrap_or(job.clone());
        if current.status.is_finished() || Instant::now() >= deadline {
            return Ok(current);
        }
        let notified = state.job_finished().notified();
        tokio::select! {
            () = notified => {}
            () = tokio::time::sleep(Duration::from_millis(25)) => {}
        }
    }
}

/// Frees the leases this instance held when it last stopped (a crash leaves them behind), so its
/// accounts' queues move at once instead of after the leases run out. Call before the workers
/// start.
pub async fn recover<S: JobContext>(state: &S) -> StoreResult<u64> {
    let released = state.store().release_leases(state.instance()).await?;
    if released > 0 {
        tracing::warn!(
            released,
            instance = state.instance(),
            "freed the job leases this instance held when it stopped"
        );
    }
    Ok(released)
}

/// Starts `count` workers that drain the queue until `shutdown`.
pub fn spawn_workers<S: JobContext>(
    state: &S,
    count: usize,
    shutdown: &CancellationToken,
) -> JoinSet<()> {
    let mut set = JoinSet::new();
    for worker in 0..count {
        let state = state.clone();
        let shutdown = shutdown.clone();
        set.spawn(async move {
            tracing::debug!(worker, "job worker started");
            while !shutdown.is_cancelled() {
                let in_hand = InHand::new(state.jobs_in_hand());
                let now = state.clock().now();
                match state
                    .store()
                    .claim_job(None, state.instance(), now + LEASE, now)
                    .await
                {
                    Ok(Some(job)) => {
                        run_guarded(&state, job, None).await;
                    }
                    Ok(None) => {
                        drop(in_hand);
                        let submitted = state.job_submitted().notified();
                        tokio::select! {
                            () = submitted => {}
                            () = tokio::time::sleep(POLL) => {}
                            () = shutdown.cancelled() => {}
                        }
                    }
                    Err(e) => {
                        drop(in_hand);
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

/// Claims and runs jobs until none can be claimed and none is in hand on this instance, so a
/// test can then read outcomes without sleeping or polling. Jobs leased by another instance
/// are not waited for. Returns how many jobs it ran.
pub async fn drain<S: JobContext>(state: &S) -> StoreResult<usize> {
    let mut ran = 0;
    loop {
        // Listen before looking, so a job finishing in between still wakes us.
        let finished = state.job_finished().notified();
        tokio::pin!(finished);
        finished.as_mut().enable();
        // Read before looking: a job another task finishes after this has committed before
        // its count drops, so the look below sees whatever it unblocked.
        let others = state.jobs_in_hand().load(Ordering::SeqCst);
        let in_hand = InHand::new(state.jobs_in_hand());
        let now = state.clock().now();
        if let Some(job) = state
            .store()
            .claim_job(None, state.instance(), now + LEASE, now)
            .await?
        {
            run_guarded(state, job, None).await;
            ran += 1;
            continue;
        }
        drop(in_hand);
        if others == 0 {
            return Ok(ran);
        }
        // Another task has one in hand: wait for it to finish (or, if it was only looking,
        // for it to have looked).
        tokio::select! {
            () = finished => {}
            () = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
    }
}
