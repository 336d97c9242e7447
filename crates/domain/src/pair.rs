//! Pairs: provider → recipient for a span of years.

use crate::region::RegionTree;
use crate::{Confidence, Provenance, RegionCode, Year};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub provider: RegionCode,
    pub recipient: RegionCode,
    pub first_year: Year,
    /// `None` while the pair is open-ended.
    pub last_year: Option<Year>,
    pub provenance: Provenance,
    pub note: String,
}

impl Pair {
    pub fn active_in(&self, year: Year) -> bool {
        self.first_year <= year && self.last_year.is_none_or(|last| year <= last)
    }

    pub fn confidence(&self) -> Option<Confidence> {
        match &self.provenance {
            Provenance::Published { confidence, .. } => Some(*confidence),
            _ => None,
        }
    }

    /// The pair this one is handed down from: a pair of an ancestor of the provider (Jiangsu
    /// above Wuxi) with a recipient at or above this one's.
    pub fn nested_in<'a>(&self, pairs: &'a [Pair], tree: &RegionTree) -> Option<&'a Pair> {
        pairs.iter().find(|p| {
            p.provider != self.provider
                && tree.is_within(&self.provider, &p.provider)
                && tree.is_within(&self.recipient, &p.recipient)
        })
    }
}

/// Whether `provider` may fund work in `area` in `year`: it has a pair there, or `area`
/// encloses one of its paired recipients (a prefecture hospital serving its counties).
pub fn serves(
    pairs: &[Pair],
    tree: &RegionTree,
    provider: &RegionCode,
    area: &RegionCode,
    year: Year,
) -> bool {
    pairs
        .iter()
        .filter(|p| &p.provider == provider && p.active_in(year))
        .any(|p| tree.is_within(area, &p.recipient) || tree.is_within(&p.recipient, area))
}
