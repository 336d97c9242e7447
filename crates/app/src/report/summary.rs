//! The program summary: the first thing a user sees.

use super::context::{Context, computed, published};
use super::{Cell, Report, ReportError, Section, col};
use counterpart_domain::indicator::{IndicatorKind, Statistics};
use counterpart_domain::people::Role;
use counterpart_domain::project::{Category, CategoryGroup, TransferKind};
use counterpart_domain::region::{RegionKind, RegionTree};
use counterpart_domain::{Confidence, Fen, RegionCode, Share, Year};
use counterpart_store::{FundsRow, PeopleScope, Store, TradeRow};
use std::collections::BTreeMap;

/// Money and counts of one year, with whether any input was simulated.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct YearBooks {
    pub committed: Fen,
    pub disbursed: Fen,
    pub spent: Fen,
    pub projects: u64,
    pub simulated: bool,
}

/// Sum transfers and projects by year, keeping only rows `keep` accepts.
pub(super) fn books_by_year(
    funds: &[FundsRow],
    projects: &[counterpart_store::ProjectsRow],
    keep: impl Fn(&RegionCode, &RegionCode) -> bool,
) -> BTreeMap<Year, YearBooks> {
    let mut books: BTreeMap<Year, YearBooks> = BTreeMap::new();
    for row in funds.iter().filter(|r| keep(&r.provider, &r.recipient)) {
        let b = books.entry(row.year).or_default();
        match row.kind {
            TransferKind::Commit => b.committed += row.amount,
            TransferKind::Disburse => b.disbursed += row.amount,
            TransferKind::Spend => b.spent += row.amount,
            _ => {}
        }
        b.simulated |= row.simulated;
    }
    for row in projects.iter().filter(|r| keep(&r.provider, &r.recipient)) {
        let b = books.entry(row.year).or_default();
        b.projects += row.projects;
        b.simulated |= row.simulated;
    }
    books
}

/// Disbursed money by category over the given years, with project counts.
pub(super) fn categories_section(
    funds: &[FundsRow],
    projects: &[counterpart_store::ProjectsRow],
    keep: impl Fn(&RegionCode, &RegionCode, Year) -> bool,
) -> (Section, Share, bool) {
    let mut by: BTreeMap<Category, (Fen, u64, bool)> = BTreeMap::new();
    for row in funds
        .iter()
        .filter(|r| r.kind == TransferKind::Disburse && keep(&r.provider, &r.recipient, r.year))
    {
        let e = by.entry(row.category).or_default();
        e.0 += row.amount;
        e.2 |= row.simulated;
    }
    for row in projects
        .iter()
        .filter(|r| keep(&r.provider, &r.recipient, r.year))
    {
        let e = by.entry(row.category).or_default();
        e.1 += row.projects;
        e.2 |= row.simulated;
    }
    let total: Fen = by.values().map(|e| e.0).sum();
    let livelihood: Fen = by
        .iter()
        .filter(|(c, _)| c.group() == CategoryGroup::Livelihood)
        .map(|(_, e)| e.0)
        .sum();
    let simulated = by.values().any(|e| e.2);
    let mut section = Section::new(
        "categories",
        "Funds delivered and projects by category",
        vec![
            col("category", "category", None),
            col("group", "group", None),
            col("projects", "projects", Some("projects")),
            col("delivered", "delivered (yuan)", Some("fen")),
            col("share", "share of funds", Some("percent")),
            col("provenance", "provenance", None),
        ],
    );
    for (category, (amount, count, sim)) in &by {
        section.push(vec![
            Cell::text(category.name_en()),
            Cell::text(category.group().code()),
            Cell::count(*count),
            Cell::money(*amount),
            Cell::percent(Share::of_parts(*amount, total)),
            Cell::text(computed(*sim)),
        ]);
    }
    (section, Share::of_parts(livelihood, total), simulated)
}

