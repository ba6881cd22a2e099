//! `OperatorStore`: console operators, their setup links, sessions and sign-in throttle.

use bankfeeds_domain::operator::{
    NewSession, Operator, OperatorId, OperatorStatus, PasswordHash, SetupRefusal, ThrottleKey,
    LOCKOUT, MAX_FAILURES_PER_EMAIL, SESSION_TTL, SETUP_TTL,
};
use bankfeeds_domain::{Secret, SecretHash};
use bankfeeds_store::{DynStore, StoreError};

use crate::helpers::{named_org, secs, t0};

fn password() -> PasswordHash {
    PasswordHash::choose("correct horse battery", "correct horse battery").unwrap()
}

pub async fn operators_are_per_organisation_and_set_up_once(store: DynStore) {
    let now = t0();
    let a = named_org(&store, "Bank A").await;
    let b = named_org(&store, "Bank B").await;
    let (op, setup, link) = Operator::generate(a, " Ops@Bank.Example ", now).unwrap();
    store.create_operator(&op, &setup).await.unwrap();
    assert_eq!(store.list_operators(a).await.unwrap(), vec![op.clone()]);
    assert!(store.list_operators(b).await.unwrap().is_empty());

    // The email is unique per organisation, not across them.
    let (dup, dup_setup, _) = Operator::generate(a, "ops@bank.example", now).unwrap();
    assert!(matches!(
        store.create_operator(&dup, &dup_setup).await,
        Err(StoreError::Conflict("operators_org_email_key"))
    ));
    let (other, other_setup, other_link) = Operator::generate(b, "ops@bank.example", now).unwrap();
    store.create_operator(&other, &other_setup).await.unwrap();

    // No password yet: nobody signs in as them.
    assert!(store
        .login_candidates("ops@bank.example")
        .await
        .unwrap()
        .is_empty());

    // The link is looked up by its digest, changes nothing when only read, and works once.
    let seen = store.setup_operator(&link.hash(), now).await.unwrap();
    assert_eq!(seen, Ok(op.clone()));
    assert_eq!(
        store
            .setup_operator(&Secret::from_presented("bfos_unknown").hash(), now)
            .await
            .unwrap(),
        Err(SetupRefusal::Unknown)
    );
    assert_eq!(
        store
            .complete_setup(&link.hash(), &password(), now + SETUP_TTL)
            .await
            .unwrap(),
        Err(SetupRefusal::Expired)
    );
    let done = store
        .complete_setup(&link.hash(), &password(), now + secs(5))
        .await
        .unwrap()
        .unwrap();
    assert!(done.has_password);
    assert_eq!(
        store
            .complete_setup(&link.hash(), &password(), now + secs(6))
            .await
            .unwrap(),
        Err(SetupRefusal::AlreadyUsed)
    );

    let found = store.login_candidates("ops@bank.example").await.unwrap();
    assert_eq!(found.len(), 1, "only the operator who chose a password");
    assert_eq!(found[0].0.id, op.id);
    assert!(found[0].1.verify("correct horse battery"));

    // Disabling is scoped to the organisation and kills the operator's unused link.
    assert!(matches!(
        store.disable_operator(a, other.id, now).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.disable_operator(a, OperatorId::new(), now).await,
        Err(StoreError::NotFound)
    ));
    store.disable_operator(b, other.id, now).await.unwrap();
    assert_eq!(
        store.setup_operator(&other_link.hash(), now).await.unwrap(),
        Err(SetupRefusal::OperatorDisabled)
    );
    assert_eq!(
        store.list_operators(b).await.unwrap()[0].status,
        OperatorStatus::Disabled
    );
}

pub async fn sessions_expire_are_revoked_and_die_with_their_operator(store: DynStore) {
    let now = t0();
    let org = named_org(&store, "Bank A").await;
    let (op, setup, link) = Operator::generate(org, "ops@bank.example", now).unwrap();
    store.create_operator(&op, &setup).await.unwrap();
    let op = store
        .complete_setup(&link.hash(), &password(), now)
        .await
        .unwrap()
        .unwrap();

    let (s1, t1) = NewSession::generate(&op, now);
    let (s2, t2) = NewSession::generate(&op, now);
    store.open_session(&s1).await.unwrap();
    store.open_session(&s2).await.unwrap();
    assert_eq!(
        store
            .session_operator(&t1.hash(), now + secs(1))
            .await
            .unwrap(),
        Some(op.clone())
    );
    assert_eq!(
        store
            .session_operator(&t1.hash(), now + SESSION_TTL)
            .await
            .unwrap(),
        None,
        "expired"
    );
    let forged: SecretHash = Secret::from_presented("bfop_forged").hash();
    assert_eq!(store.session_operator(&forged, now).await.unwrap(), None);

    store.revoke_session(&t1.hash(), now).await.unwrap();
    assert_eq!(store.session_operator(&t1.hash(), now).await.unwrap(), None);
    assert_eq!(
        store.session_operator(&t2.hash(), now).await.unwrap(),
        Some(op.clone()),
        "signing out ends only that session"
    );

    store.disable_operator(org, op.id, now).await.unwrap();
    assert_eq!(store.session_operator(&t2.hash(), now).await.unwrap(), None);
    assert!(store
        .login_candidates("ops@bank.example")
        .await
        .unwrap()
        .is_empty());
}

pub async fn failed_sign_ins_lock_an_email_until_the_lock_ends(store: DynStore) {
    let now = t0();
    let email = ThrottleKey::Email("ops@bank.example".into());
    let other = ThrottleKey::Email("someone@bank.example".into());
    let peer = ThrottleKey::Peer("192.0.2.7".into());
    let keys = [email.clone(), peer.clone()];
    for _ in 1..MAX_FAILURES_PER_EMAIL {
        store.record_login_failure(&keys, now).await.unwrap();
        assert!(!store.login_locked(&keys, now).await.unwrap());
    }
    store.record_login_failure(&keys, now).await.unwrap();
    assert!(store.login_locked(&keys, now).await.unwrap());
    assert!(store
        .login_locked(std::slice::from_ref(&email), now)
        .await
        .unwrap());
    assert!(
        !store
            .login_locked(std::slice::from_ref(&peer), now)
            .await
            .unwrap(),
        "the address has a larger budget"
    );
    assert!(!store.login_locked(&[other, peer], now).await.unwrap());
    assert!(!store.login_locked(&keys, now + LOCKOUT).await.unwrap());

    // A good sign-in forgets the email's failures.
    store
        .record_login_failure(&keys, now + LOCKOUT)
        .await
        .unwrap();
    store.clear_login_failures(&email).await.unwrap();
    for _ in 1..MAX_FAILURES_PER_EMAIL {
        store
            .record_login_failure(std::slice::from_ref(&email), now + LOCKOUT)
            .await
            .unwrap();
    }
    assert!(!store
        .login_locked(std::slice::from_ref(&email), now + LOCKOUT)
        .await
        .unwrap());
}
