//! Live Xero, the customer's side (issue 16), through running hubs and a browser: "Connect to
//! Xero" (the authorize redirect carries PKCE S256 and a state), the callback (a wrong state,
//! another browser, Xero's `access_denied` and a replay refused), the organisation and the
//! accounts, then the hub's worker asks for the feed connections, polls them to active, and
//! statements flow. A revoked consent marks the feed for re-authorisation and a new consent
//! restores it; deleting sends `DeleteRequests`; a stopped feed restarts through the API. The
//! stand-in is `live_xero.rs`'s, with Xero's identity and feed-connection side added here.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bankfeeds_domain::live::consent::pkce_challenge;
use bankfeeds_domain::live::{LiveFeedState, LiveStatementStatus};
use bankfeeds_domain::{BankFeedAccountId, ConnectionId};
use bankfeeds_server::xero::model::StatementOut;
use bankfeeds_server::xero::tokens;
use bankfeeds_store::LiveFeed;
use bankfeeds_store_tests::TestDb;
use serde_json::{json, Value};

use crate::helpers::{err, header, ok, wait_until, with_token, Hub};
use crate::live_xero::{account_id, live_connection, live_feed, posts, Fault, Feed, Live, Shared};
use crate::pages::{error_code, field, see_other, Browser};

crate::on_both_backends!(with_db:
    the_consent_pages_link_live_feeds_that_xero_activates,
    a_revoked_consent_waits_for_the_customer_and_a_new_one_restores_it,
    deleting_sends_delete_requests_durably,
    a_stopped_feed_restarts_through_the_api,
);

/// Xero's identity server and feed connections, as the stand-in keeps them.
#[derive(Default)]
pub(crate) struct XeroConsent {
    /// Authorization codes Xero would hand out, with the PKCE challenge each was asked with.
    codes: HashMap<String, String>,
    exchanges: usize,
    /// Refresh tokens are refused (`invalid_grant`): the customer revoked the consent.
    revoked: bool,
    /// `POST /FeedConnections`: the Idempotency-Key and the items.
    fc_posts: Vec<(String, Value)>,
    /// Answers by Idempotency-Key (a retry gets the same).
    fc_answers: HashMap<String, Value>,
    /// Feed connections by id: the accountToken and how often it was asked about.
    fcs: HashMap<String, (String, usize)>,
    /// `POST /FeedConnections/DeleteRequests`: the Idempotency-Key and the items.
    deletes: Vec<(String, Value)>,
}

fn form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn invalid_grant() -> Response {
    (
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid_grant"}).to_string(),
    )
        .into_response()
}

/// The token endpoint's answer to a code exchange or a refused refresh; `None` for a refresh
/// `live_xero.rs` answers.
pub(crate) fn token(x: &Shared, body: &[u8]) -> Option<Response> {
    let f = form(body);
    let mut x = x.lock().unwrap();
    match f.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let code = f.get("code").cloned().unwrap_or_default();
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            // Single use, and only with the verifier whose S256 challenge came with it.
            let Some(challenge) = x.consent.codes.remove(&code) else {
                return Some(invalid_grant());
            };
            if pkce_challenge(&verifier) != challenge || !f.contains_key("redirect_uri") {
                return Some(invalid_grant());
            }
            x.consent.exchanges += 1;
            let n = x.consent.exchanges;
            let body = json!({"access_token": format!("access-c{n}"),
                "refresh_token": format!("refresh-c{n}"), "expires_in": 1800, "token_type": "Bearer"});
            Some((StatusCode::OK, body.to_string()).into_response())
        }
        Some("refresh_token") if x.consent.revoked => Some(invalid_grant()),
        _ => None,
    }
}

async fn connections() -> Response {
    let body = json!([
        {"id": "c-1", "tenantId": "tenant-a", "tenantType": "ORGANISATION", "tenantName": "Alpha Ltd"},
        {"id": "c-2", "tenantId": "tenant-b", "tenantType": "ORGANISATION", "tenantName": "Beta Books"},
        {"id": "c-3", "tenantId": "practice", "tenantType": "PRACTICEMANAGER", "tenantName": "Practice"},
    ]);
    (StatusCode::OK, body.to_string()).into_response()
}

