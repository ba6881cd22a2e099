//! `POST /versioned/accounting/bank_feeds/otp`: after its own login, the FI asks for a one-time
//! password for the customer's connection and sends the browser back to the hub with it.
//!
//! `Idempotency-Key` does not apply here: the OTP is a secret stored only hashed, so it cannot
//! be replayed, and a retry is safe anyway because each call cancels the previous OTP.

use axum::extract::State;
use axum::Json as JsonOut;
use bankfeeds_domain::otp::NewOtp;

use crate::http::auth::ConnectionAuth;
use crate::http::error::ApiResult;
use crate::http::responses::Refusals;
use crate::state::AppState;
use crate::web::platform_slug;

pub use bankfeeds_wire::otp::{OtpEnvelopeOut, OtpOut};

/// Generate a one-time password for the connection (cancelling any earlier one).
#[utoipa::path(
    post,
    path = "/versioned/accounting/bank_feeds/otp",
    tag = "link",
    params(crate::rutter::connections::AccessTokenParam),
    responses(
        (status = 200, body = OtpEnvelopeOut),
        Refusals,
    ),
)]
pub async fn create_otp(
    State(state): State<AppState>,
    auth: ConnectionAuth,
) -> ApiResult<JsonOut<OtpEnvelopeOut>> {
    let (otp, secret) = NewOtp::generate(&auth.connection, state.clock.now());
    state.store.issue_otp(&otp).await?;
    tracing::info!(connection_id = %auth.connection.id, "link OTP issued");
    Ok(JsonOut(OtpEnvelopeOut {
        bank_feed_otp: OtpOut {
            otp: secret.expose().to_owned(),
            expires_at: otp.expires_at,
            redirect_uri: format!(
                "{}/link/{}/redirect",
                state.public_base,
                platform_slug(auth.connection.platform)
            ),
        },
    }))
}
