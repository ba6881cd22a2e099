//! The link flow end to end through the sandbox platforms' JSON interface, for each platform:
//! the FI is listed, a company connects, the FI's login hands back an OTP, the customer picks
//! feeds, and the feeds take transactions.

use bankfeeds_domain::{Clock, SystemClock};
use chrono::{SecondsFormat, TimeDelta};
use serde_json::json;

use crate::helpers::{err, err_in, items, ok, with_token, Creds, Hub, Sandbox, TRANSACTIONS};

crate::on_both_backends!(
    every_platform_links_end_to_end,
    refused_redirects_change_nothing
);
crate::on_both_backends!(with_clock: expiry_on_every_platform);

pub(crate) const PLATFORMS: [&str; 5] = [
    "INTUIT_BANK_FEEDS",
    "XERO",
    "SAGE_INTACCT",
    "SAGE_BUSINESS_CLOUD",
    "NETSUITE",
];

/// The FI's side after its own login: connection, accounts, OTP.
pub(crate) async fn fi_login(
    hub: &Hub,
    bank: &Creds,
    platform: &str,
) -> (String, Vec<String>, String) {
    let (_, token) = hub.connection(bank, platform).await;
    let mut accounts = Vec::new();
    for (id, kind) in [("CHK-1", "bank"), ("CARD-1", "credit_card")] {
        let fields = json!({"internal_bank_account_id": id, "bank_account_type": kind, "currency_code": "USD"});
        let a = hub.create_account(bank, &token, fields).await;
        accounts.push(a["id"].as_str().unwrap().to_owned());
    }
    let otp = hub.otp(bank, &token).await;
    (token, accounts, otp)
}

/// Lists the FI on `platform`, its login page carrying a query of its own.
pub(crate) async fn list_bank(hub: &Hub, bank: &Creds, platform: &str) {
    hub.list_bank(bank, platform, "https://bank.example/login?lang=en", "US")
        .await;
}

