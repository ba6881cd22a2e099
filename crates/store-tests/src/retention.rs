//! `RetentionStore` (issue 12, item 11): each kind of row past its horizon is deleted, one just
//! inside it is kept, nothing still referenced is deleted, and a purge deletes at most one chunk
//! per call.

use std::collections::BTreeMap;

use bankfeeds_domain::customer::{Customer, CustomerId, CustomerToken};
use bankfeeds_domain::link::SELECTION_TTL;
use bankfeeds_domain::otp::OtpRefusal;
use bankfeeds_domain::retention::{Purge, RetentionPolicy};
use bankfeeds_domain::{Connection, Job, JobStatus, OrgId, Platform, SecretHash, Timestamp};
use bankfeeds_store::{DynStore, Idem, IdempotencyKey, Outcome, StoreError, StoredResponse};
use chrono::TimeDelta;
use serde_json::json;

use crate::helpers::{
    account, bind_ok, challenge, company, connection, days, intuit_account, job, link_account,
    named_org, otp, response, secs, submit, t0,
};

fn hours(n: i64) -> TimeDelta {
    TimeDelta::hours(n)
}

/// Every purge of `policy` at `now`, repeated until it comes back short of `limit`; the total
/// deleted per kind.
async fn purge_all(
    store: &DynStore,
    policy: RetentionPolicy,
    now: Timestamp,
    limit: u32,
) -> BTreeMap<&'static str, u64> {
    let mut totals = BTreeMap::new();
    for p in policy.purges(now) {
        loop {
            let n = store.purge(p, limit, now).await.unwrap();
            assert!(
                n <= u64::from(limit),
                "{}: a chunk is at most the limit",
                p.kind()
            );
            *totals.entry(p.kind()).or_default() += n;
            if n < u64::from(limit) {
                break;
            }
        }
    }
    totals
}

fn only_link_secrets(keep: TimeDelta) -> RetentionPolicy {
    RetentionPolicy {
        expired_link_secrets: Some(keep),
        idempotency_keys: None,
        job_bodies: None,
        ofx_trnuids: None,
        webhook_history: None,
    }
}

/// An OTP of a connection of its own (so no other OTP supersedes it) that expires at `expires`.
async fn otp_expiring(store: &DynStore, org: OrgId, expires: Timestamp) -> SecretHash {
    let c = connection(store, org, Platform::Xero).await;
    otp(store, &c, expires - bankfeeds_domain::otp::OTP_TTL).await
}

async fn otp_refusal(store: &DynStore, hash: &SecretHash, now: Timestamp) -> OtpRefusal {
    store.consume_otp(hash, now).await.unwrap().unwrap_err()
}

