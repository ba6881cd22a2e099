//! An idle hub leaves SQLite's one writer alone: the webhook worker's twice-a-second questions
//! (anything to fan out? any delivery due?) are answered by a reader when the answer is no, so
//! they never wait behind — or hold up — a batch being written.

use std::time::Duration;

use bankfeeds_domain::webhook::{decide_create, WebhookRequest};
use bankfeeds_domain::{Clock, NewOrg, SystemClock};
use bankfeeds_store::prelude::*;

use crate::SqliteDb;

#[tokio::test]
async fn idle_webhook_polls_do_not_need_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hub.db").display());
    let store = SqliteDb::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let now = SystemClock.now();
    let (org, _) = NewOrg::generate("Demo Bank", now).unwrap();
    store.create_org(&org).await.unwrap();
    let req = WebhookRequest {
        url: "https://hooks.example.com/in".into(),
        // (Not every kind: the endpoint's own creation would be waiting to be sent.)
        event_types: vec!["bank_feed_account.created".into()],
        description: None,
    };
    let endpoint = decide_create(org.org.id, &req, false, now).unwrap();
    store.create_webhook(&endpoint, None, None).await.unwrap();
    // Caught up: the endpoint starts at the feed's head.
    while store.fan_out_events(100, now).await.unwrap() > 0 {}

    // Another writer holds the lock (a long batch, say).
    let held = store.write_tx().await.unwrap();
    let idle = async {
        assert_eq!(store.fan_out_events(100, now).await.unwrap(), 0);
        let later = now + chrono::TimeDelta::seconds(1);
        assert!(store
            .claim_delivery("a", later, now)
            .await
            .unwrap()
            .is_none());
    };
    tokio::time::timeout(Duration::from_secs(3), idle)
        .await
        .expect("idle polls answered without waiting for the writer");
    drop(held);
}
