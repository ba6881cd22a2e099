//! `AccountStore`: bank feed accounts, scoped to their connection.

use std::collections::HashSet;

use bankfeeds_domain::account::{
    AccountPatch, AccountQuery, AccountSortField, AccountSortKey, CompareOp, FeedStatus,
    SortDirection, TimeFilter,
};
use bankfeeds_domain::{Clock, Platform, SystemClock};
use bankfeeds_store::{DynStore, Outcome, StoreError};
use chrono::TimeDelta;

use crate::helpers::{
    active, assert_feed_gone, connection, create_fresh as create, draft_account as account, events,
    linked_feed, secs, setup, t0,
};

pub async fn accounts_round_trip(store: DynStore) {
    let qbo = setup(&store, Platform::IntuitBankFeeds).await;
    let a = create(&store, &account(&qbo, "0674101002388", SystemClock.now())).await;
    assert!(
        a.transaction_ready,
        "Intuit feeds take transactions from creation"
    );
    assert_eq!(a.feed_status, FeedStatus::Inactive);
    let got = store.get_account(qbo.id, a.id).await.unwrap().unwrap();
    assert_eq!(
        got, a,
        "every field, amounts exactly, survives the round trip"
    );
    assert_eq!(got.current_balance.unwrap().to_string(), "1833.21");

    let xero = connection(&store, qbo.org_id, Platform::Xero).await;
    let b = create(&store, &account(&xero, "0674101002388", SystemClock.now())).await;
    assert!(
        !b.transaction_ready,
        "Xero feeds wait for the customer to link"
    );
    assert_eq!(
        store.get_account(qbo.id, b.id).await.unwrap(),
        None,
        "scoped to its connection"
    );
}

pub async fn internal_ids_are_unique_per_connection_unless_overridden(store: DynStore) {
    let c = setup(&store, Platform::SageIntacct).await;
    let now = SystemClock.now();
    let first = create(&store, &account(&c, "ACC-1", now)).await;
    let linked = store
        .set_feed_state(first.id, &active(Some(now)), now)
        .await
        .unwrap();

    let again = account(&c, "ACC-1", now + TimeDelta::seconds(1));
    assert!(matches!(
        store.create_account(&again, false, None).await,
        Err(StoreError::Conflict("bank_feed_accounts_internal_id_key"))
    ));
    let mut replacement = again.clone();
    replacement.details.name = Some("Renamed".into());
    let Outcome::Done((overridden, created)) = store
        .create_account(&replacement, true, None)
        .await
        .unwrap()
    else {
        panic!("override is not a replay")
    };
    assert!(!created);
    assert_eq!(
        overridden.id, first.id,
        "override keeps the account's identity"
    );
    assert_eq!(overridden.details.name.as_deref(), Some("Renamed"));
    assert_eq!(
        overridden.feed_status,
        FeedStatus::Active,
        "and the platform's feed state"
    );
    assert_eq!(
        overridden.transaction_start_date,
        linked.transaction_start_date
    );
    assert_eq!(
        store.get_account(c.id, first.id).await.unwrap().unwrap(),
        overridden
    );

    // Another connection may use the same FI id; a deleted account frees it.
    let other = connection(&store, c.org_id, Platform::SageIntacct).await;
    create(&store, &account(&other, "ACC-1", now)).await;
    store.delete_account(c.id, first.id, now).await.unwrap();
    assert_eq!(store.get_account(c.id, first.id).await.unwrap(), None);
    assert!(matches!(
        store.delete_account(c.id, first.id, now).await,
        Err(StoreError::NotFound)
    ));
    let reborn = create(&store, &account(&c, "ACC-1", now)).await;
    assert_ne!(reborn.id, first.id);
}

pub async fn parents_must_be_on_the_same_connection(store: DynStore) {
    let c = setup(&store, Platform::Netsuite).await;
    let other = connection(&store, c.org_id, Platform::Netsuite).await;
    let now = SystemClock.now();
    let foreign_parent = create(&store, &account(&other, "CARD-PROGRAM", now)).await;
    let mut child = account(&c, "CARD-1", now);
    child.parent_bank_feed_account_id = Some(foreign_parent.id);
    assert!(matches!(
        store.create_account(&child, false, None).await,
        Err(StoreError::Invalid {
            code: "PARENT_ACCOUNT_NOT_FOUND",
            ..
        })
    ));
    let parent = create(&store, &account(&c, "CARD-PROGRAM", now)).await;
    child.parent_bank_feed_account_id = Some(parent.id);
    let child = create(&store, &child).await;
    assert_eq!(child.parent_bank_feed_account_id, Some(parent.id));
    let own = AccountPatch {
        parent_bank_feed_account_id: Some(Some(child.id)),
        ..AccountPatch::default()
    };
    assert!(matches!(
        store.update_account(c.id, child.id, &own, now, None).await,
        Err(StoreError::Invalid {
            code: "PARENT_ACCOUNT_NOT_FOUND",
            ..
        })
    ));
}