async fn post_feed_connections(
    State(x): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let items: Value = serde_json::from_slice(&body).unwrap();
    let key = header(&headers, "idempotency-key");
    let mut x = x.lock().unwrap();
    x.consent.fc_posts.push((key.clone(), items.clone()));
    if let Some(answer) = x.consent.fc_answers.get(&key) {
        return (StatusCode::ACCEPTED, answer.to_string()).into_response();
    }
    let mut out = Vec::new();
    for item in items["items"].as_array().unwrap() {
        let id = uuid::Uuid::new_v4().to_string();
        let token = item["accountToken"].as_str().unwrap().to_owned();
        x.consent.fcs.insert(id.clone(), (token.clone(), 0));
        out.push(json!({"id": id, "accountToken": token, "status": "PENDING"}));
    }
    let answer = json!({ "items": out });
    x.consent.fc_answers.insert(key, answer.clone());
    (StatusCode::ACCEPTED, answer.to_string()).into_response()
}

/// A feed connection is pending when first asked about, then set up (no status, as the spec).
async fn get_feed_connection(State(x): State<Shared>, Path(id): Path<String>) -> Response {
    let mut x = x.lock().unwrap();
    let Some((token, polls)) = x.consent.fcs.get_mut(&id) else {
        return (StatusCode::NOT_FOUND, "").into_response();
    };
    *polls += 1;
    let mut body = json!({"id": id, "accountToken": token, "accountType": "BANK"});
    if *polls == 1 {
        body["status"] = json!("PENDING");
    }
    (StatusCode::OK, body.to_string()).into_response()
}

async fn delete_requests(State(x): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let items: Value = serde_json::from_slice(&body).unwrap();
    let key = header(&headers, "idempotency-key");
    x.lock().unwrap().consent.deletes.push((key, items.clone()));
    let out: Vec<Value> = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| json!({"accountToken": i["accountToken"], "status": "PENDING"}))
        .collect();
    (StatusCode::ACCEPTED, json!({ "items": out }).to_string()).into_response()
}

pub(crate) fn routes(router: axum::Router<Shared>) -> axum::Router<Shared> {
    use axum::routing::{get, post};
    router
        .route("/connections", get(connections))
        .route(
            "/bankfeeds.xro/1.0/FeedConnections",
            post(post_feed_connections),
        )
        .route(
            "/bankfeeds.xro/1.0/FeedConnections/DeleteRequests",
            post(delete_requests),
        )
        .route(
            "/bankfeeds.xro/1.0/FeedConnections/{id}",
            get(get_feed_connection),
        )
}

/// The query pairs of `url`.
fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// In `b`, "Connect to Xero" on the connection's link page: the authorize URL's parameters.
async fn connect(b: &mut Browser<'_>, connection: ConnectionId) -> HashMap<String, String> {
    let page = b.get(&format!("/link/connections/{connection}")).await;
    assert!(
        page.body.contains("id=\"connect-to-xero\""),
        "{}",
        page.body
    );
    let csrf = field(&page, "csrf");
    let path = format!("/link/connections/{connection}/xero");
    query(&see_other(&b.post(&path, &[("csrf", &csrf)]).await))
}

/// Xero signs the customer in and sends them back with a code for `authorize`'s challenge.
fn xero_consents(x: &Shared, authorize: &HashMap<String, String>, code: &str) -> String {
    x.lock()
        .unwrap()
        .consent
        .codes
        .insert(code.to_owned(), authorize["code_challenge"].clone());
    format!(
        "/link/xero/live/callback?code={code}&state={}",
        authorize["state"]
    )
}