/// The share of delivered funds that went to county level and below.
pub(super) fn county_level_share(
    funds: &[FundsRow],
    tree: &RegionTree,
    keep: impl Fn(&FundsRow) -> bool,
) -> Share {
    let rows = || {
        funds
            .iter()
            .filter(|r| r.kind == TransferKind::Disburse && keep(r))
    };
    let total: Fen = rows().map(|r| r.amount).sum();
    let county: Fen = rows()
        .filter(|r| {
            tree.get(&r.recipient)
                .is_some_and(|g| g.kind.is_county_level_or_below())
        })
        .map(|r| r.amount)
        .sum();
    Share::of_parts(county, total)
}

/// The headline table: figure, value, provenance, and the published figure beside it.
pub(super) struct Headline<'a> {
    pub section: Section,
    ctx: &'a Context,
}

impl<'a> Headline<'a> {
    pub fn new(ctx: &'a Context) -> Self {
        let section = Section::new(
            "headline",
            "Headline figures",
            vec![
                col("figure", "figure", None),
                col("value", "value", None),
                col("unit", "unit", None),
                col("provenance", "provenance", None),
                col("published", "published", None),
                col("published_unit", "published unit", None),
                col("published_source", "published source", None),
                col("difference_pct", "difference (%)", Some("percent")),
                col("note", "note", None),
            ],
        );
        Headline { section, ctx }
    }

    /// A figure with nothing published beside it.
    pub fn plain(&mut self, figure: &str, value: Cell, unit: &str, provenance: String) {
        self.row(figure, value, unit, provenance, None, String::new());
    }

    /// A figure, with its value as a number in the published unit beside the fact it is
    /// compared with (`compare`: fact key and number).
    pub fn row(
        &mut self,
        figure: &str,
        value: Cell,
        unit: &str,
        provenance: String,
        compare: Option<(&str, f64)>,
        note: String,
    ) {
        let fact = compare.and_then(|(k, _)| self.ctx.fact(k));
        let as_number = compare.map_or(0.0, |(_, n)| n);
        let (published_value, published_unit, source, difference) = match fact {
            Some(f) => {
                let number = f.number();
                let difference = number
                    .filter(|n| *n != 0.0)
                    .map(|n| Cell::number((as_number - n) / n * 100.0, 2));
                (
                    number.map_or_else(|| Cell::text(&f.value), Cell::Number),
                    Cell::text(&f.unit),
                    Cell::text(format!("{} ({})", published(f), f.key)),
                    Cell::opt(difference),
                )
            }
            None => (Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty),
        };
        let note = if note.is_empty() {
            Cell::Empty
        } else {
            Cell::text(note)
        };
        self.section.push(vec![
            Cell::text(figure),
            value,
            Cell::text(unit),
            Cell::text(provenance),
            published_value,
            published_unit,
            source,
            difference,
            note,
        ]);
    }
}

fn bn(f: Fen) -> f64 {
    f.to_bn_yuan()
}

fn lower_bound_note(ctx: &Context, key: &str) -> String {
    ctx.fact(key)
        .filter(|f| f.note.contains("lower bound"))
        .map_or(String::new(), |_| {
            "the published figure is a lower bound".into()
        })
}

