//! The bank feed account's query parameters, and how an account is rendered. The request and
//! answer bodies are `bankfeeds_wire::accounts`.

use bankfeeds_domain::BankFeedAccount;
use serde::Deserialize;
use utoipa::IntoParams;

pub use bankfeeds_wire::accounts::*;

/// The longest `internal_bank_account_id`, in characters.
pub const MAX_ID_LEN: usize = bankfeeds_domain::account::MAX_INTERNAL_ID_CHARS;
/// The longest descriptive text field, in characters.
pub const MAX_TEXT_LEN: usize = bankfeeds_domain::account::MAX_DETAIL_CHARS;

/// An account as the door answers with it; `expand_platform_data` adds what the platform recorded.
/// Money is written with the account currency's minor units; `purchases_apr`, a rate, as sent.
pub fn account_out(a: BankFeedAccount, expand_platform_data: bool) -> AccountOut {
    let d = a.details;
    let m = |x: Option<bankfeeds_domain::Amount>| x.map(|x| x.in_currency(a.currency));
    AccountOut {
        id: a.id,
        account_id: d.account_id,
        internal_bank_account_id: a.internal_bank_account_id,
        parent_bank_feed_account_id: a.parent_bank_feed_account_id,
        last_statement_date: d.last_statement_date,
        next_payment_date: d.next_payment_date,
        transaction_start_date: a.transaction_start_date,
        bank_account_type: a.bank_account_type,
        feed_status: a.feed_status,
        transaction_ready: a.transaction_ready,
        available_balance: m(d.available_balance),
        available_credit: m(d.available_credit),
        bank_account_number: d.bank_account_number,
        credit_limit: m(d.credit_limit),
        currency_code: a.currency,
        current_balance: m(a.current_balance),
        finance_charges: m(d.finance_charges),
        last_statement_balance: m(d.last_statement_balance),
        line_of_business: d.line_of_business,
        minimum_payment_amount: m(d.minimum_payment_amount),
        name: d.name,
        next_payment_amount: m(d.next_payment_amount),
        past_due_amount: m(d.past_due_amount),
        purchases_apr: d.purchases_apr,
        routing_number: d.routing_number,
        last_synced_at: a.last_synced_at,
        created_at: a.created_at,
        updated_at: a.updated_at,
        platform_data: expand_platform_data.then_some(a.platform_data),
        live_feed: None,
    }
}

/// A live feed as the account shows it.
pub fn live_feed_out(f: bankfeeds_store::LiveFeed) -> LiveFeedOut {
    LiveFeedOut {
        feed_status: f.state,
        error_code: f.error_code,
        error_detail: f.error_detail,
        updated_at: f.updated_at,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountListParams {
    /// The connection's access token.
    #[allow(dead_code)]
    #[param(required = true, min_length = 1)]
    pub access_token: Option<String>,
    pub cursor: Option<String>,
    /// Rows per page: 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// e.g. `updated_at >= 2024-01-01 AND last_synced_at < 2024-02-01T00:00:00Z`.
    pub filter: Option<String>,
    /// `updated_at` or `last_synced_at`, then `ASC` (default) or `DESC`; default `updated_at DESC`.
    pub sort: Option<String>,
    /// `platform_data` to include the platform's record of each feed.
    pub expand: Option<String>,
    /// Deprecated (use `filter`): accounts with `updated_at` at or after this Unix time in
    /// milliseconds (1900 to 9999). ANDed with `filter` and the others.
    #[param(minimum = -2_208_988_800_000_i64, maximum = 253_402_300_799_999_i64)]
    pub updated_at_min: Option<i64>,
    /// Deprecated (use `filter`): accounts with `updated_at` at or before this Unix time in
    /// milliseconds (1900 to 9999).
    #[param(minimum = -2_208_988_800_000_i64, maximum = 253_402_300_799_999_i64)]
    pub updated_at_max: Option<i64>,
    /// Deprecated (use `filter`): accounts with `last_synced_at` at or after this Unix time in
    /// milliseconds (1900 to 9999); never-synced accounts are left out.
    #[param(minimum = -2_208_988_800_000_i64, maximum = 253_402_300_799_999_i64)]
    pub last_synced_at_min: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountGetParams {
    /// The connection's access token.
    #[allow(dead_code)]
    #[param(required = true, min_length = 1)]
    pub access_token: Option<String>,
    pub expand: Option<String>,
}
