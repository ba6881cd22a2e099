//! The Codat-compatible door over HTTP: companies and data connections in Codat's shapes,
//! errors as `ErrorMessage`, lists with Codat's paging, one credential for both doors.

use bankfeeds_domain::account::{
    AccountQuery, AccountSortField, BankAccountType, FeedState, FeedStatus, SortDirection,
};
use bankfeeds_domain::otp::NewOtp;
use bankfeeds_domain::profile::{Door, PlatformProfile};
use bankfeeds_domain::{
    BankFeedAccount, BankFeedAccountId, Clock, ConnectionId, Currency, SystemClock,
};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{items, ok, with_token, Creds, Hub, Sandbox, ACCOUNTS, TRANSACTIONS};
use crate::link_flow::list_bank;

crate::on_both_backends!(
    companies_round_trip_in_codats_shapes,
    codat_errors_are_error_messages,
    data_connections_follow_the_core,
    source_accounts_follow_codats_rules,
    pushes_follow_quickbooks_rules,
);

/// The Codat door (`/codat…`) as one organisation calls it: each call answers its status and
/// its JSON body (`null` when empty), and every body it gets is JSON.
pub(crate) struct Codat<'a> {
    hub: &'a Hub,
    creds: &'a Creds,
}

impl<'a> Codat<'a> {
    pub(crate) fn new(hub: &'a Hub, creds: &'a Creds) -> Self {
        Codat { hub, creds }
    }

    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method_name = method.as_str().to_ascii_lowercase();
        let mut req = self
            .hub
            .http
            .request(method, self.hub.url(&format!("/codat{path}")))
            .basic_auth(&self.creds.client_id, Some(&self.creds.client_secret));
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
        crate::codat_contract::holds_to_the_document(method_name, path, status, &body);
        (status, body)
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// A POST with no body at all.
    pub(crate) async fn post_empty(&self, path: &str) -> (u16, Value) {
        self.call(Method::POST, path, None).await
    }

    pub(crate) async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub(crate) async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub(crate) async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates a company; answers it as the door showed it.
    pub(crate) async fn company(&self, name: &str) -> Value {
        let (s, company) = self.post("/companies", json!({ "name": name })).await;
        assert_eq!(s, 200, "{company}");
        company
    }

    /// A company and one data connection on it (`key`: hcws, gbol, olpr, akxx); answers both as
    /// the door showed them.
    pub(crate) async fn company_with_connection(&self, name: &str, key: &str) -> (Value, Value) {
        let company = self.company(name).await;
        let path = format!("/companies/{}/connections", company["id"].as_str().unwrap());
        let (s, connection) = self.post(&path, json!({"platformKey": key})).await;
        assert_eq!(s, 200, "{connection}");
        (company, connection)
    }

    /// A company `name` with a QuickBooks (hcws) data connection and one source account on it,
    /// `ac-001` (a USD checking account), not linked yet; answers (company id, connection id).
    pub(crate) async fn quickbooks_checking(&self, name: &str) -> (String, String) {
        let (co, conn) = self.company_with_connection(name, "hcws").await;
        let company = co["id"].as_str().unwrap().to_owned();
        let connection = conn["id"].as_str().unwrap().to_owned();
        let accounts = format!(
            "/companies/{company}/connections/{connection}/connectionInfo/bankFeedAccounts"
        );
        let (s, a) = self.post(&accounts, json!({"id": "ac-001", "accountName": "Checking", "accountType": "checking", "accountNumber": "12345670", "currency": "USD", "balance": 0})).await;
        assert_eq!(s, 200, "{a}");
        (company, connection)
    }

    /// The push operation once the hub's queue has been drained: settled.
    pub(crate) async fn settled(&self, company: &str, key: &str) -> Value {
        self.hub.drain().await;
        let (s, op) = self.get(&format!("/companies/{company}/push/{key}")).await;
        assert_eq!(s, 200, "{op}");
        assert_ne!(op["status"], "Pending", "push {key} still pending: {op}");
        op
    }
}

/// The stored bank feed account `id` of the connection `cid`, which must exist.
async fn stored_account(hub: &Hub, cid: ConnectionId, id: BankFeedAccountId) -> BankFeedAccount {
    hub.store.get_account(cid, id).await.unwrap().unwrap()
}

