//! Transactions on SQLite: a batch is applied in one write transaction, together with the
//! account's new balance, the outbox event and the job's outcome; it is worked out beforehand
//! on a reader (see `apply_batch`).

use async_trait::async_trait;

use std::collections::HashMap;

use bankfeeds_domain::batch::{
    decide_batch, fresh, BatchFacts, BatchItem, BatchRefusal, BatchRequest,
};
use bankfeeds_domain::job::{JobIngestion, RawJson};
use bankfeeds_domain::profile::PlatformProfile;
use bankfeeds_domain::transaction::{Transaction, TransactionQuery};
use bankfeeds_domain::{
    BankFeedAccount, BankFeedAccountId, ConnectionId, Job, JobId, Page, Timestamp, TransactionId,
};
use bankfeeds_store::{BatchRender, NewEvent, StoreResult};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::{body, db, events, jobs, map_err, time, SqliteStore};

mod rows;

pub(crate) use rows::{insert, stored_by_transaction_id, TransactionRow, COLUMNS};

/// What a batch does, worked out from one view of the store: its account (with that account's
/// `version`, see migration 0011) and the outcome, before anything is written.
struct Plan {
    account: Option<(BankFeedAccount, i64)>,
    newest_posted_at: Option<Timestamp>,
    outcome: Result<Vec<BatchItem>, BatchRefusal>,
}

/// Checks the batch against what is stored and the platform's rules. Only reads, so it runs on
/// a reader's snapshot as well as inside the write transaction.
async fn plan(
    conn: &mut SqliteConnection,
    connection: ConnectionId,
    batch: &BatchRequest,
    profile: &PlatformProfile,
    now: Timestamp,
) -> StoreResult<Plan> {
    let found = crate::accounts::find_live(
        conn,
        connection,
        "id",
        batch.bank_feed_account_id.to_string(),
    )
    .await?;
    let Some(account): Option<BankFeedAccount> = found else {
        let none = HashMap::new();
        let facts = BatchFacts {
            account: None,
            newest_posted_at: None,
            stored: &none,
        };
        return Ok(Plan {
            account: None,
            newest_posted_at: None,
            outcome: decide_batch(facts, batch, profile, now),
        });
    };
    let (newest, version): (Option<i64>, i64) =
        sqlx::query_as("SELECT newest_posted_at, version FROM bank_feed_accounts WHERE id = ?")
            .bind(account.id.to_string())
            .fetch_one(&mut *conn)
            .await
            .map_err(map_err)?;
    let newest_posted_at = time::opt_from_db(newest)?;
    let stored = stored_by_transaction_id(conn, account.id, &batch.transactions).await?;
    let facts = BatchFacts {
        account: Some(&account),
        newest_posted_at,
        stored: &stored,
    };
    let outcome = decide_batch(facts, batch, profile, now);
    Ok(Plan {
        account: Some((account, version)),
        newest_posted_at,
        outcome,
    })
}

/// Writes what an accepted plan adds: the new rows, the account's newest posting date and
/// balance, and the event.
async fn write(
    tx: &mut SqliteConnection,
    job: &Job,
    batch: &BatchRequest,
    plan: &Plan,
    now: Timestamp,
) -> StoreResult<()> {
    let (Ok(items), Some((account, _))) = (&plan.outcome, &plan.account) else {
        return Ok(());
    };
    let fresh = fresh(items);
    if fresh.is_empty() && batch.current_balance.is_none() {
        // A pure re-send: nothing to write.
        return Ok(());
    }
    insert(tx, account, &fresh, job.id).await?;
    let newest_after = fresh
        .iter()
        .map(|t| t.data.posted_at)
        .chain(plan.newest_posted_at)
        .max();
    sqlx::query(
        "UPDATE bank_feed_accounts
         SET newest_posted_at = ?, current_balance = COALESCE(?, current_balance), updated_at = ?
         WHERE id = ?",
    )
    .bind(newest_after.map(time::to_db))
    .bind(batch.current_balance.map(|b| b.to_string()))
    .bind(time::to_db(now))
    .bind(account.id.to_string())
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    let created = fresh.len();
    let event = NewEvent::transactions_created(account, job.id, created, items.len() - created);
    events::append(tx, &event, now).await
}

