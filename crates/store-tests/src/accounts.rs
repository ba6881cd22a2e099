//! Bank feed account cases.

use std::collections::HashSet;

use bankfeeds_domain::account::{
    AccountPatch, AccountQuery, AccountSortField, AccountSortKey, BankAccountType, CompareOp,
    FeedState, FeedStatus, SortDirection, TimeFilter,
};
use bankfeeds_domain::profile::{Door, PlatformProfile};
use bankfeeds_domain::{
    BankFeedAccount, Clock, Connection, Currency, NewConnection, NewOrg, OrgId, Platform,
    SystemClock, Timestamp,
};
use bankfeeds_store::{DynStore, Idem, IdempotencyKey, Outcome, StoreError, StoredResponse};
use chrono::TimeDelta;

async fn setup(store: &DynStore, platform: Platform) -> Connection {
    let (org, _) = NewOrg::generate("Demo Bank", SystemClock.now()).unwrap();
    store.create_org(&org).await.unwrap();
    connection(store, org.org.id, platform).await
}

async fn connection(store: &DynStore, org: OrgId, platform: Platform) -> Connection {
    let (c, _) = NewConnection::generate(org, platform, None, SystemClock.now()).unwrap();
    store.create_connection(&c, None).await.unwrap();
    c.connection
}

fn account(c: &Connection, internal_id: &str, now: Timestamp) -> BankFeedAccount {
    let profile = PlatformProfile::for_platform(c.platform, Door::Rutter);
    let mut a = BankFeedAccount::new(
        c.org_id,
        c.id,
        &profile,
        internal_id.to_owned(),
        BankAccountType::Bank,
        Currency::from_code("USD").unwrap(),
        now,
    );
    a.current_balance = Some("1833.21".parse().unwrap());
    a.details.name = Some("Operating account".into());
    a.details.available_balance = Some("1546.23".parse().unwrap());
    a.details.routing_number = Some("123456789".into());
    a
}

async fn create(store: &DynStore, a: &BankFeedAccount) -> BankFeedAccount {
    match store.create_account(a, false, None).await.unwrap() {
        Outcome::Done((stored, true)) => stored,
        other => panic!("expected a fresh create, got {other:?}"),
    }
}

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
        .set_feed_state(
            first.id,
            &FeedState {
                feed_status: FeedStatus::Active,
                transaction_ready: true,
                transaction_start_date: Some(now),
            },
            now,
        )
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

pub async fn idempotent_account_writes_replay_and_refuse_reuse(store: DynStore) {
    let c = setup(&store, Platform::Xero).await;
    let now = SystemClock.now();
    let key = IdempotencyKey {
        org_id: c.org_id,
        key: "k-1".into(),
        fingerprint: "fp-a".into(),
    };
    let render = |r: &(BankFeedAccount, bool)| StoredResponse {
        status: 200,
        body: format!("created {}", r.0.id),
    };
    let idem = Idem {
        key: &key,
        render: &render,
    };
    let Outcome::Done((first, true)) = store
        .create_account(&account(&c, "ACC-1", now), false, Some(idem))
        .await
        .unwrap()
    else {
        panic!("first use does the work")
    };
    // The same key again, even for a request that would now conflict, replays the first answer.
    let replay = store
        .create_account(&account(&c, "ACC-1", now), false, Some(idem))
        .await
        .unwrap();
    assert_eq!(
        replay,
        Outcome::Replayed(StoredResponse {
            status: 200,
            body: format!("created {}", first.id)
        })
    );
    let reused = IdempotencyKey {
        fingerprint: "fp-b".into(),
        ..key.clone()
    };
    assert!(matches!(
        store
            .create_account(
                &account(&c, "ACC-2", now),
                false,
                Some(Idem {
                    key: &reused,
                    render: &render
                })
            )
            .await,
        Err(StoreError::IdempotencyKeyReused)
    ));
    // A refused request saves nothing: the key stays free.
    let key2 = IdempotencyKey {
        org_id: c.org_id,
        key: "k-2".into(),
        fingerprint: "fp-c".into(),
    };
    assert!(store
        .create_account(
            &account(&c, "ACC-1", now),
            false,
            Some(Idem {
                key: &key2,
                render: &render
            })
        )
        .await
        .is_err());
    let Outcome::Done(_) = store
        .create_account(
            &account(&c, "ACC-3", now),
            false,
            Some(Idem {
                key: &key2,
                render: &render,
            }),
        )
        .await
        .unwrap()
    else {
        panic!("key 2 was never used")
    };
    // Keys are scoped to the organisation.
    let other = setup(&store, Platform::Xero).await;
    let theirs = IdempotencyKey {
        org_id: other.org_id,
        ..key.clone()
    };
    let Outcome::Done(_) = store
        .create_account(
            &account(&other, "ACC-1", now),
            false,
            Some(Idem {
                key: &theirs,
                render: &render,
            }),
        )
        .await
        .unwrap()
    else {
        panic!("another organisation's key space is separate")
    };
}

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
