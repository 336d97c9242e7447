//! A recipient's page: who helps it, the money and people that arrived, outcomes and targets.

use super::context::{Context, computed};
use super::summary::{
    Headline, YearBooks, books_by_year, categories_section, people_section, sum_indicator,
};
use super::{Cell, Report, ReportError, Section, col};
use counterpart_domain::indicator::{IndicatorKind, Unit};
use counterpart_domain::outcome::{self, Target};
use counterpart_domain::region::RegionKind;
use counterpart_domain::{Fen, Provenance, RegionCode, Year};
use counterpart_store::{PeopleScope, Store};

/// The value of an indicator for a region: its own, or the sum of the regions below it for
/// additive indicators.
pub(super) fn region_value(
    ctx: &Context,
    region: &RegionCode,
    kind: IndicatorKind,
    year: u16,
) -> Option<(i64, bool)> {
    let y = Year::new(year).ok()?;
    if let Some(v) = ctx.stats.latest(region, kind, y) {
        return Some((v.value, v.provenance.is_simulated()));
    }
    if kind.unit() == Unit::BasisPoints {
        return None;
    }
    let below: Vec<RegionCode> = ctx
        .tree
        .subtree(region)
        .into_iter()
        .filter(|c| c != region)
        .collect();
    let leaves: Vec<RegionCode> = below
        .iter()
        .filter(|c| ctx.tree.children(c).is_empty())
        .cloned()
        .collect();
    sum_indicator(&ctx.stats, &leaves, kind, year)
}

/// A target's observed value and year, the trend's projection, its status and provenance.
struct TargetStatus {
    observed: Cell,
    year: Cell,
    slope: Cell,
    at_deadline: Cell,
    met_in: Cell,
    status: String,
    provenance: String,
}

/// A target's observations: each year's value of its indicator in its region (the region's
/// own, or summed from the regions below it), with whether the value is simulated.
pub fn target_series(ctx: &Context, target: &Target) -> Vec<(u16, i64, bool)> {
    (1990..=2100u16)
        .filter_map(|y| {
            region_value(ctx, &target.region, target.indicator, y).map(|(v, s)| (y, v, s))
        })
        .collect()
}

fn target_status(ctx: &Context, target: &Target) -> TargetStatus {
    let deadline_year = target.deadline.year() as u16;
    let years = target_series(ctx, target);
    let met = years
        .iter()
        .find(|(y, v, _)| *y <= deadline_year && *v <= target.value);
    let latest = years.last();
    // The trend from the observations up to the deadline (after it, the target is decided).
    let before: Vec<(u16, i64)> = years
        .iter()
        .filter(|(y, _, _)| *y <= deadline_year)
        .map(|(y, v, _)| (*y, *v))
        .collect();
    let projection = outcome::project(&before, target.value, deadline_year);
    let status = match (met, latest, &projection) {
        (Some((y, _, _)), _, _) => format!("met in {y}"),
        (None, Some((y, _, _)), _) if *y >= deadline_year => "missed".to_owned(),
        (None, Some((y, v, _)), Some(p)) => match p.met_in {
            Some(m) if p.on_track => {
                format!("open: {v} in {y}; on track, met in {m} at the current pace")
            }
            Some(m) => format!("open: {v} in {y}; off track, met in {m} at the current pace"),
            None => format!("open: {v} in {y}; off track, not falling"),
        },
        (None, Some((y, v, _)), None) => format!("open: {v} in {y}"),
        (None, None, _) => "no observations".to_owned(),
    };
    let simulated = years.iter().any(|(_, _, s)| *s);
    let shown = met.or(latest);
    let open = met.is_none() && latest.is_some_and(|(y, _, _)| *y < deadline_year);
    let projected = projection.filter(|_| open);
    TargetStatus {
        observed: Cell::opt(shown.map(|(_, v, _)| Cell::Int(*v))),
        year: Cell::opt(shown.map(|(y, _, _)| Cell::Int(i64::from(*y)))),
        slope: Cell::opt(projected.as_ref().map(|p| Cell::number(p.slope, 1))),
        at_deadline: Cell::opt(projected.as_ref().map(|p| Cell::number(p.at_deadline, 0))),
        met_in: Cell::opt(
            projected
                .as_ref()
                .and_then(|p| p.met_in)
                .map(|y| Cell::Int(i64::from(y))),
        ),
        status,
        provenance: computed(simulated),
    }
}

