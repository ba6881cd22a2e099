//! Settings → webhooks (`/console/settings/webhooks`): the organisation's endpoints with their
//! delivery state, adding one (its signing secret shown once), and each endpoint's page with
//! its recent attempts and actions: disable or enable, rotate the secret (ticked confirmation;
//! the new one shown once), send again the events since a time, delete (ticked confirmation).
//! The rules are the API's (`domain::webhook`: the same refusals and codes, the same private
//! target policy), and every change is a `webhook.changed` event naming the operator.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bankfeeds_domain::webhook::delivery::Attempt;
use bankfeeds_domain::webhook::{
    decide_create, WebhookEndpoint, WebhookId, WebhookPatch, WebhookRefusal, WebhookRequest,
    WebhookStatus, MAX_RECOVER,
};
use bankfeeds_domain::Timestamp;
use bankfeeds_store::EventKind;
use bankfeeds_store::{Outcome, StoreError};
use serde::Deserialize;

use super::ConsoleSession;
use crate::state::AppState;
use crate::web::{self, Chrome, Csrf, PageError, Posted};
use crate::webhooks::secret;

/// Attempts shown on an endpoint's page, newest first.
const ATTEMPTS_SHOWN: u32 = 25;

/// An endpoint as the pages show it.
struct EndpointRow {
    id: String,
    url: String,
    description: String,
    types: String,
    status: &'static str,
    updated: String,
}

impl EndpointRow {
    fn of(e: &WebhookEndpoint) -> Self {
        let types = if e.event_types.is_empty() {
            "every event".to_owned()
        } else {
            let names: Vec<_> = e.event_types.iter().map(|k| k.as_str()).collect();
            names.join(", ")
        };
        EndpointRow {
            id: e.id.to_string(),
            url: e.url.clone(),
            description: e.description.clone().unwrap_or_default(),
            types,
            status: e.status.as_str(),
            updated: web::moment(e.updated_at),
        }
    }
}

struct AttemptRow {
    at: String,
    event: String,
    kind: &'static str,
    outcome: &'static str,
    status: String,
    latency_ms: u64,
    error: String,
}

impl AttemptRow {
    fn of(a: &Attempt) -> Self {
        AttemptRow {
            at: web::moment(a.attempted_at),
            event: format!("evt_{}", a.event_seq),
            kind: a.event_type.as_str(),
            outcome: if a.succeeded { "succeeded" } else { "failed" },
            status: a.status_code.map(|s| s.to_string()).unwrap_or_default(),
            latency_ms: a.latency_ms,
            error: a.error.clone().unwrap_or_default(),
        }
    }
}

/// The form adding an endpoint, as typed.
#[derive(Deserialize, Default)]
pub(super) struct NewForm {
    #[serde(default)]
    url: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    event_types: Vec<String>,
}

impl NewForm {
    /// Whether the form had this kind's box ticked.
    fn ticked(&self, kind: &str) -> bool {
        self.event_types.iter().any(|t| t == kind)
    }
}

#[derive(Template)]
#[template(path = "console/webhooks.html")]
struct ListPage {
    chrome: Chrome,
    csrf: String,
    email: String,
    endpoints: Vec<EndpointRow>,
    /// Every kind an endpoint may take, for the form's boxes.
    kinds: Vec<&'static str>,
    form: NewForm,
    error: Option<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "console/webhook.html")]
struct EndpointPage {
    chrome: Chrome,
    csrf: String,
    email: String,
    e: EndpointRow,
    enabled: bool,
    /// The new signing secret, right after creation or rotation; empty otherwise.
    new_secret: String,
    /// What the last action did, when it has something to say.
    notice: String,
    attempts: Vec<AttemptRow>,
    /// The recover form's default: a day ago, as `datetime-local` writes it.
    since: String,
}

