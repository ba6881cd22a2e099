//! The batch rules, case by case.

use chrono::TimeDelta;

use super::*;
use crate::profile::Door;
use crate::{ts, Platform};

fn now() -> Timestamp {
    ts("2024-06-15T12:00:00Z")
}

fn amount(s: &str) -> Amount {
    s.parse().unwrap()
}

fn tx(id: &str, posted_at: Timestamp) -> TransactionData {
    TransactionData {
        description: Some("Coffee".to_owned()),
        ..TransactionData::bare(id, posted_at, amount("-12.50"))
    }
}

/// A ready USD account with no stored transactions and no start date.
fn account() -> AccountContext {
    AccountContext {
        minor_units: 2,
        transaction_ready: true,
        transaction_start_date: None,
        newest_posted_at: None,
        has_transactions: false,
    }
}

fn profile(platform: Platform) -> PlatformProfile {
    PlatformProfile::for_platform(platform, Door::Rutter)
}

fn intuit() -> PlatformProfile {
    profile(Platform::IntuitBankFeeds)
}

/// `n` valid transactions one minute apart, ending an hour before `now()`.
fn txs(n: usize) -> Vec<TransactionData> {
    let start = now() - TimeDelta::hours(1) - TimeDelta::minutes(n as i64);
    (0..n)
        .map(|i| tx(&format!("T{i}"), start + TimeDelta::minutes(i as i64)))
        .collect()
}

fn run_with(
    p: &PlatformProfile,
    a: &AccountContext,
    batch: &[TransactionData],
    is_new: &[bool],
) -> Vec<(&'static str, Option<usize>)> {
    match validate_batch(p, a, batch, is_new, now()) {
        Ok(()) => Vec::new(),
        Err(v) => v.into_iter().map(|v| (v.code, v.index)).collect(),
    }
}

/// The (code, index) pairs refused when every transaction is new.
fn run(
    p: &PlatformProfile,
    a: &AccountContext,
    batch: &[TransactionData],
) -> Vec<(&'static str, Option<usize>)> {
    run_with(p, a, batch, &vec![true; batch.len()])
}

fn violations(
    p: &PlatformProfile,
    a: &AccountContext,
    batch: &[TransactionData],
) -> Vec<Violation> {
    validate_batch(p, a, batch, &vec![true; batch.len()], now()).unwrap_err()
}

/// Asserts that the violation's message holds `part`.
fn assert_says(v: &Violation, part: &str) {
    assert!(v.message.contains(part), "{part}: {}", v.message);
}

/// Asserts that the batch's first transaction is refused as before the history window, with a
/// message holding each of `says`.
fn assert_before_window(
    p: &PlatformProfile,
    a: &AccountContext,
    batch: &[TransactionData],
    says: &[&str],
) {
    let v = violations(p, a, batch);
    assert_eq!(
        (v[0].code, v[0].index),
        (codes::BEFORE_HISTORY_WINDOW, Some(0))
    );
    for part in says {
        assert_says(&v[0], part);
    }
}

#[test]
fn empty_batch_is_refused_and_one_transaction_accepted() {
    let v = violations(&intuit(), &account(), &[]);
    assert_eq!(v.len(), 1);
    assert_eq!((v[0].code, v[0].index), (codes::BATCH_EMPTY, None));
    assert!(v[0]
        .message
        .contains("at least one transaction per request"));
    assert_eq!(run(&intuit(), &account(), &txs(1)), vec![]);
}

#[test]
fn batch_size_limit_is_inclusive_and_batch_errors_stand_alone() {
    let p = intuit();
    assert_eq!(p.max_batch, 1000);
    assert_eq!(run(&p, &account(), &txs(1000)), vec![]);
    let mut batch = txs(1001);
    batch[5].transaction_id = "T0".to_owned(); // would also be a duplicate
    let v = violations(&p, &account(), &batch);
    assert_eq!(v.len(), 1);
    assert_eq!((v[0].code, v[0].index), (codes::BATCH_TOO_LARGE, None));
    assert!(v[0].message.contains("1001") && v[0].message.contains("1000"));
}

