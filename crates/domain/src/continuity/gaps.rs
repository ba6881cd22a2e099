//! Gaps in a feed: days the FI declared closed (no transactions, by the FI's word) and stale
//! spans (no transaction posted for longer than the feed's usual rhythm, by the hub's rule).
//!
//! The stale rule, on posting days (UTC dates of `posted_at`, one per day however many
//! transactions it has): the gap from one posting day to the next (or, for the last, to today)
//! is counted in **open days**, the days after the first up to and including the second that
//! were not declared closed (consecutive days: 1; Friday to Monday over a closed weekend: 1). The feed's rhythm is
//! the median of its open-day gaps; with fewer than [`MIN_GAPS`] gaps it is taken as daily (1).
//! A silence is **stale** when it lasts more than [`STALE_FACTOR`] times the rhythm, and never
//! when it lasts [`STALE_FLOOR_DAYS`] open days or fewer. The silence after the last posting
//! day, up to today, is judged the same way and is reported as `ongoing`. Declared closed days
//! never count towards a silence, so a declared closed day is told apart from a day nothing
//! was sent.

use chrono::{Days, NaiveDate};

use crate::Timestamp;

crate::define_id!(
    /// A day range an FI declared closed.
    ClosedDaysId
);

/// The longest range one declaration may cover, in days (both ends included).
pub const MAX_CLOSED_RANGE_DAYS: u64 = 366;
/// Below this many gaps between posting days, the rhythm is assumed daily.
pub const MIN_GAPS: usize = 3;
/// A silence is stale beyond this many times the feed's rhythm…
pub const STALE_FACTOR: u64 = 3;
/// …and never at or under this many open days.
pub const STALE_FLOOR_DAYS: u64 = 4;

/// A range of days, both ends included, that the FI declared closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedDays {
    pub id: ClosedDaysId,
    pub bank_feed_account_id: crate::BankFeedAccountId,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub declared_at: Timestamp,
}

/// Why a declared range is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClosedDaysRefusal {
    #[error("field `{0}` is not a date (YYYY-MM-DD)")]
    InvalidDate(&'static str),
    #[error("`from` is after `to`")]
    FromAfterTo,
    #[error("a declaration covers at most {MAX_CLOSED_RANGE_DAYS} days; send several")]
    RangeTooLong,
}

impl ClosedDaysRefusal {
    /// The stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            ClosedDaysRefusal::InvalidDate(_) => "INVALID_DATE",
            ClosedDaysRefusal::FromAfterTo => "INVALID_DATE_RANGE",
            ClosedDaysRefusal::RangeTooLong => "DATE_RANGE_TOO_LONG",
        }
    }
}

/// Reads a declaration's `from` and `to` (`YYYY-MM-DD`) and checks the range.
pub fn closed_range(from: &str, to: &str) -> Result<(NaiveDate, NaiveDate), ClosedDaysRefusal> {
    let day = |s: &str, field| {
        // Exactly YYYY-MM-DD: chrono alone would take `2026-1-5` or a signed year.
        let shaped = s.len() == 10
            && s.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        shaped
            .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .flatten()
            .ok_or(ClosedDaysRefusal::InvalidDate(field))
    };
    let (from, to) = (day(from, "from")?, day(to, "to")?);
    if from > to {
        return Err(ClosedDaysRefusal::FromAfterTo);
    }
    if days_between(from, to) + 1 > MAX_CLOSED_RANGE_DAYS {
        return Err(ClosedDaysRefusal::RangeTooLong);
    }
    Ok((from, to))
}

/// A silence longer than the feed's rhythm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleSpan {
    /// The first and last silent day (the days between two posting days, or after the last).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Days in it that were not declared closed (what made it stale).
    pub open_days: u64,
    /// Days in it the FI declared closed (not counted).
    pub closed_days: u64,
    /// It runs up to today: nothing has been posted since.
    pub ongoing: bool,
}

/// The feed's rhythm and its stale spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staleness {
    /// The median open-day gap between posting days (1 until there are [`MIN_GAPS`] gaps).
    pub rhythm_days: u64,
    /// A silence of more open days than this is stale.
    pub threshold_days: u64,
    pub spans: Vec<StaleSpan>,
}

fn days_between(a: NaiveDate, b: NaiveDate) -> u64 {
    u64::try_from((b - a).num_days()).unwrap_or(0)
}

