//! What an accounting platform records when it ingests a feed: statements of the transactions it
//! took, each with an opening and closing balance, so the platform can show a running balance.
//!
//! A platform takes every transaction it has not yet taken, in storage order, cut into
//! statements of at most its profile's `ingest_chunk` (Sage takes at most 100 per statement).
//! The balances come from the FI: the account's `current_balance` is the balance after the
//! newest transaction, so the first new statement opens at that balance less everything new.
//! Without a balance from the FI the platform carries on from its last closing balance (zero at
//! first), as an accountant would see a running total.
//!
//! A platform imports a feed's history only from the start date the customer chose when
//! linking (`imports_from`): what the FI sent for earlier days stays un-ingested, and is taken
//! if the customer links the feed again with an earlier start date.

use rust_decimal::Decimal;

use chrono::TimeDelta;

use crate::batch::rules::start_of_utc_day;
use crate::link::CompanyId;
use crate::profile::{Door, PlatformProfile};
use crate::{BankFeedAccountId, Platform, Timestamp, TransactionId};

crate::define_id!(
    /// One statement a sandbox platform ingested.
    StatementId
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub id: StatementId,
    pub company_id: CompanyId,
    pub account_id: BankFeedAccountId,
    pub ingested_at: Timestamp,
    pub transaction_count: u32,
    /// The statement holds the account's transactions from `first` to `last`, in storage order.
    pub first_transaction_id: TransactionId,
    pub last_transaction_id: TransactionId,
    pub opening_balance: Decimal,
    pub closing_balance: Decimal,
}

/// The earliest `posted_at` the platform imports for a feed linked with `start` as its start
/// date: that calendar day (UTC), less the most any door lets an FI back-date before it
/// (QuickBooks: the 7 days Codat documents). `None`: every transaction (no start date, or a
/// platform that takes any history, as NetSuite does).
pub fn imports_from(platform: Platform, start: Option<Timestamp>) -> Option<Timestamp> {
    let start = start_of_utc_day(start?);
    let most_before = [Door::Rutter, Door::Codat]
        .map(|door| PlatformProfile::for_platform(platform, door).days_before_start)
        .into_iter()
        .try_fold(0, |most, days| Some(days?.max(most)))?;
    start.checked_sub_signed(TimeDelta::days(i64::from(most_before)))
}

/// One transaction the platform is about to take: its id and amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub id: TransactionId,
    pub amount: Decimal,
}

/// Cuts the not-yet-ingested transactions (in storage order) into statements of at most
/// `per_statement`, with balances as the module explains. `previous_closing` is the closing
/// balance of the platform's last statement for the account, if any; `current_balance` the
/// account's balance as the FI last reported it.
pub fn plan(
    company_id: CompanyId,
    account_id: BankFeedAccountId,
    pending: &[Pending],
    per_statement: usize,
    previous_closing: Option<Decimal>,
    current_balance: Option<Decimal>,
    now: Timestamp,
) -> Vec<Statement> {
    if pending.is_empty() {
        return Vec::new();
    }
    let total: Decimal = pending.iter().map(|p| p.amount).sum();
    let mut balance = match (current_balance, previous_closing) {
        (Some(current), _) => current - total,
        (None, Some(previous)) => previous,
        (None, None) => Decimal::ZERO,
    };
    pending
        .chunks(per_statement.max(1))
        .map(|chunk| {
            let opening = balance;
            balance += chunk.iter().map(|p| p.amount).sum::<Decimal>();
            Statement {
                id: StatementId::new(),
                company_id,
                account_id,
                ingested_at: now,
                transaction_count: chunk.len() as u32,
                first_transaction_id: chunk[0].id,
                last_transaction_id: chunk[chunk.len() - 1].id,
                opening_balance: opening,
                closing_balance: balance,
            }
        })
        .collect()
}

/// The running balance after each of a statement's transactions.
pub fn running_balances(
    opening: Decimal,
    amounts: impl IntoIterator<Item = Decimal>,
) -> Vec<Decimal> {
    amounts
        .into_iter()
        .scan(opening, |balance, amount| {
            *balance += amount;
            Some(*balance)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::imports_from;
    use crate::Platform;

    fn instant(s: &str) -> crate::Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_platform_imports_from_the_start_day_less_the_back_dating_it_allows() {
        let start = Some(instant("2026-03-10T15:30:00Z"));
        assert_eq!(
            imports_from(Platform::Xero, start),
            Some(instant("2026-03-10T00:00:00Z")),
            "the chosen day, from its first instant"
        );
        assert_eq!(
            imports_from(Platform::IntuitBankFeeds, start),
            Some(instant("2026-03-03T00:00:00Z")),
            "QuickBooks takes the 7 days before the feed start date Codat documents"
        );
        assert_eq!(imports_from(Platform::Netsuite, start), None, "any history");
        assert_eq!(
            imports_from(Platform::Xero, None),
            None,
            "no start date chosen"
        );
    }
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn pending(amounts: &[Decimal]) -> Vec<Pending> {
        amounts
            .iter()
            .map(|a| Pending {
                id: TransactionId::new(),
                amount: *a,
            })
            .collect()
    }

    fn at() -> Timestamp {
        "2026-11-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn the_fi_balance_closes_the_last_statement() {
        let p = pending(&[d("-10.50"), d("200"), d("-0.25")]);
        let s = plan(
            CompanyId::new(),
            BankFeedAccountId::new(),
            &p,
            1000,
            Some(d("5")),
            Some(d("1000")),
            at(),
        );
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].transaction_count, 3);
        assert_eq!(s[0].opening_balance, d("810.75"));
        assert_eq!(s[0].closing_balance, d("1000"));
        assert_eq!(s[0].first_transaction_id, p[0].id);
        assert_eq!(s[0].last_transaction_id, p[2].id);
    }

    #[test]
    fn chunks_follow_the_per_statement_limit_and_chain_balances() {
        let amounts: Vec<Decimal> = (1..=250).map(Decimal::from).collect();
        let p = pending(&amounts);
        let s = plan(
            CompanyId::new(),
            BankFeedAccountId::new(),
            &p,
            100,
            None,
            None,
            at(),
        );
        assert_eq!(
            s.iter().map(|s| s.transaction_count).collect::<Vec<_>>(),
            vec![100, 100, 50]
        );
        assert_eq!(s[0].opening_balance, Decimal::ZERO);
        assert_eq!(s[0].closing_balance, s[1].opening_balance);
        assert_eq!(s[1].closing_balance, s[2].opening_balance);
        assert_eq!(s[2].closing_balance, d("31375"));
        assert_eq!(s[1].first_transaction_id, p[100].id);
        assert_eq!(s[2].last_transaction_id, p[249].id);
    }

    #[test]
    fn without_an_fi_balance_the_platform_carries_on_from_its_last_close() {
        let s = plan(
            CompanyId::new(),
            BankFeedAccountId::new(),
            &pending(&[d("1.01")]),
            100,
            Some(d("99.99")),
            None,
            at(),
        );
        assert_eq!(s[0].opening_balance, d("99.99"));
        assert_eq!(s[0].closing_balance, d("101.00"));
    }

    #[test]
    fn nothing_new_is_no_statement() {
        let s = plan(
            CompanyId::new(),
            BankFeedAccountId::new(),
            &[],
            100,
            None,
            Some(d("1")),
            at(),
        );
        assert!(s.is_empty());
    }

    #[test]
    fn running_balances_add_up_exactly() {
        assert_eq!(
            running_balances(d("0.1"), [d("0.2"), d("-0.3"), d("0.00000001")]),
            vec![d("0.3"), d("0"), d("0.00000001")]
        );
    }
}
