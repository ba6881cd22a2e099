//! SWIFT MT940 customer statements, as banks export them to files (the text block only, no
//! SWIFT envelope): `:20:`, `:25:`, `:28C:`, `:60F:`, then `:61:`/`:86:` per line, `:62F:` and
//! `:64:`, each statement ended by a `-` line.
//!
//! - Text is restricted to the SWIFT X character set (letters, digits, space and
//!   `/ - ? : ( ) . , ' +`). Accented letters are folded to plain ones (é → e, ß → ss), a few
//!   symbols to close equivalents (`&` → `+`), anything else (CJK, emoji) becomes `?`.
//! - Lines stay within 65 characters; `:86:` carries at most 6 lines (390 characters), cut at
//!   word boundaries where possible, and no continuation line starts with `:` or `-`.
//! - Amounts use a comma radix and always the currency's decimals (`42,51`, `5800,` for JPY).
//! - `:61:` carries the transaction id as the bank reference (`//`, 16 characters) and, when
//!   it is longer, in full as supplementary details (34 characters); MT940 has no room for more.
//! - `:60F:` needs the opening balance: without one the writer refuses. `:62F:` is the reported
//!   closing balance or, when absent, opening + the lines' net movement.

use std::io::Write;

use rust_decimal::Decimal;

use crate::model::{derive_closing, Balance, StatementHeader, StatementLine, Totals};
use crate::text::{fold_to_ascii, split_chars};
use crate::FormatError;

const LINE: usize = 65;

/// `s` in the SWIFT X character set.
pub fn to_swift_x(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'a'..='z'
            | 'A'..='Z'
            | '0'..='9'
            | ' '
            | '/'
            | '-'
            | '?'
            | ':'
            | '('
            | ')'
            | '.'
            | ','
            | '\''
            | '+' => out.push(c),
            '&' => out.push('+'),
            '"' => out.push('\''),
            '_' => out.push('-'),
            ';' => out.push(','),
            '\r' | '\n' | '\t' => out.push(' '),
            '<' | '[' | '{' => out.push('('),
            '>' | ']' | '}' => out.push(')'),
            c => match fold_to_ascii(c) {
                Some(f) => out.push_str(&to_swift_x(f)),
                None => out.push('?'),
            },
        }
    }
    out
}

/// `amount` as an MT940 amount: unsigned, comma radix, the currency's decimals.
fn amount_field(header: &StatementHeader, amount: Decimal) -> Result<String, FormatError> {
    Ok(header
        .account
        .currency
        .format(amount.abs())?
        .replace('.', ",")
        + if header.account.currency.minor_units == 0 {
            ","
        } else {
            ""
        })
}

fn balance_field(header: &StatementHeader, b: &Balance) -> Result<String, FormatError> {
    let mark = if b.amount < Decimal::ZERO { 'D' } else { 'C' };
    Ok(format!(
        "{mark}{}{}{}",
        b.as_of.format("%y%m%d"),
        header.account.currency.code,
        amount_field(header, b.amount)?
    ))
}

/// Cuts `text` into at most `max_lines` lines of at most 65 characters, at spaces when
/// possible; a line that would start with `:` or `-` (which readers take for a new field or the
/// end of the message) gets a leading space.
fn wrap(text: &str, max_lines: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() && lines.len() < max_lines {
        let guard = !lines.is_empty() && (rest.starts_with(':') || rest.starts_with('-'));
        let width = if guard { LINE - 1 } else { LINE };
        let (head, tail) = split_chars(rest, width);
        let (piece, next) = match head.rfind(' ') {
            Some(i) if !tail.is_empty() && i > 0 => (&rest[..i], rest[i..].trim_start()),
            _ => (head, tail),
        };
        lines.push(if guard {
            format!(" {piece}")
        } else {
            piece.to_string()
        });
        rest = next;
    }
    lines
}

/// Writes MT940 statements one after another.
pub struct Mt940Writer<W: Write> {
    out: W,
    current: Option<(StatementHeader, Totals)>,
}

impl<W: Write> Mt940Writer<W> {
    pub fn new(out: W) -> Self {
        Mt940Writer { out, current: None }
    }

    fn field(&mut self, tag: &str, value: &str) -> Result<(), FormatError> {
        write!(self.out, ":{tag}:{value}\r\n")?;
        Ok(())
    }

