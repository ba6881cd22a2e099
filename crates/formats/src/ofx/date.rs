//! OFX dates: `YYYYMMDD[HHMMSS[.XXX]][[offset[:TZ]]]`.
//!
//! Clients send every shape of this: date only (ofxclient), no zone (aqbanking), `[+0:UTC]`
//! (ofxtools), `[-5:EST]`, fractional offsets like `[5.75]`. A date without a zone is read as
//! UTC: the hub has no idea of the client's zone, and UTC keeps the reading deterministic.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// Reads an OFX date or datetime as a UTC instant; `None` when it is not one.
pub fn parse_ofx_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let (main, zone) = match s.find('[') {
        Some(i) => {
            let z = s[i + 1..].strip_suffix(']')?;
            (&s[..i], Some(z))
        }
        None => (s, None),
    };
    let (digits, frac) = match main.split_once('.') {
        Some((d, f)) => (d, Some(f)),
        None => (main, None),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 8 | 12 | 14) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| digits.get(r).and_then(|x| x.parse::<u32>().ok());
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(4..6)?, num(6..8)?)?;
    let (h, m, sec) = match digits.len() {
        8 => (0, 0, 0),
        12 => (num(8..10)?, num(10..12)?, 0),
        _ => (num(8..10)?, num(10..12)?, num(12..14)?),
    };
    let millis = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 6 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let padded = format!("{f:0<3}");
            padded[..3].parse::<u32>().ok()?
        }
        Some(_) => return None,
    };
    let time = NaiveTime::from_hms_milli_opt(h, m, sec.min(59), millis)?;
    let local = NaiveDateTime::new(date, time);
    let offset_minutes = match zone {
        None => 0,
        Some(z) => {
            let off = z.split(':').next()?.trim();
            let hours: f64 = if off.is_empty() {
                0.0
            } else {
                off.parse().ok()?
            };
            if !(-14.0..=14.0).contains(&hours) {
                return None;
            }
            (hours * 60.0).round() as i64
        }
    };
    Some((local - Duration::minutes(offset_minutes)).and_utc())
}

/// Writes a UTC instant the way strict clients like best: `20240105120000.000[0:GMT]`.
pub fn format_ofx_datetime(t: &DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%S%.3f[0:GMT]").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn every_shape_clients_send() {
        let noon = Utc.with_ymd_and_hms(2024, 1, 5, 12, 0, 0).unwrap();
        let midnight = Utc.with_ymd_and_hms(2024, 1, 5, 0, 0, 0).unwrap();
        assert_eq!(parse_ofx_datetime("20240105"), Some(midnight));
        assert_eq!(parse_ofx_datetime("20240105120000"), Some(noon));
        assert_eq!(parse_ofx_datetime("20240105120000.000"), Some(noon));
        assert_eq!(parse_ofx_datetime("20240105120000.000[+0:UTC]"), Some(noon));
        assert_eq!(parse_ofx_datetime("20240105070000[-5:EST]"), Some(noon));
        assert_eq!(parse_ofx_datetime("20240105174500[5.75]"), Some(noon));
        assert_eq!(
            parse_ofx_datetime(" 20240105120000.000[0:GMT] "),
            Some(noon)
        );
        assert_eq!(parse_ofx_datetime("2024-01-05"), None);
        assert_eq!(parse_ofx_datetime("20241305"), None);
        assert_eq!(parse_ofx_datetime("20240105[99]"), None);
        assert_eq!(format_ofx_datetime(&noon), "20240105120000.000[0:GMT]");
    }
}
