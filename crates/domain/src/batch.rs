//! Validation of one batch of transactions pushed for one bank feed account.
//!
//! Pure rules, no I/O: the store gathers what it knows about the account ([`AccountContext`]) and
//! which transactions of the batch are new, then [`validate_batch`] reports every problem at once
//! so the FI can fix the whole request in one go. Each problem carries a stable upper-snake code
//! (see [`codes`]) that clients may match on; the messages are for humans.

use std::collections::HashMap;

use chrono::{SecondsFormat, TimeDelta};

use crate::profile::PlatformProfile;
use crate::transaction::{DebitCreditMemo, TransactionData};
use crate::{Amount, Timestamp};

/// The stable codes of [`Violation`]s, in the order the rules are checked.
pub mod codes {
    pub const BATCH_EMPTY: &str = "BATCH_EMPTY";
    pub const BATCH_TOO_LARGE: &str = "BATCH_TOO_LARGE";
    pub const FEED_NOT_READY: &str = "FEED_NOT_READY";
    pub const DUPLICATE_TRANSACTION_ID: &str = "DUPLICATE_TRANSACTION_ID";
    pub const MISSING_TRANSACTION_ID: &str = "MISSING_TRANSACTION_ID";
    pub const INVALID_TRANSACTION_ID: &str = "INVALID_TRANSACTION_ID";
    pub const NOT_CHRONOLOGICAL: &str = "NOT_CHRONOLOGICAL";
    pub const OLDER_THAN_STORED: &str = "OLDER_THAN_STORED";
    pub const FUTURE_DATED: &str = "FUTURE_DATED";
    pub const BEFORE_HISTORY_WINDOW: &str = "BEFORE_HISTORY_WINDOW";
    pub const TOO_MANY_DECIMALS: &str = "TOO_MANY_DECIMALS";
    pub const SIGN_MISMATCH: &str = "SIGN_MISMATCH";
    pub const FIELD_TOO_LONG: &str = "FIELD_TOO_LONG";
}

/// Longest accepted `transaction_id`, in characters.
pub const MAX_TRANSACTION_ID_CHARS: usize = 255;
/// Longest accepted `description`, `memo` or `payee`, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;
/// How many violations [`summary`] spells out before "and N more".
pub const SUMMARY_LIMIT: usize = 5;
/// Longest id quoted in a message; longer ones are cut (the full id is in the violation).
const ID_IN_MESSAGE_CHARS: usize = 64;

/// What the store knows about the account when the batch is applied.
#[derive(Debug, Clone)]
pub struct AccountContext {
    /// Decimal places allowed by the account's currency (USD 2, JPY 0, BHD 3).
    pub minor_units: u32,
    pub transaction_ready: bool,
    /// The feed start date chosen when the customer linked the feed (or set by the FI).
    pub transaction_start_date: Option<Timestamp>,
    /// posted_at of the newest transaction already stored for the account, if any.
    pub newest_posted_at: Option<Timestamp>,
    /// Whether the account holds any stored transaction (first import or not).
    pub has_transactions: bool,
}

impl AccountContext {
    /// The context of a stored account whose newest stored transaction was posted at
    /// `newest_posted_at` (`None`: it holds none yet).
    pub fn of(account: &crate::BankFeedAccount, newest_posted_at: Option<Timestamp>) -> Self {
        AccountContext {
            minor_units: account.currency.minor_units(),
            transaction_ready: account.transaction_ready,
            transaction_start_date: account.transaction_start_date,
            newest_posted_at,
            has_transactions: newest_posted_at.is_some(),
        }
    }
}

/// One refused transaction (or the whole batch when `index` is None), with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    pub code: &'static str,
    /// Position in the batch (0-based), or None for batch-level problems.
    pub index: Option<usize>,
    pub transaction_id: Option<String>,
    pub message: String,
}

impl Violation {
    fn batch(code: &'static str, message: String) -> Self {
        Violation {
            code,
            index: None,
            transaction_id: None,
            message,
        }
    }
}

