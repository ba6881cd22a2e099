//! Bank feed accounts: the FI's bank and card accounts a customer can link to a platform.

pub mod change;
pub mod deprecated_filter;

pub use change::{decide_create, decide_patch, AccountRefusal};

use serde::{Deserialize, Serialize};

use crate::currency::Currency;
use crate::profile::PlatformProfile;
use crate::{Amount, ConnectionId, OrgId, Timestamp};

crate::define_id!(
    /// A bank feed account (Rutter's "bank feed" id).
    BankFeedAccountId
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BankAccountType {
    Bank,
    CreditCard,
}

str_enum!(BankAccountType {
    Bank => "bank",
    CreditCard => "credit_card",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedStatus {
    Active,
    Inactive,
}

str_enum!(FeedStatus {
    Active => "active",
    Inactive => "inactive",
});

/// The FI's descriptive and credit fields: stored as one document, changed by create/PATCH.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDetails {
    pub name: Option<String>,
    /// The platform (ledger) account this feed maps to, when the FI knows it.
    pub account_id: Option<String>,
    pub bank_account_number: Option<String>,
    pub routing_number: Option<String>,
    pub line_of_business: Option<String>,
    pub available_balance: Option<Amount>,
    pub available_credit: Option<Amount>,
    pub credit_limit: Option<Amount>,
    pub last_statement_balance: Option<Amount>,
    pub last_statement_date: Option<Timestamp>,
    pub minimum_payment_amount: Option<Amount>,
    pub next_payment_amount: Option<Amount>,
    pub next_payment_date: Option<Timestamp>,
    pub past_due_amount: Option<Amount>,
    pub purchases_apr: Option<Amount>,
    pub finance_charges: Option<Amount>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankFeedAccount {
    pub id: BankFeedAccountId,
    pub org_id: OrgId,
    pub connection_id: ConnectionId,
    /// The FI's own id for the account; unique within the connection.
    pub internal_bank_account_id: String,
    pub parent_bank_feed_account_id: Option<BankFeedAccountId>,
    pub bank_account_type: BankAccountType,
    pub currency: Currency,
    pub feed_status: FeedStatus,
    pub transaction_ready: bool,
    pub transaction_start_date: Option<Timestamp>,
    /// Set by transaction batches (`current_balance`) as well as by create/PATCH.
    pub current_balance: Option<Amount>,
    pub details: AccountDetails,
    /// What the platform side recorded about the feed (JSON object), for `expand=platform_data`.
    pub platform_data: Option<serde_json::Value>,
    /// When the platform last ingested this feed.
    pub last_synced_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl BankFeedAccount {
    /// A new account on a connection, with the feed state the platform starts it in.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        org_id: OrgId,
        connection_id: ConnectionId,
        profile: &PlatformProfile,
        internal_bank_account_id: String,
        bank_account_type: BankAccountType,
        currency: Currency,
        now: Timestamp,
    ) -> Self {
        BankFeedAccount {
            id: BankFeedAccountId::new(),
            org_id,
            connection_id,
            internal_bank_account_id,
            parent_bank_feed_account_id: None,
            bank_account_type,
            currency,
            feed_status: if profile.active_at_creation {
                FeedStatus::Active
            } else {
                FeedStatus::Inactive
            },
            transaction_ready: profile.ready_at_creation,
            transaction_start_date: None,
            current_balance: None,
            details: AccountDetails::default(),
            platform_data: None,
            last_synced_at: None,
            created_at: now,
            updated_at: now,
        }
    }
}

impl BankFeedAccount {
    /// `additional_fields.override_existing`: the FI's fields are replaced by `incoming`'s;
    /// identity, feed state (the platform's) and sync history stay. A start date the FI sends
    /// replaces the stored one; none keeps it.
    pub fn overridden_by(self, incoming: &BankFeedAccount) -> BankFeedAccount {
        BankFeedAccount {
            id: self.id,
            created_at: self.created_at,
            feed_status: self.feed_status,
            transaction_ready: self.transaction_ready,
            transaction_start_date: incoming
                .transaction_start_date
                .or(self.transaction_start_date),
            platform_data: self.platform_data,
            last_synced_at: self.last_synced_at,
            updated_at: incoming.created_at,
            ..incoming.clone()
        }
    }
}

/// Sort orders for account lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountSortField {
    UpdatedAt,
    LastSyncedAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDirection {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
}

/// One `field op value` clause of a list filter; clauses are ANDed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeFilter {
    pub field: AccountSortField,
    pub op: CompareOp,
    pub value: Timestamp,
}

/// A position in an account list: the sort value (microseconds; 0 where the value is null)
/// and the id, which breaks ties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountSortKey {
    pub at_micros: i64,
    pub id: BankFeedAccountId,
}

impl AccountSortKey {
    pub fn of(account: &BankFeedAccount, field: AccountSortField) -> Self {
        let at = match field {
            AccountSortField::UpdatedAt => Some(account.updated_at),
            AccountSortField::LastSyncedAt => account.last_synced_at,
        };
        AccountSortKey {
            at_micros: at.map_or(0, |t| t.timestamp_micros()),
            id: account.id,
        }
    }

    pub fn encode(&self) -> String {
        format!("{}|{}", self.at_micros, self.id)
    }

    pub fn decode(s: &str) -> Option<Self> {
        let (at, id) = s.split_once('|')?;
        Some(AccountSortKey {
            at_micros: at.parse().ok()?,
            id: id.parse().ok()?,
        })
    }
}

/// A filtered, sorted page of a connection's accounts.
#[derive(Debug, Clone)]
pub struct AccountQuery {
    pub filters: Vec<TimeFilter>,
    pub sort: AccountSortField,
    pub direction: SortDirection,
    pub after: Option<AccountSortKey>,
    pub limit: u32,
}

/// The feed's state on the platform side: set by the link flow (or a test), not by the FI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedState {
    pub feed_status: FeedStatus,
    pub transaction_ready: bool,
    pub transaction_start_date: Option<Timestamp>,
}

