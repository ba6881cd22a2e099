//! `OtpStore`: one-time passwords are single use, expire, and a new one supersedes the
//! connection's unused ones (unless issued alongside them).

use bankfeeds_domain::otp::{NewOtp, OtpRefusal, OTP_TTL};
use bankfeeds_domain::{
    Clock, Connection, ConnectionId, NewConnection, OrgId, Platform, Secret, SystemClock, Timestamp,
};
use bankfeeds_store::DynStore;
use chrono::TimeDelta;
use tokio::task::JoinSet;

use crate::helpers::{named_org as org, secs};

async fn connection(store: &DynStore, org: OrgId) -> Connection {
    let (c, _) = NewConnection::generate(org, Platform::Xero, None, SystemClock.now()).unwrap();
    store.create_connection(&c, None).await.unwrap();
    c.connection
}

async fn issue(store: &DynStore, connection: &Connection, now: Timestamp) -> (NewOtp, Secret) {
    let (otp, secret) = NewOtp::generate(connection, now);
    assert_eq!(otp.expires_at, now + OTP_TTL);
    store.issue_otp(&otp).await.unwrap();
    (otp, secret)
}

/// Presents the OTP `secret` at `at`.
async fn consume(
    store: &DynStore,
    secret: &Secret,
    at: Timestamp,
) -> Result<(OrgId, ConnectionId), OtpRefusal> {
    store.consume_otp(&secret.hash(), at).await.unwrap()
}

pub async fn otps_are_single_use_and_expire(store: DynStore) {
    let now = SystemClock.now();
    let o = org(&store, "Demo Bank").await;
    let c1 = connection(&store, o).await;
    let c2 = connection(&store, o).await;

    // Single use.
    let (_, first) = issue(&store, &c1, now).await;
    assert_eq!(consume(&store, &first, now + secs(1)).await, Ok((o, c1.id)));
    assert_eq!(
        consume(&store, &first, now + secs(2)).await,
        Err(OtpRefusal::AlreadyUsed)
    );
    let unknown = Secret::from_presented("bfotp_unknown");
    assert_eq!(
        consume(&store, &unknown, now).await,
        Err(OtpRefusal::Unknown)
    );

    // Expiry: refused at `expires_at` exactly (and after), accepted one microsecond before.
    // The refusals change nothing: the OTP is still usable afterwards.
    let (otp, expiring) = issue(&store, &c1, now).await;
    assert_eq!(
        consume(&store, &expiring, otp.expires_at + secs(60)).await,
        Err(OtpRefusal::Expired)
    );
    assert_eq!(
        consume(&store, &expiring, otp.expires_at).await,
        Err(OtpRefusal::Expired)
    );
    let just_before = otp.expires_at - TimeDelta::microseconds(1);
    assert_eq!(
        consume(&store, &expiring, just_before).await,
        Ok((o, c1.id))
    );
    assert_eq!(
        consume(&store, &expiring, just_before).await,
        Err(OtpRefusal::AlreadyUsed)
    );

    // A new OTP supersedes the connection's unused one; the new one works.
    let (_, older) = issue(&store, &c1, now).await;
    let (_, newer) = issue(&store, &c1, now + secs(1)).await;
    assert_eq!(
        consume(&store, &older, now + secs(2)).await,
        Err(OtpRefusal::Superseded)
    );
    assert_eq!(consume(&store, &newer, now + secs(2)).await, Ok((o, c1.id)));
    // Used OTPs stay used when a new one is issued; superseded ones stay superseded, even
    // once past their expiry.
    let (_, latest) = issue(&store, &c1, now + secs(3)).await;
    let late = now + OTP_TTL + secs(3600);
    assert_eq!(
        consume(&store, &first, late).await,
        Err(OtpRefusal::AlreadyUsed)
    );
    assert_eq!(
        consume(&store, &newer, late).await,
        Err(OtpRefusal::AlreadyUsed)
    );
    assert_eq!(
        consume(&store, &older, late).await,
        Err(OtpRefusal::Superseded)
    );

    // Another connection's OTP is unaffected by new OTPs on this one.
    let (_, other) = issue(&store, &c2, now + secs(4)).await;
    let (_, latest_again) = issue(&store, &c1, now + secs(5)).await;
    assert_eq!(
        consume(&store, &latest, now + secs(6)).await,
        Err(OtpRefusal::Superseded)
    );

    // Refusals change nothing: after each, a different active OTP still works.
    let refused = [
        ("unknown", &unknown, OtpRefusal::Unknown),
        ("older", &older, OtpRefusal::Superseded),
        ("first", &first, OtpRefusal::AlreadyUsed),
    ];
    for (case, otp, refusal) in refused {
        assert_eq!(
            consume(&store, otp, now + secs(6)).await,
            Err(refusal),
            "{case}"
        );
    }
    assert_eq!(consume(&store, &other, now + secs(7)).await, Ok((o, c2.id)));
    assert_eq!(
        consume(&store, &latest_again, now + secs(7) + OTP_TTL).await,
        Err(OtpRefusal::Expired)
    );
    assert_eq!(
        consume(&store, &latest_again, now + secs(7)).await,
        Ok((o, c1.id))
    );
    assert_eq!(
        consume(&store, &other, now + secs(8)).await,
        Err(OtpRefusal::AlreadyUsed)
    );
}

