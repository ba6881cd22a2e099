//! Transactions on SQLite: a batch is applied in one write transaction, together with the
//! account's new balance, the outbox event and the job's outcome; it is worked out beforehand
//! on a reader (see `apply_batch`).

use std::collections::HashMap;

use bankfeeds_domain::batch::{
    decide_batch, fresh, is_pure_resend, BatchFacts, BatchItem, BatchRefusal, BatchRequest,
    Decision,
};
use bankfeeds_domain::continuity::{Ledger, Step};
use bankfeeds_domain::job::RawJson;
use bankfeeds_domain::profile::PlatformProfile;
use bankfeeds_domain::{
    BankFeedAccount, BankFeedAccountId, ConnectionId, Currency, Job, Timestamp,
};
use bankfeeds_store::{BatchCall, NewEvent, StoreResult};
use sqlx::SqliteConnection;

use crate::{events, jobs, map_err, time, SqliteDb};
use bankfeeds_store_sql::continuity::{load_ledger, write_step};

mod rows;

use rows::{insert, stored_by_transaction_id};

/// What a batch does, worked out from one view of the store: its account (with that account's
/// `version`, see migration 0011) and the outcome, before anything is written.
struct Plan {
    account: Option<(BankFeedAccount, i64)>,
    newest_posted_at: Option<Timestamp>,
    /// The account's balance continuity before the batch, and what the batch does to it.
    ledger: Ledger,
    balance: Option<Step>,
    outcome: Result<Vec<BatchItem>, BatchRefusal>,
}

impl Plan {
    /// The currency of the account the batch was worked out against, for its answer.
    fn currency(&self) -> Option<Currency> {
        self.account.as_ref().map(|(a, _)| a.currency)
    }
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
    let found = crate::accounts::find_live::<SqliteDb>(
        conn,
        connection,
        crate::accounts::Key::Id(batch.bank_feed_account_id),
        false,
    )
    .await?;
    let Some(account): Option<BankFeedAccount> = found else {
        let none = HashMap::new();
        let facts = BatchFacts {
            account: None,
            newest_posted_at: None,
            stored: &none,
            ledger: Ledger::default(),
        };
        let (outcome, balance) = Decision::split(decide_batch(facts, batch, profile, now));
        return Ok(Plan {
            account: None,
            newest_posted_at: None,
            ledger: Ledger::default(),
            balance,
            outcome,
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
    let ledger = load_ledger(conn, account.id).await?;
    let facts = BatchFacts {
        account: Some(&account),
        newest_posted_at,
        stored: &stored,
        ledger,
    };
    let (outcome, balance) = Decision::split(decide_batch(facts, batch, profile, now));
    Ok(Plan {
        account: Some((account, version)),
        newest_posted_at,
        ledger,
        balance,
        outcome,
    })
}

/// Writes what an accepted plan adds: the new rows, the account's newest posting date and
/// balance, its balance continuity, and the events.
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
    if is_pure_resend(items) {
        return Ok(());
    }
    let fresh = fresh(items);
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
    if let Some(step) = &plan.balance {
        write_step(tx, account, job.id, plan.ledger, step, newest_after, now).await?;
    }
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
    packed: bankfeeds_store_sql::Arg,
}

/// Works the batch out on a reader's snapshot, while other batches hold the write lock: the
/// job, the lookups, the checks, the new rows and the answer. `None` when the job is finished
/// or unknown (the write transaction then answers as it always has).
async fn prepare(store: &SqliteDb, call: BatchCall<'_>) -> StoreResult<Option<Prepared>> {
    let BatchCall {
        job: job_id,
        batch,
        profile,
        now,
        render,
    } = call;
    let (job, plan) = {
        let mut conn = store.reader.acquire().await.map_err(map_err)?;
        // One read transaction: the account's version and its rows come from one snapshot.
        let mut snapshot = sqlx::Connection::begin(&mut *conn).await.map_err(map_err)?;
        let Some(job) = jobs::find::<SqliteDb>(&mut snapshot, job_id).await? else {
            return Ok(None);
        };
        if job.status.is_finished() {
            return Ok(None);
        }
        let plan = plan(&mut snapshot, job.connection_id, batch, profile, now).await?;
        snapshot.rollback().await.map_err(map_err)?;
        (job, plan)
    };
    let (status, body) = render(plan.currency(), &plan.outcome);
    let packed = jobs::body::pack(body.as_str());
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
    store: &SqliteDb,
    prepared: Option<Prepared>,
    call: BatchCall<'_>,
) -> StoreResult<Job> {
    let BatchCall {
        job: job_id,
        batch,
        profile,
        now,
        render,
    } = call;
    let mut tx = store.write_tx().await?;
    let (status, attempts) = jobs::state(&mut tx, job_id).await?;
    if status.is_finished() {
        // Delivery is at least once: a job run twice answers with its first outcome.
        return jobs::load::<SqliteDb>(&mut tx, job_id).await;
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
            jobs::finish_stored(&mut tx, &job, p.status, &p.body, p.packed, now).await?
        }
        None => {
            let job = jobs::load::<SqliteDb>(&mut tx, job_id).await?;
            let plan = plan(&mut tx, job.connection_id, batch, profile, now).await?;
            write(&mut tx, &job, batch, &plan, now).await?;
            let (status, body) = render(plan.currency(), &plan.outcome);
            jobs::finish::<SqliteDb>(&mut tx, &job, status, &body, now).await?
        }
    };
    tx.commit().await.map_err(map_err)?;
    store.checkpoint_soon().await;
    Ok(job)
}

/// Applies a batch and records the job's outcome, in one write transaction.
///
/// SQLite has one writer, so whatever a batch does while holding it, every other batch waits
/// for. The batch is therefore worked out first on a reader (`prepare`), and the write
/// transaction only checks that the job is still unfinished and its account unchanged since
/// (its `version`), then writes. If the account changed, the batch is worked out again under
/// the lock: the outcome is always the one the store's state at commit gives.
pub(crate) async fn apply_batch(store: &SqliteDb, call: BatchCall<'_>) -> StoreResult<Job> {
    let prepared = prepare(store, call).await?;
    commit(store, prepared, call).await
}

#[cfg(test)]
mod tests;
