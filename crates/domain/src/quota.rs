//! The quota rule: what a provider owes in a year.
//!
//! `quota(p, y) = rate_p × base_p × (1 + growth)^k`, where `base_p` is the provider's indicator
//! (fiscal revenue) in the period's base year, net of sub-providers counted on their own
//! (Shenzhen inside Guangdong), and `k = min(y − first_year, growth_years)`.
//! The Xinjiang rule: rate 0.3–0.6% of fiscal revenue, +8% a year in the first five years.

use crate::indicator::{IndicatorKind, Statistics};
use crate::region::RegionTree;
use crate::{Fen, ParseError, Provenance, RegionCode, Share, Year};

/// Which year's indicator a quota is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaBase {
    /// One fixed base year for the whole period (Xinjiang: 2009).
    FixedYear(Year),
    /// The year before the quota year (Wenchuan: 1% of the previous year's revenue).
    PreviousYear,
}

impl QuotaBase {
    /// An empty text means the previous year.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        if text.is_empty() || text == "previous" {
            Ok(QuotaBase::PreviousYear)
        } else {
            Ok(QuotaBase::FixedYear(Year::parse(text)?))
        }
    }

    pub fn year_for(self, quota_year: Year) -> Year {
        match self {
            QuotaBase::FixedYear(y) => y,
            QuotaBase::PreviousYear => {
                Year::new(quota_year.get().saturating_sub(1)).unwrap_or(quota_year)
            }
        }
    }
}

/// One period of a quota rule (e.g. the 12th five-year plan, 2011–2015).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaPeriod {
    pub first_year: Year,
    pub last_year: Year,
    pub indicator: IndicatorKind,
    pub base: QuotaBase,
    /// Yearly growth, compounded.
    pub growth: Share,
    /// Growth applies in the first `growth_years` years after the first; then the quota is flat.
    pub growth_years: u16,
    /// The band a provider's rate must lie in.
    pub rate_min: Share,
    pub rate_max: Share,
    pub provenance: Provenance,
}

/// A provider's rate in one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRate {
    pub provider: RegionCode,
    pub period_first_year: Year,
    pub rate: Share,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaError {
    #[error("{year} lies in no quota period of the program")]
    NoPeriod { year: Year },
    #[error("{provider} has no rate for the period starting {period}")]
    NoRate { provider: RegionCode, period: Year },
    #[error("rate {rate} of {provider} lies outside the band {min}–{max}")]
    RateOutOfBand {
        provider: RegionCode,
        rate: String,
        min: String,
        max: String,
    },
    #[error("{provider} has no {indicator} for {year}: the quota base is missing")]
    MissingBase {
        provider: RegionCode,
        indicator: &'static str,
        year: Year,
    },
    #[error("quota of {provider} for {year} overflows")]
    Overflow { provider: RegionCode, year: Year },
}

/// A quota with what it was computed from, so that it can be explained and recomputed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    pub provider: RegionCode,
    pub year: Year,
    pub amount: Fen,
    pub base: Fen,
    pub base_year: Year,
    /// The indicator versions the base was read from (the provider's, then its sub-providers').
    pub base_versions: Vec<u32>,
    pub rate: Share,
    pub growth_steps: u16,
}

impl QuotaPeriod {
    pub fn contains(&self, year: Year) -> bool {
        (self.first_year..=self.last_year).contains(&year)
    }

    /// The quota for `year` from a base amount: `base × rate × (1 + growth)^k`, half-up to the fen.
    pub fn amount(&self, base: Fen, rate: Share, year: Year) -> Option<(Fen, u16)> {
        let steps = self
            .first_year
            .until(year)
            .clamp(0, i32::from(self.growth_years)) as u16;
        let (g_num, g_den) = (u128::from(self.growth.num()), u128::from(self.growth.den()));
        let mut num = u128::try_from(base.get())
            .ok()?
            .checked_mul(u128::from(rate.num()))?;
        let mut den = u128::from(rate.den());
        for _ in 0..steps {
            num = num.checked_mul(g_den + g_num)?;
            den = den.checked_mul(g_den)?;
        }
        let rounded = num.checked_mul(2)?.checked_add(den)? / den.checked_mul(2)?;
        Some((Fen::try_new(i64::try_from(rounded).ok()?).ok()?, steps))
    }
}

