//! English and Simplified Chinese for everything people read: report titles, notes, column
//! labels, coded values (`under_construction`, `livelihood`, `simulated`), region and program
//! names, and money (English in yuan with separators, m and bn; Chinese in 万 and 亿).
//!
//! Reports are built in English. [`Voice::text`] turns any of their texts into Chinese through
//! one catalog of templates ([`catalog`]): numbers and region names in a text are holes (`{}`,
//! or `{1}` where Chinese puts them in another order), so "Assessment 2019, by pair" and
//! "Assessment 2018, by pair" share one entry, and a region's English name becomes its Chinese
//! one wherever it stands. A text the catalog lacks keeps its words but gets its names in
//! Chinese; [`untranslated`] finds what is left in Latin letters, and the tests fail on it.

mod catalog;

use crate::report::{Cell, Column};
use counterpart_domain::program::Program;
use counterpart_domain::region::RegionTree;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-Hans",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Zh,
            Lang::Zh => Lang::En,
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "zh" | "zh-Hans" | "zh-CN" => Some(Lang::Zh),
            _ => None,
        }
    }
}

/// The names a text may carry, English and Chinese: every region of the program and the
/// program itself. Longest English name first, so "Aksu City" wins over "Aksu".
#[derive(Debug, Clone, Default)]
pub struct Names {
    names: Vec<(String, String)>,
    /// Index into `names` by the first byte of the English name.
    by_first: HashMap<u8, Vec<usize>>,
    /// Region codes (`shanghai`, `kashgar.shache-county`) to Chinese names.
    codes: HashMap<String, String>,
}

impl Names {
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Names {
        let mut names: Vec<(String, String)> = pairs
            .into_iter()
            .filter(|(en, zh)| !en.is_empty() && !zh.is_empty())
            .map(|(en, zh)| (en.to_owned(), zh.to_owned()))
            .collect();
        names.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        names.dedup_by(|a, b| a.0 == b.0);
        let mut by_first: HashMap<u8, Vec<usize>> = HashMap::new();
        for (i, (en, _)) in names.iter().enumerate() {
            by_first.entry(en.as_bytes()[0]).or_default().push(i);
        }
        Names {
            names,
            by_first,
            codes: HashMap::new(),
        }
    }

    /// The regions of `tree` and the program's name.
    pub fn of(tree: &RegionTree, program: Option<&Program>) -> Names {
        let regions = tree
            .iter()
            .map(|r| (r.name_en.as_str(), r.name_zh.as_str()));
        let program = program.map(|p| (p.name_en.as_str(), p.name_zh.as_str()));
        let mut names = Names::new(regions.chain(program));
        names.codes = tree
            .iter()
            .map(|r| (r.code.as_str().to_owned(), r.name_zh.clone()))
            .collect();
        names
    }

    /// Every English name, for the check of untranslated words.
    pub fn english(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|(en, _)| en.as_str())
    }

    /// The name starting at byte `at` of `text` (at a word boundary): its length and Chinese.
    fn at<'a>(&'a self, text: &str, at: usize) -> Option<(usize, &'a str)> {
        let rest = &text[at..];
        let first = *rest.as_bytes().first()?;
        for &i in self.by_first.get(&first)? {
            let (en, zh) = &self.names[i];
            if rest.starts_with(en.as_str()) && !word_byte(rest.as_bytes().get(en.len())) {
                return Some((en.len(), zh.as_str()));
            }
        }
        None
    }
}

fn word_byte(b: Option<&u8>) -> bool {
    b.is_some_and(|b| b.is_ascii_alphanumeric())
}

/// A language and the names to speak it with.
#[derive(Debug, Clone, Copy)]
pub struct Voice<'a> {
    pub lang: Lang,
    names: &'a Names,
}

static NO_NAMES: OnceLock<Names> = OnceLock::new();

impl<'a> Voice<'a> {
    pub fn new(lang: Lang, names: &'a Names) -> Voice<'a> {
        Voice { lang, names }
    }

    /// English, with no names to translate.
    pub fn english() -> Voice<'static> {
        Voice {
            lang: Lang::En,
            names: NO_NAMES.get_or_init(Names::default),
        }
    }

