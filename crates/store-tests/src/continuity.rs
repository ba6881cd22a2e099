//! `ContinuityStore`, and the balance reports `apply_batch` records with each batch.

use bankfeeds_domain::batch::BatchRefusal;
use bankfeeds_domain::continuity::{AcknowledgeRefusal, BalanceReport, Ledger};
use bankfeeds_domain::{JobStatus, Platform};
use bankfeeds_store::{Acknowledged, DynStore, Idem, IdempotencyKey, StoredResponse};
use rust_decimal::Decimal;

use crate::helpers::{
    account, active, batch, connection, days, events_of, intuit_account, run_batch, stored_account,
    t0, tx,
};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub async fn balances_are_checked_and_recorded_with_their_batch(store: DynStore) {
    let (o, c, a) = intuit_account(&store, "A").await;
    let now = t0();
    let run = |id: &str, day: i64, amt: &str, balance: Option<&str>| {
        batch(&a, balance, vec![tx(id, now - days(20 - day), amt)])
    };
    let none = store.continuity(c.id, a.id).await.unwrap().unwrap();
    assert_eq!((none.ledger, none.reports.len()), (Ledger::default(), 0));

    // 1: the opening balance. 2: no balance. 3: ties out (100 − 10 + 5). 4: a break.
    for (i, b) in [
        run("T1", 1, "-20.00", Some("100.00")),
        run("T2", 2, "-10", None),
        run("T3", 3, "5", Some("95")),
        run("T4", 4, "1", Some("50.50")),
    ]
    .iter()
    .enumerate()
    {
        let (job, outcome) = run_batch(&store, &c, &a, b, now + days(i as i64)).await;
        assert_eq!(job.status, JobStatus::Success, "batch {i}: {outcome:?}");
    }
    let found = store.continuity(c.id, a.id).await.unwrap().unwrap();
    assert_eq!(
        found.ledger,
        Ledger {
            last_reported: Some(d("50.5")),
            unreported: Decimal::ZERO
        }
    );
    let seqs: Vec<i64> = found.reports.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3]);
    let opening = &found.reports[0].check;
    assert!(opening.is_opening() && opening.reported == d("100"));
    let tied = &found.reports[1].check;
    assert_eq!(
        (tied.unreported_amount, tied.batch_amount),
        (d("-10"), d("5"))
    );
    assert_eq!(tied.expected, Some(d("95")));
    let broken = &found.reports[2];
    assert!(broken.check.is_break());
    assert_eq!(broken.check.expected, Some(d("96")));
    assert_eq!(broken.check.difference, d("-45.5"));
    assert_eq!(broken.posted_through, Some(now - days(16)));
    let mismatches = events_of(&store, o, "bank_feed_account.balance_mismatch").await;
    assert_eq!(mismatches.len(), 1);
    let p = &mismatches[0].payload;
    assert_eq!(
        p["difference"].to_string(),
        "-45.50",
        "money keeps its scale"
    );
    assert_eq!(p["expected"].to_string(), "96.00");
    assert_eq!(p["seq"], 3);

    // Re-sending batch 4 adds nothing and is not checked again: no report, no event.
    let (_, resent) = run_batch(
        &store,
        &c,
        &a,
        &run("T4", 4, "1", Some("50.50")),
        now + days(5),
    )
    .await;
    assert!(resent.unwrap().iter().all(|i| i.duplicate));
    // Nor is an old batch re-sent with the balance it had then.
    let (_, old) = run_batch(
        &store,
        &c,
        &a,
        &run("T1", 1, "-20.00", Some("100.00")),
        now + days(6),
    )
    .await;
    assert!(old.is_ok());
    // Neither re-send moves the account's balance back to the figure it had then, nor says
    // transactions were created: a pure re-send writes nothing.
    assert_eq!(
        stored_account(&store, &c, &a)
            .await
            .current_balance
            .map(|b| b.as_decimal()),
        Some(d("50.5"))
    );
    assert_eq!(
        events_of(&store, o, "bank_feed_transactions.created")
            .await
            .len(),
        4
    );
    let again = store.continuity(c.id, a.id).await.unwrap().unwrap();
    assert_eq!(again.reports, found.reports);
    assert_eq!(
        events_of(&store, o, "bank_feed_account.balance_mismatch")
            .await
            .len(),
        1
    );

    // Acknowledging: only a break, once, with a reason, through its own connection only.
    let other = connection(&store, o, Platform::IntuitBankFeeds).await;
    let when = now + days(7);
    let account_id = a.id;
    let ack = |c, r, reason: &'static str| {
        let store = store.clone();
        async move {
            store
                .acknowledge_break(c, account_id, r, reason, when, None)
                .await
                .unwrap()
        }
    };
    assert_eq!(ack(other.id, broken.id, "x").await, Acknowledged::NotFound);
    assert_eq!(
        ack(c.id, found.reports[1].id, "x").await,
        Acknowledged::Refused(AcknowledgeRefusal::NotABreak)
    );
    assert_eq!(
        ack(c.id, broken.id, "   ").await,
        Acknowledged::Refused(AcknowledgeRefusal::EmptyReason)
    );
    let done = ack(c.id, broken.id, " interest posted late ").await;
    let Acknowledged::Done(done) = done else {
        panic!("expected the break acknowledged, got {done:?}");
    };
    let a_ = done.acknowledgement.clone().unwrap();
    assert_eq!(
        (a_.reason.as_str(), a_.acknowledged_at),
        ("interest posted late", when)
    );
    assert_eq!(
        ack(c.id, broken.id, "again").await,
        Acknowledged::Refused(AcknowledgeRefusal::AlreadyAcknowledged)
    );
    let after = store.continuity(c.id, a.id).await.unwrap().unwrap();
    assert_eq!(after.reports[2], done);
    let acks = events_of(&store, o, "bank_feed_account.balance_break_acknowledged").await;
    assert_eq!(acks.len(), 1);
    assert_eq!(
        acks[0].payload["acknowledged_reason"],
        "interest posted late"
    );
    assert_eq!(store.continuity(other.id, a.id).await.unwrap(), None);

    // With an idempotency key, a retry answers as the first request did.
    let (_, outcome) =
        run_batch(&store, &c, &a, &run("T5", 5, "1", Some("7")), now + days(8)).await;
    assert!(outcome.is_ok());
    let latest = store.continuity(c.id, a.id).await.unwrap().unwrap();
    let second = latest.reports.last().unwrap().clone();
    assert!(second.check.is_break());
    let key = IdempotencyKey {
        org_id: o,
        key: "ack-1".into(),
        fingerprint: "same request".into(),
    };
    let render = |r: &BalanceReport| StoredResponse {
        status: 200,
        body: r.id.to_string(),
    };
    let idem = || {
        Some(Idem {
            key: &key,
            render: &render,
        })
    };
    let first = store
        .acknowledge_break(c.id, a.id, second.id, "known", when, idem())
        .await
        .unwrap();
    assert!(matches!(first, Acknowledged::Done(_)), "{first:?}");
    let retried = store
        .acknowledge_break(c.id, a.id, second.id, "known", when, idem())
        .await
        .unwrap();
    assert_eq!(
        retried,
        Acknowledged::Replayed(StoredResponse {
            status: 200,
            body: second.id.to_string()
        })
    );
    assert_eq!(
        events_of(&store, o, "bank_feed_account.balance_break_acknowledged")
            .await
            .len(),
        2
    );
}

