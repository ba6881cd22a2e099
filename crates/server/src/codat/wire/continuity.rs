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
