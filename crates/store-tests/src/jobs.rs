//! `JobStore`: accepting jobs, claiming them one at a time per account, leases, failing them,
//! and reading them back.

use bankfeeds_domain::{Clock, JobId, JobStatus, NewConnection, Platform, SystemClock, Timestamp};
use bankfeeds_store::{DynStore, StoreError};
use chrono::TimeDelta;
use serde_json::json;

use crate::helpers::{
    account, all_transactions, apply, batch, claim, connection, days, events, events_after,
    intuit_account, job, last_seq, named_org, org, profile, response, secs, status, stored_account,
    submit, t0, tx, types,
};

/// Whether `host` renews its lease on the job `id` until `until`.
async fn renews(store: &DynStore, id: JobId, host: &str, until: Timestamp) -> bool {
    store.renew_lease(id, host, until).await.unwrap()
}

pub async fn jobs_run_one_at_a_time_per_account_in_arrival_order(store: DynStore) {
    let (o, c, a) = intuit_account(&store, "A").await;
    let b = account(&store, &c, "B").await;
    let now = t0();
    let a1 = submit(&store, &job(&c, Some(&a), now)).await;
    let a2 = submit(&store, &job(&c, Some(&a), now + secs(1))).await;
    let b1 = submit(&store, &job(&c, Some(&b), now + secs(2))).await;
    let a3 = submit(&store, &job(&c, Some(&a), now + secs(3))).await;
    let got = store.get_job(o, a1.id).await.unwrap().unwrap();
    assert_eq!(got, a1, "every field survives the round trip");
    assert_eq!(got.status, JobStatus::Prequeued);
    assert_eq!(
        (got.attempts, response(&got), got.finished_at),
        (0, None, None)
    );

    let t = now + secs(10);
    let first = claim(&store, None, t).await.expect("A1 is runnable");
    assert_eq!(first.id, a1.id, "oldest first");
    assert_eq!(first.status, JobStatus::Pending);
    assert_eq!(first.attempts, 1);
    assert_eq!(first.updated_at, t);
    assert_eq!(first.created_at, a1.created_at);
    assert_eq!(store.get_job(o, a1.id).await.unwrap().unwrap(), first);
    let second = claim(&store, None, t).await.expect("B1 is runnable");
    assert_eq!(second.id, b1.id, "A2 waits for A1; B1 is next");
    assert_eq!((second.status, second.attempts), (JobStatus::Pending, 1));
    assert_eq!(claim(&store, None, t).await, None, "A2 and A3 wait");
    assert_eq!(claim(&store, Some(a2.id), t).await, None);
    assert_eq!(claim(&store, Some(a3.id), t).await, None);
    assert_eq!(status(&store, &a2).await, JobStatus::Prequeued);

    let p = profile(&c);
    let (done, _) = apply(
        &store,
        a1.id,
        &batch(&a, None, vec![tx("A1-T", now - days(3), "-1")]),
        &p,
        t,
    )
    .await;
    assert_eq!(done.status, JobStatus::Success);
    assert_eq!(done.attempts, 1, "applying is not a claim");
    assert_eq!(done.finished_at, Some(t));
    assert_eq!(
        response(&done),
        Some((200, json!({"created": 1, "duplicates": 0})))
    );
    assert_eq!(store.get_job(o, a1.id).await.unwrap().unwrap(), done);

    assert_eq!(
        claim(&store, Some(a3.id), t).await,
        None,
        "A3 waits for A2 still"
    );
    let third = claim(&store, None, t)
        .await
        .expect("A2 now heads A's queue");
    assert_eq!((third.id, third.attempts), (a2.id, 1));
    assert_eq!(claim(&store, None, t).await, None, "B1 is leased, A3 waits");
    apply(
        &store,
        a2.id,
        &batch(&a, None, vec![tx("A2-T", now - days(2), "-2")]),
        &p,
        t,
    )
    .await;
    assert_eq!(status(&store, &a2).await, JobStatus::Success);
    let fourth = claim(&store, Some(a3.id), t).await.expect("A3's turn");
    assert_eq!(
        (fourth.id, fourth.status, fourth.attempts),
        (a3.id, JobStatus::Pending, 1)
    );
    assert_eq!(claim(&store, None, t).await, None);
    for (j, acct, id, at) in [(b1.id, &b, "B1-T", 3), (a3.id, &a, "A3-T", 1)] {
        let (done, _) = apply(
            &store,
            j,
            &batch(acct, None, vec![tx(id, now - days(at), "-3")]),
            &p,
            t,
        )
        .await;
        assert_eq!((done.status, done.attempts), (JobStatus::Success, 1));
    }
    assert_eq!(claim(&store, None, t + days(1)).await, None, "all finished");
    let ids: Vec<_> = all_transactions(&store, &c)
        .await
        .into_iter()
        .map(|t| t.data.transaction_id)
        .collect();
    assert_eq!(ids.len(), 4);
}

