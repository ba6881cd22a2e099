//! `EventStore`: the outbox. Every change appends its events in commit order, per organisation.

use bankfeeds_domain::account::{AccountPatch, FeedState, FeedStatus};
use bankfeeds_domain::{Clock, Platform, SystemClock};
use bankfeeds_store::DynStore;

use crate::helpers::{create_fresh as create, draft_account as account, setup};

pub async fn account_changes_append_events(store: DynStore) {
    let c = setup(&store, Platform::SageBusinessCloud).await;
    let now = SystemClock.now();
    let a = create(&store, &account(&c, "ACC-1", now)).await;
    store
        .update_account(c.id, a.id, &AccountPatch::default(), now, None)
        .await
        .unwrap();
    store
        .set_feed_state(
            a.id,
            &FeedState {
                feed_status: FeedStatus::Active,
                transaction_ready: true,
                transaction_start_date: None,
            },
            now,
        )
        .await
        .unwrap();
    store.delete_account(c.id, a.id, now).await.unwrap();
    let events = store.list_events(c.org_id, 0, 100).await.unwrap();
    let types: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        types,
        [
            "bank_feed_account.created",
            "bank_feed_account.updated",
            "bank_feed_account.feed_changed",
            "bank_feed_account.deleted"
        ]
    );
    assert!(events
        .iter()
        .all(|e| e.resource_id == a.id.to_string() && e.connection_id == Some(c.id)));
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(events[2].payload["feed_status"], "active");
    let after = store
        .list_events(c.org_id, events[1].seq, 100)
        .await
        .unwrap();
    assert_eq!(after.len(), 2);
    // A failed write appends nothing.
    let dup = account(&c, "ACC-2", now);
    create(&store, &dup).await;
    let before = store.list_events(c.org_id, 0, 100).await.unwrap().len();
    assert!(store.create_account(&dup, false, None).await.is_err());
    assert_eq!(
        store.list_events(c.org_id, 0, 100).await.unwrap().len(),
        before
    );
}
