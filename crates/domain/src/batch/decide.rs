//! Deciding a batch against what is stored: which transactions are new, which are identical
//! re-sends, and whether the batch is refused as a whole. Pure; a store reads the facts in its
//! transaction, asks [`decide_batch`], and writes what it returns.

use std::collections::HashMap;

use crate::batch::rules::{validate_batch, AccountContext, Violation};
use crate::continuity::{self, BalanceCheck, Ledger, Step};
use crate::profile::PlatformProfile;
use crate::transaction::{Transaction, TransactionData};
use crate::{Amount, BankFeedAccount, BankFeedAccountId, Currency, Timestamp, TransactionId};

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
    Invalid(Vec<Violation>),
    /// The account is not (or no longer) on the connection.
    AccountNotFound,
    /// The reported `current_balance` disagrees with the previous balance plus the new
    /// transactions, and the platform refuses such statements (Xero). `currency` is the
    /// account's, to write the figures in.
    BalanceMismatch {
        check: Box<BalanceCheck>,
        currency: Currency,
    },
}

impl BatchRefusal {
    /// A fixed name for the kind of refusal (metrics label it by this, never by the details).
    pub fn kind(&self) -> &'static str {
        match self {
            BatchRefusal::Conflict { .. } => "conflict",
            BatchRefusal::Invalid(_) => "invalid",
            BatchRefusal::AccountNotFound => "account_not_found",
            BatchRefusal::BalanceMismatch { .. } => "balance_mismatch",
        }
    }
}

/// One `POST /bank_feeds/transactions`: a batch for one account, and optionally the account's
/// balance after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRequest {
    pub bank_feed_account_id: BankFeedAccountId,
    pub current_balance: Option<Amount>,
    pub transactions: Vec<TransactionData>,
}

/// Sorts a batch against the account's stored transactions with the same ids: `Ok(is_new)`
/// per transaction (an identical re-send is not new), or the ids stored with different
/// content, each once, in batch order.
pub fn classify(
    batch: &[TransactionData],
    stored: &HashMap<String, Transaction>,
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
    account: &BankFeedAccount,
    batch: &[TransactionData],
    is_new: &[bool],
    stored: &HashMap<String, Transaction>,
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
                    id: TransactionId::new(),
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

/// A batch none of whose transactions is new is a re-send, and writes nothing: no rows, no
/// event, and not its `current_balance` either. That balance was true when the batch was first
/// sent (it was checked then, see `continuity`); a stale retry must not move the account's
/// balance back past batches applied since.
pub fn is_pure_resend(items: &[BatchItem]) -> bool {
    items.iter().all(|i| i.duplicate)
}

/// What a store read for a batch, in the transaction (or snapshot) it decides it in.
#[derive(Debug, Clone, Copy)]
pub struct BatchFacts<'a> {
    /// The batch's account, if it is a live account of the job's connection.
    pub account: Option<&'a BankFeedAccount>,
    /// The newest `posted_at` stored for the account.
    pub newest_posted_at: Option<Timestamp>,
    /// The account's stored transactions with the batch's `transaction_id`s.
    pub stored: &'a HashMap<String, Transaction>,
    /// The account's reported balances so far (see `continuity`).
    pub ledger: Ledger,
}

/// An accepted batch: the answer's items (the new rows are [`fresh`]) and what it does to the
/// account's balance continuity (the report to record, the ledger to keep).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub items: Vec<BatchItem>,
    pub balance: Step,
}

impl Decision {
    /// A decision as the answer's outcome (what a door renders) and the balance step to write.
    pub fn split(
        decided: Result<Decision, BatchRefusal>,
    ) -> (Result<Vec<BatchItem>, BatchRefusal>, Option<Step>) {
        match decided {
            Ok(d) => (Ok(d.items), Some(d.balance)),
            Err(refusal) => (Err(refusal), None),
        }
    }
}

/// Decides a batch against what is stored and the platform's rules: the answer's items (the
/// new rows are [`fresh`]) and its balance check, or why the whole batch is refused. Pure, so
/// every backend decides alike; the store writes what it returns.
pub fn decide_batch(
    facts: BatchFacts<'_>,
    batch: &BatchRequest,
    profile: &PlatformProfile,
    now: Timestamp,
) -> Result<Decision, BatchRefusal> {
    let account = facts.account.ok_or(BatchRefusal::AccountNotFound)?;
    let is_new = classify(&batch.transactions, facts.stored)
        .map_err(|transaction_ids| BatchRefusal::Conflict { transaction_ids })?;
    let ctx = AccountContext::of(account, facts.newest_posted_at);
    validate_batch(profile, &ctx, &batch.transactions, &is_new, now)
        .map_err(BatchRefusal::Invalid)?;
    let items = assemble(account, &batch.transactions, &is_new, facts.stored, now);
    let new_amounts: Vec<_> = fresh(&items).iter().map(|t| t.data.amount).collect();
    let balance = continuity::step(facts.ledger, &new_amounts, batch.current_balance);
    match balance.check {
        Some(check) if check.is_break() && profile.refuses_balance_breaks => {
            Err(BatchRefusal::BalanceMismatch {
                check: Box::new(check),
                currency: account.currency,
            })
        }
        _ => Ok(Decision { items, balance }),
    }
}

#[cfg(test)]
mod tests;
