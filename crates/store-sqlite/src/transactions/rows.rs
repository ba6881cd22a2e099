//! A batch's rows on SQLite: looking its ids up, and inserting the new ones in multi-row INSERTs.

use std::collections::HashMap;

use bankfeeds_domain::transaction::{Transaction, TransactionData};
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, JobId};
use bankfeeds_store::StoreResult;
use bankfeeds_store_sql::transactions::{TransactionRow, COLUMNS};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::{map_err, time};

/// Rows per multi-row INSERT: a whole 1000-transaction batch in one statement (19 parameters a
/// row, 19,000 in all, under SQLite's limit of 32,766). Fewer, larger statements were the
/// fastest form in the bench's ceiling measurements, and every full batch reuses one prepared
/// statement.
pub(crate) const INSERT_CHUNK: usize = 1000;
/// Ids per `IN (...)` lookup: a whole batch in one statement.
pub(crate) const LOOKUP_CHUNK: usize = 1000;

pub(crate) async fn stored_by_transaction_id(
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
pub(crate) async fn insert(
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
