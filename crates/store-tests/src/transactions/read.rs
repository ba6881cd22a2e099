//! Reading transactions back: filters, paging, scoping to the connection; marking them ingested.

use std::collections::HashSet;

use bankfeeds_domain::transaction::{Transaction, TransactionQuery};
use bankfeeds_domain::{Platform, TransactionId};
use bankfeeds_store::DynStore;
use chrono::TimeDelta;

use crate::helpers::{
    account, all_transactions, batch, connection, days, intuit_account, run_batch, secs,
    stored_account, t0, tx,
};

pub async fn transaction_lists_filter_and_page(store: DynStore) {
    let (o, c, x) = intuit_account(&store, "X").await;
    let y = account(&store, &c, "Y").await;
    let other = connection(&store, o, Platform::IntuitBankFeeds).await;
    let z = account(&store, &other, "Z").await;
    let now = t0();
    let p = |i: i64| now - days(10) + TimeDelta::hours(i);
    let xs: Vec<_> = (0..5)
        .map(|i| tx(&format!("X{i}"), p(i), &format!("-{}.25", i + 1)))
        .collect();
    run_batch(&store, &c, &x, &batch(&x, None, xs), now)
        .await
        .1
        .unwrap();
    // Another connection's rows are interleaved in time and id order.
    run_batch(
        &store,
        &other,
        &z,
        &batch(&z, None, vec![tx("Z0", p(1), "3")]),
        now,
    )
    .await
    .1
    .unwrap();
    let ys: Vec<_> = (0..3).map(|i| tx(&format!("Y{i}"), p(i), "1")).collect();
    run_batch(&store, &c, &y, &batch(&y, None, ys), now)
        .await
        .1
        .unwrap();

    let all = all_transactions(&store, &c).await;
    assert_eq!(all.len(), 8);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "id order");
    assert!(all.iter().all(|t| t.connection_id == c.id));

    let list = |q: TransactionQuery| {
        let store = store.clone();
        async move {
            let page = store.list_transactions(c.id, &q).await.unwrap();
            page.items
                .into_iter()
                .map(|t| t.data.transaction_id)
                .collect::<Vec<_>>()
        }
    };
    let ids_where = |f: &dyn Fn(&Transaction) -> bool| {
        all.iter()
            .filter(|t| f(t))
            .map(|t| t.data.transaction_id.clone())
            .collect::<Vec<_>>()
    };
    let q = |limit| TransactionQuery {
        limit,
        ..TransactionQuery::default()
    };

    let only_x = list(TransactionQuery {
        bank_feed_account_id: Some(x.id),
        ..q(100)
    })
    .await;
    assert_eq!(only_x, ["X0", "X1", "X2", "X3", "X4"]);
    assert!(list(TransactionQuery {
        bank_feed_account_id: Some(z.id),
        ..q(100)
    })
    .await
    .is_empty());
    // Inclusive bounds, on both ends.
    let window = list(TransactionQuery {
        posted_at_min: Some(p(1)),
        posted_at_max: Some(p(3)),
        ..q(100)
    })
    .await;
    assert_eq!(
        window,
        ids_where(&|t| t.data.posted_at >= p(1) && t.data.posted_at <= p(3))
    );
    assert_eq!(window.len(), 5);
    let exact = list(TransactionQuery {
        bank_feed_account_id: Some(x.id),
        posted_at_min: Some(p(2)),
        posted_at_max: Some(p(2)),
        ..q(100)
    })
    .await;
    assert_eq!(exact, ["X2"]);
    let just_after = list(TransactionQuery {
        posted_at_min: Some(p(4) + TimeDelta::microseconds(1)),
        ..q(100)
    })
    .await;
    assert!(just_after.is_empty());
    assert_eq!(
        list(TransactionQuery {
            platform_ingested: Some(false),
            ..q(100)
        })
        .await
        .len(),
        8
    );
    assert!(list(TransactionQuery {
        platform_ingested: Some(true),
        ..q(100)
    })
    .await
    .is_empty());

    // Paging walks every row once, in id order.
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store
            .list_transactions(
                c.id,
                &TransactionQuery {
                    after,
                    limit: 3,
                    ..TransactionQuery::default()
                },
            )
            .await
            .unwrap();
        pages += 1;
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|t| t.id));
        if !page.has_more {
            break;
        }
        after = page.items.last().map(|t| t.id);
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, all.iter().map(|t| t.id).collect::<Vec<_>>());
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 8);
    let exact_fit = store.list_transactions(c.id, &q(8)).await.unwrap();
    assert_eq!((exact_fit.items.len(), exact_fit.has_more), (8, false));
    let z0 = all_transactions(&store, &other).await;
    assert_eq!(z0.len(), 1);
    assert_eq!(store.get_transaction(c.id, z0[0].id).await.unwrap(), None);
    assert_eq!(
        store
            .get_transaction(c.id, TransactionId::new())
            .await
            .unwrap(),
        None
    );

    // The platform ingests X.
    let at = now + secs(30);
    assert_eq!(store.mark_ingested(x.id, at).await.unwrap(), 5);
    let xa = stored_account(&store, &c, &x).await;
    assert_eq!(xa.last_synced_at, Some(at));
    assert_eq!(stored_account(&store, &c, &y).await.last_synced_at, None);
    let after_ingest = all_transactions(&store, &c).await;
    for t in &after_ingest {
        let before = all.iter().find(|b| b.id == t.id).unwrap();
        if t.bank_feed_account_id == x.id {
            assert!(t.platform_ingested);
            assert_eq!(t.ingested_at, Some(at));
            let back = Transaction {
                platform_ingested: false,
                ingested_at: None,
                ..t.clone()
            };
            assert_eq!(&back, before, "nothing else changes");
        } else {
            assert_eq!(t, before);
        }
    }
    assert_eq!(
        list(TransactionQuery {
            platform_ingested: Some(true),
            ..q(100)
        })
        .await,
        ["X0", "X1", "X2", "X3", "X4"]
    );
    assert_eq!(
        list(TransactionQuery {
            platform_ingested: Some(false),
            ..q(100)
        })
        .await,
        ["Y0", "Y1", "Y2"]
    );
    assert!(!all_transactions(&store, &other).await[0].platform_ingested);
    // Nothing new: 0, the rows keep their first ingestion time, the sync time moves.
    let later = at + secs(30);
    assert_eq!(store.mark_ingested(x.id, later).await.unwrap(), 0);
    assert_eq!(
        stored_account(&store, &c, &x).await.last_synced_at,
        Some(later)
    );
    assert!(all_transactions(&store, &c)
        .await
        .iter()
        .filter(|t| t.bank_feed_account_id == x.id)
        .all(|t| t.ingested_at == Some(at)));
    // A later batch is not ingested until the next sync.
    run_batch(
        &store,
        &c,
        &x,
        &batch(&x, None, vec![tx("X5", p(5), "1")]),
        later,
    )
    .await
    .1
    .unwrap();
    assert_eq!(
        list(TransactionQuery {
            bank_feed_account_id: Some(x.id),
            platform_ingested: Some(false),
            ..q(100)
        })
        .await,
        ["X5"]
    );
    assert_eq!(store.mark_ingested(x.id, later + secs(1)).await.unwrap(), 1);
}

