//! Balance continuity on the Codat door: the push operation's refusal of a batch whose
//! `balance` breaks continuity where the platform refuses such statements (Xero, `gbol`), and
//! the source account's continuity report.

use axum::extract::{Path, State};
use axum::Json;
use bankfeeds_domain::continuity::{summarise, BalanceCheck, ContinuityState};
use bankfeeds_domain::money::Money;
use bankfeeds_domain::Currency;
use serde_json::{json, Value};

use super::connections::connection_of;
use super::error::{CodatError, CodatResult};
use super::source_accounts::account_of;
use super::{time, CodatAuth};
use crate::state::AppState;

/// The push operation's fragment for a batch refused with `BALANCE_MISMATCH`.
pub fn mismatch_fragment(check: &BalanceCheck, currency: Currency) -> Value {
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
    json!({
        "status": "Failed",
        "statusCode": 400,
        "errorMessage": message,
        "validation": {"errors": [{
            "itemId": "balance",
            "message": message,
            "validatorName": "BALANCE_MISMATCH",
        }]},
    })
}

/// `GET …/connectionInfo/bankFeedAccounts/{account}/continuity` (the hub's own, beside Codat's
/// operations): whether the source account's balances tie out, as the Rutter-shaped door's
/// continuity report says it, in Codat's casing.
pub async fn get(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path((company, connection, account)): Path<(String, String, String)>,
) -> CodatResult<Json<Value>> {
    let cc = connection_of(&state, org.id, &company, &connection).await?;
    let a = account_of(&state, &cc, &account).await?;
    let found = state
        .store
        .continuity(cc.connection.id, a.id)
        .await?
        .ok_or_else(|| {
            CodatError::not_found(
                "SOURCE_ACCOUNT_NOT_FOUND",
                format!("Source account {account} not found"),
            )
        })?;
    let currency = found.account.currency;
    let m = |d| Money::new(d, currency);
    let summary = summarise(&found.reports);
    Ok(Json(json!({
        "sourceAccountId": a.internal_bank_account_id,
        "currency": currency.code(),
        "state": match summary.state {
            ContinuityState::TiesOut => "TiesOut",
            ContinuityState::Breaks => "Breaks",
            ContinuityState::Unknown => "Unknown",
        },
        "lastReportedBalance": found.ledger.last_reported.map(m),
        "unreportedAmount": m(found.ledger.unreported),
        "segments": summary.segments.iter().map(|s| json!({
            "firstReport": s.first_seq,
            "lastReport": s.last_seq,
            "openingBalance": m(s.opening),
            "closingBalance": m(s.closing),
            "postedFrom": s.posted_from.map(time),
            "postedThrough": s.posted_through.map(time),
        })).collect::<Vec<_>>(),
        "breaks": summary.breaks.iter().map(|b| json!({
            "id": b.id.to_string(),
            "report": b.seq,
            "pushOperationKey": b.job_id.to_string(),
            "postedThrough": b.posted_through.map(time),
            "expected": b.check.expected.map(m),
            "reported": m(b.check.reported),
            "difference": m(b.check.difference),
            "reportedAt": time(b.created_at),
            "acknowledged": b.acknowledgement.as_ref().map(|k| json!({
                "reason": k.reason,
                "acknowledgedAt": time(k.acknowledged_at),
            })),
        })).collect::<Vec<_>>(),
    })))
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
        let f = mismatch_fragment(&check, Currency::from_code("USD").unwrap());
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
