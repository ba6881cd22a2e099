//! Webhook endpoints of an organisation, and the events feed they and pollers read.

use async_trait::async_trait;
use bankfeeds_domain::operator::OperatorId;
use bankfeeds_domain::webhook::{
    EventCursor, SecretAtRest, WebhookEndpoint, WebhookId, WebhookPatch,
};
use bankfeeds_domain::{OrgId, Timestamp};

use crate::{Event, EventKind, Idem, Outcome, StoreResult};

#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// The organisation's endpoints (and how many are disabled), its deliveries still to be
    /// sent, and its delivery attempts that failed at or after `since`: the console's
    /// delivery health.
    async fn webhook_health(
        &self,
        org: OrgId,
        since: Timestamp,
    ) -> StoreResult<bankfeeds_domain::console::WebhookHealth>;

    /// Adds an endpoint. `Conflict("webhook_limit_reached")` when the organisation already has
    /// as many as the domain allows (counted under a lock, so concurrent creations cannot pass
    /// it together). Every change here records a `webhook.changed` event naming the console
    /// operator `by` (`None`: the API).
    async fn create_webhook(
        &self,
        endpoint: &WebhookEndpoint,
        by: Option<OperatorId>,
        idem: Option<Idem<'_, WebhookEndpoint>>,
    ) -> StoreResult<Outcome<()>>;

    /// The organisation's endpoints, oldest first.
    async fn list_webhooks(&self, org: OrgId) -> StoreResult<Vec<WebhookEndpoint>>;

    async fn get_webhook(&self, org: OrgId, id: WebhookId) -> StoreResult<Option<WebhookEndpoint>>;

    /// Applies a PATCH (the domain's `decide_patch`). `NotFound` when there is no such endpoint;
    /// `Invalid` with the refusal's code when the domain refuses it.
    #[allow(clippy::too_many_arguments)]
    async fn update_webhook(
        &self,
        org: OrgId,
        id: WebhookId,
        patch: &WebhookPatch,
        allow_private: bool,
        now: Timestamp,
        by: Option<OperatorId>,
        idem: Option<Idem<'_, WebhookEndpoint>>,
    ) -> StoreResult<Outcome<WebhookEndpoint>>;

    /// Replaces the signing secret. `NotFound` when there is no such endpoint.
    async fn rotate_webhook_secret(
        &self,
        org: OrgId,
        id: WebhookId,
        secret: &SecretAtRest,
        now: Timestamp,
        by: Option<OperatorId>,
    ) -> StoreResult<WebhookEndpoint>;

    /// Deletes an endpoint. `NotFound` when there is none.
    async fn delete_webhook(
        &self,
        org: OrgId,
        id: WebhookId,
        now: Timestamp,
        by: Option<OperatorId>,
    ) -> StoreResult<()>;

    /// Every endpoint's signing secret as stored, with its organisation and id (for re-sealing
    /// under the key ring at start-up; at most 20 endpoints per organisation).
    async fn webhook_secrets(&self) -> StoreResult<Vec<(OrgId, WebhookId, SecretAtRest)>>;

    /// Replaces the endpoint's stored secret with `to` only if it is still `from` (a rotation
    /// in between wins); whether it was replaced. The secret itself is unchanged: `to` holds
    /// the same key sealed again.
    async fn reseal_webhook_secret(
        &self,
        id: WebhookId,
        from: &SecretAtRest,
        to: &SecretAtRest,
    ) -> StoreResult<bool>;

    /// The organisation's events after `after`, in feed order, of the given kinds (every kind
    /// when `kinds` is empty), at most `limit`. Never returns an event while an event before it
    /// in feed order could still commit: a reader that pages with the last cursor it got sees
    /// every event exactly once.
    async fn events_feed(
        &self,
        org: OrgId,
        after: EventCursor,
        kinds: &[EventKind],
        limit: u32,
    ) -> StoreResult<Vec<(EventCursor, Event)>>;
}
