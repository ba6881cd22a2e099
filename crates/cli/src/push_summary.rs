//! What `bankfeeds push` says at the end: how many transactions were stored, were already
//! stored (duplicates), were answered from an earlier run, and which were refused and why.

use std::fmt;

use bankfeeds_client::wire::transactions::{TransactionIn, TransactionsCreatedOut};
use bankfeeds_client::Error;

/// Per-item problems shown for one refused batch; the rest are counted.
const ITEMS_SHOWN: usize = 10;

#[derive(Default)]
pub struct Summary {
    stored: usize,
    duplicated: usize,
    replayed: usize,
    refusals: Vec<Refusal>,
}

struct Refusal {
    batch: usize,
    first: String,
    last: String,
    count: usize,
    status: u16,
    code: String,
    message: String,
    items: Vec<String>,
}

impl Summary {
    /// Counts batch `index`'s outcome. A refusal is recorded; a failure to reach the hub or
    /// read its answer stops the push (what follows would fail the same way).
    pub fn record(
        &mut self,
        index: usize,
        sent: &[TransactionIn],
        outcome: Result<(TransactionsCreatedOut<'static>, bool), Error>,
    ) -> anyhow::Result<()> {
        match outcome {
            Ok((_, true)) => self.replayed += sent.len(),
            Ok((stored, false)) => {
                for t in &stored.bank_feed_transactions {
                    if t.duplicate == Some(true) {
                        self.duplicated += 1;
                    } else {
                        self.stored += 1;
                    }
                }
            }
            Err(Error::Api { status, body }) => {
                let items = body
                    .errors
                    .as_ref()
                    .and_then(|e| e.as_array())
                    .map(|items| items.iter().map(describe_item).collect())
                    .unwrap_or_default();
                self.refusals.push(Refusal {
                    batch: index + 1,
                    first: sent.first().map(|t| t.transaction_id.clone()).unwrap_or_default(),
                    last: sent.last().map(|t| t.transaction_id.clone()).unwrap_or_default(),
                    count: sent.len(),
                    status,
                    code: body.error_code,
                    message: body.error_message,
                    items,
                });
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "batch {} could not be pushed; rerun to resume (batches already pushed are not pushed twice)",
                    index + 1
                )))
            }
        }
        Ok(())
    }

    /// How many transactions were refused.
    pub fn refused(&self) -> usize {
        self.refusals.iter().map(|r| r.count).sum()
    }
}

/// One entry of a refusal's `errors`: its code, the transaction it names, its message.
fn describe_item(item: &serde_json::Value) -> String {
    let field = |k: &str| item.get(k).and_then(|v| v.as_str());
    let mut text = field("code")
        .or_else(|| field("error_code"))
        .unwrap_or("?")
        .to_owned();
    if let Some(id) = field("transaction_id") {
        text.push_str(&format!(" ({id})"));
    }
    if let Some(m) = field("error_message").or_else(|| field("message")) {
        text.push_str(&format!(": {m}"));
    }
    text
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "stored:     {}", self.stored)?;
        writeln!(
            f,
            "duplicated: {} (stored before, identical; nothing written)",
            self.duplicated
        )?;
        if self.replayed > 0 {
            writeln!(
                f,
                "replayed:   {} (pushed by an earlier run of this file; nothing written)",
                self.replayed
            )?;
        }
        writeln!(f, "refused:    {}", self.refused())?;
        for r in &self.refusals {
            writeln!(
                f,
                "  batch {} ({} transactions, {} … {}): {} {}: {}",
                r.batch, r.count, r.first, r.last, r.status, r.code, r.message
            )?;
            for item in r.items.iter().take(ITEMS_SHOWN) {
                writeln!(f, "    {item}")?;
            }
            if r.items.len() > ITEMS_SHOWN {
                writeln!(f, "    … and {} more", r.items.len() - ITEMS_SHOWN)?;
            }
        }
        Ok(())
    }
}