pub async fn expired_leases_are_claimed_again(store: DynStore) {
    let (o, c, a) = intuit_account(&store, "A").await;
    let now = t0();
    let first = submit(&store, &job(&c, Some(&a), now)).await;
    let next = submit(&store, &job(&c, Some(&a), now)).await;
    let held = store
        .claim_job(None, "test", now + secs(1), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((held.id, held.attempts), (first.id, 1));
    let half = now + TimeDelta::milliseconds(500);
    assert_eq!(
        store
            .claim_job(None, "test", half + secs(60), half)
            .await
            .unwrap(),
        None,
        "the lease holds, and the account's next job waits behind it"
    );
    assert_eq!(
        store
            .claim_job(Some(first.id), "test", half + secs(60), half)
            .await
            .unwrap(),
        None
    );
    let later = now + secs(2);
    let again = store
        .claim_job(None, "test", later + secs(60), later)
        .await
        .unwrap()
        .expect("the lease expired");
    assert_eq!(again.id, first.id, "the same job, not the one behind it");
    assert_eq!(again.attempts, 2);
    assert_eq!(again.status, JobStatus::Pending);
    assert_eq!(again.updated_at, later);
    assert_eq!(store.get_job(o, first.id).await.unwrap().unwrap(), again);
    assert_eq!(
        store
            .claim_job(None, "test", later + secs(60), later)
            .await
            .unwrap(),
        None
    );
    assert_eq!(status(&store, &next).await, JobStatus::Prequeued);
}

/// Issue 12, item 9: a lease renews while its holder works, and an instance that restarts frees
/// what it held at once, not when the leases run out.
pub async fn leases_are_renewed_and_released_by_their_holder(store: DynStore) {
    let (_, c, a) = intuit_account(&store, "A").await;
    let b = account(&store, &c, "B").await;
    let now = t0();
    let on_a = submit(&store, &job(&c, Some(&a), now)).await;
    let on_b = submit(&store, &job(&c, Some(&b), now)).await;
    let held = store
        .claim_job(Some(on_a.id), "host-1", now + secs(5), now)
        .await
        .unwrap()
        .unwrap();
    store
        .claim_job(Some(on_b.id), "host-2", now + secs(5), now)
        .await
        .unwrap()
        .unwrap();

    assert!(renews(&store, held.id, "host-1", now + secs(60)).await);
    assert!(
        !renews(&store, held.id, "host-2", now + secs(90)).await,
        "only the holder renews"
    );
    let past_first_lease = now + secs(10);
    assert_eq!(
        store
            .claim_job(None, "host-2", past_first_lease + secs(5), past_first_lease)
            .await
            .unwrap()
            .map(|j| j.id),
        Some(on_b.id),
        "the renewed lease holds past its first term; B's expired one does not"
    );

    assert_eq!(store.release_leases("host-1").await.unwrap(), 1);
    let freed = store
        .claim_job(None, "host-3", now + secs(70), now + secs(11))
        .await
        .unwrap()
        .expect("a released job is claimable at once");
    assert_eq!((freed.id, freed.attempts), (on_a.id, 2));
    assert_eq!(
        store.release_leases("host-1").await.unwrap(),
        0,
        "nothing else held"
    );

    let done = store
        .fail_job(freed.id, 500, &serde_json::json!({}), now + secs(12))
        .await
        .unwrap();
    assert!(done.status.is_finished());
    assert!(
        !renews(&store, freed.id, "host-3", now + secs(90)).await,
        "a finished job has no lease to renew"
    );
}

pub async fn fail_job_finishes_once(store: DynStore) {
    let (o, c, a) = intuit_account(&store, "A").await;
    let now = t0();
    let j = submit(&store, &job(&c, Some(&a), now)).await;
    let next = submit(&store, &job(&c, Some(&a), now)).await;
    claim(&store, None, now).await.expect("claimable");
    let body = json!({"error_code": "INTERNAL_ERROR", "detail": [1, 2.5, "x"]});
    let at = now + secs(3);
    let mark = last_seq(&events(&store, o).await);
    // A success status is not a failure: refused, the job untouched.
    assert!(matches!(
        store.fail_job(j.id, 200, &body, at).await,
        Err(StoreError::Invalid {
            code: "INVALID_JOB_OUTCOME",
            ..
        })
    ));
    let failed = store.fail_job(j.id, 500, &body, at).await.unwrap();
    assert_eq!(failed.status, JobStatus::Failure);
    assert_eq!(response(&failed), Some((500, body.clone())));
    assert_eq!((failed.finished_at, failed.updated_at), (Some(at), at));
    assert_eq!(failed.attempts, 1);
    assert_eq!(failed.created_at, j.created_at);
    assert_eq!(store.get_job(o, j.id).await.unwrap().unwrap(), failed);
    let e = events_after(&store, o, mark).await;
    assert_eq!(types(&e), ["job.failed"]);
    assert_eq!(
        e[0].payload,
        json!({"job_id": j.id, "status": "failure", "http_status": 500})
    );

    // Finished once: a second failure or a late batch changes nothing.
    let count = events(&store, o).await.len();
    let again = store
        .fail_job(j.id, 400, &json!({"other": true}), at + secs(1))
        .await
        .unwrap();
    assert_eq!(again, failed);
    let (applied, seen) = apply(
        &store,
        j.id,
        &batch(&a, Some("5"), vec![tx("T1", now - days(1), "5")]),
        &profile(&c),
        at + secs(2),
    )
    .await;
    assert!(seen.is_empty(), "render is not called for a finished job");
    assert_eq!(applied, failed);
    assert_eq!(store.get_job(o, j.id).await.unwrap().unwrap(), failed);
    assert!(all_transactions(&store, &c).await.is_empty());
    assert_eq!(events(&store, o).await.len(), count);
    assert_eq!(
        stored_account(&store, &c, &a).await.current_balance,
        a.current_balance
    );
    assert_eq!(
        claim(&store, Some(j.id), at + days(1)).await,
        None,
        "a finished job is never claimed"
    );
    // The account's queue moves on.
    let n = claim(&store, None, at).await.expect("the next job's turn");
    assert_eq!(n.id, next.id);

    // Failing an unclaimed job works too; unknown jobs are not found.
    let unclaimed = submit(&store, &job(&c, None, now)).await;
    let f = store.fail_job(unclaimed.id, 400, &body, at).await.unwrap();
    assert_eq!((f.status, f.attempts), (JobStatus::Failure, 0));
    assert!(matches!(
        store.fail_job(JobId::new(), 500, &body, at).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn finish_job_records_any_answer_once(store: DynStore) {
    let (o, c, a) = intuit_account(&store, "A").await;
    let now = t0();
    let ok = submit(&store, &job(&c, Some(&a), now)).await;
    let refused = submit(&store, &job(&c, None, now)).await;
    let at = now + secs(2);
    let mark = last_seq(&events(&store, o).await);
    // A 2xx answer is a success, with its event.
    let body = json!({"bank_feed_account": {"id": a.id}});
    let done = store.finish_job(ok.id, 200, &body, at).await.unwrap();
    assert_eq!(done.status, JobStatus::Success);
    assert_eq!(response(&done), Some((200, body.clone())));
    assert_eq!(done.finished_at, Some(at));
    assert_eq!(store.get_job(o, ok.id).await.unwrap().unwrap(), done);
    // Any other answer is a failure.
    let gone = json!({"error_code": "BANK_FEED_ACCOUNT_NOT_FOUND"});
    let failed = store.finish_job(refused.id, 410, &gone, at).await.unwrap();
    assert_eq!(failed.status, JobStatus::Failure);
    assert_eq!(response(&failed), Some((410, gone)));
    let e = events_after(&store, o, mark).await;
    assert_eq!(types(&e), ["job.succeeded", "job.failed"]);
    // A job run twice keeps its first answer, and writes no second event.
    let count = events(&store, o).await.len();
    let again = store
        .finish_job(ok.id, 500, &json!({"late": true}), at + secs(1))
        .await
        .unwrap();
    assert_eq!(again, done);
    assert_eq!(events(&store, o).await.len(), count);
    assert!(matches!(
        store.finish_job(JobId::new(), 200, &body, at).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn get_job_is_scoped_to_the_organisation(store: DynStore) {
    let o = org(&store).await;
    let theirs = org(&store).await;
    let c = connection(&store, o, Platform::IntuitBankFeeds).await;
    let a = account(&store, &c, "A").await;
    let j = submit(&store, &job(&c, Some(&a), t0())).await;
    assert_eq!(store.get_job(o, j.id).await.unwrap(), Some(j.clone()));
    assert_eq!(store.get_job(theirs, j.id).await.unwrap(), None);
    assert_eq!(store.get_job(o, JobId::new()).await.unwrap(), None);
}

pub async fn connection_jobs_list_newest_first(store: DynStore) {
    use bankfeeds_domain::job::{JobKind, JobRequest, RawJson};
    use bankfeeds_domain::Job;

    let t0 = SystemClock.now();
    let fi = named_org(&store, "Bank A").await;
    let other = named_org(&store, "Bank B").await;
    let (a, _) = NewConnection::generate(fi, Platform::Xero, None, t0).unwrap();
    let (b, _) = NewConnection::generate(fi, Platform::Xero, None, t0).unwrap();
    store.create_connection(&a, None).await.unwrap();
    store.create_connection(&b, None).await.unwrap();
    let job = |c: &bankfeeds_domain::Connection, n: i64, kind: JobKind| {
        Job::new(
            kind,
            c.org_id,
            c.id,
            None,
            JobRequest {
                method: "POST".into(),
                url: format!("/codat/push/{n}?timeoutInMinutes={n}"),
                body: RawJson::from_value(&serde_json::json!({"n": n})),
                idempotency_key: None,
            },
            t0 + TimeDelta::seconds(n),
        )
    };
    let mut made = Vec::new();
    for (c, n, kind) in [
        (&a.connection, 1, JobKind::CodatPush),
        (&b.connection, 2, JobKind::CodatPush),
        (&a.connection, 3, JobKind::CodatPush),
        (&a.connection, 4, JobKind::TransactionBatch),
    ] {
        let j = job(c, n, kind);
        store.submit_job(&j, None).await.unwrap();
        made.push(j);
    }
    // Finish one, so a head carries an answer's status.
    store
        .fail_job(made[0].id, 409, &serde_json::json!({"big": "x"}), t0)
        .await
        .unwrap();
    let listed = store
        .list_connection_job_heads(fi, a.connection.id, JobKind::CodatPush, 10)
        .await
        .unwrap();
    let ids: Vec<_> = listed.iter().map(|j| j.id).collect();
    assert_eq!(
        ids,
        vec![made[2].id, made[0].id],
        "newest first, this connection and this kind only"
    );
    let (newest, oldest) = (&listed[0], &listed[1]);
    assert_eq!(newest.url, "/codat/push/3?timeoutInMinutes=3");
    assert_eq!(
        (newest.kind, newest.connection_id, newest.response_status),
        (JobKind::CodatPush, a.connection.id, None)
    );
    assert_eq!(newest.created_at, made[2].created_at);
    assert!(!newest.status.is_finished());
    assert!(oldest.status.is_finished());
    assert_eq!(oldest.response_status, Some(409));
    assert!(oldest.finished_at.is_some());
    assert_eq!(
        store
            .list_connection_job_heads(fi, a.connection.id, JobKind::CodatPush, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .list_connection_job_heads(other, a.connection.id, JobKind::CodatPush, 10)
        .await
        .unwrap()
        .is_empty());
}
