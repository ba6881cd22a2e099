//! Transactions: listing, reading and marking them ingested. Applying a batch is each
//! backend's own (`TransactionStore::apply_batch`): SQLite works a batch out on a reader before
//! it takes its one writer, PostgreSQL locks the job and the account; both ask the domain
//! (`decide_batch`) and write in one transaction.

mod rows;

use bankfeeds_domain::console::DayCount;
use bankfeeds_domain::job::JobIngestion;
use bankfeeds_domain::transaction::{Transaction, TransactionQuery};
use bankfeeds_domain::{
    BankFeedAccountId, ConnectionId, Job, JobId, OrgId, Page, Timestamp, TransactionId,
};
use bankfeeds_store::{BatchCall, StoreResult, TransactionStore};

pub use rows::{TransactionRow, COLUMNS};

use crate::accounts::{instant, Instant};
use crate::{Arg, Backend, DbInt, DbTime, Exec, Sql, SqlStore, Tx};

#[derive(sqlx::FromRow)]
struct Ingestion {
    stored: DbInt,
    ingested: DbInt,
    last: Option<DbTime>,
}

/// Marks every not-yet-ingested transaction of the account ingested and moves its
/// `last_synced_at`, inside the caller's transaction; says how many were marked. The account
/// row first: it locks the account, so a batch being applied to it either commits before (and
/// its transactions are marked) or waits until this commits.
pub async fn mark_ingested_in(
    tx: &mut impl Exec,
    account: BankFeedAccountId,
    now: Timestamp,
) -> StoreResult<u64> {
    touch_synced(tx, account, now).await?;
    tx.execute(
        Sql::new(
            "UPDATE transactions SET platform_ingested = TRUE, ingested_at = $1
             WHERE account_id = $2 AND NOT platform_ingested",
        )
        .bind(now)
        .bind(account.as_uuid()),
    )
    .await
}

/// Moves the account's `last_synced_at`: the platform looked at the feed, new rows or not.
pub async fn touch_synced(
    tx: &mut impl Exec,
    account: BankFeedAccountId,
    now: Timestamp,
) -> StoreResult<()> {
    tx.execute(
        Sql::new("UPDATE bank_feed_accounts SET last_synced_at = $1 WHERE id = $2")
            .bind(now)
            .bind(account.as_uuid()),
    )
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl<B: Backend> TransactionStore for SqlStore<B> {
    /// The engine's own (see the module docs).
    async fn apply_batch(&self, call: BatchCall<'_>) -> StoreResult<Job> {
        self.0.apply_batch(call).await
    }

    async fn list_transactions(
        &self,
        connection: ConnectionId,
        q: &TransactionQuery,
    ) -> StoreResult<Page<Transaction>> {
        let db = &self.0;
        let mut sql = format!("SELECT {COLUMNS} FROM transactions WHERE connection_id = $1");
        let mut args: Vec<Arg> = vec![connection.as_uuid().into()];
        let mut and = |clause: &str, arg: Arg| {
            args.push(arg);
            sql.push_str(&format!(" AND {clause} ${}", args.len()));
        };
        if let Some(a) = q.bank_feed_account_id {
            and("account_id =", a.as_uuid().into());
        }
        // An instant outside what the columns hold cannot be bound; every stored value is inside,
        // so the filter keeps all rows or none.
        if let Some(t) = q.posted_at_min {
            match instant(t.timestamp_micros()) {
                Instant::At(t) => and("posted_at >=", t.into()),
                Instant::BeforeAll => {}
                Instant::AfterAll => return Ok(Page::empty()),
            }
        }
        if let Some(t) = q.posted_at_max {
            match instant(t.timestamp_micros()) {
                Instant::At(t) => and("posted_at <=", t.into()),
                Instant::BeforeAll => return Ok(Page::empty()),
                Instant::AfterAll => {}
            }
        }
        if let Some(i) = q.platform_ingested {
            and("platform_ingested =", i.into());
        }
        if let Some(after) = q.after {
            and("id >", after.as_uuid().into());
        }
        args.push((i64::from(q.limit) + 1).into());
        sql.push_str(&format!(" ORDER BY id LIMIT ${}", args.len()));
        let mut query = Sql::new(sql);
        for arg in args {
            query.push(arg);
        }
        db.reader().page::<TransactionRow, _>(query, q.limit).await
    }

    async fn get_transaction(
        &self,
        connection: ConnectionId,
        id: TransactionId,
    ) -> StoreResult<Option<Transaction>> {
        let db = &self.0;
        let sql =
            format!("SELECT {COLUMNS} FROM transactions WHERE connection_id = $1 AND id = $2");
        db.reader()
            .optional::<TransactionRow, _>(
                Sql::new(sql).bind(connection.as_uuid()).bind(id.as_uuid()),
            )
            .await
    }

    /// The platform side took every stored transaction of the account.
    async fn mark_ingested(&self, account: BankFeedAccountId, now: Timestamp) -> StoreResult<u64> {
        let db = &self.0;
        let mut tx = db.write().await?;
        let marked = mark_ingested_in(&mut tx, account, now).await?;
        tx.commit().await?;
        Ok(marked)
    }

    /// How much of a job's batch the platform side has taken.
    async fn job_ingestion(&self, job: JobId) -> StoreResult<JobIngestion> {
        let db = &self.0;
        let found: Ingestion = db
            .reader()
            .fetch_one(
                Sql::new(
                    "SELECT COUNT(*) AS stored,
                     COUNT(*) FILTER (WHERE platform_ingested) AS ingested,
                     MAX(ingested_at) AS last
                 FROM transactions WHERE job_id = $1",
                )
                .bind(job.as_uuid()),
            )
            .await?;
        Ok(JobIngestion {
            stored: u64::try_from(found.stored.0).unwrap_or_default(),
            ingested: u64::try_from(found.ingested.0).unwrap_or_default(),
            last_ingested_at: found.last.map(|t| t.0),
        })
    }

    async fn daily_counts(&self, org: OrgId, since: Timestamp) -> StoreResult<Vec<DayCount>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            day: DbInt,
            pushed: DbInt,
            ingested: DbInt,
        }
        let d = B::DIALECT;
        let sql = format!(
            "SELECT day, SUM(pushed) AS pushed, SUM(ingested) AS ingested FROM (
                 SELECT {created} AS day, 1 AS pushed, 0 AS ingested FROM transactions
                 WHERE org_id = $1 AND created_at >= $2
                 UNION ALL
                 SELECT {ingested} AS day, 0 AS pushed, 1 AS ingested FROM transactions
                 WHERE org_id = $1 AND ingested_at >= $2
             ) t GROUP BY day ORDER BY day",
            created = d.epoch_day("created_at"),
            ingested = d.epoch_day("ingested_at"),
        );
        let rows: Vec<Row> = self
            .0
            .reader()
            .fetch_all(Sql::new(sql).bind(org.as_uuid()).bind(since))
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(DayCount {
                    day: bankfeeds_domain::console::day_from_epoch_days(r.day.0).ok_or_else(
                        || bankfeeds_store::decode::corrupt("transactions.created_at"),
                    )?,
                    pushed: r.pushed.count(),
                    ingested: r.ingested.count(),
                })
            })
            .collect()
    }
}
