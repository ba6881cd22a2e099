//! Xero's rules for statements (its Bank Feeds API, spec 16.1.0): how new transactions are cut
//! into statements, and what each of Xero's answers does to the statement and its feed.
//!
//! A statement holds at most [`MAX_LINES`] lines and its body stays under [`MAX_BYTES`]; lines
//! keep storage order; the start balance plus the signed lines equals the end balance. The
//! balances come from the FI as `statement::plan` explains: the account's `current_balance` is
//! the balance after the newest transaction, so the feed's first statement opens at that less
//! every transaction not yet sent (all of them, not only those one cut takes); every later
//! statement opens where the last one ended, so the chain Xero receives always ties out,
//! whatever balance the FI reported since ([`opening`]).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::{Timestamp, TransactionId};

/// Lines per statement at most (Xero's working limit).
pub const MAX_LINES: usize = 1_000;
/// A statement's JSON body stays under Xero's 3,000,000-byte request limit; this leaves room
/// for the envelope.
pub const MAX_BYTES: usize = 2_900_000;
/// What a line costs in a body beyond its texts (field names, amount, dates, punctuation).
const LINE_OVERHEAD: usize = 260;
/// What a statement costs beyond its lines.
const STATEMENT_OVERHEAD: usize = 600;

/// One new transaction, in storage order, as a statement line needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub id: TransactionId,
    /// The FI's transaction id (Xero's `transactionId`, used in its duplicate detection).
    pub transaction_id: String,
    pub posted_at: Timestamp,
    /// Signed, from the customer's side (a payment out is negative).
    pub amount: Decimal,
    /// Bytes its texts (description, payee, reference, type) take.
    pub text_bytes: usize,
}

impl Line {
    /// A stored transaction as a line: its texts (description, payee, memo, the FI's id) are
    /// what it adds to a body beyond [`LINE_OVERHEAD`].
    pub fn of(t: &crate::transaction::Transaction) -> Self {
        let d = &t.data;
        Line {
            id: t.id,
            transaction_id: d.transaction_id.clone(),
            posted_at: d.posted_at,
            amount: d.amount.as_decimal(),
            text_bytes: [&d.description, &d.payee, &d.memo]
                .iter()
                .map(|s| s.as_deref().map_or(0, str::len))
                .sum::<usize>()
                + d.transaction_id.len(),
        }
    }
}

/// One statement to send: a run of lines and the balances around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// Index range into the lines given to [`cut`].
    pub lines: std::ops::Range<usize>,
    pub start_balance: Decimal,
    pub end_balance: Decimal,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

/// Where a feed's next statement opens: where its last one ended (`previous_end`); before its
/// first, at the FI's balance less `unsent`, the sum of every transaction not yet in a
/// statement; with neither, at zero.
pub fn opening(
    previous_end: Option<Decimal>,
    current_balance: Option<Decimal>,
    unsent: Decimal,
) -> Decimal {
    match (previous_end, current_balance) {
        (Some(end), _) => end,
        (None, Some(current)) => current - unsent,
        (None, None) => Decimal::ZERO,
    }
}

/// Cuts `lines` (storage order) into statements within Xero's limits, the first opening at
/// `opening`, each next one where the last ended.
pub fn cut(lines: &[Line], opening: Decimal) -> Vec<Cut> {
    let mut balance = opening;
    let mut cuts = Vec::new();
    let mut start = 0;
    while start < lines.len() {
        let mut end = start;
        let mut bytes = STATEMENT_OVERHEAD;
        while end < lines.len() && end - start < MAX_LINES {
            let cost = LINE_OVERHEAD + lines[end].text_bytes;
            if end > start && bytes + cost > MAX_BYTES {
                break;
            }
            bytes += cost;
            end += 1;
        }
        let start_balance = balance;
        balance += lines[start..end].iter().map(|l| l.amount).sum::<Decimal>();
        cuts.push(Cut {
            lines: start..end,
            start_balance,
            end_balance: balance,
            start_date: lines[start].posted_at.date_naive(),
            end_date: lines[end - 1].posted_at.date_naive(),
        });
        start = end;
    }
    cuts
}

/// What an answer of Xero's means for a statement (and its feed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Xero has it (`DELIVERED`, or `duplicate-statement` for one we sent before: a lost
    /// response to our own earlier try, since every try carries the same Idempotency-Key and
    /// transaction ids).
    Delivered,
    /// Xero took it and is still working on it: ask again later.
    Pending,
    /// Try the same statement again later (Xero's `internal-error`, a 5xx, a time-out, a 429).
    Retry,
    /// Refused for a reason no retry fixes: the feed stops, showing `code` (Xero's error
    /// `type`, or `xero-http-<status>` when it gave none), until the FI acts.
    Stop { code: String },
    /// The consent behind the feed is gone: the customer must connect again.
    Reauthorize,
}

