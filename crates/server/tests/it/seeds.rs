//! Issue 19: what an FI following Rutter's and Codat's documents (the seeds) trips over. Each
//! test quotes the seed sentence it holds the hub to.

use bankfeeds_domain::{Clock, ConnectionId, SystemClock};
use chrono::{FixedOffset, TimeDelta};
use serde_json::{json, Value};

use crate::codat::{checking_pushes, platform_links, Codat};
use crate::helpers::{err_in, items, with_token, Creds, Hub, ACCOUNTS};

crate::on_both_backends!(
    codat_local_dates_are_future_only_once_future_everywhere,
    deprecated_list_filters_filter,
    source_accounts_are_added_as_lists,
    the_tutorials_transactions_are_taken,
    an_fi_pauses_a_feed_with_status_inactive,
    later_the_same_day_is_not_older_than_stored,
    a_stored_batch_names_its_job_in_the_body,
    a_job_says_when_the_platform_took_it,
    response_mode_may_ride_in_the_query,
    an_account_needs_a_currency,
    a_card_purchase_is_money_out,
    an_unlinked_quickbooks_feed_says_it_takes_pushes,
    account_writes_may_answer_with_a_job,
);

/// A Codat company with a QuickBooks connection and one source account `ac-001`, linked with
/// feeds from ten days ago; answers (company id, push path).
async fn linked_quickbooks(hub: &Hub, codat: &Codat<'_>) -> (String, String) {
    let (company, connection) = codat.quickbooks_checking("Kiwi Ltd").await;
    let cid: ConnectionId = connection.parse().unwrap();
    platform_links(hub, cid, "ac-001", SystemClock.now() - TimeDelta::days(10)).await;
    let push = checking_pushes(&company, &connection);
    (company, push)
}

/// A connection on `platform` with one USD bank account `internal_id`; answers the
/// connection's id and token and the account created.
async fn usd_account(
    hub: &Hub,
    bank: &Creds,
    platform: &str,
    internal_id: &str,
) -> (String, String, Value) {
    let (cid, token) = hub.connection(bank, platform).await;
    let fields = json!({"internal_bank_account_id": internal_id, "bank_account_type": "bank", "currency_code": "USD"});
    (
        cid,
        token.clone(),
        hub.create_account(bank, &token, fields).await,
    )
}

/// [`usd_account`], which the platform links with feeds from `days` ago; answers the
/// connection's token and the account.
async fn linked_account(
    hub: &Hub,
    bank: &Creds,
    platform: &str,
    internal_id: &str,
    days: i64,
) -> (String, Value) {
    let (cid, token, account) = usd_account(hub, bank, platform, internal_id).await;
    let start = SystemClock.now() - TimeDelta::days(days);
    platform_links(hub, cid.parse().unwrap(), internal_id, start).await;
    (token, account)
}

/// Pushes `txs` and answers the settled push operation.
async fn push(codat: &Codat<'_>, company: &str, path: &str, txs: Value) -> Value {
    let (s, op) = codat
        .post(path, json!({"accountId": "ac-001", "transactions": txs}))
        .await;
    assert_eq!(s, 200, "{op}");
    codat
        .settled(company, op["pushOperationKey"].as_str().unwrap())
        .await
}

/// The wall-clock time `offset_hours` east of UTC for the instant `ago` before now, with no
/// offset (as Codat recommends) or with it (`with_offset`, which Codat ignores).
fn local(ago: TimeDelta, offset_hours: i32, with_offset: bool) -> String {
    let zone = FixedOffset::east_opt(offset_hours * 3600).unwrap();
    let fmt = if with_offset {
        "%Y-%m-%dT%H:%M:%S%.3f%:z"
    } else {
        "%Y-%m-%dT%H:%M:%S%.3f"
    };
    (SystemClock.now() - ago)
        .with_timezone(&zone)
        .format(fmt)
        .to_string()
}

