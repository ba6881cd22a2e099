//! Bank feed transactions: immutable facts keyed by (bank feed account, `transaction_id`).

use serde::{Deserialize, Serialize};

use crate::{Amount, Timestamp};

/// The kind of transaction. The union of the values Rutter's API versions have accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransactionType {
    Credit,
    Debit,
    Fee,
    Deposit,
    Transfer,
    Payment,
    Interest,
    Dividend,
    ServiceCharge,
    Atm,
    Pos,
    Check,
    DirectDebit,
    Cash,
    RepeatPayment,
    Hold,
    Unknown,
}

str_enum!(TransactionType {
    Credit => "credit",
    Debit => "debit",
    Fee => "fee",
    Deposit => "deposit",
    Transfer => "transfer",
    Payment => "payment",
    Interest => "interest",
    Dividend => "dividend",
    ServiceCharge => "service_charge",
    Atm => "atm",
    Pos => "pos",
    Check => "check",
    DirectDebit => "direct_debit",
    Cash => "cash",
    RepeatPayment => "repeat_payment",
    Hold => "hold",
    Unknown => "unknown",
});

/// Money out (`DEBIT`, negative amount) or in (`CREDIT`, positive amount).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DebitCreditMemo {
    Debit,
    Credit,
}

str_enum!(DebitCreditMemo {
    Debit => "DEBIT",
    Credit => "CREDIT",
});

/// What the FI says about one transaction: the content compared when the same
/// `transaction_id` arrives again (identical ⇒ duplicate, different ⇒ conflict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionData {
    pub transaction_id: String,
    pub posted_at: Timestamp,
    pub transaction_date: Option<Timestamp>,
    pub amount: Amount,
    pub description: Option<String>,
    pub memo: Option<String>,
    pub payee: Option<String>,
    pub transaction_type: Option<TransactionType>,
    pub debit_credit_memo: Option<DebitCreditMemo>,
    pub interest_amount: Option<Amount>,
    pub principal_amount: Option<Amount>,
}

impl TransactionData {
    /// A transaction with only what every transaction must say; the optional fields are set
    /// with struct update syntax (`TransactionData { memo, ..TransactionData::bare(…) }`).
    pub fn bare(transaction_id: impl Into<String>, posted_at: Timestamp, amount: Amount) -> Self {
        TransactionData {
            transaction_id: transaction_id.into(),
            posted_at,
            transaction_date: None,
            amount,
            description: None,
            memo: None,
            payee: None,
            transaction_type: None,
            debit_credit_memo: None,
            interest_amount: None,
            principal_amount: None,
        }
    }
}

/// A stored transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub id: crate::TransactionId,
    pub org_id: crate::OrgId,
    pub connection_id: crate::ConnectionId,
    pub bank_feed_account_id: crate::BankFeedAccountId,
    pub data: TransactionData,
    /// Whether the accounting platform has picked it up.
    pub platform_ingested: bool,
    pub created_at: Timestamp,
    /// When the platform ingested it.
    pub ingested_at: Option<Timestamp>,
}

/// Filters for transaction lists (all optional, ANDed).
#[derive(Debug, Clone, Default)]
pub struct TransactionQuery {
    pub bank_feed_account_id: Option<crate::BankFeedAccountId>,
    pub posted_at_min: Option<Timestamp>,
    pub posted_at_max: Option<Timestamp>,
    pub platform_ingested: Option<bool>,
    /// Rows after this one, in storage order (ids are time-ordered).
    pub after: Option<crate::TransactionId>,
    pub limit: u32,
}