pub async fn expired_link_secrets_are_deleted_after_their_horizon(store: DynStore) {
    let now = t0();
    let horizon = now - hours(24);
    let fi = named_org(&store, "Demo Bank").await;

    // OTPs: one expired just past the horizon, one just inside it, three more past it.
    let gone = otp_expiring(&store, fi, horizon - secs(1)).await;
    let kept = otp_expiring(&store, fi, horizon + secs(1)).await;
    for n in 0..3 {
        otp_expiring(&store, fi, horizon - days(2) - secs(n)).await;
    }

    // Challenges (valid ten minutes from creation).
    let books = company(&store, Platform::Xero, "Books").await;
    let ttl = bankfeeds_domain::link::CHALLENGE_TTL;
    let ch_gone = challenge(&store, &books, fi, horizon - secs(1) - ttl).await;
    let ch_kept = challenge(&store, &books, fi, horizon + secs(1) - ttl).await;
    // Expired long ago, but bound late enough that its feed choice stayed open until inside
    // the horizon: kept.
    let xero = connection(&store, fi, Platform::Xero).await;
    let checking = link_account(&store, &xero, "CHK-1").await;
    let created = horizon - SELECTION_TTL + secs(1) - secs(60);
    let ch_choosing = challenge(&store, &books, fi, created).await;
    let code = otp(&store, &xero, created).await;
    bind_ok(&store, &ch_choosing, &code, &xero, created + secs(60)).await;
    // Bound, with its choice closed before the horizon: deleted.
    let created = horizon - SELECTION_TTL - secs(1) - secs(60);
    let ch_abandoned = challenge(&store, &books, fi, created).await;
    let code = otp(&store, &xero, created).await;
    bind_ok(&store, &ch_abandoned, &code, &xero, created + secs(60)).await;
    // Completed long ago: it records which company the connection is linked into; kept.
    let created = now - days(90);
    let ch_done = challenge(&store, &books, fi, created).await;
    let code = otp(&store, &xero, created).await;
    bind_ok(&store, &ch_done, &code, &xero, created + secs(1)).await;
    store
        .complete_link(&ch_done.hash, &[checking.id], None, created + secs(2))
        .await
        .unwrap()
        .unwrap();

    // Codat company access tokens (valid an hour).
    let customer = Customer {
        id: CustomerId::new(),
        org_id: fi,
        name: "Bank of Dave".into(),
        description: None,
        tags: BTreeMap::new(),
        created_at: now - days(100),
        updated_at: now - days(100),
    };
    store.create_customer(&customer).await.unwrap();
    let token_ttl = bankfeeds_domain::customer::ACCESS_TOKEN_TTL;
    let mut tokens = Vec::new();
    for expires in [horizon - secs(1), horizon + secs(1)] {
        let (token, _) = CustomerToken::generate(&customer, expires - token_ttl);
        store.create_customer_token(&token).await.unwrap();
        tokens.push(token.hash);
    }

    // Nothing is deleted while the horizon is "for ever".
    let never = RetentionPolicy {
        expired_link_secrets: None,
        idempotency_keys: None,
        job_bodies: None,
        ofx_trnuids: None,
        webhook_history: None,
    };
    assert!(purge_all(&store, never, now, 2).await.is_empty());

    let deleted = purge_all(&store, only_link_secrets(hours(24)), now, 2).await;
    // Past the horizon: `gone`, the three older ones, and the one the completed link used long
    // ago (the two binds near the horizon used OTPs that expired inside it).
    assert_eq!(
        deleted,
        BTreeMap::from([
            ("otps", 5),
            ("challenges", 2),
            ("customer_tokens", 1),
            // (none made here: `spent_live_consents_are_deleted`)
            ("live_consents", 0),
        ])
    );

    assert_eq!(otp_refusal(&store, &gone, now).await, OtpRefusal::Unknown);
    assert_eq!(otp_refusal(&store, &kept, now).await, OtpRefusal::Expired);

    let challenge_kept = |c: &bankfeeds_domain::link::Challenge| {
        let store = store.clone();
        let hash = c.hash;
        async move { store.get_challenge(&hash).await.unwrap().is_some() }
    };
    assert!(!challenge_kept(&ch_gone).await);
    assert!(challenge_kept(&ch_kept).await);
    assert!(
        challenge_kept(&ch_choosing).await,
        "its choice closed inside the horizon"
    );
    assert!(!challenge_kept(&ch_abandoned).await);
    assert!(challenge_kept(&ch_done).await, "a completed link is kept");
    assert_eq!(
        store.connection_company(xero.id).await.unwrap(),
        Some(books.clone())
    );

    assert_eq!(store.find_customer_token(&tokens[0]).await.unwrap(), None);
    assert!(store
        .find_customer_token(&tokens[1])
        .await
        .unwrap()
        .is_some());

    // A second pass finds nothing more.
    let again = purge_all(&store, only_link_secrets(hours(24)), now, 2).await;
    assert!(again.values().all(|n| *n == 0), "{again:?}");
}

fn key(org: OrgId, name: &str, fingerprint: &str) -> IdempotencyKey {
    IdempotencyKey {
        org_id: org,
        key: name.into(),
        fingerprint: fingerprint.into(),
    }
}

fn saved(j: &Job) -> StoredResponse {
    StoredResponse {
        status: 202,
        body: format!("{{\"job\":\"{}\"}}", j.id),
    }
}

