//! Reports: the program summary, a provider's scorecard, a recipient's page, the annual
//! assessment by pair. Each is a list of
//! sections (tables) whose cells are numbers or text; every section carries a provenance column
//! or a provenance per row. The CLI renders them as tables, JSON or CSV; JSON keeps numbers as
//! numbers and money as exact fen.

mod assessment;
mod compliance;
mod context;
mod provider;
mod recipient;
mod summary;

pub use assessment::assessment;
pub use compliance::compliance;
pub use context::{Context, computed as computed_label};
pub use provider::provider;
pub use recipient::{recipient, target_series};
pub use summary::summary;

use counterpart_domain::records::Records;
use counterpart_domain::{Fen, Share};
use counterpart_store::{Store, StoreError, Table, decode_row};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the database holds no program yet: run `counterpart demo` or `counterpart import DIR`"
    )]
    NoProgram,
    #[error("no {what} is called {name:?}{hint}")]
    NotFound {
        what: &'static str,
        name: String,
        hint: String,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("the program's data is inconsistent: {0}")]
    Inconsistent(String),
}

/// One cell of a report table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A ratio or a measure, e.g. a percentage with its unit in the column.
    Number(f64),
    /// Exact money: `{"fen": 1234}` in JSON.
    Money {
        fen: i64,
    },
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    pub fn money(f: Fen) -> Cell {
        Cell::Money { fen: f.get() }
    }
    /// A signed sum of money (a balance), in fen.
    pub fn signed_money(fen: i64) -> Cell {
        Cell::Money { fen }
    }
    pub fn count(n: u64) -> Cell {
        Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
    /// A share as a percentage rounded to 0.01.
    pub fn percent(s: Share) -> Cell {
        Cell::number(s.to_f64() * 100.0, 2)
    }
    pub fn number(x: f64, decimals: i32) -> Cell {
        let scale = 10f64.powi(decimals);
        // Adding zero turns a rounded -0.0 into 0.0.
        Cell::Number((x * scale).round() / scale + 0.0)
    }
    pub fn opt(cell: Option<Cell>) -> Cell {
        cell.unwrap_or(Cell::Empty)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub key: &'static str,
    pub label: &'static str,
    /// The unit of every number in the column (`fen`, `percent`, `people`…), if one.
    pub unit: Option<&'static str>,
    /// Money shown to the fen (a ledger's amounts), not rounded to m or bn yuan.
    #[serde(skip)]
    pub exact: bool,
}

pub const fn col(key: &'static str, label: &'static str, unit: Option<&'static str>) -> Column {
    Column {
        key,
        label,
        unit,
        exact: false,
    }
}

/// A column of money shown to the fen, as a ledger shows it.
pub const fn exact_money(key: &'static str, label: &'static str) -> Column {
    Column {
        key,
        label,
        unit: Some("fen"),
        exact: true,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub key: &'static str,
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl Section {
    pub fn new(key: &'static str, title: impl Into<String>, columns: Vec<Column>) -> Self {
        Section {
            key,
            title: title.into(),
            columns,
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        assert_eq!(
            row.len(),
            self.columns.len(),
            "a row of section {} has the wrong width",
            self.key
        );
        self.rows.push(row);
    }

    /// The cell in the first row whose first cell is `label`, in column `key` (for tests and
    /// for callers that pick one figure).
    pub fn find(&self, label: &str, key: &str) -> Option<&Cell> {
        let column = self.columns.iter().position(|c| c.key == key)?;
        let row = self
            .rows
            .iter()
            .find(|r| matches!(&r[0], Cell::Text(t) if t == label))?;
        row.get(column)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub report: &'static str,
    pub title: String,
    pub program: String,
    /// Lines a reader should see first: what is simulated, what a column means.
    pub notes: Vec<String>,
    pub sections: Vec<Section>,
}

impl Report {
    pub fn section(&self, key: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.key == key)
    }
}

/// A cell as people read it in English: money in bn or m yuan (to the fen in an exact column),
/// counts with thousands separators, percentages with their sign. [`crate::lang::Voice::show`]
/// says it in Chinese.
pub fn show(cell: &Cell, column: &Column) -> String {
    crate::lang::Voice::english().show(cell, column)
}

/// A report as one tidy CSV table: a line per cell, with the section, the row's label and the
/// column; money in fen.
pub fn write_csv(report: &Report, out: impl std::io::Write) -> std::io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["section", "row", "column", "value", "unit"])?;
    for section in &report.sections {
        for row in &section.rows {
            let label = row
                .first()
                .map(|c| show(c, &section.columns[0]))
                .unwrap_or_default();
            for (cell, column) in row.iter().zip(&section.columns).skip(1) {
                let (value, unit) = match cell {
                    Cell::Money { fen } => (fen.to_string(), "fen"),
                    Cell::Int(i) => (i.to_string(), column.unit.unwrap_or("")),
                    Cell::Number(x) => (x.to_string(), column.unit.unwrap_or("")),
                    // Numbers are written as numbers; only text can hold a formula.
                    Cell::Text(t) => (crate::formula::defuse(t).into_owned(), ""),
                    Cell::Empty => continue,
                };
                writer.write_record([
                    section.key,
                    &crate::formula::defuse(&label),
                    column.key,
                    value.as_str(),
                    unit,
                ])?;
            }
        }
    }
    writer.flush()
}

/// Read one table's rows into `records`, naming the first row that does not decode.
pub(crate) async fn read_table(
    store: &dyn Store,
    table: &'static Table,
    records: &mut Records,
) -> Result<(), ReportError> {
    let mut failed = None;
    store
        .stream_rows(table, &mut |row| {
            if let Err(e) = decode_row(records, table, row) {
                failed.get_or_insert(e);
            }
            Ok(())
        })
        .await?;
    match failed {
        None => Ok(()),
        Some(e) => Err(ReportError::Store(StoreError::Corrupt {
            table: table.name,
            detail: format!("column {}: {}", e.column, e.reason),
        })),
    }
}
