//! Creating and changing a bank feed account, decided from what the store found: the same
//! rules on every backend. A store reads the facts in its write transaction, asks here, and
//! writes the account returned (with its event) or refuses.

use super::{AccountPatch, BankFeedAccount, PatchError};
use crate::{BankFeedAccountId, Timestamp};

/// Why an account cannot be created or changed. Nothing is written when it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountRefusal {
    /// Another live account of the connection has this `internal_bank_account_id`, and the
    /// request did not ask to override it.
    #[error("an account with this internal_bank_account_id already exists on the connection")]
    InternalIdTaken,
    #[error("an account cannot be its own parent")]
    OwnParent,
    #[error("parent_bank_feed_account_id {0} is not an account of this connection")]
    ParentNotFound(BankFeedAccountId),
    #[error(transparent)]
    Patch(PatchError),
    /// The currency cannot change once transactions are stored in it.
    #[error("the currency cannot change once the account has transactions")]
    CurrencyLocked,
}

impl AccountRefusal {
    /// The API error code.
    pub fn code(&self) -> &'static str {
        match self {
            AccountRefusal::InternalIdTaken => "BANK_FEED_ACCOUNT_EXISTS",
            AccountRefusal::OwnParent | AccountRefusal::ParentNotFound(_) => {
                "PARENT_ACCOUNT_NOT_FOUND"
            }
            AccountRefusal::Patch(e) => e.code(),
            AccountRefusal::CurrencyLocked => "CURRENCY_LOCKED",
        }
    }
}

/// Creating `incoming`. `existing` is the connection's live account with the same internal id;
/// with `override_existing` it takes the incoming fields but keeps its identity and platform
/// state (see [`BankFeedAccount::overridden_by`]). `parent_live` says whether the incoming
/// parent, if any, is a live account of the connection. Returns the account to store and
/// whether it is new.
pub fn decide_create(
    incoming: &BankFeedAccount,
    existing: Option<BankFeedAccount>,
    override_existing: bool,
    parent_live: bool,
) -> Result<(BankFeedAccount, bool), AccountRefusal> {
    let (stored, created) = match existing {
        Some(_) if !override_existing => return Err(AccountRefusal::InternalIdTaken),
        Some(old) => (old.overridden_by(incoming), false),
        None => (incoming.clone(), true),
    };
    check_parent(&stored, parent_live)?;
    Ok((stored, created))
}

/// Applying a PATCH to `current`. `has_transactions` says whether any are stored for it;
/// `parent_live` whether [`AccountPatch::parent_after`] is a live account of the connection.
pub fn decide_patch(
    mut current: BankFeedAccount,
    patch: &AccountPatch,
    now: Timestamp,
    has_transactions: bool,
    parent_live: bool,
) -> Result<BankFeedAccount, AccountRefusal> {
    let currency_before = current.currency;
    patch
        .apply(&mut current, now)
        .map_err(AccountRefusal::Patch)?;
    if current.currency != currency_before && has_transactions {
        return Err(AccountRefusal::CurrencyLocked);
    }
    check_parent(&current, parent_live)?;
    Ok(current)
}

fn check_parent(account: &BankFeedAccount, parent_live: bool) -> Result<(), AccountRefusal> {
    match account.parent_bank_feed_account_id {
        Some(parent) if parent == account.id => Err(AccountRefusal::OwnParent),
        Some(parent) if !parent_live => Err(AccountRefusal::ParentNotFound(parent)),
        _ => Ok(()),
    }
}

impl AccountPatch {
    /// The account's parent once this patch is applied.
    pub fn parent_after(&self, current: &BankFeedAccount) -> Option<BankFeedAccountId> {
        match self.parent_bank_feed_account_id {
            Some(parent) => parent,
            None => current.parent_bank_feed_account_id,
        }
    }
}

#[cfg(test)]
mod tests;
