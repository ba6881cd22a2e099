//! Writing a planned statement file: each format's streaming writer fills a buffer, and the
//! buffer goes out as one chunk per page of rows read, so memory holds one page at a time.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use bankfeeds_formats::bai2::{Bai2Options, Bai2Writer};
use bankfeeds_formats::camt053::{Camt053Writer, CamtVersion};
use bankfeeds_formats::csv::CsvWriter;
use bankfeeds_formats::mt940::Mt940Writer;
use bankfeeds_formats::ofx::{start_web_connect, SgmlCharset, TrnEcho, WebConnectOptions};
use bankfeeds_formats::{FormatError, StatementLine};
use bankfeeds_store::DynStore;
use tokio::sync::mpsc::Sender;

use super::mapping::{line, TransactionPages};
use super::{Plan, PlannedAccount, StatementError, StatementFormat};

/// Where the file goes, chunk by chunk; an `Err` aborts the response (the reader sees a cut
/// transfer, never a short file that looks whole).
pub type Chunks = Sender<std::io::Result<Bytes>>;

/// What the writers write into; drained after every page.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("buffer lock").extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    async fn send(&self, tx: &Chunks) -> Result<(), StatementError> {
        let chunk = std::mem::take(&mut *self.0.lock().expect("buffer lock"));
        if chunk.is_empty() {
            return Ok(());
        }
        tx.send(Ok(Bytes::from(chunk)))
            .await
            .map_err(|_| StatementError::Gone)
    }
}

/// Hands every line of `a` (up to the row its balances counted) to `each`, sending the buffer
/// after each page.
async fn lines(
    store: &DynStore,
    plan: &Plan,
    a: &PlannedAccount,
    buf: &Buffer,
    tx: &Chunks,
    mut each: impl FnMut(&StatementLine) -> Result<(), FormatError>,
) -> Result<(), StatementError> {
    let Some(last) = a.last_id else {
        return Ok(());
    };
    let mut pages = TransactionPages::new(store, &a.account, plan.range.start(), plan.range.end());
    while let Some(page) = pages.next_page().await? {
        let mut past_last = false;
        for t in &page {
            if t.id > last {
                past_last = true;
                break;
            }
            each(&line(t))?;
        }
        buf.send(tx).await?;
        if past_last {
            break;
        }
    }
    Ok(())
}

/// Writes the planned file into `tx`, chunk by chunk. An error after the first chunk can only
/// cut the file short: the caller must make that visible (an aborted response).
pub async fn write(store: &DynStore, plan: &Plan, tx: &Chunks) -> Result<(), StatementError> {
    let buf = Buffer::default();
    let stamp = plan.created_at.format("%y%m%d%H%M%S").to_string();
    match plan.format {
        StatementFormat::Qbo | StatementFormat::Qfx | StatementFormat::Ofx => {
            let opts = WebConnectOptions {
                org: plan.fi.org.clone(),
                fid: plan.fi.fid.clone(),
                intu_bid: (plan.format != StatementFormat::Ofx).then(|| plan.intu_bid.clone()),
                intu_userid: None,
                dtserver: plan.created_at,
                charset: SgmlCharset::Utf8,
            };
            let mut rw = start_web_connect(buf.clone(), &opts)?;
            for a in &plan.accounts {
                let echo = TrnEcho {
                    trnuid: a.account.id.to_string(),
                    cltcookie: None,
                };
                let mut st = rw.begin_statement(&echo, &a.header, true)?;
                lines(store, plan, a, &buf, tx, |l| st.line(l)).await?;
                st.finish()?;
            }
            rw.finish()?;
        }
        StatementFormat::Csv => {
            for a in &plan.accounts {
                let mut w = CsvWriter::new(buf.clone(), &a.header)?;
                lines(store, plan, a, &buf, tx, |l| w.line(l)).await?;
                w.finish()?;
            }
        }
        StatementFormat::Bai2 => {
            let currencies: Vec<&str> = plan
                .accounts
                .iter()
                .map(|a| a.header.account.currency.code.as_str())
                .collect();
            let same = currencies.windows(2).all(|w| w[0] == w[1]);
            let mut w = Bai2Writer::new(
                buf.clone(),
                &Bai2Options {
                    sender_id: plan.fi.bank_id.clone(),
                    receiver_id: plan
                        .accounts
                        .first()
                        .map(|a| a.account.connection_id.as_uuid().simple().to_string())
                        .unwrap_or_default()
                        .chars()
                        .take(16)
                        .collect(),
                    file_id: stamp.clone(),
                    created_at: plan.created_at,
                    as_of: plan
                        .range
                        .end()
                        .map_or(plan.created_at, |e| e.min(plan.created_at)),
                    group_currency: currencies.first().filter(|_| same).map(|c| c.to_string()),
                },
            )?;
            for a in &plan.accounts {
                w.begin_account(&a.header)?;
                lines(store, plan, a, &buf, tx, |l| w.line(l)).await?;
                w.end_account()?;
            }
            w.finish()?;
        }
        StatementFormat::Mt940 => {
            let mut w = Mt940Writer::new(buf.clone());
            for (i, a) in plan.accounts.iter().enumerate() {
                w.begin_statement(&a.header, &stamp, i as u32 + 1)?;
                lines(store, plan, a, &buf, tx, |l| w.line(l)).await?;
                w.end_statement()?;
            }
            w.finish()?;
        }
        StatementFormat::Camt053 => {
            let id = format!("BF{}", plan.created_at.format("%Y%m%d%H%M%S%6f"));
            let mut w = Camt053Writer::new(buf.clone(), CamtVersion::V02, &id, plan.created_at)?;
            for a in &plan.accounts {
                let stmt_id = format!("{}-{stamp}", a.account.id.as_uuid().simple());
                w.begin_statement(&a.header, &stmt_id)?;
                lines(store, plan, a, &buf, tx, |l| w.line(l)).await?;
                w.end_statement()?;
            }
            w.finish()?;
        }
    }
    buf.send(tx).await
}
