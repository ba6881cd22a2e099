//! PostgreSQL storage: for deployments where one machine is not enough. Several hub instances
//! share one database; everything they need to agree on lives in it.

mod accounts;
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
mod transactions;

use std::str::FromStr;
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
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

pub use error::map_err;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    max_connections: u32,
}

impl PostgresStore {
    /// Connects to a `postgres://` URL. Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(map_err)?
            .application_name("bankfeeds");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(map_err)?;
        Ok(Self {
            pool,
            max_connections,
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> StoreResult<()> {
        // sqlx holds an advisory lock while migrating, so instances starting together take turns.
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Backend(Box::new(e)))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            connections: self.pool.size(),
            idle: self.pool.num_idle() as u32,
            max: self.max_connections,
        }
    }

    async fn create_org(&self, new: &NewOrg) -> StoreResult<()> {
        orgs::create(&self.pool, new).await
    }

    async fn list_orgs(&self) -> StoreResult<Vec<Org>> {
        orgs::list(&self.pool).await
    }

    async fn find_org_credential(&self, client_id: &str) -> StoreResult<Option<OrgCredential>> {
        orgs::find_credential(&self.pool, client_id).await
    }

    async fn create_connection(
        &self,
        new: &NewConnection,
        idem: Option<Idem<'_, Connection>>,
    ) -> StoreResult<Outcome<()>> {
        connections::create(&self.pool, new, idem).await
    }

    async fn list_connections(
        &self,
        org: OrgId,
        page: &PageRequest<ConnectionId>,
    ) -> StoreResult<Page<Connection>> {
        connections::list(&self.pool, org, page).await
    }

    async fn find_connection_by_token(
        &self,
        token: &SecretHash,
    ) -> StoreResult<Option<Connection>> {
        connections::find_by_token(&self.pool, token).await
    }

    async fn find_connection(&self, id: ConnectionId) -> StoreResult<Option<Connection>> {
        connections::find(&self.pool, id).await
    }

    async fn get_connection(
        &self,
        org: OrgId,
        id: ConnectionId,
    ) -> StoreResult<Option<Connection>> {
        connections::get(&self.pool, org, id).await
    }

    async fn rotate_access_token(
        &self,
        org: OrgId,
        id: ConnectionId,
        token: &SecretHash,
        at: Timestamp,
    ) -> StoreResult<Connection> {
        connections::rotate_token(&self.pool, org, id, token, at).await
    }

    async fn delete_connection(
        &self,
        org: OrgId,
        id: ConnectionId,
        at: Timestamp,
    ) -> StoreResult<()> {
        connections::delete(&self.pool, org, id, at).await
    }

    async fn create_customer(&self, customer: &Customer) -> StoreResult<()> {
        customers::create(&self.pool, customer).await
    }

    async fn get_customer(&self, org: OrgId, id: CustomerId) -> StoreResult<Option<Customer>> {
        customers::get(&self.pool, org, id).await
    }

    async fn list_customers(&self, org: OrgId) -> StoreResult<Vec<Customer>> {
        customers::list(&self.pool, org).await
    }

    async fn update_customer(&self, customer: &Customer) -> StoreResult<()> {
        customers::update(&self.pool, customer).await
    }

    async fn delete_customer(&self, org: OrgId, id: CustomerId, at: Timestamp) -> StoreResult<()> {
        customers::delete(&self.pool, org, id, at).await
    }

    async fn create_customer_token(&self, token: &CustomerToken) -> StoreResult<()> {
        customers::create_token(&self.pool, token).await
    }

    async fn find_customer_token(&self, hash: &SecretHash) -> StoreResult<Option<CustomerToken>> {
        customers::find_token(&self.pool, hash).await
    }

    async fn create_customer_connection(
        &self,
        customer: CustomerId,
        new: &NewConnection,
    ) -> StoreResult<()> {
        customers::create_connection(&self.pool, customer, new).await
    }

    async fn list_customer_connections(
        &self,
        org: OrgId,
        customer: CustomerId,
    ) -> StoreResult<Vec<CustomerConnection>> {
        customers::list_connections(&self.pool, org, customer).await
    }

    async fn get_customer_connection(
        &self,
        org: OrgId,
        customer: CustomerId,
        connection: ConnectionId,
    ) -> StoreResult<Option<CustomerConnection>> {
        customers::get_connection(&self.pool, org, customer, connection).await
    }

