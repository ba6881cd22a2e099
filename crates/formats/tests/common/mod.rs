//! Sample statements shared by the integration tests and the `write_samples` example: a bank
//! and a card account, in USD and in JPY, with non-ASCII and long descriptions.
#![allow(dead_code)]

use bankfeeds_formats::{
    AccountKind, Balance, Balances, BankAccountType, Period, StatementAccount, StatementCurrency,
    StatementHeader, StatementLine,
};
use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use std::str::FromStr;

pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn at(y: i32, m: u32, d: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

fn line(
    id: &str,
    day: u32,
    amount: &str,
    description: &str,
    payee: Option<&str>,
    memo: Option<&str>,
    kind: Option<&str>,
) -> StatementLine {
    StatementLine {
        transaction_id: id.into(),
        posted_at: at(2024, 1, day),
        transaction_date: Some(NaiveDate::from_ymd_opt(2024, 1, day.max(2) - 1).unwrap()),
        amount: dec(amount),
        description: description.into(),
        payee: payee.map(Into::into),
        memo: memo.map(Into::into),
        kind: kind.map(Into::into),
        check_number: None,
        running_balance: None,
    }
}

/// (header, lines) for each sample statement.
pub fn samples() -> Vec<(StatementHeader, Vec<StatementLine>)> {
    let period = Period {
        from: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
        to: Utc.with_ymd_and_hms(2024, 1, 31, 23, 59, 59).unwrap(),
    };
    let bal = |open: &str, close: &str, avail: Option<&str>| Balances {
        opening: Some(Balance {
            amount: dec(open),
            as_of: period.from,
        }),
        closing: Some(Balance {
            amount: dec(close),
            as_of: period.to,
        }),
        available: avail.map(|a| Balance {
            amount: dec(a),
            as_of: period.to,
        }),
    };
    let bank_usd = StatementHeader {
        account: StatementAccount {
            account_id: "acc_bank_usd".into(),
            kind: AccountKind::Bank {
                routing: "123456789".into(),
                account_type: BankAccountType::Checking,
            },
            account_number: "1001".into(),
            currency: StatementCurrency::new("USD", 2),
            name: Some("Everyday Checking".into()),
        },
        period,
        balances: bal("100.00", "1357.49", Some("1300.00")),
    };
    let mut cheque = line(
        "1001-0003",
        15,
        "-200.00",
        "Landlord & Co <rent>",
        None,
        None,
        Some("CHECK"),
    );
    cheque.check_number = Some("1045".into());
    let bank_lines = vec![
        line("1001-0001", 5, "-42.51", "Café Crème, Zürich", None, Some("Card purchase"), Some("POS")),
        line("1001-0002", 10, "1500.00", "ACME Payroll", Some("ACME Corp"), Some("Salary Jan"), None),
        cheque,
        line(
            "1001-0004",
            20,
            "0.00",
            "A very long description that certainly exceeds thirty-two characters and then goes on for a while, well past the sixty-five characters of an MT940 line and the eighty of a BAI2 record",
            None,
            None,
            None,
        ),
        line("1001-0005", 31, "0.00", "Zero, with comma/slash; and 'quotes' \"double\"", None, None, Some("FEE")),
    ];
    let card_jpy = StatementHeader {
        account: StatementAccount {
            account_id: "acc_card_jpy".into(),
            kind: AccountKind::Card,
            account_number: "4111000011112222".into(),
            currency: StatementCurrency::new("JPY", 0),
            name: Some("カード".into()),
        },
        period,
        balances: bal("-10000", "-24800", None),
    };
    let card_lines = vec![
        line(
            "cc-0001",
            3,
            "-5800",
            "東京ラーメン 新宿店",
            None,
            None,
            None,
        ),
        line(
            "cc-0002",
            9,
            "-12000",
            "Amazon.co.jp",
            Some("Amazon"),
            None,
            Some("DEBIT"),
        ),
        line(
            "cc-0003",
            25,
            "13000",
            "Payment – thank you",
            None,
            None,
            Some("PAYMENT"),
        ),
        line(
            "cc-0004",
            28,
            "-10000",
            "Ñandú Grill São Paulo",
            None,
            Some("Ü memo"),
            None,
        ),
    ];
    let savings_jpy = StatementHeader {
        account: StatementAccount {
            account_id: "acc_savings_jpy".into(),
            kind: AccountKind::Bank {
                routing: "123456789".into(),
                account_type: BankAccountType::Savings,
            },
            account_number: "2002".into(),
            currency: StatementCurrency::new("JPY", 0),
            name: None,
        },
        period,
        balances: bal("1000000", "1002500", Some("1002500")),
    };
    let savings_lines = vec![line(
        "2002-0001",
        31,
        "2500",
        "利息 Interest",
        None,
        None,
        Some("INT"),
    )];
    let card_usd = StatementHeader {
        account: StatementAccount {
            account_id: "acc_card_usd".into(),
            kind: AccountKind::Card,
            account_number: "5500000000000004".into(),
            currency: StatementCurrency::new("USD", 2),
            name: Some("Rewards Card".into()),
        },
        period,
        balances: bal("-250.10", "-313.45", Some("4686.55")),
    };
    let card_usd_lines = vec![
        line("5500-1", 4, "-88.25", "Bäckerei Müller", None, None, None),
        line("5500-2", 12, "-25.10", "Streaming Ltd", None, None, None),
        line(
            "5500-3",
            20,
            "50.00",
            "Refund — Señor Shoes",
            None,
            None,
            Some("CREDIT"),
        ),
    ];
    vec![
        (bank_usd, bank_lines),
        (card_jpy, card_lines),
        (savings_jpy, savings_lines),
        (card_usd, card_usd_lines),
    ]
}
