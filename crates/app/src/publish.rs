//! `counterpart publish --out DIR`: a static site of the program's public aggregates that any
//! web server can serve and that opens from disk — HTML pages (no script, relative links, the
//! style inline), each page's report as JSON and as CSV, every provider's IATI files.
//!
//! Pages: the program summary (index), compliance, the proposed pairing, one page per provider
//! and per recipient prefecture. Every figure keeps its provenance column or note; the demo's
//! simulated records say so on every page.

use crate::iati::{self, IatiOptions};
use crate::lang::{Lang, Names, Shown, Voice};
use crate::pair::{self, PairOptions};
use crate::report::{self, Cell, Context, Report, ReportError};
use counterpart_domain::region::RegionKind;
use counterpart_domain::{Date, RegionCode};
use counterpart_store::Store;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Iati(#[from] iati::IatiError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What was published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub pages: usize,
    pub files: usize,
}

pub const STYLE: &str = "body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}\
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}th,td{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}nav a{margin-right:1rem}\
.notes{background:#fff8e1;padding:.5rem 1rem;border-left:4px solid #f0b400}.data{font-size:.85rem;color:#555}";

/// One page: its report, where it goes, and its title in the navigation.
struct Page {
    report: Report,
    /// Path under the site root without extension, e.g. `providers/shenzhen`.
    stem: String,
}

fn depth_prefix(stem: &str) -> String {
    "../".repeat(stem.matches('/').count())
}

/// A page in `voice`'s language. The English site is at the root, the Chinese one under
/// `zh/` with the same paths; each page links to itself in the other language, and both link
/// to the one copy of the data (JSON, CSV) and of the IATI files.
fn render(page: &Page, nav: &[(String, String)], simulated: bool, voice: &Voice) -> Markup {
    let lang = voice.lang;
    let site = match lang {
        Lang::En => "",
        Lang::Zh => "zh/",
    };
    let stem = format!("{site}{}", page.stem);
    let root = depth_prefix(&stem);
    let report = &page.report;
    let other = match lang {
        Lang::En => format!("{root}zh/{}.html", page.stem),
        Lang::Zh => format!("{root}{}.html", page.stem),
    };
    let data = format!("{root}{}", page.stem);
    html! {
        (DOCTYPE)
        html lang=(lang.html_lang()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (voice.text(&report.title)) " — " (voice.text(&report.program)) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                nav {
                    @for (href, label) in nav {
                        @let shared = href.starts_with("iati/");
                        a href={ (root) @if !shared { (site) } (href) } { (voice.text(label)) }
                    }
                    a href=(other) lang=(lang.other().html_lang()) { @if lang == Lang::En { "中文" } @else { "English" } }
                }
                h1 { (voice.text(&report.title)) }
                p { (voice.text(&report.program)) }
                @if simulated {
                    p.notes { (voice.text("This site publishes the Counterpart demo: the 2010 pairing table and published facts are real; projects, money, people and outcome series are SIMULATED records made by a generator, not real data.")) }
                }
                @if !report.notes.is_empty() {
                    div.notes { @for note in &report.notes { p { (voice.text(note)) } } }
                }
                p.data {
                    (voice.text("Data:")) " "
                    a href={ (data) ".json" } { "JSON" }
                    " · "
                    a href={ (data) ".csv" } { "CSV" }
                    " " (voice.text("(money in fen)."))
                }
                @for section in &report.sections {
                    (section_html(section, &format!("{root}{site}"), voice))
                }
            }
        }
    }
}

/// A report section as an HTML table: numbers right-aligned, `page` cells as links (relative to
/// `root`).
pub fn section_html(section: &report::Section, root: &str, voice: &Voice) -> Markup {
    let (columns, common) = layout(section);
    html! {
        h2 { (voice.text(&section.title)) }
        table {
            thead { tr { @for &c in &columns { th { (voice.text(section.columns[c].label)) } } } }
            tbody {
                @for row in &section.rows {
                    tr {
                        @for &c in &columns {
                            @let (cell, column) = (&row[c], &section.columns[c]);
                            @if column.key == "page" {
                                td { a href={ (root) (report::show(cell, column)) } { (report::show(cell, column)) } }
                            } @else if let Cell::Money { fen } = cell {
                                // The exact amount beside the rounded one people read.
                                td.n data-fen=(fen) { (voice.show(cell, column)) }
                            } @else if matches!(cell, Cell::Int(_) | Cell::Number(_)) {
                                td.n { (voice.show(cell, column)) }
                            } @else {
                                (text_cell(voice.shown(cell, column)))
                            }
                        }
                    }
                }
            }
        }
        @if let Some(c) = common {
            p.data.provenance {
                (voice.text(section.columns[c].label)) ": "
                (voice.shown(&section.rows[0][c], &section.columns[c]).text)
            }
        }
    }
}

/// Which columns a table shows: none that is empty in every row; and a provenance column that
/// says the same of every row is said once under the table instead (its index).
fn layout(section: &report::Section) -> (Vec<usize>, Option<usize>) {
    let blank = |cell: &Cell| match cell {
        Cell::Empty => true,
        Cell::Text(t) => t.is_empty(),
        _ => false,
    };
    let rows = &section.rows;
    let common = section
        .columns
        .iter()
        .position(|c| c.key == "provenance")
        .filter(|&c| {
            rows.len() > 1
                && matches!(&rows[0][c], Cell::Text(t) if !t.starts_with("published"))
                && rows.iter().all(|r| r[c] == rows[0][c])
        });
    let columns = (0..section.columns.len())
        .filter(|&c| Some(c) != common)
        .filter(|&c| rows.is_empty() || rows.iter().any(|r| !blank(&r[c])))
        .collect();
    (columns, common)
}

