//! Yearly statistics of a region, versioned so that a revised figure keeps the old one.

use crate::{Fen, ParseError, Provenance, RegionCode, Year};
use std::collections::BTreeMap;

/// What an indicator measures. Each kind has one integer unit, so values are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndicatorKind {
    Gdp,
    FiscalRevenue,
    Population,
    RuralPopulation,
    RegisteredPoor,
    PovertyIncidence,
    PerCapitaIncome,
    HospitalBeds,
}

/// The integer unit of an indicator kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Fen,
    People,
    /// Hundredths of a percent: 29.1% is 2910.
    BasisPoints,
    Beds,
}

impl Unit {
    pub fn code(self) -> &'static str {
        match self {
            Unit::Fen => "fen",
            Unit::People => "people",
            Unit::BasisPoints => "basis_points",
            Unit::Beds => "beds",
        }
    }
}

impl IndicatorKind {
    pub const ALL: [IndicatorKind; 8] = [
        IndicatorKind::Gdp,
        IndicatorKind::FiscalRevenue,
        IndicatorKind::Population,
        IndicatorKind::RuralPopulation,
        IndicatorKind::RegisteredPoor,
        IndicatorKind::PovertyIncidence,
        IndicatorKind::PerCapitaIncome,
        IndicatorKind::HospitalBeds,
    ];

    pub fn code(self) -> &'static str {
        match self {
            IndicatorKind::Gdp => "gdp",
            IndicatorKind::FiscalRevenue => "fiscal_revenue",
            IndicatorKind::Population => "population",
            IndicatorKind::RuralPopulation => "rural_population",
            IndicatorKind::RegisteredPoor => "registered_poor",
            IndicatorKind::PovertyIncidence => "poverty_incidence",
            IndicatorKind::PerCapitaIncome => "per_capita_income",
            IndicatorKind::HospitalBeds => "hospital_beds",
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            IndicatorKind::Gdp | IndicatorKind::FiscalRevenue | IndicatorKind::PerCapitaIncome => {
                Unit::Fen
            }
            IndicatorKind::Population
            | IndicatorKind::RuralPopulation
            | IndicatorKind::RegisteredPoor => Unit::People,
            IndicatorKind::PovertyIncidence => Unit::BasisPoints,
            IndicatorKind::HospitalBeds => Unit::Beds,
        }
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        IndicatorKind::ALL
            .into_iter()
            .find(|k| k.code() == text)
            .ok_or_else(|| {
                let known: Vec<_> = IndicatorKind::ALL.iter().map(|k| k.code()).collect();
                ParseError::new(format!(
                    "{text:?} is not an indicator: one of {}",
                    known.join(", ")
                ))
            })
    }

    /// Parse a value written in this kind's unit (`unit` must name it).
    pub fn parse_value(self, value: &str, unit: &str) -> Result<i64, ParseError> {
        if unit != self.unit().code() {
            return Err(ParseError::new(format!(
                "{} is measured in {}, not {unit:?}",
                self.code(),
                self.unit().code()
            )));
        }
        let parsed = value.parse::<i64>().map_err(|_| {
            ParseError::new(format!(
                "{value:?} is not a whole number of {}",
                self.unit().code()
            ))
        })?;
        if parsed < 0 {
            return Err(ParseError::new(format!("{value:?} is negative")));
        }
        Ok(parsed)
    }
}

/// One yearly value of one indicator of one region, in one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorValue {
    pub region: RegionCode,
    pub kind: IndicatorKind,
    pub year: Year,
    /// In the kind's unit.
    pub value: i64,
    /// 1 for the first release; a revision adds a higher version and keeps the old.
    pub version: u32,
    pub provenance: Provenance,
}

impl IndicatorValue {
    pub fn as_fen(&self) -> Option<Fen> {
        (self.kind.unit() == Unit::Fen)
            .then(|| Fen::try_new(self.value).ok())
            .flatten()
    }
}

/// All versions of all indicator values, for lookups by the rules.
#[derive(Debug, Clone, Default)]
pub struct Statistics {
    values: BTreeMap<(RegionCode, IndicatorKind, Year), Vec<IndicatorValue>>,
}

impl Statistics {
    pub fn new(values: impl IntoIterator<Item = IndicatorValue>) -> Self {
        let mut stats = Statistics::default();
        for v in values {
            stats.insert(v);
        }
        stats
    }

    pub fn insert(&mut self, value: IndicatorValue) {
        let versions = self
            .values
            .entry((value.region.clone(), value.kind, value.year))
            .or_default();
        versions.push(value);
        versions.sort_by_key(|v| v.version);
    }

    /// The latest version of a value.
    pub fn latest(
        &self,
        region: &RegionCode,
        kind: IndicatorKind,
        year: Year,
    ) -> Option<&IndicatorValue> {
        self.values.get(&(region.clone(), kind, year))?.last()
    }

    /// A given version of a value.
    pub fn version(
        &self,
        region: &RegionCode,
        kind: IndicatorKind,
        year: Year,
        version: u32,
    ) -> Option<&IndicatorValue> {
        self.values
            .get(&(region.clone(), kind, year))?
            .iter()
            .find(|v| v.version == version)
    }

    /// Every version of a value, oldest first.
    pub fn history(
        &self,
        region: &RegionCode,
        kind: IndicatorKind,
        year: Year,
    ) -> &[IndicatorValue] {
        self.values
            .get(&(region.clone(), kind, year))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The latest values of one indicator of one region, by year.
    pub fn series(&self, region: &RegionCode, kind: IndicatorKind) -> Vec<&IndicatorValue> {
        self.values
            .iter()
            .filter(|((r, k, _), _)| r == region && *k == kind)
            .filter_map(|(_, versions)| versions.last())
            .collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &IndicatorValue> {
        self.values.values().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(year: u16, value: i64, version: u32) -> IndicatorValue {
        IndicatorValue {
            region: RegionCode::parse("beijing").unwrap(),
            kind: IndicatorKind::FiscalRevenue,
            year: Year::new(year).unwrap(),
            value,
            version,
            provenance: Provenance::Simulated,
        }
    }

    #[test]
    fn a_revision_keeps_the_old_version() {
        let stats = Statistics::new([
            value(2009, 200, 1),
            value(2009, 205, 2),
            value(2010, 230, 1),
        ]);
        let beijing = RegionCode::parse("beijing").unwrap();
        let y2009 = Year::new(2009).unwrap();
        assert_eq!(
            stats
                .latest(&beijing, IndicatorKind::FiscalRevenue, y2009)
                .unwrap()
                .value,
            205
        );
        assert_eq!(
            stats
                .version(&beijing, IndicatorKind::FiscalRevenue, y2009, 1)
                .unwrap()
                .value,
            200
        );
        assert_eq!(
            stats
                .history(&beijing, IndicatorKind::FiscalRevenue, y2009)
                .len(),
            2
        );
        assert_eq!(
            stats.series(&beijing, IndicatorKind::FiscalRevenue).len(),
            2
        );
    }

    #[test]
    fn values_must_be_in_the_kinds_unit() {
        assert_eq!(
            IndicatorKind::PovertyIncidence
                .parse_value("2910", "basis_points")
                .unwrap(),
            2910
        );
        assert!(
            IndicatorKind::PovertyIncidence
                .parse_value("29.1", "basis_points")
                .is_err()
        );
        assert!(
            IndicatorKind::FiscalRevenue
                .parse_value("5", "people")
                .is_err()
        );
        assert!(
            IndicatorKind::Population
                .parse_value("-1", "people")
                .is_err()
        );
    }
}
