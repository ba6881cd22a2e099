//! Issue 18, Settings → webhooks in the console: endpoints added by the API's rules (same
//! refusal codes), the signing secret shown once, disabling, rotating (confirmed), sending
//! again and deleting (confirmed), each a `webhook.changed` event naming the operator; another
//! organisation's operator reaches none of it.

use bankfeeds_domain::webhook::{WebhookId, WebhookStatus};
use bankfeeds_domain::{Clock, ManualClock};
use serde_json::json;
use std::sync::Arc;

use crate::console::{signed_in, text_of};
use crate::console_actions::events_of;
use crate::helpers::Hub;
use crate::pages::{field, see_other, Page};

crate::on_both_backends!(
    with_clock:
    operators_manage_their_webhooks_and_every_change_is_recorded,
);

fn error_shown(page: &Page) -> String {
    let marker = "class=\"error-code\">";
    let start = page.body.find(marker).expect("a refusal on the page") + marker.len();
    let end = page.body[start..].find('<').unwrap() + start;
    page.body[start..end].to_owned()
}

async fn operators_manage_their_webhooks_and_every_change_is_recorded(
    hub: Hub,
    clock: Arc<ManualClock>,
) {
    let a = hub.org("Bank A").await;
    let b = hub.org("Bank B").await;
    let (alice_op, mut alice) = signed_in(&hub, &clock, a.org.id, "ops@bank-a.example").await;
    let (_, mut bob) = signed_in(&hub, &clock, b.org.id, "ops@bank-b.example").await;

    let settings = alice.get("/console/settings").await;
    assert!(settings
        .body
        .contains("href=\"/console/settings/webhooks\""));
    let list = alice.get("/console/settings/webhooks").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("id=\"no-webhooks\""));
    let csrf = field(&list, "csrf");

    // The API's rule and code: https only (private targets are not allowed on this hub).
    let refused = alice
        .post(
            "/console/settings/webhooks",
            &[("csrf", &csrf), ("url", "http://hooks.bank-a.example/in")],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(error_shown(&refused), "WEBHOOK_URL_NOT_ALLOWED");
    assert!(hub.store.list_webhooks(a.org.id).await.unwrap().is_empty());

    let created = alice
        .post(
            "/console/settings/webhooks",
            &[
                ("csrf", &csrf),
                ("url", "https://hooks.bank-a.example/in"),
                ("description", "ledger sync"),
                ("event_types", "connection.created"),
                ("event_types", "connection.deleted"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let secret = text_of(&created, "new-webhook-secret");
    assert!(secret.starts_with("whsec_"), "{secret}");
    let hooks = hub.store.list_webhooks(a.org.id).await.unwrap();
    assert_eq!(hooks.len(), 1);
    let hook = &hooks[0];
    assert_eq!(hook.url, "https://hooks.bank-a.example/in");
    assert_eq!(hook.description.as_deref(), Some("ledger sync"));
    let kinds: Vec<_> = hook.event_types.iter().map(|k| k.as_str()).collect();
    assert_eq!(kinds, ["connection.created", "connection.deleted"]);
    // What the page showed is the secret deliveries are signed with (this hub has no key
    // ring, so it is stored as it is).
    assert_eq!(hook.secret.clear().unwrap().expose(), secret);
    let page_path = format!("/console/settings/webhooks/{}", hook.id);
    let page = alice.get(&page_path).await;
    assert_eq!(text_of(&page, "webhook-status"), "enabled");
    assert_eq!(
        text_of(&page, "webhook-types"),
        "connection.created, connection.deleted"
    );
    assert!(!page.body.contains(&secret), "shown once");

    // Bank B's operator sees none of it and can change none of it.
    assert!(bob
        .get("/console/settings/webhooks")
        .await
        .body
        .contains("id=\"no-webhooks\""));
    assert_eq!(bob.get(&page_path).await.status, 404);
    let bob_csrf = field(&bob.get("/console/settings/webhooks").await, "csrf");
    let foreign = bob
        .post(&format!("{page_path}/disable"), &[("csrf", &bob_csrf)])
        .await;
    assert_eq!(foreign.status, 404);

    let csrf = field(&page, "csrf");
    let disabled = alice
        .post(&format!("{page_path}/disable"), &[("csrf", &csrf)])
        .await;
    assert_eq!(see_other(&disabled), page_path);
    let stored = |id: WebhookId| {
        let store = hub.store.clone();
        async move { store.get_webhook(a.org.id, id).await.unwrap().unwrap() }
    };
    assert_eq!(stored(hook.id).await.status, WebhookStatus::Disabled);
    assert_eq!(
        text_of(&alice.get(&page_path).await, "webhook-status"),
        "disabled"
    );

    // Rotating needs the tick; then a new secret, shown once, replaces the old.
    let rotate = format!("{page_path}/rotate-secret");
    let unconfirmed = alice.post(&rotate, &[("csrf", &csrf)]).await;
    assert_eq!(unconfirmed.status, 400);
    assert_eq!(stored(hook.id).await.secret, hook.secret);
    let rotated = alice
        .post(&rotate, &[("csrf", &csrf), ("confirm", "yes")])
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_secret = text_of(&rotated, "new-webhook-secret");
    assert_ne!(new_secret, secret);
    assert_eq!(
        stored(hook.id).await.secret.clear().unwrap().expose(),
        new_secret
    );

    // Sending again from a time: a bad time is refused, a good one says what it queued.
    let recover = format!("{page_path}/recover");
    let bad = alice
        .post(&recover, &[("csrf", &csrf), ("since", "yesterday")])
        .await;
    assert_eq!(bad.status, 400);
    let since = (clock.now() - chrono::TimeDelta::days(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let recovered = alice
        .post(&recover, &[("csrf", &csrf), ("since", &since)])
        .await;
    assert_eq!(recovered.status, 200, "{}", recovered.body);
    assert!(
        text_of(&recovered, "webhook-notice").contains("queued to send again"),
        "{}",
        recovered.body
    );

    // Deleting needs the tick too.
    let delete = format!("{page_path}/delete");
    assert_eq!(alice.post(&delete, &[("csrf", &csrf)]).await.status, 400);
    let deleted = alice
        .post(&delete, &[("csrf", &csrf), ("confirm", "yes")])
        .await;
    assert_eq!(see_other(&deleted), "/console/settings/webhooks");
    assert!(hub.store.list_webhooks(a.org.id).await.unwrap().is_empty());
    assert_eq!(alice.get(&page_path).await.status, 404);

    // Each change is an event naming Alice; none reached Bank B.
    let events = events_of(&hub, a.org.id, "webhook.changed", 5).await;
    let seen: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.payload["change"].clone(),
                e.payload["operator_id"].clone(),
            )
        })
        .collect();
    let by = json!(alice_op.id);
    assert_eq!(
        seen,
        [
            (json!("created"), by.clone()),
            (json!("disabled"), by.clone()),
            (json!("secret_rotated"), by.clone()),
            (json!("recovered"), by.clone()),
            (json!("deleted"), by),
        ]
    );
    assert!(events.iter().all(|e| e.resource_id == hook.id.to_string()));
    assert!(events_of(&hub, b.org.id, "webhook.changed", 0)
        .await
        .is_empty());
    // No page ever showed Bank A's secrets to Bank B's operator.
    assert!(!bob.seen.contains(&secret) && !bob.seen.contains(&new_secret));
}
