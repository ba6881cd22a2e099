//! `bankfeeds demo`: the whole story on a fresh machine in one command. Starts a hub on a
//! temporary SQLite database, creates a demo organisation (the FI) that uses the demo bank as
//! its login page, creates a connection with a checking account and a card through the API,
//! walks the link flow over HTTP in a sandbox platform, pushes a realistic month of
//! transactions, lets the platform ingest them, prints a summary with the URLs to open, and
//! keeps serving until Ctrl-C. The sandboxes and the demo bank are turned on for it, behind a
//! sandbox password it generates and prints (or `BANKFEEDS_SANDBOX_PASSWORD`, if set).

mod data;

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{bail, Context};
use bankfeeds_client::wire::connections::ConnectionIn;
use bankfeeds_domain::{Clock, NewOrg, Platform, SystemClock};
use bankfeeds_server::config::Config;
use bankfeeds_server::web::platform_slug;
use chrono::{SecondsFormat, TimeDelta};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use data::DemoTransaction;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Address to serve the demo on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The sandbox platform to link in.
    #[arg(long, default_value = "INTUIT_BANK_FEEDS")]
    platform: Platform,
}

/// The hub's API, as the demo FI and the demo customer call it.
struct Api {
    http: reqwest::Client,
    /// The FI's calls, through the Rust client.
    client: bankfeeds_client::Client,
    base: String,
    org_id: String,
    client_id: String,
    client_secret: String,
    /// The sandbox password: the sandbox's JSON interface takes it as a bearer credential.
    sandbox_password: String,
}

impl Api {
    async fn send(&self, req: reqwest::RequestBuilder, what: &str) -> anyhow::Result<Value> {
        let resp = req
            .send()
            .await
            .with_context(|| format!("{what}: no answer"))?;
        let status = resp.status();
        let body: Value = resp
            .json()
            .await
            .with_context(|| format!("{what}: not JSON"))?;
        if !status.is_success() {
            bail!("{what} failed with {status}: {body}");
        }
        Ok(body)
    }

    /// A call to the sandbox platform's JSON interface (what the customer's clicks do).
    async fn sandbox(&self, path: &str, body: &Value, what: &str) -> anyhow::Result<Value> {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.sandbox_password)
            .json(body);
        self.send(req, what).await
    }
}

fn str_of<'a>(v: &'a Value, pointer: &str) -> anyhow::Result<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .with_context(|| format!("answer without {pointer}: {v}"))
}

fn number(d: Decimal) -> Value {
    Value::Number(serde_json::Number::from_str(&d.to_string()).expect("a decimal is a JSON number"))
}

struct Feed {
    name: &'static str,
    id: String,
    pushed: usize,
    ingested: u64,
    balance: Decimal,
}

pub async fn run(args: DemoArgs, mut config: Config) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("bankfeeds-demo-")
        .tempdir()?;
    let db_path = dir.path().join("demo.db");
    config.database_url = format!("sqlite://{}", db_path.display());
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (try --listen 127.0.0.1:0)",
                args.listen
            )
        })?;
    let addr = listener.local_addr()?;
    config.listen = addr;
    config.public_url = Some(format!("http://{addr}"));
    let base = config.public_base();
    config.sandbox_enabled = true;
    let sandbox_password = config
        .sandbox_password
        .clone()
        .filter(|p| bankfeeds_domain::sandbox::password_acceptable(p))
        .unwrap_or_else(|| {
            // 20 random base64url characters (120 bits), easy enough to paste into a page.
            let secret =
                bankfeeds_domain::Secret::generate(bankfeeds_domain::SecretKind::SandboxSession);
            secret.expose()[5..25].to_owned()
        });
    config.sandbox_password = Some(sandbox_password.clone());

    let store = bankfeeds_server::open_store(&config).await?;
    store.migrate().await?;
    let (org, secret) = NewOrg::generate("Demo Bank", SystemClock.now())?;
    store.create_org(&org).await?;
    let state = bankfeeds_server::app_state(&config, store);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(bankfeeds_server::serve(
        listener,
        state,
        shutdown.clone(),
        Duration::from_secs(5),
    ));

    let api = Api {
        client: bankfeeds_client::Client::new(&base, &org.org.client_id, secret.expose())?,
        http: reqwest::Client::new(),
        base: base.clone(),
        org_id: org.org.id.to_string(),
        client_id: org.org.client_id.clone(),
        client_secret: secret.expose().to_owned(),
        sandbox_password,
    };
    let story = tell(&api, args.platform).await;
    let story = match story {
        Ok(s) => s,
        Err(e) => {
            shutdown.cancel();
            let _ = server.await;
            return Err(e);
        }
    };
    print_summary(&api, args.platform, &story, &db_path.display().to_string());

    crate::stop_on_signal(shutdown.clone()).await;
    server.await??;
    drop(dir);
    Ok(())
}