    /// `en` in this language.
    pub fn text<'t>(&self, en: &'t str) -> Cow<'t, str> {
        match self.lang {
            Lang::En => Cow::Borrowed(en),
            Lang::Zh => Cow::Owned(to_chinese(en, self.names)),
        }
    }

    /// Money rounded for reading: `18.812 bn`, `250.4 m`, `12,346` in English; `188.12亿`,
    /// `2,504.00万`, `12,346` in Chinese.
    pub fn money(&self, fen: i64) -> String {
        let yuan = fen as f64 / 100.0;
        match self.lang {
            Lang::En if yuan.abs() >= 1e9 => format!("{:.3} bn", yuan / 1e9),
            Lang::En if yuan.abs() >= 1e6 => format!("{:.1} m", yuan / 1e6),
            Lang::Zh if yuan.abs() >= 1e8 => format!("{:.2}亿", yuan / 1e8),
            Lang::Zh if yuan.abs() >= 1e4 => format!("{:.2}万", yuan / 1e4),
            // Below a million (or 万) yuan: whole yuan with separators, half a yuan up.
            _ => grouped((fen + fen.signum() * 50) / 100),
        }
    }

    /// A report cell as people read it, in this language.
    pub fn show(&self, cell: &Cell, column: &Column) -> String {
        match cell {
            Cell::Text(t) => self.text(t).into_owned(),
            Cell::Int(i) if year_like(column.key) => i.to_string(),
            Cell::Int(i) => grouped(*i),
            Cell::Number(x) if column.unit == Some("percent") => format!("{x}%"),
            Cell::Number(x) => number(*x),
            Cell::Money { fen } if column.exact => counterpart_domain::money::signed_yuan(*fen),
            Cell::Money { fen } => self.money(*fen),
            Cell::Empty => String::new(),
        }
    }
}

/// A cell as a page shows it: what every reader reads, and the record's own words (a source's
/// citation, a note as recorded) one click away, in the language they were recorded in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub text: String,
    /// The words of the record, not translated: a publication's citation, a recorded note.
    pub quoted: Option<String>,
}

/// The columns whose text quotes the records: citations and notes as recorded.
fn quotes_records(key: &str) -> bool {
    matches!(key, "note" | "published_source" | "source")
}

impl Voice<'_> {
    /// A cell for a page: provenance as a short label ("published [V]") with its citation
    /// quoted; a recorded note said in this language where the catalog knows it, else quoted.
    pub fn shown(&self, cell: &Cell, column: &Column) -> Shown {
        let Cell::Text(text) = cell else {
            return Shown {
                text: self.show(cell, column),
                quoted: None,
            };
        };
        let citation = text
            .strip_prefix("published: ")
            .or_else(|| (column.key == "published_source").then_some(text.as_str()));
        if let Some(citation) = citation
            && matches!(column.key, "provenance" | "published_source" | "source")
        {
            // "Xinjiang government work report Jan 2020 (Xinhua reprint…) [V] (xj.funds…)":
            // the label keeps the confidence, the citation keeps everything.
            let confidence = citation
                .rfind('[')
                .and_then(|i| citation[i + 1..].split(']').next())
                .map(|c| c.trim_start_matches("weakest ").to_owned());
            let label = match confidence {
                Some(c) => format!("{} [{c}]", self.text("published")),
                None => self.text("published").into_owned(),
            };
            return Shown {
                text: label,
                quoted: Some(citation.to_owned()),
            };
        }
        let said = self.show(cell, column);
        if quotes_records(column.key)
            && self.lang == Lang::Zh
            && !untranslated(&said, self.names).is_empty()
        {
            return Shown {
                text: String::new(),
                quoted: Some(text.clone()),
            };
        }
        Shown {
            text: said,
            quoted: None,
        }
    }
}

/// Columns of years and ids, whose integers take no thousands separator.
fn year_like(key: &str) -> bool {
    key == "year"
        || key == "since"
        || key == "round"
        || key.ends_with("_year")
        || key.starts_with("year_")
        || key.ends_with("id")
}

