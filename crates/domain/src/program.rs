//! A program: one pairing-assistance scheme with its years, currency and rules.

use crate::quota::QuotaPeriod;
use crate::{Currency, RecordId, Share, Year};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    pub code: RecordId,
    pub name_en: String,
    pub name_zh: String,
    pub currency: Currency,
    pub first_year: Year,
    pub last_year: Year,
    /// The least share of funds that must go to livelihood categories.
    pub livelihood_share_min: Share,
    /// The least share of funds that must go to county level and below.
    pub county_level_share_min: Share,
    /// Where the thresholds come from.
    pub rules_source: String,
}

impl Program {
    pub fn years(&self) -> impl Iterator<Item = Year> {
        (self.first_year.get()..=self.last_year.get()).filter_map(|y| Year::new(y).ok())
    }

    pub fn contains_year(&self, year: Year) -> bool {
        (self.first_year..=self.last_year).contains(&year)
    }
}

/// The program's rules as one value: the thresholds and the quota periods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub program: Program,
    pub quota_periods: Vec<QuotaPeriod>,
}
