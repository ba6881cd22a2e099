//! Live delivery to a platform's own API (Xero first): a connection's tenant and sealed tokens,
//! each live feed's state, and the queue of statements cut from its new transactions.

use async_trait::async_trait;
use bankfeeds_domain::live::consent::{ConsentRefusal, ConsentTenant, LiveConsent};
use bankfeeds_domain::live::xero::Cut;
use bankfeeds_domain::live::{
    LiveDeletionId, LiveFeedState, LiveStatementId, LiveStatementStatus, RestartRefusal,
};
use bankfeeds_domain::transaction::Transaction;
use bankfeeds_domain::SecretHash;
use bankfeeds_domain::{BankFeedAccountId, ConnectionId, OrgId, Platform, Timestamp};
use rust_decimal::Decimal;

use crate::StoreResult;

/// A connection's consent on the platform: the tenant chosen and its tokens, sealed by the
/// server (opaque here). `token_version` grows with each stored refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveTenant {
    pub connection_id: ConnectionId,
    pub org_id: OrgId,
    pub platform: Platform,
    pub tenant_id: String,
    pub tokens_sealed: String,
    pub access_expires_at: Timestamp,
    pub token_version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A bank feed account delivered live and the state the FI sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveFeed {
    pub account_id: BankFeedAccountId,
    pub org_id: OrgId,
    pub connection_id: ConnectionId,
    /// The platform's id of the feed connection, once it gave one.
    pub feed_connection_id: Option<String>,
    pub state: LiveFeedState,
    pub error_code: Option<String>,
    pub error_detail: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One statement on its way to the platform. Its id is the `Idempotency-Key` of every try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveStatement {
    pub id: LiveStatementId,
    pub org_id: OrgId,
    pub account_id: BankFeedAccountId,
    pub connection_id: ConnectionId,
    /// Its place among its account's statements (1, 2, …): they go in this order.
    pub position: i64,
    pub status: LiveStatementStatus,
    /// The JSON body sent (no secrets).
    pub body: String,
    pub line_count: i64,
    pub first_transaction_id: bankfeeds_domain::TransactionId,
    pub last_transaction_id: bankfeeds_domain::TransactionId,
    pub start_balance: Decimal,
    pub end_balance: Decimal,
    pub platform_statement_id: Option<String>,
    pub error_code: Option<String>,
    /// Claims so far.
    pub attempts: i64,
    pub due_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What became of a claimed statement; every one ends the claim's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementUpdate {
    /// The platform took it and is working on it: ask again at `poll_at`.
    Sent {
        platform_statement_id: String,
        poll_at: Timestamp,
    },
    /// The platform has it.
    Delivered {
        platform_statement_id: Option<String>,
    },
    /// Refused for a reason no retry fixes: the statement is rejected and its feed stopped
    /// with `code` and `detail`, in one transaction.
    Rejected {
        code: String,
        detail: Option<String>,
    },
    /// Try again (or poll again) at this time.
    RetryAt(Timestamp),
}

/// A feed connection to delete at the platform: the outbox row the worker drains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveDeletion {
    pub id: LiveDeletionId,
    pub org_id: OrgId,
    pub connection_id: ConnectionId,
    /// Our account id, the feed connection's `accountToken`.
    pub account_id: BankFeedAccountId,
    /// The platform organisation the feed connection is in (Xero's tenant), as it was when the
    /// deletion was queued; `None` on rows queued before it was recorded: the connection's
    /// tenant when it is sent.
    pub tenant_id: Option<String>,
    /// Claims so far.
    pub attempts: i64,
    pub due_at: Timestamp,
}

/// What became of a claimed deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeletionUpdate {
    /// Done, with what the platform said (`PENDING`, or why it could not be sent).
    Done(String),
    /// Try again at this time.
    RetryAt(Timestamp),
}

/// Writes a cut's body: the feed, its transactions (storage order) and the cut's balances.
pub type StatementRender<'a> =
    &'a (dyn Fn(&LiveFeed, &[Transaction], &Cut) -> String + Send + Sync);

#[async_trait]
pub trait LiveStore: Send + Sync {
    /// Stores a connection's consent (a new one replaces the old, tokens and version
    /// included; `created_at` is kept). The consent pages create it.
    async fn put_live_tenant(&self, tenant: &LiveTenant) -> StoreResult<LiveTenant>;

    async fn get_live_tenant(&self, connection: ConnectionId) -> StoreResult<Option<LiveTenant>>;

