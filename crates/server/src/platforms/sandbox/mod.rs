//! The built-in sandbox accounting platforms (QuickBooks Online, Xero, Sage Intacct, Sage
//! Business Cloud, NetSuite): companies, "connect your bank", linked feeds and ingestion, as web
//! pages (`pages`) and as a JSON interface for tests and scripts (`api`), over one set of
//! rules (`sync`).

pub mod api;
pub mod pages;
pub mod sync;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    api::router().merge(pages::router())
}

/// Why bank feed credentials did not link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialsRefusal {
    /// Unknown username, wrong password, revoked set, or deleted connection (one answer).
    Invalid,
    Link(bankfeeds_domain::link::LinkRefusal),
}

impl CredentialsRefusal {
    pub fn code(self) -> &'static str {
        match self {
            CredentialsRefusal::Invalid => "INVALID_CREDENTIALS",
            CredentialsRefusal::Link(r) => r.code(),
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            CredentialsRefusal::Invalid => {
                "That username and password did not match. Check them with your bank and try again."
            }
            CredentialsRefusal::Link(r) => r.message(),
        }
    }
}

/// The customer typed bank feed credentials into the platform (QuickBooks): they name the
/// connection, which is bound to the company as an OTP would bind it (one is issued and used
/// on the spot, never leaving the server). Answers the challenge that now carries the link
/// (for the feed choice), or why not.
pub async fn bind_with_credentials(
    state: &AppState,
    company: &bankfeeds_domain::link::Company,
    username: &str,
    password: &bankfeeds_domain::Secret,
) -> bankfeeds_store::StoreResult<
    Result<(bankfeeds_domain::Secret, bankfeeds_domain::link::Challenge), CredentialsRefusal>,
> {
    use bankfeeds_domain::link::Challenge;
    use bankfeeds_domain::otp::NewOtp;

    let found = state.store.find_credentials(username.trim()).await?;
    let Some(credentials) = found.filter(|c| c.admits(password)) else {
        return Ok(Err(CredentialsRefusal::Invalid));
    };
    let Some(connection) = state
        .store
        .find_connection(credentials.connection_id)
        .await?
    else {
        return Ok(Err(CredentialsRefusal::Invalid));
    };
    let now = state.clock.now();
    let (challenge, secret) =
        Challenge::generate(company.platform, company.id, connection.org_id, now);
    state.store.create_challenge(&challenge).await?;
    let (otp, code) = NewOtp::generate(&connection, now);
    state.store.issue_otp(&otp).await?;
    Ok(state
        .store
        .bind_challenge(&challenge.hash, company.platform, &code.hash(), now)
        .await?
        .map(|bound| (secret, bound))
        .map_err(CredentialsRefusal::Link))
}