pub async fn a_refusing_platform_refuses_a_break_and_writes_nothing(store: DynStore) {
    let (o, _, _) = intuit_account(&store, "unused").await;
    let c = connection(&store, o, Platform::Xero).await;
    let a = account(&store, &c, "X").await;
    store
        .set_feed_state(a.id, &active(None), t0() - days(29))
        .await
        .unwrap();
    let now = t0();
    let (job, _) = run_batch(
        &store,
        &c,
        &a,
        &batch(&a, Some("7445.65"), vec![tx("T1", now - days(3), "-1")]),
        now,
    )
    .await;
    assert_eq!(job.status, JobStatus::Success);
    let bad = batch(&a, Some("1.00"), vec![tx("T2", now - days(2), "-20.00")]);
    let (job, outcome) = run_batch(&store, &c, &a, &bad, now + days(1)).await;
    assert_eq!(job.status, JobStatus::Failure);
    let Err(BatchRefusal::BalanceMismatch { check, .. }) = outcome else {
        panic!("expected BALANCE_MISMATCH, got {outcome:?}");
    };
    assert_eq!(
        (check.expected, check.difference),
        (Some(d("7425.65")), d("-7424.65"))
    );
    // Nothing applied: no row, the balance and the ledger as they were, no event.
    let found = store.continuity(c.id, a.id).await.unwrap().unwrap();
    assert_eq!(found.reports.len(), 1);
    assert_eq!(found.ledger.last_reported, Some(d("7445.65")));
    let stored = stored_account(&store, &c, &a).await;
    assert_eq!(stored.current_balance, Some("7445.65".parse().unwrap()));
    assert!(events_of(&store, o, "bank_feed_account.balance_mismatch")
        .await
        .is_empty());
    // The corrected batch (the missing −20.00 and the FI's own balance) is applied.
    let good = batch(
        &a,
        Some("7424.65"),
        vec![
            tx("T2", now - days(2), "-20.00"),
            tx("T3", now - days(1), "-1"),
        ],
    );
    let (job, _) = run_batch(&store, &c, &a, &good, now + days(2)).await;
    assert_eq!(job.status, JobStatus::Success);
    let found = store.continuity(c.id, a.id).await.unwrap().unwrap();
    assert_eq!(found.reports.len(), 2);
    assert!(!found.reports[1].check.is_break());
}

