//! Regions: the nodes of the administrative tree, with bilingual names.

use crate::ParseError;
use std::collections::{BTreeMap, HashMap};

/// A stable region key such as `kashgar` or `kashgar.shache`: lower-case ASCII letters,
/// digits, `.`, `-` and `_`, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionCode(compact_str::CompactString);

impl RegionCode {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let ok =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_');
        if text.is_empty() || text.len() > 64 || !text.chars().all(ok) {
            return Err(ParseError::new(format!(
                "{text:?} is not a region code: use lower-case letters, digits, '.', '-', '_'"
            )));
        }
        Ok(RegionCode(text.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RegionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kind of a node in the administrative tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RegionKind {
    Country,
    Province,
    Municipality,
    AutonomousRegion,
    SubProvincialCity,
    City,
    Prefecture,
    County,
    CountyLevelCity,
    District,
    /// The Xinjiang Production and Construction Corps as a whole.
    Xpcc,
    XpccDivision,
    Township,
    Village,
}

impl RegionKind {
    pub const ALL: [RegionKind; 14] = [
        RegionKind::Country,
        RegionKind::Province,
        RegionKind::Municipality,
        RegionKind::AutonomousRegion,
        RegionKind::SubProvincialCity,
        RegionKind::City,
        RegionKind::Prefecture,
        RegionKind::County,
        RegionKind::CountyLevelCity,
        RegionKind::District,
        RegionKind::Xpcc,
        RegionKind::XpccDivision,
        RegionKind::Township,
        RegionKind::Village,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RegionKind::Country => "country",
            RegionKind::Province => "province",
            RegionKind::Municipality => "municipality",
            RegionKind::AutonomousRegion => "autonomous_region",
            RegionKind::SubProvincialCity => "sub_provincial_city",
            RegionKind::City => "city",
            RegionKind::Prefecture => "prefecture",
            RegionKind::County => "county",
            RegionKind::CountyLevelCity => "county_level_city",
            RegionKind::District => "district",
            RegionKind::Xpcc => "xpcc",
            RegionKind::XpccDivision => "xpcc_division",
            RegionKind::Township => "township",
            RegionKind::Village => "village",
        }
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        RegionKind::ALL
            .into_iter()
            .find(|k| k.code() == text)
            .ok_or_else(|| {
                let known: Vec<_> = RegionKind::ALL.iter().map(|k| k.code()).collect();
                ParseError::new(format!(
                    "{text:?} is not a region kind: one of {}",
                    known.join(", ")
                ))
            })
    }

    /// County level and below, for the program's "county level and below" share.
    pub fn is_county_level_or_below(self) -> bool {
        matches!(
            self,
            RegionKind::County
                | RegionKind::CountyLevelCity
                | RegionKind::District
                | RegionKind::Township
                | RegionKind::Village
        )
    }

    /// A provincial-level unit (province, municipality, autonomous region).
    pub fn is_provincial(self) -> bool {
        matches!(
            self,
            RegionKind::Province | RegionKind::Municipality | RegionKind::AutonomousRegion
        )
    }
}

/// An administrative division code (GB/T 2260), six digits, where known.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AdminCode(String);

impl AdminCode {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new(format!(
                "{text:?} is not an administrative code: six digits (GB/T 2260)"
            )));
        }
        Ok(AdminCode(text.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub code: RegionCode,
    pub parent: Option<RegionCode>,
    pub kind: RegionKind,
    pub name_en: String,
    pub name_zh: String,
    pub admin_code: Option<AdminCode>,
}

/// A tag on a region, for pairing: an expertise a provider offers, a need a recipient has, or an
/// attribute both can share (`climate:cold`, `special-economic-zone`). Lowercase letters,
/// digits, `-` and `:`, at most 64 characters. A region's tags include its ancestors'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionTag {
    pub region: RegionCode,
    pub tag: String,
    pub provenance: crate::Provenance,
}

impl RegionTag {
    pub fn parse_tag(text: &str) -> Result<String, ParseError> {
        let ok = !text.is_empty()
            && text.len() <= 64
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b':');
        if ok {
            Ok(text.to_string())
        } else {
            Err(ParseError::new(format!(
                "{text:?} is not a tag: 1 to 64 lowercase letters, digits, '-' or ':'"
            )))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("region {child} names parent {parent}, which does not exist")]
    UnknownParent {
        child: RegionCode,
        parent: RegionCode,
    },
    #[error("region {0} is its own ancestor")]
    Cycle(RegionCode),
}

/// The administrative tree. Built once from all regions; answers ancestry questions.
#[derive(Debug, Clone, Default)]
pub struct RegionTree {
    regions: BTreeMap<RegionCode, Region>,
    children: HashMap<RegionCode, Vec<RegionCode>>,
}

impl RegionTree {
    pub fn build(regions: impl IntoIterator<Item = Region>) -> Result<Self, TreeError> {
        let regions: BTreeMap<_, _> = regions.into_iter().map(|r| (r.code.clone(), r)).collect();
        let mut children: HashMap<RegionCode, Vec<RegionCode>> = HashMap::new();
        for region in regions.values() {
            if let Some(parent) = &region.parent {
                if !regions.contains_key(parent) {
                    return Err(TreeError::UnknownParent {
                        child: region.code.clone(),
                        parent: parent.clone(),
                    });
                }
                children
                    .entry(parent.clone())
                    .or_default()
                    .push(region.code.clone());
            }
        }
        let tree = RegionTree { regions, children };
        for code in tree.regions.keys() {
            // A chain longer than the number of regions must loop.
            if tree.ancestors(code).take(tree.regions.len() + 1).count() > tree.regions.len() {
                return Err(TreeError::Cycle(code.clone()));
            }
        }
        Ok(tree)
    }

