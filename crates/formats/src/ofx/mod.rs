//! OFX: the Direct Connect request reader, the response writers and Web Connect files.
//!
//! OFX comes in two families: 1.x is SGML (a `KEY:VALUE` header, then tags whose leaf elements
//! usually have no end tag) and 2.x is XML. A server answers in the family and version the client
//! used, so [`OfxVersion`] travels from the parsed request into the response writer.
//!
//! Reading goes text → [`tree::Element`] (by [`sgml`] for 1.x or quick-xml for 2.x, see
//! [`header`]) → typed [`request::OfxRequest`]. Writing goes through [`writer::OfxWriter`], which
//! knows how each family spells an element and escapes text.

pub mod date;
pub mod header;
pub mod request;
pub mod response;
pub mod sgml;
pub mod statement;
pub mod tree;
pub mod webconnect;
pub mod writer;

pub use date::{format_ofx_datetime, parse_ofx_datetime};
pub use request::{parse_request, IncTran, OfxRequest, RequestBody, SignonRequest, TrnRequest};
pub use response::{
    AccountInfo, MessageSet, Profile, ResponseWriter, SignonResponse, Status, TrnEcho, TrnKind,
};
pub use statement::StatementWriter;
pub use webconnect::{start_web_connect, write_web_connect, WebConnectOptions};
pub use writer::SgmlCharset;

/// The two OFX families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// OFX 1.x: SGML body after a `KEY:VALUE` header.
    Sgml,
    /// OFX 2.x: XML with an `<?OFX ...?>` processing instruction.
    Xml,
}

/// The OFX version a client spoke (102, 103, 151, 160, 200…220).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfxVersion {
    pub family: Family,
    pub number: u16,
}

impl OfxVersion {
    pub const V102: OfxVersion = OfxVersion {
        family: Family::Sgml,
        number: 102,
    };
    pub const V220: OfxVersion = OfxVersion {
        family: Family::Xml,
        number: 220,
    };

    /// The version for a number, or `None` for one OFX never defined.
    pub fn from_number(number: u16) -> Option<Self> {
        let family = match number {
            102 | 103 | 151 | 160 => Family::Sgml,
            200 | 201 | 202 | 203 | 210 | 211 | 220 => Family::Xml,
            _ => return None,
        };
        Some(OfxVersion { family, number })
    }
}

/// Why an OFX request could not be read. Every malformed input ends here, never in a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfxParseError {
    #[error("not an OFX file: {0}")]
    NotOfx(&'static str),
    #[error("bad OFX header: {0}")]
    Header(String),
    #[error("unsupported OFX version {0}")]
    Version(String),
    #[error("malformed OFX body: {0}")]
    Body(String),
    #[error("missing element {0}")]
    Missing(&'static str),
    #[error("bad value in {element}: {value:?}")]
    Value {
        element: &'static str,
        value: String,
    },
}
