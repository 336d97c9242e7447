//! `counterpart report annual --year Y --out FILE.html|FILE.pdf`: the work-conference summary
//! of a year — headline figures with provenance, charts (funds by year against the quotas,
//! each provider's delivery against its quota), the compliance table and the pairs — as one
//! HTML page, and as PDF printed from it by headless Chromium.

use crate::lang::{Lang, Names, Voice};
use crate::publish::{STYLE, section_html};
use crate::report::{self, Cell, ReportError, Section};
use counterpart_domain::Year;
use counterpart_domain::outcome;
use counterpart_store::Store;
use maud::{DOCTYPE, PreEscaped, html};
use plotters::prelude::*;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum AnnualError {
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("cannot draw a chart: {0}")]
    Chart(String),
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    #[error(
        "printing the PDF needs Chromium (`apt-get install chromium`, or set COUNTERPART_CHROMIUM to its path): {0}"
    )]
    Chromium(String),
}

fn money_of(cell: &Cell) -> Option<f64> {
    match cell {
        Cell::Money { fen } => Some(*fen as f64 / 100.0),
        _ => None,
    }
}

fn column(section: &Section, key: &str) -> Option<usize> {
    section.columns.iter().position(|c| c.key == key)
}

/// Grouped bars as an SVG string: for each label, one bar per series side by side, in bn
/// yuan.
fn bars(
    title: &str,
    labels: &[String],
    series: &[(&str, &[f64])],
    width: u32,
    voice: &Voice,
) -> Result<String, AnnualError> {
    grouped_bars(title, labels, series, unit(voice, true), width, voice)
}

/// The unit a chart of money in bn yuan shows, and how many of it make a bn yuan: bn or m
/// yuan in English, 亿 or 万 yuan in Chinese.
fn unit(voice: &Voice, billions: bool) -> (&'static str, f64) {
    match (voice.lang, billions) {
        (Lang::En, true) => ("bn yuan", 1.0),
        (Lang::En, false) => ("m yuan", 1e3),
        (Lang::Zh, true) => ("亿元", 10.0),
        (Lang::Zh, false) => ("万元", 1e5),
    }
}

/// Grouped bars with the values (in bn yuan) shown in `unit`: its name and how many of it
/// make a bn yuan.
fn grouped_bars(
    title: &str,
    labels: &[String],
    series: &[(&str, &[f64])],
    unit: (&str, f64),
    width: u32,
    voice: &Voice,
) -> Result<String, AnnualError> {
    let chart_error = |e: &dyn std::fmt::Display| AnnualError::Chart(e.to_string());
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| chart_error(&e))?;
        let max = series
            .iter()
            .flat_map(|(_, v)| v.iter())
            .fold(0.0f64, |m, v| m.max(*v * unit.1))
            * 1.1;
        let n = labels.len() as u32;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(if n > 12 { 110 } else { 30 })
            .y_label_area_size(60)
            .build_cartesian_2d((0..n).into_segmented(), 0f64..max.max(1e-9))
            .map_err(|e| chart_error(&e))?;
        // Many labels stand upright so that they do not run into each other.
        let label_style = if n > 12 {
            ("sans-serif", 12)
                .into_font()
                .transform(FontTransform::Rotate90)
        } else {
            ("sans-serif", 12).into_font()
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_label_style(label_style)
            .x_labels(labels.len())
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_desc(unit.0)
            .draw()
            .map_err(|e| chart_error(&e))?;
        // One colour per meaning on every chart: quota grey, committed amber, money paid green.
        let colour_of = |name: &str| match name {
            "quota" => RGBColor(120, 144, 156),
            "committed" => RGBColor(255, 143, 0),
            _ => RGBColor(0, 121, 107),
        };
        // Each segment holds the series' bars side by side, 4 px from its edges.
        let m = series.len().max(1) as u32;
        let segment = (width.saturating_sub(90) / n.max(1)).max(m * 2 + 8);
        let bar = (segment - 8) / m;
        for (k, (name, values)) in series.iter().enumerate() {
            let colour = colour_of(name);
            let k = k as u32;
            chart
                .draw_series(values.iter().enumerate().map(|(i, v)| {
                    let i = i as u32;
                    let mut rect = Rectangle::new(
                        [
                            (SegmentValue::Exact(i), 0.0),
                            (SegmentValue::Exact(i + 1), *v * unit.1),
                        ],
                        colour.filled(),
                    );
                    rect.set_margin(0, 0, 4 + bar * k, 4 + bar * (m - 1 - k));
                    rect
                }))
                .map_err(|e| chart_error(&e))?
                .label(voice.text(name))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| chart_error(&e))?;
        root.present().map_err(|e| chart_error(&e))?;
    }
    Ok(svg)
}