/// From the callback on: picks `tenant`, chooses `accounts`; the final page.
async fn choose(b: &mut Browser<'_>, back: &str, tenant: &str, accounts: &[BankFeedAccountId]) {
    assert_eq!(
        see_other(&b.get(back).await),
        "/link/xero/live/organisation"
    );
    let page = b.get("/link/xero/live/organisation").await;
    assert!(page.body.contains("Beta Books"), "{}", page.body);
    assert!(!page.body.contains("Practice"), "only organisations");
    let csrf = field(&page, "csrf");
    let chosen = b
        .post(
            "/link/xero/live/organisation",
            &[("csrf", &csrf), ("tenant", tenant)],
        )
        .await;
    assert_eq!(see_other(&chosen), "/link/xero/live/accounts");
    let page = b.get("/link/xero/live/accounts").await;
    assert!(page.body.contains("action=\"/link/xero/live/accounts\""));
    let csrf = field(&page, "csrf");
    let ids: Vec<String> = accounts.iter().map(|a| a.to_string()).collect();
    let start = field(&page, "start_date");
    let mut form = vec![("csrf", csrf.as_str()), ("start_date", start.as_str())];
    form.extend(ids.iter().map(|a| ("account", a.as_str())));
    let done = b.post("/link/xero/live/accounts", &form).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("id=\"xero-connected\""), "{}", done.body);
}

async fn feed_in(hub: &Hub, account: BankFeedAccountId, state: LiveFeedState) -> LiveFeed {
    let read = || async { hub.store.get_live_feed(account).await.unwrap() };
    let what = format!("feed never {state:?}");
    let every = Duration::from_millis(50);
    let feed = wait_until(&what, every, read, |f| {
        f.as_ref().is_some_and(|f| f.state == state)
    });
    feed.await.unwrap()
}

async fn live_changes(hub: &Hub, feed: &Feed) -> Vec<String> {
    let events = hub
        .store
        .list_events(feed.creds.org.id, 0, 1000)
        .await
        .unwrap();
    events
        .iter()
        .filter(|e| e.kind.as_str() == "bank_feed_account.live_feed_changed")
        .filter(|e| e.resource_id == feed.account.to_string())
        .map(|e| e.payload["feed_status"].as_str().unwrap().to_owned())
        .collect()
}

