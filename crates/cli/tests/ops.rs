//! The operator's commands through the real binary (issue 18): `status`, `backup`,
//! `org show` and `org rotate-secret`, on SQLite and, where the command applies, PostgreSQL.

use std::process::Output;
use std::time::{Duration, Instant};

use bankfeeds_store_tests::backends;
use serde_json::{json, Value};

mod common;

use common::{bankfeeds, create_org, free_port, hub_db, ok_json, run, serve_on, Api, Server};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn start(db_url: &str, port: u16) -> Server {
    // One address for every hub, so links in answers do not name the port.
    let env = [("BANKFEEDS_PUBLIC_URL", "http://hub.example")];
    serve_on(db_url, port, &env, Duration::from_secs(30)).await
}

/// A connection with two accounts, and two transactions on the first, applied.
/// Answers the connection's access token.
async fn populate(api: &Api) -> String {
    let token = api.connection("OFX_DIRECT_CONNECT").await;
    let accounts = format!("/versioned/accounting/bank_feeds/accounts?access_token={token}");
    let mut ids = Vec::new();
    for number in ["1001", "1002"] {
        let a = api
            .post(
                &accounts,
                json!({"bank_feed_account": {"internal_bank_account_id": number,
                    "bank_account_type": "bank", "currency_code": "USD", "current_balance": 80.5}}),
            )
            .await;
        ids.push(a["bank_feed_account"]["id"].as_str().unwrap().to_owned());
    }
    api.post(
        &format!("/versioned/accounting/bank_feeds/transactions?access_token={token}"),
        json!({"bank_feed_transactions": {"bank_feed_account_id": ids[0], "transactions": [
            {"transaction_id": "T1", "posted_at": "2024-03-01T09:00:00Z", "amount": -19.5, "description": "Bäckerei"},
            {"transaction_id": "T2", "posted_at": "2024-03-02T09:00:00Z", "amount": 100, "description": "Invoice 7"}]}}),
    )
    .await;
    // The batch is a job: wait until its rows are readable.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, listed) = api.get(&transactions_path(&token)).await;
        if listed.to_string().contains("Invoice 7") {
            break;
        }
        assert!(Instant::now() < deadline, "the batch was not applied");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    token
}

fn transactions_path(token: &str) -> String {
    format!("/versioned/accounting/bank_feeds/transactions?access_token={token}")
}

/// What the hub answers about the organisation's data.
async fn answers(api: &Api, token: &str) -> Vec<(u16, Value)> {
    vec![
        api.get("/versioned/connections").await,
        api.get(&format!(
            "/versioned/accounting/bank_feeds/accounts?access_token={token}"
        ))
        .await,
        api.get(&transactions_path(token)).await,
    ]
}