struct Story {
    connection_id: String,
    access_token: String,
    company_id: String,
    company_name: &'static str,
    customer: &'static str,
    feeds: Vec<Feed>,
}

async fn tell(api: &Api, platform: Platform) -> anyhow::Result<Story> {
    let slug = platform_slug(platform);
    let customer = "Acme Coffee Roasters Ltd";
    let company_name = "Acme Coffee Roasters";

    // The FI lists itself on the platform, with the demo bank as its login page.
    let config = serde_json::from_value(json!({"display_name": "Demo Bank", "country_code": "US",
        "login_url": format!("{}/demo-bank/login", api.base)}))?;
    api.client
        .put_fi_config(platform.as_str(), &config)
        .await
        .context("configuring the demo bank")?;
    // The FI's customer: a connection with a checking account and a card.
    let c = api
        .client
        .create_connection(&ConnectionIn {
            platform,
            name: Some(customer.into()),
        })
        .await
        .context("creating the connection")?
        .connection;
    let connection_id = c.id.to_string();
    let token = c
        .access_token
        .context("the new connection has no access token")?;
    let conn = api.client.connection(&token);
    let now = SystemClock.now();
    let (checking, card) = data::month(now);
    let opening_checking = Decimal::new(1_842_055, 2);
    let opening_card = Decimal::new(-118_740, 2);
    let mut feeds = Vec::new();
    for (internal, kind, name, account_number, opening) in [
        (
            "CHK-0042",
            "bank",
            "Business Checking",
            "000123450042",
            opening_checking,
        ),
        (
            "VISA-7781",
            "credit_card",
            "Business Visa",
            "4111000011117781",
            opening_card,
        ),
    ] {
        let account = serde_json::from_value(json!({
            "internal_bank_account_id": internal, "bank_account_type": kind,
            "currency_code": "USD", "name": name, "bank_account_number": account_number,
            "current_balance": number(opening)}))?;
        let a = conn
            .create_account(account)
            .await
            .context("creating an account")?;
        feeds.push(Feed {
            name,
            id: a.bank_feed_account.id.to_string(),
            pushed: 0,
            ingested: 0,
            balance: opening,
        });
    }

    // The customer links both accounts from the sandbox platform: a company, "connect your
    // bank", the bank's login (the FI issues an OTP), and the feed choice.
    let company = api
        .sandbox(
            &format!("/sandbox/{slug}/api/companies"),
            &json!({"name": company_name}),
            "creating the company",
        )
        .await?;
    let company_id = str_of(&company, "/company/id")?.to_owned();
    let connect = api
        .sandbox(
            &format!("/sandbox/{slug}/api/companies/{company_id}/connect"),
            &json!({"org_id": api.org_id}),
            "connecting the bank",
        )
        .await?;
    let challenge = str_of(&connect, "/challenge")?.to_owned();
    let binding = str_of(&connect, "/browser_binding")?.to_owned();
    let otp = conn
        .create_otp()
        .await
        .context("issuing the OTP")?
        .bank_feed_otp
        .otp;
    api.sandbox(
        &format!("/sandbox/{slug}/api/link/redirect"),
        &json!({"challenge": challenge, "otp": otp, "browser_binding": binding}),
        "returning from the bank's login",
    )
    .await?;
    let start = (now - TimeDelta::days(35)).to_rfc3339_opts(SecondsFormat::Secs, true);
    api.sandbox(
        &format!("/sandbox/{slug}/api/link/complete"),
        &json!({"challenge": challenge, "start_date": start,
                "bank_feed_account_ids": feeds.iter().map(|f| f.id.clone()).collect::<Vec<_>>()}),
        "choosing the feeds",
    )
    .await?;

    // The FI pushes the month as a bank's nightly export would: one batch per account and
    // posting day, in day order, each with the balance at that day's close, so every daily
    // statement the platform cuts carries the bank's own figure and ties out.
    for (feed, mut month) in feeds.iter_mut().zip([checking, card]) {
        month.sort_by_key(|t| t.posted_at);
        feed.pushed = month.len();
        for day in month.chunk_by(|a, b| a.posted_at.date_naive() == b.posted_at.date_naive()) {
            feed.balance += day.iter().map(|t| t.amount).sum::<Decimal>();
            let batch = serde_json::from_value(json!({
                "bank_feed_account_id": feed.id,
                "current_balance": number(feed.balance),
                "transactions": day.iter().map(transaction_json).collect::<Vec<_>>()}))?;
            conn.push(&batch)
                .await
                .context("pushing transactions")?
                .stored()
                .await
                .context("pushing transactions")?;
        }
    }

    // The platform ingests (QuickBooks would on opening the feed; the others on schedule).
    for feed in &mut feeds {
        let synced = api
            .sandbox(
                &format!(
                    "/sandbox/{slug}/api/companies/{company_id}/feeds/{}/sync",
                    feed.id
                ),
                &json!({}),
                "ingesting the feed",
            )
            .await?;
        feed.ingested = synced["transactions_ingested"].as_u64().unwrap_or(0);
    }
    Ok(Story {
        connection_id,
        access_token: token,
        company_id,
        company_name,
        customer,
        feeds,
    })
}