/// A PATCH: absent fields stay, `null` clears a nullable field. Feed state is the platform's
/// to change; the FI may only pause a feed (`deactivate_feed`, Rutter's `status: inactive`),
/// which unlinks it from every platform company until the customer links it again.
#[derive(Debug, Clone, Default)]
pub struct AccountPatch {
    pub deactivate_feed: bool,
    pub internal_bank_account_id: Option<String>,
    pub parent_bank_feed_account_id: Option<Option<BankFeedAccountId>>,
    pub bank_account_type: Option<BankAccountType>,
    pub currency: Option<Currency>,
    pub transaction_start_date: Option<Option<Timestamp>>,
    pub current_balance: Option<Option<Amount>>,
    /// The descriptive fields present in the request, merged over the stored ones.
    pub details: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    #[error("field `{field}`: {message}")]
    InvalidDetail { field: String, message: String },
    #[error("an account cannot be its own parent")]
    OwnParent,
    #[error("field `{field}`: {amount} has more than the {minor_units} decimal places {currency} allows")]
    TooManyDecimals {
        field: &'static str,
        amount: Amount,
        minor_units: u32,
        currency: Currency,
    },
}

impl PatchError {
    /// The API error code for this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            PatchError::InvalidDetail { .. } => "INVALID_FIELD_VALUE",
            PatchError::OwnParent => "PARENT_ACCOUNT_NOT_FOUND",
            PatchError::TooManyDecimals { .. } => "TOO_MANY_DECIMALS",
        }
    }
}

/// The longest `internal_bank_account_id` (the Codat door's source account `id`), in characters.
pub const MAX_INTERNAL_ID_CHARS: usize = 255;
/// The longest descriptive field of an account (name, numbers, line of business), in
/// characters, on every door.
pub const MAX_DETAIL_CHARS: usize = 1000;

impl BankFeedAccount {
    /// The money fields, by name (`purchases_apr` is a rate and not among them).
    pub fn money_fields(&self) -> [(&'static str, Option<Amount>); 9] {
        let d = &self.details;
        [
            ("current_balance", self.current_balance),
            ("available_balance", d.available_balance),
            ("available_credit", d.available_credit),
            ("credit_limit", d.credit_limit),
            ("last_statement_balance", d.last_statement_balance),
            ("minimum_payment_amount", d.minimum_payment_amount),
            ("next_payment_amount", d.next_payment_amount),
            ("past_due_amount", d.past_due_amount),
            ("finance_charges", d.finance_charges),
        ]
    }

    /// Every money field fits the currency's decimal places.
    pub fn check_money(&self) -> Result<(), PatchError> {
        for (field, amount) in self.money_fields() {
            if let Some(amount) = amount {
                if !amount.fits_minor_units(self.currency.minor_units()) {
                    return Err(PatchError::TooManyDecimals {
                        field,
                        amount,
                        minor_units: self.currency.minor_units(),
                        currency: self.currency,
                    });
                }
            }
        }
        Ok(())
    }
}

impl AccountPatch {
    /// Applies the patch to a stored account, stamping `updated_at`.
    pub fn apply(&self, account: &mut BankFeedAccount, now: Timestamp) -> Result<(), PatchError> {
        if let Some(v) = &self.internal_bank_account_id {
            account.internal_bank_account_id = v.clone();
        }
        if let Some(v) = self.parent_bank_feed_account_id {
            if v == Some(account.id) {
                return Err(PatchError::OwnParent);
            }
            account.parent_bank_feed_account_id = v;
        }
        if let Some(v) = self.bank_account_type {
            account.bank_account_type = v;
        }
        if let Some(v) = self.currency {
            account.currency = v;
        }
        if let Some(v) = self.transaction_start_date {
            account.transaction_start_date = v;
        }
        if let Some(v) = self.current_balance {
            account.current_balance = v;
        }
        if !self.details.is_empty() {
            account.details = merge_details(&account.details, &self.details)?;
        }
        account.check_money()?;
        account.updated_at = now;
        Ok(())
    }
}

/// Overlays the given fields on stored details; each field is checked by its type.
pub fn merge_details(
    base: &AccountDetails,
    overlay: &serde_json::Map<String, serde_json::Value>,
) -> Result<AccountDetails, PatchError> {
    let serde_json::Value::Object(mut merged) =
        serde_json::to_value(base).expect("details serialise")
    else {
        unreachable!("details serialise to an object")
    };
    for (field, value) in overlay {
        merged.insert(field.clone(), value.clone());
        // Check field by field so the error names the one that is wrong.
        serde_json::from_value::<AccountDetails>(serde_json::Value::Object(merged.clone()))
            .map_err(|e| PatchError::InvalidDetail {
                field: field.clone(),
                message: e.to_string(),
            })?;
    }
    Ok(serde_json::from_value(serde_json::Value::Object(merged)).expect("checked above"))
}

/// The names of the descriptive fields, for the API to route request fields.
pub const DETAIL_FIELDS: &[&str] = &[
    "name",
    "account_id",
    "bank_account_number",
    "routing_number",
    "line_of_business",
    "available_balance",
    "available_credit",
    "credit_limit",
    "last_statement_balance",
    "last_statement_date",
    "minimum_payment_amount",
    "next_payment_amount",
    "next_payment_date",
    "past_due_amount",
    "purchases_apr",
    "finance_charges",
];
