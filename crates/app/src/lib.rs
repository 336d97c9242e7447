//! Counterpart's use cases, each written once and called by the CLI and the web app alike:
//! import a CSV bundle, generate the demo program, export, and compute the reports.
//!
//! Architecture Invariant: every use case parses its input with `domain` types, decides with
//! `domain` rules, and writes through one `Store` call that is one transaction. Neither the CLI
//! nor the web app holds a business rule.
//!
//! Architecture Invariant: every figure a report returns carries its provenance.

pub mod access;
pub mod annual;
pub mod audit;
pub mod bundle;
pub mod demo;
pub mod export;
pub mod formula;
pub mod iati;
pub mod import;
pub mod lang;
pub mod ledger;
pub mod pair;
pub mod place;
pub mod publish;
pub mod report;
pub mod solve;
pub mod validate;
pub mod write;

pub use bundle::{Bundle, Problem, Problems};
