//! Streamed exports: any table as CSV or XLSX, and the whole program as a CSV bundle, read from
//! the store one row at a time so that memory stays flat however many rows there are.

use counterpart_store::Store;
use counterpart_store::{StoreError, TABLES, Table, Value};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use std::io::Write;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0:?} is not a table: one of {1}")]
    UnknownTable(String, String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
}

/// A table by name.
pub fn table(name: &str) -> Result<&'static Table, ExportError> {
    TABLES
        .iter()
        .copied()
        .find(|t| t.name == name)
        .ok_or_else(|| {
            let known: Vec<_> = TABLES.iter().map(|t| t.name).collect();
            ExportError::UnknownTable(name.to_owned(), known.join(", "))
        })
}

/// A cell as CSV text, a formula defused (`formula`).
pub fn text(value: &Value<'_>) -> String {
    match value {
        Value::Int(i) => i.to_string(),
        Value::Text(t) => crate::formula::defuse(t).into_owned(),
        Value::Null => String::new(),
    }
}

/// One table as CSV (header, then every row in key order) into `out`. Returns the rows.
pub async fn table_csv(
    store: &dyn Store,
    table: &'static Table,
    out: impl Write + Send,
) -> Result<u64, ExportError> {
    let mut writer = csv::Writer::from_writer(out);
    let sink_error = csv_sink_error;
    writer
        .write_record(table.columns.iter().map(|c| c.0))
        .map_err(sink_error)?;
    let rows = store
        .stream_rows(table, &mut |row| {
            writer
                .write_record(row.iter().map(text))
                .map_err(sink_error)
        })
        .await?;
    writer
        .flush()
        .map_err(csv::Error::from)
        .map_err(sink_error)?;
    Ok(rows)
}

/// A CSV write that failed: the reader gone (a closed pipe), or another failure.
fn csv_sink_error(e: csv::Error) -> StoreError {
    match e.kind() {
        csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe => {
            StoreError::SinkClosed
        }
        _ => StoreError::Sink(format!("cannot write CSV: {e}")),
    }
}

/// Rows per worksheet: the XLSX limit less the header.
const SHEET_ROWS: u32 = 1_048_575;

/// One table as an XLSX workbook at `path`, written in constant memory; a table longer than a
/// worksheet continues on `NAME (2)`, `NAME (3)`…
pub async fn table_xlsx(
    store: &dyn Store,
    table: &'static Table,
    path: &Path,
) -> Result<u64, ExportError> {
    let write_error = |e: XlsxError| ExportError::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let mut sheets = 0usize;
    let mut row_in_sheet = SHEET_ROWS;
    // Constant-memory sheets stream their rows to a temporary file in order; a new sheet
    // closes the one before.
    let new_sheet = |workbook: &mut Workbook, n: usize| -> Result<(), XlsxError> {
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        let name = if n == 1 {
            table.name.to_owned()
        } else {
            format!("{} ({n})", table.name)
        };
        sheet.set_name(name)?;
        for (i, (column, _)) in table.columns.iter().enumerate() {
            sheet.write_string_with_format(0, i as u16, *column, &bold)?;
        }
        Ok(())
    };
    let sink_error = |e: XlsxError| StoreError::Sink(format!("cannot write XLSX: {e}"));
    let rows = store
        .stream_rows(table, &mut |row| {
            if row_in_sheet == SHEET_ROWS {
                sheets += 1;
                new_sheet(&mut workbook, sheets).map_err(sink_error)?;
                row_in_sheet = 0;
            }
            row_in_sheet += 1;
            let sheet = workbook
                .worksheet_from_index(sheets - 1)
                .map_err(sink_error)?;
            for (i, value) in row.iter().enumerate() {
                match value {
                    // Integers up to 2^53 are exact in a spreadsheet's numbers.
                    Value::Int(n) if n.unsigned_abs() < (1 << 53) => {
                        sheet.write_number(row_in_sheet, i as u16, *n as f64)
                    }
                    Value::Int(n) => sheet.write_string(row_in_sheet, i as u16, n.to_string()),
                    Value::Text(t) => sheet.write_string(row_in_sheet, i as u16, t.as_ref()),
                    Value::Null => continue,
                }
                .map_err(sink_error)?;
            }
            Ok(())
        })
        .await?;
    if sheets == 0 {
        new_sheet(&mut workbook, 1).map_err(write_error)?;
    }
    workbook.save(path).map_err(write_error)?;
    Ok(rows)
}

/// Every table as `<table>.csv` in `dir` (the CSV bundle `import` reads), streamed. Empty tables
/// are left out. Returns the files and rows written.
pub async fn bundle(store: &dyn Store, dir: &Path) -> Result<(usize, u64), ExportError> {
    let write_error = |e: std::io::Error| ExportError::Write {
        path: dir.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(write_error)?;
    let (mut files, mut rows) = (0, 0);
    for table in TABLES {
        let path = dir.join(crate::bundle::file_name(table));
        let file = std::fs::File::create(&path).map_err(write_error)?;
        let n = table_csv(store, table, std::io::BufWriter::new(file)).await?;
        if n == 0 {
            std::fs::remove_file(&path).map_err(write_error)?;
        } else {
            files += 1;
            rows += n;
        }
    }
    Ok((files, rows))
}

/// A report as an XLSX workbook: a worksheet per section (money in yuan, two decimals) and one
/// for the notes, which say what is simulated.
pub fn report_xlsx(report: &crate::report::Report) -> Result<Vec<u8>, ExportError> {
    use crate::report::Cell;
    let fail = |e: XlsxError| ExportError::Write {
        path: "the workbook".into(),
        reason: e.to_string(),
    };
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let yuan = Format::new().set_num_format("#,##0.00");
    for section in &report.sections {
        let sheet = workbook.add_worksheet();
        // Sheet names: at most 31 characters, unique (section keys are).
        sheet
            .set_name(section.key.chars().take(31).collect::<String>())
            .map_err(fail)?;
        for (i, column) in section.columns.iter().enumerate() {
            let label = match column.unit {
                Some("fen") => column.label.to_string(),
                Some(unit) => format!("{} ({unit})", column.label),
                None => column.label.to_string(),
            };
            sheet
                .write_string_with_format(0, i as u16, label, &bold)
                .map_err(fail)?;
        }
        for (r, row) in section.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(t) => sheet.write_string(r, c, t),
                    Cell::Int(i) => sheet.write_number(r, c, *i as f64),
                    Cell::Number(x) => sheet.write_number(r, c, *x),
                    Cell::Money { fen } => {
                        sheet.write_number_with_format(r, c, *fen as f64 / 100.0, &yuan)
                    }
                    Cell::Empty => continue,
                }
                .map_err(fail)?;
            }
        }
    }
    let notes = workbook.add_worksheet();
    notes.set_name("notes").map_err(fail)?;
    notes
        .write_string_with_format(0, 0, &report.title, &bold)
        .map_err(fail)?;
    for (i, note) in report.notes.iter().enumerate() {
        notes.write_string(i as u32 + 1, 0, note).map_err(fail)?;
    }
    workbook.save_to_buffer().map_err(fail)
}
