//! Idempotency keys: a repeat replays the saved answer, a reuse for another request is refused,
//! a refused request saves nothing, and keys are scoped to the organisation.

use bankfeeds_domain::account::AccountPatch;
use bankfeeds_domain::{
    BankFeedAccount, Clock, Connection, Job, NewConnection, OrgId, PageRequest, Platform,
    SystemClock,
};
use bankfeeds_store::{
    DynStore, Idem, IdempotencyKey, Outcome, StoreError, StoreResult, StoredResponse,
};

use crate::helpers::{
    claim, create_fresh, draft_account, intuit_account, job, org, secs, setup, t0,
};

type RenderAccount = dyn Fn(&(BankFeedAccount, bool)) -> StoredResponse + Send + Sync;

/// Creates `a` under the idempotency key `key`, saving the answer `render` gives.
async fn create_keyed(
    store: &DynStore,
    a: &BankFeedAccount,
    key: &IdempotencyKey,
    render: &RenderAccount,
) -> StoreResult<Outcome<(BankFeedAccount, bool)>> {
    store
        .create_account(a, false, Some(Idem { key, render }))
        .await
}

/// The answer saved for a request.
fn answer(status: u16, body: String) -> StoredResponse {
    StoredResponse { status, body }
}

/// The key `key` of organisation `org`, for the request with this fingerprint.
fn idem_key(org: OrgId, key: &str, fingerprint: &str) -> IdempotencyKey {
    IdempotencyKey {
        org_id: org,
        key: key.into(),
        fingerprint: fingerprint.into(),
    }
}

pub async fn idempotent_account_writes_replay_and_refuse_reuse(store: DynStore) {
    let c = setup(&store, Platform::Xero).await;
    let now = SystemClock.now();
    let key = idem_key(c.org_id, "k-1", "fp-a");
    let render = |r: &(BankFeedAccount, bool)| answer(200, format!("created {}", r.0.id));
    let Outcome::Done((first, true)) =
        create_keyed(&store, &draft_account(&c, "ACC-1", now), &key, &render)
            .await
            .unwrap()
    else {
        panic!("first use does the work")
    };
    // The same key again, even for a request that would now conflict, replays the first answer.
    let replay = create_keyed(&store, &draft_account(&c, "ACC-1", now), &key, &render)
        .await
        .unwrap();
    assert_eq!(
        replay,
        Outcome::Replayed(StoredResponse {
            status: 200,
            body: format!("created {}", first.id)
        })
    );
    let reused = idem_key(key.org_id, &key.key, "fp-b");
    assert!(matches!(
        create_keyed(&store, &draft_account(&c, "ACC-2", now), &reused, &render).await,
        Err(StoreError::IdempotencyKeyReused)
    ));
    // A refused request saves nothing: the key stays free.
    let key2 = idem_key(c.org_id, "k-2", "fp-c");
    assert!(
        create_keyed(&store, &draft_account(&c, "ACC-1", now), &key2, &render)
            .await
            .is_err()
    );
    let Outcome::Done(_) = create_keyed(&store, &draft_account(&c, "ACC-3", now), &key2, &render)
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
    let Outcome::Done(_) = create_keyed(
        &store,
        &draft_account(&other, "ACC-1", now),
        &theirs,
        &render,
    )
    .await
    .unwrap() else {
        panic!("another organisation's key space is separate")
    };
}

