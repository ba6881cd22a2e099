//! ISO 4217 currencies and their minor units.
//!
//! The hub accepts exactly the `currency_code` values of Rutter's API, plus the current ISO codes
//! that replaced withdrawn ones among them (BYN, MRU, STN, VES, VED, SLE, ZWL, ZWG, XSU, XUA), so an
//! FI already on a current code is not refused. Each carries its ISO 4217 minor units: how many
//! decimal places an amount in that currency may have.
//!
//! Codes for which ISO 4217 publishes no minor units (precious metals, bond-market units, XDR,
//! XFU, XSU, XUA, XTS, XXX) and the two crypto-currencies (BTC, ETH, not ISO codes) get 8, the most
//! fractional digits the hub's amounts allow.

use std::fmt;

/// The accepted currencies and their minor units, sorted by code (byte order, no duplicates) so
/// [`Currency::from_code`] can binary-search it.
const CURRENCIES: &[(&str, u32)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BOV", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTC", 8),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BYR", 0),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHE", 2),
    ("CHF", 2),
    ("CHW", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("COU", 2),
    ("CRC", 2),
    ("CUC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("ETH", 8),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HRK", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LTL", 2),
    ("LVL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRO", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MXV", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SLL", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STD", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("USN", 2),
    ("USS", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VEF", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XAG", 8),
    ("XAU", 8),
    ("XBA", 8),
    ("XBB", 8),
    ("XBC", 8),
    ("XBD", 8),
    ("XCD", 2),
    ("XDR", 8),
    ("XFU", 8),
    ("XOF", 0),
    ("XPD", 8),
    ("XPF", 0),
    ("XPT", 8),
    ("XSU", 8),
    ("XTS", 8),
    ("XUA", 8),
    ("XXX", 8),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
    ("ZWL", 2),
];

/// An ISO 4217 currency the hub accepts.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    minor_units: u32,
}

impl Currency {
    /// The currency with this code: an exact, upper-case match (`"usd"` is `None`).
    pub fn from_code(code: &str) -> Option<Currency> {
        CURRENCIES
            .binary_search_by(|(c, _)| (*c).cmp(code))
            .ok()
            .map(|i| Currency::from_entry(CURRENCIES[i]))
    }

    /// The three-letter code, e.g. `"USD"`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Decimal places an amount in this currency may have, e.g. USD 2, JPY 0, BHD 3, CLF 4.
    pub fn minor_units(&self) -> u32 {
        self.minor_units
    }

    /// Every accepted currency, in code order.
    pub fn all() -> impl Iterator<Item = Currency> {
        CURRENCIES.iter().copied().map(Currency::from_entry)
    }

    fn from_entry((code, minor_units): (&'static str, u32)) -> Currency {
        Currency { code, minor_units }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code)
    }
}

impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code)
    }
}

impl<'de> serde::Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CurrencyVisitor;

        impl serde::de::Visitor<'_> for CurrencyVisitor {
            type Value = Currency;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 4217 currency code")
            }

            fn visit_str<E: serde::de::Error>(self, code: &str) -> Result<Currency, E> {
                // Starts with `unknown variant`, like serde's own enum error: the HTTP layer
                // classifies errors by that prefix.
                Currency::from_code(code).ok_or_else(|| {
                    E::custom(format!(
                        "unknown variant `{code}`, expected an ISO 4217 currency code such as \
                         USD, EUR or GBP"
                    ))
                })
            }
        }

        deserializer.deserialize_str(CurrencyVisitor)
    }
}

impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Currency::all().map(|c| c.code())))
            .description(Some("ISO 4217 currency code"))
            .into()
    }
}

