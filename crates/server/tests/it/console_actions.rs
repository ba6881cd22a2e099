//! Issue 18, the console's actions: a feed's resend-link, unlink and delete behind confirmation
//! pages, editing the FI configuration with a preview under the API's rule, and every action
//! recorded with the operator who took it; another organisation's feed is a 404 throughout.

use std::sync::Arc;
use std::time::Duration;

use bankfeeds_domain::{Clock, ManualClock, OrgId};
use bankfeeds_store::Event;
use serde_json::json;

use crate::console::{feed, link, push, sign_in, signed_in, text_of, tx, PASSWORD};
use crate::helpers::{poll, Hub};
use crate::pages::{field, see_other, Browser};

crate::on_both_backends!(
    with_clock:
    feed_actions_are_confirmed_scoped_and_recorded,
    the_fi_configuration_is_previewed_checked_and_recorded,
    the_overview_counts_stale_feeds_and_shows_webhook_health,
    resending_a_codat_quickbooks_link_issues_a_fresh_one_time_code,
);

/// The organisation's events of `kind`, waiting briefly for a commit to show (PostgreSQL's
/// events feed shows an event once older transactions have ended).
pub(crate) async fn events_of(hub: &Hub, org: OrgId, kind: &str, at_least: usize) -> Vec<Event> {
    let read = || async {
        let all = hub.store.list_events(org, 0, 1000).await.unwrap();
        all.into_iter()
            .filter(|e| e.kind.as_str() == kind)
            .collect::<Vec<Event>>()
    };
    poll(Duration::from_millis(50), read, |found| {
        found.len() >= at_least
    })
    .await
}

/// A console form: the page's `csrf` token first, then `fields`.
fn with_csrf<'a>(csrf: &'a str, fields: Vec<(&'a str, &'a str)>) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("csrf", csrf)];
    form.extend(fields);
    form
}

