//! Every writer streams: bytes reach the sink while the line iterator is still running, and
//! nothing grows with the number of lines (the writers keep running totals only).

mod common;

use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;

use bankfeeds_formats::bai2::{Bai2Options, Bai2Writer};
use bankfeeds_formats::camt053::{Camt053Writer, CamtVersion};
use bankfeeds_formats::csv::CsvWriter;
use bankfeeds_formats::mt940::Mt940Writer;
use bankfeeds_formats::ofx::{write_web_connect, SgmlCharset, WebConnectOptions};
use bankfeeds_formats::{StatementHeader, StatementLine};
use common::*;

/// Counts bytes written, so a test can see output arrive mid-stream.
#[derive(Clone, Default)]
struct Counter(Rc<Cell<usize>>);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.set(self.0.get() + buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const LINES: usize = 20_000;

/// A lazily generated year of lines; at the halfway point it records how much output the
/// sink had seen so far.
fn lines(
    template: &StatementLine,
    sink: &Counter,
    seen_at_half: Rc<Cell<usize>>,
) -> impl Iterator<Item = StatementLine> {
    let template = template.clone();
    let sink = sink.clone();
    (0..LINES).map(move |i| {
        if i == LINES / 2 {
            seen_at_half.set(sink.0.get());
        }
        let mut l = template.clone();
        l.transaction_id = format!("t-{i}");
        l
    })
}

fn header_and_line() -> (StatementHeader, StatementLine) {
    let (mut h, ls) = samples().remove(0);
    h.balances.closing = None; // derived where the format needs it
    (h, ls[0].clone())
}

/// Runs `write` (one writer) over the lazy lines into a counting sink, then asserts that output
/// had reached the sink by the halfway line.
fn assert_streams(
    name: &str,
    template: &StatementLine,
    write: impl FnOnce(Counter, Box<dyn Iterator<Item = StatementLine>>),
) {
    let (sink, half) = (Counter::default(), Rc::new(Cell::new(0)));
    write(sink.clone(), Box::new(lines(template, &sink, half.clone())));
    let (mid, end) = (half.get(), sink.0.get());
    assert!(
        mid > end / 3,
        "{name}: only {mid} of {end} bytes written by the halfway line"
    );
}

#[test]
fn every_writer_streams() {
    let (h, l) = header_and_line();

    let opts = WebConnectOptions {
        org: "HUB".into(),
        fid: "1".into(),
        intu_bid: Some("3000".into()),
        intu_userid: None,
        dtserver: at(2024, 2, 1),
        charset: SgmlCharset::Utf8,
    };
    assert_streams("qbo", &l, |sink, lines| {
        let (_, totals) = write_web_connect(sink, &opts, &h, lines).unwrap();
        assert_eq!(totals.count as usize, LINES);
    });

    assert_streams("csv", &l, |sink, mut lines| {
        let mut w = CsvWriter::new(sink, &h).unwrap();
        lines.try_for_each(|x| w.line(&x)).unwrap();
        w.finish().unwrap();
    });

    let bai2 = Bai2Options {
        sender_id: "S".into(),
        receiver_id: "R".into(),
        file_id: "1".into(),
        created_at: at(2024, 2, 1),
        as_of: at(2024, 1, 31),
        group_currency: None,
    };
    assert_streams("bai2", &l, |sink, mut lines| {
        let mut w = Bai2Writer::new(sink, &bai2).unwrap();
        w.begin_account(&h).unwrap();
        lines.try_for_each(|x| w.line(&x)).unwrap();
        w.finish().unwrap();
    });

    assert_streams("mt940", &l, |sink, mut lines| {
        let mut w = Mt940Writer::new(sink);
        w.begin_statement(&h, "s", 1).unwrap();
        lines.try_for_each(|x| w.line(&x)).unwrap();
        w.finish().unwrap();
    });

    assert_streams("camt053", &l, |sink, mut lines| {
        let mut w = Camt053Writer::new(sink, CamtVersion::V08, "m", at(2024, 2, 1)).unwrap();
        w.begin_statement(&h, "s").unwrap();
        lines.try_for_each(|x| w.line(&x)).unwrap();
        w.finish().unwrap();
    });
}
