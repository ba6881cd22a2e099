//! Storage traits. Each method is one database transaction: it commits whole or not at all.
//! Only domain types cross this boundary; SQL lives in the backend crates.

use std::sync::Arc;

use async_trait::async_trait;
use bankfeeds_domain::account::{AccountPatch, AccountQuery, FeedState};
use bankfeeds_domain::credentials::BankFeedCredentials;
use bankfeeds_domain::customer::{Customer, CustomerConnection, CustomerId, CustomerToken};
use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::job::RawJson;
use bankfeeds_domain::link::{Challenge, Company, CompanyId, LinkRefusal};
use bankfeeds_domain::otp::{NewOtp, OtpRefusal};
use bankfeeds_domain::profile::PlatformProfile;
use bankfeeds_domain::statement::{Statement, StatementId};
use bankfeeds_domain::transaction::{
    BatchItem, BatchRefusal, BatchRequest, Transaction, TransactionQuery,
};
use bankfeeds_domain::{
    BankFeedAccount, BankFeedAccountId, Connection, ConnectionId, Job, JobId, NewConnection,
    NewOrg, Org, OrgId, Page, PageRequest, Platform, SecretHash, Timestamp, TransactionId,
};

mod idempotency;
pub use idempotency::{Idem, IdempotencyKey, Outcome, StoredResponse};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the name says which.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The write breaks a rule only the database can check (e.g. a parent account that is not
    /// on the same connection). `code` is the API's error code.
    #[error("{code}: {message}")]
    Invalid { code: &'static str, message: String },
    /// The idempotency key was used before with a different request.
    #[error("idempotency key reused with a different request")]
    IdempotencyKeyReused,
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
    ) -> StoreResult<()>;

    // --- customers (the Codat door's companies) and their connections ---

    async fn create_customer(&self, customer: &Customer) -> StoreResult<()>;

    /// A live customer of this organisation.
    async fn get_customer(&self, org: OrgId, id: CustomerId) -> StoreResult<Option<Customer>>;

    /// The organisation's live customers, oldest first.
    async fn list_customers(&self, org: OrgId) -> StoreResult<Vec<Customer>>;

    /// Replaces a live customer's name, description, tags and `updated_at`. `NotFound` when
    /// there is none.
    async fn update_customer(&self, customer: &Customer) -> StoreResult<()>;

    /// Deletes a live customer and every live connection it has, in one transaction (their
    /// access tokens stop working). `NotFound` when there is none.
    async fn delete_customer(&self, org: OrgId, id: CustomerId, at: Timestamp) -> StoreResult<()>;

    async fn create_customer_token(&self, token: &CustomerToken) -> StoreResult<()>;

    async fn find_customer_token(&self, hash: &SecretHash) -> StoreResult<Option<CustomerToken>>;

    /// Stores a new connection belonging to a live customer of the connection's organisation.
    /// `NotFound` when there is no such customer.
    async fn create_customer_connection(
        &self,
        customer: CustomerId,
        new: &NewConnection,
    ) -> StoreResult<()>;

    /// The customer's live connections, oldest first (none for an unknown customer).
    async fn list_customer_connections(
        &self,
        org: OrgId,
        customer: CustomerId,
    ) -> StoreResult<Vec<CustomerConnection>>;

    /// One live connection of the customer.
    async fn get_customer_connection(
        &self,
        org: OrgId,
        customer: CustomerId,
        connection: ConnectionId,
    ) -> StoreResult<Option<CustomerConnection>>;

    /// Unlinks a live connection of the customer: marks it unlinked and makes each of its
    /// active feeds `inactive` and not ready (with events), in one transaction. `NotFound`
    /// when the customer has no such live connection.
    async fn unlink_customer_connection(
        &self,
        org: OrgId,
        customer: CustomerId,
        connection: ConnectionId,
        at: Timestamp,
    ) -> StoreResult<CustomerConnection>;

    // --- bank feed accounts (all scoped to one connection) ---

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
    ) -> StoreResult<BankFeedAccount>;

    /// Sets the platform-side feed state (the link flow; tests). Not reachable by FIs.
    async fn set_feed_state(
        &self,
        id: BankFeedAccountId,
        state: &FeedState,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount>;

    // --- jobs and transactions ---

    /// Accepts a job (`prequeued`). With an idempotency key, a repeat returns the saved answer.
    async fn submit_job(&self, job: &Job, idem: Option<Idem<'_, Job>>)
        -> StoreResult<Outcome<Job>>;

    async fn get_job(&self, org: OrgId, id: JobId) -> StoreResult<Option<Job>>;

    /// The connection's jobs, newest first (the Codat door's push operations).
    async fn list_connection_jobs(
        &self,
        org: OrgId,
        connection: ConnectionId,
        limit: u32,
    ) -> StoreResult<Vec<Job>>;

    /// Claims the oldest runnable job, or only `only`: unfinished, first among its account's
    /// unfinished jobs (one batch at a time per account, in arrival order), and not leased to
    /// another worker (or its lease expired). Marks it `pending` until `lease_until`.
    async fn claim_job(
        &self,
        only: Option<JobId>,
        lease_until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Option<Job>>;

    /// Applies a claimed batch job in one database transaction: checks it against what is
    /// stored and the platform's rules, writes the new transactions, the account balance, the
    /// outbox event and the job's outcome (rendered by `render`) together. A refused batch
    /// writes only the job's outcome. A job already finished is returned unchanged.
    async fn apply_batch(
        &self,
        job: JobId,
        batch: &BatchRequest,
        profile: &PlatformProfile,
        now: Timestamp,
        render: BatchRender<'_>,
    ) -> StoreResult<Job>;

    /// Finishes an unfinished job with a failure (e.g. an unreadable request, or retries
    /// exhausted): `status` must be 4xx or 5xx (`Invalid` otherwise). A finished job is
    /// returned unchanged.
    async fn fail_job(
        &self,
        job: JobId,
        status: u16,
        body: &serde_json::Value,
        now: Timestamp,
    ) -> StoreResult<Job>;

    async fn list_transactions(
        &self,
        connection: ConnectionId,
        query: &TransactionQuery,
    ) -> StoreResult<Page<Transaction>>;

    async fn get_transaction(
        &self,
        connection: ConnectionId,
        id: TransactionId,
    ) -> StoreResult<Option<Transaction>>;

    /// The platform took every stored transaction of the account: marks them ingested and
    /// moves the account's `last_synced_at`. Returns how many were newly ingested.
    async fn mark_ingested(&self, account: BankFeedAccountId, now: Timestamp) -> StoreResult<u64>;

    // --- FI configuration and link OTPs ---

    /// Creates or replaces the organisation's configuration for one platform (keeping its
    /// `created_at`); returns what is stored.
    async fn put_fi_config(&self, config: &FiConfig) -> StoreResult<FiConfig>;

    async fn get_fi_config(&self, org: OrgId, platform: Platform) -> StoreResult<Option<FiConfig>>;

    /// The organisation's configurations, by platform name.
    async fn list_fi_configs(&self, org: OrgId) -> StoreResult<Vec<FiConfig>>;

    /// Every FI configured for a platform, by display name: the platform's list of banks.
    async fn list_fis_for_platform(&self, platform: Platform) -> StoreResult<Vec<FiConfig>>;

    /// `NotFound` when the organisation has no configuration for the platform.
    async fn delete_fi_config(&self, org: OrgId, platform: Platform) -> StoreResult<()>;

    /// Stores a new OTP for its connection, cancelling any earlier unused one.
    async fn issue_otp(&self, otp: &NewOtp) -> StoreResult<()>;

    /// Uses an OTP once: the connection it belongs to, or why it cannot be used. Nothing
    /// changes when it is refused.
    async fn consume_otp(
        &self,
        hash: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Result<(OrgId, ConnectionId), OtpRefusal>>;

    /// Stores a new set of generated bank feed credentials.
    async fn create_credentials(&self, credentials: &BankFeedCredentials) -> StoreResult<()>;

    /// The set with this username, revoked or not.
    async fn find_credentials(&self, username: &str) -> StoreResult<Option<BankFeedCredentials>>;

    /// Revokes every live set of the connection; returns how many.
    async fn revoke_credentials(&self, connection: ConnectionId, at: Timestamp)
        -> StoreResult<u64>;

    // --- the link flow (platform side) ---

    async fn create_company(&self, company: &Company) -> StoreResult<()>;

    async fn get_company(&self, id: CompanyId) -> StoreResult<Option<Company>>;

    async fn create_challenge(&self, challenge: &Challenge) -> StoreResult<()>;

    async fn get_challenge(&self, hash: &SecretHash) -> StoreResult<Option<Challenge>>;

    /// The redirect back from the FI: checks the challenge (for `platform`'s link pages) and
    /// uses the OTP, which must come from the FI the customer picked and belong to a connection
    /// for the same platform; then binds that connection to the challenge. One database
    /// transaction: when refused, neither the challenge nor the OTP is used up.
    async fn bind_challenge(
        &self,
        challenge: &SecretHash,
        platform: Platform,
        otp: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Result<Challenge, LinkRefusal>>;

    /// The customer's feed choice: each account (of the bound connection) becomes an active,
    /// transaction-ready feed of the company from `start` on; the link is complete.
    async fn complete_link(
        &self,
        challenge: &SecretHash,
        accounts: &[BankFeedAccountId],
        start: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<Result<Vec<BankFeedAccount>, LinkRefusal>>;

    /// The platform company the connection was last linked into (by a completed link).
    async fn connection_company(&self, connection: ConnectionId) -> StoreResult<Option<Company>>;

    /// Links one more account of a connection into a company without a challenge (account
    /// mapping through the Codat door, for platforms that allow it): the account becomes an
    /// active, ready feed of the company from `start`. `NotFound` when the account is not a
    /// live account of the connection.
    async fn link_feed(
        &self,
        company: CompanyId,
        connection: ConnectionId,
        account: BankFeedAccountId,
        start: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount>;

    /// The company's linked feeds (unlinked ones left out).
    async fn list_company_feeds(&self, company: CompanyId) -> StoreResult<Vec<BankFeedAccount>>;

    /// The platform's companies, oldest first (the sandbox's front page).
    async fn list_companies(&self, platform: Platform) -> StoreResult<Vec<Company>>;

    /// A feed the company has linked and not unlinked, if the account is still live.
    async fn get_company_feed(
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
    /// taken yet, in storage order, as statements of at most `per_statement` (balances as
    /// `domain::statement` explains), marks them `platform_ingested`, and moves the account's
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

    /// A statement's transactions, in storage order.
    async fn statement_transactions(&self, statement: &Statement) -> StoreResult<Vec<Transaction>>;

    /// Linked feeds of `platform` never synced or last synced before `synced_before`: what a
    /// scheduled sync should take next, least recently synced first.
    async fn list_feeds_due(
        &self,
        platform: Platform,
        synced_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<(CompanyId, BankFeedAccountId)>>;

    // --- events (the outbox) ---

    /// Events of one organisation after `after_seq`, oldest first.
    async fn list_events(&self, org: OrgId, after_seq: i64, limit: u32) -> StoreResult<Vec<Event>>;
}

/// One change, recorded in the same database transaction as the change itself, for the
/// webhooks to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub seq: i64,
    pub org_id: OrgId,
    pub connection_id: Option<ConnectionId>,
    /// e.g. `bank_feed_account.created`.
    pub event_type: String,
    pub resource_id: String,
    pub payload: serde_json::Value,
    pub created_at: Timestamp,
}

pub type DynStore = Arc<dyn Store>;

/// Renders a batch's outcome as the HTTP status and JSON body the job saves (rendered as text:
/// the store keeps it and the API sends it as is). A store may work a batch out before it takes
/// its write lock and again under it if the account changed in between; the answer stored is
/// always the render of the outcome that was committed.
pub type BatchRender<'a> =
    &'a (dyn Fn(&Result<Vec<BatchItem>, BatchRefusal>) -> (u16, RawJson) + Send + Sync);
