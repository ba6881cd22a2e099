//! `GET /companies/{companyId}/push`: the company's push operations, paged, with `query` and
//! `orderBy`. Listed from the jobs' heads (no bodies: a push's request is up to megabytes, and
//! a company may have thousands); only the page is read and rendered whole, unless the query
//! reads what only a stored answer holds.

use axum::extract::{Path, State};
use axum::Json;
use bankfeeds_domain::job::JobKind;
use bankfeeds_domain::{JobHead, JobId};
use serde_json::Value;

use super::company_of;
use super::error::CodatResult;
use super::paging::Listing;
use super::push::{deadline_at, head_operation, push_operation, settle};
use super::responses::{ListQuery, Missing, Refused};
use super::wire::Page;
use super::wire::PushOperation;
use super::CodatAuth;
use crate::state::AppState;

/// The company's push operations (all its connections'), newest first, without their bodies;
/// those past their `timeoutInMinutes` are settled first.
async fn company_heads(
    state: &AppState,
    org: bankfeeds_domain::OrgId,
    company: &str,
) -> CodatResult<Vec<JobHead>> {
    let customer = company_of(state, org, company).await?;
    let mut heads = Vec::new();
    for cc in state
        .store
        .list_customer_connections(org, customer.id)
        .await?
    {
        let listed = state
            .store
            .list_connection_job_heads(org, cc.connection.id, JobKind::CodatPush, 10_000)
            .await?;
        for mut head in listed {
            let deadline = deadline_at(&head.url, head.created_at);
            if !head.status.is_finished() && deadline.is_some_and(|d| d <= state.clock.now()) {
                if let Some(job) = state.store.get_job(org, head.id).await? {
                    head = settle(state, job).await?.head();
                }
            }
            heads.push(head);
        }
    }
    heads.sort_by_key(|h| std::cmp::Reverse(h.created_at));
    Ok(heads)
}

/// What a push operation's head alone decides, for filtering and ordering a list.
const HEAD_FIELDS: &[&str] = &[
    "companyId",
    "pushOperationKey",
    "dataConnectionKey",
    "requestedOnUtc",
    "completedOnUtc",
    "timeoutInMinutes",
    "status",
    "statusCode",
    "dataType",
];

/// `GET /companies/{companyId}/push`: paged, with `query` and `orderBy`.
#[utoipa::path(
    get,
    path = "/codat/companies/{companyId}/push",
    operation_id = "list-push-operations",
    tag = "Transactions",
    params(("companyId" = uuid::Uuid, Path, description = "The company's id"), ListQuery),
    responses((status = 200, description = "A page of push operations, newest first", body = Page<PushOperation>), Refused, Missing),
)]
pub async fn list(
    State(state): State<AppState>,
    CodatAuth(org): CodatAuth,
    Path(company): Path<String>,
    listing: Listing,
) -> CodatResult<Json<Page<Value>>> {
    let heads = company_heads(&state, org.id, &company).await?;
    let whole = |id: JobId| {
        let state = &state;
        async move { state.store.get_job(org.id, id).await }
    };
    if listing.params.reads_only(HEAD_FIELDS) {
        // Filter, order and page on the heads; read whole only the jobs on the page.
        let items = heads.iter().map(|h| head_operation(h, &company)).collect();
        let mut page = listing.page(items);
        for item in &mut page.results {
            let id = item["pushOperationKey"]
                .as_str()
                .and_then(|k| k.parse().ok());
            if let Some(job) = match id {
                Some(id) => whole(id).await?,
                None => None,
            } {
                *item = serde_json::to_value(push_operation(&job, &company, false))
                    .expect("a push operation serialises");
            }
        }
        return Ok(Json(page));
    }
    // The query reads what only the stored answer holds (e.g. `errorMessage`): render each job
    // whole, one at a time, keeping only what is shown of it.
    let mut items = Vec::with_capacity(heads.len());
    for head in &heads {
        if let Some(job) = whole(head.id).await? {
            items.push(push_operation(&job, &company, false));
        }
    }
    Ok(Json(listing.page(items)))
}
