//! The binary as an operator runs it: `org create`, `serve`, SIGTERM, restart.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::{bankfeeds, create_org, free_port, hub_db, serve_on, Api, Server, BIN};

async fn start(db_url: &str, port: u16) -> Server {
    serve_on(db_url, port, &[], Duration::from_secs(20)).await
}

fn terminate(mut server: Server) -> std::process::ExitStatus {
    let pid = server.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn org_create_serve_sigterm_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = hub_db(dir.path());

    let out = bankfeeds(&db_url)
        .args(["org", "create", "--name", "Demo Bank"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let org: Value =
        serde_json::from_slice(&out.stdout).expect("org create prints one JSON object");
    let (client_id, secret) = (
        org["client_id"].as_str().unwrap(),
        org["client_secret"].as_str().unwrap(),
    );
    assert_eq!(org["name"], "Demo Bank");
    assert!(secret.starts_with("bfsk_"));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(secret),
        "the secret is never logged"
    );

    let listed = bankfeeds(&db_url).args(["org", "list"]).output().unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed.contains(client_id) && !listed.contains(secret),
        "{listed}"
    );

    let blank = bankfeeds(&db_url)
        .args(["org", "create", "--name", " "])
        .output()
        .unwrap();
    assert!(!blank.status.success());

    let configure = |login: &str| {
        bankfeeds(&db_url)
            .args(["org", "configure", "--org", client_id, "--platform", "XERO"])
            .args([
                "--display-name",
                "Demo Bank",
                "--login-url",
                login,
                "--country-code",
                "gb",
            ])
            .output()
            .unwrap()
    };
    let out = configure("https://bank.example/login");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (config["platform"].as_str(), config["country_code"].as_str()),
        (Some("XERO"), Some("GB"))
    );
    let bad = configure("not a url");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("login_url"));

    let port = free_port();
    let server = start(&db_url, port).await;
    let http = reqwest::Client::new();
    let api = |request: reqwest::RequestBuilder| async move {
        let resp = request.basic_auth(client_id, Some(secret)).send().await;
        resp.unwrap().json::<Value>().await.unwrap()
    };
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let created = api(http
        .post(url("/versioned/connections/create"))
        .json(&serde_json::json!({"platform": "XERO"})))
    .await;
    let token = created["connection"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let config = api(http.get(url("/versioned/bank_feeds/configs/XERO"))).await;
    assert_eq!(
        config["bank_feeds_config"]["login_url"], "https://bank.example/login",
        "the CLI and the API see one store"
    );
    assert!(terminate(server).success(), "SIGTERM is a clean stop");

    let server = start(&db_url, port).await;
    let fetched = api(http.get(url(&format!(
        "/versioned/connections/access_token?access_token={token}"
    ))))
    .await;
    assert_eq!(
        fetched["connection"]["id"], created["connection"]["id"],
        "data survives a restart"
    );
    assert!(terminate(server).success());
}

#[test]
fn a_bad_database_url_is_refused_with_a_message() {
    let out = bankfeeds("mysql://nowhere")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sqlite:// or postgres://"));
}

