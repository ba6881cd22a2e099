//! `ConnectorStore`: sandbox or live per organisation and platform, with sealed credentials.

use bankfeeds_domain::live::{ConnectorMode, ConnectorSettings};
use bankfeeds_domain::{Clock, Platform, SystemClock};
use bankfeeds_store::DynStore;

use crate::helpers::{named_org as org, secs};

pub async fn connector_settings_round_trip_and_stay_per_org_and_platform(store: DynStore) {
    let now = SystemClock.now();
    let a = org(&store, "Bank A").await;
    let b = org(&store, "Bank B").await;
    assert_eq!(store.get_connector(a, Platform::Xero).await.unwrap(), None);

    let live = ConnectorSettings {
        mode: ConnectorMode::Live,
        client_id_sealed: Some("c2VhbGVkLWlk".into()),
        client_secret_sealed: Some("c2VhbGVkLXNlY3JldA==".into()),
        ..ConnectorSettings::default_for(a, Platform::Xero, now)
    };
    let stored = store.put_connector(&live).await.unwrap();
    assert_eq!(stored, live, "every field survives the round trip");
    assert_eq!(
        store.get_connector(a, Platform::Xero).await.unwrap(),
        Some(live.clone())
    );
    assert_eq!(store.get_connector(b, Platform::Xero).await.unwrap(), None);
    assert_eq!(
        store.get_connector(a, Platform::Netsuite).await.unwrap(),
        None
    );

    // Replacing keeps created_at.
    let later = now + secs(5);
    let back = ConnectorSettings {
        mode: ConnectorMode::Sandbox,
        created_at: later,
        updated_at: later,
        ..live.clone()
    };
    let replaced = store.put_connector(&back).await.unwrap();
    assert_eq!(replaced.created_at, now);
    assert_eq!(replaced.updated_at, later);
    assert_eq!(replaced.mode, ConnectorMode::Sandbox);
    assert_eq!(replaced.client_secret_sealed, live.client_secret_sealed);
}
