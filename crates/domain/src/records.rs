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
    /// replaces this one's). A kind this one has none of takes `other`'s list as it is, without
    /// copying it: a bundle's parts are merged this way, a million transfers at a time.
    pub fn append(&mut self, mut other: Records) {
        if other.program.is_some() {
            self.program = other.program.take();
        }
        move_all(&mut self.quota_periods, &mut other.quota_periods);
        move_all(&mut self.provider_rates, &mut other.provider_rates);
        move_all(&mut self.regions, &mut other.regions);
        move_all(&mut self.region_tags, &mut other.region_tags);
        move_all(&mut self.pairs, &mut other.pairs);
        move_all(&mut self.indicators, &mut other.indicators);
        move_all(&mut self.facts, &mut other.facts);
        move_all(&mut self.projects, &mut other.projects);
        move_all(&mut self.transfers, &mut other.transfers);
        move_all(&mut self.people, &mut other.people);
        move_all(&mut self.posts, &mut other.posts);
        move_all(&mut self.postings, &mut other.postings);
        move_all(&mut self.targets, &mut other.targets);
        move_all(&mut self.purchases, &mut other.purchases);
        move_all(&mut self.exchanges, &mut other.exchanges);
        move_all(&mut self.project_steps, &mut other.project_steps);
        move_all(&mut self.institution_pairs, &mut other.institution_pairs);
        move_all(&mut self.trainings, &mut other.trainings);
    }
}

/// Move the items of `from` to the end of `to`: by taking `from`'s allocation when `to` is
/// empty, else by copying them.
fn move_all<T>(to: &mut Vec<T>, from: &mut Vec<T>) {
    if to.is_empty() {
        std::mem::swap(to, from);
    } else {
        to.append(from);
    }
}
