//! `CredentialStore`: generated bank feed credentials, kept hashed, revoked per connection.

use bankfeeds_domain::credentials::BankFeedCredentials;
use bankfeeds_domain::{Clock, NewConnection, Platform, SystemClock};
use bankfeeds_store::DynStore;
use chrono::TimeDelta;

use crate::helpers::named_org as org;

/// The stored set with this username, which must exist.
async fn find(store: &DynStore, username: &str) -> BankFeedCredentials {
    store.find_credentials(username).await.unwrap().unwrap()
}

pub async fn credentials_are_stored_hashed_and_revoked_together(store: DynStore) {
    let t0 = SystemClock.now();
    let fi = org(&store, "Bank A").await;
    let (a, _) = NewConnection::generate(fi, Platform::IntuitBankFeeds, None, t0).unwrap();
    let (b, _) = NewConnection::generate(fi, Platform::IntuitBankFeeds, None, t0).unwrap();
    store.create_connection(&a, None).await.unwrap();
    store.create_connection(&b, None).await.unwrap();
    let (first, p1) = BankFeedCredentials::generate(&a.connection, t0);
    let (second, p2) = BankFeedCredentials::generate(&a.connection, t0);
    let (theirs, p3) = BankFeedCredentials::generate(&b.connection, t0);
    for c in [&first, &second, &theirs] {
        store.create_credentials(c).await.unwrap();
    }
    let found = find(&store, &first.username).await;
    assert_eq!(found, first);
    assert!(found.admits(&p1) && !found.admits(&p2));
    assert_ne!(
        found.password_hash.to_hex(),
        p1.expose(),
        "only the hash is kept"
    );
    assert_eq!(store.find_credentials("bf-nobody").await.unwrap(), None);

    let at = t0 + TimeDelta::seconds(3);
    assert_eq!(
        store.revoke_credentials(a.connection.id, at).await.unwrap(),
        2
    );
    assert_eq!(
        store.revoke_credentials(a.connection.id, at).await.unwrap(),
        0
    );
    for (c, p) in [(&first, &p1), (&second, &p2)] {
        let got = find(&store, &c.username).await;
        assert_eq!(got.revoked_at, Some(at));
        assert!(!got.admits(p));
    }
    let other = find(&store, &theirs.username).await;
    assert!(other.admits(&p3), "another connection's set stays");
}

pub async fn revoking_leaves_later_sets_and_other_organisations_alone(store: DynStore) {
    let t0 = SystemClock.now();
    let at = |s: i64| t0 + TimeDelta::seconds(s);
    let fi = org(&store, "Bank A").await;
    let other_fi = org(&store, "Bank B").await;
    let (a, _) = NewConnection::generate(fi, Platform::IntuitBankFeeds, None, t0).unwrap();
    let (theirs, _) =
        NewConnection::generate(other_fi, Platform::IntuitBankFeeds, None, t0).unwrap();
    store.create_connection(&a, None).await.unwrap();
    store.create_connection(&theirs, None).await.unwrap();
    let (first, p1) = BankFeedCredentials::generate(&a.connection, at(0));
    let (foreign, pf) = BankFeedCredentials::generate(&theirs.connection, at(0));
    store.create_credentials(&first).await.unwrap();
    store.create_credentials(&foreign).await.unwrap();
    assert_eq!(foreign.org_id, other_fi);

    assert_eq!(
        store
            .revoke_credentials(a.connection.id, at(1))
            .await
            .unwrap(),
        1
    );
    let (later, p2) = BankFeedCredentials::generate(&a.connection, at(2));
    store.create_credentials(&later).await.unwrap();
    let got = find(&store, &later.username).await;
    assert_eq!(got, later);
    assert!(got.admits(&p2), "a set made after a revocation is live");

    // Revoking again takes only the live set; the first keeps its revocation time.
    assert_eq!(
        store
            .revoke_credentials(a.connection.id, at(3))
            .await
            .unwrap(),
        1
    );
    let first_now = find(&store, &first.username).await;
    assert_eq!(first_now.revoked_at, Some(at(1)));
    assert!(!first_now.admits(&p1));
    let later_now = find(&store, &later.username).await;
    assert_eq!(later_now.revoked_at, Some(at(3)));
    assert!(!later_now.admits(&p2));

    // Another organisation's set is untouched; unknown connections revoke nothing.
    assert_eq!(
        store.find_credentials(&foreign.username).await.unwrap(),
        Some(foreign.clone())
    );
    assert!(foreign.admits(&pf));
    assert_eq!(
        store
            .revoke_credentials(bankfeeds_domain::ConnectionId::new(), at(4))
            .await
            .unwrap(),
        0
    );
}

pub async fn a_username_is_never_stored_twice(store: DynStore) {
    let t0 = SystemClock.now();
    let fi = org(&store, "Bank A").await;
    let (a, _) = NewConnection::generate(fi, Platform::IntuitBankFeeds, None, t0).unwrap();
    store.create_connection(&a, None).await.unwrap();
    let (first, p1) = BankFeedCredentials::generate(&a.connection, t0);
    store.create_credentials(&first).await.unwrap();
    let (mut copy, p2) = BankFeedCredentials::generate(&a.connection, t0);
    copy.username = first.username.clone();
    assert!(store.create_credentials(&copy).await.is_err());
    let got = find(&store, &first.username).await;
    assert_eq!(got, first, "the stored set is not replaced");
    assert!(got.admits(&p1) && !got.admits(&p2));
}
