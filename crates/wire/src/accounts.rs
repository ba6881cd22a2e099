//! `/versioned/accounting/bank_feeds/accounts`: the FI's bank and card accounts on a connection.

use bankfeeds_domain::account::{BankAccountType, FeedStatus};
use bankfeeds_domain::live::LiveFeedState;
use bankfeeds_domain::{Amount, BankFeedAccountId, Currency, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::connections::ConnectionRefOut;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    #[default]
    PreferSync,
    Async,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
    #[serde(default, deserialize_with = "crate::time::option")]
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
    #[serde(default, deserialize_with = "crate::time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_statement_date: Option<Timestamp>,
    #[serde(default)]
    pub minimum_payment_amount: Option<Amount>,
    #[serde(default)]
    pub next_payment_amount: Option<Amount>,
    #[serde(default, deserialize_with = "crate::time::option")]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountCreateIn {
    pub bank_feed_account: AccountIn,
    /// `prefer_sync` (the default) writes the account and answers with it; `async` answers at
    /// once with the job that will write it (`GET` its `response_url`). Also taken in the query.
    #[serde(default)]
    pub response_mode: Option<ResponseMode>,
}

/// A PATCH body: the fields to change (`null` clears a nullable field).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatchIn {
    /// Read field by field by `patch::patch_from`, which tells `null` from absent; documented
    /// as [`AccountPatchFields`].
    #[schema(value_type = AccountPatchFields)]
    pub bank_feed_account: serde_json::Map<String, serde_json::Value>,
    /// As on create: `async` answers at once with the job that will apply the change.
    #[serde(default)]
    pub response_mode: Option<ResponseMode>,
}

/// A DELETE's optional body.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountDeleteIn {
    /// As on create: `async` answers at once with the job that will delete the account.
    #[serde(default)]
    pub response_mode: Option<ResponseMode>,
}

/// What an account create or PATCH answers with 200: the account as written, or, with
/// `response_mode: async`, the job that will write it (tell them apart by
/// `bank_feed_account`). For the document only; the handler writes either.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AccountWriteAnswer {
    Written(Box<AccountEnvelopeOut>),
    Queued(crate::jobs::AsyncEnvelopeOut),
}

/// What a DELETE answers with 200: that the account is deleted, or, with
/// `response_mode: async`, the job that will delete it. For the document only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AccountDeleteAnswer {
    Deleted(AccountDeletedOut),
    Queued(crate::jobs::AsyncEnvelopeOut),
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
    /// Only for an account delivered live to the platform's own API (a live Xero connector):
    /// the live feed's state and, when it stopped or was refused, why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_feed: Option<LiveFeedOut>,
}

/// A live feed as the FI sees it: `feed_status` says whether statements are delivered, and
/// `error_code` (the platform's error `type`, e.g. Xero's `invalid-end-balance`, or the hub's
/// `consent-revoked`) what to act on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LiveFeedOut {
    pub feed_status: LiveFeedState,
    pub error_code: Option<String>,
    pub error_detail: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// A live feed restarted.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LiveFeedEnvelopeOut {
    pub live_feed: LiveFeedOut,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccountEnvelopeOut {
    pub bank_feed_account: AccountOut,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccountGetOut {
    pub connection: ConnectionRefOut,
    pub bank_feed_account: AccountOut,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccountListOut {
    pub connection: ConnectionRefOut,
    pub bank_feed_accounts: Vec<AccountOut>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccountDeletedOut {
    pub code: String,
    pub success: bool,
}
