//! Balance continuity on the Rutter-shaped door: `GET …/accounts/:id/continuity` (does the feed
//! tie out?), `POST …/continuity/breaks/:break_id/acknowledge` (a break accepted with a reason)
//! and the `BALANCE_MISMATCH` refusal of a batch whose balance breaks it where the
//! platform refuses such statements (Xero). The rule is `domain::continuity`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bankfeeds_domain::continuity::{
    summarise, AcknowledgeRefusal, BalanceCheck, BalanceReport, BalanceReportId, Segment,
};
use bankfeeds_domain::money::Money;
use bankfeeds_domain::{BankFeedAccountId, Currency, JobId, Timestamp};
use bankfeeds_store::Acknowledged;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::auth::ConnectionAuth;
use crate::http::error::{ApiError, ApiResult};
use crate::http::idempotency::{idem, replay, saved, IdempotentJson};
use crate::http::path::{parse_id, InPath};
use crate::http::responses::{BodyRefusals, Unauthorized};
use crate::state::AppState;

/// The refusal of a batch whose `current_balance` does not tie out, with the figures.
pub fn mismatch_error(check: &BalanceCheck, currency: Currency) -> ApiError {
    let m = |d| Money::new(d, currency);
    let expected = check.expected.map(m);
    let since = if check.unreported_amount.is_zero() {
        String::new()
    } else {
        format!(
            " plus {} in batches sent without a balance since",
            m(check.unreported_amount)
        )
    };
    let message = format!(
        "current_balance {reported} does not tie out: the previous reported balance {before}{since} \
         plus this batch's new transactions ({batch}) is {expected}, a difference of {difference}. \
         The platform refuses a statement whose balances do not add up, so nothing was applied: \
         send the transactions that are missing from this batch, or the balance the account has \
         after exactly these transactions",
        reported = m(check.reported),
        before = check.balance_before.map(m).map(|b| b.to_string()).unwrap_or_default(),
        batch = m(check.batch_amount),
        expected = expected.map(|e| e.to_string()).unwrap_or_default(),
        difference = m(check.difference),
    );
    ApiError::bad_request("BALANCE_MISMATCH", message).with_errors(serde_json::json!([{
        "code": "BALANCE_MISMATCH",
        "field": "current_balance",
        "currency": currency.code(),
        "balance_before": check.balance_before.map(m),
        "unreported_amount": m(check.unreported_amount),
        "batch_amount": m(check.batch_amount),
        "expected": expected,
        "reported": m(check.reported),
        "difference": m(check.difference),
    }]))
}

/// A stretch of the feed whose reported balances all tie out with its transactions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentOut {
    /// The first and last balance reports in it (1 is the account's first report).
    pub first_report: i64,
    pub last_report: i64,
    /// How many reported balances it covers.
    pub reports: i64,
    /// The reported balance it starts from (the opening balance, or the figure after a break).
    pub opening_balance: Money,
    /// The last reported balance in it.
    pub closing_balance: Money,
    /// The newest posting date stored when its first and its last balance were reported.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub posted_from: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub posted_through: Option<Timestamp>,
}

impl SegmentOut {
    fn new(s: &Segment, currency: Currency) -> Self {
        SegmentOut {
            first_report: s.first_seq,
            last_report: s.last_seq,
            reports: s.last_seq - s.first_seq + 1,
            opening_balance: Money::new(s.opening, currency),
            closing_balance: Money::new(s.closing, currency),
            posted_from: s.posted_from,
            posted_through: s.posted_through,
        }
    }
}

/// A reported balance that disagreed with the transactions.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakOut {
    /// The break's id (to acknowledge it).
    #[schema(value_type = String, format = "uuid")]
    pub id: String,
    /// Where: the report's number, the batch (job) that reported it, and the newest posting
    /// date stored once that batch was applied.
    pub report: i64,
    #[schema(value_type = String, format = "uuid")]
    pub job_id: JobId,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub posted_through: Option<Timestamp>,
    /// The balance reported before it, plus the new transactions since.
    pub balance_before: Option<Money>,
    pub unreported_amount: Money,
    pub batch_amount: Money,
    pub expected: Option<Money>,
    pub reported: Money,
    /// `reported − expected`.
    pub difference: Money,
    /// When it was reported.
    #[schema(value_type = String, format = DateTime)]
    pub reported_at: Timestamp,
    /// The FI's acknowledgement, if any: `{reason, acknowledged_at}`.
    pub acknowledged: Option<AcknowledgedOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AcknowledgedOut {
    pub reason: String,
    #[schema(value_type = String, format = DateTime)]
    pub acknowledged_at: Timestamp,
}

