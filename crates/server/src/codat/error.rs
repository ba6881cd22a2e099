//! Errors in Codat's `ErrorMessage` shape, which Codat's SDK parses for every documented error
//! status: `{statusCode, service, error, correlationId, canBeRetried, detailedErrorCode,
//! validation?}`. We add `errorCode`, our stable machine-readable code (the SDK ignores unknown
//! properties). The status codes are those the SDK documents for each operation.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bankfeeds_store::StoreError;
use rand::RngCore;
use serde_json::{json, Value};

use crate::http::error::ApiError;

#[derive(Debug)]
pub struct CodatError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after_secs: Option<u64>,
    /// `validation.errors`: `[{itemId, message, validatorName}]`.
    pub validation: Option<Value>,
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

    pub fn with_validation(mut self, errors: &Value) -> Self {
        self.validation = Some(json!({"errors": errors, "warnings": []}));
        self
    }

    fn body(&self) -> Value {
        let mut id = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut id);
        let mut body = json!({
            "statusCode": self.status.as_u16(),
            "service": "bankfeeds",
            "error": self.message,
            "errorCode": self.code,
            "correlationId": hex::encode(id),
            "canBeRetried": if self.status.is_server_error() || self.status == StatusCode::TOO_MANY_REQUESTS { "True" } else { "False" },
            "detailedErrorCode": 0,
        });
        if let Some(v) = &self.validation {
            body["validation"] = v.clone();
        }
        body
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
            validation: e
                .errors
                .map(|errors| json!({"errors": errors, "warnings": []})),
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
        if self.status.is_client_error() {
            tracing::info!(
                status = self.status.as_u16(),
                error_code = self.code,
                "request refused"
            );
        }
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after_secs {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}
