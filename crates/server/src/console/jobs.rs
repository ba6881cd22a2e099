//! Failed jobs (`/console/jobs?account=`): the organisation's newest failures with their
//! answers' codes and messages, optionally those of one feed.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use bankfeeds_domain::BankFeedAccountId;
use serde::Deserialize;

use super::feeds::{job_row, JobRow};
use super::ConsoleSession;
use crate::state::AppState;
use crate::web::{self, Chrome, Csrf, PageError};

/// Failures shown.
const SHOWN: u32 = 100;

#[derive(Template)]
#[template(path = "console/jobs.html")]
struct JobsPage {
    chrome: Chrome,
    csrf: String,
    email: String,
    account: String,
    jobs: Vec<JobRow>,
}

#[derive(Deserialize)]
pub(super) struct JobsQuery {
    account: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    session: ConsoleSession,
    Query(query): Query<JobsQuery>,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let account = query.account.unwrap_or_default().trim().to_owned();
    let filter: Option<BankFeedAccountId> = if account.is_empty() {
        None
    } else {
        Some(account.parse().map_err(|_| PageError::not_found("feed"))?)
    };
    let jobs = state
        .store
        .list_failed_jobs(session.operator.org_id, filter, SHOWN)
        .await?;
    let body = JobsPage {
        chrome: super::chrome("Failed jobs"),
        csrf: csrf.token().to_owned(),
        email: session.operator.email,
        account,
        jobs: jobs.iter().map(job_row).collect(),
    };
    Ok(csrf.attach(web::render(&body)?, &state))
}
