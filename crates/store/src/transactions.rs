//! Transactions: applying a batch, reading them back, marking them ingested.

use crate::{BatchRender, StoreResult};
use async_trait::async_trait;
use bankfeeds_domain::batch::BatchRequest;
use bankfeeds_domain::console::DayCount;
use bankfeeds_domain::job::JobIngestion;
use bankfeeds_domain::profile::PlatformProfile;
use bankfeeds_domain::transaction::{Transaction, TransactionQuery};
use bankfeeds_domain::{
    BankFeedAccountId, ConnectionId, Job, JobId, OrgId, Page, Timestamp, TransactionId,
};

/// One batch to apply: the claimed job and its batch, the rules of the platform it came through,
/// the time it is applied at, and how its outcome is rendered as the job's answer.
#[derive(Clone, Copy)]
pub struct BatchCall<'a> {
    pub job: JobId,
    pub batch: &'a BatchRequest,
    pub profile: &'a PlatformProfile,
    pub now: Timestamp,
    pub render: BatchRender<'a>,
}

#[async_trait]
pub trait TransactionStore: Send + Sync {
    /// Applies a claimed batch job in one database transaction: checks it against what is
    /// stored and the platform's rules, writes the new transactions, the account balance, the
    /// outbox event and the job's outcome (rendered by `render`) together. A refused batch
    /// writes only the job's outcome. A job already finished is returned unchanged.
    async fn apply_batch(&self, call: BatchCall<'_>) -> StoreResult<Job>;

    async fn list_transactions(
        &self,
        connection: ConnectionId,
        query: &TransactionQuery,
    ) -> StoreResult<Page<Transaction>>;

    async fn get_transaction(
        &self,
        connection: ConnectionId,
        id: TransactionId,
    ) -> StoreResult<Option<Transaction>>;

    /// The platform took every stored transaction of the account: marks them ingested and
    /// moves the account's `last_synced_at`. Returns how many were newly ingested.
    async fn mark_ingested(&self, account: BankFeedAccountId, now: Timestamp) -> StoreResult<u64>;

    /// How many transactions the job stored and how many of those the platform has taken.
    async fn job_ingestion(&self, job: JobId) -> StoreResult<JobIngestion>;

    /// The organisation's transactions stored (`created_at`) and ingested by a platform
    /// (`ingested_at`) per UTC day since `since`, oldest day first; days with neither are
    /// left out.
    async fn daily_counts(&self, org: OrgId, since: Timestamp) -> StoreResult<Vec<DayCount>>;
}