/// Where transactions for the source account `ac-001` are pushed.
pub(crate) fn checking_pushes(company: &str, connection: &str) -> String {
    format!(
        "/companies/{company}/connections/{connection}/push/bankAccounts/ac-001/bankTransactions"
    )
}

/// Asserts an `ErrorMessage` with this status and our code.
pub(crate) fn error(got: (u16, Value), status: u16, code: &str) -> Value {
    error_in("", got, status, code)
}

/// [`error`] for one case of a table: a failure names `case`.
pub(crate) fn error_in(case: &str, got: (u16, Value), status: u16, code: &str) -> Value {
    let (s, body) = got;
    assert_eq!(
        (s, body["errorCode"].as_str()),
        (status, Some(code)),
        "{case}: {body}"
    );
    assert_eq!(body["statusCode"], status, "{case}");
    assert!(body["error"].is_string(), "{case}");
    assert_eq!(body["correlationId"].as_str().unwrap().len(), 32, "{case}");
    assert!(
        body["canBeRetried"].is_string() && body["detailedErrorCode"].is_i64(),
        "{case}"
    );
    body
}

async fn companies_round_trip_in_codats_shapes(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let codat = Codat::new(&hub, &bank);
    let (s, dave) = codat.post("/companies", json!({"name": "Bank of <Dave>", "description": "Early access", "tags": {"region": "uk"}}))
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
        let (s, _) = codat
            .post(
                "/companies",
                json!({"name": name, "tags": {"region": region}}),
            )
            .await;
        assert_eq!(s, 200);
    }

    let (s, page) = codat.get("/companies?page=1&pageSize=2&orderBy=name").await;
    assert_eq!(s, 200);
    assert_eq!(page["totalResults"], 3);
    assert_eq!(page["pageSize"], 2);
    let names: Vec<_> = items(&page["results"])
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
    let (_, uk) = codat.get("/companies?tags=region%3Duk").await;
    assert_eq!(uk["totalResults"], 2);
    let (_, q) = codat.get("/companies?query=name~events").await;
    assert_eq!(q["results"][0]["name"], "Elaborate Events, Inc");

    let (s, got) = codat.get(&format!("/companies/{id}")).await;
    assert_eq!((s, &got["id"]), (200, &dave["id"]));
    let (s, replaced) = codat
        .put(&format!("/companies/{id}"), json!({"name": "Dave's Bank"}))
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
    let (s, patched) = codat
        .patch(&format!("/companies/{id}"), json!({"description": "VIP"}))
        .await;
    assert_eq!(
        (s, patched["name"].as_str(), patched["description"].as_str()),
        (200, Some("Dave's Bank"), Some("VIP"))
    );

    // Another organisation sees none of it.
    let other = hub.org("Other Bank").await;
    let theirs = Codat::new(&hub, &other);
    error(
        theirs.get(&format!("/companies/{id}")).await,
        404,
        "COMPANY_NOT_FOUND",
    );
    let (_, listed) = theirs.get("/companies").await;
    assert_eq!(listed["totalResults"], 0);
    error(
        theirs.delete(&format!("/companies/{id}")).await,
        404,
        "COMPANY_NOT_FOUND",
    );

    let (s, body) = codat.delete(&format!("/companies/{id}")).await;
    assert_eq!((s, body), (204, Value::Null));
    error(
        codat.get(&format!("/companies/{id}")).await,
        404,
        "COMPANY_NOT_FOUND",
    );
    error(
        codat.delete(&format!("/companies/{id}")).await,
        404,
        "COMPANY_NOT_FOUND",
    );
}

