//! The OFX element writer: one API, two spellings.
//!
//! 1.x SGML gets `<TAG>value` leaves without end tags (what banks ship and every parser reads)
//! and aggregates with end tags, one element per CRLF line. 2.x gets XML written by quick-xml,
//! which closes and escapes everything. Both start with the header their family requires.

use std::io::Write;

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};

use super::{Family, OfxVersion};

/// How 1.x SGML text is encoded. 2.x XML is always UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SgmlCharset {
    /// `ENCODING:UTF-8`, `CHARSET:NONE`: carries every character.
    #[default]
    Utf8,
    /// `ENCODING:USASCII`, `CHARSET:1252`: what most banks' Web Connect files declare. Characters
    /// outside Windows-1252 become `?`.
    Windows1252,
}

/// Writes OFX elements in the family of `version`.
pub struct OfxWriter<W: Write> {
    family: Family,
    charset: SgmlCharset,
    xml: quick_xml::Writer<W>,
}

impl<W: Write> OfxWriter<W> {
    /// Writes the header for `version` and returns a writer positioned before `<OFX>`.
    /// `newfileuid` is `NONE` unless the caller has a file id.
    pub fn start(
        out: W,
        version: OfxVersion,
        charset: SgmlCharset,
        newfileuid: &str,
    ) -> std::io::Result<Self> {
        let mut w = OfxWriter {
            family: version.family,
            charset,
            xml: quick_xml::Writer::new_with_indent(out, b' ', 2),
        };
        let uid: String = newfileuid
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let uid = if uid.is_empty() { "NONE".into() } else { uid };
        match version.family {
            Family::Sgml => {
                let (enc, cs) = match charset {
                    SgmlCharset::Utf8 => ("UTF-8", "NONE"),
                    SgmlCharset::Windows1252 => ("USASCII", "1252"),
                };
                let header = format!(
                    "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:{}\r\nSECURITY:NONE\r\n\
                     ENCODING:{enc}\r\nCHARSET:{cs}\r\nCOMPRESSION:NONE\r\n\
                     OLDFILEUID:NONE\r\nNEWFILEUID:{uid}\r\n\r\n",
                    version.number
                );
                w.raw(header.as_bytes())?;
            }
            Family::Xml => {
                let header = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
                     <?OFX OFXHEADER=\"200\" VERSION=\"{}\" SECURITY=\"NONE\" \
                     OLDFILEUID=\"NONE\" NEWFILEUID=\"{uid}\"?>\n",
                    version.number
                );
                w.raw(header.as_bytes())?;
            }
        }
        Ok(w)
    }

    fn raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.xml.get_mut().write_all(bytes)
    }

    fn sgml_text(&mut self, text: &str) -> std::io::Result<()> {
        let mut escaped = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '&' => escaped.push_str("&amp;"),
                '<' => escaped.push_str("&lt;"),
                '>' => escaped.push_str("&gt;"),
                // A line break would end the value for some SGML readers.
                '\r' | '\n' => escaped.push(' '),
                c => escaped.push(c),
            }
        }
        match self.charset {
            SgmlCharset::Utf8 => self.raw(escaped.as_bytes()),
            SgmlCharset::Windows1252 => {
                let bytes: Vec<u8> = escaped.chars().map(to_cp1252).collect();
                self.raw(&bytes)
            }
        }
    }

    /// Opens an aggregate.
    pub fn open(&mut self, tag: &str) -> std::io::Result<()> {
        match self.family {
            Family::Sgml => self.raw(format!("<{tag}>\r\n").as_bytes()),
            Family::Xml => self.xml.write_event(Event::Start(BytesStart::new(tag))),
        }
    }

    /// Closes an aggregate.
    pub fn close(&mut self, tag: &str) -> std::io::Result<()> {
        match self.family {
            Family::Sgml => self.raw(format!("</{tag}>\r\n").as_bytes()),
            Family::Xml => self.xml.write_event(Event::End(BytesEnd::new(tag))),
        }
    }

    /// Writes a leaf element with escaped text. An empty (or all-blank) value writes nothing:
    /// in SGML `<TAG>` with no text would open an aggregate and swallow what follows.
    pub fn leaf(&mut self, tag: &str, value: &str) -> std::io::Result<()> {
        if value.trim().is_empty() {
            return Ok(());
        }
        match self.family {
            Family::Sgml => {
                self.raw(format!("<{tag}>").as_bytes())?;
                self.sgml_text(value)?;
                self.raw(b"\r\n")
            }
            Family::Xml => {
                self.xml.write_event(Event::Start(BytesStart::new(tag)))?;
                self.xml.write_event(Event::Text(BytesText::new(value)))?;
                self.xml.write_event(Event::End(BytesEnd::new(tag)))
            }
        }
    }

    /// Writes the leaf only when there is a value.
    pub fn opt_leaf(&mut self, tag: &str, value: Option<&str>) -> std::io::Result<()> {
        match value {
            Some(v) => self.leaf(tag, v),
            None => Ok(()),
        }
    }

    /// Ends the file and hands back the output.
    pub fn finish(mut self) -> std::io::Result<W> {
        if self.family == Family::Xml {
            self.raw(b"\n")?;
        }
        let mut out = self.xml.into_inner();
        out.flush()?;
        Ok(out)
    }
}

/// Windows-1252 byte for `c`, `?` when it has none.
fn to_cp1252(c: char) -> u8 {
    const HIGH: [(char, u8); 27] = [
        ('€', 0x80),
        ('‚', 0x82),
        ('ƒ', 0x83),
        ('„', 0x84),
        ('…', 0x85),
        ('†', 0x86),
        ('‡', 0x87),
        ('ˆ', 0x88),
        ('‰', 0x89),
        ('Š', 0x8A),
        ('‹', 0x8B),
        ('Œ', 0x8C),
        ('Ž', 0x8E),
        ('‘', 0x91),
        ('’', 0x92),
        ('“', 0x93),
        ('”', 0x94),
        ('•', 0x95),
        ('–', 0x96),
        ('—', 0x97),
        ('˜', 0x98),
        ('™', 0x99),
        ('š', 0x9A),
        ('›', 0x9B),
        ('œ', 0x9C),
        ('ž', 0x9E),
        ('Ÿ', 0x9F),
    ];
    let n = c as u32;
    if n < 0x80 || (0xA0..=0xFF).contains(&n) {
        return n as u8;
    }
    HIGH.iter()
        .find(|(h, _)| *h == c)
        .map(|(_, b)| *b)
        .unwrap_or(b'?')
}