/// Validates `batch` for one account under `profile`'s rules, at time `now`.
///
/// `is_new[i]` says whether `batch[i]` is NEW (not already stored identically). The caller (the
/// store) has already set aside exact re-sends of stored transactions: they are harmless
/// duplicates and are not checked against the stored-order and history-window rules (they were
/// valid when first stored). A missing entry (`is_new` shorter than `batch`) counts as new.
///
/// Batch-level problems (empty, too large, feed not ready) are reported alone; otherwise every
/// per-transaction violation is reported, ordered by index, then by rule.
pub fn validate_batch(
    profile: &PlatformProfile,
    account: &AccountContext,
    batch: &[TransactionData],
    is_new: &[bool],
    now: Timestamp,
) -> Result<(), Vec<Violation>> {
    if batch.is_empty() {
        return Err(vec![Violation::batch(
            codes::BATCH_EMPTY,
            "the batch is empty: send at least one transaction per request".to_owned(),
        )]);
    }
    if batch.len() > profile.max_batch {
        return Err(vec![Violation::batch(
            codes::BATCH_TOO_LARGE,
            format!(
                "the batch holds {} transactions; at most {} are accepted per request",
                batch.len(),
                profile.max_batch
            ),
        )]);
    }
    if profile.requires_ready_feed && !account.transaction_ready {
        return Err(vec![Violation::batch(
            codes::FEED_NOT_READY,
            format!(
                "the bank feed is not ready: the customer must link the feed in {} first",
                profile.platform.display_name()
            ),
        )]);
    }

    let window = Window::new(profile, account, now);
    let mut first_seen: HashMap<&str, usize> = HashMap::with_capacity(batch.len());
    let mut out = Vec::new();
    for (i, tx) in batch.iter().enumerate() {
        let new = is_new.get(i).copied().unwrap_or(true);
        let mut check = Check {
            index: i,
            tx,
            out: &mut out,
        };
        check.transaction_id(&mut first_seen);
        if let Some(prev) = i.checked_sub(1).map(|p| (p, &batch[p])) {
            check.chronological(prev);
        }
        if new {
            check.not_older_than_stored(account.newest_posted_at);
        }
        check.not_future(now);
        if new {
            check.history_window(&window);
        }
        check.decimals(account.minor_units);
        check.sign();
        check.text_lengths();
    }
    if out.is_empty() {
        Ok(())
    } else {
        Err(out)
    }
}

/// The violations as one line, for the `error_message` of a 400: the first
/// [`SUMMARY_LIMIT`] messages joined by "; ", then "and N more" if some were left out.
pub fn summary(violations: &[Violation]) -> String {
    let mut parts: Vec<String> = violations
        .iter()
        .take(SUMMARY_LIMIT)
        .map(|v| v.message.clone())
        .collect();
    if violations.len() > SUMMARY_LIMIT {
        parts.push(format!("and {} more", violations.len() - SUMMARY_LIMIT));
    }
    parts.join("; ")
}

