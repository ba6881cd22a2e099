//! Reading a whole OFX file: recognise the family from its header, check the version, and turn
//! the body into an [`Element`] tree (our SGML tokenizer for 1.x, quick-xml for 2.x).

use quick_xml::events::Event;
use quick_xml::Reader;

use super::tree::Element;
use super::{sgml, Family, OfxParseError, OfxVersion};

/// Bodies larger than this are refused before parsing; a statement request is a few kB.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

/// Decodes the bytes of a request: UTF-8 when valid, else Latin-1 (OFX 1.x declares
/// `CHARSET:1252`, whose letters are Latin-1's for everything a request carries).
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// Parses a whole OFX file into its version and root `OFX` element.
pub fn parse_document(bytes: &[u8]) -> Result<(OfxVersion, Element), OfxParseError> {
    if bytes.len() > MAX_REQUEST_BYTES {
        return Err(OfxParseError::NotOfx("request too large"));
    }
    let text = decode(bytes);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let (version, root) = if text.starts_with("OFXHEADER") {
        let body_at = text
            .find('<')
            .ok_or(OfxParseError::NotOfx("header without body"))?;
        let version = sgml_header(&text[..body_at])?;
        (version, sgml::parse_body(&text[body_at..])?)
    } else if text.starts_with("<?xml") || text.starts_with("<?OFX") {
        parse_xml(text)?
    } else {
        return Err(OfxParseError::NotOfx("no OFX header"));
    };
    if root.name != "OFX" {
        return Err(OfxParseError::Body(format!(
            "root element is {}, not OFX",
            root.name
        )));
    }
    Ok((version, root))
}

/// The 1.x header: `KEY:VALUE` lines. Only `OFXHEADER`, `DATA` and `VERSION` decide anything;
/// the others (`SECURITY`, `ENCODING`, `CHARSET`, …) are accepted as sent.
fn sgml_header(header: &str) -> Result<OfxVersion, OfxParseError> {
    let mut version = None;
    // Values never contain blanks, so splitting on any whitespace also reads a header whose
    // lines were joined by spaces.
    for line in header.split_whitespace() {
        let (key, value) = line
            .split_once(':')
            .ok_or_else(|| OfxParseError::Header(format!("line without ':': {line:?}")))?;
        match key.trim() {
            "OFXHEADER" if value.trim() != "100" => {
                return Err(OfxParseError::Header(format!("OFXHEADER {value}")))
            }
            "DATA" if value.trim() != "OFXSGML" => {
                return Err(OfxParseError::Header(format!("DATA {value}")))
            }
            "VERSION" => version = Some(value.trim().to_string()),
            _ => {}
        }
    }
    let v = version.ok_or(OfxParseError::Missing("VERSION"))?;
    match v.parse().ok().and_then(OfxVersion::from_number) {
        Some(ver) if ver.family == Family::Sgml => Ok(ver),
        _ => Err(OfxParseError::Version(v)),
    }
}

/// Finds `KEY="value"` in a processing instruction's content.
fn pi_attribute<'a>(content: &'a str, key: &str) -> Option<&'a str> {
    let mut rest = content;
    while let Some(i) = rest.find(key) {
        let before_ok = i == 0 || rest.as_bytes()[i - 1].is_ascii_whitespace();
        let after = rest[i + key.len()..].trim_start();
        if before_ok {
            if let Some(v) = after.strip_prefix('=') {
                let v = v.trim_start();
                let quote = v.chars().next()?;
                if quote == '"' || quote == '\'' {
                    let v = &v[1..];
                    return v.find(quote).map(|end| &v[..end]);
                }
            }
        }
        rest = &rest[i + key.len()..];
    }
    None
}

fn xml_err(e: impl std::fmt::Display) -> OfxParseError {
    OfxParseError::Body(e.to_string())
}

/// The 2.x family: an XML declaration, the `<?OFX ... VERSION="2xx"?>` instruction, then XML.
fn parse_xml(text: &str) -> Result<(OfxVersion, Element), OfxParseError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut version = None;
    let mut stack: Vec<Element> = vec![Element::new("")];
    loop {
        match reader.read_event().map_err(xml_err)? {
            Event::PI(pi) => {
                if pi.target() == b"OFX" {
                    let content = String::from_utf8_lossy(pi.content()).into_owned();
                    if pi_attribute(&content, "OFXHEADER") != Some("200") {
                        return Err(OfxParseError::Header("OFXHEADER must be 200".into()));
                    }
                    let v = pi_attribute(&content, "VERSION")
                        .ok_or(OfxParseError::Missing("VERSION"))?;
                    match v.parse().ok().and_then(OfxVersion::from_number) {
                        Some(ver) if ver.family == Family::Xml => version = Some(ver),
                        _ => return Err(OfxParseError::Version(v.to_string())),
                    }
                }
            }
            Event::Start(s) => {
                if stack.len() > 64 {
                    return Err(xml_err("nested too deeply"));
                }
                let name = String::from_utf8_lossy(s.name().as_ref()).into_owned();
                stack.push(Element::new(name));
            }
            Event::Empty(s) => {
                let name = String::from_utf8_lossy(s.name().as_ref()).into_owned();
                if let Some(top) = stack.last_mut() {
                    top.children.push(Element::new(name));
                }
            }
            Event::Text(t) => {
                let t = t.unescape().map_err(xml_err)?;
                if stack.len() < 2 {
                    return Err(xml_err("text outside the OFX element"));
                }
                if let Some(top) = stack.last_mut() {
                    top.text.get_or_insert_with(String::new).push_str(&t);
                }
            }
            Event::CData(c) => {
                let t = String::from_utf8_lossy(&c).into_owned();
                if let Some(top) = stack.last_mut() {
                    top.text.get_or_insert_with(String::new).push_str(&t);
                }
            }
            Event::End(_) => {
                // quick-xml checks that end tags match their start tags.
                let done = stack.pop().ok_or_else(|| xml_err("unbalanced"))?;
                stack
                    .last_mut()
                    .ok_or_else(|| xml_err("unbalanced"))?
                    .children
                    .push(done);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    let version = version.ok_or(OfxParseError::Header("no <?OFX?> instruction".into()))?;
    if stack.len() != 1 {
        return Err(xml_err("unclosed elements"));
    }
    let mut doc = stack.pop().unwrap_or_default();
    if doc.children.len() != 1 {
        return Err(xml_err("expected exactly one root element"));
    }
    Ok((version, doc.children.remove(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_on_one_line() {
        let body = "OFXHEADER:100 DATA:OFXSGML VERSION:103 SECURITY:NONE <OFX><A>1</OFX>";
        let (v, root) = parse_document(body.as_bytes()).unwrap();
        assert_eq!(v.number, 103);
        assert_eq!(root.leaf("A"), Some("1"));
    }

    #[test]
    fn pi_attributes() {
        let c = r#"OFXHEADER="200" VERSION="220" SECURITY="NONE""#;
        assert_eq!(pi_attribute(c, "VERSION"), Some("220"));
        assert_eq!(pi_attribute(c, "OFXHEADER"), Some("200"));
        assert_eq!(pi_attribute(c, "NEWFILEUID"), None);
    }

    #[test]
    fn sample_qbo_parses() {
        let (v, root) = parse_document(include_bytes!("../../tests/data/sample.qbo")).unwrap();
        assert_eq!(v, OfxVersion::V102);
        assert_eq!(
            root.path(&["SIGNONMSGSRSV1", "SONRS", "INTU.BID"])
                .and_then(|e| e.text.as_deref()),
            Some("3000")
        );
    }
}
