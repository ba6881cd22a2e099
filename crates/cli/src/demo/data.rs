//! A realistic month of a small business's bank and card transactions, the same on every run:
//! card-terminal deposits most weekdays, payroll twice a month, rent, suppliers, utilities, a
//! bank fee, and card spending paid off from the checking account. Amounts are exact cents.

use bankfeeds_domain::Timestamp;
use chrono::{Datelike, TimeDelta, Weekday};
use rust_decimal::Decimal;

/// One transaction to push.
#[derive(Debug, Clone)]
pub struct DemoTransaction {
    pub transaction_id: String,
    pub posted_at: Timestamp,
    pub amount: Decimal,
    pub description: &'static str,
    pub payee: &'static str,
    pub transaction_type: &'static str,
}

/// A deterministic generator (xorshift): the demo's figures repeat from run to run.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Whole cents in `[low, high]` dollars.
    fn cents(&mut self, low: u64, high: u64) -> Decimal {
        let span = (high - low) * 100 + 1;
        Decimal::new((low * 100 + self.next() % span) as i64, 2)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn at(day: Timestamp, hour: i64) -> Timestamp {
    day + TimeDelta::hours(hour)
}

/// The checking account's month and the card's, each in posting order, ending before `now`.
pub fn month(now: Timestamp) -> (Vec<DemoTransaction>, Vec<DemoTransaction>) {
    let mut dice = Dice(0x5eed_ba4c_f00d_2026);
    let first_day = (now - TimeDelta::days(30))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    let mut checking = Vec::new();
    let mut card = Vec::new();
    let push = |list: &mut Vec<DemoTransaction>,
                prefix: &str,
                posted_at: Timestamp,
                amount: Decimal,
                description: &'static str,
                payee: &'static str,
                kind: &'static str| {
        if posted_at < now - TimeDelta::hours(1) {
            list.push(DemoTransaction {
                transaction_id: format!("{prefix}-{:04}", list.len() + 1),
                posted_at,
                amount,
                description,
                payee,
                transaction_type: kind,
            });
        }
    };
    for n in 0..30 {
        let day = first_day + TimeDelta::days(n);
        let weekday = day.weekday();
        let weekend = matches!(weekday, Weekday::Sat | Weekday::Sun);
        if !weekend {
            push(
                &mut checking,
                "CHK",
                at(day, 9),
                dice.cents(420, 1900),
                "Card terminal settlement",
                "Square",
                "deposit",
            );
        }
        match day.day() {
            1 | 15 => push(
                &mut checking,
                "CHK",
                at(day, 10),
                -Decimal::new(685_000, 2),
                "Payroll",
                "Gusto",
                "direct_debit",
            ),
            3 => push(
                &mut checking,
                "CHK",
                at(day, 11),
                -Decimal::new(320_000, 2),
                "Rent, 14 Market St",
                "Market Street Properties",
                "payment",
            ),
            20 => push(
                &mut checking,
                "CHK",
                at(day, 12),
                -dice.cents(240, 320),
                "Electricity and gas",
                "PG&E",
                "direct_debit",
            ),
            28 => push(
                &mut checking,
                "CHK",
                at(day, 13),
                -Decimal::new(1_500, 2),
                "Monthly account fee",
                "Demo Bank",
                "fee",
            ),
            _ => {}
        }
        if weekday == Weekday::Tue {
            push(
                &mut checking,
                "CHK",
                at(day, 14),
                -dice.cents(1150, 2400),
                "Green coffee beans",
                "Pacific Coffee Importers",
                "payment",
            );
        }
        if weekday == Weekday::Thu && dice.chance(50) {
            push(
                &mut checking,
                "CHK",
                at(day, 15),
                dice.cents(800, 3200),
                "Wholesale invoice paid",
                "Blue Door Cafe",
                "credit",
            );
        }
        if day.day() == 18 {
            push(
                &mut checking,
                "CHK",
                at(day, 16),
                -Decimal::new(250_000, 2),
                "Transfer to Business Visa",
                "Demo Bank",
                "transfer",
            );
            push(
                &mut card,
                "VISA",
                at(day, 16),
                Decimal::new(250_000, 2),
                "Payment, thank you",
                "Demo Bank",
                "payment",
            );
        }
        if dice.chance(55) {
            let (description, payee, low, high) = match dice.next() % 6 {
                0 => ("Office supplies", "Staples", 18, 160),
                1 => ("Shipping labels", "UPS", 12, 95),
                2 => ("Fuel", "Shell", 35, 80),
                3 => ("Software subscription", "Google Workspace", 72, 72),
                4 => ("Packaging", "Uline", 60, 420),
                _ => ("Client lunch", "Tartine Bakery", 24, 110),
            };
            push(
                &mut card,
                "VISA",
                at(day, 18),
                -dice.cents(low, high),
                description,
                payee,
                "pos",
            );
        }
    }
    (checking, card)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_chronological_exact_and_in_the_past() {
        let now: Timestamp = "2026-11-21T08:00:00Z".parse().unwrap();
        let (checking, card) = month(now);
        for list in [&checking, &card] {
            assert!(list.len() >= 10, "a realistic month: {}", list.len());
            assert!(list.windows(2).all(|w| w[0].posted_at <= w[1].posted_at));
            assert!(list
                .iter()
                .all(|t| t.posted_at < now && t.posted_at >= now - TimeDelta::days(31)));
            assert!(list
                .iter()
                .all(|t| t.amount.scale() <= 2 && !t.amount.is_zero()));
        }
        let ids: std::collections::HashSet<_> =
            checking.iter().map(|t| &t.transaction_id).collect();
        assert_eq!(ids.len(), checking.len());
        let again = month(now);
        assert_eq!(again.0.len(), checking.len());
        assert_eq!(
            again.0[3].amount, checking[3].amount,
            "the same on every run"
        );
    }
}