/// The money of a report's "years" section (quota, committed and delivered, those it has) as
/// grouped bars by year, in bn or m yuan as the figures need, and whether any of its rows is
/// computed from simulated records; `None` when the report has no such section or no money in
/// it.
pub fn years_chart(
    report: &report::Report,
    width: u32,
    voice: &Voice,
) -> Result<Option<(String, bool)>, AnnualError> {
    let Some(years) = report.section("years") else {
        return Ok(None);
    };
    let labels: Vec<String> = years
        .rows
        .iter()
        .map(|row| match &row[0] {
            Cell::Int(y) => y.to_string(),
            other => report::show(other, &years.columns[0]),
        })
        .collect();
    let series: Vec<(&str, Vec<f64>)> = ["quota", "committed", "delivered"]
        .into_iter()
        .filter_map(|key| {
            let c = column(years, key)?;
            let values = years
                .rows
                .iter()
                .map(|row| money_of(&row[c]).unwrap_or(0.0) / 1e9)
                .collect();
            Some((key, values))
        })
        .collect();
    let max = series
        .iter()
        .flat_map(|(_, v)| v.iter())
        .fold(0.0f64, |m, v| m.max(*v));
    if series.is_empty() || max <= 0.0 {
        return Ok(None);
    }
    let unit = unit(voice, max >= 1.0);
    let simulated_label = report::computed_label(true);
    let simulated = column(years, "provenance").is_some_and(|c| {
        years
            .rows
            .iter()
            .any(|row| matches!(&row[c], Cell::Text(t) if *t == simulated_label))
    });
    let borrowed: Vec<(&str, &[f64])> = series.iter().map(|(k, v)| (*k, v.as_slice())).collect();
    let svg = grouped_bars(
        &voice.text(&years.title),
        &labels,
        &borrowed,
        unit,
        width,
        voice,
    )?;
    Ok(Some((svg, simulated)))
}

