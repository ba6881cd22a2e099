//! `LinkStore`, the platform side of the link flow: companies, challenges, binding an FI's
//! connection with an OTP, choosing the feeds, and mapping more feeds into a linked company.

use bankfeeds_domain::account::FeedStatus;
use bankfeeds_domain::link::{CompanyId, LinkRefusal, SELECTION_TTL};
use bankfeeds_domain::otp::OtpRefusal;
use bankfeeds_domain::{
    BankFeedAccount, BankFeedAccountId, Clock, Platform, Secret, SecretHash, SystemClock, Timestamp,
};
use bankfeeds_store::{DynStore, StoreError};
use chrono::TimeDelta;
use tokio::task::JoinSet;

use crate::helpers::{
    bind, bind_ok, browser, challenge, company, connection, feed_changes, link_account as account,
    linked_feed, named_org as org, otp, secs, t0, MICRO,
};

/// Completes the link of the challenge `hash` with the feeds `accounts` and no start date.
async fn choose(
    store: &DynStore,
    hash: &SecretHash,
    accounts: &[BankFeedAccountId],
    at: Timestamp,
) -> Result<Vec<BankFeedAccount>, LinkRefusal> {
    store.complete_link(hash, accounts, None, at).await.unwrap()
}

pub async fn link_flow_binds_and_activates_feeds(store: DynStore) {
    let now = SystemClock.now();
    let books = company(&store, Platform::Xero, "Demo Books Ltd").await;
    assert_eq!(
        store.get_company(books.id).await.unwrap(),
        Some(books.clone())
    );
    assert_eq!(store.get_company(CompanyId::new()).await.unwrap(), None);

    let fi = org(&store, "Demo Bank").await;
    let xero = connection(&store, fi, Platform::Xero).await;
    let checking = account(&store, &xero, "CHK-1").await;
    let savings = account(&store, &xero, "SAV-1").await;
    for a in [&checking, &savings] {
        assert_eq!(a.feed_status, FeedStatus::Inactive);
        assert!(!a.transaction_ready, "Xero feeds wait for the customer");
    }

    let ch = challenge(&store, &books, fi, now).await;
    assert_eq!(ch.connection_id, None);
    assert_eq!(
        store.get_challenge(&ch.hash).await.unwrap(),
        Some(ch.clone())
    );
    let unknown = Secret::from_presented("bfch_unknown").hash();
    assert_eq!(store.get_challenge(&unknown).await.unwrap(), None);

    let code = otp(&store, &xero, now).await;
    bind_ok(&store, &ch, &code, &xero, now + secs(1)).await;

    let start = now - TimeDelta::days(30);
    let linked = store
        .complete_link(&ch.hash, &[checking.id], Some(start), now + secs(2))
        .await
        .unwrap()
        .expect("feed choice accepted");
    // What the platform recorded is the account's `platform_data` from now on.
    let record = bankfeeds_domain::link::platform_record(
        Platform::Xero,
        books.id,
        now + secs(2),
        Some(start),
    );
    let expected = BankFeedAccount {
        feed_status: FeedStatus::Active,
        transaction_ready: true,
        transaction_start_date: Some(start),
        platform_data: Some(record),
        updated_at: now + secs(2),
        ..checking.clone()
    };
    assert_eq!(linked, vec![expected.clone()]);
    assert_eq!(
        store.get_account(xero.id, checking.id).await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        store.get_account(xero.id, savings.id).await.unwrap(),
        Some(savings.clone()),
        "accounts not chosen are untouched"
    );
    let completed = store.get_challenge(&ch.hash).await.unwrap().unwrap();
    assert_eq!(completed.completed_at, Some(now + secs(2)));
    assert_eq!(completed.connection_id, Some(xero.id));

    assert_eq!(
        store.list_company_feeds(books.id).await.unwrap(),
        vec![expected.clone()]
    );
    let other = company(&store, Platform::Xero, "Other Books").await;
    assert!(store.list_company_feeds(other.id).await.unwrap().is_empty());

    let events = store.list_events(fi, 0, 100).await.unwrap();
    let changed: Vec<_> = events
        .iter()
        .filter(|e| e.kind.as_str() == "bank_feed_account.feed_changed")
        .collect();
    assert_eq!(changed.len(), 1, "one feed changed: {events:?}");
    assert_eq!(changed[0].resource_id, checking.id.to_string());
    assert_eq!(changed[0].connection_id, Some(xero.id));
    assert_eq!(changed[0].payload["feed_status"], "active");
    assert_eq!(changed[0].payload["transaction_ready"], true);
}