/// A job's transactions, and how many of them the platform has taken (`job_ingestion`).
pub async fn a_jobs_ingestion_counts_its_own_transactions(store: DynStore) {
    let (_, c, x) = intuit_account(&store, "X").await;
    let now = t0();
    let first = batch(
        &x,
        None,
        vec![tx("A", now - days(2), "-1"), tx("B", now - days(1), "-2")],
    );
    let (j1, _) = run_batch(&store, &c, &x, &first, now).await;
    let stored = store.job_ingestion(j1.id).await.unwrap();
    assert_eq!(
        (stored.stored, stored.ingested, stored.last_ingested_at),
        (2, 0, None)
    );
    let at = now + secs(30);
    store.mark_ingested(x.id, at).await.unwrap();
    // A second job re-sends B (a duplicate: still the first job's) and adds C.
    let second = batch(
        &x,
        None,
        vec![
            tx("B", now - days(1), "-2"),
            tx("C", now - TimeDelta::hours(1), "-3"),
        ],
    );
    let (j2, _) = run_batch(&store, &c, &x, &second, now + secs(40)).await;
    let one = store.job_ingestion(j1.id).await.unwrap();
    assert_eq!(
        (one.stored, one.ingested, one.last_ingested_at),
        (2, 2, Some(at))
    );
    let two = store.job_ingestion(j2.id).await.unwrap();
    assert_eq!((two.stored, two.ingested), (1, 0));
    let none = store
        .job_ingestion(bankfeeds_domain::JobId::new())
        .await
        .unwrap();
    assert_eq!(none, bankfeeds_domain::job::JobIngestion::default());
}
