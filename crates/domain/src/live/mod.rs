//! Live delivery to an accounting platform's own API (Xero's Bank Feeds API first), beside the
//! built-in sandboxes: which one an FI chose per platform (`ConnectorMode`), the state of a
//! live feed the FI sees (`LiveFeedState`), and Xero's rules (`xero.rs`): how statements are cut
//! and what each of Xero's answers does to a feed.

pub mod consent;
pub mod rate;
pub mod xero;

use serde::{Deserialize, Serialize};

/// Where an organisation's feeds of one platform are delivered.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorMode {
    /// The hub's built-in sandbox platform (the default).
    #[default]
    Sandbox,
    /// The platform's own API, with the FI's app credentials.
    Live,
}

str_enum!(ConnectorMode {
    Sandbox => "sandbox",
    Live => "live",
});

/// An organisation's choice for one platform, with the live app's credentials sealed by the
/// server's key ring (opaque text here; only the server opens it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorSettings {
    pub org_id: crate::OrgId,
    pub platform: crate::Platform,
    pub mode: ConnectorMode,
    /// The platform app's client id and secret, each sealed for this row; `None` until set.
    pub client_id_sealed: Option<String>,
    pub client_secret_sealed: Option<String>,
    pub created_at: crate::Timestamp,
    pub updated_at: crate::Timestamp,
}

impl ConnectorSettings {
    /// What an organisation that never chose has: the sandbox, no credentials.
    pub fn default_for(
        org_id: crate::OrgId,
        platform: crate::Platform,
        now: crate::Timestamp,
    ) -> Self {
        Self {
            org_id,
            platform,
            mode: ConnectorMode::Sandbox,
            client_id_sealed: None,
            client_secret_sealed: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether live delivery has what it needs to start.
    pub fn has_credentials(&self) -> bool {
        self.client_id_sealed.is_some() && self.client_secret_sealed.is_some()
    }
}

/// Why a connector setting is refused (the API's stable codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorRefusal {
    #[error("this platform has no live connector; only `sandbox` is available")]
    NoLiveConnector,
    #[error("live delivery needs the platform app's client_id and client_secret")]
    CredentialsMissing,
    #[error("client_id and client_secret are set together")]
    CredentialsIncomplete,
    #[error("the hub has no secrets_key configured, so it cannot keep app credentials")]
    NoSecretsKey,
}

impl ConnectorRefusal {
    pub fn code(self) -> &'static str {
        match self {
            ConnectorRefusal::NoLiveConnector => "NO_LIVE_CONNECTOR",
            ConnectorRefusal::CredentialsMissing => "LIVE_CREDENTIALS_MISSING",
            ConnectorRefusal::CredentialsIncomplete => "LIVE_CREDENTIALS_INCOMPLETE",
            ConnectorRefusal::NoSecretsKey => "SECRETS_KEY_NOT_CONFIGURED",
        }
    }
}

/// Decides a change of an organisation's connector for a platform: `mode` (kept when `None`)
/// and new credentials (`Some` both or neither); `have_key` whether the hub can seal. Says what
/// the setting becomes, before sealing: `Ok(true)` when new credentials are to be stored.
pub fn decide_connector(
    platform: crate::Platform,
    current: &ConnectorSettings,
    mode: Option<ConnectorMode>,
    client_id: Option<&str>,
    client_secret: Option<&str>,
    have_key: bool,
) -> Result<(ConnectorMode, bool), ConnectorRefusal> {
    let mode = mode.unwrap_or(current.mode);
    let new_credentials = match (client_id, client_secret) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => true,
        (None, None) => false,
        _ => return Err(ConnectorRefusal::CredentialsIncomplete),
    };
    if (mode == ConnectorMode::Live || new_credentials) && !has_live_connector(platform) {
        return Err(ConnectorRefusal::NoLiveConnector);
    }
    if new_credentials && !have_key {
        return Err(ConnectorRefusal::NoSecretsKey);
    }
    if mode == ConnectorMode::Live {
        if !have_key {
            return Err(ConnectorRefusal::NoSecretsKey);
        }
        if !new_credentials && !current.has_credentials() {
            return Err(ConnectorRefusal::CredentialsMissing);
        }
    }
    Ok((mode, new_credentials))
}

