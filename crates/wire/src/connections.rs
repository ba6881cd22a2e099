//! `/versioned/connections`: one connection per business customer and platform.

use bankfeeds_domain::{ConnectionId, Platform, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionIn {
    /// The accounting platform this customer's feeds go to.
    pub platform: Platform,
    /// A label for the FI's own use, e.g. the customer's business name (up to 200 characters;
    /// stored trimmed, blank means none).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub name: Option<String>,
}

/// A freshly created connection: the only time its `access_token` is shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConnectionCreatedOut {
    pub id: ConnectionId,
    /// Selects this connection on later calls. Stored hashed: keep it, it cannot be shown
    /// again (an idempotent replay of this request answers null here).
    pub access_token: Option<String>,
    /// Where the customer's browser goes to link feeds to the platform.
    pub link_url: String,
    pub name: Option<String>,
    pub platform: Platform,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConnectionCreateOut {
    pub connection: ConnectionCreatedOut,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConnectionOut {
    pub id: ConnectionId,
    pub platform: Platform,
    pub name: Option<String>,
    pub link_url: String,
    /// Always false while the connection exists: a deleted connection answers 401.
    pub disabled: bool,
    pub needs_update: bool,
    /// Objects this connection cannot read or write. Bank feed connections support all.
    pub unavailable_objects: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConnectionGetOut {
    pub connection: ConnectionOut,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConnectionListOut {
    /// The page of connections, oldest first. Access tokens are stored hashed and never listed.
    pub connections: Vec<ConnectionOut>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConnectionRefOut {
    pub id: ConnectionId,
    #[serde(rename = "orgId")]
    pub org_id: String,
    pub platform: Platform,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DisabledStatusOut {
    pub is_disabled: bool,
    pub disabled_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NeedsUpdateStatusOut {
    pub needs_update: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatusOut {
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Bank feed connections need no initial sync: ready as soon as created.
    pub is_ready: bool,
    pub is_healthy: bool,
    pub link_url: String,
    pub platform: Platform,
    pub disabled_status: DisabledStatusOut,
    pub needs_update_status: NeedsUpdateStatusOut,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConnectionStatusOut {
    pub connection: ConnectionRefOut,
    pub status: StatusOut,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeletedOut {
    pub success: bool,
}