/// Closed days within `from..=to`, the ranges sorted by `from` (overlaps counted once).
fn closed_within(closed: &[(NaiveDate, NaiveDate)], from: NaiveDate, to: NaiveDate) -> u64 {
    let mut count = 0;
    let mut covered_to: Option<NaiveDate> = None;
    for &(f, t) in closed {
        let start = f.max(from);
        let start = match covered_to {
            Some(c) if c >= start => c + Days::new(1),
            _ => start,
        };
        let end = t.min(to);
        if start <= end {
            count += days_between(start, end) + 1;
        }
        covered_to = Some(covered_to.map_or(t, |c| c.max(t)));
    }
    count
}

/// The stale spans of a feed with these posting days (any order, repeats allowed) and these
/// declared closed ranges, judged on `today` (see the module's rule).
pub fn staleness(
    posting_days: &[NaiveDate],
    closed: &[(NaiveDate, NaiveDate)],
    today: NaiveDate,
) -> Staleness {
    let mut days: Vec<NaiveDate> = posting_days.to_vec();
    days.sort_unstable();
    days.dedup();
    let mut closed: Vec<(NaiveDate, NaiveDate)> = closed.to_vec();
    closed.sort_unstable();
    // The silence from `a` (exclusive) to `b` (inclusive of `b` as the day it ends on).
    let silence = |a: NaiveDate, b: NaiveDate| {
        let total = days_between(a, b);
        let shut = if total == 0 {
            0
        } else {
            closed_within(&closed, a + Days::new(1), b)
        };
        (total - shut.min(total), shut)
    };
    let mut gaps: Vec<u64> = days.windows(2).map(|w| silence(w[0], w[1]).0).collect();
    let rhythm_days = if gaps.len() < MIN_GAPS {
        1
    } else {
        gaps.sort_unstable();
        gaps[gaps.len() / 2].max(1)
    };
    let threshold_days = (rhythm_days * STALE_FACTOR).max(STALE_FLOOR_DAYS);
    let mut spans = Vec::new();
    for w in days.windows(2) {
        let (open, _) = silence(w[0], w[1]);
        if open > threshold_days {
            let (from, to) = (w[0] + Days::new(1), w[1] - Days::new(1));
            let shut = closed_within(&closed, from, to);
            spans.push(StaleSpan {
                from,
                to,
                open_days: days_between(from, to) + 1 - shut,
                closed_days: shut,
                ongoing: false,
            });
        }
    }
    if let Some(&last) = days.last() {
        if today > last {
            // Up to and including today: a day with nothing posted yet counts as silent.
            let (open, shut) = silence(last, today);
            if open > threshold_days {
                spans.push(StaleSpan {
                    from: last + Days::new(1),
                    to: today,
                    open_days: open,
                    closed_days: shut,
                    ongoing: true,
                });
            }
        }
    }
    Staleness {
        rhythm_days,
        threshold_days,
        spans,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn every_day(from: &str, to: &str) -> Vec<NaiveDate> {
        d(from).iter_days().take_while(|x| *x <= d(to)).collect()
    }

    #[test]
    fn a_daily_feed_that_stops_is_stale_after_the_floor() {
        let days = every_day("2026-03-01", "2026-03-10");
        let s = staleness(&days, &[], d("2026-03-14"));
        assert_eq!((s.rhythm_days, s.threshold_days), (1, STALE_FLOOR_DAYS));
        assert!(s.spans.is_empty(), "4 silent days are within the floor");
        let s = staleness(&days, &[], d("2026-03-15"));
        assert_eq!(
            s.spans,
            vec![StaleSpan {
                from: d("2026-03-11"),
                to: d("2026-03-15"),
                open_days: 5,
                closed_days: 0,
                ongoing: true,
            }]
        );
    }

    #[test]
    fn a_silence_in_the_middle_is_a_span_between_posting_days() {
        let mut days = every_day("2026-03-01", "2026-03-10");
        days.extend(every_day("2026-03-20", "2026-03-25"));
        let s = staleness(&days, &[], d("2026-03-25"));
        assert_eq!(
            s.spans,
            vec![StaleSpan {
                from: d("2026-03-11"),
                to: d("2026-03-19"),
                open_days: 9,
                closed_days: 0,
                ongoing: false,
            }]
        );
    }

    #[test]
    fn declared_closed_days_do_not_count_towards_a_silence() {
        let mut days = every_day("2026-03-01", "2026-03-10");
        days.extend(every_day("2026-03-20", "2026-03-25"));
        // Nine silent days, seven of them declared closed: two open days, not stale.
        let closed = [(d("2026-03-12"), d("2026-03-18"))];
        let s = staleness(&days, &closed, d("2026-03-25"));
        assert!(s.spans.is_empty(), "{s:?}");
        // Only three declared: six open days, stale, and the span says which were closed.
        let closed = [
            (d("2026-03-12"), d("2026-03-13")),
            (d("2026-03-13"), d("2026-03-14")),
        ];
        let s = staleness(&days, &closed, d("2026-03-25"));
        assert_eq!(s.spans.len(), 1);
        assert_eq!((s.spans[0].open_days, s.spans[0].closed_days), (6, 3));
        // The ongoing silence too: the middle one stays, nothing runs up to today.
        let closed = [(d("2026-03-26"), d("2026-04-30"))];
        let s = staleness(&days, &closed, d("2026-04-30"));
        assert_eq!(s.spans.len(), 1);
        assert!(!s.spans[0].ongoing);
        let s = staleness(&days, &closed[..0], d("2026-04-30"));
        assert_eq!(s.spans.len(), 2);
        assert_eq!((s.spans[1].open_days, s.spans[1].ongoing), (36, true));
    }

    #[test]
    fn a_weekly_feed_is_judged_by_its_own_rhythm() {
        let days: Vec<NaiveDate> = (0..8).map(|w| d("2026-01-05") + Days::new(7 * w)).collect();
        let last = *days.last().unwrap();
        let s = staleness(&days, &[], last + Days::new(20));
        assert_eq!((s.rhythm_days, s.threshold_days), (7, 21));
        assert!(s.spans.is_empty(), "20 days is within three weeks");
        let s = staleness(&days, &[], last + Days::new(22));
        assert_eq!(s.spans.len(), 1);
        assert!(s.spans[0].ongoing);
        // A business-day feed with its weekends declared closed keeps a daily rhythm.
        let weekdays: Vec<NaiveDate> = every_day("2026-03-02", "2026-03-27")
            .into_iter()
            .filter(|x| chrono::Datelike::weekday(x).number_from_monday() <= 5)
            .collect();
        let weekends: Vec<_> = (0..4)
            .map(|w| {
                let sat = d("2026-03-07") + Days::new(7 * w);
                (sat, sat + Days::new(1))
            })
            .collect();
        let s = staleness(&weekdays, &weekends, d("2026-03-27"));
        assert_eq!(s.rhythm_days, 1);
        assert!(s.spans.is_empty());
    }

    #[test]
    fn no_postings_no_spans_and_repeats_count_once() {
        assert!(staleness(&[], &[], d("2026-03-01")).spans.is_empty());
        let days = [d("2026-03-01"), d("2026-03-01"), d("2026-03-02")];
        let s = staleness(&days, &[], d("2026-03-02"));
        assert_eq!(s.rhythm_days, 1);
        assert!(s.spans.is_empty());
    }

    #[test]
    fn declarations_are_checked() {
        assert_eq!(
            closed_range("2026-12-24", "2026-12-26"),
            Ok((d("2026-12-24"), d("2026-12-26")))
        );
        assert_eq!(
            closed_range("2026-12-26", "2026-12-24"),
            Err(ClosedDaysRefusal::FromAfterTo)
        );
        assert_eq!(
            closed_range("2026-1-5", "2026-01-06"),
            Err(ClosedDaysRefusal::InvalidDate("from"))
        );
        assert_eq!(
            closed_range("2026-01-05", "2026-02-30"),
            Err(ClosedDaysRefusal::InvalidDate("to"))
        );
        assert_eq!(
            closed_range("2026-01-01", "2026-12-31").map(|_| ()),
            Ok(()),
            "365 days"
        );
        assert_eq!(
            closed_range("2024-01-01", "2025-01-01"),
            Err(ClosedDaysRefusal::RangeTooLong),
            "367 days"
        );
        assert_eq!(ClosedDaysRefusal::FromAfterTo.code(), "INVALID_DATE_RANGE");
    }
}