/// Targets whose region passes `keep`, with their status from the observed series and, while
/// open, the trend of the last observations (least squares, association with time only).
pub(super) fn targets_section(ctx: &Context, keep: impl Fn(&RegionCode) -> bool) -> Section {
    let mut section = Section::new(
        "targets",
        "Outcome targets",
        vec![
            col("region", "region", None),
            col("indicator", "indicator", None),
            col("target", "target", None),
            col("deadline", "deadline", None),
            col("observed", "observed", None),
            col("observed_year", "year", None),
            col("trend", "trend per year", None),
            col("projected", "projected at deadline", None),
            col("met_in", "met at current pace", None),
            col("status", "status", None),
            col("provenance", "observations", None),
            col("source", "target source", None),
        ],
    );
    for target in ctx.frame.targets.iter().filter(|t| keep(&t.region)) {
        let s = target_status(ctx, target);
        section.push(vec![
            Cell::text(ctx.name(&target.region)),
            Cell::text(target.indicator.code()),
            Cell::Int(target.value),
            Cell::text(target.deadline.to_string()),
            s.observed,
            s.year,
            s.slope,
            s.at_deadline,
            s.met_in,
            Cell::text(s.status),
            Cell::text(s.provenance),
            Cell::text(target.provenance.label()),
        ]);
    }
    section
}

/// A recipient's page: a prefecture, county, division, or any area above them.
pub async fn recipient(
    store: &dyn Store,
    name: &str,
    year: Option<Year>,
) -> Result<Report, ReportError> {
    let ctx = Context::load(store).await?;
    let recipients: Vec<RegionCode> = ctx
        .frame
        .pairs
        .iter()
        .map(|p| p.recipient.clone())
        .collect();
    let region = ctx
        .find_region(name, "recipient area", |r| {
            recipients
                .iter()
                .any(|c| ctx.tree.is_within(c, &r.code) || ctx.tree.is_within(&r.code, c))
                && !ctx.providers.contains(&r.code)
                && r.kind != RegionKind::Country
        })?
        .clone();
    let area = ctx.tree.subtree(&region.code);
    let inside = |c: &RegionCode| area.contains(c);
    let in_scope = |y: Year| year.map_or(ctx.program.contains_year(y), |only| only == y);
    let funds = store.funds(None).await?;
    let projects = store.projects_summary().await?;
    let postings: Vec<_> = store
        .postings_summary()
        .await?
        .into_iter()
        .filter(|r| inside(&r.recipient) && in_scope(r.year))
        .collect();
    let people = store
        .people_posted(&PeopleScope::Recipients(area.clone()))
        .await?;

    let books = books_by_year(&funds, &projects, |_, r| inside(r));
    let scoped: Vec<_> = books.iter().filter(|(y, _)| in_scope(**y)).collect();
    let delivered: Fen = scoped.iter().map(|(_, b)| b.disbursed).sum();
    let count: u64 = scoped.iter().map(|(_, b)| b.projects).sum();
    let simulated = scoped.iter().any(|(_, b)| b.simulated);
    let (categories, livelihood, _) =
        categories_section(&funds, &projects, |_, r, y| inside(r) && in_scope(y));

    let mut h = Headline::new(&ctx);
    h.plain(
        "Funds delivered",
        Cell::money(delivered),
        "CNY",
        computed(simulated),
    );
    h.plain(
        "Projects",
        Cell::count(count),
        "projects",
        computed(simulated),
    );
    h.plain(
        "Livelihood share of funds",
        Cell::percent(livelihood),
        "percent",
        computed(simulated),
    );
    h.plain(
        "Officials and experts posted here (all years)",
        Cell::count(people.people),
        "people",
        computed(people.simulated),
    );

    let helpers = helpers_section(&ctx, &region.code, &area);
    let years = arrivals_section(&scoped);
    let outcomes = outcomes_section(&ctx, &region.code);
    let targets = targets_section(&ctx, |r| inside(r) || ctx.tree.is_within(&region.code, r));
    let mut notes = vec![format!(
        "{} ({}), a {} in {}.",
        region.name_en,
        region.name_zh,
        region.kind.code().replace('_', " "),
        ctx.program.name_en
    )];
    if simulated || people.simulated {
        notes.push("SIMULATED: projects, money, postings and outcome series here come from the demo generator.".into());
    }
    Ok(Report {
        report: "recipient",
        title: format!(
            "{} — recipient{}",
            region.name_en,
            year.map_or(String::new(), |y| format!(", {y}"))
        ),
        program: ctx.program.code.to_string(),
        notes,
        sections: vec![
            h.section,
            helpers,
            years,
            categories,
            people_section(&postings),
            outcomes,
            targets,
        ],
    })
}

