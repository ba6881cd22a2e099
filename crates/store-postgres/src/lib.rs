//! PostgreSQL storage: for deployments where one machine is not enough. Several hub instances
//! share one database; everything they need to agree on lives in it.

mod accounts;
mod connections;
mod credentials;
mod customers;
mod db;
mod error;
mod events;
mod fi_configs;
mod idempotency;
mod jobs;
mod link;
mod orgs;
mod otps;
mod platform_feeds;
mod transactions;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use bankfeeds_store::{PoolStats, Store, StoreError, StoreResult};
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
}
