//! What the operator's console reports: a connection's state as the overview counts it, the
//! days a chart covers, and how its bars are scaled.

use chrono::{NaiveDate, TimeDelta};

use crate::{BankFeedAccount, Connection, Platform, Timestamp};

/// Days the overview's chart covers, today included.
pub const CHART_DAYS: u32 = 14;
/// How far back the overview counts failed jobs.
pub const FAILED_JOBS_WINDOW: TimeDelta = TimeDelta::hours(24);

/// A connection is linked when at least one of its feeds is active on its platform, pending
/// until then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConnectionState {
    Linked,
    Pending,
}

impl ConnectionState {
    pub fn of(active_feeds: u64) -> Self {
        if active_feeds > 0 {
            ConnectionState::Linked
        } else {
            ConnectionState::Pending
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Linked => "linked",
            ConnectionState::Pending => "pending",
        }
    }
}

/// How many live connections of one platform are in one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionCount {
    pub platform: Platform,
    pub state: ConnectionState,
    pub count: u64,
}

/// Live feeds (bank feed accounts) by whether a platform has linked them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedCounts {
    /// Active on a platform (`feed_status` active).
    pub linked: u64,
    /// Waiting for the customer to link them.
    pub pending: u64,
}

/// Transactions stored (pushed) and taken by a platform (ingested) on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    pub day: NaiveDate,
    pub pushed: u64,
    pub ingested: u64,
}

/// The days since the Unix epoch (UTC) as a date: how the store groups times by day.
pub fn day_from_epoch_days(days: i64) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(TimeDelta::try_days(days)?)
}

/// `DayCount`s for each of the chart's days, zero where the store had none.
pub fn fill_days(now: Timestamp, counts: &[DayCount]) -> Vec<DayCount> {
    chart_days(now)
        .into_iter()
        .map(|day| {
            counts
                .iter()
                .find(|c| c.day == day)
                .copied()
                .unwrap_or(DayCount {
                    day,
                    pushed: 0,
                    ingested: 0,
                })
        })
        .collect()
}

/// A row of the console's connection search: a live connection and one of its live feeds
/// (`None` for a connection with no feed yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub connection: Connection,
    /// The name of the customer (Codat door) the connection belongs to, if any.
    pub customer: Option<String>,
    pub account: Option<BankFeedAccount>,
}

/// The first instant the chart covers: the start (UTC) of the day `CHART_DAYS - 1` before
/// today's.
pub fn chart_start(now: Timestamp) -> Timestamp {
    let first = now.date_naive() - TimeDelta::days(i64::from(CHART_DAYS) - 1);
    first
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
}

/// The chart's days, oldest first.
pub fn chart_days(now: Timestamp) -> Vec<NaiveDate> {
    let first = chart_start(now).date_naive();
    (0..CHART_DAYS)
        .map(|i| first + TimeDelta::days(i64::from(i)))
        .collect()
}

/// The height of each bar for `values` in a chart `height` units tall: proportional to the
/// largest value (which fills it), rounded up so that any non-zero value shows.
pub fn bar_heights(values: &[u64], height: u32) -> Vec<u32> {
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&v| {
            if max == 0 {
                0
            } else {
                let h = (u128::from(v) * u128::from(height)).div_ceil(u128::from(max));
                u32::try_from(h).unwrap_or(height)
            }
        })
        .collect()
}

/// How far back the overview looks for a feed's posting days when it counts stale feeds: the
/// continuity report's stale rule (`continuity::gaps`) on this window, so the count reads a
/// bounded number of rows however old the hub is.
pub const STALE_WINDOW_DAYS: u64 = 90;

/// A feed's posting days within the window (and whether it had any before it) and its declared
/// closed ranges: what the stale rule needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedDays {
    /// Days with a posted transaction on or after the window's start, any order.
    pub posting_days: Vec<NaiveDate>,
    /// Whether a transaction was posted before the window's start.
    pub posted_before: bool,
    /// Declared closed ranges reaching into the window.
    pub closed: Vec<(NaiveDate, NaiveDate)>,
}

