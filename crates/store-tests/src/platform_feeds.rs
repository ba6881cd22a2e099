//! `PlatformFeedStore`: a linked feed is ingested as statements by posting day exactly once,
//! each with the FI's reported closing where there is one, unlinking stops it, and scheduled
//! syncs find the feeds that are due.

use bankfeeds_domain::account::FeedStatus;
use bankfeeds_domain::link::{Company, CompanyId};
use bankfeeds_domain::statement::{Reconcile, Statement};
use bankfeeds_domain::transaction::TransactionQuery;
use bankfeeds_domain::{BankFeedAccount, Connection, Platform, Timestamp};
use bankfeeds_store::{DynStore, EventKind, StoreError};
use chrono::TimeDelta;
use rust_decimal::Decimal;
use tokio::task::JoinSet;

use crate::helpers::{active, batch, events_of, linked_feed, run_batch, secs, t0, tx};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// Pushes `n` transactions of 1.00 .. n.00 (posted a second apart, numbered from `first`) with
/// the batch's closing balance.
async fn push(
    store: &DynStore,
    c: &Connection,
    a: &BankFeedAccount,
    first: usize,
    n: usize,
    balance: &str,
) {
    let base = t0() - TimeDelta::days(10);
    let txs = (first..first + n)
        .map(|i| {
            tx(
                &format!("T{i:05}"),
                base + secs(i as i64),
                &format!("{}.00", i - first + 1),
            )
        })
        .collect();
    let (_, outcome) = run_batch(store, c, a, &batch(a, Some(balance), txs), t0()).await;
    outcome.expect("batch accepted");
}

async fn ingested(store: &DynStore, c: &Connection, flag: bool) -> usize {
    let q = TransactionQuery {
        platform_ingested: Some(flag),
        limit: 1000,
        ..TransactionQuery::default()
    };
    store.list_transactions(c.id, &q).await.unwrap().items.len()
}

pub async fn feeds_are_ingested_as_statements_once(store: DynStore) {
    let (books, c, feed) = linked_feed(&store, Platform::SageIntacct, "SAGE-1").await;
    push(&store, &c, &feed, 0, 250, "1000").await;
    assert_eq!(ingested(&store, &c, false).await, 250);

    let at = t0() + secs(60);
    let statements = store.ingest_feed(books.id, feed.id, 100, at).await.unwrap();
    let counts: Vec<u32> = statements.iter().map(|s| s.transaction_count).collect();
    assert_eq!(
        counts,
        vec![100, 100, 50],
        "Sage takes at most 100 per statement"
    );
    // 1 + 2 + … + 250 = 31375 came in, and the FI says the balance is now 1000.
    assert_eq!(statements[0].opening_balance, d("-30375"));
    assert_eq!(statements[0].closing_balance, statements[1].opening_balance);
    assert_eq!(statements[1].closing_balance, statements[2].opening_balance);
    assert_eq!(statements[2].closing_balance, d("1000"));
    assert_eq!(statements[2].reconcile(), Reconcile::TiesOut);
    assert_eq!(statements[1].reconcile(), Reconcile::NotReported);
    let day = (t0() - TimeDelta::days(10)).date_naive();
    assert!(statements.iter().all(|s| s.day == Some(day) && !s.late));
    assert!(statements.iter().all(|s| s.ingested_at == at));
    assert_eq!(ingested(&store, &c, true).await, 250);
    assert_eq!(ingested(&store, &c, false).await, 0);

    let middle = store.statement_transactions(&statements[1]).await.unwrap();
    let ids: Vec<_> = middle
        .iter()
        .map(|t| t.data.transaction_id.as_str())
        .collect();
    assert_eq!(ids.len(), 100);
    assert_eq!(ids[0], "T00100");
    assert_eq!(ids[99], "T00199");
    assert!(middle
        .iter()
        .all(|t| t.platform_ingested && t.ingested_at == Some(at)));
    let synced = store.get_account(c.id, feed.id).await.unwrap().unwrap();
    assert_eq!(synced.last_synced_at, Some(at));

    // Newest first, and paged with `before`.
    let listed = store.list_statements(feed.id, None, 2).await.unwrap();
    assert_eq!(listed, vec![statements[2].clone(), statements[1].clone()]);
    let older = store
        .list_statements(feed.id, Some(statements[1].id), 10)
        .await
        .unwrap();
    assert_eq!(older, vec![statements[0].clone()]);

    // Nothing new: no statement, but the sync time still moves.
    let later = at + secs(60);
    assert!(store
        .ingest_feed(books.id, feed.id, 100, later)
        .await
        .unwrap()
        .is_empty());
    let synced = store.get_account(c.id, feed.id).await.unwrap().unwrap();
    assert_eq!(synced.last_synced_at, Some(later));

    // More arrive for the same day, with a balance 0.50 short of 1000 + 1 + 2: the next
    // statement opens where the last closed, is marked late (that day was shown), and shows
    // the difference rather than a shifted opening balance.
    push(&store, &c, &feed, 250, 2, "1002.5").await;
    let next = store
        .ingest_feed(books.id, feed.id, 100, later + secs(1))
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].opening_balance, d("1000"));
    assert_eq!(next[0].closing_balance, d("1003"));
    assert_eq!(next[0].reported_closing, Some(d("1002.5")));
    assert_eq!(next[0].reconcile(), Reconcile::Difference(d("-0.5")));
    assert!(next[0].late && next[0].day == Some(day));

    let synced_events = events_of(&store, c.org_id, "bank_feed_account.synced").await;
    assert_eq!(synced_events.len(), 3);
    assert_eq!(synced_events[0].payload["transactions_ingested"], 250);
    assert_eq!(synced_events[0].payload["statements"], 3);
    assert_eq!(synced_events[0].resource_id, feed.id.to_string());

    // Another company cannot ingest this feed.
    let stranger = Company {
        id: CompanyId::new(),
        platform: Platform::SageIntacct,
        name: "Stranger".into(),
        created_at: t0(),
    };
    store.create_company(&stranger).await.unwrap();
    assert!(matches!(
        store.ingest_feed(stranger.id, feed.id, 100, at).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.get_company_feed(stranger.id, feed.id).await.unwrap(),
        None
    );
}

