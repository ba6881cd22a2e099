use std::time::Duration;

use chrono::TimeZone;

use super::*;

fn now() -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn failed(status: u16) -> TryResult {
    TryResult::Answered {
        status,
        retry_after: None,
    }
}

#[test]
fn the_standard_webhooks_test_vector_signs_and_verifies() {
    // From the Standard Webhooks specification's reference libraries.
    let secret =
        WebhookSecret::from_stored("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()).unwrap();
    let body = br#"{"test": 2432232314}"#;
    let sig = sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
    assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    assert!(verify(
        &secret,
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        body,
        &format!("v1,bogus {sig}")
    ));
    assert!(!verify(
        &secret,
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265331,
        body,
        &sig
    ));
    assert!(!verify(&secret, "msg_other", 1614265330, body, &sig));
    assert!(!verify(
        &WebhookSecret::generate(),
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        body,
        &sig
    ));
}

#[test]
fn only_2xx_is_success() {
    assert!(failed(200).succeeded());
    assert!(failed(204).succeeded());
    assert!(!failed(301).succeeded());
    assert!(!failed(404).succeeded());
    assert!(!failed(500).succeeded());
    assert!(!TryResult::NoAnswer.succeeded());
}

#[test]
fn retries_follow_the_schedule_then_give_up() {
    let p = RetryPolicy {
        jitter: 0.0,
        ..RetryPolicy::default()
    };
    assert_eq!(
        next_step(&p, 1, &failed(500), now(), 0.3),
        NextStep::RetryAt(now() + chrono::Duration::seconds(5))
    );
    assert_eq!(
        next_step(&p, 2, &TryResult::NoAnswer, now(), 0.3),
        NextStep::RetryAt(now() + chrono::Duration::minutes(5))
    );
    assert_eq!(
        next_step(&p, 7, &failed(500), now(), 0.3),
        NextStep::RetryAt(now() + chrono::Duration::hours(10))
    );
    assert_eq!(next_step(&p, 8, &failed(500), now(), 0.3), NextStep::GiveUp);
    assert_eq!(
        next_step(&p, 3, &failed(200), now(), 0.3),
        NextStep::Delivered
    );
}

#[test]
fn jitter_stays_within_its_fraction() {
    let p = RetryPolicy::default(); // 20 %
    let at = |sample| match next_step(&p, 2, &failed(500), now(), sample) {
        NextStep::RetryAt(t) => (t - now()).num_seconds(),
        other => panic!("{other:?}"),
    };
    assert_eq!(at(0.0), 240);
    assert_eq!(at(0.5), 300);
    assert!(at(0.999) <= 360 && at(0.999) > 355);
}

#[test]
fn retry_after_is_honoured_but_capped_and_never_shortens_the_wait() {
    let p = RetryPolicy {
        jitter: 0.0,
        max_retry_after: Duration::from_secs(3600),
        ..RetryPolicy::default()
    };
    let asked = |secs| TryResult::Answered {
        status: 429,
        retry_after: Some(Duration::from_secs(secs)),
    };
    let wait = |r: &TryResult| match next_step(&p, 1, r, now(), 0.5) {
        NextStep::RetryAt(t) => (t - now()).num_seconds(),
        other => panic!("{other:?}"),
    };
    assert_eq!(wait(&asked(120)), 120);
    assert_eq!(wait(&asked(1)), 5);
    assert_eq!(wait(&asked(999_999)), 3600);
}

#[test]
fn retry_after_reads_seconds_and_http_dates() {
    assert_eq!(
        parse_retry_after(" 30 ", now()),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        parse_retry_after("Sun, 01 Mar 2026 12:01:00 GMT", now()),
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now()),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("soon", now()), None);
    assert_eq!(parse_retry_after("-5", now()), None);
}

#[test]
fn an_endpoint_failing_long_enough_without_a_success_is_disabled() {
    let p = RetryPolicy {
        disable_after: Duration::from_secs(3600),
        ..RetryPolicy::default()
    };
    let first = streak_after(&p, None, false, now());
    assert_eq!(first.failing_since, Some(now()));
    assert!(!first.disable);
    let later = now() + chrono::Duration::minutes(59);
    assert!(!streak_after(&p, Some(now()), false, later).disable);
    let hour = now() + chrono::Duration::minutes(60);
    let s = streak_after(&p, Some(now()), false, hour);
    assert!(s.disable);
    assert_eq!(s.failing_since, Some(now()));
    assert_eq!(
        streak_after(&p, Some(now()), true, hour),
        Streak {
            failing_since: None,
            disable: false
        }
    );
}

#[test]
fn the_body_is_type_timestamp_and_data() {
    let b = body(
        EventKind::JobSucceeded,
        now(),
        &serde_json::json!({"job_id": "j"}),
    );
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["type"], "job.succeeded");
    assert_eq!(v["timestamp"], "2026-03-01T12:00:00.000000Z");
    assert_eq!(v["data"]["job_id"], "j");
}
