//! Transactions on SQLite: a batch is checked and applied in one write transaction, together
//! with the account's new balance, the outbox event and the job's outcome.

use std::collections::HashMap;

use bankfeeds_domain::batch::{validate_batch, AccountContext};
use bankfeeds_domain::profile::PlatformProfile;
use bankfeeds_domain::transaction::{
    assemble, classify, fresh, BatchItem, BatchRefusal, BatchRequest, DebitCreditMemo, Transaction,
    TransactionData, TransactionQuery, TransactionType,
};
use bankfeeds_domain::{
    Amount, BankFeedAccount, BankFeedAccountId, ConnectionId, Job, JobId, Page, Timestamp,
    TransactionId,
};
use bankfeeds_store::{BatchRender, StoreError, StoreResult};
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use crate::{events, jobs, map_err, time, SqliteStore};

#[derive(FromRow)]
pub(crate) struct TransactionRow {
    id: String,
    org_id: String,
    connection_id: String,
    account_id: String,
    transaction_id: String,
    posted_at: i64,
    transaction_date: Option<i64>,
    amount: String,
    description: Option<String>,
    memo: Option<String>,
    payee: Option<String>,
    transaction_type: Option<String>,
    debit_credit_memo: Option<String>,
    interest_amount: Option<String>,
    principal_amount: Option<String>,
    platform_ingested: bool,
    ingested_at: Option<i64>,
    created_at: i64,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt transactions row: {what}").into())
}

fn amount(s: Option<String>, what: &str) -> StoreResult<Option<Amount>> {
    s.map(|a| a.parse::<Amount>())
        .transpose()
        .map_err(|_| corrupt(what))
}

impl TryFrom<TransactionRow> for Transaction {
    type Error = StoreError;
    fn try_from(r: TransactionRow) -> StoreResult<Self> {
        Ok(Transaction {
            id: r.id.parse().map_err(|_| corrupt("id"))?,
            org_id: r.org_id.parse().map_err(|_| corrupt("org_id"))?,
            connection_id: r
                .connection_id
                .parse()
                .map_err(|_| corrupt("connection_id"))?,
            bank_feed_account_id: r.account_id.parse().map_err(|_| corrupt("account_id"))?,
            data: TransactionData {
                transaction_id: r.transaction_id,
                posted_at: time::from_db(r.posted_at)?,
                transaction_date: time::opt_from_db(r.transaction_date)?,
                amount: r.amount.parse().map_err(|_| corrupt("amount"))?,
                description: r.description,
                memo: r.memo,
                payee: r.payee,
                transaction_type: r
                    .transaction_type
                    .map(|t| TransactionType::parse(&t).ok_or_else(|| corrupt("transaction_type")))
                    .transpose()?,
                debit_credit_memo: r
                    .debit_credit_memo
                    .map(|t| DebitCreditMemo::parse(&t).ok_or_else(|| corrupt("debit_credit_memo")))
                    .transpose()?,
                interest_amount: amount(r.interest_amount, "interest_amount")?,
                principal_amount: amount(r.principal_amount, "principal_amount")?,
            },
            platform_ingested: r.platform_ingested,
            created_at: time::from_db(r.created_at)?,
            ingested_at: time::opt_from_db(r.ingested_at)?,
        })
    }
}

pub(crate) const COLUMNS: &str = "id, org_id, connection_id, account_id, transaction_id, posted_at,
    transaction_date, amount, description, memo, payee, transaction_type, debit_credit_memo,
    interest_amount, principal_amount, platform_ingested, ingested_at, created_at";

/// Rows per multi-row INSERT: a whole 1000-transaction batch in one statement (19 parameters a
/// row, 19,000 in all, under SQLite's limit of 32,766). Fewer, larger statements were the
/// fastest form in the bench's ceiling measurements, and every full batch reuses one prepared
/// statement.
const INSERT_CHUNK: usize = 1000;
/// Ids per `IN (...)` lookup: a whole batch in one statement.
const LOOKUP_CHUNK: usize = 1000;