pub async fn idempotent_job_submission_replays(store: DynStore) {
    let (o, c, a) = intuit_account(&store, "A").await;
    let now = t0();
    let key = idem_key(o, "batch-1", "fp-a");
    let render = |j: &Job| answer(202, format!("{{\"job\":\"{}\"}}", j.id));
    let idem = Idem {
        key: &key,
        render: &render,
    };
    let first = job(&c, Some(&a), now);
    assert_eq!(
        store.submit_job(&first, Some(idem)).await.unwrap(),
        Outcome::Done(first.clone())
    );
    let second = job(&c, Some(&a), now + secs(1));
    assert_eq!(
        store.submit_job(&second, Some(idem)).await.unwrap(),
        Outcome::Replayed(answer(202, format!("{{\"job\":\"{}\"}}", first.id)))
    );
    let reused = idem_key(key.org_id, &key.key, "fp-b");
    let reused_idem = Idem {
        key: &reused,
        ..idem
    };
    let third = job(&c, Some(&a), now + secs(2));
    assert!(matches!(
        store.submit_job(&third, Some(reused_idem)).await,
        Err(StoreError::IdempotencyKeyReused)
    ));
    assert_eq!(
        store.get_job(o, first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.get_job(o, second.id).await.unwrap(), None);
    assert_eq!(store.get_job(o, third.id).await.unwrap(), None);
    // Only the first job is queued.
    let claimed = claim(&store, None, now).await.unwrap();
    assert_eq!(claimed.id, first.id);
    assert_eq!(
        claim(&store, None, now).await,
        None,
        "no second job was queued"
    );
}

pub async fn idempotent_connection_creation_replays(store: DynStore) {
    let o = org(&store).await;
    let key = idem_key(o, "conn-1", "fp-a");
    let render = |c: &Connection| answer(201, format!("{{\"connection\":\"{}\"}}", c.id));
    let idem = Idem {
        key: &key,
        render: &render,
    };
    let fresh =
        || NewConnection::generate(o, Platform::Xero, Some("Acme Ltd"), SystemClock.now()).unwrap();
    let (first, _) = fresh();
    assert_eq!(
        store.create_connection(&first, Some(idem)).await.unwrap(),
        Outcome::Done(())
    );
    let (second, second_token) = fresh();
    assert_eq!(
        store.create_connection(&second, Some(idem)).await.unwrap(),
        Outcome::Replayed(answer(
            201,
            format!("{{\"connection\":\"{}\"}}", first.connection.id)
        ))
    );
    assert_eq!(
        store
            .find_connection_by_token(&second_token.hash())
            .await
            .unwrap(),
        None,
        "the repeat stores nothing"
    );
    let reused = idem_key(key.org_id, &key.key, "fp-b");
    let reused_idem = Idem {
        key: &reused,
        ..idem
    };
    let (third, _) = fresh();
    assert!(matches!(
        store.create_connection(&third, Some(reused_idem)).await,
        Err(StoreError::IdempotencyKeyReused)
    ));
    let page = PageRequest {
        after: None,
        limit: 50,
    };
    assert_eq!(
        store.list_connections(o, &page).await.unwrap().items,
        vec![first.connection.clone()],
        "only the first request created a connection"
    );
    // Another organisation's key space is separate.
    let other = org(&store).await;
    let theirs = IdempotencyKey {
        org_id: other,
        ..key.clone()
    };
    let (fourth, _) =
        NewConnection::generate(other, Platform::Xero, None, SystemClock.now()).unwrap();
    assert_eq!(
        store
            .create_connection(
                &fourth,
                Some(Idem {
                    key: &theirs,
                    render: &render
                })
            )
            .await
            .unwrap(),
        Outcome::Done(())
    );
}

pub async fn idempotent_account_updates_replay(store: DynStore) {
    let c = setup(&store, Platform::Xero).await;
    let now = SystemClock.now();
    let a = create_fresh(&store, &draft_account(&c, "ACC-1", now)).await;
    let key = idem_key(c.org_id, "patch-1", "fp-a");
    let render = |a: &BankFeedAccount| answer(200, format!("named {:?}", a.details.name));
    let idem = Idem {
        key: &key,
        render: &render,
    };
    let rename = |name: &str| {
        let mut details = serde_json::Map::new();
        details.insert("name".into(), serde_json::json!(name));
        AccountPatch {
            details,
            ..AccountPatch::default()
        }
    };
    let Outcome::Done(first) = store
        .update_account(c.id, a.id, &rename("First"), now + secs(1), Some(idem))
        .await
        .unwrap()
    else {
        panic!("first use does the work")
    };
    assert_eq!(first.details.name.as_deref(), Some("First"));
    assert_eq!(
        store
            .update_account(c.id, a.id, &rename("Second"), now + secs(2), Some(idem))
            .await
            .unwrap(),
        Outcome::Replayed(answer(200, "named Some(\"First\")".into()))
    );
    assert_eq!(
        store.get_account(c.id, a.id).await.unwrap().unwrap(),
        first,
        "the repeat changes nothing"
    );
    let reused = idem_key(key.org_id, &key.key, "fp-b");
    let reused_idem = Idem {
        key: &reused,
        ..idem
    };
    assert!(matches!(
        store
            .update_account(
                c.id,
                a.id,
                &rename("Third"),
                now + secs(3),
                Some(reused_idem)
            )
            .await,
        Err(StoreError::IdempotencyKeyReused)
    ));
    assert_eq!(store.get_account(c.id, a.id).await.unwrap().unwrap(), first);
}
