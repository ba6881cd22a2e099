//! Console operators: their accounts, one-time setup links, sessions and the throttle of
//! failed sign-ins.

use crate::StoreResult;
use async_trait::async_trait;
use bankfeeds_domain::operator::{
    NewSession, NewSetupToken, Operator, OperatorId, PasswordHash, SetupRefusal, ThrottleKey,
};
use bankfeeds_domain::{OrgId, SecretHash, Timestamp};

#[async_trait]
pub trait OperatorStore: Send + Sync {
    /// Stores a new operator with its setup link. `Conflict("operators_org_email_key")` when
    /// the organisation already has an operator with that email.
    async fn create_operator(&self, operator: &Operator, setup: &NewSetupToken) -> StoreResult<()>;

    /// The organisation's operators, oldest first.
    async fn list_operators(&self, org: OrgId) -> StoreResult<Vec<Operator>>;

    /// Disables an operator of `org` and revokes every session of theirs. `NotFound` when the
    /// organisation has no such operator.
    async fn disable_operator(&self, org: OrgId, id: OperatorId, now: Timestamp)
        -> StoreResult<()>;

    /// The operator a setup link is for, if it may be used now (nothing changes).
    async fn setup_operator(
        &self,
        token: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Result<Operator, SetupRefusal>>;

    /// Uses a setup link once: sets the operator's password and answers the operator.
    async fn complete_setup(
        &self,
        token: &SecretHash,
        password: &PasswordHash,
        now: Timestamp,
    ) -> StoreResult<Result<Operator, SetupRefusal>>;

    /// Active operators with this (normalised) email and a password, in any organisation,
    /// oldest first, with their password hashes.
    async fn login_candidates(&self, email: &str) -> StoreResult<Vec<(Operator, PasswordHash)>>;

    async fn open_session(&self, session: &NewSession) -> StoreResult<()>;

    /// The operator a session admits now, if it is live.
    async fn session_operator(
        &self,
        token: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Option<Operator>>;

    /// Ends a session (signing out). Unknown or already ended sessions are left alone.
    async fn revoke_session(&self, token: &SecretHash, now: Timestamp) -> StoreResult<()>;

    /// Whether any of these keys is locked by failed sign-ins now.
    async fn login_locked(&self, keys: &[ThrottleKey], now: Timestamp) -> StoreResult<bool>;

    /// Counts one failed sign-in against each key (locking it at its limit).
    async fn record_login_failure(&self, keys: &[ThrottleKey], now: Timestamp) -> StoreResult<()>;

    /// Forgets a key's failures after a good sign-in.
    async fn clear_login_failures(&self, key: &ThrottleKey) -> StoreResult<()>;
}