/// Seed 004: "Syncing future-dated transactions to QBO is not supported." Codat's `date` is a
/// local time (its model: "the offset will be ignored and only the local date/time portion will
/// be used"), so the hub cannot know its zone: a transaction from an hour ago in New Zealand
/// (UTC+13), with or without its offset, is not refused as future-dated; one later than the
/// time anywhere on Earth is.
async fn codat_local_dates_are_future_only_once_future_everywhere(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let codat = Codat::new(&hub, &bank);
    let (company, path) = linked_quickbooks(&hub, &codat).await;
    let written = local(TimeDelta::hours(1), 13, false);
    let nz = json!([
        {"id": "nz-1", "date": written, "description": "Flat white", "amount": -5.5, "balance": -5.5},
        {"id": "nz-2", "date": local(TimeDelta::minutes(59), 13, true), "description": "Scone", "amount": -4, "balance": -9.5},
    ]);
    let done = push(&codat, &company, &path, nz).await;
    assert_eq!(done["status"], "Success", "{done}");
    let beyond = local(-TimeDelta::hours(15), 0, false);
    let future = json!([{"id": "f-1", "date": beyond, "description": "Tomorrow", "amount": -3, "balance": -12.5}]);
    let failed = push(&codat, &company, &path, future).await;
    assert_eq!(failed["status"], "Failed", "{failed}");
    assert_eq!(
        failed["validation"]["errors"][0]["validatorName"], "FUTURE_DATED",
        "{failed}"
    );
}

