//! `StatusStore`: the hub-wide figures of `bankfeeds status`.

use bankfeeds_domain::console::FeedCounts;
use bankfeeds_domain::Platform;
use bankfeeds_store::DynStore;

use crate::helpers::{
    account, active, batch, connection, days, job, org, run_batch, secs, submit, t0, tx,
};

pub async fn status_counts_migrations_jobs_and_feeds_across_organisations(store: DynStore) {
    let known = store.known_migrations();
    assert!(known.last().is_some_and(|v| *v >= 29), "{known:?}");
    assert!(known.windows(2).all(|w| w[0] < w[1]), "{known:?}");
    assert_eq!(store.applied_migrations().await.unwrap(), known);

    let empty = store.queue_status().await.unwrap();
    assert!(empty.jobs_by_status.is_empty(), "{empty:?}");
    assert_eq!(empty.oldest_unfinished_job, None);
    assert_eq!(empty.feeds, FeedCounts::default());

    let now = t0();
    let a = connection(&store, org(&store).await, Platform::Xero).await;
    let b = connection(&store, org(&store).await, Platform::IntuitBankFeeds).await;
    let linked = account(&store, &a, "chk-1").await;
    store
        .set_feed_state(linked.id, &active(None), now)
        .await
        .unwrap();
    let waiting = account(&store, &b, "sav-1").await;
    let _also_waiting = account(&store, &b, "sav-2").await;

    // A finished job, older than any unfinished one: not the oldest unfinished.
    let earlier = now - days(2);
    let b1 = batch(&linked, None, vec![tx("t1", earlier - days(1), "1.00")]);
    let (_, ok) = run_batch(&store, &a, &linked, &b1, earlier).await;
    assert!(ok.is_ok(), "{ok:?}");
    let first = submit(&store, &job(&a, Some(&linked), now)).await;
    submit(&store, &job(&b, Some(&waiting), now + secs(60))).await;

    let s = store.queue_status().await.unwrap();
    let count = |status: &str| {
        s.jobs_by_status
            .iter()
            .find(|(k, _)| k == status)
            .map_or(0, |(_, n)| *n)
    };
    assert_eq!(count("success"), 1, "{s:?}");
    assert_eq!(count("prequeued") + count("pending"), 2, "{s:?}");
    assert_eq!(count("failure"), 0, "{s:?}");
    assert_eq!(s.oldest_unfinished_job, Some(first.created_at));
    assert_eq!(s.deliveries_pending, 0);
    assert_eq!(
        s.feeds,
        FeedCounts {
            linked: 1,
            pending: 2
        }
    );
}
