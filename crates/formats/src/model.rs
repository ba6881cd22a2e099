//! The statement data every writer consumes: one account, its lines, its balances.
//!
//! These are the crate's own shapes, not the store's, so the writers stay pure and the server maps
//! its rows into them. Money is `Decimal` throughout: no float ever touches an amount.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::FormatError;

/// A currency as the writers need it: its ISO 4217 code and how many decimals its minor unit has
/// (2 for USD, 0 for JPY, 3 for BHD). BAI2 writes amounts in minor units, so this matters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementCurrency {
    pub code: String,
    pub minor_units: u32,
}

impl StatementCurrency {
    pub fn new(code: impl Into<String>, minor_units: u32) -> Self {
        StatementCurrency {
            code: code.into(),
            minor_units,
        }
    }

    /// `amount` as an integer count of minor units (1.23 USD → 123, 500 JPY → 500).
    ///
    /// An amount with more decimals than the currency has is refused rather than rounded: a
    /// statement file must carry exactly what the bank reported.
    pub fn to_minor(&self, amount: Decimal) -> Result<i128, FormatError> {
        let out_of_range = || FormatError::OutOfRange {
            amount,
            currency: self.code.clone(),
        };
        let scaled = 10i64
            .checked_pow(self.minor_units)
            .and_then(|f| amount.checked_mul(Decimal::from(f)))
            .ok_or_else(out_of_range)?;
        if scaled.fract() != Decimal::ZERO {
            return Err(FormatError::TooManyDecimals {
                amount,
                currency: self.code.clone(),
            });
        }
        scaled.to_i128().ok_or_else(out_of_range)
    }

    /// `amount` formatted with exactly the currency's number of decimals, `.` as radix.
    /// Refused like [`Self::to_minor`] when it has more decimals than the currency.
    pub fn format(&self, amount: Decimal) -> Result<String, FormatError> {
        self.to_minor(amount)?;
        let mut a = amount;
        a.rescale(self.minor_units);
        Ok(a.to_string())
    }
}

/// The OFX account types a bank account can have (OFX `ACCTTYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BankAccountType {
    Checking,
    Savings,
    MoneyMarket,
    CreditLine,
    Cd,
}

impl BankAccountType {
    pub fn ofx_name(self) -> &'static str {
        match self {
            BankAccountType::Checking => "CHECKING",
            BankAccountType::Savings => "SAVINGS",
            BankAccountType::MoneyMarket => "MONEYMRKT",
            BankAccountType::CreditLine => "CREDITLINE",
            BankAccountType::Cd => "CD",
        }
    }

    pub fn from_ofx(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_uppercase().as_str() {
            "CHECKING" => BankAccountType::Checking,
            "SAVINGS" => BankAccountType::Savings,
            "MONEYMRKT" => BankAccountType::MoneyMarket,
            "CREDITLINE" => BankAccountType::CreditLine,
            "CD" => BankAccountType::Cd,
            _ => return None,
        })
    }
}

/// Bank account (with a routing number) or card account: OFX answers them in different message
/// sets and, for cards, a balance owed is negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountKind {
    Bank {
        routing: String,
        account_type: BankAccountType,
    },
    Card,
}

/// The account a statement is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementAccount {
    /// The hub's id for the account (used where a format wants an opaque reference).
    pub account_id: String,
    pub kind: AccountKind,
    /// The number the customer knows (OFX ACCTID, BAI2 customer account, MT940 :25:, CAMT IBAN/Othr).
    pub account_number: String,
    pub currency: StatementCurrency,
    pub name: Option<String>,
}

/// One posted transaction. `amount` is signed as the account holder sees it: positive is money
/// in (a deposit, a card payment or refund), negative money out (a purchase, a cheque, a fee).
#[derive(Debug, Clone, PartialEq)]
pub struct StatementLine {
    /// Stable forever: OFX FITID, CAMT AcctSvcrRef, BAI2 bank reference, MT940 bank reference.
    pub transaction_id: String,
    pub posted_at: DateTime<Utc>,
    /// The date the customer made the transaction, when it differs from posting.
    pub transaction_date: Option<NaiveDate>,
    pub amount: Decimal,
    pub description: String,
    pub payee: Option<String>,
    pub memo: Option<String>,
    /// Free transaction type (OFX TRNTYPE names like `DEBIT`, `CHECK`, `FEE`, `POS` map directly).
    pub kind: Option<String>,
    pub check_number: Option<String>,
    pub running_balance: Option<Decimal>,
}

/// A balance as the FI reported it, with the date it is as of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    pub amount: Decimal,
    pub as_of: DateTime<Utc>,
}

/// The balances the FI reported. Any of them may be missing; each writer documents what it does
/// then (derive, omit, or refuse), and none invents a figure silently.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Balances {
    pub opening: Option<Balance>,
    pub closing: Option<Balance>,
    pub available: Option<Balance>,
}

/// The period a statement covers (inclusive dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// Everything a writer needs about one account's statement besides its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementHeader {
    pub account: StatementAccount,
    pub period: Period,
    pub balances: Balances,
}

/// Running totals a streaming writer keeps while lines go by, so trailers and derived balances
/// never need the lines again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub count: u64,
    pub credits: Decimal,
    pub debits: Decimal,
}

impl Totals {
    pub fn add(&mut self, amount: Decimal) {
        self.count += 1;
        if amount < Decimal::ZERO {
            self.debits += -amount;
        } else {
            self.credits += amount;
        }
    }

    /// Net movement: credits minus debits.
    pub fn net(&self) -> Decimal {
        self.credits - self.debits
    }
}

/// Closing balance = opening + net movement of the lines. Used only by formats whose closing
/// balance comes after the lines (OFX LEDGERBAL, MT940 :62F:) and only when the FI reported no
/// closing balance but did report an opening one. Dated at the end of the period.
pub fn derive_closing(balances: &Balances, totals: &Totals, period: &Period) -> Option<Balance> {
    balances.closing.or_else(|| {
        balances.opening.map(|o| Balance {
            amount: o.amount + totals.net(),
            as_of: period.to,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn minor_units_are_exact_or_refused() {
        let usd = StatementCurrency::new("USD", 2);
        let jpy = StatementCurrency::new("JPY", 0);
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(usd.to_minor(d("-42.5")).unwrap(), -4250);
        assert_eq!(jpy.to_minor(d("5800")).unwrap(), 5800);
        assert_eq!(usd.format(d("7")).unwrap(), "7.00");
        assert!(matches!(
            usd.to_minor(d("0.001")),
            Err(FormatError::TooManyDecimals { .. })
        ));
        assert!(matches!(
            jpy.format(d("1.5")),
            Err(FormatError::TooManyDecimals { .. })
        ));
        assert!(matches!(
            usd.to_minor(Decimal::MAX),
            Err(FormatError::OutOfRange { .. })
        ));
        let silly = StatementCurrency::new("XXX", 40);
        assert!(matches!(
            silly.to_minor(d("1")),
            Err(FormatError::OutOfRange { .. })
        ));
    }
}
