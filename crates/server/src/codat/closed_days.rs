//! `POST …/connectionInfo/bankFeedAccounts/{accountId}/closedDays` (the hub's own operation,
//! beside Codat's, as the Rutter-shaped door's `…/accounts/{id}/closed_days`): the FI declares
//! a day range closed, with no transactions, so the source account's continuity report tells
//! it apart from days nothing was sent for. The rules are `domain::continuity::gaps`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use bankfeeds_domain::continuity::gaps::{closed_range, ClosedDaysRefusal};
use bankfeeds_store::DeclaredClosed;

use super::error::{CodatError, CodatResult};
use super::responses::{BodyRefused, Conflicting, Missing, Refused};
use super::source_accounts::source_account_of;
use super::wire::{ClosedDays, ClosedDaysIn};
use super::{time, CodatAuth, CodatJson};
use crate::state::AppState;

/// Declare a day range closed for the source account: the FI posted, and will post, no
/// transactions on these days (a bank holiday, a weekend, a branch closure). The continuity
/// report lists it under `closedDays` and does not count it as silence when it judges whether
/// the feed is stale. Declaring the same range again answers with the stored declaration.
/// Refused (409 `CLOSED_DAY_HAS_TRANSACTIONS`) when a transaction is posted on one of the days.
#[utoipa::path(
    post,
    path = "/codat/companies/{companyId}/connections/{connectionId}/connectionInfo/bankFeedAccounts/{accountId}/closedDays",
    operation_id = "declare-source-account-closed-days",
    tag = "Source accounts",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ("connectionId" = uuid::Uuid, Path, description = "The data connection's id"), ("accountId" = String, Path, description = "The source account's id (the FI's own id of the account)")),
    request_body = ClosedDaysIn,
    responses(
        (status = 200, description = "The declaration (the stored one when it was declared before)", body = ClosedDays),
        Refused, Missing, Conflicting, BodyRefused,
    ),
)]
pub async fn declare(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path((company, connection, account)): Path<(String, String, String)>,
    CodatJson(body): CodatJson<ClosedDaysIn>,
) -> CodatResult<Json<ClosedDays>> {
    let (cc, a) = source_account_of(&state, org.id, (&company, &connection, &account)).await?;
    let (from, to) = closed_range(&body.from, &body.to).map_err(|r| {
        let field = match r {
            ClosedDaysRefusal::InvalidDate(field) => field,
            ClosedDaysRefusal::FromAfterTo | ClosedDaysRefusal::RangeTooLong => "to",
        };
        CodatError::field(r.code(), field, r.to_string(), "ClosedDaysValidator")
    })?;
    let done = state
        .store
        .declare_closed_days(cc.connection.id, a.id, from, to, state.clock.now())
        .await?;
    match done {
        DeclaredClosed::Declared(c) => Ok(Json(ClosedDays {
            id: c.id.to_string(),
            from: c.from.to_string(),
            to: c.to.to_string(),
            declared_at: time(c.declared_at),
        })),
        DeclaredClosed::HasPostings(days) => {
            let listed: Vec<String> = days.iter().map(|d| d.to_string()).collect();
            Err(CodatError::new(
                StatusCode::CONFLICT,
                "CLOSED_DAY_HAS_TRANSACTIONS",
                format!(
                    "transactions are posted on {} of these days ({}): they were not closed",
                    days.len(),
                    listed.join(", ")
                ),
            ))
        }
        DeclaredClosed::NotFound => Err(CodatError::source_account_not_found(&account)),
    }
}