pub async fn concurrent_syncs_take_each_transaction_once(store: DynStore) {
    let (books, c, feed) = linked_feed(&store, Platform::Xero, "XERO-1").await;
    push(&store, &c, &feed, 0, 300, "500").await;
    let mut syncs = JoinSet::new();
    for i in 0..6 {
        let store = store.clone();
        syncs.spawn(async move {
            store
                .ingest_feed(books.id, feed.id, 1000, t0() + secs(i))
                .await
                .unwrap()
        });
    }
    let mut statements: Vec<Statement> = Vec::new();
    while let Some(done) = syncs.join_next().await {
        statements.extend(done.unwrap());
    }
    assert_eq!(
        statements.len(),
        1,
        "one sync took everything: {statements:?}"
    );
    assert_eq!(statements[0].transaction_count, 300);
    assert_eq!(
        store
            .statement_transactions(&statements[0])
            .await
            .unwrap()
            .len(),
        300
    );
}

pub async fn unlinked_feeds_go_inactive_and_stop_syncing(store: DynStore) {
    let (books, c, feed) = linked_feed(&store, Platform::Netsuite, "NS-1").await;
    assert_eq!(
        store.get_company_feed(books.id, feed.id).await.unwrap(),
        Some(feed.clone())
    );
    let at = t0() + secs(5);
    let unlinked = store.unlink_feed(books.id, feed.id, at).await.unwrap();
    assert_eq!(unlinked.feed_status, FeedStatus::Inactive);
    assert!(!unlinked.transaction_ready);
    assert_eq!(unlinked.transaction_start_date, feed.transaction_start_date);
    assert_eq!(unlinked.updated_at, at);
    assert_eq!(
        store.get_account(c.id, feed.id).await.unwrap(),
        Some(unlinked.clone())
    );
    assert_eq!(
        store.get_company_feed(books.id, feed.id).await.unwrap(),
        None
    );
    assert!(store.list_company_feeds(books.id).await.unwrap().is_empty());
    assert!(matches!(
        store.unlink_feed(books.id, feed.id, at).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.ingest_feed(books.id, feed.id, 1000, at).await,
        Err(StoreError::NotFound)
    ));
    assert!(store
        .list_feeds_due(Platform::Netsuite, at + secs(3600), 100)
        .await
        .unwrap()
        .is_empty());
    let events = store.list_events(c.org_id, 0, 1000).await.unwrap();
    let [.., changed, deactivated] = &events[..] else {
        panic!("two events at least")
    };
    assert_eq!(changed.kind, EventKind::AccountFeedChanged);
    assert_eq!(changed.payload["feed_status"], "inactive");
    assert_eq!(deactivated.kind, EventKind::AccountDeactivated);
}