/// An integer with thousands separators.
pub fn grouped(n: i64) -> String {
    let digits = counterpart_domain::money::grouped(n.unsigned_abs());
    if n < 0 { format!("-{digits}") } else { digits }
}

/// A measure with separators in its whole part: `21,372.21`.
fn number(x: f64) -> String {
    let text = x.to_string();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let Ok(whole) = whole.parse::<i64>() else {
        return text;
    };
    let sign = if x < 0.0 && whole == 0 { "-" } else { "" };
    if fraction.is_empty() {
        format!("{sign}{}", grouped(whole))
    } else {
        format!("{sign}{}.{fraction}", grouped(whole))
    }
}

fn catalog() -> &'static HashMap<&'static str, &'static str> {
    static CATALOG: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    CATALOG.get_or_init(|| catalog::ZH.iter().copied().collect())
}

/// The English templates of the catalog, for tests.
pub fn templates() -> impl Iterator<Item = (&'static str, &'static str)> {
    catalog::ZH.iter().copied()
}

/// A text cut into literal pieces and holes (numbers and names, the latter already in
/// Chinese): the template is the pieces joined by `{}`.
struct Cut<'t> {
    template: String,
    pieces: Vec<&'t str>,
    holes: Vec<String>,
}

impl Cut<'_> {
    /// The text with its holes filled in Chinese and its pieces as they were.
    fn names_only(&self) -> String {
        let mut out = String::new();
        for (i, piece) in self.pieces.iter().enumerate() {
            out.push_str(piece);
            if let Some(hole) = self.holes.get(i) {
                out.push_str(hole);
            }
        }
        out
    }
}

fn cut<'t>(en: &'t str, names: &Names) -> Cut<'t> {
    let bytes = en.as_bytes();
    let mut template = String::with_capacity(en.len());
    let mut pieces = Vec::new();
    let mut holes = Vec::new();
    let mut i = 0;
    let mut literal = 0;
    while i < bytes.len() {
        let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let b = bytes[i];
        if boundary
            && (b.is_ascii_uppercase() || b.is_ascii_digit())
            && let Some((len, zh)) = names.at(en, i)
        {
            template.push_str(&en[literal..i]);
            template.push_str("{}");
            pieces.push(&en[literal..i]);
            holes.push(zh.to_owned());
            i += len;
            // "Shanghai 上海市" and "Shanghai (上海市)" say the name once.
            for echo in [format!(" {zh}"), format!(" ({zh})")] {
                if en[i..].starts_with(&echo) {
                    i += echo.len();
                }
            }
            literal = i;
            continue;
        }
        if boundary && b.is_ascii_digit() {
            let start = i;
            while i < bytes.len() {
                if bytes[i].is_ascii_digit() {
                    i += 1;
                    continue;
                }
                // A joiner inside a number or a date: 1,234.5 2020-12-31 2010–2019.
                let joiner = en[i..]
                    .chars()
                    .next()
                    .filter(|c| matches!(c, '.' | ',' | '-' | '–' | ':' | '/'))
                    .map(char::len_utf8);
                match joiner {
                    Some(len) if bytes.get(i + len).is_some_and(u8::is_ascii_digit) => i += len,
                    _ => break,
                }
            }
            // "2nd", "14th": ordinals stay in the template.
            if bytes.get(i).is_some_and(u8::is_ascii_alphabetic) {
                continue;
            }
            template.push_str(&en[literal..start]);
            template.push_str("{}");
            pieces.push(&en[literal..start]);
            holes.push(en[start..i].to_owned());
            literal = i;
            continue;
        }
        i += en[i..].chars().next().map_or(1, char::len_utf8);
    }
    template.push_str(&en[literal..]);
    pieces.push(&en[literal..]);
    Cut {
        template,
        pieces,
        holes,
    }
}

