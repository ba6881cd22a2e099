//! Deciding a batch with its balance: what continuity adds to `decide_batch`.

use super::*;
use crate::account::BankAccountType;
use crate::profile::Door;
use crate::{ts, ConnectionId, Currency, OrgId, Platform};

fn now() -> Timestamp {
    ts("2026-03-01T09:00:00Z")
}

fn account(platform: Platform) -> BankFeedAccount {
    let profile = PlatformProfile::for_platform(platform, Door::Rutter);
    let mut a = BankFeedAccount::new(
        OrgId::new(),
        ConnectionId::new(),
        &profile,
        "acc-1".into(),
        BankAccountType::Bank,
        Currency::from_code("USD").unwrap(),
        now() - chrono::TimeDelta::days(30),
    );
    a.transaction_ready = true;
    a
}

fn tx(id: &str, amount: &str, day: i64) -> TransactionData {
    let posted_at = ts("2026-02-01T00:00:00Z") + chrono::TimeDelta::days(day);
    TransactionData {
        description: Some("x".into()),
        ..TransactionData::bare(id, posted_at, amount.parse().unwrap())
    }
}

fn ledger(last: &str) -> Ledger {
    Ledger {
        last_reported: Some(last.parse().unwrap()),
        unreported: rust_decimal::Decimal::ZERO,
    }
}

fn decide(
    platform: Platform,
    stored: &HashMap<String, Transaction>,
    ledger: Ledger,
    txs: Vec<TransactionData>,
    balance: &str,
) -> Result<Decision, BatchRefusal> {
    let a = account(platform);
    let profile = PlatformProfile::for_platform(platform, Door::Rutter);
    let batch = BatchRequest {
        bank_feed_account_id: a.id,
        current_balance: Some(balance.parse().unwrap()),
        transactions: txs,
    };
    let facts = BatchFacts {
        account: Some(&a),
        newest_posted_at: None,
        stored,
        ledger,
    };
    decide_batch(facts, &batch, &profile, now())
}

#[test]
fn xero_refuses_a_batch_whose_balance_breaks_and_names_the_figures() {
    let none = HashMap::new();
    let refused = decide(
        Platform::Xero,
        &none,
        ledger("7445.65"),
        vec![tx("a", "-20.00", 1)],
        "1.00",
    );
    let Err(BatchRefusal::BalanceMismatch { check, .. }) = refused else {
        panic!("expected a balance mismatch, got {refused:?}");
    };
    assert_eq!(check.expected, Some("7425.65".parse().unwrap()));
    assert_eq!(check.difference, "-7424.65".parse().unwrap());
}

#[test]
fn elsewhere_the_batch_is_accepted_with_the_break_to_record() {
    let none = HashMap::new();
    let d = decide(
        Platform::IntuitBankFeeds,
        &none,
        ledger("7445.65"),
        vec![tx("a", "-20.00", 1)],
        "1.00",
    )
    .unwrap();
    assert_eq!(d.items.len(), 1);
    assert!(d.balance.check.unwrap().is_break());
    assert_eq!(d.balance.after.last_reported, Some("1".parse().unwrap()));
}

#[test]
fn duplicates_do_not_count_towards_the_expected_balance() {
    let a = account(Platform::Xero);
    let first = tx("a", "-20.00", 1);
    let stored_row = assemble(
        &a,
        std::slice::from_ref(&first),
        &[true],
        &HashMap::new(),
        now(),
    )
    .pop()
    .unwrap()
    .transaction;
    let stored = HashMap::from([("a".to_owned(), stored_row)]);
    // "a" was applied and reported 7425.65; "b" is new: 7425.65 + 5 = 7430.65.
    let d = decide(
        Platform::Xero,
        &stored,
        ledger("7425.65"),
        vec![first, tx("b", "5", 2)],
        "7430.65",
    )
    .unwrap();
    let check = d.balance.check.unwrap();
    assert_eq!(check.batch_amount, "5".parse().unwrap());
    assert!(!check.is_break());
}
