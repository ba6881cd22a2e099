//! A feed as the sandbox's JSON interface shows it: what a platform knows of a bank feed
//! account, with its account and routing numbers cut to their last four digits
//! (`account_number_last4`, `routing_number_last4`; null when the FI gave none, or one of four
//! characters or fewer). The sandbox's own type: the Rutter door's output is not for it.

use bankfeeds_domain::account::{BankAccountType, FeedStatus};
use bankfeeds_domain::sandbox::last4;
use bankfeeds_domain::{Amount, BankFeedAccount, BankFeedAccountId, Currency, Timestamp};
use serde::Serialize;

#[derive(Serialize)]
pub(super) struct FeedAccountOut {
    id: BankFeedAccountId,
    internal_bank_account_id: String,
    name: Option<String>,
    bank_account_type: BankAccountType,
    currency_code: Currency,
    account_number_last4: Option<String>,
    routing_number_last4: Option<String>,
    feed_status: FeedStatus,
    transaction_ready: bool,
    transaction_start_date: Option<Timestamp>,
    current_balance: Option<Amount>,
    available_balance: Option<Amount>,
    last_synced_at: Option<Timestamp>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<BankFeedAccount> for FeedAccountOut {
    fn from(a: BankFeedAccount) -> Self {
        let d = a.details;
        Self {
            id: a.id,
            internal_bank_account_id: a.internal_bank_account_id,
            name: d.name,
            bank_account_type: a.bank_account_type,
            currency_code: a.currency,
            account_number_last4: d.bank_account_number.as_deref().and_then(last4),
            routing_number_last4: d.routing_number.as_deref().and_then(last4),
            feed_status: a.feed_status,
            transaction_ready: a.transaction_ready,
            transaction_start_date: a.transaction_start_date,
            current_balance: a.current_balance.map(|b| b.in_currency(a.currency)),
            available_balance: d.available_balance.map(|b| b.in_currency(a.currency)),
            last_synced_at: a.last_synced_at,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// Feeds as a list.
pub(super) fn feeds(accounts: Vec<BankFeedAccount>) -> Vec<FeedAccountOut> {
    accounts.into_iter().map(FeedAccountOut::from).collect()
}
