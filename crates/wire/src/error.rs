//! The one error body of the Rutter-shaped API: `{error_type, error_code, error_message}`.

use serde::{Deserialize, Serialize};

/// The error body, as documented in the OpenAPI document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorOut {
    /// The family of the error, e.g. `INVALID_REQUEST`.
    pub error_type: String,
    /// A stable machine-readable code, e.g. `INVALID_ACCESS_TOKEN`.
    pub error_code: String,
    /// A human-readable explanation. May change between releases.
    pub error_message: String,
    /// Present when several items were refused: one entry per problem, each with its own code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub errors: Option<serde_json::Value>,
}
