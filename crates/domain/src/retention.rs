//! Retention: how long the hub keeps what it no longer needs, and what a purge may delete.
//!
//! Three horizons, each `None` for "keep for ever":
//! - link secrets (OTPs, link challenges never completed, Codat company access tokens, live
//!   consents), counted from when they stopped being usable;
//! - idempotency keys, counted from when they were first used (a key replays its answer at least
//!   this long);
//! - job bodies (the request and the stored answer of a finished job), counted from when the job
//!   finished. The job itself stays, with its status and HTTP status;
//! - OFX `TRNUID`s (see [`crate::ofx_trnuid`]), counted from when they were first seen;
//! - webhook history: each try's attempt row, counted from the try, and each finished
//!   delivery (delivered, or given up on), counted from when it finished. Pending deliveries
//!   are never purged; the events themselves are kept (the feed and `recover` read them).
//!
//! The store deletes in chunks of at most [`Purge::chunk`] rows per transaction, so a purge never
//! holds SQLite's single writer for long; callers repeat a purge until a chunk comes back short.

use chrono::TimeDelta;

use crate::link::SELECTION_TTL;
use crate::Timestamp;

/// Rows deleted in one transaction at most.
pub const CHUNK: u32 = 1000;
/// Jobs whose bodies are deleted in one transaction at most: a job's bodies run to hundreds of
/// kilobytes, and freeing them is most of a purge's work.
pub const JOB_BODY_CHUNK: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// How long OTPs, uncompleted link challenges and Codat company access tokens are kept
    /// after they expire.
    pub expired_link_secrets: Option<TimeDelta>,
    /// How long an idempotency key is kept (and replays its answer) after its first use.
    pub idempotency_keys: Option<TimeDelta>,
    /// How long a finished job keeps its request and response bodies.
    pub job_bodies: Option<TimeDelta>,
    /// How long an OFX user's `TRNUID`s are remembered (and a reuse refused with 2019).
    pub ofx_trnuids: Option<TimeDelta>,
    /// How long webhook attempts and finished deliveries are kept.
    pub webhook_history: Option<TimeDelta>,
}

/// One kind of row to delete, with the instants that decide which rows are past their horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purge {
    /// OTPs that expired before this.
    Otps { expired_before: Timestamp },
    /// Link challenges that were never completed (a completed one records which company a
    /// connection is linked into, and is kept), expired before `expired_before`, and either
    /// never bound or bound before `bound_before` (so their feed selection closed before
    /// `expired_before` too).
    Challenges {
        expired_before: Timestamp,
        bound_before: Timestamp,
    },
    /// Codat company access tokens that expired before this.
    CustomerTokens { expired_before: Timestamp },
    /// Live consents (the OAuth `state`, PKCE verifier and, sealed, the tokens they fetched)
    /// made before this: none can be used any more, and a completed one's tokens were moved
    /// to its connection.
    LiveConsents { created_before: Timestamp },
    /// Idempotency keys first used before this, except any whose organisation still has an
    /// unfinished job accepted at or before the key (which may be that key's job: a retry must
    /// still find its answer, not queue the batch again).
    IdempotencyKeys { created_before: Timestamp },
    /// The request and response bodies of jobs that finished before this.
    JobBodies { finished_before: Timestamp },
    /// OFX `TRNUID`s first seen before this.
    OfxTrnuids { seen_before: Timestamp },
    /// Webhook attempts made before this.
    WebhookAttempts { attempted_before: Timestamp },
    /// Webhook deliveries that finished (delivered or given up on) before this.
    WebhookDeliveries { finished_before: Timestamp },
}

impl Purge {
    /// How many rows (for `JobBodies`, jobs) one transaction of this purge deletes at most.
    pub fn chunk(&self) -> u32 {
        match self {
            Purge::JobBodies { .. } => JOB_BODY_CHUNK,
            _ => CHUNK,
        }
    }

    /// The name in logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Purge::Otps { .. } => "otps",
            Purge::Challenges { .. } => "challenges",
            Purge::CustomerTokens { .. } => "customer_tokens",
            Purge::LiveConsents { .. } => "live_consents",
            Purge::IdempotencyKeys { .. } => "idempotency_keys",
            Purge::JobBodies { .. } => "job_bodies",
            Purge::OfxTrnuids { .. } => "ofx_trnuids",
            Purge::WebhookAttempts { .. } => "webhook_attempts",
            Purge::WebhookDeliveries { .. } => "webhook_deliveries",
        }
    }
}

