//! The outbox: events recorded with each change.

use crate::{Event, StoreResult};
use async_trait::async_trait;
use bankfeeds_domain::OrgId;

#[async_trait]
pub trait EventStore: Send + Sync {
    /// Events of one organisation after `after_seq`, oldest first.
    async fn list_events(&self, org: OrgId, after_seq: i64, limit: u32) -> StoreResult<Vec<Event>>;
}
