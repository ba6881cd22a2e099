//! Codat's bank transactions (`CreateBankTransactions`) as the core's batch: `id` is the
//! `transaction_id`, `date` (or `clearedOnDate`, its older name) the posted date (a local
//! date-time: any offset is ignored, as Codat documents), `counterparty` the payee, `reference` the memo, and the last transaction's
//! `balance` the account's balance after the batch.
//!
//! What cannot become a transaction at all (a missing id, date or amount, an unreadable date
//! or type) is refused before a push operation exists; the platform's rules (order, dates,
//! history window, size) are the core's, checked when the push operation runs.

use chrono::{NaiveDate, NaiveDateTime};

use crate::batch::BatchRequest;
use crate::transaction::{TransactionData, TransactionType};
use crate::{Amount, BankFeedAccountId, Platform};

/// One transaction as Codat's API carries it.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BankTransaction {
    pub id: Option<String>,
    pub date: Option<String>,
    /// The name older versions of Codat's model (and its reconciliation tutorial) give `date`.
    pub cleared_on_date: Option<String>,
    pub description: Option<String>,
    pub counterparty: Option<String>,
    pub reference: Option<String>,
    pub reconciled: Option<bool>,
    pub amount: Option<Amount>,
    pub balance: Option<Amount>,
    pub transaction_type: Option<String>,
}

/// A problem with one transaction (`index`) or the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub index: Option<usize>,
    /// The transaction's id when it has one.
    pub item_id: Option<String>,
    pub code: &'static str,
    pub message: String,
}

/// Codat's transaction types onto the core's.
pub fn transaction_type(codat: &str) -> Option<TransactionType> {
    Some(match codat {
        "Unknown" | "Other" => TransactionType::Unknown,
        "Credit" => TransactionType::Credit,
        "Debit" => TransactionType::Debit,
        "Int" => TransactionType::Interest,
        "Div" => TransactionType::Dividend,
        "Fee" => TransactionType::Fee,
        "SerChg" => TransactionType::ServiceCharge,
        "Dep" | "DirectDep" => TransactionType::Deposit,
        "Atm" => TransactionType::Atm,
        "Pos" => TransactionType::Pos,
        "Xfer" => TransactionType::Transfer,
        "Check" => TransactionType::Check,
        "Payment" => TransactionType::Payment,
        "Cash" => TransactionType::Cash,
        "DirectDebit" => TransactionType::DirectDebit,
        "RepeatPmt" => TransactionType::RepeatPayment,
        _ => return None,
    })
}

/// A Codat date as the local date-time it names: any offset is ignored, as Codat's model
/// documents ("the offset will be ignored and only the local date/time portion will be used"),
/// or a plain date (midnight). Stored as written; the rules read it as a local time (see
/// `PlatformProfile::local_times`).
pub fn local_date_time(s: &str) -> Option<crate::Timestamp> {
    let s = s.trim();
    // A date-time's first 19 characters are `YYYY-MM-DDTHH:MM:SS`, all ASCII; anything else is
    // not a date (and must not be sliced by bytes).
    if !s.is_ascii() {
        return None;
    }
    let local = if s.len() > 19 {
        // Drop the offset (`Z`, `+01:00`, `-0500`) but keep fractional seconds.
        let cut = s[19..].find(['Z', '+', '-']).map_or(s.len(), |i| 19 + i);
        &s[..cut]
    } else {
        s
    };
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(local, fmt) {
            return Some(crate::clock::truncate_micros(t.and_utc()));
        }
    }
    NaiveDate::parse_from_str(local, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Signs that disagree with the type: Codat accepts them with a warning.
pub fn warnings(txs: &[BankTransaction]) -> Vec<Problem> {
    txs.iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let amount = t.amount?;
            let wrong = match t.transaction_type.as_deref() {
                Some("Credit") => amount.is_negative(),
                Some("Debit") => !amount.is_negative() && !amount.is_zero(),
                _ => false,
            };
            wrong.then(|| Problem {
                index: Some(i),
                item_id: t.id.clone(),
                code: "SIGN_MISMATCH",
                message: format!(
                    "the amount's sign does not agree with transactionType {}",
                    t.transaction_type.as_deref().unwrap_or_default()
                ),
            })
        })
        .collect()
}