#[test]
fn feed_must_be_ready_except_on_intuit() {
    let not_ready = AccountContext {
        transaction_ready: false,
        ..account()
    };
    for platform in [
        Platform::Xero,
        Platform::SageIntacct,
        Platform::SageBusinessCloud,
        Platform::Netsuite,
    ] {
        let v = violations(&profile(platform), &not_ready, &txs(2));
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].code, v[0].index), (codes::FEED_NOT_READY, None));
        assert!(v[0].message.contains(&format!(
            "link the feed in {} first",
            platform.display_name()
        )));
        assert_eq!(run(&profile(platform), &account(), &txs(2)), vec![]);
    }
    assert_eq!(run(&intuit(), &not_ready, &txs(2)), vec![]);
    let codat = PlatformProfile::for_platform(Platform::IntuitBankFeeds, Door::Codat);
    assert_eq!(run(&codat, &not_ready, &txs(2)), vec![]);
}

#[test]
fn duplicate_ids_report_later_occurrences_naming_the_first() {
    let mut batch = txs(4);
    batch[2].transaction_id = "T0".to_owned();
    batch[3].transaction_id = "T0".to_owned();
    let v = violations(&intuit(), &account(), &batch);
    let got: Vec<_> = v.iter().map(|v| (v.code, v.index)).collect();
    assert_eq!(
        got,
        vec![
            (codes::DUPLICATE_TRANSACTION_ID, Some(2)),
            (codes::DUPLICATE_TRANSACTION_ID, Some(3))
        ]
    );
    assert_eq!(v[0].transaction_id.as_deref(), Some("T0"));
    assert_says(&v[0], "first at #0");
    // Ids are compared exactly: case matters.
    let mut batch = txs(2);
    batch[0].transaction_id = "abc".to_owned();
    batch[1].transaction_id = "ABC".to_owned();
    assert_eq!(run(&intuit(), &account(), &batch), vec![]);
}

#[test]
fn blank_and_overlong_ids_are_refused() {
    let mut batch = txs(6);
    batch[0].transaction_id = String::new();
    batch[1].transaction_id = "   ".to_owned();
    batch[2].transaction_id = "x".repeat(255);
    batch[3].transaction_id = "é".repeat(255); // 510 bytes, 255 characters
    batch[4].transaction_id = "y".repeat(256);
    batch[5].transaction_id = "\t".to_owned(); // blank twice: missing, not a duplicate
    let v = violations(&intuit(), &account(), &batch);
    let got: Vec<_> = v.iter().map(|v| (v.code, v.index)).collect();
    assert_eq!(
        got,
        vec![
            (codes::MISSING_TRANSACTION_ID, Some(0)),
            (codes::MISSING_TRANSACTION_ID, Some(1)),
            (codes::INVALID_TRANSACTION_ID, Some(4)),
            (codes::MISSING_TRANSACTION_ID, Some(5)),
        ]
    );
    assert_eq!(v[1].transaction_id.as_deref(), Some("   "));
    assert_says(&v[2], "256 characters");
}

#[test]
fn batch_must_be_chronological_for_new_and_duplicate_transactions() {
    let t = now() - TimeDelta::days(1);
    let equal = [tx("A", t), tx("B", t), tx("C", t)];
    assert_eq!(run(&intuit(), &account(), &equal), vec![]);
    let backwards = [tx("A", t), tx("B", t - TimeDelta::seconds(1)), tx("C", t)];
    assert_eq!(
        run(&intuit(), &account(), &backwards),
        vec![(codes::NOT_CHRONOLOGICAL, Some(1))]
    );
    assert_eq!(
        run_with(&intuit(), &account(), &backwards, &[true, false, true]),
        vec![(codes::NOT_CHRONOLOGICAL, Some(1))]
    );
    let v = violations(&intuit(), &account(), &backwards);
    assert_says(&v[0], "transaction A (#0)");
}

