//! Per organisation and platform: the sandbox or live delivery, and the live app's credentials
//! (sealed by the server; opaque here).

use crate::StoreResult;
use async_trait::async_trait;
use bankfeeds_domain::live::ConnectorSettings;
use bankfeeds_domain::{OrgId, Platform};

#[async_trait]
pub trait ConnectorStore: Send + Sync {
    /// Creates or replaces the organisation's setting for the platform (keeping its
    /// `created_at`); returns what is stored.
    async fn put_connector(&self, settings: &ConnectorSettings) -> StoreResult<ConnectorSettings>;

    /// `None` when the organisation never chose: the sandbox.
    async fn get_connector(
        &self,
        org: OrgId,
        platform: Platform,
    ) -> StoreResult<Option<ConnectorSettings>>;
}