async fn every_platform_links_end_to_end(hub: Hub) {
    for platform in PLATFORMS {
        let sandbox = Sandbox::of(&hub, platform);
        let s = sandbox.slug;
        let bank = hub.org("Demo Bank").await;
        list_bank(&hub, &bank, platform).await;

        let banks = sandbox.get("/banks").await;
        assert!(
            items(&banks["banks"])
                .iter()
                .any(|b| b["org_id"] == bank.org.id.to_string()),
            "{platform}: listed"
        );
        let company_id = sandbox.company("Acme Ltd").await;
        let connect = sandbox.connect(&company_id, &bank).await;
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
        // Seed 003: "my-website.com/login?challenge=f0208784-…&redirect_uri=https://link.rutterapi.com/sage_redirect?challenge=f0208784-…"
        assert!(
            login
                .query_pairs()
                .any(|(k, v)| k == "challenge" && v == challenge.as_str()),
            "{platform}: the challenge is also a parameter of its own"
        );
        assert_eq!(
            redirect_uri,
            format!("{}/link/{s}/redirect?challenge={challenge}", hub.base)
        );

        let (token, accounts, otp) = fi_login(&hub, &bank, platform).await;
        let bound = ok(sandbox.redirect(&challenge, &otp).await).await;
        let offered: Vec<_> = items(&bound["bank_feed_accounts"])
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            offered, accounts,
            "{platform}: the connection's accounts are offered"
        );

        let start = SystemClock.now() - TimeDelta::days(30);
        let done = ok(sandbox
            .post(
                "/link/complete",
                json!({"challenge": challenge, "bank_feed_account_ids": [accounts[0]], "start_date": start.to_rfc3339()}),
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
        let feeds = sandbox.get(&format!("/companies/{company_id}/feeds")).await;
        assert_eq!(
            feeds["bank_feed_accounts"].as_array().unwrap().len(),
            1,
            "{platform}: only the chosen feed"
        );

        // The FI sees the feed active and can push to it; the unchosen account stays inactive.
        let chosen = hub.account(&bank, &token, &accounts[0]).await;
        assert_eq!(chosen["feed_status"], "active");
        let unchosen = hub.account(&bank, &token, &accounts[1]).await;
        assert_eq!(unchosen["feed_status"], "inactive");
        let posted =
            (SystemClock.now() - TimeDelta::days(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
        let batch = json!({"bank_feed_transactions": {"bank_feed_account_id": accounts[0], "transactions": [
            {"transaction_id": "T1", "posted_at": posted, "amount": -10}]}});
        hub.post_ok(&bank, &with_token(TRANSACTIONS, &token), &batch)
            .await;

        // The challenge is spent.
        err(
            sandbox
                .post(
                    "/link/complete",
                    json!({"challenge": challenge, "bank_feed_account_ids": [accounts[1]]}),
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
    let xero = Sandbox::of(&hub, "XERO");
    let company_id = xero.company("Acme Ltd").await;
    let challenge = xero.challenge(&company_id, &bank).await;
    let (_, _, otp) = fi_login(&hub, &bank, "XERO").await;
    let (_, _, foreign_otp) = fi_login(&hub, &other, "XERO").await;

    let refusals = [
        (
            "an unknown challenge",
            "bfch_unknown",
            otp.as_str(),
            "UNKNOWN_CHALLENGE",
        ),
        (
            "a wrong OTP",
            challenge.as_str(),
            "bfotp_wrong",
            "UNKNOWN_OTP",
        ),
        (
            "another FI's OTP",
            challenge.as_str(),
            foreign_otp.as_str(),
            "OTP_FROM_ANOTHER_FI",
        ),
    ];
    for (case, c, o, code) in refusals {
        err_in(case, xero.redirect(c, o).await, 400, code).await;
    }
    err(
        Sandbox::of(&hub, "INTUIT_BANK_FEEDS")
            .redirect(&challenge, &otp)
            .await,
        400,
        "CHALLENGE_PLATFORM_MISMATCH",
    )
    .await;
    // None of that used up the challenge or the OTP.
    ok(xero.redirect(&challenge, &otp).await).await;
    err(
        xero.redirect(&challenge, &otp).await,
        400,
        "CHALLENGE_ALREADY_USED",
    )
    .await;

    // A second challenge with the spent OTP.
    let again = xero.challenge(&company_id, &bank).await;
    err(xero.redirect(&again, &otp).await, 400, "OTP_ALREADY_USED").await;
    // A bank not listed on the platform, an unknown company.
    let connect = format!("/companies/{company_id}/connect");
    err(
        Sandbox::of(&hub, "NETSUITE")
            .post(&connect, json!({"org_id": bank.org.id}))
            .await,
        410,
        "COMPANY_NOT_FOUND",
    )
    .await;
    let unlisted = hub.org("Unlisted Bank").await;
    err(
        xero.post(&connect, json!({"org_id": unlisted.org.id}))
            .await,
        400,
        "BANK_NOT_LISTED",
    )
    .await;
    err(
        xero.post(
            "/link/complete",
            json!({"challenge": challenge, "bank_feed_account_ids": []}),
        )
        .await,
        400,
        "NO_ACCOUNTS_SELECTED",
    )
    .await;
}

/// Challenge and OTP expiry on every platform, with the hub's clock moved by the test.
async fn expiry_on_every_platform(hub: Hub, clock: std::sync::Arc<bankfeeds_domain::ManualClock>) {
    for platform in PLATFORMS {
        let sandbox = Sandbox::of(&hub, platform);
        let bank = hub.org(platform).await;
        list_bank(&hub, &bank, platform).await;
        let company_id = sandbox.company("Acme Ltd").await;
        let (_, _, otp) = fi_login(&hub, &bank, platform).await;

        // A challenge is good for ten minutes.
        let stale = sandbox.challenge(&company_id, &bank).await;
        clock.advance(TimeDelta::minutes(10));
        err(
            sandbox.redirect(&stale, &otp).await,
            400,
            "CHALLENGE_EXPIRED",
        )
        .await;
        // The OTP was not used up by that refusal: a fresh challenge takes it.
        // ... even 59 minutes after it was issued.
        clock.advance(TimeDelta::minutes(49));
        let fresh = sandbox.challenge(&company_id, &bank).await;
        ok(sandbox.redirect(&fresh, &otp).await).await;

        // An OTP is good for an hour.
        let (_, _, late) = fi_login(&hub, &bank, platform).await;
        clock.advance(TimeDelta::minutes(60));
        let c = sandbox.challenge(&company_id, &bank).await;
        err(sandbox.redirect(&c, &late).await, 400, "OTP_EXPIRED").await;
        let bound = hub
            .store
            .get_challenge(&bankfeeds_domain::Secret::from_presented(c).hash())
            .await
            .unwrap()
            .unwrap();
        assert!(bound.bound_at.is_none(), "{platform}: nothing bound");
    }
}