async fn codat_errors_are_error_messages(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let codat = Codat::new(&hub, &bank);
    let nobody = Creds {
        client_secret: "bfsk_wrong".into(),
        ..hub.org("X").await
    };
    error(
        Codat::new(&hub, &nobody).get("/companies").await,
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
        codat
            .post("/companies", json!({"description": "no name"}))
            .await,
        400,
        "MISSING_FIELD",
    );
    assert_eq!(e["validation"]["errors"][0]["itemId"], "name");
    let bodies = [
        (json!({"name": "<>"}), "INVALID_FIELD_VALUE"),
        (
            json!({"name": "A", "tags": {"k": "v".repeat(101)}}),
            "INVALID_FIELD_VALUE",
        ),
        (json!(["not", "an", "object"]), "INVALID_FIELD_TYPE"),
        // serde would read `CompanyIn` from an array by position: refused as no object.
        (json!(["Array Ltd"]), "INVALID_FIELD_TYPE"),
    ];
    for (body, code) in bodies {
        let case = body.to_string();
        error_in(&case, codat.post("/companies", body).await, 400, code);
    }
    let reads = [
        ("/companies?query=name%3D%3Dx", 400, "MALFORMED_QUERY"),
        ("/companies?pageSize=0", 400, "INVALID_PAGE_SIZE"),
        ("/companies/not-a-uuid", 404, "COMPANY_NOT_FOUND"),
        ("/nothing/here", 404, "ROUTE_NOT_FOUND"),
    ];
    for (path, status, code) in reads {
        error_in(path, codat.get(path).await, status, code);
    }
    error(
        codat.post_empty("/companies/x/connections/y").await,
        405,
        "METHOD_NOT_ALLOWED",
    );
    let (_, list) = codat.get("/companies").await;
    assert_eq!(
        list["totalResults"], 0,
        "nothing was created by the refusals"
    );
}

async fn data_connections_follow_the_core(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let codat = Codat::new(&hub, &bank);
    let co = codat.company("Bank of Dave").await;
    let company = co["id"].as_str().unwrap().to_owned();
    let base = format!("/companies/{company}/connections");
    error(
        codat.post(&base, json!({"platformKey": "zzzz"})).await,
        400,
        "UNKNOWN_PLATFORM_KEY",
    );
    error(
        codat.post(&base, json!({})).await,
        400,
        "UNKNOWN_PLATFORM_KEY",
    );

    let (s, qbo) = codat.post(&base, json!({"platformKey": "hcws"})).await;
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
    let (_, xero) = codat.post(&base, json!({"platformKey": "gbol"})).await;

    let (_, list) = codat
        .get(&format!("{base}?query=integrationKey%3Dgbol"))
        .await;
    assert_eq!(list["totalResults"], 1);
    assert_eq!(list["results"][0]["id"], xero["id"]);
    let (_, company_now) = codat.get(&format!("/companies/{company}")).await;
    assert_eq!(company_now["dataConnections"].as_array().unwrap().len(), 2);
    // One core: the Rutter-shaped door lists the same connections.
    let rutter = hub.get_ok(&bank, "/versioned/connections").await;
    let ids: Vec<_> = items(&rutter["connections"])
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
    list_bank(&hub, &bank, "INTUIT_BANK_FEEDS").await;
    let intuit = Sandbox::of(&hub, "INTUIT_BANK_FEEDS");
    let books = intuit.company("Books").await;
    let challenge = intuit.challenge(&books, &bank).await;
    ok(intuit.redirect(&challenge, code.expose()).await).await;
    let done = ok(intuit
        .post(
            "/link/complete",
            json!({"challenge": challenge, "bank_feed_account_ids": [account.id]}),
        )
        .await)
    .await;
    assert_eq!(
        done["bank_feed_accounts"][0]["feed_status"], "active",
        "{done}"
    );
    let (_, linked) = codat.get(&format!("{base}/{id}")).await;
    assert_eq!(linked["status"], "Linked");

    // Unlinking through Codat stops the feed.
    error(
        codat
            .patch(&format!("{base}/{id}"), json!({"status": "Linked"}))
            .await,
        400,
        "INVALID_STATUS",
    );
    let (s, unlinked) = codat
        .patch(&format!("{base}/{id}"), json!({"status": "Unlinked"}))
        .await;
    assert_eq!((s, unlinked["status"].as_str()), (200, Some("Unlinked")));
    let stored = stored_account(&hub, cid, account.id).await;
    assert_eq!(stored.feed_status.as_str(), "inactive");

    // Deleting: 200 with no body; then it is gone, from both doors.
    let (s, body) = codat.delete(&format!("{base}/{id}")).await;
    assert_eq!((s, body), (200, Value::Null));
    error(
        codat.get(&format!("{base}/{id}")).await,
        404,
        "CONNECTION_NOT_FOUND",
    );
    assert_eq!(hub.store.find_connection(cid).await.unwrap(), None);
    // Another company's path does not reach a connection.
    let other = codat.company("Other").await;
    let other = other["id"].as_str().unwrap();
    let xid = xero["id"].as_str().unwrap();
    error(
        codat
            .get(&format!("/companies/{other}/connections/{xid}"))
            .await,
        404,
        "CONNECTION_NOT_FOUND",
    );
    // The company's redirect page lists the connection left.
    let page = hub.open_text(co["redirect"].as_str().unwrap()).await;
    assert!(
        page.contains("Connect to Xero") && !page.contains("QuickBooks"),
        "{page}"
    );
}

