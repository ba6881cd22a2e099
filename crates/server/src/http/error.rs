//! The one error type of the Rutter-shaped API: `{error_type, error_code, error_message}`.
//!
//! Codes are stable, upper-snake strings that integrations can match on; messages are for
//! people and may change. Server faults are logged with their cause chain and answered with an
//! opaque 500, never with the cause.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bankfeeds_store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub error_type: &'static str,
    pub code: &'static str,
    pub message: String,
    pub retry_after_secs: Option<u64>,
    /// Per-item problems (e.g. each refused transaction of a batch), as `errors`.
    pub errors: Option<serde_json::Value>,
}

pub use bankfeeds_wire::error::ErrorOut;

impl ApiError {
    fn new(
        status: StatusCode,
        error_type: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error_type,
            code,
            message: message.into(),
            retry_after_secs: None,
            errors: None,
        }
    }

    /// 400: the request is wrong and the message says how.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", code, message)
    }

    /// 401: the organisation's credentials or the connection's access token are missing or wrong.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "AUTHENTICATION_ERROR",
            code,
            message,
        )
    }

    /// 404: no such route.
    pub fn route_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "ROUTE_NOT_FOUND",
            "no such endpoint",
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "INVALID_REQUEST",
            "METHOD_NOT_ALLOWED",
            "this endpoint does not accept that HTTP method",
        )
    }

    /// 410: the resource id names nothing this caller can see (Rutter answers 410 for these).
    pub fn gone(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, "NOT_FOUND", code, message)
    }

    /// 409: the request conflicts with what is stored.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "CONFLICT", code, message)
    }

    /// 415: the body is not declared as JSON.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "INVALID_REQUEST",
            "UNSUPPORTED_CONTENT_TYPE",
            message,
        )
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "INVALID_REQUEST",
            "PAYLOAD_TOO_LARGE",
            format!("request body exceeds {limit} bytes"),
        )
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMIT_ERROR",
                "RATE_LIMITED",
                "too many requests for this organisation; retry after the Retry-After delay",
            )
        }
    }

    /// 429 for a client address (failed authentication, anonymous routes), not an organisation.
    pub fn client_rate_limited(retry_after_secs: u64) -> Self {
        Self {
            message: "too many requests from this address; retry after the Retry-After delay"
                .into(),
            ..Self::rate_limited(retry_after_secs)
        }
    }

    /// 500: logs the cause (with its chain) and hides it from the caller.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = cause.to_string();
        let mut source = cause.source();
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        tracing::error!(error = %chain, "request failed");
        Self::internal_opaque()
    }

    pub fn internal_opaque() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "API_ERROR",
            "INTERNAL_ERROR",
            "the server failed to handle this request; it has been logged",
        )
    }

    pub fn with_errors(self, errors: serde_json::Value) -> Self {
        Self {
            errors: Some(errors),
            ..self
        }
    }

    /// The JSON body this error answers with (also what a job saves as its outcome).
    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(ErrorOut {
            error_type: self.error_type.to_owned(),
            error_code: self.code.to_owned(),
            error_message: self.message.clone(),
            errors: self.errors.clone(),
        })
        .expect("errors serialise")
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "API_ERROR",
            "UNAVAILABLE",
            message,
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            // Handlers that can name the missing resource map NotFound themselves.
            StoreError::NotFound => ApiError::gone("RESOURCE_NOT_FOUND", "no such resource"),
            StoreError::Conflict("bank_feed_accounts_internal_id_key") => ApiError::conflict(
                "BANK_FEED_ACCOUNT_EXISTS",
                "a bank feed account with this internal_bank_account_id exists on the connection; \
                 set additional_fields.override_existing to update it",
            ),
            StoreError::Conflict("currency_locked") => ApiError::conflict(
                "CURRENCY_LOCKED",
                "the account holds transactions, so its currency cannot change",
            ),
            StoreError::Conflict("idempotency_key_in_progress") => ApiError::conflict(
                "IDEMPOTENCY_KEY_IN_USE",
                "a request with this Idempotency-Key is still being processed; retry shortly",
            ),
            StoreError::Conflict(what) => ApiError::conflict(
                "CONFLICT",
                format!("conflicts with a stored resource ({what})"),
            ),
            StoreError::Invalid { code, message } => ApiError::bad_request(code, message),
            StoreError::IdempotencyKeyReused => ApiError::conflict(
                "IDEMPOTENCY_KEY_REUSED",
                "this Idempotency-Key was used for a different request; use a new key",
            ),
            StoreError::Backend(_) => ApiError::internal(&e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        refusal_response(self.status, self.code, self.body(), self.retry_after_secs)
    }
}

/// A refusal as both doors answer it: a client error logged (in the request's span: with its
/// route, request id and, once known, org id), the door's JSON body, and `Retry-After` when the
/// caller should wait.
pub(crate) fn refusal_response(
    status: StatusCode,
    code: &'static str,
    body: impl serde::Serialize,
    retry_after_secs: Option<u64>,
) -> Response {
    if status.is_client_error() {
        tracing::info!(
            status = status.as_u16(),
            error_code = code,
            "request refused"
        );
    }
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(secs) = retry_after_secs {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

pub type ApiResult<T> = Result<T, ApiError>;
