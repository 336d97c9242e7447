//! Compliance of a provider-year with the program's rules: quota against money, the livelihood
//! and county-level shares against their thresholds, the "two 100%" checks (all committed funds
//! delivered, all projects started), and an early warning when the year-to-date pace projects a
//! shortfall. Pure functions of sums the store has already made.

use crate::{Date, Fen, Share};

/// The money and projects of one provider in one year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Books {
    pub committed: Fen,
    pub disbursed: Fen,
    pub spent: Fen,
    /// Disbursed to livelihood categories.
    pub livelihood: Fen,
    /// Disbursed to recipients at county level and below.
    pub county_level: Fen,
    pub projects: u64,
    pub projects_started: u64,
}

impl std::ops::AddAssign for Books {
    fn add_assign(&mut self, o: Books) {
        self.committed += o.committed;
        self.disbursed += o.disbursed;
        self.spent += o.spent;
        self.livelihood += o.livelihood;
        self.county_level += o.county_level;
        self.projects += o.projects;
        self.projects_started += o.projects_started;
    }
}

/// The thresholds a provider-year is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub livelihood_share_min: Share,
    pub county_level_share_min: Share,
}

/// Something a provider-year falls short of. Each has one stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Finding {
    /// Less disbursed than the quota.
    Arrears,
    LivelihoodBelowThreshold,
    CountyLevelBelowThreshold,
    /// "Two 100%", part 1: not every committed yuan was delivered.
    FundsNotAllDelivered,
    /// "Two 100%", part 2: not every project was started.
    ProjectsNotAllStarted,
    /// The year-to-date pace projects less than the quota.
    PaceShortfall,
}

