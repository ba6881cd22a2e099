//! The built-in sandbox accounting platforms (QuickBooks Online, Xero, Sage Intacct, Sage
//! Business Cloud, NetSuite): companies, "connect your bank", linked feeds and ingestion, as web
//! pages (`pages`) and as a JSON interface for tests and scripts (`api`), over one set of
//! rules (`sync`).

pub mod api;
pub mod pages;
pub mod sync;

use axum::Router;
use bankfeeds_domain::Platform;

use crate::api::otp::platform_slug;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    api::router().merge(pages::router())
}

/// The platform whose pages use this slug in their paths.
pub fn by_slug(slug: &str) -> Option<Platform> {
    Platform::ALL
        .into_iter()
        .find(|p| platform_slug(*p) == slug)
}