/// A challenge keeps the digest of the binding of the browser that started it, and a redirect
/// presenting no binding or another one is refused without using up the challenge or the OTP.
pub async fn a_challenge_binds_only_from_its_browser(store: DynStore) {
    let t0 = SystemClock.now();
    let books = company(&store, Platform::Xero, "Demo Books Ltd").await;
    let fi = org(&store, "Demo Bank").await;
    let xero = connection(&store, fi, Platform::Xero).await;
    let ch = challenge(&store, &books, fi, t0).await;
    let stored = store.get_challenge(&ch.hash).await.unwrap().unwrap();
    assert!(
        stored.browser.is_some_and(|b| b.matches(&browser())),
        "the binding is stored with the challenge"
    );
    let code = otp(&store, &xero, t0).await;
    let other = Secret::from_presented("bfbb_another-browser").hash();
    for presented in [None, Some(&other)] {
        assert_eq!(
            store
                .bind_challenge(&ch.hash, Platform::Xero, presented, &code, t0 + secs(1))
                .await
                .unwrap(),
            Err(LinkRefusal::NotThisBrowser)
        );
    }
    assert_eq!(
        store.get_challenge(&ch.hash).await.unwrap(),
        Some(ch.clone()),
        "the refused redirects changed nothing"
    );
    bind_ok(&store, &ch, &code, &xero, t0 + secs(2)).await;
}

