//! A snapshot read (`Backend::snapshot`: a read of several queries whose figures are compared
//! with each other, such as the continuity report) sees one state of the database on both
//! engines: an organisation committed after its first query is in none of its later ones, and
//! a read after it ends sees it.

use bankfeeds_domain::{Clock, NewOrg, SystemClock};
use bankfeeds_store::{OrgStore, Store};
use bankfeeds_store_sql::{Backend, CountRow, Exec, Sql, SqlStore, Tx};
use bankfeeds_store_tests::backends;

async fn orgs(db: &mut impl Exec) -> u64 {
    let row: CountRow = db
        .fetch_one(Sql::new("SELECT COUNT(*) AS n FROM orgs"))
        .await
        .unwrap();
    row.n.count()
}

async fn a_commit_during_a_snapshot_is_not_in_it<B: Backend>(store: &SqlStore<B>) {
    let mut snapshot = store.snapshot().await.unwrap();
    let before = orgs(&mut snapshot).await;
    let (org, _) = NewOrg::generate("Snapshot Bank", SystemClock.now()).unwrap();
    store.create_org(&org).await.unwrap();
    assert_eq!(orgs(&mut snapshot).await, before, "the snapshot moved");
    snapshot.rollback().await.unwrap();
    assert_eq!(orgs(&mut store.reader()).await, before + 1);
}

#[tokio::test]
async fn sqlite_snapshots_see_one_state() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hub.db").display());
    let store = bankfeeds_store_sqlite::SqliteDb::connect(&url)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    a_commit_during_a_snapshot_is_not_in_it(&store).await;
}

#[tokio::test]
async fn postgres_snapshots_see_one_state() {
    let Some(db) = backends::postgres("snapshot").await else {
        return;
    };
    let store = bankfeeds_store_postgres::PostgresDb::connect(&db.url, 4)
        .await
        .unwrap();
    a_commit_during_a_snapshot_is_not_in_it(&store).await;
}