/// A batch worked out before taking the write lock: its job as it stood, its plan and its
/// rendered (and packed) answer.
struct Prepared {
    job: Job,
    plan: Plan,
    status: u16,
    body: RawJson,
    packed: body::Stored<'static>,
}

/// Works the batch out on a reader's snapshot, while other batches hold the write lock: the
/// job, the lookups, the checks, the new rows and the answer. `None` when the job is finished
/// or unknown (the write transaction then answers as it always has).
async fn prepare(
    store: &SqliteStore,
    job_id: JobId,
    batch: &BatchRequest,
    profile: &PlatformProfile,
    now: Timestamp,
    render: BatchRender<'_>,
) -> StoreResult<Option<Prepared>> {
    let (job, plan) = {
        let mut conn = store.reader.acquire().await.map_err(map_err)?;
        // One read transaction: the account's version and its rows come from one snapshot.
        let mut snapshot = sqlx::Connection::begin(&mut *conn).await.map_err(map_err)?;
        let Some(job) = jobs::find(&mut snapshot, job_id).await? else {
            return Ok(None);
        };
        if job.status.is_finished() {
            return Ok(None);
        }
        let plan = plan(&mut snapshot, job.connection_id, batch, profile, now).await?;
        snapshot.rollback().await.map_err(map_err)?;
        (job, plan)
    };
    let (status, body) = render(&plan.outcome);
    let packed = body::pack(body.as_str()).into_owned();
    Ok(Some(Prepared {
        job,
        plan,
        status,
        body,
        packed,
    }))
}

/// The version of the connection's live account, inside the write transaction (`None` when
/// there is no such account).
async fn version_now(
    tx: &mut SqliteConnection,
    connection: ConnectionId,
    account: BankFeedAccountId,
) -> StoreResult<Option<i64>> {
    sqlx::query_scalar(
        "SELECT version FROM bank_feed_accounts
         WHERE connection_id = ? AND id = ? AND deleted_at IS NULL",
    )
    .bind(connection.to_string())
    .bind(account.to_string())
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_err)
}

/// The write transaction of `apply_batch`.
async fn commit(
    store: &SqliteStore,
    job_id: JobId,
    prepared: Option<Prepared>,
    batch: &BatchRequest,
    profile: &PlatformProfile,
    now: Timestamp,
    render: BatchRender<'_>,
) -> StoreResult<Job> {
    let mut tx = store.write_tx().await?;
    let (status, attempts) = jobs::state(&mut tx, job_id).await?;
    if status.is_finished() {
        // Delivery is at least once: a job run twice answers with its first outcome.
        return jobs::load(&mut tx, job_id).await;
    }
    // The prepared batch stands if its account is as it was (or is still not found).
    let prepared = match prepared {
        Some(p) => {
            let now_version =
                version_now(&mut tx, p.job.connection_id, batch.bank_feed_account_id).await?;
            (now_version == p.plan.account.as_ref().map(|(_, v)| *v)).then_some(p)
        }
        None => None,
    };
    // Every reason to refuse is found before the first write, so a refused batch has written
    // nothing and only the job's outcome is recorded.
    let job = match prepared {
        Some(p) => {
            // The job as prepared, with what claiming it again since may have changed.
            let job = Job {
                status,
                attempts,
                ..p.job
            };
            write(&mut tx, &job, batch, &p.plan, now).await?;
            jobs::finish_packed(&mut tx, &job, p.status, &p.body, p.packed, now).await?
        }
        None => {
            let job = jobs::load(&mut tx, job_id).await?;
            let plan = plan(&mut tx, job.connection_id, batch, profile, now).await?;
            write(&mut tx, &job, batch, &plan, now).await?;
            let (status, body) = render(&plan.outcome);
            jobs::finish(&mut tx, &job, status, &body, now).await?
        }
    };
    tx.commit().await.map_err(map_err)?;
    store.checkpoint_soon().await;
    Ok(job)
}

