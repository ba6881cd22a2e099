//! One-time passwords the FI hands back through the link redirect.

use crate::StoreResult;
use async_trait::async_trait;
use bankfeeds_domain::otp::{NewOtp, OtpRefusal};
use bankfeeds_domain::{ConnectionId, OrgId, SecretHash, Timestamp};

#[async_trait]
pub trait OtpStore: Send + Sync {
    /// Stores a new OTP for its connection, cancelling any earlier unused one.
    async fn issue_otp(&self, otp: &NewOtp) -> StoreResult<()>;

    /// Uses an OTP once: the connection it belongs to, or why it cannot be used. Nothing
    /// changes when it is refused.
    async fn consume_otp(
        &self,
        hash: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Result<(OrgId, ConnectionId), OtpRefusal>>;
}