/// `status`, `org show` and `org rotate-secret` on one backend's database.
async fn status_show_and_rotate(db_url: &str) {
    let (org_id, client_id, secret) = create_org(db_url, "Ops Bank");
    let port = free_port();
    let server = start(db_url, port).await;
    let mut api = Api::new(port, client_id.clone(), secret.clone());
    populate(&api).await;

    let out = run(db_url, &["status", "--json"]);
    let s = ok_json(&out);
    assert!(stderr(&out).contains("database: "), "{}", stderr(&out));
    assert_eq!(s["migrations"]["missing"], json!([]), "{s}");
    assert_eq!(s["migrations"]["applied"], s["migrations"]["known"], "{s}");
    assert!(
        s["migrations"]["latest_known"].as_i64().unwrap() >= 29,
        "{s}"
    );
    assert_eq!(s["jobs"]["by_status"]["success"], 1, "{s}");
    assert_eq!(s["jobs"]["oldest_unfinished_at"], Value::Null, "{s}");
    // OFX Direct Connect feeds are live from the start.
    assert_eq!(s["feeds"]["linked"], 2, "{s}");
    assert_eq!(s["feeds"]["pending"], 0, "{s}");
    // The feed that last posted in 2024 has been silent for the whole window: stale; the one
    // that never posted is not (nothing is expected of it yet).
    assert_eq!(s["feeds"]["stale"], 1, "{s}");
    assert_eq!(s["webhook_deliveries_pending"], 0, "{s}");
    assert!(!s["database"].as_str().unwrap().is_empty());

    let human = run(db_url, &["status"]);
    assert!(human.status.success(), "{}", stderr(&human));
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(text.contains("success 1"), "{text}");
    assert!(text.contains("2 linked, 0 pending, 1 stale"), "{text}");

    let shown = ok_json(&run(db_url, &["org", "show", "--org", &client_id]));
    assert_eq!(shown["id"], org_id.as_str());
    assert_eq!(shown["client_id"], client_id.as_str());
    assert_eq!(shown["connections"]["total"], 1, "{shown}");
    assert_eq!(shown["accounts"]["total"], 2, "{shown}");
    assert!(!shown.to_string().contains(&secret));
    let missing = run(db_url, &["org", "show", "--org", "bfci_nobody"]);
    assert!(!missing.status.success());

    assert_eq!(api.get("/versioned/connections").await.0, 200);
    let rotated = run(db_url, &["org", "rotate-secret", "--org", &org_id]);
    let rotated = ok_json(&rotated);
    let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
    assert!(new_secret.starts_with("bfsk_") && new_secret != secret);
    assert_eq!(
        api.get("/versioned/connections").await.0,
        401,
        "the old secret stops working"
    );
    api.secret = new_secret;
    assert_eq!(api.get("/versioned/connections").await.0, 200);

    // Disable, refuse a delete without the name, delete: the credential stops working and
    // the organisation is gone from the list.
    let too_soon = run(
        db_url,
        &["org", "delete", "--org", &org_id, "--confirm", "Ops Bank"],
    );
    assert!(!too_soon.status.success());
    assert!(
        stderr(&too_soon).contains("disable it first"),
        "{}",
        stderr(&too_soon)
    );
    let disabled = ok_json(&run(db_url, &["org", "disable", "--org", &client_id]));
    assert_eq!(disabled["disabled"], true, "{disabled}");
    let (status, body) = api.get("/versioned/connections").await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (401, Some("ORGANISATION_DISABLED"))
    );
    let wrong = run(
        db_url,
        &["org", "delete", "--org", &org_id, "--confirm", "ops bank"],
    );
    assert!(!wrong.status.success(), "the name must match exactly");
    let deleted = ok_json(&run(
        db_url,
        &["org", "delete", "--org", &org_id, "--confirm", "Ops Bank"],
    ));
    assert_eq!(deleted["deleted"], org_id.as_str(), "{deleted}");
    assert_eq!(deleted["rows"]["connections"], 1, "{deleted}");
    assert_eq!(deleted["rows"]["bank_feed_accounts"], 2, "{deleted}");
    let listed = run(db_url, &["org", "list"]);
    assert!(!String::from_utf8_lossy(&listed.stdout).contains(&org_id));
    assert_eq!(api.get("/versioned/connections").await.0, 401);
    drop(server);
}

#[tokio::test]
async fn status_show_and_rotate_secret_on_sqlite() {
    let db = backends::sqlite("ops_status").await.unwrap();
    status_show_and_rotate(&db.url).await;
}

#[tokio::test]
async fn status_show_and_rotate_secret_on_postgres() {
    let Some(db) = backends::postgres("ops_status").await else {
        return;
    };
    status_show_and_rotate(&db.url).await;
}

#[test]
fn status_fails_on_missing_migrations_and_unreachable_databases() {
    let dir = tempfile::tempdir().unwrap();
    // An empty file is a SQLite database with no tables.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let out = run(
        &format!("sqlite://{}", empty.display()),
        &["status", "--json"],
    );
    assert!(!out.status.success());
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["migrations"]["applied"], 0, "{s}");
    assert!(!s["migrations"]["missing"].as_array().unwrap().is_empty());
    assert!(
        stderr(&out).contains("bankfeeds migrate"),
        "{}",
        stderr(&out)
    );

    // A mistyped path is an error, not a new empty hub.
    let nowhere = dir.path().join("nowhere.db");
    let out = run(&format!("sqlite://{}", nowhere.display()), &["status"]);
    assert!(!out.status.success());
    assert!(!nowhere.exists());

    let out = run(
        "postgres://postgres:hunter2@127.0.0.1:1/bankfeeds",
        &["status"],
    );
    assert!(!out.status.success());
    assert!(!stderr(&out).contains("hunter2"), "{}", stderr(&out));
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_to_a_hub_that_answers_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = hub_db(dir.path());
    let (_, client_id, secret) = create_org(&db_url, "Backup Bank");
    let port = free_port();
    let _serving = start(&db_url, port).await;
    let api = Api::new(port, client_id, secret);
    let token = populate(&api).await;
    let before = answers(&api, &token).await;
    assert!(
        before.iter().all(|(status, _)| *status == 200),
        "{before:?}"
    );

    let file = dir.path().join("copy.db");
    let file_arg = file.to_str().unwrap();
    let out = run(&db_url, &["backup", "--to", file_arg]);
    let taken = ok_json(&out);
    assert!(stderr(&out).contains("database: "));
    assert!(taken["bytes"].as_u64().unwrap() > 0);
    let again = run(&db_url, &["backup", "--to", file_arg]);
    assert!(!again.status.success(), "an existing file is not replaced");
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    ok_json(&run(&db_url, &["backup", "--to", file_arg, "--force"]));

    // Written after the backup: the original has it, the copy must not.
    api.post("/versioned/connections/create", json!({"platform": "XERO"}))
        .await;

    let restored_url = format!("sqlite://{file_arg}");
    let restored_port = free_port();
    let _restored = start(&restored_url, restored_port).await;
    let restored = Api {
        port: restored_port,
        ..api
    };
    let after = answers(&restored, &token).await;
    assert_eq!(
        after, before,
        "the restored hub answers as the original did"
    );
    assert_ne!(
        answers(
            &Api::new(port, restored.client_id.clone(), restored.secret.clone()),
            &token
        )
        .await[0],
        after[0],
        "the copy is the moment of the backup"
    );
    let s = ok_json(&run(&restored_url, &["status", "--json"]));
    assert_eq!(s["migrations"]["missing"], json!([]));
}

