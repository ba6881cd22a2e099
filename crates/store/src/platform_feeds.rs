//! Feeds as a platform sees them: a company's linked feeds, unlinking, ingesting into statements, the sync schedule.

use crate::StoreResult;
use async_trait::async_trait;
use bankfeeds_domain::link::CompanyId;
use bankfeeds_domain::statement::{Statement, StatementId};
use bankfeeds_domain::transaction::Transaction;
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, Platform, Timestamp};

#[async_trait]
pub trait PlatformFeedStore: Send + Sync {
    /// The company's linked feeds (unlinked ones left out).
    async fn list_company_feeds(&self, company: CompanyId) -> StoreResult<Vec<BankFeedAccount>>;

    /// A feed the company has linked and not unlinked, if the account is still live.
    async fn get_company_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
    ) -> StoreResult<Option<BankFeedAccount>>;

    /// The company's disconnected feeds: linked and not unlinked, but the FI has since deleted
    /// the account (alone or with its connection). The platform keeps what it ingested and
    /// shows it; it syncs them no more (`ingest_feed` and `list_feeds_due` leave them out).
    async fn list_disconnected_feeds(
        &self,
        company: CompanyId,
    ) -> StoreResult<Vec<BankFeedAccount>>;

    /// One of the company's disconnected feeds (see `list_disconnected_feeds`).
    async fn get_disconnected_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
    ) -> StoreResult<Option<BankFeedAccount>>;

    /// The customer unlinks a feed in the platform: the account becomes `inactive` and not
    /// ready for transactions, and an event is recorded. `NotFound` when it is not linked.
    async fn unlink_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount>;

    /// The platform ingests a linked feed: takes every transaction of the account it has not
    /// taken yet, as statements by posting day of at most `per_statement` lines (balances, the
    /// FI's reported closing and late days as `domain::statement::plan` decides), marks them
    /// `platform_ingested` with their statement, and moves the account's
    /// `last_synced_at` even when nothing was new. One database transaction, so two hub
    /// instances syncing the same feed never take a transaction twice. `NotFound` when the
    /// feed is not linked.
    async fn ingest_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
        per_statement: u32,
        now: Timestamp,
    ) -> StoreResult<Vec<Statement>>;

    /// The feed's statements, newest first; only those older than `before` when it is given.
    async fn list_statements(
        &self,
        account: BankFeedAccountId,
        before: Option<StatementId>,
        limit: u32,
    ) -> StoreResult<Vec<Statement>>;

    /// A statement's transactions, in storage order (also a disconnected feed's).
    async fn statement_transactions(&self, statement: &Statement) -> StoreResult<Vec<Transaction>>;

    /// Linked feeds of `platform` never synced or last synced before `synced_before`: what a
    /// scheduled sync should take next, least recently synced first.
    async fn list_feeds_due(
        &self,
        platform: Platform,
        synced_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<(CompanyId, BankFeedAccountId)>>;
}
