//! `POST /versioned/webhooks/:id/recover` (send again what was sent since a time) and
//! `GET /versioned/webhooks/:id/attempts` (each try: status, latency, the start of the answer).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json as JsonOut;
use bankfeeds_domain::webhook::delivery::Attempt;
use bankfeeds_domain::webhook::WebhookId;
use bankfeeds_domain::Timestamp;
use bankfeeds_store::Outcome;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{not_found, store_error};
use crate::http::auth::OrgAuth;
use crate::http::error::ApiResult;
use crate::http::extract::Query;
use crate::http::idempotency::{idem, replay, saved, IdempotentJson};
use crate::http::pagination::{check_limit, decode_cursor, ListParams};
use crate::http::path::InPath;
use crate::http::responses::{BodyRefusals, Gone, Refusals};
use crate::state::AppState;

use bankfeeds_domain::webhook::MAX_RECOVER;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverIn {
    /// Send again every event since this time (RFC 3339) the endpoint's filter takes.
    #[schema(value_type = String, format = DateTime)]
    pub since: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoverOut {
    /// How many deliveries were queued (at most 10000).
    pub queued: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptOut {
    pub id: String,
    /// The event's id, the delivery's `webhook-id`.
    pub event_id: String,
    pub event_type: String,
    #[schema(value_type = String, format = DateTime)]
    pub attempted_at: Timestamp,
    /// `succeeded` (a 2xx answer) or `failed`.
    pub outcome: String,
    /// The receiver's status; null when there was no answer.
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    /// The first 1 KiB of the answer's body.
    pub response: String,
    /// Why there was no answer (refused target, connection error, timeout).
    pub error: Option<String>,
}

impl AttemptOut {
    fn new(a: &Attempt) -> Self {
        AttemptOut {
            id: format!("att_{}", a.id),
            event_id: format!("evt_{}", a.event_seq),
            event_type: a.event_type.as_str().to_owned(),
            attempted_at: a.attempted_at,
            outcome: if a.succeeded { "succeeded" } else { "failed" }.to_owned(),
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            response: a.response.clone(),
            error: a.error.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptListOut {
    /// Newest first.
    pub attempts: Vec<AttemptOut>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// Send again every event since a time that the endpoint's filter takes (what was already
/// fanned out to it), after what is queued. Receivers drop repeats by `webhook-id`.
#[utoipa::path(
    post,
    path = "/versioned/webhooks/{id}/recover",
    tag = "webhooks",
    params(InPath<WebhookId>),
    request_body = RecoverIn,
    responses(
        (status = 202, body = RecoverOut),
        Refusals, BodyRefusals, Gone,
    ),
)]
pub async fn recover_webhook(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    InPath(id): InPath<WebhookId>,
    req: IdempotentJson<RecoverIn>,
) -> ApiResult<Response> {
    let key = req.key_for(org.id);
    let render = |queued: &u64| saved(202, &RecoverOut { queued: *queued });
    let outcome = state
        .store
        .recover_webhook(
            org.id,
            id,
            req.body.since,
            MAX_RECOVER,
            state.clock.now(),
            None,
            idem(&key, &render),
        )
        .await
        .map_err(store_error(id))?;
    match outcome {
        Outcome::Replayed(saved) => Ok(replay(saved)),
        Outcome::Done(queued) => {
            tracing::info!(webhook_id = %id, queued, "webhook recover queued");
            Ok((StatusCode::ACCEPTED, JsonOut(RecoverOut { queued })).into_response())
        }
    }
}

/// The endpoint's delivery attempts, newest first.
#[utoipa::path(
    get,
    path = "/versioned/webhooks/{id}/attempts",
    tag = "webhooks",
    params(InPath<WebhookId>, ListParams),
    responses(
        (status = 200, body = AttemptListOut),
        Refusals, Gone,
    ),
)]
pub async fn list_attempts(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    InPath(id): InPath<WebhookId>,
    Query(params): Query<ListParams>,
) -> ApiResult<JsonOut<AttemptListOut>> {
    let limit = check_limit(params.limit, 500)?;
    let before = decode_cursor(params.cursor.as_deref(), |k| k.parse::<i64>().ok())?;
    let mut found = state
        .store
        .list_attempts(org.id, id, before, limit + 1)
        .await
        .map_err(|e| match e {
            bankfeeds_store::StoreError::NotFound => not_found(id),
            other => other.into(),
        })?;
    let has_more = found.len() > limit as usize;
    found.truncate(limit as usize);
    let next_cursor = found
        .last()
        .filter(|_| has_more)
        .map(|a| bankfeeds_domain::Cursor(a.id.to_string()).encode());
    Ok(JsonOut(AttemptListOut {
        attempts: found.iter().map(AttemptOut::new).collect(),
        next_cursor,
    }))
}