    /// Stores refreshed tokens only if the stored `token_version` is still `expected` (the
    /// version becomes `expected + 1`); `false` when another refresh won the race (its tokens
    /// stay: ours were cut from a refresh token already spent).
    async fn replace_live_tokens(
        &self,
        connection: ConnectionId,
        expected: i64,
        tokens_sealed: &str,
        access_expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// Creates or replaces an account's live feed (keeping `created_at`).
    async fn put_live_feed(&self, feed: &LiveFeed) -> StoreResult<LiveFeed>;

    async fn get_live_feed(&self, account: BankFeedAccountId) -> StoreResult<Option<LiveFeed>>;

    /// The live feeds among `accounts` (any order; accounts without one are left out).
    async fn live_feeds_of(&self, accounts: &[BankFeedAccountId]) -> StoreResult<Vec<LiveFeed>>;

    /// Sets a feed's state and error (`NotFound` when the account has no live feed).
    async fn set_live_feed_state(
        &self,
        account: BankFeedAccountId,
        state: LiveFeedState,
        error: Option<(&str, Option<&str>)>,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// Every feed in `state`, oldest first, at most `limit`.
    async fn live_feeds_in_state(
        &self,
        state: LiveFeedState,
        limit: u32,
    ) -> StoreResult<Vec<LiveFeed>>;

    /// In one transaction: the account's transactions not yet in a statement (from its
    /// `transaction_start_date`, storage order, at most `max_transactions`) cut by
    /// `domain::live::xero::cut` from `opening` into queued statements due at `now`, each
    /// written by `render`; each transaction is marked with its statement, so none is ever in
    /// two. Only an active feed is cut; answers the statements made (none when nothing is new).
    async fn cut_live_statements(
        &self,
        account: BankFeedAccountId,
        max_transactions: u32,
        render: StatementRender<'_>,
        now: Timestamp,
    ) -> StoreResult<Vec<LiveStatement>>;

    /// Leases to `holder` until `lease_until` up to `limit` due statements, each the oldest
    /// unfinished one of its account, of active feeds only, none under another unexpired lease:
    /// two claimers never hold one statement, nor two of one account.
    async fn claim_live_statements(
        &self,
        holder: &str,
        lease_until: Timestamp,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<Vec<LiveStatement>>;

    /// Records what became of a statement `holder` claimed and ends the lease; `false` when the
    /// lease is no longer `holder`'s (nothing changes).
    async fn record_live_statement(
        &self,
        id: LiveStatementId,
        holder: &str,
        update: &StatementUpdate,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// An account's statements in order.
    async fn list_live_statements(
        &self,
        account: BankFeedAccountId,
    ) -> StoreResult<Vec<LiveStatement>>;

    /// Stores a consent the customer is starting ("Connect to Xero").
    async fn create_live_consent(&self, consent: &LiveConsent) -> StoreResult<()>;

    async fn get_live_consent(&self, state: &SecretHash) -> StoreResult<Option<LiveConsent>>;

    /// The platform's redirect back: checks the consent (`domain::live::consent::
    /// check_callback`, with `browser`) and uses it up, in one transaction; when refused,
    /// nothing changes.
    async fn use_live_consent(
        &self,
        state: &SecretHash,
        browser: Option<&SecretHash>,
        now: Timestamp,
    ) -> StoreResult<Result<LiveConsent, ConsentRefusal>>;

    /// Stores what the code was exchanged for: the sealed tokens and the organisations they
    /// cover (a used, uncompleted consent only; `NotFound` otherwise).
    async fn grant_live_consent(
        &self,
        state: &SecretHash,
        tokens_sealed: &str,
        tenants: &[ConsentTenant],
    ) -> StoreResult<()>;

    /// The customer picks the organisation (`check_choosing`, then `check_tenant`).
    async fn choose_live_tenant(
        &self,
        state: &SecretHash,
        browser: Option<&SecretHash>,
        tenant: &str,
        now: Timestamp,
    ) -> StoreResult<Result<LiveConsent, ConsentRefusal>>;

    /// The customer's choice of accounts, in one transaction: the consent is completed, its
    /// tokens and tenant become the connection's (`LiveTenant`, its version moved on), each
    /// account (of the connection, live) becomes an active, ready feed from `start` and gets
    /// a live feed waiting for its feed connection (`pending`; an active one it already has
    /// is kept), and every feed of the connection waiting for re-authorisation is active
    /// again; each changed feed records `bank_feed_account.live_feed_changed`.
    #[allow(clippy::too_many_arguments)]
    async fn complete_live_consent(
        &self,
        state: &SecretHash,
        browser: Option<&SecretHash>,
        accounts: &[BankFeedAccountId],
        start: Option<Timestamp>,
        access_expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Result<Vec<LiveFeed>, ConsentRefusal>>;

    /// Records the platform's id of a pending feed's feed connection (the feed stays pending
    /// until the platform says it is active). `NotFound` when the account has no live feed.
    async fn set_live_feed_connection(
        &self,
        account: BankFeedAccountId,
        feed_connection_id: &str,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// The FI restarts a stopped feed once it fixed the cause, in one transaction: the
    /// rejected statements' transactions are freed to be cut again (from where the last
    /// delivered statement ended), the rejected statements stay as history, and the feed is
    /// active again with a `live_feed_changed` event. `NotFound` when `account` is not a live
    /// account of `connection`.
    async fn restart_live_feed(
        &self,
        connection: ConnectionId,
        account: BankFeedAccountId,
        now: Timestamp,
    ) -> StoreResult<Result<LiveFeed, RestartRefusal>>;

    /// Leases to `holder` until `lease_until` up to `limit` due feed deletions, none under
    /// another unexpired lease.
    async fn claim_live_deletions(
        &self,
        holder: &str,
        lease_until: Timestamp,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<Vec<LiveDeletion>>;

    /// Records what became of a deletion `holder` claimed; `false` when the lease is no
    /// longer `holder`'s.
    async fn finish_live_deletion(
        &self,
        id: LiveDeletionId,
        holder: &str,
        update: &DeletionUpdate,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// The deletions queued for `connection`'s accounts, oldest first, done or not: the
    /// account and the outcome (`None` while not yet sent).
    async fn list_live_deletions(
        &self,
        connection: ConnectionId,
    ) -> StoreResult<Vec<(BankFeedAccountId, Option<String>)>>;

    /// Ends every lease `holder` holds on statements and deletions (an instance starting
    /// again under its stable name frees what it held when it died); how many were freed.
    async fn release_live_leases(&self, holder: &str) -> StoreResult<u64>;
}
