//! The rules one batch of transactions for one bank feed account must keep.
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
        check.not_future(latest_now(profile, now), now);
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
    let mut line = parts.join("; ");
    if violations
        .iter()
        .any(|v| v.code == codes::OLDER_THAN_STORED)
    {
        line.push_str(". ");
        line.push_str(LATE_POSTING_HINT);
    }
    line
}

/// Said once with `OLDER_THAN_STORED`: what `posted_at` means and how to send a late posting.
pub const LATE_POSTING_HINT: &str = "posted_at is the day the transaction posted to the account \
    (the day the statement shows it), not the day it happened (that is transaction_date). A feed \
    only grows forward, as the platforms import it: send a late (back-valued) posting with \
    posted_at on or after the newest stored day (usually the day you send it) and its own date \
    as transaction_date";

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

/// The latest a zone's clock reads at `now`: UTC+14 (Kiribati's Line Islands).
pub const LATEST_UTC_OFFSET_HOURS: i64 = 14;

/// The latest time a posted transaction may carry at `now`: `now` for instants; for local
/// times of no known zone (the Codat door), the current time in the zone furthest ahead, so a
/// local time that has already happened somewhere is never refused as future.
pub fn latest_now(profile: &PlatformProfile, now: Timestamp) -> Timestamp {
    if profile.local_times {
        now + TimeDelta::hours(LATEST_UTC_OFFSET_HOURS)
    } else {
        now
    }
}

/// The first instant of `t`'s UTC calendar day: the hub's calendar is UTC (an instant sent with
/// an offset is on the UTC day it falls on).
pub fn start_of_utc_day(t: Timestamp) -> Timestamp {
    t.date_naive().and_time(chrono::NaiveTime::MIN).and_utc()
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
            // The start date is a calendar day (the customer picks a date), in UTC: the window
            // opens at that day's first instant, whatever time of day the date carries.
            let start = start_of_utc_day(start);
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

    /// By the day, as the seeds speak of it: a transaction posted later on the newest stored
    /// one's day with an earlier time (or a date-only value after a timed one) is not older.
    fn not_older_than_stored(&mut self, newest: Option<Timestamp>) {
        let day = start_of_utc_day(self.tx.posted_at);
        if let Some(newest) = newest.filter(|n| day < start_of_utc_day(*n)) {
            let what = format!(
                "posted_at {} is on a day before the newest stored transaction's ({})",
                rfc3339(self.tx.posted_at),
                rfc3339(newest)
            );
            self.push(codes::OLDER_THAN_STORED, &what);
        }
    }

    fn not_future(&mut self, latest: Timestamp, now: Timestamp) {
        let fields = [
            ("posted_at", Some(self.tx.posted_at)),
            ("transaction_date", self.tx.transaction_date),
        ];
        for (field, at) in fields {
            if let Some(at) = at.filter(|at| *at > latest) {
                let what = if latest == now {
                    format!(
                        "{field} {} is in the future (now is {})",
                        rfc3339(at),
                        rfc3339(now)
                    )
                } else {
                    format!(
                        "{field} {} (a local time) is in the future in every time zone (now is \
                         {}, at most {} in the zone furthest ahead)",
                        rfc3339(at).trim_end_matches('Z'),
                        rfc3339(now),
                        rfc3339(latest).trim_end_matches('Z')
                    )
                };
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
mod tests;