/// Submits `j` under key `name`.
async fn submit_keyed(store: &DynStore, name: &str, j: &Job) -> Outcome<Job> {
    let k = key(j.org_id, name, "first");
    store
        .submit_job(
            j,
            Some(Idem {
                key: &k,
                render: &saved,
            }),
        )
        .await
        .unwrap()
}

/// Whether key `name` of `c`'s organisation is still stored: a different request under it is
/// refused only while it is.
async fn key_kept(store: &DynStore, c: &Connection, name: &str) -> bool {
    let k = key(c.org_id, name, "another request");
    let probe = job(c, None, t0());
    match store
        .submit_job(
            &probe,
            Some(Idem {
                key: &k,
                render: &saved,
            }),
        )
        .await
    {
        Err(StoreError::IdempotencyKeyReused) => true,
        Ok(Outcome::Done(_)) => false,
        other => panic!("unexpected {other:?}"),
    }
}

pub async fn idempotency_keys_are_kept_while_their_job_waits(store: DynStore) {
    let now = t0();
    let horizon = now - days(7);
    let (_, c, a) = intuit_account(&store, "A").await;
    // Finished jobs' keys: just past the horizon, just inside it, and five more past it.
    let mut names = vec![("past", horizon - secs(1)), ("inside", horizon + secs(1))];
    let older: Vec<String> = (0..5).map(|n| format!("older-{n}")).collect();
    for (n, name) in older.iter().enumerate() {
        names.push((name, horizon - days(1) - secs(n as i64)));
    }
    for (name, at) in &names {
        let j = job(&c, Some(&a), *at);
        assert!(matches!(
            submit_keyed(&store, name, &j).await,
            Outcome::Done(_)
        ));
        store.fail_job(j.id, 500, &json!({}), *at).await.unwrap();
    }

    // Another organisation has a job still queued from before the horizon: its key, and any
    // key of that organisation accepted after it, may still be asked for by a retry.
    let other = named_org(&store, "Other Bank").await;
    let oc = connection(&store, other, Platform::IntuitBankFeeds).await;
    let oa = account(&store, &oc, "A").await;
    let before = job(&oc, Some(&oa), horizon - days(3));
    submit_keyed(&store, "finished-before-it", &before).await;
    store
        .fail_job(before.id, 500, &json!({}), horizon - days(3))
        .await
        .unwrap();
    let waiting = job(&oc, Some(&oa), horizon - days(2));
    submit_keyed(&store, "waiting", &waiting).await;
    let after = job(&oc, None, horizon - days(1));
    submit_keyed(&store, "after-it", &after).await;
    store
        .fail_job(after.id, 500, &json!({}), horizon - days(1))
        .await
        .unwrap();

    let policy = RetentionPolicy {
        expired_link_secrets: None,
        idempotency_keys: Some(days(7)),
        job_bodies: None,
        ofx_trnuids: None,
        webhook_history: None,
    };
    let deleted = purge_all(&store, policy, now, 2).await;
    assert_eq!(deleted, BTreeMap::from([("idempotency_keys", 1 + 5 + 1)]));

    assert!(!key_kept(&store, &c, "past").await);
    assert!(key_kept(&store, &c, "inside").await);
    for name in &older {
        assert!(!key_kept(&store, &c, name).await);
    }
    assert!(!key_kept(&store, &oc, "finished-before-it").await);
    assert!(
        key_kept(&store, &oc, "waiting").await,
        "its job is still queued"
    );
    assert!(key_kept(&store, &oc, "after-it").await);
    // The waiting job's retry still gets its saved answer.
    match submit_keyed(&store, "waiting", &waiting).await {
        Outcome::Replayed(r) => assert_eq!(r, saved(&waiting)),
        other => panic!("expected a replay, got {other:?}"),
    }
}