/// Seed 002, the account list's parameters: "For those platforms [Sage Intacct and Sage Business
/// Cloud], only updated_at_min, updated_at_max and last_synced_at_min fields are supported and
/// not deprecated." and "updated_at_min [...] Used to filter objects with a updated_at value
/// greater than or equal to the supplied value. Should be a Unix time in milliseconds." They
/// filter (never ignored), alone or with `filter`.
async fn deprecated_list_filters_filter(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (_, token) = hub.connection(&bank, "SAGE_INTACCT").await;
    let mut updated = Vec::new();
    for id in ["ACC-0", "ACC-1", "ACC-2"] {
        let a = hub
            .create_account(&bank, &token, json!({"internal_bank_account_id": id, "bank_account_type": "bank", "currency_code": "USD", "name": id}))
            .await;
        let at: chrono::DateTime<chrono::Utc> = a["updated_at"].as_str().unwrap().parse().unwrap();
        updated.push(at.timestamp_millis());
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let list = |query: String| {
        let hub = &hub;
        let bank = &bank;
        let path = format!("{}{query}", with_token(ACCOUNTS, &token));
        async move {
            let page = hub.get_ok(bank, &path).await;
            let mut names: Vec<String> = items(&page["bank_feed_accounts"])
                .iter()
                .map(|a| a["name"].as_str().unwrap().to_owned())
                .collect();
            names.sort();
            names
        }
    };
    assert_eq!(
        list(format!("&updated_at_min={}", updated[1])).await,
        ["ACC-1", "ACC-2"]
    );
    assert_eq!(
        list(format!("&updated_at_max={}", updated[1])).await,
        ["ACC-0", "ACC-1"]
    );
    assert_eq!(
        list(format!(
            "&updated_at_min={}&updated_at_max={}",
            updated[1], updated[1]
        ))
        .await,
        ["ACC-1"]
    );
    assert_eq!(
        list(format!(
            "&updated_at_min={}&filter=updated_at%20%3C%3D%201900-01-02",
            updated[0]
        ))
        .await,
        Vec::<String>::new(),
        "ANDed with filter"
    );
    assert_eq!(
        list("&last_synced_at_min=0".to_owned()).await,
        Vec::<String>::new(),
        "never synced"
    );
    assert_eq!(
        list("&updated_at_max=0".to_owned()).await,
        Vec::<String>::new()
    );
    for query in [
        "&updated_at_min=yesterday",
        "&updated_at_max=1.5",
        "&last_synced_at_min=253402300800000",
        "&updated_at_min=-2208988800001",
    ] {
        let path = format!("{}{query}", with_token(ACCOUNTS, &token));
        err_in(
            query,
            hub.get(&bank, &path).send().await,
            400,
            "INVALID_QUERY_PARAMETER",
        )
        .await;
    }
}

/// Seed 001: "Send a request to the PUT /connectionInfo/bankFeedAccounts endpoint and specify the
/// bank accounts you want to add in the request body." (its example body is a list), and seed
/// 004's create call, whose `request_body` is a list: "In the response, you will receive a list of
/// created bank accounts." A list is added whole or not at all.
async fn source_accounts_are_added_as_lists(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let codat = Codat::new(&hub, &bank);
    let (co, conn) = codat.company_with_connection("Acme", "hcws").await;
    let base = format!(
        "/companies/{}/connections/{}/connectionInfo/bankFeedAccounts",
        co["id"].as_str().unwrap(),
        conn["id"].as_str().unwrap()
    );
    // Seed 001's body (less its trailing comma, which is not JSON).
    let (s, added) = codat.put(&base, json!([{"id": "acc-003", "accountName": "account-0003", "sortCode": "123456", "accountType": "Debit", "accountNumber": "987654", "currency": "GBP", "balance": 219.23}])).await;
    assert_eq!(s, 200, "{added}");
    assert_eq!(added[0]["id"], "acc-003");
    assert_eq!(added[0]["status"], "pending");
    assert_eq!(added[0]["currency"], "GBP");
    // Seed 004's list on create.
    let (s, added) = codat.post(&base, json!([{"accountName": "Account 002", "accountNumber": "12345670", "accountType": "Debit", "balance": 6531.4, "currency": "GBP", "id": "352c5955-907a-4ff1-a3a2-fa9467739251", "sortCode": "123456"}, {"id": "acc-004", "accountName": "Savings", "accountType": "savings", "accountNumber": "1", "currency": "GBP", "balance": 0}])).await;
    assert_eq!(s, 200, "{added}");
    let ids: Vec<_> = items(&added)
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["352c5955-907a-4ff1-a3a2-fa9467739251", "acc-004"]);
    // One object on create still answers one object.
    let (s, one) = codat.post(&base, json!({"id": "acc-005", "accountName": "Card", "accountType": "creditCard", "accountNumber": "2", "currency": "GBP", "balance": 0})).await;
    assert_eq!((s, one["id"].as_str()), (200, Some("acc-005")), "{one}");
    // A refused list adds nothing: an existing id, an id twice, an invalid account, none.
    for (case, body, code) in [
        (
            "exists",
            json!([{"id": "acc-006"}, {"id": "acc-003"}]),
            "SOURCE_ACCOUNT_EXISTS",
        ),
        (
            "twice",
            json!([{"id": "acc-006"}, {"id": "acc-006"}]),
            "DUPLICATE_IN_BATCH",
        ),
        (
            "invalid",
            json!([{"id": "acc-006"}, {"id": "acc-007", "currency": "XYZ"}]),
            "INVALID_CURRENCY",
        ),
        (
            "no id",
            json!([{"id": "acc-006"}, {"accountName": "x"}]),
            "MISSING_FIELD",
        ),
        ("empty", json!([]), "EMPTY_BATCH"),
    ] {
        crate::codat::error_in(case, codat.put(&base, body.clone()).await, 400, code);
        crate::codat::error_in(case, codat.post(&base, body).await, 400, code);
    }
    crate::codat::error_in(
        "object",
        codat.put(&base, json!({"id": "acc-006"})).await,
        400,
        "INVALID_FIELD_TYPE",
    );
    let (_, listed) = codat.get(&base).await;
    assert_eq!(listed.as_array().unwrap().len(), 4, "{listed}");
}

