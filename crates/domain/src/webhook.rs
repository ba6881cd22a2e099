//! Webhook endpoints: where an organisation wants its events sent, which kinds, and the secret
//! deliveries are signed with (Standard Webhooks: `whsec_` + base64 of the HMAC-SHA256 key).
//! Also the position of an event in the events feed. Rules only; storage and HTTP are elsewhere.

use std::fmt;
use std::net::IpAddr;

use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::event::EventKind;
use crate::{OrgId, Timestamp};

pub mod delivery;

crate::define_id!(
    /// A webhook endpoint.
    WebhookId
);

/// How many endpoints one organisation may have: each is a delivery per event.
pub const MAX_WEBHOOKS_PER_ORG: usize = 20;
/// The most events one recover sends again.
pub const MAX_RECOVER: u32 = 10_000;
/// The longest URL accepted.
pub const MAX_URL_LEN: usize = 2000;
/// The longest description accepted (characters).
pub const MAX_DESCRIPTION_LEN: usize = 500;

const SECRET_PREFIX: &str = "whsec_";

/// A signing secret: `whsec_` + standard base64 of 32 random bytes, the HMAC-SHA256 key.
/// Kept as is (not hashed) because the hub signs with it; never logged (`Debug` hides it).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        WebhookSecret(format!(
            "{SECRET_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(key)
        ))
    }

    /// A stored secret read back; `None` if it is not a `whsec_` secret.
    pub fn from_stored(s: String) -> Option<Self> {
        let secret = WebhookSecret(s);
        secret.key().map(|_| secret)
    }

    /// The text shown to the organisation (`whsec_…`).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The HMAC key: the bytes the base64 after `whsec_` encodes.
    pub fn key(&self) -> Option<Vec<u8>> {
        let b64 = self.0.strip_prefix(SECRET_PREFIX)?;
        base64::engine::general_purpose::STANDARD.decode(b64).ok()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

/// A signing secret as the store keeps it: sealed under the hub's key ring (`secrets_key`) when
/// the hub has one, else the secret itself (`whsec_…`), since the hub must sign with it and so
/// cannot keep only a hash. Only the server, which holds the key ring, opens it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretAtRest(String);

impl SecretAtRest {
    /// The text a store read back.
    pub fn new(stored: String) -> Self {
        SecretAtRest(stored)
    }

    /// The text to store.
    pub fn as_stored(&self) -> &str {
        &self.0
    }

    /// The secret, when it is kept unsealed.
    pub fn clear(&self) -> Option<WebhookSecret> {
        self.0
            .starts_with(SECRET_PREFIX)
            .then(|| WebhookSecret::from_stored(self.0.clone()))
            .flatten()
    }
}

impl From<&WebhookSecret> for SecretAtRest {
    /// The secret kept unsealed (a hub without a `secrets_key`).
    fn from(s: &WebhookSecret) -> Self {
        SecretAtRest(s.expose().to_owned())
    }
}

impl fmt::Debug for SecretAtRest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretAtRest(…)")
    }
}

/// Whether deliveries go out. `disabled` is the organisation's choice (PATCH `enabled: false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    Enabled,
    Disabled,
}

str_enum!(WebhookStatus {
    Enabled => "enabled",
    Disabled => "disabled",
});

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: WebhookId,
    pub org_id: OrgId,
    pub url: String,
    /// The kinds delivered, in `EventKind::ALL` order; empty means every kind.
    pub event_types: Vec<EventKind>,
    pub description: Option<String>,
    pub status: WebhookStatus,
    /// The signing secret as stored (see [`SecretAtRest`]).
    pub secret: SecretAtRest,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl WebhookEndpoint {
    /// Whether an event of this kind goes to this endpoint (its filter; not its status).
    pub fn wants(&self, kind: EventKind) -> bool {
        self.event_types.is_empty() || self.event_types.contains(&kind)
    }
}

/// Why an endpoint's settings are refused; `code` is the API's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookRefusal {
    #[error("field `url`: {0}")]
    InvalidUrl(String),
    #[error("field `url`: {0}")]
    UrlNotAllowed(String),
    #[error("field `event_types`: unknown event type `{0}`")]
    UnknownEventType(String),
    #[error("field `description`: at most {MAX_DESCRIPTION_LEN} characters")]
    DescriptionTooLong,
    #[error("an organisation may have at most {MAX_WEBHOOKS_PER_ORG} webhook endpoints")]
    TooMany,
}

