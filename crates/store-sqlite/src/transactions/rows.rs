//! Transaction rows on SQLite: the columns, their conversion, looking a batch's ids up, inserting.

use crate::error::DbUuid;
use crate::{db, map_err, time};
use bankfeeds_domain::transaction::{Transaction, TransactionData};
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, JobId};
use bankfeeds_store::decode::parse;
use bankfeeds_store::decode::transaction::{amount, debit_credit_memo, transaction_type};
use bankfeeds_store::{StoreError, StoreResult};
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection};
use std::collections::HashMap;

#[derive(FromRow)]
pub(crate) struct TransactionRow {
    id: DbUuid,
    org_id: DbUuid,
    connection_id: DbUuid,
    account_id: DbUuid,
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

impl TryFrom<TransactionRow> for Transaction {
    type Error = StoreError;
    fn try_from(r: TransactionRow) -> StoreResult<Self> {
        Ok(Transaction {
            id: r.id.into_uuid().into(),
            org_id: r.org_id.into_uuid().into(),
            connection_id: r.connection_id.into_uuid().into(),
            bank_feed_account_id: r.account_id.into_uuid().into(),
            data: TransactionData {
                transaction_id: r.transaction_id,
                posted_at: time::from_db(r.posted_at)?,
                transaction_date: time::opt_from_db(r.transaction_date)?,
                amount: parse(&r.amount, "transactions.amount")?,
                description: r.description,
                memo: r.memo,
                payee: r.payee,
                transaction_type: transaction_type(r.transaction_type)?,
                debit_credit_memo: debit_credit_memo(r.debit_credit_memo)?,
                interest_amount: amount(r.interest_amount, "transactions.interest_amount")?,
                principal_amount: amount(r.principal_amount, "transactions.principal_amount")?,
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
        let rows: Vec<Transaction> =
            db::all(q.build_query_as::<TransactionRow>(), &mut *tx).await?;
        for t in rows {
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