    pub fn get(&self, code: &RegionCode) -> Option<&Region> {
        self.regions.get(code)
    }

    pub fn contains(&self, code: &RegionCode) -> bool {
        self.regions.contains_key(code)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Region> {
        self.regions.values()
    }

    pub fn children(&self, code: &RegionCode) -> &[RegionCode] {
        self.children.get(code).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The parent, grandparent, … of `code` (not `code` itself).
    pub fn ancestors<'a>(&'a self, code: &RegionCode) -> impl Iterator<Item = &'a Region> + 'a {
        let mut next = self.regions.get(code).and_then(|r| r.parent.clone());
        std::iter::from_fn(move || {
            let region = self.regions.get(next.as_ref()?)?;
            next = region.parent.clone();
            Some(region)
        })
    }

    /// Whether `code` is `area` or lies inside it.
    pub fn is_within(&self, code: &RegionCode, area: &RegionCode) -> bool {
        code == area || self.ancestors(code).any(|a| &a.code == area)
    }

    /// `code` and every region below it.
    pub fn subtree(&self, code: &RegionCode) -> Vec<RegionCode> {
        let mut out = vec![code.clone()];
        let mut i = 0;
        while i < out.len() {
            out.extend(self.children(&out[i]).iter().cloned());
            i += 1;
        }
        out
    }

    /// The nearest ancestor-or-self of the given kind.
    pub fn enclosing(&self, code: &RegionCode, kind: RegionKind) -> Option<&Region> {
        let own = self.regions.get(code).filter(|r| r.kind == kind);
        own.or_else(|| self.ancestors(code).find(|r| r.kind == kind))
    }

    /// Find a region by code, English or Chinese name (case-insensitive for English).
    pub fn find(&self, name: &str) -> Option<&Region> {
        let lower = name.to_lowercase();
        self.regions.values().find(|r| {
            r.code.as_str() == lower || r.name_en.to_lowercase() == lower || r.name_zh == name
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(code: &str, parent: Option<&str>, kind: RegionKind) -> Region {
        Region {
            code: RegionCode::parse(code).unwrap(),
            parent: parent.map(|p| RegionCode::parse(p).unwrap()),
            kind,
            name_en: code.to_uppercase(),
            name_zh: String::new(),
            admin_code: None,
        }
    }

    #[test]
    fn tree_answers_ancestry() {
        let tree = RegionTree::build([
            region("xj", None, RegionKind::AutonomousRegion),
            region("kashgar", Some("xj"), RegionKind::Prefecture),
            region("kashgar.shache", Some("kashgar"), RegionKind::County),
        ])
        .unwrap();
        let shache = RegionCode::parse("kashgar.shache").unwrap();
        let xj = RegionCode::parse("xj").unwrap();
        assert!(tree.is_within(&shache, &xj));
        assert!(!tree.is_within(&xj, &shache));
        assert_eq!(
            tree.enclosing(&shache, RegionKind::Prefecture)
                .unwrap()
                .code
                .as_str(),
            "kashgar"
        );
        assert_eq!(tree.subtree(&xj).len(), 3);
        assert_eq!(tree.find("KASHGAR.SHACHE").unwrap().code, shache);
    }

    #[test]
    fn tree_rejects_unknown_parents_and_cycles() {
        let err = RegionTree::build([region("a", Some("b"), RegionKind::County)]).unwrap_err();
        assert!(matches!(err, TreeError::UnknownParent { .. }));
        let err = RegionTree::build([
            region("a", Some("b"), RegionKind::County),
            region("b", Some("a"), RegionKind::County),
        ])
        .unwrap_err();
        assert!(matches!(err, TreeError::Cycle(_)));
    }

    #[test]
    fn codes_and_kinds_parse_strictly() {
        assert!(RegionCode::parse("Kashgar").is_err());
        assert!(RegionCode::parse("").is_err());
        assert_eq!(
            RegionKind::parse("xpcc_division").unwrap(),
            RegionKind::XpccDivision
        );
        assert!(RegionKind::parse("state").is_err());
        assert!(AdminCode::parse("653100").is_ok());
        assert!(AdminCode::parse("6531").is_err());
    }
}
