//! The compliance table: every provider-year held to the program's rules.

use super::context::{Context, computed};
use super::summary::Headline;
use super::{Cell, Report, ReportError, Section, col};
use counterpart_domain::compliance::{
    Books, Compliance, Finding, Pace, Policy, compliance as check, pace,
};
use counterpart_domain::project::{CategoryGroup, TransferKind};
use counterpart_domain::{Date, Fen, RegionCode, Year};
use counterpart_store::Store;
use std::collections::BTreeMap;

/// Sum the store's grouped rows into books per provider-year.
fn books(
    ctx: &Context,
    funds: &[counterpart_store::FundsRow],
    projects: &[counterpart_store::ProjectsRow],
) -> BTreeMap<(RegionCode, Year), (Books, bool)> {
    let mut books: BTreeMap<(RegionCode, Year), (Books, bool)> = BTreeMap::new();
    for row in funds {
        let (b, simulated) = books.entry((row.provider.clone(), row.year)).or_default();
        *simulated |= row.simulated;
        match row.kind {
            TransferKind::Commit => b.committed += row.amount,
            TransferKind::Disburse => {
                b.disbursed += row.amount;
                if row.category.group() == CategoryGroup::Livelihood {
                    b.livelihood += row.amount;
                }
                if ctx
                    .tree
                    .get(&row.recipient)
                    .is_some_and(|r| r.kind.is_county_level_or_below())
                {
                    b.county_level += row.amount;
                }
            }
            TransferKind::Spend => b.spent += row.amount,
            _ => {}
        }
    }
    for row in projects {
        let (b, simulated) = books.entry((row.provider.clone(), row.year)).or_default();
        *simulated |= row.simulated;
        b.projects += row.projects;
        if row.status.is_started() {
            b.projects_started += row.projects;
        }
    }
    books
}

/// Every provider-year of the program (or of one provider, one year), with its findings. With
/// `as_of`, money counts up to that date and the year's pace is projected to its end.
pub async fn compliance(
    store: &dyn Store,
    year: Option<Year>,
    provider: Option<&str>,
    as_of: Option<Date>,
) -> Result<Report, ReportError> {
    let ctx = Context::load(store).await?;
    let provider = match provider {
        Some(name) => Some(
            ctx.find_region(name, "provider", |r| ctx.providers.contains(&r.code))?
                .code
                .clone(),
        ),
        None => None,
    };
    let as_of_year = as_of
        .map(|d| Year::new(d.year() as u16))
        .transpose()
        .map_err(|e| ReportError::Invalid(e.to_string()))?;
    if let (Some(y), Some(a)) = (year, as_of_year)
        && y != a
    {
        return Err(ReportError::Invalid(format!(
            "--as-of {} is not in --year {y}",
            as_of.expect("set")
        )));
    }
    let year = year.or(as_of_year);
    let funds = store.funds(as_of).await?;
    let projects = store.projects_summary().await?;
    let books = books(&ctx, &funds, &projects);
    let policy = Policy {
        livelihood_share_min: ctx.program.livelihood_share_min,
        county_level_share_min: ctx.program.county_level_share_min,
    };

    let mut section = compliance_section();
    let (mut checked, mut clean, mut arrears_total, mut simulated_any) =
        (0u64, 0u64, Fen::ZERO, false);
    let mut by_finding: BTreeMap<Finding, u64> = BTreeMap::new();
    for p in ctx
        .providers
        .iter()
        .filter(|p| provider.as_ref().is_none_or(|only| only == *p))
    {
        for y in ctx
            .program
            .years()
            .filter(|y| year.is_none_or(|only| only == *y))
        {
            let (b, simulated) = books.get(&(p.clone(), y)).copied().unwrap_or_default();
            let quota = ctx.quota(p, y);
            let quota_simulated = quota.as_ref().is_some_and(|q| ctx.quota_simulated(q));
            let (result, projection) =
                check_year(&b, quota.as_ref().map(|q| q.amount), &policy, as_of);
            checked += 1;
            clean += u64::from(result.findings.is_empty());
            arrears_total += if projection.is_some() {
                Fen::ZERO
            } else {
                result.arrears
            };
            simulated_any |= simulated || quota_simulated;
            for f in &result.findings {
                *by_finding.entry(*f).or_default() += 1;
            }
            section.push(row(
                ctx.name(p),
                y,
                &b,
                &result,
                projection,
                computed(simulated || quota_simulated),
            ));
        }
    }
    let tally = Tally {
        checked,
        clean,
        arrears: arrears_total,
        by_finding,
        simulated: simulated_any,
    };
    let headline = headline(&ctx, &tally, as_of.is_some());
    // The thresholds' sources are in the program summary, beside the shares they bound.
    let mut notes = vec![format!(
        "Thresholds: livelihood ≥ {}, county level and below ≥ {}. 'Two 100%': funds delivered = disbursed / \
         committed, projects started = started / approved.",
        ctx.program.livelihood_share_min.percent(0),
        ctx.program.county_level_share_min.percent(0),
    )];
    if let Some(date) = as_of {
        notes.push(format!(
            "As of {date}: money counts up to that day; 'projected' scales it to the whole year at the same daily pace, \
             and pace_shortfall warns where that falls short of the quota."
        ));
    }
    if simulated_any {
        notes.push(
            "SIMULATED: the money and projects checked here come from the demo generator.".into(),
        );
    }
    Ok(Report {
        report: "compliance",
        title: format!(
            "{} — compliance{}{}",
            ctx.program.name_en,
            provider
                .as_ref()
                .map_or(String::new(), |p| format!(", {}", ctx.name(p))),
            as_of.map_or_else(
                || year.map_or(String::new(), |y| format!(", {y}")),
                |d| format!(", as of {d}")
            )
        ),
        program: ctx.program.code.to_string(),
        notes,
        sections: vec![headline, section],
    })
}

