//! Gaps in a feed on the Rutter-shaped door: `POST …/accounts/:id/closed_days` (the FI declares
//! a day range closed, with no transactions) and the continuity report's `stale_spans` and
//! `closed_days`. The rules are `domain::continuity::gaps`.

use axum::extract::State;
use axum::Json as JsonOut;
use bankfeeds_domain::continuity::gaps::{closed_range, staleness, ClosedDays, StaleSpan};
use bankfeeds_domain::{BankFeedAccountId, Timestamp};
use bankfeeds_store::{AccountContinuity, DeclaredClosed};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::auth::ConnectionAuth;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::http::path::InPath;
use crate::http::responses::{BodyRefusals, Unauthorized};
use crate::state::AppState;

/// A day range the FI declared closed (both ends included).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClosedDaysOut {
    #[schema(value_type = String, format = "uuid")]
    pub id: String,
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    #[schema(value_type = String, format = DateTime)]
    pub declared_at: Timestamp,
}

impl From<&ClosedDays> for ClosedDaysOut {
    fn from(c: &ClosedDays) -> Self {
        ClosedDaysOut {
            id: c.id.to_string(),
            from: c.from,
            to: c.to,
            declared_at: c.declared_at,
        }
    }
}

/// Days with no transaction posted for longer than the feed's rhythm.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaleSpanOut {
    /// The first and last silent day.
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// Days in it that were not declared closed: nothing was sent for them.
    pub open_days: u64,
    /// Days in it the FI declared closed (not counted as silence).
    pub closed_days: u64,
    /// It runs up to today: nothing has been posted since.
    pub ongoing: bool,
}

impl From<&StaleSpan> for StaleSpanOut {
    fn from(s: &StaleSpan) -> Self {
        StaleSpanOut {
            from: s.from,
            to: s.to,
            open_days: s.open_days,
            closed_days: s.closed_days,
            ongoing: s.ongoing,
        }
    }
}

/// The continuity report's part about gaps (its fields are documented on `ContinuityOut`).
#[derive(Debug)]
pub struct GapsOut {
    pub stale: bool,
    pub rhythm_days: u64,
    pub stale_after_days: u64,
    pub stale_spans: Vec<StaleSpanOut>,
    pub closed_days: Vec<ClosedDaysOut>,
}

/// The gaps of a feed, judged on `today` (UTC).
pub fn gaps(found: &AccountContinuity, today: NaiveDate) -> GapsOut {
    let closed: Vec<_> = found.closed_days.iter().map(|c| (c.from, c.to)).collect();
    let s = staleness(&found.posting_days, &closed, today);
    GapsOut {
        stale: s.spans.iter().any(|x| x.ongoing),
        rhythm_days: s.rhythm_days,
        stale_after_days: s.threshold_days,
        stale_spans: s.spans.iter().map(StaleSpanOut::from).collect(),
        closed_days: found.closed_days.iter().map(ClosedDaysOut::from).collect(),
    }
}

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

#[derive(Debug, Serialize, ToSchema)]
pub struct ClosedDaysEnvelopeOut {
    pub closed_days: ClosedDaysOut,
}

/// Declare a day range closed: the FI posted, and will post, no transactions on these days
/// (a bank holiday, a weekend, a branch closure). The continuity report lists it and does not
/// count it as silence when it judges whether the feed is stale. Declaring the same range
/// again answers with the stored declaration. Refused when a transaction is posted on one of
/// the days.
#[utoipa::path(
    post,
    path = "/versioned/accounting/bank_feeds/accounts/{id}/closed_days",
    tag = "bank feed accounts",
    params(InPath<BankFeedAccountId>, crate::rutter::connections::AccessTokenParam),
    request_body = ClosedDaysIn,
    responses(
        (status = 200, body = ClosedDaysEnvelopeOut),
        (status = 400, description = "`INVALID_DATE` (not `YYYY-MM-DD`), `INVALID_DATE_RANGE` (`from` after `to`), `DATE_RANGE_TOO_LONG` (more than 366 days), `INVALID_ID`", body = crate::http::error::ErrorOut),
        (status = 409, description = "`CLOSED_DAY_HAS_TRANSACTIONS`: transactions are posted on some of the days (listed in `errors`)", body = crate::http::error::ErrorOut),
        (status = 410, description = "`BANK_FEED_ACCOUNT_NOT_FOUND`: no such account on this connection", body = crate::http::error::ErrorOut),
        Unauthorized, BodyRefusals,
    ),
)]
pub async fn declare_closed_days(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    InPath(id): InPath<BankFeedAccountId>,
    Json(body): Json<ClosedDaysIn>,
) -> ApiResult<JsonOut<ClosedDaysEnvelopeOut>> {
    let account = super::accounts::find_account(&state, &auth, id).await?;
    let (from, to) = closed_range(&body.from, &body.to)
        .map_err(|r| ApiError::bad_request(r.code(), r.to_string()))?;
    let done = state
        .store
        .declare_closed_days(auth.connection.id, account.id, from, to, state.clock.now())
        .await?;
    match done {
        DeclaredClosed::Declared(c) => Ok(JsonOut(ClosedDaysEnvelopeOut {
            closed_days: (&c).into(),
        })),
        DeclaredClosed::HasPostings(days) => {
            let listed: Vec<String> = days.iter().map(|d| d.to_string()).collect();
            Err(ApiError::conflict(
                "CLOSED_DAY_HAS_TRANSACTIONS",
                format!(
                    "transactions are posted on {} of these days ({}): they were not closed",
                    days.len(),
                    listed.join(", ")
                ),
            )
            .with_errors(serde_json::json!(listed
                .iter()
                .map(|d| serde_json::json!({"code": "CLOSED_DAY_HAS_TRANSACTIONS", "day": d}))
                .collect::<Vec<_>>())))
        }
        DeclaredClosed::NotFound => Err(super::accounts::not_found(account.id)),
    }
}
