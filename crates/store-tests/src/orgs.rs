//! `OrgStore`: organisations and the credentials they authenticate with.

use bankfeeds_domain::{Clock, NewOrg, Secret, SystemClock};
use bankfeeds_store::{DynStore, StoreError};

use crate::helpers::org_with_secret as org;

pub async fn orgs_round_trip(store: DynStore) {
    let (a, secret) = org(&store, "Demo Bank").await;
    let (b, _) = org(&store, "Other Bank").await;
    let listed = store.list_orgs().await.unwrap();
    assert_eq!(listed, vec![a.clone(), b.clone()]);
    assert_eq!(store.get_org(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.get_org(b.id).await.unwrap(), Some(b));
    assert_eq!(
        store.get_org(bankfeeds_domain::OrgId::new()).await.unwrap(),
        None
    );

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

pub async fn each_client_id_finds_only_its_own_organisation(store: DynStore) {
    let (a, a_secret) = org(&store, "Bank A").await;
    let (b, b_secret) = org(&store, "Bank B").await;
    assert_ne!(a.client_id, b.client_id);
    let found_a = store
        .find_org_credential(&a.client_id)
        .await
        .unwrap()
        .unwrap();
    let found_b = store
        .find_org_credential(&b.client_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((&found_a.org, &found_b.org), (&a, &b));
    assert!(found_a.client_secret_hash.verify(&a_secret));
    assert!(found_b.client_secret_hash.verify(&b_secret));
    assert!(
        !found_a.client_secret_hash.verify(&b_secret),
        "another organisation's secret never opens it"
    );
    assert!(!found_b.client_secret_hash.verify(&a_secret));
    assert!(store.find_org_credential("").await.unwrap().is_none());
}

pub async fn orgs_list_every_organisation_once(store: DynStore) {
    assert!(store.list_orgs().await.unwrap().is_empty());
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(org(&store, &format!("Bank {i}")).await.0);
    }
    let listed = store.list_orgs().await.unwrap();
    assert_eq!(listed.len(), made.len(), "each once: {listed:?}");
    for o in &made {
        assert!(listed.contains(o), "{} is listed as stored", o.name);
    }
    // A refused create adds nothing.
    let (mut copy, _) = NewOrg::generate("Copycat", SystemClock.now()).unwrap();
    copy.org.client_id = made[2].client_id.clone();
    assert!(matches!(
        store.create_org(&copy).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.list_orgs().await.unwrap(), listed);
}

pub async fn client_secrets_rotate_and_the_old_one_stops_working(store: DynStore) {
    let (a, old) = org(&store, "Demo Bank").await;
    let (b, b_secret) = org(&store, "Other Bank").await;
    let new = Secret::generate(bankfeeds_domain::SecretKind::ClientSecret);
    store.rotate_client_secret(a.id, &new.hash()).await.unwrap();
    let cred = store
        .find_org_credential(&a.client_id)
        .await
        .unwrap()
        .unwrap();
    assert!(cred.client_secret_hash.verify(&new));
    assert!(!cred.client_secret_hash.verify(&old));
    let other = store
        .find_org_credential(&b.client_id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        other.client_secret_hash.verify(&b_secret),
        "only that organisation's"
    );
    assert!(matches!(
        store
            .rotate_client_secret(bankfeeds_domain::OrgId::new(), &new.hash())
            .await,
        Err(StoreError::NotFound)
    ));
}

/// Disabling keeps the organisation (and reads it back disabled, by id and by credential);
/// enabling clears it; only that organisation changes.
pub async fn organisations_are_disabled_and_enabled_again(store: DynStore) {
    let (a, _) = org(&store, "Demo Bank").await;
    let (b, _) = org(&store, "Other Bank").await;
    assert!(!a.is_disabled());
    let at = a.created_at + chrono::TimeDelta::hours(1);
    let disabled = store.set_org_disabled(a.id, Some(at)).await.unwrap();
    assert_eq!(disabled.disabled_at, Some(at));
    let by_id = store.get_org(a.id).await.unwrap().unwrap();
    assert_eq!(by_id.disabled_at, Some(at));
    let by_credential = store
        .find_org_credential(&a.client_id)
        .await
        .unwrap()
        .unwrap();
    assert!(by_credential.org.is_disabled());
    let other = store.get_org(b.id).await.unwrap().unwrap();
    assert!(!other.is_disabled(), "only that organisation");
    let enabled = store.set_org_disabled(a.id, None).await.unwrap();
    assert!(!enabled.is_disabled());
    assert!(!store.get_org(a.id).await.unwrap().unwrap().is_disabled());
    assert!(matches!(
        store
            .set_org_disabled(bankfeeds_domain::OrgId::new(), Some(at))
            .await,
        Err(StoreError::NotFound)
    ));
}

/// `delete_org` erases an organisation's every row in one go (refused unless it was disabled),
/// and leaves another organisation exactly as it was.
pub async fn a_disabled_organisation_is_deleted_with_everything_it_owns(store: DynStore) {
    use crate::helpers::{all_transactions, batch, events, intuit_account, run_batch, t0, tx};
    let (a, ca, acct_a) = intuit_account(&store, "A-1").await;
    let (b, cb, acct_b) = intuit_account(&store, "B-1").await;
    for (c, acct) in [(&ca, &acct_a), (&cb, &acct_b)] {
        let txns = vec![tx("t1", t0(), "-5.00"), tx("t2", t0(), "7.25")];
        let (_, outcome) = run_batch(&store, c, acct, &batch(acct, None, txns), t0()).await;
        assert!(outcome.is_ok());
    }
    let b_events = events(&store, b).await;
    let b_transactions = all_transactions(&store, &cb).await;

    let refused = store.delete_org(a).await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Invalid {
                code: "ORGANISATION_NOT_DISABLED",
                ..
            })
        ),
        "{refused:?}"
    );
    assert!(store.get_org(a).await.unwrap().is_some(), "nothing deleted");
    assert_eq!(all_transactions(&store, &ca).await.len(), 2);

    store.set_org_disabled(a, Some(t0())).await.unwrap();
    let erased = store.delete_org(a).await.unwrap();
    let count = |table: &str| erased.iter().find(|(t, _)| *t == table).map(|(_, n)| *n);
    assert_eq!(count("transactions"), Some(2), "{erased:?}");
    assert_eq!(count("bank_feed_accounts"), Some(1));
    assert_eq!(count("connections"), Some(1));
    assert_eq!(count("jobs"), Some(1));
    assert!(count("events").unwrap() >= 2, "{erased:?}");

    assert_eq!(store.get_org(a).await.unwrap(), None);
    assert_eq!(store.get_connection(a, ca.id).await.unwrap(), None);
    assert!(all_transactions(&store, &ca).await.is_empty());
    assert!(events(&store, a).await.is_empty());
    assert!(matches!(
        store.delete_org(a).await,
        Err(StoreError::NotFound)
    ));

    // The other organisation is untouched.
    assert!(store.get_org(b).await.unwrap().is_some());
    assert!(store.get_connection(b, cb.id).await.unwrap().is_some());
    assert_eq!(all_transactions(&store, &cb).await, b_transactions);
    assert_eq!(events(&store, b).await, b_events);
}
