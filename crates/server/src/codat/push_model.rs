//! `GET …/options/bankAccounts/{accountId}/bankTransactions`: what a push takes, property by
//! property, with the platform's date rule.

use axum::Json;

use super::error::CodatResult;
use super::responses::{Missing, Refused};
use super::source_accounts::SourceAccountAt;
use super::wire::PushOption;

/// `GET …/options/bankAccounts/{accountId}/bankTransactions`: what a push takes.
#[utoipa::path(
    get,
    path = "/codat/companies/{companyId}/connections/{connectionId}/options/bankAccounts/{accountId}/bankTransactions",
    operation_id = "get-create-bank-transactions-model",
    tag = "Transactions",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id"), ("accountId" = String, Path, description = "The source account's id (the FI's own id of the account)")),
    responses((status = 200, description = "What a push takes", body = PushOption), Refused, Missing),
)]
pub async fn create_model(
    SourceAccountAt(cc, _): SourceAccountAt,
) -> CodatResult<Json<PushOption>> {
    let qbo = cc.connection.platform == bankfeeds_domain::Platform::IntuitBankFeeds;
    let leaf = PushOption::leaf;
    let date = if qbo {
        "No later than today, at most 7 days before the feed start date."
    } else {
        "No later than today."
    };
    let transaction = [
        ("id", leaf("String", "ID", "Unique per source account; a re-send with the same content is ignored.", true)),
        ("date", leaf("DateTime", "Cleared on date", date, true)),
        ("description", leaf("String", "Description", "Shown as the transaction's name.", qbo)),
        ("counterparty", leaf("String", "Counterparty", "The payee.", false)),
        ("reference", leaf("String", "Reference", "A memo.", false)),
        ("amount", leaf("Number", "Amount", "Negative for money out.", true)),
        ("balance", leaf("Number", "Balance", "The account balance after this transaction; the last one becomes the account's balance.", true)),
        ("transactionType", leaf("String", "Transaction type", "One of Codat's BankTransactionType values.", false)),
    ];
    let transactions = PushOption {
        properties: Some(transaction.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()),
        ..leaf(
            "Array",
            "Transactions",
            "At most 1000, in chronological order, none in the future, none older than the newest already pushed.",
            true,
        )
    };
    Ok(Json(PushOption {
        properties: Some(
            [
                (
                    "accountId".to_owned(),
                    leaf("String", "Account ID", "The source account's id.", true),
                ),
                ("transactions".to_owned(), transactions),
            ]
            .into_iter()
            .collect(),
        ),
        ..leaf(
            "Object",
            "Bank Transactions",
            "Posted transactions of one source account, oldest first, at most 1000 per push.",
            true,
        )
    }))
}