pub async fn scheduled_syncs_find_the_feeds_due(store: DynStore) {
    let (books_a, _, a) = linked_feed(&store, Platform::Xero, "XERO-A").await;
    let (books_b, _, b) = linked_feed(&store, Platform::Xero, "XERO-B").await;
    let (_, _, _sage) = linked_feed(&store, Platform::SageBusinessCloud, "SBC-1").await;
    let at = |n: i64| -> Timestamp { t0() + secs(n) };

    // Never synced: both due, on Xero only.
    let due = store
        .list_feeds_due(Platform::Xero, at(0), 100)
        .await
        .unwrap();
    assert_eq!(due.len(), 2);
    assert!(due.contains(&(books_a.id, a.id)) && due.contains(&(books_b.id, b.id)));

    store
        .ingest_feed(books_b.id, b.id, 1000, at(10))
        .await
        .unwrap();
    store
        .ingest_feed(books_a.id, a.id, 1000, at(20))
        .await
        .unwrap();
    assert!(store
        .list_feeds_due(Platform::Xero, at(10), 100)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .list_feeds_due(Platform::Xero, at(11), 100)
            .await
            .unwrap(),
        vec![(books_b.id, b.id)]
    );
    assert_eq!(
        store
            .list_feeds_due(Platform::Xero, at(21), 100)
            .await
            .unwrap(),
        vec![(books_b.id, b.id), (books_a.id, a.id)],
        "least recently synced first"
    );
    assert_eq!(
        store
            .list_feeds_due(Platform::Xero, at(21), 1)
            .await
            .unwrap()
            .len(),
        1
    );

    let companies = store.list_companies(Platform::Xero).await.unwrap();
    let ids: Vec<_> = companies.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![books_a.id, books_b.id]);
    assert!(companies.iter().all(|c| c.platform == Platform::Xero));
}

