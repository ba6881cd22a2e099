//! Codat's `ErrorMessage`, with the hub's stable `errorCode` beside Codat's fields.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An error, in the shape Codat's SDK parses for every documented error status.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorMessage {
    /// The HTTP status.
    pub status_code: u16,
    /// Always `bankfeeds`.
    pub service: String,
    /// What went wrong, for a person.
    pub error: String,
    /// The hub's stable, machine-readable code (upper snake case).
    pub error_code: String,
    /// Random per answer; quote it in a support request.
    pub correlation_id: String,
    /// `"True"` for 429 and 5xx, else `"False"` (a string, as Codat sends it).
    pub can_be_retried: String,
    /// Always 0.
    pub detailed_error_code: u32,
    /// Which fields (or transactions) were refused, when the refusal names them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,
}

/// Codat's `validation`: errors (and warnings) by item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Validation {
    pub errors: Vec<ValidationItem>,
    #[serde(default)]
    pub warnings: Vec<ValidationItem>,
}

/// One validation finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidationItem {
    /// The field or transaction it is about (`transactions[3]`, a transaction id, a field).
    pub item_id: Option<String>,
    pub message: String,
    /// The rule that found it (the hub's code for it).
    pub validator_name: String,
}

impl ValidationItem {
    pub fn new(item_id: impl Into<String>, message: impl Into<String>, validator: &str) -> Self {
        ValidationItem {
            item_id: Some(item_id.into()),
            message: message.into(),
            validator_name: validator.to_owned(),
        }
    }
}