    async fn unlink_customer_connection(
        &self,
        org: OrgId,
        customer: CustomerId,
        connection: ConnectionId,
        at: Timestamp,
    ) -> StoreResult<CustomerConnection> {
        customers::unlink_connection(&self.pool, org, customer, connection, at).await
    }

    async fn create_account(
        &self,
        account: &BankFeedAccount,
        override_existing: bool,
        idem: Option<Idem<'_, (BankFeedAccount, bool)>>,
    ) -> StoreResult<Outcome<(BankFeedAccount, bool)>> {
        accounts::create(&self.pool, account, override_existing, idem).await
    }

    async fn get_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
    ) -> StoreResult<Option<BankFeedAccount>> {
        accounts::get(&self.pool, connection, id).await
    }

    async fn list_accounts(
        &self,
        connection: ConnectionId,
        query: &AccountQuery,
    ) -> StoreResult<Page<BankFeedAccount>> {
        accounts::list(&self.pool, connection, query).await
    }

    async fn update_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
        patch: &AccountPatch,
        now: Timestamp,
        idem: Option<Idem<'_, BankFeedAccount>>,
    ) -> StoreResult<Outcome<BankFeedAccount>> {
        accounts::update(&self.pool, connection, id, patch, now, idem).await
    }

    async fn delete_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
        now: Timestamp,
    ) -> StoreResult<()> {
        accounts::delete(&self.pool, connection, id, now).await
    }

    async fn disconnect_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount> {
        accounts::disconnect(&self.pool, connection, id, now).await
    }

    async fn set_feed_state(
        &self,
        id: BankFeedAccountId,
        state: &FeedState,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount> {
        accounts::set_feed_state(&self.pool, id, state, now).await
    }

    async fn list_events(&self, org: OrgId, after_seq: i64, limit: u32) -> StoreResult<Vec<Event>> {
        events::list(&self.pool, org, after_seq, limit).await
    }

    async fn submit_job(
        &self,
        job: &Job,
        idem: Option<Idem<'_, Job>>,
    ) -> StoreResult<Outcome<Job>> {
        jobs::submit(&self.pool, job, idem).await
    }

    async fn get_job(&self, org: OrgId, id: JobId) -> StoreResult<Option<Job>> {
        jobs::get(&self.pool, org, id).await
    }

    async fn list_connection_jobs(
        &self,
        org: OrgId,
        connection: ConnectionId,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        jobs::list_for_connection(&self.pool, org, connection, limit).await
    }

    async fn claim_job(
        &self,
        only: Option<JobId>,
        lease_until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Option<Job>> {
        jobs::claim(&self.pool, only, lease_until, now).await
    }

    async fn apply_batch(
        &self,
        job: JobId,
        batch: &BatchRequest,
        profile: &PlatformProfile,
        now: Timestamp,
        render: BatchRender<'_>,
    ) -> StoreResult<Job> {
        transactions::apply_batch(&self.pool, job, batch, profile, now, render).await
    }

    async fn fail_job(
        &self,
        job: JobId,
        status: u16,
        body: &serde_json::Value,
        now: Timestamp,
    ) -> StoreResult<Job> {
        jobs::fail(&self.pool, job, status, body, now).await
    }

    async fn list_transactions(
        &self,
        connection: ConnectionId,
        query: &TransactionQuery,
    ) -> StoreResult<Page<Transaction>> {
        transactions::list(&self.pool, connection, query).await
    }

    async fn get_transaction(
        &self,
        connection: ConnectionId,
        id: TransactionId,
    ) -> StoreResult<Option<Transaction>> {
        transactions::get(&self.pool, connection, id).await
    }

    async fn mark_ingested(&self, account: BankFeedAccountId, now: Timestamp) -> StoreResult<u64> {
        transactions::mark_ingested(&self.pool, account, now).await
    }

    async fn put_fi_config(&self, config: &FiConfig) -> StoreResult<FiConfig> {
        link::put_config(&self.pool, config).await
    }

    async fn get_fi_config(&self, org: OrgId, platform: Platform) -> StoreResult<Option<FiConfig>> {
        link::get_config(&self.pool, org, platform).await
    }

    async fn list_fi_configs(&self, org: OrgId) -> StoreResult<Vec<FiConfig>> {
        link::list_configs(&self.pool, org).await
    }

    async fn list_fis_for_platform(&self, platform: Platform) -> StoreResult<Vec<FiConfig>> {
        link::list_for_platform(&self.pool, platform).await
    }

    async fn delete_fi_config(&self, org: OrgId, platform: Platform) -> StoreResult<()> {
        link::delete_config(&self.pool, org, platform).await
    }

    async fn issue_otp(&self, otp: &NewOtp) -> StoreResult<()> {
        link::issue_otp(&self.pool, otp).await
    }

    async fn consume_otp(
        &self,
        hash: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Result<(OrgId, ConnectionId), OtpRefusal>> {
        link::consume_otp(&self.pool, hash, now).await
    }

    async fn create_credentials(&self, credentials: &BankFeedCredentials) -> StoreResult<()> {
        credentials::create(&self.pool, credentials).await
    }

    async fn find_credentials(&self, username: &str) -> StoreResult<Option<BankFeedCredentials>> {
        credentials::find(&self.pool, username).await
    }

    async fn revoke_credentials(
        &self,
        connection: ConnectionId,
        at: Timestamp,
    ) -> StoreResult<u64> {
        credentials::revoke(&self.pool, connection, at).await
    }

    async fn create_company(&self, company: &Company) -> StoreResult<()> {
        link_flow::create_company(&self.pool, company).await
    }

    async fn get_company(&self, id: CompanyId) -> StoreResult<Option<Company>> {
        link_flow::get_company(&self.pool, id).await
    }

    async fn create_challenge(&self, challenge: &Challenge) -> StoreResult<()> {
        link_flow::create_challenge(&self.pool, challenge).await
    }

    async fn get_challenge(&self, hash: &SecretHash) -> StoreResult<Option<Challenge>> {
        link_flow::get_challenge(&self.pool, hash).await
    }

    async fn bind_challenge(
        &self,
        challenge: &SecretHash,
        platform: Platform,
        otp: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Result<Challenge, LinkRefusal>> {
        link_flow::bind_challenge(&self.pool, challenge, platform, otp, now).await
    }

    async fn complete_link(
        &self,
        challenge: &SecretHash,
        accounts: &[BankFeedAccountId],
        start: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<Result<Vec<BankFeedAccount>, LinkRefusal>> {
        link_flow::complete_link(&self.pool, challenge, accounts, start, now).await
    }

    async fn connection_company(&self, connection: ConnectionId) -> StoreResult<Option<Company>> {
        link_flow::connection_company(&self.pool, connection).await
    }

    async fn link_feed(
        &self,
        company: CompanyId,
        connection: ConnectionId,
        account: BankFeedAccountId,
        start: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount> {
        link_flow::link_feed(&self.pool, company, connection, account, start, now).await
    }

    async fn list_company_feeds(&self, company: CompanyId) -> StoreResult<Vec<BankFeedAccount>> {
        link_flow::list_company_feeds(&self.pool, company).await
    }

    async fn list_companies(&self, platform: Platform) -> StoreResult<Vec<Company>> {
        ingest::list_companies(&self.pool, platform).await
    }

    async fn get_company_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
    ) -> StoreResult<Option<BankFeedAccount>> {
        ingest::get_company_feed(&self.pool, company, account).await
    }

    async fn unlink_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount> {
        ingest::unlink_feed(&self.pool, company, account, now).await
    }

    async fn ingest_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
        per_statement: u32,
        now: Timestamp,
    ) -> StoreResult<Vec<Statement>> {
        ingest::ingest_feed(&self.pool, company, account, per_statement, now).await
    }

    async fn list_statements(
        &self,
        account: BankFeedAccountId,
        before: Option<StatementId>,
        limit: u32,
    ) -> StoreResult<Vec<Statement>> {
        ingest::list_statements(&self.pool, account, before, limit).await
    }

    async fn statement_transactions(&self, statement: &Statement) -> StoreResult<Vec<Transaction>> {
        ingest::statement_transactions(&self.pool, statement).await
    }

    async fn list_feeds_due(
        &self,
        platform: Platform,
        synced_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<(CompanyId, BankFeedAccountId)>> {
        ingest::list_feeds_due(&self.pool, platform, synced_before, limit).await
    }
}
