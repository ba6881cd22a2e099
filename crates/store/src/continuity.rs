//! Balance continuity: the balances an FI reported with its batches, as recorded by
//! `TransactionStore::apply_batch` in each batch's own transaction, and their acknowledgement.

use crate::{Idem, StoreResult, StoredResponse};
use async_trait::async_trait;
use bankfeeds_domain::continuity::{AcknowledgeRefusal, BalanceReport, BalanceReportId, Ledger};
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, ConnectionId, Timestamp};

/// What `continuity` reads for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountContinuity {
    pub account: BankFeedAccount,
    /// What the next reported balance will be checked against.
    pub ledger: Ledger,
    /// The reports `continuity::summarise` needs, in `seq` order: the first, the last, every
    /// break and the report just before each break (the ones in between tie out and change
    /// nothing in the summary).
    pub reports: Vec<BalanceReport>,
}

/// What acknowledging a break did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acknowledged {
    /// Recorded now (with its event).
    Done(BalanceReport),
    /// An earlier request with the same idempotency key did it: its saved answer.
    Replayed(StoredResponse),
    /// The domain refused (see `continuity::acknowledge`); nothing written.
    Refused(AcknowledgeRefusal),
    /// No such live account on the connection, or no such report of it.
    NotFound,
}

#[async_trait]
pub trait ContinuityStore: Send + Sync {
    /// The continuity of a live account of the connection (`None`: no such account).
    async fn continuity(
        &self,
        connection: ConnectionId,
        account: BankFeedAccountId,
    ) -> StoreResult<Option<AccountContinuity>>;

    /// Acknowledges a break of a live account of the connection with a reason, and records
    /// the event (and the idempotency key's answer), in one transaction.
    async fn acknowledge_break(
        &self,
        connection: ConnectionId,
        account: BankFeedAccountId,
        report: BalanceReportId,
        reason: &str,
        now: Timestamp,
        idem: Option<Idem<'_, BalanceReport>>,
    ) -> StoreResult<Acknowledged>;
}
