//! Projects and the money movements that fund them.

use crate::{Currency, Date, Fen, ParseError, Provenance, RecordId, RegionCode, Year};

/// The broad purpose of a category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CategoryGroup {
    Livelihood,
    Industry,
    Infrastructure,
    Exchange,
    Other,
}

impl CategoryGroup {
    pub fn code(self) -> &'static str {
        match self {
            CategoryGroup::Livelihood => "livelihood",
            CategoryGroup::Industry => "industry",
            CategoryGroup::Infrastructure => "infrastructure",
            CategoryGroup::Exchange => "exchange",
            CategoryGroup::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    Housing,
    Education,
    Health,
    Employment,
    PovertyAlleviation,
    FactoriesParks,
    Ecommerce,
    Infrastructure,
    Exchange,
    Other,
}

impl Category {
    pub const ALL: [Category; 10] = [
        Category::Housing,
        Category::Education,
        Category::Health,
        Category::Employment,
        Category::PovertyAlleviation,
        Category::FactoriesParks,
        Category::Ecommerce,
        Category::Infrastructure,
        Category::Exchange,
        Category::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Category::Housing => "housing",
            Category::Education => "education",
            Category::Health => "health",
            Category::Employment => "employment",
            Category::PovertyAlleviation => "poverty_alleviation",
            Category::FactoriesParks => "factories_parks",
            Category::Ecommerce => "ecommerce",
            Category::Infrastructure => "infrastructure",
            Category::Exchange => "exchange",
            Category::Other => "other",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Category::Housing => "housing",
            Category::Education => "education",
            Category::Health => "health",
            Category::Employment => "employment",
            Category::PovertyAlleviation => "poverty alleviation",
            Category::FactoriesParks => "factories and parks",
            Category::Ecommerce => "e-commerce and sales channels",
            Category::Infrastructure => "infrastructure",
            Category::Exchange => "exchange",
            Category::Other => "other",
        }
    }

