//! Connections and feeds: the search (`/console/connections?q=`, by customer name, account
//! name, account number or the FI's internal account id, paged) and a feed's page
//! (`/console/accounts/{id}`): its platform, state, balance, continuity, last push and
//! ingest, and its recent jobs with their answers' error codes. Another organisation's feed
//! is a 404, as an unknown one is.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use bankfeeds_domain::account::FeedStatus;
use bankfeeds_domain::continuity::summarise;
use bankfeeds_domain::sandbox::last4;
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, Job};
use serde::Deserialize;

use super::ConsoleSession;
use crate::state::AppState;
use crate::web::{self, Chrome, Csrf, PageError};

/// Rows per page of the search.
const PAGE_ROWS: u32 = 25;
/// Jobs shown on a feed's page.
const RECENT_JOBS: u32 = 20;
/// The longest search accepted.
const MAX_QUERY_CHARS: usize = 100;

pub(super) struct HitRow {
    pub customer: String,
    pub platform: &'static str,
    pub connection_id: String,
    /// `None` for a connection with no feed yet.
    pub account: Option<AccountCells>,
}

pub(super) struct AccountCells {
    pub id: String,
    pub name: String,
    pub number: String,
    pub status: &'static str,
    pub balance: String,
}

/// What a page shows of an account number: its last four digits.
fn masked(number: Option<&str>) -> String {
    match number.and_then(last4) {
        Some(l4) => format!("•••• {l4}"),
        None => String::new(),
    }
}

fn status(a: &BankFeedAccount) -> &'static str {
    match a.feed_status {
        FeedStatus::Active => "linked",
        FeedStatus::Inactive => "pending",
    }
}

fn balance(a: &BankFeedAccount) -> String {
    a.current_balance
        .map(|b| {
            format!(
                "{} {}",
                web::money(b.as_decimal(), a.currency),
                a.currency.code()
            )
        })
        .unwrap_or_default()
}

fn cells(a: &BankFeedAccount) -> AccountCells {
    AccountCells {
        id: a.id.to_string(),
        name: a.details.name.clone().unwrap_or_default(),
        number: masked(a.details.bank_account_number.as_deref()),
        status: status(a),
        balance: balance(a),
    }
}

#[derive(Template)]
#[template(path = "console/connections.html")]
struct ConnectionsPage {
    chrome: Chrome,
    csrf: String,
    email: String,
    q: String,
    rows: Vec<HitRow>,
    page: u64,
    /// Links to the previous and next pages (empty: none).
    prev: String,
    next: String,
}

#[derive(Deserialize)]
pub(super) struct SearchQuery {
    q: Option<String>,
    page: Option<u64>,
}

fn page_link(q: &str, page: u64) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", q)
        .append_pair("page", &page.to_string())
        .finish();
    format!("/console/connections?{query}")
}

pub(super) async fn connections(
    State(state): State<AppState>,
    session: ConsoleSession,
    Query(query): Query<SearchQuery>,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let q = query.q.unwrap_or_default().trim().to_owned();
    if q.chars().count() > MAX_QUERY_CHARS || q.contains('\0') {
        return Err(PageError::bad_request(
            "INVALID_QUERY",
            "Search for at most 100 characters.",
        ));
    }
    let page = query.page.unwrap_or(1).max(1);
    let offset = (page - 1).saturating_mul(u64::from(PAGE_ROWS));
    let mut hits = state
        .store
        .search_connections(
            session.operator.org_id,
            (!q.is_empty()).then_some(q.as_str()),
            offset,
            PAGE_ROWS + 1,
        )
        .await?;
    let more = hits.len() > PAGE_ROWS as usize;
    hits.truncate(PAGE_ROWS as usize);
    let rows = hits
        .into_iter()
        .map(|h| HitRow {
            customer: h.customer.or(h.connection.name.clone()).unwrap_or_default(),
            platform: h.connection.platform.display_name(),
            connection_id: h.connection.id.to_string(),
            account: h.account.as_ref().map(cells),
        })
        .collect();
    let body = ConnectionsPage {
        chrome: super::chrome("Connections and feeds"),
        csrf: csrf.token().to_owned(),
        email: session.operator.email,
        prev: if page > 1 {
            page_link(&q, page - 1)
        } else {
            String::new()
        },
        next: if more {
            page_link(&q, page + 1)
        } else {
            String::new()
        },
        q,
        rows,
        page,
    };
    Ok(csrf.attach(web::render(&body)?, &state))
}

