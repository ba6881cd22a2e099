//! Timestamps in requests: RFC 3339 (`2023-02-02T00:00:00.000Z`, any offset, converted to UTC)
//! or a plain date (`2023-02-02`, midnight UTC), as FIs send both.

use bankfeeds_domain::clock::truncate_micros;
use bankfeeds_domain::Timestamp;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Deserializer};

pub fn parse(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    let t = if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        truncate_micros(t.with_timezone(&Utc))
    } else {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()?
            .and_hms_opt(0, 0, 0)?
            .and_utc()
    };
    // Years outside 1900..=9999 are typos, and some would not fit every backend's timestamps.
    (1900..=9999).contains(&t.year()).then_some(t)
}

fn invalid<E: serde::de::Error>(s: &str) -> E {
    E::custom(format!(
        "{s:?} is not an RFC 3339 timestamp or a YYYY-MM-DD date"
    ))
}

/// For `Option<Timestamp>` fields: absent or null is `None`.
pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) => parse(&s).map(Some).ok_or_else(|| invalid(&s)),
    }
}

/// For required timestamps.
pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    let s = String::deserialize(d)?;
    parse(&s).ok_or_else(|| invalid(&s))
}

/// For PATCH fields: absent is `None`, null is `Some(None)`.
pub fn patch<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Timestamp>>, D::Error> {
    option(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_rfc3339_with_offsets_and_plain_dates() {
        assert_eq!(
            parse("2023-02-02T02:34:56.000Z").unwrap().to_rfc3339(),
            "2023-02-02T02:34:56+00:00"
        );
        assert_eq!(
            parse("2023-02-02T04:34:56+02:00").unwrap().to_rfc3339(),
            "2023-02-02T02:34:56+00:00"
        );
        assert_eq!(
            parse("2023-02-02").unwrap().to_rfc3339(),
            "2023-02-02T00:00:00+00:00"
        );
        assert!(parse("02/02/2023").is_none());
        assert!(parse("2023-02-30").is_none());
        assert!(parse("-5000-01-01").is_none());
        assert!(parse("0999-01-01T00:00:00Z").is_none());
    }
}
