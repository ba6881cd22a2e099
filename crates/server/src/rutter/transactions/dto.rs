//! The transaction's request and answer shapes (the OpenAPI schemas), and how a transaction
//! is rendered.

use bankfeeds_domain::batch::BatchRequest;
use bankfeeds_domain::transaction::{
    DebitCreditMemo, Transaction, TransactionData, TransactionType,
};
use bankfeeds_domain::{Amount, BankFeedAccountId, Timestamp, TransactionId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::time_param;
use crate::rutter::accounts::ResponseMode;
use crate::rutter::connections::ConnectionRefOut;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionIn {
    /// The FI's id for the transaction. Must never change; unique per account.
    pub transaction_id: String,
    /// When the FI posted it. Only posted transactions belong in a feed.
    #[serde(deserialize_with = "time_param::required")]
    #[schema(value_type = String, format = DateTime)]
    pub posted_at: Timestamp,
    #[serde(default, deserialize_with = "time_param::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub transaction_date: Option<Timestamp>,
    /// Negative for money out (DEBIT), positive for money in (CREDIT).
    pub amount: Amount,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub memo: Option<String>,
    #[serde(default)]
    pub payee: Option<String>,
    #[serde(default)]
    pub transaction_type: Option<TransactionType>,
    #[serde(default)]
    pub debit_credit_memo: Option<DebitCreditMemo>,
    #[serde(default)]
    pub interest_amount: Option<Amount>,
    #[serde(default)]
    pub principal_amount: Option<Amount>,
}

impl From<TransactionIn> for TransactionData {
    fn from(t: TransactionIn) -> Self {
        TransactionData {
            transaction_id: t.transaction_id,
            posted_at: t.posted_at,
            transaction_date: t.transaction_date,
            amount: t.amount,
            description: t.description,
            memo: t.memo,
            payee: t.payee,
            transaction_type: t.transaction_type,
            debit_credit_memo: t.debit_credit_memo,
            interest_amount: t.interest_amount,
            principal_amount: t.principal_amount,
        }
    }
}

impl From<&TransactionIn> for TransactionData {
    fn from(t: &TransactionIn) -> Self {
        t.clone().into()
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchIn {
    pub bank_feed_account_id: BankFeedAccountId,
    /// The account's balance after this batch; set in the same database transaction.
    #[serde(default)]
    pub current_balance: Option<Amount>,
    pub transactions: Vec<TransactionIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionsCreateIn {
    pub bank_feed_transactions: BatchIn,
    /// `prefer_sync` (default) answers with the transactions when the batch is applied within
    /// 10 s, else with the job; `async` always answers with the job.
    #[serde(default)]
    pub response_mode: Option<ResponseMode>,
}

impl TransactionsCreateIn {
    pub fn to_domain(&self) -> BatchRequest {
        let b = &self.bank_feed_transactions;
        BatchRequest {
            bank_feed_account_id: b.bank_feed_account_id,
            current_balance: b.current_balance,
            transactions: b.transactions.iter().map(TransactionData::from).collect(),
        }
    }

    /// The batch, moving the strings rather than copying them.
    pub fn into_domain(self) -> BatchRequest {
        let b = self.bank_feed_transactions;
        BatchRequest {
            bank_feed_account_id: b.bank_feed_account_id,
            current_balance: b.current_balance,
            transactions: b
                .transactions
                .into_iter()
                .map(TransactionData::from)
                .collect(),
        }
    }
}

// A stored transaction as the door answers with it, borrowed from the row: a batch's answer
// renders up to 1000 of them without copying their strings first. (A comment, not a doc
// comment: that would become the schema's description.)
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionOut<'a> {
    pub id: TransactionId,
    pub bank_feed_account_id: BankFeedAccountId,
    pub transaction_id: &'a str,
    #[schema(value_type = String, format = DateTime)]
    pub posted_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub transaction_date: Option<Timestamp>,
    pub amount: Amount,
    pub description: Option<&'a str>,
    pub memo: Option<&'a str>,
    pub payee: Option<&'a str>,
    pub transaction_type: Option<TransactionType>,
    pub debit_credit_memo: Option<DebitCreditMemo>,
    pub interest_amount: Option<Amount>,
    pub principal_amount: Option<Amount>,
    /// Whether the accounting platform has ingested it.
    pub platform_ingested: bool,
    /// When the platform ingested it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_synced_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Only in a POST's answer: it was stored before, identically, and nothing was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<bool>,
}

impl<'a> TransactionOut<'a> {
    pub fn new(t: &'a Transaction, duplicate: Option<bool>) -> Self {
        let d = &t.data;
        TransactionOut {
            id: t.id,
            bank_feed_account_id: t.bank_feed_account_id,
            transaction_id: &d.transaction_id,
            posted_at: d.posted_at,
            transaction_date: d.transaction_date,
            amount: d.amount,
            description: d.description.as_deref(),
            memo: d.memo.as_deref(),
            payee: d.payee.as_deref(),
            transaction_type: d.transaction_type,
            debit_credit_memo: d.debit_credit_memo,
            interest_amount: d.interest_amount,
            principal_amount: d.principal_amount,
            platform_ingested: t.platform_ingested,
            last_synced_at: t.ingested_at,
            created_at: t.created_at,
            duplicate,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionsCreatedOut<'a> {
    pub bank_feed_transactions: Vec<TransactionOut<'a>>,
    /// The job that stored them (also in the `X-Rutter-Job-Id` header); `GET` its
    /// `response_url` to see when the platform took them.
    #[schema(required = false)]
    pub async_response: Option<crate::rutter::jobs::AsyncResponseOut>,
}

/// What a push answers with 200: the stored transactions (`prefer_sync`, when the batch ran
/// within the wait), or the job to poll (`async`, and `prefer_sync` falling back when the batch
/// is still queued). Tell them apart by `bank_feed_transactions`: only a stored answer has it
/// (both name the job in `async_response`). For the document only; the handler writes either.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum TransactionsCreateAnswer {
    Stored(TransactionsCreatedOut<'static>),
    Queued(TransactionsQueuedOut),
}

/// A queued push's answer: the job to poll and nothing else (a stored answer names its job
/// too, so only `additionalProperties: false` here keeps the two alternatives apart). For the
/// document only.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct TransactionsQueuedOut {
    async_response: crate::rutter::jobs::AsyncResponseOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionListOut<'a> {
    pub connection: ConnectionRefOut,
    pub bank_feed_transactions: Vec<TransactionOut<'a>>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionGetOut<'a> {
    pub connection: ConnectionRefOut,
    pub bank_feed_transaction: TransactionOut<'a>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransactionListParams {
    /// The connection's access token.
    #[allow(dead_code)]
    #[param(required = true, min_length = 1)]
    pub access_token: Option<String>,
    /// Only this account's transactions.
    pub bank_feed_account_id: Option<String>,
    /// Posted at or after (RFC 3339 or YYYY-MM-DD).
    pub posted_at_min: Option<String>,
    /// Posted at or before.
    pub posted_at_max: Option<String>,
    pub platform_ingested: Option<bool>,
    pub cursor: Option<String>,
    /// Rows per page: 1 to 1000, default 50.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}