impl utoipa::ToSchema for Currency {}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        Currency::from_code(code).unwrap_or_else(|| panic!("{code} should be accepted"))
    }

    #[test]
    fn table_is_sorted_without_duplicates_so_binary_search_is_valid() {
        for pair in CURRENCIES.windows(2) {
            assert!(
                pair[0].0 < pair[1].0,
                "{} must sort before {}",
                pair[0].0,
                pair[1].0
            );
        }
        for (code, minor_units) in CURRENCIES {
            assert_eq!(code.len(), 3, "{code}");
            assert!(code.bytes().all(|b| b.is_ascii_uppercase()), "{code}");
            assert!(*minor_units <= 8, "{code}");
            assert_eq!(cur(code).code(), *code);
            assert_eq!(cur(code).minor_units(), *minor_units);
        }
    }

    #[test]
    fn accepts_rutters_list_plus_current_replacement_codes() {
        assert_eq!(Currency::all().count(), 192);
        for code in [
            "BYN", "MRU", "STN", "VES", "VED", "SLE", "ZWL", "ZWG", "XSU", "XUA",
        ] {
            assert!(Currency::from_code(code).is_some(), "{code}");
        }
        for code in [
            "BYR", "MRO", "STD", "VEF", "SLL", "HRK", "LTL", "LVL", "BTC", "ETH",
        ] {
            assert!(Currency::from_code(code).is_some(), "{code}");
        }
        let all: Vec<&str> = Currency::all().map(|c| c.code()).collect();
        assert_eq!(all.first(), Some(&"AED"));
        assert_eq!(all.last(), Some(&"ZWL"));
    }

    #[test]
    fn minor_units_follow_iso_4217() {
        let expected = [
            ("USD", 2),
            ("EUR", 2),
            ("GBP", 2),
            ("JPY", 0),
            ("KRW", 0),
            ("ISK", 0),
            ("HUF", 2),
            ("TWD", 2),
            ("IDR", 2),
            ("MGA", 2),
            ("BHD", 3),
            ("KWD", 3),
            ("TND", 3),
            ("CLF", 4),
            ("UYW", 4),
            ("XAU", 8),
            ("XDR", 8),
            ("XXX", 8),
            ("BTC", 8),
            ("ETH", 8),
        ];
        for (code, minor_units) in expected {
            assert_eq!(cur(code).minor_units(), minor_units, "{code}");
        }
        let zero: Vec<&str> = Currency::all()
            .filter(|c| c.minor_units() == 0)
            .map(|c| c.code())
            .collect();
        assert_eq!(
            zero,
            [
                "BIF", "BYR", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
                "UYI", "VND", "VUV", "XAF", "XOF", "XPF"
            ]
        );
    }

    #[test]
    fn lookup_is_exact_and_upper_case_only() {
        for code in [
            "usd", "Usd", "USDX", "US", "", " USD", "USD ", "ABC", "ZZZ", "AAA",
        ] {
            assert_eq!(Currency::from_code(code), None, "{code:?}");
        }
    }

    #[test]
    fn displays_and_debugs_as_the_code() {
        assert_eq!(cur("USD").to_string(), "USD");
        assert_eq!(format!("{:?}", cur("JPY")), "Currency(JPY)");
        assert_eq!(cur("EUR"), cur("EUR"));
        assert_ne!(cur("EUR"), cur("GBP"));
    }

    #[test]
    fn serde_round_trips_as_a_json_string() {
        let usd = cur("USD");
        assert_eq!(serde_json::to_string(&usd).unwrap(), r#""USD""#);
        assert_eq!(serde_json::from_str::<Currency>(r#""USD""#).unwrap(), usd);
        assert_eq!(
            serde_json::from_value::<Currency>(serde_json::json!("BHD")).unwrap(),
            cur("BHD")
        );
        for c in Currency::all() {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<Currency>(&json).unwrap(), c);
        }
    }

    #[test]
    fn unknown_code_is_an_unknown_variant_error() {
        for json in [r#""ABC""#, r#""usd""#, r#""""#] {
            let err = serde_json::from_str::<Currency>(json).unwrap_err();
            assert!(err.is_data(), "{err}");
            assert!(err.to_string().starts_with("unknown variant"), "{err}");
        }
        let err = serde_json::from_str::<Currency>(r#""ABC""#).unwrap_err();
        assert!(err.to_string().contains("`ABC`"), "{err}");
    }

    #[test]
    fn non_string_is_an_invalid_type_error() {
        for json in ["5", "1.5", "null", "true", "[]", "{}"] {
            let err = serde_json::from_str::<Currency>(json).unwrap_err();
            assert!(err.to_string().starts_with("invalid type"), "{json}: {err}");
        }
        let err = serde_json::from_value::<Currency>(serde_json::json!(5)).unwrap_err();
        assert!(err.to_string().starts_with("invalid type"), "{err}");
    }

    #[test]
    fn openapi_schema_is_a_string_enum_of_all_codes() {
        let schema = serde_json::to_value(<Currency as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(schema["type"], "string");
        assert_eq!(schema["description"], "ISO 4217 currency code");
        let codes: Vec<&str> = schema["enum"]
            .as_array()
            .expect("enum is an array")
            .iter()
            .map(|v| v.as_str().expect("enum values are strings"))
            .collect();
        assert!(codes.contains(&"USD"));
        assert!(codes.contains(&"JPY"));
        assert_eq!(codes.len(), 192);
        assert_eq!(<Currency as utoipa::ToSchema>::name(), "Currency");
    }
}
