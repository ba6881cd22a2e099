//! `response_mode`: the Rutter door's writes that may answer with a job (`async`) take it in
//! the body, and, as seed 000 writes it, in the query string.

use bankfeeds_wire::accounts::ResponseMode;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::error::{ApiError, ApiResult};

/// `?response_mode=`, where seed 000 writes it ("If `response_mode=async` is specified in the
/// request …"), besides the body's field.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResponseModeParam {
    /// The same as the body's `response_mode`; when both are given they must agree.
    #[serde(default)]
    pub response_mode: Option<ResponseMode>,
}

impl ResponseModeParam {
    /// The mode asked for in the query or the body (`prefer_sync` when neither says);
    /// `CONFLICTING_RESPONSE_MODE` when they disagree.
    pub fn mode_with(&self, body: Option<ResponseMode>) -> ApiResult<ResponseMode> {
        match (self.response_mode, body) {
            (Some(q), Some(b)) if q != b => Err(ApiError::bad_request(
                "CONFLICTING_RESPONSE_MODE",
                "response_mode in the query and in the body disagree; give it once",
            )),
            (q, b) => Ok(q.or(b).unwrap_or_default()),
        }
    }
}