/// The platforms with a live connector.
pub fn has_live_connector(platform: crate::Platform) -> bool {
    platform == crate::Platform::Xero
}

/// A live feed as the FI sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LiveFeedState {
    /// The feed connection was asked for; the platform has not said yes yet.
    Pending,
    /// Statements are delivered.
    Active,
    /// The platform refused the feed connection (see the error code).
    Rejected,
    /// A statement was refused for a reason a retry cannot fix; nothing more is sent until the
    /// FI acts (see the error code).
    Stopped,
    /// The customer's consent was revoked or expired: the customer must connect again.
    ReauthorizationRequired,
}

str_enum!(LiveFeedState {
    Pending => "pending",
    Active => "active",
    Rejected => "rejected",
    Stopped => "stopped",
    ReauthorizationRequired => "reauthorization_required",
});

impl LiveFeedState {
    /// Whether statements may go to the platform.
    pub fn delivers(self) -> bool {
        self == LiveFeedState::Active
    }
}

crate::define_id!(
    /// A statement cut for live delivery (`live_statements`); also its `Idempotency-Key`.
    LiveStatementId
);

crate::define_id!(
    /// A feed connection to delete at the platform (`live_feed_deletions`, the outbox of
    /// `POST /FeedConnections/DeleteRequests`).
    LiveDeletionId
);

/// Why a live feed cannot be restarted by the FI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartRefusal {
    /// The account has no live feed.
    NoLiveFeed,
    /// Only a stopped feed restarts; the feed is in this state.
    NotStopped(LiveFeedState),
}

impl RestartRefusal {
    pub fn code(self) -> &'static str {
        match self {
            RestartRefusal::NoLiveFeed => "NO_LIVE_FEED",
            RestartRefusal::NotStopped(_) => "LIVE_FEED_NOT_STOPPED",
        }
    }
}

/// Whether a feed in `state` may be restarted by the FI: only a stopped one (a refused
/// statement). A rejected feed connection or a missing consent needs the customer instead.
pub fn check_restart(state: Option<LiveFeedState>) -> Result<(), RestartRefusal> {
    match state {
        None => Err(RestartRefusal::NoLiveFeed),
        Some(LiveFeedState::Stopped) => Ok(()),
        Some(other) => Err(RestartRefusal::NotStopped(other)),
    }
}

/// Whether a statement still in the queue is taken back when the feed connection it was cut
/// for goes (the account unlinked or deleted, or the feed asking the platform for a new one):
/// only one never tried, which reached no one, so its transactions can be cut again for the
/// next feed. One tried may have reached the platform with the answer lost; it stays, to be
/// settled by its retry under the same Idempotency-Key, as a sent one is by its polling.
/// Withdrawing a tried one and cutting its transactions again could deliver them twice.
pub fn withdrawn_with_its_feed(status: LiveStatementStatus, attempts: i64) -> bool {
    status == LiveStatementStatus::Queued && attempts == 0
}

/// Where a live statement is on its way to the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LiveStatementStatus {
    /// Cut, not yet accepted by the platform.
    Queued,
    /// The platform has it and is still working on it (Xero's `PENDING`): polled until it ends.
    Sent,
    /// The platform delivered it (or knew it already: a lost answer to our own earlier try).
    Delivered,
    /// Refused for a reason no retry fixes; its feed stopped with the reason.
    Rejected,
    /// Taken back untried when the feed it was cut for went (see [`withdrawn_with_its_feed`]);
    /// its transactions were cut again for the next feed.
    Withdrawn,
}

str_enum!(LiveStatementStatus {
    Queued => "queued",
    Sent => "sent",
    Delivered => "delivered",
    Rejected => "rejected",
    Withdrawn => "withdrawn",
});

