//! CSV formula injection: a spreadsheet opening a CSV file runs a cell that starts with `=`,
//! `+`, `-` or `@` (or a tab or carriage return before one) as a formula. Every text cell this
//! program writes to CSV goes through [`defuse`], which puts a `'` before such a cell, as the
//! OWASP guidance says; a spreadsheet then shows it as text. [`restore`] undoes exactly that
//! when a CSV bundle is read back, so an exported bundle imports to the same records.
//!
//! The pair is exact for every text: a cell of `k` quotes and then a formula character is
//! written with `k + 1` quotes and read back with `k`; any other cell is left as it is.
//! (XLSX needs none of this: its cells are written as strings, never as formulas.)

use std::borrow::Cow;

const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `text`, past any leading quotes, starts with a character a spreadsheet takes as
/// the start of a formula.
fn armed(text: &str) -> bool {
    text.trim_start_matches('\'').starts_with(TRIGGERS)
}

/// The cell as it is safe to write to CSV.
pub fn defuse(text: &str) -> Cow<'_, str> {
    if armed(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// A CSV cell as it was before [`defuse`].
pub fn restore(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if armed(text) => rest,
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_quoted_and_come_back_as_they_were() {
        for (text, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("'=1", "''=1"),
            ("''-x", "'''-x"),
            ("'two 80%' rule", "'two 80%' rule"),
            ("plain", "plain"),
            ("a=b", "a=b"),
            ("'", "'"),
            ("", ""),
        ] {
            assert_eq!(defuse(text), written, "{text:?}");
            assert_eq!(restore(&defuse(text)), text, "{text:?}");
        }
        // A formula in a file this program did not write is read as it stands.
        assert_eq!(restore("=1"), "=1");
    }
}