async fn stored_by_transaction_id(
    tx: &mut SqliteConnection,
    account: BankFeedAccountId,
    batch: &[TransactionData],
) -> StoreResult<HashMap<String, Transaction>> {
    let mut found = HashMap::new();
    for chunk in batch.chunks(LOOKUP_CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {COLUMNS} FROM transactions WHERE account_id = "
        ));
        q.push_bind(account.to_string())
            .push(" AND transaction_id IN (");
        let mut ids = q.separated(", ");
        for t in chunk {
            ids.push_bind(t.transaction_id.clone());
        }
        q.push(")");
        let rows: Vec<TransactionRow> = q
            .build_query_as()
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        for row in rows {
            let t = Transaction::try_from(row)?;
            found.insert(t.data.transaction_id.clone(), t);
        }
    }
    Ok(found)
}

/// Inserts the rows (all of one account, so of one organisation and connection). The strings
/// are bound borrowed, and the ids every row shares are formatted once.
async fn insert(
    tx: &mut SqliteConnection,
    account: &BankFeedAccount,
    rows: &[&Transaction],
    job: JobId,
) -> StoreResult<()> {
    let org = account.org_id.to_string();
    let connection = account.connection_id.to_string();
    let account_id = account.id.to_string();
    let job = job.to_string();
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut q =
            QueryBuilder::<Sqlite>::new(format!("INSERT INTO transactions ({COLUMNS}, job_id) "));
        q.push_values(chunk, |mut b, t| {
            debug_assert_eq!(t.bank_feed_account_id, account.id);
            let d = &t.data;
            b.push_bind(t.id.to_string())
                .push_bind(org.as_str())
                .push_bind(connection.as_str())
                .push_bind(account_id.as_str())
                .push_bind(d.transaction_id.as_str())
                .push_bind(time::to_db(d.posted_at))
                .push_bind(d.transaction_date.map(time::to_db))
                .push_bind(d.amount.to_string())
                .push_bind(d.description.as_deref())
                .push_bind(d.memo.as_deref())
                .push_bind(d.payee.as_deref())
                .push_bind(d.transaction_type.map(|t| t.as_str()))
                .push_bind(d.debit_credit_memo.map(|m| m.as_str()))
                .push_bind(d.interest_amount.map(|a| a.to_string()))
                .push_bind(d.principal_amount.map(|a| a.to_string()))
                .push_bind(t.platform_ingested)
                .push_bind(t.ingested_at.map(time::to_db))
                .push_bind(time::to_db(t.created_at))
                .push_bind(job.as_str());
        });
        q.build().execute(&mut *tx).await.map_err(map_err)?;
    }
    Ok(())
}