/// The summary of the whole program.
pub async fn summary(store: &dyn Store) -> Result<Report, ReportError> {
    let ctx = Context::load(store).await?;
    let funds = store.funds(None).await?;
    let projects = store.projects_summary().await?;
    let postings = store.postings_summary().await?;
    let people = store.people_posted(&PeopleScope::All).await?;
    let trade = store.trade().await?;
    let program = &ctx.program;
    let in_program = |y: Year| program.contains_year(y);

    let books = books_by_year(&funds, &projects, |_, _| true);
    let period: Vec<(&Year, &YearBooks)> = books.iter().filter(|(y, _)| in_program(**y)).collect();
    let delivered: Fen = period.iter().map(|(_, b)| b.disbursed).sum();
    let projects_total: u64 = period.iter().map(|(_, b)| b.projects).sum();
    let money_simulated = period.iter().any(|(_, b)| b.simulated);
    let (categories, livelihood, _) =
        categories_section(&funds, &projects, |_, _, y| in_program(y));
    let county_share = county_level_share(&funds, &ctx.tree, |r| in_program(r.year));

    let mut h = Headline::new(&ctx);
    money_headlines(
        &mut h,
        &ctx,
        &books,
        delivered,
        projects_total,
        money_simulated,
    );
    let meets = |s: Share, min: Share| if s >= min { "meets" } else { "below" };
    h.row(
        "Livelihood share of funds delivered",
        Cell::percent(livelihood),
        "percent",
        computed(money_simulated),
        Some((
            "xj.rule.livelihood_share_min_early",
            livelihood.to_f64() * 100.0,
        )),
        format!(
            "{} the program's threshold of {}",
            meets(livelihood, program.livelihood_share_min),
            program.livelihood_share_min.percent(0)
        ),
    );
    h.row(
        "County level and below, share of funds",
        Cell::percent(county_share),
        "percent",
        computed(money_simulated),
        Some((
            "xj.rule.county_level_share_min",
            county_share.to_f64() * 100.0,
        )),
        format!(
            "{} the threshold of {} (a 2019 rule)",
            meets(county_share, program.county_level_share_min),
            program.county_level_share_min.percent(0)
        ),
    );
    h.row(
        "Officials and experts posted",
        Cell::count(people.people),
        "people",
        computed(people.simulated),
        Some((
            "xj.personnel.officials_experts_article",
            people.people as f64,
        )),
        lower_bound_note(&ctx, "xj.personnel.officials_experts_article"),
    );

    let (pairs, scale) = pairs_section(&ctx);
    for (label, count, key) in scale {
        h.row(
            label,
            Cell::count(count),
            "units",
            computed(false),
            Some((key, count as f64)),
            String::new(),
        );
    }
    let poverty = poverty_section(&ctx);
    south4_headlines(&mut h, &ctx);
    let targets = super::recipient::targets_section(&ctx, |_| true);
    trade_headlines(&mut h, &trade, in_program);

    let years = years_section(&ctx, &books);
    let people_section = people_section(&postings);
    // The thresholds' sources are in the headline table, beside the shares they bound.
    let mut notes = vec![format!(
        "{}, {}–{}, money in yuan ({}). Figures computed from records say so; published figures carry \
         their source and confidence (V verified, V* secondary source, M from memory, L low).",
        program.name_en, program.first_year, program.last_year, program.currency,
    )];
    if money_simulated || people.simulated {
        notes.push(
            "SIMULATED: the projects, money, postings and outcome series of this program were made by the demo \
             generator (fixed seed); they are not real records. Figures computed from them say 'computed from simulated records'."
                .into(),
        );
    }
    Ok(Report {
        report: "summary",
        title: format!("{} — program summary", program.name_en),
        program: program.code.to_string(),
        notes,
        sections: vec![
            h.section,
            pairs,
            years,
            categories,
            people_section,
            poverty,
            targets,
        ],
    })
}

/// The headline rows of the program's money and projects, each beside its published figure.
fn money_headlines(
    h: &mut Headline,
    ctx: &Context,
    books: &BTreeMap<Year, YearBooks>,
    delivered: Fen,
    projects_total: u64,
    money_simulated: bool,
) {
    let program = &ctx.program;
    let span = format!("{}–{}", program.first_year, program.last_year);
    h.row(
        &format!("Funds delivered {span}"),
        Cell::money(delivered),
        "CNY",
        computed(money_simulated),
        Some(("xj.funds.total_2010_2019", bn(delivered))),
        String::new(),
    );
    if let Some(f) = ctx.fact("xj.funds.total_2010_2019_drc") {
        h.row(
            &format!("Funds delivered {span} (other definition)"),
            Cell::money(delivered),
            "CNY",
            computed(money_simulated),
            Some((&f.key, bn(delivered))),
            "a different official count; definitions differ".into(),
        );
    }
    for (y, key) in [
        (2011u16, "xj.funds.annual_2011"),
        (2018, "xj.funds.annual_2018"),
        (2019, "xj.funds.annual_2019"),
    ] {
        if let Some(b) = Year::new(y).ok().and_then(|y| books.get(&y)) {
            h.row(
                &format!("Funds delivered in {y}"),
                Cell::money(b.disbursed),
                "CNY",
                computed(b.simulated),
                Some((key, bn(b.disbursed))),
                lower_bound_note(ctx, key),
            );
        }
    }
    if let Some(b) = Year::new(2019).ok().and_then(|y| books.get(&y)) {
        h.row(
            "Projects approved in 2019",
            Cell::count(b.projects),
            "projects",
            computed(b.simulated),
            Some(("xj.projects.annual_2019", b.projects as f64)),
            String::new(),
        );
    }
    h.row(
        &format!("Projects approved {span}"),
        Cell::count(projects_total),
        "projects",
        computed(money_simulated),
        Some(("xj.projects.total_2010_2019_drc", projects_total as f64)),
        lower_bound_note(ctx, "xj.projects.total_2010_2019_drc"),
    );
}