fn transaction_json(t: &DemoTransaction) -> Value {
    json!({
        "transaction_id": t.transaction_id,
        "posted_at": t.posted_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "amount": number(t.amount),
        "description": t.description,
        "payee": t.payee,
        "transaction_type": t.transaction_type,
        "debit_credit_memo": if t.amount.is_sign_negative() { "DEBIT" } else { "CREDIT" },
    })
}

fn print_summary(api: &Api, platform: Platform, s: &Story, db: &str) {
    let slug = platform_slug(platform);
    let company = format!("{}/sandbox/{slug}/companies/{}", api.base, s.company_id);
    println!();
    println!(
        "bankfeeds demo is serving at {} (SQLite at {db}, removed on exit)",
        api.base
    );
    println!();
    println!(
        "  FI           Demo Bank        client_id {}  client_secret {}",
        api.client_id, api.client_secret
    );
    println!(
        "  connection   {} ({})  id {}",
        s.customer,
        platform.as_str(),
        s.connection_id
    );
    println!("               access_token {}", s.access_token);
    println!(
        "  platform     {} sandbox, company \"{}\"",
        platform.display_name(),
        s.company_name
    );
    println!();
    println!(
        "  {:<20} {:>8} {:>9} {:>14}",
        "feed", "pushed", "ingested", "balance (USD)"
    );
    for f in &s.feeds {
        println!(
            "  {:<20} {:>8} {:>9} {:>14}",
            f.name, f.pushed, f.ingested, f.balance
        );
    }
    println!();
    println!(
        "  sandbox      password {}  (signs in to the sandboxes and is every demo bank customer's password)",
        api.sandbox_password
    );
    println!();
    println!("Open in a browser (sign in with the sandbox password):");
    println!("  the company's feeds   {company}");
    for f in &s.feeds {
        println!("  {:<21} {company}/feeds/{}", f.name, f.id);
    }
    println!(
        "  link another company  {}/sandbox/{slug}/  (sign in at the demo bank as \"{}\" with the sandbox password)",
        api.base, s.customer
    );
    println!("  the demo bank         {}/demo-bank/", api.base);
    println!();
    println!("Try the API:");
    println!(
        "  curl -u {}:{} '{}/versioned/accounting/bank_feeds/transactions?access_token={}'",
        api.client_id, api.client_secret, api.base, s.access_token
    );
    println!(
        "  curl -H 'Authorization: Bearer {}' {}/sandbox/{slug}/api/companies",
        api.sandbox_password, api.base
    );
    println!();
    println!("Press Ctrl-C to stop.");
}
