//! Durability settings: what the stores run with, what they refuse, and what `/readyz` says.

use std::sync::Arc;

use bankfeeds_store::{Durability, DynStore, StoreError};
use bankfeeds_store_postgres::{PostgresDb, UnsafeSettings};
use bankfeeds_store_sqlite::{SqliteDb, Synchronous};

use crate::helpers::Hub;

crate::on_both_backends!(a_default_store_is_fully_durable);

async fn a_default_store_is_fully_durable(hub: Hub) {
    assert_eq!(hub.store.durability(), Durability::Full);
    let ready = hub.open_json("/readyz").await;
    assert_eq!(ready["durability"], "full");
    assert!(ready.get("warning").is_none(), "{ready}");
}

#[tokio::test]
async fn sqlite_normal_is_reported_as_reduced() {
    let db = crate::helpers::sqlite_db("sqlite_normal").await;
    let store: DynStore = Arc::new(SqliteDb::open(&db.url, Synchronous::Normal).await.unwrap());
    let Durability::Reduced(why) = store.durability() else {
        panic!("synchronous=NORMAL must not be reported as fully durable");
    };
    assert!(why.contains("synchronous=NORMAL"), "{why}");
    let hub = Hub::start_on(store, Some(db), 0).await;
    let ready = hub.open_json("/readyz").await;
    assert_eq!(ready["durability"], "reduced");
    assert!(
        ready["warning"].as_str().unwrap().contains("power fails"),
        "{ready}"
    );
}

/// A session with `synchronous_commit=off` (set here through the URL's `options`, as an operator
/// might by accident) is refused unless allowed, and then reported.
#[tokio::test]
async fn postgres_refuses_synchronous_commit_off_unless_allowed() {
    let Some(db) = bankfeeds_store_tests::backends::postgres("pg_unsafe").await else {
        return;
    };
    let mut url = url::Url::parse(&db.url).unwrap();
    url.query_pairs_mut()
        .append_pair("options", "-c synchronous_commit=off");
    let url = url.to_string();

    match PostgresDb::connect(&url, 2).await {
        Err(StoreError::Invalid { code, message }) => {
            assert_eq!(code, "UNSAFE_DATABASE_SETTINGS");
            assert!(message.contains("synchronous_commit is off"), "{message}");
            assert!(
                message.contains("BANKFEEDS_POSTGRES_ALLOW_UNSAFE_SETTINGS"),
                "{message}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    let store = PostgresDb::open(&url, 2, UnsafeSettings::Allow)
        .await
        .unwrap();
    let Durability::Reduced(why) = bankfeeds_store::Store::durability(&store) else {
        panic!("an allowed unsafe setting must be reported as reduced durability");
    };
    assert!(why.contains("synchronous_commit is off"), "{why}");
}
