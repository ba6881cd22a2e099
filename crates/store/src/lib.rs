//! Storage traits. Each method is one database transaction: it commits whole or not at all.
//! Only domain types cross this boundary; SQL lives in the backend crates.

use std::sync::Arc;

use async_trait::async_trait;
use bankfeeds_domain::{
    Connection, ConnectionId, NewConnection, NewOrg, Org, OrgId, Page, PageRequest, SecretHash,
    Timestamp,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the name says which.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The database could not be reached or failed. Never shown to API callers.
    #[error("database error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// An organisation with the digest of its client secret, for authentication.
#[derive(Debug, Clone)]
pub struct OrgCredential {
    pub org: Org,
    pub client_secret_hash: SecretHash,
}

/// Connection-pool figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The backend's name, for logs and metrics: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Applies pending migrations. Safe to run concurrently from several hub instances.
    async fn migrate(&self) -> StoreResult<()>;

    /// Checks that the database answers.
    async fn ping(&self) -> StoreResult<()>;

    fn pool_stats(&self) -> PoolStats;

    // --- organisations ---

    async fn create_org(&self, new: &NewOrg) -> StoreResult<()>;
    async fn list_orgs(&self) -> StoreResult<Vec<Org>>;
    async fn find_org_credential(&self, client_id: &str) -> StoreResult<Option<OrgCredential>>;

    // --- connections ---

    async fn create_connection(&self, new: &NewConnection) -> StoreResult<()>;
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
    /// Marks a live connection of this organisation deleted. `NotFound` if there is none.
    async fn delete_connection(
        &self,
        org: OrgId,
        id: ConnectionId,
        at: Timestamp,
    ) -> StoreResult<()>;
}

pub type DynStore = Arc<dyn Store>;