pub async fn statements_belong_to_their_feed(store: DynStore) {
    let (books_a, ca, a) = linked_feed(&store, Platform::Xero, "XERO-A").await;
    let (books_b, cb, b) = linked_feed(&store, Platform::Xero, "XERO-B").await;
    push(&store, &ca, &a, 0, 3, "10").await;
    push(&store, &cb, &b, 100, 2, "20").await;
    let at = t0() + secs(60);
    let sa = store.ingest_feed(books_a.id, a.id, 100, at).await.unwrap();
    let sb = store.ingest_feed(books_b.id, b.id, 100, at).await.unwrap();
    assert_eq!((sa.len(), sb.len()), (1, 1));
    assert_eq!(store.list_statements(a.id, None, 10).await.unwrap(), sa);
    assert_eq!(store.list_statements(b.id, None, 10).await.unwrap(), sb);
    let ta = store.statement_transactions(&sa[0]).await.unwrap();
    assert_eq!(ta.len(), 3);
    assert!(ta.iter().all(|t| t.bank_feed_account_id == a.id));
    let tb = store.statement_transactions(&sb[0]).await.unwrap();
    assert_eq!(tb.len(), 2);
    assert!(tb.iter().all(|t| t.bank_feed_account_id == b.id));
    // Neither company reaches the other's feed.
    assert!(matches!(
        store.ingest_feed(books_a.id, b.id, 100, at).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.get_company_feed(books_b.id, a.id).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .list_company_feeds(books_a.id)
            .await
            .unwrap()
            .into_iter()
            .map(|f| f.id)
            .collect::<Vec<_>>(),
        vec![a.id]
    );
    assert!(store
        .list_statements(bankfeeds_domain::BankFeedAccountId::new(), None, 10)
        .await
        .unwrap()
        .is_empty());
}

pub async fn statements_are_periods_by_posting_day(store: DynStore) {
    let (books, c, feed) = linked_feed(&store, Platform::SageBusinessCloud, "SBC-DAYS").await;
    let day = |n: i64| t0() - TimeDelta::days(n);
    let txs = vec![
        tx("D5-A", day(5), "100.00"),
        tx("D3-A", day(3), "-10.25"),
        tx("D3-B", day(3) + secs(60), "5.00"),
    ];
    let (_, outcome) = run_batch(&store, &c, &feed, &batch(&feed, Some("194.75"), txs), t0()).await;
    outcome.expect("batch accepted");
    let at = t0() + secs(1);
    let s = store.ingest_feed(books.id, feed.id, 100, at).await.unwrap();
    let days: Vec<_> = s.iter().map(|s| s.day).collect();
    assert_eq!(
        days,
        vec![Some(day(5).date_naive()), Some(day(3).date_naive())]
    );
    assert_eq!(
        s[0].opening_balance,
        d("100"),
        "the FI's balance less everything new"
    );
    assert_eq!(s[1].reconcile(), Reconcile::TiesOut);
    let ids = |t: Vec<bankfeeds_domain::transaction::Transaction>| {
        t.into_iter()
            .map(|t| t.data.transaction_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.statement_transactions(&s[0]).await.unwrap()),
        vec!["D5-A"]
    );
    assert_eq!(
        ids(store.statement_transactions(&s[1]).await.unwrap()),
        vec!["D3-A", "D3-B"],
        "a day's lines in storage order"
    );
    assert_eq!(store.list_statements(feed.id, None, 10).await.unwrap(), {
        let mut newest_first = s.clone();
        newest_first.reverse();
        newest_first
    });

    // A late posting for a day already shown, and a new day: the late one is its own statement
    // of that day, after what was shown, which is never rewritten.
    let txs = vec![
        tx("D3-C", day(3) + secs(3600), "2.00"),
        tx("D1-A", day(1), "1.00"),
    ];
    let (_, outcome) = run_batch(&store, &c, &feed, &batch(&feed, Some("197.75"), txs), t0()).await;
    outcome.expect("batch accepted");
    let later = store
        .ingest_feed(books.id, feed.id, 100, at + secs(1))
        .await
        .unwrap();
    assert_eq!(
        later.iter().map(|s| (s.day, s.late)).collect::<Vec<_>>(),
        vec![
            (Some(day(3).date_naive()), true),
            (Some(day(1).date_naive()), false)
        ]
    );
    assert_eq!(later[0].opening_balance, d("194.75"));
    assert_eq!(later[1].reconcile(), Reconcile::TiesOut);
    assert_eq!(
        ids(store.statement_transactions(&s[1]).await.unwrap()),
        vec!["D3-A", "D3-B"],
        "the statement shown keeps its lines"
    );
    assert_eq!(
        ids(store.statement_transactions(&later[0]).await.unwrap()),
        vec!["D3-C"]
    );
    assert_eq!(
        store
            .list_statements(feed.id, None, 10)
            .await
            .unwrap()
            .len(),
        4
    );
}

/// A wrong FI figure recorded before the platform's first sync still shows: the first
/// statement opens from the FI's figures without the break, so its end shows the difference.
pub async fn a_break_before_the_first_sync_shows_as_a_difference(store: DynStore) {
    let (books, c, feed) = linked_feed(&store, Platform::SageBusinessCloud, "SBC-BRK").await;
    let day = |n: i64| t0() - TimeDelta::days(n);
    let first = vec![tx("B-1", day(4), "7445.65")];
    let (_, outcome) = run_batch(
        &store,
        &c,
        &feed,
        &batch(&feed, Some("7445.65"), first),
        t0(),
    )
    .await;
    outcome.expect("batch accepted");
    let second = vec![tx("B-2", day(2), "-20.00")];
    let (_, outcome) =
        run_batch(&store, &c, &feed, &batch(&feed, Some("1.00"), second), t0()).await;
    outcome.expect("accepted: Sage records the break");
    let s = store
        .ingest_feed(books.id, feed.id, 100, t0() + secs(1))
        .await
        .unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[1].reconcile(), Reconcile::Difference(d("-7424.65")));
    assert_eq!(s[1].bank_closing(), d("1.00"));
}

/// A break the FI's figures made on days before the platform's window (the customer's start
/// date) falls in no statement the platform shows: the first statement opens at the bank's
/// balance before its own lines and ties out, rather than carrying that old difference.
pub async fn a_break_before_the_window_is_not_the_first_statements(store: DynStore) {
    let (books, c, feed) = linked_feed(&store, Platform::SageBusinessCloud, "SBC-WIN").await;
    let day = |n: i64| t0() - TimeDelta::days(n);
    for (id, posted, amount, balance) in [
        ("W-1", day(4), "7445.65", "7445.65"),
        ("W-2", day(3), "-20.00", "1.00"),
        ("W-3", day(0), "5.00", "6.00"),
    ] {
        let lines = vec![tx(id, posted, amount)];
        let (_, outcome) =
            run_batch(&store, &c, &feed, &batch(&feed, Some(balance), lines), t0()).await;
        outcome.expect("accepted: Sage records a break");
    }
    store
        .set_feed_state(feed.id, &active(Some(day(1))), t0())
        .await
        .unwrap();
    let s = store
        .ingest_feed(books.id, feed.id, 100, t0() + secs(1))
        .await
        .unwrap();
    assert_eq!(s.len(), 1, "only the window's day");
    assert_eq!(s[0].opening_balance, d("1.00"));
    assert_eq!(s[0].bank_closing(), d("6.00"));
    assert_eq!(s[0].reconcile(), Reconcile::TiesOut);
}