fn outcomes_section(ctx: &Context, region: &RegionCode) -> Section {
    let mut section = Section::new(
        "outcomes",
        "Outcomes: poverty and population",
        vec![
            col("year", "year", None),
            col("registered_poor", "registered poor", Some("people")),
            col("rural_population", "rural population", Some("people")),
            col("incidence", "incidence", Some("percent")),
            col("population", "population", Some("people")),
            col("provenance", "provenance", None),
        ],
    );
    for year in 2008..=2025u16 {
        let poor = region_value(ctx, region, IndicatorKind::RegisteredPoor, year);
        let rural = region_value(ctx, region, IndicatorKind::RuralPopulation, year);
        let population = region_value(ctx, region, IndicatorKind::Population, year);
        if poor.is_none() && population.is_none() {
            continue;
        }
        let own_incidence = Year::new(year)
            .ok()
            .and_then(|y| ctx.stats.latest(region, IndicatorKind::PovertyIncidence, y));
        let incidence = match (own_incidence, poor, rural) {
            (Some(v), _, _) => Some(v.value as f64 / 100.0),
            (None, Some((p, _)), Some((r, _))) if r > 0 => Some(p as f64 * 100.0 / r as f64),
            _ => None,
        };
        let provenances: Vec<bool> = [poor, rural, population]
            .iter()
            .flatten()
            .map(|(_, s)| *s)
            .collect();
        let published_only = own_incidence.is_some_and(|v| !v.provenance.is_simulated())
            && poor.is_some_and(|(_, s)| !s);
        let provenance = if published_only {
            own_incidence
                .map(|v| v.provenance.label())
                .unwrap_or_default()
        } else {
            Provenance::Computed {
                simulated_inputs: provenances.iter().any(|s| *s),
            }
            .label()
        };
        section.push(vec![
            Cell::Int(i64::from(year)),
            Cell::opt(poor.map(|(v, _)| Cell::Int(v))),
            Cell::opt(rural.map(|(v, _)| Cell::Int(v))),
            Cell::opt(incidence.map(|i| Cell::number(i, 2))),
            Cell::opt(population.map(|(v, _)| Cell::Int(v))),
            Cell::text(provenance),
        ]);
    }
    section
}

/// The pairs whose recipient is in the area or encloses it.
fn helpers_section(ctx: &Context, region: &RegionCode, area: &[RegionCode]) -> Section {
    let inside = |c: &RegionCode| area.contains(c);
    let mut helpers = Section::new(
        "providers",
        "Who helps this area",
        vec![
            col("provider", "provider", None),
            col("unit", "paired unit", None),
            col("since", "since", None),
            col("provenance", "provenance", None),
        ],
    );
    for pair in ctx
        .frame
        .pairs
        .iter()
        .filter(|p| inside(&p.recipient) || ctx.tree.is_within(region, &p.recipient))
    {
        helpers.push(vec![
            Cell::text(ctx.name(&pair.provider)),
            Cell::text(ctx.name(&pair.recipient)),
            Cell::Int(i64::from(pair.first_year.get())),
            Cell::text(pair.provenance.label()),
        ]);
    }
    helpers
}

/// The money and projects that arrived, by year.
fn arrivals_section(scoped: &[(&Year, &YearBooks)]) -> Section {
    let mut years = Section::new(
        "years",
        "Funds arrived by year",
        vec![
            col("year", "year", None),
            col("committed", "committed (yuan)", Some("fen")),
            col("delivered", "delivered (yuan)", Some("fen")),
            col("spent", "spent (yuan)", Some("fen")),
            col("projects", "projects", Some("projects")),
            col("provenance", "provenance", None),
        ],
    );
    for (y, b) in scoped.iter().copied() {
        years.push(vec![
            Cell::Int(i64::from(y.get())),
            Cell::money(b.committed),
            Cell::money(b.disbursed),
            Cell::money(b.spent),
            Cell::count(b.projects),
            Cell::text(computed(b.simulated)),
        ]);
    }
    years
}
