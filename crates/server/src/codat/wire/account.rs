//! Source accounts: the FI's accounts a company may connect.

use bankfeeds_domain::Amount;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A source account, in the model it was created with: V2 (with `routingInfo`, and
/// `accountInfo` when it was given) or v1 (without either).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceAccount {
    /// The FI's own id of the account (unique on the connection).
    pub id: String,
    pub account_name: Option<String>,
    /// V2: `checking`, `savings`, `loan`, `creditCard`, `prepaidCard`; v1: as sent.
    pub account_type: Option<String>,
    pub account_number: Option<String>,
    pub sort_code: Option<String>,
    /// ISO 4217.
    pub currency: String,
    pub balance: Option<Amount>,
    #[schema(format = DateTime)]
    pub modified_date: String,
    /// `pending`, `connected`, `connecting`, `disconnected`.
    pub status: String,
    #[schema(format = DateTime)]
    pub feed_start_date: Option<String>,
    /// V2 only, always: `{bankCode, type}` as the FI sent it (Codat's default
    /// `{"bankCode": null, "type": "bankcode"}` when it sent none).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub routing_info: Option<Value>,
    /// V2 only, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub account_info: Option<Value>,
}

/// What a create or update may carry (V2 and v1 fields together; both camelCase).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceAccountIn {
    /// Required on create: the FI's id of the account.
    pub id: Option<String>,
    pub account_name: Option<String>,
    pub account_type: Option<String>,
    pub account_number: Option<String>,
    pub sort_code: Option<String>,
    /// ISO 4217 (default `USD`).
    pub currency: Option<String>,
    pub balance: Option<Amount>,
    pub modified_date: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub routing_info: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub account_info: Option<Value>,
    /// On update, only `disconnected`.
    pub status: Option<String>,
    /// Ignored: the customer chooses the start date when linking.
    pub feed_start_date: Option<String>,
}

/// `POST …/bankFeedAccounts/batch` answers one per account sent, in order.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchItemResult {
    pub source_account_id: String,
    pub result: BatchItemOutcome,
}

/// `statusCode` 201 with the account, or the refusal's status (as a string, as Codat sends
/// it) with its message.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchItemOutcome {
    pub status_code: ItemStatus,
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<SourceAccount>,
}

/// A batch item's status: the number 201 when created, the refusal's status as a string
/// (`"400"`) otherwise, as Codat's own answers carry them.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ItemStatus {
    Created(u16),
    Refused(String),
}

/// A username and password for the customer to type into QuickBooks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// `POST …/connectionInfo/bankFeedAccounts` answers as it was asked: one account for one, a
/// list for a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum OneOrMore {
    One(Box<SourceAccount>),
    More(Vec<SourceAccount>),
}