async fn source_accounts_follow_codats_rules(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let codat = Codat::new(&hub, &bank);
    let (co, conn) = codat.company_with_connection("Bank of Dave", "hcws").await;
    let company = co["id"].as_str().unwrap().to_owned();
    let connection = conn["id"].as_str().unwrap().to_owned();
    let base =
        format!("/companies/{company}/connections/{connection}/connectionInfo/bankFeedAccounts");

    // Seed 001's V2 account.
    let v2 = json!({"id": "ac-001", "accountName": "account-001", "accountType": "checking",
        "accountNumber": "12345670", "sortCode": "12-34-56", "currency": "USD", "balance": 4002});
    let (s, a) = codat.post(&base, v2.clone()).await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(
        (
            a["id"].as_str(),
            a["status"].as_str(),
            a["accountType"].as_str()
        ),
        (Some("ac-001"), Some("pending"), Some("checking"))
    );
    // Money keeps its currency's scale (issue 17).
    assert_eq!(a["balance"].to_string(), "4002.00");
    assert!(a["feedStartDate"].is_null());
    error(
        codat.post(&base, v2.clone()).await,
        400,
        "SOURCE_ACCOUNT_EXISTS",
    );
    // The v1 model needs only an id; numbers in exponent notation stay exact.
    let (s, v1) = codat.post(&base, json!({"id": "acc-v1", "accountType": "Debit", "currency": "GBP", "balance": 1.23450e3})).await;
    assert_eq!(
        (s, v1["accountType"].as_str(), v1["currency"].as_str()),
        (200, Some("Debit"), Some("GBP"))
    );
    assert_eq!(v1["balance"].to_string(), "1234.50");
    let (s, yen) = codat
        .post(
            &base,
            json!({"id": "acc-jpy", "accountType": "Debit", "currency": "JPY", "balance": 1000.00}),
        )
        .await;
    assert_eq!(
        (s, yen["balance"].to_string()),
        (200, "1000".to_owned()),
        "{yen}"
    );
    let refused = [
        (json!({"accountName": "no id"}), "MISSING_FIELD"),
        (json!({"id": "x", "currency": "XXY"}), "INVALID_CURRENCY"),
        (
            json!({"id": "x", "currency": "USD", "balance": 1.001}),
            "TOO_MANY_DECIMALS",
        ),
        (
            json!({"id": "x", "accountName": "n", "accountType": "brokerage", "accountNumber": "1", "currency": "USD", "balance": 1}),
            "INVALID_ENUM_VALUE",
        ),
    ];
    for (body, code) in refused {
        let case = body.to_string();
        error_in(&case, codat.post(&base, body).await, 400, code);
    }

    // A batch: one result per account; 207 when some were refused, 201 when none.
    let (s, results) = codat.post(&format!("{base}/batch"), json!([
        {"id": "sav-1", "accountName": "Savings", "accountType": "savings", "accountNumber": "9", "currency": "USD", "balance": 0},
        v2,
        {"id": "card-1", "accountName": "Card", "accountType": "creditCard", "accountNumber": "4111", "currency": "USD", "balance": -12.5},
    ])).await;
    assert_eq!(s, 207, "{results}");
    let codes: Vec<_> = items(&results)
        .iter()
        .map(|r| r["result"]["statusCode"].clone())
        .collect();
    assert_eq!(codes, vec![json!(201), json!("400"), json!(201)]);
    assert_eq!(results[2]["result"]["account"]["accountType"], "creditCard");
    let (s, _) = codat
        .post(&format!("{base}/batch"), json!([{"id": "sav-2"}]))
        .await;
    assert_eq!(s, 201);

    let (s, listed) = codat.get(&base).await;
    assert_eq!(s, 200);
    let ids: Vec<_> = items(&listed)
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["ac-001", "acc-v1", "acc-jpy", "sav-1", "card-1", "sav-2"]
    );

    // Updates: the name, and the balance while pending; the status only to disconnected. The
    // other fields may be sent back as they are (seed 001: "It's only possible to update the
    // accountName field", its example sending the whole account), never changed.
    let one = format!("{base}/ac-001");
    let (s, renamed) = codat.patch(&one, json!({"id": "ac-001", "accountName": "Operating", "accountType": "Checking", "currency": "USD", "balance": 99.99})).await;
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
    let nope = format!("{base}/nope");
    let refused = [
        (
            &one,
            json!({"id": "ac-001", "status": "connected"}),
            400,
            "INVALID_STATUS",
        ),
        (&one, json!({"id": "other"}), 400, "ID_MISMATCH"),
        (
            &one,
            json!({"id": "ac-001", "accountName": "X", "accountType": "Credit"}),
            400,
            "READ_ONLY_FIELD",
        ),
        (
            &nope,
            json!({"id": "nope"}),
            404,
            "SOURCE_ACCOUNT_NOT_FOUND",
        ),
    ];
    for (path, body, status, code) in refused {
        let case = format!("PATCH {path} {body}");
        error_in(&case, codat.patch(path, body).await, status, code);
    }

    // Once the platform links it, the balance is the pushes' to set; disconnecting works.
    let cid: ConnectionId = connection.parse().unwrap();
    let stored = platform_links(&hub, cid, "ac-001", SystemClock.now()).await;
    let (_, listed) = codat.get(&base).await;
    assert_eq!(listed[0]["status"], "connected");
    assert!(listed[0]["feedStartDate"].is_string());
    error(
        codat
            .patch(&one, json!({"id": "ac-001", "balance": 5}))
            .await,
        400,
        "BALANCE_LOCKED",
    );
    let (s, off) = codat
        .patch(&one, json!({"id": "ac-001", "status": "disconnected"}))
        .await;
    assert_eq!((s, off["status"].as_str()), (200, Some("disconnected")));
    let core = stored_account(&hub, cid, stored.id).await;
    // QuickBooks still takes pushes while unlinked (it holds them), so it says it is ready.
    assert_eq!(
        (core.feed_status.as_str(), core.transaction_ready),
        ("inactive", true)
    );

    // Delete: 204, then gone.
    let (s, body) = codat.delete(&format!("{base}/sav-2")).await;
    assert_eq!((s, body), (204, Value::Null));
    error(
        codat.delete(&format!("{base}/sav-2")).await,
        404,
        "SOURCE_ACCOUNT_NOT_FOUND",
    );
    let (_, listed) = codat.get(&base).await;
    assert_eq!(listed.as_array().unwrap().len(), 5);
    // Unknown connection or company: 404.
    error(
        codat
            .get(&format!(
                "/companies/{company}/connections/{}/connectionInfo/bankFeedAccounts",
                ConnectionId::new()
            ))
            .await,
        404,
        "CONNECTION_NOT_FOUND",
    );
}