/// A tiny deterministic generator (xorshift64*), so a failing feed can be replayed by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A nonzero amount in cents, −500.00 to 500.00.
    fn cents(&mut self) -> i64 {
        loop {
            let c = self.below(100_001) as i64 - 50_000;
            if c != 0 {
                return c;
            }
        }
    }
}

fn money(cents: i64) -> String {
    Decimal::new(cents, 2).to_string()
}

/// Random feeds: random batches, some with a balance, some where the FI's figure includes a
/// transaction it never sent (an injected break), random re-sends of earlier batches. The
/// continuity report finds every injected break, with its difference, and no other.
pub async fn the_continuity_report_finds_every_injected_break_and_no_other(store: DynStore) {
    let mut injected = 0;
    for seed in 1..=4u64 {
        let (_, c, a) = intuit_account(&store, &format!("P{seed}")).await;
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut sent = Vec::new();
        let mut fi_cents: i64 = 0; // what the FI's ledger says, sent or not
        let mut hidden_since_report: i64 = 0;
        let mut reported_before = false;
        let mut expected_breaks: Vec<(i64, Decimal)> = Vec::new();
        let mut reports: i64 = 0;
        let mut n = 0;
        for step in 0..30 {
            let now = t0() + days(step);
            if !sent.is_empty() && rng.below(5) == 0 {
                // A retry of an earlier batch, exactly as it was sent: changes nothing.
                let i = rng.below(sent.len() as u64) as usize;
                let (job, outcome) = run_batch(&store, &c, &a, &sent[i], now).await;
                assert_eq!(job.status, JobStatus::Success, "seed {seed}: {outcome:?}");
                assert!(outcome.unwrap().iter().all(|i| i.duplicate));
                continue;
            }
            if reported_before && hidden_since_report == 0 && rng.below(4) == 0 {
                // The FI books a transaction it never sends.
                let h = rng.cents();
                hidden_since_report += h;
                fi_cents += h;
            }
            let txs: Vec<_> = (0..=rng.below(3))
                .map(|_| {
                    n += 1;
                    let amt = rng.cents();
                    fi_cents += amt;
                    tx(
                        &format!("{seed}-{n}"),
                        t0() - days(400) + days(n),
                        &money(amt),
                    )
                })
                .collect();
            let balance = (rng.below(3) > 0).then(|| money(fi_cents));
            if balance.is_some() {
                reports += 1;
                if reported_before && hidden_since_report != 0 {
                    expected_breaks.push((reports, Decimal::new(hidden_since_report, 2)));
                }
                reported_before = true;
                hidden_since_report = 0;
            }
            let b = batch(&a, balance.as_deref(), txs);
            let (job, outcome) = run_batch(&store, &c, &a, &b, now).await;
            assert_eq!(job.status, JobStatus::Success, "seed {seed}: {outcome:?}");
            sent.push(b);
        }
        let found = store.continuity(c.id, a.id).await.unwrap().unwrap();
        let breaks: Vec<(i64, Decimal)> = found
            .reports
            .iter()
            .filter(|r| r.check.is_break())
            .map(|r| (r.seq, r.check.difference))
            .collect();
        assert_eq!(breaks, expected_breaks, "seed {seed}");
        injected += expected_breaks.len();
        let last = found.reports.last().map(|r| r.seq).unwrap_or_default();
        assert_eq!(last, reports, "seed {seed}: one report per balance sent");
    }
    assert!(
        injected >= 4,
        "the feeds must inject breaks to find ({injected})"
    );
}

