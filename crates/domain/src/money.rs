//! Exact money. Amounts are decimals end to end: parsed from the JSON number's own digits
//! (serde_json's `arbitrary_precision` keeps them), never through a float, and checked against
//! the currency's minor-unit digits before anything is stored.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// An exact signed amount of money, e.g. `-300`, `1546.23`. Trailing zeros are not significant:
/// `1.50` and `1.5` are the same amount. Parsed amounts are kept without them; an amount
/// rendered for an answer carries its currency's scale ([`Amount::in_currency`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(Decimal);

/// Amounts are bounded so every backend stores them exactly: at most 15 integer digits and
/// 8 fractional digits (PostgreSQL `NUMERIC(23, 8)` and SQLite text hold these without loss).
pub const MAX_INTEGER_DIGITS: u32 = 15;
pub const MAX_FRACTION_DIGITS: u32 = 8;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("{0:?} is not a decimal number")]
    NotANumber(String),
    #[error("{0} has more than {MAX_FRACTION_DIGITS} decimal places")]
    TooPrecise(String),
    #[error("{0} is out of range (at most {MAX_INTEGER_DIGITS} integer digits)")]
    OutOfRange(String),
}

impl Amount {
    pub const ZERO: Amount = Amount(Decimal::ZERO);

    pub fn new(d: Decimal) -> Result<Self, AmountError> {
        let d = d.normalize();
        if d.scale() > MAX_FRACTION_DIGITS {
            return Err(AmountError::TooPrecise(d.to_string()));
        }
        if d.abs() >= Decimal::from(10u64.pow(MAX_INTEGER_DIGITS)) {
            return Err(AmountError::OutOfRange(d.to_string()));
        }
        Ok(Amount(d))
    }

    pub fn as_decimal(&self) -> Decimal {
        self.0
    }

    /// Digits after the decimal point, ignoring trailing zeros.
    pub fn fraction_digits(&self) -> u32 {
        self.0.normalize().scale()
    }

    /// The same amount written with at least `currency`'s minor units, as every door, file and
    /// page renders money (`1250.5` GBP → `1250.50`, JPY `1000` → `1000`); see
    /// [`with_minor_units`]. Equal (and hashes equal) to `self`: only its rendering changes.
    pub fn in_currency(self, currency: crate::Currency) -> Amount {
        Amount(with_minor_units(self.0, currency.minor_units()))
    }

    /// True when the amount can be expressed in a currency with `minor_units` decimal places.
    pub fn fits_minor_units(&self, minor_units: u32) -> bool {
        self.fraction_digits() <= minor_units
    }

    pub fn is_negative(&self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    pub fn is_positive(&self) -> bool {
        self.0.is_sign_positive() && !self.0.is_zero()
    }

    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }
}

impl FromStr for Amount {
    type Err = AmountError;
    /// Accepts plain (`-12.30`) and exponent (`1.5e2`, `-3E-2`) notation, as SDKs emit both.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let parsed = if t.contains(['e', 'E']) {
            Decimal::from_scientific(t)
        } else {
            Decimal::from_str_exact(t)
        };
        match parsed {
            Ok(d) => Amount::new(d),
            // rust_decimal refuses more than 28 significant digits: too precise or too large.
            Err(_) => match t.parse::<f64>() {
                Ok(f) if !f.is_finite() || f.abs() >= 1e15 => {
                    Err(AmountError::OutOfRange(t.to_owned()))
                }
                Ok(_) => Err(AmountError::TooPrecise(t.to_owned())),
                Err(_) => Err(AmountError::NotANumber(t.to_owned())),
            },
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Amount({})", self.0)
    }
}

impl Serialize for Amount {
    /// A JSON number with exactly these digits (never through a float).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let n =
            serde_json::Number::from_str(&self.0.to_string()).map_err(serde::ser::Error::custom)?;
        n.serialize(serializer)
    }
}

/// `d` with at least the currency's minor units, as statements write money: `1250.5` →
/// `1250.50`, JPY `1000` → `1000`. Never rounds: digits beyond the minor units stay.
pub fn with_minor_units(d: Decimal, minor_units: u32) -> Decimal {
    let mut d = d.normalize();
    if d.scale() < minor_units {
        d.rescale(minor_units);
    }
    d
}

/// [`with_minor_units`] as a JSON number with exactly those digits (`1250.50`).
pub fn json_money(d: Decimal, minor_units: u32) -> serde_json::Value {
    let text = with_minor_units(d, minor_units).to_string();
    serde_json::Number::from_str(&text)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::String(text))
}

/// An amount as statements write it: serialises as a JSON number with at least its currency's
/// minor units (`1250.50`, JPY `1000`), see [`with_minor_units`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub amount: Decimal,
    pub minor_units: u32,
}

impl Money {
    pub fn new(amount: Decimal, currency: crate::Currency) -> Self {
        Money {
            amount,
            minor_units: currency.minor_units(),
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&with_minor_units(self.amount, self.minor_units), f)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        json_money(self.amount, self.minor_units).serialize(serializer)
    }
}

impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Number)
            .description(Some(
                "An exact decimal amount written with its currency's minor units (1250.50; \
                 JPY 1000).",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Money {}

impl<'de> Deserialize<'de> for Amount {
    /// A JSON number, or a string holding one.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AmountVisitor;
        impl<'de> Visitor<'de> for AmountVisitor {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
                Amount::new(Decimal::from(v)).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
                Amount::new(Decimal::from(v)).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Amount, E> {
                // Only reached by formats without arbitrary precision; the shortest round-trip
                // text of the float is what the sender wrote.
                v.to_string().parse().map_err(E::custom)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Amount, A::Error> {
                // serde_json's arbitrary_precision hands numbers over as a one-entry map.
                let n =
                    serde_json::Number::deserialize(de::value::MapAccessDeserializer::new(map))?;
                n.as_str().parse().map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_any(AmountVisitor)
    }
}

impl utoipa::PartialSchema for Amount {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Number)
            .description(Some(
                "An exact decimal amount, e.g. -300 or 1546.23. Parsed from the digits sent, never \
                 through a float; at most 15 integer digits and 8 decimal places, and at most as \
                 many decimal places as the currency allows.",
            ))
            .exclusive_minimum(Some(-1e15))
            .exclusive_maximum(Some(1e15))
            .into()
    }
}

impl utoipa::ToSchema for Amount {}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Amount, String> {
        serde_json::from_str::<Amount>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn json_numbers_parse_exactly() {
        assert_eq!(parse("-300").unwrap().to_string(), "-300");
        assert_eq!(parse("1546.23").unwrap().to_string(), "1546.23");
        // 0.1 + 0.2 style values keep their digits: no float on the way.
        assert_eq!(parse("0.30000000").unwrap().to_string(), "0.3");
        assert_eq!(parse("1.5e2").unwrap().to_string(), "150");
        assert_eq!(parse("-3E-2").unwrap().to_string(), "-0.03");
        assert_eq!(parse("\"12.10\"").unwrap().to_string(), "12.1");
        assert_eq!(
            parse("999999999999999.99").unwrap().to_string(),
            "999999999999999.99"
        );
    }

    #[test]
    fn bad_amounts_are_refused_with_reasons() {
        assert!(parse("1.123456789").unwrap_err().contains("decimal places"));
        assert!(parse("1000000000000000")
            .unwrap_err()
            .contains("out of range"));
        assert!(parse("1e400").unwrap_err().contains("out of range"));
        assert!(parse("\"abc\"").unwrap_err().contains("not a decimal"));
        assert!(parse("true").is_err());
    }

    #[test]
    fn serialises_as_an_exact_json_number() {
        let a: Amount = "1833.21".parse().unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), "1833.21");
        let v = serde_json::json!({ "amount": a });
        assert_eq!(v.to_string(), r#"{"amount":1833.21}"#);
    }

    #[test]
    fn money_keeps_its_currencys_scale() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(with_minor_units(d("1250.5"), 2).to_string(), "1250.50");
        assert_eq!(with_minor_units(d("1000"), 0).to_string(), "1000");
        assert_eq!(with_minor_units(d("1000.000"), 0).to_string(), "1000");
        assert_eq!(with_minor_units(d("-0.5"), 3).to_string(), "-0.500");
        assert_eq!(with_minor_units(d("1.234"), 2).to_string(), "1.234");
        let v = serde_json::json!({ "balance": json_money(d("1250.5"), 2) });
        assert_eq!(v.to_string(), r#"{"balance":1250.50}"#);
    }

    #[test]
    fn an_amount_in_its_currency_renders_with_its_minor_units() {
        let gbp = crate::Currency::from_code("GBP").unwrap();
        let jpy = crate::Currency::from_code("JPY").unwrap();
        let bhd = crate::Currency::from_code("BHD").unwrap();
        let a: Amount = "1250.5".parse().unwrap();
        assert_eq!(
            serde_json::to_string(&a.in_currency(gbp)).unwrap(),
            "1250.50"
        );
        assert_eq!(a.in_currency(bhd).to_string(), "1250.500");
        assert_eq!(a.in_currency(gbp), a, "only the rendering changes");
        assert_eq!(a.in_currency(gbp).fraction_digits(), 1);
        let yen: Amount = "1000".parse().unwrap();
        assert_eq!(
            serde_json::to_string(&yen.in_currency(jpy)).unwrap(),
            "1000"
        );
        // Read back, the rendered amount is the amount.
        let back: Amount = serde_json::from_str("1250.50").unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn minor_units_and_signs() {
        let a: Amount = "10.50".parse().unwrap();
        assert!(a.fits_minor_units(1) && a.fits_minor_units(2) && !a.fits_minor_units(0));
        let jpy: Amount = "100.00".parse().unwrap();
        assert!(jpy.fits_minor_units(0));
        assert!("-1".parse::<Amount>().unwrap().is_negative());
        assert!(!"0".parse::<Amount>().unwrap().is_negative());
        assert!(!"-0".parse::<Amount>().unwrap().is_negative());
        assert!("0.01".parse::<Amount>().unwrap().is_positive());
    }
}
