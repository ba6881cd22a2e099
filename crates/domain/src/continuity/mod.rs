//! Balance continuity: whether the balances an FI reports with its batches agree with the
//! transactions it sent. Pure rules; a store loads the account's [`Ledger`], asks
//! [`step`] what a batch does to it, and writes the [`BalanceCheck`] it returns (in the same
//! transaction as the batch).
//!
//! The rule: the first balance an account reports is its opening balance. After that, each
//! reported balance is expected to be the previous reported balance plus the amounts of every
//! *new* transaction stored since (in this batch and in batches sent without a balance in
//! between; an identical re-sent transaction adds nothing). A report that differs is a break;
//! the reported figure is the next baseline, so one wrong figure is one break, not a cascade.
//! A batch with no new transaction is a re-send: its balance was checked when it was first
//! sent (or belongs to an earlier point of the feed), so it is not checked again.

pub mod gaps;
mod report;

use rust_decimal::Decimal;

use crate::{Amount, BankFeedAccountId, JobId, Timestamp};

pub use report::{summarise, Continuity, ContinuityState, Segment};

crate::define_id!(
    /// One balance an FI reported with a batch, and how it compared.
    BalanceReportId
);

/// What the store keeps between batches about an account's reported balances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ledger {
    /// The balance the FI reported last (`None`: it never has).
    pub last_reported: Option<Decimal>,
    /// The amounts of the new transactions stored since that report (since the first
    /// transaction, when there is none), not yet covered by a reported balance.
    pub unreported: Decimal,
}

/// One reported balance, compared with what the transactions say it should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BalanceCheck {
    /// The balance reported before this one (`None`: this is the opening balance).
    pub balance_before: Option<Decimal>,
    /// New amounts stored between the previous report and this batch (batches sent without
    /// a balance).
    pub unreported_amount: Decimal,
    /// The sum of this batch's new transactions (re-sent duplicates do not count).
    pub batch_amount: Decimal,
    /// `balance_before + unreported_amount + batch_amount` (`None` for the opening balance).
    pub expected: Option<Decimal>,
    /// What the FI reported (`current_balance`).
    pub reported: Decimal,
    /// `reported − expected` (zero for the opening balance).
    pub difference: Decimal,
}

impl BalanceCheck {
    /// The reported balance disagrees with the transactions.
    pub fn is_break(&self) -> bool {
        self.expected.is_some() && !self.difference.is_zero()
    }

    /// This is the account's first reported balance.
    pub fn is_opening(&self) -> bool {
        self.expected.is_none()
    }
}

/// What one batch does to the ledger: the check to record (when it reported a balance that
/// counts) and the ledger after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub check: Option<BalanceCheck>,
    pub after: Ledger,
}

/// What a batch with `new_amounts` (its new transactions' amounts, duplicates left out) and
/// `reported` (its `current_balance`) does to `ledger` (see the module docs).
pub fn step(ledger: Ledger, new_amounts: &[Amount], reported: Option<Amount>) -> Step {
    if new_amounts.is_empty() {
        return Step {
            check: None,
            after: ledger,
        };
    }
    let batch_amount: Decimal = new_amounts.iter().map(Amount::as_decimal).sum();
    let Some(reported) = reported.map(|r| r.as_decimal()) else {
        return Step {
            check: None,
            after: Ledger {
                unreported: ledger.unreported + batch_amount,
                ..ledger
            },
        };
    };
    let expected = ledger
        .last_reported
        .map(|before| before + ledger.unreported + batch_amount);
    let check = BalanceCheck {
        balance_before: ledger.last_reported,
        unreported_amount: ledger.unreported,
        batch_amount,
        expected,
        reported,
        difference: expected.map_or(Decimal::ZERO, |e| reported - e).normalize(),
    };
    Step {
        check: Some(check),
        after: Ledger {
            last_reported: Some(reported),
            unreported: Decimal::ZERO,
        },
    }
}

/// An FI's acknowledgement of a break: it knows, and says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    pub reason: String,
    pub acknowledged_at: Timestamp,
}

/// The longest acknowledgement reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 1000;

/// Why an acknowledgement is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AcknowledgeRefusal {
    #[error("the reason is empty")]
    EmptyReason,
    #[error("the reason is longer than {MAX_REASON_CHARS} characters")]
    ReasonTooLong,
    #[error("this balance report is not a break")]
    NotABreak,
    #[error("this break is already acknowledged")]
    AlreadyAcknowledged,
}

impl AcknowledgeRefusal {
    pub fn code(self) -> &'static str {
        match self {
            AcknowledgeRefusal::EmptyReason | AcknowledgeRefusal::ReasonTooLong => "INVALID_REASON",
            AcknowledgeRefusal::NotABreak => "NOT_A_BREAK",
            AcknowledgeRefusal::AlreadyAcknowledged => "BREAK_ALREADY_ACKNOWLEDGED",
        }
    }
}

/// Whether `report` may be acknowledged with `reason`: only a break, only once, with a
/// non-empty reason of at most [`MAX_REASON_CHARS`].
pub fn acknowledge(report: &BalanceReport, reason: &str) -> Result<(), AcknowledgeRefusal> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AcknowledgeRefusal::EmptyReason);
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(AcknowledgeRefusal::ReasonTooLong);
    }
    if !report.check.is_break() {
        return Err(AcknowledgeRefusal::NotABreak);
    }
    if report.acknowledgement.is_some() {
        return Err(AcknowledgeRefusal::AlreadyAcknowledged);
    }
    Ok(())
}

/// One recorded balance report of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceReport {
    pub id: BalanceReportId,
    pub bank_feed_account_id: BankFeedAccountId,
    /// The batch (job) that reported it.
    pub job_id: JobId,
    /// 1 for the account's first report, then 2, 3, … in the order they were applied.
    pub seq: i64,
    pub check: BalanceCheck,
    /// The newest `posted_at` stored for the account once the batch was applied: where in
    /// the feed the balance stands.
    pub posted_through: Option<Timestamp>,
    pub created_at: Timestamp,
    pub acknowledgement: Option<Acknowledgement>,
}

#[cfg(test)]
mod tests;