pub async fn patches_merge_and_clear_fields(store: DynStore) {
    let c = setup(&store, Platform::Xero).await;
    let now = SystemClock.now();
    let a = create(&store, &account(&c, "ACC-1", now)).await;
    let mut details = serde_json::Map::new();
    details.insert("credit_limit".into(), serde_json::json!(5000.50));
    details.insert("routing_number".into(), serde_json::Value::Null);
    let patch = AccountPatch {
        current_balance: Some(None),
        details,
        ..AccountPatch::default()
    };
    let later = now + TimeDelta::seconds(5);
    let Outcome::Done(patched) = store
        .update_account(c.id, a.id, &patch, later, None)
        .await
        .unwrap()
    else {
        panic!("not a replay")
    };
    assert_eq!(patched.current_balance, None);
    assert_eq!(patched.details.credit_limit.unwrap().to_string(), "5000.5");
    assert_eq!(patched.details.routing_number, None);
    assert_eq!(
        patched.details.name.as_deref(),
        Some("Operating account"),
        "untouched fields stay"
    );
    assert_eq!(patched.updated_at, later);
    assert_eq!(
        store.get_account(c.id, a.id).await.unwrap().unwrap(),
        patched
    );

    let mut bad = serde_json::Map::new();
    bad.insert("credit_limit".into(), serde_json::json!("lots"));
    let bad = AccountPatch {
        details: bad,
        ..AccountPatch::default()
    };
    assert!(matches!(
        store.update_account(c.id, a.id, &bad, later, None).await,
        Err(StoreError::Invalid {
            code: "INVALID_FIELD_VALUE",
            ..
        })
    ));
    assert_eq!(
        store.get_account(c.id, a.id).await.unwrap().unwrap(),
        patched,
        "nothing half-applied"
    );
    let missing = bankfeeds_domain::BankFeedAccountId::new();
    assert!(matches!(
        store
            .update_account(c.id, missing, &AccountPatch::default(), later, None)
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn account_lists_filter_sort_and_page(store: DynStore) {
    let c = setup(&store, Platform::IntuitBankFeeds).await;
    let base = SystemClock.now();
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(
            create(
                &store,
                &account(&c, &format!("ACC-{i}"), base + TimeDelta::seconds(i)),
            )
            .await,
        );
    }
    // Two share one updated_at: the id breaks the tie, so neither is skipped nor repeated.
    let tie = create(
        &store,
        &account(&c, "ACC-TIE", base + TimeDelta::seconds(3)),
    )
    .await;
    created.push(tie);

    let walk = |direction, filters: Vec<TimeFilter>| {
        let store = store.clone();
        async move {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let q = AccountQuery {
                    filters: filters.clone(),
                    sort: AccountSortField::UpdatedAt,
                    direction,
                    after,
                    limit: 3,
                };
                let page = store.list_accounts(c.id, &q).await.unwrap();
                seen.extend(page.items.iter().map(|a| a.id));
                if !page.has_more {
                    return seen;
                }
                after = page
                    .items
                    .last()
                    .map(|a| AccountSortKey::of(a, AccountSortField::UpdatedAt));
            }
        }
    };
    let mut expected: Vec<_> = created.iter().map(|a| (a.updated_at, a.id)).collect();
    expected.sort();
    let asc: Vec<_> = expected.iter().map(|(_, id)| *id).collect();
    assert_eq!(walk(SortDirection::Asc, vec![]).await, asc);
    let mut desc = asc.clone();
    desc.reverse();
    assert_eq!(walk(SortDirection::Desc, vec![]).await, desc);
    assert_eq!(
        walk(SortDirection::Desc, vec![])
            .await
            .iter()
            .collect::<HashSet<_>>()
            .len(),
        8
    );

    let from = base + TimeDelta::seconds(2);
    let to = base + TimeDelta::seconds(4);
    let filtered = walk(
        SortDirection::Asc,
        vec![
            TimeFilter {
                field: AccountSortField::UpdatedAt,
                op: CompareOp::Ge,
                value: from,
            },
            TimeFilter {
                field: AccountSortField::UpdatedAt,
                op: CompareOp::Lt,
                value: to,
            },
        ],
    )
    .await;
    let want: Vec<_> = expected
        .iter()
        .filter(|(t, _)| *t >= from && *t < to)
        .map(|(_, id)| *id)
        .collect();
    assert_eq!(filtered.len(), 3);
    assert_eq!(filtered, want);
    // Never synced: a last_synced_at filter matches nothing.
    let synced = walk(
        SortDirection::Asc,
        vec![TimeFilter {
            field: AccountSortField::LastSyncedAt,
            op: CompareOp::Gt,
            value: base,
        }],
    )
    .await;
    assert!(synced.is_empty());
}

pub async fn disconnected_accounts_leave_every_company(store: DynStore) {
    let (books, c, feed) = linked_feed(&store, Platform::Xero, "XERO-D").await;
    let at = t0() + secs(9);
    let done = store.disconnect_account(c.id, feed.id, at).await.unwrap();
    assert_eq!(
        (done.feed_status, done.transaction_ready, done.updated_at),
        (FeedStatus::Inactive, false, at)
    );
    assert_eq!(done.transaction_start_date, feed.transaction_start_date);
    assert_feed_gone(&store, &books, &feed, at).await;
    let other = connection(&store, c.org_id, Platform::Xero).await;
    assert!(
        matches!(
            store.disconnect_account(other.id, feed.id, at).await,
            Err(StoreError::NotFound)
        ),
        "only on its own connection"
    );
    let feed_events: Vec<_> = events(&store, c.org_id)
        .await
        .into_iter()
        .filter(|e| e.resource_id == feed.id.to_string())
        .collect();
    let kinds: Vec<_> = feed_events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds[kinds.len() - 2..],
        [
            "bank_feed_account.feed_changed",
            "bank_feed_account.deactivated"
        ]
    );
    assert_eq!(
        feed_events[kinds.len() - 2].payload["feed_status"],
        serde_json::json!("inactive")
    );
}

