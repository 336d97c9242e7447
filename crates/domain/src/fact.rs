//! Published facts: headline figures copied from publications, with source and confidence.

use crate::Confidence;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    /// A dotted key such as `xj.funds.total_2010_2019`.
    pub key: String,
    /// As published; a number for most facts, a name or a date for some.
    pub value: String,
    pub unit: String,
    pub period: String,
    pub confidence: Confidence,
    pub source: String,
    pub note: String,
}

impl Fact {
    /// The value as a number, when it is one.
    pub fn number(&self) -> Option<f64> {
        self.value.parse().ok()
    }
}