/// South Xinjiang's four prefectures: poverty incidence in the years with a published figure.
fn south4_headlines(h: &mut Headline, ctx: &Context) {
    for y in [2014u16, 2018, 2019] {
        let key = format!("south4.poverty.incidence_{y}");
        if let Some((incidence, simulated)) = south4_incidence(&ctx.stats, &ctx.tree, y) {
            h.row(
                &format!("South-four poverty incidence {y}"),
                Cell::number(incidence, 2),
                "percent",
                computed(simulated),
                Some((&key, incidence)),
                String::new(),
            );
        }
    }
}

/// Consumption assistance and exchanges over the program's years.
fn trade_headlines(h: &mut Headline, trade: &[TradeRow], in_program: impl Fn(Year) -> bool) {
    let rows: Vec<&TradeRow> = trade.iter().filter(|t| in_program(t.year)).collect();
    trade_lines(
        h,
        &rows,
        [
            "Consumption assistance: purchases of recipient products",
            "Exchanges: visitors from recipient areas",
        ],
    );
}

/// Two headline rows: what was bought of recipient products, and how many visitors came
/// (`labels`: the two rows' labels).
pub(super) fn trade_lines(h: &mut Headline, rows: &[&TradeRow], labels: [&str; 2]) {
    let purchases: Fen = rows.iter().map(|t| t.purchases).sum();
    let visitors: u64 = rows.iter().map(|t| t.visitors).sum();
    let simulated = rows.iter().any(|t| t.simulated);
    h.plain(
        labels[0],
        Cell::money(purchases),
        "CNY",
        computed(simulated),
    );
    h.plain(
        labels[1],
        Cell::count(visitors),
        "people",
        computed(simulated),
    );
}

type Scale = Vec<(&'static str, u64, &'static str)>;

