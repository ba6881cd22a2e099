//! Several hub instances on one PostgreSQL database serve the same data.

use bankfeeds_store::DynStore;
use bankfeeds_store_postgres::PostgresDb;
use std::sync::Arc;

use crate::helpers::{items, ok, refuses, with_token, Hub};

#[tokio::test]
async fn two_instances_on_one_postgres_serve_the_same_connections() {
    let Some(db) = bankfeeds_store_tests::backends::postgres("two_instances").await else {
        return;
    };
    // Each instance gets its own pool, as two processes would.
    let second: DynStore = Arc::new(PostgresDb::connect(&db.url, 4).await.unwrap());
    let url = db.url.clone();
    let one = Hub::start(db).await;
    let two = Hub::start_on(second, None, 0).await;
    assert_ne!(one.base, two.base);

    let bank = one.org("Demo Bank").await;
    let (id, token) = one.connection(&bank, "INTUIT_BANK_FEEDS").await;
    let fetched = two.connection_by_token(&bank, &token).await;
    assert_eq!(fetched["connection"]["id"], id);
    let (id2, _) = two.connection(&bank, "XERO").await;
    let listed = one.get_ok(&bank, "/versioned/connections").await;
    let ids: Vec<_> = items(&listed["connections"])
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, vec![id.clone(), id2]);

    ok(two
        .delete(&bank, &format!("/versioned/connections/{id}"))
        .send()
        .await)
    .await;
    refuses(
        one.get(
            &bank,
            &with_token("/versioned/connections/access_token", &token),
        ),
        401,
        "CONNECTION_DELETED",
    )
    .await;
    assert!(url.starts_with("postgres"));
}
