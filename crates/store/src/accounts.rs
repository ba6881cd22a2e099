//! Bank feed accounts, all scoped to one connection.

use crate::{Idem, Outcome, StoreResult};
use async_trait::async_trait;
use bankfeeds_domain::account::{AccountPatch, AccountQuery, FeedState};
use bankfeeds_domain::console::FeedCounts;
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, ConnectionId, OrgId, Page, Timestamp};

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates `account`, or with `override_existing` updates the live account with the same
    /// `internal_bank_account_id` (keeping its id and feed state). Returns the stored account
    /// and whether it was created. `Conflict("bank_feed_accounts_internal_id_key")` when it
    /// exists and may not be overridden; `Invalid` when the parent is not on the connection.
    async fn create_account(
        &self,
        account: &BankFeedAccount,
        override_existing: bool,
        idem: Option<Idem<'_, (BankFeedAccount, bool)>>,
    ) -> StoreResult<Outcome<(BankFeedAccount, bool)>>;

    async fn get_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
    ) -> StoreResult<Option<BankFeedAccount>>;

    async fn list_accounts(
        &self,
        connection: ConnectionId,
        query: &AccountQuery,
    ) -> StoreResult<Page<BankFeedAccount>>;

    /// Applies a PATCH to a live account. `NotFound` when there is none;
    /// `Conflict("currency_locked")` when the currency would change under stored transactions.
    async fn update_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
        patch: &AccountPatch,
        now: Timestamp,
        idem: Option<Idem<'_, BankFeedAccount>>,
    ) -> StoreResult<Outcome<BankFeedAccount>>;

    /// Deletes a live account. `NotFound` when there is none.
    async fn delete_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// Disconnects a live account from every platform company that linked it: `inactive`,
    /// not ready for transactions, unlinked, with an event; one transaction. `NotFound` when
    /// there is no such live account.
    async fn disconnect_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount> {
        self.disconnect_account_by(connection, id, now, None).await
    }

    /// As `disconnect_account`, its events naming the console operator `by` who asked
    /// (`None`: the API).
    async fn disconnect_account_by(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
        now: Timestamp,
        by: Option<bankfeeds_domain::operator::OperatorId>,
    ) -> StoreResult<BankFeedAccount>;

    /// Sets the platform-side feed state (the link flow; tests). Not reachable by FIs.
    async fn set_feed_state(
        &self,
        id: BankFeedAccountId,
        state: &FeedState,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount>;

    /// The organisation's live feeds, linked and pending (the console's overview).
    async fn feed_counts(&self, org: OrgId) -> StoreResult<FeedCounts>;

    /// A live account of the organisation on a live connection, whichever connection (the
    /// console's feed page).
    async fn find_org_account(
        &self,
        org: OrgId,
        id: BankFeedAccountId,
    ) -> StoreResult<Option<BankFeedAccount>>;
}