/// Who is paired with whom, provider by provider, and the scale of the table.
fn pairs_section(ctx: &Context) -> (Section, Scale) {
    let mut section = Section::new(
        "pairs",
        "Pairs: providers and the areas they support",
        vec![
            col("provider", "provider", None),
            col("prefectures", "prefectures", None),
            col("county_units", "county-level units", Some("units")),
            col("xpcc_divisions", "XPCC divisions", None),
            col("since", "since", None),
            col("provenance", "provenance", None),
        ],
    );
    let mut prefectures_all: Vec<RegionCode> = Vec::new();
    let (mut counties_all, mut divisions_all) = (0u64, 0u64);
    for provider in &ctx.providers {
        let pairs: Vec<_> = ctx
            .frame
            .pairs
            .iter()
            .filter(|p| &p.provider == provider)
            .collect();
        let mut prefectures: Vec<String> = Vec::new();
        let (mut counties, mut divisions) = (0u64, Vec::new());
        for pair in &pairs {
            let Some(region) = ctx.tree.get(&pair.recipient) else {
                continue;
            };
            if region.kind == RegionKind::XpccDivision {
                divisions.push(region.name_en.clone());
                continue;
            }
            if region.kind.is_county_level_or_below() {
                counties += 1;
            }
            if let Some(p) = ctx.tree.enclosing(&pair.recipient, RegionKind::Prefecture) {
                if !prefectures.contains(&p.name_en) {
                    prefectures.push(p.name_en.clone());
                }
                if !prefectures_all.contains(&p.code) {
                    prefectures_all.push(p.code.clone());
                }
            }
        }
        counties_all += counties;
        divisions_all += divisions.len() as u64;
        let weakest = pairs
            .iter()
            .filter_map(|p| p.confidence())
            .max()
            .unwrap_or(Confidence::Low);
        let since = pairs
            .iter()
            .map(|p| p.first_year)
            .min()
            .map_or(Cell::Empty, |y| Cell::Int(i64::from(y.get())));
        let source = pairs
            .first()
            .map(|p| p.provenance.label())
            .unwrap_or_default();
        let source = source
            .rsplit_once(" [")
            .map_or(source.clone(), |(s, _)| s.to_owned());
        section.push(vec![
            Cell::text(ctx.name(provider)),
            Cell::text(prefectures.join(", ")),
            Cell::count(counties),
            Cell::text(divisions.join(", ")),
            since,
            Cell::text(format!("{source} [weakest {}]", weakest.code())),
        ]);
    }
    let scale = vec![
        (
            "Providers",
            ctx.providers.len() as u64,
            "xj.scale_2010.providers",
        ),
        (
            "Recipient prefectures",
            prefectures_all.len() as u64,
            "xj.scale_2010.prefectures",
        ),
        (
            "Recipient county-level units",
            counties_all,
            "xj.scale_2010.county_units",
        ),
        (
            "Recipient XPCC divisions",
            divisions_all,
            "xj.scale_2010.xpcc_divisions",
        ),
    ];
    (section, scale)
}

fn years_section(ctx: &Context, books: &BTreeMap<Year, YearBooks>) -> Section {
    let mut section = Section::new(
        "years",
        "Quota and funds by year",
        vec![
            col("year", "year", None),
            col("quota", "quota (yuan)", Some("fen")),
            col("committed", "committed (yuan)", Some("fen")),
            col("delivered", "delivered (yuan)", Some("fen")),
            col("spent", "spent (yuan)", Some("fen")),
            col("delivered_of_quota", "delivered of quota", Some("percent")),
            col("projects", "projects", Some("projects")),
            col("published_funds", "published funds", Some("bn CNY")),
            col("published_projects", "published projects", Some("projects")),
            col("provenance", "provenance", None),
        ],
    );
    for year in ctx.program.years() {
        let b = books.get(&year).copied().unwrap_or_default();
        let quotas: Vec<_> = ctx
            .providers
            .iter()
            .filter_map(|p| ctx.quota(p, year))
            .collect();
        let quota: Fen = quotas.iter().map(|q| q.amount).sum();
        let quota_simulated = quotas.iter().any(|q| ctx.quota_simulated(q));
        let fact = |key: String| {
            ctx.fact(&key)
                .and_then(|f| f.number())
                .map_or(Cell::Empty, Cell::Number)
        };
        section.push(vec![
            Cell::Int(i64::from(year.get())),
            if quotas.is_empty() {
                Cell::Empty
            } else {
                Cell::money(quota)
            },
            Cell::money(b.committed),
            Cell::money(b.disbursed),
            Cell::money(b.spent),
            if quotas.is_empty() {
                Cell::Empty
            } else {
                Cell::percent(Share::of_parts(b.disbursed, quota))
            },
            Cell::count(b.projects),
            fact(format!("xj.funds.annual_{year}")),
            fact(format!("xj.projects.annual_{year}")),
            Cell::text(computed(b.simulated || quota_simulated)),
        ]);
    }
    section
}

