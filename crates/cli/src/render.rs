//! Rendering reports as terminal tables, JSON and CSV.

use counterpart_app::report::{Cell, Report, show};
use std::io::Write;

/// Columns whose long texts are shown as numbered notes under the table, to keep it narrow.
const NOTE_COLUMNS: [&str; 4] = ["provenance", "published_source", "source", "note"];
const NOTE_AFTER_CHARS: usize = 24;

pub fn table(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "{}", report.title)?;
    writeln!(out, "{}", "=".repeat(report.title.chars().count()))?;
    for note in &report.notes {
        writeln!(out, "{note}")?;
    }
    for section in &report.sections {
        writeln!(out, "\n{}", section.title)?;
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
        table.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
        if comfy_table::Table::new().width().is_none() {
            table.set_width(160);
        }
        // Columns with nothing in them are left out of the table (JSON and CSV keep them).
        let shown: Vec<usize> = (0..section.columns.len())
            .filter(|i| section.rows.iter().any(|r| r[*i] != Cell::Empty))
            .collect();
        table.set_header(shown.iter().map(|i| section.columns[*i].label));
        let mut notes: Vec<String> = Vec::new();
        for row in &section.rows {
            table.add_row(shown.iter().map(|i| {
                let column = &section.columns[*i];
                let text = show(&row[*i], column);
                if !NOTE_COLUMNS.contains(&column.key) || text.chars().count() <= NOTE_AFTER_CHARS {
                    return text;
                }
                let n = notes.iter().position(|t| *t == text).unwrap_or_else(|| {
                    notes.push(text.clone());
                    notes.len() - 1
                });
                format!("[{}]", n + 1)
            }));
        }
        for (position, i) in shown.iter().enumerate() {
            let numeric = section
                .rows
                .iter()
                .any(|r| matches!(r[*i], Cell::Int(_) | Cell::Number(_) | Cell::Money { .. }));
            if numeric
                && section.columns[*i].key != "value"
                && let Some(c) = table.column_mut(position)
            {
                c.set_cell_alignment(comfy_table::CellAlignment::Right);
            }
        }
        writeln!(out, "{table}")?;
        for (i, note) in notes.iter().enumerate() {
            writeln!(out, "  [{}] {note}", i + 1)?;
        }
    }
    Ok(())
}

pub fn json(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// One tidy table: a line per cell, with the section, the row's label and the column.
pub fn csv(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    counterpart_app::report::write_csv(report, out)
}
