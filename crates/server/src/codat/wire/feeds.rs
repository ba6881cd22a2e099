//! Bank feeds of a data connection: its OTP, the linked company's information, and account
//! mapping.

use bankfeeds_domain::Amount;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A one-time password for the connection's link (a new one cancels the previous).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Otp {
    pub otp: String,
    #[schema(format = DateTime)]
    pub expiry: String,
}

/// The platform company the customer linked the connection to.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyInformation {
    pub company_name: String,
    /// The currency of its first connected feed (`USD` when there is none).
    pub base_currency: String,
    /// Its connected feeds are in more than one currency.
    pub multicurrency_enabled: bool,
}

/// Which account of the platform company a source account feeds.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountMapping {
    pub source_account_id: String,
    pub source_account_name: Option<String>,
    pub source_account_number: Option<String>,
    pub source_balance: Option<Amount>,
    pub source_currency: String,
    /// Set once connected.
    pub target_account_id: Option<String>,
    pub target_account_name: Option<String>,
    /// The source account's status (`pending`, `connected`, …).
    pub status: String,
    /// What `POST …/mapping` may name as `targetAccountId` (empty until the connection is
    /// linked to a company).
    pub target_account_options: Vec<TargetAccount>,
    #[schema(format = DateTime)]
    pub feed_start_date: Option<String>,
}

/// An account of the platform company a source account may feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetAccount {
    pub id: String,
    pub name: String,
    pub balance: Option<Amount>,
    pub account_number: Option<String>,
}

/// `POST …/bankFeedAccounts/mapping` (Xero and NetSuite).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MappingIn {
    pub source_account_id: Option<String>,
    /// One of the mapping's `targetAccountOptions`.
    pub target_account_id: Option<String>,
    /// Default: the account's own start date, else now.
    pub feed_start_date: Option<String>,
}

/// What a mapping did.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MappingResult {
    pub source_account_id: String,
    pub target_account_id: String,
    pub status: String,
    /// Always null: a refused mapping is an error answer.
    pub error: Option<String>,
}
