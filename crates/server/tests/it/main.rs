//! HTTP tests: each boots the real app on a real socket over a fresh database, on SQLite always
//! and on PostgreSQL when `BANKFEEDS_TEST_POSTGRES_URL` is set.

mod accounts;
mod connections;
mod errors;
mod helpers;
mod ops;
mod shared_database;