/// The batch for `account`, or every reason the request cannot be one.
pub fn to_batch(
    platform: Platform,
    account: BankFeedAccountId,
    txs: &[BankTransaction],
) -> Result<BatchRequest, Vec<Problem>> {
    if txs.is_empty() {
        return Err(vec![Problem {
            index: None,
            item_id: None,
            code: "BATCH_EMPTY",
            message: "`transactions` is empty: send at least one transaction".to_owned(),
        }]);
    }
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(txs.len());
    for (i, t) in txs.iter().enumerate() {
        let mut missing = |field: &str| {
            let message = if field == "date" {
                format!("transactions[{i}]: `date` (or `clearedOnDate`) is required")
            } else {
                format!("transactions[{i}]: `{field}` is required")
            };
            problems.push(Problem {
                index: Some(i),
                item_id: t.id.clone(),
                code: "MISSING_FIELD",
                message,
            });
        };
        let id = t.id.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if id.is_none() {
            missing("id");
        }
        if t.amount.is_none() {
            missing("amount");
        }
        if t.balance.is_none() {
            missing("balance");
        }
        // QuickBooks shows the description as the transaction's name.
        if platform == Platform::IntuitBankFeeds
            && t.description.as_deref().is_none_or(|d| d.trim().is_empty())
        {
            missing("description");
        }
        let date = match (t.date.as_deref(), t.cleared_on_date.as_deref()) {
            (None, None) => {
                missing("date");
                None
            }
            (date, cleared) => {
                let mut read = |field: &str, raw: Option<&str>| {
                    let raw = raw?;
                    let parsed = local_date_time(raw);
                    if parsed.is_none() {
                        problems.push(Problem {
                            index: Some(i),
                            item_id: t.id.clone(),
                            code: "INVALID_DATE",
                            message: format!(
                                "transactions[{i}]: `{field}` {raw:?} is not a date-time"
                            ),
                        });
                    }
                    parsed
                };
                let date_at = read("date", date);
                let cleared_at = read("clearedOnDate", cleared);
                match (date_at, cleared_at) {
                    (Some(a), Some(b)) if a != b => {
                        problems.push(Problem {
                            index: Some(i),
                            item_id: t.id.clone(),
                            code: "CONFLICTING_DATES",
                            message: format!(
                                "transactions[{i}]: `date` and `clearedOnDate` name different \
                                 times; send one (they are the same field)"
                            ),
                        });
                        None
                    }
                    (a, b) => a.or(b),
                }
            }
        };
        let kind = match t.transaction_type.as_deref() {
            None => None,
            Some(k) => match transaction_type(k) {
                Some(k) => Some(k),
                None => {
                    problems.push(Problem {
                        index: Some(i),
                        item_id: t.id.clone(),
                        code: "INVALID_ENUM_VALUE",
                        message: format!("transactions[{i}]: `transactionType` {k:?} is not one of Codat's types"),
                    });
                    None
                }
            },
        };
        if let (Some(id), Some(date), Some(amount)) = (id, date, t.amount) {
            out.push(TransactionData {
                transaction_id: id.to_owned(),
                posted_at: date,
                transaction_date: None,
                amount,
                description: t.description.clone(),
                memo: t.reference.clone(),
                payee: t.counterparty.clone(),
                transaction_type: kind,
                debit_credit_memo: None,
                interest_amount: None,
                principal_amount: None,
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(BatchRequest {
        bank_feed_account_id: account,
        current_balance: txs.last().and_then(|t| t.balance),
        transactions: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(id: &str, date: &str, amount: &str, balance: &str) -> BankTransaction {
        BankTransaction {
            id: Some(id.into()),
            date: Some(date.into()),
            description: Some("HSBC Covent Grdn ATM W".into()),
            amount: Some(amount.parse().unwrap()),
            balance: Some(balance.parse().unwrap()),
            transaction_type: Some("Atm".into()),
            ..Default::default()
        }
    }

    /// Codat's model: "When pushing bank transaction data to Codat, the date is treated as a
    /// local date. [...] If a timezone offset is included (e.g., `2023-08-22T10:21:00-05:00`),
    /// the offset will be ignored and only the local date/time portion will be used."
    #[test]
    fn offsets_are_ignored_as_codat_documents() {
        let a = local_date_time("2023-01-10T14:14:14.1057478Z").unwrap();
        let b = local_date_time("2023-01-10T14:14:14.1057478+13:00").unwrap();
        let c = local_date_time("2023-01-10T14:14:14.1057478-0500").unwrap();
        assert_eq!((a, a), (b, c));
        assert_eq!(a.to_rfc3339(), "2023-01-10T14:14:14.105747+00:00");
        assert_eq!(
            local_date_time("2023-01-10").unwrap().to_rfc3339(),
            "2023-01-10T00:00:00+00:00"
        );
        assert!(local_date_time("10/01/2023").is_none());
        assert!(
            local_date_time("2026-11-18T14:14:1éZ").is_none(),
            "no panic on non-ASCII"
        );
        assert!(local_date_time("é").is_none());
    }

    #[test]
    fn the_last_balance_becomes_the_accounts() {
        let txs = [
            tx("a", "2023-01-09T10:00:00", "7991.59", "8009.11"),
            tx("b", "2023-01-10T10:00:00", "-9.11", "8000"),
        ];
        let b = to_batch(Platform::IntuitBankFeeds, BankFeedAccountId::new(), &txs).unwrap();
        assert_eq!(b.current_balance, Some("8000".parse().unwrap()));
        assert_eq!(
            b.transactions[0].transaction_type,
            Some(TransactionType::Atm)
        );
        assert_eq!(b.transactions[1].transaction_id, "b");
    }

    #[test]
    fn what_cannot_be_a_transaction_is_named() {
        let mut bad = tx("a", "yesterday", "1", "1");
        bad.transaction_type = Some("Wire".into());
        let no_desc = BankTransaction {
            description: None,
            ..tx("b", "2023-01-10", "1", "2")
        };
        let nothing = BankTransaction::default();
        let problems = to_batch(
            Platform::IntuitBankFeeds,
            BankFeedAccountId::new(),
            &[bad, no_desc.clone(), nothing],
        )
        .unwrap_err();
        let codes: Vec<_> = problems.iter().map(|p| (p.index, p.code)).collect();
        assert_eq!(
            codes,
            vec![
                (Some(0), "INVALID_DATE"),
                (Some(0), "INVALID_ENUM_VALUE"),
                (Some(1), "MISSING_FIELD"),
                (Some(2), "MISSING_FIELD"),
                (Some(2), "MISSING_FIELD"),
                (Some(2), "MISSING_FIELD"),
                (Some(2), "MISSING_FIELD"),
                (Some(2), "MISSING_FIELD"),
            ]
        );
        // Only QuickBooks requires a description.
        assert!(to_batch(Platform::Xero, BankFeedAccountId::new(), &[no_desc]).is_ok());
    }

    /// Seed 004 (the reconciliation tutorial): "Bank transactions must be synced in chronological
    /// order (from earliest to latest) based on the `cleared_on_date`." and its transaction,
    /// `cleared_on_date='2023-01-10T14:14:14.1057478Z'`: `clearedOnDate` is the date.
    #[test]
    fn cleared_on_date_is_the_date() {
        let json = r#"{"accountId": "ac-1", "amount": 7991.59, "balance": 8009.11,
            "clearedOnDate": "2023-01-10T14:14:14.1057478Z", "description": "HSBC Covent Grdn ATM W",
            "id": "ca1ba928-fc81-4674-acb7-39205929396f", "modifiedDate": "2023-01-09T14:14:14.1057478Z",
            "reconciled": false, "sourceModifiedDate": "2023-01-09T14:14:14.1057478Z",
            "transactionType": "Atm"}"#;
        let t: BankTransaction = serde_json::from_str(json).unwrap();
        let b = to_batch(
            Platform::IntuitBankFeeds,
            BankFeedAccountId::new(),
            std::slice::from_ref(&t),
        )
        .unwrap();
        assert_eq!(
            b.transactions[0].posted_at.to_rfc3339(),
            "2023-01-10T14:14:14.105747+00:00"
        );
        // Both, naming the same time: fine; different ones: refused; neither: missing.
        let both = BankTransaction {
            date: Some("2023-01-10T14:14:14.1057478".into()),
            ..t.clone()
        };
        assert!(to_batch(Platform::IntuitBankFeeds, BankFeedAccountId::new(), &[both]).is_ok());
        let clash = BankTransaction {
            date: Some("2023-01-11".into()),
            ..t.clone()
        };
        let p = to_batch(
            Platform::IntuitBankFeeds,
            BankFeedAccountId::new(),
            &[clash],
        )
        .unwrap_err();
        assert_eq!(p[0].code, "CONFLICTING_DATES");
        let bad = BankTransaction {
            cleared_on_date: Some("soon".into()),
            ..t.clone()
        };
        let p = to_batch(Platform::IntuitBankFeeds, BankFeedAccountId::new(), &[bad]).unwrap_err();
        assert_eq!(p[0].code, "INVALID_DATE");
        assert!(p[0].message.contains("clearedOnDate"), "{}", p[0].message);
        let none = BankTransaction {
            cleared_on_date: None,
            ..t
        };
        let p = to_batch(Platform::IntuitBankFeeds, BankFeedAccountId::new(), &[none]).unwrap_err();
        assert_eq!(p[0].code, "MISSING_FIELD");
        assert!(p[0].message.contains("clearedOnDate"), "{}", p[0].message);
    }

    #[test]
    fn signs_against_the_type_are_warnings() {
        let mut credit = tx("a", "2023-01-10", "-5", "1");
        credit.transaction_type = Some("Credit".into());
        let mut debit = tx("b", "2023-01-10", "-5", "1");
        debit.transaction_type = Some("Debit".into());
        let w = warnings(&[credit, debit]);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].item_id.as_deref(), Some("a"));
    }
}
