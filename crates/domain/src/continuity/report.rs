//! The continuity of a feed as a whole, from its recorded balance reports: the stretches that
//! tie out, the breaks between them, and one state.

use rust_decimal::Decimal;

use super::BalanceReport;
use crate::Timestamp;

/// A feed's continuity in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContinuityState {
    /// Every reported balance agrees with the transactions (or its break was acknowledged).
    TiesOut,
    /// At least one break is not acknowledged.
    Breaks,
    /// No balance was ever reported: nothing to tie out against.
    Unknown,
}

impl ContinuityState {
    pub fn as_str(self) -> &'static str {
        match self {
            ContinuityState::TiesOut => "ties_out",
            ContinuityState::Breaks => "breaks",
            ContinuityState::Unknown => "unknown",
        }
    }
}

/// A run of consecutive reports that tie out with each other: it starts at the opening
/// balance or at a break (whose reported figure is the new baseline) and ends before the next
/// break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub first_seq: i64,
    pub last_seq: i64,
    /// The reported balance the segment starts from.
    pub opening: Decimal,
    /// The last reported balance inside it.
    pub closing: Decimal,
    pub posted_from: Option<Timestamp>,
    pub posted_through: Option<Timestamp>,
    pub reports: usize,
}

/// The continuity of one feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continuity<'a> {
    pub state: ContinuityState,
    pub segments: Vec<Segment>,
    /// Every break, in the order reported, acknowledged or not.
    pub breaks: Vec<&'a BalanceReport>,
}

/// The continuity `reports` (one account's, in `seq` order) show.
pub fn summarise(reports: &[BalanceReport]) -> Continuity<'_> {
    let mut segments: Vec<Segment> = Vec::new();
    let mut breaks = Vec::new();
    for r in reports {
        let starts = r.check.is_break() || r.check.is_opening();
        if r.check.is_break() {
            breaks.push(r);
        }
        match segments.last_mut() {
            Some(s) if !starts => {
                s.last_seq = r.seq;
                s.closing = r.check.reported;
                s.posted_through = r.posted_through;
                s.reports += 1;
            }
            _ => segments.push(Segment {
                first_seq: r.seq,
                last_seq: r.seq,
                opening: r.check.reported,
                closing: r.check.reported,
                posted_from: r.posted_through,
                posted_through: r.posted_through,
                reports: 1,
            }),
        }
    }
    let state = if reports.is_empty() {
        ContinuityState::Unknown
    } else if breaks.iter().any(|b| b.acknowledgement.is_none()) {
        ContinuityState::Breaks
    } else {
        ContinuityState::TiesOut
    };
    Continuity {
        state,
        segments,
        breaks,
    }
}
