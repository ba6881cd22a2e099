//! `CredentialStore`: generated bank feed credentials, kept hashed, revoked per connection.

use bankfeeds_domain::{Clock, NewConnection, Platform, SystemClock};
use bankfeeds_store::DynStore;
use chrono::TimeDelta;

use crate::helpers::named_org as org;

pub async fn credentials_are_stored_hashed_and_revoked_together(store: DynStore) {
    use bankfeeds_domain::credentials::BankFeedCredentials;

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
    let found = store
        .find_credentials(&first.username)
        .await
        .unwrap()
        .unwrap();
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
        let got = store.find_credentials(&c.username).await.unwrap().unwrap();
        assert_eq!(got.revoked_at, Some(at));
        assert!(!got.admits(p));
    }
    let other = store
        .find_credentials(&theirs.username)
        .await
        .unwrap()
        .unwrap();
    assert!(other.admits(&p3), "another connection's set stays");
}
