//! The program model of Counterpart: plain types, money, shares and the rules of a
//! pairing-assistance program.
//!
//! Architecture Invariant: this crate does no I/O. It never depends on `store`, `web`, sqlx,
//! axum, tokio or any other I/O crate; `.ci/check-deps` enforces it.
//!
//! Architecture Invariant: money is integer fen ([`Fen`]) with a currency, never `f64`;
//! shares are exact ratios ([`Share`]).
//!
//! Architecture Invariant: types parse, they do not validate. Once a value has a domain type
//! it is valid everywhere (`Fen::parse_amount`, `RegionCode::parse`, `Year::parse`, …).

pub mod access;
pub mod compliance;
pub mod fact;
pub mod indicator;
pub mod ledger;
pub mod money;
pub mod outcome;
pub mod pair;
pub mod people;
pub mod program;
pub mod project;
pub mod provenance;
pub mod quota;
pub mod records;
pub mod region;
pub mod share;
pub mod trade;
pub mod year;

pub use money::{Currency, Fen};
pub use provenance::{Confidence, Provenance};
pub use region::{RegionCode, RegionKind};
pub use share::Share;
pub use year::Year;

/// Why a field did not parse. The caller adds *where* (file, line, column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(message: impl Into<String>) -> Self {
        ParseError(message.into())
    }
}

/// The longest record identifier, in bytes.
pub const MAX_ID_LEN: usize = 128;

/// A record identifier: 1–128 characters of letters, digits and `. _ - :`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId(compact_str::CompactString);

impl RecordId {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':');
        if text.is_empty() || text.len() > MAX_ID_LEN || !text.chars().all(ok_char) {
            return Err(ParseError::new(format!(
                "{text:?} is not an id: use 1-128 letters, digits, '.', '_', '-' or ':'"
            )));
        }
        Ok(RecordId(text.into()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id's first eight bytes as a number (zero-padded): ids in the order of their prefixes,
    /// ties broken by the whole id, are in id order. Sorting a million ids by (prefix, id)
    /// settles most comparisons without following a pointer to the id's text.
    pub fn prefix(&self) -> u64 {
        let mut head = [0u8; 8];
        let bytes = self.0.as_bytes();
        let n = bytes.len().min(8);
        head[..n].copy_from_slice(&bytes[..n]);
        u64::from_be_bytes(head)
    }
}

impl std::fmt::Display for RecordId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A calendar date (`YYYY-MM-DD`).
pub type Date = jiff::civil::Date;

pub fn parse_date(text: &str) -> Result<Date, ParseError> {
    text.parse::<Date>()
        .map_err(|_| ParseError::new(format!("{text:?} is not a date: write YYYY-MM-DD")))
}

/// Parse a non-empty text field, trimmed of nothing: what the user wrote is kept.
pub fn parse_text(text: &str, what: &str) -> Result<String, ParseError> {
    if text.trim().is_empty() {
        return Err(ParseError::new(format!("{what} is empty")));
    }
    Ok(text.to_owned())
}

/// Parse a non-negative count (people, jobs, beds).
pub fn parse_count(text: &str) -> Result<u64, ParseError> {
    text.parse::<u64>()
        .map_err(|_| ParseError::new(format!("{text:?} is not a count: write a whole number ≥ 0")))
}
