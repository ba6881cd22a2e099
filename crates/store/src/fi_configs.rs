//! The FI's configuration per platform: its login page, display name and options.

use crate::StoreResult;
use async_trait::async_trait;
use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::operator::OperatorId;
use bankfeeds_domain::{OrgId, Platform};

#[async_trait]
pub trait FiConfigStore: Send + Sync {
    /// Creates or replaces the organisation's configuration for one platform (keeping its
    /// `created_at`); returns what is stored. Records `bank_feeds_config.updated` with no
    /// operator (the API or the command line).
    async fn put_fi_config(&self, config: &FiConfig) -> StoreResult<FiConfig> {
        self.put_fi_config_by(config, None).await
    }

    /// As `put_fi_config`, the event naming the console operator `by` who made the change; the
    /// change and its event in one transaction.
    async fn put_fi_config_by(
        &self,
        config: &FiConfig,
        by: Option<OperatorId>,
    ) -> StoreResult<FiConfig>;

    async fn get_fi_config(&self, org: OrgId, platform: Platform) -> StoreResult<Option<FiConfig>>;

    /// The organisation's configurations, by platform name.
    async fn list_fi_configs(&self, org: OrgId) -> StoreResult<Vec<FiConfig>>;

    /// Every FI configured for a platform, by display name: the platform's list of banks.
    async fn list_fis_for_platform(&self, platform: Platform) -> StoreResult<Vec<FiConfig>>;

    /// `NotFound` when the organisation has no configuration for the platform.
    async fn delete_fi_config(&self, org: OrgId, platform: Platform) -> StoreResult<()>;
}
