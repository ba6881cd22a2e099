//! `FiConfigStore`: the FI's configuration per platform, and each platform's list of banks.

use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::{Clock, OrgId, Platform, SystemClock, Timestamp};
use bankfeeds_store::{DynStore, StoreError};

use crate::helpers::{named_org as org, secs};

/// The FI `org`'s configuration for `platform`, shown as `display_name`.
pub(crate) fn config(
    org: OrgId,
    platform: Platform,
    display_name: &str,
    now: Timestamp,
) -> FiConfig {
    FiConfig {
        org_id: org,
        platform,
        display_name: display_name.to_owned(),
        logo_url: Some("https://bank.example/logo.png".into()),
        country_code: "US".into(),
        login_url: "https://bank.example/login".into(),
        otp_instructions: None,
        ofx_fid: None,
        ofx_bank_id: None,
        created_at: now,
        updated_at: now,
    }
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

    // The OFX Direct Connect configuration keeps its FID and routing number, and replacing
    // it without them clears them.
    let mut ofx = config(c, Platform::OfxDirectConnect, "Bank C Direct", now);
    ofx.ofx_fid = Some("10898".into());
    ofx.ofx_bank_id = Some("021000021".into());
    assert_eq!(store.put_fi_config(&ofx).await.unwrap(), ofx);
    let plain = config(c, Platform::OfxDirectConnect, "Bank C Direct", now);
    assert_eq!(store.put_fi_config(&plain).await.unwrap(), plain);
    store
        .delete_fi_config(c, Platform::OfxDirectConnect)
        .await
        .unwrap();

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

pub async fn organisations_never_see_each_others_fi_configs(store: DynStore) {
    let now = SystemClock.now();
    let a = org(&store, "Bank A").await;
    let b = org(&store, "Bank B").await;
    let mine = config(a, Platform::Xero, "Bank A", now);
    let mut theirs = config(b, Platform::Xero, "Bank B", now + secs(1));
    theirs.login_url = "https://bank-b.example/login".into();
    assert_eq!(store.put_fi_config(&mine).await.unwrap(), mine);
    assert_eq!(store.put_fi_config(&theirs).await.unwrap(), theirs);
    assert_eq!(
        store.get_fi_config(a, Platform::Xero).await.unwrap(),
        Some(mine.clone())
    );
    assert_eq!(
        store.get_fi_config(b, Platform::Xero).await.unwrap(),
        Some(theirs.clone())
    );
    assert_eq!(store.list_fi_configs(a).await.unwrap(), vec![mine.clone()]);
    assert_eq!(
        store.list_fi_configs(b).await.unwrap(),
        vec![theirs.clone()]
    );

    // Replacing B's keeps its own `created_at` and leaves A's alone.
    let mut replaced = config(b, Platform::Xero, "Bank B Renamed", now + secs(2));
    replaced.logo_url = None;
    let stored = store.put_fi_config(&replaced).await.unwrap();
    assert_eq!(
        stored,
        FiConfig {
            created_at: now + secs(1),
            ..replaced
        }
    );
    assert_eq!(
        store.get_fi_config(a, Platform::Xero).await.unwrap(),
        Some(mine.clone())
    );

    // Deleting B's leaves A's.
    store.delete_fi_config(b, Platform::Xero).await.unwrap();
    assert_eq!(store.get_fi_config(b, Platform::Xero).await.unwrap(), None);
    assert_eq!(
        store.get_fi_config(a, Platform::Xero).await.unwrap(),
        Some(mine.clone())
    );
    assert_eq!(
        store.list_fis_for_platform(Platform::Xero).await.unwrap(),
        vec![mine]
    );
}
