//! Fresh databases for tests: a temporary SQLite file, or a new PostgreSQL database created on
//! the server named by `BANKFEEDS_TEST_POSTGRES_URL` and dropped when the test ends, both with
//! sqlx's own helpers (`MigrateDatabase`, which does its work from the server's `postgres`
//! maintenance database).

use std::io::Write;
use std::sync::Arc;

use bankfeeds_store::{DynStore, Store};
use bankfeeds_store_postgres::PostgresDb;
use bankfeeds_store_sqlite::SqliteDb;
use sqlx::migrate::MigrateDatabase;
use sqlx::Postgres;

pub const POSTGRES_URL_ENV: &str = "BANKFEEDS_TEST_POSTGRES_URL";
/// Set (to anything) in CI: a missing PostgreSQL is then a failure rather than a skip.
pub const REQUIRE_POSTGRES_ENV: &str = "BANKFEEDS_REQUIRE_POSTGRES";

/// A migrated store on a database nobody else uses. Dropping it removes the database.
pub struct TestDb {
    pub store: DynStore,
    /// The URL of this database, for starting hub processes on it.
    pub url: String,
    _cleanup: Cleanup,
}

enum Cleanup {
    TempDir(#[allow(dead_code)] tempfile::TempDir),
    /// The URL of the test database itself: sqlx's helpers connect to the server's maintenance
    /// database to create and drop the one the URL names.
    PgDatabase {
        url: String,
    },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::PgDatabase { url } = self {
            let url = url.clone();
            // Drop runs outside async context; a short-lived runtime on its own thread does it.
            // Forced: connections the test's pool left behind are closed first.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                let _ = rt.block_on(Postgres::force_drop_database(&url));
            })
            .join();
        }
    }
}

/// A fresh SQLite database in a temporary directory. Always available.
pub async fn sqlite(_test: &str) -> Option<TestDb> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bankfeeds.db").display());
    let store = SqliteDb::connect(&url).await.expect("open sqlite");
    store.migrate().await.expect("migrate sqlite");
    Some(TestDb {
        store: Arc::new(store),
        url,
        _cleanup: Cleanup::TempDir(dir),
    })
}

/// A fresh PostgreSQL database, or `None` (after saying so on stderr) when no server is
/// configured. With `BANKFEEDS_REQUIRE_POSTGRES` set, a missing server fails the test instead.
pub async fn postgres(test: &str) -> Option<TestDb> {
    let Some(admin_url) = std::env::var(POSTGRES_URL_ENV)
        .ok()
        .filter(|u| !u.is_empty())
    else {
        if std::env::var_os(REQUIRE_POSTGRES_ENV).is_some() {
            panic!("{REQUIRE_POSTGRES_ENV} is set but {POSTGRES_URL_ENV} is not");
        }
        // Written straight to the stderr handle, past libtest's capture, so the skip is visible.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test} on PostgreSQL: {POSTGRES_URL_ENV} is not set"
        );
        return None;
    };
    let name = format!("bftest_{}", uuid::Uuid::new_v4().simple());
    let mut url = url::Url::parse(&admin_url).expect("valid postgres url");
    url.set_path(&format!("/{name}"));
    let url = url.to_string();
    Postgres::create_database(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot create a test database at {POSTGRES_URL_ENV}: {e}"));
    let cleanup = Cleanup::PgDatabase { url: url.clone() };
    let store = PostgresDb::connect(&url, 8).await.expect("open postgres");
    store.migrate().await.expect("migrate postgres");
    Some(TestDb {
        store: Arc::new(store),
        url,
        _cleanup: cleanup,
    })
}