impl Finding {
    pub fn code(self) -> &'static str {
        match self {
            Finding::Arrears => "arrears",
            Finding::LivelihoodBelowThreshold => "livelihood_below_threshold",
            Finding::CountyLevelBelowThreshold => "county_level_below_threshold",
            Finding::FundsNotAllDelivered => "funds_not_all_delivered",
            Finding::ProjectsNotAllStarted => "projects_not_all_started",
            Finding::PaceShortfall => "pace_shortfall",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compliance {
    pub quota: Option<Fen>,
    /// Disbursed over quota.
    pub delivered_of_quota: Option<Share>,
    /// What the quota still wants: quota − disbursed, never below zero.
    pub arrears: Fen,
    pub livelihood_share: Share,
    pub county_level_share: Share,
    /// Disbursed over committed (the "funds delivered" 100% check).
    pub funds_delivered: Share,
    /// Started over all projects (the "projects started" 100% check).
    pub projects_started: Share,
    pub findings: Vec<Finding>,
}

impl Compliance {
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Hold one provider-year's books to the program's policy.
pub fn compliance(books: &Books, quota: Option<Fen>, policy: &Policy) -> Compliance {
    let arrears = quota.map_or(Fen::ZERO, |q| q.saturating_sub(books.disbursed));
    let livelihood_share = Share::of_parts(books.livelihood, books.disbursed);
    let county_level_share = Share::of_parts(books.county_level, books.disbursed);
    let funds_delivered = if books.committed == Fen::ZERO {
        Share::ONE
    } else {
        Share::of_parts(books.disbursed, books.committed)
    };
    let projects_started = if books.projects == 0 {
        Share::ONE
    } else {
        Share::new(books.projects_started, books.projects).unwrap_or(Share::ONE)
    };
    let has_money = books.disbursed > Fen::ZERO;
    let mut findings = Vec::new();
    if arrears > Fen::ZERO {
        findings.push(Finding::Arrears);
    }
    if has_money && livelihood_share < policy.livelihood_share_min {
        findings.push(Finding::LivelihoodBelowThreshold);
    }
    if has_money && county_level_share < policy.county_level_share_min {
        findings.push(Finding::CountyLevelBelowThreshold);
    }
    if funds_delivered < Share::ONE {
        findings.push(Finding::FundsNotAllDelivered);
    }
    if projects_started < Share::ONE {
        findings.push(Finding::ProjectsNotAllStarted);
    }
    Compliance {
        quota,
        delivered_of_quota: quota
            .filter(|q| *q > Fen::ZERO)
            .map(|q| Share::of_parts(books.disbursed, q)),
        arrears,
        livelihood_share,
        county_level_share,
        funds_delivered,
        projects_started,
        findings,
    }
}

/// What the year-to-date pace projects for the whole year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    pub as_of: Date,
    pub disbursed_to_date: Fen,
    /// `disbursed_to_date` scaled from the days elapsed to the whole year.
    pub projected: Fen,
    pub shortfall: Fen,
}

/// Project the year from what was disbursed by `as_of` (inclusive), at the same daily pace.
/// `Some` with a positive shortfall is an early warning.
pub fn pace(quota: Fen, disbursed_to_date: Fen, as_of: Date) -> Pace {
    let elapsed = i128::from(as_of.day_of_year());
    let days = i128::from(as_of.days_in_year());
    let projected = Fen::new((i128::from(disbursed_to_date.get()) * days / elapsed) as i64);
    Pace {
        as_of,
        disbursed_to_date,
        projected,
        shortfall: quota.saturating_sub(projected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            livelihood_share_min: Share::parse("70%").unwrap(),
            county_level_share_min: Share::parse("80%").unwrap(),
        }
    }

    fn books(
        committed: i64,
        disbursed: i64,
        livelihood: i64,
        county: i64,
        projects: u64,
        started: u64,
    ) -> Books {
        Books {
            committed: Fen::new(committed),
            disbursed: Fen::new(disbursed),
            spent: Fen::ZERO,
            livelihood: Fen::new(livelihood),
            county_level: Fen::new(county),
            projects,
            projects_started: started,
        }
    }

    #[test]
    fn a_clean_year_has_no_findings() {
        let c = compliance(
            &books(100, 100, 75, 85, 4, 4),
            Some(Fen::new(100)),
            &policy(),
        );
        assert!(c.is_clean(), "{c:?}");
        assert_eq!(c.delivered_of_quota, Some(Share::ONE));
        assert_eq!(c.arrears, Fen::ZERO);
    }

    #[test]
    fn each_shortfall_has_its_finding() {
        let c = compliance(
            &books(120, 90, 60, 70, 5, 4),
            Some(Fen::new(100)),
            &policy(),
        );
        assert_eq!(
            c.findings,
            vec![
                Finding::Arrears,
                Finding::LivelihoodBelowThreshold,
                Finding::CountyLevelBelowThreshold,
                Finding::FundsNotAllDelivered,
                Finding::ProjectsNotAllStarted,
            ]
        );
        assert_eq!(c.arrears, Fen::new(10));
        assert_eq!(c.funds_delivered, Share::new(3, 4).unwrap());
        assert_eq!(c.projects_started, Share::new(4, 5).unwrap());
    }

    #[test]
    fn thresholds_are_exact_at_the_boundary() {
        // 70 of 100 is exactly 70%: it meets the threshold; 69.99% does not.
        assert!(compliance(&books(100, 100, 70, 80, 1, 1), None, &policy()).is_clean());
        let just_below = compliance(&books(10_000, 10_000, 6_999, 8_000, 1, 1), None, &policy());
        assert_eq!(just_below.findings, vec![Finding::LivelihoodBelowThreshold]);
    }

    #[test]
    fn no_quota_means_no_arrears_and_an_empty_year_is_clean() {
        let c = compliance(&Books::default(), None, &policy());
        assert!(c.is_clean());
        assert_eq!(c.delivered_of_quota, None);
    }

    #[test]
    fn pace_projects_the_year_from_the_days_elapsed() {
        let as_of: Date = "2019-07-02".parse().unwrap(); // day 183 of 365
        let p = pace(Fen::new(1_000_000), Fen::new(400_000), as_of);
        assert_eq!(p.projected, Fen::new(400_000 * 365 / 183));
        assert_eq!(p.shortfall, Fen::new(1_000_000 - 400_000 * 365 / 183));
        let on_track = pace(Fen::new(1_000_000), Fen::new(600_000), as_of);
        assert_eq!(on_track.shortfall, Fen::ZERO);
        let last_day = pace(Fen::new(100), Fen::new(100), "2020-12-31".parse().unwrap());
        assert_eq!(
            last_day.projected,
            Fen::new(100),
            "on the last day the projection is what was disbursed"
        );
    }
}
