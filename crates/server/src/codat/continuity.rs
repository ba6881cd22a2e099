//! Balance continuity on the Codat door: the push operation's refusal of a batch whose
//! `balance` breaks continuity where the platform refuses such statements (Xero, `gbol`), and
//! the source account's continuity report.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use bankfeeds_domain::continuity::gaps::staleness;
use bankfeeds_domain::continuity::{
    summarise, AcknowledgeRefusal, BalanceCheck, BalanceReport, BalanceReportId, ContinuityState,
};
use bankfeeds_domain::money::Money;
use bankfeeds_domain::Currency;
use bankfeeds_store::Acknowledged as Acknowledged_;

use super::error::{CodatError, CodatResult};
use super::responses::{BodyRefused, Conflicting, Missing, Refused};
use super::source_accounts::{source_account_of, SourceAccountAt};
use super::wire::{
    AcknowledgeIn, Acknowledged, Break, ClosedDays, Continuity, PushOutcome, Segment, StaleSpan,
    Validation, ValidationItem,
};
use super::{time, CodatAuth, CodatJson};
use crate::state::AppState;

/// The push operation's fragment for a batch refused with `BALANCE_MISMATCH`.
pub fn mismatch_fragment(check: &BalanceCheck, currency: Currency) -> PushOutcome {
    let m = |d| Money::new(d, currency);
    let expected = check.expected.map(m);
    let message = format!(
        "the balance {} does not tie out: the previous balance {} plus the new transactions \
         since ({}) is {}, a difference of {}; the platform refuses a statement whose balances \
         do not add up, so nothing was applied",
        m(check.reported),
        check
            .balance_before
            .map(m)
            .map(|b| b.to_string())
            .unwrap_or_default(),
        m(check.unreported_amount + check.batch_amount),
        expected.map(|e| e.to_string()).unwrap_or_default(),
        m(check.difference),
    );
    PushOutcome {
        validation: Some(Validation {
            errors: vec![ValidationItem::new("balance", &message, "BALANCE_MISMATCH")],
            warnings: Vec::new(),
        }),
        ..PushOutcome::failed(400, message)
    }
}

/// `GET …/connectionInfo/bankFeedAccounts/{account}/continuity` (the hub's own, beside Codat's
/// operations): whether the source account's balances tie out, as the Rutter-shaped door's
/// continuity report says it, in Codat's casing.
#[utoipa::path(
    get,
    path = "/codat/companies/{companyId}/connections/{connectionId}/connectionInfo/bankFeedAccounts/{accountId}/continuity",
    operation_id = "get-source-account-continuity",
    tag = "Source accounts",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id"), ("accountId" = String, Path, description = "The source account's id (the FI's own id of the account)")),
    responses((status = 200, description = "Whether the reported balances tie out", body = Continuity), Refused, Missing),
)]
pub async fn get(
    State(state): State<AppState>,
    SourceAccountAt(cc, a): SourceAccountAt,
) -> CodatResult<Json<Continuity>> {
    let found = state
        .store
        .continuity(cc.connection.id, a.id)
        .await?
        .ok_or_else(|| CodatError::source_account_not_found(&a.internal_bank_account_id))?;
    let currency = found.account.currency;
    let m = |d| Money::new(d, currency);
    let summary = summarise(&found.reports);
    let closed: Vec<_> = found.closed_days.iter().map(|c| (c.from, c.to)).collect();
    let gaps = staleness(&found.posting_days, &closed, state.clock.now().date_naive());
    Ok(Json(Continuity {
        source_account_id: a.internal_bank_account_id.clone(),
        currency: currency.code().into(),
        state: match summary.state {
            ContinuityState::TiesOut => "TiesOut",
            ContinuityState::Breaks => "Breaks",
            ContinuityState::Unknown => "Unknown",
        }
        .into(),
        last_reported_balance: found.ledger.last_reported.map(m),
        unreported_amount: m(found.ledger.unreported),
        segments: summary
            .segments
            .iter()
            .map(|s| Segment {
                first_report: s.first_seq,
                last_report: s.last_seq,
                opening_balance: m(s.opening),
                closing_balance: m(s.closing),
                posted_from: s.posted_from.map(time),
                posted_through: s.posted_through.map(time),
            })
            .collect(),
        breaks: summary
            .breaks
            .iter()
            .map(|b| break_of(b, currency))
            .collect(),
        stale: gaps.spans.iter().any(|x| x.ongoing),
        rhythm_days: gaps.rhythm_days,
        stale_after_days: gaps.threshold_days,
        stale_spans: gaps
            .spans
            .iter()
            .map(|x| StaleSpan {
                from: x.from.to_string(),
                to: x.to.to_string(),
                open_days: x.open_days,
                closed_days: x.closed_days,
                ongoing: x.ongoing,
            })
            .collect(),
        closed_days: found
            .closed_days
            .iter()
            .map(|c| ClosedDays {
                id: c.id.to_string(),
                from: c.from.to_string(),
                to: c.to.to_string(),
                declared_at: time(c.declared_at),
            })
            .collect(),
    }))
}

