//! Officials and experts, the posts they fill and their postings.

use crate::{Date, ParseError, Provenance, RecordId, RegionCode};

/// Cadres serve numbered three-year batches; professionals (teachers, doctors, engineers)
/// serve shorter rotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Cadre,
    Professional,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Cadre => "cadre",
            Role::Professional => "professional",
        }
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        match text {
            "cadre" => Ok(Role::Cadre),
            "professional" => Ok(Role::Professional),
            _ => Err(ParseError::new(format!(
                "{text:?} is not a role: cadre or professional"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: RecordId,
    pub provider: RegionCode,
    pub home_institution: String,
    pub specialty: String,
    pub provenance: Provenance,
}

/// A seat (or several) to fill at a host institution in a recipient area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: RecordId,
    pub recipient: RegionCode,
    pub host_institution: String,
    pub specialty: String,
    pub seats: u32,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub id: RecordId,
    pub person: RecordId,
    pub post: RecordId,
    pub role: Role,
    pub start: Date,
    pub end: Date,
    /// The numbered batch of a cadre posting.
    pub batch: Option<u32>,
    pub provenance: Provenance,
}
