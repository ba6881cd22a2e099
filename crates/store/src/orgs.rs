//! Organisations (the FIs using the hub) and their API credentials.

use crate::{OrgCredential, StoreResult};
use async_trait::async_trait;
use bankfeeds_domain::operator::OperatorId;
use bankfeeds_domain::{NewOrg, Org, OrgId, SecretHash, Timestamp};

#[async_trait]
pub trait OrgStore: Send + Sync {
    async fn create_org(&self, new: &NewOrg) -> StoreResult<()>;

    async fn list_orgs(&self) -> StoreResult<Vec<Org>>;

    /// The organisation with this id (the OFX endpoint names its organisation in its path).
    async fn get_org(&self, id: OrgId) -> StoreResult<Option<Org>>;

    async fn find_org_credential(&self, client_id: &str) -> StoreResult<Option<OrgCredential>>;

    /// Replaces the organisation's client secret digest: the old secret stops working at once.
    /// Records `organisation.client_secret_rotated` with no operator (the command line).
    /// `NotFound` when there is no such organisation.
    async fn rotate_client_secret(&self, id: OrgId, hash: &SecretHash) -> StoreResult<()> {
        self.rotate_client_secret_by(id, hash, None, chrono::Utc::now())
            .await
    }

    /// As `rotate_client_secret`, the event (at `at`) naming the console operator `by` who
    /// asked for it; the change and its event in one transaction.
    async fn rotate_client_secret_by(
        &self,
        id: OrgId,
        hash: &SecretHash,
        by: Option<OperatorId>,
        at: Timestamp,
    ) -> StoreResult<()>;

    /// Disables the organisation from `at` (`Some`), or enables it again (`None`); returns it
    /// as it now stands. `NotFound` when there is no such organisation.
    async fn set_org_disabled(&self, id: OrgId, at: Option<Timestamp>) -> StoreResult<Org>;

    /// Erases the organisation and every row it owns, in one transaction; returns how many
    /// rows went from each table. `NotFound` when there is no such organisation; `Invalid`
    /// `ORGANISATION_NOT_DISABLED` unless it was disabled first.
    async fn delete_org(&self, id: OrgId) -> StoreResult<Vec<(&'static str, u64)>>;
}
