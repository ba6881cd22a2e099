//! Transactions and jobs through the real router: every rule refused and accepted, both
//! response modes, duplicates, conflicts, idempotency.

use bankfeeds_domain::{Clock, SystemClock};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{json, Value};

use crate::helpers::{batch, days_ago, err, err_in, ok, refuses, Creds, Feed, Hub, TRANSACTIONS};

crate::on_both_backends!(
    push_list_fetch_and_resend,
    async_mode_answers_with_a_job_that_holds_the_outcome,
    stateless_rules_refuse_at_once_with_their_codes,
    stored_state_rules_refuse_through_the_job,
    feeds_that_need_linking_refuse_until_linked,
    idempotency_keys_replay_batches,
    a_batch_is_kept_as_sent_and_must_be_json_whole,
    a_restarted_instance_frees_the_jobs_it_held,
);

/// The job keeps the body as sent (spacing, key order, every digit) and answers with exactly
/// what the synchronous call did; a body with anything after its JSON value is refused.
async fn a_batch_is_kept_as_sent_and_must_be_json_whole(hub: Hub) {
    let f = Feed::new(&hub, "INTUIT_BANK_FEEDS", "USD", None).await;
    let send = |body: String| {
        hub.http
            .post(hub.url(&f.transactions_path()))
            .basic_auth(&f.creds.client_id, Some(&f.creds.client_secret))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let txn = format!(
        "{{ \"posted_at\": \"{}\",\n  \"transaction_id\": \"K1\", \"amount\": -12.30 }}",
        ts(days_ago(1))
    );
    let body = format!(
        "\n {{\"bank_feed_transactions\": {{ \"transactions\": [ {txn} ],\n \"bank_feed_account_id\": \"{}\" }} }} \n",
        f.account
    );
    let refused = format!("{body} {{}}");
    err(send(refused).await, 400, "MALFORMED_JSON").await;
    assert!(f.stored(&hub).await.is_empty(), "nothing was stored");

    let resp = send(body.clone()).await.unwrap();
    let job_id = resp.headers()["x-rutter-job-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let answer = ok(Ok(resp)).await;
    assert_eq!(answer["bank_feed_transactions"][0]["transaction_id"], "K1");
    let job = wait_for_job(&hub, &f.creds, &job_id).await;
    assert_eq!(
        job["response"]["body"], answer,
        "the job answers as the call did"
    );
    let sent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(job["request"]["body"], sent);
    assert_eq!(
        job["request"]["body"]["bank_feed_transactions"]["transactions"][0]["amount"].to_string(),
        "-12.30",
        "every digit as sent"
    );
}

/// Batches for one account wait their turn; `prefer_sync` answers with the job when the wait
/// is longer than it will hold the request.
async fn a_busy_account_queues_batches_in_order(hub: Hub) {
    let f = Feed::new(&hub, "INTUIT_BANK_FEEDS", "USD", None).await;
    let first = batch(&f.account, vec![txn("Q1", days_ago(2), json!(-1))]);
    let store = hub.store.clone();
    let held = held_job(&hub, &f, &first, "test", TimeDelta::seconds(60)).await;
    let second = batch(&f.account, vec![txn("Q2", days_ago(1), json!(-2))]);
    let answer = ok(f.push(&hub, &second).await).await;
    let envelope = &answer["async_response"];
    assert_eq!(
        envelope["status"], "prequeued",
        "waits behind the held job: {answer}"
    );
    // The held job finishes; the queued one then runs, in order.
    let body: serde_json::Value = held.request.body.to_value();
    let request: bankfeeds_server::rutter::transactions::TransactionsCreateIn =
        serde_json::from_value(body).unwrap();
    let profile = bankfeeds_domain::profile::PlatformProfile::for_platform(
        bankfeeds_domain::Platform::IntuitBankFeeds,
        bankfeeds_domain::profile::Door::Rutter,
    );
    store
        .apply_batch(bankfeeds_store::BatchCall {
            job: held.id,
            batch: &bankfeeds_server::rutter::transactions::batch_request(request),
            profile: &profile,
            now: SystemClock.now(),
            render: &bankfeeds_server::rutter::transactions::render_outcome,
        })
        .await
        .unwrap();
    let job = wait_for_job(&hub, &f.creds, envelope["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "success");
    let ids = f.stored_ids(&hub).await;
    assert_eq!(ids, ["Q1", "Q2"]);
}

#[tokio::test]
async fn prefer_sync_answers_with_the_job_when_the_account_is_busy() {
    let db = crate::helpers::sqlite_db("busy").await;
    let hub = Hub::start_with(
        db.store.clone(),
        Some(db),
        |s| s.sync_wait = std::time::Duration::from_millis(300),
        0,
    )
    .await;
    a_busy_account_queues_batches_in_order(hub).await;
}

/// Puts a job for `body` in the queue directly (no worker is woken) and claims it at once in
/// `holder`'s name, as another instance's worker would. Idle workers only poll every 250 ms,
/// so this wins; retried if not.
async fn held_job(
    hub: &Hub,
    f: &Feed,
    body: &Value,
    holder: &str,
    lease: TimeDelta,
) -> bankfeeds_domain::Job {
    let store = hub.store.clone();
    let connection = store
        .find_connection_by_token(&bankfeeds_domain::Secret::from_presented(f.token.clone()).hash())
        .await
        .unwrap()
        .unwrap();
    for _ in 0..20 {
        let now = SystemClock.now();
        let request = bankfeeds_domain::job::JobRequest {
            method: "POST".into(),
            url: TRANSACTIONS.into(),
            body: bankfeeds_domain::job::RawJson::from_value(body),
            idempotency_key: None,
        };
        let job = bankfeeds_domain::Job::new(
            bankfeeds_domain::job::JobKind::TransactionBatch,
            f.creds.org.id,
            connection.id,
            Some(f.account.parse().unwrap()),
            request,
            now,
        );
        store.submit_job(&job, None).await.unwrap();
        if let Some(job) = store
            .claim_job(Some(job.id), holder, now + lease, now)
            .await
            .unwrap()
        {
            return job;
        }
    }
    panic!("the workers claimed every job first");
}

/// Issue 12, item 9: an instance killed while it held a batch used to stall that account for
/// the whole lease (60 s). Started again under the same name, it frees the lease at once.
async fn a_restarted_instance_frees_the_jobs_it_held(hub: Hub) {
    let f = Feed::new(&hub, "INTUIT_BANK_FEEDS", "USD", None).await;
    let first = batch(&f.account, vec![txn("R1", days_ago(2), json!(-1))]);
    // What a crash leaves behind: a job leased for a long time to an instance that is gone.
    let held = held_job(&hub, &f, &first, "host-a:8080", TimeDelta::minutes(10)).await;
    hub.drain().await;
    assert_eq!(
        hub.store
            .get_job(f.creds.org.id, held.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        bankfeeds_domain::job::JobStatus::Pending,
        "no one else may take a leased job"
    );

    // The instance comes back under its name: the job runs at once, not in ten minutes.
    let restarted = Hub::start_with(
        hub.store.clone(),
        None,
        |s| s.instance = "host-a:8080".into(),
        0,
    )
    .await;
    let mut finished = None;
    for _ in 0..100 {
        restarted.drain().await;
        let job = hub
            .store
            .get_job(f.creds.org.id, held.id)
            .await
            .unwrap()
            .unwrap();
        if job.status.is_finished() {
            finished = Some(job);
            break;
        }
        // The restarted hub frees its leases as it starts serving, which this test can only
        // observe, not await.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let job = finished.expect("the restarted instance freed its lease and ran the job");
    assert_eq!(job.status, bankfeeds_domain::job::JobStatus::Success);
    assert_eq!(job.attempts, 2);
    let ids = f.stored_ids(&hub).await;
    assert_eq!(ids, ["R1"]);
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn txn(id: &str, at: DateTime<Utc>, amount: Value) -> Value {
    json!({
        "transaction_id": id,
        "posted_at": ts(at),
        "transaction_date": ts(at),
        "amount": amount,
        "description": "Office supplies",
        "memo": "Staples",
        "transaction_type": "debit",
        "debit_credit_memo": if amount.to_string().contains('-') { "DEBIT" } else { "CREDIT" },
    })
}

async fn push_list_fetch_and_resend(hub: Hub) {
    let f = Feed::new(&hub, "INTUIT_BANK_FEEDS", "USD", None).await;
    let mut body = batch(
        &f.account,
        vec![
            txn("T1", days_ago(3), json!(-300)),
            txn("T2", days_ago(2), json!(1250.5)),
            txn("T3", days_ago(2), json!("-0.01")),
        ],
    );
    body["bank_feed_transactions"]["current_balance"] = json!(934.56);
    let resp = f.push(&hub, &body).await.unwrap();
    let job_id = resp.headers()["x-rutter-job-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let answer = ok(Ok(resp)).await;
    let rows = answer["bank_feed_transactions"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let job = hub
        .get_ok(&f.creds, &format!("/versioned/jobs/{job_id}"))
        .await;
    assert_eq!(
        job["job"]["response"]["body"], answer,
        "the job holds exactly the answer given"
    );
    assert_eq!(rows[0]["transaction_id"], "T1");
    assert_eq!(rows[0]["amount"].to_string(), "-300.00");
    assert_eq!(
        rows[1]["amount"].to_string(),
        "1250.50",
        "exact, never through a float, with the currency's minor units"
    );
    assert_eq!(rows[2]["amount"].to_string(), "-0.01");
    assert!(rows
        .iter()
        .all(|r| r["duplicate"] == false && r["platform_ingested"] == false));
    assert_eq!(rows[0]["memo"], "Staples");
    assert_eq!(rows[0]["debit_credit_memo"], "DEBIT");
    assert_eq!(
        f.account(&hub).await["current_balance"],
        json!(934.56),
        "balance set with the batch"
    );

    let stored = f.stored(&hub).await;
    assert_eq!(stored.len(), 3);
    assert!(stored.iter().all(|r| r.get("duplicate").is_none()));
    let one = hub
        .get_ok(
            &f.creds,
            &format!(
                "{TRANSACTIONS}/{}?access_token={}",
                rows[1]["id"].as_str().unwrap(),
                f.token
            ),
        )
        .await;
    assert_eq!(one["bank_feed_transaction"]["transaction_id"], "T2");

    // The identical batch again: harmless, reported as duplicates, nothing new stored.
    let again = ok(f.push(&hub, &body).await).await;
    let again_rows = again["bank_feed_transactions"].as_array().unwrap();
    assert!(again_rows.iter().all(|r| r["duplicate"] == true));
    assert_eq!(again_rows[0]["id"], rows[0]["id"]);
    assert_eq!(f.stored(&hub).await.len(), 3);

    // Filters and paging.
    let url = format!(
        "{}&bank_feed_account_id={}&posted_at_min={}&limit=1",
        f.transactions_path(),
        f.account,
        ts(days_ago(2) - TimeDelta::hours(1))
    );
    let page = hub.get_ok(&f.creds, &url).await;
    assert_eq!(page["bank_feed_transactions"][0]["transaction_id"], "T2");
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = hub
        .get_ok(&f.creds, &format!("{url}&cursor={cursor}"))
        .await;
    assert_eq!(next["bank_feed_transactions"][0]["transaction_id"], "T3");
    assert!(next["next_cursor"].is_null());
    let ingested_path = format!("{}&platform_ingested=true", f.transactions_path());
    let ingested = hub.get_ok(&f.creds, &ingested_path).await;
    assert!(ingested["bank_feed_transactions"]
        .as_array()
        .unwrap()
        .is_empty());
    hub.store
        .mark_ingested(f.account.parse().unwrap(), SystemClock.now())
        .await
        .unwrap();
    let ingested = hub.get_ok(&f.creds, &ingested_path).await;
    assert_eq!(
        ingested["bank_feed_transactions"].as_array().unwrap().len(),
        3
    );
    assert!(!f.account(&hub).await["last_synced_at"].is_null());

    let refused = [
        (
            format!("{}&limit=1001", f.transactions_path()),
            400,
            "INVALID_LIMIT",
        ),
        (
            format!("{}&posted_at_min=yesterday", f.transactions_path()),
            400,
            "INVALID_QUERY_PARAMETER",
        ),
        (
            format!("{TRANSACTIONS}/nope?access_token={}", f.token),
            400,
            "INVALID_ID",
        ),
        (
            format!(
                "{TRANSACTIONS}/01a1fc9a-af8c-76a4-87f1-65c8c73af427?access_token={}",
                f.token
            ),
            410,
            "TRANSACTION_NOT_FOUND",
        ),
    ];
    for (path, status, code) in refused {
        err_in(&path, hub.get(&f.creds, &path).send().await, status, code).await;
    }
    let events = hub.store.list_events(f.creds.org.id, 0, 100).await.unwrap();
    let created = events
        .iter()
        .filter(|e| e.kind.as_str() == "bank_feed_transactions.created")
        .count();
    let finished = events
        .iter()
        .filter(|e| e.kind.as_str() == "job.succeeded")
        .count();
    // The identical re-send finished its job but created nothing: it writes no
    // `bank_feed_transactions.created` event (nor its balance, see `batch::is_pure_resend`).
    assert_eq!((created, finished), (1, 2));
}

/// The job once the hub's queue has been drained: finished.
async fn wait_for_job(hub: &Hub, creds: &Creds, id: &str) -> Value {
    hub.drain().await;
    let job = hub.get_ok(creds, &format!("/versioned/jobs/{id}")).await;
    assert!(
        job["job"]["status"] == "success" || job["job"]["status"] == "failure",
        "job {id} did not finish: {job}"
    );
    job["job"].clone()
}

async fn async_mode_answers_with_a_job_that_holds_the_outcome(hub: Hub) {
    let f = Feed::new(&hub, "INTUIT_BANK_FEEDS", "USD", None).await;
    let mut body = batch(&f.account, vec![txn("A1", days_ago(1), json!(-12.34))]);
    body["response_mode"] = json!("async");
    let answer = ok(f.push(&hub, &body).await).await;
    // Both answers are in the document, told apart by their required property (issue 20: a
    // generated client failed on the async answer, which the document did not declare).
    let doc = hub.open_json("/openapi.json").await;
    let push = "/versioned/accounting/bank_feeds/transactions";
    assert_eq!(
        crate::contract::documented_alternative(&doc, "post", push, &answer),
        "TransactionsQueuedOut"
    );
    let mut sync = batch(&f.account, vec![txn("A2", days_ago(1), json!(-1))]);
    sync["response_mode"] = json!("prefer_sync");
    let stored = ok(f.push(&hub, &sync).await).await;
    assert_eq!(
        crate::contract::documented_alternative(&doc, "post", push, &stored),
        "TransactionsCreatedOut"
    );
    let envelope = &answer["async_response"];
    let id = envelope["id"].as_str().unwrap();
    assert_eq!(
        envelope["response_url"],
        format!("{}/versioned/jobs/{id}", hub.base)
    );
    assert!(["prequeued", "pending", "success"].contains(&envelope["status"].as_str().unwrap()));
    let job = wait_for_job(&hub, &f.creds, id).await;
    assert_eq!(job["status"], "success");
    assert_eq!(job["response"]["http_status"], 200);
    assert_eq!(
        job["response"]["body"]["bank_feed_transactions"][0]["transaction_id"],
        "A1"
    );
    assert_eq!(
        job["response"]["body"]["bank_feed_transactions"][0]["amount"].to_string(),
        "-12.34"
    );
    assert_eq!(job["request"]["method"], "POST");
    assert_eq!(
        job["request"]["body"]["bank_feed_transactions"]["transactions"][0]["transaction_id"],
        "A1"
    );
    assert!(
        !job["request"]["url"]
            .as_str()
            .unwrap()
            .contains("access_token"),
        "tokens stay out of jobs"
    );

    // A batch refused by stored state fails its job with the answer sync mode would give.
    let mut older = batch(&f.account, vec![txn("A0", days_ago(5), json!(-1))]);
    older["response_mode"] = json!("async");
    let answer = ok(f.push(&hub, &older).await).await;
    let job = wait_for_job(
        &hub,
        &f.creds,
        answer["async_response"]["id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(job["status"], "failure");
    assert_eq!(job["response"]["http_status"], 400);
    assert_eq!(job["response"]["body"]["error_code"], "OLDER_THAN_STORED");

    // Another organisation cannot read the job.
    let other = hub.org("Other Bank").await;
    refuses(
        hub.get(&other, &format!("/versioned/jobs/{id}")),
        410,
        "JOB_NOT_FOUND",
    )
    .await;
    refuses(
        hub.get(&other, "/versioned/jobs/not-a-job"),
        400,
        "INVALID_ID",
    )
    .await;
}

async fn stateless_rules_refuse_at_once_with_their_codes(hub: Hub) {
    let f = Feed::new(&hub, "INTUIT_BANK_FEEDS", "USD", None).await;
    let a = f.account.clone();
    let cases: Vec<(&str, Value)> = vec![
        ("BATCH_EMPTY", batch(&a, vec![])),
        (
            "BATCH_TOO_LARGE",
            batch(
                &a,
                (0..1001)
                    .map(|i| txn(&format!("B{i}"), days_ago(1), json!(-1)))
                    .collect(),
            ),
        ),
        (
            "DUPLICATE_TRANSACTION_ID",
            batch(
                &a,
                vec![
                    txn("D", days_ago(2), json!(-1)),
                    txn("D", days_ago(1), json!(-2)),
                ],
            ),
        ),
        (
            "MISSING_TRANSACTION_ID",
            batch(&a, vec![txn(" ", days_ago(1), json!(-1))]),
        ),
        (
            "NOT_CHRONOLOGICAL",
            batch(
                &a,
                vec![
                    txn("N1", days_ago(1), json!(-1)),
                    txn("N2", days_ago(2), json!(-1)),
                ],
            ),
        ),
        (
            "FUTURE_DATED",
            batch(
                &a,
                vec![txn("F1", SystemClock.now() + TimeDelta::days(1), json!(-1))],
            ),
        ),
        (
            "TOO_MANY_DECIMALS",
            batch(&a, vec![txn("M1", days_ago(1), json!(-1.005))]),
        ),
        ("SIGN_MISMATCH", {
            let mut t = txn("S1", days_ago(1), json!(-5));
            t["debit_credit_memo"] = json!("CREDIT");
            batch(&a, vec![t])
        }),
        ("FIELD_TOO_LONG", {
            let mut t = txn("L1", days_ago(1), json!(-5));
            t["description"] = json!("x".repeat(4001));
            batch(&a, vec![t])
        }),
    ];
    for (code, body) in &cases {
        let e = err_in(code, f.push(&hub, body).await, 400, code).await;
        if *code != "BATCH_EMPTY" && *code != "BATCH_TOO_LARGE" {
            assert!(
                e["errors"][0]["transaction_id"].is_string(),
                "{code}: names the transaction: {e}"
            );
        }
    }
    // Type errors in a transaction name the field.
    let mut bad = batch(&a, vec![txn("X", days_ago(1), json!(-1))]);
    bad["bank_feed_transactions"]["transactions"][0]["debit_credit_memo"] = json!("MEMO");
    err(f.push(&hub, &bad).await, 400, "INVALID_ENUM_VALUE").await;
    bad["bank_feed_transactions"]["transactions"][0]["debit_credit_memo"] = json!("DEBIT");
    bad["bank_feed_transactions"]["transactions"][0]["posted_at"] = json!("last tuesday");
    err(f.push(&hub, &bad).await, 400, "INVALID_FIELD_VALUE").await;
    let mut no_amount = batch(&a, vec![txn("Y", days_ago(1), json!(-1))]);
    no_amount["bank_feed_transactions"]["transactions"][0]
        .as_object_mut()
        .unwrap()
        .remove("amount");
    err(f.push(&hub, &no_amount).await, 400, "MISSING_FIELD").await;
    let mut balance = batch(&a, vec![txn("Z", days_ago(1), json!(-1))]);
    balance["bank_feed_transactions"]["current_balance"] = json!(1.234);
    err(f.push(&hub, &balance).await, 400, "TOO_MANY_DECIMALS").await;
    err(
        f.push(
            &hub,
            &batch(
                "01a1fc9a-af8c-76a4-87f1-65c8c73af427",
                vec![txn("U", days_ago(1), json!(-1))],
            ),
        )
        .await,
        410,
        "BANK_FEED_ACCOUNT_NOT_FOUND",
    )
    .await;
    assert!(
        f.stored(&hub).await.is_empty(),
        "no refused batch stored anything"
    );

    // The accepted edges: exactly 1000, equal timestamps, zero with DEBIT, cents in USD.
    let at = days_ago(1);
    let mut edge: Vec<Value> = (0..999)
        .map(|i| txn(&format!("E{i:04}"), at, json!(-1.25)))
        .collect();
    let mut zero = txn("ZERO", at, json!(0));
    zero["debit_credit_memo"] = json!("DEBIT");
    edge.push(zero);
    let answer = ok(f.push(&hub, &batch(&a, edge)).await).await;
    assert_eq!(
        answer["bank_feed_transactions"].as_array().unwrap().len(),
        1000
    );
    assert_eq!(f.stored(&hub).await.len(), 1000);

    // Refused requests never became jobs: only the accepted batch's job ran.
    let events = hub
        .store
        .list_events(f.creds.org.id, 0, 1000)
        .await
        .unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind.as_str() == "job.succeeded")
            .count(),
        1
    );
    // An account holding transactions keeps its currency.
    let url = format!(
        "/versioned/accounting/bank_feeds/accounts/{a}?access_token={}",
        f.token
    );
    let eur = json!({"bank_feed_account": {"currency_code": "EUR"}});
    refuses(hub.patch(&f.creds, &url, &eur), 409, "CURRENCY_LOCKED").await;

    // JPY allows no decimals.
    let jpy = Feed::new(&hub, "INTUIT_BANK_FEEDS", "JPY", None).await;
    err(
        jpy.push(
            &hub,
            &batch(&jpy.account, vec![txn("J1", days_ago(1), json!(-1.5))]),
        )
        .await,
        400,
        "TOO_MANY_DECIMALS",
    )
    .await;
    ok(jpy
        .push(
            &hub,
            &batch(&jpy.account, vec![txn("J1", days_ago(1), json!(-150))]),
        )
        .await)
    .await;
}

async fn stored_state_rules_refuse_through_the_job(hub: Hub) {
    let f = Feed::new(&hub, "INTUIT_BANK_FEEDS", "USD", None).await;
    ok(f.push(
        &hub,
        &batch(
            &f.account,
            vec![
                txn("T1", days_ago(3), json!(-300)),
                txn("T2", days_ago(2), json!(-5)),
            ],
        ),
    )
    .await)
    .await;

    // Older than the newest stored: refused, naming the transaction; same time is fine.
    let e = err(
        f.push(
            &hub,
            &batch(&f.account, vec![txn("OLD", days_ago(4), json!(-1))]),
        )
        .await,
        400,
        "OLDER_THAN_STORED",
    )
    .await;
    assert_eq!(e["errors"][0]["transaction_id"], "OLD");
    assert!(e["error_message"].as_str().unwrap().contains("OLD"));
    let stored_t2 = f.stored(&hub).await[1]["posted_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut same = txn("SAME", days_ago(2), json!(-1));
    same["posted_at"] = json!(stored_t2);
    ok(f.push(&hub, &batch(&f.account, vec![same])).await).await;

    // The same id with different content: the whole batch is refused (409) and names the id.
    let e = err(
        f.push(
            &hub,
            &batch(
                &f.account,
                vec![
                    txn("T2", days_ago(2), json!(-6)),
                    txn("NEW", days_ago(1), json!(-1)),
                ],
            ),
        )
        .await,
        409,
        "TRANSACTION_ID_CONFLICT",
    )
    .await;
    assert!(e["error_message"].as_str().unwrap().contains("T2"));
    assert!(
        f.stored(&hub)
            .await
            .iter()
            .all(|t| t["transaction_id"] != "NEW"),
        "nothing of a refused batch is applied"
    );

    // History windows: none before the feed start date on Intuit (Rutter door); Xero at most
    // a year back; NetSuite at most 60 days on the first import.
    let windows = [
        ("INTUIT_BANK_FEEDS", "USD", Some(days_ago(10)), "H1", 11, 9),
        ("XERO", "GBP", None, "X1", 366, 364),
        ("NETSUITE", "USD", None, "N1", 61, 59),
    ];
    for (platform, currency, start, id, refused, accepted) in windows {
        let g = Feed::new(&hub, platform, currency, None).await;
        g.link(&hub, start).await;
        let too_old = batch(&g.account, vec![txn(id, days_ago(refused), json!(-1))]);
        let resp = g.push(&hub, &too_old).await;
        err_in(platform, resp, 400, "BEFORE_HISTORY_WINDOW").await;
        let inside = batch(&g.account, vec![txn(id, days_ago(accepted), json!(-1))]);
        ok(g.push(&hub, &inside).await).await;
    }
}

async fn feeds_that_need_linking_refuse_until_linked(hub: Hub) {
    for platform in ["XERO", "SAGE_INTACCT", "SAGE_BUSINESS_CLOUD", "NETSUITE"] {
        let f = Feed::new(&hub, platform, "USD", None).await;
        let body = batch(&f.account, vec![txn("T1", days_ago(1), json!(-1))]);
        err_in(platform, f.push(&hub, &body).await, 400, "FEED_NOT_READY").await;
        f.link(&hub, Some(days_ago(30))).await;
        let account = f.account(&hub).await;
        assert_eq!(
            (
                account["feed_status"].as_str(),
                account["transaction_ready"].as_bool()
            ),
            (Some("active"), Some(true))
        );
        ok(f.push(&hub, &body).await).await;
    }
}

async fn idempotency_keys_replay_batches(hub: Hub) {
    let f = Feed::new(&hub, "INTUIT_BANK_FEEDS", "USD", None).await;
    let body = batch(&f.account, vec![txn("I1", days_ago(1), json!(-9.99))]);
    let first = ok(hub
        .post(&f.creds, &f.transactions_path(), &body)
        .header("Idempotency-Key", "batch-1")
        .send()
        .await)
    .await;
    let again = hub
        .post(&f.creds, &f.transactions_path(), &body)
        .header("Idempotency-Key", "batch-1")
        .send()
        .await
        .unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first, "the first answer, not a duplicate report");
    let other = batch(&f.account, vec![txn("I2", days_ago(1), json!(-1))]);
    refuses(
        hub.post(&f.creds, &f.transactions_path(), &other)
            .header("Idempotency-Key", "batch-1"),
        409,
        "IDEMPOTENCY_KEY_REUSED",
    )
    .await;
    assert_eq!(f.stored(&hub).await.len(), 1);
}
