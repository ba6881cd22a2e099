//! `LiveStore`: a connection's tenant and tokens (compare-and-set), live feeds, and the
//! statement queue: cutting (balances chain, no transaction twice), claiming (the head of each
//! account's queue, never two claimers at once) and recording.

use std::collections::HashSet;

use bankfeeds_domain::live::xero::Cut;
use bankfeeds_domain::live::{LiveFeedState, LiveStatementStatus};
use bankfeeds_domain::transaction::Transaction;
use bankfeeds_domain::{BankFeedAccount, Clock, Connection, Platform, SystemClock, Timestamp};
use bankfeeds_store::{DynStore, LiveFeed, LiveStatement, LiveTenant, StatementUpdate, StoreError};
use rust_decimal::Decimal;

use crate::helpers::{account, active, batch, days, run_batch, secs, setup, tx};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// The render the tests give: the feed connection, the FI ids and the balances, as text.
fn render(feed: &LiveFeed, txs: &[Transaction], c: &Cut) -> String {
    let ids: Vec<&str> = txs.iter().map(|t| t.data.transaction_id.as_str()).collect();
    format!(
        "{}|{}|{}|{}",
        feed.feed_connection_id.as_deref().unwrap_or("-"),
        ids.join(","),
        c.start_balance,
        c.end_balance
    )
}

