//! The transaction's query parameters, and how a transaction is read into the domain and
//! rendered. The request and answer bodies are `bankfeeds_wire::transactions`.

use bankfeeds_domain::batch::BatchRequest;
use bankfeeds_domain::transaction::{Transaction, TransactionData};
use bankfeeds_domain::{Amount, Currency};
use serde::Deserialize;
use std::borrow::Cow;
use utoipa::IntoParams;

pub use bankfeeds_wire::transactions::*;

/// A pushed transaction as the domain takes it.
pub fn transaction_data(t: TransactionIn) -> TransactionData {
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

/// The batch, moving the strings rather than copying them.
pub fn batch_request(body: TransactionsCreateIn) -> BatchRequest {
    let b = body.bank_feed_transactions;
    BatchRequest {
        bank_feed_account_id: b.bank_feed_account_id,
        current_balance: b.current_balance,
        transactions: b.transactions.into_iter().map(transaction_data).collect(),
    }
}

/// A stored transaction as the door answers with it, borrowed from the row: a batch's answer
/// renders up to 1000 of them without copying their strings first. Its money is written with
/// `currency`'s minor units (its account's currency; `None` only when the account is gone, and
/// then the amount is written as stored).
pub fn transaction_out(
    t: &Transaction,
    currency: Option<Currency>,
    duplicate: Option<bool>,
) -> TransactionOut<'_> {
    let d = &t.data;
    let m = |x: Amount| currency.map_or(x, |c| x.in_currency(c));
    TransactionOut {
        id: t.id,
        bank_feed_account_id: t.bank_feed_account_id,
        transaction_id: Cow::Borrowed(&d.transaction_id),
        posted_at: d.posted_at,
        transaction_date: d.transaction_date,
        amount: m(d.amount),
        description: d.description.as_deref().map(Cow::Borrowed),
        memo: d.memo.as_deref().map(Cow::Borrowed),
        payee: d.payee.as_deref().map(Cow::Borrowed),
        transaction_type: d.transaction_type,
        debit_credit_memo: d.debit_credit_memo,
        interest_amount: d.interest_amount.map(m),
        principal_amount: d.principal_amount.map(m),
        platform_ingested: t.platform_ingested,
        last_synced_at: t.ingested_at,
        created_at: t.created_at,
        duplicate,
    }
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