/// Marks every not-yet-ingested transaction of the account ingested and moves its
/// `last_synced_at`, inside the caller's write transaction; says how many were marked.
pub(crate) async fn mark_ingested_in(
    tx: &mut SqliteConnection,
    account: BankFeedAccountId,
    now: Timestamp,
) -> StoreResult<u64> {
    let marked = db::execute(
        sqlx::query(
            "UPDATE transactions SET platform_ingested = 1, ingested_at = ?
             WHERE account_id = ? AND platform_ingested = 0",
        )
        .bind(time::to_db(now))
        .bind(account.to_string()),
        &mut *tx,
    )
    .await?;
    db::execute(
        sqlx::query("UPDATE bank_feed_accounts SET last_synced_at = ? WHERE id = ?")
            .bind(time::to_db(now))
            .bind(account.to_string()),
        &mut *tx,
    )
    .await?;
    Ok(marked)
}

#[async_trait]
impl bankfeeds_store::TransactionStore for SqliteStore {
    /// Applies a batch and records the job's outcome, in one write transaction.
    ///
    /// SQLite has one writer, so whatever a batch does while holding it, every other batch waits
    /// for. The batch is therefore worked out first on a reader (`prepare`), and the write
    /// transaction only checks that the job is still unfinished and its account unchanged since
    /// (its `version`), then writes. If the account changed, the batch is worked out again under
    /// the lock: the outcome is always the one the store's state at commit gives.
    async fn apply_batch(
        &self,
        job_id: JobId,
        batch: &BatchRequest,
        profile: &PlatformProfile,
        now: Timestamp,
        render: BatchRender<'_>,
    ) -> StoreResult<Job> {
        let prepared = prepare(self, job_id, batch, profile, now, render).await?;
        commit(self, job_id, prepared, batch, profile, now, render).await
    }

    async fn list_transactions(
        &self,
        connection: ConnectionId,
        q: &TransactionQuery,
    ) -> StoreResult<Page<Transaction>> {
        let mut b = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {COLUMNS} FROM transactions WHERE connection_id = "
        ));
        b.push_bind(connection.to_string());
        if let Some(a) = q.bank_feed_account_id {
            b.push(" AND account_id = ").push_bind(a.to_string());
        }
        if let Some(t) = q.posted_at_min {
            b.push(" AND posted_at >= ").push_bind(time::to_db(t));
        }
        if let Some(t) = q.posted_at_max {
            b.push(" AND posted_at <= ").push_bind(time::to_db(t));
        }
        if let Some(i) = q.platform_ingested {
            b.push(" AND platform_ingested = ").push_bind(i);
        }
        if let Some(after) = q.after {
            b.push(" AND id > ").push_bind(after.to_string());
        }
        b.push(" ORDER BY id LIMIT ")
            .push_bind(i64::from(q.limit) + 1);
        db::page(b.build_query_as::<TransactionRow>(), &self.reader, q.limit).await
    }

    async fn get_transaction(
        &self,
        connection: ConnectionId,
        id: TransactionId,
    ) -> StoreResult<Option<Transaction>> {
        let sql = format!("SELECT {COLUMNS} FROM transactions WHERE connection_id = ? AND id = ?");
        let query = sqlx::query_as::<_, TransactionRow>(&sql)
            .bind(connection.to_string())
            .bind(id.to_string());
        db::optional(query, &self.reader).await
    }

    /// The platform side took every stored transaction of the account: mark them ingested and
    /// move the account's `last_synced_at`.
    async fn mark_ingested(&self, account: BankFeedAccountId, now: Timestamp) -> StoreResult<u64> {
        let mut tx = self.write_tx().await?;
        let marked = mark_ingested_in(&mut tx, account, now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(marked)
    }

    async fn job_ingestion(&self, job: JobId) -> StoreResult<JobIngestion> {
        let (stored, ingested, last): (i64, i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(platform_ingested), 0), MAX(ingested_at)
             FROM transactions WHERE job_id = ?",
        )
        .bind(job.to_string())
        .fetch_one(&self.reader)
        .await
        .map_err(map_err)?;
        Ok(JobIngestion {
            stored: u64::try_from(stored).unwrap_or_default(),
            ingested: u64::try_from(ingested).unwrap_or_default(),
            last_ingested_at: last.map(time::from_db).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests;
