//! What a call can fail with: the hub's refusal (with its stable `error_code`), a transport
//! failure that outlasted the retries, or an answer the client could not read.

use bankfeeds_wire::error::ErrorOut;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The hub refused the request (4xx), or still failed (5xx, 429) after the last retry.
    #[error("{status} {}: {}", body.error_code, body.error_message)]
    Api { status: u16, body: ErrorOut },
    /// The request could not be sent or its answer not received, after the last retry.
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    /// The hub answered something this client cannot read as the documented shape.
    #[error("unreadable answer ({status}): {message}")]
    Decode { status: u16, message: String },
    /// A job did not finish within the time the caller allowed.
    #[error("job {job_id} had not finished after {waited_secs} s")]
    JobTimedOut { job_id: String, waited_secs: u64 },
}

impl Error {
    /// The hub's stable error code (`INVALID_ACCESS_TOKEN`, `TRANSACTION_ID_CONFLICT`, …), when
    /// the hub refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { body, .. } => Some(&body.error_code),
            _ => None,
        }
    }

    /// The HTTP status the hub answered with, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Decode { status, .. } => Some(*status),
            Error::Transport(e) => e.status().map(|s| s.as_u16()),
            Error::JobTimedOut { .. } => None,
        }
    }

    /// Per-item problems of a refusal (each refused transaction of a batch), if any.
    pub fn item_errors(&self) -> &[serde_json::Value] {
        match self {
            Error::Api { body, .. } => body
                .errors
                .as_ref()
                .and_then(|e| e.as_array())
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Reads an error answer of `status`; a body that is not the error shape is a decode error.
    pub(crate) fn from_answer(status: u16, bytes: &[u8]) -> Error {
        match serde_json::from_slice::<ErrorOut>(bytes) {
            Ok(body) => Error::Api { status, body },
            Err(_) => Error::Decode {
                status,
                message: format!(
                    "not an error body: {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                ),
            },
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
