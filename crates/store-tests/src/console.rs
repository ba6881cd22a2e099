//! The console's reads: counts for the overview, the search, an organisation's feed and its
//! jobs. Each sees only its own organisation's data.

use bankfeeds_domain::console::{ConnectionCount, ConnectionState, FeedCounts};
use bankfeeds_domain::{Platform, Timestamp};
use bankfeeds_store::DynStore;

use crate::helpers::{
    account, active, batch, connection, days, named_org, run_batch, secs, submit, t0, tx,
};

fn day(t: Timestamp) -> chrono::NaiveDate {
    t.date_naive()
}

pub async fn console_reads_count_and_find_only_their_organisations_data(store: DynStore) {
    let now = t0();
    let a = named_org(&store, "Bank A").await;
    let b = named_org(&store, "Bank B").await;
    let xero = connection(&store, a, Platform::Xero).await;
    let xero_pending = connection(&store, a, Platform::Xero).await;
    let intuit = connection(&store, a, Platform::IntuitBankFeeds).await;
    let other = connection(&store, b, Platform::Xero).await;

    let linked = account(&store, &xero, "chk-1").await;
    store
        .set_feed_state(linked.id, &active(None), now)
        .await
        .unwrap();
    let waiting = account(&store, &xero_pending, "sav-2").await;
    let _theirs = account(&store, &other, "chk-1").await;

    assert_eq!(
        store.connection_counts(a).await.unwrap(),
        vec![
            ConnectionCount {
                platform: Platform::IntuitBankFeeds,
                state: ConnectionState::Pending,
                count: 1
            },
            ConnectionCount {
                platform: Platform::Xero,
                state: ConnectionState::Linked,
                count: 1
            },
            ConnectionCount {
                platform: Platform::Xero,
                state: ConnectionState::Pending,
                count: 1
            },
        ]
    );
    assert_eq!(
        store.feed_counts(a).await.unwrap(),
        FeedCounts {
            linked: 1,
            pending: 1
        }
    );
    assert_eq!(
        store.feed_counts(b).await.unwrap(),
        FeedCounts {
            linked: 0,
            pending: 1
        }
    );

    // The search: every row of the organisation, then by internal id; never another's.
    let all = store.search_connections(a, None, 0, 100).await.unwrap();
    assert_eq!(all.len(), 3, "two feeds and a connection without one");
    assert!(all.iter().all(|h| h.connection.org_id == a));
    assert!(all
        .iter()
        .any(|h| h.connection.id == intuit.id && h.account.is_none()));
    let found = store
        .search_connections(a, Some("CHK-"), 0, 100)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].account.as_ref().unwrap().id, linked.id);
    assert!(
        store
            .search_connections(a, Some("%"), 0, 100)
            .await
            .unwrap()
            .is_empty(),
        "a % is matched as itself"
    );
    let paged = store.search_connections(a, None, 1, 1).await.unwrap();
    assert_eq!(paged.len(), 1);
    assert_eq!(paged[0].connection.id, all[1].connection.id);

    assert_eq!(
        store
            .find_org_account(a, waiting.id)
            .await
            .unwrap()
            .unwrap()
            .id,
        waiting.id
    );
    assert_eq!(store.find_org_account(b, waiting.id).await.unwrap(), None);

    // Two batches today, one refused; the platform ingests them the next day.
    let (_, ok) = run_batch(
        &store,
        &xero,
        &linked,
        &batch(
            &linked,
            None,
            vec![
                tx("t1", now - days(2), "1.00"),
                tx("t2", now - days(2), "2.00"),
            ],
        ),
        now,
    )
    .await;
    assert!(ok.is_ok());
    let (failed, refused) = run_batch(
        &store,
        &xero,
        &linked,
        &batch(&linked, None, vec![tx("t1", now - days(2), "9.99")]),
        now + secs(1),
    )
    .await;
    assert!(refused.is_err(), "a conflicting batch is refused");
    let pending = submit(
        &store,
        &crate::helpers::job(&xero, Some(&linked), now + secs(2)),
    )
    .await;
    store.mark_ingested(linked.id, now + days(1)).await.unwrap();

    let counts = store.daily_counts(a, now - days(13)).await.unwrap();
    assert_eq!(counts.len(), 2, "{counts:?}");
    assert_eq!(
        (counts[0].day, counts[0].pushed, counts[0].ingested),
        (day(now), 2, 0)
    );
    assert_eq!(
        (counts[1].day, counts[1].pushed, counts[1].ingested),
        (day(now + days(1)), 0, 2)
    );
    assert!(store
        .daily_counts(b, now - days(13))
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .daily_counts(a, now + days(2))
        .await
        .unwrap()
        .is_empty());

    assert_eq!(store.count_failed_jobs(a, now - days(1)).await.unwrap(), 1);
    assert_eq!(store.count_failed_jobs(a, now + secs(2)).await.unwrap(), 0);
    assert_eq!(store.count_failed_jobs(b, now - days(1)).await.unwrap(), 0);

    let failures = store.list_failed_jobs(a, None, 10).await.unwrap();
    assert_eq!(
        failures.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![failed.id]
    );
    assert_eq!(
        store
            .list_failed_jobs(a, Some(linked.id), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .list_failed_jobs(a, Some(waiting.id), 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .list_failed_jobs(b, None, 10)
        .await
        .unwrap()
        .is_empty());

    let jobs = store.list_account_jobs(a, linked.id, 10).await.unwrap();
    let ids: Vec<_> = jobs.iter().map(|j| j.id).collect();
    assert_eq!(ids[0], pending.id, "newest first");
    assert_eq!(ids[1], failed.id);
    assert_eq!(jobs.len(), 3);
    assert!(jobs[1].response.is_some());
    assert!(store
        .list_account_jobs(b, linked.id, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .list_account_jobs(a, linked.id, 1)
            .await
            .unwrap()
            .len(),
        1
    );
}
