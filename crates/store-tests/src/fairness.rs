//! `JobStore::claim_job` across organisations (issue 12, item 10): one organisation's backlog
//! does not delay another's job, while each account's queue still runs one job at a time, in
//! arrival order, and each job is claimed once under concurrent claimers.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use bankfeeds_domain::{BankFeedAccountId, Connection, JobId, Platform};
use bankfeeds_store::DynStore;

use crate::helpers::{account, claim, connection, job, named_org, secs, submit, t0};

/// Organisation A's backlog: `per_account` jobs on each of `accounts` accounts, accepted one
/// account after the other (the order that makes a queue slowest to skip), from `t0`.
async fn backlog(
    store: &DynStore,
    accounts: usize,
    per_account: usize,
) -> (Connection, Vec<(BankFeedAccountId, JobId)>) {
    let a = named_org(store, "Backlog Bank").await;
    let c = connection(store, a, Platform::IntuitBankFeeds).await;
    let mut jobs = Vec::new();
    for n in 0..accounts {
        let acct = account(store, &c, &format!("A{n}")).await;
        for _ in 0..per_account {
            let j = submit(store, &job(&c, Some(&acct), t0() + secs(jobs.len() as i64))).await;
            jobs.push((acct.id, j.id));
        }
    }
    (c, jobs)
}

/// Organisation B's single job, accepted after all of A's.
async fn late_job(store: &DynStore) -> JobId {
    let b = named_org(store, "Small Bank").await;
    let c = connection(store, b, Platform::IntuitBankFeeds).await;
    let acct = account(store, &c, "B0").await;
    submit(store, &job(&c, Some(&acct), t0() + secs(10_000)))
        .await
        .id
}

pub async fn a_backlog_does_not_delay_another_organisations_job(store: DynStore) {
    let (_, a_jobs) = backlog(&store, 8, 4).await;
    let b_job = late_job(&store).await;
    let t = t0() + secs(20_000);

    // Workers hold what they claim (nothing finishes): B's job is the second claim, as soon as
    // A has one running and B none.
    let first = claim(&store, None, t).await.expect("A's oldest job");
    assert_eq!(
        first.id, a_jobs[0].1,
        "oldest first while no one is running"
    );
    let second = claim(&store, None, t).await.expect("B's job");
    assert_eq!(second.id, b_job, "B does not wait behind A's backlog");

    // The rest: only the head of each of A's accounts, in arrival order, then nothing.
    let mut heads = Vec::new();
    while let Some(j) = claim(&store, None, t).await {
        heads.push(j.id);
    }
    let expected: Vec<JobId> = a_jobs.iter().step_by(4).skip(1).map(|(_, j)| *j).collect();
    assert_eq!(
        heads, expected,
        "one job per account at a time, each its account's first"
    );
}

pub async fn a_single_worker_alternates_between_organisations(store: DynStore) {
    let (_, a_jobs) = backlog(&store, 2, 5).await;
    let mut t = t0() + secs(20_000);
    // One worker, finishing each job before it claims the next: no one is ever running at a
    // claim, so the turn decides.
    let first = claim(&store, None, t).await.unwrap();
    assert_eq!(first.id, a_jobs[0].1);
    let b_job = late_job(&store).await;
    store
        .fail_job(first.id, 500, &serde_json::json!({}), t)
        .await
        .unwrap();
    t += secs(1);
    let second = claim(&store, None, t).await.unwrap();
    assert_eq!(second.id, b_job, "B's turn: A was served last");
    store
        .fail_job(second.id, 500, &serde_json::json!({}), t)
        .await
        .unwrap();

    // A's queue goes on in arrival order per account.
    let mut order: BTreeMap<BankFeedAccountId, Vec<JobId>> = BTreeMap::new();
    order.entry(a_jobs[0].0).or_default().push(first.id);
    while let Some(j) = claim(&store, None, t).await {
        t += secs(1);
        order
            .entry(j.bank_feed_account_id.unwrap())
            .or_default()
            .push(j.id);
        store
            .fail_job(j.id, 500, &serde_json::json!({}), t)
            .await
            .unwrap();
    }
    let mut expected: BTreeMap<BankFeedAccountId, Vec<JobId>> = BTreeMap::new();
    for (acct, j) in &a_jobs {
        expected.entry(*acct).or_default().push(*j);
    }
    assert_eq!(
        order, expected,
        "every job once, each account's in arrival order"
    );
}

pub async fn concurrent_fair_claimers_take_each_job_once_in_account_order(store: DynStore) {
    let (_, a_jobs) = backlog(&store, 6, 5).await;
    let b_job = late_job(&store).await;
    let t = t0() + secs(20_000);
    let seen: Arc<Mutex<Vec<JobId>>> = Arc::default();
    let mut tasks = Vec::new();
    for worker in 0..6 {
        let store = store.clone();
        let seen = seen.clone();
        tasks.push(tokio::spawn(async move {
            let holder = format!("worker-{worker}");
            while let Some(j) = store
                .claim_job(None, &holder, t + secs(600), t)
                .await
                .unwrap()
            {
                seen.lock().unwrap().push(j.id);
                store
                    .fail_job(j.id, 500, &serde_json::json!({}), t)
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), a_jobs.len() + 1, "every job claimed once");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
    assert!(seen.contains(&b_job));
    // A job of an account is claimed only once the one before it has finished, so each
    // account's jobs appear in arrival order.
    let position = |id: &JobId| seen.iter().position(|s| s == id).unwrap();
    for pair in a_jobs.windows(2) {
        if pair[0].0 == pair[1].0 {
            assert!(
                position(&pair[0].1) < position(&pair[1].1),
                "per-account FIFO holds under concurrent claimers"
            );
        }
    }
}
