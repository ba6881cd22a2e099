//! The built-in sandbox accounting platforms (QuickBooks Online, Xero, Sage Intacct, Sage
//! Business Cloud, NetSuite): companies, "connect your bank", linked feeds and ingestion, as web
//! pages (`pages`) and as a JSON interface for tests and scripts (`api`), over one set of
//! operations (`ops`) and one set of ingestion rules (`sync`).

pub mod api;
pub mod ops;
pub mod pages;
pub mod sync;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    api::router().merge(pages::router())
}