/// Everything the quota rule reads.
pub struct QuotaInputs<'a> {
    pub periods: &'a [QuotaPeriod],
    pub rates: &'a [ProviderRate],
    pub stats: &'a Statistics,
    pub tree: &'a RegionTree,
    /// All providers of the program: a sub-provider's base is deducted from its parent's.
    pub providers: &'a [RegionCode],
}

/// The quota of one provider in one year, from the latest statistics.
pub fn quota_for(
    inputs: &QuotaInputs<'_>,
    provider: &RegionCode,
    year: Year,
) -> Result<Quota, QuotaError> {
    let period = inputs
        .periods
        .iter()
        .find(|p| p.contains(year))
        .ok_or(QuotaError::NoPeriod { year })?;
    let rate = inputs
        .rates
        .iter()
        .find(|r| &r.provider == provider && r.period_first_year == period.first_year)
        .ok_or_else(|| QuotaError::NoRate {
            provider: provider.clone(),
            period: period.first_year,
        })?
        .rate;
    if rate < period.rate_min || rate > period.rate_max {
        return Err(QuotaError::RateOutOfBand {
            provider: provider.clone(),
            rate: rate.percent(3),
            min: period.rate_min.percent(3),
            max: period.rate_max.percent(3),
        });
    }
    let base_year = period.base.year_for(year);
    let (base, base_versions) = quota_base(inputs, provider, period.indicator, base_year)?;
    let (amount, growth_steps) =
        period
            .amount(base, rate, year)
            .ok_or_else(|| QuotaError::Overflow {
                provider: provider.clone(),
                year,
            })?;
    Ok(Quota {
        provider: provider.clone(),
        year,
        amount,
        base,
        base_year,
        base_versions,
        rate,
        growth_steps,
    })
}

