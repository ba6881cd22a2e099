//! A live Xero feed's new transactions as the statements Xero receives: cut by
//! `domain::live::xero::cut` (limits and balances), written in Xero's shapes.

use bankfeeds_domain::live::xero::{cut, opening, Cut, Line};
use bankfeeds_domain::transaction::Transaction;
use rust_decimal::Decimal;

use super::model::{Balance, StatementLine, StatementOut};

/// Xero's field limits (characters).
const DESCRIPTION_MAX: usize = 2_000;
const PAYEE_MAX: usize = 255;
const REFERENCE_MAX: usize = 255;

fn clip(text: Option<&str>, most: usize) -> Option<String> {
    let text = text?.trim();
    (!text.is_empty()).then(|| text.chars().take(most).collect())
}

/// The statements for `feed_connection_id` of `transactions` (storage order: every one not yet
/// sent), with the first and last transaction of each.
pub fn statements(
    feed_connection_id: &str,
    transactions: &[Transaction],
    previous_closing: Option<Decimal>,
    current_balance: Option<Decimal>,
) -> Vec<(StatementOut, std::ops::Range<usize>)> {
    let lines: Vec<Line> = transactions.iter().map(Line::of).collect();
    let unsent = lines.iter().map(|l| l.amount).sum();
    cut(&lines, opening(previous_closing, current_balance, unsent))
        .into_iter()
        .map(|c| {
            let statement = statement_out(feed_connection_id, &transactions[c.lines.clone()], &c);
            (statement, c.lines)
        })
        .collect()
}

/// One cut as the statement Xero receives: `transactions` are the cut's (storage order).
pub fn statement_out(
    feed_connection_id: &str,
    transactions: &[Transaction],
    c: &Cut,
) -> StatementOut {
    let statement_lines = transactions
        .iter()
        .map(|t| {
            let signed = Balance::signed(t.data.amount.as_decimal());
            StatementLine {
                posted_date: t.data.posted_at.date_naive().to_string(),
                description: clip(t.data.description.as_deref(), DESCRIPTION_MAX),
                amount: signed.amount,
                credit_debit_indicator: signed.credit_debit_indicator,
                transaction_id: t.data.transaction_id.clone(),
                payee_name: clip(t.data.payee.as_deref(), PAYEE_MAX),
                reference: clip(t.data.memo.as_deref(), REFERENCE_MAX),
                cheque_number: None,
                transaction_type: None,
            }
        })
        .collect();
    StatementOut {
        feed_connection_id: feed_connection_id.to_owned(),
        start_date: c.start_date.to_string(),
        end_date: c.end_date.to_string(),
        start_balance: Balance::signed(c.start_balance),
        end_balance: Balance::signed(c.end_balance),
        statement_lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xero::model::CreditDebit;
    use bankfeeds_domain::transaction::TransactionData;
    use bankfeeds_domain::{BankFeedAccountId, ConnectionId, OrgId, TransactionId};

    fn tx(id: &str, day: &str, amount: &str) -> Transaction {
        Transaction {
            id: TransactionId::new(),
            org_id: OrgId::new(),
            connection_id: ConnectionId::new(),
            bank_feed_account_id: BankFeedAccountId::new(),
            data: TransactionData {
                description: Some(" Coffee ".into()),
                ..TransactionData::bare(
                    id,
                    format!("{day}T10:00:00Z").parse().unwrap(),
                    amount.parse().unwrap(),
                )
            },
            platform_ingested: false,
            created_at: "2026-12-01T00:00:00Z".parse().unwrap(),
            ingested_at: None,
        }
    }

    #[test]
    fn lines_are_unsigned_in_order_and_the_balances_tie_out() {
        let txs = [tx("a", "2026-11-30", "-4.50"), tx("b", "2026-12-01", "100")];
        let out = statements("fc-1", &txs, None, Some("195.50".parse().unwrap()));
        assert_eq!(out.len(), 1);
        let (s, range) = &out[0];
        assert_eq!(*range, 0..2);
        assert_eq!(s.start_date, "2026-11-30");
        assert_eq!(s.end_date, "2026-12-01");
        assert_eq!(s.statement_lines[0].transaction_id, "a");
        assert_eq!(
            s.statement_lines[0].amount,
            "4.50".parse::<Decimal>().unwrap()
        );
        assert_eq!(
            s.statement_lines[0].credit_debit_indicator,
            CreditDebit::Debit
        );
        assert_eq!(s.statement_lines[0].description.as_deref(), Some("Coffee"));
        assert_eq!(
            s.statement_lines[1].credit_debit_indicator,
            CreditDebit::Credit
        );
        let signed: Decimal = s
            .statement_lines
            .iter()
            .map(|l| {
                Balance {
                    amount: l.amount,
                    credit_debit_indicator: l.credit_debit_indicator,
                }
                .to_signed()
            })
            .sum();
        assert_eq!(
            s.start_balance.to_signed() + signed,
            s.end_balance.to_signed()
        );
        assert_eq!(
            s.end_balance.to_signed(),
            "195.50".parse::<Decimal>().unwrap()
        );
    }
}
