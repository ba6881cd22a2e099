//! The live Xero connector: Xero's Bank Feeds API client (`client.rs`), its shapes
//! (`model.rs`), the per-tenant limiter (`limiter.rs`) and new transactions as Xero's statements
//! (`statement.rs`). The spec is Xero's own
//! `xero-bankfeeds.openapi.yaml`; URLs come from `xero_*` in the config so tests and staging
//! point at stand-ins.

pub mod client;
mod feeds;
pub mod limiter;
pub mod model;
pub mod statement;
pub mod tokens;
pub mod worker;

use std::fmt;

use bankfeeds_domain::Timestamp;

pub use client::{RetryPolicy, TenantAuth, XeroClient, XeroError};
pub use limiter::TenantLimiter;

/// Xero's real endpoints, the defaults of `xero_*` in the config.
pub const IDENTITY_URL: &str = "https://identity.xero.com";
pub const API_URL: &str = "https://api.xero.com/bankfeeds.xro/1.0";
pub const CONNECTIONS_URL: &str = "https://api.xero.com";

/// The scopes a live Xero feed asks the customer for.
pub const SCOPES: &str = "offline_access bankfeeds";

/// Where the connector calls, without trailing slashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XeroEndpoints {
    /// The identity server: `/connect/token` (and `/connect/authorize` for consent).
    pub identity: String,
    /// The Bank Feeds API base, `…/bankfeeds.xro/1.0`.
    pub api: String,
    /// The API root holding `/connections`.
    pub connections: String,
}

impl Default for XeroEndpoints {
    fn default() -> Self {
        Self {
            identity: IDENTITY_URL.into(),
            api: API_URL.into(),
            connections: CONNECTIONS_URL.into(),
        }
    }
}

/// The FI's Xero app (client id and secret). `Debug` hides the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: String,
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"REDACTED")
            .finish()
    }
}

/// A tenant's tokens. `Debug` hides both.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub access_expires_at: Timestamp,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access_expires_at", &self.access_expires_at)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// Whether the access token should be refreshed before a call at `now` (a minute early,
    /// so it does not expire in flight).
    pub fn stale(&self, now: Timestamp) -> bool {
        self.access_expires_at - chrono::TimeDelta::seconds(60) <= now
    }
}

#[cfg(test)]
mod tests;
