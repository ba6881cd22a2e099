//! `LiveLimitStore`: one budget per Xero tenant for every instance on the database.

use std::time::Duration;

use bankfeeds_domain::live::rate::XERO;
use bankfeeds_domain::{Clock, SystemClock};
use bankfeeds_store::DynStore;

/// Two instances asking at once for the same tenant get its burst between them, not each.
pub async fn instances_share_one_budget_per_tenant(store: DynStore) {
    let tenant = format!("tenant-{}", uuid::Uuid::new_v4());
    let now = SystemClock.now();
    let instance = |store: DynStore, tenant: String| {
        tokio::spawn(async move {
            let mut went = 0;
            for _ in 0..40 {
                if store
                    .take_tenant_call(&tenant, &XERO, now)
                    .await
                    .unwrap()
                    .is_ok()
                {
                    went += 1;
                }
            }
            went
        })
    };
    let a = instance(store.clone(), tenant.clone());
    let b = instance(store.clone(), tenant.clone());
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert_eq!(
        a + b,
        30,
        "half of Xero's minute at once, shared ({a} + {b})"
    );
    let wait = store.take_tenant_call(&tenant, &XERO, now).await.unwrap();
    assert_eq!(wait, Err(Duration::from_secs(2)));
    // Another tenant has its own budget.
    let other = format!("tenant-{}", uuid::Uuid::new_v4());
    assert_eq!(
        store.take_tenant_call(&other, &XERO, now).await.unwrap(),
        Ok(())
    );
    // Two seconds on, one more call.
    let later = now + chrono::TimeDelta::seconds(2);
    assert_eq!(
        store.take_tenant_call(&tenant, &XERO, later).await.unwrap(),
        Ok(())
    );
    assert!(store
        .take_tenant_call(&tenant, &XERO, later)
        .await
        .unwrap()
        .is_err());
}

/// A 429's hold stops every instance until it ends; a shorter one after it does not shorten it.
pub async fn a_hold_stops_the_tenant_for_everyone_until_it_ends(store: DynStore) {
    let tenant = format!("tenant-{}", uuid::Uuid::new_v4());
    let now = SystemClock.now();
    store
        .hold_tenant(&tenant, Duration::from_secs(30), now)
        .await
        .unwrap();
    store
        .hold_tenant(&tenant, Duration::from_secs(1), now)
        .await
        .unwrap();
    let soon = now + chrono::TimeDelta::seconds(10);
    assert_eq!(
        store.take_tenant_call(&tenant, &XERO, soon).await.unwrap(),
        Err(Duration::from_secs(20))
    );
    let after = now + chrono::TimeDelta::seconds(30);
    assert_eq!(
        store.take_tenant_call(&tenant, &XERO, after).await.unwrap(),
        Ok(())
    );
}