pub async fn link_refusals_change_nothing(store: DynStore) {
    let t0 = SystemClock.now();
    let at = |n: i64| t0 + secs(n);
    let books = company(&store, Platform::Xero, "Demo Books Ltd").await;
    let fi = org(&store, "Demo Bank").await;
    let xero = connection(&store, fi, Platform::Xero).await;
    let qbo = connection(&store, fi, Platform::IntuitBankFeeds).await;
    let other_fi = org(&store, "Other Bank").await;
    let other_xero = connection(&store, other_fi, Platform::Xero).await;

    // Unknown challenge; the OTP is still usable.
    let ch = challenge(&store, &books, fi, t0).await;
    let code = otp(&store, &xero, t0).await;
    let unknown = Secret::from_presented("bfch_unknown").hash();
    assert_eq!(
        store
            .bind_challenge(&unknown, Platform::Xero, Some(&browser()), &code, at(1))
            .await
            .unwrap(),
        Err(LinkRefusal::UnknownChallenge)
    );
    bind_ok(&store, &ch, &code, &xero, at(1)).await;

    // Another platform's link pages.
    let ch = challenge(&store, &books, fi, t0).await;
    let code = otp(&store, &xero, t0).await;
    assert_eq!(
        bind(&store, &ch, Platform::IntuitBankFeeds, &code, at(1)).await,
        Err(LinkRefusal::WrongPlatform)
    );
    bind_ok(&store, &ch, &code, &xero, at(1)).await;

    // Expired: refused at `expires_at` exactly and after, accepted one microsecond before.
    let ch = challenge(&store, &books, fi, t0).await;
    let code = otp(&store, &xero, t0).await;
    for late in [ch.expires_at + secs(3600), ch.expires_at] {
        assert_eq!(
            bind(&store, &ch, Platform::Xero, &code, late).await,
            Err(LinkRefusal::ExpiredChallenge)
        );
    }
    bind_ok(&store, &ch, &code, &xero, ch.expires_at - MICRO).await;

    // OTPs a link refuses, using up neither them nor the challenge: an unknown one, one from
    // another FI than the one picked, one whose connection is for another platform. Each
    // challenge then binds with a good OTP, and the refused OTPs still work where they belong.
    let unknown_otp = Secret::from_presented("bfotp_unknown").hash();
    let foreign = otp(&store, &other_xero, t0).await;
    let qbo_code = otp(&store, &qbo, t0).await;
    for (case, presented, refusal) in [
        (
            "unknown",
            &unknown_otp,
            LinkRefusal::Otp(OtpRefusal::Unknown),
        ),
        ("another FI's", &foreign, LinkRefusal::ForeignOtp),
        (
            "another platform's",
            &qbo_code,
            LinkRefusal::ConnectionPlatformMismatch,
        ),
    ] {
        let ch = challenge(&store, &books, fi, t0).await;
        let code = otp(&store, &xero, t0).await;
        let refused = bind(&store, &ch, Platform::Xero, presented, at(1)).await;
        assert_eq!(refused, Err(refusal), "{case} OTP");
        bind_ok(&store, &ch, &code, &xero, at(2)).await;
    }
    let their_ch = challenge(&store, &books, other_fi, t0).await;
    bind_ok(&store, &their_ch, &foreign, &other_xero, at(3)).await;
    assert_eq!(
        store.consume_otp(&qbo_code, at(3)).await.unwrap(),
        Ok((fi, qbo.id)),
        "the refused bind must not use the OTP"
    );

    // The OTP's connection was deleted after the OTP was issued.
    let deleted = connection(&store, fi, Platform::Xero).await;
    let ch = challenge(&store, &books, fi, t0).await;
    let code = otp(&store, &xero, t0).await;
    let orphan = otp(&store, &deleted, t0).await;
    store
        .delete_connection(fi, deleted.id, at(1))
        .await
        .unwrap();
    assert_eq!(
        bind(&store, &ch, Platform::Xero, &orphan, at(2)).await,
        Err(LinkRefusal::ConnectionPlatformMismatch)
    );
    bind_ok(&store, &ch, &code, &xero, at(3)).await;
    assert_eq!(
        store.consume_otp(&orphan, at(4)).await.unwrap(),
        Ok((fi, deleted.id)),
        "the refused bind must not use the OTP"
    );

    // A bound challenge cannot be bound again, even with a fresh OTP, which stays usable. The
    // challenge is checked before the OTP.
    let used = challenge(&store, &books, fi, t0).await;
    let first = otp(&store, &xero, t0).await;
    bind_ok(&store, &used, &first, &xero, at(1)).await;
    let fresh = otp(&store, &xero, at(2)).await;
    assert_eq!(
        bind(&store, &used, Platform::Xero, &fresh, at(3)).await,
        Err(LinkRefusal::UsedChallenge)
    );
    assert_eq!(
        bind(&store, &used, Platform::Xero, &first, at(3)).await,
        Err(LinkRefusal::UsedChallenge)
    );
    let ch = challenge(&store, &books, fi, t0).await;
    bind_ok(&store, &ch, &fresh, &xero, at(4)).await;

    // A used OTP cannot bind a second challenge, which stays usable.
    let ch = challenge(&store, &books, fi, t0).await;
    assert_eq!(
        bind(&store, &ch, Platform::Xero, &fresh, at(5)).await,
        Err(LinkRefusal::Otp(OtpRefusal::AlreadyUsed))
    );
    let code = otp(&store, &xero, at(5)).await;
    bind_ok(&store, &ch, &code, &xero, at(6)).await;

    // --- feed choice ---
    let checking = account(&store, &xero, "CHK-1").await;
    let savings = account(&store, &xero, "SAV-1").await;
    let gone = account(&store, &xero, "OLD-1").await;
    store.delete_account(xero.id, gone.id, at(1)).await.unwrap();
    let same_org_other_connection = account(&store, &qbo, "CHK-1").await;
    let other_org = account(&store, &other_xero, "CHK-1").await;
    let changes_before = feed_changes(&store, fi).await;

    // Unknown challenge; before the bind.
    assert_eq!(
        choose(&store, &unknown, &[checking.id], at(10)).await,
        Err(LinkRefusal::UnknownChallenge)
    );
    let ch = challenge(&store, &books, fi, at(10)).await;
    assert_eq!(
        choose(&store, &ch.hash, &[checking.id], at(11)).await,
        Err(LinkRefusal::NotBound)
    );
    let code = otp(&store, &xero, at(10)).await;
    bind_ok(&store, &ch, &code, &xero, at(12)).await;

    // Accounts that are not live accounts of the bound connection; the valid one listed first
    // must not stay activated.
    for stranger in [&same_org_other_connection, &other_org, &gone] {
        assert_eq!(
            choose(&store, &ch.hash, &[checking.id, stranger.id], at(13)).await,
            Err(LinkRefusal::UnknownAccount),
            "{} is not an account of the bound connection",
            stranger.internal_bank_account_id
        );
    }
    assert_eq!(
        store.get_account(xero.id, checking.id).await.unwrap(),
        Some(checking.clone()),
        "a refused feed choice activates nothing"
    );
    assert_eq!(
        store
            .get_account(qbo.id, same_org_other_connection.id)
            .await
            .unwrap(),
        Some(same_org_other_connection.clone())
    );
    assert!(store.list_company_feeds(books.id).await.unwrap().is_empty());
    assert_eq!(feed_changes(&store, fi).await, changes_before);
    assert_eq!(
        store
            .get_challenge(&ch.hash)
            .await
            .unwrap()
            .unwrap()
            .completed_at,
        None
    );

    // The valid choice still works once, then the link is done.
    let linked = choose(&store, &ch.hash, &[checking.id], at(14))
        .await
        .expect("feed choice accepted");
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].feed_status, FeedStatus::Active);
    assert_eq!(linked[0].transaction_start_date, None);
    assert_eq!(
        choose(&store, &ch.hash, &[savings.id], at(15)).await,
        Err(LinkRefusal::NotBound)
    );
    assert_eq!(
        store.get_account(xero.id, savings.id).await.unwrap(),
        Some(savings.clone())
    );
    assert_eq!(feed_changes(&store, fi).await, changes_before + 1);

    // Too late: refused at `bound_at + SELECTION_TTL` exactly and after, accepted just before.
    let ch = challenge(&store, &books, fi, at(20)).await;
    let code = otp(&store, &xero, at(20)).await;
    bind_ok(&store, &ch, &code, &xero, at(21)).await;
    let deadline = at(21) + SELECTION_TTL;
    for late in [deadline + secs(3600), deadline] {
        assert_eq!(
            choose(&store, &ch.hash, &[savings.id], late).await,
            Err(LinkRefusal::NotBound)
        );
    }
    assert_eq!(
        store.get_account(xero.id, savings.id).await.unwrap(),
        Some(savings.clone())
    );
    let linked = choose(&store, &ch.hash, &[savings.id], deadline - MICRO)
        .await
        .expect("feed choice accepted just in time");
    assert_eq!(linked[0].id, savings.id);
    let feeds: Vec<_> = store
        .list_company_feeds(books.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(
        feeds,
        [checking.id, savings.id],
        "in the order they were linked"
    );
}

