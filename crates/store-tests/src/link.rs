//! Link-flow cases: FI configurations and one-time passwords.

use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::otp::{NewOtp, OtpRefusal, OTP_TTL};
use bankfeeds_domain::{
    Clock, Connection, NewConnection, NewOrg, OrgId, Platform, Secret, SystemClock, Timestamp,
};
use bankfeeds_store::{DynStore, StoreError};
use chrono::TimeDelta;
use tokio::task::JoinSet;

async fn org(store: &DynStore, name: &str) -> OrgId {
    let (new, _) = NewOrg::generate(name, SystemClock.now()).unwrap();
    store.create_org(&new).await.unwrap();
    new.org.id
}

async fn connection(store: &DynStore, org: OrgId) -> Connection {
    let (c, _) = NewConnection::generate(org, Platform::Xero, None, SystemClock.now()).unwrap();
    store.create_connection(&c, None).await.unwrap();
    c.connection
}

fn config(org: OrgId, platform: Platform, display_name: &str, now: Timestamp) -> FiConfig {
    FiConfig {
        org_id: org,
        platform,
        display_name: display_name.to_owned(),
        logo_url: Some("https://bank.example/logo.png".into()),
        country_code: "US".into(),
        login_url: "https://bank.example/login".into(),
        otp_instructions: None,
        created_at: now,
        updated_at: now,
    }
}

fn secs(n: i64) -> TimeDelta {
    TimeDelta::seconds(n)
}