/// The annual report of `year` as one HTML page, in `lang`.
#[allow(clippy::too_many_lines)] // one page, top to bottom: its figures, charts and tables
pub async fn annual(store: &dyn Store, year: Year, lang: Lang) -> Result<String, AnnualError> {
    let ctx = report::Context::load(store).await?;
    let names = Names::of(&ctx.tree, Some(&ctx.program));
    let voice = &Voice::new(lang, &names);
    let summary = report::summary(store).await?;
    let compliance = report::compliance(store, Some(year), None, None).await?;
    let by_year = summary
        .section("years")
        .ok_or_else(|| ReportError::Inconsistent("the summary has no years".into()))?;
    let (quota_col, delivered_col) = (
        column(by_year, "quota").expect("years has quota"),
        column(by_year, "delivered").expect("years has delivered"),
    );
    let mut labels = Vec::new();
    let (mut quotas, mut delivered) = (Vec::new(), Vec::new());
    let mut this_year: Option<&Vec<Cell>> = None;
    for row in &by_year.rows {
        let Cell::Int(y) = row[0] else { continue };
        labels.push(y.to_string());
        quotas.push(money_of(&row[quota_col]).unwrap_or(0.0) / 1e9);
        delivered.push(money_of(&row[delivered_col]).unwrap_or(0.0) / 1e9);
        if y == i64::from(year.get()) {
            this_year = Some(row);
        }
    }
    if this_year.is_none() {
        return Err(ReportError::Invalid(format!(
            "{year} is not a year of the program: pick one of {}",
            labels.join(", ")
        ))
        .into());
    }
    let funds_chart = bars(
        &voice.text("Quota and funds delivered by year"),
        &labels,
        &[
            ("quota", quotas.as_slice()),
            ("delivered", delivered.as_slice()),
        ],
        760,
        voice,
    )?;
    let table = compliance
        .section("compliance")
        .ok_or_else(|| ReportError::Inconsistent("compliance has no table".into()))?;
    let (q, d) = (
        column(table, "quota").expect("quota"),
        column(table, "disbursed").expect("disbursed"),
    );
    let providers: Vec<String> = table
        .rows
        .iter()
        .map(|r| match &r[0] {
            Cell::Text(t) => voice.text(t).into_owned(),
            _ => String::new(),
        })
        .collect();
    let quota: Vec<f64> = table
        .rows
        .iter()
        .map(|r| money_of(&r[q]).unwrap_or(0.0) / 1e9)
        .collect();
    let paid: Vec<f64> = table
        .rows
        .iter()
        .map(|r| money_of(&r[d]).unwrap_or(0.0) / 1e9)
        .collect();
    let provider_chart = bars(
        &voice.text(&format!("Each provider's quota and disbursements, {year}")),
        &providers,
        &[("quota", quota.as_slice()), ("disbursed", paid.as_slice())],
        980,
        voice,
    )?;
    let headline = summary.section("headline");
    let year_section = {
        let mut s = Section::new(
            "year",
            format!("{year} in figures"),
            by_year.columns.clone(),
        );
        s.push(this_year.expect("checked").clone());
        s
    };
    let simulated = summary
        .notes
        .iter()
        .chain(&compliance.notes)
        .any(|n| n.to_lowercase().contains("simulated"));
    let pairs = summary.section("pairs");
    let title = match lang {
        Lang::En => format!("{} — annual report {year}", ctx.program.name_en),
        Lang::Zh => format!("{}{year}年度报告", ctx.program.name_zh),
    };
    let bars_note = if simulated {
        "Bars computed from the simulated records; quotas by the program's rule."
    } else {
        "Bars computed from the records; quotas by the program's rule."
    };
    let page = html! {
        (DOCTYPE)
        html lang=(lang.html_lang()) {
            head {
                meta charset="utf-8";
                title { (title) }
                // A4 landscape, tables in small type that wraps within the page: every column
                // is printed.
                style { (PreEscaped(STYLE)) (PreEscaped(PRINT_STYLE)) }
            }
            body {
                h1 { (title) }
                @if simulated {
                    p.notes { (voice.text("Counterpart demo: projects, money, people and outcome series in this report are SIMULATED records made by a generator; the pairing table and the published figures beside them are real.")) }
                }
                div.notes { @for note in &summary.notes { p { (voice.text(note)) } } }
                (section_html(&year_section, "", voice))
                @if let Some(h) = headline { (section_html(h, "", voice)) }
                h2 { (voice.text("Charts")) }
                div { (PreEscaped(&funds_chart)) }
                div { (PreEscaped(&provider_chart)) }
                p.data { (voice.text(bars_note)) }
                @for section in &compliance.sections { (section_html(section, "", voice)) }
                div.notes { @for note in &compliance.notes { p { (voice.text(note)) } } }
                @if let Some(p) = pairs { (section_html(p, "", voice)) }
            }
        }
    };
    Ok(page.into_string())
}

/// How the annual report prints: A4 landscape; tables take the page's width and wrap their
/// cells, so no column falls off the edge; charts shrink to the page.
const PRINT_STYLE: &str = "@page{size:A4 landscape;margin:12mm}\
@media print{body{margin:0;max-width:none;font-size:10pt}h2{break-after:avoid}\
table{width:100%;table-layout:auto;break-inside:auto;font-size:7.5pt}\
th,td{padding:.15rem .3rem;overflow-wrap:anywhere}svg{max-width:100%;height:auto}}";

