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

impl TransactionType {
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionType::Credit => "credit",
            TransactionType::Debit => "debit",
            TransactionType::Fee => "fee",
            TransactionType::Deposit => "deposit",
            TransactionType::Transfer => "transfer",
            TransactionType::Payment => "payment",
            TransactionType::Interest => "interest",
            TransactionType::Dividend => "dividend",
            TransactionType::ServiceCharge => "service_charge",
            TransactionType::Atm => "atm",
            TransactionType::Pos => "pos",
            TransactionType::Check => "check",
            TransactionType::DirectDebit => "direct_debit",
            TransactionType::Cash => "cash",
            TransactionType::RepeatPayment => "repeat_payment",
            TransactionType::Hold => "hold",
            TransactionType::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

/// Money out (`DEBIT`, negative amount) or in (`CREDIT`, positive amount).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DebitCreditMemo {
    Debit,
    Credit,
}

impl DebitCreditMemo {
    pub fn as_str(self) -> &'static str {
        match self {
            DebitCreditMemo::Debit => "DEBIT",
            DebitCreditMemo::Credit => "CREDIT",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "DEBIT" => Some(DebitCreditMemo::Debit),
            "CREDIT" => Some(DebitCreditMemo::Credit),
            _ => None,
        }
    }
}

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

/// One transaction of an applied batch, as the answer reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItem {
    pub transaction: Transaction,
    /// It was stored before, identically: nothing new was written.
    pub duplicate: bool,
}

/// Why a batch was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchRefusal {
    /// A `transaction_id` already stored with different content.
    Conflict { transaction_ids: Vec<String> },
    /// Rule violations (see `batch::validate_batch`).
    Invalid(Vec<crate::batch::Violation>),
    /// The account is not (or no longer) on the connection.
    AccountNotFound,
}

/// One `POST /bank_feeds/transactions`: a batch for one account, and optionally the account's
/// balance after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRequest {
    pub bank_feed_account_id: crate::BankFeedAccountId,
    pub current_balance: Option<Amount>,
    pub transactions: Vec<TransactionData>,
}

/// Sorts a batch against the account's stored transactions with the same ids: `Ok(is_new)`
/// per transaction (an identical re-send is not new), or the ids stored with different
/// content, each once, in batch order.
pub fn classify(
    batch: &[TransactionData],
    stored: &std::collections::HashMap<String, Transaction>,
) -> Result<Vec<bool>, Vec<String>> {
    let mut conflicts: Vec<String> = Vec::new();
    let mut is_new = Vec::with_capacity(batch.len());
    for t in batch {
        match stored.get(&t.transaction_id) {
            Some(s) if s.data == *t => is_new.push(false),
            Some(_) => {
                if !conflicts.contains(&t.transaction_id) {
                    conflicts.push(t.transaction_id.clone());
                }
                is_new.push(false);
            }
            None => is_new.push(true),
        }
    }
    if conflicts.is_empty() {
        Ok(is_new)
    } else {
        Err(conflicts)
    }
}

/// The answer's items for an accepted batch, in batch order. The new rows to write are the
/// items that are not duplicates ([`fresh`]).
pub fn assemble(
    account: &crate::BankFeedAccount,
    batch: &[TransactionData],
    is_new: &[bool],
    stored: &std::collections::HashMap<String, Transaction>,
    now: Timestamp,
) -> Vec<BatchItem> {
    let mut items = Vec::with_capacity(batch.len());
    for (t, new) in batch.iter().zip(is_new) {
        match stored.get(&t.transaction_id) {
            Some(s) if !new => items.push(BatchItem {
                transaction: s.clone(),
                duplicate: true,
            }),
            _ => {
                let row = Transaction {
                    id: crate::TransactionId::new(),
                    org_id: account.org_id,
                    connection_id: account.connection_id,
                    bank_feed_account_id: account.id,
                    data: t.clone(),
                    platform_ingested: false,
                    created_at: now,
                    ingested_at: None,
                };
                items.push(BatchItem {
                    transaction: row,
                    duplicate: false,
                });
            }
        }
    }
    items
}

/// The new rows among an accepted batch's items, in batch order.
pub fn fresh(items: &[BatchItem]) -> Vec<&Transaction> {
    items
        .iter()
        .filter(|i| !i.duplicate)
        .map(|i| &i.transaction)
        .collect()
}

/// What a store read for a batch, in the transaction (or snapshot) it decides it in.
#[derive(Debug, Clone, Copy)]
pub struct BatchFacts<'a> {
    /// The batch's account, if it is a live account of the job's connection.
    pub account: Option<&'a crate::BankFeedAccount>,
    /// The newest `posted_at` stored for the account.
    pub newest_posted_at: Option<Timestamp>,
    /// The account's stored transactions with the batch's `transaction_id`s.
    pub stored: &'a std::collections::HashMap<String, Transaction>,
}

/// Decides a batch against what is stored and the platform's rules: the answer's items (the
/// new rows are [`fresh`]) or why the whole batch is refused. Pure, so every backend decides
/// alike; the store writes what it returns.
pub fn decide_batch(
    facts: BatchFacts<'_>,
    batch: &BatchRequest,
    profile: &crate::profile::PlatformProfile,
    now: Timestamp,
) -> Result<Vec<BatchItem>, BatchRefusal> {
    let account = facts.account.ok_or(BatchRefusal::AccountNotFound)?;
    let is_new = classify(&batch.transactions, facts.stored)
        .map_err(|transaction_ids| BatchRefusal::Conflict { transaction_ids })?;
    let ctx = crate::batch::AccountContext::of(account, facts.newest_posted_at);
    crate::batch::validate_batch(profile, &ctx, &batch.transactions, &is_new, now)
        .map_err(BatchRefusal::Invalid)?;
    Ok(assemble(
        account,
        &batch.transactions,
        &is_new,
        facts.stored,
        now,
    ))
}
