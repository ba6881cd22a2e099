//! `StatusStore`: the hub-wide figures `bankfeeds status` prints. Plain reads, no locks.

use bankfeeds_domain::account::FeedStatus;
use bankfeeds_domain::console::FeedCounts;
use bankfeeds_store::{QueueStatus, StatusStore, StoreError, StoreResult};

use crate::{Backend, CountRow, DbInt, DbTime, Dialect, Exec, Sql, SqlStore};

#[derive(sqlx::FromRow)]
struct Version {
    version: DbInt,
}

#[derive(sqlx::FromRow)]
struct Counted {
    status: String,
    n: DbInt,
}

#[derive(sqlx::FromRow)]
struct Oldest {
    oldest: Option<DbTime>,
}

#[async_trait::async_trait]
impl<B: Backend> StatusStore for SqlStore<B> {
    fn known_migrations(&self) -> Vec<i64> {
        self.0.known_migrations()
    }

    async fn applied_migrations(&self) -> StoreResult<Vec<i64>> {
        // sqlx's own table; absent until the first migration ran.
        let exists = match B::DIALECT {
            Dialect::Sqlite => {
                "SELECT COUNT(*) AS n FROM sqlite_master
                 WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Dialect::Postgres => {
                "SELECT COUNT(*) AS n FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        };
        let mut db = self.0.reader();
        let found: CountRow = db.fetch_one(Sql::new(exists)).await?;
        if found.n.0 == 0 {
            return Ok(Vec::new());
        }
        let rows: Vec<Version> = db
            .fetch_all(Sql::new(
                "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
            ))
            .await?;
        Ok(rows.into_iter().map(|r| r.version.0).collect())
    }

    async fn queue_status(&self) -> StoreResult<QueueStatus> {
        let mut db = self.0.reader();
        let jobs: Vec<Counted> = db
            .fetch_all(Sql::new(
                "SELECT status, COUNT(*) AS n FROM jobs GROUP BY status ORDER BY status",
            ))
            .await?;
        let oldest: Oldest = db
            .fetch_one(Sql::new(
                "SELECT MIN(created_at) AS oldest FROM jobs
                 WHERE status IN ('prequeued', 'pending')",
            ))
            .await?;
        let deliveries_pending = crate::webhooks::pending_deliveries(&mut db).await?;
        let feeds: Vec<Counted> = db
            .fetch_all(Sql::new(
                "SELECT a.feed_status AS status, COUNT(*) AS n
                 FROM bank_feed_accounts a JOIN connections c ON c.id = a.connection_id
                 WHERE a.deleted_at IS NULL AND c.deleted_at IS NULL
                 GROUP BY a.feed_status",
            ))
            .await?;
        let mut counts = FeedCounts::default();
        for r in feeds {
            match bankfeeds_store::decode::account::feed_status(&r.status)? {
                FeedStatus::Active => counts.linked += r.n.count(),
                FeedStatus::Inactive => counts.pending += r.n.count(),
            }
        }
        Ok(QueueStatus {
            jobs_by_status: jobs.into_iter().map(|r| (r.status, r.n.count())).collect(),
            oldest_unfinished_job: oldest.oldest.map(|t| t.0),
            deliveries_pending,
            feeds: counts,
        })
    }

    async fn backup_into(&self, path: &str) -> StoreResult<()> {
        match B::DIALECT {
            // A reader sees one snapshot (WAL), so the copy is consistent while writes go on.
            Dialect::Sqlite => {
                self.0
                    .reader()
                    .execute(Sql::new("VACUUM INTO $1").bind(path))
                    .await?;
                Ok(())
            }
            Dialect::Postgres => Err(StoreError::Invalid {
                code: "BACKUP_UNSUPPORTED",
                message: "back PostgreSQL up with pg_dump".into(),
            }),
        }
    }
}
