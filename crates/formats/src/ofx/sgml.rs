//! A small tokenizer and tree builder for OFX 1.x SGML bodies.
//!
//! OFX SGML differs from XML in one way that matters: leaf elements may omit their end tag
//! (`<CODE>0<SEVERITY>INFO`). The rule used here is the one every OFX parser uses: an element
//! whose start tag is followed by text is a leaf, and it ends at the next tag, whether that is its
//! own end tag (closed leaves, as ofxtools sends them) or anything else. Aggregates must be closed
//! explicitly; an end tag closes every element opened inside it that is still open.

use super::tree::Element;
use super::OfxParseError;

/// Deepest nesting accepted; real OFX is under 10 levels, this only bounds hostile input.
const MAX_DEPTH: usize = 64;

#[derive(Debug, PartialEq, Eq)]
enum Token<'a> {
    Start(&'a str),
    End(&'a str),
    Text(&'a str),
}

struct Tokenizer<'a> {
    rest: &'a str,
}

impl<'a> Tokenizer<'a> {
    /// Skips a run from `open` to `close` (a comment, a processing instruction) when the rest
    /// starts with `open`; `unterminated` is the error when `close` never comes.
    fn skip(&mut self, open: &str, close: &str, unterminated: &str) -> Result<bool, OfxParseError> {
        let Some(after) = self.rest.strip_prefix(open) else {
            return Ok(false);
        };
        let end = after.find(close).ok_or_else(|| body_err(unterminated))?;
        self.rest = &after[end + close.len()..];
        Ok(true)
    }

    fn next_token(&mut self) -> Result<Option<Token<'a>>, OfxParseError> {
        loop {
            if self.rest.is_empty() {
                return Ok(None);
            }
            if self.skip("<!--", "-->", "unterminated comment")?
                || self.skip("<?", "?>", "unterminated <?")?
            {
                continue;
            }
            if let Some(after) = self.rest.strip_prefix('<') {
                let end = after
                    .find('>')
                    .ok_or_else(|| body_err("unterminated tag"))?;
                let raw = &after[..end];
                self.rest = &after[end + 1..];
                let (closing, name) = match raw.strip_prefix('/') {
                    Some(n) => (true, n.trim()),
                    None => (false, raw.trim()),
                };
                if !valid_name(name) {
                    return Err(body_err(&format!("bad tag name {name:?}")));
                }
                return Ok(Some(if closing {
                    Token::End(name)
                } else {
                    Token::Start(name)
                }));
            }
            let end = self.rest.find('<').unwrap_or(self.rest.len());
            let text = &self.rest[..end];
            self.rest = &self.rest[end..];
            return Ok(Some(Token::Text(text)));
        }
    }
}

/// OFX tag names are letters, digits, `.` (proprietary tags like `INTU.BID`), `_` and `-`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn body_err(msg: &str) -> OfxParseError {
    OfxParseError::Body(msg.to_string())
}

/// Replaces the character references OFX files use (`&lt;`, `&gt;`, `&amp;`, `&quot;`, `&apos;`,
/// `&nbsp;`, `&#NN;`, `&#xHH;`). Anything else is left as written.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let decoded = tail.find(';').filter(|&j| j <= 10).and_then(|j| {
            let ent = &tail[1..j];
            let c = match ent {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => ent.strip_prefix('#').and_then(|num| {
                    let n = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => num.parse().ok(),
                    };
                    n.and_then(char::from_u32)
                }),
            };
            c.map(|c| (c, j))
        });
        match decoded {
            Some((c, j)) => {
                out.push(c);
                rest = &tail[j + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Parses an SGML body (everything after the header) into its root element, normally `OFX`.
pub fn parse_body(body: &str) -> Result<Element, OfxParseError> {
    let mut tok = Tokenizer { rest: body };
    // stack[0] is a document node that collects the root element.
    let mut stack = vec![Element::new("")];
    let mut open_leaf = false;

    fn close_top(stack: &mut Vec<Element>) {
        if stack.len() > 1 {
            let done = stack.pop().unwrap_or_default();
            if let Some(parent) = stack.last_mut() {
                parent.children.push(done);
            }
        }
    }

    while let Some(token) = tok.next_token()? {
        match token {
            Token::Start(name) => {
                if open_leaf {
                    close_top(&mut stack);
                    open_leaf = false;
                }
                if stack.len() > MAX_DEPTH {
                    return Err(body_err("nested too deeply"));
                }
                // SGML names are case-insensitive; OFX spells them in capitals.
                stack.push(Element::new(name.to_ascii_uppercase()));
            }
            Token::Text(raw) => {
                if raw.trim().is_empty() {
                    continue;
                }
                if stack.len() == 1 {
                    return Err(body_err("text outside the OFX element"));
                }
                let top = stack.last_mut().ok_or_else(|| body_err("empty stack"))?;
                if !top.children.is_empty() {
                    return Err(body_err(&format!("text inside aggregate {}", top.name)));
                }
                // Whitespace around a value (the CRLF before the next tag) is not part of it.
                let text = unescape(raw.trim());
                match &mut top.text {
                    Some(t) => t.push_str(&text),
                    None => top.text = Some(text),
                }
                open_leaf = true;
            }
            Token::End(name) => {
                if open_leaf {
                    open_leaf = false;
                    let was = stack
                        .last()
                        .map(|e| e.name.eq_ignore_ascii_case(name))
                        .unwrap_or(false);
                    close_top(&mut stack);
                    if was {
                        continue;
                    }
                }
                let pos = stack
                    .iter()
                    .rposition(|e| e.name.eq_ignore_ascii_case(name))
                    .filter(|&p| p > 0)
                    .ok_or_else(|| body_err(&format!("end tag </{name}> without start")))?;
                while stack.len() > pos {
                    close_top(&mut stack);
                }
            }
        }
    }
    if open_leaf {
        close_top(&mut stack);
    }
    if stack.len() != 1 {
        let names: Vec<&str> = stack[1..].iter().map(|e| e.name.as_str()).collect();
        return Err(body_err(&format!("unclosed {}", names.join("/"))));
    }
    let mut doc = stack.pop().unwrap_or_default();
    if doc.children.len() != 1 {
        return Err(body_err("expected exactly one root element"));
    }
    Ok(doc.children.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unclosed_and_closed_leaves_give_the_same_tree() {
        let a = parse_body("<OFX><S><CODE>0<SEVERITY>INFO</S><T>x &amp; y</T></OFX>").unwrap();
        let b = parse_body(
            "<OFX>\r\n <S>\r\n  <CODE>0</CODE>\r\n  <SEVERITY>INFO</SEVERITY>\r\n </S>\r\n <T>x &amp; y</OFX>",
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.path(&["S", "CODE"]).unwrap().text.as_deref(), Some("0"));
        assert_eq!(a.leaf("T"), Some("x & y"));
        let lower = parse_body("<ofx><s><code>0<severity>INFO</S><t>x &amp; y</t></ofx>").unwrap();
        assert_eq!(lower, a);
    }

    #[test]
    fn stray_end_tag_is_an_error() {
        assert!(parse_body("<OFX></FOO></OFX>").is_err());
        assert!(parse_body("<OFX><A>").is_err());
        assert!(parse_body("<OFX").is_err());
    }

    #[test]
    fn numeric_references() {
        assert_eq!(unescape("&#233;t&#xE9; &bogus; &"), "été &bogus; &");
    }
}
