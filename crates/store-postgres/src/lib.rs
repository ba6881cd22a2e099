//! PostgreSQL storage: for deployments where one machine is not enough. Several hub instances
//! share one database; everything they need to agree on lives in it.
//!
//! Durability is PostgreSQL's to give: the hub never turns `synchronous_commit` off, and at
//! connect it refuses a server or session that has `fsync`, `synchronous_commit` or
//! `full_page_writes` off, unless the operator allows it explicitly.

mod transactions;

use std::str::FromStr;
use std::time::Duration;

use bankfeeds_domain::Job;
use bankfeeds_store::{BatchCall, Durability, PoolStats, StoreError, StoreResult};
use bankfeeds_store_sql::Dialect;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

pub use bankfeeds_store_sql::map_err;
use bankfeeds_store_sql::{accounts, events, jobs};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The store on PostgreSQL: the shared SQL over this engine.
pub type PostgresStore = bankfeeds_store_sql::SqlStore<PostgresDb>;

#[derive(Debug, Clone)]
pub struct PostgresDb {
    pool: PgPool,
    max_connections: u32,
    durability: Durability,
}

/// What to do when the server's settings can lose acknowledged commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnsafeSettings {
    /// Refuse to start, and say which setting and why.
    #[default]
    Refuse,
    /// Start anyway, reporting reduced durability (logged and shown by `/readyz`).
    Allow,
}

/// The settings a commit's durability depends on, and the values that make it unsafe.
const DURABILITY_SETTINGS: &str = "SELECT name, setting FROM pg_settings
     WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes') ORDER BY name";

/// The unsafe settings among `(name, value)` pairs, as a sentence per setting.
fn unsafe_settings(settings: &[(String, String)]) -> Vec<String> {
    settings
        .iter()
        .filter(|(_, value)| value == "off")
        .map(|(name, _)| match name.as_str() {
            "fsync" => "fsync is off: the server does not flush its writes to disk".to_owned(),
            "synchronous_commit" => {
                "synchronous_commit is off: a commit returns before its WAL is on disk".to_owned()
            }
            "full_page_writes" => {
                "full_page_writes is off: a crash mid-write can corrupt pages".to_owned()
            }
            other => format!("{other} is off"),
        })
        .collect()
}

impl PostgresDb {
    /// Connects to a `postgres://` URL, refusing settings that can lose acknowledged commits.
    /// Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<PostgresStore> {
        Self::open(url, max_connections, UnsafeSettings::Refuse).await
    }

    /// Connects, checking the durability settings the hub's sessions get (server, database,
    /// role and URL `options` all count) and acting on unsafe ones as `on_unsafe` says.
    pub async fn open(
        url: &str,
        max_connections: u32,
        on_unsafe: UnsafeSettings,
    ) -> StoreResult<PostgresStore> {
        let options = PgConnectOptions::from_str(url)
            .map_err(map_err)?
            .application_name("bankfeeds");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(map_err)?;
        let settings: Vec<(String, String)> = sqlx::query_as(DURABILITY_SETTINGS)
            .fetch_all(&pool)
            .await
            .map_err(map_err)?;
        let problems = unsafe_settings(&settings);
        let durability = if problems.is_empty() {
            Durability::Full
        } else if on_unsafe == UnsafeSettings::Allow {
            Durability::Reduced(format!(
                "PostgreSQL settings allowed by BANKFEEDS_POSTGRES_ALLOW_UNSAFE_SETTINGS: {}; \
                 acknowledged writes may be lost if the server crashes or the power fails",
                problems.join("; ")
            ))
        } else {
            pool.close().await;
            return Err(StoreError::Invalid {
                code: "UNSAFE_DATABASE_SETTINGS",
                message: format!(
                    "refusing to start: {}. A batch the hub acknowledges could be lost, and the \
                     FI would never send it again. Turn the setting on, or set \
                     BANKFEEDS_POSTGRES_ALLOW_UNSAFE_SETTINGS=true to accept the risk",
                    problems.join("; ")
                ),
            });
        };
        Ok(PostgresStore::new(Self {
            pool,
            max_connections,
            durability,
        }))
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl bankfeeds_store_sql::Backend for PostgresDb {
    const NAME: &'static str = "postgres";
    const MIGRATOR: &'static sqlx::migrate::Migrator = &MIGRATIONS;
    const DIALECT: Dialect = Dialect::Postgres;
    type Tx = sqlx::Transaction<'static, sqlx::Postgres>;
    type Reader = PgPool;

    async fn write(&self) -> StoreResult<Self::Tx> {
        self.pool.begin().await.map_err(map_err)
    }

    fn reader(&self) -> PgPool {
        self.pool.clone()
    }

    async fn snapshot(&self) -> StoreResult<Self::Tx> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        Ok(tx)
    }

    async fn migrate(&self) -> StoreResult<()> {
        // sqlx holds an advisory lock while migrating, so instances starting together take turns.
        Self::MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Backend(Box::new(e)))
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            connections: self.pool.size(),
            idle: self.pool.num_idle() as u32,
            max: self.max_connections,
        }
    }

    fn durability(&self) -> Durability {
        self.durability.clone()
    }

    fn apply_batch<'a>(
        &'a self,
        call: BatchCall<'a>,
    ) -> impl std::future::Future<Output = StoreResult<Job>> + Send + 'a {
        transactions::apply_batch(self, call)
    }
}

#[cfg(test)]
mod tests {
    use super::unsafe_settings;

    fn settings(fsync: &str, commit: &str, pages: &str) -> Vec<(String, String)> {
        [
            ("fsync", fsync),
            ("full_page_writes", pages),
            ("synchronous_commit", commit),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn only_off_values_are_unsafe() {
        for commit in ["on", "local", "remote_write", "remote_apply"] {
            assert!(
                unsafe_settings(&settings("on", commit, "on")).is_empty(),
                "{commit}"
            );
        }
        let found = unsafe_settings(&settings("off", "off", "off"));
        assert_eq!(found.len(), 3);
        assert!(found[0].starts_with("fsync is off"));
        assert!(found[1].starts_with("full_page_writes is off"));
        assert!(found[2].starts_with("synchronous_commit is off"));
    }
}