impl LiveStatementStatus {
    /// Whether the statement still has to go (it holds its account's later statements back).
    pub fn unfinished(self) -> bool {
        matches!(
            self,
            LiveStatementStatus::Queued | LiveStatementStatus::Sent
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for mode in [ConnectorMode::Sandbox, ConnectorMode::Live] {
            assert_eq!(ConnectorMode::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(ConnectorMode::default(), ConnectorMode::Sandbox);
        for state in [
            LiveFeedState::Pending,
            LiveFeedState::Active,
            LiveFeedState::Rejected,
            LiveFeedState::Stopped,
            LiveFeedState::ReauthorizationRequired,
        ] {
            assert_eq!(LiveFeedState::parse(state.as_str()), Some(state));
        }
        assert!(LiveFeedState::Active.delivers());
        for status in [
            LiveStatementStatus::Queued,
            LiveStatementStatus::Sent,
            LiveStatementStatus::Delivered,
            LiveStatementStatus::Rejected,
            LiveStatementStatus::Withdrawn,
        ] {
            assert_eq!(LiveStatementStatus::parse(status.as_str()), Some(status));
        }
        assert!(LiveStatementStatus::Sent.unfinished());
        assert!(!LiveStatementStatus::Delivered.unfinished());
        assert!(!LiveStatementStatus::Withdrawn.unfinished());
        assert!(!LiveFeedState::Stopped.delivers());
    }

    #[test]
    fn only_an_untried_queued_statement_is_withdrawn_with_its_feed() {
        use LiveStatementStatus::*;
        assert!(withdrawn_with_its_feed(Queued, 0));
        assert!(
            !withdrawn_with_its_feed(Queued, 1),
            "tried: its answer may be lost"
        );
        for settled in [Sent, Delivered, Rejected, Withdrawn] {
            assert!(!withdrawn_with_its_feed(settled, 0));
        }
    }

    #[test]
    fn only_a_stopped_feed_restarts() {
        assert_eq!(check_restart(Some(LiveFeedState::Stopped)), Ok(()));
        assert_eq!(check_restart(None), Err(RestartRefusal::NoLiveFeed));
        for state in [
            LiveFeedState::Pending,
            LiveFeedState::Active,
            LiveFeedState::Rejected,
            LiveFeedState::ReauthorizationRequired,
        ] {
            assert_eq!(
                check_restart(Some(state)),
                Err(RestartRefusal::NotStopped(state))
            );
        }
    }

    #[test]
    fn going_live_needs_a_key_and_credentials() {
        use crate::Platform::{Netsuite, Xero};
        let now: crate::Timestamp = "2026-12-04T00:00:00Z".parse().unwrap();
        let blank = ConnectorSettings::default_for(crate::OrgId::new(), Xero, now);
        let live = Some(ConnectorMode::Live);
        let decide =
            |current, mode, id, secret, key| decide_connector(Xero, current, mode, id, secret, key);
        assert_eq!(
            decide(&blank, live, None, None, true),
            Err(ConnectorRefusal::CredentialsMissing)
        );
        assert_eq!(
            decide(&blank, live, Some("id"), Some("s"), false),
            Err(ConnectorRefusal::NoSecretsKey)
        );
        assert_eq!(
            decide(&blank, None, Some("id"), None, true),
            Err(ConnectorRefusal::CredentialsIncomplete)
        );
        assert_eq!(
            decide(&blank, None, Some(""), Some("s"), true),
            Err(ConnectorRefusal::CredentialsIncomplete)
        );
        assert_eq!(
            decide(&blank, live, Some("id"), Some("s"), true),
            Ok((ConnectorMode::Live, true))
        );
        let with_credentials = ConnectorSettings {
            client_id_sealed: Some("x".into()),
            client_secret_sealed: Some("y".into()),
            ..blank.clone()
        };
        assert_eq!(
            decide(&with_credentials, live, None, None, true),
            Ok((ConnectorMode::Live, false))
        );
        assert_eq!(
            decide(&blank, Some(ConnectorMode::Sandbox), None, None, false),
            Ok((ConnectorMode::Sandbox, false)),
            "the sandbox needs nothing"
        );
        assert_eq!(
            decide_connector(Netsuite, &blank, live, Some("i"), Some("s"), true),
            Err(ConnectorRefusal::NoLiveConnector)
        );
    }
}
