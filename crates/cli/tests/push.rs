//! `bankfeeds push` against a real `bankfeeds serve`: the sample CSV stored, a rerun pushing
//! nothing twice, and a refused batch reported with its reason.

use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{json, Value};

mod common;

use common::{create_org, free_port, hub_db, serve_on, Api, BIN};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/sample-transactions.csv"
);

fn push(base: &str, creds: &(String, String), token: &str, account: &str, file: &str) -> Output {
    Command::new(BIN)
        .args([
            "push",
            "--connection",
            token,
            "--account",
            account,
            "--file",
            file,
        ])
        .args(["--hub", base, "--client-id", &creds.0])
        .env("BANKFEEDS_CLIENT_SECRET", &creds.1)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn pushes_the_sample_csv_once_and_reports_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = hub_db(dir.path());
    let (_, client_id, secret) = create_org(&db_url, "Push Bank");
    let creds = (client_id.clone(), secret.clone());
    let port = free_port();
    let _server = serve_on(&db_url, port, &[], Duration::from_secs(20)).await;
    let api = Api::new(port, client_id, secret);
    let base = api.url("");

    let token = api.connection("INTUIT_BANK_FEEDS").await;
    let account = api
        .post(
            &format!("/versioned/accounting/bank_feeds/accounts?access_token={token}"),
            json!({"bank_feed_account": {"internal_bank_account_id": "CHK-1",
                "bank_account_type": "bank", "currency_code": "USD"}}),
        )
        .await;
    let account = account["bank_feed_account"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let first = push(&base, &creds, &token, &account, SAMPLE);
    assert!(first.status.success(), "{}", text(&first));
    let said = String::from_utf8_lossy(&first.stdout);
    assert!(said.contains("stored:     12"), "{said}");
    assert!(said.contains("refused:    0"), "{said}");

    // The same file again: every batch is answered from the first run; nothing is written.
    let again = push(&base, &creds, &token, &account, SAMPLE);
    assert!(again.status.success(), "{}", text(&again));
    let said = String::from_utf8_lossy(&again.stdout);
    assert!(
        said.contains("stored:     0") && said.contains("replayed:   12"),
        "{said}"
    );

    // JSON lines, in batches of 2: one transaction already stored (a duplicate) beside a new
    // one, then a batch reusing an id with other content, refused whole with its reason.
    let jsonl = dir.path().join("more.jsonl");
    let lines = [
        json!({"transaction_id": "CHK-2024-0012", "posted_at": "2024-03-25", "amount": 0.42, "description": "Interest", "transaction_type": "interest"}),
        json!({"transaction_id": "CHK-2024-0013", "posted_at": "2024-03-26", "amount": -5}),
        json!({"transaction_id": "CHK-2024-0014", "posted_at": "2024-03-27", "amount": 7.5}),
        json!({"transaction_id": "CHK-2024-0002", "posted_at": "2024-03-28", "amount": -1}),
    ];
    let body: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&jsonl, body.join("\n")).unwrap();
    let out = Command::new(BIN)
        .args(["push", "--connection", &token, "--account", &account])
        .args(["--file", jsonl.to_str().unwrap(), "--batch-size", "2"])
        .args(["--hub", &base, "--client-id", &creds.0])
        .env("BANKFEEDS_CLIENT_SECRET", &creds.1)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a refusal fails the run");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("stored:     1"), "{said}");
    assert!(said.contains("duplicated: 1"), "{said}");
    assert!(said.contains("refused:    2"), "{said}");
    assert!(said.contains("TRANSACTION_ID_CONFLICT"), "{said}");

    let bad = push(&base, &creds, &token, "not-an-id", SAMPLE);
    assert!(!bad.status.success());
    assert!(text(&bad).contains("--account"), "{}", text(&bad));
}