/// Checks the batch against what is stored and the platform's rules; on success writes it.
async fn check_and_write(
    tx: &mut SqliteConnection,
    job: &Job,
    batch: &BatchRequest,
    profile: &PlatformProfile,
    now: Timestamp,
) -> StoreResult<Result<Vec<BatchItem>, BatchRefusal>> {
    let found = crate::accounts::find_live(
        tx,
        job.connection_id,
        "id",
        batch.bank_feed_account_id.to_string(),
    )
    .await?;
    let Some(account): Option<BankFeedAccount> = found else {
        return Ok(Err(BatchRefusal::AccountNotFound));
    };
    let newest: Option<i64> =
        sqlx::query_scalar("SELECT newest_posted_at FROM bank_feed_accounts WHERE id = ?")
            .bind(account.id.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
    let newest_posted_at = time::opt_from_db(newest)?;

    let stored = stored_by_transaction_id(tx, account.id, &batch.transactions).await?;
    let is_new = match classify(&batch.transactions, &stored) {
        Ok(is_new) => is_new,
        Err(transaction_ids) => return Ok(Err(BatchRefusal::Conflict { transaction_ids })),
    };
    let ctx = AccountContext {
        minor_units: account.currency.minor_units(),
        transaction_ready: account.transaction_ready,
        transaction_start_date: account.transaction_start_date,
        newest_posted_at,
        has_transactions: newest_posted_at.is_some(),
    };
    if let Err(violations) = validate_batch(profile, &ctx, &batch.transactions, &is_new, now) {
        return Ok(Err(BatchRefusal::Invalid(violations)));
    }

    let items = assemble(&account, &batch.transactions, &is_new, &stored, now);
    let fresh = fresh(&items);
    if fresh.is_empty() && batch.current_balance.is_none() {
        // A pure re-send: nothing to write.
        return Ok(Ok(items));
    }
    insert(tx, &account, &fresh, job.id).await?;
    let newest_after = fresh
        .iter()
        .map(|t| t.data.posted_at)
        .chain(newest_posted_at)
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
    let payload = serde_json::json!({
        "bank_feed_account_id": account.id,
        "job_id": job.id,
        "created": fresh.len(),
        "duplicates": items.len() - fresh.len(),
    });
    events::append(
        tx,
        account.org_id,
        Some(account.connection_id),
        "bank_feed_transactions.created",
        &account.id.to_string(),
        &payload,
        now,
    )
    .await?;
    Ok(Ok(items))
}

pub async fn apply_batch(
    store: &SqliteStore,
    job_id: JobId,
    batch: &BatchRequest,
    profile: &PlatformProfile,
    now: Timestamp,
    render: BatchRender<'_>,
) -> StoreResult<Job> {
    let mut tx = store.write_tx().await?;
    let job = jobs::load(&mut tx, job_id).await?;
    if job.status.is_finished() {
        // Delivery is at least once: a job run twice answers with its first outcome.
        return Ok(job);
    }
    // Every reason to refuse is found before the first write, so a refused batch has written
    // nothing and only the job's outcome is recorded.
    let outcome = check_and_write(&mut tx, &job, batch, profile, now).await?;
    let (status, body) = render(&outcome);
    let job = jobs::finish(&mut tx, &job, status, &body, now).await?;
    tx.commit().await.map_err(map_err)?;
    store.checkpoint_soon().await;
    Ok(job)
}

pub async fn list(
    pool: &SqlitePool,
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
    let rows: Vec<TransactionRow> = b.build_query_as().fetch_all(pool).await.map_err(map_err)?;
    let mut items = rows
        .into_iter()
        .map(Transaction::try_from)
        .collect::<StoreResult<Vec<_>>>()?;
    let has_more = items.len() > q.limit as usize;
    items.truncate(q.limit as usize);
    Ok(Page { items, has_more })
}

pub async fn get(
    pool: &SqlitePool,
    connection: ConnectionId,
    id: TransactionId,
) -> StoreResult<Option<Transaction>> {
    let row: Option<TransactionRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM transactions WHERE connection_id = ? AND id = ?"
    ))
    .bind(connection.to_string())
    .bind(id.to_string())
    .fetch_optional(pool)
    .await
    .map_err(map_err)?;
    row.map(Transaction::try_from).transpose()
}

/// The platform side took every stored transaction of the account: mark them ingested and
/// move the account's `last_synced_at`.
pub async fn mark_ingested(
    store: &SqliteStore,
    account: BankFeedAccountId,
    now: Timestamp,
) -> StoreResult<u64> {
    let mut tx = store.write_tx().await?;
    let done = sqlx::query(
        "UPDATE transactions SET platform_ingested = 1, ingested_at = ?
         WHERE account_id = ? AND platform_ingested = 0",
    )
    .bind(time::to_db(now))
    .bind(account.to_string())
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    sqlx::query("UPDATE bank_feed_accounts SET last_synced_at = ? WHERE id = ?")
        .bind(time::to_db(now))
        .bind(account.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(done.rows_affected())
}