/// What a refusal (`type` and HTTP status) of `POST /Statements` or a `REJECTED` statement's
/// error means.
pub fn refusal(status: u16, kind: Option<&str>) -> Outcome {
    match kind {
        Some("duplicate-statement") => Outcome::Delivered,
        Some("internal-error") => Outcome::Retry,
        Some(kind) => Outcome::Stop {
            code: kind.to_owned(),
        },
        None if status == 429 || status >= 500 => Outcome::Retry,
        None if status == 401 => Outcome::Reauthorize,
        None => Outcome::Stop {
            code: format!("xero-http-{status}"),
        },
    }
}

/// How long a statement waits before its next try after `attempts` tries that Xero did not
/// answer usably (5xx, time-outs): doubling from 30 s, at most an hour. A 429's `Retry-After`
/// is used as given instead.
pub fn retry_delay(attempts: i64) -> chrono::TimeDelta {
    let doublings = attempts.clamp(1, 8) - 1;
    chrono::TimeDelta::seconds((30i64 << doublings).min(3_600))
}

/// What Xero says of a feed connection (`POST /FeedConnections` per item, or
/// `GET /FeedConnections/{id}`): its `status` and its error's `type`, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedConnectionOutcome {
    /// Xero is still setting it up: ask again later.
    Pending,
    /// Statements may go.
    Active,
    /// Xero refused it: the feed shows `code` (Xero's error `type`) until the FI acts.
    Rejected { code: String },
}

/// Reads a feed connection's answer. The spec knows `PENDING` and `REJECTED`; a connection Xero
/// has set up answers without a status (or `ACTIVE`, as Xero's own pages call it). An error
/// with a `PENDING` status is still pending.
pub fn feed_connection(status: Option<&str>, error: Option<&str>) -> FeedConnectionOutcome {
    match status.map(str::to_ascii_uppercase).as_deref() {
        Some("PENDING") => FeedConnectionOutcome::Pending,
        Some("REJECTED") => FeedConnectionOutcome::Rejected {
            code: error.unwrap_or("feed-connection-rejected").to_owned(),
        },
        _ if error.is_some() => FeedConnectionOutcome::Rejected {
            code: error.unwrap_or_default().to_owned(),
        },
        _ => FeedConnectionOutcome::Active,
    }
}

/// The account number Xero is given for an account: a card's last four digits only (Xero's
/// rule, and no more of a card number leaves the hub); a bank account's number, at most 40
/// characters (its last 40).
pub fn account_number(number: &str, card: bool) -> String {
    let wanted: Vec<char> = if card {
        number.chars().filter(char::is_ascii_digit).collect()
    } else {
        number.chars().filter(|c| !c.is_whitespace()).collect()
    };
    let keep = if card { 4 } else { 40 };
    wanted[wanted.len().saturating_sub(keep)..].iter().collect()
}