/// The Chromium to print with: `COUNTERPART_CHROMIUM`, else `/usr/bin/chromium`.
fn chromium() -> String {
    std::env::var("COUNTERPART_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Print an HTML file to PDF with headless Chromium (no network, no profile left behind).
pub fn print_pdf(html: &Path, pdf: &Path) -> Result<(), AnnualError> {
    let profile = tempfile::tempdir().map_err(|e| AnnualError::Chromium(e.to_string()))?;
    let html = std::fs::canonicalize(html).map_err(|e| AnnualError::Write {
        path: html.display().to_string(),
        reason: e.to_string(),
    })?;
    let output = std::process::Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .map_err(|e| AnnualError::Chromium(e.to_string()))?;
    if !output.status.success() || !pdf.is_file() {
        return Err(AnnualError::Chromium(
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ));
    }
    Ok(())
}

/// Write the annual report of `year` to `out`: HTML, or PDF when it ends in `.pdf` (the HTML is
/// printed from a temporary file).
pub async fn write(
    store: &dyn Store,
    year: Year,
    lang: Lang,
    out: &Path,
) -> Result<(), AnnualError> {
    let html = annual(store, year, lang).await?;
    let write_error = |e: std::io::Error| AnnualError::Write {
        path: out.display().to_string(),
        reason: e.to_string(),
    };
    if out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pdf"))
    {
        let dir = tempfile::tempdir().map_err(write_error)?;
        let page = dir.path().join("annual.html");
        std::fs::write(&page, html).map_err(write_error)?;
        print_pdf(&page, out)
    } else {
        std::fs::write(out, html).map_err(write_error)
    }
}

/// Money disbursed by year, stacked by category group (livelihood, industry, infrastructure,
/// exchange, other), in bn yuan, as an SVG string; and whether any of it is simulated.
pub async fn funds_by_year_chart(
    store: &dyn Store,
    width: u32,
    voice: &Voice<'_>,
) -> Result<(String, bool), AnnualError> {
    use counterpart_domain::project::{CategoryGroup, TransferKind};
    use std::collections::BTreeMap;
    let groups = [
        CategoryGroup::Livelihood,
        CategoryGroup::Industry,
        CategoryGroup::Infrastructure,
        CategoryGroup::Exchange,
        CategoryGroup::Other,
    ];
    let mut by_year: BTreeMap<u16, [f64; 5]> = BTreeMap::new();
    let mut simulated = false;
    for row in store.funds(None).await.map_err(ReportError::from)? {
        let sign = match row.kind {
            TransferKind::Disburse => 1.0,
            TransferKind::Reversal => 0.0,
            _ => continue,
        };
        let g = groups
            .iter()
            .position(|g| *g == row.category.group())
            .unwrap_or(4);
        by_year.entry(row.year.get()).or_insert([0.0; 5])[g] +=
            sign * row.amount.get() as f64 / 1e11 * unit(voice, true).1;
        simulated |= row.simulated;
    }
    let labels: Vec<String> = by_year.keys().map(ToString::to_string).collect();
    let series: Vec<(&str, Vec<f64>)> = groups
        .iter()
        .enumerate()
        .map(|(g, group)| (group.code(), by_year.values().map(|v| v[g]).collect()))
        .collect();
    let title = voice.text("Disbursed by year and category (bn yuan)");
    Ok((stacked(&title, &labels, &series, width, voice)?, simulated))
}

/// Stacked bars as an SVG string: for each label, the series' values one on another.
pub fn stacked(
    title: &str,
    labels: &[String],
    series: &[(&str, Vec<f64>)],
    width: u32,
    voice: &Voice,
) -> Result<String, AnnualError> {
    let chart_error = |e: &dyn std::fmt::Display| AnnualError::Chart(e.to_string());
    let n = labels.len();
    let totals: Vec<f64> = (0..n)
        .map(|i| {
            series
                .iter()
                .map(|(_, v)| v.get(i).copied().unwrap_or(0.0))
                .sum()
        })
        .collect();
    let max = totals.iter().fold(0.0f64, |m, v| m.max(*v)) * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| chart_error(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d((0..n as u32).into_segmented(), 0f64..max.max(1e-9))
            .map_err(|e| chart_error(&e))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_desc(unit(voice, true).0)
            .draw()
            .map_err(|e| chart_error(&e))?;
        let colours = [
            RGBColor(0, 121, 107),
            RGBColor(255, 143, 0),
            RGBColor(84, 110, 122),
            RGBColor(142, 36, 170),
            RGBColor(189, 189, 189),
        ];
        let mut base = vec![0.0f64; n];
        for (k, (name, values)) in series.iter().enumerate() {
            let colour = colours[k % colours.len()];
            let bars: Vec<_> = (0..n)
                .map(|i| {
                    let v = values.get(i).copied().unwrap_or(0.0);
                    let mut bar = Rectangle::new(
                        [
                            (SegmentValue::Exact(i as u32), base[i]),
                            (SegmentValue::Exact(i as u32 + 1), base[i] + v),
                        ],
                        colour.filled(),
                    );
                    bar.set_margin(0, 0, 6, 6);
                    base[i] += v;
                    bar
                })
                .collect();
            chart
                .draw_series(bars)
                .map_err(|e| chart_error(&e))?
                .label(voice.text(name))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| chart_error(&e))?;
        root.present().map_err(|e| chart_error(&e))?;
    }
    Ok(svg)
}

/// One target on the chart: its observations, the trend to its deadline while it is open,
/// and the target itself.
struct TargetLine {
    label: String,
    points: Vec<(i32, f64)>,
    projection: Option<[(i32, f64); 2]>,
    target: (i32, f64),
}

/// The chart's lines for the program's first four targets, and whether any value is simulated.
fn target_lines(ctx: &report::Context, voice: &Voice) -> (Vec<TargetLine>, bool) {
    let mut lines = Vec::new();
    let mut simulated = false;
    for target in ctx.frame.targets.iter().take(4) {
        let series = report::target_series(ctx, target);
        simulated |= series.iter().any(|p| p.2);
        let points: Vec<(i32, f64)> = series
            .iter()
            .map(|&(y, v, _)| (i32::from(y), v as f64))
            .collect();
        let deadline = target.deadline.year() as i32;
        // While the target is open, the trend from the last observation to the deadline.
        let met = series
            .iter()
            .any(|&(y, v, _)| i32::from(y) <= deadline && v <= target.value);
        let open = !met
            && series
                .last()
                .is_some_and(|&(y, _, _)| i32::from(y) < deadline);
        let observed: Vec<(u16, i64)> = series.iter().map(|&(y, v, _)| (y, v)).collect();
        let projection = open
            .then(|| outcome::project(&observed, target.value, deadline as u16))
            .flatten()
            .and_then(|p| {
                points
                    .last()
                    .map(|&last| [last, (deadline, p.at_deadline.max(0.0))])
            });
        let label = voice
            .text(&format!(
                "{}: {} (target {} by {})",
                ctx.name(&target.region),
                target.indicator.code().replace('_', " "),
                counterpart_domain::money::grouped(target.value.unsigned_abs()),
                target.deadline
            ))
            .into_owned();
        lines.push(TargetLine {
            label,
            points,
            projection,
            target: (deadline, target.value as f64),
        });
    }
    (lines, simulated)
}

/// The poverty trajectory: for each target of the program (e.g. Kashgar's registered poor at
/// zero by the end of 2020), the indicator's yearly values in that region (its own, or summed
/// from the regions below it) as a line with a dot per year, the trend to the deadline dashed
/// while the target is open, and the target as a cross at its deadline, as an SVG string; with the caption naming the series and
/// whether any value is simulated. `None` when the program has no target.
pub async fn targets_chart(
    store: &dyn Store,
    width: u32,
    lang: Lang,
) -> Result<Option<(String, String, bool)>, AnnualError> {
    let ctx = report::Context::load(store).await?;
    let targets = &ctx.frame.targets;
    if targets.is_empty() {
        return Ok(None);
    }
    let chart_error = |e: &dyn std::fmt::Display| AnnualError::Chart(e.to_string());
    let names = Names::of(&ctx.tree, Some(&ctx.program));
    let voice = Voice::new(lang, &names);
    let (lines, simulated) = target_lines(&ctx, &voice);
    let marks = || {
        lines.iter().flat_map(|l| {
            l.points
                .iter()
                .copied()
                .chain(l.projection.into_iter().flatten())
                .chain([l.target])
        })
    };
    let years = marks().fold((i32::MAX, i32::MIN), |(lo, hi), p| {
        (lo.min(p.0), hi.max(p.0))
    });
    let max = marks().map(|p| p.1).fold(0.0f64, f64::max) * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| chart_error(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                voice.text("Outcomes against their targets"),
                ("sans-serif", 16),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(years.0..years.1 + 1, 0f64..max.max(1.0))
            .map_err(|e| chart_error(&e))?;
        chart
            .configure_mesh()
            .x_label_formatter(&|y| y.to_string())
            .y_label_formatter(&|v| counterpart_domain::money::grouped(v.max(0.0).round() as u64))
            .draw()
            .map_err(|e| chart_error(&e))?;
        let colours = [
            RGBColor(0, 121, 107),
            RGBColor(198, 40, 40),
            RGBColor(255, 143, 0),
            RGBColor(84, 110, 122),
        ];
        for (k, line) in lines.iter().enumerate() {
            let colour = colours[k % colours.len()];
            chart
                .draw_series(LineSeries::new(
                    line.points.iter().copied(),
                    colour.stroke_width(2),
                ))
                .map_err(|e| chart_error(&e))?
                .label(line.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(
                    line.points
                        .iter()
                        .map(|&p| Circle::new(p, 3, colour.filled())),
                )
                .map_err(|e| chart_error(&e))?;
            if let Some([from, to]) = line.projection {
                chart
                    .draw_series(DashedLineSeries::new(
                        [from, to],
                        6,
                        4,
                        colour.stroke_width(1),
                    ))
                    .map_err(|e| chart_error(&e))?;
            }
            chart
                .draw_series([Cross::new(line.target, 7, colour.stroke_width(3))])
                .map_err(|e| chart_error(&e))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| chart_error(&e))?;
        root.present().map_err(|e| chart_error(&e))?;
    }
    let caption = lines
        .iter()
        .map(|l| l.label.clone())
        .collect::<Vec<_>>()
        .join(if lang == Lang::Zh { "；" } else { "; " });
    Ok(Some((svg, caption, simulated)))
}
