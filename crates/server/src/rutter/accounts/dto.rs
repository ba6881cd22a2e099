//! The bank feed account's request and answer shapes (the OpenAPI schemas), and how an
//! account is rendered.

use bankfeeds_domain::account::{BankAccountType, FeedStatus};
use bankfeeds_domain::{Amount, BankFeedAccount, BankFeedAccountId, Currency, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::time_param;
use crate::rutter::connections::ConnectionRefOut;

/// The longest `internal_bank_account_id`, in characters.
pub const MAX_ID_LEN: usize = bankfeeds_domain::account::MAX_INTERNAL_ID_CHARS;
/// The longest descriptive text field, in characters.
pub const MAX_TEXT_LEN: usize = bankfeeds_domain::account::MAX_DETAIL_CHARS;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    #[default]
    PreferSync,
    Async,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdditionalFieldsIn {
    /// Update the account with the same `internal_bank_account_id` instead of refusing (409).
    #[serde(default)]
    pub override_existing: bool,
    #[serde(default)]
    pub skip_account_link: bool,
}

/// The FI's fields of a bank feed account. Read-only fields (`id`, `feed_status`,
/// `transaction_ready`, `last_synced_at`) are ignored if sent: the platform owns the feed state.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountIn {
    /// The FI's own id for the account; unique within the connection.
    #[schema(max_length = 255, pattern = r"\S")]
    pub internal_bank_account_id: String,
    pub bank_account_type: BankAccountType,
    pub currency_code: Currency,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub name: Option<String>,
    /// The platform (ledger) account this feed maps to, if known.
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub parent_bank_feed_account_id: Option<BankFeedAccountId>,
    #[serde(default, deserialize_with = "time_param::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub transaction_start_date: Option<Timestamp>,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub bank_account_number: Option<String>,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub routing_number: Option<String>,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub line_of_business: Option<String>,
    #[serde(default)]
    pub current_balance: Option<Amount>,
    #[serde(default)]
    pub available_balance: Option<Amount>,
    #[serde(default)]
    pub available_credit: Option<Amount>,
    #[serde(default)]
    pub credit_limit: Option<Amount>,
    #[serde(default)]
    pub last_statement_balance: Option<Amount>,
    #[serde(default, deserialize_with = "time_param::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_statement_date: Option<Timestamp>,
    #[serde(default)]
    pub minimum_payment_amount: Option<Amount>,
    #[serde(default)]
    pub next_payment_amount: Option<Amount>,
    #[serde(default, deserialize_with = "time_param::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_payment_date: Option<Timestamp>,
    #[serde(default)]
    pub past_due_amount: Option<Amount>,
    /// A rate, not money: not checked against the currency's decimal places.
    #[serde(default)]
    pub purchases_apr: Option<Amount>,
    #[serde(default)]
    pub finance_charges: Option<Amount>,
    #[serde(default)]
    pub additional_fields: Option<AdditionalFieldsIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountCreateIn {
    pub bank_feed_account: AccountIn,
    /// Accepted for compatibility; account writes always complete synchronously.
    #[serde(default)]
    pub response_mode: Option<ResponseMode>,
}

/// A PATCH body: the fields to change (`null` clears a nullable field).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatchIn {
    /// Read field by field by `patch::patch_from`, which tells `null` from absent; documented
    /// as [`AccountPatchFields`].
    #[schema(value_type = AccountPatchFields)]
    pub bank_feed_account: serde_json::Map<String, serde_json::Value>,
}

/// What a PATCH's `status` may say: the FI may only pause a feed.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
#[serde(rename_all = "snake_case")]
pub enum FeedPause {
    Inactive,
}

