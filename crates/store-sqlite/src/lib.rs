//! SQLite storage: the zero-setup default.
//!
//! WAL mode with one writer connection and a pool of readers: SQLite allows one writer at a time
//! anyway, and serialising writes in the pool (rather than letting them collide on the file lock)
//! means no `SQLITE_BUSY` under load. Every write transaction starts with `BEGIN IMMEDIATE` so it
//! takes the write lock up front instead of failing to upgrade half-way.

mod accounts;
mod body;
mod connections;
mod credentials;
mod customers;
mod error;
mod events;
mod idempotency;
mod ingest;
mod jobs;
mod link;
mod link_flow;
mod orgs;
mod time;
mod transactions;

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bankfeeds_domain::account::{AccountPatch, AccountQuery, FeedState};
use bankfeeds_domain::credentials::BankFeedCredentials;
use bankfeeds_domain::customer::{Customer, CustomerConnection, CustomerId, CustomerToken};
use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::link::{Challenge, Company, CompanyId, LinkRefusal};
use bankfeeds_domain::otp::{NewOtp, OtpRefusal};
use bankfeeds_domain::profile::PlatformProfile;
use bankfeeds_domain::statement::{Statement, StatementId};
use bankfeeds_domain::transaction::{BatchRequest, Transaction, TransactionQuery};
use bankfeeds_domain::{
    BankFeedAccount, BankFeedAccountId, Connection, ConnectionId, Job, JobId, NewConnection,
    NewOrg, Org, OrgId, Page, PageRequest, Platform, SecretHash, Timestamp, TransactionId,
};
use bankfeeds_store::{
    BatchRender, Event, Idem, OrgCredential, Outcome, PoolStats, Store, StoreError, StoreResult,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};

pub use error::map_err;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    max_readers: u32,
    /// The checkpointer: its own connection, and whether it is busy.
    checkpointer: Arc<Checkpointer>,
}

#[derive(Debug)]
struct Checkpointer {
    pool: SqlitePool,
    busy: AtomicBool,
    last: std::sync::Mutex<std::time::Instant>,
}

/// How often, at most, a commit is followed by a checkpoint.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// WAL pages after which a committing writer checkpoints by itself anyway (SQLite's automatic
/// checkpoint, default 1000): only reached when the checkpointer falls behind.
const WRITER_CHECKPOINT_PAGES: &str = "10000";

