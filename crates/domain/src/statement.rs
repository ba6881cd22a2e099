//! What an accounting platform records when it ingests a feed: statements of the transactions it
//! took, each with an opening and closing balance and, where the FI reported one, the closing
//! balance the bank gives, so the platform can show whether the statement ties out.
//!
//! **Statements are periods by posting date**, as bank statements are: a sync takes every
//! transaction it has not yet taken and cuts one statement per posting day (the UTC date of
//! `posted_at`), oldest day first, each day's lines in storage order; a day with more lines than
//! the profile's `ingest_chunk` (Sage takes at most 100 per statement) is several statements of
//! that day. When a later sync brings transactions for a day already shown, they become another
//! statement of that day (marked `late`) after the newest one: what the platform has shown is
//! never rewritten, since an accountant may have reconciled it (Xero keeps each statement it
//! accepted and only refuses repeated lines; QuickBooks and Sage show late postings as new
//! lines to review).
//!
//! **Balances.** A statement opens where the platform's previous statement closed as the bank
//! gave it (its reported closing when there is one). Its `closing_balance` is the platform's
//! own sum, opening plus lines. Its `reported_closing` is the bank's balance at the end of its
//! day, when the FI reported one that can be attributed to that day
//! ([`crate::statement_close::bank_closings`]: the last report whose batch's transactions end on
//! that day, with no line of that day stored after it); a day several statements long (the
//! profile's chunk) gives it to its last. The first statement of a feed opens at the FI's last
//! reported balance less the new lines it covers, less the breaks the continuity ledger
//! recorded on those lines' days (`domain::continuity`), so a wrong FI figure shows as a
//! difference on the statement it falls in, never as a silently shifted opening balance; a
//! break on days before the platform's window falls in no statement and is not shown. Without any balance from
//! the FI the platform opens at zero and carries on from its last close.
//! [`Statement::reconcile`] compares: ties out, a difference of some money, or nothing reported.
//!
//! A platform imports a feed's history only from the start date the customer chose when
//! linking (`imports_from`): what the FI sent for earlier days stays un-ingested, and is taken
//! if the customer links the feed again with an earlier start date.

use std::collections::BTreeMap;

use chrono::NaiveDate;
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
    /// The posting day the statement covers (`None`: cut before statements were periods, by
    /// sync, migration 0032).
    pub day: Option<NaiveDate>,
    /// A later sync's lines for a day an earlier statement already showed.
    pub late: bool,
    pub transaction_count: u32,
    /// The first and last of the statement's transactions in storage order.
    pub first_transaction_id: TransactionId,
    pub last_transaction_id: TransactionId,
    pub opening_balance: Decimal,
    /// The platform's sum: the opening balance plus the lines.
    pub closing_balance: Decimal,
    /// The closing balance the FI reported for this statement, when it reported one.
    pub reported_closing: Option<Decimal>,
}

/// Whether a statement ties out: the opening balance plus the lines against the closing
/// balance the FI reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconcile {
    TiesOut,
    /// `reported − (opening + lines)`.
    Difference(Decimal),
    /// The FI reported no balance for this statement's end; its closing is carried.
    NotReported,
}

impl Reconcile {
    /// The stable name the JSON face gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            Reconcile::TiesOut => "ties_out",
            Reconcile::Difference(_) => "difference",
            Reconcile::NotReported => "not_reported",
        }
    }

    pub fn difference(self) -> Option<Decimal> {
        match self {
            Reconcile::Difference(d) => Some(d),
            _ => None,
        }
    }
}

impl Statement {
    /// Where the next statement opens: the bank's closing when it gave one, else the sum.
    pub fn bank_closing(&self) -> Decimal {
        self.reported_closing.unwrap_or(self.closing_balance)
    }

    pub fn reconcile(&self) -> Reconcile {
        match self.reported_closing {
            None => Reconcile::NotReported,
            Some(r) if r == self.closing_balance => Reconcile::TiesOut,
            Some(r) => Reconcile::Difference(r - self.closing_balance),
        }
    }
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

/// One transaction the platform is about to take: its id, amount and posting time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub id: TransactionId,
    pub amount: Decimal,
    pub posted_at: Timestamp,
}

/// What the platform already shows of a feed, as `plan` needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shown {
    /// The newest statement's [`Statement::bank_closing`] (`None`: no statement yet).
    pub closing: Option<Decimal>,
    /// The newest posting day any statement covers.
    pub through: Option<NaiveDate>,
}

