//! Errors in Codat's `ErrorMessage` shape, which Codat's SDK parses for every documented error
//! status: `{statusCode, service, error, correlationId, canBeRetried, detailedErrorCode,
//! validation?}`. We add `errorCode`, our stable machine-readable code (the SDK ignores unknown
//! properties). The status codes are those the SDK documents for each operation.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bankfeeds_store::StoreError;
use rand::RngCore;

use super::wire::{ErrorMessage, Validation, ValidationItem};
use crate::http::error::{refusal_response, ApiError};

#[derive(Debug)]
pub struct CodatError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after_secs: Option<u64>,
    /// `validation.errors`: `[{itemId, message, validatorName}]`.
    pub validation: Option<Validation>,
}

pub type CodatResult<T> = Result<T, CodatError>;

impl CodatError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
            validation: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn company_not_found(id: &str) -> Self {
        Self::not_found(
            "COMPANY_NOT_FOUND",
            format!("No company was found with ID {id}"),
        )
    }

    pub fn connection_not_found(id: &str) -> Self {
        Self::not_found(
            "CONNECTION_NOT_FOUND",
            format!("Data connection {id} not found"),
        )
    }

    /// `id` is the FI's own id of the account, as the path names it.
    pub fn source_account_not_found(id: &str) -> Self {
        Self::not_found(
            "SOURCE_ACCOUNT_NOT_FOUND",
            format!("Source account {id} not found"),
        )
    }

    pub fn with_validation(mut self, errors: Vec<ValidationItem>) -> Self {
        self.validation = Some(Validation {
            errors,
            warnings: Vec::new(),
        });
        self
    }

    /// The refusal of one field, named in `validation` by the validator that refused it.
    pub fn field(
        code: &'static str,
        item: &str,
        message: impl Into<String>,
        validator: &str,
    ) -> Self {
        let message = message.into();
        Self::bad_request(code, message.clone())
            .with_validation(vec![ValidationItem::new(item, message, validator)])
    }

    fn body(&self) -> ErrorMessage {
        let mut id = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut id);
        let retried = self.status.is_server_error() || self.status == StatusCode::TOO_MANY_REQUESTS;
        ErrorMessage {
            status_code: self.status.as_u16(),
            service: "bankfeeds".into(),
            error: self.message.clone(),
            error_code: self.code.into(),
            correlation_id: hex::encode(id),
            can_be_retried: if retried { "True" } else { "False" }.into(),
            detailed_error_code: 0,
            validation: self.validation.clone(),
        }
    }
}

/// The Rutter-shaped door's errors (auth, body parsing, store faults) keep their status, code
/// and message; only the shape changes.
impl From<ApiError> for CodatError {
    fn from(e: ApiError) -> Self {
        // Codat documents 404 for missing resources; the Rutter door uses 410.
        let status = if e.status == StatusCode::GONE {
            StatusCode::NOT_FOUND
        } else {
            e.status
        };
        Self {
            status,
            code: e.code,
            message: e.message,
            retry_after_secs: e.retry_after_secs,
            // Only the Rutter door's batch refusals carry items, in their own shape; each
            // becomes one Codat item holding it whole.
            validation: e.errors.map(|errors| Validation {
                errors: match errors {
                    serde_json::Value::Array(items) => items,
                    other => vec![other],
                }
                .into_iter()
                .map(|item| ValidationItem {
                    item_id: None,
                    message: item.to_string(),
                    validator_name: e.code.into(),
                })
                .collect(),
                warnings: Vec::new(),
            }),
        }
    }
}

impl From<StoreError> for CodatError {
    fn from(e: StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for CodatError {
    fn into_response(self) -> Response {
        refusal_response(self.status, self.code, self.body(), self.retry_after_secs)
    }
}
