//! `POST /versioned/accounting/bank_feeds/otp`'s answer.

use bankfeeds_domain::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OtpOut {
    /// Append as `&otp=` to the `redirect_uri` the hub gave the login page. Never show it to
    /// the customer; it is valid once, for one hour, and only until a newer one is issued.
    pub otp: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    /// The hub's link redirect for this connection's platform; append `challenge` (the login
    /// page's `challenge` parameter) and `otp` when you do not use its `redirect_uri` as is.
    pub redirect_uri: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OtpEnvelopeOut {
    pub bank_feed_otp: OtpOut,
}
