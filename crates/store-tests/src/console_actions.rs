//! The console's writes and the overview's health reads: each action's event names the
//! operator who took it (the plain methods record none), the stale window's days and the
//! webhook health of one organisation only.

use bankfeeds_domain::console::{stale_window_start, FeedDays, WebhookHealth};
use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::operator::OperatorId;
use bankfeeds_domain::webhook::{decide_create, WebhookRequest};
use bankfeeds_domain::{Platform, Secret, SecretKind};
use bankfeeds_store::{DynStore, StoreError};
use serde_json::{json, Value};

use crate::helpers::{
    account, active, batch, connection, days, events_of, named_org, run_batch, t0, tx,
};

fn config(org: bankfeeds_domain::OrgId, now: bankfeeds_domain::Timestamp) -> FiConfig {
    FiConfig {
        logo_url: None,
        ..crate::fi_configs::config(org, Platform::Xero, "First Community", now)
    }
}

pub async fn console_actions_record_their_operator(store: DynStore) {
    let now = t0();
    let a = named_org(&store, "Bank A").await;
    let b = named_org(&store, "Bank B").await;
    let op = OperatorId::new();

    let secret = Secret::generate(SecretKind::ClientSecret);
    store
        .rotate_client_secret_by(a, &secret.hash(), Some(op), now)
        .await
        .unwrap();
    store
        .rotate_client_secret(a, &Secret::generate(SecretKind::ClientSecret).hash())
        .await
        .unwrap();
    let rotated = events_of(&store, a, "organisation.client_secret_rotated").await;
    let by: Vec<&Value> = rotated.iter().map(|e| &e.payload["operator_id"]).collect();
    assert_eq!(by, vec![&json!(op), &Value::Null]);
    assert!(events_of(&store, b, "organisation.client_secret_rotated")
        .await
        .is_empty());
    assert!(matches!(
        store
            .rotate_client_secret_by(
                bankfeeds_domain::OrgId::new(),
                &secret.hash(),
                Some(op),
                now
            )
            .await,
        Err(StoreError::NotFound)
    ));

    let stored = store
        .put_fi_config_by(&config(a, now), Some(op))
        .await
        .unwrap();
    assert_eq!(stored.display_name, "First Community");
    store
        .put_fi_config(&config(a, now + days(1)))
        .await
        .unwrap();
    let updated = events_of(&store, a, "bank_feeds_config.updated").await;
    assert_eq!(updated.len(), 2);
    assert_eq!(updated[0].payload["operator_id"], json!(op));
    assert_eq!(updated[0].payload["platform"], "XERO");
    assert_eq!(updated[1].payload["operator_id"], Value::Null);

    // A deletion's one event carries the operator; the API's carries none.
    let c1 = connection(&store, a, Platform::Xero).await;
    let c2 = connection(&store, a, Platform::Xero).await;
    store
        .delete_connection_by(a, c1.id, now, Some(op))
        .await
        .unwrap();
    store.delete_connection(a, c2.id, now).await.unwrap();
    let deleted = events_of(&store, a, "connection.deleted").await;
    assert_eq!(deleted.len(), 2);
    assert_eq!(deleted[0].payload["operator_id"], json!(op));
    assert_eq!(deleted[0].payload["connection_id"], json!(c1.id));
    assert!(deleted[1].payload.get("operator_id").is_none());
    let theirs = connection(&store, b, Platform::Xero).await;
    assert!(matches!(
        store
            .delete_connection_by(a, theirs.id, now, Some(op))
            .await,
        Err(StoreError::NotFound)
    ));
    // A Rutter-door connection has no customer.
    assert_eq!(
        store.find_customer_connection(b, theirs.id).await.unwrap(),
        None
    );
}

pub async fn feed_days_and_webhook_health_are_the_organisations(store: DynStore) {
    let now = t0();
    let today = now.date_naive();
    let since = stale_window_start(today);
    let a = named_org(&store, "Bank A").await;
    let b = named_org(&store, "Bank B").await;
    let ca = connection(&store, a, Platform::Xero).await;
    let cb = connection(&store, b, Platform::Xero).await;
    let recent = account(&store, &ca, "chk-1").await;
    let old = account(&store, &ca, "chk-2").await;
    let _never = account(&store, &ca, "chk-3").await;
    let theirs = account(&store, &cb, "chk-1").await;
    for (c, acct, txs) in [
        (
            &ca,
            &recent,
            vec![
                tx("r1", now - days(3), "1.00"),
                tx("r2", now - days(3), "2.00"),
                tx("r3", now - days(1), "3.00"),
            ],
        ),
        (&ca, &old, vec![tx("o1", now - days(200), "1.00")]),
        (&cb, &theirs, vec![tx("t1", now - days(1), "1.00")]),
    ] {
        store
            .set_feed_state(acct.id, &active(None), now)
            .await
            .unwrap();
        let (_, done) = run_batch(&store, c, acct, &batch(acct, None, txs), now).await;
        assert!(done.is_ok(), "{done:?}");
    }
    let mut found = store.feed_days(a, since).await.unwrap();
    assert_eq!(
        found.len(),
        3,
        "the organisation's three feeds, not the other's"
    );
    for f in &mut found {
        f.posting_days.sort();
    }
    let d = |n: i64| (now - days(n)).date_naive();
    assert!(found.contains(&FeedDays {
        posting_days: vec![d(3), d(1)],
        posted_before: false,
        closed: vec![],
    }));
    assert!(found.contains(&FeedDays {
        posting_days: vec![],
        posted_before: true,
        closed: vec![],
    }));
    assert!(found.contains(&FeedDays::default()));

    assert_eq!(
        store.webhook_health(a, now - days(1)).await.unwrap(),
        WebhookHealth::default()
    );
    let req = WebhookRequest {
        url: "https://hooks.example.com/a".into(),
        event_types: vec![],
        description: None,
    };
    let endpoint = decide_create(a, &req, false, now).unwrap();
    store.create_webhook(&endpoint, None, None).await.unwrap();
    let health = store.webhook_health(a, now - days(1)).await.unwrap();
    assert_eq!((health.endpoints, health.disabled), (1, 0));
    assert_eq!(
        store.webhook_health(b, now - days(1)).await.unwrap(),
        WebhookHealth::default(),
        "another organisation's endpoints are not counted"
    );
}
