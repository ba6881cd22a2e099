use super::*;
use crate::ts;

fn a(s: &str) -> Amount {
    s.parse().unwrap()
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn the_first_reported_balance_is_the_opening_balance() {
    let s = step(Ledger::default(), &[a("-20.00")], Some(a("7445.65")));
    let check = s.check.unwrap();
    assert!(check.is_opening() && !check.is_break());
    assert_eq!((check.expected, check.difference), (None, Decimal::ZERO));
    assert_eq!(
        s.after,
        Ledger {
            last_reported: Some(d("7445.65")),
            unreported: Decimal::ZERO
        }
    );
}

#[test]
fn a_balance_that_is_the_previous_one_plus_the_new_amounts_ties_out() {
    let ledger = Ledger {
        last_reported: Some(d("7445.65")),
        unreported: Decimal::ZERO,
    };
    let s = step(ledger, &[a("-20.00"), a("5.5")], Some(a("7431.15")));
    let check = s.check.unwrap();
    assert_eq!(check.expected, Some(d("7431.15")));
    assert!(!check.is_break());
}

#[test]
fn the_issues_example_is_a_break_of_minus_7424_65() {
    // 7,445.65, then a batch of −20.00 reporting 1.00.
    let ledger = Ledger {
        last_reported: Some(d("7445.65")),
        unreported: Decimal::ZERO,
    };
    let check = step(ledger, &[a("-20.00")], Some(a("1.00"))).check.unwrap();
    assert!(check.is_break());
    assert_eq!(check.expected, Some(d("7425.65")));
    assert_eq!(check.reported, d("1"));
    assert_eq!(check.difference, d("-7424.65"));
    assert_eq!(check.balance_before, Some(d("7445.65")));
    assert_eq!(check.batch_amount, d("-20"));
}

#[test]
fn batches_without_a_balance_carry_their_amounts_to_the_next_report() {
    let ledger = Ledger {
        last_reported: Some(d("100")),
        unreported: Decimal::ZERO,
    };
    let s1 = step(ledger, &[a("-10")], None);
    assert_eq!(s1.check, None);
    assert_eq!(s1.after.unreported, d("-10"));
    let s2 = step(s1.after, &[a("-5"), a("2.25")], None);
    assert_eq!(s2.after.unreported, d("-12.75"));
    let check = step(s2.after, &[a("1")], Some(a("88.25"))).check.unwrap();
    assert_eq!(check.unreported_amount, d("-12.75"));
    assert_eq!(check.expected, Some(d("88.25")));
    assert!(!check.is_break());
}

#[test]
fn after_a_break_the_reported_figure_is_the_baseline() {
    let ledger = Ledger {
        last_reported: Some(d("100")),
        unreported: Decimal::ZERO,
    };
    let broken = step(ledger, &[a("-10")], Some(a("50")));
    assert!(broken.check.unwrap().is_break());
    let next = step(broken.after, &[a("5")], Some(a("55"))).check.unwrap();
    assert!(!next.is_break(), "one wrong figure is one break");
}

#[test]
fn a_re_send_with_nothing_new_is_not_checked_again() {
    let ledger = Ledger {
        last_reported: Some(d("100")),
        unreported: d("3"),
    };
    // An old batch re-sent with the balance it had then: no check, the ledger unchanged.
    let s = step(ledger, &[], Some(a("40")));
    assert_eq!(
        s,
        Step {
            check: None,
            after: ledger
        }
    );
}

#[test]
fn differences_keep_no_spurious_scale() {
    let ledger = Ledger {
        last_reported: Some(d("10.10")),
        unreported: Decimal::ZERO,
    };
    let check = step(ledger, &[a("0.40")], Some(a("10.50"))).check.unwrap();
    assert!(!check.is_break());
    assert_eq!(check.difference.to_string(), "0");
}

fn report(seq: i64, check: BalanceCheck) -> BalanceReport {
    BalanceReport {
        id: BalanceReportId::new(),
        bank_feed_account_id: BankFeedAccountId::new(),
        job_id: JobId::new(),
        seq,
        check,
        posted_through: Some(ts("2026-01-01T00:00:00Z") + chrono::Duration::days(seq)),
        created_at: ts("2026-02-01T00:00:00Z"),
        acknowledgement: None,
    }
}

/// Reports from a run of `(amount, reported)` batches.
fn run(batches: &[(&str, &str)]) -> Vec<BalanceReport> {
    let mut ledger = Ledger::default();
    let mut out = Vec::new();
    for (i, (amount, reported)) in batches.iter().enumerate() {
        let s = step(ledger, &[a(amount)], Some(a(reported)));
        out.push(report(i as i64 + 1, s.check.unwrap()));
        ledger = s.after;
    }
    out
}

#[test]
fn no_reports_is_unknown() {
    let c = summarise(&[]);
    assert_eq!(c.state, ContinuityState::Unknown);
    assert!(c.segments.is_empty() && c.breaks.is_empty());
}

#[test]
fn reports_that_agree_are_one_segment_that_ties_out() {
    let reports = run(&[("10", "10"), ("5", "15"), ("-3", "12")]);
    let c = summarise(&reports);
    assert_eq!(c.state, ContinuityState::TiesOut);
    assert_eq!(c.segments.len(), 1);
    let s = &c.segments[0];
    assert_eq!((s.first_seq, s.last_seq, s.reports), (1, 3, 3));
    assert_eq!((s.opening, s.closing), (d("10"), d("12")));
}

#[test]
fn a_break_splits_the_segments_and_acknowledging_it_ties_the_feed_out() {
    let mut reports = run(&[("10", "10"), ("5", "99"), ("1", "100"), ("1", "7")]);
    let c = summarise(&reports);
    assert_eq!(c.state, ContinuityState::Breaks);
    let seqs: Vec<i64> = c.breaks.iter().map(|b| b.seq).collect();
    assert_eq!(seqs, vec![2, 4]);
    let spans: Vec<(i64, i64)> = c
        .segments
        .iter()
        .map(|s| (s.first_seq, s.last_seq))
        .collect();
    assert_eq!(spans, vec![(1, 1), (2, 3), (4, 4)]);
    for r in reports.iter_mut().filter(|r| r.check.is_break()) {
        assert_eq!(acknowledge(r, "  "), Err(AcknowledgeRefusal::EmptyReason));
        assert_eq!(acknowledge(r, "fee reversal booked on the 3rd"), Ok(()));
        r.acknowledgement = Some(Acknowledgement {
            reason: "fee reversal booked on the 3rd".into(),
            acknowledged_at: ts("2026-02-02T00:00:00Z"),
        });
        assert_eq!(
            acknowledge(r, "again"),
            Err(AcknowledgeRefusal::AlreadyAcknowledged)
        );
    }
    assert_eq!(
        acknowledge(&reports[0], "x"),
        Err(AcknowledgeRefusal::NotABreak)
    );
    let long = "x".repeat(MAX_REASON_CHARS + 1);
    assert_eq!(
        acknowledge(&reports[0], &long),
        Err(AcknowledgeRefusal::ReasonTooLong)
    );
    let c = summarise(&reports);
    assert_eq!(c.state, ContinuityState::TiesOut);
    assert_eq!(c.breaks.len(), 2, "acknowledged breaks are still listed");
}
