//! `CustomerStore`: customers (the Codat door's companies), their tokens and their connections.

use std::collections::BTreeMap;

use bankfeeds_domain::customer::{Customer, CustomerId};
use bankfeeds_domain::{
    Clock, NewConnection, OrgId, PageRequest, Platform, Secret, SystemClock, Timestamp,
};
use bankfeeds_store::{DynStore, StoreError};
use chrono::TimeDelta;

use crate::helpers::named_org as org;

fn customer(org: OrgId, name: &str, at: Timestamp) -> Customer {
    let mut tags = BTreeMap::new();
    tags.insert("region".to_owned(), "uk".to_owned());
    Customer {
        id: CustomerId::new(),
        org_id: org,
        name: name.to_owned(),
        description: Some("Requested early access".to_owned()),
        tags,
        created_at: at,
        updated_at: at,
    }
}

/// A new connection on `platform` for customer `of`, stored; answers it with its token.
async fn customer_connection(
    store: &DynStore,
    of: &Customer,
    platform: Platform,
    at: Timestamp,
) -> (NewConnection, Secret) {
    let (new, token) = NewConnection::generate(of.org_id, platform, None, at).unwrap();
    store.create_customer_connection(of.id, &new).await.unwrap();
    (new, token)
}

pub async fn customers_round_trip_update_and_delete(store: DynStore) {
    let t0 = SystemClock.now();
    let at = |s: i64| t0 + TimeDelta::seconds(s);
    let a = org(&store, "Bank A").await;
    let b = org(&store, "Bank B").await;
    let first = customer(a, "Bank of Dave", at(0));
    let second = customer(a, "Elaborate Events, Inc", at(1));
    let theirs = customer(b, "Other", at(2));
    for c in [&first, &second, &theirs] {
        store.create_customer(c).await.unwrap();
    }
    assert_eq!(
        store.get_customer(a, first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store.get_customer(b, first.id).await.unwrap(),
        None,
        "scoped to the organisation"
    );
    assert_eq!(
        store.list_customers(a).await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert_eq!(store.list_customers(b).await.unwrap(), vec![theirs.clone()]);

    let mut renamed = first.clone();
    renamed.name = "Dave's Bank".to_owned();
    renamed.description = None;
    renamed.tags.clear();
    renamed.updated_at = at(5);
    store.update_customer(&renamed).await.unwrap();
    assert_eq!(
        store.get_customer(a, first.id).await.unwrap(),
        Some(renamed.clone())
    );
    let mut foreign = theirs.clone();
    foreign.org_id = a;
    assert!(matches!(
        store.update_customer(&foreign).await,
        Err(StoreError::NotFound)
    ));

    // Connections hang off a live customer of the same organisation.
    let mut made = Vec::new();
    for platform in [Platform::IntuitBankFeeds, Platform::Xero] {
        let (new, _) = customer_connection(&store, &first, platform, at(6)).await;
        made.push(new.connection);
    }
    let (other, _) = customer_connection(&store, &second, Platform::Xero, at(6)).await;
    let listed = store.list_customer_connections(a, first.id).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|c| c.connection.clone())
            .collect::<Vec<_>>(),
        made
    );
    assert!(listed.iter().all(|c| c.customer_id == first.id
        && c.unlinked_at.is_none()
        && c.active_feeds == 0
        && c.last_synced_at.is_none()));
    assert_eq!(
        store
            .get_customer_connection(a, first.id, made[1].id)
            .await
            .unwrap()
            .map(|c| c.connection),
        Some(made[1].clone())
    );
    assert_eq!(
        store
            .get_customer_connection(a, second.id, made[1].id)
            .await
            .unwrap(),
        None,
        "another customer's connection"
    );
    assert!(store
        .list_customer_connections(b, first.id)
        .await
        .unwrap()
        .is_empty());
    let (orphan, token) = NewConnection::generate(a, Platform::Xero, None, at(6)).unwrap();
    assert!(matches!(
        store.create_customer_connection(theirs.id, &orphan).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.find_connection_by_token(&token.hash()).await.unwrap(),
        None,
        "nothing half-made"
    );

    // Deleting a customer deletes its connections, and only its.
    assert!(matches!(
        store.delete_customer(b, first.id, at(7)).await,
        Err(StoreError::NotFound)
    ));
    store.delete_customer(a, first.id, at(7)).await.unwrap();
    assert_eq!(store.get_customer(a, first.id).await.unwrap(), None);
    assert_eq!(store.list_customers(a).await.unwrap(), vec![second.clone()]);
    for c in &made {
        assert_eq!(store.get_connection(a, c.id).await.unwrap(), None);
    }
    let page = PageRequest {
        after: None,
        limit: 50,
    };
    let live: Vec<_> = store.list_connections(a, &page).await.unwrap().items;
    assert_eq!(live, vec![other.connection.clone()]);
    assert!(matches!(
        store.delete_customer(a, first.id, at(8)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.update_customer(&renamed).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn unlinking_a_customer_connection_deactivates_its_feeds(store: DynStore) {
    use bankfeeds_domain::account::FeedStatus;
    use bankfeeds_domain::link::{Challenge, Company, CompanyId};
    use bankfeeds_domain::otp::NewOtp;

    let t0 = SystemClock.now();
    let at = |s: i64| t0 + TimeDelta::seconds(s);
    let fi = org(&store, "Bank A").await;
    let dave = customer(fi, "Bank of Dave", at(0));
    store.create_customer(&dave).await.unwrap();
    let (new, _) = customer_connection(&store, &dave, Platform::Xero, at(0)).await;
    let c = new.connection;
    let checking = crate::helpers::account(&store, &c, "CHK-1").await;
    let savings = crate::helpers::account(&store, &c, "SAV-1").await;

    // The platform links the checking account.
    let books = Company {
        id: CompanyId::new(),
        platform: Platform::Xero,
        name: "Books".into(),
        created_at: at(0),
    };
    store.create_company(&books).await.unwrap();
    let (challenge, _) = Challenge::generate(
        Platform::Xero,
        books.id,
        fi,
        &crate::helpers::browser(),
        at(1),
    );
    store.create_challenge(&challenge).await.unwrap();
    let (otp, code) = NewOtp::generate(&c, at(1));
    store.issue_otp(&otp).await.unwrap();
    store
        .bind_challenge(
            &challenge.hash,
            Platform::Xero,
            Some(&crate::helpers::browser()),
            &code.hash(),
            at(2),
        )
        .await
        .unwrap()
        .unwrap();
    store
        .complete_link(&challenge.hash, &[checking.id], Some(at(-86_400)), at(3))
        .await
        .unwrap()
        .unwrap();
    store
        .ingest_feed(books.id, checking.id, 1000, at(4))
        .await
        .unwrap();
    let linked = store
        .get_customer_connection(fi, dave.id, c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            linked.active_feeds,
            linked.last_synced_at,
            linked.unlinked_at
        ),
        (1, Some(at(4)), None)
    );

    let unlinked = store
        .unlink_customer_connection(fi, dave.id, c.id, at(5))
        .await
        .unwrap();
    assert_eq!(
        (unlinked.active_feeds, unlinked.unlinked_at),
        (0, Some(at(5)))
    );
    let account = store.get_account(c.id, checking.id).await.unwrap().unwrap();
    assert_eq!(
        (account.feed_status, account.transaction_ready),
        (FeedStatus::Inactive, false)
    );
    assert_eq!(
        store.get_company_feed(books.id, checking.id).await.unwrap(),
        None
    );
    assert_eq!(
        store.get_account(c.id, savings.id).await.unwrap(),
        Some(savings.clone()),
        "never linked: untouched"
    );
    // Again: nothing changes, the first unlink time stays.
    let again = store
        .unlink_customer_connection(fi, dave.id, c.id, at(6))
        .await
        .unwrap();
    assert_eq!(again.unlinked_at, Some(at(5)));
    // Not this customer's, or deleted: not found.
    let other = customer(fi, "Other", at(0));
    store.create_customer(&other).await.unwrap();
    assert!(matches!(
        store
            .unlink_customer_connection(fi, other.id, c.id, at(7))
            .await,
        Err(StoreError::NotFound)
    ));
    store.delete_connection(fi, c.id, at(8)).await.unwrap();
    assert!(matches!(
        store
            .unlink_customer_connection(fi, dave.id, c.id, at(9))
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .get_customer_connection(fi, dave.id, c.id)
            .await
            .unwrap(),
        None
    );
}

pub async fn customer_tokens_are_stored_hashed(store: DynStore) {
    use bankfeeds_domain::customer::CustomerToken;

    let t0 = SystemClock.now();
    let fi = org(&store, "Bank A").await;
    let dave = customer(fi, "Bank of Dave", t0);
    let other = customer(fi, "Other", t0);
    store.create_customer(&dave).await.unwrap();
    store.create_customer(&other).await.unwrap();
    let (token, secret) = CustomerToken::generate(&dave, t0);
    store.create_customer_token(&token).await.unwrap();
    let found = store
        .find_customer_token(&secret.hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, token);
    assert!(found.opens(dave.id, t0 + TimeDelta::minutes(59)));
    assert!(
        !found.opens(dave.id, t0 + TimeDelta::minutes(60)),
        "an hour"
    );
    assert!(!found.opens(other.id, t0), "only its own customer");
    let unknown = bankfeeds_domain::Secret::from_presented("bfct_nope").hash();
    assert_eq!(store.find_customer_token(&unknown).await.unwrap(), None);
}

pub async fn organisations_never_see_each_others_customers(store: DynStore) {
    let t0 = SystemClock.now();
    let at = |s: i64| t0 + TimeDelta::seconds(s);
    let a = org(&store, "Bank A").await;
    let b = org(&store, "Bank B").await;
    let dave = customer(a, "Bank of Dave", at(0));
    store.create_customer(&dave).await.unwrap();
    let (new, token) = customer_connection(&store, &dave, Platform::Xero, at(0)).await;
    let c = new.connection;

    // Organisation B asks for A's customer and connection by their ids.
    assert_eq!(store.get_customer(b, dave.id).await.unwrap(), None);
    assert!(store.list_customers(b).await.unwrap().is_empty());
    assert!(store
        .list_customer_connections(b, dave.id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .get_customer_connection(b, dave.id, c.id)
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        store
            .unlink_customer_connection(b, dave.id, c.id, at(1))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_customer(b, dave.id, at(1)).await,
        Err(StoreError::NotFound)
    ));

    // A's customer and connection are untouched.
    assert_eq!(
        store.get_customer(a, dave.id).await.unwrap(),
        Some(dave.clone())
    );
    let mine = store
        .get_customer_connection(a, dave.id, c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((mine.connection, mine.unlinked_at), (c.clone(), None));
    assert_eq!(
        store.find_connection_by_token(&token.hash()).await.unwrap(),
        Some(c)
    );
}
