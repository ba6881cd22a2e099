//! Transactions on PostgreSQL: a batch is checked and applied in one database transaction,
//! together with the account's new balance and balance continuity, the outbox events and the
//! job's outcome.
//!
//! The job row and then the account row are locked (`FOR UPDATE`) before anything is read, so
//! batches of one account (and a job run twice) take turns, as on SQLite's single writer. Every
//! reason to refuse a batch is found before the first write, so a refused batch writes nothing
//! but the job's outcome. Amounts cross the wire as text (`::numeric` in) in the bulk insert.

use std::collections::HashMap;

use bankfeeds_domain::batch::{
    decide_batch, fresh, is_pure_resend, BatchFacts, BatchItem, BatchRefusal, BatchRequest,
    Decision,
};
use bankfeeds_domain::continuity::{Ledger, Step};
use bankfeeds_domain::profile::PlatformProfile;
use bankfeeds_domain::transaction::{Transaction, TransactionData};
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, Currency, Job, JobId, Timestamp};
use bankfeeds_store::{BatchCall, NewEvent, StoreError, StoreResult};
use bankfeeds_store_sql::continuity::{load_ledger, write_step};
use sqlx::PgConnection;
use uuid::Uuid;

use bankfeeds_store_sql::transactions::{TransactionRow, COLUMNS};

use crate::accounts::{self, Key};
use crate::PostgresDb;
use crate::{events, jobs, map_err};

/// The stored transactions of the account among the batch's `transaction_id`s.
async fn stored_by_transaction_id(
    tx: &mut PgConnection,
    account: BankFeedAccountId,
    batch: &[TransactionData],
) -> StoreResult<HashMap<String, Transaction>> {
    let ids: Vec<&str> = batch.iter().map(|t| t.transaction_id.as_str()).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM transactions
             WHERE account_id = $1 AND transaction_id = ANY($2::text[])"
    );
    let query = sqlx::query_as::<_, TransactionRow>(&sql)
        .bind(account.as_uuid())
        .bind(ids);
    let rows: Vec<TransactionRow> = query.fetch_all(&mut *tx).await.map_err(map_err)?;
    rows.into_iter()
        .map(|row| Transaction::try_from(row).map(|t| (t.data.transaction_id.clone(), t)))
        .collect()
}

/// Inserts the rows in one statement: one array per column, `UNNEST`ed together. One SQL text
/// whatever the batch size (so one prepared statement), and no bind-parameter limit.
async fn insert(tx: &mut PgConnection, rows: &[&Transaction], job: JobId) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let col = |f: &dyn Fn(&Transaction) -> Uuid| rows.iter().map(|t| f(t)).collect::<Vec<_>>();
    let ids = col(&|t| t.id.as_uuid());
    let orgs = col(&|t| t.org_id.as_uuid());
    let connections = col(&|t| t.connection_id.as_uuid());
    let accounts = col(&|t| t.bank_feed_account_id.as_uuid());
    let data = || rows.iter().map(|t| &t.data);
    let transaction_ids: Vec<&str> = data().map(|d| d.transaction_id.as_str()).collect();
    let posted_at: Vec<Timestamp> = data().map(|d| d.posted_at).collect();
    let transaction_dates: Vec<Option<Timestamp>> = data().map(|d| d.transaction_date).collect();
    let amounts: Vec<String> = data().map(|d| d.amount.to_string()).collect();
    let descriptions: Vec<Option<&str>> = data().map(|d| d.description.as_deref()).collect();
    let memos: Vec<Option<&str>> = data().map(|d| d.memo.as_deref()).collect();
    let payees: Vec<Option<&str>> = data().map(|d| d.payee.as_deref()).collect();
    let types: Vec<Option<&str>> = data()
        .map(|d| d.transaction_type.map(|t| t.as_str()))
        .collect();
    let memos_dc: Vec<Option<&str>> = data()
        .map(|d| d.debit_credit_memo.map(|m| m.as_str()))
        .collect();
    let interest: Vec<Option<String>> = data()
        .map(|d| d.interest_amount.map(|a| a.to_string()))
        .collect();
    let principal: Vec<Option<String>> = data()
        .map(|d| d.principal_amount.map(|a| a.to_string()))
        .collect();
    let ingested: Vec<bool> = rows.iter().map(|t| t.platform_ingested).collect();
    let ingested_at: Vec<Option<Timestamp>> = rows.iter().map(|t| t.ingested_at).collect();
    let created_at: Vec<Timestamp> = rows.iter().map(|t| t.created_at).collect();
    sqlx::query(
        "INSERT INTO transactions (id, org_id, connection_id, account_id, transaction_id,
             posted_at, transaction_date, amount, description, memo, payee, transaction_type,
             debit_credit_memo, interest_amount, principal_amount, platform_ingested,
             ingested_at, created_at, job_id)
         SELECT t.*, $19 FROM UNNEST(
             $1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::timestamptz[],
             $7::timestamptz[], $8::text[]::numeric[], $9::text[], $10::text[], $11::text[],
             $12::text[], $13::text[], $14::text[]::numeric[], $15::text[]::numeric[],
             $16::boolean[], $17::timestamptz[], $18::timestamptz[]) AS t",
    )
    .bind(ids)
    .bind(orgs)
    .bind(connections)
    .bind(accounts)
    .bind(transaction_ids)
    .bind(posted_at)
    .bind(transaction_dates)
    .bind(amounts)
    .bind(descriptions)
    .bind(memos)
    .bind(payees)
    .bind(types)
    .bind(memos_dc)
    .bind(interest)
    .bind(principal)
    .bind(ingested)
    .bind(ingested_at)
    .bind(created_at)
    .bind(job.as_uuid())
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// An accepted batch, ready to write.
struct Accepted {
    account: BankFeedAccount,
    newest_posted_at: Option<Timestamp>,
    items: Vec<BatchItem>,
    /// The account's balance continuity before the batch, and what the batch does to it.
    ledger: Ledger,
    balance: Step,
}