#[test]
fn new_transactions_may_not_precede_the_newest_stored_one() {
    let newest = now() - TimeDelta::days(1);
    let a = AccountContext {
        newest_posted_at: Some(newest),
        has_transactions: true,
        ..account()
    };
    assert_eq!(run(&intuit(), &a, &[tx("A", newest)]), vec![]);
    let day = start_of_utc_day(newest);
    let older = [tx("A", day - TimeDelta::seconds(1)), tx("B", newest)];
    assert_eq!(
        run(&intuit(), &a, &older),
        vec![(codes::OLDER_THAN_STORED, Some(0))]
    );
    // The same transaction already stored identically is a harmless re-send.
    assert_eq!(run_with(&intuit(), &a, &older, &[false, true]), vec![]);
}

#[test]
fn future_dates_are_refused_without_tolerance() {
    let mut at_now = tx("A", now());
    at_now.transaction_date = Some(now());
    assert_eq!(run(&intuit(), &account(), &[at_now]), vec![]);
    let later = now() + TimeDelta::seconds(1);
    let mut dated = tx("B", now() - TimeDelta::days(1));
    dated.transaction_date = Some(later);
    let batch = [dated, tx("C", later)];
    assert_eq!(
        run_with(&intuit(), &account(), &batch, &[false, false]),
        vec![
            (codes::FUTURE_DATED, Some(0)),
            (codes::FUTURE_DATED, Some(1))
        ]
    );
    let v = violations(&intuit(), &account(), &batch);
    assert_says(&v[0], "transaction_date");
    assert_says(&v[1], "posted_at");
}

#[test]
fn intuit_window_depends_on_the_door() {
    let start = ts("2024-06-01T00:00:00Z");
    let a = AccountContext {
        transaction_start_date: Some(start),
        ..account()
    };
    let early = start - TimeDelta::seconds(1);
    // Rutter door: nothing before the start date.
    assert_eq!(run(&intuit(), &a, &[tx("A", start)]), vec![]);
    assert_before_window(
        &intuit(),
        &a,
        &[tx("A", early)],
        &["limit 2024-06-01T00:00:00Z", "QuickBooks Online"],
    );
    // Codat door: up to 7 days before.
    let codat = PlatformProfile::for_platform(Platform::IntuitBankFeeds, Door::Codat);
    let limit = start - TimeDelta::days(7);
    assert_eq!(
        run(&codat, &a, &[tx("A", early), tx("B", limit)]),
        vec![(codes::NOT_CHRONOLOGICAL, Some(1))]
    );
    assert_eq!(run(&codat, &a, &[tx("A", limit)]), vec![]);
    let too_early = [tx("A", limit - TimeDelta::seconds(1))];
    assert_before_window(&codat, &a, &too_early, &["2024-05-25T00:00:00Z", "7 days"]);
    // Without a start date there is no window; re-sends are never checked.
    assert_eq!(run(&intuit(), &account(), &[tx("A", early)]), vec![]);
    assert_eq!(run_with(&intuit(), &a, &[tx("A", early)], &[false]), vec![]);
}

#[test]
fn xero_refuses_transactions_older_than_a_year() {
    let xero = profile(Platform::Xero);
    let limit = now() - TimeDelta::days(365);
    assert_eq!(run(&xero, &account(), &[tx("A", limit)]), vec![]);
    let too_old = [tx("A", limit - TimeDelta::seconds(1))];
    let says = ["2023-06-16T12:00:00Z", "365 days"];
    assert_before_window(&xero, &account(), &too_old, &says);
    assert_eq!(run_with(&xero, &account(), &too_old, &[false]), vec![]);
    // Before the start date and too old: one violation, naming the stricter (later) limit.
    let a = AccountContext {
        transaction_start_date: Some(now() - TimeDelta::days(30)),
        ..account()
    };
    let v = violations(&xero, &a, &too_old);
    assert_eq!(v.len(), 1);
    assert_says(&v[0], "feed start date");
}

