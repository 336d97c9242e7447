//! Where a figure comes from. Every figure a user sees carries one of these.

use crate::ParseError;

/// How sure the reference research is of a published figure (see `shared/reference/README.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Confidence {
    /// Verified in a retrieved source.
    Verified,
    /// Verified only in a secondary or partial source.
    VerifiedSecondary,
    /// From memory, consistent with verified totals.
    Memory,
    /// Low confidence or a rough estimate.
    Low,
}

impl Confidence {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        match text {
            "V" => Ok(Confidence::Verified),
            "V*" => Ok(Confidence::VerifiedSecondary),
            "M" => Ok(Confidence::Memory),
            "L" => Ok(Confidence::Low),
            _ => Err(ParseError::new(format!(
                "{text:?} is not a confidence: write V, V*, M or L"
            ))),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Confidence::Verified => "V",
            Confidence::VerifiedSecondary => "V*",
            Confidence::Memory => "M",
            Confidence::Low => "L",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Confidence::Verified => "verified",
            Confidence::VerifiedSecondary => "verified in a secondary source",
            Confidence::Memory => "from memory",
            Confidence::Low => "low confidence",
        }
    }
}

/// The provenance of a record or a figure.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Provenance {
    /// Copied from a publication.
    Published {
        source: String,
        confidence: Confidence,
    },
    /// Entered by an office of the program.
    Recorded,
    /// Made by the demo generator; never a real record.
    Simulated,
    /// Computed from records; `simulated_inputs` when any record it used is simulated.
    Computed { simulated_inputs: bool },
}

impl Provenance {
    /// The column value used in files and tables: `published`, `recorded`, `simulated`, `computed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Provenance::Published { .. } => "published",
            Provenance::Recorded => "recorded",
            Provenance::Simulated => "simulated",
            Provenance::Computed { .. } => "computed",
        }
    }

    pub fn is_simulated(&self) -> bool {
        matches!(
            self,
            Provenance::Simulated
                | Provenance::Computed {
                    simulated_inputs: true
                }
        )
    }

    /// Parse the `provenance`, `source` and `confidence` columns of a record.
    pub fn parse(kind: &str, source: &str, confidence: &str) -> Result<Self, ParseError> {
        match kind {
            "published" => {
                if source.trim().is_empty() {
                    return Err(ParseError::new("a published figure needs its source"));
                }
                Ok(Provenance::Published {
                    source: source.to_owned(),
                    confidence: Confidence::parse(confidence)?,
                })
            }
            "recorded" => Ok(Provenance::Recorded),
            "simulated" => Ok(Provenance::Simulated),
            _ => Err(ParseError::new(format!(
                "{kind:?} is not a record provenance: write published, recorded or simulated"
            ))),
        }
    }

    /// The computed provenance of a figure made from these records.
    pub fn computed_from<'a>(inputs: impl IntoIterator<Item = &'a Provenance>) -> Provenance {
        let simulated_inputs = inputs.into_iter().any(Provenance::is_simulated);
        Provenance::Computed { simulated_inputs }
    }

    /// A short label for tables: `published: SOURCE [V]`, `computed from simulated records`.
    pub fn label(&self) -> String {
        match self {
            Provenance::Published { source, confidence } => {
                format!("published: {source} [{}]", confidence.code())
            }
            Provenance::Recorded => "recorded".to_owned(),
            Provenance::Simulated => "simulated".to_owned(),
            Provenance::Computed {
                simulated_inputs: true,
            } => "computed from simulated records".to_owned(),
            Provenance::Computed {
                simulated_inputs: false,
            } => "computed from records".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_needs_a_source_and_a_confidence() {
        assert!(Provenance::parse("published", "", "V").is_err());
        assert!(Provenance::parse("published", "NBS", "X").is_err());
        let p = Provenance::parse("published", "NBS", "V*").unwrap();
        assert_eq!(p.label(), "published: NBS [V*]");
        assert!(Provenance::parse("guessed", "", "").is_err());
    }

    #[test]
    fn computed_figures_inherit_simulation() {
        let real = [Provenance::Recorded, Provenance::Recorded];
        assert!(!Provenance::computed_from(&real).is_simulated());
        let mixed = [Provenance::Recorded, Provenance::Simulated];
        let computed = Provenance::computed_from(&mixed);
        assert!(computed.is_simulated());
        assert_eq!(computed.label(), "computed from simulated records");
    }
}
