//! Balance continuity: the balances an FI reported with its batches, as recorded by
//! `TransactionStore::apply_batch` in each batch's own transaction, and their acknowledgement.

use crate::{Idem, StoreResult, StoredResponse};
use async_trait::async_trait;
use bankfeeds_domain::continuity::gaps::ClosedDays;
use bankfeeds_domain::continuity::{AcknowledgeRefusal, BalanceReport, BalanceReportId, Ledger};
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, ConnectionId, Timestamp};
use chrono::NaiveDate;

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
    /// The days with at least one posted transaction (UTC dates of `posted_at`), ascending.
    pub posting_days: Vec<NaiveDate>,
    /// The day ranges the FI declared closed, by `from`.
    pub closed_days: Vec<ClosedDays>,
}

/// What declaring a day range closed did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclaredClosed {
    /// Recorded now, or already declared with the same range (the stored declaration).
    Declared(ClosedDays),
    /// Transactions are posted on these days of the range: they were not closed. Nothing written.
    HasPostings(Vec<NaiveDate>),
    /// No such live account on the connection.
    NotFound,
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
    /// For each live feed of the organisation (on a live connection): its posting days on or
    /// after `since`, whether it posted before, and its closed ranges reaching `since`: what
    /// the console's overview judges staleness by (`domain::console::is_stale`). Reads only
    /// the window's rows, so the count stays bounded however old the hub is.
    async fn feed_days(
        &self,
        org: bankfeeds_domain::OrgId,
        since: NaiveDate,
    ) -> StoreResult<Vec<bankfeeds_domain::console::FeedDays>>;

    /// The continuity of a live account of the connection (`None`: no such account).
    async fn continuity(
        &self,
        connection: ConnectionId,
        account: BankFeedAccountId,
    ) -> StoreResult<Option<AccountContinuity>>;

    /// Declares the days `from..=to` (checked by `continuity::gaps::closed_range`) closed for
    /// a live account of the connection: no transactions were or will be posted on them.
    /// Declaring the same range again changes nothing.
    async fn declare_closed_days(
        &self,
        connection: ConnectionId,
        account: BankFeedAccountId,
        from: NaiveDate,
        to: NaiveDate,
        now: Timestamp,
    ) -> StoreResult<DeclaredClosed>;

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
