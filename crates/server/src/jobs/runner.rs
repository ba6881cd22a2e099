//! The registry of job runners: each door registers how to run (and how to give up on) the
//! kinds of job it accepts, so the queue itself knows no door.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use bankfeeds_domain::batch::BatchRequest;
use bankfeeds_domain::job::JobKind;
use bankfeeds_domain::Job;
use bankfeeds_store::StoreResult;

/// Runs one kind of job. The door that accepts a kind of job registers its runner, so the
/// queue knows no door: it claims, hands over, retries and gives up.
#[async_trait]
pub trait JobRunner<S>: Send + Sync + 'static {
    /// Runs a claimed job to its outcome and returns the job as finished (or, for a job that
    /// must wait longer, as it stands). `batch` is the job's request already parsed, when the
    /// request that submitted it runs it at once; otherwise the runner reads the stored one.
    async fn run(&self, state: &S, job: Job, batch: Option<&BatchRequest>) -> StoreResult<Job>;

    /// The HTTP status and body a job of this kind finishes with when it has failed too often
    /// to try again, in the shape of its door's errors.
    fn abandoned(&self) -> (u16, serde_json::Value);
}

/// One runner per job kind, total by construction: the doors are asked for every kind.
pub struct Runners<S>(Arc<HashMap<JobKind, Arc<dyn JobRunner<S>>>>);

impl<S> Clone for Runners<S> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<S> Runners<S> {
    pub fn new(runner_for: impl Fn(JobKind) -> Arc<dyn JobRunner<S>>) -> Self {
        Self(Arc::new(
            JobKind::ALL
                .into_iter()
                .map(|k| (k, runner_for(k)))
                .collect(),
        ))
    }

    pub(super) fn get(&self, kind: JobKind) -> &dyn JobRunner<S> {
        // Every kind was registered in `new`.
        self.0[&kind].as_ref()
    }
}
