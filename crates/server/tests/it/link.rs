//! The FI's bank feeds configuration and link OTPs through the real router.

use bankfeeds_domain::otp::OtpRefusal;
use bankfeeds_domain::{Clock, Secret, SystemClock};
use serde_json::json;

use crate::helpers::{err_in, items, ok, refusals, with_token, Creds, Hub, OTP};

crate::on_both_backends!(
    fi_configs_are_per_organisation_and_platform,
    otps_are_single_use_and_replace_each_other
);

const CONFIGS: &str = "/versioned/bank_feeds/configs";

async fn fi_configs_are_per_organisation_and_platform(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let other = hub.org("Other Bank").await;
    let put = |creds: &Creds, platform: &str, body: serde_json::Value| {
        hub.put(creds, &format!("{CONFIGS}/{platform}"), &body)
            .send()
    };
    let body = json!({"display_name": "Demo Bank", "login_url": "https://bank.example/login", "country_code": "US",
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

    let list = hub.get_ok(&bank, CONFIGS).await;
    let platforms: Vec<_> = items(&list["bank_feeds_configs"])
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
    let refused = [
        (
            "XERO",
            bad("login_url", json!("javascript:alert(1)")),
            "INVALID_URL",
        ),
        ("XERO", bad("logo_url", json!("ftp://x")), "INVALID_URL"),
        (
            "XERO",
            bad("country_code", json!("ZZ")),
            "INVALID_COUNTRY_CODE",
        ),
        // An empty name is empty, not too long (issue 12 item 13).
        ("XERO", bad("display_name", json!("")), "EMPTY_FIELD"),
        (
            "XERO",
            bad("display_name", json!("x".repeat(101))),
            "FIELD_TOO_LONG",
        ),
        ("XERO", bad("login_url", json!(null)), "INVALID_FIELD_TYPE"),
        // Codes as ISO 3166 writes them, as the document's enum lists them.
        (
            "XERO",
            bad("country_code", json!("us")),
            "INVALID_COUNTRY_CODE",
        ),
        ("QUICKBOOKS", body.clone(), "INVALID_ENUM_VALUE"),
    ];
    for (platform, config, code) in refused {
        let case = format!("{platform} {config}");
        err_in(&case, put(&bank, platform, config).await, 400, code).await;
    }
    let unchanged = hub.get_ok(&bank, &format!("{CONFIGS}/XERO")).await;
    assert_eq!(
        unchanged["bank_feeds_config"]["login_url"],
        "https://bank.example/login"
    );

    ok(hub.delete(&bank, &format!("{CONFIGS}/XERO")).send().await).await;
    let xero = format!("{CONFIGS}/XERO");
    refusals(
        &hub.http,
        [
            (hub.get(&bank, &xero), 410, "CONFIG_NOT_FOUND"),
            (hub.delete(&bank, &xero), 410, "CONFIG_NOT_FOUND"),
        ],
    )
    .await;
    hub.get_ok(&other, &format!("{CONFIGS}/XERO")).await;
}

async fn otps_are_single_use_and_replace_each_other(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (connection, token) = hub.connection(&bank, "SAGE_INTACCT").await;
    let url = with_token(OTP, &token);
    let first = hub.post_ok(&bank, &url, &json!({})).await;
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
    let store = &hub.store;
    let consume = |otp: String| async move {
        let hash = Secret::from_presented(otp).hash();
        store.consume_otp(&hash, now).await.unwrap()
    };
    assert_eq!(consume(first_otp).await, Err(OtpRefusal::Superseded));
    let used = consume(second_otp.clone()).await;
    assert_eq!(used.unwrap().1.to_string(), connection);
    assert_eq!(consume(second_otp).await, Err(OtpRefusal::AlreadyUsed));

    // Another organisation cannot issue OTPs for this connection.
    let other = hub.org("Other Bank").await;
    refusals(
        &hub.http,
        [
            (
                hub.post(&other, &url, &json!({})),
                401,
                "INVALID_ACCESS_TOKEN",
            ),
            (
                hub.post(&bank, OTP, &json!({})),
                400,
                "MISSING_ACCESS_TOKEN",
            ),
        ],
    )
    .await;
}
