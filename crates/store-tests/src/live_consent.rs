//! `LiveStore`'s customer side: a consent used once from its browser, then completed into
//! pending live feeds with the tenant's tokens; deleting queues a feed deletion in the same
//! transaction; a stopped feed restarts and cuts its refused transactions again.

use std::collections::BTreeSet;

use bankfeeds_domain::live::consent::{ConsentRefusal, ConsentTenant, LiveConsent};
use bankfeeds_domain::live::{LiveFeedState, LiveStatementStatus, RestartRefusal};
use bankfeeds_domain::{Clock, Platform, Secret, SecretKind, SystemClock};
use bankfeeds_store::{DeletionUpdate, DynStore, StatementUpdate, StoreError};

use crate::helpers::{account, events_of, secs, setup};
use crate::live::{cut, fed, push};

/// A consent of the Xero connection `c`, started from `browser` at `created_at`, not yet used.
pub(crate) fn xero_consent(
    c: &bankfeeds_domain::Connection,
    browser: bankfeeds_domain::SecretHash,
    created_at: bankfeeds_domain::Timestamp,
) -> LiveConsent {
    LiveConsent {
        state_hash: Secret::generate(SecretKind::ConsentState).hash(),
        org_id: c.org_id,
        connection_id: c.id,
        platform: Platform::Xero,
        browser,
        verifier_sealed: "sealed-verifier".into(),
        tokens_sealed: None,
        tenants: Vec::new(),
        tenant_id: None,
        created_at,
        called_back_at: None,
        completed_at: None,
    }
}