/// The compliance table, empty.
fn compliance_section() -> Section {
    Section::new(
        "compliance",
        "Compliance by provider and year",
        vec![
            col("provider", "provider", None),
            col("year", "year", None),
            col("quota", "quota (yuan)", Some("fen")),
            col("committed", "committed (yuan)", Some("fen")),
            col("disbursed", "disbursed (yuan)", Some("fen")),
            col("spent", "spent (yuan)", Some("fen")),
            col("delivered_of_quota", "delivered of quota", Some("percent")),
            col("arrears", "arrears (yuan)", Some("fen")),
            col("livelihood", "livelihood", Some("percent")),
            col("county_level", "county level", Some("percent")),
            col("funds_delivered", "funds delivered", Some("percent")),
            col("projects_started", "projects started", Some("percent")),
            col("projected", "projected for the year (yuan)", Some("fen")),
            col("findings", "findings", None),
            col("provenance", "provenance", None),
        ],
    )
}

/// One provider-year checked; with `as_of`, its pace projected to the year's end. Mid-year,
/// money not yet disbursed and projects not yet started are not yet findings: the year-end
/// checks wait, and the pace decides.
fn check_year(
    b: &Books,
    quota: Option<Fen>,
    policy: &Policy,
    as_of: Option<Date>,
) -> (Compliance, Option<Pace>) {
    let mut result = check(b, quota, policy);
    let projection = match (as_of, quota) {
        (Some(date), Some(q)) => Some(pace(q, b.disbursed, date)),
        _ => None,
    };
    if let Some(pace) = projection {
        result.findings.retain(|f| {
            !matches!(
                f,
                Finding::Arrears | Finding::FundsNotAllDelivered | Finding::ProjectsNotAllStarted
            )
        });
        if pace.shortfall > Fen::ZERO {
            result.findings.push(Finding::PaceShortfall);
        }
    }
    (result, projection)
}

/// A provider-year's row of the compliance table.
fn row(
    provider: String,
    y: Year,
    b: &Books,
    result: &Compliance,
    projection: Option<Pace>,
    provenance: String,
) -> Vec<Cell> {
    let findings: Vec<&str> = result.findings.iter().map(|f| f.code()).collect();
    vec![
        Cell::text(provider),
        Cell::Int(i64::from(y.get())),
        Cell::opt(result.quota.map(Cell::money)),
        Cell::money(b.committed),
        Cell::money(b.disbursed),
        Cell::money(b.spent),
        Cell::opt(result.delivered_of_quota.map(Cell::percent)),
        Cell::money(result.arrears),
        Cell::percent(result.livelihood_share),
        Cell::percent(result.county_level_share),
        Cell::percent(result.funds_delivered),
        Cell::percent(result.projects_started),
        Cell::opt(projection.map(|p| Cell::money(p.projected))),
        Cell::text(if findings.is_empty() {
            "none".to_owned()
        } else {
            findings.join(", ")
        }),
        Cell::text(provenance),
    ]
}

/// What the compliance check found, over all provider-years checked.
struct Tally {
    checked: u64,
    clean: u64,
    arrears: Fen,
    by_finding: BTreeMap<Finding, u64>,
    simulated: bool,
}

/// The headline figures of a compliance check; `mid_year` (an as-of date) leaves arrears out.
fn headline(ctx: &Context, tally: &Tally, mid_year: bool) -> Section {
    let mut h = Headline::new(ctx);
    let provenance = computed(tally.simulated);
    h.plain(
        "Provider-years checked",
        Cell::count(tally.checked),
        "provider-years",
        provenance.clone(),
    );
    h.plain(
        "Provider-years with no finding",
        Cell::count(tally.clean),
        "provider-years",
        provenance.clone(),
    );
    if !mid_year {
        h.plain(
            "Arrears against quota",
            Cell::money(tally.arrears),
            "CNY",
            provenance.clone(),
        );
    }
    for (finding, count) in &tally.by_finding {
        h.plain(
            &format!("Finding: {}", finding.code()),
            Cell::count(*count),
            "provider-years",
            provenance.clone(),
        );
    }
    h.section
}
