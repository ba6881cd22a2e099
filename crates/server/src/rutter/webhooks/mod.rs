//! `/versioned/webhooks`: an organisation's webhook endpoints (where its events are sent, which
//! types, the secret deliveries are signed with). The secret is shown at creation and by
//! `rotate_secret` only; it is stored sealed under the hub's key ring when it has one
//! (`webhooks::secret`), because the hub must sign with it (a hash would not do).

pub mod deliveries;
pub mod dto;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json as JsonOut;
use bankfeeds_domain::webhook::{
    decide_create, WebhookEndpoint, WebhookId, WebhookPatch, WebhookRefusal, WebhookRequest,
};
use bankfeeds_store::{Outcome, StoreError};

use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ApiResult};
use crate::http::idempotency::{idem, replay, saved, IdempotentJson};
use crate::http::path::InPath;
use crate::http::responses::{BodyRefusals, Conflict, Gone, Refusals, Unauthorized};
use crate::rutter::connections::DeletedOut;
use crate::state::AppState;
use crate::webhooks::secret::{rotated, seal_new};
use dto::{WebhookEnvelopeOut, WebhookIn, WebhookListOut, WebhookOut, WebhookPatchIn};

fn refused(r: &WebhookRefusal) -> ApiError {
    match r {
        WebhookRefusal::TooMany => ApiError::conflict(r.code(), r.to_string()),
        _ => ApiError::bad_request(r.code(), r.to_string()),
    }
}

pub(super) fn not_found(id: WebhookId) -> ApiError {
    ApiError::gone(
        "WEBHOOK_NOT_FOUND",
        format!("no webhook {id} in this organisation"),
    )
}

/// The store's refusals as this resource's errors.
pub(super) fn store_error(id: WebhookId) -> impl Fn(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound => not_found(id),
        StoreError::Conflict("webhook_limit_reached") => refused(&WebhookRefusal::TooMany),
        other => other.into(),
    }
}

/// Add a webhook endpoint. Its signing secret is in this answer only (and in `rotate_secret`'s).
#[utoipa::path(
    post,
    path = "/versioned/webhooks",
    tag = "webhooks",
    request_body = WebhookIn,
    responses(
        (status = 201, body = WebhookEnvelopeOut),
        Refusals, BodyRefusals, Conflict,
    ),
)]
pub async fn create_webhook(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    req: IdempotentJson<WebhookIn>,
) -> ApiResult<Response> {
    let body = &req.body;
    let request = WebhookRequest {
        url: body.url.clone(),
        event_types: body.event_types.clone().unwrap_or_default(),
        description: body.description.clone(),
    };
    let allow_private = state.webhooks.allow_private;
    let mut endpoint = decide_create(org.id, &request, allow_private, state.clock.now())
        .map_err(|r| refused(&r))?;
    let secret = seal_new(state.keyring.as_deref(), &mut endpoint);
    let key = req.key_for(org.id);
    // The saved answer leaves the secret out, as a connection's saves its token out.
    let render = |e: &WebhookEndpoint| {
        saved(
            201,
            &WebhookEnvelopeOut {
                webhook: WebhookOut::new(e),
            },
        )
    };
    let idem = idem(&key, &render);
    match state
        .store
        .create_webhook(&endpoint, None, idem)
        .await
        .map_err(store_error(endpoint.id))?
    {
        Outcome::Replayed(saved) => Ok(replay(saved)),
        Outcome::Done(()) => {
            tracing::info!(webhook_id = %endpoint.id, "webhook created");
            let out = WebhookEnvelopeOut {
                webhook: WebhookOut::with_secret(&endpoint, &secret),
            };
            Ok((StatusCode::CREATED, JsonOut(out)).into_response())
        }
    }
}

/// List the organisation's webhook endpoints, oldest first.
#[utoipa::path(
    get,
    path = "/versioned/webhooks",
    tag = "webhooks",
    responses(
        (status = 200, body = WebhookListOut),
        Unauthorized,
    ),
)]
pub async fn list_webhooks(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
) -> ApiResult<JsonOut<WebhookListOut>> {
    let all = state.store.list_webhooks(org.id).await?;
    Ok(JsonOut(WebhookListOut {
        webhooks: all.iter().map(WebhookOut::new).collect(),
    }))
}