/// A PATCH that pauses the feed (`deactivate_feed`, Rutter's `status: inactive`) applies its
/// other fields and takes the feed off every company, in one transaction.
pub async fn patches_may_pause_the_feed(store: DynStore) {
    let (books, c, feed) = linked_feed(&store, Platform::Netsuite, "NS-P").await;
    let at = t0() + secs(9);
    let mut patch = AccountPatch {
        deactivate_feed: true,
        ..AccountPatch::default()
    };
    patch
        .details
        .insert("name".into(), serde_json::json!("Paused"));
    let Outcome::Done(done) = store
        .update_account(c.id, feed.id, &patch, at, None)
        .await
        .unwrap()
    else {
        panic!("no key, no replay")
    };
    assert_eq!(
        (
            done.feed_status,
            done.transaction_ready,
            done.details.name.as_deref()
        ),
        (FeedStatus::Inactive, false, Some("Paused"))
    );
    assert_feed_gone(&store, &books, &feed, at).await;
    let stored = store.get_account(c.id, feed.id).await.unwrap().unwrap();
    assert_eq!(stored, done);
}

pub async fn accounts_are_never_seen_through_another_connection(store: DynStore) {
    let c = setup(&store, Platform::Xero).await;
    let sibling = connection(&store, c.org_id, Platform::Xero).await;
    let foreign = setup(&store, Platform::Xero).await;
    let now = SystemClock.now();
    let mine = create(&store, &account(&c, "ACC-1", now)).await;
    let sib = create(&store, &account(&sibling, "ACC-1", now)).await;
    let theirs = create(&store, &account(&foreign, "ACC-1", now)).await;
    let q = AccountQuery {
        filters: vec![],
        sort: AccountSortField::UpdatedAt,
        direction: SortDirection::Asc,
        after: None,
        limit: 50,
    };
    assert_eq!(
        store.list_accounts(c.id, &q).await.unwrap().items,
        vec![mine.clone()]
    );
    assert_eq!(
        store.list_accounts(foreign.id, &q).await.unwrap().items,
        vec![theirs.clone()]
    );
    let later = now + secs(1);
    for (through, a) in [
        (c.id, &sib),
        (c.id, &theirs),
        (sibling.id, &mine),
        (foreign.id, &mine),
    ] {
        assert_eq!(store.get_account(through, a.id).await.unwrap(), None);
        assert!(matches!(
            store
                .update_account(through, a.id, &AccountPatch::default(), later, None)
                .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.disconnect_account(through, a.id, later).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.delete_account(through, a.id, later).await,
            Err(StoreError::NotFound)
        ));
    }
    for (through, a) in [(c.id, &mine), (sibling.id, &sib), (foreign.id, &theirs)] {
        assert_eq!(
            store.get_account(through, a.id).await.unwrap().as_ref(),
            Some(a),
            "untouched"
        );
    }
}

pub async fn feed_states_apply_only_to_live_accounts(store: DynStore) {
    let c = setup(&store, Platform::Xero).await;
    let now = SystemClock.now();
    let gone = create(&store, &account(&c, "ACC-1", now)).await;
    store.delete_account(c.id, gone.id, now).await.unwrap();
    let events = store.list_events(c.org_id, 0, 100).await.unwrap().len();
    let linked = active(Some(now));
    for id in [gone.id, bankfeeds_domain::BankFeedAccountId::new()] {
        assert!(matches!(
            store.set_feed_state(id, &linked, now + secs(1)).await,
            Err(StoreError::NotFound)
        ));
    }
    assert_eq!(
        store.list_events(c.org_id, 0, 100).await.unwrap().len(),
        events,
        "a refused change records nothing"
    );
}
