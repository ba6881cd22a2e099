//! Applying a batch: stored exactly once, with its balance, events and job outcome; refused
//! batches write only the job's outcome.

use bankfeeds_domain::batch::codes;
use bankfeeds_domain::batch::BatchRefusal;
use bankfeeds_domain::transaction::{
    DebitCreditMemo, Transaction, TransactionData, TransactionType,
};
use bankfeeds_domain::{Job, JobStatus, Platform, Timestamp};
use bankfeeds_store::DynStore;
use chrono::TimeDelta;
use serde_json::json;

use crate::helpers::{
    account, active, all_transactions, amount, apply, batch, connection, days, events,
    events_after, intuit_account, job, last_seq, profile, response, run_batch, secs,
    stored_account, submit, t0, tx, types,
};

/// A transaction with every optional field set.
fn full_tx(id: &str, posted_at: Timestamp, amt: &str) -> TransactionData {
    TransactionData {
        transaction_date: Some(posted_at - TimeDelta::microseconds(1_234_567)),
        description: Some("Loan repayment — café «Zürich»".into()),
        memo: Some("Ref 0042".into()),
        payee: Some("Acme Lending".into()),
        transaction_type: Some(TransactionType::Payment),
        debit_credit_memo: Some(DebitCreditMemo::Debit),
        interest_amount: Some(amount("-12.5")),
        principal_amount: Some(amount("-287.5")),
        ..tx(id, posted_at, amt)
    }
}

pub async fn applying_a_batch_stores_it_once(store: DynStore) {
    let (o, c, a) = intuit_account(&store, "A").await;
    assert!(a.transaction_ready, "Intuit feeds are ready at creation");
    let now = t0();
    let sent = vec![
        full_tx("T1", now - days(3), "-300"),
        TransactionData {
            debit_credit_memo: Some(DebitCreditMemo::Credit),
            transaction_type: Some(TransactionType::Deposit),
            ..tx("T2", now - days(2), "1250.5")
        },
        tx("T3", now - days(2), "0.01"),
    ];
    let b = batch(&a, Some("934.56"), sent.clone());
    let before = events(&store, o).await;
    let (job1, outcome) = run_batch(&store, &c, &a, &b, now).await;
    assert_eq!(job1.status, JobStatus::Success);
    assert_eq!(
        response(&job1),
        Some((200, json!({"created": 3, "duplicates": 0})))
    );
    assert_eq!((job1.finished_at, job1.updated_at), (Some(now), now));
    let items = outcome.expect("a good batch is accepted");
    assert_eq!(items.len(), 3);
    for (item, data) in items.iter().zip(&sent) {
        assert!(!item.duplicate);
        let want = Transaction {
            id: item.transaction.id,
            org_id: o,
            connection_id: c.id,
            bank_feed_account_id: a.id,
            data: data.clone(),
            platform_ingested: false,
            created_at: now,
            ingested_at: None,
        };
        assert_eq!(item.transaction, want);
        assert_eq!(
            store.get_transaction(c.id, want.id).await.unwrap().as_ref(),
            Some(&want),
            "every field survives the round trip"
        );
    }
    let mut by_id: Vec<_> = items.iter().map(|i| i.transaction.clone()).collect();
    by_id.sort_by_key(|t| t.id);
    let stored = all_transactions(&store, &c).await;
    assert_eq!(stored, by_id);
    let amounts: Vec<_> = stored.iter().map(|t| t.data.amount.to_string()).collect();
    let mut amounts_sorted = amounts.clone();
    amounts_sorted.sort();
    assert_eq!(amounts_sorted, ["-300", "0.01", "1250.5"]);
    let t1 = stored
        .iter()
        .find(|t| t.data.transaction_id == "T1")
        .unwrap();
    assert_eq!(t1.data.interest_amount.unwrap().to_string(), "-12.5");
    assert_eq!(t1.data.principal_amount.unwrap().to_string(), "-287.5");

    let acct = stored_account(&store, &c, &a).await;
    assert_eq!(acct.current_balance.unwrap().to_string(), "934.56");
    assert_eq!(acct.updated_at, now);
    assert_eq!(acct.last_synced_at, None);

    let new_events = events_after(&store, o, last_seq(&before)).await;
    assert_eq!(
        types(&new_events),
        ["bank_feed_transactions.created", "job.succeeded"]
    );
    let created = &new_events[0];
    assert_eq!(created.resource_id, a.id.to_string());
    assert_eq!(created.connection_id, Some(c.id));
    assert_eq!(created.created_at, now);
    assert_eq!(
        created.payload,
        json!({"bank_feed_account_id": a.id, "job_id": job1.id, "created": 3, "duplicates": 0})
    );
    let finished = &new_events[1];
    assert_eq!(finished.resource_id, job1.id.to_string());
    assert_eq!(
        finished.payload,
        json!({"job_id": job1.id, "status": "success", "http_status": 200})
    );

    // The same job again (delivery is at least once): its first outcome, nothing written.
    let count = events(&store, o).await.len();
    let (replayed, seen) = apply(&store, job1.id, &b, &profile(&c), now + secs(5)).await;
    assert!(seen.is_empty(), "render is not called for a finished job");
    assert_eq!(replayed, job1);
    assert_eq!(all_transactions(&store, &c).await, by_id);
    assert_eq!(events(&store, o).await.len(), count);
    assert_eq!(stored_account(&store, &c, &a).await, acct);

    // A pure re-send (no balance) as a new job: all duplicates, nothing written but the job.
    let later = now + secs(10);
    let resend = batch(&a, None, sent.clone());
    let mark = last_seq(&events(&store, o).await);
    let (job2, outcome) = run_batch(&store, &c, &a, &resend, later).await;
    assert_eq!(
        response(&job2),
        Some((200, json!({"created": 0, "duplicates": 3})))
    );
    let items2 = outcome.unwrap();
    assert!(items2.iter().all(|i| i.duplicate));
    assert_eq!(
        items2
            .iter()
            .map(|i| i.transaction.clone())
            .collect::<Vec<_>>(),
        items
            .iter()
            .map(|i| i.transaction.clone())
            .collect::<Vec<_>>(),
        "duplicates answer with the stored rows"
    );
    assert_eq!(all_transactions(&store, &c).await, by_id);
    assert_eq!(stored_account(&store, &c, &a).await, acct);
    assert_eq!(
        types(&events_after(&store, o, mark).await),
        ["job.succeeded"]
    );

    // The identical batch (with its balance) as a new job: all duplicates, and a pure re-send
    // writes nothing at all (`batch::is_pure_resend`): no rows, the account untouched (its
    // balance was set when the batch was first applied; a stale retry must not move it back),
    // and no batch event, only the job's outcome.
    let latest = now + secs(20);
    let mark = last_seq(&events(&store, o).await);
    let (job3, outcome) = run_batch(&store, &c, &a, &b, latest).await;
    assert_eq!(job3.status, JobStatus::Success);
    assert!(outcome.unwrap().iter().all(|i| i.duplicate));
    assert_eq!(all_transactions(&store, &c).await, by_id);
    let acct3 = stored_account(&store, &c, &a).await;
    assert_eq!(
        acct3, acct,
        "the account is exactly as the first run left it"
    );
    assert_eq!(acct3.current_balance.unwrap().to_string(), "934.56");
    let e = events_after(&store, o, mark).await;
    assert_eq!(types(&e), ["job.succeeded"]);
}