pub async fn finished_jobs_lose_their_bodies_after_their_horizon(store: DynStore) {
    let now = t0();
    let horizon = now - days(30);
    let (fi, c, a) = intuit_account(&store, "A").await;
    let body = json!({"error_code": "X", "detail": "kept until the horizon"});
    let mut finished = Vec::new();
    for at in [
        horizon - secs(1),
        horizon + secs(1),
        horizon - days(3),
        horizon - days(2),
    ] {
        let j = submit(&store, &job(&c, Some(&a), at - secs(5))).await;
        finished.push(store.fail_job(j.id, 409, &body, at).await.unwrap());
    }
    // Queued since long before the horizon, never finished: untouched.
    let queued = submit(&store, &job(&c, Some(&a), now - days(60))).await;

    let policy = RetentionPolicy {
        expired_link_secrets: None,
        idempotency_keys: None,
        job_bodies: Some(days(30)),
        ofx_trnuids: None,
        webhook_history: None,
    };
    let deleted = purge_all(&store, policy, now, 2).await;
    assert_eq!(deleted, BTreeMap::from([("job_bodies", 3)]));

    for (n, before) in finished.iter().enumerate() {
        let got = store.get_job(fi, before.id).await.unwrap().unwrap();
        if n == 1 {
            assert_eq!(&got, before, "inside the horizon: untouched");
            continue;
        }
        assert_eq!(got.bodies_deleted_at, Some(now));
        assert_eq!(got.request.body.as_str(), "null");
        assert_eq!(response(&got), Some((409, json!(null))));
        // What says how it ended stays.
        assert_eq!(
            (got.status, got.finished_at, got.attempts),
            (JobStatus::Failure, before.finished_at, before.attempts)
        );
        assert_eq!(
            (&got.request.method, &got.request.url),
            (&before.request.method, &before.request.url)
        );
        // A finished job stays finished, bodies or not.
        let again = store.fail_job(got.id, 500, &json!({}), now).await.unwrap();
        assert_eq!(again, got);
    }
    assert_eq!(store.get_job(fi, queued.id).await.unwrap().unwrap(), queued);
    let again = purge_all(&store, policy, now, 2).await;
    assert_eq!(again, BTreeMap::from([("job_bodies", 0)]), "each job once");
}

/// `Purge` kinds each name what they delete; a purge of one kind leaves the others alone.
pub async fn a_purge_deletes_only_its_own_kind(store: DynStore) {
    let now = t0();
    let fi = named_org(&store, "Demo Bank").await;
    let old_otp = otp_expiring(&store, fi, now - days(10)).await;
    let deleted = store
        .purge(
            Purge::CustomerTokens {
                expired_before: now,
            },
            10,
            now,
        )
        .await
        .unwrap();
    assert_eq!(deleted, 0);
    assert_eq!(
        otp_refusal(&store, &old_otp, now).await,
        OtpRefusal::Expired
    );
    assert_eq!(
        store
            .purge(
                Purge::Otps {
                    expired_before: now
                },
                10,
                now
            )
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        otp_refusal(&store, &old_otp, now).await,
        OtpRefusal::Unknown
    );
}

/// Live consents past use (and the sealed tokens they hold) go with the link secrets; one
/// still usable stays.
pub async fn spent_live_consents_are_deleted(store: DynStore) {
    use crate::live_consent::xero_consent;
    use bankfeeds_domain::live::consent::LiveConsent;
    use bankfeeds_domain::{Secret, SecretKind};
    let now = t0();
    let fi = named_org(&store, "Demo Bank").await;
    let xero = connection(&store, fi, Platform::Xero).await;
    let consent = |created_at| LiveConsent {
        tokens_sealed: Some("sealed-tokens".into()),
        ..xero_consent(
            &xero,
            Secret::generate(SecretKind::BrowserBinding).hash(),
            created_at,
        )
    };
    let old = consent(now - days(2));
    let recent = consent(now - secs(60));
    for c in [&old, &recent] {
        store.create_live_consent(c).await.unwrap();
    }
    let deleted = store
        .purge(
            Purge::LiveConsents {
                created_before: now - days(1),
            },
            10,
            now,
        )
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(store.get_live_consent(&old.state_hash).await.unwrap(), None);
    assert!(store
        .get_live_consent(&recent.state_hash)
        .await
        .unwrap()
        .is_some());
}