/// The platform links the connection's source account `internal_id` with feeds from `start`
/// (as the customer does in the platform); answers the account as stored.
pub(crate) async fn platform_links(
    hub: &Hub,
    connection: ConnectionId,
    internal_id: &str,
    start: DateTime<Utc>,
) -> BankFeedAccount {
    let query = AccountQuery {
        filters: vec![],
        sort: AccountSortField::UpdatedAt,
        direction: SortDirection::Asc,
        after: None,
        limit: 50,
    };
    let listed = hub.store.list_accounts(connection, &query).await.unwrap();
    let account = listed
        .items
        .into_iter()
        .find(|a| a.internal_bank_account_id == internal_id)
        .unwrap();
    let state = FeedState {
        feed_status: FeedStatus::Active,
        transaction_ready: true,
        transaction_start_date: Some(start),
    };
    hub.store
        .set_feed_state(account.id, &state, SystemClock.now())
        .await
        .unwrap();
    account
}

pub(crate) fn day(n: i64) -> String {
    (SystemClock.now() - chrono::TimeDelta::days(n))
        .format("%Y-%m-%dT10:00:00")
        .to_string()
}

async fn pushes_follow_quickbooks_rules(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let codat = Codat::new(&hub, &bank);
    let (company, connection) = codat.quickbooks_checking("Elaborate Events, Inc").await;
    let push = checking_pushes(&company, &connection);
    let tx = |id: &str, days_ago: i64, amount: f64, balance: f64| json!({"id": id, "date": day(days_ago), "description": format!("tx {id}"), "amount": amount, "balance": balance, "transactionType": if amount < 0.0 { "Debit" } else { "Credit" }});

    // Not connected yet: refused, saying so.
    let e = error(
        codat
            .post(
                &push,
                json!({"accountId": "ac-001", "transactions": [tx("t1", 3, 10.0, 10.0)]}),
            )
            .await,
        400,
        "SOURCE_ACCOUNT_NOT_CONNECTED",
    );
    assert!(e["error"].as_str().unwrap().contains("pending"), "{e}");

    // The customer links it in QuickBooks with a feed start date ten days ago.
    let cid: ConnectionId = connection.parse().unwrap();
    let start = SystemClock.now() - chrono::TimeDelta::days(10);
    let account = platform_links(&hub, cid, "ac-001", start).await;

    // A good push: Pending at once, then Success; the last balance is the account's.
    let body = json!({"accountId": "ac-001", "transactions": [tx("t1", 12, 7991.59, 8009.11), tx("t2", 4, -9.11, 8000.0), tx("t3", 3, 100.5, 8100.5)]});
    let (s, op) = codat
        .post(
            &format!("{push}?timeoutInMinutes=30&allowSyncOnPushComplete=true"),
            body.clone(),
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
    assert_eq!(op["dataConnectionKey"], connection);
    let done = codat
        .settled(&company, op["pushOperationKey"].as_str().unwrap())
        .await;
    assert_eq!(
        (done["status"].as_str(), done["statusCode"].as_i64()),
        (Some("Success"), Some(200)),
        "{done}"
    );
    let changed: Vec<_> = items(&done["changes"])
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
        stored_account(&hub, cid, account.id).await.current_balance,
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
        let (s, op) = codat
            .post(&push, json!({"accountId": "ac-001", "transactions": txs}))
            .await;
        assert_eq!(s, 200, "{op}");
        let failed = codat
            .settled(&company, op["pushOperationKey"].as_str().unwrap())
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
    let (_, op) = codat
        .post(&push, json!({"accountId": "ac-001", "transactions": many}))
        .await;
    let failed = codat
        .settled(&company, op["pushOperationKey"].as_str().unwrap())
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

    // The source account's continuity: the first balance opens it; QuickBooks takes a push
    // whose last balance does not tie out, and the break is recorded with its figures.
    let continuity = format!(
        "/companies/{company}/connections/{connection}/connectionInfo/bankFeedAccounts/ac-001/continuity"
    );
    let (s, c) = codat.get(&continuity).await;
    assert_eq!((s, c["state"].as_str()), (200, Some("TiesOut")), "{c}");
    assert_eq!(c["lastReportedBalance"].to_string(), "8100.50");
    let (_, op) = codat
        .post(
            &push,
            json!({"accountId": "ac-001", "transactions": [tx("b1", 2, -0.5, 42.0)]}),
        )
        .await;
    let done = codat
        .settled(&company, op["pushOperationKey"].as_str().unwrap())
        .await;
    assert_eq!(done["status"], "Success", "{done}");
    let (_, c) = codat.get(&continuity).await;
    assert_eq!(c["state"], "Breaks", "{c}");
    assert_eq!(c["breaks"][0]["expected"].to_string(), "8100.00");
    assert_eq!(c["breaks"][0]["difference"].to_string(), "-8058.00");
    let (s, _) = codat.get(&continuity.replace("ac-001", "nope")).await;
    assert_eq!(s, 404);
    // Acknowledged with a reason through this door too (issue 17): once, only a break, not
    // blank, and only a break of this account.
    let ack = |id: &str| format!("{continuity}/breaks/{id}/acknowledge");
    let break_id = c["breaks"][0]["id"].as_str().unwrap().to_owned();
    error(
        codat.post(&ack(&break_id), json!({"reason": " "})).await,
        400,
        "INVALID_REASON",
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    error(
        codat.post(&ack(&unknown), json!({"reason": "x"})).await,
        404,
        "BREAK_NOT_FOUND",
    );
    error(
        codat.post(&ack("not-an-id"), json!({"reason": "x"})).await,
        404,
        "BREAK_NOT_FOUND",
    );
    let (s, acked) = codat
        .post(
            &ack(&break_id),
            json!({"reason": "Fee reversal booked by the core on the 3rd"}),
        )
        .await;
    assert_eq!(s, 200, "{acked}");
    assert_eq!(
        acked["acknowledged"]["reason"],
        "Fee reversal booked by the core on the 3rd"
    );
    error(
        codat
            .post(&ack(&break_id), json!({"reason": "again"}))
            .await,
        409,
        "BREAK_ALREADY_ACKNOWLEDGED",
    );
    let (_, c) = codat.get(&continuity).await;
    assert_eq!(
        c["state"], "TiesOut",
        "an acknowledged break no longer counts: {c}"
    );
    // Its gaps (issue 17): posted 12, 4, 3 and 2 days ago, a daily rhythm, so the seven
    // silent days from 11 to 5 days ago are stale; declared closed, they no longer are.
    let on = |n: i64| day(n)[..10].to_owned();
    assert_eq!(
        (
            c["stale"].as_bool(),
            c["rhythmDays"].as_u64(),
            c["staleAfterDays"].as_u64()
        ),
        (Some(false), Some(1), Some(4)),
        "{c}"
    );
    assert_eq!(
        c["staleSpans"],
        json!([{"from": on(11), "to": on(5), "openDays": 7, "closedDays": 0, "ongoing": false}])
    );
    assert_eq!(c["closedDays"], json!([]));
    // Declared closed through this door (issue 17), as the Rutter-shaped door's
    // `closed_days`: checked, refused where a transaction is posted, the same range again
    // answered with the stored declaration.
    let closed = continuity.replace("/continuity", "/closedDays");
    let closed_unknown_account = closed.replace("ac-001", "nope");
    let refused = [
        (
            &closed,
            json!({"from": "2026-1-5", "to": on(5)}),
            400,
            "INVALID_DATE",
        ),
        (
            &closed,
            json!({"from": on(5), "to": on(11)}),
            400,
            "INVALID_DATE_RANGE",
        ),
        (
            &closed,
            json!({"from": on(12), "to": on(5)}),
            409,
            "CLOSED_DAY_HAS_TRANSACTIONS",
        ),
        (
            &closed_unknown_account,
            json!({"from": on(11), "to": on(5)}),
            404,
            "SOURCE_ACCOUNT_NOT_FOUND",
        ),
    ];
    for (path, body, status, code) in refused {
        let case = format!("POST {path} {body}");
        error_in(&case, codat.post(path, body).await, status, code);
    }
    let (s, declared) = codat
        .post(&closed, json!({"from": on(11), "to": on(5)}))
        .await;
    assert_eq!(s, 200, "{declared}");
    assert_eq!(
        (declared["from"].as_str(), declared["to"].as_str()),
        (Some(on(11).as_str()), Some(on(5).as_str()))
    );
    let (s, again) = codat
        .post(&closed, json!({"from": on(11), "to": on(5)}))
        .await;
    assert_eq!((s, &again["id"]), (200, &declared["id"]), "{again}");
    let (_, c) = codat.get(&continuity).await;
    assert_eq!(c["staleSpans"], json!([]), "{c}");
    assert_eq!(
        (
            c["closedDays"][0]["from"].as_str(),
            c["closedDays"][0]["to"].as_str()
        ),
        (Some(on(11).as_str()), Some(on(5).as_str()))
    );

    // What cannot be a transaction is a 400 before any push operation exists.
    let e = error(codat.post(&push, json!({"accountId": "ac-001", "transactions": [{"id": "x", "date": "soon", "description": "d", "amount": 1, "balance": 1}]})).await, 400, "INVALID_DATE");
    assert_eq!(e["validation"]["errors"][0]["itemId"], "x");
    let short_timeout = format!("{push}?timeoutInMinutes=0");
    let unknown_account = push.replace("ac-001", "nope");
    let refused = [
        (
            &push,
            json!({"accountId": "ac-001", "transactions": [{"id": "x", "date": day(1), "amount": 1}]}),
            400,
            "MISSING_FIELD",
        ),
        (
            &push,
            json!({"accountId": "other", "transactions": []}),
            400,
            "ACCOUNT_ID_MISMATCH",
        ),
        (
            &short_timeout,
            json!({"accountId": "ac-001", "transactions": [tx("z", 1, 1.0, 1.0)]}),
            400,
            "INVALID_TIMEOUT",
        ),
        (
            &unknown_account,
            json!({"transactions": []}),
            404,
            "SOURCE_ACCOUNT_NOT_FOUND",
        ),
    ];
    for (path, body, status, code) in refused {
        let case = format!("POST {path} {body}");
        error_in(&case, codat.post(path, body).await, status, code);
    }

    // A sign against the type is a warning, not a failure.
    let (_, op) = codat.post(&push, json!({"accountId": "ac-001", "transactions": [{"id": "w1", "date": day(1), "description": "refund", "amount": -5, "balance": 8095.5, "transactionType": "Credit"}]})).await;
    let warned = codat
        .settled(&company, op["pushOperationKey"].as_str().unwrap())
        .await;
    assert_eq!(warned["status"], "Success");
    assert_eq!(warned["validation"]["warnings"][0]["itemId"], "w1");

    // A push that waited past its timeout is TimedOut and never applied.
    let late = bankfeeds_domain::Job::new(
bankfeeds_domain::job::JobKind::CodatPush,bank.org.id, cid, Some(account.id), bankfeeds_domain::job::JobRequest {
        method: "POST".into(),
        url: format!("/codat/companies/{company}/connections/{connection}/push/bankAccounts/ac-001/bankTransactions?timeoutInMinutes=1"),
        body: bankfeeds_domain::job::RawJson::from_value(&json!({"accountId": "ac-001", "transactions": [tx("late", 0, 1.0, 1.0)]})),
        idempotency_key: None,
    }, SystemClock.now() - chrono::TimeDelta::minutes(5));
    hub.store.submit_job(&late, None).await.unwrap();
    let timed_out = codat.settled(&company, &late.id.to_string()).await;
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
    let rotated = hub
        .post_ok(
            &bank,
            &format!("/versioned/connections/{connection}/rotate_access_token"),
            &json!({}),
        )
        .await;
    let token = rotated["connection"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let accounts = hub.get_ok(&bank, &with_token(ACCOUNTS, &token)).await;
    let rutter_account = &accounts["bank_feed_accounts"][0];
    assert_eq!(
        rutter_account["internal_bank_account_id"], "ac-001",
        "{accounts}"
    );
    assert_eq!(rutter_account["current_balance"].to_string(), "8095.50");
    assert_eq!(rutter_account["feed_status"], "active");
    let listed = hub.get_ok(&bank, &with_token(TRANSACTIONS, &token)).await;
    let rows: Vec<(String, String)> = items(&listed["bank_feed_transactions"])
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
        ("t3", "100.50"),
        ("b1", "-0.50"),
        ("w1", "-5.00"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(rows, want, "{listed}");
    assert_eq!(listed["bank_feed_transactions"][4]["description"], "refund");

    // The list: paged, filtered and ordered.
    let (s, page) = codat
        .get(&format!(
            "/companies/{company}/push?query=status%3DFailed&orderBy=-requestedOnUtc&pageSize=2"
        ))
        .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["totalResults"], 6);
    assert_eq!(page["results"].as_array().unwrap().len(), 2);
    assert!(
        page["results"][0]["requestedOnUtc"].as_str()
            >= page["results"][1]["requestedOnUtc"].as_str()
    );
    assert!(page["results"][0].get("data").is_none());
    let (_, all) = codat.get(&format!("/companies/{company}/push")).await;
    assert_eq!(all["totalResults"], 10);
    // Listed from the jobs' heads (issue 12, item 6: a list used to read every stored body),
    // each item is still the whole operation, exactly as its GET shows it.
    for op in all["results"].as_array().unwrap() {
        let key = op["pushOperationKey"].as_str().unwrap();
        let (_, one) = codat.get(&format!("/companies/{company}/push/{key}")).await;
        assert_eq!(op, &one);
    }
    // A query on what only a stored answer holds reads the jobs whole, with the same answers.
    let failed: Vec<Value> = items(&all["results"])
        .iter()
        .filter(|op| op["status"] == "Failed")
        .cloned()
        .collect();
    let (s, by_message) = codat
        .get(&format!(
            "/companies/{company}/push?query=errorMessage~e%26%26status%3DFailed"
        ))
        .await;
    assert_eq!(s, 200, "{by_message}");
    assert_eq!(by_message["results"], json!(failed));
    error(
        codat
            .get(&format!(
                "/companies/{company}/push/{}",
                ConnectionId::new()
            ))
            .await,
        404,
        "PUSH_OPERATION_NOT_FOUND",
    );
    let (s, model) = codat.get(&format!("/companies/{company}/connections/{connection}/options/bankAccounts/ac-001/bankTransactions")).await;
    assert_eq!((s, model["type"].as_str()), (200, Some("Object")));
    assert_eq!(
        model["properties"]["transactions"]["properties"]["description"]["required"],
        true
    );
}
