//! CSV bundles: one `<table>.csv` per table of the program model, with a header row naming the
//! columns. Reading reports every bad row with file, line, column and reason.

use counterpart_domain::Fen;
use counterpart_domain::ledger::Fast;
use counterpart_domain::records::Records;
use counterpart_store::{ColumnType, Keys, TABLES, Table, Value, decode_row, encode};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

/// The longest line a bundle may hold. Longer lines are refused before they are parsed.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// How many problems an import reports before it stops looking.
pub const MAX_PROBLEMS: usize = 200;

/// One thing wrong with a bundle, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &self.column {
            // A CSV file has columns; an XML file (IATI) has elements and attributes.
            let what = if self.file.ends_with(".xml") {
                "element"
            } else {
                "column"
            };
            write!(f, ": {what} {column}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Everything wrong with a bundle. Nothing is written while there is any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(
        &mut self,
        file: &str,
        line: Option<u64>,
        column: Option<&str>,
        message: impl Into<String>,
    ) {
        if self.0.len() < MAX_PROBLEMS {
            self.0.push(Problem {
                file: file.to_owned(),
                line,
                column: column.map(str::to_owned),
                message: message.into(),
            });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.0.len() >= MAX_PROBLEMS
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let more = if self.is_full() {
            " (stopped looking after this many)"
        } else {
            ""
        };
        writeln!(
            f,
            "{} problem(s) found{more}; nothing was written:",
            self.0.len()
        )?;
        for p in &self.0 {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Records read from a bundle, with the line each came from.
#[derive(Debug, Default)]
pub struct Bundle {
    pub records: Records,
    /// For each table, the line of each of its records, in record order.
    pub lines: HashMap<&'static str, Vec<u64>>,
}

impl Bundle {
    /// The file and line of the `index`-th record of `table`.
    pub fn line_of(&self, table: &str, index: usize) -> Option<u64> {
        self.lines.get(table).and_then(|l| l.get(index)).copied()
    }
}

pub fn file_name(table: &Table) -> String {
    format!("{}.csv", table.name)
}

/// Read every `<table>.csv` in `dir`. A missing file means no records of that table; a file
/// that names no table is refused. `existing` holds the keys already in the database, so a
/// duplicate of a stored record is reported too.
pub fn read_dir(dir: &Path, existing: &Keys) -> Result<Bundle, Problems> {
    let mut problems = Problems::default();
    let shown = dir.display().to_string();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(
                &shown,
                None,
                None,
                format!("cannot read the bundle directory: {e}"),
            );
            return Err(problems);
        }
    };
    let mut files = HashMap::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".csv") {
            continue;
        }
        match TABLES.iter().find(|t| file_name(t) == name) {
            // A link could make an import read a file outside the bundle (another office's
            // export, a system file): only regular files are read.
            Some(_) if !entry.file_type().is_ok_and(|t| t.is_file()) => {
                let what = match entry.file_type() {
                    Ok(t) if t.is_symlink() => "a symbolic link",
                    Ok(t) if t.is_dir() => "a directory",
                    _ => "not a regular file",
                };
                problems.push(
                    &name,
                    None,
                    None,
                    format!("refused: {what}; a bundle's files must be regular files"),
                );
            }
            Some(table) => {
                files.insert(table.name, entry.path());
            }
            None => {
                let known: Vec<_> = TABLES.iter().map(|t| file_name(t)).collect();
                problems.push(
                    &name,
                    None,
                    None,
                    format!("unknown file: a bundle holds {}", known.join(", ")),
                );
            }
        }
    }
    if files.is_empty() && problems.is_empty() {
        problems.push(
            &shown,
            None,
            None,
            "no bundle files here: expected program.csv, regions.csv, …",
        );
    }
    let mut sources = Vec::new();
    for table in TABLES {
        if let Some(path) = files.get(table.name) {
            match std::fs::read(path) {
                Ok(bytes) => sources.push((table, bytes)),
                Err(e) => problems.push(&file_name(table), None, None, format!("cannot read: {e}")),
            }
        }
    }
    let bundle = parse_sources(
        sources.iter().map(|(t, b)| (*t, b.as_slice())),
        existing,
        &mut problems,
    );
    if problems.is_empty() {
        Ok(bundle)
    } else {
        Err(problems)
    }
}