pub async fn concurrent_binds_use_a_challenge_once(store: DynStore) {
    let now = SystemClock.now();
    let books = company(&store, Platform::Xero, "Demo Books Ltd").await;
    let fi = org(&store, "Demo Bank").await;
    let xero = connection(&store, fi, Platform::Xero).await;
    let ch = challenge(&store, &books, fi, now).await;
    let code = otp(&store, &xero, now).await;

    let mut binders = JoinSet::new();
    for i in 0..8 {
        let store = store.clone();
        let hash = ch.hash;
        let browser = browser();
        binders.spawn(async move {
            store
                .bind_challenge(
                    &hash,
                    Platform::Xero,
                    Some(&browser),
                    &code,
                    now + secs(1) + TimeDelta::microseconds(i),
                )
                .await
                .unwrap()
        });
    }
    let mut bound = Vec::new();
    while let Some(outcome) = binders.join_next().await {
        match outcome.unwrap() {
            Ok(c) => bound.push(c),
            Err(LinkRefusal::UsedChallenge | LinkRefusal::Otp(OtpRefusal::AlreadyUsed)) => {}
            Err(other) => panic!("unexpected refusal {other:?}"),
        }
    }
    assert_eq!(bound.len(), 1, "exactly one bind may use the challenge");
    assert_eq!(bound[0].connection_id, Some(xero.id));
    assert_eq!(
        store.get_challenge(&ch.hash).await.unwrap(),
        Some(bound[0].clone())
    );
    assert_eq!(
        store.consume_otp(&code, now + secs(2)).await.unwrap(),
        Err(OtpRefusal::AlreadyUsed)
    );
}

