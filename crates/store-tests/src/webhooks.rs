//! `WebhookStore`: endpoints per organisation, and the events feed.

use bankfeeds_domain::webhook::{
    decide_create, EventCursor, SecretAtRest, WebhookPatch, WebhookRequest, WebhookStatus,
    MAX_WEBHOOKS_PER_ORG,
};
use bankfeeds_domain::{Clock, OrgId, Platform, SystemClock};
use bankfeeds_store::{DynStore, EventKind, IdempotencyKey, Outcome, StoreError, StoreResult};

use crate::events::{account_lifecycle, LIFECYCLE_EVENTS};
use crate::helpers::{active, create_fresh, draft_account, org, setup};

fn endpoint(org: OrgId, url: &str) -> bankfeeds_domain::webhook::WebhookEndpoint {
    let req = WebhookRequest {
        url: url.into(),
        event_types: vec!["job.failed".into(), "connection.created".into()],
        description: Some("ops".into()),
    };
    decide_create(org, &req, false, SystemClock.now()).unwrap()
}

pub async fn webhooks_round_trip(store: DynStore) {
    let org = org(&store).await;
    let other = crate::helpers::org(&store).await;
    let e = endpoint(org, "https://hooks.example.com/a");
    assert_eq!(
        store.create_webhook(&e, None, None).await.unwrap(),
        Outcome::Done(())
    );
    assert_eq!(store.get_webhook(org, e.id).await.unwrap(), Some(e.clone()));
    assert_eq!(
        store.list_webhooks(org).await.unwrap(),
        std::slice::from_ref(&e)
    );
    // Another organisation sees nothing of it.
    assert_eq!(store.get_webhook(other, e.id).await.unwrap(), None);
    assert!(store.list_webhooks(other).await.unwrap().is_empty());
    assert!(matches!(
        store
            .delete_webhook(other, e.id, SystemClock.now(), None)
            .await,
        Err(StoreError::NotFound)
    ));

    let later = e.created_at + chrono::TimeDelta::seconds(5);
    let patch = WebhookPatch {
        enabled: Some(false),
        event_types: Some(vec![]),
        description: Some(None),
        ..WebhookPatch::default()
    };
    let Outcome::Done(patched) = store
        .update_webhook(org, e.id, &patch, false, later, None, None)
        .await
        .unwrap()
    else {
        panic!("no key, no replay")
    };
    assert_eq!(patched.status, WebhookStatus::Disabled);
    assert!(patched.event_types.is_empty() && patched.description.is_none());
    assert_eq!(
        store.get_webhook(org, e.id).await.unwrap(),
        Some(patched.clone())
    );
    // The domain's refusal comes back with its code, and nothing changes.
    let bad = WebhookPatch {
        url: Some("http://hooks.example.com/".into()),
        ..WebhookPatch::default()
    };
    match store
        .update_webhook(org, e.id, &bad, false, later, None, None)
        .await
    {
        Err(StoreError::Invalid { code, .. }) => assert_eq!(code, "WEBHOOK_URL_NOT_ALLOWED"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        store.get_webhook(org, e.id).await.unwrap(),
        Some(patched.clone())
    );

    // The store keeps the secret exactly as it is given: here as a server with a key ring
    // seals it (opaque base64, nothing like `whsec_`).
    let secret = SecretAtRest::new("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=".into());
    let operator = bankfeeds_domain::operator::OperatorId::new();
    let rotated = store
        .rotate_webhook_secret(org, e.id, &secret, later, Some(operator))
        .await
        .unwrap();
    assert_eq!(rotated.secret, secret);
    assert_ne!(rotated.secret, e.secret);
    assert_eq!(store.get_webhook(org, e.id).await.unwrap(), Some(rotated));

    store
        .delete_webhook(org, e.id, SystemClock.now(), Some(operator))
        .await
        .unwrap();
    assert_eq!(store.get_webhook(org, e.id).await.unwrap(), None);
    // Each change is a `webhook.changed` event (the refused one none), naming the console
    // operator who made it; none reaches another organisation.
    let changes: Vec<_> = crate::helpers::events_of(&store, org, "webhook.changed")
        .await
        .into_iter()
        .map(|ev| {
            assert_eq!(ev.resource_id, e.id.to_string());
            assert_eq!(ev.payload["webhook_id"], e.id.to_string());
            (
                ev.payload["change"].clone(),
                ev.payload.get("operator_id").cloned(),
            )
        })
        .collect();
    let by = Some(serde_json::json!(operator));
    assert_eq!(
        changes,
        vec![
            ("created".into(), None),
            ("updated".into(), None),
            ("secret_rotated".into(), by.clone()),
            ("deleted".into(), by),
        ]
    );
    assert!(crate::helpers::events_of(&store, other, "webhook.changed")
        .await
        .is_empty());
    assert!(matches!(
        store
            .delete_webhook(org, e.id, SystemClock.now(), None)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .rotate_webhook_secret(org, e.id, &secret, later, None)
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn an_organisation_has_a_bounded_number_of_webhooks(store: DynStore) {
    let org = org(&store).await;
    for i in 0..MAX_WEBHOOKS_PER_ORG {
        let e = endpoint(org, &format!("https://hooks.example.com/{i}"));
        store.create_webhook(&e, None, None).await.unwrap();
    }
    let one_more = endpoint(org, "https://hooks.example.com/more");
    assert!(matches!(
        store.create_webhook(&one_more, None, None).await,
        Err(StoreError::Conflict("webhook_limit_reached"))
    ));
    assert_eq!(
        store.list_webhooks(org).await.unwrap().len(),
        MAX_WEBHOOKS_PER_ORG
    );
    // Other organisations are not counted.
    let other = crate::helpers::org(&store).await;
    store
        .create_webhook(&endpoint(other, "https://hooks.example.com/x"), None, None)
        .await
        .unwrap();
}

pub async fn a_webhook_creation_replays_under_its_idempotency_key(store: DynStore) {
    let org = org(&store).await;
    let key = IdempotencyKey {
        org_id: org,
        key: "hook-1".into(),
        fingerprint: "f".into(),
    };
    let render = |e: &bankfeeds_domain::webhook::WebhookEndpoint| bankfeeds_store::StoredResponse {
        status: 201,
        body: e.id.to_string(),
    };
    let first = endpoint(org, "https://hooks.example.com/a");
    let idem = || {
        Some(bankfeeds_store::Idem {
            key: &key,
            render: &render,
        })
    };
    assert_eq!(
        store.create_webhook(&first, None, idem()).await.unwrap(),
        Outcome::Done(())
    );
    let again = endpoint(org, "https://hooks.example.com/a");
    match store.create_webhook(&again, None, idem()).await.unwrap() {
        Outcome::Replayed(saved) => assert_eq!(saved.body, first.id.to_string()),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.list_webhooks(org).await.unwrap(), [first]);
}

async fn feed(
    store: &DynStore,
    org: OrgId,
    after: EventCursor,
    kinds: &[EventKind],
    limit: u32,
) -> StoreResult<Vec<(EventCursor, bankfeeds_store::Event)>> {
    store.events_feed(org, after, kinds, limit).await
}

/// The whole feed once it holds `n` events: on PostgreSQL a transaction still running anywhere
/// on the server holds back events committed after it began (see `store-sql`'s `feed.rs`), so
/// other tests running at the same time may delay the newest for a moment, never reorder them.
async fn settled_feed(
    store: &DynStore,
    org: OrgId,
    n: usize,
) -> Vec<(EventCursor, bankfeeds_store::Event)> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let found = feed(store, org, EventCursor::default(), &[], 1000)
            .await
            .unwrap();
        if found.len() >= n || std::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

pub async fn the_events_feed_pages_every_event_once_in_order(store: DynStore) {
    let c = setup(&store, Platform::Xero).await;
    let other = setup(&store, Platform::Xero).await;
    let now = SystemClock.now();
    create_fresh(&store, &draft_account(&other, "ACC-9", now)).await;
    account_lifecycle(&store, &c, now).await;
    let all = settled_feed(&store, c.org_id, 6).await;
    let types: Vec<_> = all.iter().map(|(_, e)| e.kind.as_str()).collect();
    assert_eq!(types, LIFECYCLE_EVENTS);
    assert!(all.iter().all(|(_, e)| e.org_id == c.org_id));
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "cursors increase");
    // The same as the outbox in seq order.
    let outbox = store.list_events(c.org_id, 0, 1000).await.unwrap();
    assert_eq!(
        all.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>(),
        outbox
    );
    // Paging by two from each page's last cursor sees each event once.
    let mut paged = Vec::new();
    let mut after = EventCursor::default();
    loop {
        let page = feed(&store, c.org_id, after, &[], 2).await.unwrap();
        let Some((last, _)) = page.last() else { break };
        after = *last;
        paged.extend(page);
    }
    assert_eq!(paged, all);
    // A type filter keeps the order and the cursors.
    let kinds = [EventKind::AccountActivated, EventKind::ConnectionCreated];
    let some = feed(&store, c.org_id, EventCursor::default(), &kinds, 1000)
        .await
        .unwrap();
    assert_eq!(
        some,
        [all[0].clone(), all[4].clone()],
        "only the kinds asked for"
    );
    let after_first = feed(&store, c.org_id, all[0].0, &kinds, 1000)
        .await
        .unwrap();
    assert_eq!(after_first, [all[4].clone()]);
}

pub async fn connections_and_feeds_record_their_lifecycle_events(store: DynStore) {
    let c = setup(&store, Platform::Xero).await;
    let now = SystemClock.now();
    let a = create_fresh(&store, &draft_account(&c, "ACC-1", now)).await;
    store
        .set_feed_state(a.id, &active(None), now)
        .await
        .unwrap();
    store.disconnect_account(c.id, a.id, now).await.unwrap();
    store.delete_connection(c.org_id, c.id, now).await.unwrap();
    let events = store.list_events(c.org_id, 0, 1000).await.unwrap();
    let types: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
    assert!(
        types.starts_with(&[
            "connection.created",
            "bank_feed_account.created",
            "bank_feed_account.feed_changed",
            "bank_feed_account.activated",
        ]),
        "{types:?}"
    );
    assert!(
        types.contains(&"bank_feed_account.deactivated"),
        "{types:?}"
    );
    assert_eq!(types.last(), Some(&"connection.deleted"));
    let created = &events[0];
    assert_eq!(created.resource_id, c.id.to_string());
    assert_eq!(created.payload["platform"], "XERO");
    assert_eq!(created.payload["connection_id"], c.id.to_string());
    // A failed delete records nothing.
    let before = events.len();
    assert!(store.delete_connection(c.org_id, c.id, now).await.is_err());
    assert_eq!(
        store.list_events(c.org_id, 0, 1000).await.unwrap().len(),
        before
    );
}

/// Re-sealing: every endpoint's stored secret is listed with its organisation, and replaced
/// only while it is still what was read (a rotation in between wins).
pub async fn webhook_secrets_are_listed_and_replaced_only_if_unchanged(store: DynStore) {
    use bankfeeds_domain::webhook::SecretAtRest;
    let a = org(&store).await;
    let b = org(&store).await;
    let ea = endpoint(a, "https://a.example.com/in");
    let eb = endpoint(b, "https://b.example.com/in");
    for e in [&ea, &eb] {
        store.create_webhook(e, None, None).await.unwrap();
    }
    let listed = store.webhook_secrets().await.unwrap();
    assert_eq!(listed.len(), 2);
    for e in [&ea, &eb] {
        assert!(listed
            .iter()
            .any(|(o, id, s)| *o == e.org_id && *id == e.id && s == &e.secret));
    }
    let sealed = SecretAtRest::new("c2VhbGVk".into());
    assert!(store
        .reseal_webhook_secret(ea.id, &ea.secret, &sealed)
        .await
        .unwrap());
    let got = store.get_webhook(a, ea.id).await.unwrap().unwrap();
    assert_eq!(got.secret, sealed);
    // Read before that change: no longer what is stored, so nothing is replaced.
    let other = SecretAtRest::new("b3RoZXI=".into());
    assert!(!store
        .reseal_webhook_secret(ea.id, &ea.secret, &other)
        .await
        .unwrap());
    assert_eq!(
        store.get_webhook(a, ea.id).await.unwrap().unwrap().secret,
        sealed
    );
    assert_eq!(
        store.get_webhook(b, eb.id).await.unwrap().unwrap().secret,
        eb.secret
    );
}
