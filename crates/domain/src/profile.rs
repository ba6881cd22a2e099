//! Platform profiles: what each accounting platform accepts, so a batch is refused by the hub
//! with a clear error instead of failing later inside the platform.
//!
//! The values follow the seed documents (Rutter's and Codat's platform guides); where they and
//! DESIGN.md's table disagree the seeds win.

use crate::Platform;

/// Which API door a batch came through: the Codat door applies Codat's documented QuickBooks
/// window (7 days before the feed start date), the Rutter door Rutter's (none before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    Rutter,
    Codat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformProfile {
    pub platform: Platform,
    /// Largest batch accepted in one request (at least 1 is always required).
    pub max_batch: usize,
    /// Transactions are refused until the customer has linked the feed in the platform
    /// (`transaction_ready`). Intuit accepts them from creation and holds them until linked.
    pub requires_ready_feed: bool,
    /// A new bank feed account starts `transaction_ready` (Intuit) or not (everyone else).
    pub ready_at_creation: bool,
    /// A new bank feed account starts `active`: there is no platform-side link step (OFX
    /// Direct Connect, where the customer's software downloads the feed directly).
    pub active_at_creation: bool,
    /// How far before the feed's `transaction_start_date` a transaction may be posted:
    /// `Some(0)` none before it, `Some(n)` up to n days before, `None` no limit.
    pub days_before_start: Option<u32>,
    /// Transactions older than this many days (before now) are refused.
    pub max_age_days: Option<u32>,
    /// On the account's first import only, transactions older than this are refused.
    pub first_import_max_age_days: Option<u32>,
    /// How many transactions the platform takes per statement when it ingests.
    pub ingest_chunk: usize,
    /// Dates are local wall-clock times with no known zone (the Codat door: Codat ignores any
    /// offset), not instants (the Rutter door): a date is future only once it is later than
    /// the current time everywhere, i.e. in the zone furthest ahead (UTC+14).
    pub local_times: bool,
    /// A reported balance that disagrees with the transactions (a continuity break, see
    /// `continuity`) refuses the batch (Xero refuses such a statement: `invalid-end-balance`)
    /// rather than being recorded as a break.
    pub refuses_balance_breaks: bool,
}

impl PlatformProfile {
    pub fn for_platform(platform: Platform, door: Door) -> Self {
        let base = PlatformProfile {
            platform,
            max_batch: 1000,
            requires_ready_feed: true,
            ready_at_creation: false,
            active_at_creation: false,
            days_before_start: Some(0),
            max_age_days: None,
            first_import_max_age_days: None,
            ingest_chunk: 1000,
            local_times: door == Door::Codat,
            refuses_balance_breaks: false,
        };
        match platform {
            Platform::IntuitBankFeeds => PlatformProfile {
                requires_ready_feed: false,
                ready_at_creation: true,
                days_before_start: Some(if door == Door::Codat { 7 } else { 0 }),
                ..base
            },
            Platform::Xero => PlatformProfile {
                max_age_days: Some(365),
                refuses_balance_breaks: true,
                ..base
            },
            Platform::SageIntacct | Platform::SageBusinessCloud => PlatformProfile {
                ingest_chunk: 100,
                ..base
            },
            Platform::Netsuite => PlatformProfile {
                days_before_start: None,
                first_import_max_age_days: Some(60),
                ..base
            },
            Platform::OfxDirectConnect => PlatformProfile {
                requires_ready_feed: false,
                ready_at_creation: true,
                active_at_creation: true,
                ..base
            },
        }
    }
}
