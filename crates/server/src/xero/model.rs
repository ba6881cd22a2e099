//! The shapes of Xero's Bank Feeds API (`xero-bankfeeds.openapi.yaml`, version 16.1.0), as the
//! hub sends and reads them. Amounts are exact decimals written as JSON numbers (the spec's
//! `number`, decimal(19,4)), never floats.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Exact decimals as JSON numbers (serde_json keeps a number's digits: `arbitrary_precision`).
mod amount {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::str::FromStr;

    pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        serde_json::Number::from_str(&d.to_string())
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        Decimal::from_str_exact(n.as_str())
            .or_else(|_| Decimal::from_scientific(n.as_str()))
            .map_err(serde::de::Error::custom)
    }
}

/// `CREDIT` or `DEBIT`, from the customer's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CreditDebit {
    Credit,
    Debit,
}

/// An unsigned amount and its direction (`StartBalance`, `EndBalance`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    #[serde(with = "amount")]
    pub amount: Decimal,
    pub credit_debit_indicator: CreditDebit,
}

impl Balance {
    /// A signed amount as Xero writes it: its size and its direction.
    pub fn signed(amount: Decimal) -> Self {
        Self {
            amount: amount.abs(),
            credit_debit_indicator: if amount.is_sign_negative() && !amount.is_zero() {
                CreditDebit::Debit
            } else {
                CreditDebit::Credit
            },
        }
    }

    /// Back to a signed amount.
    pub fn to_signed(&self) -> Decimal {
        match self.credit_debit_indicator {
            CreditDebit::Credit => self.amount,
            CreditDebit::Debit => -self.amount,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementLine {
    /// YYYY-MM-DD.
    pub posted_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(with = "amount")]
    pub amount: Decimal,
    pub credit_debit_indicator: CreditDebit,
    pub transaction_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payee_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cheque_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_type: Option<String>,
}

/// A statement as the hub sends it (`POST /Statements`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementOut {
    pub feed_connection_id: String,
    pub start_date: String,
    pub end_date: String,
    pub start_balance: Balance,
    pub end_balance: Balance,
    pub statement_lines: Vec<StatementLine>,
}

/// `PENDING`, `REJECTED` or `DELIVERED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum StatementStatus {
    Pending,
    Rejected,
    Delivered,
}

/// A statement as Xero answers it: its id, state and errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementIn {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub feed_connection_id: Option<String>,
    #[serde(default)]
    pub status: Option<StatementStatus>,
    #[serde(default)]
    pub errors: Vec<Problem>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// `BANK` or `CREDITCARD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AccountType {
    Bank,
    Creditcard,
}

/// A feed connection as the hub asks for it (`POST /FeedConnections`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedConnectionOut {
    /// Our bank feed account id.
    pub account_token: String,
    /// At most 40 characters; only the last four digits for a card.
    pub account_number: String,
    /// At most 30 characters.
    pub account_name: String,
    pub account_type: AccountType,
    pub currency: String,
}

/// A feed connection as Xero answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedConnectionIn {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub account_token: Option<String>,
    /// `PENDING` or `REJECTED` (the spec); none, or `ACTIVE`, once set up
    /// (`domain::live::xero::feed_connection` reads it).
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub error: Option<Problem>,
}

/// One item of `POST /FeedConnections/DeleteRequests`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteRequest {
    pub account_token: String,
}

/// Xero's `application/problem+json` error (`Error` in the spec).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub detail: Option<String>,
}

/// What Xero's identity server answers at `/connect/token`.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

/// One Xero organisation a consent covers (`GET /connections`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub tenant_id: String,
    #[serde(default)]
    pub tenant_name: Option<String>,
    #[serde(default)]
    pub tenant_type: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_unsigned_with_a_direction_and_exact_on_the_wire() {
        let b = Balance::signed("-12.3400".parse().unwrap());
        assert_eq!(b.credit_debit_indicator, CreditDebit::Debit);
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(json, r#"{"amount":12.3400,"creditDebitIndicator":"DEBIT"}"#);
        let back: Balance = serde_json::from_str(&json).unwrap();
        assert_eq!(back.to_signed(), "-12.34".parse::<Decimal>().unwrap());
        assert_eq!(
            Balance::signed(Decimal::ZERO).credit_debit_indicator,
            CreditDebit::Credit
        );
    }
}
