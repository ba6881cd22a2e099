//! Jobs: accepted work (transaction batches) and its outcome.

use crate::{Idem, Outcome, StoreResult};
use async_trait::async_trait;
use bankfeeds_domain::job::JobKind;
use bankfeeds_domain::{BankFeedAccountId, ConnectionId, Job, JobHead, JobId, OrgId, Timestamp};

#[async_trait]
pub trait JobStore: Send + Sync {
    /// Accepts a job (`prequeued`). With an idempotency key, a repeat returns the saved answer.
    async fn submit_job(&self, job: &Job, idem: Option<Idem<'_, Job>>)
        -> StoreResult<Outcome<Job>>;

    async fn get_job(&self, org: OrgId, id: JobId) -> StoreResult<Option<Job>>;

    /// The connection's jobs of `kind`, newest first, without their bodies (the Codat door's
    /// push operations: filtered and paged on these, then loaded whole only for the page).
    async fn list_connection_job_heads(
        &self,
        org: OrgId,
        connection: ConnectionId,
        kind: JobKind,
        limit: u32,
    ) -> StoreResult<Vec<JobHead>>;

    /// Claims the oldest runnable job, or only `only`: unfinished, first among its account's
    /// unfinished jobs (one batch at a time per account, in arrival order), and not leased to
    /// another worker (or its lease expired). Marks it `pending`, leased to `holder` (a hub
    /// instance) until `lease_until`.
    async fn claim_job(
        &self,
        only: Option<JobId>,
        holder: &str,
        lease_until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Option<Job>>;

    /// Extends `holder`'s lease on an unfinished job to `lease_until`; false when the job is
    /// finished or no longer leased to `holder`.
    async fn renew_lease(
        &self,
        job: JobId,
        holder: &str,
        lease_until: Timestamp,
    ) -> StoreResult<bool>;

    /// Ends every lease `holder` has on unfinished jobs, so they can be claimed at once: what an
    /// instance held when it crashed is free again when it starts. Returns how many.
    async fn release_leases(&self, holder: &str) -> StoreResult<u64>;

    /// Finishes an unfinished job with the answer its synchronous call would have had: a 2xx
    /// status is a success, any other a failure (with its `job.*` event). A finished job is
    /// returned unchanged, so a job run twice keeps its first answer.
    async fn finish_job(
        &self,
        job: JobId,
        status: u16,
        body: &serde_json::Value,
        now: Timestamp,
    ) -> StoreResult<Job>;

    /// Finishes an unfinished job with a failure (e.g. an unreadable request, or retries
    /// exhausted): `status` must be 4xx or 5xx (`Invalid` otherwise). A finished job is
    /// returned unchanged.
    async fn fail_job(
        &self,
        job: JobId,
        status: u16,
        body: &serde_json::Value,
        now: Timestamp,
    ) -> StoreResult<Job>;

    /// How many of the organisation's jobs finished as failures since `since`.
    async fn count_failed_jobs(&self, org: OrgId, since: Timestamp) -> StoreResult<u64>;

    /// The organisation's newest `limit` failed jobs, newest first, with their answers; only
    /// those of `account` when given.
    async fn list_failed_jobs(
        &self,
        org: OrgId,
        account: Option<BankFeedAccountId>,
        limit: u32,
    ) -> StoreResult<Vec<Job>>;

    /// The newest `limit` jobs of an account of the organisation, newest first, with their
    /// answers (for the error codes the console shows).
    async fn list_account_jobs(
        &self,
        org: OrgId,
        account: BankFeedAccountId,
        limit: u32,
    ) -> StoreResult<Vec<Job>>;
}
