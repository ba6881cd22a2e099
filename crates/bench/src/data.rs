//! The rows the benchmark pushes and inserts, generated deterministically from (account, seq) so
//! that the hub's ingest, the ceiling and the verification all agree without keeping them in
//! memory; and the schedule that says which client sends which batch, in which order.

use chrono::DateTime;

/// Transactions per batch (the API's maximum) and per database transaction in the ceiling.
pub const BATCH: u64 = 1000;

/// What a row is for: pushed through the API (and inserted by the ceiling), or preloaded
/// straight into the hub's database before the scale measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ingest,
    Preload,
}

/// One transaction as the FI sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub transaction_id: String,
    /// Seconds since the Unix epoch (whole seconds).
    pub posted_at: i64,
    /// An exact decimal with two places, negative for money out.
    pub amount: String,
    pub description: String,
    /// `DEBIT` for money out, `CREDIT` for money in.
    pub debit_credit_memo: &'static str,
}

const MERCHANTS: [&str; 8] = [
    "CARD PURCHASE STAPLES",
    "CARD PURCHASE AMAZON MKTPLACE",
    "ACH DEBIT PAYROLL",
    "WIRE IN CLIENT PAYMENT",
    "CARD PURCHASE SHELL OIL",
    "ACH CREDIT STRIPE PAYOUT",
    "CHECK DEPOSIT",
    "CARD PURCHASE DELTA AIR",
];

/// splitmix64: a cheap, well-mixed hash so amounts look random but are reproducible.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The `seq`-th row (0-based) of `account`.
///
/// Ingest rows are posted one second apart from `base`; the `count` preload rows of an account
/// end one second before `base`, so whatever ingest pushes afterwards is never older than what
/// is stored.
pub fn row(kind: Kind, account: usize, seq: u64, count: u64, base: i64) -> Row {
    let (prefix, salt, posted_at) = match kind {
        Kind::Ingest => ('t', 0x1111, base + seq as i64),
        Kind::Preload => ('p', 0x2222, base - count as i64 + seq as i64),
    };
    let h = mix(((account as u64) << 40) ^ seq ^ (salt << 56));
    let cents = 1 + h % 250_000;
    let credit = (h >> 40) % 5 == 0;
    let amount = format!(
        "{}{}.{:02}",
        if credit { "" } else { "-" },
        cents / 100,
        cents % 100
    );
    let merchant = MERCHANTS[((h >> 20) % MERCHANTS.len() as u64) as usize];
    Row {
        transaction_id: format!("{prefix}{seq:09}"),
        posted_at,
        amount,
        description: format!("{merchant} {seq:06}"),
        debit_credit_memo: if credit { "CREDIT" } else { "DEBIT" },
    }
}

/// Parses a transaction id this module made back into (kind, seq).
pub fn parse_transaction_id(id: &str) -> Option<(Kind, u64)> {
    let kind = match id.as_bytes().first()? {
        b't' => Kind::Ingest,
        b'p' => Kind::Preload,
        _ => return None,
    };
    id[1..].parse().ok().map(|seq| (kind, seq))
}

/// RFC 3339 in UTC with a `Z`, as the API takes it.
pub fn rfc3339(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Splits `total` over `parts` as evenly as possible (the first ones take the remainder).
pub fn split(total: u64, parts: usize) -> Vec<u64> {
    if parts == 0 {
        return Vec::new();
    }
    let n = parts as u64;
    (0..n)
        .map(|i| total / n + u64::from(i < total % n))
        .collect()
}

/// One batch: `len` consecutive rows of one account, from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSpec {
    pub account: usize,
    pub start: u64,
    pub len: u64,
}

/// The batches client `client` of `clients` sends, in order. Account `a` belongs to client
/// `a % clients` alone, so each account's batches go out one after the other; a client takes its
/// accounts round-robin, one batch each per round, as an FI draining several feeds would.
pub fn schedule(counts: &[u64], clients: usize, client: usize) -> Vec<BatchSpec> {
    let mine: Vec<usize> = (0..counts.len())
        .filter(|a| clients > 0 && a % clients == client)
        .collect();
    let mut out = Vec::new();
    let mut round = 0u64;
    loop {
        let mut any = false;
        for &a in &mine {
            let start = round * BATCH;
            if start < counts[a] {
                out.push(BatchSpec {
                    account: a,
                    start,
                    len: BATCH.min(counts[a] - start),
                });
                any = true;
            }
        }
        if !any {
            return out;
        }
        round += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_monotonic_per_account_and_exact() {
        let base = 1_700_000_000;
        for account in 0..5 {
            let rows: Vec<Row> = (0..3000)
                .map(|s| row(Kind::Ingest, account, s, 3000, base))
                .collect();
            for w in rows.windows(2) {
                assert!(w[0].posted_at < w[1].posted_at);
                assert!(w[0].transaction_id < w[1].transaction_id);
            }
            for r in &rows {
                let (int, frac) = r.amount.trim_start_matches('-').split_once('.').unwrap();
                assert_eq!(frac.len(), 2, "{}", r.amount);
                assert!(int.chars().all(|c| c.is_ascii_digit()));
                assert_ne!(r.amount.trim_start_matches('-'), "0.00");
                let negative = r.amount.starts_with('-');
                assert_eq!(negative, r.debit_credit_memo == "DEBIT");
            }
        }
        // Preloaded rows end just before ingest begins, and are monotonic too.
        let pre: Vec<Row> = (0..1000)
            .map(|s| row(Kind::Preload, 3, s, 1000, base))
            .collect();
        assert!(pre.windows(2).all(|w| w[0].posted_at < w[1].posted_at));
        assert_eq!(pre.last().unwrap().posted_at, base - 1);
        assert!(pre.last().unwrap().posted_at < row(Kind::Ingest, 3, 0, 1, base).posted_at);
        // Deterministic, and the id parses back.
        assert_eq!(
            row(Kind::Ingest, 2, 17, 50, base),
            row(Kind::Ingest, 2, 17, 50, base)
        );
        let r = row(Kind::Preload, 2, 17, 50, base);
        assert_eq!(
            parse_transaction_id(&r.transaction_id),
            Some((Kind::Preload, 17))
        );
    }

    #[test]
    fn split_is_even_and_complete() {
        assert_eq!(split(10, 3), vec![4, 3, 3]);
        assert_eq!(split(2, 4), vec![1, 1, 0, 0]);
        assert_eq!(split(20_000, 4).iter().sum::<u64>(), 20_000);
    }

    #[test]
    fn each_account_belongs_to_one_client_and_its_batches_are_in_order() {
        let counts = split(23_500, 7);
        let clients = 3;
        let mut seen = vec![Vec::new(); counts.len()];
        for c in 0..clients {
            for b in schedule(&counts, clients, c) {
                assert_eq!(b.account % clients, c);
                assert!(b.len >= 1 && b.len <= BATCH);
                seen[b.account].push(b);
            }
        }
        for (a, batches) in seen.iter().enumerate() {
            let mut next = 0;
            for b in batches {
                assert_eq!(b.start, next, "account {a} out of order");
                next += b.len;
            }
            assert_eq!(next, counts[a]);
        }
    }

    #[test]
    fn rfc3339_is_utc_seconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