/// The fields a PATCH may change, for the document only (the body is read by
/// `patch::patch_from`): only those sent change, `null` clears one that may be empty, and any
/// other field is refused (`UNKNOWN_FIELD`, or `READ_ONLY_FIELD` for what the hub sets).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct AccountPatchFields {
    /// `inactive` pauses the feed: it leaves the platform (`feed_status` `inactive`, not
    /// `transaction_ready`) until the customer links it again.
    #[schema(required = false)]
    status: FeedPause,
    #[schema(required = false, max_length = 255, pattern = r"\S")]
    internal_bank_account_id: String,
    #[schema(required = false)]
    bank_account_type: BankAccountType,
    #[schema(required = false)]
    currency_code: Currency,
    parent_bank_feed_account_id: Option<BankFeedAccountId>,
    #[schema(value_type = Option<String>, format = DateTime)]
    transaction_start_date: Option<Timestamp>,
    current_balance: Option<Amount>,
    #[schema(max_length = 1000)]
    name: Option<String>,
    #[schema(max_length = 1000)]
    account_id: Option<String>,
    #[schema(max_length = 1000)]
    bank_account_number: Option<String>,
    #[schema(max_length = 1000)]
    routing_number: Option<String>,
    #[schema(max_length = 1000)]
    line_of_business: Option<String>,
    available_balance: Option<Amount>,
    available_credit: Option<Amount>,
    credit_limit: Option<Amount>,
    last_statement_balance: Option<Amount>,
    #[schema(value_type = Option<String>, format = DateTime)]
    last_statement_date: Option<Timestamp>,
    minimum_payment_amount: Option<Amount>,
    next_payment_amount: Option<Amount>,
    #[schema(value_type = Option<String>, format = DateTime)]
    next_payment_date: Option<Timestamp>,
    past_due_amount: Option<Amount>,
    purchases_apr: Option<Amount>,
    finance_charges: Option<Amount>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountOut {
    pub id: BankFeedAccountId,
    pub account_id: Option<String>,
    pub internal_bank_account_id: String,
    pub parent_bank_feed_account_id: Option<BankFeedAccountId>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_statement_date: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_payment_date: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub transaction_start_date: Option<Timestamp>,
    pub bank_account_type: BankAccountType,
    pub feed_status: FeedStatus,
    pub transaction_ready: bool,
    pub available_balance: Option<Amount>,
    pub available_credit: Option<Amount>,
    pub bank_account_number: Option<String>,
    pub credit_limit: Option<Amount>,
    pub currency_code: Currency,
    pub current_balance: Option<Amount>,
    pub finance_charges: Option<Amount>,
    pub last_statement_balance: Option<Amount>,
    pub line_of_business: Option<String>,
    pub minimum_payment_amount: Option<Amount>,
    pub name: Option<String>,
    pub next_payment_amount: Option<Amount>,
    pub past_due_amount: Option<Amount>,
    pub purchases_apr: Option<Amount>,
    pub routing_number: Option<String>,
    /// When the platform last ingested this feed; null until it has.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_synced_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Only with `expand=platform_data`: what the platform recorded about the feed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub platform_data: Option<Option<serde_json::Value>>,
}

impl AccountOut {
    pub fn new(a: BankFeedAccount, expand_platform_data: bool) -> Self {
        let d = a.details;
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
            available_balance: d.available_balance,
            available_credit: d.available_credit,
            bank_account_number: d.bank_account_number,
            credit_limit: d.credit_limit,
            currency_code: a.currency,
            current_balance: a.current_balance,
            finance_charges: d.finance_charges,
            last_statement_balance: d.last_statement_balance,
            line_of_business: d.line_of_business,
            minimum_payment_amount: d.minimum_payment_amount,
            name: d.name,
            next_payment_amount: d.next_payment_amount,
            past_due_amount: d.past_due_amount,
            purchases_apr: d.purchases_apr,
            routing_number: d.routing_number,
            last_synced_at: a.last_synced_at,
            created_at: a.created_at,
            updated_at: a.updated_at,
            platform_data: expand_platform_data.then_some(a.platform_data),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountEnvelopeOut {
    pub bank_feed_account: AccountOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountGetOut {
    pub connection: ConnectionRefOut,
    pub bank_feed_account: AccountOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountListOut {
    pub connection: ConnectionRefOut,
    pub bank_feed_accounts: Vec<AccountOut>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountDeletedOut {
    pub code: &'static str,
    pub success: bool,
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
