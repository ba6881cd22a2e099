//! Balance continuity on the Codat door: the push operation's refusal of a batch whose
//! `balance` breaks continuity where the platform refuses such statements (Xero, `gbol`).

use bankfeeds_domain::continuity::BalanceCheck;
use bankfeeds_domain::money::Money;
use bankfeeds_domain::Currency;
use serde_json::{json, Value};

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
