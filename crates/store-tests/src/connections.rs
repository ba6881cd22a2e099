//! `ConnectionStore`: connections, their access tokens, paging, deletion and its cascade.

use std::collections::HashSet;

use bankfeeds_domain::{
    Clock, Connection, NewConnection, Org, PageRequest, Platform, Secret, SystemClock,
};
use bankfeeds_store::{DynStore, StoreError};
use chrono::TimeDelta;

use crate::helpers::{
    account, assert_feed_gone, batch, events_of, link_to, linked_feed, org_with_secret as org,
    run_batch, secs, t0, tx,
};

async fn connection(store: &DynStore, org: &Org, platform: Platform) -> (Connection, Secret) {
    let (new, token) =
        NewConnection::generate(org.id, platform, Some("Acme Ltd"), SystemClock.now()).unwrap();
    store.create_connection(&new, None).await.unwrap();
    (new.connection, token)
}

pub async fn connections_round_trip(store: DynStore) {
    let (o, _) = org(&store, "Demo Bank").await;
    for platform in Platform::ALL {
        let (c, token) = connection(&store, &o, platform).await;
        assert_eq!(
            store.get_connection(o.id, c.id).await.unwrap(),
            Some(c.clone())
        );
        assert_eq!(
            store.find_connection_by_token(&token.hash()).await.unwrap(),
            Some(c.clone()),
            "timestamps and every field must survive the round trip exactly"
        );
    }
    let unnamed = NewConnection::generate(o.id, Platform::Xero, None, SystemClock.now())
        .unwrap()
        .0;
    store.create_connection(&unnamed, None).await.unwrap();
    let got = store
        .get_connection(o.id, unnamed.connection.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.name, None);
    let unknown = Secret::from_presented("bfat_unknown").hash();
    assert_eq!(
        store.find_connection_by_token(&unknown).await.unwrap(),
        None
    );
}

pub async fn connection_tokens_are_unique(store: DynStore) {
    let (o, _) = org(&store, "Demo Bank").await;
    let (first, _) =
        NewConnection::generate(o.id, Platform::Xero, None, SystemClock.now()).unwrap();
    store.create_connection(&first, None).await.unwrap();
    let (mut second, _) =
        NewConnection::generate(o.id, Platform::Xero, None, SystemClock.now()).unwrap();
    second.access_token_hash = first.access_token_hash;
    match store.create_connection(&second, None).await {
        Err(StoreError::Conflict("connections_access_token_hash_key")) => {}
        other => panic!("expected token conflict, got {other:?}"),
    }
}

pub async fn organisations_never_see_each_others_connections(store: DynStore) {
    let (a, _) = org(&store, "Bank A").await;
    let (b, _) = org(&store, "Bank B").await;
    let (ca, _) = connection(&store, &a, Platform::IntuitBankFeeds).await;
    let (cb, _) = connection(&store, &b, Platform::Xero).await;

    assert_eq!(store.get_connection(b.id, ca.id).await.unwrap(), None);
    let page = PageRequest {
        after: None,
        limit: 50,
    };
    let listed_b: Vec<_> = store.list_connections(b.id, &page).await.unwrap().items;
    assert_eq!(listed_b, vec![cb.clone()]);
    assert!(matches!(
        store
            .delete_connection(b.id, ca.id, SystemClock.now())
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.get_connection(a.id, ca.id).await.unwrap(), Some(ca));
}

pub async fn deleted_connections_disappear_but_their_token_is_recognised(store: DynStore) {
    let (o, _) = org(&store, "Demo Bank").await;
    let (c, token) = connection(&store, &o, Platform::SageIntacct).await;
    assert_eq!(store.find_connection(c.id).await.unwrap(), Some(c.clone()));
    let at = SystemClock.now() + TimeDelta::seconds(1);
    store.delete_connection(o.id, c.id, at).await.unwrap();

    assert_eq!(store.get_connection(o.id, c.id).await.unwrap(), None);
    assert_eq!(store.find_connection(c.id).await.unwrap(), None);
    let page = PageRequest {
        after: None,
        limit: 50,
    };
    assert!(store
        .list_connections(o.id, &page)
        .await
        .unwrap()
        .items
        .is_empty());
    let found = store
        .find_connection_by_token(&token.hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.deleted_at, Some(at));
    assert!(found.is_deleted());
    assert!(matches!(
        store.delete_connection(o.id, c.id, at).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn connection_pages_walk_every_row_once_in_creation_order(store: DynStore) {
    let (o, _) = org(&store, "Demo Bank").await;
    let (other, _) = org(&store, "Other Bank").await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(connection(&store, &o, Platform::ALL[i % 5]).await.0.id);
        // Interleave another organisation's rows: they must never appear in o's pages.
        connection(&store, &other, Platform::Xero).await;
    }
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store
            .list_connections(o.id, &PageRequest { after, limit: 3 })
            .await
            .unwrap();
        pages += 1;
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|c| c.id));
        if !page.has_more {
            break;
        }
        after = page.items.last().map(|c| c.id);
        // A row created mid-walk lands after the cursor and is seen exactly once.
        if pages == 1 {
            created.push(connection(&store, &o, Platform::Netsuite).await.0.id);
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
}

pub async fn access_tokens_rotate(store: DynStore) {
    let (o, _) = org(&store, "Demo Bank").await;
    let (other, _) = org(&store, "Other Bank").await;
    let (c, old) = connection(&store, &o, Platform::Xero).await;
    let new = Secret::generate(bankfeeds_domain::SecretKind::AccessToken);
    let at = SystemClock.now() + TimeDelta::seconds(1);
    let refused = store
        .rotate_access_token(other.id, c.id, &new.hash(), at)
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound)),
        "only its own organisation"
    );
    let rotated = store
        .rotate_access_token(o.id, c.id, &new.hash(), at)
        .await
        .unwrap();
    assert_eq!((rotated.id, rotated.updated_at), (c.id, at));
    assert_eq!(
        store.find_connection_by_token(&old.hash()).await.unwrap(),
        None,
        "the old token stops"
    );
    assert_eq!(
        store.find_connection_by_token(&new.hash()).await.unwrap(),
        Some(rotated)
    );
    store.delete_connection(o.id, c.id, at).await.unwrap();
    let again = Secret::generate(bankfeeds_domain::SecretKind::AccessToken);
    let refused = store
        .rotate_access_token(o.id, c.id, &again.hash(), at)
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound)),
        "not a deleted connection"
    );
}