pub async fn concurrent_consumers_get_an_otp_once(store: DynStore) {
    let now = SystemClock.now();
    let o = org(&store, "Demo Bank").await;
    let c = connection(&store, o).await;
    let (_, secret) = issue(&store, &c, now).await;
    let hash = secret.hash();

    let mut consumers = JoinSet::new();
    for i in 0..8 {
        let store = store.clone();
        consumers.spawn(async move { store.consume_otp(&hash, now + secs(i)).await.unwrap() });
    }
    let (mut ok, mut used) = (0, 0);
    while let Some(outcome) = consumers.join_next().await {
        match outcome.unwrap() {
            Ok(found) => {
                assert_eq!(found, (o, c.id));
                ok += 1;
            }
            Err(OtpRefusal::AlreadyUsed) => used += 1,
            Err(other) => panic!("unexpected refusal {other:?}"),
        }
    }
    assert_eq!((ok, used), (1, 7), "exactly one consumer may use the OTP");
}

pub async fn concurrent_issuers_leave_one_active_otp(store: DynStore) {
    let now = SystemClock.now();
    let o = org(&store, "Demo Bank").await;
    let c = connection(&store, o).await;

    let mut issuers = JoinSet::new();
    for _ in 0..8 {
        let (store, c) = (store.clone(), c.clone());
        issuers.spawn(async move {
            let (otp, secret) = NewOtp::generate(&c, now);
            store.issue_otp(&otp).await.unwrap();
            secret
        });
    }
    let mut secrets = Vec::new();
    while let Some(secret) = issuers.join_next().await {
        secrets.push(secret.unwrap());
    }
    let mut ok = 0;
    for secret in &secrets {
        match consume(&store, secret, now + secs(1)).await {
            Ok(found) => {
                assert_eq!(found, (o, c.id));
                ok += 1;
            }
            Err(OtpRefusal::Superseded) => {}
            Err(other) => panic!("unexpected refusal {other:?}"),
        }
    }
    assert_eq!(
        ok, 1,
        "exactly one of the concurrently issued OTPs may be active"
    );
}

pub async fn otps_issued_alongside_leave_earlier_ones_valid(store: DynStore) {
    use bankfeeds_domain::otp::NewOtp;

    let t0 = SystemClock.now();
    let fi = org(&store, "Bank A").await;
    let (c, _) = NewConnection::generate(fi, Platform::IntuitBankFeeds, None, t0).unwrap();
    store.create_connection(&c, None).await.unwrap();
    let (first, one) = NewOtp::generate(&c.connection, t0);
    store.issue_otp(&first).await.unwrap();
    let (second, two) = NewOtp::generate(&c.connection, t0);
    store.issue_otp(&second.alongside_earlier()).await.unwrap();
    let at = t0 + TimeDelta::seconds(1);
    assert_eq!(consume(&store, &one, at).await, Ok((fi, c.connection.id)));
    assert_eq!(consume(&store, &two, at).await, Ok((fi, c.connection.id)));
    // A normal issue still cancels what is left.
    let (third, three) = NewOtp::generate(&c.connection, t0);
    store.issue_otp(&third.alongside_earlier()).await.unwrap();
    let (fourth, _) = NewOtp::generate(&c.connection, t0);
    store.issue_otp(&fourth).await.unwrap();
    assert!(consume(&store, &three, at).await.is_err());
}

pub async fn otps_answer_with_their_own_organisation_and_connection(store: DynStore) {
    let now = SystemClock.now();
    let a = org(&store, "Bank A").await;
    let b = org(&store, "Bank B").await;
    let ca = connection(&store, a).await;
    let cb = connection(&store, b).await;
    let (_, for_a) = issue(&store, &ca, now).await;
    // Another organisation's OTP (and another connection's) never supersedes this one.
    let (_, for_b) = issue(&store, &cb, now + secs(1)).await;
    assert_eq!(consume(&store, &for_b, now + secs(2)).await, Ok((b, cb.id)));
    assert_eq!(consume(&store, &for_a, now + secs(2)).await, Ok((a, ca.id)));
}

pub async fn a_new_otp_supersedes_an_expired_unused_one(store: DynStore) {
    let now = SystemClock.now();
    let o = org(&store, "Demo Bank").await;
    let c = connection(&store, o).await;
    let (_, old) = issue(&store, &c, now).await;
    let late = now + OTP_TTL + secs(1);
    assert_eq!(consume(&store, &old, late).await, Err(OtpRefusal::Expired));
    let (_, new) = issue(&store, &c, late).await;
    // Refusals are checked in a fixed order: used, then superseded, then expired.
    assert_eq!(
        consume(&store, &old, late + secs(1)).await,
        Err(OtpRefusal::Superseded)
    );
    assert_eq!(consume(&store, &new, late + secs(1)).await, Ok((o, c.id)));
    assert_eq!(
        consume(&store, &new, late + OTP_TTL + secs(2)).await,
        Err(OtpRefusal::AlreadyUsed),
        "used, even once past its expiry"
    );
    // A used OTP is not superseded by the next one either.
    issue(&store, &c, late + secs(2)).await;
    assert_eq!(
        consume(&store, &new, late + secs(3)).await,
        Err(OtpRefusal::AlreadyUsed)
    );
}
