//! `DeliveryStore`: fan-out from the events feed, claims under a lease in order per endpoint,
//! attempts, the failure streak, recover.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bankfeeds_domain::webhook::delivery::{Delivery, RetryPolicy, TryRecord, TryResult};
use bankfeeds_domain::webhook::{decide_create, WebhookEndpoint, WebhookRequest, WebhookStatus};
use bankfeeds_domain::{Clock, Connection, OrgId, Platform, SystemClock, Timestamp};
use bankfeeds_store::{DynStore, Outcome, StoreError};

use crate::helpers::{create_fresh, draft_account, events_of, secs, setup};

async fn endpoint(store: &DynStore, org: OrgId, types: &[&str]) -> WebhookEndpoint {
    let req = WebhookRequest {
        url: "https://hooks.example.com/in".into(),
        event_types: types.iter().map(|t| t.to_string()).collect(),
        description: None,
    };
    let e = decide_create(org, &req, false, SystemClock.now()).unwrap();
    store.create_webhook(&e, None, None).await.unwrap();
    e
}

/// Fans out until `n` deliveries wait: on PostgreSQL a transaction open elsewhere on the server
/// may hold the feed back for a moment (never reorder it).
async fn settle(store: &DynStore, n: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        store.fan_out_events(100, SystemClock.now()).await.unwrap();
        let depth = store.delivery_queue_depth().await.unwrap();
        if depth >= n || std::time::Instant::now() > deadline {
            assert_eq!(depth, n, "deliveries waiting");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn answered(status: u16) -> TryRecord {
    TryRecord {
        result: TryResult::Answered {
            status,
            retry_after: None,
        },
        latency_ms: 3,
        response: format!("status {status}"),
        error: None,
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        schedule: vec![Duration::from_secs(10), Duration::from_secs(20)],
        jitter: 0.0,
        disable_after: Duration::from_secs(3600),
        max_retry_after: Duration::from_secs(60),
    }
}

async fn claim(store: &DynStore, holder: &str, now: Timestamp) -> Option<Delivery> {
    store
        .claim_delivery(holder, now + secs(30), now)
        .await
        .unwrap()
}

pub async fn deliveries_follow_filters_and_go_in_order_per_endpoint(store: DynStore) {
    let c = setup(&store, Platform::Xero).await; // before the endpoints: not delivered
    let other = setup(&store, Platform::Xero).await;
    let only_accounts = endpoint(&store, c.org_id, &["bank_feed_account.created"]).await;
    let every = endpoint(&store, c.org_id, &[]).await;
    let elsewhere = endpoint(&store, other.org_id, &["bank_feed_account.created"]).await;
    // With every kind, an endpoint's first delivery is its own creation.
    settle(&store, 1).await;
    let now = SystemClock.now();
    let own = claim(&store, "a", now).await.unwrap();
    assert_eq!(own.endpoint.id, every.id);
    assert_eq!(own.event.kind.as_str(), "webhook.changed");
    assert_eq!(own.event.payload["change"], "created");
    assert_eq!(own.event.payload["webhook_id"], every.id.to_string());
    store
        .finish_delivery(own.id, "a", &answered(204), &policy(), 0.5, now)
        .await
        .unwrap();
    let now = SystemClock.now();
    create_fresh(&store, &draft_account(&c, "ACC-1", now)).await;
    create_fresh(&store, &draft_account(&c, "ACC-2", now)).await;
    // two to `only_accounts`, two to `every`, none to `elsewhere`
    settle(&store, 4).await;
    assert_eq!(store.fan_out_events(100, now).await.unwrap(), 0, "once");

    let now = SystemClock.now();
    let first = claim(&store, "a", now).await.unwrap();
    let second = claim(&store, "a", now).await.unwrap();
    assert_ne!(
        first.endpoint.id, second.endpoint.id,
        "one at a time per endpoint"
    );
    assert!(
        claim(&store, "a", now).await.is_none(),
        "each head is leased"
    );
    for d in [&first, &second] {
        assert_eq!(d.tries_before, 0);
        assert_eq!(d.event.org_id, c.org_id);
        assert_eq!(d.event.kind.as_str(), "bank_feed_account.created");
        assert_ne!(d.endpoint.id, elsewhere.id);
    }
    // A failure puts the head back for later; the endpoint's next event waits behind it.
    let failing = if first.endpoint.id == every.id {
        &first
    } else {
        &second
    };
    let ok = if first.endpoint.id == every.id {
        &second
    } else {
        &first
    };
    store
        .finish_delivery(failing.id, "a", &answered(500), &policy(), 0.5, now)
        .await
        .unwrap();
    store
        .finish_delivery(ok.id, "a", &answered(204), &policy(), 0.5, now)
        .await
        .unwrap();
    let next = claim(&store, "a", now).await.unwrap();
    assert_eq!(next.endpoint.id, only_accounts.id, "its second event");
    assert!(next.event.seq > ok.event.seq);
    assert!(
        claim(&store, "a", now).await.is_none(),
        "`every` waits for its retry"
    );
    store
        .finish_delivery(next.id, "a", &answered(200), &policy(), 0.5, now)
        .await
        .unwrap();
    let retry = claim(&store, "a", now + secs(11)).await.unwrap();
    assert_eq!((retry.id, retry.tries_before), (failing.id, 1));

    let attempts = store
        .list_attempts(c.org_id, every.id, None, 10)
        .await
        .unwrap();
    assert_eq!(
        attempts.len(),
        2,
        "its creation's, then this one (newest first)"
    );
    assert_eq!(attempts[1].status_code, Some(204));
    assert_eq!(attempts[0].status_code, Some(500));
    assert!(!attempts[0].succeeded);
    assert_eq!(attempts[0].response, "status 500");
    assert!(matches!(
        store.list_attempts(other.org_id, every.id, None, 10).await,
        Err(StoreError::NotFound)
    ));
    // The schedule spent, the delivery fails for good and the next one goes.
    store
        .finish_delivery(
            retry.id,
            "a",
            &answered(500),
            &policy(),
            0.5,
            now + secs(11),
        )
        .await
        .unwrap();
    let last = claim(&store, "a", now + secs(40)).await.unwrap();
    assert_eq!(last.id, retry.id, "its second retry");
    store
        .finish_delivery(
            last.id,
            "a",
            &TryRecord {
                result: TryResult::NoAnswer,
                latency_ms: 15_000,
                response: String::new(),
                error: Some("timed out".into()),
            },
            &policy(),
            0.5,
            now + secs(40),
        )
        .await
        .unwrap();
    let after = claim(&store, "a", now + secs(41)).await.unwrap();
    assert_eq!(after.endpoint.id, every.id);
    assert!(after.event.seq > retry.event.seq);
    let attempts = store
        .list_attempts(c.org_id, every.id, None, 2)
        .await
        .unwrap();
    assert_eq!(attempts[0].error.as_deref(), Some("timed out"));
    assert_eq!(attempts[0].status_code, None);
    let older = store
        .list_attempts(c.org_id, every.id, Some(attempts[1].id), 10)
        .await
        .unwrap();
    assert_eq!(older.len(), 2, "paged by id: the first 500, the creation");
    assert_eq!(older[0].status_code, Some(500));
}

pub async fn two_claimers_never_send_one_delivery_twice(store: DynStore) {
    let c = setup(&store, Platform::Xero).await;
    // (Filtered: with every kind, each would also be sent its own and the later ones' creation.)
    for _ in 0..4 {
        endpoint(&store, c.org_id, &["bank_feed_account.created"]).await;
    }
    let now = SystemClock.now();
    for i in 0..3 {
        create_fresh(&store, &draft_account(&c, &format!("ACC-{i}"), now)).await;
    }
    settle(&store, 12).await;
    let run = |holder: &'static str| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let now = SystemClock.now();
                let Some(d) = store
                    .claim_delivery(holder, now + secs(30), now)
                    .await
                    .unwrap()
                else {
                    if store.delivery_queue_depth().await.unwrap() == 0 {
                        return got;
                    }
                    tokio::task::yield_now().await;
                    continue;
                };
                got.push((d.endpoint.id, d.event.seq, d.id));
                store
                    .finish_delivery(d.id, holder, &answered(200), &policy(), 0.5, now)
                    .await
                    .unwrap();
            }
        })
    };
    let (a, b) = (run("one"), run("two"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let mut seen = HashSet::new();
    for (_, _, id) in a.iter().chain(&b) {
        assert!(seen.insert(*id), "delivery {id} sent twice");
    }
    assert_eq!(seen.len(), 12);
    // Each claimer's view of an endpoint is in event order (the other's interleave).
    let mut per_endpoint: HashMap<_, Vec<(i64, i64)>> = HashMap::new();
    for (e, seq, id) in a.iter().chain(&b) {
        per_endpoint.entry(*e).or_default().push((*id, *seq));
    }
    for list in per_endpoint.values_mut() {
        list.sort();
        assert!(list.windows(2).all(|w| w[0].1 < w[1].1));
    }
}

/// A connection, an endpoint taking account creations, and one delivery waiting for it.
async fn one_waiting(store: &DynStore) -> (Connection, WebhookEndpoint) {
    let c = setup(store, Platform::Xero).await;
    let e = endpoint(store, c.org_id, &["bank_feed_account.created"]).await;
    create_fresh(store, &draft_account(&c, "ACC-1", SystemClock.now())).await;
    settle(store, 1).await;
    (c, e)
}

pub async fn an_endpoint_failing_long_enough_is_disabled_with_an_event(store: DynStore) {
    let (c, e) = one_waiting(&store).await;
    let now = SystemClock.now();
    let p = RetryPolicy {
        disable_after: Duration::from_secs(15),
        ..policy()
    };
    let d = claim(&store, "a", now).await.unwrap();
    store
        .finish_delivery(d.id, "a", &answered(503), &p, 0.5, now)
        .await
        .unwrap();
    let d = claim(&store, "a", now + secs(10)).await.unwrap();
    store
        .finish_delivery(d.id, "a", &answered(503), &p, 0.5, now + secs(16))
        .await
        .unwrap();
    let stored = store.get_webhook(c.org_id, e.id).await.unwrap().unwrap();
    assert_eq!(stored.status, WebhookStatus::Disabled);
    let disabled = events_of(&store, c.org_id, "webhook.disabled").await;
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].payload["webhook_id"], e.id.to_string());
    assert!(
        claim(&store, "a", now + secs(60)).await.is_none(),
        "a disabled endpoint gets nothing"
    );
}