impl WebhookRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            WebhookRefusal::InvalidUrl(_) => "INVALID_WEBHOOK_URL",
            WebhookRefusal::UrlNotAllowed(_) => "WEBHOOK_URL_NOT_ALLOWED",
            WebhookRefusal::UnknownEventType(_) => "UNKNOWN_EVENT_TYPE",
            WebhookRefusal::DescriptionTooLong => "INVALID_FIELD_VALUE",
            WebhookRefusal::TooMany => "WEBHOOK_LIMIT_REACHED",
        }
    }
}

/// Addresses a webhook may never reach unless private targets are allowed: loopback, private
/// ranges, link-local (which holds the cloud metadata address 169.254.169.254), unspecified,
/// shared (CGNAT), multicast and broadcast, and their IPv6 forms (including IPv4-mapped ones).
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_forbidden_ip(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
        }
    }
}

/// Checks a target URL: absolute `https` (or `http` when private targets are allowed, for
/// development), a host, no user name or password in it, and not an address literal in a
/// forbidden range. Names are checked again, resolved, at each delivery.
pub fn check_url(raw: &str, allow_private: bool) -> Result<String, WebhookRefusal> {
    let raw = raw.trim();
    if raw.len() > MAX_URL_LEN {
        return Err(WebhookRefusal::InvalidUrl(format!(
            "at most {MAX_URL_LEN} characters"
        )));
    }
    let url = url::Url::parse(raw)
        .map_err(|e| WebhookRefusal::InvalidUrl(format!("not an absolute URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => {
            return Err(WebhookRefusal::UrlNotAllowed(
                "must be https (http is accepted only with BANKFEEDS_WEBHOOKS_ALLOW_PRIVATE)"
                    .into(),
            ))
        }
        other => {
            return Err(WebhookRefusal::InvalidUrl(format!(
                "scheme `{other}` is not http or https"
            )))
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(WebhookRefusal::InvalidUrl(
            "must not carry a user name or password".into(),
        ));
    }
    let ip = match url.host() {
        None => return Err(WebhookRefusal::InvalidUrl("has no host".into())),
        Some(url::Host::Domain(_)) => None,
        Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
    };
    if let Some(ip) = ip.filter(|ip| !allow_private && is_forbidden_ip(*ip)) {
        return Err(WebhookRefusal::UrlNotAllowed(format!(
            "{ip} is a loopback, private, link-local or otherwise internal address"
        )));
    }
    Ok(url.to_string())
}

/// The filter as named on the wire: each a kind the hub records; repeats dropped; kept in
/// `EventKind::ALL` order. Empty means every kind.
pub fn parse_event_types(names: &[String]) -> Result<Vec<EventKind>, WebhookRefusal> {
    let mut kinds = Vec::with_capacity(names.len());
    for name in names {
        match EventKind::parse(name).filter(|k| k.is_recorded()) {
            Some(k) => kinds.push(k),
            None => return Err(WebhookRefusal::UnknownEventType(name.clone())),
        }
    }
    Ok(EventKind::ALL
        .into_iter()
        .filter(|k| kinds.contains(k))
        .collect())
}

/// A description trimmed; blank means none.
pub fn clean_description(d: Option<&str>) -> Result<Option<String>, WebhookRefusal> {
    let d = d.map(str::trim).filter(|d| !d.is_empty());
    match d {
        Some(d) if d.chars().count() > MAX_DESCRIPTION_LEN => {
            Err(WebhookRefusal::DescriptionTooLong)
        }
        d => Ok(d.map(str::to_owned)),
    }
}

/// What `POST /versioned/webhooks` asks for.
#[derive(Debug, Clone, Default)]
pub struct WebhookRequest {
    pub url: String,
    pub event_types: Vec<String>,
    pub description: Option<String>,
}

/// A new endpoint (enabled, with a fresh secret, unsealed: the server seals it when it has a
/// key ring, once the endpoint's id names the seal's row), or why not.
pub fn decide_create(
    org: OrgId,
    req: &WebhookRequest,
    allow_private: bool,
    now: Timestamp,
) -> Result<WebhookEndpoint, WebhookRefusal> {
    Ok(WebhookEndpoint {
        id: WebhookId::new(),
        org_id: org,
        url: check_url(&req.url, allow_private)?,
        event_types: parse_event_types(&req.event_types)?,
        description: clean_description(req.description.as_deref())?,
        status: WebhookStatus::Enabled,
        secret: SecretAtRest::from(&WebhookSecret::generate()),
        created_at: now,
        updated_at: now,
    })
}

/// Whether the organisation has room for one more endpoint, having `existing`.
pub fn check_room(existing: usize) -> Result<(), WebhookRefusal> {
    if existing >= MAX_WEBHOOKS_PER_ORG {
        return Err(WebhookRefusal::TooMany);
    }
    Ok(())
}

/// `PATCH /versioned/webhooks/:id`: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookPatch {
    pub url: Option<String>,
    /// `Some(vec![])` (or `null` on the wire) means every kind.
    pub event_types: Option<Vec<String>>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

/// The endpoint after the patch, or why not. The secret and the id never change here.
pub fn decide_patch(
    current: &WebhookEndpoint,
    patch: &WebhookPatch,
    allow_private: bool,
    now: Timestamp,
) -> Result<WebhookEndpoint, WebhookRefusal> {
    let mut next = current.clone();
    if let Some(url) = &patch.url {
        next.url = check_url(url, allow_private)?;
    }
    if let Some(types) = &patch.event_types {
        next.event_types = parse_event_types(types)?;
    }
    if let Some(d) = &patch.description {
        next.description = clean_description(d.as_deref())?;
    }
    if let Some(enabled) = patch.enabled {
        next.status = if enabled {
            WebhookStatus::Enabled
        } else {
            WebhookStatus::Disabled
        };
    }
    if next != *current {
        next.updated_at = now;
    }
    Ok(next)
}

/// What changed about an endpoint, as its `webhook.changed` event says (the API's and the
/// console's changes; the hub disabling a failing endpoint is `webhook.disabled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookChange {
    Created,
    /// Its URL, event types or description (and perhaps its status with them).
    Updated,
    Enabled,
    Disabled,
    SecretRotated,
    Deleted,
    /// Events since a time were queued to it again.
    Recovered,
}

impl WebhookChange {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookChange::Created => "created",
            WebhookChange::Updated => "updated",
            WebhookChange::Enabled => "enabled",
            WebhookChange::Disabled => "disabled",
            WebhookChange::SecretRotated => "secret_rotated",
            WebhookChange::Deleted => "deleted",
            WebhookChange::Recovered => "recovered",
        }
    }

    /// What a PATCH that turned `before` into `after` changed: `None` when nothing did; only
    /// the status, `Enabled` or `Disabled`; anything else, `Updated`.
    pub fn of_patch(before: &WebhookEndpoint, after: &WebhookEndpoint) -> Option<WebhookChange> {
        let same_but_status = WebhookEndpoint {
            status: after.status,
            updated_at: after.updated_at,
            ..before.clone()
        };
        if *after == same_but_status {
            if after.status == before.status {
                return None;
            }
            return Some(match after.status {
                WebhookStatus::Enabled => WebhookChange::Enabled,
                WebhookStatus::Disabled => WebhookChange::Disabled,
            });
        }
        Some(WebhookChange::Updated)
    }
}

/// A place in an organisation's events feed: events are listed in `(tx, seq)` order, `tx`
/// being the writing transaction's id on PostgreSQL (0 on SQLite, whose one writer commits in
/// `seq` order). On the wire it is `<tx>.<seq>`; `0.0` is the beginning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventCursor {
    pub tx: i64,
    pub seq: i64,
}

impl fmt::Display for EventCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.tx, self.seq)
    }
}

impl std::str::FromStr for EventCursor {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (tx, seq) = s.split_once('.').ok_or(())?;
        let number = |p: &str| -> Result<i64, ()> {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(());
            }
            p.parse().map_err(|_| ())
        };
        Ok(EventCursor {
            tx: number(tx)?,
            seq: number(seq)?,
        })
    }
}

#[cfg(test)]
mod tests;