impl BreakOut {
    pub fn new(r: &BalanceReport, currency: Currency) -> Self {
        let m = |d| Money::new(d, currency);
        let c = &r.check;
        BreakOut {
            id: r.id.to_string(),
            report: r.seq,
            job_id: r.job_id,
            posted_through: r.posted_through,
            balance_before: c.balance_before.map(m),
            unreported_amount: m(c.unreported_amount),
            batch_amount: m(c.batch_amount),
            expected: c.expected.map(m),
            reported: m(c.reported),
            difference: m(c.difference),
            reported_at: r.created_at,
            acknowledged: r.acknowledgement.as_ref().map(|a| AcknowledgedOut {
                reason: a.reason.clone(),
                acknowledged_at: a.acknowledged_at,
            }),
        }
    }
}

/// `ties_out`, `breaks` (a break not acknowledged) or `unknown` (no balance reported yet).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContinuityStateOut {
    TiesOut,
    Breaks,
    Unknown,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContinuityOut {
    #[schema(value_type = String, format = "uuid")]
    pub bank_feed_account_id: String,
    pub currency_code: Currency,
    pub state: ContinuityStateOut,
    /// The balance reported last, if any.
    pub last_reported_balance: Option<Money>,
    /// The new transactions' amounts stored since the last reported balance (the next one is
    /// checked against `last_reported_balance` plus this plus its own).
    pub unreported_amount: Money,
    pub segments: Vec<SegmentOut>,
    pub breaks: Vec<BreakOut>,
    /// Whether the feed is stale now: nothing posted for longer than its rhythm allows.
    pub stale: bool,
    /// The feed's usual gap between posting days, in open days (days not declared closed): the
    /// median gap, or 1 until there are three gaps.
    pub rhythm_days: u64,
    /// A silence of more open days than this is stale: three times the rhythm, at least 4.
    pub stale_after_days: u64,
    /// The silences longer than that, oldest first (the last may be `ongoing`).
    pub stale_spans: Vec<super::gaps::StaleSpanOut>,
    /// The day ranges the FI declared closed (`POST …/closed_days`), by `from`: told apart from
    /// days nothing was sent for.
    pub closed_days: Vec<super::gaps::ClosedDaysOut>,
}

