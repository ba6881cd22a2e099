//! The Codat-compatible door over HTTP: companies and data connections in Codat's shapes,
//! errors as `ErrorMessage`, lists with Codat's paging, one credential for both doors.

use bankfeeds_domain::account::BankAccountType;
use bankfeeds_domain::otp::NewOtp;
use bankfeeds_domain::profile::{Door, PlatformProfile};
use bankfeeds_domain::{BankFeedAccount, Clock, ConnectionId, Currency, SystemClock};
use serde_json::{json, Value};

use crate::helpers::{Creds, Hub};

crate::on_both_backends!(
    companies_round_trip_in_codats_shapes,
    codat_errors_are_error_messages,
    data_connections_follow_the_core,
    source_accounts_follow_codats_rules,
    pushes_follow_quickbooks_rules,
);

pub(crate) async fn call(
    hub: &Hub,
    creds: &Creds,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = hub
        .http
        .request(method, hub.url(&format!("/codat{path}")))
        .basic_auth(&creds.client_id, Some(&creds.client_secret));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    if let Some(ct) = resp.headers().get("content-type") {
        assert!(
            ct.to_str().unwrap().starts_with("application/json"),
            "{ct:?}"
        );
    }
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, body)
}

/// A company and one data connection on it (`key`: hcws, gbol, olpr, akxx); answers both as
/// the door showed them.
pub(crate) async fn company_with_connection(
    hub: &Hub,
    bank: &Creds,
    name: &str,
    key: &str,
) -> (Value, Value) {
    let (s, company) = call(
        hub,
        bank,
        reqwest::Method::POST,
        "/companies",
        Some(json!({"name": name})),
    )
    .await;
    assert_eq!(s, 200, "{company}");
    let path = format!("/companies/{}/connections", company["id"].as_str().unwrap());
    let (s, connection) = call(
        hub,
        bank,
        reqwest::Method::POST,
        &path,
        Some(json!({"platformKey": key})),
    )
    .await;
    assert_eq!(s, 200, "{connection}");
    (company, connection)
}

