//! What the sandbox platforms do, whichever face is asked: find a company or one of its linked
//! feeds (or a disconnected one, to read), list its feeds, create a company, connect a bank, link with bank feed
//! credentials, unlink a feed. The
//! JSON interface (`api`) and the web pages (`pages`) both call these, and each words the
//! refusals in its own way.

use bankfeeds_domain::link::{Challenge, Company, CompanyId, LinkRefusal};
use bankfeeds_domain::otp::NewOtp;
use bankfeeds_domain::{
    BankFeedAccount, BankFeedAccountId, OrgId, Platform, Secret, SecretHash, SecretKind,
};
use bankfeeds_store::{StoreError, StoreResult};

use crate::state::AppState;

/// Why an operation did not happen, for each face to answer in its own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The company id in the path is not an id (the raw value).
    MalformedCompanyId(String),
    /// No such company on this platform.
    CompanyNotFound,
    /// The feed id in the path is not an id (the raw value).
    MalformedFeedId(String),
    /// The company has not linked that feed.
    FeedNotLinked,
    /// The FI deleted the feed's account (or its connection): the platform still shows what it
    /// ingested, but syncs and unlinks it no more.
    FeedDisconnected,
    /// A company name must be 1 to 200 characters.
    InvalidCompanyName,
    /// The bank picked is not configured for this platform.
    BankNotListed,
    /// The bank's configured login URL is not a URL.
    InvalidLoginUrl,
}

#[derive(Debug)]
pub enum OpError {
    Refused(Refusal),
    Store(StoreError),
}

impl From<StoreError> for OpError {
    fn from(e: StoreError) -> Self {
        OpError::Store(e)
    }
}

impl From<Refusal> for OpError {
    fn from(r: Refusal) -> Self {
        OpError::Refused(r)
    }
}

pub type OpResult<T> = Result<T, OpError>;

/// The company with this id on this platform.
pub async fn company(state: &AppState, platform: Platform, raw: &str) -> OpResult<Company> {
    let id: CompanyId = raw
        .parse()
        .map_err(|_| Refusal::MalformedCompanyId(raw.to_owned()))?;
    Ok(state
        .store
        .get_company(id)
        .await?
        .filter(|c| c.platform == platform)
        .ok_or(Refusal::CompanyNotFound)?)
}

/// The company's linked feed with this id (`FeedDisconnected` when the FI deleted it since).
pub async fn feed(state: &AppState, company: &Company, raw: &str) -> OpResult<BankFeedAccount> {
    let shown = shown_feed(state, company, raw).await?;
    if shown.disconnected {
        return Err(Refusal::FeedDisconnected.into());
    }
    Ok(shown.account)
}

/// A feed as the company sees it: linked, or disconnected (read only).
pub struct ShownFeed {
    pub account: BankFeedAccount,
    pub disconnected: bool,
}

/// The company's feed with this id, linked or disconnected: deleting a connection at the FI
/// disconnects the feed, and never erases what the platform already ingested.
pub async fn shown_feed(state: &AppState, company: &Company, raw: &str) -> OpResult<ShownFeed> {
    let id: BankFeedAccountId = raw
        .parse()
        .map_err(|_| Refusal::MalformedFeedId(raw.to_owned()))?;
    if let Some(account) = state.store.get_company_feed(company.id, id).await? {
        return Ok(ShownFeed {
            account,
            disconnected: false,
        });
    }
    let account = state
        .store
        .get_disconnected_feed(company.id, id)
        .await?
        .ok_or(Refusal::FeedNotLinked)?;
    Ok(ShownFeed {
        account,
        disconnected: true,
    })
}

/// The company's feeds as it sees them: those it linked, and those the FI disconnected since
/// (what was ingested stays readable).
pub struct CompanyFeeds {
    pub linked: Vec<BankFeedAccount>,
    pub disconnected: Vec<BankFeedAccount>,
}

pub async fn company_feeds(state: &AppState, company: &Company) -> StoreResult<CompanyFeeds> {
    Ok(CompanyFeeds {
        linked: state.store.list_company_feeds(company.id).await?,
        disconnected: state.store.list_disconnected_feeds(company.id).await?,
    })
}

/// A company (a business's books) in the sandbox platform, named `name` (trimmed).
pub async fn create_company(state: &AppState, platform: Platform, name: &str) -> OpResult<Company> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Refusal::InvalidCompanyName.into());
    }
    let company = Company {
        id: CompanyId::new(),
        platform,
        name: name.to_owned(),
        created_at: state.clock.now(),
    };
    state.store.create_company(&company).await?;
    Ok(company)
}

/// A started "connect your bank": the challenge and where to send the customer.
pub struct Connecting {
    pub challenge: Challenge,
    /// The challenge's secret: it rides in the redirect to the FI and back.
    pub secret: Secret,
    /// The FI's login page with the hub's `redirect_uri`.
    pub login_redirect_url: String,
}

/// "Connect your bank" with the FI `org`: creates a challenge (10 minutes, single use) bound to
/// the starting browser (`browser`, the digest of its binding) and names the FI's login page to
/// send the customer to.
pub async fn connect(
    state: &AppState,
    platform: Platform,
    company: &Company,
    org: OrgId,
    browser: &SecretHash,
) -> OpResult<Connecting> {
    let config = state
        .store
        .get_fi_config(org, platform)
        .await?
        .ok_or(Refusal::BankNotListed)?;
    let (challenge, secret) =
        Challenge::generate(platform, company.id, org, browser, state.clock.now());
    state.store.create_challenge(&challenge).await?;
    let login_redirect_url = crate::link::login_redirect(state, &config, platform, &secret)
        .map_err(|_| Refusal::InvalidLoginUrl)?;
    Ok(Connecting {
        challenge,
        secret,
        login_redirect_url,
    })
}

/// The customer unlinks a feed: it becomes inactive and the platform stops ingesting it.
pub async fn unlink(
    state: &AppState,
    company: &Company,
    feed: &BankFeedAccount,
) -> StoreResult<BankFeedAccount> {
    state
        .store
        .unlink_feed(company.id, feed.id, state.clock.now())
        .await
}

/// Why bank feed credentials did not link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialsRefusal {
    /// Unknown username, wrong password, revoked set, or deleted connection (one answer).
    Invalid,
    Link(LinkRefusal),
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
    company: &Company,
    username: &str,
    password: &Secret,
) -> StoreResult<Result<(Secret, Challenge), CredentialsRefusal>> {
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
    // Created and bound in this one request, so its binding never leaves the server either.
    let browser = Secret::generate(SecretKind::BrowserBinding).hash();
    let (challenge, secret) = Challenge::generate(
        company.platform,
        company.id,
        connection.org_id,
        &browser,
        now,
    );
    state.store.create_challenge(&challenge).await?;
    let (otp, code) = NewOtp::generate(&connection, now);
    state.store.issue_otp(&otp).await?;
    Ok(state
        .store
        .bind_challenge(
            &challenge.hash,
            company.platform,
            Some(&browser),
            &code.hash(),
            now,
        )
        .await?
        .map(|bound| (secret, bound))
        .map_err(CredentialsRefusal::Link))
}
