//! Ingestion by the sandbox platforms, over HTTP: each platform syncs on its own schedule
//! (QuickBooks daily, the others hourly by default) or when asked, takes its profile's
//! statement size (Sage: 100), and marks what it took for the FI to see.

use std::sync::Arc;

use bankfeeds_domain::{Clock, ManualClock, SystemClock};
use bankfeeds_server::platforms::sandbox::sync::run_due;
use bankfeeds_server::AppState;
use chrono::{SecondsFormat, TimeDelta};
use serde_json::{json, Value};

use crate::helpers::{err, items, ok, refuses, with_token, Creds, Hub, Sandbox, TRANSACTIONS};
use crate::link_flow::{fi_login, list_bank};
use crate::pages::Browser;

crate::on_both_backends!(
    sync_now_takes_each_transaction_once,
    history_before_the_chosen_start_date_is_not_imported,
    a_linked_feed_shows_what_the_platform_recorded,
    deleted_connections_disconnect_the_feed_and_keep_its_books,
);
crate::on_both_backends!(with_clock: each_platform_syncs_on_its_own_schedule);

/// A company of `platform` with the FI's first account linked; returns (company, token, account).
pub(crate) async fn linked(hub: &Hub, bank: &Creds, platform: &str) -> (String, String, String) {
    let (token, accounts, otp) = fi_login(hub, bank, platform).await;
    let company = link(hub, bank, platform, &otp, &accounts[0], 30).await;
    (company, token, accounts[0].clone())
}

/// Links `account` into a new company of `platform` with a start date `days` ago; returns the
/// company.
async fn link(
    hub: &Hub,
    bank: &Creds,
    platform: &str,
    otp: &str,
    account: &str,
    days: i64,
) -> String {
    let sandbox = Sandbox::of(hub, platform);
    list_bank(hub, bank, platform).await;
    let company = sandbox.company("Books").await;
    let challenge = sandbox.challenge(&company, bank).await;
    ok(sandbox.redirect(&challenge, otp).await).await;
    let start = (SystemClock.now() - TimeDelta::days(days)).to_rfc3339();
    ok(sandbox
        .post(
            "/link/complete",
            json!({"challenge": challenge, "bank_feed_account_ids": [account], "start_date": start}),
        )
        .await)
    .await;
    company
}

/// Pushes `n` transactions numbered from `first` (amounts 1, 2, 3, …), closing at `balance`.
async fn push(
    hub: &Hub,
    bank: &Creds,
    token: &str,
    account: &str,
    first: usize,
    n: usize,
    balance: i64,
) {
    let base = SystemClock.now() - TimeDelta::days(5);
    let txs: Vec<Value> = (first..first + n)
        .map(|i| {
            let posted = (base + TimeDelta::seconds(i as i64)).to_rfc3339_opts(SecondsFormat::Secs, true);
            json!({"transaction_id": format!("T{i:05}"), "posted_at": posted, "amount": i - first + 1})
        })
        .collect();
    let batch = json!({"bank_feed_transactions": {"bank_feed_account_id": account, "current_balance": balance, "transactions": txs}});
    hub.post_ok(bank, &with_token(TRANSACTIONS, token), &batch)
        .await;
}

async fn not_ingested(hub: &Hub, bank: &Creds, token: &str) -> usize {
    let path = format!("{}&limit=500", with_token(TRANSACTIONS, token));
    let listed = hub.get_ok(bank, &path).await;
    items(&listed["bank_feed_transactions"])
        .iter()
        .filter(|t| t["platform_ingested"] == false)
        .count()
}

async fn feed(hub: &Hub, platform: &str, company: &str, account: &str) -> Value {
    Sandbox::of(hub, platform)
        .get(&format!("/companies/{company}/feeds/{account}"))
        .await
}