/// What the FI has said about the feed's balance.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reported {
    /// The FI's last reported balance (the account's `current_balance` when it never reported).
    pub current: Option<Decimal>,
    /// The amounts of the new lines stored after `current` was reported (the continuity
    /// ledger's unreported amount; zero when `current` is not a report).
    pub unreported: Decimal,
    /// The sum of the differences of the breaks continuity recorded (the FI's figures that
    /// disagreed with its transactions).
    pub breaks: Decimal,
    /// The bank's closing balance of each posting day a report closes
    /// ([`crate::statement_close::bank_closings`]).
    pub closings: BTreeMap<NaiveDate, Decimal>,
}

/// The order `plan`'s statements hold the lines in: by posting day, then storage order. Each
/// statement takes the next `transaction_count` of them.
pub fn in_statement_order(pending: &[Pending]) -> Vec<Pending> {
    let mut lines = pending.to_vec();
    lines.sort_by_key(|p| (p.posted_at.date_naive(), p.id));
    lines
}

/// Cuts the not-yet-ingested transactions into statements by posting day, at most
/// `per_statement` lines each, with balances as the module explains.
pub fn plan(
    company_id: CompanyId,
    account_id: BankFeedAccountId,
    pending: &[Pending],
    per_statement: usize,
    shown: Shown,
    reported: &Reported,
    now: Timestamp,
) -> Vec<Statement> {
    if pending.is_empty() {
        return Vec::new();
    }
    let lines = in_statement_order(pending);
    let total: Decimal = lines.iter().map(|p| p.amount).sum();
    let mut balance = match (shown.closing, reported.current) {
        (Some(closing), _) => closing,
        (None, Some(current)) => current - (total - reported.unreported) - reported.breaks,
        (None, None) => Decimal::ZERO,
    };
    lines
        .chunk_by(|a, b| a.posted_at.date_naive() == b.posted_at.date_naive())
        .flat_map(|day| {
            let chunks = day.chunks(per_statement.max(1));
            let last = chunks.len() - 1;
            chunks.enumerate().map(move |(i, chunk)| (chunk, i == last))
        })
        .map(|(chunk, ends_day)| {
            let day = chunk[0].posted_at.date_naive();
            let opening = balance;
            let closing = opening + chunk.iter().map(|p| p.amount).sum::<Decimal>();
            let reported_closing = reported.closings.get(&day).copied().filter(|_| ends_day);
            // The next statement opens where the bank closed this one.
            balance = reported_closing.unwrap_or(closing);
            Statement {
                id: StatementId::new(),
                company_id,
                account_id,
                ingested_at: now,
                day: Some(day),
                late: shown.through.is_some_and(|through| day <= through),
                transaction_count: chunk.len() as u32,
                first_transaction_id: chunk[0].id,
                last_transaction_id: chunk[chunk.len() - 1].id,
                opening_balance: opening,
                closing_balance: closing,
                reported_closing,
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

    fn at() -> Timestamp {
        "2026-11-01T00:00:00Z".parse().unwrap()
    }

    /// Lines posted on the given days (`YYYY-MM-DD`) with the given amounts, in storage order.
    fn lines(days_amounts: &[(&str, &str)]) -> Vec<Pending> {
        days_amounts
            .iter()
            .map(|(day, amount)| Pending {
                id: TransactionId::new(),
                amount: d(amount),
                posted_at: format!("{day}T12:00:00Z").parse().unwrap(),
            })
            .collect()
    }

    /// `closings`: the bank's figure for each day a report closes.
    fn cut(
        p: &[Pending],
        per: usize,
        shown: Shown,
        current: Option<&str>,
        closings: &[(&str, &str)],
    ) -> Vec<Statement> {
        let reported = Reported {
            current: current.map(d),
            closings: closings_of(closings),
            ..Reported::default()
        };
        cut_as(p, per, shown, &reported)
    }

    /// A first sync's statements of `p`, 1000 lines at most each, with the FI's figures.
    fn first(p: &[Pending], reported: &Reported) -> Vec<Statement> {
        cut_as(p, 1000, Shown::default(), reported)
    }

    fn cut_as(p: &[Pending], per: usize, shown: Shown, reported: &Reported) -> Vec<Statement> {
        let (company, account) = (CompanyId::new(), BankFeedAccountId::new());
        plan(company, account, p, per, shown, reported, at())
    }

    fn closings_of(days: &[(&str, &str)]) -> BTreeMap<NaiveDate, Decimal> {
        days.iter()
            .map(|(a, b)| (a.parse().unwrap(), d(b)))
            .collect()
    }

    fn day(s: &str) -> Option<NaiveDate> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn a_statement_per_posting_day_oldest_first_whatever_the_storage_order() {
        // Stored out of date order: the 3rd, the 1st, the 3rd again, the 2nd.
        let p = lines(&[
            ("2026-10-03", "-10.50"),
            ("2026-10-01", "200"),
            ("2026-10-03", "-0.25"),
            ("2026-10-02", "5"),
        ]);
        let s = cut(
            &p,
            1000,
            Shown::default(),
            Some("1000"),
            &[("2026-10-03", "1000")],
        );
        let days: Vec<_> = s.iter().map(|s| s.day).collect();
        assert_eq!(
            days,
            vec![day("2026-10-01"), day("2026-10-02"), day("2026-10-03")]
        );
        assert_eq!(
            s[0].opening_balance,
            d("805.75"),
            "the FI balance less everything new"
        );
        assert_eq!(s[0].closing_balance, s[1].opening_balance);
        assert_eq!(s[1].closing_balance, s[2].opening_balance);
        assert_eq!(s[2].transaction_count, 2);
        assert_eq!(
            (s[2].first_transaction_id, s[2].last_transaction_id),
            (p[0].id, p[2].id)
        );
        assert_eq!(s[2].closing_balance, d("1000"));
        assert_eq!(
            s[2].reported_closing,
            Some(d("1000")),
            "the FI's figure closes its day"
        );
        assert_eq!(s[2].reconcile(), Reconcile::TiesOut);
        assert_eq!(
            s[0].reconcile(),
            Reconcile::NotReported,
            "no figure for that day's end"
        );
        assert!(s.iter().all(|s| !s.late));
        assert!(
            s.windows(2).all(|w| w[0].id < w[1].id),
            "ids in the order cut"
        );
    }

    #[test]
    fn a_day_longer_than_the_profile_allows_is_several_statements_of_that_day() {
        let amounts: Vec<(String, String)> = (1..=250)
            .map(|i| ("2026-10-05".to_owned(), i.to_string()))
            .collect();
        let refs: Vec<(&str, &str)> = amounts.iter().map(|(a, b)| (&**a, &**b)).collect();
        let s = cut(&lines(&refs), 100, Shown::default(), None, &[]);
        assert_eq!(
            s.iter().map(|s| s.transaction_count).collect::<Vec<_>>(),
            vec![100, 100, 50]
        );
        assert!(s.iter().all(|s| s.day == day("2026-10-05")));
        assert_eq!(
            s[0].opening_balance,
            Decimal::ZERO,
            "no balance ever: from zero"
        );
        assert_eq!(s[1].opening_balance, s[0].closing_balance);
        assert_eq!(s[2].closing_balance, d("31375"));
        assert!(s.iter().all(|s| s.reconcile() == Reconcile::NotReported));
    }

    #[test]
    fn a_later_sync_continues_from_the_banks_closing_and_marks_late_days() {
        let shown = Shown {
            closing: Some(d("7445.65")),
            through: day("2026-10-03"),
        };
        let p = lines(&[("2026-10-04", "-20.00"), ("2026-10-03", "1.00")]);
        let s = cut(
            &p,
            1000,
            shown,
            Some("7426.65"),
            &[("2026-10-04", "7426.65")],
        );
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].day, s[0].late),
            (day("2026-10-03"), true),
            "shown day: late"
        );
        assert_eq!((s[1].day, s[1].late), (day("2026-10-04"), false));
        assert_eq!(s[0].opening_balance, d("7445.65"));
        assert_eq!(s[1].reconcile(), Reconcile::TiesOut);
    }

    #[test]
    fn a_wrong_fi_balance_is_a_difference_on_its_statement_and_the_next_opens_at_it() {
        // The case: 7,445.65, then −20.00 with a reported balance of 1.00.
        let shown = Shown {
            closing: Some(d("7445.65")),
            through: day("2026-10-03"),
        };
        let s = cut(
            &lines(&[("2026-10-04", "-20.00")]),
            1000,
            shown,
            Some("1.00"),
            &[("2026-10-04", "1.00")],
        );
        assert_eq!(
            s[0].opening_balance,
            d("7445.65"),
            "never a shifted opening"
        );
        assert_eq!(s[0].closing_balance, d("7425.65"));
        assert_eq!(s[0].reconcile(), Reconcile::Difference(d("-7424.65")));
        assert_eq!(s[0].bank_closing(), d("1.00"));
        let next = Shown {
            closing: Some(s[0].bank_closing()),
            through: s[0].day,
        };
        let s = cut(
            &lines(&[("2026-10-05", "4")]),
            1000,
            next,
            Some("5.00"),
            &[("2026-10-05", "5.00")],
        );
        assert_eq!(s[0].opening_balance, d("1.00"));
        assert_eq!(
            s[0].reconcile(),
            Reconcile::TiesOut,
            "one wrong figure, one difference"
        );
    }

    #[test]
    fn the_first_statement_shows_the_breaks_recorded_before_it() {
        let reported = Reported {
            current: Some(d("1.00")),
            breaks: d("-7424.65"),
            closings: closings_of(&[("2026-10-01", "7445.65"), ("2026-10-04", "1.00")]),
            ..Reported::default()
        };
        let s = first(
            &lines(&[("2026-10-01", "7445.65"), ("2026-10-04", "-20.00")]),
            &reported,
        );
        assert_eq!(s[0].opening_balance, Decimal::ZERO);
        assert_eq!(s[0].reconcile(), Reconcile::TiesOut);
        assert_eq!(s[1].reconcile(), Reconcile::Difference(d("-7424.65")));
    }

    #[test]
    fn every_day_the_bank_closed_reconciles_and_the_next_opens_at_its_figure() {
        // Three days, a balance with each; the 2nd's figure is 4.70 off.
        let p = lines(&[
            ("2026-10-01", "100"),
            ("2026-10-02", "-50"),
            ("2026-10-03", "20"),
        ]);
        let closings = [
            ("2026-10-01", "1100"),
            ("2026-10-02", "1054.70"),
            ("2026-10-03", "1074.70"),
        ];
        let reported = Reported {
            current: Some(d("1074.70")),
            breaks: d("4.70"),
            closings: closings_of(&closings),
            ..Reported::default()
        };
        let s = first(&p, &reported);
        let status: Vec<_> = s.iter().map(|s| s.reconcile()).collect();
        assert_eq!(
            status,
            vec![
                Reconcile::TiesOut,
                Reconcile::Difference(d("4.70")),
                Reconcile::TiesOut
            ],
            "the break's 4.70 is on its day, not in the opening"
        );
        assert_eq!(s[0].opening_balance, d("1000"));
        assert_eq!(s[2].opening_balance, d("1054.70"), "where the bank closed");
    }

    #[test]
    fn a_day_of_several_statements_gives_the_banks_figure_to_its_last() {
        let p = lines(&[
            ("2026-10-05", "1"),
            ("2026-10-05", "2"),
            ("2026-10-05", "3"),
        ]);
        let s = cut(&p, 2, Shown::default(), Some("6"), &[("2026-10-05", "6")]);
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0].reconcile(),
            Reconcile::NotReported,
            "mid-day: no figure"
        );
        assert_eq!(s[1].reconcile(), Reconcile::TiesOut);
    }

    #[test]
    fn lines_sent_after_the_last_report_do_not_shift_the_opening() {
        // 60 reported after the 1st's +10; the 2nd's +5 came without a balance.
        let reported = Reported {
            current: Some(d("60")),
            unreported: d("5"),
            closings: closings_of(&[("2026-10-01", "60")]),
            ..Reported::default()
        };
        let s = first(
            &lines(&[("2026-10-01", "10"), ("2026-10-02", "5")]),
            &reported,
        );
        assert_eq!(s[0].opening_balance, d("50"));
        assert_eq!(s[0].reconcile(), Reconcile::TiesOut);
        assert_eq!(s[1].reconcile(), Reconcile::NotReported);
        assert_eq!(s[1].closing_balance, d("65"));
    }

    #[test]
    fn nothing_new_is_no_statement() {
        assert!(cut(&[], 100, Shown::default(), Some("1"), &[]).is_empty());
    }

    #[test]
    fn running_balances_add_up_exactly() {
        assert_eq!(
            running_balances(d("0.1"), [d("0.2"), d("-0.3"), d("0.00000001")]),
            vec![d("0.3"), d("0"), d("0.00000001")]
        );
    }
}
