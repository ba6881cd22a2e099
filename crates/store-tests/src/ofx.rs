//! `OfxStore`: OFX Direct Connect credentials (one set per connection, hashed), their sign-on
//! lock, and marking what a client downloaded.

use bankfeeds_domain::ofx::{OfxCredentials, SignonOutcome, MAX_FAILED_SIGNONS};
use bankfeeds_domain::ofx_trnuid::{TrnuidUse, TrnuidVerdict};
use bankfeeds_domain::retention::RetentionPolicy;
use bankfeeds_domain::transaction::TransactionQuery;
use bankfeeds_domain::{Platform, Secret};
use bankfeeds_store::DynStore;
use chrono::TimeDelta;

use crate::helpers::{account, all_transactions, batch, connection, days, org, run_batch, t0, tx};

pub async fn ofx_credentials_are_hashed_replaced_and_revoked(store: DynStore) {
    let o = org(&store).await;
    let other_org = org(&store).await;
    let a = connection(&store, o, Platform::OfxDirectConnect).await;
    let b = connection(&store, o, Platform::OfxDirectConnect).await;
    let now = t0();
    let (first, p1) = OfxCredentials::generate(&a, now);
    store.replace_ofx_credentials(&first).await.unwrap();
    let found = store
        .find_ofx_credentials(o, &first.user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, first);
    assert_ne!(found.password_hash.to_hex(), p1.expose(), "only the hash");
    assert_eq!(found.judge(&p1, now), SignonOutcome::Accepted);
    assert_eq!(
        store
            .find_ofx_credentials(other_org, &first.user_id)
            .await
            .unwrap(),
        None,
        "a user id names a set only in its own organisation"
    );

    let (second, p2) = OfxCredentials::generate(&a, now);
    let (theirs, _) = OfxCredentials::generate(&b, now);
    store.replace_ofx_credentials(&second).await.unwrap();
    store.replace_ofx_credentials(&theirs).await.unwrap();
    assert_eq!(
        store.find_ofx_credentials(o, &first.user_id).await.unwrap(),
        None,
        "a new set replaces the old one"
    );
    let got = store
        .find_ofx_credentials(o, &second.user_id)
        .await
        .unwrap();
    assert_eq!(got.unwrap().judge(&p2, now), SignonOutcome::Accepted);

    assert!(store.revoke_ofx_credentials(a.id).await.unwrap());
    assert!(!store.revoke_ofx_credentials(a.id).await.unwrap());
    assert_eq!(
        store
            .find_ofx_credentials(o, &second.user_id)
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .find_ofx_credentials(o, &theirs.user_id)
            .await
            .unwrap()
            .is_some(),
        "another connection's set stays"
    );
}

pub async fn failed_ofx_signons_lock_the_user_until_the_lock_expires(store: DynStore) {
    let o = org(&store).await;
    let c = connection(&store, o, Platform::OfxDirectConnect).await;
    let now = t0();
    let (creds, password) = OfxCredentials::generate(&c, now);
    store.replace_ofx_credentials(&creds).await.unwrap();
    let wrong = Secret::from_presented("guess");
    let attempt = |p: Secret, at| {
        let store = store.clone();
        let user = creds.user_id.clone();
        async move {
            let stored = store.find_ofx_credentials(o, &user).await.unwrap().unwrap();
            let outcome = stored.judge(&p, at);
            store
                .record_ofx_signon(o, &user, outcome, at)
                .await
                .unwrap()
                .unwrap();
            outcome
        }
    };
    for _ in 0..MAX_FAILED_SIGNONS - 1 {
        assert_eq!(attempt(wrong.clone(), now).await, SignonOutcome::Refused);
    }
    assert_eq!(
        attempt(password.clone(), now).await,
        SignonOutcome::Accepted
    );
    let stored = store.find_ofx_credentials(o, &creds.user_id).await.unwrap();
    assert_eq!(stored.unwrap().failed_signons, 0, "a good sign-on clears");
    for _ in 0..MAX_FAILED_SIGNONS {
        assert_eq!(attempt(wrong.clone(), now).await, SignonOutcome::Refused);
    }
    assert_eq!(attempt(password.clone(), now).await, SignonOutcome::Locked);
    let later = now + TimeDelta::hours(1);
    assert_eq!(attempt(password, later).await, SignonOutcome::Accepted);
    assert_eq!(
        store
            .record_ofx_signon(o, "bfnobody", SignonOutcome::Refused, now)
            .await
            .unwrap(),
        None
    );
}

