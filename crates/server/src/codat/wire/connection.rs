//! Data connections: one per company and platform.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A data connection.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub integration_id: String,
    /// `hcws` (QuickBooks Online Bank Feeds), `gbol` (Xero), `olpr` (Sage), `akxx` (NetSuite).
    pub integration_key: String,
    #[schema(format = Uuid)]
    pub source_id: String,
    /// Always `BankFeed`.
    pub source_type: String,
    pub platform_name: String,
    /// Where the customer links the connection.
    pub link_url: String,
    /// `PendingAuth` until the platform links a feed, `Linked` while one is active,
    /// `Unlinked` once unlinked.
    pub status: String,
    #[schema(format = DateTime)]
    pub last_sync: Option<String>,
    #[schema(format = DateTime)]
    pub created: String,
    /// Always empty.
    pub data_connection_errors: Vec<serde_json::Value>,
    /// Always empty.
    pub connection_info: BTreeMap<String, String>,
}

/// `POST /companies/{companyId}/connections`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionIn {
    /// `hcws`, `gbol`, `olpr` or `akxx`.
    pub platform_key: Option<String>,
}

/// `PATCH …/connections/{connectionId}`: the only change is to `Unlinked`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnlinkIn {
    /// `Unlinked`.
    pub status: String,
}