/// The account name Xero is given: at most 30 characters.
pub fn account_name(name: &str) -> String {
    name.trim().chars().take(30).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn lines(amounts: &[&str]) -> Vec<Line> {
        amounts
            .iter()
            .enumerate()
            .map(|(i, a)| Line {
                id: TransactionId::new(),
                transaction_id: format!("t{i}"),
                posted_at: format!("2026-11-{:02}T12:00:00Z", 1 + i % 28)
                    .parse()
                    .unwrap(),
                amount: d(a),
                text_bytes: 20,
            })
            .collect()
    }

    fn total(ls: &[Line]) -> Decimal {
        ls.iter().map(|l| l.amount).sum()
    }

    #[test]
    fn balances_tie_out_from_the_fi_current_balance() {
        let ls = lines(&["-10.00", "25.50", "-3.25"]);
        let cuts = cut(&ls, opening(None, Some(d("100.00")), total(&ls)));
        assert_eq!(cuts.len(), 1);
        let c = &cuts[0];
        assert_eq!(c.lines, 0..3);
        assert_eq!(c.end_balance, d("100.00"), "ends at the FI's balance");
        assert_eq!(c.start_balance, d("87.75"));
        assert_eq!(c.start_date.to_string(), "2026-11-01");
        assert_eq!(c.end_date.to_string(), "2026-11-03");
    }

    #[test]
    fn without_a_balance_the_feed_carries_on_from_its_last_closing() {
        let ls = lines(&["5"]);
        let open = |previous| opening(previous, None, total(&ls));
        assert_eq!(cut(&ls, open(Some(d("40"))))[0].start_balance, d("40"));
        assert_eq!(cut(&ls, open(None))[0].start_balance, Decimal::ZERO);
        assert!(cut(&[], d("1")).is_empty());
    }

    #[test]
    fn statements_hold_at_most_a_thousand_lines_and_chain_their_balances() {
        let amounts: Vec<String> = (0..2_501).map(|i| format!("{}.01", i % 7)).collect();
        let refs: Vec<&str> = amounts.iter().map(String::as_str).collect();
        let ls = lines(&refs);
        let cuts = cut(&ls, opening(None, Some(d("5000")), total(&ls)));
        assert_eq!(
            cuts.iter().map(|c| c.lines.len()).collect::<Vec<_>>(),
            [1000, 1000, 501]
        );
        for pair in cuts.windows(2) {
            assert_eq!(pair[0].end_balance, pair[1].start_balance);
            assert_eq!(pair[0].lines.end, pair[1].lines.start);
        }
        for c in &cuts {
            let sum: Decimal = ls[c.lines.clone()].iter().map(|l| l.amount).sum();
            assert_eq!(c.start_balance + sum, c.end_balance);
        }
        assert_eq!(cuts.last().unwrap().end_balance, d("5000"));
    }

    #[test]
    fn statements_stay_under_the_byte_limit() {
        let mut ls = lines(&["1"; 600]);
        for l in &mut ls {
            l.text_bytes = 10_000;
        }
        let cuts = cut(&ls, Decimal::ZERO);
        assert!(cuts.len() > 1);
        for c in &cuts {
            let bytes = STATEMENT_OVERHEAD + c.lines.len() * (LINE_OVERHEAD + 10_000);
            assert!(bytes <= MAX_BYTES);
        }
        // A single line larger than the limit still goes alone (Xero judges it).
        ls[0].text_bytes = MAX_BYTES;
        assert_eq!(cut(&ls, Decimal::ZERO)[0].lines, 0..1);
    }

    #[test]
    fn a_feed_chains_from_its_last_statement_once_it_has_one() {
        let ls = lines(&["-10", "5"]);
        let first = cut(&ls, opening(None, Some(d("100")), total(&ls)));
        assert_eq!(
            (first[0].start_balance, first[0].end_balance),
            (d("105"), d("100"))
        );
        let later = cut(&ls, opening(Some(d("100")), Some(d("7")), total(&ls)));
        assert_eq!(
            (later[0].start_balance, later[0].end_balance),
            (d("100"), d("95"))
        );
    }

    #[test]
    fn the_first_statement_opens_below_every_unsent_line_not_only_those_it_takes() {
        // Three unsent lines, one cut taking two: the FI's 100 is after all three.
        let all = lines(&["-10", "5", "20"]);
        let first = cut(&all[..2], opening(None, Some(d("100")), total(&all)));
        assert_eq!(
            (first[0].start_balance, first[0].end_balance),
            (d("85"), d("80"))
        );
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        let secs = |n| retry_delay(n).num_seconds();
        assert_eq!([secs(0), secs(1), secs(2), secs(3)], [30, 30, 60, 120]);
        assert_eq!(secs(8), 3_600);
        assert_eq!(secs(1_000), 3_600);
    }

    #[test]
    fn every_xero_answer_has_a_meaning() {
        assert_eq!(
            refusal(409, Some("duplicate-statement")),
            Outcome::Delivered
        );
        assert_eq!(refusal(500, Some("internal-error")), Outcome::Retry);
        assert_eq!(refusal(503, None), Outcome::Retry);
        assert_eq!(refusal(429, None), Outcome::Retry);
        assert_eq!(refusal(401, None), Outcome::Reauthorize);
        assert_eq!(
            refusal(422, Some("invalid-end-balance")),
            Outcome::Stop {
                code: "invalid-end-balance".into()
            }
        );
        assert_eq!(
            refusal(403, Some("invalid-feed-connection")),
            Outcome::Stop {
                code: "invalid-feed-connection".into()
            }
        );
        assert_eq!(
            refusal(413, None),
            Outcome::Stop {
                code: "xero-http-413".into()
            }
        );
    }

    #[test]
    fn feed_connections_are_read_from_status_and_error() {
        use FeedConnectionOutcome::*;
        assert_eq!(feed_connection(Some("PENDING"), None), Pending);
        assert_eq!(feed_connection(None, None), Active);
        assert_eq!(feed_connection(Some("ACTIVE"), None), Active);
        assert_eq!(
            feed_connection(Some("REJECTED"), Some("invalid-organisation-bank-feeds")),
            Rejected {
                code: "invalid-organisation-bank-feeds".into()
            }
        );
        assert_eq!(
            feed_connection(Some("REJECTED"), None),
            Rejected {
                code: "feed-connection-rejected".into()
            }
        );
        assert_eq!(
            feed_connection(None, Some("invalid-request")),
            Rejected {
                code: "invalid-request".into()
            }
        );
    }

    #[test]
    fn a_card_sends_its_last_four_digits_and_names_fit() {
        assert_eq!(account_number("4111 1111 1111 1234", true), "1234");
        assert_eq!(account_number("12", true), "12");
        assert_eq!(account_number("12-34 56", false), "12-3456");
        assert_eq!(account_number(&"9".repeat(50), false).len(), 40);
        assert_eq!(account_name(&"x".repeat(40)).chars().count(), 30);
    }
}
