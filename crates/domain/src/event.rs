//! The outbox: one event per change, recorded in the same database transaction as the change,
//! for webhooks and the events feed to deliver. The kinds are a closed set so a typo cannot
//! invent one and every consumer can match on them exhaustively.

use crate::account::FeedStatus;
use crate::{ConnectionId, OrgId, Timestamp};

/// What happened. `as_str` is the wire name (`resource.verb`), stored as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    ConnectionCreated,
    ConnectionDeleted,
    /// The customer completed the link flow: the platform company now takes these feeds.
    ConnectionLinked,
    /// The customer's link of the connection ended (Codat door `unlink`).
    ConnectionUnlinked,
    AccountCreated,
    AccountUpdated,
    AccountDeleted,
    /// The account's feed state changed (linked, unlinked, activated, …).
    AccountFeedChanged,
    /// The account's feed became active (a platform takes it).
    AccountActivated,
    /// The account's feed stopped being active.
    AccountDeactivated,
    /// A platform ingested the account's pending transactions.
    AccountSynced,
    TransactionsCreated,
    /// A Rutter-door job (a batch) finished with a 2xx answer.
    JobSucceeded,
    /// A Rutter-door job finished with an error answer.
    JobFailed,
    /// A Codat-door push operation finished with a 2xx answer.
    CodatPushSucceeded,
    /// A Codat-door push operation finished with an error answer.
    CodatPushFailed,
    /// Written before migration 0020 for every finished job; no longer recorded (the four
    /// kinds above say the outcome and the door), still read back from old rows.
    JobFinished,
    /// A batch reported a balance that disagrees with the transactions (a continuity break).
    BalanceMismatch,
    /// The FI acknowledged a continuity break, with a reason.
    BalanceBreakAcknowledged,
    /// The hub disabled a webhook endpoint that kept failing (`domain::webhook::delivery`).
    WebhookDisabled,
    /// The organisation's client secret was replaced (the console or the command line).
    ClientSecretRotated,
    /// A bank feeds configuration (FI configuration) was created or replaced.
    FiConfigUpdated,
    /// An account's live feed (Xero) changed state: its feed connection was asked for,
    /// became active or was rejected, stopped on a refused statement, needs the customer's
    /// consent again, was restarted or removed.
    LiveFeedChanged,
    /// A webhook endpoint was created, changed, enabled or disabled by the organisation, had
    /// its secret rotated, was deleted, or had events queued to it again.
    WebhookChanged,
}

impl EventKind {
    pub const ALL: [EventKind; 24] = [
        EventKind::ConnectionCreated,
        EventKind::ConnectionDeleted,
        EventKind::ConnectionLinked,
        EventKind::ConnectionUnlinked,
        EventKind::AccountCreated,
        EventKind::AccountUpdated,
        EventKind::AccountDeleted,
        EventKind::AccountFeedChanged,
        EventKind::AccountActivated,
        EventKind::AccountDeactivated,
        EventKind::AccountSynced,
        EventKind::TransactionsCreated,
        EventKind::JobSucceeded,
        EventKind::JobFailed,
        EventKind::CodatPushSucceeded,
        EventKind::CodatPushFailed,
        EventKind::JobFinished,
        EventKind::BalanceMismatch,
        EventKind::BalanceBreakAcknowledged,
        EventKind::WebhookDisabled,
        EventKind::ClientSecretRotated,
        EventKind::FiConfigUpdated,
        EventKind::LiveFeedChanged,
        EventKind::WebhookChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ConnectionCreated => "connection.created",
            EventKind::ConnectionDeleted => "connection.deleted",
            EventKind::ConnectionLinked => "connection.linked",
            EventKind::ConnectionUnlinked => "connection.unlinked",
            EventKind::AccountCreated => "bank_feed_account.created",
            EventKind::AccountUpdated => "bank_feed_account.updated",
            EventKind::AccountDeleted => "bank_feed_account.deleted",
            EventKind::AccountFeedChanged => "bank_feed_account.feed_changed",
            EventKind::AccountActivated => "bank_feed_account.activated",
            EventKind::AccountDeactivated => "bank_feed_account.deactivated",
            EventKind::AccountSynced => "bank_feed_account.synced",
            EventKind::TransactionsCreated => "bank_feed_transactions.created",
            EventKind::JobSucceeded => "job.succeeded",
            EventKind::JobFailed => "job.failed",
            EventKind::CodatPushSucceeded => "codat.push_operation.succeeded",
            EventKind::CodatPushFailed => "codat.push_operation.failed",
            EventKind::JobFinished => "job.finished",
            EventKind::BalanceMismatch => "bank_feed_account.balance_mismatch",
            EventKind::BalanceBreakAcknowledged => "bank_feed_account.balance_break_acknowledged",
            EventKind::WebhookDisabled => "webhook.disabled",
            EventKind::ClientSecretRotated => "organisation.client_secret_rotated",
            EventKind::FiConfigUpdated => "bank_feeds_config.updated",
            EventKind::LiveFeedChanged => "bank_feed_account.live_feed_changed",
            EventKind::WebhookChanged => "webhook.changed",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the hub still records this kind (a webhook may subscribe to it).
    pub fn is_recorded(self) -> bool {
        self != EventKind::JobFinished
    }

    /// The kind a finished job records: by its door (`codat`: a Codat push operation) and
    /// whether its answer was a success.
    pub fn job_outcome(codat: bool, succeeded: bool) -> EventKind {
        match (codat, succeeded) {
            (false, true) => EventKind::JobSucceeded,
            (false, false) => EventKind::JobFailed,
            (true, true) => EventKind::CodatPushSucceeded,
            (true, false) => EventKind::CodatPushFailed,
        }
    }

    /// What an account's feed moving from `before` to `after` records besides
    /// `bank_feed_account.feed_changed`: `activated` when it became active, `deactivated` when
    /// it stopped being active, nothing otherwise.
    pub fn feed_transition(before: FeedStatus, after: FeedStatus) -> Option<EventKind> {
        match (before, after) {
            (FeedStatus::Inactive, FeedStatus::Active) => Some(EventKind::AccountActivated),
            (FeedStatus::Active, FeedStatus::Inactive) => Some(EventKind::AccountDeactivated),
            _ => None,
        }
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
        assert!(!EventKind::JobFinished.is_recorded());
    }

    #[test]
    fn a_finished_job_records_its_door_and_outcome() {
        assert_eq!(
            EventKind::job_outcome(false, true).as_str(),
            "job.succeeded"
        );
        assert_eq!(EventKind::job_outcome(false, false).as_str(), "job.failed");
        assert_eq!(
            EventKind::job_outcome(true, true).as_str(),
            "codat.push_operation.succeeded"
        );
        assert_eq!(
            EventKind::job_outcome(true, false).as_str(),
            "codat.push_operation.failed"
        );
    }

    #[test]
    fn only_crossing_into_or_out_of_active_is_an_activation_event() {
        use FeedStatus::{Active, Inactive};
        assert_eq!(
            EventKind::feed_transition(Inactive, Active),
            Some(EventKind::AccountActivated)
        );
        assert_eq!(
            EventKind::feed_transition(Active, Inactive),
            Some(EventKind::AccountDeactivated)
        );
        assert_eq!(EventKind::feed_transition(Active, Active), None);
        assert_eq!(EventKind::feed_transition(Inactive, Inactive), None);
    }
}
