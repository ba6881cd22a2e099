//! A source account's balance continuity (the hub's own operation, beside Codat's).

use bankfeeds_domain::money::Money;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whether the source account's reported balances tie out with its transactions.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Continuity {
    pub source_account_id: String,
    pub currency: String,
    /// `TiesOut`, `Breaks` or `Unknown` (no balance reported yet).
    pub state: String,
    pub last_reported_balance: Option<Money>,
    /// New amounts since the last reported balance.
    pub unreported_amount: Money,
    pub segments: Vec<Segment>,
    pub breaks: Vec<Break>,
    /// Whether the feed is stale now: nothing posted for longer than its rhythm allows.
    pub stale: bool,
    /// The usual gap between posting days, in open days (not declared closed): the median,
    /// or 1 until there are three gaps.
    pub rhythm_days: u64,
    /// A silence of more open days than this is stale: three times the rhythm, at least 4.
    pub stale_after_days: u64,
    /// Silences longer than that, oldest first (the last may be `ongoing`).
    pub stale_spans: Vec<StaleSpan>,
    /// Day ranges the FI declared closed, told apart from days nothing was sent for.
    pub closed_days: Vec<ClosedDays>,
}

/// Days with no transaction posted for longer than the feed's rhythm.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StaleSpan {
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    /// Days in it not declared closed: nothing was sent for them.
    pub open_days: u64,
    /// Days in it the FI declared closed (not counted).
    pub closed_days: u64,
    /// It runs up to today.
    pub ongoing: bool,
}

/// A day range the FI declared closed (both ends included).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClosedDays {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    #[schema(format = DateTime)]
    pub declared_at: String,
}

/// A run of reports that tie out.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Segment {
    pub first_report: i64,
    pub last_report: i64,
    pub opening_balance: Money,
    pub closing_balance: Money,
    #[schema(format = DateTime)]
    pub posted_from: Option<String>,
    #[schema(format = DateTime)]
    pub posted_through: Option<String>,
}

/// A reported balance that did not tie out.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Break {
    #[schema(format = Uuid)]
    pub id: String,
    pub report: i64,
    /// The push that reported it.
    #[schema(format = Uuid)]
    pub push_operation_key: String,
    #[schema(format = DateTime)]
    pub posted_through: Option<String>,
    pub expected: Option<Money>,
    pub reported: Money,
    pub difference: Money,
    #[schema(format = DateTime)]
    pub reported_at: String,
    pub acknowledged: Option<Acknowledged>,
}

/// The FI's acknowledgement of a break.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Acknowledged {
    pub reason: String,
    #[schema(format = DateTime)]
    pub acknowledged_at: String,
}

/// Acknowledge a break.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeIn {
    /// Why the break is accepted as it is (recorded, and sent with the event).
    #[schema(min_length = 1, max_length = 1000, pattern = r"\S")]
    pub reason: String,
}

/// Declare a day range closed (both ends included).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosedDaysIn {
    /// The first closed day, `YYYY-MM-DD` (UTC).
    #[schema(format = Date, min_length = 10, max_length = 10)]
    pub from: String,
    /// The last closed day (included); at most 366 days after `from`'s start.
    #[schema(format = Date, min_length = 10, max_length = 10)]
    pub to: String,
}