/// The first day of the stale window ending `today`.
pub fn stale_window_start(today: NaiveDate) -> NaiveDate {
    today
        .checked_sub_days(chrono::Days::new(STALE_WINDOW_DAYS))
        .unwrap_or(today)
}

/// Whether the feed is stale today: the continuity report's rule (an ongoing stale span,
/// `continuity::gaps::staleness`). A feed that posted only before the window counts as having
/// posted on the day before it (its silence covers the whole window); one that never posted
/// is not stale (nothing is expected of it yet), as in the report.
pub fn is_stale(feed: &FeedDays, today: NaiveDate) -> bool {
    let mut days = feed.posting_days.clone();
    if feed.posted_before {
        if let Some(before) = stale_window_start(today).pred_opt() {
            days.push(before);
        }
    }
    crate::continuity::gaps::staleness(&days, &feed.closed, today)
        .spans
        .iter()
        .any(|s| s.ongoing)
}

/// The organisation's webhook delivery health, for the overview (shown when it has endpoints).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WebhookHealth {
    pub endpoints: u64,
    /// Endpoints the hub disabled (or the FI did).
    pub disabled: u64,
    /// Deliveries still to be sent.
    pub pending: u64,
    /// Delivery attempts that failed in the last 24 hours.
    pub failed_attempts: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts;

    #[test]
    fn the_chart_covers_fourteen_days_ending_today() {
        let now = ts("2026-03-14T17:30:00Z");
        let days = chart_days(now);
        assert_eq!(days.len(), 14);
        assert_eq!(days[0].to_string(), "2026-03-01");
        assert_eq!(days[13].to_string(), "2026-03-14");
        assert_eq!(chart_start(now), ts("2026-03-01T00:00:00Z"));
    }

    #[test]
    fn bars_scale_to_the_largest_and_small_values_still_show() {
        assert_eq!(bar_heights(&[0, 10, 5, 1], 100), vec![0, 100, 50, 10]);
        assert_eq!(bar_heights(&[1, 1000], 100), vec![1, 100]);
        assert_eq!(bar_heights(&[0, 0], 100), vec![0, 0]);
        assert_eq!(bar_heights(&[], 100), Vec::<u32>::new());
    }

    #[test]
    fn days_count_from_the_epoch_and_missing_days_are_zero() {
        assert_eq!(day_from_epoch_days(0).unwrap().to_string(), "1970-01-01");
        assert_eq!(
            day_from_epoch_days(20_000).unwrap().to_string(),
            "2024-10-04"
        );
        let now = ts("2026-03-14T17:30:00Z");
        let one = DayCount {
            day: chart_days(now)[3],
            pushed: 7,
            ingested: 2,
        };
        let filled = fill_days(now, &[one]);
        assert_eq!(filled.len(), 14);
        assert_eq!(filled[3], one);
        assert_eq!((filled[4].pushed, filled[4].ingested), (0, 0));
    }

    #[test]
    fn a_connection_is_linked_by_one_active_feed() {
        assert_eq!(ConnectionState::of(0), ConnectionState::Pending);
        assert_eq!(ConnectionState::of(2), ConnectionState::Linked);
    }

    #[test]
    fn a_feed_is_stale_by_the_continuity_rule_within_the_window() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let today = d("2026-06-30");
        let daily = |to: &str| FeedDays {
            posting_days: d("2026-06-01")
                .iter_days()
                .take_while(|x| *x <= d(to))
                .collect(),
            ..FeedDays::default()
        };
        // Daily until four days ago: within the floor; five: stale.
        assert!(!is_stale(&daily("2026-06-26"), today));
        assert!(is_stale(&daily("2026-06-25"), today));
        // The silent days declared closed do not count.
        let mut closed = daily("2026-06-25");
        closed.closed = vec![(d("2026-06-26"), d("2026-06-29"))];
        assert!(!is_stale(&closed, today));
        // Never posted: nothing expected yet. Posted only before the window: stale.
        assert!(!is_stale(&FeedDays::default(), today));
        let old = FeedDays {
            posted_before: true,
            ..FeedDays::default()
        };
        assert!(is_stale(&old, today));
        assert_eq!(stale_window_start(today), d("2026-04-01"));
    }
}