/// Asserts an `ErrorMessage` with this status and our code.
pub(crate) fn error(got: (u16, Value), status: u16, code: &str) -> Value {
    let (s, body) = got;
    assert_eq!(
        (s, body["errorCode"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    assert_eq!(body["statusCode"], status);
    assert!(body["error"].is_string());
    assert_eq!(body["correlationId"].as_str().unwrap().len(), 32);
    assert!(body["canBeRetried"].is_string() && body["detailedErrorCode"].is_i64());
    body
}

async fn companies_round_trip_in_codats_shapes(hub: Hub) {
    use reqwest::Method;
    let bank = hub.org("Demo Bank").await;
    let (s, dave) = call(
        &hub,
        &bank,
        Method::POST,
        "/companies",
        Some(json!({"name": "Bank of <Dave>", "description": "Early access", "tags": {"region": "uk"}})),
    )
    .await;
    assert_eq!(s, 200, "{dave}");
    assert_eq!(
        dave["name"], "Bank of Dave",
        "characters Codat drops are dropped"
    );
    assert_eq!(dave["tags"]["region"], "uk");
    assert_eq!(dave["dataConnections"], json!([]));
    let id = dave["id"].as_str().unwrap().to_owned();
    assert!(dave["redirect"].as_str().unwrap().starts_with(&hub.base));
    assert!(dave["created"].as_str().unwrap().ends_with('Z'));
    for (name, region) in [("Elaborate Events, Inc", "us"), ("Acme Ltd", "uk")] {
        let (s, _) = call(
            &hub,
            &bank,
            Method::POST,
            "/companies",
            Some(json!({"name": name, "tags": {"region": region}})),
        )
        .await;
        assert_eq!(s, 200);
    }

    let (s, page) = call(
        &hub,
        &bank,
        Method::GET,
        "/companies?page=1&pageSize=2&orderBy=name",
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(page["totalResults"], 3);
    assert_eq!(page["pageSize"], 2);
    let names: Vec<_> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Acme Ltd", "Bank of Dave"]);
    assert_eq!(page["_links"]["self"]["href"], "/codat/companies");
    assert!(page["_links"]["current"]["href"]
        .as_str()
        .unwrap()
        .starts_with("/codat/companies?page=1"));
    assert!(page["_links"]["next"]["href"]
        .as_str()
        .unwrap()
        .contains("page=2"));
    let (_, uk) = call(
        &hub,
        &bank,
        Method::GET,
        "/companies?tags=region%3Duk",
        None,
    )
    .await;
    assert_eq!(uk["totalResults"], 2);
    let (_, q) = call(
        &hub,
        &bank,
        Method::GET,
        "/companies?query=name~events",
        None,
    )
    .await;
    assert_eq!(q["results"][0]["name"], "Elaborate Events, Inc");

    let (s, got) = call(&hub, &bank, Method::GET, &format!("/companies/{id}"), None).await;
    assert_eq!((s, &got["id"]), (200, &dave["id"]));
    let (s, replaced) = call(
        &hub,
        &bank,
        Method::PUT,
        &format!("/companies/{id}"),
        Some(json!({"name": "Dave's Bank"})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            replaced["name"].as_str(),
            &replaced["description"],
            &replaced["tags"]
        ),
        (Some("Dave's Bank"), &Value::Null, &json!({}))
    );
    let (s, patched) = call(
        &hub,
        &bank,
        Method::PATCH,
        &format!("/companies/{id}"),
        Some(json!({"description": "VIP"})),
    )
    .await;
    assert_eq!(
        (s, patched["name"].as_str(), patched["description"].as_str()),
        (200, Some("Dave's Bank"), Some("VIP"))
    );

    // Another organisation sees none of it.
    let other = hub.org("Other Bank").await;
    error(
        call(&hub, &other, Method::GET, &format!("/companies/{id}"), None).await,
        404,
        "COMPANY_NOT_FOUND",
    );
    let (_, theirs) = call(&hub, &other, Method::GET, "/companies", None).await;
    assert_eq!(theirs["totalResults"], 0);
    error(
        call(
            &hub,
            &other,
            Method::DELETE,
            &format!("/companies/{id}"),
            None,
        )
        .await,
        404,
        "COMPANY_NOT_FOUND",
    );

    let (s, body) = call(
        &hub,
        &bank,
        Method::DELETE,
        &format!("/companies/{id}"),
        None,
    )
    .await;
    assert_eq!((s, body), (204, Value::Null));
    error(
        call(&hub, &bank, Method::GET, &format!("/companies/{id}"), None).await,
        404,
        "COMPANY_NOT_FOUND",
    );
    error(
        call(
            &hub,
            &bank,
            Method::DELETE,
            &format!("/companies/{id}"),
            None,
        )
        .await,
        404,
        "COMPANY_NOT_FOUND",
    );
}

async fn codat_errors_are_error_messages(hub: Hub) {
    use reqwest::Method;
    let bank = hub.org("Demo Bank").await;
    let nobody = Creds {
        client_secret: "bfsk_wrong".into(),
        ..hub.org("X").await
    };
    error(
        call(&hub, &nobody, Method::GET, "/companies", None).await,
        401,
        "INVALID_CREDENTIALS",
    );
    let resp = hub
        .http
        .get(hub.url("/codat/companies"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["errorCode"], "MISSING_CREDENTIALS");

    let e = error(
        call(
            &hub,
            &bank,
            Method::POST,
            "/companies",
            Some(json!({"description": "no name"})),
        )
        .await,
        400,
        "MISSING_FIELD",
    );
    assert_eq!(e["validation"]["errors"][0]["itemId"], "name");
    error(
        call(
            &hub,
            &bank,
            Method::POST,
            "/companies",
            Some(json!({"name": "<>"})),
        )
        .await,
        400,
        "INVALID_FIELD_VALUE",
    );
    error(
        call(
            &hub,
            &bank,
            Method::POST,
            "/companies",
            Some(json!({"name": "A", "tags": {"k": "v".repeat(101)}})),
        )
        .await,
        400,
        "INVALID_FIELD_VALUE",
    );
    error(
        call(
            &hub,
            &bank,
            Method::POST,
            "/companies",
            Some(json!(["not", "an", "object"])),
        )
        .await,
        400,
        "INVALID_FIELD_TYPE",
    );
    error(
        call(
            &hub,
            &bank,
            Method::GET,
            "/companies?query=name%3D%3Dx",
            None,
        )
        .await,
        400,
        "MALFORMED_QUERY",
    );
    error(
        call(&hub, &bank, Method::GET, "/companies?pageSize=0", None).await,
        400,
        "INVALID_PAGE_SIZE",
    );
    error(
        call(&hub, &bank, Method::GET, "/companies/not-a-uuid", None).await,
        404,
        "COMPANY_NOT_FOUND",
    );
    error(
        call(&hub, &bank, Method::GET, "/nothing/here", None).await,
        404,
        "ROUTE_NOT_FOUND",
    );
    error(
        call(
            &hub,
            &bank,
            Method::POST,
            "/companies/x/connections/y",
            None,
        )
        .await,
        405,
        "METHOD_NOT_ALLOWED",
    );
    let (_, list) = call(&hub, &bank, Method::GET, "/companies", None).await;
    assert_eq!(
        list["totalResults"], 0,
        "nothing was created by the refusals"
    );
}

async fn data_connections_follow_the_core(hub: Hub) {
    use reqwest::Method;
    let bank = hub.org("Demo Bank").await;
    let (_, co) = call(
        &hub,
        &bank,
        Method::POST,
        "/companies",
        Some(json!({"name": "Bank of Dave"})),
    )
    .await;
    let company = co["id"].as_str().unwrap().to_owned();
    let base = format!("/companies/{company}/connections");
    error(
        call(
            &hub,
            &bank,
            Method::POST,
            &base,
            Some(json!({"platformKey": "zzzz"})),
        )
        .await,
        400,
        "UNKNOWN_PLATFORM_KEY",
    );
    error(
        call(&hub, &bank, Method::POST, &base, Some(json!({}))).await,
        400,
        "UNKNOWN_PLATFORM_KEY",
    );

    let (s, qbo) = call(
        &hub,
        &bank,
        Method::POST,
        &base,
        Some(json!({"platformKey": "hcws"})),
    )
    .await;
    assert_eq!(s, 200, "{qbo}");
    assert_eq!(qbo["status"], "PendingAuth");
    assert_eq!(qbo["integrationKey"], "hcws");
    assert_eq!(qbo["platformName"], "QuickBooks Online Bank Feeds");
    assert_eq!(qbo["sourceType"], "BankFeed");
    assert_eq!(qbo["integrationId"], "6b113e06-e818-45d7-977b-8e6bb3d01269");
    let id = qbo["id"].as_str().unwrap().to_owned();
    assert!(
        qbo["linkUrl"]
            .as_str()
            .unwrap()
            .starts_with(&hub.url("/link/codat/start?otp=bfotp_")),
        "{qbo}"
    );
    let (_, xero) = call(
        &hub,
        &bank,
        Method::POST,
        &base,
        Some(json!({"platformKey": "gbol"})),
    )
    .await;

    let (_, list) = call(
        &hub,
        &bank,
        Method::GET,
        &format!("{base}?query=integrationKey%3Dgbol"),
        None,
    )
    .await;
    assert_eq!(list["totalResults"], 1);
    assert_eq!(list["results"][0]["id"], xero["id"]);
    let (_, company_now) = call(
        &hub,
        &bank,
        Method::GET,
        &format!("/companies/{company}"),
        None,
    )
    .await;
    assert_eq!(company_now["dataConnections"].as_array().unwrap().len(), 2);
    // One core: the Rutter-shaped door lists the same connections.
    let rutter: Value = hub
        .get(&bank, "/versioned/connections")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<_> = rutter["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert!(
        ids.contains(&qbo["id"]) && ids.contains(&xero["id"]),
        "{rutter}"
    );

    // The platform links a feed of the QuickBooks connection: the connection is Linked.
    let cid: ConnectionId = id.parse().unwrap();
    let connection = hub.store.find_connection(cid).await.unwrap().unwrap();
    let profile = PlatformProfile::for_platform(connection.platform, Door::Codat);
    let account = BankFeedAccount::new(
        bank.org.id,
        cid,
        &profile,
        "CHK-1".into(),
        BankAccountType::Bank,
        Currency::from_code("USD").unwrap(),
        SystemClock.now(),
    );
    hub.store
        .create_account(&account, false, None)
        .await
        .unwrap();
    let (otp, code) = NewOtp::generate(&connection, SystemClock.now());
    hub.store.issue_otp(&otp).await.unwrap();
    let sandbox = |path: String, body: Value| {
        let hub = &hub;
        async move {
            hub.http
                .post(hub.url(&path))
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let config = json!({"display_name": "Demo Bank", "login_url": "https://bank.example/login", "country_code": "US"});
    hub.http
        .put(hub.url("/versioned/bank_feeds/configs/INTUIT_BANK_FEEDS"))
        .basic_auth(&bank.client_id, Some(&bank.client_secret))
        .json(&config)
        .send()
        .await
        .unwrap();
    let books = sandbox(
        "/sandbox/intuit/api/companies".into(),
        json!({"name": "Books"}),
    )
    .await;
    let books = books["company"]["id"].as_str().unwrap().to_owned();
    let connect = sandbox(
        format!("/sandbox/intuit/api/companies/{books}/connect"),
        json!({"org_id": bank.org.id}),
    )
    .await;
    let challenge = connect["challenge"].as_str().unwrap().to_owned();
    sandbox(
        "/sandbox/intuit/api/link/redirect".into(),
        json!({"challenge": challenge, "otp": code.expose()}),
    )
    .await;
    let done = sandbox(
        "/sandbox/intuit/api/link/complete".into(),
        json!({"challenge": challenge, "bank_feed_account_ids": [account.id]}),
    )
    .await;
    assert_eq!(
        done["bank_feed_accounts"][0]["feed_status"], "active",
        "{done}"
    );
    let (_, linked) = call(&hub, &bank, Method::GET, &format!("{base}/{id}"), None).await;
    assert_eq!(linked["status"], "Linked");

    // Unlinking through Codat stops the feed.
    error(
        call(
            &hub,
            &bank,
            Method::PATCH,
            &format!("{base}/{id}"),
            Some(json!({"status": "Linked"})),
        )
        .await,
        400,
        "INVALID_STATUS",
    );
    let (s, unlinked) = call(
        &hub,
        &bank,
        Method::PATCH,
        &format!("{base}/{id}"),
        Some(json!({"status": "Unlinked"})),
    )
    .await;
    assert_eq!((s, unlinked["status"].as_str()), (200, Some("Unlinked")));
    let stored = hub
        .store
        .get_account(cid, account.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.feed_status.as_str(), "inactive");

    // Deleting: 200 with no body; then it is gone, from both doors.
    let (s, body) = call(&hub, &bank, Method::DELETE, &format!("{base}/{id}"), None).await;
    assert_eq!((s, body), (200, Value::Null));
    error(
        call(&hub, &bank, Method::GET, &format!("{base}/{id}"), None).await,
        404,
        "CONNECTION_NOT_FOUND",
    );
    assert_eq!(hub.store.find_connection(cid).await.unwrap(), None);
    // Another company's path does not reach a connection.
    let (_, other) = call(
        &hub,
        &bank,
        Method::POST,
        "/companies",
        Some(json!({"name": "Other"})),
    )
    .await;
    let other = other["id"].as_str().unwrap();
    let xid = xero["id"].as_str().unwrap();
    error(
        call(
            &hub,
            &bank,
            Method::GET,
            &format!("/companies/{other}/connections/{xid}"),
            None,
        )
        .await,
        404,
        "CONNECTION_NOT_FOUND",
    );
    // The company's redirect page lists the connection left.
    let page = hub
        .http
        .get(co["redirect"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Connect to Xero") && !page.contains("QuickBooks"),
        "{page}"
    );
}

async fn source_accounts_follow_codats_rules(hub: Hub) {
    use reqwest::Method;
    let bank = hub.org("Demo Bank").await;
    let (co, conn) = company_with_connection(&hub, &bank, "Bank of Dave", "hcws").await;
    let company = co["id"].as_str().unwrap().to_owned();
    let connection = conn["id"].as_str().unwrap().to_owned();
    let base =
        format!("/companies/{company}/connections/{connection}/connectionInfo/bankFeedAccounts");

    // Seed 001's V2 account.
    let v2 = json!({"id": "ac-001", "accountName": "account-001", "accountType": "checking",
        "accountNumber": "12345670", "sortCode": "12-34-56", "currency": "USD", "balance": 4002});
    let (s, a) = call(&hub, &bank, Method::POST, &base, Some(v2.clone())).await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(
        (
            a["id"].as_str(),
            a["status"].as_str(),
            a["accountType"].as_str()
        ),
        (Some("ac-001"), Some("pending"), Some("checking"))
    );
    assert_eq!(a["balance"], json!(4002));
    assert!(a["feedStartDate"].is_null());
    error(
        call(&hub, &bank, Method::POST, &base, Some(v2.clone())).await,
        400,
        "SOURCE_ACCOUNT_EXISTS",
    );
    // The v1 model needs only an id; numbers in exponent notation stay exact.
    let (s, v1) = call(&hub, &bank, Method::POST, &base, Some(json!({"id": "acc-v1", "accountType": "Debit", "currency": "GBP", "balance": 1.23450e3}))).await;
    assert_eq!(
        (s, v1["accountType"].as_str(), v1["currency"].as_str()),
        (200, Some("Debit"), Some("GBP"))
    );
    assert_eq!(v1["balance"].to_string(), "1234.5");
    error(
        call(
            &hub,
            &bank,
            Method::POST,
            &base,
            Some(json!({"accountName": "no id"})),
        )
        .await,
        400,
        "MISSING_FIELD",
    );
    error(
        call(
            &hub,
            &bank,
            Method::POST,
            &base,
            Some(json!({"id": "x", "currency": "XXY"})),
        )
        .await,
        400,
        "INVALID_CURRENCY",
    );
    error(
        call(
            &hub,
            &bank,
            Method::POST,
            &base,
            Some(json!({"id": "x", "currency": "USD", "balance": 1.001})),
        )
        .await,
        400,
        "TOO_MANY_DECIMALS",
    );
    error(call(&hub, &bank, Method::POST, &base, Some(json!({"id": "x", "accountName": "n", "accountType": "brokerage", "accountNumber": "1", "currency": "USD", "balance": 1}))).await, 400, "INVALID_ENUM_VALUE");

    // A batch: one result per account; 207 when some were refused, 201 when none.
    let (s, results) = call(&hub, &bank, Method::POST, &format!("{base}/batch"), Some(json!([
        {"id": "sav-1", "accountName": "Savings", "accountType": "savings", "accountNumber": "9", "currency": "USD", "balance": 0},
        v2,
        {"id": "card-1", "accountName": "Card", "accountType": "creditCard", "accountNumber": "4111", "currency": "USD", "balance": -12.5},
    ]))).await;
    assert_eq!(s, 207, "{results}");
    let codes: Vec<_> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"]["statusCode"].clone())
        .collect();
    assert_eq!(codes, vec![json!(201), json!("400"), json!(201)]);
    assert_eq!(results[2]["result"]["account"]["accountType"], "creditCard");
    let (s, _) = call(
        &hub,
        &bank,
        Method::POST,
        &format!("{base}/batch"),
        Some(json!([{"id": "sav-2"}])),
    )
    .await;
    assert_eq!(s, 201);

    let (s, listed) = call(&hub, &bank, Method::GET, &base, None).await;
    assert_eq!(s, 200);
    let ids: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ac-001", "acc-v1", "sav-1", "card-1", "sav-2"]);

    // Updates: the name, and the balance while pending; the status only to disconnected.
    let one = format!("{base}/ac-001");
    let (s, renamed) = call(&hub, &bank, Method::PATCH, &one, Some(json!({"id": "ac-001", "accountName": "Operating", "accountType": "Credit", "balance": 99.99}))).await;
    assert_eq!(
        (
            s,
            renamed["accountName"].as_str(),
            renamed["accountType"].as_str()
        ),
        (200, Some("Operating"), Some("checking")),
        "{renamed}"
    );
    assert_eq!(renamed["balance"], json!(99.99));
    error(
        call(
            &hub,
            &bank,
            Method::PATCH,
            &one,
            Some(json!({"id": "ac-001", "status": "connected"})),
        )
        .await,
        400,
        "INVALID_STATUS",
    );
    error(
        call(
            &hub,
            &bank,
            Method::PATCH,
            &one,
            Some(json!({"id": "other"})),
        )
        .await,
        400,
        "ID_MISMATCH",
    );
    error(
        call(
            &hub,
            &bank,
            Method::PATCH,
            &format!("{base}/nope"),
            Some(json!({"id": "nope"})),
        )
        .await,
        404,
        "SOURCE_ACCOUNT_NOT_FOUND",
    );

    // Once the platform links it, the balance is the pushes' to set; disconnecting works.
    let cid: ConnectionId = connection.parse().unwrap();
    let stored = hub
        .store
        .list_accounts(
            cid,
            &bankfeeds_domain::account::AccountQuery {
                filters: vec![],
                sort: bankfeeds_domain::account::AccountSortField::UpdatedAt,
                direction: bankfeeds_domain::account::SortDirection::Asc,
                after: None,
                limit: 50,
            },
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|a| a.internal_bank_account_id == "ac-001")
        .unwrap();
    let state = bankfeeds_domain::account::FeedState {
        feed_status: bankfeeds_domain::account::FeedStatus::Active,
        transaction_ready: true,
        transaction_start_date: Some(SystemClock.now()),
    };
    hub.store
        .set_feed_state(stored.id, &state, SystemClock.now())
        .await
        .unwrap();
    let (_, listed) = call(&hub, &bank, Method::GET, &base, None).await;
    assert_eq!(listed[0]["status"], "connected");
    assert!(listed[0]["feedStartDate"].is_string());
    error(
        call(
            &hub,
            &bank,
            Method::PATCH,
            &one,
            Some(json!({"id": "ac-001", "balance": 5})),
        )
        .await,
        400,
        "BALANCE_LOCKED",
    );
    let (s, off) = call(
        &hub,
        &bank,
        Method::PATCH,
        &one,
        Some(json!({"id": "ac-001", "status": "disconnected"})),
    )
    .await;
    assert_eq!((s, off["status"].as_str()), (200, Some("disconnected")));
    let core = hub
        .store
        .get_account(cid, stored.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (core.feed_status.as_str(), core.transaction_ready),
        ("inactive", false)
    );

    // Delete: 204, then gone.
    let (s, body) = call(&hub, &bank, Method::DELETE, &format!("{base}/sav-2"), None).await;
    assert_eq!((s, body), (204, Value::Null));
    error(
        call(&hub, &bank, Method::DELETE, &format!("{base}/sav-2"), None).await,
        404,
        "SOURCE_ACCOUNT_NOT_FOUND",
    );
    let (_, listed) = call(&hub, &bank, Method::GET, &base, None).await;
    assert_eq!(listed.as_array().unwrap().len(), 4);
    // Unknown connection or company: 404.
    error(
        call(
            &hub,
            &bank,
            Method::GET,
            &format!(
                "/companies/{company}/connections/{}/connectionInfo/bankFeedAccounts",
                ConnectionId::new()
            ),
            None,
        )
        .await,
        404,
        "CONNECTION_NOT_FOUND",
    );
}

/// Polls a push operation until it leaves `Pending`.
/// The push operation once the hub's queue has been drained: settled.
pub(crate) async fn settled(hub: &Hub, bank: &Creds, company: &str, key: &str) -> Value {
    hub.drain().await;
    let (s, op) = call(
        hub,
        bank,
        reqwest::Method::GET,
        &format!("/companies/{company}/push/{key}"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{op}");
    assert_ne!(op["status"], "Pending", "push {key} still pending: {op}");
    op
}

pub(crate) fn day(n: i64) -> String {
    (SystemClock.now() - chrono::TimeDelta::days(n))
        .format("%Y-%m-%dT10:00:00")
        .to_string()
}

async fn pushes_follow_quickbooks_rules(hub: Hub) {
    use reqwest::Method;
    let bank = hub.org("Demo Bank").await;
    let (co, conn) = company_with_connection(&hub, &bank, "Elaborate Events, Inc", "hcws").await;
    let company = co["id"].as_str().unwrap().to_owned();
    let connection = conn["id"].as_str().unwrap().to_owned();
    let accounts =
        format!("/companies/{company}/connections/{connection}/connectionInfo/bankFeedAccounts");
    call(&hub, &bank, Method::POST, &accounts, Some(json!({"id": "ac-001", "accountName": "Checking", "accountType": "checking", "accountNumber": "12345670", "currency": "USD", "balance": 0}))).await;
    let push = format!(
        "/companies/{company}/connections/{connection}/push/bankAccounts/ac-001/bankTransactions"
    );
    let tx = |id: &str, days_ago: i64, amount: f64, balance: f64| json!({"id": id, "date": day(days_ago), "description": format!("tx {id}"), "amount": amount, "balance": balance, "transactionType": if amount < 0.0 { "Debit" } else { "Credit" }});

    // Not connected yet: refused, saying so.
    let e = error(
        call(
            &hub,
            &bank,
            Method::POST,
            &push,
            Some(json!({"accountId": "ac-001", "transactions": [tx("t1", 3, 10.0, 10.0)]})),
        )
        .await,
        400,
        "SOURCE_ACCOUNT_NOT_CONNECTED",
    );
    assert!(e["error"].as_str().unwrap().contains("pending"), "{e}");

    // The customer links it in QuickBooks with a feed start date ten days ago.
    let cid: ConnectionId = connection.parse().unwrap();
    let q = bankfeeds_domain::account::AccountQuery {
        filters: vec![],
        sort: bankfeeds_domain::account::AccountSortField::UpdatedAt,
        direction: bankfeeds_domain::account::SortDirection::Asc,
        after: None,
        limit: 10,
    };
    let account = hub
        .store
        .list_accounts(cid, &q)
        .await
        .unwrap()
        .items
        .remove(0);
    let start = SystemClock.now() - chrono::TimeDelta::days(10);
    hub.store
        .set_feed_state(
            account.id,
            &bankfeeds_domain::account::FeedState {
                feed_status: bankfeeds_domain::account::FeedStatus::Active,
                transaction_ready: true,
                transaction_start_date: Some(start),
            },
            SystemClock.now(),
        )
        .await
        .unwrap();

    // A good push: Pending at once, then Success; the last balance is the account's.
    let body = json!({"accountId": "ac-001", "transactions": [tx("t1", 12, 7991.59, 8009.11), tx("t2", 4, -9.11, 8000.0), tx("t3", 3, 100.5, 8100.5)]});
    let (s, op) = call(
        &hub,
        &bank,
        Method::POST,
        &format!("{push}?timeoutInMinutes=30&allowSyncOnPushComplete=true"),
        Some(body.clone()),
    )
    .await;
    assert_eq!(
        (s, op["status"].as_str(), op["statusCode"].as_i64()),
        (200, Some("Pending"), Some(202)),
        "{op}"
    );
    assert_eq!(
        (op["dataType"].as_str(), op["timeoutInMinutes"].as_i64()),
        (Some("bankTransactions"), Some(30))
    );
    assert_eq!(op["data"], body, "the request is echoed");
    assert_eq!(op["dataConnectionKey"], conn["id"]);
    let done = settled(
        &hub,
        &bank,
        &company,
        op["pushOperationKey"].as_str().unwrap(),
    )
    .await;
    assert_eq!(
        (done["status"].as_str(), done["statusCode"].as_i64()),
        (Some("Success"), Some(200)),
        "{done}"
    );
    let changed: Vec<_> = done["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["recordRef"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        changed,
        ["t1", "t2", "t3"],
        "12 days back is within 7 days of a 10-day-old start"
    );
    assert!(done["completedOnUtc"].is_string());
    assert_eq!(
        hub.store
            .get_account(cid, account.id)
            .await
            .unwrap()
            .unwrap()
            .current_balance,
        Some("8100.5".parse().unwrap())
    );

    // Each QuickBooks rule fails the push, naming the offending transactions; nothing is stored.
    let future = (SystemClock.now() + chrono::TimeDelta::days(2))
        .format("%Y-%m-%dT10:00:00")
        .to_string();
    let cases = [
        (
            json!([{"id": "f1", "date": future, "description": "future", "amount": 1, "balance": 1}]),
            "FUTURE_DATED",
            "f1",
        ),
        (json!([tx("o1", 5, 1.0, 1.0)]), "OLDER_THAN_STORED", "o1"),
        (
            json!([tx("n1", 1, 1.0, 1.0), tx("n2", 2, 1.0, 2.0)]),
            "NOT_CHRONOLOGICAL",
            "n2",
        ),
        (
            json!([tx("h1", 18, 1.0, 1.0)]),
            "BEFORE_HISTORY_WINDOW",
            "h1",
        ),
        (
            json!([tx("t3", 3, 999.0, 1.0)]),
            "TRANSACTION_ID_CONFLICT",
            "t3",
        ),
    ];
    for (txs, rule, item) in cases {
        let (s, op) = call(
            &hub,
            &bank,
            Method::POST,
            &push,
            Some(json!({"accountId": "ac-001", "transactions": txs})),
        )
        .await;
        assert_eq!(s, 200, "{op}");
        let failed = settled(
            &hub,
            &bank,
            &company,
            op["pushOperationKey"].as_str().unwrap(),
        )
        .await;
        assert_eq!(failed["status"], "Failed", "{rule}: {failed}");
        let errors = failed["validation"]["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["validatorName"] == rule && e["itemId"] == item),
            "{rule}: {failed}"
        );
        assert!(failed["errorMessage"].is_string());
    }
    let many: Vec<Value> = (0..1001)
        .map(|i| tx(&format!("m{i}"), 1, 1.0, 1.0))
        .collect();
    let (_, op) = call(
        &hub,
        &bank,
        Method::POST,
        &push,
        Some(json!({"accountId": "ac-001", "transactions": many})),
    )
    .await;
    let failed = settled(
        &hub,
        &bank,
        &company,
        op["pushOperationKey"].as_str().unwrap(),
    )
    .await;
    assert_eq!(
        failed["validation"]["errors"][0]["validatorName"],
        "BATCH_TOO_LARGE"
    );
    let stored = hub
        .store
        .list_transactions(
            cid,
            &bankfeeds_domain::transaction::TransactionQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
    assert_eq!(stored.len(), 3);

    // What cannot be a transaction is a 400 before any push operation exists.
    let e = error(call(&hub, &bank, Method::POST, &push, Some(json!({"accountId": "ac-001", "transactions": [{"id": "x", "date": "soon", "description": "d", "amount": 1, "balance": 1}]}))).await, 400, "INVALID_DATE");
    assert_eq!(e["validation"]["errors"][0]["itemId"], "x");
    error(call(&hub, &bank, Method::POST, &push, Some(json!({"accountId": "ac-001", "transactions": [{"id": "x", "date": day(1), "amount": 1}]}))).await, 400, "MISSING_FIELD");
    error(
        call(
            &hub,
            &bank,
            Method::POST,
            &push,
            Some(json!({"accountId": "other", "transactions": []})),
        )
        .await,
        400,
        "ACCOUNT_ID_MISMATCH",
    );
    error(
        call(
            &hub,
            &bank,
            Method::POST,
            &format!("{push}?timeoutInMinutes=0"),
            Some(json!({"accountId": "ac-001", "transactions": [tx("z", 1, 1.0, 1.0)]})),
        )
        .await,
        400,
        "INVALID_TIMEOUT",
    );
    error(
        call(
            &hub,
            &bank,
            Method::POST,
            &push.replace("ac-001", "nope"),
            Some(json!({"transactions": []})),
        )
        .await,
        404,
        "SOURCE_ACCOUNT_NOT_FOUND",
    );

    // A sign against the type is a warning, not a failure.
    let (_, op) = call(&hub, &bank, Method::POST, &push, Some(json!({"accountId": "ac-001", "transactions": [{"id": "w1", "date": day(1), "description": "refund", "amount": -5, "balance": 8095.5, "transactionType": "Credit"}]}))).await;
    let ok = settled(
        &hub,
        &bank,
        &company,
        op["pushOperationKey"].as_str().unwrap(),
    )
    .await;
    assert_eq!(ok["status"], "Success");
    assert_eq!(ok["validation"]["warnings"][0]["itemId"], "w1");

    // A push that waited past its timeout is TimedOut and never applied.
    let late = bankfeeds_domain::Job::new(
bankfeeds_domain::job::JobKind::CodatPush,bank.org.id, cid, Some(account.id), bankfeeds_domain::job::JobRequest {
        method: "POST".into(),
        url: format!("/codat/companies/{company}/connections/{connection}/push/bankAccounts/ac-001/bankTransactions?timeoutInMinutes=1"),
        body: bankfeeds_domain::job::RawJson::from_value(&json!({"accountId": "ac-001", "transactions": [tx("late", 0, 1.0, 1.0)]})),
        idempotency_key: None,
    }, SystemClock.now() - chrono::TimeDelta::minutes(5));
    hub.store.submit_job(&late, None).await.unwrap();
    let timed_out = settled(&hub, &bank, &company, &late.id.to_string()).await;
    assert_eq!(
        (
            timed_out["status"].as_str(),
            timed_out["timeoutInMinutes"].as_i64()
        ),
        (Some("TimedOut"), Some(1)),
        "{timed_out}"
    );

    // One core, two doors: the Rutter-shaped API reads back what Codat pushed, once a token
    // is issued for the connection.
    let rotated: Value = hub
        .post(
            &bank,
            &format!("/versioned/connections/{connection}/rotate_access_token"),
            &json!({}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = rotated["connection"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let accounts: Value = hub
        .get(
            &bank,
            &format!("/versioned/accounting/bank_feeds/accounts?access_token={token}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rutter_account = &accounts["bank_feed_accounts"][0];
    assert_eq!(
        rutter_account["internal_bank_account_id"], "ac-001",
        "{accounts}"
    );
    assert_eq!(rutter_account["current_balance"], json!(8095.5));
    assert_eq!(rutter_account["feed_status"], "active");
    let listed: Value = hub
        .get(
            &bank,
            &format!("/versioned/accounting/bank_feeds/transactions?access_token={token}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows: Vec<(String, String)> = listed["bank_feed_transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["transaction_id"].as_str().unwrap().to_owned(),
                t["amount"].to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("t1", "7991.59"),
        ("t2", "-9.11"),
        ("t3", "100.5"),
        ("w1", "-5"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(rows, want, "{listed}");
    assert_eq!(listed["bank_feed_transactions"][3]["description"], "refund");

    // The list: paged, filtered and ordered.
    let (s, page) = call(
        &hub,
        &bank,
        Method::GET,
        &format!(
            "/companies/{company}/push?query=status%3DFailed&orderBy=-requestedOnUtc&pageSize=2"
        ),
        None,
    )
    .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["totalResults"], 6);
    assert_eq!(page["results"].as_array().unwrap().len(), 2);
    assert!(
        page["results"][0]["requestedOnUtc"].as_str()
            >= page["results"][1]["requestedOnUtc"].as_str()
    );
    assert!(page["results"][0].get("data").is_none());
    let (_, all) = call(
        &hub,
        &bank,
        Method::GET,
        &format!("/companies/{company}/push"),
        None,
    )
    .await;
    assert_eq!(all["totalResults"], 9);
    error(
        call(
            &hub,
            &bank,
            Method::GET,
            &format!("/companies/{company}/push/{}", ConnectionId::new()),
            None,
        )
        .await,
        404,
        "PUSH_OPERATION_NOT_FOUND",
    );
    let (s, model) = call(&hub, &bank, Method::GET, &format!("/companies/{company}/connections/{connection}/options/bankAccounts/ac-001/bankTransactions"), None).await;
    assert_eq!((s, model["type"].as_str()), (200, Some("Object")));
    assert_eq!(
        model["properties"]["transactions"]["properties"]["description"]["required"],
        true
    );
}