/// A break as the Codat door shows it.
fn break_of(b: &BalanceReport, currency: Currency) -> Break {
    let m = |d| Money::new(d, currency);
    Break {
        id: b.id.to_string(),
        report: b.seq,
        push_operation_key: b.job_id.to_string(),
        posted_through: b.posted_through.map(time),
        expected: b.check.expected.map(m),
        reported: m(b.check.reported),
        difference: m(b.check.difference),
        reported_at: time(b.created_at),
        acknowledged: b.acknowledgement.as_ref().map(|k| Acknowledged {
            reason: k.reason.clone(),
            acknowledged_at: time(k.acknowledged_at),
        }),
    }
}

/// Acknowledge a break of the source account with a reason (the hub's own operation, as the
/// Rutter-shaped door's): the FI accepts the reported balance as it is. Recorded with the
/// break and a `bank_feed_account.balance_break_acknowledged` event; the account's `state` no
/// longer counts it.
#[utoipa::path(
    post,
    path = "/codat/companies/{companyId}/connections/{connectionId}/connectionInfo/bankFeedAccounts/{accountId}/continuity/breaks/{breakId}/acknowledge",
    operation_id = "acknowledge-balance-break",
    tag = "Source accounts",
    params(
        ("companyId" = uuid::Uuid, Path, description = "The company's id"),
        ("connectionId" = uuid::Uuid, Path, description = "The data connection's id"),
        ("accountId" = String, Path, description = "The source account's id (the FI's own id of the account)"),
        ("breakId" = uuid::Uuid, Path, description = "The break's id (`breaks[].id` of the continuity report)"),
    ),
    request_body = AcknowledgeIn,
    responses(
        (status = 200, description = "The break, acknowledged", body = Break),
        Refused, Missing, Conflicting, BodyRefused,
    ),
)]
pub async fn acknowledge(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path((company, connection, account, break_id)): Path<(String, String, String, String)>,
    CodatJson(body): CodatJson<AcknowledgeIn>,
) -> CodatResult<Json<Break>> {
    let (cc, a) = source_account_of(&state, org.id, (&company, &connection, &account)).await?;
    let not_found = || {
        CodatError::not_found(
            "BREAK_NOT_FOUND",
            format!("no balance break {break_id} on source account {account}"),
        )
    };
    let report: BalanceReportId = break_id.parse().map_err(|_| not_found())?;
    let done = state
        .store
        .acknowledge_break(
            cc.connection.id,
            a.id,
            report,
            &body.reason,
            state.clock.now(),
            None,
        )
        .await?;
    match done {
        Acknowledged_::Done(r) => Ok(Json(break_of(&r, a.currency))),
        Acknowledged_::Refused(r) => Err(match r {
            AcknowledgeRefusal::EmptyReason | AcknowledgeRefusal::ReasonTooLong => {
                CodatError::field(r.code(), "reason", r.to_string(), "AcknowledgeValidator")
            }
            AcknowledgeRefusal::NotABreak | AcknowledgeRefusal::AlreadyAcknowledged => {
                CodatError::new(StatusCode::CONFLICT, r.code(), r.to_string())
            }
        }),
        // Without an idempotency key nothing is replayed.
        Acknowledged_::Replayed(_) | Acknowledged_::NotFound => Err(not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_push_names_the_figures_in_codats_shape() {
        let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
        let check = BalanceCheck {
            balance_before: Some(d("7445.65")),
            unreported_amount: d("0"),
            batch_amount: d("-20"),
            expected: Some(d("7425.65")),
            reported: d("1"),
            difference: d("-7424.65"),
        };
        let f = serde_json::to_value(mismatch_fragment(
            &check,
            Currency::from_code("USD").unwrap(),
        ))
        .unwrap();
        assert_eq!(
            (f["status"].as_str(), f["statusCode"].as_u64()),
            (Some("Failed"), Some(400))
        );
        assert_eq!(
            f["validation"]["errors"][0]["validatorName"],
            "BALANCE_MISMATCH"
        );
        let message = f["errorMessage"].as_str().unwrap();
        for figure in ["1.00", "7445.65", "-20.00", "7425.65", "-7424.65"] {
            assert!(message.contains(figure), "{figure} in {message}");
        }
    }
}
