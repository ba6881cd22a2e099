//! Push operations: a batch of bank transactions pushed to a source account, and its outcome.

use std::collections::BTreeMap;

use bankfeeds_domain::codat::bank_transaction::BankTransaction;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::Validation;

/// `POST …/push/bankAccounts/{accountId}/bankTransactions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BankTransactionsIn {
    /// The path's account id, when sent.
    pub account_id: Option<String>,
    /// At most 1000, oldest first.
    pub transactions: Option<Vec<BankTransaction>>,
}

/// A push operation: `Pending` (202) until a worker applies it, then `Success` (200, one
/// `Created` change per new transaction), `Failed` (the refusal's status, `validation.errors`
/// naming each offending transaction) or `TimedOut` (504: `timeoutInMinutes` passed first and
/// nothing was applied).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushOperation {
    #[schema(format = Uuid)]
    pub company_id: String,
    #[schema(format = Uuid)]
    pub push_operation_key: String,
    #[schema(format = Uuid)]
    pub data_connection_key: String,
    #[schema(format = DateTime)]
    pub requested_on_utc: String,
    #[schema(format = DateTime)]
    pub completed_on_utc: Option<String>,
    pub timeout_in_minutes: Option<i64>,
    /// `Pending`, `Success`, `Failed` or `TimedOut`.
    pub status: String,
    pub status_code: u16,
    /// Always `bankTransactions`.
    pub data_type: String,
    pub error_message: Option<String>,
    pub validation: Validation,
    pub changes: Vec<Change>,
    /// The pushed body, on the create answer only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
}

/// What a finished push keeps as its outcome (the job's stored answer), laid over the
/// operation when it is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushOutcome {
    pub status: String,
    pub status_code: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<Change>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,
}

impl PushOutcome {
    /// A failed push with this status and message.
    pub fn failed(status_code: u16, message: impl Into<String>) -> Self {
        PushOutcome {
            status: if status_code == 504 {
                "TimedOut"
            } else {
                "Failed"
            }
            .into(),
            status_code,
            error_message: Some(message.into()),
            changes: None,
            validation: None,
        }
    }
}

/// One record a push created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// Always `Created`.
    #[serde(rename = "type")]
    pub kind: String,
    pub record_ref: RecordRef,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordRef {
    /// The transaction's `id`.
    pub id: String,
    /// Always `bankTransactions`.
    pub data_type: String,
}

/// `GET …/options/bankAccounts/{accountId}/bankTransactions`: what a push takes, property by
/// property.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushOption {
    /// `Object`, `Array`, `String`, `Number`, `DateTime`.
    #[serde(rename = "type")]
    pub kind: String,
    pub display_name: String,
    pub description: String,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub properties: Option<BTreeMap<String, PushOption>>,
}

impl PushOption {
    pub fn leaf(kind: &str, name: &str, description: &str, required: bool) -> Self {
        PushOption {
            kind: kind.into(),
            display_name: name.into(),
            description: description.into(),
            required,
            properties: None,
        }
    }
}