async fn the_consent_pages_link_live_feeds_that_xero_activates(db: TestDb) {
    let Live {
        x,
        keys,
        store,
        hub,
    } = Live::start(db).await;
    let (creds, connection, token) = live_connection(&hub).await;
    let fields = json!({"internal_bank_account_id": "CHK", "bank_account_type": "bank",
        "currency_code": "GBP", "name": "Operating", "current_balance": 100,
        "bank_account_number": "12-34-56 12345678"});
    let account = account_id(&hub, &creds, &token, fields).await;
    let fields = json!({"internal_bank_account_id": "CARD", "bank_account_type": "credit_card",
        "currency_code": "GBP", "name": "Business card", "bank_account_number": "4111111111111234"});
    let card = account_id(&hub, &creds, &token, fields).await;

    let mut b = Browser::anonymous(&hub);
    let authorize = connect(&mut b, connection).await;
    assert_eq!(authorize["response_type"], "code");
    assert_eq!(authorize["client_id"], "APP-1");
    assert_eq!(authorize["scope"], "offline_access bankfeeds");
    assert_eq!(authorize["code_challenge_method"], "S256");
    assert_eq!(authorize["code_challenge"].len(), 43);
    assert!(authorize["state"].starts_with("bfcs_"));
    assert_eq!(
        authorize["redirect_uri"],
        hub.url("/link/xero/live/callback")
    );
    // A wrong state, another browser and Xero's refusal connect nothing.
    let back = xero_consents(&x, &authorize, "code-1");
    let wrong = b
        .get("/link/xero/live/callback?code=code-1&state=bfcs_forged")
        .await;
    assert_eq!(
        (wrong.status, error_code(&wrong).as_str()),
        (400, "CONSENT_UNKNOWN")
    );
    let mut other = Browser::anonymous(&hub);
    let stolen = other.get(&back).await;
    assert_eq!(error_code(&stolen), "CONSENT_NOT_THIS_BROWSER");
    let denied = b
        .get("/link/xero/live/callback?error=access_denied&state=x")
        .await;
    assert_eq!(
        (denied.status, error_code(&denied).as_str()),
        (400, "XERO_ACCESS_DENIED")
    );
    choose(&mut b, &back, "tenant-b", &[account, card]).await;
    let replay = b.get(&back).await;
    assert_eq!(error_code(&replay), "CONSENT_USED");
    assert!(!b.seen.contains("access-c1") && !b.seen.contains("code_verifier"));

    // The tenant and its sealed tokens are the connection's.
    let tenant = store.get_live_tenant(connection).await.unwrap().unwrap();
    assert_eq!(tenant.tenant_id, "tenant-b");
    assert!(!tenant.tokens_sealed.contains("refresh-c1"));
    let opened = tokens::open(&keys, connection, &tenant.tokens_sealed).unwrap();
    assert_eq!(opened.refresh_token, "refresh-c1");

    // The worker asks for the feed connections and polls them to active.
    let active = feed_in(&hub, account, LiveFeedState::Active).await;
    feed_in(&hub, card, LiveFeedState::Active).await;
    let asked = x.lock().unwrap().consent.fc_posts.clone();
    assert_eq!(
        asked.len(),
        1,
        "one call for the connection's feeds: {asked:?}"
    );
    assert!(asked[0].0.starts_with("fc-"), "an Idempotency-Key");
    let items = asked[0].1["items"].as_array().unwrap();
    let by_token = |id: BankFeedAccountId| {
        items
            .iter()
            .find(|i| i["accountToken"] == id.to_string())
            .unwrap()
            .clone()
    };
    assert_eq!(
        by_token(card)["accountNumber"],
        "1234",
        "a card's last four only"
    );
    assert_eq!(by_token(card)["accountType"], "CREDITCARD");
    assert_eq!(by_token(account)["accountNumber"], "12-34-5612345678");
    assert_eq!(by_token(account)["accountName"], "Operating");
    assert_eq!(by_token(account)["currency"], "GBP");

    // Statements then flow to the feed connection.
    let mut feed = Feed::new(creds, token, connection, account);
    feed.push(&hub, &["-10.50", "4"]).await;
    let all = feed.settled(&store).await;
    assert!(all
        .iter()
        .all(|s| s.status == LiveStatementStatus::Delivered));
    let seen = posts(&x);
    assert_eq!(seen.len(), 1);
    assert_eq!(
        Some(seen[0].body.feed_connection_id.as_str()),
        active.feed_connection_id.as_deref()
    );
    assert_eq!(seen[0].body.statement_lines.len(), 2);
    assert_eq!(live_changes(&hub, &feed).await, ["pending", "active"]);
    let shown = hub
        .account(&feed.creds, &feed.token, &account.to_string())
        .await;
    assert_eq!(shown["live_feed"]["feed_status"], "active");
}

async fn a_revoked_consent_waits_for_the_customer_and_a_new_one_restores_it(db: TestDb) {
    let Live {
        x,
        keys,
        store,
        hub,
    } = Live::start(db).await;
    let mut feed = live_feed(&hub, &keys, "fc-revoked", true).await;
    // Its feed connection was made in the organisation the customer consents to again (in
    // another, every feed would ask for a new one).
    let mut tenant = store
        .get_live_tenant(feed.connection)
        .await
        .unwrap()
        .unwrap();
    tenant.tenant_id = "tenant-a".into();
    store.put_live_tenant(&tenant).await.unwrap();
    x.lock().unwrap().consent.revoked = true;
    feed.push(&hub, &["-5"]).await;
    let waiting = feed_in(&hub, feed.account, LiveFeedState::ReauthorizationRequired).await;
    assert_eq!(waiting.error_code.as_deref(), Some("consent-revoked"));
    assert!(posts(&x).is_empty(), "nothing sent without a consent");
    let shown = hub
        .account(&feed.creds, &feed.token, &feed.account.to_string())
        .await;
    assert_eq!(
        shown["live_feed"]["feed_status"],
        "reauthorization_required"
    );
    // The statement waits; the customer connects again and it is delivered.
    let mut b = Browser::anonymous(&hub);
    let authorize = connect(&mut b, feed.connection).await;
    let back = xero_consents(&x, &authorize, "code-again");
    choose(&mut b, &back, "tenant-a", &[feed.account]).await;
    let all = feed.settled(&store).await;
    assert_eq!(all[0].status, LiveStatementStatus::Delivered);
    let seen = posts(&x);
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].authorization, "Bearer access-c1",
        "the new consent's token"
    );
    assert_eq!(seen[0].tenant, "tenant-a");
    assert_eq!(
        seen[0].body.feed_connection_id, "fc-revoked",
        "the same feed"
    );
    assert_eq!(
        live_changes(&hub, &feed).await,
        ["reauthorization_required", "active"]
    );
}

