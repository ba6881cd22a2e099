//! Transaction rows: the columns and their conversion.

use bankfeeds_domain::transaction::{Transaction, TransactionData};
use bankfeeds_store::decode::transaction::{debit_credit_memo, transaction_type};
use bankfeeds_store::{StoreError, StoreResult};

use crate::{DbAmount, DbId, DbTime};

#[derive(sqlx::FromRow)]
pub struct TransactionRow {
    id: DbId,
    org_id: DbId,
    connection_id: DbId,
    account_id: DbId,
    transaction_id: String,
    posted_at: DbTime,
    transaction_date: Option<DbTime>,
    amount: DbAmount,
    description: Option<String>,
    memo: Option<String>,
    payee: Option<String>,
    transaction_type: Option<String>,
    debit_credit_memo: Option<String>,
    interest_amount: Option<DbAmount>,
    principal_amount: Option<DbAmount>,
    platform_ingested: bool,
    ingested_at: Option<DbTime>,
    created_at: DbTime,
}

impl TryFrom<TransactionRow> for Transaction {
    type Error = StoreError;

    fn try_from(r: TransactionRow) -> StoreResult<Self> {
        Ok(Transaction {
            id: r.id.0.into(),
            org_id: r.org_id.0.into(),
            connection_id: r.connection_id.0.into(),
            bank_feed_account_id: r.account_id.0.into(),
            data: TransactionData {
                transaction_id: r.transaction_id,
                posted_at: r.posted_at.0,
                transaction_date: r.transaction_date.map(|t| t.0),
                // NUMERIC keeps the scale it was written with (`-300.00`); `Amount` drops the
                // trailing zeros, so it compares equal to what the FI sent.
                amount: r.amount.to_amount("transactions.amount")?,
                description: r.description,
                memo: r.memo,
                payee: r.payee,
                transaction_type: transaction_type(r.transaction_type)?,
                debit_credit_memo: debit_credit_memo(r.debit_credit_memo)?,
                interest_amount: r
                    .interest_amount
                    .map(|a| a.to_amount("transactions.interest_amount"))
                    .transpose()?,
                principal_amount: r
                    .principal_amount
                    .map(|a| a.to_amount("transactions.principal_amount"))
                    .transpose()?,
            },
            platform_ingested: r.platform_ingested,
            created_at: r.created_at.0,
            ingested_at: r.ingested_at.map(|t| t.0),
        })
    }
}

pub const COLUMNS: &str = "id, org_id, connection_id, account_id, transaction_id, posted_at,
    transaction_date, amount, description, memo, payee, transaction_type, debit_credit_memo,
    interest_amount, principal_amount, platform_ingested, ingested_at, created_at";