impl SqliteStore {
    /// Opens (creating if missing) the database at a `sqlite://path` URL. Does not migrate.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(map_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable across application crashes in WAL mode; only an OS crash or power
            // loss can roll back the last commits. The bench's ceiling uses the same settings.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                options
                    .clone()
                    .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES),
            )
            .await
            .map_err(map_err)?;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(map_err)?;
        let checkpointer = Arc::new(Checkpointer {
            pool: checkpointer,
            busy: AtomicBool::new(false),
            last: std::sync::Mutex::new(std::time::Instant::now()),
        });
        let max_readers = std::thread::available_parallelism()
            .map(|n| n.get() as u32 * 2)
            .unwrap_or(4)
            .clamp(2, 16);
        let reader = SqlitePoolOptions::new()
            .max_connections(max_readers)
            .connect_with(options.read_only(true))
            .await
            .map_err(map_err)?;
        Ok(Self {
            writer,
            reader,
            max_readers,
            checkpointer,
        })
    }

    /// After a commit: copies the WAL back into the database file from the checkpointer's own
    /// connection, at most every `CHECKPOINT_EVERY` and one at a time. SQLite's automatic
    /// checkpoint would do it inside a commit, holding the only writer while every other write
    /// waits; PASSIVE here never waits for, or blocks, the writer or readers.
    pub(crate) async fn checkpoint_soon(&self) {
        let c = &self.checkpointer;
        {
            let mut last = c.last.lock().unwrap_or_else(|e| e.into_inner());
            if last.elapsed() < CHECKPOINT_EVERY || c.busy.swap(true, Ordering::AcqRel) {
                return;
            }
            *last = std::time::Instant::now();
        }
        // Not busy any more when done, or when the caller stops waiting half-way.
        struct Done<'a>(&'a AtomicBool);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let _done = Done(&c.busy);
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&c.pool)
            .await
        {
            tracing::warn!(error = %e, "WAL checkpoint failed; the writer checkpoints instead");
        }
    }

    pub(crate) async fn write_tx(&self) -> StoreResult<sqlx::Transaction<'static, Sqlite>> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR
            .run(&self.writer)
            .await
            .map_err(|e| StoreError::Backend(Box::new(e)))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            connections: self.writer.size() + self.reader.size(),
            idle: (self.writer.num_idle() + self.reader.num_idle()) as u32,
            max: 1 + self.max_readers,
        }
    }

    async fn create_org(&self, new: &NewOrg) -> StoreResult<()> {
        orgs::create(self, new).await
    }

    async fn list_orgs(&self) -> StoreResult<Vec<Org>> {
        orgs::list(&self.reader).await
    }

    async fn find_org_credential(&self, client_id: &str) -> StoreResult<Option<OrgCredential>> {
        orgs::find_credential(&self.reader, client_id).await
    }

    async fn create_connection(
        &self,
        new: &NewConnection,
        idem: Option<Idem<'_, Connection>>,
    ) -> StoreResult<Outcome<()>> {
        connections::create(self, new, idem).await
    }

    async fn list_connections(
        &self,
        org: OrgId,
        page: &PageRequest<ConnectionId>,
    ) -> StoreResult<Page<Connection>> {
        connections::list(&self.reader, org, page).await
    }

    async fn find_connection_by_token(
        &self,
        token: &SecretHash,
    ) -> StoreResult<Option<Connection>> {
        connections::find_by_token(&self.reader, token).await
    }

    async fn find_connection(&self, id: ConnectionId) -> StoreResult<Option<Connection>> {
        connections::find(&self.reader, id).await
    }

    async fn get_connection(
        &self,
        org: OrgId,
        id: ConnectionId,
    ) -> StoreResult<Option<Connection>> {
        connections::get(&self.reader, org, id).await
    }

    async fn rotate_access_token(
        &self,
        org: OrgId,
        id: ConnectionId,
        token: &SecretHash,
        at: Timestamp,
    ) -> StoreResult<Connection> {
        connections::rotate_token(self, org, id, token, at).await
    }

    async fn delete_connection(
        &self,
        org: OrgId,
        id: ConnectionId,
        at: Timestamp,
    ) -> StoreResult<()> {
        connections::delete(self, org, id, at).await
    }

    async fn create_customer(&self, customer: &Customer) -> StoreResult<()> {
        customers::create(self, customer).await
    }

    async fn get_customer(&self, org: OrgId, id: CustomerId) -> StoreResult<Option<Customer>> {
        customers::get(&self.reader, org, id).await
    }

    async fn list_customers(&self, org: OrgId) -> StoreResult<Vec<Customer>> {
        customers::list(&self.reader, org).await
    }

    async fn update_customer(&self, customer: &Customer) -> StoreResult<()> {
        customers::update(self, customer).await
    }

    async fn delete_customer(&self, org: OrgId, id: CustomerId, at: Timestamp) -> StoreResult<()> {
        customers::delete(self, org, id, at).await
    }

    async fn create_customer_token(&self, token: &CustomerToken) -> StoreResult<()> {
        customers::create_token(self, token).await
    }

    async fn find_customer_token(&self, hash: &SecretHash) -> StoreResult<Option<CustomerToken>> {
        customers::find_token(&self.reader, hash).await
    }

    async fn create_customer_connection(
        &self,
        customer: CustomerId,
        new: &NewConnection,
    ) -> StoreResult<()> {
        customers::create_connection(self, customer, new).await
    }

    async fn list_customer_connections(
        &self,
        org: OrgId,
        customer: CustomerId,
    ) -> StoreResult<Vec<CustomerConnection>> {
        customers::list_connections(&self.reader, org, customer).await
    }

    async fn get_customer_connection(
        &self,
        org: OrgId,
        customer: CustomerId,
        connection: ConnectionId,
    ) -> StoreResult<Option<CustomerConnection>> {
        customers::get_connection(&self.reader, org, customer, connection).await
    }

    async fn unlink_customer_connection(
        &self,
        org: OrgId,
        customer: CustomerId,
        connection: ConnectionId,
        at: Timestamp,
    ) -> StoreResult<CustomerConnection> {
        customers::unlink_connection(self, org, customer, connection, at).await
    }

    async fn create_account(
        &self,
        account: &BankFeedAccount,
        override_existing: bool,
        idem: Option<Idem<'_, (BankFeedAccount, bool)>>,
    ) -> StoreResult<Outcome<(BankFeedAccount, bool)>> {
        accounts::create(self, account, override_existing, idem).await
    }

    async fn get_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
    ) -> StoreResult<Option<BankFeedAccount>> {
        accounts::get(&self.reader, connection, id).await
    }

    async fn list_accounts(
        &self,
        connection: ConnectionId,
        query: &AccountQuery,
    ) -> StoreResult<Page<BankFeedAccount>> {
        accounts::list(&self.reader, connection, query).await
    }

    async fn update_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
        patch: &AccountPatch,
        now: Timestamp,
        idem: Option<Idem<'_, BankFeedAccount>>,
    ) -> StoreResult<Outcome<BankFeedAccount>> {
        accounts::update(self, connection, id, patch, now, idem).await
    }

    async fn delete_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
        now: Timestamp,
    ) -> StoreResult<()> {
        accounts::delete(self, connection, id, now).await
    }

    async fn disconnect_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount> {
        accounts::disconnect(self, connection, id, now).await
    }

    async fn set_feed_state(
        &self,
        id: BankFeedAccountId,
        state: &FeedState,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount> {
        accounts::set_feed_state(self, id, state, now).await
    }

    async fn list_events(&self, org: OrgId, after_seq: i64, limit: u32) -> StoreResult<Vec<Event>> {
        events::list(&self.reader, org, after_seq, limit).await
    }

    async fn submit_job(
        &self,
        job: &Job,
        idem: Option<Idem<'_, Job>>,
    ) -> StoreResult<Outcome<Job>> {
        jobs::submit(self, job, idem).await
    }

    async fn get_job(&self, org: OrgId, id: JobId) -> StoreResult<Option<Job>> {
        jobs::get(&self.reader, org, id).await
    }

    async fn list_connection_jobs(
        &self,
        org: OrgId,
        connection: ConnectionId,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        jobs::list_for_connection(&self.reader, org, connection, limit).await
    }

    async fn claim_job(
        &self,
        only: Option<JobId>,
        lease_until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Option<Job>> {
        jobs::claim(self, only, lease_until, now).await
    }

    async fn apply_batch(
        &self,
        job: JobId,
        batch: &BatchRequest,
        profile: &PlatformProfile,
        now: Timestamp,
        render: BatchRender<'_>,
    ) -> StoreResult<Job> {
        transactions::apply_batch(self, job, batch, profile, now, render).await
    }

    async fn fail_job(
        &self,
        job: JobId,
        status: u16,
        body: &serde_json::Value,
        now: Timestamp,
    ) -> StoreResult<Job> {
        jobs::fail(self, job, status, body, now).await
    }

    async fn list_transactions(
        &self,
        connection: ConnectionId,
        query: &TransactionQuery,
    ) -> StoreResult<Page<Transaction>> {
        transactions::list(&self.reader, connection, query).await
    }

    async fn get_transaction(
        &self,
        connection: ConnectionId,
        id: TransactionId,
    ) -> StoreResult<Option<Transaction>> {
        transactions::get(&self.reader, connection, id).await
    }

    async fn mark_ingested(&self, account: BankFeedAccountId, now: Timestamp) -> StoreResult<u64> {
        transactions::mark_ingested(self, account, now).await
    }

    async fn put_fi_config(&self, config: &FiConfig) -> StoreResult<FiConfig> {
        link::put_config(self, config).await
    }

    async fn get_fi_config(&self, org: OrgId, platform: Platform) -> StoreResult<Option<FiConfig>> {
        link::get_config(&self.reader, org, platform).await
    }

    async fn list_fi_configs(&self, org: OrgId) -> StoreResult<Vec<FiConfig>> {
        link::list_configs(&self.reader, org).await
    }

    async fn list_fis_for_platform(&self, platform: Platform) -> StoreResult<Vec<FiConfig>> {
        link::list_for_platform(&self.reader, platform).await
    }

    async fn delete_fi_config(&self, org: OrgId, platform: Platform) -> StoreResult<()> {
        link::delete_config(self, org, platform).await
    }

    async fn issue_otp(&self, otp: &NewOtp) -> StoreResult<()> {
        link::issue_otp(self, otp).await
    }

    async fn consume_otp(
        &self,
        hash: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Result<(OrgId, ConnectionId), OtpRefusal>> {
        link::consume_otp(self, hash, now).await
    }

    async fn create_credentials(&self, credentials: &BankFeedCredentials) -> StoreResult<()> {
        credentials::create(self, credentials).await
    }

    async fn find_credentials(&self, username: &str) -> StoreResult<Option<BankFeedCredentials>> {
        credentials::find(&self.reader, username).await
    }

    async fn revoke_credentials(
        &self,
        connection: ConnectionId,
        at: Timestamp,
    ) -> StoreResult<u64> {
        credentials::revoke(self, connection, at).await
    }

    async fn create_company(&self, company: &Company) -> StoreResult<()> {
        link_flow::create_company(self, company).await
    }

    async fn get_company(&self, id: CompanyId) -> StoreResult<Option<Company>> {
        link_flow::get_company(&self.reader, id).await
    }

    async fn create_challenge(&self, challenge: &Challenge) -> StoreResult<()> {
        link_flow::create_challenge(self, challenge).await
    }

    async fn get_challenge(&self, hash: &SecretHash) -> StoreResult<Option<Challenge>> {
        link_flow::get_challenge(&self.reader, hash).await
    }

    async fn bind_challenge(
        &self,
        challenge: &SecretHash,
        platform: Platform,
        otp: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Result<Challenge, LinkRefusal>> {
        link_flow::bind_challenge(self, challenge, platform, otp, now).await
    }

    async fn complete_link(
        &self,
        challenge: &SecretHash,
        accounts: &[BankFeedAccountId],
        start: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<Result<Vec<BankFeedAccount>, LinkRefusal>> {
        link_flow::complete_link(self, challenge, accounts, start, now).await
    }

    async fn connection_company(&self, connection: ConnectionId) -> StoreResult<Option<Company>> {
        link_flow::connection_company(&self.reader, connection).await
    }

    async fn link_feed(
        &self,
        company: CompanyId,
        connection: ConnectionId,
        account: BankFeedAccountId,
        start: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount> {
        link_flow::link_feed(self, company, connection, account, start, now).await
    }

    async fn list_company_feeds(&self, company: CompanyId) -> StoreResult<Vec<BankFeedAccount>> {
        link_flow::list_company_feeds(&self.reader, company).await
    }

    async fn list_companies(&self, platform: Platform) -> StoreResult<Vec<Company>> {
        ingest::list_companies(&self.reader, platform).await
    }

    async fn get_company_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
    ) -> StoreResult<Option<BankFeedAccount>> {
        ingest::get_company_feed(&self.reader, company, account).await
    }

    async fn unlink_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount> {
        ingest::unlink_feed(self, company, account, now).await
    }

    async fn ingest_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
        per_statement: u32,
        now: Timestamp,
    ) -> StoreResult<Vec<Statement>> {
        ingest::ingest_feed(self, company, account, per_statement, now).await
    }

    async fn list_statements(
        &self,
        account: BankFeedAccountId,
        before: Option<StatementId>,
        limit: u32,
    ) -> StoreResult<Vec<Statement>> {
        ingest::list_statements(&self.reader, account, before, limit).await
    }

    async fn statement_transactions(&self, statement: &Statement) -> StoreResult<Vec<Transaction>> {
        ingest::statement_transactions(&self.reader, statement).await
    }

    async fn list_feeds_due(
        &self,
        platform: Platform,
        synced_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<(CompanyId, BankFeedAccountId)>> {
        ingest::list_feeds_due(&self.reader, platform, synced_before, limit).await
    }
}
