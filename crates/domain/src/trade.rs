//! Consumption assistance (provider purchases of recipient products) and exchanges (visits
//! from recipient areas to provider regions).

use crate::{Fen, ParseError, Provenance, RecordId, RegionCode, Year};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purchase {
    pub id: RecordId,
    pub provider: RegionCode,
    pub recipient: RegionCode,
    pub year: Year,
    pub product: String,
    pub channel: String,
    pub value: Fen,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExchangeKind {
    Tourists,
    Students,
    Delegation,
}

impl ExchangeKind {
    pub fn code(self) -> &'static str {
        match self {
            ExchangeKind::Tourists => "tourists",
            ExchangeKind::Students => "students",
            ExchangeKind::Delegation => "delegation",
        }
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        match text {
            "tourists" => Ok(ExchangeKind::Tourists),
            "students" => Ok(ExchangeKind::Students),
            "delegation" => Ok(ExchangeKind::Delegation),
            _ => Err(ParseError::new(format!(
                "{text:?} is not an exchange kind: tourists, students or delegation"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub id: RecordId,
    /// The recipient area the visitors come from.
    pub recipient: RegionCode,
    /// The provider region they visit.
    pub provider: RegionCode,
    pub year: Year,
    pub kind: ExchangeKind,
    pub people: u64,
    pub provenance: Provenance,
}
