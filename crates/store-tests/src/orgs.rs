//! `OrgStore`: organisations and the credentials they authenticate with.

use bankfeeds_domain::{Clock, NewOrg, Secret, SystemClock};
use bankfeeds_store::{DynStore, StoreError};

use crate::helpers::org_with_secret as org;

pub async fn orgs_round_trip(store: DynStore) {
    let (a, secret) = org(&store, "Demo Bank").await;
    let (b, _) = org(&store, "Other Bank").await;
    let listed = store.list_orgs().await.unwrap();
    assert_eq!(listed, vec![a.clone(), b]);

    let cred = store
        .find_org_credential(&a.client_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cred.org, a);
    assert!(cred.client_secret_hash.verify(&secret));
    assert!(!cred
        .client_secret_hash
        .verify(&Secret::from_presented("bfsk_wrong")));
    assert!(store
        .find_org_credential("bfci_nobody")
        .await
        .unwrap()
        .is_none());
}

pub async fn org_client_ids_are_unique(store: DynStore) {
    let (a, _) = org(&store, "Demo Bank").await;
    let (mut again, _) = NewOrg::generate("Copycat", SystemClock.now()).unwrap();
    again.org.client_id = a.client_id.clone();
    match store.create_org(&again).await {
        Err(StoreError::Conflict("orgs_client_id_key")) => {}
        other => panic!("expected client id conflict, got {other:?}"),
    }
    assert_eq!(store.list_orgs().await.unwrap().len(), 1);
}
