//! The FI's bank feeds configuration and link OTPs through the real router.

use bankfeeds_domain::{Clock, Secret, SystemClock};
use serde_json::json;

use crate::helpers::{err, ok, Creds, Hub};

crate::on_both_backends!(
    fi_configs_are_per_organisation_and_platform,
    otps_are_single_use_and_replace_each_other
);

const CONFIGS: &str = "/versioned/bank_feeds/configs";

async fn fi_configs_are_per_organisation_and_platform(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let other = hub.org("Other Bank").await;
    let put = |creds: &Creds, platform: &str, body: serde_json::Value| {
        hub.http
            .put(hub.url(&format!("{CONFIGS}/{platform}")))
            .basic_auth(&creds.client_id, Some(&creds.client_secret))
            .json(&body)
            .send()
    };
    let body = json!({"display_name": "Demo Bank", "login_url": "https://bank.example/login", "country_code": "us",
                      "logo_url": "https://bank.example/logo.png", "otp_instructions": "Sign in with your online banking details."});
    let stored = ok(put(&bank, "INTUIT_BANK_FEEDS", body.clone()).await).await;
    let c = &stored["bank_feeds_config"];
    assert_eq!(
        (c["platform"].as_str(), c["country_code"].as_str()),
        (Some("INTUIT_BANK_FEEDS"), Some("US"))
    );
    let created_at = c["created_at"].clone();
    let mut renamed = body.clone();
    renamed["display_name"] = json!("Demo Bank (Business)");
    let replaced = ok(put(&bank, "INTUIT_BANK_FEEDS", renamed).await).await;
    assert_eq!(
        replaced["bank_feeds_config"]["display_name"],
        "Demo Bank (Business)"
    );
    assert_eq!(replaced["bank_feeds_config"]["created_at"], created_at);
    ok(put(&bank, "XERO", body.clone()).await).await;
    ok(put(&other, "XERO", body.clone()).await).await;

    let list = ok(hub.get(&bank, CONFIGS).send().await).await;
    let platforms: Vec<_> = list["bank_feeds_configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["platform"].clone())
        .collect();
    assert_eq!(platforms, [json!("INTUIT_BANK_FEEDS"), json!("XERO")]);
    let banks = hub
        .store
        .list_fis_for_platform(bankfeeds_domain::Platform::Xero)
        .await
        .unwrap();
    assert_eq!(
        banks.len(),
        2,
        "both organisations are listed in Xero's bank list"
    );

    let bad = |field: &str, value: serde_json::Value| {
        let mut b = body.clone();
        b[field] = value;
        b
    };
    err(
        put(
            &bank,
            "XERO",
            bad("login_url", json!("javascript:alert(1)")),
        )
        .await,
        400,
        "INVALID_URL",
    )
    .await;
    err(
        put(&bank, "XERO", bad("logo_url", json!("ftp://x"))).await,
        400,
        "INVALID_URL",
    )
    .await;
    err(
        put(&bank, "XERO", bad("country_code", json!("ZZ"))).await,
        400,
        "INVALID_COUNTRY_CODE",
    )
    .await;
    err(
        put(&bank, "XERO", bad("display_name", json!(""))).await,
        400,
        "FIELD_TOO_LONG",
    )
    .await;
    err(
        put(&bank, "XERO", bad("login_url", json!(null))).await,
        400,
        "INVALID_FIELD_TYPE",
    )
    .await;
    err(
        put(&bank, "QUICKBOOKS", body.clone()).await,
        400,
        "INVALID_ENUM_VALUE",
    )
    .await;
    let unchanged = ok(hub.get(&bank, &format!("{CONFIGS}/XERO")).send().await).await;
    assert_eq!(
        unchanged["bank_feeds_config"]["login_url"],
        "https://bank.example/login"
    );

    ok(hub.delete(&bank, &format!("{CONFIGS}/XERO")).send().await).await;
    err(
        hub.get(&bank, &format!("{CONFIGS}/XERO")).send().await,
        410,
        "CONFIG_NOT_FOUND",
    )
    .await;
    err(
        hub.delete(&bank, &format!("{CONFIGS}/XERO")).send().await,
        410,
        "CONFIG_NOT_FOUND",
    )
    .await;
    ok(hub.get(&other, &format!("{CONFIGS}/XERO")).send().await).await;
}

async fn otps_are_single_use_and_replace_each_other(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (connection, token) = hub.connection(&bank, "SAGE_INTACCT").await;
    let url = format!("/versioned/accounting/bank_feeds/otp?access_token={token}");
    let first = ok(hub.post(&bank, &url, &json!({})).send().await).await;
    let otp = &first["bank_feed_otp"];
    let first_otp = otp["otp"].as_str().unwrap().to_owned();
    assert!(first_otp.starts_with("bfotp_"));
    assert_eq!(
        otp["redirect_uri"],
        format!("{}/link/sage-intacct/redirect", hub.base)
    );
    let expires: chrono::DateTime<chrono::Utc> =
        otp["expires_at"].as_str().unwrap().parse().unwrap();
    let ttl = expires - SystemClock.now();
    assert!(
        ttl > chrono::TimeDelta::minutes(59) && ttl <= chrono::TimeDelta::hours(1),
        "valid for an hour"
    );

    // A new OTP cancels the first; the new one works once.
    let second = ok(hub
        .http
        .post(hub.url(&url))
        .basic_auth(&bank.client_id, Some(&bank.client_secret))
        .send()
        .await)
    .await;
    let second_otp = second["bank_feed_otp"]["otp"].as_str().unwrap().to_owned();
    let now = SystemClock.now();
    let first_use = hub
        .store
        .consume_otp(&Secret::from_presented(first_otp).hash(), now)
        .await
        .unwrap();
    assert_eq!(
        first_use,
        Err(bankfeeds_domain::otp::OtpRefusal::Superseded)
    );
    let used = hub
        .store
        .consume_otp(&Secret::from_presented(second_otp.clone()).hash(), now)
        .await
        .unwrap();
    assert_eq!(used.unwrap().1.to_string(), connection);
    let again = hub
        .store
        .consume_otp(&Secret::from_presented(second_otp).hash(), now)
        .await
        .unwrap();
    assert_eq!(again, Err(bankfeeds_domain::otp::OtpRefusal::AlreadyUsed));

    // Another organisation cannot issue OTPs for this connection.
    let other = hub.org("Other Bank").await;
    err(
        hub.post(&other, &url, &json!({})).send().await,
        401,
        "INVALID_ACCESS_TOKEN",
    )
    .await;
    err(
        hub.post(&bank, "/versioned/accounting/bank_feeds/otp", &json!({}))
            .send()
            .await,
        400,
        "MISSING_ACCESS_TOKEN",
    )
    .await;
}