#[test]
fn sage_refuses_transactions_before_the_start_date_only() {
    let start = now() - TimeDelta::days(10);
    let a = AccountContext {
        transaction_start_date: Some(start),
        ..account()
    };
    for platform in [Platform::SageIntacct, Platform::SageBusinessCloud] {
        let p = profile(platform);
        assert_eq!(run(&p, &a, &[tx("A", start)]), vec![]);
        let day = start_of_utc_day(start);
        assert_eq!(run(&p, &a, &[tx("A", day)]), vec![]);
        assert_eq!(
            run(&p, &a, &[tx("A", day - TimeDelta::seconds(1))]),
            vec![(codes::BEFORE_HISTORY_WINDOW, Some(0))]
        );
        // No age limit without a start date.
        assert_eq!(
            run(&p, &account(), &[tx("A", now() - TimeDelta::days(3000))]),
            vec![]
        );
    }
}

#[test]
fn netsuite_limits_the_first_import_to_sixty_days() {
    let ns = profile(Platform::Netsuite);
    let limit = now() - TimeDelta::days(60);
    assert_eq!(run(&ns, &account(), &[tx("A", limit)]), vec![]);
    let old = [tx("A", limit - TimeDelta::seconds(1))];
    assert_before_window(&ns, &account(), &old, &["first import", "60 days"]);
    // Later imports take older transactions, and NetSuite has no start-date window.
    let later = AccountContext {
        has_transactions: true,
        transaction_start_date: Some(now() - TimeDelta::days(5)),
        ..account()
    };
    assert_eq!(
        run(&ns, &later, &[tx("A", now() - TimeDelta::days(100))]),
        vec![]
    );
}

#[test]
fn amounts_respect_the_currency_minor_units() {
    let jpy = AccountContext {
        minor_units: 0,
        ..account()
    };
    let mut a = tx("A", now());
    a.amount = amount("150");
    assert_eq!(run(&intuit(), &jpy, &[a.clone()]), vec![]);
    a.amount = amount("1.5");
    let v = violations(&intuit(), &jpy, &[a.clone()]);
    assert_eq!((v[0].code, v[0].index), (codes::TOO_MANY_DECIMALS, Some(0)));
    assert!(v[0].message.contains("amount 1.5") && v[0].message.contains("at most 0"));
    let bhd = AccountContext {
        minor_units: 3,
        ..account()
    };
    a.amount = amount("1.505");
    assert_eq!(run(&intuit(), &bhd, &[a.clone()]), vec![]);
    assert_eq!(
        run(&intuit(), &account(), &[a.clone()]),
        vec![(codes::TOO_MANY_DECIMALS, Some(0))]
    );
    a.amount = amount("1.50");
    a.interest_amount = Some(amount("0.125"));
    a.principal_amount = Some(amount("1.375"));
    let v = violations(&intuit(), &account(), &[a]);
    assert_eq!(v.len(), 2);
    assert_says(&v[0], "interest_amount 0.125");
    assert_says(&v[1], "principal_amount 1.375");
}

#[test]
fn debit_and_credit_must_match_the_sign() {
    let with = |memo, amt: &str| {
        let mut t = tx("A", now());
        t.debit_credit_memo = memo;
        t.amount = amount(amt);
        t
    };
    let (debit, credit) = (Some(DebitCreditMemo::Debit), Some(DebitCreditMemo::Credit));
    for ok in [
        with(debit, "-5"),
        with(debit, "0"),
        with(credit, "5"),
        with(credit, "0"),
        with(None, "5"),
    ] {
        assert_eq!(run(&intuit(), &account(), &[ok]), vec![]);
    }
    let v = violations(&intuit(), &account(), &[with(debit, "5")]);
    assert_eq!((v[0].code, v[0].index), (codes::SIGN_MISMATCH, Some(0)));
    assert_says(&v[0], "DEBIT means money out");
    assert_eq!(
        run(&intuit(), &account(), &[with(credit, "-0.01")]),
        vec![(codes::SIGN_MISMATCH, Some(0))]
    );
}

