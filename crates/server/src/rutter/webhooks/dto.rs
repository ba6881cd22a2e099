//! What `/versioned/webhooks` reads and writes.

use bankfeeds_domain::webhook::{WebhookEndpoint, WebhookId, WebhookSecret, WebhookStatus};
use bankfeeds_domain::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::patch::Patch;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookIn {
    /// Where deliveries are POSTed: `https` (plain `http` and internal addresses only when the
    /// hub runs with `webhooks_allow_private`).
    #[schema(max_length = 2000, min_length = 1)]
    pub url: String,
    /// The event types delivered (see the README); absent, null or empty means every type.
    #[serde(default)]
    pub event_types: Option<Vec<String>>,
    /// A label for the organisation's own use (up to 500 characters; blank means none).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatchIn {
    #[serde(default)]
    #[schema(max_length = 2000, min_length = 1)]
    pub url: Option<String>,
    /// The event types delivered; null or empty means every type.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub event_types: Patch<Vec<String>>,
    /// null clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Patch<String>,
    /// false stops deliveries (status `disabled`), true resumes them.
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookOut {
    pub id: WebhookId,
    pub url: String,
    /// The event types delivered; empty means every type.
    pub event_types: Vec<String>,
    pub description: Option<String>,
    pub status: WebhookStatus,
    /// The signing secret (`whsec_` + base64): only in the answers to creation and to
    /// `rotate_secret` (an idempotent replay of a creation leaves it out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl WebhookOut {
    /// The endpoint without its secret.
    pub fn new(e: &WebhookEndpoint) -> Self {
        WebhookOut {
            id: e.id,
            url: e.url.clone(),
            event_types: e
                .event_types
                .iter()
                .map(|k| k.as_str().to_owned())
                .collect(),
            description: e.description.clone(),
            status: e.status,
            secret: None,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }

    /// The endpoint with its secret shown.
    /// The endpoint with its signing secret, as created or rotated (shown only then).
    pub fn with_secret(e: &WebhookEndpoint, secret: &WebhookSecret) -> Self {
        WebhookOut {
            secret: Some(secret.expose().to_owned()),
            ..WebhookOut::new(e)
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEnvelopeOut {
    pub webhook: WebhookOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookListOut {
    /// Every endpoint of the organisation, oldest first (at most 20). Secrets are not listed.
    pub webhooks: Vec<WebhookOut>,
}
