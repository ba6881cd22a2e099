//! The events feed on PostgreSQL never steps past an event still in flight (issue 15). A
//! sequence hands out `seq` before commit, so a later `seq` can commit first; these tests hold
//! a transaction open on a raw connection while the store commits another event, and check
//! that a reader paging the feed never gets a cursor past the open one's event. (SQLite's one
//! writer commits in `seq` order; nothing there can be in flight behind a visible row.)

use std::time::{Duration, Instant};

use bankfeeds_domain::webhook::EventCursor;
use bankfeeds_domain::{Clock, NewConnection, NewOrg, OrgId, Platform, SystemClock};
use bankfeeds_store::{DynStore, Event};
use sqlx::{Connection, Executor, PgConnection};

async fn feed(store: &DynStore, org: OrgId) -> Vec<(EventCursor, Event)> {
    store
        .events_feed(org, EventCursor::default(), &[], 100)
        .await
        .unwrap()
}

/// The feed once it holds `n` events. Other tests' transactions on the same server may hold it
/// back for a moment (the horizon is the server's oldest running transaction).
async fn feed_of(store: &DynStore, org: OrgId, n: usize) -> Vec<(EventCursor, Event)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = feed(store, org).await;
        if found.len() >= n || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn org_of(store: &DynStore) -> OrgId {
    let (org, _) = NewOrg::generate("Feed Bank", SystemClock.now()).unwrap();
    store.create_org(&org).await.unwrap();
    org.org.id
}

/// Commits one event (`connection.created`) through the store.
async fn commit_event(store: &DynStore, org: OrgId) {
    let (c, _) = NewConnection::generate(org, Platform::Xero, None, SystemClock.now()).unwrap();
    store.create_connection(&c, None).await.unwrap();
}

async fn insert_event(raw: &mut PgConnection, org: OrgId, resource: &str) {
    raw.execute(
        sqlx::query(
            "INSERT INTO events (org_id, event_type, resource_id, payload, created_at)
             VALUES ($1, 'connection.deleted', $2, '{}', now())",
        )
        .bind(org.as_uuid())
        .bind(resource),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_later_seq_committed_first_waits_for_the_earlier_one() {
    let Some(db) = bankfeeds_store_tests::backends::postgres("feed_later_seq").await else {
        return;
    };
    let store = &db.store;
    let org = org_of(store).await;
    let mut raw = PgConnection::connect(&db.url).await.unwrap();
    raw.execute("BEGIN").await.unwrap();
    // The open transaction takes the smaller seq…
    insert_event(&mut raw, org, "in-flight").await;
    // …and a later one commits a larger seq first.
    commit_event(store, org).await;
    assert!(
        feed(store, org).await.is_empty(),
        "an event is listed while one before it is in flight"
    );
    raw.execute("COMMIT").await.unwrap();
    let all = feed_of(store, org, 2).await;
    let resources: Vec<_> = all.iter().map(|(_, e)| e.resource_id.as_str()).collect();
    assert_eq!(resources.len(), 2, "{resources:?}");
    assert_eq!(resources[0], "in-flight");
    assert!(all[0].0 < all[1].0);
}

#[tokio::test]
async fn an_older_transaction_writing_a_larger_seq_is_not_skipped() {
    let Some(db) = bankfeeds_store_tests::backends::postgres("feed_older_tx").await else {
        return;
    };
    let store = &db.store;
    let org = org_of(store).await;
    let mut raw = PgConnection::connect(&db.url).await.unwrap();
    raw.execute("BEGIN").await.unwrap();
    // The open transaction gets its id first (it writes something else first)…
    raw.execute("SELECT pg_current_xact_id()").await.unwrap();
    // …another commits an event, and a reader takes a cursor after it if it can…
    commit_event(store, org).await;
    let seen = feed(store, org).await;
    assert!(seen.is_empty(), "listed past an older open transaction");
    // …then the open one writes its event, with a larger seq, and commits.
    insert_event(&mut raw, org, "older-tx").await;
    raw.execute("COMMIT").await.unwrap();
    let all = feed_of(store, org, 2).await;
    assert_eq!(all.len(), 2);
    // Feed order is transaction order: the older transaction's event first, although its seq
    // is larger. A reader paging by seq alone would have stepped past it.
    assert_eq!(all[0].1.resource_id, "older-tx");
    assert!(all[0].1.seq > all[1].1.seq);
    assert!(all[0].0 < all[1].0);
}
