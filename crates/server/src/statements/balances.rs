//! Which balances a statement file carries, and where each figure comes from.
//!
//! The FI reports an account's ledger balance (`current_balance`, on the account or with a
//! batch) and, optionally, its available balance; the hub keeps the latest of each, as of the
//! account's last change. A statement's period may end earlier and always starts somewhere in
//! the account's history, so:
//!
//! - **closing** = the reported `current_balance` less the net movement of the transactions
//!   posted after the period's end (none when the period reaches the present, so then it is the
//!   reported figure exactly), as of the period's end or the report, whichever is earlier;
//! - **opening** = closing less the net movement of the period's own transactions, as of the
//!   period's start;
//! - **available** = the reported `available_balance`, only when the period reaches the report
//!   and no transaction was posted after it (an available balance cannot be carried back);
//! - with no reported `current_balance` there is **no** opening or closing balance: the formats
//!   that need one refuse (`BALANCE_NOT_REPORTED`), the others leave them out. Nothing is ever
//!   filled in with zero.
//!
//! The movements are summed by one read of the rows before the file is written (page by page,
//! like the file itself), and the file then stops at the last row that read saw, so its lines
//! add up to its balances even while pushes continue. The account is read again after the sums
//! (`super::settled`): a batch that committed in between moved it, and both are read again.

use bankfeeds_domain::{BankFeedAccount, Timestamp, TransactionId};
use bankfeeds_formats::{Balance, Balances, Period};
use bankfeeds_store::{DynStore, StoreResult};
use rust_decimal::Decimal;

use super::mapping::TransactionPages;

/// What one read of an account's rows from the period's start onwards found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Movements {
    /// Net of the rows posted inside the period.
    pub period_net: Decimal,
    /// Count and net of the rows posted after the period's end.
    pub later_count: u64,
    pub later_net: Decimal,
    /// The earliest posting inside the period.
    pub earliest: Option<Timestamp>,
    /// The newest row seen: the file stops there.
    pub last_id: Option<TransactionId>,
}

/// Sums the account's rows posted from `from` on, splitting them at `to`.
pub async fn movements(
    store: &DynStore,
    account: &BankFeedAccount,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> StoreResult<Movements> {
    let mut m = Movements::default();
    let mut pages = TransactionPages::new(store, account, from, None);
    while let Some(page) = pages.next_page().await? {
        for t in page {
            let amount = t.data.amount.as_decimal();
            if to.is_some_and(|to| t.data.posted_at > to) {
                m.later_count += 1;
                m.later_net += amount;
            } else {
                m.period_net += amount;
                m.earliest = Some(
                    m.earliest
                        .map_or(t.data.posted_at, |e| e.min(t.data.posted_at)),
                );
            }
            m.last_id = Some(m.last_id.map_or(t.id, |l| l.max(t.id)));
        }
    }
    Ok(m)
}

/// The balances of the statement of `account` over `period`, as the module documentation says.
pub fn balances(account: &BankFeedAccount, m: &Movements, period: &Period) -> Balances {
    let Some(current) = account.current_balance else {
        return Balances::default();
    };
    let reported_at = account.updated_at;
    let closing = Balance {
        amount: current.as_decimal() - m.later_net,
        as_of: reported_at.min(period.to),
    };
    let opening = Balance {
        amount: closing.amount - m.period_net,
        as_of: period.from,
    };
    let available = account
        .details
        .available_balance
        .filter(|_| m.later_count == 0 && period.to >= reported_at)
        .map(|a| Balance {
            amount: a.as_decimal(),
            as_of: reported_at,
        });
    Balances {
        opening: Some(opening),
        closing: Some(closing),
        available,
    }
}