pub async fn a_deleted_connection_cannot_complete_a_link(store: DynStore) {
    let now = SystemClock.now();
    let books = company(&store, Platform::Xero, "Demo Books Ltd").await;
    let fi = org(&store, "Demo Bank").await;
    let xero = connection(&store, fi, Platform::Xero).await;
    let checking = account(&store, &xero, "CHK-1").await;
    let ch = challenge(&store, &books, fi, now).await;
    let code = otp(&store, &xero, now).await;
    bind_ok(&store, &ch, &code, &xero, now + secs(1)).await;
    store
        .delete_connection(fi, xero.id, now + secs(2))
        .await
        .unwrap();
    let refused = choose(&store, &ch.hash, &[checking.id], now + secs(3)).await;
    assert_eq!(refused, Err(LinkRefusal::ConnectionDeleted));
    assert_eq!(
        store.get_account(xero.id, checking.id).await.unwrap(),
        None,
        "the connection took its accounts with it"
    );
    assert!(store.list_company_feeds(books.id).await.unwrap().is_empty());
}

pub async fn mapped_feeds_join_the_linked_company(store: DynStore) {
    let (books, c, _feed) = linked_feed(&store, Platform::Xero, "XERO-M").await;
    assert_eq!(
        store.connection_company(c.id).await.unwrap(),
        Some(books.clone())
    );
    let extra = crate::helpers::account(&store, &c, "XERO-M2").await;
    let start = Some(t0() - TimeDelta::days(3));
    let at = t0() + secs(4);
    let linked = store
        .link_feed(books.id, c.id, extra.id, start, at)
        .await
        .unwrap();
    assert_eq!(
        (
            linked.feed_status,
            linked.transaction_ready,
            linked.transaction_start_date,
            linked.updated_at
        ),
        (FeedStatus::Active, true, start, at)
    );
    // Mapped into the company, it says so in `platform_data`, as a feed chosen in the link does.
    let record = bankfeeds_domain::link::platform_record(Platform::Xero, books.id, at, start);
    assert_eq!(linked.platform_data, Some(record));
    assert_eq!(
        store.get_company_feed(books.id, extra.id).await.unwrap(),
        Some(linked)
    );
    let other = connection(&store, c.org_id, Platform::Xero).await;
    assert_eq!(
        store.connection_company(other.id).await.unwrap(),
        None,
        "never linked"
    );
    assert!(matches!(
        store
            .link_feed(books.id, other.id, extra.id, start, at)
            .await,
        Err(StoreError::NotFound)
    ));
}