/// `bankfeeds demo` on a fresh machine: a linked sandbox company whose feed shows a month of
/// ingested transactions, served until SIGTERM, leaving nothing behind.
#[tokio::test]
async fn demo_links_pushes_ingests_and_serves_until_stopped() {
    use std::io::{BufRead, BufReader};

    let mut child = Command::new(BIN)
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.starts_with("Press Ctrl-C");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    });
    let demo = Server(child);
    let lines = tokio::task::spawn_blocking(move || reader.join().unwrap())
        .await
        .unwrap();
    let text = lines.join("\n");
    let url_after = |label: &str| -> String {
        let line = lines
            .iter()
            .find(|l| l.trim_start().starts_with(label) && l.contains("http://"))
            .unwrap_or_else(|| panic!("no {label:?} line in:\n{text}"));
        line.split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap()
            .to_owned()
    };
    let db = text
        .split("SQLite at ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .expect("the database path is printed")
        .to_owned();
    assert!(std::path::Path::new(&db).exists());

    // Both feeds were pushed and fully ingested.
    for name in ["Business Checking", "Business Visa"] {
        let row = lines
            .iter()
            .find(|l| l.trim_start().starts_with(name) && !l.contains("http"))
            .unwrap_or_else(|| panic!("no summary row for {name}:\n{text}"));
        let cols: Vec<&str> = row.split_whitespace().collect();
        let (pushed, ingested) = (cols[cols.len() - 3], cols[cols.len() - 2]);
        assert_eq!(pushed, ingested, "{row}");
        assert!(pushed.parse::<u32>().unwrap() >= 10, "{row}");
    }
    // The sandboxes are on, behind the password the demo printed: sign in for a session.
    let password = lines
        .iter()
        .find_map(|l| l.trim_start().strip_prefix("sandbox"))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("no sandbox password in:\n{text}"))
        .to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let company_url = url_after("the company's feeds");
    let base = company_url.split("/sandbox/").next().unwrap().to_owned();
    let stranger = http.get(&company_url).send().await.unwrap();
    assert_eq!(stranger.status(), 303, "the sandbox pages need a sign-in");
    let cookie_of = |resp: &reqwest::Response, name: &str| -> String {
        resp.headers()
            .get_all("set-cookie")
            .iter()
            .map(|c| c.to_str().unwrap())
            .find(|c| c.starts_with(&format!("{name}=")))
            .and_then(|c| c.split(';').next())
            .unwrap_or_else(|| panic!("no {name} cookie"))
            .to_owned()
    };
    let signin = http
        .get(format!("{base}/sandbox/signin"))
        .send()
        .await
        .unwrap();
    let csrf_cookie = cookie_of(&signin, "bf_csrf");
    let csrf = csrf_cookie.split_once('=').unwrap().1.to_owned();
    let signed_in = http
        .post(format!("{base}/sandbox/signin"))
        .header("cookie", &csrf_cookie)
        .form(&[("csrf", csrf.as_str()), ("password", password.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let session = cookie_of(&signed_in, "bf_sandbox");
    let page = |url: String| {
        let request = http.get(url).header("cookie", session.clone());
        async move {
            let resp = request.send().await.unwrap();
            assert_eq!(resp.status(), 200);
            resp.text().await.unwrap()
        }
    };
    let feed = page(url_after("Business Checking")).await;
    assert!(feed.contains("Card terminal settlement"), "{feed}");
    // Pushed a day at a time with the day's closing balance, every daily statement ties out.
    let days = feed.matches("data-reconcile=").count();
    assert!(days >= 10, "{feed}");
    assert_eq!(
        feed.matches("data-reconcile=\"ties_out\"").count(),
        days,
        "{feed}"
    );
    assert!(feed.contains("Payroll") || feed.contains("Rent"));
    let company = page(company_url).await;
    assert_eq!(company.matches("status active").count(), 2);

    let status = terminate(demo);
    assert!(status.success(), "{status:?}");
    assert!(
        !std::path::Path::new(&db).exists(),
        "the demo's database is removed on exit"
    );
}

#[tokio::test]
async fn export_downloads_statement_files_from_a_running_hub() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = hub_db(dir.path());
    let (_, client_id, secret) = create_org(&db_url, "Export Bank");
    let port = free_port();
    let _server = start(&db_url, port).await;
    let api = Api::new(port, client_id.clone(), secret.clone());
    let token = &api.connection("OFX_DIRECT_CONNECT").await;
    let accounts = format!("/versioned/accounting/bank_feeds/accounts?access_token={token}");
    let account = |number: &str, balance: Value| {
        api.post(
            &accounts,
            serde_json::json!({"bank_feed_account": {"internal_bank_account_id": number,
                "bank_account_type": "bank", "currency_code": "USD", "current_balance": balance}}),
        )
    };
    let with = account("1001", serde_json::json!(80.5)).await;
    let with = with["bank_feed_account"]["id"].as_str().unwrap().to_owned();
    let without = account("1002", Value::Null).await;
    let without = without["bank_feed_account"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.post(
        &format!("/versioned/accounting/bank_feeds/transactions?access_token={token}"),
        serde_json::json!({"bank_feed_transactions": {"bank_feed_account_id": with, "transactions": [
            {"transaction_id": "T1", "posted_at": "2024-03-01T09:00:00Z", "amount": -19.5, "description": "Bäckerei"},
            {"transaction_id": "T2", "posted_at": "2024-03-02T09:00:00Z", "amount": 100, "description": "Invoice 7"}]}}),
    )
    .await;
    let export = |args: &[&str]| {
        let mut cmd = Command::new(BIN);
        cmd.arg("export")
            .args(args)
            .env("BANKFEEDS_HUB_URL", api.url(""))
            .env("BANKFEEDS_CLIENT_ID", &client_id)
            .env("BANKFEEDS_CLIENT_SECRET", &secret)
            .env("BANKFEEDS_ACCESS_TOKEN", token)
            .env("BANKFEEDS_LOG_LEVEL", "warn");
        cmd.output().unwrap()
    };

    // One account to a file.
    let file = dir.path().join("march.csv");
    let out = export(&[
        "--account",
        &with,
        "--format",
        "csv",
        "--from",
        "2024-03-01",
        "--to",
        "2024-03-31",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let csv = std::fs::read_to_string(&file).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(rows[1].starts_with("2024-03-01,2024-03-01T09:00:00Z,-19.50,USD,Bäckerei,"));

    // The whole connection to stdout: both accounts, the one without a balance without one.
    let out = export(&["--format", "bai2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bai2 = String::from_utf8(out.stdout).unwrap();
    assert!(
        bai2.lines().any(|l| l == "03,1001,USD,010,0,,,015,8050,,/"),
        "{bai2}"
    );
    assert!(bai2.lines().any(|l| l == "03,1002,USD/"), "{bai2}");
    assert!(bai2.lines().last().unwrap().starts_with("99,"));

    // A refusal is the hub's code on stderr, a failure status, and no file.
    let refused = dir.path().join("refused.sta");
    let out = export(&[
        "--account",
        &without,
        "--format",
        "mt940",
        "--out",
        refused.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("409 Conflict BALANCE_NOT_REPORTED"));
    assert!(!refused.exists());
}

/// An operator reading the logs sees each refusal with its code and whose request it was
/// (issue 18), and never the caller's secret or the query string (which carries tokens).
#[tokio::test]
async fn refusals_are_logged_with_their_code_and_organisation() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = hub_db(dir.path());
    let (id, client_id, secret) = create_org(&db_url, "Log Bank");
    let port = free_port();
    let log = dir.path().join("serve.log");
    let listen = format!("127.0.0.1:{port}");
    let server = Server(
        bankfeeds(&db_url)
            .env("BANKFEEDS_LOG_LEVEL", "info")
            .args(["--log-format", "json", "serve", "--listen", &listen])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let base = format!("http://{listen}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "serve did not answer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (path, status) in [
        ("/versioned/jobs/not-an-id", 400),
        (
            "/versioned/connections/status?access_token=tok_secret_query",
            401,
        ),
    ] {
        let answer = http
            .get(format!("{base}{path}"))
            .basic_auth(&client_id, Some(&secret))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status, "{path}");
    }
    terminate(server);
    let text = std::fs::read_to_string(&log).unwrap();
    let refused: Vec<(u64, String)> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["message"] == "request refused" && l["span"]["org_id"] == id.as_str())
        .map(|l| {
            let code = l["error_code"].as_str().unwrap().to_owned();
            (l["status"].as_u64().unwrap(), code)
        })
        .collect();
    assert_eq!(
        refused,
        [
            (400, "INVALID_ID".to_owned()),
            (401, "INVALID_ACCESS_TOKEN".to_owned())
        ],
        "{text}"
    );
    assert!(
        !text.contains(&secret) && !text.contains("tok_secret_query"),
        "{text}"
    );
}
