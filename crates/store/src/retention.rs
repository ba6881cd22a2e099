//! Retention: deleting what has outlived its horizon (see `bankfeeds_domain::retention`).

use crate::StoreResult;
use async_trait::async_trait;
use bankfeeds_domain::retention::Purge;
use bankfeeds_domain::Timestamp;

#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Deletes at most `limit` of the rows `purge` names (for `JobBodies`: deletes the bodies of
    /// at most `limit` jobs and marks them deleted at `now`), oldest first, in one transaction,
    /// and returns how many. Nothing something live refers to is deleted. Call it again until
    /// it returns less than `limit`. Safe to run from several hub instances at once.
    async fn purge(&self, purge: Purge, limit: u32, now: Timestamp) -> StoreResult<u64>;
}