async fn feed_actions_are_confirmed_scoped_and_recorded(hub: Hub, clock: Arc<ManualClock>) {
    let a = hub.org("Bank A").await;
    let b = hub.org("Bank B").await;
    let (alice_op, mut alice) = signed_in(&hub, &clock, a.org.id, "ops@bank-a.example").await;
    let (_, mut bob) = signed_in(&hub, &clock, b.org.id, "ops@bank-b.example").await;
    let (_, acct) = feed(&hub, &a, "Acme Widgets", "chk-1", "000123456789").await;
    let account = hub
        .store
        .find_org_account(a.org.id, acct.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let connection = account.connection_id.to_string();

    let page = alice.get(&format!("/console/accounts/{acct}")).await;
    for action in ["resend-link", "unlink", "delete"] {
        let path = format!("/console/accounts/{acct}/{action}");
        assert!(page.body.contains(&format!("href=\"{path}\"")), "{action}");
        // The confirmation page; the other organisation's operator gets a 404 for it and for
        // the action itself, and the feed is untouched.
        let confirm = alice.get(&path).await;
        assert_eq!(confirm.status, 200, "{}", confirm.body);
        assert!(confirm.body.contains(&format!("action=\"{path}\"")));
        assert_eq!(bob.get(&path).await.status, 404, "{action}");
        let theirs = bob.get("/console").await;
        let forged = bob.post(&path, &[("csrf", &field(&theirs, "csrf"))]).await;
        assert_eq!(forged.status, 404, "{action}: {}", forged.body);
        // No CSRF token: refused.
        let bare = alice.post(&path, &[]).await;
        assert!(
            (400..500).contains(&bare.status),
            "{action}: {}",
            bare.status
        );
    }
    assert_eq!(
        alice
            .get(&format!("/console/accounts/{acct}/explode"))
            .await
            .status,
        404
    );
    assert_eq!(
        alice.get(&format!("/console/accounts/{acct}")).await.status,
        200
    );

    // Resend: the link to send, the connection's link page (a Rutter-door connection).
    let confirm = alice
        .get(&format!("/console/accounts/{acct}/resend-link"))
        .await;
    let sent = alice
        .post(
            &format!("/console/accounts/{acct}/resend-link"),
            &[("csrf", &field(&confirm, "csrf"))],
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(text_of(&sent, "fresh-link").ends_with(&format!("/link/connections/{connection}")));

    // Unlink: the feed is pending afterwards.
    let linked = bankfeeds_domain::account::FeedState {
        feed_status: bankfeeds_domain::account::FeedStatus::Active,
        transaction_ready: true,
        transaction_start_date: None,
    };
    hub.store
        .set_feed_state(account.id, &linked, clock.now())
        .await
        .unwrap();
    let page = alice.get(&format!("/console/accounts/{acct}")).await;
    assert_eq!(text_of(&page, "feed-status"), "linked");
    let confirm = alice.get(&format!("/console/accounts/{acct}/unlink")).await;
    let done = alice
        .post(
            &format!("/console/accounts/{acct}/unlink"),
            &[("csrf", &field(&confirm, "csrf"))],
        )
        .await;
    assert_eq!(see_other(&done), format!("/console/accounts/{acct}"));
    let page = alice.get(&format!("/console/accounts/{acct}")).await;
    assert_eq!(text_of(&page, "feed-status"), "pending");
    // The unlink's events name the operator; the link before it (the platform's) names none.
    let changed = events_of(&hub, a.org.id, "bank_feed_account.feed_changed", 2).await;
    let last = changed.last().unwrap();
    assert_eq!(
        last.payload["feed_status"], "inactive",
        "{:?}",
        last.payload
    );
    assert_eq!(last.payload["operator_id"], json!(alice_op.id));
    assert!(changed[0].payload.get("operator_id").is_none());

    // Delete: the connection and its feed are gone, the event names the operator.
    let confirm = alice.get(&format!("/console/accounts/{acct}/delete")).await;
    let done = alice
        .post(
            &format!("/console/accounts/{acct}/delete"),
            &[("csrf", &field(&confirm, "csrf"))],
        )
        .await;
    assert_eq!(see_other(&done), "/console/connections");
    assert_eq!(
        alice.get(&format!("/console/accounts/{acct}")).await.status,
        404
    );
    let again = alice
        .post(
            &format!("/console/accounts/{acct}/delete"),
            &[("csrf", &field(&confirm, "csrf"))],
        )
        .await;
    assert_eq!(again.status, 404);
    let deleted = events_of(&hub, a.org.id, "connection.deleted", 1).await;
    assert_eq!(deleted.len(), 1, "one event, not two");
    assert_eq!(deleted[0].payload["operator_id"], json!(alice_op.id));
    assert_eq!(deleted[0].payload["connection_id"], json!(connection));
}

async fn the_fi_configuration_is_previewed_checked_and_recorded(hub: Hub, clock: Arc<ManualClock>) {
    let a = hub.org("Bank A").await;
    let (op, mut alice) = signed_in(&hub, &clock, a.org.id, "ops@bank-a.example").await;

    // The hub's root page links the console.
    let landing = Browser::anonymous(&hub).get("/").await;
    assert!(
        landing.body.contains("href=\"/console\""),
        "{}",
        landing.body
    );

    let settings = alice.get("/console/settings").await;
    assert!(settings
        .body
        .contains("href=\"/console/settings/fi-configs/XERO\""));
    let path = "/console/settings/fi-configs/XERO";
    let form = alice.get(path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert_eq!(
        alice.get("/console/settings/fi-configs/NOPE").await.status,
        404
    );
    let csrf = field(&form, "csrf");
    let good = vec![
        ("display_name", "  First Community Bank "),
        ("login_url", "https://bank.example/login"),
        ("country_code", "US"),
        ("otp_instructions", "Use your online banking ID."),
    ];

    // The API's rule and codes: a bad URL, a bad country, a blank name.
    for (field_name, value, code) in [
        ("login_url", "not a url", "INVALID_URL"),
        ("country_code", "us", "INVALID_COUNTRY_CODE"),
        ("display_name", "   ", "EMPTY_FIELD"),
    ] {
        let mut fields: Vec<(&str, &str)> = good
            .iter()
            .filter(|(k, _)| *k != field_name)
            .copied()
            .collect();
        fields.push((field_name, value));
        fields.push(("intent", "save"));
        let form = with_csrf(&csrf, fields);
        let refused = alice.post(path, &form).await;
        assert_eq!(refused.status, 400, "{field_name}: {}", refused.body);
        assert!(
            refused
                .body
                .contains(&format!("<code class=\"error-code\">{code}</code>")),
            "{field_name}: {}",
            refused.body
        );
    }
    // The same value through the API: the same code.
    let api = hub
        .put(
            &a,
            "/versioned/bank_feeds/configs/XERO",
            &json!({"display_name": "X", "login_url": "not a url", "country_code": "US"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 400);
    assert_eq!(
        api.json::<serde_json::Value>().await.unwrap()["error_code"],
        "INVALID_URL"
    );

    // A preview shows the customer's page with the values typed, and saves nothing.
    let mut fields = good.clone();
    fields.push(("intent", "preview"));
    let form = with_csrf(&csrf, fields);
    let preview = alice.post(path, &form).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview
        .body
        .contains("Connect your First Community Bank accounts to Xero"));
    assert!(preview.body.contains("Use your online banking ID."));
    assert!(hub
        .store
        .get_fi_config(a.org.id, bankfeeds_domain::Platform::Xero)
        .await
        .unwrap()
        .is_none());

    // Save: stored as the API would store it, the event naming the operator.
    let mut fields = good.clone();
    fields.push(("intent", "save"));
    let form = with_csrf(&csrf, fields);
    let saved = alice.post(path, &form).await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(saved.body.contains("id=\"fi-config-saved\""));
    let stored = hub.get_ok(&a, "/versioned/bank_feeds/configs/XERO").await;
    assert_eq!(
        stored["bank_feeds_config"]["display_name"],
        "First Community Bank"
    );
    assert_eq!(
        stored["bank_feeds_config"]["login_url"],
        "https://bank.example/login"
    );
    let events = events_of(&hub, a.org.id, "bank_feeds_config.updated", 1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].payload["operator_id"], json!(op.id));
    assert_eq!(events[0].payload["platform"], "XERO");

    // Rotating the secret is an event naming the operator too.
    let settings = alice.get("/console/settings").await;
    let rotated = alice
        .post(
            "/console/settings/rotate-secret",
            &[("csrf", &field(&settings, "csrf")), ("confirm", "yes")],
        )
        .await;
    assert_eq!(rotated.status, 200);
    let events = events_of(&hub, a.org.id, "organisation.client_secret_rotated", 1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].payload["operator_id"], json!(op.id));
}

async fn the_overview_counts_stale_feeds_and_shows_webhook_health(
    hub: Hub,
    clock: Arc<ManualClock>,
) {
    let a = hub.org("Bank A").await;
    let (_, mut alice) = signed_in(&hub, &clock, a.org.id, "ops@bank-a.example").await;
    let (token, acct) = feed(&hub, &a, "Acme Widgets", "chk-1", "000123456789").await;
    let (_, never) = feed(&hub, &a, "Zed Ltd", "sav-2", "000987654321").await;
    link(&hub, &clock, &acct).await;
    link(&hub, &clock, &never).await;
    push(&hub, &a, &token, &acct, json!([tx("t1", &clock, "1.50")])).await;

    // Posted yesterday: not stale; a feed that never posted is not stale either.
    let overview = alice.get("/console").await;
    assert_eq!(text_of(&overview, "feeds-stale"), "0");
    assert!(
        !overview.body.contains("id=\"webhook-health\""),
        "no webhooks, no section"
    );
    // Nine days later, silent (the floor is four open days): stale, by the report's rule.
    clock.advance(chrono::TimeDelta::days(9));
    // (the session has expired meanwhile)
    let again = sign_in(&mut alice, "ops@bank-a.example", PASSWORD).await;
    assert_eq!(see_other(&again), "/console");
    let overview = alice.get("/console").await;
    assert_eq!(text_of(&overview, "feeds-stale"), "1");
    let report = hub
        .get_ok(
            &a,
            &crate::helpers::with_token(
                &format!("/versioned/accounting/bank_feeds/accounts/{acct}/continuity"),
                &token,
            ),
        )
        .await;
    assert_eq!(
        report["stale"], true,
        "the continuity report agrees: {report}"
    );

    // With an endpoint, the delivery health shows.
    let created = hub
        .post(
            &a,
            "/versioned/webhooks",
            &json!({"url": "https://hooks.example.com/bankfeeds"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let overview = alice.get("/console").await;
    assert_eq!(text_of(&overview, "webhook-endpoints"), "1");
}

async fn resending_a_codat_quickbooks_link_issues_a_fresh_one_time_code(
    hub: Hub,
    clock: Arc<ManualClock>,
) {
    let a = hub.org("Bank A").await;
    let (_, mut alice) = signed_in(&hub, &clock, a.org.id, "ops@bank-a.example").await;
    let codat = crate::codat::Codat::new(&hub, &a);
    crate::link_flow::list_bank(&hub, &a, "INTUIT_BANK_FEEDS").await;
    codat.quickbooks_checking("Elaborate Events, Inc").await;
    let hits = hub
        .store
        .search_connections(a.org.id, Some("Checking"), 0, 10)
        .await
        .unwrap();
    let acct = hits[0].account.as_ref().unwrap().id;
    let path = format!("/console/accounts/{acct}/resend-link");
    let mut links = Vec::new();
    for _ in 0..2 {
        let confirm = alice.get(&path).await;
        let sent = alice
            .post(&path, &[("csrf", &field(&confirm, "csrf"))])
            .await;
        assert_eq!(sent.status, 200, "{}", sent.body);
        links.push(text_of(&sent, "fresh-link"));
    }
    assert!(links[0].contains("/link/codat/start?otp="), "{}", links[0]);
    assert_ne!(links[0], links[1], "each resend is a new code");
    // The code works: the start page takes it (into its cookie) and sends the customer on.
    let start = links[1]
        .split_once("/link/")
        .map(|(_, rest)| format!("/link/{rest}"))
        .unwrap();
    let mut customer = Browser::anonymous(&hub);
    assert_eq!(see_other(&customer.get(&start).await), "/link/codat/start");
}