async fn each_platform_syncs_on_its_own_schedule(hub: Hub, clock: Arc<ManualClock>) {
    let state = AppState::new(
        hub.store.clone(),
        clock.clone() as Arc<dyn Clock>,
        hub.base.clone(),
        0,
    );
    let mut feeds = Vec::new();
    for platform in ["INTUIT_BANK_FEEDS", "XERO", "SAGE_INTACCT"] {
        let bank = hub.org(platform).await;
        let (company, token, account) = linked(&hub, &bank, platform).await;
        feeds.push((platform, bank, company, token, account));
    }
    for (platform, bank, _, token, account) in &feeds {
        let n = if *platform == "SAGE_INTACCT" { 250 } else { 3 };
        push(&hub, bank, token, account, 0, n, 1000).await;
    }

    // Never synced: every linked feed is due.
    assert_eq!(run_due(&state).await.unwrap(), 3);
    for (_, bank, _, token, _) in &feeds {
        assert_eq!(not_ingested(&hub, bank, token).await, 0);
    }
    // Sage took its 250 as statements of at most 100, closing at the FI's balance.
    let (_, _, company, _, account) = &feeds[2];
    let sage = feed(&hub, "SAGE_INTACCT", company, account).await;
    let counts: Vec<u64> = items(&sage["statements"])
        .iter()
        .map(|s| s["transaction_count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, vec![50, 100, 100], "newest first: {sage}");
    assert_eq!(
        sage["statements"][0]["closing_balance"].to_string(),
        "1000.00"
    );
    let newest = sage["statements"][0]["transactions"].as_array().unwrap();
    assert_eq!(newest.last().unwrap()["balance"].to_string(), "1000.00");
    assert_eq!(newest.last().unwrap()["transaction_id"], "T00249");
    assert!(sage["bank_feed_account"]["last_synced_at"].is_string());

    // Two hours on, with new transactions: the hourly platforms take them, QuickBooks waits.
    for (platform, bank, _, token, account) in &feeds {
        let first = if *platform == "SAGE_INTACCT" { 250 } else { 3 };
        push(&hub, bank, token, account, first, 2, 1003).await;
    }
    clock.advance(TimeDelta::hours(2));
    assert_eq!(run_due(&state).await.unwrap(), 2);
    let waiting: Vec<usize> = {
        let mut v = Vec::new();
        for (_, bank, _, token, _) in &feeds {
            v.push(not_ingested(&hub, bank, token).await);
        }
        v
    };
    assert_eq!(waiting, vec![2, 0, 0]);
    // Nothing is due again straight away.
    assert_eq!(run_due(&state).await.unwrap(), 0);
    // A day after its last sync QuickBooks takes them too.
    clock.advance(TimeDelta::hours(23));
    assert!(run_due(&state).await.unwrap() >= 1);
    let (_, bank, _, token, _) = &feeds[0];
    assert_eq!(not_ingested(&hub, bank, token).await, 0);

    // An unlinked feed is no longer synced, nor can it be.
    let (_, bank, company, token, account) = &feeds[1];
    let xero = Sandbox::of(&hub, "XERO");
    let feed_path = format!("/companies/{company}/feeds/{account}");
    let unlinked = ok(xero.post(&format!("{feed_path}/unlink"), json!({})).await).await;
    assert_eq!(unlinked["bank_feed_account"]["feed_status"], "inactive");
    err(
        xero.post(&format!("{feed_path}/sync"), json!({})).await,
        410,
        "FEED_NOT_LINKED",
    )
    .await;
    clock.advance(TimeDelta::hours(2));
    let before = not_ingested(&hub, bank, token).await;
    run_due(&state).await.unwrap();
    assert_eq!(not_ingested(&hub, bank, token).await, before);
    // The FI can no longer push to it (Xero needs an active feed).
    let posted =
        (SystemClock.now() - TimeDelta::days(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let late = json!({"bank_feed_transactions": {"bank_feed_account_id": account, "transactions": [
                {"transaction_id": "LATE", "posted_at": posted, "amount": 1}]}});
    refuses(
        hub.post(bank, &with_token(TRANSACTIONS, token), &late),
        400,
        "FEED_NOT_READY",
    )
    .await;
}

/// "Sync now" through the JSON interface answers with what was taken, once.
async fn sync_now_takes_each_transaction_once(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (company, token, account) = linked(&hub, &bank, "NETSUITE").await;
    push(&hub, &bank, &token, &account, 0, 5, 15).await;
    let netsuite = Sandbox::of(&hub, "NETSUITE");
    let path = format!("/companies/{company}/feeds/{account}/sync");
    let first = ok(netsuite.post(&path, json!({})).await).await;
    assert_eq!(first["transactions_ingested"], 5);
    assert_eq!(
        first["statements"][0]["opening_balance"].to_string(),
        "0.00"
    );
    assert_eq!(
        first["statements"][0]["closing_balance"].to_string(),
        "15.00"
    );
    let again = ok(netsuite.post(&path, json!({})).await).await;
    assert_eq!(again["transactions_ingested"], 0);
    // Counted once, by platform, for `/metrics`.
    let metrics = hub.open_text("/metrics").await;
    assert!(
        metrics.contains("bankfeeds_transactions_ingested_total{platform=\"NETSUITE\"} 5\n"),
        "{metrics}"
    );
    assert!(again["statements"].as_array().unwrap().is_empty());
    assert_ne!(
        first["bank_feed_account"]["last_synced_at"], again["bank_feed_account"]["last_synced_at"],
        "the sync time moves even when nothing is new"
    );
    // Another company cannot read or sync the feed.
    let other = netsuite.company("Other").await;
    err(
        netsuite
            .post(
                &format!("/companies/{other}/feeds/{account}/sync"),
                json!({}),
            )
            .await,
        410,
        "FEED_NOT_LINKED",
    )
    .await;
}

/// Seed 003: "When users link their account in Sage, they will be asked to choose the start
/// date for the Bank Feed's transaction history"; seed 004: QuickBooks' `feed_start_date` "is
/// used to limit the load of historic transactions to seven days". QuickBooks takes pushes from
/// creation, so an FI may have sent history from before the date the customer then chose: the
/// platform imports from that date (less the seven days' back-dating), and no earlier.
async fn history_before_the_chosen_start_date_is_not_imported(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let platform = "INTUIT_BANK_FEEDS";
    let (token, accounts, otp) = fi_login(&hub, &bank, platform).await;
    let account = &accounts[0];
    let now = SystemClock.now();
    let txs: Vec<Value> = [("OLD", 25), ("BACKDATED", 14), ("NEW", 2)]
        .iter()
        .map(|(id, days)| {
            let posted = (now - TimeDelta::days(*days)).to_rfc3339_opts(SecondsFormat::Secs, true);
            json!({"transaction_id": id, "posted_at": posted, "amount": "-10.00"})
        })
        .collect();
    let batch =
        json!({"bank_feed_transactions": {"bank_feed_account_id": account, "transactions": txs}});
    hub.post_ok(&bank, &with_token(TRANSACTIONS, &token), &batch)
        .await;

    let company = link(&hub, &bank, platform, &otp, account, 10).await;
    let path = format!("/companies/{company}/feeds/{account}/sync");
    let synced = ok(Sandbox::of(&hub, platform).post(&path, json!({})).await).await;
    assert_eq!(synced["transactions_ingested"], 2, "{synced}");
    let listed = hub.get_ok(&bank, &with_token(TRANSACTIONS, &token)).await;
    let ingested: Vec<(&str, bool)> = items(&listed["bank_feed_transactions"])
        .iter()
        .map(|t| {
            let id = t["transaction_id"].as_str().unwrap();
            (id, t["platform_ingested"].as_bool().unwrap())
        })
        .collect();
    assert_eq!(
        ingested,
        [("OLD", false), ("BACKDATED", true), ("NEW", true)],
        "25 days back is before the start date (10 days) less 7 days of back-dating"
    );
    assert_eq!(not_ingested(&hub, &bank, &token).await, 1);
}

/// An FI that deletes a connection takes its feeds out of the platforms: the company no longer
/// lists the feed, and neither "sync now" nor the schedule reaches it.
/// Deleting the connection at the FI disconnects the feed in the platform, as real platforms
/// do: what it ingested stays readable (marked disconnected), nothing more is synced, and the
/// same bank account connected and linked again is a live feed beside it.
async fn deleted_connections_disconnect_the_feed_and_keep_its_books(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (company, token, account) = linked(&hub, &bank, "XERO").await;
    push(&hub, &bank, &token, &account, 0, 3, 6).await;
    let xero = Sandbox::of(&hub, "XERO");
    let feeds = format!("/companies/{company}/feeds");
    ok(xero
        .post(&format!("{feeds}/{account}/sync"), json!({}))
        .await)
    .await;
    let before = feed(&hub, "XERO", &company, &account).await;
    assert_eq!(before["disconnected"], false, "{before}");
    let statements = before["statements"].clone();
    assert_eq!(statements.as_array().unwrap().len(), 1, "{before}");
    assert_eq!(statements[0]["reconcile"]["status"], "ties_out", "{before}");

    let listed = hub.get_ok(&bank, "/versioned/connections").await;
    let id = listed["connections"][0]["id"].as_str().unwrap().to_owned();
    ok(hub
        .delete(&bank, &format!("/versioned/connections/{id}"))
        .send()
        .await)
    .await;

    let after = xero.get(&feeds).await;
    assert_eq!(after["bank_feed_accounts"], json!([]), "{after}");
    assert_eq!(
        after["disconnected_bank_feed_accounts"][0]["id"], account,
        "{after}"
    );
    let kept = feed(&hub, "XERO", &company, &account).await;
    assert_eq!(kept["disconnected"], true, "{kept}");
    assert_eq!(kept["statements"], statements, "what was ingested stays");
    err(
        xero.post(&format!("{feeds}/{account}/sync"), json!({}))
            .await,
        409,
        "FEED_DISCONNECTED",
    )
    .await;
    err(
        xero.post(&format!("{feeds}/{account}/unlink"), json!({}))
            .await,
        409,
        "FEED_DISCONNECTED",
    )
    .await;
    // The pages say so too: the company lists it apart, its page keeps its statements and
    // offers no sync or unlink.
    let mut b = Browser::new(&hub);
    let page = b
        .get(&format!(
            "/sandbox/xero/companies/{company}/feeds/{account}"
        ))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"disconnected\""), "{}", page.body);
    assert!(page.body.contains("data-reconcile=\"ties_out\""));
    assert!(!page.body.contains("id=\"sync-now\""));
    let books = b.get(&format!("/sandbox/xero/companies/{company}")).await;
    assert!(
        books.body.contains("id=\"disconnected-feeds\""),
        "{}",
        books.body
    );
    // Never synced since, it would be due.
    let state = AppState::new(
        hub.store.clone(),
        Arc::new(SystemClock),
        hub.base.clone(),
        0,
    );
    assert_eq!(run_due(&state).await.unwrap(), 0, "nothing left to sync");

    // The bank connects the account again and the company links it: a live feed again.
    let (token, accounts, otp) = fi_login(&hub, &bank, "XERO").await;
    let challenge = xero.challenge(&company, &bank).await;
    ok(xero.redirect(&challenge, &otp).await).await;
    ok(xero
        .post(
            "/link/complete",
            json!({"challenge": challenge, "bank_feed_account_ids": [accounts[0]]}),
        )
        .await)
    .await;
    push(&hub, &bank, &token, &accounts[0], 0, 2, 9).await;
    ok(xero
        .post(&format!("{feeds}/{}/sync", accounts[0]), json!({}))
        .await)
    .await;
    let now = xero.get(&feeds).await;
    assert_eq!(now["bank_feed_accounts"][0]["id"], accounts[0], "{now}");
    assert_eq!(now["disconnected_bank_feed_accounts"][0]["id"], account);
    let relinked = feed(&hub, "XERO", &company, &accounts[0]).await;
    assert_eq!(
        relinked["statements"][0]["transaction_count"], 2,
        "{relinked}"
    );
}

/// Seed 002: `platform_data` is "the raw platform data corresponding to the Rutter object".
/// Once a platform links the feed, `expand=platform_data` shows which platform and company
/// hold it, since when and from which start date (issue 19: it was always null).
async fn a_linked_feed_shows_what_the_platform_recorded(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (company, token, account) = linked(&hub, &bank, "XERO").await;
    let path = format!(
        "/versioned/accounting/bank_feeds/accounts/{account}?access_token={token}&expand=platform_data"
    );
    let got = hub.get_ok(&bank, &path).await;
    let data = &got["bank_feed_account"]["platform_data"];
    assert_eq!(data["platform"], "XERO", "{got}");
    assert_eq!(data["company_id"], company.as_str());
    assert!(
        data["linked_at"].is_string() && data["feed_start_date"].is_string(),
        "{data}"
    );
}
