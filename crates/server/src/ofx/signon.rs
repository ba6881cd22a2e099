//! Sign-on: which credentials set (and so which connection) a request speaks for, or the OFX
//! status that refuses it. Anonymous sign-on (ofxget's `anonymous000…`) is answered for a
//! request that asks only for the profile, and refused (15500) for anything else.

use bankfeeds_domain::ofx::SignonOutcome;
use bankfeeds_domain::{Connection, Org, Secret};
use bankfeeds_formats::ofx::{OfxRequest, RequestBody, SignonResponse, Status};

use super::OfxHttpError;
use crate::state::AppState;

/// The outcome of a sign-on.
pub struct Session {
    /// `SONRS`; anything but status 0 means nothing else is answered.
    pub response: SignonResponse,
    /// The connection the credentials belong to; `None` for an anonymous profile request.
    pub connection: Option<Connection>,
    /// A wrong password, an unknown user or a locked one: counted against the client address.
    pub counts_as_failure: bool,
}

pub const INVALID: u32 = 15500;
pub const LOCKED: u32 = 15502;
/// OFX's general error: what a client shows when the institution itself is not serving.
pub const GENERAL_ERROR: u32 = 2000;

pub async fn sign_on(
    state: &AppState,
    org: &Org,
    request: &OfxRequest,
) -> Result<Session, OfxHttpError> {
    let now = state.clock.now();
    let signon = &request.signon;
    let response = |status: Status| SignonResponse {
        status,
        dtserver: now,
        language: signon.language.clone().unwrap_or_else(|| "ENG".into()),
        org: signon.org.clone(),
        fid: signon.fid.clone(),
        intu_bid: None,
        intu_userid: None,
    };
    let refuse = |code: u32, message: &str, failure: bool| Session {
        response: response(Status::new(code, message)),
        connection: None,
        counts_as_failure: failure,
    };
    if org.is_disabled() {
        // The client cannot show an HTTP error; the sign-on's status says why.
        let message = "This institution's service is suspended; contact the institution";
        return Ok(refuse(GENERAL_ERROR, message, false));
    }
    if signon.is_anonymous() {
        let only_profile = request
            .transactions
            .iter()
            .all(|t| matches!(t.body, RequestBody::Profile { .. }));
        return Ok(if only_profile {
            Session {
                response: response(Status::OK),
                connection: None,
                counts_as_failure: false,
            }
        } else {
            refuse(INVALID, "Anonymous sign-on is for the profile only", false)
        });
    }
    let bad = "Invalid user id or password";
    let Some(creds) = state
        .store
        .find_ofx_credentials(org.id, &signon.user_id)
        .await?
    else {
        return Ok(refuse(INVALID, bad, true));
    };
    let outcome = creds.judge(&Secret::from_presented(signon.user_pass.clone()), now);
    state
        .store
        .record_ofx_signon(org.id, &creds.user_id, outcome, now)
        .await?;
    match outcome {
        SignonOutcome::Refused => {
            tracing::info!(connection_id = %creds.connection_id, "OFX sign-on refused");
            Ok(refuse(INVALID, bad, true))
        }
        SignonOutcome::Locked => Ok(refuse(
            LOCKED,
            "Too many failed sign-ons; this user is locked for a while",
            true,
        )),
        SignonOutcome::Accepted => {
            match state
                .store
                .get_connection(org.id, creds.connection_id)
                .await?
            {
                Some(c) => Ok(Session {
                    response: response(Status::OK),
                    connection: Some(c),
                    counts_as_failure: false,
                }),
                // The connection was deleted: its credentials go with it.
                None => Ok(refuse(INVALID, bad, true)),
            }
        }
    }
}