/// Parse the CSV text of several tables (parents first) into one bundle. Tables parse side
/// by side, each on a thread of its own (a bulk import's projects and transfers take seconds
/// each); their records and problems are put together in the order given.
pub fn parse_sources<'a>(
    sources: impl IntoIterator<Item = (&'static Table, &'a [u8])>,
    existing: &Keys,
    problems: &mut Problems,
) -> Bundle {
    let parsed: Vec<(Bundle, Problems)> = std::thread::scope(|scope| {
        let threads: Vec<_> = sources
            .into_iter()
            .map(|(table, bytes)| {
                scope.spawn(move || {
                    let (mut bundle, mut problems) = (Bundle::default(), Problems::default());
                    parse_table(table, bytes, existing, &mut bundle, &mut problems);
                    (bundle, problems)
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut bundle = Bundle::default();
    for (part, found) in parsed {
        bundle.records.append(part.records);
        bundle.lines.extend(part.lines);
        for p in found.0 {
            problems.push(&p.file, p.line, p.column.as_deref(), p.message);
        }
    }
    bundle
}

/// Where a byte offset lies: (line, column), both from 1.
fn position(bytes: &[u8], offset: usize) -> (u64, u64) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    let column = before.iter().rev().take_while(|b| **b != b'\n').count() as u64 + 1;
    (line, column)
}

/// Refuse what is not CSV text before parsing: binary content, bad UTF-8, over-long lines.
/// Gives the text and its number of lines.
fn check_text<'b>(
    file: &str,
    bytes: &'b [u8],
    problems: &mut Problems,
) -> Option<(&'b str, usize)> {
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        let (line, _) = position(bytes, at);
        problems.push(
            file,
            Some(line),
            None,
            "this is not a CSV text file: it holds binary data (a NUL byte)",
        );
        return None;
    }
    let mut lines = 0;
    for (i, chunk) in bytes.split(|b| *b == b'\n').enumerate() {
        lines = i + 1;
        if chunk.len() > MAX_LINE_BYTES {
            problems.push(
                file,
                Some(i as u64 + 1),
                None,
                format!(
                    "line is {} bytes long; the limit is {MAX_LINE_BYTES} bytes",
                    chunk.len()
                ),
            );
            return None;
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Some((text.strip_prefix('\u{feff}').unwrap_or(text), lines)),
        Err(e) => {
            let (line, column) = position(bytes, e.valid_up_to());
            problems.push(
                file,
                Some(line),
                None,
                format!("byte {column} of this line is not UTF-8: save the file as UTF-8"),
            );
            None
        }
    }
}

/// Where each of the table's columns is in the file's header, or `None` (with the problems
/// said) when a column is unknown, repeated or missing. An optional column left out is at
/// `usize::MAX`.
fn column_positions(
    table: &'static Table,
    file: &str,
    header: &csv::StringRecord,
    problems: &mut Problems,
) -> Option<Vec<usize>> {
    let expected: Vec<_> = table.columns.iter().map(|c| c.0).collect();
    let mut positions = vec![usize::MAX; expected.len()];
    let mut header_ok = true;
    for (i, name) in header.iter().enumerate() {
        match table.column_index(name) {
            Some(c) if positions[c] == usize::MAX => positions[c] = i,
            Some(_) => {
                problems.push(
                    file,
                    Some(1),
                    Some(name),
                    "column appears twice in the header",
                );
                header_ok = false;
            }
            None => {
                problems.push(
                    file,
                    Some(1),
                    Some(name),
                    format!("unknown column: {file} has {}", expected.join(",")),
                );
                header_ok = false;
            }
        }
    }
    for (c, p) in positions.iter().enumerate() {
        let optional = counterpart_store::OPTIONAL_COLUMNS.contains(&(table.name, expected[c]));
        if *p == usize::MAX && !optional {
            problems.push(
                file,
                Some(1),
                Some(expected[c]),
                "missing column in the header",
            );
            header_ok = false;
        }
    }
    header_ok.then_some(positions)
}

fn parse_table(
    table: &'static Table,
    bytes: &[u8],
    existing: &Keys,
    bundle: &mut Bundle,
    problems: &mut Problems,
) {
    let file = file_name(table);
    let Some((text, lines_in_file)) = check_text(&file, bytes, problems) else {
        return;
    };
    let expected: Vec<_> = table.columns.iter().map(|c| c.0).collect();
    if text.trim().is_empty() {
        problems.push(
            &file,
            Some(1),
            None,
            format!(
                "the file is empty: its first line must be the header {}",
                expected.join(",")
            ),
        );
        return;
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.push(&file, Some(1), None, format!("cannot read the header: {e}"));
            return;
        }
    };
    let Some(positions) = column_positions(table, &file, &header, problems) else {
        return;
    };
    // Room for every row's key at once (growing the set a million keys long was a fifth of
    // the read phase in a profile), hashed with the ledger's fast hasher.
    let mut seen: HashSet<String, Fast> =
        HashSet::with_capacity_and_hasher(lines_in_file, Fast::default());
    let stored = existing.get(table.name);
    let lines = bundle.lines.entry(table.name).or_default();
    for result in reader.records() {
        if problems.is_full() {
            return;
        }
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line());
                problems.push(&file, line, None, format!("not valid CSV: {e}"));
                return;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != header.len() {
            problems.push(
                &file,
                Some(line),
                None,
                format!(
                    "{} fields, but the header has {} columns",
                    record.len(),
                    header.len()
                ),
            );
            continue;
        }
        let mut values = Vec::with_capacity(expected.len());
        let mut row_ok = true;
        for (c, (name, ty)) in table.columns.iter().enumerate() {
            // A column added after the table was first published may be left out: empty.
            let text = record.get(positions[c]).unwrap_or("");
            match cell(name, *ty, text) {
                Ok(v) => values.push(v),
                Err(message) => {
                    problems.push(&file, Some(line), Some(name), message);
                    row_ok = false;
                }
            }
        }
        if !row_ok {
            continue;
        }
        let key = table.key_of(&values);
        if seen.contains(&key) {
            problems.push(
                &file,
                Some(line),
                Some(table.key[0]),
                format!(
                    "duplicate {}: {key} appears earlier in this file",
                    table.key.join("+")
                ),
            );
            continue;
        }
        if stored.is_some_and(|s| s.contains(&key)) {
            problems.push(
                &file,
                Some(line),
                Some(table.key[0]),
                format!(
                    "duplicate {}: {key} is already in the database",
                    table.key.join("+")
                ),
            );
            seen.insert(key);
            continue;
        }
        seen.insert(key);
        match decode_row(&mut bundle.records, table, &values) {
            Ok(()) => lines.push(line),
            Err(e) => problems.push(&file, Some(line), Some(e.column), e.reason),
        }
    }
}

/// One CSV field as a cell of its column's type; text borrows the field.
fn cell<'r>(name: &str, ty: ColumnType, text: &'r str) -> Result<Value<'r>, String> {
    if text.is_empty() {
        return Ok(Value::Null);
    }
    match ty {
        ColumnType::Text => Ok(Value::Text(crate::formula::restore(text).into())),
        ColumnType::Int if name.ends_with("_fen") => Fen::parse_amount(text)
            .map(|f| Value::Int(f.get()))
            .map_err(|e| e.to_string()),
        ColumnType::Int => text
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| format!("{text:?} is not a whole number")),
    }
}

/// Write every table of `records` as `<table>.csv` in `dir` (created if missing).
pub fn write_dir(records: &Records, dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let mut files = 0;
    for (table, rows) in encode(records) {
        if rows.is_empty() {
            continue;
        }
        let mut writer = csv::Writer::from_path(dir.join(file_name(table)))?;
        writer.write_record(table.columns.iter().map(|c| c.0))?;
        for row in rows {
            writer.write_record(row.iter().map(crate::export::text))?;
        }
        writer.flush()?;
        files += 1;
    }
    Ok(files)
}
