//! Rendering reports as terminal tables, JSON and CSV.

use counterpart_app::report::{Cell, Report, show};
use std::io::Write;
use unicode_width::UnicodeWidthStr;

/// Columns whose long texts are shown as numbered notes under the table, to keep it narrow.
const NOTE_COLUMNS: [&str; 4] = ["provenance", "published_source", "source", "note"];
const NOTE_AFTER_CHARS: usize = 24;

/// The width to fit: the terminal's, else `COLUMNS`, else 160 (a pipe or a file).
fn terminal_width() -> usize {
    comfy_table::Table::new()
        .width()
        .map(usize::from)
        .or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok())
        .unwrap_or(160)
        .max(20)
}

/// `text` in lines of at most `width` columns, the first starting with `first`, the others
/// with `rest`.
fn wrapped(
    out: &mut impl Write,
    text: &str,
    width: usize,
    (first, rest): (&str, &str),
) -> std::io::Result<()> {
    let options = wrap_at(width).initial_indent(first).subsequent_indent(rest);
    for line in textwrap::wrap(text, options) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Lines of at most `width` columns, broken at spaces only (never inside "2020-11-14").
fn wrap_at(width: usize) -> textwrap::Options<'static> {
    textwrap::Options::new(width).word_splitter(textwrap::WordSplitter::NoHyphenation)
}

/// The longest word of `text`, in terminal columns: a column narrower than that would break
/// a word in two ("livelihoo/d").
fn longest_word(text: &str) -> usize {
    text.split_whitespace()
        .map(UnicodeWidthStr::width)
        .max()
        .unwrap_or(0)
}

pub fn table(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    table_in(report, terminal_width(), out)
}

/// The report as tables at most `width` columns wide: columns wrap between words only; a
/// section whose words cannot fit side by side is printed as one block of lines per row.
pub fn table_in(report: &Report, width: usize, out: &mut impl Write) -> std::io::Result<()> {
    wrapped(out, &report.title, width, ("", ""))?;
    writeln!(out, "{}", "=".repeat(report.title.width().min(width)))?;
    for note in &report.notes {
        wrapped(out, note, width, ("", ""))?;
    }
    for section in &report.sections {
        writeln!(out)?;
        wrapped(out, &section.title, width, ("", ""))?;
        // Columns with nothing in them are left out of the table (JSON and CSV keep them).
        let shown: Vec<usize> = (0..section.columns.len())
            .filter(|i| section.rows.iter().any(|r| r[*i] != Cell::Empty))
            .collect();
        let mut notes: Vec<String> = Vec::new();
        let rows: Vec<Vec<String>> = section
            .rows
            .iter()
            .map(|row| {
                shown
                    .iter()
                    .map(|i| {
                        let column = &section.columns[*i];
                        let text = show(&row[*i], column);
                        if !NOTE_COLUMNS.contains(&column.key)
                            || text.chars().count() <= NOTE_AFTER_CHARS
                        {
                            return text;
                        }
                        let n = notes.iter().position(|t| *t == text).unwrap_or_else(|| {
                            notes.push(text.clone());
                            notes.len() - 1
                        });
                        format!("[{}]", n + 1)
                    })
                    .collect()
            })
            .collect();
        let headers: Vec<&str> = shown.iter().map(|i| section.columns[*i].label).collect();
        // Each column at least as wide as its longest word, with a space of padding each side
        // and one between columns; and the two outer borders.
        // A figure ("139.5 m") is never split.
        let least: Vec<usize> = (0..shown.len())
            .map(|c| {
                rows.iter()
                    .zip(&section.rows)
                    .map(|(r, cells)| match cells[shown[c]] {
                        Cell::Text(_) | Cell::Empty => longest_word(&r[c]),
                        _ => r[c].width(),
                    })
                    .chain([longest_word(headers[c])])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let needed: usize = least.iter().map(|w| w + 3).sum::<usize>() + 1;
        if needed > width {
            vertical(&headers, &rows, width, out)?;
        } else {
            let mut table = comfy_table::Table::new();
            table.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
            // The widths are set here, column by column (below): comfy-table only wraps.
            table.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
            table.set_header(headers.iter().copied());
            for row in &rows {
                table.add_row(row);
            }
            let widths = share_out(&least, &rows, &headers, width - needed);
            for (position, i) in shown.iter().enumerate() {
                let Some(c) = table.column_mut(position) else {
                    continue;
                };
                // The width counts the column's padding (a space each side).
                let w = u16::try_from(widths[position] + 2).unwrap_or(u16::MAX);
                c.set_constraint(comfy_table::ColumnConstraint::Absolute(
                    comfy_table::Width::Fixed(w),
                ));
                let numeric = section
                    .rows
                    .iter()
                    .any(|r| matches!(r[*i], Cell::Int(_) | Cell::Number(_) | Cell::Money { .. }));
                if numeric && section.columns[*i].key != "value" {
                    c.set_cell_alignment(comfy_table::CellAlignment::Right);
                }
            }
            writeln!(out, "{table}")?;
        }
        for (i, note) in notes.iter().enumerate() {
            wrapped(out, note, width, (&format!("  [{}] ", i + 1), "      "))?;
        }
    }
    Ok(())
}

/// Each column's width: its longest word, then the room left (`spare`) given to the columns
/// whose texts are longer, the longest first, so that as few cells wrap as can be.
fn share_out(least: &[usize], rows: &[Vec<String>], headers: &[&str], spare: usize) -> Vec<usize> {
    let longest: Vec<usize> = (0..least.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].width())
                .chain([headers[c].width()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut widths = least.to_vec();
    let mut spare = spare;
    let mut order: Vec<usize> = (0..least.len()).collect();
    order.sort_by_key(|&c| std::cmp::Reverse(longest[c] - least[c]));
    for c in order {
        let more = (longest[c] - widths[c]).min(spare);
        widths[c] += more;
        spare -= more;
    }
    widths
}

/// A narrow terminal's layout: each row as a block, its first cell as the heading and every
/// other cell on its own line after its column's label.
fn vertical(
    headers: &[&str],
    rows: &[Vec<String>],
    width: usize,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let label_width = headers.iter().skip(1).map(|h| h.width()).max().unwrap_or(0);
    // Labels wider than half the line get their own line.
    let beside = label_width + 5 <= width / 2;
    for row in rows {
        let Some((first, rest)) = row.split_first() else {
            continue;
        };
        wrapped(
            out,
            &format!("{}: {first}", headers[0]),
            width,
            ("- ", "  "),
        )?;
        for (header, cell) in headers.iter().skip(1).zip(rest) {
            if cell.is_empty() {
                continue;
            }
            if beside {
                let first = format!("    {header}{} ", " ".repeat(label_width - header.width()));
                wrapped(out, cell, width, (&first, &" ".repeat(label_width + 5)))?;
            } else {
                wrapped(out, header, width, ("    ", "    "))?;
                wrapped(out, cell, width, ("      ", "      "))?;
            }
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