#[test]
fn text_fields_are_limited_in_characters() {
    let mut ok = tx("A", now());
    ok.description = Some("€".repeat(4000)); // 12,000 bytes
    ok.memo = Some("m".repeat(4000));
    ok.payee = Some("p".repeat(4000));
    assert_eq!(run(&intuit(), &account(), &[ok]), vec![]);
    let mut long = tx("A", now());
    long.description = Some("d".repeat(4001));
    long.memo = Some("m".repeat(4001));
    long.payee = Some("p".repeat(4001));
    let v = violations(&intuit(), &account(), &[long]);
    let got: Vec<_> = v.iter().map(|v| (v.code, v.index)).collect();
    assert_eq!(got, vec![(codes::FIELD_TOO_LONG, Some(0)); 3]);
    for (v, field) in v.iter().zip(["description", "memo", "payee"]) {
        assert!(
            v.message.contains(field) && v.message.contains("4001"),
            "{}",
            v.message
        );
    }
}

#[test]
fn all_violations_are_reported_by_index_then_rule() {
    let newest = now() - TimeDelta::days(2);
    let a = AccountContext {
        newest_posted_at: Some(newest),
        has_transactions: true,
        transaction_start_date: Some(now() - TimeDelta::days(3)),
        ..account()
    };
    let mut batch = vec![
        tx("A", now() - TimeDelta::days(1)),
        tx("B", now() - TimeDelta::days(4)),
        tx("A", now() + TimeDelta::hours(1)),
    ];
    batch[1].amount = amount("1.234");
    batch[1].debit_credit_memo = Some(DebitCreditMemo::Debit);
    batch[2].payee = Some("x".repeat(5000));
    assert_eq!(
        run(&intuit(), &a, &batch),
        vec![
            (codes::NOT_CHRONOLOGICAL, Some(1)),
            (codes::OLDER_THAN_STORED, Some(1)),
            (codes::BEFORE_HISTORY_WINDOW, Some(1)),
            (codes::TOO_MANY_DECIMALS, Some(1)),
            (codes::SIGN_MISMATCH, Some(1)),
            (codes::DUPLICATE_TRANSACTION_ID, Some(2)),
            (codes::FUTURE_DATED, Some(2)),
            (codes::FIELD_TOO_LONG, Some(2)),
        ]
    );
}

#[test]
fn summary_lists_five_then_counts_the_rest() {
    let a = AccountContext {
        newest_posted_at: Some(ts("2023-02-02T00:00:00Z")),
        has_transactions: true,
        ..account()
    };
    let batch: Vec<_> = (0..7)
        .map(|i| tx(&format!("ID{i}"), ts("2023-02-01T00:00:00Z")))
        .collect();
    let v = violations(&intuit(), &a, &batch);
    assert_eq!(v.len(), 7);
    let s = summary(&v);
    assert!(
        s.starts_with(
            "transaction ID0 (#0): posted_at 2023-02-01T00:00:00Z is on a day before the newest \
             stored transaction's (2023-02-02T00:00:00Z); transaction ID1 (#1): "
        ),
        "{s}"
    );
    assert!(s.contains("ID4 (#4)") && !s.contains("ID5"), "{s}");
    assert!(
        s.ends_with(&format!("; and 2 more. {LATE_POSTING_HINT}")),
        "{s}"
    );
    assert_eq!(
        summary(&v[..1]),
        format!("{}. {LATE_POSTING_HINT}", v[0].message),
        "the hint is said once"
    );
    assert_eq!(s.matches("transaction_date").count(), 2);
    assert_eq!(summary(&[]), "");
}

#[test]
fn violations_serialise_with_their_code() {
    let v = violations(&intuit(), &account(), &[]);
    let json = serde_json::to_value(&v[0]).unwrap();
    assert_eq!(json["code"], "BATCH_EMPTY");
    assert_eq!(json["index"], serde_json::Value::Null);
}

