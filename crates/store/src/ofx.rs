//! OFX Direct Connect credentials (one set per connection) and their sign-on state.

use crate::StoreResult;
use async_trait::async_trait;
use bankfeeds_domain::ofx::{OfxCredentials, SignonOutcome};
use bankfeeds_domain::ofx_trnuid::{TrnuidUse, TrnuidVerdict};
use bankfeeds_domain::{BankFeedAccountId, ConnectionId, OrgId, Timestamp, TransactionId};

#[async_trait]
pub trait OfxStore: Send + Sync {
    /// Stores `credentials` as the connection's only set: an older set is deleted in the same
    /// transaction, so its user id and password stop working at once.
    async fn replace_ofx_credentials(&self, credentials: &OfxCredentials) -> StoreResult<()>;

    /// Deletes the connection's set; returns whether there was one.
    async fn revoke_ofx_credentials(&self, connection: ConnectionId) -> StoreResult<bool>;

    /// The set of this organisation with this user id.
    async fn find_ofx_credentials(
        &self,
        org: OrgId,
        user_id: &str,
    ) -> StoreResult<Option<OfxCredentials>>;

    /// Records a sign-on attempt of the set with this user id: reads its state under a lock,
    /// asks the domain ([`OfxCredentials::after`]) what follows `outcome`, writes it. Returns the
    /// set as stored afterwards, or `None` when there is no such set (revoked meanwhile).
    async fn record_ofx_signon(
        &self,
        org: OrgId,
        user_id: &str,
        outcome: SignonOutcome,
        now: Timestamp,
    ) -> StoreResult<Option<OfxCredentials>>;

    /// Judges the `TRNUID`s of one signed-on request of `user_id` against those the user sent
    /// before ([`judge_trnuids`](bankfeeds_domain::ofx_trnuid::judge_trnuids)) and remembers the
    /// new ones as seen at `now`, in one transaction. One verdict per use, in order.
    async fn record_ofx_trnuids(
        &self,
        org: OrgId,
        user_id: &str,
        uses: &[TrnuidUse],
        now: Timestamp,
    ) -> StoreResult<Vec<TrnuidVerdict>>;

    /// An OFX client downloaded these transactions of the account: marks those not yet
    /// ingested `platform_ingested` and moves the account's `last_synced_at`, in one database
    /// transaction. Returns how many were newly marked.
    async fn mark_downloaded(
        &self,
        account: BankFeedAccountId,
        transactions: &[TransactionId],
        now: Timestamp,
    ) -> StoreResult<u64>;
}
