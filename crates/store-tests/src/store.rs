//! `Store`'s own methods: migrations and the health check.

use bankfeeds_store::DynStore;

pub async fn migrations_are_idempotent(store: DynStore) {
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
}

pub async fn ping_answers(store: DynStore) {
    store.ping().await.unwrap();
    let stats = store.pool_stats();
    assert!(stats.max >= 1);
    assert!(stats.connections <= stats.max);
}

pub async fn the_backend_names_itself(store: DynStore) {
    assert!(
        matches!(store.backend(), "sqlite" | "postgres"),
        "{}",
        store.backend()
    );
}
