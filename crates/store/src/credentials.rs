//! Generated bank feed credentials (username and password a customer types into a platform).

use crate::StoreResult;
use async_trait::async_trait;
use bankfeeds_domain::credentials::BankFeedCredentials;
use bankfeeds_domain::{ConnectionId, Timestamp};

#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// Stores a new set of generated bank feed credentials.
    async fn create_credentials(&self, credentials: &BankFeedCredentials) -> StoreResult<()>;

    /// The set with this username, revoked or not.
    async fn find_credentials(&self, username: &str) -> StoreResult<Option<BankFeedCredentials>>;

    /// Revokes every live set of the connection; returns how many.
    async fn revoke_credentials(&self, connection: ConnectionId, at: Timestamp)
        -> StoreResult<u64>;
}
