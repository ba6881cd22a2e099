//! Delivering an event to a webhook endpoint: what is sent (the body and its Standard Webhooks
//! signature), how an answer is judged, when the next try is due, and when an endpoint that
//! keeps failing is disabled. Pure rules; the worker in `server/src/webhooks/` does the I/O.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::WebhookSecret;
use crate::event::EventKind;
use crate::Timestamp;

/// How long one try may take, connection included.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// How much of a receiver's answer an attempt row keeps.
pub const RESPONSE_KEPT_BYTES: usize = 1024;

/// When retries are due and when an endpoint is given up on (config `webhooks_retry_schedule`,
/// `webhooks_disable_after_secs`).
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// The wait before each retry, after the first try (which is immediate); one try more than
    /// its length in all.
    pub schedule: Vec<Duration>,
    /// Each wait is moved by up to this fraction either way, so receivers that failed together
    /// are not retried together.
    pub jitter: f64,
    /// An endpoint failing continuously (no success at all) for this long is disabled.
    pub disable_after: Duration,
    /// The longest `Retry-After` honoured.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// Svix's schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; disabled after 5 days of failing.
    fn default() -> Self {
        let s = Duration::from_secs;
        RetryPolicy {
            schedule: vec![
                s(5),
                s(5 * 60),
                s(30 * 60),
                s(2 * 3600),
                s(5 * 3600),
                s(10 * 3600),
                s(10 * 3600),
            ],
            jitter: 0.2,
            disable_after: s(5 * 24 * 3600),
            max_retry_after: s(24 * 3600),
        }
    }
}

/// What came of one try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TryResult {
    /// The receiver answered with this status (and maybe a `Retry-After`).
    Answered {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// No answer: refused target, connection error, or the timeout.
    NoAnswer,
}

impl TryResult {
    /// 2xx is success; any other status, and no answer, is a failure.
    pub fn succeeded(&self) -> bool {
        matches!(self, TryResult::Answered { status, .. } if (200..300).contains(status))
    }
}

/// What becomes of a delivery after a try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    Delivered,
    RetryAt(Timestamp),
    /// The schedule is spent: the delivery failed for good (`recover` can send it again).
    GiveUp,
}

/// After try number `tries` (1 for the first) ended with `result` at `now`: delivered, retried
/// after the schedule's wait (moved by `jitter_sample`, a number in [0, 1), by up to the
/// policy's jitter; never earlier than a `Retry-After`, capped), or given up.
pub fn next_step(
    policy: &RetryPolicy,
    tries: u32,
    result: &TryResult,
    now: Timestamp,
    jitter_sample: f64,
) -> NextStep {
    if result.succeeded() {
        return NextStep::Delivered;
    }
    let Some(wait) = usize::try_from(tries)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| policy.schedule.get(i))
    else {
        return NextStep::GiveUp;
    };
    let factor = 1.0 + policy.jitter.clamp(0.0, 1.0) * (2.0 * jitter_sample.clamp(0.0, 1.0) - 1.0);
    let mut wait = wait.mul_f64(factor);
    if let TryResult::Answered {
        retry_after: Some(asked),
        ..
    } = result
    {
        wait = wait.max((*asked).min(policy.max_retry_after));
    }
    let wait = chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
    NextStep::RetryAt(now.checked_add_signed(wait).unwrap_or(now))
}

/// A `Retry-After` header: delay-seconds or an HTTP date (RFC 7231), read at `now`. A date in
/// the past is no wait; anything else unreadable is ignored.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some((at.to_utc() - now).to_std().unwrap_or(Duration::ZERO))
}

/// An endpoint's failure streak after a try: `failing_since` is when its current run of
/// failures began (`None` after a success). Disabled once failing continuously for the
/// policy's `disable_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streak {
    pub failing_since: Option<Timestamp>,
    pub disable: bool,
}

pub fn streak_after(
    policy: &RetryPolicy,
    failing_since: Option<Timestamp>,
    succeeded: bool,
    now: Timestamp,
) -> Streak {
    if succeeded {
        return Streak {
            failing_since: None,
            disable: false,
        };
    }
    let since = failing_since.unwrap_or(now);
    let limit = chrono::Duration::from_std(policy.disable_after).unwrap_or(chrono::Duration::MAX);
    Streak {
        failing_since: Some(since),
        disable: now.signed_duration_since(since) >= limit,
    }
}

/// The body a delivery carries: `{"type", "timestamp", "data"}`, `data` being the event's
/// payload.
pub fn body(kind: EventKind, created_at: Timestamp, data: &serde_json::Value) -> Vec<u8> {
    let v = serde_json::json!({
        "type": kind.as_str(),
        "timestamp": created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": data,
    });
    v.to_string().into_bytes()
}

fn mac(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `webhook-signature` header (Standard Webhooks): `v1,` + base64 of HMAC-SHA256 over
/// `id.timestamp.body`, keyed with the bytes after `whsec_`. `None` if the secret is not one.
pub fn sign(secret: &WebhookSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = secret.key()?;
    let tag = mac(&key, msg_id, timestamp, body).finalize().into_bytes();
    Some(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag)
    ))
}

/// Whether a `webhook-signature` header (space-separated `v1,<base64>` entries) holds a valid
/// signature of this message; compared in constant time. What a receiver written in Rust does.
pub fn verify(
    secret: &WebhookSecret,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
    header: &str,
) -> bool {
    let Some(expected) = sign(secret, msg_id, timestamp, body) else {
        return false;
    };
    header
        .split_whitespace()
        .any(|sig| bool::from(sig.as_bytes().ct_eq(expected.as_bytes())))
}

#[cfg(test)]
#[path = "delivery_tests.rs"]
mod tests;

/// A delivery claimed for a try: the event, the endpoint it goes to, and how many tries it had
/// before this one.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub endpoint: super::WebhookEndpoint,
    pub event: crate::event::Event,
    pub tries_before: u32,
}

/// What one try came to, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryRecord {
    pub result: TryResult,
    pub latency_ms: u64,
    /// At most `RESPONSE_KEPT_BYTES` of the answer's body.
    pub response: String,
    /// Why there was no answer (refused target, connection error, timeout).
    pub error: Option<String>,
}

/// One recorded try, as `GET /versioned/webhooks/:id/attempts` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: i64,
    pub endpoint_id: super::WebhookId,
    pub event_seq: i64,
    pub event_type: EventKind,
    pub attempted_at: Timestamp,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub response: String,
    pub error: Option<String>,
    pub succeeded: bool,
}

/// The first `RESPONSE_KEPT_BYTES` of an answer, cut at a character boundary.
pub fn kept_response(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(RESPONSE_KEPT_BYTES)]);
    let mut text = text.into_owned();
    while text.len() > RESPONSE_KEPT_BYTES {
        text.pop();
    }
    text
}