pub async fn fi_configs_round_trip_and_replace(store: DynStore) {
    let now = SystemClock.now();
    let a = org(&store, "Bank A").await;
    let b = org(&store, "Bank B").await;
    let c = org(&store, "Bank C").await;

    // Put, in an order that is not the platforms' order.
    let mut a_configs = Vec::new();
    for (platform, name) in [
        (Platform::Xero, "Middle Bank"),
        (Platform::Netsuite, "Middle Bank NetSuite"),
        (Platform::IntuitBankFeeds, "Middle Bank QBO"),
    ] {
        let put = config(a, platform, name, now);
        let stored = store.put_fi_config(&put).await.unwrap();
        assert_eq!(
            stored, put,
            "every field must survive the round trip exactly"
        );
        assert_eq!(
            store.get_fi_config(a, platform).await.unwrap(),
            Some(put.clone())
        );
        a_configs.push(put);
    }
    assert_eq!(
        store.get_fi_config(a, Platform::SageIntacct).await.unwrap(),
        None
    );
    assert_eq!(store.get_fi_config(b, Platform::Xero).await.unwrap(), None);
    let listed = store.list_fi_configs(a).await.unwrap();
    let platforms: Vec<_> = listed.iter().map(|c| c.platform).collect();
    assert_eq!(
        platforms,
        [
            Platform::IntuitBankFeeds,
            Platform::Netsuite,
            Platform::Xero
        ],
        "listed by platform name"
    );
    assert!(store.list_fi_configs(b).await.unwrap().is_empty());

    // Putting again replaces every field but keeps `created_at`.
    let mut replacement = config(a, Platform::Xero, "Zenith Bank", now + secs(60));
    replacement.logo_url = None;
    replacement.country_code = "GB".into();
    replacement.login_url = "https://zenith.example/sign-in".into();
    replacement.otp_instructions = Some("Ask for a code under Settings > Apps.".into());
    let stored = store.put_fi_config(&replacement).await.unwrap();
    let expected = FiConfig {
        created_at: now,
        ..replacement.clone()
    };
    assert_eq!(stored, expected);
    assert_eq!(
        store.get_fi_config(a, Platform::Xero).await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(store.list_fi_configs(a).await.unwrap().len(), 3);
    // Clearing an optional field on replace clears it.
    let mut cleared = replacement.clone();
    cleared.otp_instructions = None;
    cleared.updated_at = now + secs(61);
    let stored = store.put_fi_config(&cleared).await.unwrap();
    assert_eq!(stored.otp_instructions, None);
    assert_eq!(stored.created_at, now);
    assert_eq!(stored.updated_at, now + secs(61));

    // A platform's list of banks: every organisation's, by display name, only that platform's.
    let b_xero = config(b, Platform::Xero, "Alpha Credit Union", now);
    let c_xero = config(c, Platform::Xero, "Mid Bank", now);
    let b_qbo = config(b, Platform::IntuitBankFeeds, "Alpha QBO", now);
    for put in [&b_xero, &c_xero, &b_qbo] {
        store.put_fi_config(put).await.unwrap();
    }
    let xero = store.list_fis_for_platform(Platform::Xero).await.unwrap();
    let names: Vec<_> = xero.iter().map(|c| c.display_name.as_str()).collect();
    assert_eq!(names, ["Alpha Credit Union", "Mid Bank", "Zenith Bank"]);
    assert!(xero.iter().all(|c| c.platform == Platform::Xero));
    assert_eq!(xero[0], b_xero);
    let qbo = store
        .list_fis_for_platform(Platform::IntuitBankFeeds)
        .await
        .unwrap();
    let names: Vec<_> = qbo.iter().map(|c| c.display_name.as_str()).collect();
    assert_eq!(names, ["Alpha QBO", "Middle Bank QBO"]);
    assert!(store
        .list_fis_for_platform(Platform::SageBusinessCloud)
        .await
        .unwrap()
        .is_empty());

    // Delete: gone once, then NotFound; nothing else touched.
    store.delete_fi_config(a, Platform::Xero).await.unwrap();
    assert_eq!(store.get_fi_config(a, Platform::Xero).await.unwrap(), None);
    assert!(matches!(
        store.delete_fi_config(a, Platform::Xero).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_fi_config(c, Platform::Netsuite).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.get_fi_config(b, Platform::Xero).await.unwrap(),
        Some(b_xero.clone())
    );
    assert_eq!(
        store.list_fi_configs(a).await.unwrap(),
        vec![a_configs[2].clone(), a_configs[1].clone()]
    );
    let names: Vec<_> = store
        .list_fis_for_platform(Platform::Xero)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.display_name)
        .collect();
    assert_eq!(names, ["Alpha Credit Union", "Mid Bank"]);
}

async fn issue(store: &DynStore, connection: &Connection, now: Timestamp) -> (NewOtp, Secret) {
    let (otp, secret) = NewOtp::generate(connection, now);
    assert_eq!(otp.expires_at, now + OTP_TTL);
    store.issue_otp(&otp).await.unwrap();
    (otp, secret)
}

pub async fn otps_are_single_use_and_expire(store: DynStore) {
    let now = SystemClock.now();
    let o = org(&store, "Demo Bank").await;
    let c1 = connection(&store, o).await;
    let c2 = connection(&store, o).await;
    let consume = |secret: &Secret, at: Timestamp| {
        let (store, hash) = (store.clone(), secret.hash());
        async move { store.consume_otp(&hash, at).await.unwrap() }
    };

    // Single use.
    let (_, first) = issue(&store, &c1, now).await;
    assert_eq!(consume(&first, now + secs(1)).await, Ok((o, c1.id)));
    assert_eq!(
        consume(&first, now + secs(2)).await,
        Err(OtpRefusal::AlreadyUsed)
    );
    let unknown = Secret::from_presented("bfotp_unknown");
    assert_eq!(consume(&unknown, now).await, Err(OtpRefusal::Unknown));

    // Expiry: refused at `expires_at` exactly (and after), accepted one microsecond before.
    // The refusals change nothing: the OTP is still usable afterwards.
    let (otp, expiring) = issue(&store, &c1, now).await;
    assert_eq!(
        consume(&expiring, otp.expires_at + secs(60)).await,
        Err(OtpRefusal::Expired)
    );
    assert_eq!(
        consume(&expiring, otp.expires_at).await,
        Err(OtpRefusal::Expired)
    );
    let just_before = otp.expires_at - TimeDelta::microseconds(1);
    assert_eq!(consume(&expiring, just_before).await, Ok((o, c1.id)));
    assert_eq!(
        consume(&expiring, just_before).await,
        Err(OtpRefusal::AlreadyUsed)
    );

    // A new OTP supersedes the connection's unused one; the new one works.
    let (_, older) = issue(&store, &c1, now).await;
    let (_, newer) = issue(&store, &c1, now + secs(1)).await;
    assert_eq!(
        consume(&older, now + secs(2)).await,
        Err(OtpRefusal::Superseded)
    );
    assert_eq!(consume(&newer, now + secs(2)).await, Ok((o, c1.id)));
    // Used OTPs stay used when a new one is issued; superseded ones stay superseded, even
    // once past their expiry.
    let (_, latest) = issue(&store, &c1, now + secs(3)).await;
    let late = now + OTP_TTL + secs(3600);
    assert_eq!(consume(&first, late).await, Err(OtpRefusal::AlreadyUsed));
    assert_eq!(consume(&newer, late).await, Err(OtpRefusal::AlreadyUsed));
    assert_eq!(consume(&older, late).await, Err(OtpRefusal::Superseded));

    // Another connection's OTP is unaffected by new OTPs on this one.
    let (_, other) = issue(&store, &c2, now + secs(4)).await;
    let (_, latest_again) = issue(&store, &c1, now + secs(5)).await;
    assert_eq!(
        consume(&latest, now + secs(6)).await,
        Err(OtpRefusal::Superseded)
    );

    // Refusals change nothing: after each, a different active OTP still works.
    assert_eq!(
        consume(&unknown, now + secs(6)).await,
        Err(OtpRefusal::Unknown)
    );
    assert_eq!(
        consume(&older, now + secs(6)).await,
        Err(OtpRefusal::Superseded)
    );
    assert_eq!(
        consume(&first, now + secs(6)).await,
        Err(OtpRefusal::AlreadyUsed)
    );
    assert_eq!(consume(&other, now + secs(7)).await, Ok((o, c2.id)));
    assert_eq!(
        consume(&latest_again, now + secs(7) + OTP_TTL).await,
        Err(OtpRefusal::Expired)
    );
    assert_eq!(consume(&latest_again, now + secs(7)).await, Ok((o, c1.id)));
    assert_eq!(
        consume(&other, now + secs(8)).await,
        Err(OtpRefusal::AlreadyUsed)
    );
}

pub async fn concurrent_consumers_get_an_otp_once(store: DynStore) {
    let now = SystemClock.now();
    let o = org(&store, "Demo Bank").await;
    let c = connection(&store, o).await;
    let (_, secret) = issue(&store, &c, now).await;
    let hash = secret.hash();

    let mut consumers = JoinSet::new();
    for i in 0..8 {
        let store = store.clone();
        consumers.spawn(async move { store.consume_otp(&hash, now + secs(i)).await.unwrap() });
    }
    let (mut ok, mut used) = (0, 0);
    while let Some(outcome) = consumers.join_next().await {
        match outcome.unwrap() {
            Ok(found) => {
                assert_eq!(found, (o, c.id));
                ok += 1;
            }
            Err(OtpRefusal::AlreadyUsed) => used += 1,
            Err(other) => panic!("unexpected refusal {other:?}"),
        }
    }
    assert_eq!((ok, used), (1, 7), "exactly one consumer may use the OTP");
}

pub async fn concurrent_issuers_leave_one_active_otp(store: DynStore) {
    let now = SystemClock.now();
    let o = org(&store, "Demo Bank").await;
    let c = connection(&store, o).await;

    let mut issuers = JoinSet::new();
    for _ in 0..8 {
        let (store, c) = (store.clone(), c.clone());
        issuers.spawn(async move {
            let (otp, secret) = NewOtp::generate(&c, now);
            store.issue_otp(&otp).await.unwrap();
            secret
        });
    }
    let mut secrets = Vec::new();
    while let Some(secret) = issuers.join_next().await {
        secrets.push(secret.unwrap());
    }
    let mut ok = 0;
    for secret in &secrets {
        match store
            .consume_otp(&secret.hash(), now + secs(1))
            .await
            .unwrap()
        {
            Ok(found) => {
                assert_eq!(found, (o, c.id));
                ok += 1;
            }
            Err(OtpRefusal::Superseded) => {}
            Err(other) => panic!("unexpected refusal {other:?}"),
        }
    }
    assert_eq!(
        ok, 1,
        "exactly one of the concurrently issued OTPs may be active"
    );
}