pub async fn recover_sends_again_what_was_fanned_out_since(store: DynStore) {
    let c = setup(&store, Platform::Xero).await;
    let other = setup(&store, Platform::Xero).await;
    let e = endpoint(&store, c.org_id, &["bank_feed_account.created"]).await;
    let now = SystemClock.now();
    create_fresh(&store, &draft_account(&c, "ACC-1", now)).await;
    create_fresh(&store, &draft_account(&c, "ACC-2", now)).await;
    settle(&store, 2).await;
    let now = SystemClock.now();
    for _ in 0..2 {
        let d = claim(&store, "a", now).await.unwrap();
        store
            .finish_delivery(d.id, "a", &answered(200), &policy(), 0.5, now)
            .await
            .unwrap();
    }
    assert_eq!(store.delivery_queue_depth().await.unwrap(), 0);
    assert!(matches!(
        store
            .recover_webhook(other.org_id, e.id, now - secs(60), 100, now, None, None)
            .await,
        Err(StoreError::NotFound)
    ));
    // Under an Idempotency-Key: a retry is answered as the first call was, queuing nothing.
    let key = bankfeeds_store::IdempotencyKey {
        org_id: c.org_id,
        key: "recover-1".into(),
        fingerprint: "POST /versioned/webhooks/recover".into(),
    };
    let render = |n: &u64| bankfeeds_store::StoredResponse {
        status: 202,
        body: format!("{{\"queued\":{n}}}"),
    };
    let idem = || {
        Some(bankfeeds_store::Idem {
            key: &key,
            render: &render,
        })
    };
    let n = store
        .recover_webhook(c.org_id, e.id, now - secs(60), 100, now, None, idem())
        .await
        .unwrap();
    assert_eq!(n, Outcome::Done(2), "only the kinds it takes");
    let again = store
        .recover_webhook(c.org_id, e.id, now - secs(60), 100, now, None, idem())
        .await
        .unwrap();
    let Outcome::Replayed(saved) = again else {
        panic!("a retry replays: {again:?}");
    };
    assert_eq!(
        (saved.status, saved.body.as_str()),
        (202, r#"{"queued":2}"#)
    );
    assert_eq!(
        store.delivery_queue_depth().await.unwrap(),
        2,
        "queued once"
    );
    let d = claim(&store, "a", now).await.unwrap();
    assert_eq!(d.event.kind.as_str(), "bank_feed_account.created");
    assert_eq!(
        store
            .recover_webhook(c.org_id, e.id, now + secs(60), 100, now, None, None)
            .await
            .unwrap(),
        Outcome::Done(0)
    );
    // A deleted endpoint takes its deliveries and attempts with it.
    store
        .delete_webhook(c.org_id, e.id, SystemClock.now(), None)
        .await
        .unwrap();
    assert_eq!(store.delivery_queue_depth().await.unwrap(), 0);
}

/// Retention purges webhook attempts past their horizon and finished deliveries, never a
/// pending one (still work to do).
pub async fn retention_purges_webhook_history_but_never_pending_deliveries(store: DynStore) {
    use bankfeeds_domain::retention::Purge;
    let c = setup(&store, Platform::Xero).await;
    let every = endpoint(&store, c.org_id, &["bank_feed_account.created"]).await;
    let now = SystemClock.now();
    create_fresh(&store, &draft_account(&c, "ACC-1", now)).await;
    create_fresh(&store, &draft_account(&c, "ACC-2", now)).await;
    settle(&store, 2).await;
    let now = SystemClock.now();
    let delivered = claim(&store, "a", now).await.unwrap();
    store
        .finish_delivery(delivered.id, "a", &answered(204), &policy(), 0.5, now)
        .await
        .unwrap();
    let failing = claim(&store, "a", now).await.unwrap();
    store
        .finish_delivery(failing.id, "a", &answered(500), &policy(), 0.5, now)
        .await
        .unwrap();
    let attempts = |store: DynStore| async move {
        store
            .list_attempts(c.org_id, every.id, None, 100)
            .await
            .unwrap()
            .len()
    };
    assert_eq!(attempts(store.clone()).await, 2);

    // Within the horizon: nothing goes.
    let earlier = now - secs(1);
    let purge = |p| store.purge(p, 1000, now);
    assert_eq!(
        purge(Purge::WebhookAttempts {
            attempted_before: earlier
        })
        .await
        .unwrap(),
        0
    );
    assert_eq!(
        purge(Purge::WebhookDeliveries {
            finished_before: earlier
        })
        .await
        .unwrap(),
        0
    );

    let later = now + secs(1);
    assert_eq!(
        purge(Purge::WebhookAttempts {
            attempted_before: later
        })
        .await
        .unwrap(),
        2
    );
    assert_eq!(attempts(store.clone()).await, 0);
    assert_eq!(
        purge(Purge::WebhookDeliveries {
            finished_before: later
        })
        .await
        .unwrap(),
        1,
        "the delivered one; the failing one is still pending"
    );
    assert_eq!(store.delivery_queue_depth().await.unwrap(), 1);
    // The pending delivery is still claimed and sent when its retry is due.
    let retried = claim(&store, "a", now + secs(3600)).await.unwrap();
    assert_eq!(retried.id, failing.id);
}

/// A delivery its claimer cannot sign goes back uncounted: no attempt, the same try number for
/// whoever claims it next, due again at the time given, and only the lease holder can hand it
/// back.
pub async fn a_delivery_handed_back_counts_no_try(store: DynStore) {
    let (c, e) = one_waiting(&store).await;

    let now = SystemClock.now();
    let d = claim(&store, "no-key", now).await.unwrap();
    assert_eq!(d.tries_before, 0);
    assert!(
        !store
            .hand_back_delivery(d.id, "someone-else", now, now)
            .await
            .unwrap(),
        "only the holder hands it back"
    );
    let later = now + secs(30);
    assert!(store
        .hand_back_delivery(d.id, "no-key", later, now)
        .await
        .unwrap());
    assert!(
        claim(&store, "with-key", now).await.is_none(),
        "not due before the time given"
    );
    let again = claim(&store, "with-key", later).await.unwrap();
    assert_eq!(again.id, d.id);
    assert_eq!(again.tries_before, 0, "the handed-back claim was no try");
    let attempts = store.list_attempts(c.org_id, e.id, None, 10).await.unwrap();
    assert!(attempts.is_empty(), "nothing recorded: {attempts:?}");
    assert!(
        !store
            .hand_back_delivery(d.id, "no-key", later, later)
            .await
            .unwrap(),
        "its lease is another's now"
    );
}