/// Seed 004, the reconciliation tutorial: "Bank transactions must be synced in chronological
/// order (from earliest to latest) based on the `cleared_on_date`." Its transaction carries
/// `clearedOnDate` (with `modifiedDate`, `sourceModifiedDate`, `reconciled`), not `date`: the
/// push takes it (only the dates are made recent, to pass the QuickBooks window).
async fn the_tutorials_transactions_are_taken(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let codat = Codat::new(&hub, &bank);
    let (company, path) = linked_quickbooks(&hub, &codat).await;
    let day = crate::codat::day(1);
    let txs = json!([{
        "accountId": "ac-001",
        "amount": 7991.59,
        "balance": 8009.11,
        "clearedOnDate": format!("{day}.1057478Z"),
        "description": "HSBC Covent Grdn ATM W",
        "id": "ca1ba928-fc81-4674-acb7-39205929396f",
        "modifiedDate": format!("{}.1057478Z", crate::codat::day(2)),
        "reconciled": false,
        "sourceModifiedDate": format!("{}.1057478Z", crate::codat::day(2)),
        "transactionType": "Atm",
    }]);
    let done = push(&codat, &company, &path, txs).await;
    assert_eq!(done["status"], "Success", "{done}");
    assert_eq!(
        done["changes"][0]["recordRef"]["id"],
        "ca1ba928-fc81-4674-acb7-39205929396f"
    );
    // Neither name: the refusal names both.
    let (s, op) = codat
        .post(&path, json!({"accountId": "ac-001", "transactions": [{"id": "x", "amount": 1, "balance": 1, "description": "x"}]}))
        .await;
    let body = crate::codat::error_in("no date", (s, op), 400, "MISSING_FIELD");
    assert!(
        body["error"].as_str().unwrap().contains("clearedOnDate"),
        "{body}"
    );
}

/// The FI pauses the account at `path` as seed 002's example does: `{"status": "inactive"}`.
async fn pause(hub: &Hub, bank: &Creds, path: &str) -> Value {
    let body = json!({"bank_feed_account": {"status": "inactive"}});
    crate::helpers::ok(hub.patch(bank, path, &body).send().await).await
}

/// A batch of one debit of 1 (T1, yesterday) for the account `a`.
fn one_debit(a: &Value) -> Value {
    json!({"bank_feed_transactions": {"bank_feed_account_id": a["id"], "transactions": [{"transaction_id": "T1", "posted_at": crate::codat::day(1) + "Z", "amount": -1}]}})
}

/// Seed 002, "Update a Bank Feed Account" (supported for NetSuite), whose only example body is
/// `{"bank_feed_account": {"status": "inactive"}}`: the FI pauses the feed without deleting it.
async fn an_fi_pauses_a_feed_with_status_inactive(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (token, a) = linked_account(&hub, &bank, "NETSUITE", "NS-1", 3).await;
    let path = with_token(&format!("{ACCOUNTS}/{}", a["id"].as_str().unwrap()), &token);
    let paused = pause(&hub, &bank, &path).await;
    let paused = &paused["bank_feed_account"];
    assert_eq!(
        (&paused["feed_status"], &paused["transaction_ready"]),
        (&json!("inactive"), &json!(false)),
        "{paused}"
    );
    // Paused: pushes wait for the customer to link again.
    let pushes = with_token(crate::helpers::TRANSACTIONS, &token);
    let resp = hub.post(&bank, &pushes, &one_debit(&a)).send().await;
    crate::helpers::err(resp, 400, "FEED_NOT_READY").await;
    for (status, code) in [
        (json!("active"), "INVALID_FIELD_VALUE"),
        (json!("paused"), "INVALID_ENUM_VALUE"),
        (json!(null), "INVALID_ENUM_VALUE"),
    ] {
        let body = json!({"bank_feed_account": {"status": status}});
        err_in(code, hub.patch(&bank, &path, &body).send().await, 400, code).await;
    }
}

