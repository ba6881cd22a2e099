//! Connections: one business customer's channel to one platform, with its access token.

use crate::{Idem, Outcome, StoreResult};
use async_trait::async_trait;
use bankfeeds_domain::console::{ConnectionCount, SearchHit};
use bankfeeds_domain::operator::OperatorId;
use bankfeeds_domain::{
    Connection, ConnectionId, NewConnection, OrgId, Page, PageRequest, SecretHash, Timestamp,
};

#[async_trait]
pub trait ConnectionStore: Send + Sync {
    /// Stores a new connection. With an idempotency key, a repeat returns the saved answer.
    async fn create_connection(
        &self,
        new: &NewConnection,
        idem: Option<Idem<'_, Connection>>,
    ) -> StoreResult<Outcome<()>>;

    /// Live (not deleted) connections of one organisation, oldest first.
    async fn list_connections(
        &self,
        org: OrgId,
        page: &PageRequest<ConnectionId>,
    ) -> StoreResult<Page<Connection>>;

    /// The connection holding this access token, deleted or not, whichever organisation owns it.
    async fn find_connection_by_token(&self, token: &SecretHash)
        -> StoreResult<Option<Connection>>;

    /// A live connection of this organisation.
    async fn get_connection(&self, org: OrgId, id: ConnectionId)
        -> StoreResult<Option<Connection>>;

    /// A live connection by id alone, whichever organisation owns it: for the page behind its
    /// `link_url`, which the FI's customer opens without credentials.
    async fn find_connection(&self, id: ConnectionId) -> StoreResult<Option<Connection>>;

    /// Gives a live connection of this organisation a new access token (the old one stops
    /// working at once) and returns the connection. `NotFound` when there is none.
    async fn rotate_access_token(
        &self,
        org: OrgId,
        id: ConnectionId,
        token: &SecretHash,
        at: Timestamp,
    ) -> StoreResult<Connection>;

    /// Marks a live connection of this organisation deleted, and with it every live account of
    /// it (each with a `bank_feed_account.deleted` event), so no platform lists or syncs their
    /// feeds any more; one transaction. `NotFound` if there is none.
    async fn delete_connection(
        &self,
        org: OrgId,
        id: ConnectionId,
        at: Timestamp,
    ) -> StoreResult<()> {
        self.delete_connection_by(org, id, at, None).await
    }

    /// As `delete_connection`, the `connection.deleted` event naming the console operator
    /// `by` who deleted it (`None`: the API).
    async fn delete_connection_by(
        &self,
        org: OrgId,
        id: ConnectionId,
        at: Timestamp,
        by: Option<OperatorId>,
    ) -> StoreResult<()>;

    /// The organisation's live connections counted by platform and state (linked when one of
    /// its live feeds is active), for the console's overview.
    async fn connection_counts(&self, org: OrgId) -> StoreResult<Vec<ConnectionCount>>;

    /// The console's search: live connections of the organisation with each of their live
    /// feeds (or alone when they have none) whose customer (connection) name, account name,
    /// account number or internal account id contains `query` (case-insensitive; `None`:
    /// all), ordered by connection then account, `limit` rows from `offset`.
    async fn search_connections(
        &self,
        org: OrgId,
        query: Option<&str>,
        offset: u64,
        limit: u32,
    ) -> StoreResult<Vec<SearchHit>>;
}
