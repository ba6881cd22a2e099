//! `/versioned/accounting/bank_feeds/transactions`: posted transactions, pushed in batches.

use std::borrow::Cow;

use bankfeeds_domain::transaction::{DebitCreditMemo, TransactionType};
use bankfeeds_domain::{Amount, BankFeedAccountId, Timestamp, TransactionId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::ResponseMode;
use crate::connections::ConnectionRefOut;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionIn {
    /// The FI's id for the transaction. Must never change; unique per account.
    pub transaction_id: String,
    /// When the FI posted it. Only posted transactions belong in a feed.
    #[serde(deserialize_with = "crate::time::required")]
    #[schema(value_type = String, format = DateTime)]
    pub posted_at: Timestamp,
    #[serde(default, deserialize_with = "crate::time::option")]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchIn {
    pub bank_feed_account_id: BankFeedAccountId,
    /// The account's balance after this batch; set in the same database transaction.
    #[serde(default)]
    pub current_balance: Option<Amount>,
    pub transactions: Vec<TransactionIn>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionsCreateIn {
    pub bank_feed_transactions: BatchIn,
    /// `prefer_sync` (default) answers with the transactions when the batch is applied within
    /// 10 s, else with the job; `async` always answers with the job.
    #[serde(default)]
    pub response_mode: Option<ResponseMode>,
}

// A stored transaction as the door answers with it, borrowed from the row: a batch's answer
// renders up to 1000 of them without copying their strings first. (A comment, not a doc
// comment: that would become the schema's description.)
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransactionOut<'a> {
    pub id: TransactionId,
    pub bank_feed_account_id: BankFeedAccountId,
    pub transaction_id: Cow<'a, str>,
    #[schema(value_type = String, format = DateTime)]
    pub posted_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub transaction_date: Option<Timestamp>,
    pub amount: Amount,
    pub description: Option<Cow<'a, str>>,
    pub memo: Option<Cow<'a, str>>,
    pub payee: Option<Cow<'a, str>>,
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransactionsCreatedOut<'a> {
    pub bank_feed_transactions: Vec<TransactionOut<'a>>,
    /// The job that stored them (also in the `X-Rutter-Job-Id` header); `GET` its
    /// `response_url` to see when the platform took them.
    #[schema(required = false)]
    pub async_response: Option<crate::jobs::AsyncResponseOut>,
}

/// What a push answers with 200: the stored transactions (`prefer_sync`, when the batch ran
/// within the wait), or the job to poll (`async`, and `prefer_sync` falling back when the batch
/// is still queued). Tell them apart by `bank_feed_transactions`: only a stored answer has it
/// (both name the job in `async_response`). For the document only; the handler writes either.
// (The client reads the answer through it; the doc comment above is the schema's text.)
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TransactionsCreateAnswer {
    Stored(TransactionsCreatedOut<'static>),
    Queued(TransactionsQueuedOut),
}

/// A queued push's answer: the job to poll and nothing else (a stored answer names its job
/// too, so only `additionalProperties: false` here keeps the two alternatives apart). For the
/// document only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionsQueuedOut {
    pub async_response: crate::jobs::AsyncResponseOut,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransactionListOut<'a> {
    pub connection: ConnectionRefOut,
    pub bank_feed_transactions: Vec<TransactionOut<'a>>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransactionGetOut<'a> {
    pub connection: ConnectionRefOut,
    pub bank_feed_transaction: TransactionOut<'a>,
}
