//! Xero's per-tenant allowances (60 calls in any rolling minute, 5,000 in any rolling day),
//! shared by every hub instance through the database: each allowance is kept as the generic
//! cell rate algorithm's "theoretical arrival time", so one row per tenant says whether a call
//! may go now, and a 429's `Retry-After` holds the tenant for all instances.
//!
//! A GCRA that let a whole allowance go at once would allow nearly twice it in a rolling
//! window (a burst, then the steady rate). Here half may go at once and the other half is
//! spread over the period, so no rolling period ever sees more than the allowance.

use std::time::Duration;

use crate::Timestamp;

/// At most `calls` calls in any rolling `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    pub calls: u32,
    pub period: Duration,
}

impl Allowance {
    pub const XERO_MINUTE: Allowance = Allowance {
        calls: 60,
        period: Duration::from_secs(60),
    };
    pub const XERO_DAY: Allowance = Allowance {
        calls: 5_000,
        period: Duration::from_secs(86_400),
    };

    /// Calls that may go at once after a quiet spell: half the allowance (at least one).
    fn burst(self) -> u32 {
        (self.calls / 2).max(1)
    }

    /// The time one call takes of the allowance: the rest of it spread over the period.
    fn interval(self) -> chrono::TimeDelta {
        let spread = (self.calls - self.burst().min(self.calls)).max(1);
        let nanos = self.period.as_nanos() / u128::from(spread);
        chrono::TimeDelta::nanoseconds(i64::try_from(nanos).unwrap_or(i64::MAX))
    }
}

/// Xero's allowances for one tenant, as every hub passes them (the store keeps one arrival
/// time per allowance, in this order).
pub const XERO: [Allowance; 2] = [Allowance::XERO_MINUTE, Allowance::XERO_DAY];

/// What is stored per tenant: one arrival time per allowance (in the order the allowances are
/// given; `None` before the first call) and the end of a 429's hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantBudget {
    pub arrivals: Vec<Option<Timestamp>>,
    pub held_until: Option<Timestamp>,
}

/// Whether one more call to the tenant may go at `now`: the budget after it, or how long to
/// wait (the longest any allowance or the hold asks). A refused call takes nothing.
pub fn admit(
    budget: &TenantBudget,
    allowances: &[Allowance],
    now: Timestamp,
) -> Result<TenantBudget, Duration> {
    let mut wait = match budget.held_until {
        Some(until) if until > now => until - now,
        _ => chrono::TimeDelta::zero(),
    };
    let mut arrivals = Vec::with_capacity(allowances.len());
    for (i, a) in allowances.iter().enumerate() {
        let interval = a.interval();
        // `burst` calls may go at once: the arrival time may run that many intervals less
        // one ahead of now.
        let tolerance = interval * (i32::try_from(a.burst()).unwrap_or(i32::MAX) - 1);
        let tat = budget
            .arrivals
            .get(i)
            .copied()
            .flatten()
            .map_or(now, |t| t.max(now));
        let ahead = tat - now;
        if ahead > tolerance {
            wait = wait.max(ahead - tolerance);
        }
        arrivals.push(Some(tat + interval));
    }
    if wait > chrono::TimeDelta::zero() {
        return Err(wait.to_std().unwrap_or(Duration::MAX));
    }
    Ok(TenantBudget {
        arrivals,
        held_until: budget.held_until.filter(|u| *u > now),
    })
}

/// The budget after a 429 asking for `wait`: held until then (a longer hold already there stays).
pub fn hold(budget: &TenantBudget, wait: Duration, now: Timestamp) -> TenantBudget {
    let until = now + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::MAX);
    TenantBudget {
        arrivals: budget.arrivals.clone(),
        held_until: Some(budget.held_until.map_or(until, |u| u.max(until))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        crate::ts("2026-12-05T10:00:00Z")
    }

    fn secs(s: i64) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds(s)
    }

    const FOUR_A_MINUTE: Allowance = Allowance {
        calls: 4,
        period: Duration::from_secs(60),
    };

    /// Takes calls at `now` until one is refused; how many went and the wait asked.
    fn burst(b: &mut TenantBudget, allowances: &[Allowance], now: Timestamp) -> (u32, Duration) {
        let mut n = 0;
        loop {
            match admit(b, allowances, now) {
                Ok(next) => {
                    *b = next;
                    n += 1;
                }
                Err(wait) => return (n, wait),
            }
        }
    }

    #[test]
    fn half_goes_at_once_then_the_rest_spread_over_the_period() {
        let mut b = TenantBudget::default();
        let (n, wait) = burst(&mut b, &[FOUR_A_MINUTE], t0());
        assert_eq!((n, wait), (2, Duration::from_secs(30)));
        // 30 s later exactly one more; after a quiet spell the half again.
        assert_eq!(burst(&mut b, &[FOUR_A_MINUTE], t0() + secs(30)).0, 1);
        assert_eq!(burst(&mut b, &[FOUR_A_MINUTE], t0() + secs(200)).0, 2);
        // Xero's minute: 30 at once, then one every 2 s.
        let mut b = TenantBudget::default();
        let (n, wait) = burst(&mut b, &[Allowance::XERO_MINUTE], t0());
        assert_eq!((n, wait), (30, Duration::from_secs(2)));
    }

    #[test]
    fn never_more_than_the_allowance_in_any_period() {
        let mut b = TenantBudget::default();
        let mut calls = Vec::new();
        for s in 0..600 {
            let now = t0() + secs(s) / 2;
            if let Ok(next) = admit(&b, &[Allowance::XERO_MINUTE], now) {
                b = next;
                calls.push(now);
            }
        }
        for (i, start) in calls.iter().enumerate() {
            let within = calls[i..]
                .iter()
                .take_while(|c| **c - *start < secs(60))
                .count();
            assert!(within <= 60, "{within} calls in the minute from {start}");
        }
        assert!(calls.len() > 60, "it keeps going after the burst");
    }

    #[test]
    fn the_tightest_allowance_and_a_hold_bind() {
        let two_a_day = Allowance {
            calls: 2,
            period: Duration::from_secs(86_400),
        };
        let both = [Allowance::XERO_MINUTE, two_a_day];
        let mut b = TenantBudget::default();
        let (n, wait) = burst(&mut b, &both, t0());
        assert_eq!(n, 1);
        assert_eq!(wait, Duration::from_secs(86_400));
        // A refused call takes nothing: asking again changes nothing.
        assert_eq!(admit(&b, &both, t0()), Err(wait));

        let mut b = TenantBudget::default();
        b = hold(&b, Duration::from_secs(30), t0());
        assert_eq!(
            admit(&b, &both, t0() + secs(10)),
            Err(Duration::from_secs(20))
        );
        // A shorter hold after it does not shorten it.
        b = hold(&b, Duration::from_secs(5), t0() + secs(10));
        assert_eq!(b.held_until, Some(t0() + secs(30)));
        let after = admit(&b, &both, t0() + secs(30)).unwrap();
        assert_eq!(after.held_until, None, "a hold past is forgotten");
    }
}