/// Fill a Chinese template's holes: `{}` takes the next, `{N}` the N-th (from 0).
fn fill(zh: &str, holes: &[String]) -> String {
    let mut out = String::with_capacity(zh.len() + 16);
    let mut next = 0;
    let mut rest = zh;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let inside = &after[..close];
        let index = if inside.is_empty() {
            next += 1;
            Some(next - 1)
        } else {
            inside.parse::<usize>().ok()
        };
        match index.and_then(|i| holes.get(i)) {
            Some(hole) => out.push_str(hole),
            None => {
                out.push('{');
                out.push_str(inside);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

fn to_chinese(en: &str, names: &Names) -> String {
    let catalog = catalog();
    if let Some(zh) = catalog
        .get(en)
        .copied()
        .or_else(|| names.codes.get(en).map(String::as_str))
    {
        return zh.to_owned();
    }
    // "Aksu City People's Hospital (阿克苏市人民医院)": a record named in both says it in Chinese.
    if let Some(open) = en.rfind(" (")
        && let Some(inside) = en[open + 2..].strip_suffix(')')
        && !inside.bytes().any(|b| b.is_ascii_alphabetic())
        && !inside.is_ascii()
        && en[..open].bytes().any(|b| b.is_ascii_alphabetic())
        && names.at(en, 0).is_none_or(|(len, _)| len < open)
    {
        return inside.to_owned();
    }
    for (prefix, zh) in [
        ("published: ", "公开数据："),
        ("also ", "又名 "),
        ("Finding: ", "问题："),
        ("Ledger: ", "资金台账："),
    ] {
        if let Some(rest) = en.strip_prefix(prefix)
            && !catalog.contains_key(cut(en, names).template.as_str())
        {
            return format!("{zh}{}", to_chinese(rest, names));
        }
    }
    let cut = cut(en, names);
    if let Some(zh) = catalog.get(cut.template.as_str()) {
        return fill(zh, &cut.holes);
    }
    // Lists ("Heilongjiang 73%, Jilin 27%") and sentences joined by "; " or ". ": each part
    // on its own.
    for separator in ["; ", ", ", ". "] {
        if cut.template.contains(separator) {
            let parts: Vec<&str> = en.split(separator).collect();
            let translated: Vec<String> = parts.iter().map(|p| to_chinese(p, names)).collect();
            if translated
                .iter()
                .zip(&parts)
                .any(|(zh, en)| zh.as_str() != *en)
            {
                let joiner = match separator {
                    "; " => "；",
                    ", " => "，",
                    _ => "。",
                };
                return translated.join(joiner);
            }
        }
    }
    // Not in the catalog: the names in Chinese, the rest as it was.
    cut.names_only()
}

/// The words of `text` still in Latin letters that are neither a name nor a symbol every
/// reader knows (CSV, JSON, V*…): what a Chinese page must not show. Identifiers (with a dot,
/// a slash, an @ or a digit inside: `shanghai.kashgar.2011.003`, `a/b`, a hash) are left
/// alone; a word with an underscore is a raw code and counts.
pub fn untranslated(text: &str, names: &Names) -> Vec<String> {
    const KNOWN: &[&str] = &[
        "CSV",
        "XLSX",
        "JSON",
        "OpenAPI",
        "IATI",
        "PDF",
        "Atom",
        "SVG",
        "API",
        "V",
        "M",
        "L",
        "V*",
        "GDP",
        "ID",
        "TOTP",
        "URL",
        "English",
        "Counterpart",
        "XPCC",
    ];
    let mut text = Cow::Borrowed(text);
    for en in names.english() {
        if text.contains(en) {
            text = Cow::Owned(text.replace(en, " "));
        }
    }
    let mut out = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || !c.is_ascii() && !c.is_alphanumeric()) {
        let word = word.trim_matches(|c: char| {
            c.is_ascii_punctuation() && c != '_' && c != '*' || !c.is_ascii()
        });
        if !word.bytes().any(|b| b.is_ascii_alphabetic()) {
            continue;
        }
        let inner = word.trim_end_matches('*');
        // Identifiers: dotted, with a slash or an @, or with digits (hashes, `wz404940`).
        if inner.contains(['.', '/', '@', ':', '=']) && !inner.contains('_')
            || inner.bytes().any(|b| b.is_ascii_digit())
        {
            continue;
        }
        if KNOWN.contains(&word) {
            continue;
        }
        out.push(word.to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names::new([
            ("Shanghai", "上海市"),
            ("Aksu", "阿克苏地区"),
            ("Aksu City", "阿克苏市"),
            ("Heilongjiang", "黑龙江省"),
            ("Jilin", "吉林省"),
            ("14th Division (Kunyu)", "第十四师"),
        ])
    }

    #[test]
    fn numbers_and_names_are_holes_of_one_template() {
        let names = names();
        let cut = cut("Assessment 2019, by pair", &names);
        assert_eq!(cut.template, "Assessment {}, by pair");
        assert_eq!(cut.holes, ["2019"]);
        let cut = cut_of("Aksu City and Aksu, 1,234.5 in 2010–2019 (2020-12-31)");
        assert_eq!(cut.template, "{} and {}, {} in {} ({})");
        assert_eq!(
            cut.holes,
            [
                "阿克苏市",
                "阿克苏地区",
                "1,234.5",
                "2010–2019",
                "2020-12-31"
            ]
        );
        // A name said in both languages is one hole; an ordinal is not a number.
        assert_eq!(
            cut_of("Shanghai 上海市 and the 2nd").template,
            "{} and the 2nd"
        );
        assert_eq!(cut_of("14th Division (Kunyu) 第十四师").holes, ["第十四师"]);
        // A name inside a longer word is not a name.
        assert_eq!(cut_of("Shanghaiese").holes, Vec::<String>::new());
    }

    fn cut_of(text: &str) -> Cut<'_> {
        cut(text, &names())
    }

    #[test]
    fn chinese_templates_fill_in_any_order() {
        let holes = ["0".to_owned(), "2020-12-31".to_owned()];
        assert_eq!(fill("{1}前降至{0}", &holes), "2020-12-31前降至0");
        assert_eq!(fill("{}与{}", &holes), "0与2020-12-31");
        assert_eq!(fill("{9} stays", &holes), "{9} stays");
    }

    #[test]
    fn texts_outside_the_catalog_keep_their_words_and_translate_their_names() {
        let names = names();
        let zh = Voice::new(Lang::Zh, &names);
        assert_eq!(
            zh.text("Heilongjiang 73%, Jilin 27%"),
            "黑龙江省 73%，吉林省 27%"
        );
        assert_eq!(zh.text("Shanghai"), "上海市");
        assert_eq!(zh.text("under_construction"), "在建");
        let en = Voice::new(Lang::En, &names);
        assert_eq!(en.text("Heilongjiang 73%"), "Heilongjiang 73%");
        assert_eq!(
            untranslated("上海市 Shanghai 在建 under_construction V* CSV", &names),
            ["under_construction"]
        );
        assert!(untranslated("编号 shanghai.kashgar.2011.003 的项目", &names).is_empty());
    }

    #[test]
    fn money_reads_in_each_language() {
        let names = Names::default();
        let (en, zh) = (Voice::new(Lang::En, &names), Voice::new(Lang::Zh, &names));
        assert_eq!(en.money(1_148_600_000_000), "11.486 bn");
        assert_eq!(zh.money(1_148_600_000_000), "114.86亿");
        assert_eq!(en.money(910_000_000), "9.1 m");
        assert_eq!(zh.money(910_000_000), "910.00万");
        assert_eq!(en.money(28_911_112), "289,111");
        assert_eq!(zh.money(28_911_112), "28.91万");
        assert_eq!(en.money(0), "0");
        assert_eq!(en.money(-150), "-2");
        assert_eq!(number(21372.21), "21,372.21");
        assert_eq!(number(-0.5), "-0.5");
    }

    #[test]
    fn every_template_is_chinese_and_said_once() {
        let mut seen = std::collections::HashSet::new();
        for (en, zh) in templates() {
            assert!(seen.insert(en), "{en:?} is in the catalog twice");
            assert!(
                !untranslated(zh, &Names::default())
                    .iter()
                    .any(|w| !w.starts_with('{')),
                "the Chinese of {en:?} has English words: {zh:?}"
            );
            let holes = en.matches("{}").count();
            let filled = zh.matches('{').count();
            assert_eq!(holes, filled, "{en:?} and {zh:?} differ in holes");
        }
    }
}