pub async fn a_consent_is_used_once_then_completed_into_pending_feeds(store: DynStore) {
    let now = SystemClock.now();
    let c = setup(&store, Platform::Xero).await;
    let a = account(&store, &c, "CHK").await;
    let mine = Secret::generate(SecretKind::BrowserBinding).hash();
    let other = Secret::generate(SecretKind::BrowserBinding).hash();
    let consent = xero_consent(&c, mine, now);
    let state = consent.state_hash;
    store.create_live_consent(&consent).await.unwrap();
    assert_eq!(
        store.get_live_consent(&state).await.unwrap(),
        Some(consent.clone())
    );
    // Another browser is refused and uses nothing up; the right one uses it once.
    let refused = store.use_live_consent(&state, Some(&other), now).await;
    assert_eq!(refused.unwrap(), Err(ConsentRefusal::NotThisBrowser));
    let used = store.use_live_consent(&state, Some(&mine), now).await;
    assert_eq!(used.unwrap().unwrap().called_back_at, Some(now));
    let again = store.use_live_consent(&state, Some(&mine), now).await;
    assert_eq!(again.unwrap(), Err(ConsentRefusal::Used));
    // Choosing waits for the tokens.
    let early = store
        .choose_live_tenant(&state, Some(&mine), "t-1", now)
        .await;
    assert_eq!(early.unwrap(), Err(ConsentRefusal::NotReady));
    let tenants = vec![ConsentTenant {
        id: "t-1".into(),
        name: "Books Ltd".into(),
    }];
    store
        .grant_live_consent(&state, "sealed-tokens", &tenants)
        .await
        .unwrap();
    let wrong = store
        .choose_live_tenant(&state, Some(&mine), "t-9", now)
        .await;
    assert_eq!(wrong.unwrap(), Err(ConsentRefusal::UnknownTenant));
    let chosen = store
        .choose_live_tenant(&state, Some(&mine), "t-1", now)
        .await;
    assert_eq!(chosen.unwrap().unwrap().tenant_id.as_deref(), Some("t-1"));
    // An account of another connection is refused, changing nothing.
    let c2 = setup(&store, Platform::Xero).await;
    let foreign = account(&store, &c2, "FOREIGN").await;
    let expires = now + secs(1800);
    let start = Some(now - secs(86_400));
    let refused = store
        .complete_live_consent(&state, Some(&mine), &[foreign.id], start, expires, now)
        .await;
    assert_eq!(refused.unwrap(), Err(ConsentRefusal::UnknownAccount));
    assert!(store.get_live_tenant(c.id).await.unwrap().is_none());
    let feeds = store
        .complete_live_consent(&state, Some(&mine), &[a.id], start, expires, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(feeds.len(), 1);
    assert_eq!(feeds[0].state, LiveFeedState::Pending);
    assert_eq!(feeds[0].feed_connection_id, None);
    let tenant = store.get_live_tenant(c.id).await.unwrap().unwrap();
    assert_eq!(
        (tenant.tenant_id.as_str(), tenant.tokens_sealed.as_str()),
        ("t-1", "sealed-tokens")
    );
    assert_eq!(tenant.token_version, 1);
    let shown = store.get_account(c.id, a.id).await.unwrap().unwrap();
    assert!(shown.transaction_ready);
    assert_eq!(shown.transaction_start_date, start);
    let done = store
        .complete_live_consent(&state, Some(&mine), &[a.id], start, expires, now)
        .await;
    assert_eq!(done.unwrap(), Err(ConsentRefusal::Used));
    // The feed connection is recorded; a revoked consent and a new one restore delivery.
    delivering(&store, a.id, "fc-9", now).await;
    store
        .set_live_feed_state(
            a.id,
            LiveFeedState::ReauthorizationRequired,
            Some(("consent-revoked", None)),
            now,
        )
        .await
        .unwrap();
    let state2 = Secret::generate(SecretKind::ConsentState).hash();
    let again = LiveConsent {
        state_hash: state2,
        ..consent
    };
    store.create_live_consent(&again).await.unwrap();
    store
        .use_live_consent(&state2, Some(&mine), now)
        .await
        .unwrap()
        .unwrap();
    store
        .grant_live_consent(&state2, "sealed-tokens-2", &tenants)
        .await
        .unwrap();
    store
        .choose_live_tenant(&state2, Some(&mine), "t-1", now)
        .await
        .unwrap()
        .unwrap();
    let feeds = store
        .complete_live_consent(&state2, Some(&mine), &[a.id], start, expires, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(feeds[0].state, LiveFeedState::Active);
    assert_eq!(feeds[0].feed_connection_id.as_deref(), Some("fc-9"));
    let tenant = store.get_live_tenant(c.id).await.unwrap().unwrap();
    assert_eq!(
        tenant.token_version, 2,
        "a new consent moves the version on"
    );
    let changes = events_of(&store, c.org_id, "bank_feed_account.live_feed_changed").await;
    let states: Vec<&str> = changes
        .iter()
        .map(|e| e.payload["feed_status"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["pending", "active", "reauthorization_required", "active"]
    );
}

pub async fn deleting_queues_one_feed_deletion_in_the_same_transaction(store: DynStore) {
    let now = SystemClock.now();
    let (c, a) = fed(&store, "DEL", &["-1"]).await;
    let b = account(&store, &c, "DEL-2").await;
    crate::live::live_feed(&store, &c, &b).await;
    store.delete_account(c.id, a.id, now).await.unwrap();
    assert!(store.get_live_feed(a.id).await.unwrap().is_none());
    store.delete_connection(c.org_id, c.id, now).await.unwrap();
    assert!(store.get_live_feed(b.id).await.unwrap().is_none());
    let queued = store.list_live_deletions(c.id).await.unwrap();
    assert_eq!(queued, vec![(a.id, None), (b.id, None)]);
    let later = now + secs(60);
    let one = store
        .claim_live_deletions("one", later, 10, now)
        .await
        .unwrap();
    assert_eq!(one.len(), 2);
    let two = store
        .claim_live_deletions("two", later, 10, now)
        .await
        .unwrap();
    assert!(two.is_empty(), "a leased deletion is no one else's");
    assert!(!store
        .finish_live_deletion(one[0].id, "two", &DeletionUpdate::Done("x".into()), now)
        .await
        .unwrap());
    store
        .finish_live_deletion(
            one[0].id,
            "one",
            &DeletionUpdate::Done("PENDING".into()),
            now,
        )
        .await
        .unwrap();
    store
        .finish_live_deletion(one[1].id, "one", &DeletionUpdate::RetryAt(later), now)
        .await
        .unwrap();
    assert!(store
        .claim_live_deletions("two", later, 10, now)
        .await
        .unwrap()
        .is_empty());
    let retried = store
        .claim_live_deletions("two", later + secs(60), 10, later)
        .await
        .unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].attempts, 2);
    let removed = events_of(&store, c.org_id, "bank_feed_account.live_feed_changed").await;
    assert_eq!(removed.len(), 2);
    assert!(removed
        .iter()
        .all(|e| e.payload["feed_status"] == "removed"));
}

pub async fn a_stopped_feed_restarts_and_cuts_its_refused_lines_again(store: DynStore) {
    let now = SystemClock.now();
    let (c, a) = fed(&store, "RST", &["-10", "5"]).await;
    let first = cut(&store, &a, 100).await;
    assert_eq!(first.len(), 1);
    let refused = store.restart_live_feed(c.id, a.id, now).await.unwrap();
    assert_eq!(
        refused,
        Err(RestartRefusal::NotStopped(LiveFeedState::Active))
    );
    let now = SystemClock.now();
    let claimed: Vec<_> = store
        .claim_live_statements(&format!("one-{}", a.id), now + secs(60), 100, now)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.account_id == a.id)
        .collect();
    let rejected = StatementUpdate::Rejected {
        code: "invalid-end-balance".into(),
        detail: None,
    };
    assert!(store
        .record_live_statement(claimed[0].id, &format!("one-{}", a.id), &rejected, now)
        .await
        .unwrap());
    push(&store, &c, &a, &["2"], "95").await;
    assert!(
        cut(&store, &a, 100).await.is_empty(),
        "a stopped feed waits"
    );
    let restarted = store
        .restart_live_feed(c.id, a.id, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(restarted.state, LiveFeedState::Active);
    assert_eq!(restarted.error_code, None);
    let again = cut(&store, &a, 100).await;
    let lines: i64 = again.iter().map(|s| s.line_count).sum();
    assert_eq!(lines, 3, "the refused lines and the new one, once each");
    assert_eq!(again[0].start_balance, first[0].start_balance);
    assert_eq!(again[0].position, 2);
    let all = store.list_live_statements(a.id).await.unwrap();
    assert_eq!(all[0].status, LiveStatementStatus::Rejected);
    let other = setup(&store, Platform::Xero).await;
    assert!(matches!(
        store.restart_live_feed(other.id, a.id, now).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn a_restarted_instance_frees_only_its_own_leases(store: DynStore) {
    let (_, a) = fed(&store, "LEASE", &["-1"]).await;
    cut(&store, &a, 100).await;
    let now = SystemClock.now();
    let holder = format!("dead-{}", a.id);
    let held: Vec<_> = store
        .claim_live_statements(&holder, now + secs(300), 100, now)
        .await
        .unwrap();
    assert!(held.iter().any(|s| s.account_id == a.id));
    assert_eq!(
        store.release_live_leases("someone-else").await.unwrap(),
        0,
        "another instance's leases stay"
    );
    assert_eq!(
        store.release_live_leases(&holder).await.unwrap(),
        held.len() as u64
    );
    let again = store
        .claim_live_statements("next", now + secs(300), 100, now)
        .await
        .unwrap();
    assert!(
        again.iter().any(|s| s.account_id == a.id),
        "claimable at once, not after the lease"
    );
}

/// The feed's connection on the platform is recorded as `feed_connection` and the feed is active.
async fn delivering(
    store: &DynStore,
    account: bankfeeds_domain::BankFeedAccountId,
    feed_connection: &str,
    now: bankfeeds_domain::Timestamp,
) {
    store
        .set_live_feed_connection(account, feed_connection, now)
        .await
        .unwrap();
    store
        .set_live_feed_state(account, LiveFeedState::Active, None, now)
        .await
        .unwrap();
}

/// The customer goes through consent for `tenant` and picks `accounts`: the feeds completing
/// it returns.
async fn consent_to(
    store: &DynStore,
    c: &bankfeeds_domain::Connection,
    tenant: &str,
    accounts: &[bankfeeds_domain::BankFeedAccountId],
) -> Vec<bankfeeds_store::LiveFeed> {
    let now = SystemClock.now();
    let browser = Secret::generate(SecretKind::BrowserBinding).hash();
    let consent = xero_consent(c, browser, now);
    let state = consent.state_hash;
    store.create_live_consent(&consent).await.unwrap();
    store
        .use_live_consent(&state, Some(&browser), now)
        .await
        .unwrap()
        .unwrap();
    let tenants = vec![ConsentTenant {
        id: tenant.into(),
        name: format!("Books of {tenant}"),
    }];
    store
        .grant_live_consent(&state, "sealed-tokens", &tenants)
        .await
        .unwrap();
    store
        .choose_live_tenant(&state, Some(&browser), tenant, now)
        .await
        .unwrap()
        .unwrap();
    store
        .complete_live_consent(
            &state,
            Some(&browser),
            accounts,
            None,
            now + secs(1800),
            now,
        )
        .await
        .unwrap()
        .unwrap()
}

/// A new consent for another Xero organisation cannot reuse the feed connections made in the
/// first: every feed of the connection, chosen again or not, asks for one anew.
pub async fn a_consent_for_another_tenant_asks_for_new_feed_connections(store: DynStore) {
    let now = SystemClock.now();
    let c = setup(&store, Platform::Xero).await;
    let a = account(&store, &c, "CHK").await;
    let b = account(&store, &c, "SAV").await;
    consent_to(&store, &c, "t-1", &[a.id, b.id]).await;
    for (acct, fc) in [(a.id, "fc-a"), (b.id, "fc-b")] {
        delivering(&store, acct, fc, now).await;
    }
    store
        .set_live_feed_state(
            b.id,
            LiveFeedState::ReauthorizationRequired,
            Some(("consent-revoked", None)),
            now,
        )
        .await
        .unwrap();

    let feeds = consent_to(&store, &c, "t-2", &[a.id]).await;
    assert_eq!(feeds.len(), 1);
    assert_eq!(feeds[0].state, LiveFeedState::Pending);
    assert_eq!(feeds[0].feed_connection_id, None);
    let other = store.get_live_feed(b.id).await.unwrap().unwrap();
    assert_eq!(
        other.state,
        LiveFeedState::Pending,
        "not reactivated on t-1's"
    );
    assert_eq!(other.feed_connection_id, None);
    assert_eq!(
        store
            .get_live_tenant(c.id)
            .await
            .unwrap()
            .unwrap()
            .tenant_id,
        "t-2"
    );
    // The feed connections made in t-1 are deleted there, not in t-2 (where `accountToken`
    // would name the new ones).
    let at = SystemClock.now();
    let lease = at + secs(60);
    let left: BTreeSet<_> = store
        .claim_live_deletions("one", lease, 10, at)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.account_id, d.tenant_id))
        .collect();
    let t1 = Some("t-1".to_owned());
    assert_eq!(left, BTreeSet::from([(a.id, t1.clone()), (b.id, t1)]));
    // Back to the same organisation later, a feed's connection carries over as before, and
    // nothing is deleted.
    delivering(&store, a.id, "fc-a2", now).await;
    let feeds = consent_to(&store, &c, "t-2", &[a.id]).await;
    assert_eq!(feeds[0].state, LiveFeedState::Active);
    assert_eq!(feeds[0].feed_connection_id.as_deref(), Some("fc-a2"));
    assert_eq!(store.list_live_deletions(c.id).await.unwrap().len(), 2);
    // A feed that goes later is deleted in the organisation it is in then.
    let at = SystemClock.now();
    store.delete_account(c.id, a.id, at).await.unwrap();
    let gone = store
        .claim_live_deletions("one", lease, 10, at)
        .await
        .unwrap();
    let gone: Vec<_> = gone
        .iter()
        .map(|d| (d.account_id, d.tenant_id.as_deref()))
        .collect();
    assert_eq!(gone, [(a.id, Some("t-2"))]);
}

/// What was cut for a feed connection that goes, and reached no one, is taken back and cut
/// again for the next feed connection; a statement already tried stays queued (its answer may
/// be lost), to be settled by its own retry. Both ways a feed connection goes: the account
/// unlinked, and a consent for another Xero organisation.
pub async fn untried_statements_go_with_their_feed_connection_and_are_cut_again(store: DynStore) {
    let (c, a) = fed(&store, "WDR", &["-10"]).await;
    let tried = cut(&store, &a, 100).await;
    let now = SystemClock.now();
    let holder = format!("w-{}", a.id);
    let claimed: Vec<_> = store
        .claim_live_statements(&holder, now + secs(60), 100, now)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.account_id == a.id)
        .collect();
    assert_eq!(claimed.len(), 1);
    let retry = StatementUpdate::RetryAt(now + secs(30));
    assert!(store
        .record_live_statement(claimed[0].id, &holder, &retry, now)
        .await
        .unwrap());
    push(&store, &c, &a, &["-5"], "90").await;
    let untried = cut(&store, &a, 100).await;
    assert_eq!(untried.len(), 1);
    assert!(untried[0].body.starts_with("fc-WDR|"));

    store.disconnect_account(c.id, a.id, now).await.unwrap();
    let statuses = |all: Vec<bankfeeds_store::LiveStatement>| -> Vec<LiveStatementStatus> {
        all.into_iter().map(|s| s.status).collect()
    };
    assert_eq!(
        statuses(store.list_live_statements(a.id).await.unwrap()),
        vec![LiveStatementStatus::Queued, LiveStatementStatus::Withdrawn],
        "the tried one stays; the untried one is withdrawn"
    );

    // Linked again, through a consent, to a new feed connection.
    consent_to(&store, &c, "t-1", &[a.id]).await;
    delivering(&store, a.id, "fc-new", now).await;
    let again = cut(&store, &a, 100).await;
    assert_eq!(again.len(), 1, "the withdrawn lines, cut once more");
    assert_eq!(again[0].line_count, 1);
    assert_eq!(
        again[0].first_transaction_id,
        untried[0].first_transaction_id
    );
    assert!(again[0].body.starts_with("fc-new|"));
    assert_eq!(again[0].start_balance, tried[0].end_balance);
    assert_eq!(again[0].position, 3);
    assert!(cut(&store, &a, 100).await.is_empty(), "each line once");

    // Another Xero organisation: the feed asks for a new feed connection, and what was cut
    // for "fc-new" and never tried goes back too.
    consent_to(&store, &c, "t-2", &[a.id]).await;
    let all = store.list_live_statements(a.id).await.unwrap();
    assert_eq!(all[2].id, again[0].id);
    assert_eq!(all[2].status, LiveStatementStatus::Withdrawn);
    assert_eq!(
        all[0].status,
        LiveStatementStatus::Queued,
        "still its own retry's"
    );
    delivering(&store, a.id, "fc-t2", now).await;
    let third = cut(&store, &a, 100).await;
    assert_eq!(third.len(), 1);
    assert_eq!(
        third[0].first_transaction_id,
        untried[0].first_transaction_id
    );
    assert!(third[0].body.starts_with("fc-t2|"));
}
