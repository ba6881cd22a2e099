use chrono::TimeDelta;

use super::*;
use crate::account::BankAccountType;
use crate::profile::{Door, PlatformProfile};
use crate::{ConnectionId, Currency, OrgId, Platform};

fn now() -> Timestamp {
    crate::ts("2026-03-01T09:00:00Z")
}

fn account(internal_id: &str) -> BankFeedAccount {
    let profile = PlatformProfile::for_platform(Platform::Xero, Door::Rutter);
    BankFeedAccount::new(
        OrgId::new(),
        ConnectionId::new(),
        &profile,
        internal_id.into(),
        BankAccountType::Bank,
        Currency::from_code("USD").unwrap(),
        now(),
    )
}

#[test]
fn a_new_internal_id_creates_the_account_as_sent() {
    let a = account("acc-1");
    assert_eq!(decide_create(&a, None, false, true), Ok((a.clone(), true)));
}

#[test]
fn a_taken_internal_id_is_refused_unless_overridden() {
    let old = account("acc-1");
    let incoming = BankFeedAccount {
        created_at: now() + TimeDelta::hours(1),
        ..account("acc-1")
    };
    assert_eq!(
        decide_create(&incoming, Some(old.clone()), false, true),
        Err(AccountRefusal::InternalIdTaken)
    );
    let (stored, created) = decide_create(&incoming, Some(old.clone()), true, true).unwrap();
    assert!(!created);
    assert_eq!(
        stored.id, old.id,
        "an override keeps the account's identity"
    );
    assert_eq!(stored.created_at, old.created_at);
    assert_eq!(stored.updated_at, incoming.created_at);
}

#[test]
fn the_parent_must_be_another_live_account() {
    let parent = account("parent");
    let child = BankFeedAccount {
        parent_bank_feed_account_id: Some(parent.id),
        ..account("child")
    };
    assert!(decide_create(&child, None, false, true).is_ok());
    assert_eq!(
        decide_create(&child, None, false, false),
        Err(AccountRefusal::ParentNotFound(parent.id))
    );
    let mut own = account("own");
    own.parent_bank_feed_account_id = Some(own.id);
    // Its own parent is refused even though it "exists".
    assert_eq!(
        decide_create(&own, None, false, true),
        Err(AccountRefusal::OwnParent)
    );
    assert_eq!(AccountRefusal::OwnParent.code(), "PARENT_ACCOUNT_NOT_FOUND");
}

#[test]
fn an_override_onto_the_old_accounts_own_id_as_parent_is_refused() {
    let old = account("acc-1");
    let incoming = BankFeedAccount {
        parent_bank_feed_account_id: Some(old.id),
        ..account("acc-1")
    };
    assert_eq!(
        decide_create(&incoming, Some(old), true, true),
        Err(AccountRefusal::OwnParent)
    );
}

#[test]
fn the_currency_is_locked_once_transactions_exist() {
    let a = account("acc-1");
    let patch = AccountPatch {
        currency: Some(Currency::from_code("EUR").unwrap()),
        ..AccountPatch::default()
    };
    let later = now() + TimeDelta::minutes(5);
    let changed = decide_patch(a.clone(), &patch, later, false, true).unwrap();
    assert_eq!(changed.currency.code(), "EUR");
    assert_eq!(changed.updated_at, later);
    assert_eq!(
        decide_patch(a.clone(), &patch, later, true, true),
        Err(AccountRefusal::CurrencyLocked)
    );
    // The same currency again is no change.
    let same = AccountPatch {
        currency: Some(a.currency),
        ..AccountPatch::default()
    };
    assert!(decide_patch(a, &same, later, true, true).is_ok());
}

#[test]
fn a_patch_names_the_parent_it_leaves_and_that_parent_must_be_live() {
    let parent = account("parent");
    let mut a = account("acc-1");
    a.parent_bank_feed_account_id = Some(parent.id);
    let keep = AccountPatch::default();
    assert_eq!(keep.parent_after(&a), Some(parent.id));
    let clear = AccountPatch {
        parent_bank_feed_account_id: Some(None),
        ..AccountPatch::default()
    };
    assert_eq!(clear.parent_after(&a), None);
    assert!(decide_patch(a.clone(), &clear, now(), false, false).is_ok());
    assert_eq!(
        decide_patch(a.clone(), &keep, now(), false, false),
        Err(AccountRefusal::ParentNotFound(parent.id))
    );
    let own = AccountPatch {
        parent_bank_feed_account_id: Some(Some(a.id)),
        ..AccountPatch::default()
    };
    assert_eq!(
        decide_patch(a, &own, now(), false, true),
        Err(AccountRefusal::Patch(PatchError::OwnParent))
    );
}
