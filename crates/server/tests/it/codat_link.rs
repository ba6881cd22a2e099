//! Codat's QuickBooks flow end to end: the FI creates a company, a QuickBooks connection and a
//! source account through the Codat door and generates bank feed credentials; the customer
//! types them into the QuickBooks sandbox, picks the account; the connection is `Linked`, the
//! account `connected`, and a push lands in the sandbox's feed. The `linkUrl` page hands out
//! credentials with its one-hour OTP, once.

use bankfeeds_domain::Clock;
use serde_json::{json, Value};

use crate::codat::{day, error, Codat};
use crate::helpers::{items, ok, Hub, Sandbox};
use crate::link_flow::list_bank;
use crate::pages::{error_code, field, see_other, Browser};

crate::on_both_backends!(
    quickbooks_links_with_generated_credentials,
    credentials_link_through_the_json_interface_too,
    xero_maps_accounts_by_api_after_the_link,
    company_access_tokens_open_working_links
);

async fn quickbooks_links_with_generated_credentials(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let codat = Codat::new(&hub, &bank);
    list_bank(&hub, &bank, "INTUIT_BANK_FEEDS").await;
    let (company, connection) = codat.quickbooks_checking("Elaborate Events, Inc").await;
    let base = format!("/companies/{company}/connections/{connection}");

    // Each call is a new set; the SDK's odd body (a JSON string) is ignored.
    let creds_path = format!("{base}/connectionInfo/bankFeedAccounts/credentials");
    let (s, first) = codat.post(&creds_path, json!("")).await;
    assert_eq!(s, 200, "{first}");
    let (_, second) = codat.post_empty(&creds_path).await;
    assert_ne!(first["username"], second["username"]);
    let (user, pass) = (
        first["username"].as_str().unwrap(),
        first["password"].as_str().unwrap(),
    );

    // In the QuickBooks sandbox: a wrong password is refused, the right one links.
    let mut b = Browser::new(&hub);
    let books = Sandbox::of(&hub, "INTUIT_BANK_FEEDS")
        .company("Elaborate Books")
        .await;
    let connect = b
        .get(&format!("/sandbox/intuit/companies/{books}/connect"))
        .await;
    assert!(
        connect.body.contains("bank feed credentials"),
        "{}",
        connect.body
    );
    let csrf = field(&connect, "csrf");
    let login = format!("/sandbox/intuit/companies/{books}/credentials");
    let wrong = b
        .post(
            &login,
            &[
                ("csrf", &csrf),
                ("username", user),
                ("password", "bfpw_wrong"),
            ],
        )
        .await;
    assert_eq!(
        (wrong.status, error_code(&wrong).as_str()),
        (400, "INVALID_CREDENTIALS")
    );
    let select = see_other(
        &b.post(
            &login,
            &[("csrf", &csrf), ("username", user), ("password", pass)],
        )
        .await,
    );
    assert_eq!(select, "/link/intuit/select");
    let choose = b.get(&select).await;
    assert!(choose.body.contains("Checking"), "{}", choose.body);
    let start = (bankfeeds_domain::SystemClock.now() - chrono::TimeDelta::days(5))
        .format("%Y-%m-%d")
        .to_string();
    let account = field(&choose, "account");
    let done = see_other(
        &b.post(
            &select,
            &[
                ("csrf", &field(&choose, "csrf")),
                ("account", &account),
                ("start_date", &start),
            ],
        )
        .await,
    );
    assert_eq!(done, format!("/sandbox/intuit/companies/{books}"));

    // Codat sees it linked and connected, with the chosen start date.
    let (_, linked) = codat.get(&base).await;
    assert_eq!(linked["status"], "Linked");
    let (_, accounts) = codat
        .get(&format!("{base}/connectionInfo/bankFeedAccounts"))
        .await;
    assert_eq!(accounts[0]["status"], "connected");
    assert!(accounts[0]["feedStartDate"]
        .as_str()
        .unwrap()
        .starts_with(&start));

    // A push lands in the sandbox's feed (QuickBooks pulls when the page opens).
    let push = format!("{base}/push/bankAccounts/ac-001/bankTransactions");
    let body = json!({"accountId": "ac-001", "transactions": [
        {"id": "ca1ba928", "date": day(9), "description": "HSBC Covent Grdn ATM W", "amount": 7991.59, "balance": 8009.11, "transactionType": "Atm"},
        {"id": "ca1ba929", "date": day(1), "description": "Coffee beans", "counterparty": "Pacific Importers", "amount": -9.11, "balance": 8000.00, "transactionType": "Debit"}]});
    let (_, op) = codat.post(&push, body).await;
    let op = codat
        .settled(&company, op["pushOperationKey"].as_str().unwrap())
        .await;
    assert_eq!(
        op["status"], "Success",
        "9 days back is within 7 days of a 5-day-old start: {op}"
    );
    let feed = b
        .get(&format!(
            "/sandbox/intuit/companies/{books}/feeds/{account}"
        ))
        .await;
    for text in [
        "HSBC Covent Grdn ATM W",
        "Pacific Importers",
        // Money with its currency's minor units and digit grouping (issue 17).
        "7,991.59",
        "-9.11",
        "8,000.00",
    ] {
        assert!(feed.body.contains(text), "{text} on the feed page");
    }

    // Revoked credentials no longer link.
    let (s, _) = codat.delete(&creds_path).await;
    assert_eq!(s, 204);
    let connect = b
        .get(&format!("/sandbox/intuit/companies/{books}/connect"))
        .await;
    let again = b
        .post(
            &login,
            &[
                ("csrf", &field(&connect, "csrf")),
                ("username", second["username"].as_str().unwrap()),
                ("password", second["password"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(error_code(&again), "INVALID_CREDENTIALS");

    // The linkUrl: its OTP moves to a cookie, "Get credentials" uses it once.
    let (_, fresh) = codat.get(&base).await;
    let link = fresh["linkUrl"].as_str().unwrap().to_owned();
    let (_, newer) = codat.get(&base).await;
    assert_ne!(
        newer["linkUrl"],
        Value::String(link.clone()),
        "each GET mints a new OTP"
    );
    let link = newer["linkUrl"].as_str().unwrap().to_owned();
    let mut customer = Browser::new(&hub);
    let start_page = see_other(&customer.get(&link).await);
    assert_eq!(start_page, "/link/codat/start");
    let page = customer.get(&start_page).await;
    assert!(page.body.contains("Get credentials"));
    let handed = customer
        .post(&start_page, &[("csrf", &field(&page, "csrf"))])
        .await;
    assert_eq!(handed.status, 200, "{}", handed.body);
    assert!(handed.body.contains("bfpw_") && handed.body.contains("bf-"));
    assert!(!customer.seen.contains("bfotp_"), "the OTP is in no page");
    let used = customer
        .post(&start_page, &[("csrf", &field(&page, "csrf"))])
        .await;
    assert_eq!(used.status, 400);
    // The earlier linkUrl still works (reading the connection does not break an open link),
    // once.
    let mut earlier = Browser::new(&hub);
    see_other(&earlier.get(fresh["linkUrl"].as_str().unwrap()).await);
    let page = earlier.get("/link/codat/start").await;
    let handed = earlier
        .post("/link/codat/start", &[("csrf", &field(&page, "csrf"))])
        .await;
    assert_eq!(handed.status, 200, "{}", handed.body);
}

async fn credentials_link_through_the_json_interface_too(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let codat = Codat::new(&hub, &bank);
    let (co, conn) = codat.company_with_connection("Bank of Dave", "hcws").await;
    let company = co["id"].as_str().unwrap().to_owned();
    let base = format!(
        "/companies/{company}/connections/{}",
        conn["id"].as_str().unwrap()
    );
    let (_, account) = codat.post(&format!("{base}/connectionInfo/bankFeedAccounts"), json!({"id": "ac-9", "accountName": "Checking", "accountType": "checking", "accountNumber": "9", "currency": "USD", "balance": 1})).await;
    assert_eq!(account["status"], "pending");
    let (_, creds) = codat
        .post_empty(&format!(
            "{base}/connectionInfo/bankFeedAccounts/credentials"
        ))
        .await;
    let intuit = Sandbox::of(&hub, "INTUIT_BANK_FEEDS");
    let books = intuit.company("Books").await;
    let refused: Value = intuit
        .post(
            "/link/credentials",
            json!({"company_id": books, "username": creds["username"], "password": "bfpw_nope"}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(refused["error_code"], "INVALID_CREDENTIALS");
    let bound = ok(intuit
        .post(
            "/link/credentials",
            json!({"company_id": books, "username": creds["username"], "password": creds["password"]}),
        )
        .await)
    .await;
    let offered = bound["bank_feed_accounts"][0]["id"].clone();
    assert_eq!(
        bound["bank_feed_accounts"][0]["internal_bank_account_id"],
        "ac-9"
    );
    ok(intuit
        .post(
            "/link/complete",
            json!({"challenge": bound["challenge"], "bank_feed_account_ids": [offered]}),
        )
        .await)
    .await;
    let (_, linked) = codat.get(&base).await;
    assert_eq!(linked["status"], "Linked");
    // Other platforms do not take credentials.
    let xero = Sandbox::of(&hub, "XERO")
        .post(
            "/link/credentials",
            json!({"company_id": books, "username": "u", "password": "p"}),
        )
        .await
        .unwrap();
    assert_eq!(xero.status(), 404);
}

async fn xero_maps_accounts_by_api_after_the_link(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let codat = Codat::new(&hub, &bank);
    hub.list_bank(&bank, "XERO", "https://bank.example/login", "GB")
        .await;
    let (co, conn) = codat.company_with_connection("Bank of Dave", "gbol").await;
    let company = co["id"].as_str().unwrap().to_owned();
    let base = format!(
        "/companies/{company}/connections/{}",
        conn["id"].as_str().unwrap()
    );
    for id in ["cur-1", "sav-1"] {
        codat.post(&format!("{base}/connectionInfo/bankFeedAccounts"), json!({"id": id, "accountName": id, "accountType": "checking", "accountNumber": "1", "currency": "GBP", "balance": 10})).await;
    }
    let mapping = format!("{base}/bankFeedAccounts/mapping");
    let (s, before) = codat.get(&mapping).await;
    assert_eq!(s, 200);
    assert_eq!(before.as_array().unwrap().len(), 2);
    assert_eq!(
        (
            before[0]["status"].as_str(),
            &before[0]["targetAccountOptions"]
        ),
        (Some("pending"), &json!([]))
    );
    error(
        codat
            .post(&mapping, json!({"sourceAccountId": "sav-1"}))
            .await,
        400,
        "CONNECTION_NOT_LINKED",
    );
    error(
        codat.get(&format!("{base}/bankFeeds/info")).await,
        404,
        "COMPANY_INFORMATION_NOT_AVAILABLE",
    );

    // The FI's OTP through the Codat door drives Xero's redirect flow.
    let (s, otp) = codat.post_empty(&format!("{base}/bankFeeds/otp")).await;
    assert_eq!(s, 200, "{otp}");
    assert!(otp["otp"].as_str().unwrap().starts_with("bfotp_") && otp["expiry"].is_string());
    let xero = Sandbox::of(&hub, "XERO");
    let books = xero.company("Dave's Books").await;
    let challenge = xero.challenge(&books, &bank).await;
    let bound = ok(xero
        .redirect(&challenge, otp["otp"].as_str().unwrap())
        .await)
    .await;
    let first = bound["bank_feed_accounts"][0]["id"].clone();
    ok(xero
        .post(
            "/link/complete",
            json!({"challenge": challenge, "bank_feed_account_ids": [first]}),
        )
        .await)
    .await;

    // Now mapping by API: the first is connected, the second can be.
    let (_, after) = codat.get(&mapping).await;
    assert_eq!(
        (after[0]["status"].as_str(), &after[0]["targetAccountId"]),
        (Some("connected"), &first)
    );
    let option = after[1]["targetAccountOptions"][0]["id"].clone();
    assert!(after[1]["targetAccountOptions"][0]["name"]
        .as_str()
        .unwrap()
        .contains("Dave's Books"));
    error(
        codat
            .post(
                &mapping,
                json!({"sourceAccountId": "sav-1", "targetAccountId": "elsewhere"}),
            )
            .await,
        400,
        "UNKNOWN_TARGET_ACCOUNT",
    );
    let (s, mapped) = codat.post(&mapping, json!({"sourceAccountId": "sav-1", "targetAccountId": option, "feedStartDate": day(30)})).await;
    assert_eq!(
        (s, mapped["status"].as_str()),
        (200, Some("connected")),
        "{mapped}"
    );
    let (_, accounts) = codat
        .get(&format!("{base}/connectionInfo/bankFeedAccounts"))
        .await;
    assert!(items(&accounts).iter().all(|a| a["status"] == "connected"));
    let feeds = xero.get(&format!("/companies/{books}/feeds")).await;
    assert_eq!(
        feeds["bank_feed_accounts"].as_array().unwrap().len(),
        2,
        "the mapped account is a feed of the company"
    );
    let (s, info) = codat.get(&format!("{base}/bankFeeds/info")).await;
    assert_eq!(
        (
            s,
            info["companyName"].as_str(),
            info["baseCurrency"].as_str()
        ),
        (200, Some("Dave's Books"), Some("GBP"))
    );
    assert_eq!(info["multicurrencyEnabled"], false);

    // QuickBooks customers map inside QuickBooks.
    let (_, qbo) = codat
        .post(
            &format!("/companies/{company}/connections"),
            json!({"platformKey": "hcws"}),
        )
        .await;
    let qbase = format!(
        "/companies/{company}/connections/{}",
        qbo["id"].as_str().unwrap()
    );
    error(
        codat
            .post(
                &format!("{qbase}/bankFeedAccounts/mapping"),
                json!({"sourceAccountId": "x"}),
            )
            .await,
        400,
        "MAPPING_IN_PLATFORM",
    );
}

async fn company_access_tokens_open_working_links(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let codat = Codat::new(&hub, &bank);
    let (co, _) = codat.company_with_connection("Bank of Dave", "hcws").await;
    let company = co["id"].as_str().unwrap().to_owned();
    let (s, token) = codat
        .get(&format!("/companies/{company}/accessToken"))
        .await;
    assert_eq!(s, 200, "{token}");
    assert_eq!(
        (token["expiresIn"].as_i64(), token["tokenType"].as_str()),
        (Some(3600), Some("Bearer"))
    );
    let secret = token["accessToken"].as_str().unwrap();
    assert!(secret.starts_with("bfct_"));
    let (_, again) = codat
        .get(&format!("/companies/{company}/accessToken"))
        .await;
    assert_ne!(
        again["accessToken"], token["accessToken"],
        "a new token each time"
    );

    let redirect = co["redirect"].as_str().unwrap();
    let plain = hub.open_text(redirect).await;
    assert!(
        plain.contains("/link/connections/") && !plain.contains("otp="),
        "{plain}"
    );
    let page = hub
        .open_text(&format!("{redirect}?access_token={secret}"))
        .await;
    assert!(page.contains("/link/codat/start?otp=bfotp_"), "{page}");
    assert!(!page.contains(secret), "the token is not echoed");
    // Another company's token opens nothing.
    let other = codat.company("Other").await;
    let (_, theirs) = codat
        .get(&format!(
            "/companies/{}/accessToken",
            other["id"].as_str().unwrap()
        ))
        .await;
    let foreign = hub
        .open_text(&format!(
            "{redirect}?access_token={}",
            theirs["accessToken"].as_str().unwrap()
        ))
        .await;
    assert!(!foreign.contains("otp="), "{foreign}");
    error(
        codat.get("/companies/nope/accessToken").await,
        404,
        "COMPANY_NOT_FOUND",
    );
}
