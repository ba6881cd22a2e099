//! The link flow end to end through the sandbox platforms' JSON interface, for each platform:
//! the FI is listed, a company connects, the FI's login hands back an OTP, the customer picks
//! feeds, and the feeds take transactions.

use bankfeeds_domain::{Clock, SystemClock};
use chrono::{SecondsFormat, TimeDelta};
use serde_json::{json, Value};

use crate::helpers::{err, ok, Creds, Hub};

crate::on_both_backends!(
    every_platform_links_end_to_end,
    refused_redirects_change_nothing
);

pub(crate) fn slug(platform: &str) -> &'static str {
    match platform {
        "INTUIT_BANK_FEEDS" => "intuit",
        "XERO" => "xero",
        "SAGE_INTACCT" => "sage-intacct",
        "SAGE_BUSINESS_CLOUD" => "sage-business-cloud",
        _ => "netsuite",
    }
}

pub(crate) async fn sandbox(
    hub: &Hub,
    path: &str,
    body: &Value,
) -> reqwest::Result<reqwest::Response> {
    hub.http.post(hub.url(path)).json(body).send().await
}

async fn redirect_to(
    hub: &Hub,
    slug: &str,
    challenge: &str,
    otp: &str,
) -> reqwest::Result<reqwest::Response> {
    let body = json!({"challenge": challenge, "otp": otp});
    sandbox(hub, &format!("/sandbox/{slug}/api/link/redirect"), &body).await
}

/// The FI's side after its own login: connection, accounts, OTP.
pub(crate) async fn fi_login(
    hub: &Hub,
    bank: &Creds,
    platform: &str,
) -> (String, Vec<String>, String) {
    let (_, token) = hub.connection(bank, platform).await;
    let mut accounts = Vec::new();
    for (id, kind) in [("CHK-1", "bank"), ("CARD-1", "credit_card")] {
        let body = json!({"bank_feed_account": {"internal_bank_account_id": id, "bank_account_type": kind, "currency_code": "USD"}});
        let a = ok(hub
            .post(
                bank,
                &format!("/versioned/accounting/bank_feeds/accounts?access_token={token}"),
                &body,
            )
            .send()
            .await)
        .await;
        accounts.push(a["bank_feed_account"]["id"].as_str().unwrap().to_owned());
    }
    let otp = ok(hub
        .post(
            bank,
            &format!("/versioned/accounting/bank_feeds/otp?access_token={token}"),
            &json!({}),
        )
        .send()
        .await)
    .await;
    (
        token,
        accounts,
        otp["bank_feed_otp"]["otp"].as_str().unwrap().to_owned(),
    )
}

pub(crate) async fn list_bank(hub: &Hub, bank: &Creds, platform: &str) {
    let config = json!({"display_name": "Demo Bank", "login_url": "https://bank.example/login?lang=en", "country_code": "US"});
    ok(hub
        .http
        .put(hub.url(&format!("/versioned/bank_feeds/configs/{platform}")))
        .basic_auth(&bank.client_id, Some(&bank.client_secret))
        .json(&config)
        .send()
        .await)
    .await;
}