async fn list_page(
    state: &AppState,
    session: &ConsoleSession,
    csrf: &Csrf,
    form: NewForm,
    error: Option<(&'static str, String)>,
) -> Result<ListPage, PageError> {
    let endpoints = state.store.list_webhooks(session.operator.org_id).await?;
    Ok(ListPage {
        chrome: super::chrome("Webhooks"),
        csrf: csrf.token().to_owned(),
        email: session.operator.email.clone(),
        endpoints: endpoints.iter().map(EndpointRow::of).collect(),
        kinds: EventKind::ALL
            .into_iter()
            .filter(|k| k.is_recorded())
            .map(EventKind::as_str)
            .collect(),
        form,
        error,
    })
}

pub(super) async fn list(
    State(state): State<AppState>,
    session: ConsoleSession,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let page = list_page(&state, &session, &csrf, NewForm::default(), None).await?;
    Ok(csrf.attach(web::render(&page)?, &state))
}

pub(super) async fn create(
    State(state): State<AppState>,
    session: ConsoleSession,
    Posted { form, csrf }: Posted<NewForm>,
) -> Result<Response, PageError> {
    match add(&state, &session, &form).await? {
        Ok((endpoint, secret)) => {
            let page = EndpointPage {
                new_secret: secret,
                ..endpoint_page(&state, &session, &csrf, &endpoint).await?
            };
            Ok(csrf.attach(web::render(&page)?, &state))
        }
        Err((status, code, message)) => {
            let page = list_page(&state, &session, &csrf, form, Some((code, message))).await?;
            Ok(csrf.attach(web::render_status(status, &page)?, &state))
        }
    }
}

/// A refused form: its status, the API's code, and why.
type Refused = (StatusCode, &'static str, String);

/// Adds the endpoint the form describes, by the API's rules; the endpoint and its secret in
/// clear, or why not.
async fn add(
    state: &AppState,
    session: &ConsoleSession,
    form: &NewForm,
) -> Result<Result<(WebhookEndpoint, String), Refused>, PageError> {
    let org = session.operator.org_id;
    let request = WebhookRequest {
        url: form.url.trim().to_owned(),
        event_types: form.event_types.clone(),
        description: Some(form.description.trim().to_owned()).filter(|d| !d.is_empty()),
    };
    let now = state.clock.now();
    let mut endpoint = match decide_create(org, &request, state.webhooks.allow_private, now) {
        Ok(e) => e,
        Err(r) => return Ok(Err((StatusCode::BAD_REQUEST, r.code(), r.to_string()))),
    };
    let secret = secret::seal_new(state.keyring.as_deref(), &mut endpoint);
    let operator = session.operator.id;
    match state
        .store
        .create_webhook(&endpoint, Some(operator), None)
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict("webhook_limit_reached")) => {
            let r = WebhookRefusal::TooMany;
            return Ok(Err((StatusCode::CONFLICT, r.code(), r.to_string())));
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(org_id = %org, operator_id = %operator, webhook_id = %endpoint.id,
        "console: webhook created");
    Ok(Ok((endpoint, secret.expose().to_owned())))
}

/// The organisation's endpoint `id`; a 404 otherwise (another organisation's too).
async fn endpoint_of(
    state: &AppState,
    session: &ConsoleSession,
    id: &str,
) -> Result<WebhookEndpoint, PageError> {
    let not_found = || PageError::not_found("webhook");
    let id: WebhookId = id.parse().map_err(|_| not_found())?;
    state
        .store
        .get_webhook(session.operator.org_id, id)
        .await?
        .ok_or_else(not_found)
}

async fn endpoint_page(
    state: &AppState,
    session: &ConsoleSession,
    csrf: &Csrf,
    e: &WebhookEndpoint,
) -> Result<EndpointPage, PageError> {
    let attempts = state
        .store
        .list_attempts(e.org_id, e.id, None, ATTEMPTS_SHOWN)
        .await?;
    let day_ago = state.clock.now() - chrono::TimeDelta::days(1);
    Ok(EndpointPage {
        chrome: super::chrome("Webhook"),
        csrf: csrf.token().to_owned(),
        email: session.operator.email.clone(),
        e: EndpointRow::of(e),
        enabled: e.status == WebhookStatus::Enabled,
        new_secret: String::new(),
        notice: String::new(),
        attempts: attempts.iter().map(AttemptRow::of).collect(),
        since: day_ago.format("%Y-%m-%dT%H:%M").to_string(),
    })
}

pub(super) async fn show(
    State(state): State<AppState>,
    session: ConsoleSession,
    Path(id): Path<String>,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let e = endpoint_of(&state, &session, &id).await?;
    let page = endpoint_page(&state, &session, &csrf, &e).await?;
    Ok(csrf.attach(web::render(&page)?, &state))
}

#[derive(Deserialize)]
pub(super) struct ActionForm {
    confirm: Option<String>,
    /// The recover form's start, `YYYY-MM-DDTHH:MM` in UTC.
    since: Option<String>,
}

fn confirmed(form: &ActionForm, what: &str) -> Result<(), PageError> {
    if form.confirm.as_deref() == Some("yes") {
        return Ok(());
    }
    Err(PageError::new(
        StatusCode::BAD_REQUEST,
        "CONFIRMATION_REQUIRED",
        "Not done",
        format!("Tick the box to confirm: {what}"),
    ))
}

/// `YYYY-MM-DDTHH:MM` (what a `datetime-local` input sends), read as UTC.
fn since_of(raw: Option<&str>) -> Result<Timestamp, PageError> {
    let raw = raw.unwrap_or_default().trim();
    chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .map(|t| t.and_utc())
        .map_err(|_| {
            PageError::bad_request(
                "INVALID_FIELD_VALUE",
                "Give the time to send again from as a date and time (UTC).",
            )
        })
}

pub(super) async fn act(
    State(state): State<AppState>,
    session: ConsoleSession,
    Path((id, action)): Path<(String, String)>,
    Posted { form, csrf }: Posted<ActionForm>,
) -> Result<Response, PageError> {
    let e = endpoint_of(&state, &session, &id).await?;
    let (org, operator, now) = (e.org_id, Some(session.operator.id), state.clock.now());
    let here = format!("/console/settings/webhooks/{}", e.id);
    // The page shown after: the endpoint as the action left it, and what to tell of it.
    let (e, new_secret, notice) = match action.as_str() {
        "enable" | "disable" => {
            let patch = WebhookPatch {
                enabled: Some(action == "enable"),
                ..WebhookPatch::default()
            };
            let allow_private = state.webhooks.allow_private;
            state
                .store
                .update_webhook(org, e.id, &patch, allow_private, now, operator, None)
                .await?;
            tracing::info!(org_id = %org, operator_id = %session.operator.id, webhook_id = %e.id,
                action, "console: webhook status set");
            return Ok(web::see_other(&here));
        }
        "rotate-secret" => {
            confirmed(&form, "the current signing secret stops verifying at once.")?;
            let (secret, stored) = secret::rotated(state.keyring.as_deref(), org, e.id);
            let rotated = state
                .store
                .rotate_webhook_secret(org, e.id, &stored, now, operator)
                .await?;
            tracing::info!(org_id = %org, operator_id = %session.operator.id, webhook_id = %e.id,
                "console: webhook secret rotated");
            (rotated, secret.expose().to_owned(), String::new())
        }
        "recover" => {
            let since = since_of(form.since.as_deref())?;
            let queued = match state
                .store
                .recover_webhook(org, e.id, since, MAX_RECOVER, now, operator, None)
                .await?
            {
                Outcome::Done(n) => n,
                Outcome::Replayed(_) => 0, // (no idempotency key: never)
            };
            tracing::info!(org_id = %org, operator_id = %session.operator.id, webhook_id = %e.id,
                queued, "console: webhook recover queued");
            let notice = format!(
                "{queued} events since {} queued to send again.",
                web::moment(since)
            );
            // A recover queues deliveries; the endpoint itself is as it was read.
            (e, String::new(), notice)
        }
        "delete" => {
            confirmed(&form, "nothing more is sent to this endpoint.")?;
            state.store.delete_webhook(org, e.id, now, operator).await?;
            tracing::info!(org_id = %org, operator_id = %session.operator.id, webhook_id = %e.id,
                "console: webhook deleted");
            return Ok(web::see_other("/console/settings/webhooks"));
        }
        _ => return Err(PageError::not_found("action")),
    };
    let page = EndpointPage {
        new_secret,
        notice,
        ..endpoint_page(&state, &session, &csrf, &e).await?
    };
    Ok(csrf.attach(web::render(&page)?, &state))
}