/// The provider's indicator net of the sub-providers inside it that are providers themselves.
fn quota_base(
    inputs: &QuotaInputs<'_>,
    provider: &RegionCode,
    indicator: IndicatorKind,
    year: Year,
) -> Result<(Fen, Vec<u32>), QuotaError> {
    let read = |region: &RegionCode| {
        inputs
            .stats
            .latest(region, indicator, year)
            .ok_or_else(|| QuotaError::MissingBase {
                provider: region.clone(),
                indicator: indicator.code(),
                year,
            })
    };
    let own = read(provider)?;
    let mut base = own.value;
    let mut versions = vec![own.version];
    for sub in inputs
        .providers
        .iter()
        .filter(|p| *p != provider && inputs.tree.is_within(p, provider))
    {
        let value = read(sub)?;
        base -= value.value;
        versions.push(value.version);
    }
    Ok((Fen::new(base.max(0)), versions))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicator::IndicatorValue;
    use crate::region::{Region, RegionKind};

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }
    fn year(y: u16) -> Year {
        Year::new(y).unwrap()
    }

    fn xinjiang_period() -> QuotaPeriod {
        QuotaPeriod {
            first_year: year(2011),
            last_year: year(2015),
            indicator: IndicatorKind::FiscalRevenue,
            base: QuotaBase::FixedYear(year(2009)),
            growth: Share::parse("8%").unwrap(),
            growth_years: 4,
            rate_min: Share::parse("0.3%").unwrap(),
            rate_max: Share::parse("0.6%").unwrap(),
            provenance: Provenance::Simulated,
        }
    }

    fn revenue(region: &str, fen: i64, version: u32) -> IndicatorValue {
        IndicatorValue {
            region: code(region),
            kind: IndicatorKind::FiscalRevenue,
            year: year(2009),
            value: fen,
            version,
            provenance: Provenance::Simulated,
        }
    }

    fn region(c: &str, parent: Option<&str>) -> Region {
        Region {
            code: code(c),
            parent: parent.map(code),
            kind: RegionKind::Province,
            name_en: c.into(),
            name_zh: String::new(),
            admin_code: None,
        }
    }

    #[test]
    fn grows_eight_percent_a_year_exactly() {
        let period = xinjiang_period();
        let base = Fen::from_yuan(200_000_000_000);
        let rate = Share::parse("0.6%").unwrap();
        assert_eq!(
            period.amount(base, rate, year(2011)).unwrap(),
            (Fen::from_yuan(1_200_000_000), 0)
        );
        // 1.2 bn × 1.08² = 1.39968 bn
        assert_eq!(
            period.amount(base, rate, year(2013)).unwrap(),
            (Fen::from_yuan(1_399_680_000), 2)
        );
        // growth stops after growth_years: 2015 and a later year in the period are the same
        let mut longer = period.clone();
        longer.last_year = year(2020);
        assert_eq!(
            longer.amount(base, rate, year(2020)),
            longer.amount(base, rate, year(2015))
        );
    }

    #[test]
    fn nets_out_sub_providers_and_follows_revisions() {
        let periods = [xinjiang_period()];
        let rates = ["guangdong", "shenzhen"].map(|p| ProviderRate {
            provider: code(p),
            period_first_year: year(2011),
            rate: Share::parse("0.5%").unwrap(),
            provenance: Provenance::Simulated,
        });
        let tree = RegionTree::build([
            region("guangdong", None),
            region("shenzhen", Some("guangdong")),
        ])
        .unwrap();
        let mut stats = Statistics::new([
            revenue("guangdong", Fen::from_yuan(300_000_000_000).get(), 1),
            revenue("shenzhen", Fen::from_yuan(100_000_000_000).get(), 1),
        ]);
        let providers = [code("guangdong"), code("shenzhen")];
        let inputs = QuotaInputs {
            periods: &periods,
            rates: &rates,
            stats: &stats,
            tree: &tree,
            providers: &providers,
        };
        let gd = quota_for(&inputs, &code("guangdong"), year(2011)).unwrap();
        assert_eq!(gd.base, Fen::from_yuan(200_000_000_000));
        assert_eq!(gd.amount, Fen::from_yuan(1_000_000_000));
        assert_eq!(gd.base_versions, vec![1, 1]);

        // A revised statistic recomputes the quota; the old version stays readable.
        stats.insert(revenue(
            "guangdong",
            Fen::from_yuan(320_000_000_000).get(),
            2,
        ));
        let inputs = QuotaInputs {
            periods: &periods,
            rates: &rates,
            stats: &stats,
            tree: &tree,
            providers: &providers,
        };
        let revised = quota_for(&inputs, &code("guangdong"), year(2011)).unwrap();
        assert_eq!(revised.amount, Fen::from_yuan(1_100_000_000));
        assert_eq!(revised.base_versions, vec![2, 1]);
    }

    #[test]
    fn refuses_rates_outside_the_band_and_missing_bases() {
        let periods = [xinjiang_period()];
        let tree = RegionTree::build([region("beijing", None)]).unwrap();
        let stats = Statistics::default();
        let providers = [code("beijing")];
        let mut rates = vec![ProviderRate {
            provider: code("beijing"),
            period_first_year: year(2011),
            rate: Share::parse("0.7%").unwrap(),
            provenance: Provenance::Simulated,
        }];
        let inputs = QuotaInputs {
            periods: &periods,
            rates: &rates,
            stats: &stats,
            tree: &tree,
            providers: &providers,
        };
        assert!(matches!(
            quota_for(&inputs, &code("beijing"), year(2012)),
            Err(QuotaError::RateOutOfBand { .. })
        ));
        assert!(matches!(
            quota_for(&inputs, &code("beijing"), year(2010)),
            Err(QuotaError::NoPeriod { .. })
        ));
        rates[0].rate = Share::parse("0.4%").unwrap();
        let inputs = QuotaInputs {
            periods: &periods,
            rates: &rates,
            stats: &stats,
            tree: &tree,
            providers: &providers,
        };
        assert!(matches!(
            quota_for(&inputs, &code("beijing"), year(2012)),
            Err(QuotaError::MissingBase { .. })
        ));
    }

    #[test]
    fn previous_year_base_for_wenchuan() {
        assert_eq!(
            QuotaBase::parse("").unwrap().year_for(year(2009)),
            year(2008)
        );
        assert_eq!(
            QuotaBase::parse("2009").unwrap().year_for(year(2014)),
            year(2009)
        );
    }
}