fn rfc3339(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// How a transaction is named in messages: `transaction ACRAF23DB3C4 (#3)`.
fn label(index: usize, id: &str) -> String {
    if id.trim().is_empty() {
        return format!("transaction {id:?} (#{index})");
    }
    if id.chars().count() > ID_IN_MESSAGE_CHARS {
        let cut: String = id.chars().take(ID_IN_MESSAGE_CHARS).collect();
        return format!("transaction {cut}… (#{index})");
    }
    format!("transaction {id} (#{index})")
}

/// The earliest `posted_at` a NEW transaction may have, from each of the profile's rules.
struct Window {
    /// (limit, why), for each rule that applies to this account.
    limits: Vec<(Timestamp, String)>,
}

impl Window {
    fn new(profile: &PlatformProfile, account: &AccountContext, now: Timestamp) -> Self {
        let platform = profile.platform.display_name();
        let mut limits = Vec::new();
        if let (Some(d), Some(start)) = (profile.days_before_start, account.transaction_start_date)
        {
            if let Some(limit) = start.checked_sub_signed(TimeDelta::days(i64::from(d))) {
                let why = if d == 0 {
                    format!(
                        "{platform} accepts no transaction posted before the feed start date ({})",
                        rfc3339(start)
                    )
                } else {
                    format!(
                        "{platform} accepts transactions posted at most {d} days before the feed \
                         start date ({})",
                        rfc3339(start)
                    )
                };
                limits.push((limit, why));
            }
        }
        if let Some(n) = profile.max_age_days {
            if let Some(limit) = now.checked_sub_signed(TimeDelta::days(i64::from(n))) {
                limits.push((
                    limit,
                    format!("{platform} accepts no transaction older than {n} days"),
                ));
            }
        }
        if let (Some(n), false) = (profile.first_import_max_age_days, account.has_transactions) {
            if let Some(limit) = now.checked_sub_signed(TimeDelta::days(i64::from(n))) {
                limits.push((
                    limit,
                    format!(
                        "on an account's first import {platform} accepts no transaction older \
                         than {n} days"
                    ),
                ));
            }
        }
        Window { limits }
    }

    /// The strictest limit `posted_at` breaks (the latest one), if any.
    fn broken_by(&self, posted_at: Timestamp) -> Option<&(Timestamp, String)> {
        self.limits
            .iter()
            .filter(|(limit, _)| posted_at < *limit)
            .max_by_key(|(limit, _)| *limit)
    }
}

/// The per-transaction rules, each pushing its violations for one transaction.
struct Check<'t, 'o> {
    index: usize,
    tx: &'t TransactionData,
    out: &'o mut Vec<Violation>,
}

impl<'t> Check<'t, '_> {
    fn push(&mut self, code: &'static str, what: &str) {
        let id = &self.tx.transaction_id;
        self.out.push(Violation {
            code,
            index: Some(self.index),
            transaction_id: Some(id.clone()),
            message: format!("{}: {what}", label(self.index, id)),
        });
    }

    /// Rules 4 and 5. A blank id is only reported as missing, never as a duplicate.
    fn transaction_id(&mut self, first_seen: &mut HashMap<&'t str, usize>) {
        let tx: &'t TransactionData = self.tx;
        let id = tx.transaction_id.as_str();
        if id.trim().is_empty() {
            self.push(
                codes::MISSING_TRANSACTION_ID,
                "transaction_id is missing or blank",
            );
            return;
        }
        match first_seen.get(id) {
            Some(&first) => self.push(
                codes::DUPLICATE_TRANSACTION_ID,
                &format!("transaction_id is used twice in the batch (first at #{first})"),
            ),
            None => {
                first_seen.insert(id, self.index);
            }
        }
        let len = id.chars().count();
        if len > MAX_TRANSACTION_ID_CHARS {
            self.push(
                codes::INVALID_TRANSACTION_ID,
                &format!(
                    "transaction_id is {len} characters long; at most \
                     {MAX_TRANSACTION_ID_CHARS} are allowed"
                ),
            );
        }
    }

    fn chronological(&mut self, (prev_index, prev): (usize, &TransactionData)) {
        if self.tx.posted_at < prev.posted_at {
            let what = format!(
                "posted_at {} is before posted_at {} of the previous {}; transactions must be \
                 sent in chronological order",
                rfc3339(self.tx.posted_at),
                rfc3339(prev.posted_at),
                label(prev_index, &prev.transaction_id),
            );
            self.push(codes::NOT_CHRONOLOGICAL, &what);
        }
    }

    fn not_older_than_stored(&mut self, newest: Option<Timestamp>) {
        if let Some(newest) = newest.filter(|n| self.tx.posted_at < *n) {
            let what = format!(
                "posted_at {} is before the newest stored transaction ({})",
                rfc3339(self.tx.posted_at),
                rfc3339(newest)
            );
            self.push(codes::OLDER_THAN_STORED, &what);
        }
    }

    fn not_future(&mut self, now: Timestamp) {
        let fields = [
            ("posted_at", Some(self.tx.posted_at)),
            ("transaction_date", self.tx.transaction_date),
        ];
        for (field, at) in fields {
            if let Some(at) = at.filter(|at| *at > now) {
                let what = format!(
                    "{field} {} is in the future (now is {})",
                    rfc3339(at),
                    rfc3339(now)
                );
                self.push(codes::FUTURE_DATED, &what);
            }
        }
    }

    fn history_window(&mut self, window: &Window) {
        if let Some((limit, why)) = window.broken_by(self.tx.posted_at) {
            let what = format!(
                "posted_at {} is before the history window limit {}: {why}",
                rfc3339(self.tx.posted_at),
                rfc3339(*limit)
            );
            self.push(codes::BEFORE_HISTORY_WINDOW, &what);
        }
    }

    fn decimals(&mut self, minor_units: u32) {
        let fields: [(&str, Option<Amount>); 3] = [
            ("amount", Some(self.tx.amount)),
            ("interest_amount", self.tx.interest_amount),
            ("principal_amount", self.tx.principal_amount),
        ];
        for (field, amount) in fields {
            if let Some(a) = amount.filter(|a| !a.fits_minor_units(minor_units)) {
                let what = format!(
                    "{field} {a} has {} decimal places; the account's currency allows at most \
                     {minor_units}",
                    a.fraction_digits()
                );
                self.push(codes::TOO_MANY_DECIMALS, &what);
            }
        }
    }

    fn sign(&mut self) {
        let amount = self.tx.amount;
        let wrong = match self.tx.debit_credit_memo {
            Some(DebitCreditMemo::Debit) => amount.is_positive().then_some(("DEBIT", "positive")),
            Some(DebitCreditMemo::Credit) => amount.is_negative().then_some(("CREDIT", "negative")),
            None => None,
        };
        if let Some((memo, sign)) = wrong {
            let what = format!(
                "debit_credit_memo is {memo} but amount {amount} is {sign}; DEBIT means money out \
                 (a negative amount) and CREDIT money in (a positive amount)"
            );
            self.push(codes::SIGN_MISMATCH, &what);
        }
    }

    fn text_lengths(&mut self) {
        let tx = self.tx;
        let fields = [
            ("description", &tx.description),
            ("memo", &tx.memo),
            ("payee", &tx.payee),
        ];
        for (field, text) in fields {
            let len = text.as_deref().map_or(0, |t| t.chars().count());
            if len > MAX_TEXT_CHARS {
                let what = format!(
                    "{field} is {len} characters long; at most {MAX_TEXT_CHARS} are allowed"
                );
                self.push(codes::FIELD_TOO_LONG, &what);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeDelta};

    use super::*;
    use crate::profile::Door;
    use crate::Platform;

    fn ts(s: &str) -> Timestamp {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn now() -> Timestamp {
        ts("2024-06-15T12:00:00Z")
    }

    fn amount(s: &str) -> Amount {
        s.parse().unwrap()
    }

    fn tx(id: &str, posted_at: Timestamp) -> TransactionData {
        TransactionData {
            transaction_id: id.to_owned(),
            posted_at,
            transaction_date: None,
            amount: amount("-12.50"),
            description: Some("Coffee".to_owned()),
            memo: None,
            payee: None,
            transaction_type: None,
            debit_credit_memo: None,
            interest_amount: None,
            principal_amount: None,
        }
    }

    /// A ready USD account with no stored transactions and no start date.
    fn account() -> AccountContext {
        AccountContext {
            minor_units: 2,
            transaction_ready: true,
            transaction_start_date: None,
            newest_posted_at: None,
            has_transactions: false,
        }
    }

    fn profile(platform: Platform) -> PlatformProfile {
        PlatformProfile::for_platform(platform, Door::Rutter)
    }

    fn intuit() -> PlatformProfile {
        profile(Platform::IntuitBankFeeds)
    }

    /// `n` valid transactions one minute apart, ending an hour before `now()`.
    fn txs(n: usize) -> Vec<TransactionData> {
        let start = now() - TimeDelta::hours(1) - TimeDelta::minutes(n as i64);
        (0..n)
            .map(|i| tx(&format!("T{i}"), start + TimeDelta::minutes(i as i64)))
            .collect()
    }

    fn run_with(
        p: &PlatformProfile,
        a: &AccountContext,
        batch: &[TransactionData],
        is_new: &[bool],
    ) -> Vec<(&'static str, Option<usize>)> {
        match validate_batch(p, a, batch, is_new, now()) {
            Ok(()) => Vec::new(),
            Err(v) => v.into_iter().map(|v| (v.code, v.index)).collect(),
        }
    }

    /// The (code, index) pairs refused when every transaction is new.
    fn run(
        p: &PlatformProfile,
        a: &AccountContext,
        batch: &[TransactionData],
    ) -> Vec<(&'static str, Option<usize>)> {
        run_with(p, a, batch, &vec![true; batch.len()])
    }

    fn violations(
        p: &PlatformProfile,
        a: &AccountContext,
        batch: &[TransactionData],
    ) -> Vec<Violation> {
        validate_batch(p, a, batch, &vec![true; batch.len()], now()).unwrap_err()
    }

    #[test]
    fn empty_batch_is_refused_and_one_transaction_accepted() {
        let v = violations(&intuit(), &account(), &[]);
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].code, v[0].index), (codes::BATCH_EMPTY, None));
        assert!(v[0]
            .message
            .contains("at least one transaction per request"));
        assert_eq!(run(&intuit(), &account(), &txs(1)), vec![]);
    }

    #[test]
    fn batch_size_limit_is_inclusive_and_batch_errors_stand_alone() {
        let p = intuit();
        assert_eq!(p.max_batch, 1000);
        assert_eq!(run(&p, &account(), &txs(1000)), vec![]);
        let mut batch = txs(1001);
        batch[5].transaction_id = "T0".to_owned(); // would also be a duplicate
        let v = violations(&p, &account(), &batch);
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].code, v[0].index), (codes::BATCH_TOO_LARGE, None));
        assert!(v[0].message.contains("1001") && v[0].message.contains("1000"));
    }

    #[test]
    fn feed_must_be_ready_except_on_intuit() {
        let not_ready = AccountContext {
            transaction_ready: false,
            ..account()
        };
        for platform in [
            Platform::Xero,
            Platform::SageIntacct,
            Platform::SageBusinessCloud,
            Platform::Netsuite,
        ] {
            let v = violations(&profile(platform), &not_ready, &txs(2));
            assert_eq!(v.len(), 1);
            assert_eq!((v[0].code, v[0].index), (codes::FEED_NOT_READY, None));
            assert!(v[0].message.contains(&format!(
                "link the feed in {} first",
                platform.display_name()
            )));
            assert_eq!(run(&profile(platform), &account(), &txs(2)), vec![]);
        }
        assert_eq!(run(&intuit(), &not_ready, &txs(2)), vec![]);
        let codat = PlatformProfile::for_platform(Platform::IntuitBankFeeds, Door::Codat);
        assert_eq!(run(&codat, &not_ready, &txs(2)), vec![]);
    }

    #[test]
    fn duplicate_ids_report_later_occurrences_naming_the_first() {
        let mut batch = txs(4);
        batch[2].transaction_id = "T0".to_owned();
        batch[3].transaction_id = "T0".to_owned();
        let v = violations(&intuit(), &account(), &batch);
        let got: Vec<_> = v.iter().map(|v| (v.code, v.index)).collect();
        assert_eq!(
            got,
            vec![
                (codes::DUPLICATE_TRANSACTION_ID, Some(2)),
                (codes::DUPLICATE_TRANSACTION_ID, Some(3))
            ]
        );
        assert_eq!(v[0].transaction_id.as_deref(), Some("T0"));
        assert!(v[0].message.contains("first at #0"), "{}", v[0].message);
        // Ids are compared exactly: case matters.
        let mut batch = txs(2);
        batch[0].transaction_id = "abc".to_owned();
        batch[1].transaction_id = "ABC".to_owned();
        assert_eq!(run(&intuit(), &account(), &batch), vec![]);
    }

    #[test]
    fn blank_and_overlong_ids_are_refused() {
        let mut batch = txs(6);
        batch[0].transaction_id = String::new();
        batch[1].transaction_id = "   ".to_owned();
        batch[2].transaction_id = "x".repeat(255);
        batch[3].transaction_id = "é".repeat(255); // 510 bytes, 255 characters
        batch[4].transaction_id = "y".repeat(256);
        batch[5].transaction_id = "\t".to_owned(); // blank twice: missing, not a duplicate
        let v = violations(&intuit(), &account(), &batch);
        let got: Vec<_> = v.iter().map(|v| (v.code, v.index)).collect();
        assert_eq!(
            got,
            vec![
                (codes::MISSING_TRANSACTION_ID, Some(0)),
                (codes::MISSING_TRANSACTION_ID, Some(1)),
                (codes::INVALID_TRANSACTION_ID, Some(4)),
                (codes::MISSING_TRANSACTION_ID, Some(5)),
            ]
        );
        assert_eq!(v[1].transaction_id.as_deref(), Some("   "));
        assert!(v[2].message.contains("256 characters"), "{}", v[2].message);
    }

    #[test]
    fn batch_must_be_chronological_for_new_and_duplicate_transactions() {
        let t = now() - TimeDelta::days(1);
        let equal = [tx("A", t), tx("B", t), tx("C", t)];
        assert_eq!(run(&intuit(), &account(), &equal), vec![]);
        let backwards = [tx("A", t), tx("B", t - TimeDelta::seconds(1)), tx("C", t)];
        assert_eq!(
            run(&intuit(), &account(), &backwards),
            vec![(codes::NOT_CHRONOLOGICAL, Some(1))]
        );
        assert_eq!(
            run_with(&intuit(), &account(), &backwards, &[true, false, true]),
            vec![(codes::NOT_CHRONOLOGICAL, Some(1))]
        );
        let v = violations(&intuit(), &account(), &backwards);
        assert!(
            v[0].message.contains("transaction A (#0)"),
            "{}",
            v[0].message
        );
    }

    #[test]
    fn new_transactions_may_not_precede_the_newest_stored_one() {
        let newest = now() - TimeDelta::days(1);
        let a = AccountContext {
            newest_posted_at: Some(newest),
            has_transactions: true,
            ..account()
        };
        assert_eq!(run(&intuit(), &a, &[tx("A", newest)]), vec![]);
        let older = [tx("A", newest - TimeDelta::seconds(1)), tx("B", newest)];
        assert_eq!(
            run(&intuit(), &a, &older),
            vec![(codes::OLDER_THAN_STORED, Some(0))]
        );
        // The same transaction already stored identically is a harmless re-send.
        assert_eq!(run_with(&intuit(), &a, &older, &[false, true]), vec![]);
    }

    #[test]
    fn future_dates_are_refused_without_tolerance() {
        let mut at_now = tx("A", now());
        at_now.transaction_date = Some(now());
        assert_eq!(run(&intuit(), &account(), &[at_now]), vec![]);
        let later = now() + TimeDelta::seconds(1);
        let mut dated = tx("B", now() - TimeDelta::days(1));
        dated.transaction_date = Some(later);
        let batch = [dated, tx("C", later)];
        assert_eq!(
            run_with(&intuit(), &account(), &batch, &[false, false]),
            vec![
                (codes::FUTURE_DATED, Some(0)),
                (codes::FUTURE_DATED, Some(1))
            ]
        );
        let v = violations(&intuit(), &account(), &batch);
        assert!(
            v[0].message.contains("transaction_date"),
            "{}",
            v[0].message
        );
        assert!(v[1].message.contains("posted_at"), "{}", v[1].message);
    }

    #[test]
    fn intuit_window_depends_on_the_door() {
        let start = ts("2024-06-01T00:00:00Z");
        let a = AccountContext {
            transaction_start_date: Some(start),
            ..account()
        };
        let early = start - TimeDelta::seconds(1);
        // Rutter door: nothing before the start date.
        assert_eq!(run(&intuit(), &a, &[tx("A", start)]), vec![]);
        let v = violations(&intuit(), &a, &[tx("A", early)]);
        assert_eq!(
            (v[0].code, v[0].index),
            (codes::BEFORE_HISTORY_WINDOW, Some(0))
        );
        assert!(
            v[0].message.contains("limit 2024-06-01T00:00:00Z"),
            "{}",
            v[0].message
        );
        assert!(
            v[0].message.contains("QuickBooks Online"),
            "{}",
            v[0].message
        );
        // Codat door: up to 7 days before.
        let codat = PlatformProfile::for_platform(Platform::IntuitBankFeeds, Door::Codat);
        let limit = start - TimeDelta::days(7);
        assert_eq!(
            run(&codat, &a, &[tx("A", early), tx("B", limit)]),
            vec![(codes::NOT_CHRONOLOGICAL, Some(1))]
        );
        assert_eq!(run(&codat, &a, &[tx("A", limit)]), vec![]);
        let v = violations(&codat, &a, &[tx("A", limit - TimeDelta::seconds(1))]);
        assert_eq!(
            (v[0].code, v[0].index),
            (codes::BEFORE_HISTORY_WINDOW, Some(0))
        );
        assert!(v[0].message.contains("2024-05-25T00:00:00Z") && v[0].message.contains("7 days"));
        // Without a start date there is no window; re-sends are never checked.
        assert_eq!(run(&intuit(), &account(), &[tx("A", early)]), vec![]);
        assert_eq!(run_with(&intuit(), &a, &[tx("A", early)], &[false]), vec![]);
    }

    #[test]
    fn xero_refuses_transactions_older_than_a_year() {
        let xero = profile(Platform::Xero);
        let limit = now() - TimeDelta::days(365);
        assert_eq!(run(&xero, &account(), &[tx("A", limit)]), vec![]);
        let too_old = [tx("A", limit - TimeDelta::seconds(1))];
        let v = violations(&xero, &account(), &too_old);
        assert_eq!(
            (v[0].code, v[0].index),
            (codes::BEFORE_HISTORY_WINDOW, Some(0))
        );
        assert!(v[0].message.contains("2023-06-16T12:00:00Z") && v[0].message.contains("365 days"));
        assert_eq!(run_with(&xero, &account(), &too_old, &[false]), vec![]);
        // Before the start date and too old: one violation, naming the stricter (later) limit.
        let a = AccountContext {
            transaction_start_date: Some(now() - TimeDelta::days(30)),
            ..account()
        };
        let v = violations(&xero, &a, &too_old);
        assert_eq!(v.len(), 1);
        assert!(v[0].message.contains("feed start date"), "{}", v[0].message);
    }

    #[test]
    fn sage_refuses_transactions_before_the_start_date_only() {
        let start = now() - TimeDelta::days(10);
        let a = AccountContext {
            transaction_start_date: Some(start),
            ..account()
        };
        for platform in [Platform::SageIntacct, Platform::SageBusinessCloud] {
            let p = profile(platform);
            assert_eq!(run(&p, &a, &[tx("A", start)]), vec![]);
            assert_eq!(
                run(&p, &a, &[tx("A", start - TimeDelta::seconds(1))]),
                vec![(codes::BEFORE_HISTORY_WINDOW, Some(0))]
            );
            // No age limit without a start date.
            assert_eq!(
                run(&p, &account(), &[tx("A", now() - TimeDelta::days(3000))]),
                vec![]
            );
        }
    }

    #[test]
    fn netsuite_limits_the_first_import_to_sixty_days() {
        let ns = profile(Platform::Netsuite);
        let limit = now() - TimeDelta::days(60);
        assert_eq!(run(&ns, &account(), &[tx("A", limit)]), vec![]);
        let old = [tx("A", limit - TimeDelta::seconds(1))];
        let v = violations(&ns, &account(), &old);
        assert_eq!(
            (v[0].code, v[0].index),
            (codes::BEFORE_HISTORY_WINDOW, Some(0))
        );
        assert!(v[0].message.contains("first import") && v[0].message.contains("60 days"));
        // Later imports take older transactions, and NetSuite has no start-date window.
        let later = AccountContext {
            has_transactions: true,
            transaction_start_date: Some(now() - TimeDelta::days(5)),
            ..account()
        };
        assert_eq!(
            run(&ns, &later, &[tx("A", now() - TimeDelta::days(100))]),
            vec![]
        );
    }

    #[test]
    fn amounts_respect_the_currency_minor_units() {
        let jpy = AccountContext {
            minor_units: 0,
            ..account()
        };
        let mut a = tx("A", now());
        a.amount = amount("150");
        assert_eq!(run(&intuit(), &jpy, &[a.clone()]), vec![]);
        a.amount = amount("1.5");
        let v = violations(&intuit(), &jpy, &[a.clone()]);
        assert_eq!((v[0].code, v[0].index), (codes::TOO_MANY_DECIMALS, Some(0)));
        assert!(v[0].message.contains("amount 1.5") && v[0].message.contains("at most 0"));
        let bhd = AccountContext {
            minor_units: 3,
            ..account()
        };
        a.amount = amount("1.505");
        assert_eq!(run(&intuit(), &bhd, &[a.clone()]), vec![]);
        assert_eq!(
            run(&intuit(), &account(), &[a.clone()]),
            vec![(codes::TOO_MANY_DECIMALS, Some(0))]
        );
        a.amount = amount("1.50");
        a.interest_amount = Some(amount("0.125"));
        a.principal_amount = Some(amount("1.375"));
        let v = violations(&intuit(), &account(), &[a]);
        assert_eq!(v.len(), 2);
        assert!(
            v[0].message.contains("interest_amount 0.125"),
            "{}",
            v[0].message
        );
        assert!(
            v[1].message.contains("principal_amount 1.375"),
            "{}",
            v[1].message
        );
    }

    #[test]
    fn debit_and_credit_must_match_the_sign() {
        let with = |memo, amt: &str| {
            let mut t = tx("A", now());
            t.debit_credit_memo = memo;
            t.amount = amount(amt);
            t
        };
        let (debit, credit) = (Some(DebitCreditMemo::Debit), Some(DebitCreditMemo::Credit));
        for ok in [
            with(debit, "-5"),
            with(debit, "0"),
            with(credit, "5"),
            with(credit, "0"),
            with(None, "5"),
        ] {
            assert_eq!(run(&intuit(), &account(), &[ok]), vec![]);
        }
        let v = violations(&intuit(), &account(), &[with(debit, "5")]);
        assert_eq!((v[0].code, v[0].index), (codes::SIGN_MISMATCH, Some(0)));
        assert!(
            v[0].message.contains("DEBIT means money out"),
            "{}",
            v[0].message
        );
        assert_eq!(
            run(&intuit(), &account(), &[with(credit, "-0.01")]),
            vec![(codes::SIGN_MISMATCH, Some(0))]
        );
    }

    #[test]
    fn text_fields_are_limited_in_characters() {
        let mut ok = tx("A", now());
        ok.description = Some("€".repeat(4000)); // 12,000 bytes
        ok.memo = Some("m".repeat(4000));
        ok.payee = Some("p".repeat(4000));
        assert_eq!(run(&intuit(), &account(), &[ok]), vec![]);
        let mut long = tx("A", now());
        long.description = Some("d".repeat(4001));
        long.memo = Some("m".repeat(4001));
        long.payee = Some("p".repeat(4001));
        let v = violations(&intuit(), &account(), &[long]);
        let got: Vec<_> = v.iter().map(|v| (v.code, v.index)).collect();
        assert_eq!(got, vec![(codes::FIELD_TOO_LONG, Some(0)); 3]);
        for (v, field) in v.iter().zip(["description", "memo", "payee"]) {
            assert!(
                v.message.contains(field) && v.message.contains("4001"),
                "{}",
                v.message
            );
        }
    }

    #[test]
    fn all_violations_are_reported_by_index_then_rule() {
        let newest = now() - TimeDelta::days(2);
        let a = AccountContext {
            newest_posted_at: Some(newest),
            has_transactions: true,
            transaction_start_date: Some(now() - TimeDelta::days(3)),
            ..account()
        };
        let mut batch = vec![
            tx("A", now() - TimeDelta::days(1)),
            tx("B", now() - TimeDelta::days(4)),
            tx("A", now() + TimeDelta::hours(1)),
        ];
        batch[1].amount = amount("1.234");
        batch[1].debit_credit_memo = Some(DebitCreditMemo::Debit);
        batch[2].payee = Some("x".repeat(5000));
        assert_eq!(
            run(&intuit(), &a, &batch),
            vec![
                (codes::NOT_CHRONOLOGICAL, Some(1)),
                (codes::OLDER_THAN_STORED, Some(1)),
                (codes::BEFORE_HISTORY_WINDOW, Some(1)),
                (codes::TOO_MANY_DECIMALS, Some(1)),
                (codes::SIGN_MISMATCH, Some(1)),
                (codes::DUPLICATE_TRANSACTION_ID, Some(2)),
                (codes::FUTURE_DATED, Some(2)),
                (codes::FIELD_TOO_LONG, Some(2)),
            ]
        );
    }

    #[test]
    fn summary_lists_five_then_counts_the_rest() {
        let a = AccountContext {
            newest_posted_at: Some(ts("2023-02-02T00:00:00Z")),
            has_transactions: true,
            ..account()
        };
        let batch: Vec<_> = (0..7)
            .map(|i| tx(&format!("ID{i}"), ts("2023-02-01T00:00:00Z")))
            .collect();
        let v = violations(&intuit(), &a, &batch);
        assert_eq!(v.len(), 7);
        let s = summary(&v);
        assert!(
            s.starts_with(
                "transaction ID0 (#0): posted_at 2023-02-01T00:00:00Z is before the newest stored \
                 transaction (2023-02-02T00:00:00Z); transaction ID1 (#1): "
            ),
            "{s}"
        );
        assert!(s.contains("ID4 (#4)") && !s.contains("ID5"), "{s}");
        assert!(s.ends_with("; and 2 more"), "{s}");
        assert_eq!(summary(&v[..1]), v[0].message);
        assert_eq!(summary(&[]), "");
    }

    #[test]
    fn violations_serialise_with_their_code() {
        let v = violations(&intuit(), &account(), &[]);
        let json = serde_json::to_value(&v[0]).unwrap();
        assert_eq!(json["code"], "BATCH_EMPTY");
        assert_eq!(json["index"], serde_json::Value::Null);
    }
}