    pub fn group(self) -> CategoryGroup {
        match self {
            Category::Housing
            | Category::Education
            | Category::Health
            | Category::Employment
            | Category::PovertyAlleviation => CategoryGroup::Livelihood,
            Category::FactoriesParks | Category::Ecommerce => CategoryGroup::Industry,
            Category::Infrastructure => CategoryGroup::Infrastructure,
            Category::Exchange => CategoryGroup::Exchange,
            Category::Other => CategoryGroup::Other,
        }
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        Category::ALL
            .into_iter()
            .find(|c| c.code() == text)
            .ok_or_else(|| {
                let known: Vec<_> = Category::ALL.iter().map(|c| c.code()).collect();
                ParseError::new(format!(
                    "{text:?} is not a category: one of {}",
                    known.join(", ")
                ))
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProjectStatus {
    Planned,
    Approved,
    UnderConstruction,
    Completed,
    HandedOver,
    InOperation,
    Cancelled,
}

impl ProjectStatus {
    pub const ALL: [ProjectStatus; 7] = [
        ProjectStatus::Planned,
        ProjectStatus::Approved,
        ProjectStatus::UnderConstruction,
        ProjectStatus::Completed,
        ProjectStatus::HandedOver,
        ProjectStatus::InOperation,
        ProjectStatus::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ProjectStatus::Planned => "planned",
            ProjectStatus::Approved => "approved",
            ProjectStatus::UnderConstruction => "under_construction",
            ProjectStatus::Completed => "completed",
            ProjectStatus::HandedOver => "handed_over",
            ProjectStatus::InOperation => "in_operation",
            ProjectStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        ProjectStatus::ALL
            .into_iter()
            .find(|s| s.code() == text)
            .ok_or_else(|| {
                let known: Vec<_> = ProjectStatus::ALL.iter().map(|s| s.code()).collect();
                ParseError::new(format!(
                    "{text:?} is not a project status: one of {}",
                    known.join(", ")
                ))
            })
    }

    /// The step that may follow this one: a project goes through its life in order, one step
    /// at a time, and may be cancelled until it is completed.
    pub fn may_go_to(self, next: ProjectStatus) -> Result<(), String> {
        use ProjectStatus::*;
        let following = match self {
            Planned => Some(Approved),
            Approved => Some(UnderConstruction),
            UnderConstruction => Some(Completed),
            Completed => Some(HandedOver),
            HandedOver => Some(InOperation),
            InOperation | Cancelled => None,
        };
        let cancellable = matches!(self, Planned | Approved | UnderConstruction);
        if Some(next) == following || (next == Cancelled && cancellable) {
            return Ok(());
        }
        Err(match following {
            Some(f) => format!(
                "a project {} goes to {}{} next, not {}",
                self.code(),
                f.code(),
                if cancellable { " or cancelled" } else { "" },
                next.code()
            ),
            None => format!("a project {} takes no further step", self.code()),
        })
    }

    /// Work has begun (for the "projects started" check).
    pub fn is_started(self) -> bool {
        !matches!(
            self,
            ProjectStatus::Planned | ProjectStatus::Approved | ProjectStatus::Cancelled
        )
    }
}

/// What a project delivers, in countable units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outputs {
    pub housing_units: u64,
    pub school_places: u64,
    pub hospital_beds: u64,
    pub jobs: u64,
    pub people_trained: u64,
    /// People the project serves (households' members housed, pupils, patients, workers…).
    pub beneficiaries: u64,
}

impl std::ops::AddAssign for Outputs {
    fn add_assign(&mut self, o: Outputs) {
        self.housing_units += o.housing_units;
        self.school_places += o.school_places;
        self.hospital_beds += o.hospital_beds;
        self.jobs += o.jobs;
        self.people_trained += o.people_trained;
        self.beneficiaries += o.beneficiaries;
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: RecordId,
    pub provider: RegionCode,
    pub recipient: RegionCode,
    pub category: Category,
    pub status: ProjectStatus,
    pub title_en: String,
    pub title_zh: String,
    /// The year the project was approved and its funds committed.
    pub year: Year,
    pub budget: Fen,
    pub outputs: Outputs,
    pub provenance: Provenance,
}

/// A dated step in the life of a project: the day it was approved, construction began, it was
/// completed, handed over, in operation (or cancelled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectStep {
    pub project: RecordId,
    pub status: ProjectStatus,
    pub date: Date,
    pub provenance: Provenance,
}

/// The kind of a money movement. The full ledger (accounts, two-phase transfers) builds on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TransferKind {
    Commit,
    Disburse,
    Spend,
    Decommit,
    Reclassify,
    Reversal,
    Adjustment,
}

impl TransferKind {
    pub const ALL: [TransferKind; 7] = [
        TransferKind::Commit,
        TransferKind::Disburse,
        TransferKind::Spend,
        TransferKind::Decommit,
        TransferKind::Reclassify,
        TransferKind::Reversal,
        TransferKind::Adjustment,
    ];

    pub fn code(self) -> &'static str {
        match self {
            TransferKind::Commit => "commit",
            TransferKind::Disburse => "disburse",
            TransferKind::Spend => "spend",
            TransferKind::Decommit => "decommit",
            TransferKind::Reclassify => "reclassify",
            TransferKind::Reversal => "reversal",
            TransferKind::Adjustment => "adjustment",
        }
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        TransferKind::ALL
            .into_iter()
            .find(|k| k.code() == text)
            .ok_or_else(|| {
                let known: Vec<_> = TransferKind::ALL.iter().map(|k| k.code()).collect();
                ParseError::new(format!(
                    "{text:?} is not a transfer kind: one of {}",
                    known.join(", ")
                ))
            })
    }
}

/// One immutable money movement of a project. Never updated or deleted: a correction is a new
/// transfer whose `corrects` names the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub id: RecordId,
    pub project: RecordId,
    pub kind: TransferKind,
    pub amount: Fen,
    pub currency: Currency,
    pub value_date: Date,
    pub corrects: Option<RecordId>,
    /// At once, or reserved now and posted or voided later.
    pub phase: crate::ledger::Phase,
    pub provenance: Provenance,
}

#[cfg(test)]
mod tests {
    use super::ProjectStatus::*;

    #[test]
    fn a_project_goes_through_its_life_in_order() {
        let life = [
            Planned,
            Approved,
            UnderConstruction,
            Completed,
            HandedOver,
            InOperation,
        ];
        for w in life.windows(2) {
            assert_eq!(w[0].may_go_to(w[1]), Ok(()), "{:?} → {:?}", w[0], w[1]);
            assert!(w[1].may_go_to(w[0]).is_err(), "no step back");
        }
        // No skipping, no repeating.
        assert!(
            Approved
                .may_go_to(Completed)
                .unwrap_err()
                .contains("under_construction")
        );
        assert!(Approved.may_go_to(Approved).is_err());
        // Cancelled until completed, and nothing after.
        for s in [Planned, Approved, UnderConstruction] {
            assert_eq!(s.may_go_to(Cancelled), Ok(()));
        }
        for s in [Completed, HandedOver, InOperation, Cancelled] {
            assert!(s.may_go_to(Cancelled).is_err(), "{s:?}");
        }
        assert!(
            InOperation
                .may_go_to(Planned)
                .unwrap_err()
                .contains("no further step")
        );
        assert!(Cancelled.may_go_to(Approved).is_err());
    }
}