/// Fetch one webhook endpoint (without its secret).
#[utoipa::path(
    get,
    path = "/versioned/webhooks/{id}",
    tag = "webhooks",
    params(InPath<WebhookId>),
    responses(
        (status = 200, body = WebhookEnvelopeOut),
        Refusals, Gone,
    ),
)]
pub async fn get_webhook(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    InPath(id): InPath<WebhookId>,
) -> ApiResult<JsonOut<WebhookEnvelopeOut>> {
    let e = state
        .store
        .get_webhook(org.id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(JsonOut(WebhookEnvelopeOut {
        webhook: WebhookOut::new(&e),
    }))
}

/// Change a webhook endpoint's URL, event types, description, or whether it is enabled.
#[utoipa::path(
    patch,
    path = "/versioned/webhooks/{id}",
    tag = "webhooks",
    params(InPath<WebhookId>),
    request_body = WebhookPatchIn,
    responses(
        (status = 200, body = WebhookEnvelopeOut),
        Refusals, BodyRefusals, Conflict, Gone,
    ),
)]
pub async fn update_webhook(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    InPath(id): InPath<WebhookId>,
    req: IdempotentJson<WebhookPatchIn>,
) -> ApiResult<Response> {
    let body = &req.body;
    let patch = WebhookPatch {
        url: body.url.clone(),
        event_types: body
            .event_types
            .clone()
            .into_update()
            .map(Option::unwrap_or_default),
        description: body.description.clone().into_update(),
        enabled: body.enabled,
    };
    let key = req.key_for(org.id);
    let render = |e: &WebhookEndpoint| {
        saved(
            200,
            &WebhookEnvelopeOut {
                webhook: WebhookOut::new(e),
            },
        )
    };
    let idem = idem(&key, &render);
    let allow_private = state.webhooks.allow_private;
    let now = state.clock.now();
    match state
        .store
        .update_webhook(org.id, id, &patch, allow_private, now, None, idem)
        .await
        .map_err(store_error(id))?
    {
        Outcome::Replayed(saved) => Ok(replay(saved)),
        Outcome::Done(e) => Ok(JsonOut(WebhookEnvelopeOut {
            webhook: WebhookOut::new(&e),
        })
        .into_response()),
    }
}

/// Give a webhook endpoint a new signing secret; deliveries are signed with it from now on.
#[utoipa::path(
    post,
    path = "/versioned/webhooks/{id}/rotate_secret",
    tag = "webhooks",
    params(InPath<WebhookId>),
    responses(
        (status = 200, body = WebhookEnvelopeOut),
        Refusals, Gone,
    ),
)]
pub async fn rotate_webhook_secret(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    InPath(id): InPath<WebhookId>,
) -> ApiResult<JsonOut<WebhookEnvelopeOut>> {
    let (secret, stored) = rotated(state.keyring.as_deref(), org.id, id);
    let e = state
        .store
        .rotate_webhook_secret(org.id, id, &stored, state.clock.now(), None)
        .await
        .map_err(store_error(id))?;
    tracing::info!(webhook_id = %id, "webhook secret rotated");
    Ok(JsonOut(WebhookEnvelopeOut {
        webhook: WebhookOut::with_secret(&e, &secret),
    }))
}

/// Delete a webhook endpoint: nothing more is sent to it.
#[utoipa::path(
    delete,
    path = "/versioned/webhooks/{id}",
    tag = "webhooks",
    params(InPath<WebhookId>),
    responses(
        (status = 200, body = DeletedOut),
        Refusals, Gone,
    ),
)]
pub async fn delete_webhook(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    InPath(id): InPath<WebhookId>,
) -> ApiResult<JsonOut<DeletedOut>> {
    state
        .store
        .delete_webhook(org.id, id, state.clock.now(), None)
        .await
        .map_err(store_error(id))?;
    tracing::info!(webhook_id = %id, "webhook deleted");
    Ok(JsonOut(DeletedOut { success: true }))
}