#[tokio::test]
async fn backup_on_postgres_prints_the_pg_dump_command_for_its_database() {
    let Some(db) = backends::postgres("ops_backup").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hub.dump");
    let out = run(&db.url, &["backup", "--to", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = String::from_utf8(out.stdout).unwrap();
    let name = db.url.rsplit('/').next().unwrap();
    assert!(printed.starts_with("pg_dump --format=custom "), "{printed}");
    assert!(printed.contains(&format!("/{name}'")), "{printed}");
    assert!(printed.contains(&format!("--file='{}'", file.display())));
    assert!(!file.exists(), "the command is printed, not run");
}

/// `org create` where no database exists says it created a new one, once; with the default
/// location it says that nothing named one.
#[test]
fn a_store_command_that_creates_a_database_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = bankfeeds("sqlite://bankfeeds.db")
        .env_remove("BANKFEEDS_DATABASE_URL")
        .current_dir(dir.path())
        .args(["org", "create", "--name", "First"])
        .output()
        .unwrap();
    ok_json(&out);
    let said = stderr(&out);
    assert!(said.contains("database: sqlite://bankfeeds.db"), "{said}");
    assert!(said.contains("a new, empty one is created"), "{said}");
    assert!(said.contains("the default"), "{said}");
    assert!(dir.path().join("bankfeeds.db").exists());

    let again = bankfeeds("sqlite://bankfeeds.db")
        .env_remove("BANKFEEDS_DATABASE_URL")
        .current_dir(dir.path())
        .args(["org", "create", "--name", "Second"])
        .output()
        .unwrap();
    ok_json(&again);
    assert!(!stderr(&again).contains("new, empty"), "{}", stderr(&again));
}

fn findings(out: &Output) -> Vec<(String, String)> {
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object on stdout");
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_owned(),
                f["level"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `config check` reports each setting `serve` depends on, fails on what would stop it, and
/// creates nothing.
#[test]
fn config_check_finds_what_serve_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let db_url = format!("sqlite://{}", db.display());
    let port = free_port().to_string();
    let listen = format!("127.0.0.1:{port}");

    // Nothing there yet: a warning, and no file made.
    let out = run(&db_url, &["config", "check", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let f = findings(&out);
    assert!(f.contains(&("database".into(), "warn".into())), "{f:?}");
    assert!(!db.exists(), "a check creates no database");

    let out = bankfeeds(&db_url).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = bankfeeds(&db_url)
        .env("BANKFEEDS_LISTEN", &listen)
        .args(["config", "check", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let f = findings(&out);
    for check in ["settings", "database", "durability", "migrations", "listen"] {
        assert!(f.contains(&(check.into(), "ok".into())), "{check}: {f:?}");
    }

    // A certificate that cannot be read stops `serve`, so it is an error here.
    let out = bankfeeds(&db_url)
        .env("BANKFEEDS_TLS_CERT", dir.path().join("missing.pem"))
        .env("BANKFEEDS_TLS_KEY", dir.path().join("missing.key"))
        .args(["config", "check", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(findings(&out).contains(&("tls".into(), "error".into())));

    // Settings `Config` refuses are a finding too, not a crash.
    let out = bankfeeds(&db_url)
        .env("BANKFEEDS_WEBHOOKS_RETRY_SCHEDULE", "soon")
        .args(["config", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ERROR settings"), "{text}");

    // A port already taken is a warning (a hub may be running there).
    let _held = std::net::TcpListener::bind(&listen).unwrap();
    let out = bankfeeds(&db_url)
        .env("BANKFEEDS_LISTEN", &listen)
        .args(["config", "check", "--json"])
        .output()
        .unwrap();
    assert!(findings(&out).contains(&("listen".into(), "warn".into())));

    // A PostgreSQL that does not answer is an error, its password never shown.
    let out = run(
        "postgres://postgres:hunter2@127.0.0.1:1/bankfeeds",
        &["config", "check"],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ERROR database"), "{text}");
    assert!(
        !text.contains("hunter2") && !stderr(&out).contains("hunter2"),
        "{text}"
    );
}
