//! When a call is tried again: on 429 and 5xx answers, on time-outs and broken connections,
//! and on `IDEMPOTENCY_KEY_IN_USE` (the same key still being worked on), waiting what the
//! hub's `Retry-After` says or else an exponential back-off with jitter. Every attempt of one
//! call carries the same `Idempotency-Key`, so a retried write is applied once.

use std::time::{Duration, SystemTime};

use rand::Rng;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How many times and how patiently a call is tried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 means no retry).
    pub max_attempts: u32,
    /// The back-off before the second attempt; doubled for each one after.
    pub base_delay: Duration,
    /// No wait is longer than this, `Retry-After` included.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// One attempt per call.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before attempt `attempt + 1` (`attempt` counts from 1): the hub's
    /// `Retry-After` when it gave one, else `base_delay · 2^(attempt-1)` with jitter (between
    /// half and all of it), never above `max_delay`.
    pub(crate) fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let wait = retry_after.unwrap_or_else(|| {
            let full = self
                .base_delay
                .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16));
            let full = full.min(self.max_delay);
            let half = full / 2;
            half + full.mul_f64(rand::thread_rng().gen_range(0.0..=0.5))
        });
        wait.min(self.max_delay)
    }
}

/// Whether an answer of `status` (with its body) is worth another attempt.
pub(crate) fn retryable_status(status: u16, body: &[u8]) -> bool {
    match status {
        429 | 500 | 502 | 503 | 504 => true,
        409 => serde_json::from_slice::<bankfeeds_wire::error::ErrorOut>(body)
            .is_ok_and(|e| e.error_code == "IDEMPOTENCY_KEY_IN_USE"),
        _ => false,
    }
}

/// Whether a transport failure is worth another attempt: time-outs and failures to connect
/// or to read the answer (the hub may have applied the request; the idempotency key covers it).
pub(crate) fn retryable_error(e: &reqwest::Error) -> bool {
    e.is_timeout() || e.is_connect() || e.is_request() || e.is_body()
}

/// `Retry-After` as delta-seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(raw).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backs_off_exponentially_within_bounds_and_honours_retry_after() {
        let p = RetryPolicy::default();
        for attempt in 1..=4 {
            let full = p.base_delay * (1 << (attempt - 1));
            let d = p.delay(attempt, None);
            assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
        }
        assert!(p.delay(30, None) <= p.max_delay);
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(p.delay(1, Some(Duration::from_secs(999))), p.max_delay);
    }

    #[test]
    fn reads_retry_after_in_both_forms() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let later = SystemTime::now() + Duration::from_secs(120);
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let d = retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(100) && d <= Duration::from_secs(120));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn retries_throttling_server_faults_and_a_key_in_use_only() {
        assert!(retryable_status(429, b""));
        assert!(retryable_status(503, b""));
        assert!(!retryable_status(400, b""));
        assert!(!retryable_status(501, b""));
        let in_use = br#"{"error_type":"CONFLICT","error_code":"IDEMPOTENCY_KEY_IN_USE","error_message":"x"}"#;
        assert!(retryable_status(409, in_use));
        let reused = br#"{"error_type":"CONFLICT","error_code":"IDEMPOTENCY_KEY_REUSED","error_message":"x"}"#;
        assert!(!retryable_status(409, reused));
    }
}
