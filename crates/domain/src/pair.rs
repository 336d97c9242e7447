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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RegionKind;
    use crate::region::Region;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    fn tree() -> RegionTree {
        let region = |c: &str, parent: Option<&str>, kind| Region {
            code: code(c),
            parent: parent.map(code),
            kind,
            name_en: c.into(),
            name_zh: String::new(),
            admin_code: None,
        };
        RegionTree::build([
            region("jiangsu", None, RegionKind::Province),
            region("jiangsu.wuxi", Some("jiangsu"), RegionKind::City),
            region("kizilsu", None, RegionKind::Prefecture),
            region("kizilsu.akqi", Some("kizilsu"), RegionKind::County),
            region(
                "kizilsu.artux",
                Some("kizilsu"),
                RegionKind::CountyLevelCity,
            ),
        ])
        .unwrap()
    }

    fn pair(provider: &str, recipient: &str, first: u16, last: Option<u16>) -> Pair {
        Pair {
            provider: code(provider),
            recipient: code(recipient),
            first_year: Year::new(first).unwrap(),
            last_year: last.map(|y| Year::new(y).unwrap()),
            provenance: Provenance::Recorded,
            note: String::new(),
        }
    }

    #[test]
    fn a_city_pair_nests_in_its_provinces_pair() {
        let tree = tree();
        let pairs = [
            pair("jiangsu", "kizilsu.akqi", 2010, None),
            pair("jiangsu.wuxi", "kizilsu.akqi", 2010, None),
        ];
        assert_eq!(pairs[1].nested_in(&pairs, &tree), Some(&pairs[0]));
        assert_eq!(pairs[0].nested_in(&pairs, &tree), None);
    }

    #[test]
    fn a_provider_serves_its_units_their_prefecture_and_only_while_paired() {
        let tree = tree();
        let pairs = [pair("jiangsu", "kizilsu.akqi", 2010, Some(2015))];
        let y = |y| Year::new(y).unwrap();
        let jiangsu = code("jiangsu");
        assert!(serves(
            &pairs,
            &tree,
            &jiangsu,
            &code("kizilsu.akqi"),
            y(2012)
        ));
        assert!(
            serves(&pairs, &tree, &jiangsu, &code("kizilsu"), y(2012)),
            "a prefecture project serves its counties"
        );
        assert!(
            !serves(&pairs, &tree, &jiangsu, &code("kizilsu.artux"), y(2012)),
            "not a county it is not paired with"
        );
        assert!(
            !serves(&pairs, &tree, &jiangsu, &code("kizilsu.akqi"), y(2016)),
            "not after the pair ended"
        );
    }
}