pub(super) fn people_section(postings: &[counterpart_store::PostingsRow]) -> Section {
    let mut section = Section::new(
        "people",
        "Officials and experts: postings by the year they started",
        vec![
            col("year", "year", None),
            col("cadres", "cadre postings", Some("postings")),
            col("professionals", "professional postings", Some("postings")),
            col("provenance", "provenance", None),
        ],
    );
    let mut by: BTreeMap<Year, (u64, u64, bool)> = BTreeMap::new();
    for row in postings {
        let e = by.entry(row.year).or_default();
        match row.role {
            Role::Cadre => e.0 += row.postings,
            Role::Professional => e.1 += row.postings,
        }
        e.2 |= row.simulated;
    }
    for (year, (cadres, professionals, simulated)) in by {
        section.push(vec![
            Cell::Int(i64::from(year.get())),
            Cell::count(cadres),
            Cell::count(professionals),
            Cell::text(computed(simulated)),
        ]);
    }
    section
}

/// The county-level units of the south-four prefectures.
fn south4_units(tree: &RegionTree) -> Vec<RegionCode> {
    crate::demo::SOUTH4
        .iter()
        .filter_map(|p| RegionCode::parse(p).ok())
        .flat_map(|p| tree.children(&p).to_vec())
        .collect()
}

/// Sum the latest values of an additive indicator over regions, with whether any is simulated.
pub(super) fn sum_indicator(
    stats: &Statistics,
    regions: &[RegionCode],
    kind: IndicatorKind,
    year: u16,
) -> Option<(i64, bool)> {
    let year = Year::new(year).ok()?;
    let values: Vec<_> = regions
        .iter()
        .filter_map(|r| stats.latest(r, kind, year))
        .collect();
    if values.is_empty() {
        return None;
    }
    Some((
        values.iter().map(|v| v.value).sum(),
        values.iter().any(|v| v.provenance.is_simulated()),
    ))
}

/// Registered poor over rural population of the south four, in percent.
fn south4_incidence(stats: &Statistics, tree: &RegionTree, year: u16) -> Option<(f64, bool)> {
    let units = south4_units(tree);
    let (poor, s1) = sum_indicator(stats, &units, IndicatorKind::RegisteredPoor, year)?;
    let (rural, s2) = sum_indicator(stats, &units, IndicatorKind::RuralPopulation, year)?;
    (rural > 0).then(|| (poor as f64 * 100.0 / rural as f64, s1 || s2))
}

fn poverty_section(ctx: &Context) -> Section {
    let mut section = Section::new(
        "poverty",
        "Poverty in the south-four prefectures (Kashgar, Hotan, Aksu, Kizilsu)",
        vec![
            col("year", "year", None),
            col("registered_poor", "registered poor", Some("people")),
            col("rural_population", "rural population", Some("people")),
            col("incidence", "incidence", Some("percent")),
            col(
                "published_incidence",
                "published incidence",
                Some("percent"),
            ),
            col(
                "difference_pp",
                "difference (points)",
                Some("percentage points"),
            ),
            col("provenance", "provenance", None),
            col("published_source", "published source", None),
        ],
    );
    let units = south4_units(&ctx.tree);
    for year in 2010..=2025u16 {
        let Some((poor, s1)) =
            sum_indicator(&ctx.stats, &units, IndicatorKind::RegisteredPoor, year)
        else {
            continue;
        };
        let Some((rural, s2)) =
            sum_indicator(&ctx.stats, &units, IndicatorKind::RuralPopulation, year)
        else {
            continue;
        };
        let incidence = if rural > 0 {
            poor as f64 * 100.0 / rural as f64
        } else {
            0.0
        };
        let fact = ctx.fact(&format!("south4.poverty.incidence_{year}"));
        let published_value = fact.and_then(|f| f.number());
        section.push(vec![
            Cell::Int(i64::from(year)),
            Cell::Int(poor),
            Cell::Int(rural),
            Cell::number(incidence, 2),
            Cell::opt(published_value.map(Cell::Number)),
            Cell::opt(published_value.map(|p| Cell::number(incidence - p, 2))),
            Cell::text(computed(s1 || s2)),
            Cell::opt(fact.map(|f| Cell::text(published(f)))),
        ]);
    }
    section
}