pub async fn downloads_mark_only_what_was_returned(store: DynStore) {
    let o = org(&store).await;
    let c = connection(&store, o, Platform::OfxDirectConnect).await;
    let x = account(&store, &c, "X").await;
    let now = t0();
    let rows: Vec<_> = (0..4)
        .map(|i| tx(&format!("X{i}"), now - days(4 - i), "-1.50"))
        .collect();
    run_batch(&store, &c, &x, &batch(&x, None, rows), now)
        .await
        .1
        .unwrap();
    let all = all_transactions(&store, &c).await;
    let at = now + TimeDelta::seconds(5);
    let first_two: Vec<_> = all[..2].iter().map(|t| t.id).collect();
    assert_eq!(
        store.mark_downloaded(x.id, &first_two, at).await.unwrap(),
        2
    );
    assert_eq!(
        store.mark_downloaded(x.id, &first_two, at).await.unwrap(),
        0
    );
    let pending = store
        .list_transactions(
            c.id,
            &TransactionQuery {
                platform_ingested: Some(false),
                limit: 10,
                ..TransactionQuery::default()
            },
        )
        .await
        .unwrap();
    let left: Vec<_> = pending
        .items
        .iter()
        .map(|t| t.data.transaction_id.as_str())
        .collect();
    assert_eq!(left, ["X2", "X3"]);
    let a = store.get_account(c.id, x.id).await.unwrap().unwrap();
    assert_eq!(a.last_synced_at, Some(at));
}

pub async fn trnuids_are_judged_per_user_and_forgotten_after_their_horizon(store: DynStore) {
    use TrnuidVerdict::{New, Retry, Reused};
    let o = org(&store).await;
    let other = org(&store).await;
    let now = t0();
    let statement = |id: &str, from: &str| TrnuidUse::new(id, &format!("STMTRQ|1001|{from}"));
    let judged = |org, user: &'static str, uses: Vec<TrnuidUse>, at| {
        let store = store.clone();
        async move {
            store
                .record_ofx_trnuids(org, user, &uses, at)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        judged(
            o,
            "alice",
            vec![statement("T1", "0101"), statement("T2", "0101")],
            now
        )
        .await,
        [New, New]
    );
    // A retry of T1, T1 asking for another range, and a new one; within one file too.
    assert_eq!(
        judged(
            o,
            "alice",
            vec![
                statement("T1", "0101"),
                statement("T1", "0201"),
                statement("T3", "0101"),
                statement("T3", "0301")
            ],
            now,
        )
        .await,
        [Retry, Reused, New, Reused]
    );
    // A reuse is not remembered in place of the first use.
    assert_eq!(
        judged(o, "alice", vec![statement("T1", "0101")], now).await,
        [Retry]
    );
    // Another user, or the same user id in another organisation, has its own TRNUIDs.
    assert_eq!(
        judged(o, "bob", vec![statement("T1", "0201")], now).await,
        [New]
    );
    assert_eq!(
        judged(other, "alice", vec![statement("T1", "0201")], now).await,
        [New]
    );
    assert!(store
        .record_ofx_trnuids(o, "alice", &[], now)
        .await
        .unwrap()
        .is_empty());

    // Past the horizon a TRNUID is forgotten; one seen inside it stays.
    let later = now + days(10);
    assert_eq!(
        judged(o, "alice", vec![statement("T9", "0101")], later).await,
        [New]
    );
    let policy = RetentionPolicy {
        expired_link_secrets: None,
        idempotency_keys: None,
        job_bodies: None,
        ofx_trnuids: Some(days(5)),
        webhook_history: None,
    };
    let mut deleted = 0;
    for purge in policy.purges(later) {
        loop {
            let n = store.purge(purge, 2, later).await.unwrap();
            deleted += n;
            if n < 2 {
                break;
            }
        }
    }
    assert_eq!(
        deleted, 5,
        "T1, T2, T3 of alice, T1 of bob and of the other organisation"
    );
    assert_eq!(
        judged(
            o,
            "alice",
            vec![statement("T1", "0201"), statement("T9", "0201")],
            later
        )
        .await,
        [New, Reused]
    );
}
