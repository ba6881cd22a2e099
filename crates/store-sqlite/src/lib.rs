//! SQLite storage: the zero-setup default.
//!
//! WAL mode with one writer connection and a pool of readers: SQLite allows one writer at a time
//! anyway, and serialising writes in the pool (rather than letting them collide on the file lock)
//! means no `SQLITE_BUSY` under load. Every write transaction starts with `BEGIN IMMEDIATE` so it
//! takes the write lock up front instead of failing to upgrade half-way.
//!
//! Durability: `synchronous=FULL` by default, so the WAL is fsynced at every commit and a batch
//! the hub acknowledged survives a power cut. `NORMAL` (synced only at checkpoints) survives a
//! process crash but not an OS crash; it is there for operators who choose speed, explicitly.

#[cfg(test)]
mod idle_tests;
mod time;
mod transactions;

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bankfeeds_domain::Job;
use bankfeeds_store::{BatchCall, Durability, PoolStats, StoreError, StoreResult};
use bankfeeds_store_sql::Dialect;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};

pub use bankfeeds_store_sql::map_err;
use bankfeeds_store_sql::{accounts, events, jobs};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The store on SQLite: the shared SQL over this engine.
pub type SqliteStore = bankfeeds_store_sql::SqlStore<SqliteDb>;

#[derive(Debug, Clone)]
pub struct SqliteDb {
    writer: SqlitePool,
    reader: SqlitePool,
    max_readers: u32,
    /// The checkpointer: its own connection, and whether it is busy.
    checkpointer: Arc<Checkpointer>,
    synchronous: Synchronous,
}

/// SQLite's `synchronous` setting for the connections that write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// The WAL is synced at every commit: an acknowledged commit survives a power cut.
    #[default]
    Full,
    /// The WAL is synced only at checkpoints: survives a process crash, but an OS crash or a
    /// power cut can roll back commits that were already acknowledged.
    Normal,
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

impl SqliteDb {
    /// Opens (creating if missing) the database at a `sqlite://path` URL, fully durable. Does
    /// not migrate.
    pub async fn connect(url: &str) -> StoreResult<SqliteStore> {
        Self::open(url, Synchronous::Full).await
    }

    /// Opens the database with the given `synchronous` setting on every connection.
    pub async fn open(url: &str, synchronous: Synchronous) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(map_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match synchronous {
                Synchronous::Full => SqliteSynchronous::Full,
                Synchronous::Normal => SqliteSynchronous::Normal,
            })
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
        Ok(SqliteStore::new(Self {
            writer,
            reader,
            max_readers,
            checkpointer,
            synchronous,
        }))
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

impl bankfeeds_store_sql::Backend for SqliteDb {
    const NAME: &'static str = "sqlite";
    const MIGRATOR: &'static sqlx::migrate::Migrator = &MIGRATIONS;
    const DIALECT: Dialect = Dialect::Sqlite;
    type Tx = sqlx::Transaction<'static, Sqlite>;
    type Reader = SqlitePool;

    fn write(&self) -> impl std::future::Future<Output = StoreResult<Self::Tx>> + Send {
        self.write_tx()
    }

    fn reader(&self) -> SqlitePool {
        self.reader.clone()
    }

    /// A deferred transaction on a reader: in WAL mode its first read fixes the snapshot every
    /// later one sees, and it never blocks the writer.
    async fn snapshot(&self) -> StoreResult<Self::Tx> {
        self.reader.begin().await.map_err(map_err)
    }

    async fn migrate(&self) -> StoreResult<()> {
        Self::MIGRATOR
            .run(&self.writer)
            .await
            .map_err(|e| StoreError::Backend(Box::new(e)))
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            connections: self.writer.size() + self.reader.size(),
            idle: (self.writer.num_idle() + self.reader.num_idle()) as u32,
            max: 1 + self.max_readers,
        }
    }

    fn durability(&self) -> Durability {
        match self.synchronous {
            Synchronous::Full => Durability::Full,
            Synchronous::Normal => Durability::Reduced(
                "SQLite runs with synchronous=NORMAL (BANKFEEDS_SQLITE_SYNCHRONOUS=normal): \
                 acknowledged writes may be lost if the operating system crashes or the power fails"
                    .into(),
            ),
        }
    }

    fn apply_batch<'a>(
        &'a self,
        call: BatchCall<'a>,
    ) -> impl std::future::Future<Output = StoreResult<Job>> + Send + 'a {
        transactions::apply_batch(self, call)
    }
}