impl RetentionPolicy {
    /// What a purge at `now` deletes, one entry per kind whose horizon is not "for ever".
    pub fn purges(&self, now: Timestamp) -> Vec<Purge> {
        // A horizon reaching back past the calendar's start keeps everything.
        let before = |keep: Option<TimeDelta>| keep.and_then(|k| now.checked_sub_signed(k));
        let mut out = Vec::new();
        if let Some(expired_before) = before(self.expired_link_secrets) {
            out.push(Purge::Otps { expired_before });
            if let Some(bound_before) = expired_before.checked_sub_signed(SELECTION_TTL) {
                out.push(Purge::Challenges {
                    expired_before,
                    bound_before,
                });
            }
            out.push(Purge::CustomerTokens { expired_before });
            // A consent is usable until its callback's deadline and then its choice's.
            let usable = crate::live::consent::AUTHORIZE_TTL + crate::live::consent::CHOOSE_TTL;
            if let Some(created_before) = expired_before.checked_sub_signed(usable) {
                out.push(Purge::LiveConsents { created_before });
            }
        }
        if let Some(created_before) = before(self.idempotency_keys) {
            out.push(Purge::IdempotencyKeys { created_before });
        }
        if let Some(finished_before) = before(self.job_bodies) {
            out.push(Purge::JobBodies { finished_before });
        }
        if let Some(seen_before) = before(self.ofx_trnuids) {
            out.push(Purge::OfxTrnuids { seen_before });
        }
        if let Some(before) = before(self.webhook_history) {
            out.push(Purge::WebhookAttempts {
                attempted_before: before,
            });
            out.push(Purge::WebhookDeliveries {
                finished_before: before,
            });
        }
        out
    }
}

/// A horizon given in whole units (hours, days) where 0 means "keep for ever".
pub fn horizon(units: u64, unit: TimeDelta) -> Option<TimeDelta> {
    (units > 0).then(|| unit * i32::try_from(units).unwrap_or(i32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    #[test]
    fn zero_keeps_for_ever() {
        let policy = RetentionPolicy {
            expired_link_secrets: horizon(0, TimeDelta::hours(1)),
            idempotency_keys: horizon(0, TimeDelta::days(1)),
            job_bodies: horizon(0, TimeDelta::days(1)),
            ofx_trnuids: horizon(0, TimeDelta::days(1)),
            webhook_history: horizon(0, TimeDelta::days(1)),
        };
        assert_eq!(policy.purges(now()), []);
    }

    #[test]
    fn each_horizon_counts_back_from_now() {
        let policy = RetentionPolicy {
            expired_link_secrets: horizon(24, TimeDelta::hours(1)),
            idempotency_keys: horizon(7, TimeDelta::days(1)),
            job_bodies: horizon(30, TimeDelta::days(1)),
            ofx_trnuids: horizon(90, TimeDelta::days(1)),
            webhook_history: horizon(14, TimeDelta::days(1)),
        };
        let day = now() - TimeDelta::hours(24);
        assert_eq!(
            policy.purges(now()),
            [
                Purge::Otps {
                    expired_before: day
                },
                Purge::Challenges {
                    expired_before: day,
                    // A challenge bound at this instant could still be picking feeds until
                    // `day`: bound any later, it is kept.
                    bound_before: day - SELECTION_TTL,
                },
                Purge::CustomerTokens {
                    expired_before: day
                },
                Purge::LiveConsents {
                    created_before: day - TimeDelta::minutes(45)
                },
                Purge::IdempotencyKeys {
                    created_before: now() - TimeDelta::days(7)
                },
                Purge::JobBodies {
                    finished_before: now() - TimeDelta::days(30)
                },
                Purge::OfxTrnuids {
                    seen_before: now() - TimeDelta::days(90)
                },
                Purge::WebhookAttempts {
                    attempted_before: now() - TimeDelta::days(14)
                },
                Purge::WebhookDeliveries {
                    finished_before: now() - TimeDelta::days(14)
                },
            ]
        );
        let chunks: Vec<_> = policy.purges(now()).iter().map(Purge::chunk).collect();
        assert_eq!(
            chunks,
            [
                CHUNK,
                CHUNK,
                CHUNK,
                CHUNK,
                CHUNK,
                JOB_BODY_CHUNK,
                CHUNK,
                CHUNK,
                CHUNK
            ]
        );
        let kinds: Vec<_> = policy.purges(now()).iter().map(Purge::kind).collect();
        assert_eq!(
            kinds,
            [
                "otps",
                "challenges",
                "customer_tokens",
                "live_consents",
                "idempotency_keys",
                "job_bodies",
                "ofx_trnuids",
                "webhook_attempts",
                "webhook_deliveries"
            ]
        );
    }

    #[test]
    fn a_huge_horizon_keeps_everything_instead_of_overflowing() {
        assert_eq!(
            horizon(u64::MAX, TimeDelta::seconds(1)),
            Some(TimeDelta::seconds(i64::from(i32::MAX)))
        );
        let policy = RetentionPolicy {
            expired_link_secrets: None,
            idempotency_keys: None,
            job_bodies: Some(TimeDelta::MAX),
            ofx_trnuids: None,
            webhook_history: None,
        };
        assert_eq!(policy.purges(now()), []);
    }
}