pub async fn refused_batches_write_only_the_job_outcome(store: DynStore) {
    let (o, c, a) = intuit_account(&store, "A").await;
    let now = t0();
    let good = batch(
        &a,
        Some("100"),
        vec![
            tx("T1", now - days(2), "-300"),
            tx("T2", now - days(1), "50"),
        ],
    );
    let (_, ok) = run_batch(&store, &c, &a, &good, now).await;
    assert_eq!(ok.unwrap().len(), 2);
    let stored = all_transactions(&store, &c).await;
    let acct = stored_account(&store, &c, &a).await;

    // Refusals, each as its own job; none may touch rows, balance or the account.
    let refused = |job: &Job, want_status: u16| {
        assert_eq!(job.status, JobStatus::Failure);
        assert_eq!(job.response.as_ref().map(|r| r.0), Some(want_status));
        assert!(job.finished_at.is_some());
    };
    let check_nothing_written = |mark: i64| {
        let store = store.clone();
        let stored = stored.clone();
        let acct = acct.clone();
        let c = c.clone();
        async move {
            assert_eq!(all_transactions(&store, &c).await, stored, "no new rows");
            assert_eq!(
                stored_account(&store, &c, &acct).await,
                acct,
                "balance and account unchanged"
            );
            let e = events_after(&store, o, mark).await;
            assert_eq!(types(&e), ["job.failed"], "only the job's outcome");
            e
        }
    };

    // A conflicting re-send: T1 with another amount, alongside a new T3.
    let mark = last_seq(&events(&store, o).await);
    let conflict = batch(
        &a,
        Some("999"),
        vec![
            tx("T1", now - days(2), "-301"),
            tx("T3", now - days(1), "7"),
        ],
    );
    let (j, outcome) = run_batch(&store, &c, &a, &conflict, now + secs(1)).await;
    assert_eq!(
        outcome,
        Err(BatchRefusal::Conflict {
            transaction_ids: vec!["T1".into()]
        })
    );
    refused(&j, 409);
    assert_eq!(
        response(&j).unwrap().1,
        json!({"refusal": "conflict", "transaction_ids": ["T1"]})
    );
    assert_eq!(store.get_job(o, j.id).await.unwrap().unwrap(), j);
    let e = check_nothing_written(mark).await;
    assert_eq!(
        e[0].payload,
        json!({"job_id": j.id, "status": "failure", "http_status": 409})
    );

    // A new transaction older than the newest stored one.
    let mark = last_seq(&events(&store, o).await);
    let older = batch(&a, Some("999"), vec![tx("T0", now - days(3), "-5")]);
    let (j, outcome) = run_batch(&store, &c, &a, &older, now + secs(2)).await;
    let Err(BatchRefusal::Invalid(v)) = outcome else {
        panic!("expected an invalid batch, got {outcome:?}")
    };
    assert_eq!(v.len(), 1);
    assert_eq!(
        (v[0].code, v[0].index, v[0].transaction_id.as_deref()),
        (codes::OLDER_THAN_STORED, Some(0), Some("T0"))
    );
    refused(&j, 400);
    check_nothing_written(mark).await;

    // An account of another connection (same organisation) is not found through this one.
    let other = connection(&store, o, Platform::IntuitBankFeeds).await;
    let foreign = account(&store, &other, "F").await;
    let mark = last_seq(&events(&store, o).await);
    let j = submit(&store, &job(&c, Some(&foreign), now + secs(3))).await;
    let (j, seen) = apply(
        &store,
        j.id,
        &batch(&foreign, Some("1"), vec![tx("F1", now - days(1), "1")]),
        &profile(&c),
        now + secs(3),
    )
    .await;
    assert_eq!(seen, vec![Err(BatchRefusal::AccountNotFound)]);
    refused(&j, 410);
    check_nothing_written(mark).await;
    assert!(all_transactions(&store, &other).await.is_empty());
    assert_eq!(
        stored_account(&store, &other, &foreign)
            .await
            .current_balance,
        foreign.current_balance
    );

    // A deleted account is not found either.
    let gone = account(&store, &c, "GONE").await;
    store.delete_account(c.id, gone.id, now).await.unwrap();
    let mark = last_seq(&events(&store, o).await);
    let (j, outcome) = run_batch(
        &store,
        &c,
        &gone,
        &batch(&gone, None, vec![tx("G1", now - days(1), "1")]),
        now + secs(4),
    )
    .await;
    assert_eq!(outcome, Err(BatchRefusal::AccountNotFound));
    refused(&j, 410);
    check_nothing_written(mark).await;

    // A feed the customer has not linked yet (Xero needs linking).
    let xc = connection(&store, o, Platform::Xero).await;
    let xa = account(&store, &xc, "X").await;
    assert!(!xa.transaction_ready);
    let xb = batch(&xa, Some("5"), vec![tx("X1", now - days(1), "5")]);
    let mark = last_seq(&events(&store, o).await);
    let (j, outcome) = run_batch(&store, &xc, &xa, &xb, now + secs(5)).await;
    let Err(BatchRefusal::Invalid(v)) = outcome else {
        panic!("expected an invalid batch, got {outcome:?}")
    };
    assert_eq!(
        v.iter().map(|v| (v.code, v.index)).collect::<Vec<_>>(),
        [(codes::FEED_NOT_READY, None)]
    );
    refused(&j, 400);
    assert!(all_transactions(&store, &xc).await.is_empty());
    assert_eq!(stored_account(&store, &xc, &xa).await, xa);
    assert_eq!(types(&events_after(&store, o, mark).await), ["job.failed"]);
    // Once linked, the same batch goes through.
    store
        .set_feed_state(xa.id, &active(None), now)
        .await
        .unwrap();
    let (j, outcome) = run_batch(&store, &xc, &xa, &xb, now + secs(6)).await;
    assert_eq!(j.status, JobStatus::Success);
    assert_eq!(outcome.unwrap().len(), 1);
    assert_eq!(all_transactions(&store, &xc).await.len(), 1);
}
