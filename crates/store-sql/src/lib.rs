//! bankfeeds' storage in SQL, written once for both backends.
//!
//! The store traits (`bankfeeds_store`) are implemented here for [`SqlStore`], generically over
//! a [`Backend`]: what an engine must give is a write transaction, a pool to read from, its
//! [`Dialect`] (the few places the two SQL dialects differ: row locks, `SKIP LOCKED`,
//! collation, JSON) and what only it does (`apply_batch`, migrations, health). `store-sqlite`
//! and `store-postgres` are those engines: connection set-up, migrations and `apply_batch`.
//!
//! Each method **loads** the facts a rule needs (under the locks it needs), asks the domain to
//! **decide**, and **writes** what the decision says. No rule lives here either.

pub mod accounts;
pub mod closed_days;
pub mod connections;
pub mod connectors;
pub mod continuity;
pub mod credentials;
pub mod customers;
pub mod error;
pub mod events;
pub mod exec;
pub mod fi_configs;
pub mod idempotency;
pub mod jobs;
pub mod link;
pub mod live;
pub mod ofx;
pub mod operators;
pub mod orgs;
pub mod orgs_delete;
pub mod otps;
pub mod platform_feeds;
pub mod retention;
pub mod status;
pub mod transactions;
pub mod value;
pub mod webhooks;

use std::future::Future;

use bankfeeds_domain::Job;
use bankfeeds_store::{BatchCall, Durability, PoolStats, Store, StoreResult};

pub use error::map_err;
pub use exec::{Exec, Sql, SqlRow, Tx};
pub use value::{Arg, CountRow, DbAmount, DbBytes, DbId, DbInt, DbTime};

/// Where the two SQL dialects differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The row lock a read-then-write takes: PostgreSQL locks the rows it read; SQLite's one
    /// writer (`BEGIN IMMEDIATE`) already excludes every other writer.
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// A shared row lock: the row cannot change or go until the transaction ends, while other
    /// readers still read it.
    pub fn for_share(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR SHARE",
        }
    }

    /// `for_update` of one table of a join (named by its alias).
    pub fn for_update_of(self, alias: &str) -> String {
        match self {
            Dialect::Sqlite => String::new(),
            Dialect::Postgres => format!(" FOR UPDATE OF {alias}"),
        }
    }

    /// What a bounded cleanup's `SELECT … LIMIT n` adds so several hub instances can purge at
    /// once: on PostgreSQL rows another instance has locked are skipped (`of` names the table
    /// alias to lock, if the select joins); SQLite has one writer anyway.
    pub fn skip_locked(self, of: Option<&str>) -> String {
        match (self, of) {
            (Dialect::Sqlite, _) => String::new(),
            (Dialect::Postgres, None) => " FOR UPDATE SKIP LOCKED".into(),
            (Dialect::Postgres, Some(alias)) => format!(" FOR UPDATE OF {alias} SKIP LOCKED"),
        }
    }

    /// The UTC day of a time column, as whole days since the Unix epoch (an integer).
    pub fn epoch_day(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("({column} / 86400000000)"),
            Dialect::Postgres => {
                format!("CAST(FLOOR(EXTRACT(EPOCH FROM {column}) / 86400) AS BIGINT)")
            }
        }
    }

    /// The text value of top-level key `key` of a JSON text column (`NULL` when absent).
    pub fn json_text(self, column: &str, key: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_extract({column}, '$.{key}')"),
            Dialect::Postgres => format!("(CAST({column} AS jsonb) ->> '{key}')"),
        }
    }

    /// Orders text by its bytes, as SQLite always does, whatever PostgreSQL's default
    /// collation is (so both backends list in one order).
    pub fn bytewise(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " COLLATE \"C\"",
        }
    }
}

/// The store the server holds: the shared SQL over one engine.
#[derive(Debug, Clone)]
pub struct SqlStore<B: Backend>(B);

impl<B: Backend> SqlStore<B> {
    pub fn new(backend: B) -> Self {
        Self(backend)
    }
}

/// The engine's own methods (its pool, say) stay reachable through the store.
impl<B: Backend> std::ops::Deref for SqlStore<B> {
    type Target = B;

    fn deref(&self) -> &B {
        &self.0
    }
}

/// What a database engine gives the shared SQL.
pub trait Backend: Send + Sync + 'static {
    const DIALECT: Dialect;
    /// The engine's name, for logs and metrics: `sqlite` or `postgres`.
    const NAME: &'static str;
    type Tx: Tx;
    type Reader: Exec;
    /// The engine's migrations (`migrations/` in its crate; the same numbers on both).
    const MIGRATOR: &'static sqlx::migrate::Migrator;

    /// Begins a write transaction (on SQLite, the one writer, taken up front).
    fn write(&self) -> impl Future<Output = StoreResult<Self::Tx>> + Send;

    /// Where reads run outside a transaction.
    fn reader(&self) -> Self::Reader;

    /// Begins a read-only transaction whose queries all see one snapshot, for a read of several
    /// queries whose figures are compared with each other (on PostgreSQL each query outside one
    /// sees its own). Ended with `rollback`.
    fn snapshot(&self) -> impl Future<Output = StoreResult<Self::Tx>> + Send;

    /// Applies pending migrations. Safe to run concurrently from several hub instances.
    fn migrate(&self) -> impl Future<Output = StoreResult<()>> + Send;

    /// Checks that the database answers.
    fn ping(&self) -> impl Future<Output = StoreResult<()>> + Send {
        async move {
            self.reader().execute(Sql::new("SELECT 1")).await?;
            Ok(())
        }
    }

    fn pool_stats(&self) -> PoolStats;

    /// The migration versions this build carries for the engine, ascending.
    fn known_migrations(&self) -> Vec<i64> {
        Self::MIGRATOR.iter().map(|m| m.version).collect()
    }

    /// How durable a commit is with the settings this engine runs under (checked at connect).
    fn durability(&self) -> Durability;

    /// `TransactionStore::apply_batch`, the engine's own: how a batch is worked out and
    /// written against concurrent writers is where the engines differ most.
    fn apply_batch<'a>(
        &'a self,
        call: BatchCall<'a>,
    ) -> impl Future<Output = StoreResult<Job>> + Send + 'a;

    /// Runs one write statement in a transaction of its own; says how many rows it changed.
    fn write_one(&self, q: Sql) -> impl Future<Output = StoreResult<u64>> + Send {
        async move {
            let mut tx = self.write().await?;
            let changed = tx.execute(q).await?;
            tx.commit().await?;
            Ok(changed)
        }
    }
}

#[async_trait::async_trait]
impl<B: Backend> Store for SqlStore<B> {
    fn backend(&self) -> &'static str {
        B::NAME
    }

    async fn migrate(&self) -> StoreResult<()> {
        self.0.migrate().await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.0.ping().await
    }

    fn pool_stats(&self) -> PoolStats {
        self.0.pool_stats()
    }

    fn durability(&self) -> Durability {
        self.0.durability()
    }
}
