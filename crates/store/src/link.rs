//! The link flow on the platform side: companies, challenges, binding a connection, the customer's feed choice.

use crate::StoreResult;
use async_trait::async_trait;
use bankfeeds_domain::link::{Challenge, Company, CompanyId, LinkRefusal};
use bankfeeds_domain::{
    BankFeedAccount, BankFeedAccountId, ConnectionId, Platform, SecretHash, Timestamp,
};

#[async_trait]
pub trait LinkStore: Send + Sync {
    async fn create_company(&self, company: &Company) -> StoreResult<()>;

    async fn get_company(&self, id: CompanyId) -> StoreResult<Option<Company>>;

    /// The platform's companies, oldest first (the sandbox's front page).
    async fn list_companies(&self, platform: Platform) -> StoreResult<Vec<Company>>;

    async fn create_challenge(&self, challenge: &Challenge) -> StoreResult<()>;

    async fn get_challenge(&self, hash: &SecretHash) -> StoreResult<Option<Challenge>>;

    /// The redirect back from the FI: checks the challenge (for `platform`'s link pages, and
    /// presented with `browser`, the digest of the binding the browser or JSON client holds,
    /// which must be the one stored with it) and uses the OTP, which must come from the FI the customer picked and belong to a connection
    /// for the same platform; then binds that connection to the challenge. One database
    /// transaction: when refused, neither the challenge nor the OTP is used up.
    async fn bind_challenge(
        &self,
        challenge: &SecretHash,
        platform: Platform,
        browser: Option<&SecretHash>,
        otp: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Result<Challenge, LinkRefusal>>;

    /// The customer's feed choice: each account (of the bound connection) becomes an active,
    /// transaction-ready feed of the company from `start` on; the link is complete.
    async fn complete_link(
        &self,
        challenge: &SecretHash,
        accounts: &[BankFeedAccountId],
        start: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<Result<Vec<BankFeedAccount>, LinkRefusal>>;

    /// The platform company the connection was last linked into (by a completed link).
    async fn connection_company(&self, connection: ConnectionId) -> StoreResult<Option<Company>>;

    /// Links one more account of a connection into a company without a challenge (account
    /// mapping through the Codat door, for platforms that allow it): the account becomes an
    /// active, ready feed of the company from `start`. `NotFound` when the account is not a
    /// live account of the connection.
    async fn link_feed(
        &self,
        company: CompanyId,
        connection: ConnectionId,
        account: BankFeedAccountId,
        start: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount>;
}
