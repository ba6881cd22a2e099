//! `GET /versioned/events`: the organisation's events feed, for a consumer that polls or that
//! catches up after being down. Paged by an opaque cursor in an order no later commit can
//! insert into (see `store-sql/src/webhooks/feed.rs`), so paging never skips an event.

use axum::extract::State;
use axum::Json as JsonOut;
use bankfeeds_domain::webhook::EventCursor;
use bankfeeds_domain::{ConnectionId, Timestamp};
use bankfeeds_store::{Event, EventKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::http::pagination::check_limit;
use crate::http::responses::Refusals;
use crate::state::AppState;

/// The most events one page holds.
const MAX_LIMIT: u32 = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsParams {
    /// The `next_cursor` of the previous page; absent means from the first event.
    pub after: Option<String>,
    /// Events per page: 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// Only these event types, comma-separated (e.g. `job.failed,connection.linked`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kinds: Option<String>,
}

/// One event as the feed and webhook deliveries carry it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    /// Unique per event; the `webhook-id` of its deliveries.
    pub id: String,
    /// The event type (see the README for each type's `data`).
    #[serde(rename = "type")]
    pub kind: String,
    /// When the change happened.
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: Timestamp,
    pub connection_id: Option<ConnectionId>,
    /// The id of the resource the event is about (account, connection, job…).
    pub resource_id: String,
    /// The type's payload.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl EventOut {
    pub fn new(e: &Event) -> Self {
        EventOut {
            id: event_id(e),
            kind: e.kind.as_str().to_owned(),
            timestamp: e.created_at,
            connection_id: e.connection_id,
            resource_id: e.resource_id.clone(),
            data: e.payload.clone(),
        }
    }
}

/// An event's public id: `evt_` and its sequence number.
pub fn event_id(e: &Event) -> String {
    format!("evt_{}", e.seq)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventListOut {
    /// The page, in feed order.
    pub events: Vec<EventOut>,
    /// Pass as `after` for the next page. Always set: on the last page it is where the next
    /// poll starts (the `after` given, when the page is empty).
    pub next_cursor: String,
    /// Whether more events follow now.
    pub has_more: bool,
}

fn parse_kinds(raw: Option<&str>) -> ApiResult<Vec<EventKind>> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(Vec::new());
    };
    let mut kinds = Vec::new();
    for name in raw.split(',') {
        let kind = EventKind::parse(name.trim()).ok_or_else(|| {
            ApiError::bad_request(
                "UNKNOWN_EVENT_TYPE",
                format!("query parameter `type`: unknown event type `{name}`"),
            )
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

/// List the organisation's events after a cursor, oldest first.
#[utoipa::path(
    get,
    path = "/versioned/events",
    tag = "events",
    params(EventsParams),
    responses(
        (status = 200, body = EventListOut),
        Refusals,
    ),
)]
pub async fn list_events(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    Query(params): Query<EventsParams>,
) -> ApiResult<JsonOut<EventListOut>> {
    let limit = check_limit(params.limit, MAX_LIMIT)?;
    let after = match params.after.as_deref().filter(|a| !a.is_empty()) {
        None => EventCursor::default(),
        Some(raw) => raw.parse().map_err(|()| {
            ApiError::bad_request("INVALID_CURSOR", "cursor is not one this list handed out")
        })?,
    };
    let kinds = parse_kinds(params.kinds.as_deref())?;
    let mut found = state
        .store
        .events_feed(org.id, after, &kinds, limit + 1)
        .await?;
    let has_more = found.len() > limit as usize;
    found.truncate(limit as usize);
    let next_cursor = found.last().map_or(after, |(c, _)| *c).to_string();
    Ok(JsonOut(EventListOut {
        events: found.iter().map(|(_, e)| EventOut::new(e)).collect(),
        next_cursor,
        has_more,
    }))
}