/// Deleting a connection disconnects its feeds in the platform: what the platform ingested stays
/// (statements and their lines), it syncs them no more, and the same bank account linked again
/// through a new connection is a new, live feed beside the disconnected one.
pub async fn deleted_connections_leave_their_feeds_disconnected(store: DynStore) {
    let (books, c, feed) = linked_feed(&store, Platform::Xero, "XERO-X").await;
    let lines = vec![tx("X-1", t0() - TimeDelta::days(2), "12.50")];
    let (_, outcome) = run_batch(
        &store,
        &c,
        &feed,
        &batch(&feed, Some("112.50"), lines),
        t0(),
    )
    .await;
    outcome.expect("batch accepted");
    let shown = store
        .ingest_feed(books.id, feed.id, 1000, t0() + secs(1))
        .await
        .unwrap();
    assert_eq!(shown.len(), 1);
    // A second account of the same connection, and a feed of another FI in the same company's
    // platform, which must stay.
    let second = account(&store, &c, "XERO-X2").await;
    let (other_books, other_c, other_feed) = linked_feed(&store, Platform::Xero, "XERO-Y").await;
    let at = t0() + secs(9);
    store.delete_connection(c.org_id, c.id, at).await.unwrap();

    assert_eq!(store.list_company_feeds(books.id).await.unwrap(), vec![]);
    assert_feed_gone(&store, &books, &feed, at).await;
    let disconnected = store.list_disconnected_feeds(books.id).await.unwrap();
    assert_eq!(
        disconnected.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![feed.id]
    );
    assert_eq!(
        store
            .get_disconnected_feed(books.id, feed.id)
            .await
            .unwrap()
            .map(|a| a.id),
        Some(feed.id)
    );
    assert_eq!(
        store
            .get_disconnected_feed(other_books.id, feed.id)
            .await
            .unwrap(),
        None,
        "only the company that linked it"
    );
    assert_eq!(
        store.list_statements(feed.id, None, 10).await.unwrap(),
        shown,
        "what the platform ingested stays"
    );
    let kept = store.statement_transactions(&shown[0]).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].data.transaction_id, "X-1");
    let due = store
        .list_feeds_due(Platform::Xero, at + secs(3600), 100)
        .await
        .unwrap();
    assert_eq!(due, vec![(other_books.id, other_feed.id)]);
    assert_eq!(
        store
            .get_company_feed(other_books.id, other_feed.id)
            .await
            .unwrap()
            .map(|a| a.id),
        Some(other_feed.id)
    );
    assert_eq!(
        store
            .get_account(other_c.id, other_feed.id)
            .await
            .unwrap()
            .map(|a| a.id),
        Some(other_feed.id)
    );

    let deleted: Vec<_> = events_of(&store, c.org_id, "bank_feed_account.deleted")
        .await
        .into_iter()
        .map(|e| (e.resource_id, e.created_at))
        .collect();
    let mut expected = vec![(feed.id.to_string(), at), (second.id.to_string(), at)];
    expected.sort();
    assert_eq!(deleted, expected, "one event per account, in id order");
    assert!(matches!(
        store.delete_connection(c.org_id, c.id, at).await,
        Err(StoreError::NotFound)
    ));

    // The FI connects the same bank account again and the customer links it: a live feed again,
    // the disconnected one still shown beside it.
    let (again, _) = NewConnection::generate(c.org_id, Platform::Xero, None, at).unwrap();
    store.create_connection(&again, None).await.unwrap();
    let same = account(&store, &again.connection, "XERO-X").await;
    let relinked = link_to(&store, &books, &again.connection, &same).await;
    assert_eq!(
        store
            .list_company_feeds(books.id)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect::<Vec<_>>(),
        vec![relinked.id]
    );
    assert_eq!(relinked.internal_bank_account_id, "XERO-X");
    assert_eq!(
        store.list_disconnected_feeds(books.id).await.unwrap().len(),
        1
    );
}