async fn every_platform_links_end_to_end(hub: Hub) {
    for platform in [
        "INTUIT_BANK_FEEDS",
        "XERO",
        "SAGE_INTACCT",
        "SAGE_BUSINESS_CLOUD",
        "NETSUITE",
    ] {
        let s = slug(platform);
        let bank = hub.org("Demo Bank").await;
        list_bank(&hub, &bank, platform).await;

        let banks = ok(hub
            .http
            .get(hub.url(&format!("/sandbox/{s}/api/banks")))
            .send()
            .await)
        .await;
        assert!(
            banks["banks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b["org_id"] == bank.org.id.to_string()),
            "{platform}: listed"
        );
        let company = ok(sandbox(
            &hub,
            &format!("/sandbox/{s}/api/companies"),
            &json!({"name": "Acme Ltd"}),
        )
        .await)
        .await;
        let company_id = company["company"]["id"].as_str().unwrap().to_owned();
        let connect = ok(sandbox(
            &hub,
            &format!("/sandbox/{s}/api/companies/{company_id}/connect"),
            &json!({"org_id": bank.org.id}),
        )
        .await)
        .await;
        let challenge = connect["challenge"].as_str().unwrap().to_owned();
        let login: url::Url = connect["login_redirect_url"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(login.path(), "/login");
        let redirect_uri = login
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .unwrap()
            .1
            .into_owned();
        assert!(
            login.query_pairs().any(|(k, v)| k == "lang" && v == "en"),
            "the FI's own query survives"
        );
        assert_eq!(
            redirect_uri,
            format!("{}/link/{s}/redirect?challenge={challenge}", hub.base)
        );

        let (token, accounts, otp) = fi_login(&hub, &bank, platform).await;
        let bound = ok(sandbox(
            &hub,
            &format!("/sandbox/{s}/api/link/redirect"),
            &json!({"challenge": challenge, "otp": otp}),
        )
        .await)
        .await;
        let offered: Vec<_> = bound["bank_feed_accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            offered, accounts,
            "{platform}: the connection's accounts are offered"
        );

        let start = SystemClock.now() - TimeDelta::days(30);
        let done = ok(sandbox(
            &hub,
            &format!("/sandbox/{s}/api/link/complete"),
            &json!({"challenge": challenge, "bank_feed_account_ids": [accounts[0]], "start_date": start.to_rfc3339()}),
        )
        .await)
        .await;
        let feed = &done["bank_feed_accounts"][0];
        assert_eq!(
            (
                feed["feed_status"].as_str(),
                feed["transaction_ready"].as_bool()
            ),
            (Some("active"), Some(true))
        );
        let feeds = ok(hub
            .http
            .get(hub.url(&format!("/sandbox/{s}/api/companies/{company_id}/feeds")))
            .send()
            .await)
        .await;
        assert_eq!(
            feeds["bank_feed_accounts"].as_array().unwrap().len(),
            1,
            "{platform}: only the chosen feed"
        );

        // The FI sees the feed active and can push to it; the unchosen account stays inactive.
        let a = ok(hub
            .get(
                &bank,
                &format!(
                    "/versioned/accounting/bank_feeds/accounts/{}?access_token={token}",
                    accounts[0]
                ),
            )
            .send()
            .await)
        .await;
        assert_eq!(a["bank_feed_account"]["feed_status"], "active");
        let b = ok(hub
            .get(
                &bank,
                &format!(
                    "/versioned/accounting/bank_feeds/accounts/{}?access_token={token}",
                    accounts[1]
                ),
            )
            .send()
            .await)
        .await;
        assert_eq!(b["bank_feed_account"]["feed_status"], "inactive");
        let posted =
            (SystemClock.now() - TimeDelta::days(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
        let batch = json!({"bank_feed_transactions": {"bank_feed_account_id": accounts[0], "transactions": [
            {"transaction_id": "T1", "posted_at": posted, "amount": -10}]}});
        ok(hub
            .post(
                &bank,
                &format!("/versioned/accounting/bank_feeds/transactions?access_token={token}"),
                &batch,
            )
            .send()
            .await)
        .await;

        // The challenge is spent.
        err(
            sandbox(
                &hub,
                &format!("/sandbox/{s}/api/link/complete"),
                &json!({"challenge": challenge, "bank_feed_account_ids": [accounts[1]]}),
            )
            .await,
            400,
            "LINK_NOT_IN_PROGRESS",
        )
        .await;
    }
}

async fn refused_redirects_change_nothing(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let other = hub.org("Other Bank").await;
    list_bank(&hub, &bank, "XERO").await;
    list_bank(&hub, &other, "XERO").await;
    let company = ok(sandbox(
        &hub,
        "/sandbox/xero/api/companies",
        &json!({"name": "Acme Ltd"}),
    )
    .await)
    .await;
    let company_id = company["company"]["id"].as_str().unwrap().to_owned();
    let connect = ok(sandbox(
        &hub,
        &format!("/sandbox/xero/api/companies/{company_id}/connect"),
        &json!({"org_id": bank.org.id}),
    )
    .await)
    .await;
    let challenge = connect["challenge"].as_str().unwrap().to_owned();
    let (_, _, otp) = fi_login(&hub, &bank, "XERO").await;
    let (_, _, foreign_otp) = fi_login(&hub, &other, "XERO").await;
    let redirect = |c: &str, o: &str| {
        let (c, o) = (c.to_owned(), o.to_owned());
        let hub = &hub;
        async move { redirect_to(hub, "xero", &c, &o).await }
    };

    err(
        redirect("bfch_unknown", &otp).await,
        400,
        "UNKNOWN_CHALLENGE",
    )
    .await;
    err(
        redirect(&challenge, "bfotp_wrong").await,
        400,
        "UNKNOWN_OTP",
    )
    .await;
    err(
        redirect(&challenge, &foreign_otp).await,
        400,
        "OTP_FROM_ANOTHER_FI",
    )
    .await;
    err(
        redirect_to(&hub, "intuit", &challenge, &otp).await,
        400,
        "CHALLENGE_PLATFORM_MISMATCH",
    )
    .await;
    // None of that used up the challenge or the OTP.
    ok(redirect(&challenge, &otp).await).await;
    err(
        redirect(&challenge, &otp).await,
        400,
        "CHALLENGE_ALREADY_USED",
    )
    .await;

    // A second challenge with the spent OTP.
    let again = ok(sandbox(
        &hub,
        &format!("/sandbox/xero/api/companies/{company_id}/connect"),
        &json!({"org_id": bank.org.id}),
    )
    .await)
    .await;
    err(
        redirect(again["challenge"].as_str().unwrap(), &otp).await,
        400,
        "OTP_ALREADY_USED",
    )
    .await;
    // A bank not listed on the platform, an unknown company.
    err(
        sandbox(
            &hub,
            &format!("/sandbox/netsuite/api/companies/{company_id}/connect"),
            &json!({"org_id": bank.org.id}),
        )
        .await,
        410,
        "COMPANY_NOT_FOUND",
    )
    .await;
    let unlisted = hub.org("Unlisted Bank").await;
    err(
        sandbox(
            &hub,
            &format!("/sandbox/xero/api/companies/{company_id}/connect"),
            &json!({"org_id": unlisted.org.id}),
        )
        .await,
        400,
        "BANK_NOT_LISTED",
    )
    .await;
    err(
        sandbox(
            &hub,
            "/sandbox/xero/api/link/complete",
            &json!({"challenge": challenge, "bank_feed_account_ids": []}),
        )
        .await,
        400,
        "NO_ACCOUNTS_SELECTED",
    )
    .await;
}

/// Challenge and OTP expiry on every platform, with the hub's clock moved by the test.
async fn expiry_on_every_platform(hub: Hub, clock: std::sync::Arc<bankfeeds_domain::ManualClock>) {
    for platform in [
        "INTUIT_BANK_FEEDS",
        "XERO",
        "SAGE_INTACCT",
        "SAGE_BUSINESS_CLOUD",
        "NETSUITE",
    ] {
        let s = slug(platform);
        let bank = hub.org(platform).await;
        list_bank(&hub, &bank, platform).await;
        let company = ok(sandbox(
            &hub,
            &format!("/sandbox/{s}/api/companies"),
            &json!({"name": "Acme Ltd"}),
        )
        .await)
        .await;
        let company_id = company["company"]["id"].as_str().unwrap().to_owned();
        let challenge = || {
            let hub = &hub;
            let company_id = &company_id;
            let bank = &bank;
            async move {
                let c = ok(sandbox(
                    hub,
                    &format!("/sandbox/{s}/api/companies/{company_id}/connect"),
                    &json!({"org_id": bank.org.id}),
                )
                .await)
                .await;
                c["challenge"].as_str().unwrap().to_owned()
            }
        };
        let (_, _, otp) = fi_login(&hub, &bank, platform).await;

        // A challenge is good for ten minutes.
        let stale = challenge().await;
        clock.advance(TimeDelta::minutes(10));
        err(
            redirect_to(&hub, s, &stale, &otp).await,
            400,
            "CHALLENGE_EXPIRED",
        )
        .await;
        // The OTP was not used up by that refusal: a fresh challenge takes it.
        // ... even 59 minutes after it was issued.
        clock.advance(TimeDelta::minutes(49));
        let fresh = challenge().await;
        ok(redirect_to(&hub, s, &fresh, &otp).await).await;

        // An OTP is good for an hour.
        let (_, _, late) = fi_login(&hub, &bank, platform).await;
        clock.advance(TimeDelta::minutes(60));
        let c = challenge().await;
        err(redirect_to(&hub, s, &c, &late).await, 400, "OTP_EXPIRED").await;
        let bound = hub
            .store
            .get_challenge(&bankfeeds_domain::Secret::from_presented(c).hash())
            .await
            .unwrap()
            .unwrap();
        assert!(bound.bound_at.is_none(), "{platform}: nothing bound");
    }
}

mod with_clock {
    use crate::helpers::Hub;

    #[tokio::test]
    async fn expiry_on_sqlite() {
        let db = bankfeeds_store_tests::backends::sqlite("link_expiry")
            .await
            .unwrap();
        let (hub, clock) = Hub::start_with_clock(db).await;
        super::expiry_on_every_platform(hub, clock).await;
    }

    #[tokio::test]
    async fn expiry_on_postgres() {
        let Some(db) = bankfeeds_store_tests::backends::postgres("link_expiry").await else {
            return;
        };
        let (hub, clock) = Hub::start_with_clock(db).await;
        super::expiry_on_every_platform(hub, clock).await;
    }
}
