//! What every report reads first: the program frame, the region tree, the statistics.

use super::ReportError;
use counterpart_domain::fact::Fact;
use counterpart_domain::indicator::{IndicatorKind, Statistics};
use counterpart_domain::program::Program;
use counterpart_domain::quota::{Quota, QuotaInputs, quota_for};
use counterpart_domain::records::Records;
use counterpart_domain::region::{Region, RegionTree};
use counterpart_domain::{Provenance, RegionCode, Year};
use counterpart_store::Store;
use std::collections::HashMap;

pub struct Context {
    pub frame: Records,
    pub program: Program,
    pub tree: RegionTree,
    pub stats: Statistics,
    pub facts: HashMap<String, Fact>,
    /// Providers in the order of their codes.
    pub providers: Vec<RegionCode>,
}

impl Context {
    pub async fn load(store: &dyn Store) -> Result<Self, ReportError> {
        let frame = store.frame().await?;
        let program = frame.program.clone().ok_or(ReportError::NoProgram)?;
        let tree = RegionTree::build(frame.regions.clone())
            .map_err(|e| ReportError::Inconsistent(e.to_string()))?;
        let stats = Statistics::new(frame.indicators.iter().cloned());
        let facts = frame
            .facts
            .iter()
            .map(|f| (f.key.clone(), f.clone()))
            .collect();
        let mut providers: Vec<RegionCode> = Vec::new();
        for pair in &frame.pairs {
            if !providers.contains(&pair.provider) {
                providers.push(pair.provider.clone());
            }
        }
        Ok(Context {
            frame,
            program,
            tree,
            stats,
            facts,
            providers,
        })
    }

    pub fn quota(&self, provider: &RegionCode, year: Year) -> Option<Quota> {
        let inputs = QuotaInputs {
            periods: &self.frame.quota_periods,
            rates: &self.frame.provider_rates,
            stats: &self.stats,
            tree: &self.tree,
            providers: &self.providers,
        };
        quota_for(&inputs, provider, year).ok()
    }

    /// Whether the quota inputs of this provider-year include simulated figures.
    pub fn quota_simulated(&self, quota: &Quota) -> bool {
        let rate_simulated = self
            .frame
            .provider_rates
            .iter()
            .any(|r| r.provider == quota.provider && r.provenance.is_simulated());
        let base_simulated = self
            .stats
            .latest(
                &quota.provider,
                IndicatorKind::FiscalRevenue,
                quota.base_year,
            )
            .is_some_and(|v| v.provenance.is_simulated());
        rate_simulated || base_simulated
    }

    pub fn name(&self, code: &RegionCode) -> String {
        self.tree.get(code).map_or_else(
            || code.to_string(),
            |r| format!("{} {}", r.name_en, r.name_zh),
        )
    }

    pub fn fact(&self, key: &str) -> Option<&Fact> {
        self.facts.get(key)
    }

    /// Find a region by code or name, or say which ones come close.
    pub fn find_region(
        &self,
        name: &str,
        what: &'static str,
        allowed: impl Fn(&Region) -> bool,
    ) -> Result<&Region, ReportError> {
        if let Some(region) = self.tree.find(name).filter(|r| allowed(r)) {
            return Ok(region);
        }
        let close: Vec<String> = closest(self.tree.iter().filter(|r| allowed(r)), name)
            .into_iter()
            .take(8)
            .map(|r| format!("{} ({})", r.name_en, r.code))
            .collect();
        let hint = if close.is_empty() {
            "; list them with `counterpart report summary`".to_owned()
        } else {
            format!("; did you mean {}?", close.join(", "))
        };
        Err(ReportError::NotFound {
            what,
            name: name.to_owned(),
            hint,
        })
    }
}

/// The regions a misspelt or partial `name` may mean, closest first: those whose English name,
/// code or Chinese name contains it, then those within a few edits of it (about one in four
/// letters, at least one: "Shangai" finds Shanghai).
fn closest<'r>(regions: impl Iterator<Item = &'r Region>, name: &str) -> Vec<&'r Region> {
    let lower = name.to_lowercase();
    let allowed_edits = (lower.chars().count() / 4).max(1);
    let mut close: Vec<(usize, &Region)> = regions
        .filter_map(|r| {
            let english = r.name_en.to_lowercase();
            if english.contains(&lower)
                || r.code.as_str().contains(&lower)
                || r.name_zh.contains(name)
            {
                return Some((0, r));
            }
            let edits = [english.as_str(), r.code.as_str(), r.name_zh.as_str()]
                .into_iter()
                .map(|candidate| strsim::levenshtein(&lower, candidate))
                .min()?;
            (edits <= allowed_edits).then_some((edits, r))
        })
        .collect();
    close.sort_by_key(|(edits, r)| (*edits, r.code.clone()));
    close.into_iter().map(|(_, r)| r).collect()
}

/// The provenance label of a figure computed from rows, some of which may be simulated.
pub fn computed(simulated: bool) -> String {
    Provenance::Computed {
        simulated_inputs: simulated,
    }
    .label()
}

/// `published: SOURCE [C]` for a fact.
pub fn published(fact: &Fact) -> String {
    Provenance::Published {
        source: fact.source.clone(),
        confidence: fact.confidence,
    }
    .label()
}