pub(super) struct JobRow {
    pub id: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub http_status: String,
    pub code: String,
    pub message: String,
    pub account: String,
    pub created: String,
    pub finished: String,
}

/// The error code in a job's answer: the Rutter door's `error_code` (or the first of its
/// `errors`), or the Codat door's `error`; and its message.
fn answer_code(job: &Job) -> (String, String) {
    let Some((status, body)) = &job.response else {
        return Default::default();
    };
    if *status < 400 {
        return Default::default();
    }
    let v = body.to_value();
    let text = |v: Option<&serde_json::Value>| v.and_then(|c| c.as_str()).map(str::to_owned);
    let message = text(v.get("error_message"))
        .or_else(|| text(v.get("message")))
        .unwrap_or_default();
    let code = text(v.get("error_code"))
        .or_else(|| {
            text(
                v.get("errors")
                    .and_then(|e| e.get(0))
                    .and_then(|e| e.get("error_code")),
            )
        })
        .or_else(|| text(v.get("error")))
        .unwrap_or_default();
    (code, message)
}

pub(super) fn job_row(job: &Job) -> JobRow {
    let (code, message) = answer_code(job);
    JobRow {
        code,
        message,
        account: job
            .bank_feed_account_id
            .map(|a| a.to_string())
            .unwrap_or_default(),
        id: job.id.to_string(),
        kind: job.kind.as_str(),
        status: job.status.as_str(),
        http_status: job
            .response
            .as_ref()
            .map(|(s, _)| s.to_string())
            .unwrap_or_default(),
        created: web::moment(job.created_at),
        finished: job.finished_at.map(web::moment).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "console/account.html")]
struct AccountPage {
    chrome: Chrome,
    csrf: String,
    email: String,
    account: AccountCells,
    internal_id: String,
    customer: String,
    platform: &'static str,
    currency: &'static str,
    continuity: &'static str,
    breaks: usize,
    last_push: String,
    last_ingest: String,
    jobs: Vec<JobRow>,
}

pub(super) async fn account(
    State(state): State<AppState>,
    session: ConsoleSession,
    Path(id): Path<String>,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let org = session.operator.org_id;
    let not_found = || PageError::not_found("feed");
    let id: BankFeedAccountId = id.parse().map_err(|_| not_found())?;
    let store = &state.store;
    let account = store
        .find_org_account(org, id)
        .await?
        .ok_or_else(not_found)?;
    let connection = store
        .get_connection(org, account.connection_id)
        .await?
        .ok_or_else(not_found)?;
    let continuity = store.continuity(connection.id, account.id).await?;
    let (continuity, breaks) = match &continuity {
        Some(c) => {
            let summary = summarise(&c.reports);
            (summary.state.as_str(), summary.breaks.len())
        }
        None => ("unknown", 0),
    };
    let jobs = store
        .list_account_jobs(org, account.id, RECENT_JOBS)
        .await?;
    let body = AccountPage {
        chrome: super::chrome("Feed"),
        csrf: csrf.token().to_owned(),
        email: session.operator.email,
        internal_id: account.internal_bank_account_id.clone(),
        customer: connection.name.clone().unwrap_or_default(),
        platform: connection.platform.display_name(),
        currency: account.currency.code(),
        continuity,
        breaks,
        last_push: jobs
            .first()
            .map(|j| web::moment(j.created_at))
            .unwrap_or_default(),
        last_ingest: account.last_synced_at.map(web::moment).unwrap_or_default(),
        account: cells(&account),
        jobs: jobs.iter().map(job_row).collect(),
    };
    Ok(csrf.attach(web::render(&body)?, &state))
}