/// A text cell: its label, and the record's own words one click away (in the language they
/// were recorded in, English for the reference data).
fn text_cell(shown: Shown) -> Markup {
    html! {
        @match (shown.text.is_empty(), shown.quoted) {
            (_, None) => td { (shown.text) },
            (true, Some(quoted)) => td lang="en" { (quoted) },
            (false, Some(quoted)) => td {
                details.source { summary { (shown.text) } span lang="en" { (quoted) } }
            },
        }
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), PublishError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| PublishError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, bytes).map_err(|source| PublishError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Publish the program in `store` as a static site in `out`.
pub async fn publish(
    store: &dyn Store,
    out: &Path,
    today: Date,
    generated: &str,
) -> Result<Published, PublishError> {
    let ctx = Context::load(store).await?;
    let mut pages = vec![
        Page {
            report: report::summary(store).await?,
            stem: "index".into(),
        },
        Page {
            report: report::compliance(store, None, None, None).await?,
            stem: "compliance".into(),
        },
        Page {
            report: pair::pair(store, &PairOptions::default()).await?,
            stem: "pairing".into(),
        },
    ];
    for provider in &ctx.providers {
        pages.push(Page {
            report: report::provider(store, provider.as_str(), None).await?,
            stem: format!("providers/{}", provider.as_str()),
        });
    }
    let mut prefectures: Vec<RegionCode> = ctx
        .frame
        .pairs
        .iter()
        .filter_map(|p| ctx.tree.enclosing(&p.recipient, RegionKind::Prefecture))
        .map(|r| r.code.clone())
        .collect();
    prefectures.sort();
    prefectures.dedup();
    for recipient in &prefectures {
        pages.push(Page {
            report: report::recipient(store, recipient.as_str(), None).await?,
            stem: format!("recipients/{}", recipient.as_str()),
        });
    }
    let name = |code: &RegionCode| {
        ctx.tree
            .get(code)
            .map_or_else(|| code.to_string(), |r| r.name_en.clone())
    };
    let nav: Vec<(String, String)> = vec![
        ("index.html".into(), "Summary".into()),
        ("compliance.html".into(), "Compliance".into()),
        ("pairing.html".into(), "Pairing".into()),
        ("providers.html".into(), "Providers".into()),
        ("recipients.html".into(), "Recipients".into()),
        ("iati/index.html".into(), "IATI files".into()),
    ];
    pages.push(Page {
        report: listing(
            &ctx,
            "Providers",
            ctx.providers
                .iter()
                .map(|p| (name(p), format!("providers/{}", p.as_str())))
                .collect(),
        ),
        stem: "providers".into(),
    });
    pages.push(Page {
        report: listing(
            &ctx,
            "Recipient prefectures",
            prefectures
                .iter()
                .map(|p| (name(p), format!("recipients/{}", p.as_str())))
                .collect(),
        ),
        stem: "recipients".into(),
    });
    let simulated = ctx
        .frame
        .indicators
        .iter()
        .any(|v| v.provenance.is_simulated())
        || pages
            .iter()
            .any(|p| p.report.notes.iter().any(|n| n.contains("simulated")));
    let names = Names::of(&ctx.tree, Some(&ctx.program));
    let mut files = 0;
    for page in &pages {
        let zh = render(page, &nav, simulated, &Voice::new(Lang::Zh, &names)).into_string();
        write(&out.join(format!("zh/{}.html", page.stem)), zh.as_bytes())?;
        let html = render(page, &nav, simulated, &Voice::new(Lang::En, &names)).into_string();
        write(&out.join(format!("{}.html", page.stem)), html.as_bytes())?;
        let json = serde_json::to_vec_pretty(&page.report).expect("reports serialise");
        write(&out.join(format!("{}.json", page.stem)), &json)?;
        let mut csv = Vec::new();
        report::write_csv(&page.report, &mut csv).expect("writing to memory");
        write(&out.join(format!("{}.csv", page.stem)), &csv)?;
        files += 4;
    }
    let options = IatiOptions {
        year: None,
        provider: None,
        today,
        generated: generated.to_owned(),
    };
    let written = iati::export(store, &options, &out.join("iati")).await?;
    files += written.len();
    write_iati_index(out, &written)?;
    Ok(Published {
        pages: 2 * pages.len() + 1,
        files: files + 1,
    })
}

/// A page listing other pages: each one's name and file.
fn listing(ctx: &Context, title: &str, stems: Vec<(String, String)>) -> Report {
    let mut section = report::Section::new(
        "pages",
        title,
        vec![
            report::col("name", "name", None),
            report::col("page", "page", None),
        ],
    );
    for (label, stem) in stems {
        section.push(vec![Cell::text(label), Cell::text(format!("{stem}.html"))]);
    }
    Report {
        report: "listing",
        title: title.to_owned(),
        program: ctx.program.name_en.clone(),
        notes: Vec::new(),
        sections: vec![section],
    }
}

/// The IATI directory's own index, so the link works from disk too.
fn write_iati_index(out: &Path, written: &[iati::Written]) -> Result<(), PublishError> {
    let iati_index = html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "IATI files" } style { (PreEscaped(STYLE)) } }
            body {
                nav { a href="../index.html" { "Summary" } }
                h1 { "IATI 2.03 files" }
                ul {
                    @for w in written {
                        @let file = w.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                        li { a href=(file) { (file) } " — " (w.kind) }
                    }
                }
            }
        }
    };
    write(
        &out.join("iati/index.html"),
        iati_index.into_string().as_bytes(),
    )
}
