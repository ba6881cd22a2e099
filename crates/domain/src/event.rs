//! The outbox: one event per change, recorded in the same database transaction as the change,
//! for webhooks and the events feed to deliver. The kinds are a closed set so a typo cannot
//! invent one and every consumer can match on them exhaustively.

use crate::{ConnectionId, OrgId, Timestamp};

/// What happened. `as_str` is the wire name (`resource.verb`), stored as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    AccountCreated,
    AccountUpdated,
    AccountDeleted,
    /// The account's feed state changed (linked, unlinked, activated, …).
    AccountFeedChanged,
    /// A platform ingested the account's pending transactions.
    AccountSynced,
    TransactionsCreated,
    JobFinished,
    /// A batch reported a balance that disagrees with the transactions (a continuity break).
    BalanceMismatch,
    /// The FI acknowledged a continuity break, with a reason.
    BalanceBreakAcknowledged,
}

impl EventKind {
    pub const ALL: [EventKind; 9] = [
        EventKind::AccountCreated,
        EventKind::AccountUpdated,
        EventKind::AccountDeleted,
        EventKind::AccountFeedChanged,
        EventKind::AccountSynced,
        EventKind::TransactionsCreated,
        EventKind::JobFinished,
        EventKind::BalanceMismatch,
        EventKind::BalanceBreakAcknowledged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::AccountCreated => "bank_feed_account.created",
            EventKind::AccountUpdated => "bank_feed_account.updated",
            EventKind::AccountDeleted => "bank_feed_account.deleted",
            EventKind::AccountFeedChanged => "bank_feed_account.feed_changed",
            EventKind::AccountSynced => "bank_feed_account.synced",
            EventKind::TransactionsCreated => "bank_feed_transactions.created",
            EventKind::JobFinished => "job.finished",
            EventKind::BalanceMismatch => "bank_feed_account.balance_mismatch",
            EventKind::BalanceBreakAcknowledged => "bank_feed_account.balance_break_acknowledged",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Commit order within the store.
    pub seq: i64,
    pub org_id: OrgId,
    pub connection_id: Option<ConnectionId>,
    pub kind: EventKind,
    pub resource_id: String,
    pub payload: serde_json::Value,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_back_from_its_wire_name_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
            assert!(names.insert(k.as_str()), "{k} twice");
        }
        assert_eq!(EventKind::parse("bank_feed_account.exploded"), None);
    }
}
