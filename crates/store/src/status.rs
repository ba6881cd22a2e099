//! What `bankfeeds status` reports about the whole hub: the schema's migrations, the job queue,
//! webhook deliveries and feeds, across every organisation (an operator's view of the machine,
//! not an API caller's).

use crate::StoreResult;
use async_trait::async_trait;
use bankfeeds_domain::console::FeedCounts;
use bankfeeds_domain::Timestamp;

/// The job queue and deliveries, across every organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueStatus {
    /// Jobs by status (`prequeued`, `pending`, `success`, `failure`), only those with any.
    pub jobs_by_status: Vec<(String, u64)>,
    /// When the oldest job not yet finished (prequeued or pending) was submitted.
    pub oldest_unfinished_job: Option<Timestamp>,
    /// Webhook deliveries still to be sent.
    pub deliveries_pending: u64,
    /// Live feeds (of live connections), linked and pending.
    pub feeds: FeedCounts,
}

#[async_trait]
pub trait StatusStore: Send + Sync {
    /// The migration versions this build knows, ascending.
    fn known_migrations(&self) -> Vec<i64>;

    /// The migration versions applied to the database, ascending (none on an empty database).
    async fn applied_migrations(&self) -> StoreResult<Vec<i64>>;

    /// The queue, deliveries and feed counts. Needs a fully migrated database.
    async fn queue_status(&self) -> StoreResult<QueueStatus>;

    /// SQLite: writes a consistent copy of the database, as of one moment, to `path` (which
    /// must not exist) while the hub keeps serving (`VACUUM INTO`). PostgreSQL: `Invalid`
    /// (`BACKUP_UNSUPPORTED`): `pg_dump` does it.
    async fn backup_into(&self, path: &str) -> StoreResult<()>;
}