    /// Starts a statement: `:20:` (the `reference`, 16 characters), `:25:`, `:28C:` (the
    /// `sequence` number), `:60F:`.
    pub fn begin_statement(
        &mut self,
        header: &StatementHeader,
        reference: &str,
        sequence: u32,
    ) -> Result<(), FormatError> {
        if self.current.is_some() {
            return Err(FormatError::Usage("MT940: end_statement before the next"));
        }
        let opening = header.balances.opening.ok_or(FormatError::MissingBalance {
            format: "MT940",
            which: "opening",
        })?;
        let reference = to_swift_x(split_chars(reference, 16).0);
        self.field(
            "20",
            if reference.is_empty() {
                "NONREF"
            } else {
                &reference
            },
        )?;
        let acct = to_swift_x(split_chars(&header.account.account_number, 35).0);
        self.field("25", &acct)?;
        self.field("28C", &format!("{}/1", sequence.min(99_999)))?;
        let f = balance_field(header, &opening)?;
        self.field("60F", &f)?;
        self.current = Some((header.clone(), Totals::default()));
        Ok(())
    }

    /// Writes a `:61:` / `:86:` pair.
    pub fn line(&mut self, l: &StatementLine) -> Result<(), FormatError> {
        let Some((header, totals)) = &mut self.current else {
            return Err(FormatError::Usage("MT940: begin_statement before lines"));
        };
        totals.add(l.amount);
        let header = header.clone();
        let mark = if l.amount < Decimal::ZERO { "D" } else { "C" };
        let code = match l.kind.as_deref().map(str::to_ascii_uppercase).as_deref() {
            Some("CHECK") => "NCHK",
            Some("INT") => "NINT",
            Some("FEE" | "SRVCHG") => "NCHG",
            Some("XFER" | "DIRECTDEP" | "DIRECTDEBIT" | "PAYMENT") => "NTRF",
            _ => "NMSC",
        };
        let id = to_swift_x(&l.transaction_id);
        // Value date and entry (booking) date: the hub knows the posting date only, which is
        // both (the customer's own transaction date is neither).
        let mut f61 = format!(
            "{}{}{mark}{}{code}NONREF//{}",
            l.posted_at.format("%y%m%d"),
            l.posted_at.format("%m%d"),
            amount_field(&header, l.amount)?,
            split_chars(&id, 16).0
        );
        if id.chars().count() > 16 {
            f61.push_str("\r\n");
            f61.push_str(split_chars(&id, 34).0);
        }
        self.field("61", &f61)?;
        let mut text = l.description.clone();
        for extra in [&l.payee, &l.memo].into_iter().flatten() {
            if !text.contains(extra.as_str()) {
                text.push(' ');
                text.push_str(extra);
            }
        }
        let lines = wrap(&to_swift_x(&text), 6);
        if !lines.is_empty() {
            self.field("86", &lines.join("\r\n"))?;
        }
        Ok(())
    }

    /// Writes `:62F:`, `:64:` (when an available balance was reported) and the `-` terminator.
    pub fn end_statement(&mut self) -> Result<Totals, FormatError> {
        let Some((header, totals)) = self.current.take() else {
            return Err(FormatError::Usage("MT940: no statement to end"));
        };
        let closing = derive_closing(&header.balances, &totals, &header.period).ok_or(
            FormatError::MissingBalance {
                format: "MT940",
                which: "closing",
            },
        )?;
        let f = balance_field(&header, &closing)?;
        self.field("62F", &f)?;
        if let Some(a) = header.balances.available {
            let f = balance_field(&header, &a)?;
            self.field("64", &f)?;
        }
        self.out.write_all(b"-\r\n")?;
        Ok(totals)
    }

    pub fn finish(mut self) -> Result<W, FormatError> {
        if self.current.is_some() {
            self.end_statement()?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transliterates_to_swift_x() {
        assert_eq!(to_swift_x("Café Zürich & Söhne"), "Cafe Zurich + Sohne");
        assert_eq!(to_swift_x("東京 <x>"), "?? (x)");
        assert_eq!(to_swift_x("Straße"), "Strasse");
    }

    #[test]
    fn wraps_at_words_and_guards_tags() {
        let long = "word ".repeat(40);
        let lines = wrap(&long, 6);
        assert!(lines.iter().all(|l| l.chars().count() <= LINE));
        assert_eq!(lines.join(" ").split_whitespace().count(), 40);
        let tagged = format!("{}:61:x", "a".repeat(65));
        let lines = wrap(&tagged, 6);
        assert_eq!(lines[1], " :61:x");
    }
}