/// Seed 004: "Bank transactions can't be older than the most recent transaction available on the
/// destination bank account." and seed 003: "You can now post the next batch, starting from the
/// last transaction date in the previous batch." By the date: a transaction posted later on the
/// same day with an earlier time, or date-only, is taken; the day before is not.
async fn later_the_same_day_is_not_older_than_stored(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (_, token, a) = usd_account(&hub, &bank, "INTUIT_BANK_FEEDS", "QB-1").await;
    let day = (SystemClock.now() - TimeDelta::days(2))
        .format("%Y-%m-%d")
        .to_string();
    let path = with_token(crate::helpers::TRANSACTIONS, &token);
    let push = |id: &str, at: String| json!({"bank_feed_transactions": {"bank_feed_account_id": a["id"], "transactions": [{"transaction_id": id, "posted_at": at, "amount": -1}]}});
    for (id, at) in [
        ("T1", format!("{day}T16:30:00Z")),
        ("T2", format!("{day}T09:00:00Z")),
        ("T3", format!("{day}T00:00:00Z")),
    ] {
        let resp = hub.post(&bank, &path, &push(id, at)).send().await;
        crate::helpers::ok(resp).await;
    }
    let before = (SystemClock.now() - TimeDelta::days(3))
        .format("%Y-%m-%dT23:59:59Z")
        .to_string();
    let resp = hub.post(&bank, &path, &push("T4", before)).send().await;
    crate::helpers::err(resp, 400, "OLDER_THAN_STORED").await;
}

/// Seed 003 (Sage): "If the Bank Feed Transaction input is valid, the response will include a
/// job ID which can be used to check the status of the POST request using Fetch a Job API. Store
/// this job ID for reference." The default (`prefer_sync`) answer names its job in the body, not
/// only in a header, and the job holds that same answer.
async fn a_stored_batch_names_its_job_in_the_body(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (_, token, a) = usd_account(&hub, &bank, "INTUIT_BANK_FEEDS", "QB-1").await;
    let at = (SystemClock.now() - TimeDelta::days(1))
        .format("%Y-%m-%dT10:00:00Z")
        .to_string();
    let body = json!({"bank_feed_transactions": {"bank_feed_account_id": a["id"], "transactions": [{"transaction_id": "T1", "posted_at": at, "amount": -1}]}});
    let resp = hub
        .post(
            &bank,
            &with_token(crate::helpers::TRANSACTIONS, &token),
            &body,
        )
        .send()
        .await
        .unwrap();
    let header = resp.headers()["x-rutter-job-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let answer: Value = resp.json().await.unwrap();
    let job = &answer["async_response"];
    assert_eq!(job["id"], header.as_str(), "{answer}");
    assert_eq!(job["status"], "success");
    assert!(job["response_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/versioned/jobs/{header}")));
    assert_eq!(answer["bank_feed_transactions"][0]["transaction_id"], "T1");
    let fetched = hub
        .get_ok(&bank, &format!("/versioned/jobs/{header}"))
        .await;
    assert_eq!(
        fetched["job"]["response"]["body"], answer,
        "the job holds the answer given"
    );
}