async fn deleting_sends_delete_requests_durably(db: TestDb) {
    let Live {
        x,
        keys,
        store,
        hub,
    } = Live::start(db).await;
    let feed = live_feed(&hub, &keys, "fc-del", false).await;
    let path = with_token(
        &format!("/versioned/accounting/bank_feeds/accounts/{}", feed.account),
        &feed.token,
    );
    ok(hub.delete(&feed.creds, &path).send().await).await;
    assert!(store.get_live_feed(feed.account).await.unwrap().is_none());
    let deletions = || async { store.list_live_deletions(feed.connection).await.unwrap() };
    let every = Duration::from_millis(50);
    wait_until("not deleted at Xero", every, deletions, |done| {
        *done == vec![(feed.account, Some("PENDING".to_owned()))]
    })
    .await;
    let deletes = x.lock().unwrap().consent.deletes.clone();
    assert_eq!(deletes.len(), 1);
    assert!(deletes[0].0.starts_with("delete-"), "an Idempotency-Key");
    assert_eq!(
        deletes[0].1["items"][0]["accountToken"],
        feed.account.to_string()
    );
    assert_eq!(live_changes(&hub, &feed).await, ["removed"]);
}

async fn a_stopped_feed_restarts_through_the_api(db: TestDb) {
    let Live { x, keys, hub, .. } = Live::start(db).await;
    let mut feed = live_feed(&hub, &keys, "fc-restart", false).await;
    let path = with_token(
        &format!(
            "/versioned/accounting/bank_feeds/accounts/{}/live_feed/restart",
            feed.account
        ),
        &feed.token,
    );
    err(
        hub.post(&feed.creds, &path, &json!({})).send().await,
        409,
        "LIVE_FEED_NOT_STOPPED",
    )
    .await;
    x.lock()
        .unwrap()
        .faults
        .push_back(Fault::Reject("invalid-end-balance"));
    feed.push(&hub, &["-5", "2"]).await;
    feed_in(&hub, feed.account, LiveFeedState::Stopped).await;
    feed.push(&hub, &["1"]).await;
    let restarted = ok(hub.post(&feed.creds, &path, &json!({})).send().await).await;
    assert_eq!(restarted["live_feed"]["feed_status"], "active");
    // The refused lines and the one pushed while stopped arrive, once each, in order.
    let lines = |accepted: &Vec<(String, String, StatementOut)>| -> Vec<String> {
        accepted
            .iter()
            .flat_map(|(_, _, s)| s.statement_lines.iter().map(|l| l.transaction_id.clone()))
            .collect()
    };
    let read = || async { x.lock().unwrap().accepted.clone() };
    let every = Duration::from_millis(50);
    let accepted = wait_until("not delivered after the restart", every, read, |a| {
        lines(a).len() >= 3
    })
    .await;
    let expected: Vec<String> = (1..=3).map(|i| format!("{}-t{i}", feed.account)).collect();
    assert_eq!(lines(&accepted), expected);
    assert_eq!(
        accepted[0].2.start_balance.to_signed(),
        "100".parse().unwrap()
    );
    assert_eq!(live_changes(&hub, &feed).await, ["stopped", "active"]);
}
