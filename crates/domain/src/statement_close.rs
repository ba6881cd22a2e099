//! Which of the FI's reported balances is the bank's closing balance of a posting day.
//!
//! Each batch that carries `current_balance` leaves a report (`domain::continuity`): the
//! account's balance after that batch, as the FI's books say, with `posted_through` (the
//! account's newest posting after the batch) and how many of the account's transactions were
//! posted on that newest day then (`lines_on_day`). A statement is one posting day's lines, so
//! the bank's figure for its end is a report that covers every line of that day and none of a
//! later day.
//!
//! **The rule.** The bank's closing of day `D` is the **last** report whose `posted_through`
//! falls on `D`, provided no transaction posted on `D` was stored after it: the day still holds
//! exactly the `lines_on_day` it held when the FI reported. Transactions arrive in posting-day
//! order (`OLDER_THAN_STORED`), so nothing stored after a report is posted before its day:
//!
//! - a report whose batch ends on an earlier day does not cover `D`'s lines;
//! - a batch spanning days (`D` and `D+1` with one balance) reports the end of `D+1` only, so
//!   `D` has no figure from the bank: the hub never derives one by subtracting lines, since a
//!   wrong FI figure would then shift to the wrong day;
//! - a late posting on `D` after its report (a batch without a balance, or the next batch before
//!   its own report) leaves `D` without a figure until the FI reports again on `D`.
//!
//! A report from before the hub counted the day's lines (migration 0034, `lines_on_day` unknown)
//! is taken as the hub took it then: the newest report closes the newest day.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// One balance the FI reported, as the day rule needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayReport {
    /// The balance after the batch.
    pub reported: Decimal,
    /// The UTC day of the account's newest posting after the batch.
    pub posted_through: NaiveDate,
    /// The account's transactions posted on `posted_through` after the batch (`None`: reported
    /// before migration 0034).
    pub lines_on_day: Option<u32>,
}

/// The bank's closing balance of each day of `lines_now` that a report closes (see the module
/// docs). `reports` in the order they were made; `lines_now`: how many of the account's
/// transactions are posted on each day asked about, now.
pub fn bank_closings(
    reports: &[DayReport],
    lines_now: &BTreeMap<NaiveDate, u32>,
) -> BTreeMap<NaiveDate, Decimal> {
    let newest = reports.last();
    let newest_day = lines_now.keys().next_back();
    lines_now
        .iter()
        .filter_map(|(&day, &lines)| {
            let last = reports.iter().rfind(|r| r.posted_through == day)?;
            let closes = match last.lines_on_day {
                Some(then) => then == lines,
                None => newest == Some(last) && newest_day == Some(&day),
            };
            closes.then_some((day, last.reported))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn report(reported: &str, through: &str, lines: u32) -> DayReport {
        DayReport {
            reported: d(reported),
            posted_through: day(through),
            lines_on_day: Some(lines),
        }
    }

    fn lines(days: &[(&str, u32)]) -> BTreeMap<NaiveDate, u32> {
        days.iter().map(|(s, n)| (day(s), *n)).collect()
    }

    #[test]
    fn a_batch_per_day_closes_each_day() {
        let reports = [
            report("110", "2026-10-01", 2),
            report("95", "2026-10-02", 1),
            report("100.50", "2026-10-03", 3),
        ];
        let got = bank_closings(
            &reports,
            &lines(&[("2026-10-01", 2), ("2026-10-02", 1), ("2026-10-03", 3)]),
        );
        assert_eq!(
            got,
            BTreeMap::from([
                (day("2026-10-01"), d("110")),
                (day("2026-10-02"), d("95")),
                (day("2026-10-03"), d("100.50")),
            ])
        );
    }

    #[test]
    fn several_batches_on_one_day_the_last_closes_it() {
        let reports = [report("10", "2026-10-01", 1), report("25", "2026-10-01", 3)];
        let got = bank_closings(&reports, &lines(&[("2026-10-01", 3)]));
        assert_eq!(got, BTreeMap::from([(day("2026-10-01"), d("25"))]));
    }

    #[test]
    fn a_batch_spanning_days_closes_only_its_last_day() {
        // One batch posted on the 1st and the 2nd, one balance: the 1st has no figure.
        let reports = [report("70", "2026-10-02", 2)];
        let got = bank_closings(&reports, &lines(&[("2026-10-01", 4), ("2026-10-02", 2)]));
        assert_eq!(got, BTreeMap::from([(day("2026-10-02"), d("70"))]));
    }

    #[test]
    fn a_day_with_lines_stored_after_its_last_report_has_no_figure() {
        // The 1st was reported with 2 lines, then a batch without a balance added a third.
        let reports = [report("50", "2026-10-01", 2)];
        assert!(bank_closings(&reports, &lines(&[("2026-10-01", 3)])).is_empty());
        // The next batch's report covers the 1st's late line but also the 2nd's: only the 2nd.
        let reports = [report("50", "2026-10-01", 2), report("45", "2026-10-02", 1)];
        let got = bank_closings(&reports, &lines(&[("2026-10-01", 3), ("2026-10-02", 1)]));
        assert_eq!(got, BTreeMap::from([(day("2026-10-02"), d("45"))]));
    }

    #[test]
    fn a_late_posting_reported_on_its_day_closes_it_again() {
        // The 1st closed at 50 with 2 lines; a late line on the 1st came with a balance of 48.
        let reports = [report("50", "2026-10-01", 2), report("48", "2026-10-01", 3)];
        let got = bank_closings(&reports, &lines(&[("2026-10-01", 3)]));
        assert_eq!(got, BTreeMap::from([(day("2026-10-01"), d("48"))]));
    }

    #[test]
    fn a_wrong_figure_is_still_the_banks_figure_for_its_day() {
        // Whether a figure ties out is the statement's business, not this rule's.
        let reports = [
            report("100", "2026-10-01", 1),
            report("1.00", "2026-10-02", 1),
        ];
        let got = bank_closings(&reports, &lines(&[("2026-10-01", 1), ("2026-10-02", 1)]));
        assert_eq!(got[&day("2026-10-02")], d("1.00"));
    }

    #[test]
    fn no_report_no_figure() {
        assert!(bank_closings(&[], &lines(&[("2026-10-01", 1)])).is_empty());
    }

    #[test]
    fn a_report_from_before_the_count_closes_only_the_newest_day_as_it_was_newest() {
        let old = |reported: &str, through: &str| DayReport {
            reported: d(reported),
            posted_through: day(through),
            lines_on_day: None,
        };
        let reports = [old("10", "2026-10-01"), old("20", "2026-10-02")];
        let got = bank_closings(&reports, &lines(&[("2026-10-01", 1), ("2026-10-02", 1)]));
        assert_eq!(got, BTreeMap::from([(day("2026-10-02"), d("20"))]));
        // Not the newest report any more: a counted one came after it on a later day.
        let reports = [old("20", "2026-10-02"), report("30", "2026-10-03", 1)];
        let got = bank_closings(&reports, &lines(&[("2026-10-02", 1), ("2026-10-03", 1)]));
        assert_eq!(got, BTreeMap::from([(day("2026-10-03"), d("30"))]));
    }
}