/// Closed days: declared for a live account of the connection, once per range, refused over
/// days with postings; read back with the posting days the stale rule needs.
pub async fn closed_days_are_declared_and_read_with_the_posting_days(store: DynStore) {
    use bankfeeds_store::DeclaredClosed;
    let (o, c, a) = intuit_account(&store, "A").await;
    let other = crate::helpers::connection(&store, o, Platform::IntuitBankFeeds).await;
    let now = t0();
    let day = |n: i64| (now - days(n)).date_naive();
    let at = |n: i64, h: u32| day(n).and_hms_opt(h, 30, 0).unwrap().and_utc();
    // Two on one UTC day (early and late), one five days later.
    let b = batch(
        &a,
        None,
        vec![
            tx("T1", at(10, 0), "-1"),
            tx("T2", at(10, 23), "-2"),
            tx("T3", at(5, 12), "3"),
        ],
    );
    let (job, outcome) = run_batch(&store, &c, &a, &b, now).await;
    assert_eq!(job.status, JobStatus::Success, "{outcome:?}");
    let empty = store.continuity(c.id, a.id).await.unwrap().unwrap();
    assert_eq!(empty.posting_days, vec![day(10), day(5)]);
    assert!(empty.closed_days.is_empty());

    let account = a.id;
    let declare = |conn, from: i64, to: i64| {
        let (store, from, to) = (store.clone(), day(from), day(to));
        async move {
            store
                .declare_closed_days(conn, account, from, to, now)
                .await
                .unwrap()
        }
    };
    let DeclaredClosed::Declared(first) = declare(c.id, 9, 6).await else {
        panic!("expected the range declared");
    };
    assert_eq!(
        (first.from, first.to, first.declared_at),
        (day(9), day(6), now)
    );
    // Again: the same declaration, nothing new.
    assert_eq!(
        declare(c.id, 9, 6).await,
        DeclaredClosed::Declared(first.clone())
    );
    // Over a day with postings: refused, naming the days.
    assert_eq!(
        declare(c.id, 11, 4).await,
        DeclaredClosed::HasPostings(vec![day(10), day(5)])
    );
    assert_eq!(
        declare(c.id, 10, 10).await,
        DeclaredClosed::HasPostings(vec![day(10)])
    );
    // Another connection's account is not found.
    assert_eq!(declare(other.id, 3, 2).await, DeclaredClosed::NotFound);
    let DeclaredClosed::Declared(second) = declare(c.id, 3, 1).await else {
        panic!("expected the range declared");
    };
    let found = store.continuity(c.id, a.id).await.unwrap().unwrap();
    assert_eq!(found.closed_days, vec![first, second]);
    assert_eq!(found.posting_days, vec![day(10), day(5)]);
}
