//! Targets: a value a recipient's indicator must reach by a date. Observed outcomes are
//! indicator values of recipients (see [`crate::indicator`]).

use crate::indicator::IndicatorKind;
use crate::{Date, Provenance, RecordId, RegionCode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub id: RecordId,
    pub region: RegionCode,
    pub indicator: IndicatorKind,
    /// In the indicator's unit; the target is met when the value is at or below it.
    pub value: i64,
    pub deadline: Date,
    pub provenance: Provenance,
}