pub(crate) async fn live_feed(store: &DynStore, c: &Connection, a: &BankFeedAccount) -> LiveFeed {
    let now = SystemClock.now();
    store
        .put_live_feed(&LiveFeed {
            account_id: a.id,
            org_id: c.org_id,
            connection_id: c.id,
            feed_connection_id: Some(format!("fc-{}", a.internal_bank_account_id)),
            state: LiveFeedState::Active,
            error_code: None,
            error_detail: None,
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap()
}

pub(crate) async fn cut(store: &DynStore, a: &BankFeedAccount, max: u32) -> Vec<LiveStatement> {
    store
        .cut_live_statements(a.id, max, &render, SystemClock.now())
        .await
        .unwrap()
}

/// A Xero account (balance 100) with a live feed and `amounts` pushed with a tying balance.
pub(crate) async fn fed(
    store: &DynStore,
    internal_id: &str,
    amounts: &[&str],
) -> (Connection, BankFeedAccount) {
    let c = setup(store, Platform::Xero).await;
    let a = account(store, &c, internal_id).await;
    let a = store
        .set_feed_state(
            a.id,
            &active(Some(SystemClock.now() - days(60))),
            SystemClock.now(),
        )
        .await
        .unwrap();
    live_feed(store, &c, &a).await;
    push(store, &c, &a, amounts, "100").await;
    (c, a)
}

/// Pushes `amounts` on `a` whose balance is `before`; answers the balance after.
pub(crate) async fn push(
    store: &DynStore,
    c: &Connection,
    a: &BankFeedAccount,
    amounts: &[&str],
    before: &str,
) -> Decimal {
    let after = d(before) + amounts.iter().map(|x| d(x)).sum::<Decimal>();
    let prefix = uuid::Uuid::now_v7();
    let txs = amounts
        .iter()
        .enumerate()
        .map(|(i, x)| {
            tx(
                &format!("{prefix}-{i}"),
                SystemClock.now() - days(5) + secs(i as i64),
                x,
            )
        })
        .collect();
    let (_, outcome) = run_batch(
        store,
        c,
        a,
        &batch(a, Some(&after.to_string()), txs),
        SystemClock.now(),
    )
    .await;
    outcome.expect("the batch is applied");
    after
}

pub async fn live_tokens_are_replaced_by_compare_and_set(store: DynStore) {
    let c = setup(&store, Platform::Xero).await;
    let now = SystemClock.now();
    assert_eq!(store.get_live_tenant(c.id).await.unwrap(), None);
    let tenant = LiveTenant {
        connection_id: c.id,
        org_id: c.org_id,
        platform: Platform::Xero,
        tenant_id: "tenant-1".into(),
        tokens_sealed: "sealed-1".into(),
        access_expires_at: now + secs(1800),
        token_version: 1,
        created_at: now,
        updated_at: now,
    };
    assert_eq!(store.put_live_tenant(&tenant).await.unwrap(), tenant);
    let later = now + secs(60);
    assert!(store
        .replace_live_tokens(c.id, 1, "sealed-2", later + secs(1800), later)
        .await
        .unwrap());
    // The loser of a race (it read version 1 too) stores nothing.
    assert!(!store
        .replace_live_tokens(c.id, 1, "sealed-lost", later, later)
        .await
        .unwrap());
    let got = store.get_live_tenant(c.id).await.unwrap().unwrap();
    assert_eq!(got.tokens_sealed, "sealed-2");
    assert_eq!(got.token_version, 2);
    assert_eq!(got.access_expires_at, later + secs(1800));
    assert_eq!(got.created_at, now);
    // Another connection's tenant is its own.
    let other = setup(&store, Platform::Xero).await;
    assert_eq!(store.get_live_tenant(other.id).await.unwrap(), None);
    assert!(!store
        .replace_live_tokens(other.id, 0, "x", later, later)
        .await
        .unwrap());
}

pub async fn live_feeds_round_trip_and_show_their_state(store: DynStore) {
    let c = setup(&store, Platform::Xero).await;
    let a = account(&store, &c, "ACC-1").await;
    assert_eq!(store.get_live_feed(a.id).await.unwrap(), None);
    let feed = live_feed(&store, &c, &a).await;
    assert_eq!(store.get_live_feed(a.id).await.unwrap(), Some(feed.clone()));
    let later = SystemClock.now() + secs(5);
    store
        .set_live_feed_state(
            a.id,
            LiveFeedState::Stopped,
            Some(("invalid-end-balance", Some("the end balance does not tie"))),
            later,
        )
        .await
        .unwrap();
    let got = store.get_live_feed(a.id).await.unwrap().unwrap();
    assert_eq!(got.state, LiveFeedState::Stopped);
    assert_eq!(got.error_code.as_deref(), Some("invalid-end-balance"));
    assert_eq!(
        got.error_detail.as_deref(),
        Some("the end balance does not tie")
    );
    assert_eq!(got.updated_at, later);
    let stopped = store
        .live_feeds_in_state(LiveFeedState::Stopped, 100)
        .await
        .unwrap();
    assert!(stopped.iter().any(|f| f.account_id == a.id));
    assert!(!store
        .live_feeds_in_state(LiveFeedState::Active, 100)
        .await
        .unwrap()
        .iter()
        .any(|f| f.account_id == a.id));
    let b = account(&store, &c, "ACC-2").await;
    let of = store.live_feeds_of(&[a.id, b.id]).await.unwrap();
    assert_eq!(of.iter().map(|f| f.account_id).collect::<Vec<_>>(), [a.id]);
    assert!(store.live_feeds_of(&[]).await.unwrap().is_empty());
    assert!(matches!(
        store
            .set_live_feed_state(b.id, LiveFeedState::Active, None, later)
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn statements_chain_their_balances_and_take_each_transaction_once(store: DynStore) {
    let (c, a) = fed(&store, "ACC-1", &["-10.25", "5", "-1"]).await;
    let first = cut(&store, &a, 1000).await;
    assert_eq!(first.len(), 1);
    let s = &first[0];
    assert_eq!(s.status, LiveStatementStatus::Queued);
    assert_eq!(s.position, 1);
    assert_eq!(s.line_count, 3);
    assert_eq!((s.start_balance, s.end_balance), (d("100"), d("93.75")));
    assert!(s.body.starts_with("fc-ACC-1|"), "{}", s.body);
    let parts: Vec<&str> = s.body.split('|').collect();
    assert_eq!(
        (d(parts[2]), d(parts[3])),
        (d("100"), d("93.75")),
        "{}",
        s.body
    );
    assert!(
        cut(&store, &a, 1000).await.is_empty(),
        "nothing new, nothing cut"
    );

    // The next batch opens where the last statement ended; a small cap cuts it in two goes.
    push(&store, &c, &a, &["1", "2", "3"], "93.75").await;
    let second = cut(&store, &a, 2).await;
    assert_eq!(second.len(), 1);
    assert_eq!(
        (second[0].start_balance, second[0].end_balance),
        (d("93.75"), d("96.75"))
    );
    let third = cut(&store, &a, 2).await;
    assert_eq!(
        (third[0].start_balance, third[0].end_balance),
        (d("96.75"), d("99.75"))
    );
    assert_eq!(third[0].position, 3);

    let all = store.list_live_statements(a.id).await.unwrap();
    assert_eq!(all.len(), 3);
    let mut seen = HashSet::new();
    for s in &all {
        let ids = s.body.split('|').nth(1).unwrap();
        for id in ids.split(',') {
            assert!(
                seen.insert(id.to_owned()),
                "transaction {id} in two statements"
            );
        }
    }
    assert_eq!(seen.len(), 6);
    for pair in all.windows(2) {
        assert_eq!(pair[0].end_balance, pair[1].start_balance);
    }

    // A feed that is not active is not cut; its transactions wait.
    store
        .set_live_feed_state(a.id, LiveFeedState::Pending, None, SystemClock.now())
        .await
        .unwrap();
    push(&store, &c, &a, &["4"], "99.75").await;
    assert!(cut(&store, &a, 1000).await.is_empty());
    store
        .set_live_feed_state(a.id, LiveFeedState::Active, None, SystemClock.now())
        .await
        .unwrap();
    assert_eq!(cut(&store, &a, 1000).await[0].line_count, 1);
    // An account without a live feed is refused.
    let other = account(&store, &c, "ACC-2").await;
    assert!(matches!(
        store
            .cut_live_statements(other.id, 10, &render, SystemClock.now())
            .await,
        Err(StoreError::NotFound)
    ));
}

async fn claim(store: &DynStore, holder: &str, now: Timestamp) -> Vec<LiveStatement> {
    store
        .claim_live_statements(holder, now + secs(60), 50, now)
        .await
        .unwrap()
}

/// A backlog larger than one cut: the first statement opens at the FI's balance less every
/// unsent transaction, not only those the cut takes, and the rest chain from it.
pub async fn a_first_cut_smaller_than_the_backlog_opens_below_all_of_it(store: DynStore) {
    // 100 before, then -10.25, 5, -1: the FI reports 93.75 after all three.
    let (_, a) = fed(&store, "BIG-1", &["-10.25", "5", "-1"]).await;
    let first = cut(&store, &a, 2).await;
    assert_eq!(
        (first[0].start_balance, first[0].end_balance),
        (d("100"), d("94.75"))
    );
    let rest = cut(&store, &a, 2).await;
    assert_eq!(
        (rest[0].start_balance, rest[0].end_balance),
        (d("94.75"), d("93.75"))
    );
}

pub async fn claims_take_each_accounts_oldest_statement_once(store: DynStore) {
    let (c, a) = fed(&store, "ACC-1", &["-1", "-2"]).await;
    cut(&store, &a, 1).await;
    cut(&store, &a, 1).await;
    let all = store.list_live_statements(a.id).await.unwrap();
    assert_eq!(all.len(), 2);
    let now = SystemClock.now();

    let got = claim(&store, "one", now).await;
    assert_eq!(got.iter().map(|s| s.id).collect::<Vec<_>>(), [all[0].id]);
    assert_eq!(got[0].attempts, 1);
    assert!(
        claim(&store, "two", now).await.is_empty(),
        "leased, and the next waits"
    );

    // Only the holder records; a retry later frees it, due then.
    let retry = StatementUpdate::RetryAt(now + secs(30));
    assert!(!store
        .record_live_statement(all[0].id, "two", &retry, now)
        .await
        .unwrap());
    assert!(store
        .record_live_statement(all[0].id, "one", &retry, now)
        .await
        .unwrap());
    assert!(claim(&store, "two", now).await.is_empty(), "not due yet");
    let again = claim(&store, "two", now + secs(31)).await;
    assert_eq!(again[0].id, all[0].id);
    assert_eq!(again[0].attempts, 2);
    assert_eq!(again[0].status, LiveStatementStatus::Queued);

    // Sent: polled later, still the head.
    let later = now + secs(31);
    let sent = StatementUpdate::Sent {
        platform_statement_id: "xs-1".into(),
        poll_at: later + secs(5),
    };
    assert!(store
        .record_live_statement(all[0].id, "two", &sent, later)
        .await
        .unwrap());
    let polled = claim(&store, "one", later + secs(5)).await;
    assert_eq!(polled.len(), 1);
    assert_eq!(polled[0].status, LiveStatementStatus::Sent);
    assert_eq!(polled[0].platform_statement_id.as_deref(), Some("xs-1"));
    let delivered = StatementUpdate::Delivered {
        platform_statement_id: None,
    };
    assert!(store
        .record_live_statement(all[0].id, "one", &delivered, later + secs(5))
        .await
        .unwrap());
    assert!(
        !store
            .record_live_statement(all[0].id, "one", &delivered, later + secs(5))
            .await
            .unwrap(),
        "a finished statement is not recorded again"
    );
    let listed = store.list_live_statements(a.id).await.unwrap();
    assert_eq!(listed[0].status, LiveStatementStatus::Delivered);
    assert_eq!(listed[0].platform_statement_id.as_deref(), Some("xs-1"));

    // The next one goes now; rejected, it stops the feed and the queue.
    let next = claim(&store, "one", later + secs(6)).await;
    assert_eq!(next[0].id, all[1].id);
    let rejected = StatementUpdate::Rejected {
        code: "invalid-end-balance".into(),
        detail: Some("does not tie".into()),
    };
    assert!(store
        .record_live_statement(all[1].id, "one", &rejected, later + secs(6))
        .await
        .unwrap());
    let feed = store.get_live_feed(a.id).await.unwrap().unwrap();
    assert_eq!(feed.state, LiveFeedState::Stopped);
    assert_eq!(feed.error_code.as_deref(), Some("invalid-end-balance"));
    push(&store, &c, &a, &["5"], "97").await;
    assert!(
        cut(&store, &a, 10).await.is_empty(),
        "a stopped feed is not cut"
    );
    assert!(claim(&store, "one", later + secs(60)).await.is_empty());
    let listed = store.list_live_statements(a.id).await.unwrap();
    assert_eq!(listed[1].status, LiveStatementStatus::Rejected);
    assert_eq!(listed[1].error_code.as_deref(), Some("invalid-end-balance"));
}

pub async fn two_claimers_never_hold_one_statement(store: DynStore) {
    let mut accounts = Vec::new();
    for i in 0..4 {
        let (_, a) = fed(&store, &format!("ACC-{i}"), &["-1", "-2", "-3"]).await;
        for _ in 0..3 {
            cut(&store, &a, 1).await;
        }
        accounts.push(a);
    }
    let run = |holder: &'static str| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..200 {
                let now = SystemClock.now();
                let claimed = store
                    .claim_live_statements(holder, now + secs(60), 2, now)
                    .await
                    .unwrap();
                for s in claimed {
                    got.push((s.account_id, s.position, s.id));
                    let done = StatementUpdate::Delivered {
                        platform_statement_id: None,
                    };
                    assert!(store
                        .record_live_statement(s.id, holder, &done, now)
                        .await
                        .unwrap());
                }
                if got.len() >= 12 {
                    break;
                }
                tokio::task::yield_now().await;
            }
            got
        })
    };
    let (a, b) = (run("one"), run("two"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let mut seen = HashSet::new();
    for (_, _, id) in a.iter().chain(&b) {
        assert!(seen.insert(*id), "statement {id} claimed twice");
    }
    assert_eq!(seen.len(), 12);
    for acc in &accounts {
        let all = store.list_live_statements(acc.id).await.unwrap();
        assert!(all
            .iter()
            .all(|s| s.status == LiveStatementStatus::Delivered));
    }
}
