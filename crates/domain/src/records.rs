//! All records of one program, as plain data: what a bundle holds and what a store loads.

use crate::fact::Fact;
use crate::indicator::IndicatorValue;
use crate::outcome::Target;
use crate::pair::Pair;
use crate::people::{InstitutionPair, Person, Post, Posting, Training};
use crate::program::Program;
use crate::project::{Project, ProjectStep, Transfer};
use crate::quota::{ProviderRate, QuotaPeriod};
use crate::region::{Region, RegionTag};
use crate::trade::{Exchange, Purchase};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Records {
    pub program: Option<Program>,
    pub quota_periods: Vec<QuotaPeriod>,
    pub provider_rates: Vec<ProviderRate>,
    pub regions: Vec<Region>,
    pub region_tags: Vec<RegionTag>,
    pub pairs: Vec<Pair>,
    pub indicators: Vec<IndicatorValue>,
    pub facts: Vec<Fact>,
    pub projects: Vec<Project>,
    pub transfers: Vec<Transfer>,
    pub people: Vec<Person>,
    pub posts: Vec<Post>,
    pub postings: Vec<Posting>,
    pub targets: Vec<Target>,
    pub purchases: Vec<Purchase>,
    pub exchanges: Vec<Exchange>,
    pub project_steps: Vec<ProjectStep>,
    pub institution_pairs: Vec<InstitutionPair>,
    pub trainings: Vec<Training>,
}

impl Records {
    /// The number of records of every kind, for progress and summaries.
    pub fn len(&self) -> usize {
        usize::from(self.program.is_some())
            + self.quota_periods.len()
            + self.provider_rates.len()
            + self.regions.len()
            + self.region_tags.len()
            + self.pairs.len()
            + self.indicators.len()
            + self.facts.len()
            + self.projects.len()
            + self.transfers.len()
            + self.people.len()
            + self.posts.len()
            + self.postings.len()
            + self.targets.len()
            + self.purchases.len()
            + self.exchanges.len()
            + self.project_steps.len()
            + self.institution_pairs.len()
            + self.trainings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Move every record of `other` to the end of this one's (its program, if it has one,
    /// replaces this one's).
    pub fn append(&mut self, mut other: Records) {
        if other.program.is_some() {
            self.program = other.program.take();
        }
        self.quota_periods.append(&mut other.quota_periods);
        self.provider_rates.append(&mut other.provider_rates);
        self.regions.append(&mut other.regions);
        self.region_tags.append(&mut other.region_tags);
        self.pairs.append(&mut other.pairs);
        self.indicators.append(&mut other.indicators);
        self.facts.append(&mut other.facts);
        self.projects.append(&mut other.projects);
        self.transfers.append(&mut other.transfers);
        self.people.append(&mut other.people);
        self.posts.append(&mut other.posts);
        self.postings.append(&mut other.postings);
        self.targets.append(&mut other.targets);
        self.purchases.append(&mut other.purchases);
        self.exchanges.append(&mut other.exchanges);
        self.project_steps.append(&mut other.project_steps);
        self.institution_pairs.append(&mut other.institution_pairs);
        self.trainings.append(&mut other.trainings);
    }
}