/// Seed 003: "When users link their account in Sage, they will be asked to choose the start date
/// for the Bank Feed's transaction history. [...] You should sync transactions from that date
/// until the present." The start date is a day (UTC): a transaction earlier on that day than the
/// time the date happens to carry is inside the window; the day before is not.
#[test]
fn the_start_date_is_a_utc_calendar_day() {
    let a = AccountContext {
        transaction_start_date: Some(ts("2024-06-05T15:00:00Z")),
        ..account()
    };
    for platform in [Platform::SageIntacct, Platform::IntuitBankFeeds] {
        let p = profile(platform);
        assert_eq!(run(&p, &a, &[tx("A", ts("2024-06-05T00:00:00Z"))]), vec![]);
        // 09:00 in New Zealand on the 6th is the 5th in UTC: inside.
        assert_eq!(run(&p, &a, &[tx("A", ts("2024-06-05T21:00:00Z"))]), vec![]);
        assert_before_window(
            &p,
            &a,
            &[tx("A", ts("2024-06-04T23:59:59Z"))],
            &["limit 2024-06-05T00:00:00Z"],
        );
    }
    assert_eq!(
        start_of_utc_day(ts("2024-06-05T23:59:59.999999Z")),
        ts("2024-06-05T00:00:00Z")
    );
}

/// Seed 004: "Syncing future-dated transactions to QBO is not supported." On the Codat door a
/// date is a local time whose zone is unknown (Codat: "the offset will be ignored and only the
/// local date/time portion will be used"): it is future only once it is later than now in the
/// zone furthest ahead (UTC+14), so 09:00 in New Zealand an hour ago is not refused. On the
/// Rutter door `posted_at` is an instant and now is now.
#[test]
fn local_times_are_future_only_once_future_everywhere() {
    let codat = PlatformProfile::for_platform(Platform::IntuitBankFeeds, Door::Codat);
    assert!(codat.local_times && !intuit().local_times);
    // An hour ago in New Zealand (UTC+13), as its wall clock read.
    let nz = now() + TimeDelta::hours(12);
    assert_eq!(run(&codat, &account(), &[tx("A", nz)]), vec![]);
    let edge = now() + TimeDelta::hours(14);
    assert_eq!(run(&codat, &account(), &[tx("A", edge)]), vec![]);
    let v = violations(&codat, &account(), &[tx("A", edge + TimeDelta::seconds(1))]);
    assert_eq!((v[0].code, v[0].index), (codes::FUTURE_DATED, Some(0)));
    assert_says(&v[0], "every time zone");
    assert_eq!(
        run(&intuit(), &account(), &[tx("A", nz)]),
        vec![(codes::FUTURE_DATED, Some(0))]
    );
}

/// Seed 004: "Bank transactions can't be older than the most recent transaction available on the
/// destination bank account." and seed 003: "You can now post the next batch, starting from the
/// last transaction date in the previous batch." The rule is about the date: later the same day
/// with an earlier time, or a date-only value (midnight) after a timed one, is not older.
#[test]
fn older_than_stored_is_by_the_day() {
    let newest = ts("2024-06-14T16:30:00Z");
    let a = AccountContext {
        newest_posted_at: Some(newest),
        has_transactions: true,
        ..account()
    };
    let same_day = [
        tx("A", ts("2024-06-14T00:00:00Z")),
        tx("B", ts("2024-06-14T09:00:00Z")),
    ];
    for p in [
        intuit(),
        profile(Platform::SageIntacct),
        profile(Platform::Xero),
    ] {
        assert_eq!(run(&p, &a, &same_day), vec![]);
        let v = violations(&p, &a, &[tx("C", ts("2024-06-13T23:59:59Z"))]);
        assert_eq!((v[0].code, v[0].index), (codes::OLDER_THAN_STORED, Some(0)));
        assert_says(&v[0], "day before");
    }
}