/// Whether the account's reported balances tie out with its transactions: the stretches that
/// do, each break (where, expected, reported, difference, when) and one `state`; and its gaps:
/// the days the FI declared closed and the stale spans (no transaction posted for longer than
/// the feed's rhythm, declared closed days not counted). A balance is
/// reported with a batch (`current_balance`); the first is the opening balance, each next one
/// is expected to be the previous plus the new transactions in between.
#[utoipa::path(
    get,
    path = "/versioned/accounting/bank_feeds/accounts/{id}/continuity",
    tag = "bank feed accounts",
    params(InPath<BankFeedAccountId>, crate::rutter::connections::AccessTokenParam),
    responses(
        (status = 200, body = ContinuityOut),
        (status = 400, description = "`INVALID_ID`", body = crate::http::error::ErrorOut),
        (status = 410, description = "`BANK_FEED_ACCOUNT_NOT_FOUND`: no such account on this connection", body = crate::http::error::ErrorOut),
        Unauthorized,
    ),
)]
pub async fn get_continuity(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    InPath(id): InPath<BankFeedAccountId>,
) -> ApiResult<Json<ContinuityOut>> {
    let account = super::accounts::find_account(&state, &auth, id).await?;
    let found = state
        .store
        .continuity(auth.connection.id, account.id)
        .await?
        .ok_or_else(|| super::accounts::not_found(account.id))?;
    let currency = found.account.currency;
    let summary = summarise(&found.reports);
    let gaps = super::gaps::gaps(&found, state.clock.now().date_naive());
    Ok(Json(ContinuityOut {
        bank_feed_account_id: found.account.id.to_string(),
        currency_code: currency,
        state: match summary.state {
            bankfeeds_domain::continuity::ContinuityState::TiesOut => ContinuityStateOut::TiesOut,
            bankfeeds_domain::continuity::ContinuityState::Breaks => ContinuityStateOut::Breaks,
            bankfeeds_domain::continuity::ContinuityState::Unknown => ContinuityStateOut::Unknown,
        },
        last_reported_balance: found.ledger.last_reported.map(|d| Money::new(d, currency)),
        unreported_amount: Money::new(found.ledger.unreported, currency),
        segments: summary
            .segments
            .iter()
            .map(|s| SegmentOut::new(s, currency))
            .collect(),
        breaks: summary
            .breaks
            .iter()
            .map(|b| BreakOut::new(b, currency))
            .collect(),
        stale: gaps.stale,
        rhythm_days: gaps.rhythm_days,
        stale_after_days: gaps.stale_after_days,
        stale_spans: gaps.stale_spans,
        closed_days: gaps.closed_days,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeIn {
    /// Why the break is accepted as it is (recorded, and sent with the event).
    #[schema(min_length = 1, max_length = 1000, pattern = r"\S")]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AcknowledgeOut {
    #[serde(rename = "break")]
    pub break_: BreakOut,
}

fn refusal(r: AcknowledgeRefusal) -> ApiError {
    match r {
        AcknowledgeRefusal::EmptyReason | AcknowledgeRefusal::ReasonTooLong => {
            ApiError::bad_request(r.code(), format!("field `reason`: {r}"))
        }
        AcknowledgeRefusal::NotABreak | AcknowledgeRefusal::AlreadyAcknowledged => {
            ApiError::conflict(r.code(), r.to_string())
        }
    }
}

/// Acknowledge a break with a reason: the FI knows the reported balance disagrees with the
/// transactions and accepts it as it is (the other way to resolve a break is to push the
/// missing transactions). Recorded with the break, and a
/// `bank_feed_account.balance_break_acknowledged` event; the feed's `state` no longer counts it.
#[utoipa::path(
    post,
    path = "/versioned/accounting/bank_feeds/accounts/{id}/continuity/breaks/{break_id}/acknowledge",
    tag = "bank feed accounts",
    params(
        ("id" = uuid::Uuid, Path, description = "The bank feed account's id"),
        ("break_id" = uuid::Uuid, Path, description = "The break's id (`breaks[].id` of the continuity report)"),
        crate::rutter::connections::AccessTokenParam,
    ),
    request_body = AcknowledgeIn,
    responses(
        (status = 200, body = AcknowledgeOut),
        (status = 400, description = "`INVALID_REASON`, `INVALID_ID`", body = crate::http::error::ErrorOut),
        (status = 409, description = "`NOT_A_BREAK`: that balance tied out; `BREAK_ALREADY_ACKNOWLEDGED`", body = crate::http::error::ErrorOut),
        (status = 410, description = "`BANK_FEED_ACCOUNT_NOT_FOUND`, `BREAK_NOT_FOUND`", body = crate::http::error::ErrorOut),
        Unauthorized, BodyRefusals,
    ),
)]
pub async fn acknowledge_break(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    Path((id, break_id)): Path<(String, String)>,
    req: IdempotentJson<AcknowledgeIn>,
) -> ApiResult<Response> {
    let account = super::accounts::find_account(&state, &auth, parse_id(&id)?).await?;
    let report: BalanceReportId = parse_id(&break_id)?;
    let currency = account.currency;
    let key = req.key_for(auth.org.id);
    let render = |r: &BalanceReport| {
        saved(
            200,
            &AcknowledgeOut {
                break_: BreakOut::new(r, currency),
            },
        )
    };
    let done = state
        .store
        .acknowledge_break(
            auth.connection.id,
            account.id,
            report,
            &req.body.reason,
            state.clock.now(),
            idem(&key, &render),
        )
        .await?;
    match done {
        Acknowledged::Done(r) => Ok(Json(AcknowledgeOut {
            break_: BreakOut::new(&r, currency),
        })
        .into_response()),
        Acknowledged::Replayed(saved) => Ok(replay(saved)),
        Acknowledged::Refused(r) => Err(refusal(r)),
        Acknowledged::NotFound => Err(ApiError::gone(
            "BREAK_NOT_FOUND",
            format!("no balance report {report} on this account"),
        )),
    }
}
