//! Webhooks: the settings the door and the delivery worker share, the safe outbound client
//! (`client.rs`) and the worker (`worker.rs`). Knows nothing of `state` (the module graph test
//! holds it to that): the worker is handed the store, the clock and the metrics.

pub mod client;
pub mod secret;
pub mod worker;

use std::time::Duration;

use bankfeeds_domain::webhook::delivery::RetryPolicy;

/// How this hub treats webhook targets and deliveries (config `webhooks_*`).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Accept `http` targets and targets on loopback, private and link-local addresses
    /// (`webhooks_allow_private`, for development and tests only).
    pub allow_private: bool,
    /// When retries are due and when a failing endpoint is disabled.
    pub policy: RetryPolicy,
    /// How often the worker looks for new events and due retries when it has nothing to do.
    pub poll: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            allow_private: false,
            policy: RetryPolicy::default(),
            poll: Duration::from_millis(500),
        }
    }
}

impl WebhookSettings {
    /// From the `webhooks_*` settings (the schedule checked at load; unreadable means default).
    pub fn configured(
        allow_private: bool,
        schedule: &str,
        disable_after_seconds: u64,
        poll_ms: u64,
    ) -> Self {
        let defaults = RetryPolicy::default();
        WebhookSettings {
            allow_private,
            policy: RetryPolicy {
                schedule: parse_schedule(schedule).unwrap_or(defaults.schedule.clone()),
                disable_after: Duration::from_secs(disable_after_seconds),
                ..defaults
            },
            poll: Duration::from_millis(poll_ms.max(10)),
        }
    }
}

/// `webhooks_retry_schedule`: seconds separated by commas (blank: no retries).
pub fn parse_schedule(s: &str) -> Option<Vec<Duration>> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u64>().ok().map(Duration::from_secs))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_is_seconds_separated_by_commas() {
        assert_eq!(
            parse_schedule("5, 300"),
            Some(vec![Duration::from_secs(5), Duration::from_secs(300)])
        );
        assert_eq!(parse_schedule(""), Some(vec![]));
        assert_eq!(parse_schedule("5,soon"), None);
    }
}