/// Checks the batch against what is stored and the platform's rules. Reads only (and locks the
/// account row): a refusal leaves nothing to undo.
async fn check(
    tx: &mut PgConnection,
    batch: &BatchRequest,
    job: &Job,
    profile: &PlatformProfile,
    now: Timestamp,
) -> StoreResult<(Option<Currency>, Result<Accepted, BatchRefusal>)> {
    // Locked: batches of one account (and PATCHes of it) take turns from here to commit.
    let found = accounts::find_live::<PostgresDb>(
        tx,
        job.connection_id,
        Key::Id(batch.bank_feed_account_id),
        true,
    )
    .await?;
    let (newest_posted_at, stored, ledger) = match &found {
        None => (None, HashMap::new(), Ledger::default()),
        Some(account) => {
            let newest: Option<Timestamp> =
                sqlx::query_scalar("SELECT newest_posted_at FROM bank_feed_accounts WHERE id = $1")
                    .bind(account.id.as_uuid())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_err)?;
            let stored = stored_by_transaction_id(tx, account.id, &batch.transactions).await?;
            let ledger = load_ledger(tx, account.id).await?;
            (newest, stored, ledger)
        }
    };
    let facts = BatchFacts {
        account: found.as_ref(),
        newest_posted_at,
        stored: &stored,
        ledger,
    };
    let decided = decide_batch(facts, batch, profile, now);
    let currency = found.as_ref().map(|a| a.currency);
    let result = match (decided, found) {
        (Ok(Decision { items, balance }), Some(account)) => Ok(Accepted {
            account,
            newest_posted_at,
            items,
            ledger,
            balance,
        }),
        (Err(refusal), _) => Err(refusal),
        // `decide_batch` refuses a batch it was not given the account of.
        (Ok(_), None) => {
            return Err(StoreError::Backend(
                "decide_batch accepted a batch without its account".into(),
            ))
        }
    };
    Ok((currency, result))
}

/// Writes an accepted batch: the new transactions, the account's newest `posted_at` and
/// balance, and the outbox event.
async fn write(
    tx: &mut PgConnection,
    a: Accepted,
    job: &Job,
    batch: &BatchRequest,
    now: Timestamp,
) -> StoreResult<Vec<BatchItem>> {
    let Accepted {
        account,
        newest_posted_at,
        items,
        ledger,
        balance,
    } = a;
    if is_pure_resend(&items) {
        return Ok(items);
    }
    let fresh = fresh(&items);
    insert(tx, &fresh, job.id).await?;
    let newest_after = fresh
        .iter()
        .map(|t| t.data.posted_at)
        .chain(newest_posted_at)
        .max();
    sqlx::query(
        "UPDATE bank_feed_accounts
         SET newest_posted_at = $1, current_balance = COALESCE($2::numeric, current_balance),
             updated_at = $3
         WHERE id = $4",
    )
    .bind(newest_after)
    .bind(batch.current_balance.map(|b| b.to_string()))
    .bind(now)
    .bind(account.id.as_uuid())
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    write_step(tx, &account, job.id, ledger, &balance, newest_after, now).await?;
    let created = fresh.len();
    let event = NewEvent::transactions_created(&account, job.id, created, items.len() - created);
    events::append(tx, &event, now).await?;
    Ok(items)
}

/// Applies a batch and records the job's outcome, in one transaction (see the module docs).
pub(crate) async fn apply_batch(store: &PostgresDb, call: BatchCall<'_>) -> StoreResult<Job> {
    let BatchCall {
        job: job_id,
        batch,
        profile,
        now,
        render,
    } = call;
    let mut tx = store.pool.begin().await.map_err(map_err)?;
    // Locked: a worker applying the same job concurrently waits, then sees it finished.
    let job = jobs::load_for_update::<PostgresDb>(&mut tx, job_id).await?;
    if job.status.is_finished() {
        // Delivery is at least once: a job run twice answers with its first outcome.
        return Ok(job);
    }
    // A refused batch writes nothing but the job's outcome: every refusal is decided in
    // `check`, before the first write.
    let (currency, checked) = check(&mut tx, batch, &job, profile, now).await?;
    let outcome = match checked {
        Ok(accepted) => Ok(write(&mut tx, accepted, &job, batch, now).await?),
        Err(refusal) => Err(refusal),
    };
    let (status, body) = render(currency, &outcome);
    let job = jobs::finish::<PostgresDb>(&mut tx, &job, status, &body, now).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(job)
}
