//! `EventStore`: the outbox. Every change appends its events in commit order, per organisation.

use bankfeeds_domain::account::AccountPatch;
use bankfeeds_domain::{BankFeedAccount, Clock, Connection, Platform, SystemClock, Timestamp};
use bankfeeds_store::DynStore;

use crate::helpers::{active, create_fresh as create, draft_account as account, setup};

/// The events an account's life in `account_lifecycle` writes, after its connection's.
pub(crate) const LIFECYCLE_EVENTS: [&str; 6] = [
    "connection.created",
    "bank_feed_account.created",
    "bank_feed_account.updated",
    "bank_feed_account.feed_changed",
    "bank_feed_account.activated",
    "bank_feed_account.deleted",
];

/// Creates the account `ACC-1` of `c`, updates it, activates its feed and deletes it (the
/// events `LIFECYCLE_EVENTS` names); returns it as created.
pub(crate) async fn account_lifecycle(
    store: &DynStore,
    c: &Connection,
    now: Timestamp,
) -> BankFeedAccount {
    let a = create(store, &account(c, "ACC-1", now)).await;
    store
        .update_account(c.id, a.id, &AccountPatch::default(), now, None)
        .await
        .unwrap();
    store
        .set_feed_state(a.id, &active(None), now)
        .await
        .unwrap();
    store.delete_account(c.id, a.id, now).await.unwrap();
    a
}

pub async fn account_changes_append_events(store: DynStore) {
    let c = setup(&store, Platform::SageBusinessCloud).await;
    let now = SystemClock.now();
    let a = account_lifecycle(&store, &c, now).await;
    let events = store.list_events(c.org_id, 0, 100).await.unwrap();
    let types: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(types, LIFECYCLE_EVENTS);
    assert!(events[1..]
        .iter()
        .all(|e| e.resource_id == a.id.to_string() && e.connection_id == Some(c.id)));
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(events[3].payload["feed_status"], "active");
    let after = store
        .list_events(c.org_id, events[2].seq, 100)
        .await
        .unwrap();
    assert_eq!(after.len(), 3);
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

pub async fn organisations_never_see_each_others_events(store: DynStore) {
    let a = setup(&store, Platform::Xero).await;
    let b = setup(&store, Platform::Xero).await;
    let now = SystemClock.now();
    // Interleaved writes of two organisations.
    let (mut made_a, mut made_b) = (Vec::new(), Vec::new());
    for i in 0..3 {
        made_a.push(
            create(&store, &account(&a, &format!("A-{i}"), now))
                .await
                .id
                .to_string(),
        );
        made_b.push(
            create(&store, &account(&b, &format!("B-{i}"), now))
                .await
                .id
                .to_string(),
        );
    }
    // Each organisation's first event is its connection's creation; the accounts' follow.
    let accounts_only = |mut events: Vec<bankfeeds_store::Event>| {
        events.retain(|e| e.kind != bankfeeds_store::EventKind::ConnectionCreated);
        events
    };
    let ea = accounts_only(store.list_events(a.org_id, 0, 100).await.unwrap());
    let eb = accounts_only(store.list_events(b.org_id, 0, 100).await.unwrap());
    for (events, c, made) in [(&ea, &a, &made_a), (&eb, &b, &made_b)] {
        assert!(events
            .iter()
            .all(|e| e.org_id == c.org_id && e.connection_id == Some(c.id)));
        let ids: Vec<_> = events.iter().map(|e| e.resource_id.clone()).collect();
        assert_eq!(&ids, made, "only its own, in commit order");
        assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
    }
    // One sequence for every organisation: commit order across them too.
    for i in 0..3 {
        assert!(ea[i].seq < eb[i].seq);
        if i + 1 < 3 {
            assert!(eb[i].seq < ea[i + 1].seq);
        }
    }
    // A cursor taken from another organisation's event still filters by sequence only.
    assert_eq!(
        store.list_events(a.org_id, eb[0].seq, 100).await.unwrap(),
        ea[1..].to_vec()
    );
    assert!(store
        .list_events(bankfeeds_domain::OrgId::new(), 0, 100)
        .await
        .unwrap()
        .is_empty());
}

pub async fn event_pages_walk_every_event_once_in_commit_order(store: DynStore) {
    let c = setup(&store, Platform::Xero).await;
    let now = SystemClock.now();
    // With the connection's creation, seven events.
    for i in 0..6 {
        create(&store, &account(&c, &format!("ACC-{i}"), now)).await;
    }
    let all = store.list_events(c.org_id, 0, 1000).await.unwrap();
    assert_eq!(all.len(), 7);
    let mut seen = Vec::new();
    let mut after = 0;
    let mut pages = 0;
    loop {
        let page = store.list_events(c.org_id, after, 3).await.unwrap();
        assert!(page.len() <= 3, "the limit is kept");
        let Some(last) = page.last() else { break };
        after = last.seq;
        pages += 1;
        seen.extend(page);
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, all, "every event once, oldest first");
    // `after` is exclusive: from an event's own sequence number, it is left out.
    assert_eq!(
        store.list_events(c.org_id, all[3].seq, 1000).await.unwrap(),
        all[4..].to_vec()
    );
    assert!(store
        .list_events(c.org_id, all[6].seq, 1000)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.list_events(c.org_id, 0, 1).await.unwrap(),
        all[..1].to_vec()
    );
}
