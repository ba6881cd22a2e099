//! A bank feed as the HTML pages list it (the sandbox platforms' pages and the link flow's
//! account selection).

use bankfeeds_domain::account::FeedStatus;
use bankfeeds_domain::BankFeedAccount;

use crate::web;

/// A feed as the pages list it.
pub struct FeedRow {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub number: String,
    pub currency: String,
    pub active: bool,
    pub balance: String,
    pub last_synced: String,
    pub start: String,
}

impl FeedRow {
    pub fn new(a: &BankFeedAccount) -> Self {
        let number = a
            .details
            .bank_account_number
            .as_deref()
            .and_then(bankfeeds_domain::sandbox::last4)
            .map(|tail| format!("••{tail}"))
            .unwrap_or_default();
        Self {
            id: a.id.to_string(),
            name: a
                .details
                .name
                .clone()
                .unwrap_or_else(|| a.internal_bank_account_id.clone()),
            kind: match a.bank_account_type {
                bankfeeds_domain::account::BankAccountType::Bank => "Bank",
                bankfeeds_domain::account::BankAccountType::CreditCard => "Credit card",
            },
            number,
            currency: a.currency.code().to_owned(),
            active: a.feed_status == FeedStatus::Active,
            balance: a
                .current_balance
                .map(|b| web::money(b.as_decimal(), a.currency))
                .unwrap_or_else(|| "—".to_owned()),
            last_synced: a
                .last_synced_at
                .map(web::moment)
                .unwrap_or_else(|| "never".to_owned()),
            start: a
                .transaction_start_date
                .map(web::date)
                .unwrap_or_else(|| "—".to_owned()),
        }
    }
}