/// Seed 003 (Sage): "If the job completes successfully, transactions have synced into the
/// accounting system." In the hub a job's `success` means stored; the job says when the platform
/// took its transactions (`platform.ingested_at`), as Sage's sync does it.
async fn a_job_says_when_the_platform_took_it(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (token, a) = linked_account(&hub, &bank, "SAGE_INTACCT", "SG-1", 5).await;
    let at = (SystemClock.now() - TimeDelta::days(1))
        .format("%Y-%m-%dT10:00:00Z")
        .to_string();
    let body = json!({"bank_feed_transactions": {"bank_feed_account_id": a["id"], "transactions": [{"transaction_id": "T1", "posted_at": at, "amount": -1}, {"transaction_id": "T2", "posted_at": at, "amount": -2}]}});
    let answer = hub
        .post_ok(
            &bank,
            &with_token(crate::helpers::TRANSACTIONS, &token),
            &body,
        )
        .await;
    let job_path = format!(
        "/versioned/jobs/{}",
        answer["async_response"]["id"].as_str().unwrap()
    );
    let job = hub.get_ok(&bank, &job_path).await;
    assert_eq!(job["job"]["status"], "success");
    assert_eq!(
        job["job"]["platform"],
        json!({"transactions_stored": 2, "transactions_ingested": 0, "ingested_at": null}),
        "stored, not yet in Sage"
    );
    let account: bankfeeds_domain::BankFeedAccountId = a["id"].as_str().unwrap().parse().unwrap();
    let took = SystemClock.now();
    hub.store.mark_ingested(account, took).await.unwrap();
    let job = hub.get_ok(&bank, &job_path).await;
    let platform = &job["job"]["platform"];
    assert_eq!(
        (
            &platform["transactions_stored"],
            &platform["transactions_ingested"]
        ),
        (&json!(2), &json!(2)),
        "{job}"
    );
    let ingested: chrono::DateTime<chrono::Utc> =
        platform["ingested_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(ingested, took);
}

/// Seed 000 (QuickBooks): "If `response_mode=async` is specified in the request, the response
/// will include a job ID". Written as a query parameter, it is honoured as the body's field is;
/// given twice with different values, it is refused rather than one silently winning.
async fn response_mode_may_ride_in_the_query(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (_, token, a) = usd_account(&hub, &bank, "INTUIT_BANK_FEEDS", "QB-1").await;
    let at = (SystemClock.now() - TimeDelta::days(1))
        .format("%Y-%m-%dT10:00:00Z")
        .to_string();
    let body = |id: &str| json!({"bank_feed_transactions": {"bank_feed_account_id": a["id"], "transactions": [{"transaction_id": id, "posted_at": at, "amount": -1}]}});
    let push = format!(
        "{}&response_mode=async",
        with_token(crate::helpers::TRANSACTIONS, &token)
    );
    let answer = hub.post_ok(&bank, &push, &body("T1")).await;
    assert!(
        answer["async_response"]["id"].is_string()
            && answer.get("bank_feed_transactions").is_none(),
        "the job, not the stored transactions: {answer}"
    );
    let mut both = body("T2");
    both["response_mode"] = json!("prefer_sync");
    let case = "query async, body prefer_sync";
    let refused = hub.post(&bank, &push, &both).send().await;
    err_in(case, refused, 400, "CONFLICTING_RESPONSE_MODE").await;
    both["response_mode"] = json!("async");
    let agreed = hub.post_ok(&bank, &push, &both).await;
    assert!(agreed["async_response"]["id"].is_string(), "{agreed}");
}

/// Seed 002 lists `currency_code` as "enum, nullable" on the bank feed account; the hub
/// requires one (README, "An account needs a currency"): refused by name, absent or null.
async fn an_account_needs_a_currency(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (_, token) = hub.connection(&bank, "XERO").await;
    let path = with_token(ACCOUNTS, &token);
    for (case, currency, code) in [
        ("null", Some(Value::Null), "INVALID_FIELD_TYPE"),
        ("absent", None, "MISSING_FIELD"),
    ] {
        let mut account = json!({"internal_bank_account_id": "NC-1", "bank_account_type": "bank"});
        if let Some(c) = currency {
            account["currency_code"] = c;
        }
        let body = json!({ "bank_feed_account": account });
        let refused = err_in(case, hub.post(&bank, &path, &body).send().await, 400, code).await;
        let message = refused["error_message"].as_str().unwrap();
        assert!(message.contains("currency_code"), "{case}: {message}");
    }
}

/// The seeds give no sign convention for cards (README, "What the seeds leave open"): a card
/// account's amounts and balance are the holder's, as a bank account's are, so a purchase is
/// negative, the balance owed is negative, and `DEBIT` with a positive amount is refused there
/// too.
async fn a_card_purchase_is_money_out(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (_, token) = hub.connection(&bank, "INTUIT_BANK_FEEDS").await;
    let fields = json!({"internal_bank_account_id": "CARD-1", "bank_account_type": "credit_card", "currency_code": "USD", "current_balance": "-100.00"});
    let card = hub.create_account(&bank, &token, fields).await;
    let at = (SystemClock.now() - TimeDelta::days(1))
        .format("%Y-%m-%dT10:00:00Z")
        .to_string();
    let push = with_token(crate::helpers::TRANSACTIONS, &token);
    let batch = |amount: &str, balance: &str| json!({"bank_feed_transactions": {"bank_feed_account_id": card["id"], "current_balance": balance, "transactions": [{"transaction_id": format!("P{amount}"), "posted_at": at, "amount": amount, "debit_credit_memo": "DEBIT", "description": "Office supplies"}]}});
    let refused = hub
        .post(&bank, &push, &batch("50.00", "-150.00"))
        .send()
        .await;
    err_in("a positive DEBIT", refused, 400, "SIGN_MISMATCH").await;
    hub.post_ok(&bank, &push, &batch("-50.00", "-150.00")).await;
    let path = format!(
        "/versioned/accounting/bank_feeds/accounts/{}?access_token={token}",
        card["id"].as_str().unwrap()
    );
    let stored = hub.get_ok(&bank, &path).await;
    let balance = stored["bank_feed_account"]["current_balance"].to_string();
    let balance: rust_decimal::Decimal = balance.trim_matches('"').parse().unwrap();
    assert_eq!(balance, rust_decimal::Decimal::new(-150, 0), "{stored}");
}

/// Seed 000: QuickBooks takes transactions from the account's creation and holds them until
/// the customer links the feed. Unlinked again, it still takes them, so the feed says
/// `transaction_ready: true` (inactive) rather than `false` while pushes succeed.
async fn an_unlinked_quickbooks_feed_says_it_takes_pushes(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (token, a) = linked_account(&hub, &bank, "INTUIT_BANK_FEEDS", "QB-9", 3).await;
    let path = with_token(&format!("{ACCOUNTS}/{}", a["id"].as_str().unwrap()), &token);
    let paused = pause(&hub, &bank, &path).await;
    let paused = &paused["bank_feed_account"];
    assert_eq!(
        (&paused["feed_status"], &paused["transaction_ready"]),
        (&json!("inactive"), &json!(true)),
        "{paused}"
    );
    let pushes = with_token(crate::helpers::TRANSACTIONS, &token);
    hub.post_ok(&bank, &pushes, &one_debit(&a)).await;
}

/// Runs the queue and answers job `id` as the FI reads it.
async fn settled_job(hub: &Hub, bank: &Creds, id: &str) -> Value {
    hub.drain().await;
    hub.get_ok(bank, &format!("/versioned/jobs/{id}")).await["job"].clone()
}

/// A write's answer when it was queued: the job's id, the same in the header and the body,
/// and nothing of the account yet.
async fn queued(resp: reqwest::Result<reqwest::Response>) -> String {
    let resp = resp.unwrap();
    assert_eq!(resp.status(), 200);
    let header = resp.headers()["x-rutter-job-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["async_response"]["id"], header.as_str(), "{body}");
    assert!(
        body.get("bank_feed_account").is_none() && body.get("code").is_none(),
        "the job, not the write's answer: {body}"
    );
    header
}

/// Seed 002, "Create a Bank Feed Account", "Update a Bank Feed Account" and "Delete a Bank Feed
/// Account" each take `response_mode`: "async makes the API respond with the asynchronous
/// response." And seed 000: "If `response_mode=async` is specified in the request, the response
/// will include a job ID which can be used to check the status of the POST request using Fetch
/// a Job API." Each account write, asked so in the body or the query, answers with its job at
/// once; the job then holds exactly what the synchronous call would have answered.
async fn account_writes_may_answer_with_a_job(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (_, token) = hub.connection(&bank, "NETSUITE").await;
    let accounts = with_token(ACCOUNTS, &token);
    let fields = json!({"internal_bank_account_id": "NS-9", "bank_account_type": "bank", "currency_code": "USD", "name": "Ops"});

    // Create, asked in the body.
    let create = json!({"response_mode": "async", "bank_feed_account": fields});
    let job_id = queued(hub.post(&bank, &accounts, &create).send().await).await;
    let job = settled_job(&hub, &bank, &job_id).await;
    assert_eq!(
        (&job["status"], &job["request"]["method"]),
        (&json!("success"), &json!("POST")),
        "{job}"
    );
    let created = job["response"]["body"]["bank_feed_account"].clone();
    assert_eq!(created["internal_bank_account_id"], "NS-9", "{job}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(hub.account(&bank, &token, &id).await["name"], "Ops");

    // A refusal the job finds is the synchronous call's refusal, kept by the job.
    let again = json!({"bank_feed_account": fields});
    let sync = hub.post(&bank, &accounts, &again).send().await;
    let refused = crate::helpers::err(sync, 409, "BANK_FEED_ACCOUNT_EXISTS").await;
    let job_id = queued(hub.post(&bank, &accounts, &create).send().await).await;
    let job = settled_job(&hub, &bank, &job_id).await;
    assert_eq!(job["status"], "failure", "{job}");
    assert_eq!(job["response"]["http_status"], 409);
    assert_eq!(
        job["response"]["body"]["error_code"], refused["error_code"],
        "{job}"
    );

    // With an Idempotency-Key, a repeat answers with the same job and writes once.
    let other = json!({"response_mode": "async", "bank_feed_account": {"internal_bank_account_id": "NS-10", "bank_account_type": "bank", "currency_code": "USD"}});
    let send = || {
        hub.post(&bank, &accounts, &other)
            .header("Idempotency-Key", "k-ns-10")
            .send()
    };
    let first = queued(send().await).await;
    let repeat: Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(repeat["async_response"]["id"], first.as_str());
    let ns10 = settled_job(&hub, &bank, &first).await;
    assert_eq!(ns10["status"], "success", "{ns10}");
    let ns10 = ns10["response"]["body"]["bank_feed_account"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = hub.get_ok(&bank, &accounts).await;
    assert_eq!(
        items(&listed["bank_feed_accounts"]).len(),
        2,
        "written once: {listed}"
    );

    // PATCH, asked in the query.
    let one = with_token(&format!("{ACCOUNTS}/{id}"), &token);
    let patch_async = format!("{one}&response_mode=async");
    let rename = json!({"bank_feed_account": {"name": "Operations"}});
    let job_id = queued(hub.patch(&bank, &patch_async, &rename).send().await).await;
    let job = settled_job(&hub, &bank, &job_id).await;
    assert_eq!(job["status"], "success", "{job}");
    assert_eq!(
        job["response"]["body"]["bank_feed_account"]["name"],
        "Operations"
    );
    assert_eq!(hub.account(&bank, &token, &id).await["name"], "Operations");
    // What needs no database is refused at once, never queued.
    let bad = json!({"bank_feed_account": {"status": "paused"}});
    err_in(
        "bad status",
        hub.patch(&bank, &patch_async, &bad).send().await,
        400,
        "INVALID_ENUM_VALUE",
    )
    .await;

    // DELETE, asked in its optional body; an unknown account is refused at once.
    let unknown = with_token(&format!("{ACCOUNTS}/{}", uuid::Uuid::new_v4()), &token);
    let body = json!({"response_mode": "async"});
    err_in(
        "unknown",
        hub.delete(&bank, &unknown).json(&body).send().await,
        410,
        "BANK_FEED_ACCOUNT_NOT_FOUND",
    )
    .await;
    err_in(
        "unknown field",
        hub.delete(&bank, &one)
            .json(&json!({"mode": "async"}))
            .send()
            .await,
        400,
        "UNKNOWN_FIELD",
    )
    .await;
    let job_id = queued(hub.delete(&bank, &one).json(&body).send().await).await;
    let job = settled_job(&hub, &bank, &job_id).await;
    assert_eq!(
        job["response"]["body"],
        json!({"code": "deleted", "success": true}),
        "{job}"
    );
    let gone = hub.get(&bank, &one).send().await;
    crate::helpers::err(gone, 410, "BANK_FEED_ACCOUNT_NOT_FOUND").await;
    // Without `async` (here a JSON `null` body, which the document allows), DELETE answers
    // at once, as before.
    let path = with_token(&format!("{ACCOUNTS}/{ns10}"), &token);
    let answer = hub.delete(&bank, &path).json(&Value::Null).send().await;
    let answer = crate::helpers::ok(answer).await;
    assert_eq!(answer, json!({"code": "deleted", "success": true}));
}
