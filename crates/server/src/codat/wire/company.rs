//! Companies: the FI's business customers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Connection;

/// A company, with its data connections.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Company {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// The company's link page: its data connections, each with the way to link it.
    pub redirect: String,
    /// When a platform last took transactions from any of its connections.
    #[schema(format = DateTime)]
    pub last_sync: Option<String>,
    #[schema(format = DateTime)]
    pub created: String,
    /// Always null: companies are created through the API.
    pub created_by_user_name: Option<String>,
    /// Always `["bankFeeds"]`.
    pub products: Vec<String>,
    pub tags: BTreeMap<String, String>,
    /// Always null.
    pub reference_parent_company: Option<String>,
    /// Always empty.
    pub reference_subsidiary_companies: Vec<String>,
    pub data_connections: Vec<Connection>,
}

/// Create (`POST`), replace (`PUT`: absent fields are cleared) or change (`PATCH`: only the
/// fields sent) a company.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyIn {
    /// Required on create and replace.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    /// At most 50, each key 1 to 100 characters and each value at most 100.
    pub tags: Option<BTreeMap<String, String>>,
}

/// A one-hour token that opens the company's link page.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    /// Seconds.
    pub expires_in: i64,
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
}
