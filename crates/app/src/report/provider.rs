//! A provider's scorecard: its pairs, quota against money by year, categories, people.

use super::context::{Context, computed};
use super::summary::{
    Headline, YearBooks, books_by_year, categories_section, county_level_share, people_section,
    trade_lines,
};
use super::{Cell, Report, ReportError, Section, col};
use counterpart_domain::{Fen, RegionCode, Share, Year};
use counterpart_store::{PeopleScope, Store};
use std::collections::BTreeMap;

pub async fn provider(
    store: &dyn Store,
    name: &str,
    year: Option<Year>,
) -> Result<Report, ReportError> {
    let ctx = Context::load(store).await?;
    let provider = ctx
        .find_region(name, "provider", |r| ctx.providers.contains(&r.code))?
        .code
        .clone();
    let in_scope = |y: Year| year.map_or(ctx.program.contains_year(y), |only| only == y);
    let funds = store.funds(None).await?;
    let projects = store.projects_summary().await?;
    let postings: Vec<_> = store
        .postings_summary()
        .await?
        .into_iter()
        .filter(|r| r.provider == provider && in_scope(r.year))
        .collect();
    let people = store
        .people_posted(&PeopleScope::Provider(provider.clone()))
        .await?;
    let trade: Vec<_> = store
        .trade()
        .await?
        .into_iter()
        .filter(|t| t.provider == provider && in_scope(t.year))
        .collect();

    let books = books_by_year(&funds, &projects, |p, _| p == &provider);
    let (categories, livelihood, _) =
        categories_section(&funds, &projects, |p, _, y| p == &provider && in_scope(y));
    let county_share = county_level_share(&funds, &ctx.tree, |r| {
        r.provider == provider && in_scope(r.year)
    });

    let quota = quota_by_year(&ctx, &provider, &books, in_scope);
    let (quota_total, delivered_total, simulated) = (quota.quota, quota.delivered, quota.simulated);

    let mut h = Headline::new(&ctx);
    h.row(
        "Quota",
        Cell::money(quota_total),
        "CNY",
        computed(simulated),
        None,
        "from the program's quota rule".into(),
    );
    h.plain(
        "Funds delivered",
        Cell::money(delivered_total),
        "CNY",
        computed(simulated),
    );
    h.plain(
        "Delivered of quota",
        Cell::percent(Share::of_parts(delivered_total, quota_total)),
        "percent",
        computed(simulated),
    );
    h.row(
        "Livelihood share of funds",
        Cell::percent(livelihood),
        "percent",
        computed(simulated),
        None,
        format!("threshold {}", ctx.program.livelihood_share_min.percent(0)),
    );
    h.row(
        "County level and below, share of funds",
        Cell::percent(county_share),
        "percent",
        computed(simulated),
        None,
        format!(
            "threshold {}",
            ctx.program.county_level_share_min.percent(0)
        ),
    );
    h.plain(
        "Officials and experts posted (all years)",
        Cell::count(people.people),
        "people",
        computed(people.simulated),
    );
    let trade: Vec<_> = trade.iter().collect();
    trade_lines(
        &mut h,
        &trade,
        [
            "Purchases of recipient products",
            "Visitors from recipient areas",
        ],
    );

    let region = ctx.tree.get(&provider).expect("found above");
    let mut notes = vec![format!(
        "{} ({}) in {}.",
        region.name_en, region.name_zh, ctx.program.name_en
    )];
    if simulated || people.simulated {
        notes.push(
            "SIMULATED: this provider's projects, money and postings come from the demo generator."
                .into(),
        );
    }
    Ok(Report {
        report: "provider",
        title: format!(
            "{} — provider scorecard{}",
            region.name_en,
            year.map_or(String::new(), |y| format!(", {y}"))
        ),
        program: ctx.program.code.to_string(),
        notes,
        sections: vec![
            h.section,
            pairs_section(&ctx, &provider),
            quota.section,
            categories,
            people_section(&postings),
        ],
    })
}

/// Quota against money by year, and the totals over the years shown.
struct QuotaYears {
    section: Section,
    quota: Fen,
    delivered: Fen,
    simulated: bool,
}

fn quota_by_year(
    ctx: &Context,
    provider: &RegionCode,
    books: &BTreeMap<Year, YearBooks>,
    in_scope: impl Fn(Year) -> bool,
) -> QuotaYears {
    let mut quota_section = Section::new(
        "years",
        "Quota against money, by year",
        vec![
            col("year", "year", None),
            col("quota", "quota (yuan)", Some("fen")),
            col("rate", "rate", Some("percent")),
            col("base_year", "base year", None),
            col("base", "base: fiscal revenue (yuan)", Some("fen")),
            col("committed", "committed (yuan)", Some("fen")),
            col("delivered", "delivered (yuan)", Some("fen")),
            col("spent", "spent (yuan)", Some("fen")),
            col("delivered_of_quota", "delivered of quota", Some("percent")),
            col("arrears", "arrears (yuan)", Some("fen")),
            col("projects", "projects", Some("projects")),
            col("provenance", "provenance", None),
        ],
    );
    let (mut quota_total, mut delivered_total, mut simulated) = (Fen::ZERO, Fen::ZERO, false);
    for y in ctx.program.years().filter(|y| in_scope(*y)) {
        let b = books.get(&y).copied().unwrap_or_default();
        let quota = ctx.quota(provider, y);
        let quota_sim = quota.as_ref().is_some_and(|q| ctx.quota_simulated(q));
        simulated |= b.simulated || quota_sim;
        delivered_total += b.disbursed;
        quota_total += quota.as_ref().map_or(Fen::ZERO, |q| q.amount);
        quota_section.push(vec![
            Cell::Int(i64::from(y.get())),
            Cell::opt(quota.as_ref().map(|q| Cell::money(q.amount))),
            Cell::opt(
                quota
                    .as_ref()
                    .map(|q| Cell::number(q.rate.to_f64() * 100.0, 4)),
            ),
            Cell::opt(
                quota
                    .as_ref()
                    .map(|q| Cell::Int(i64::from(q.base_year.get()))),
            ),
            Cell::opt(quota.as_ref().map(|q| Cell::money(q.base))),
            Cell::money(b.committed),
            Cell::money(b.disbursed),
            Cell::money(b.spent),
            Cell::opt(
                quota
                    .as_ref()
                    .map(|q| Cell::percent(Share::of_parts(b.disbursed, q.amount))),
            ),
            Cell::opt(
                quota
                    .as_ref()
                    .map(|q| Cell::money(q.amount.saturating_sub(b.disbursed))),
            ),
            Cell::count(b.projects),
            Cell::text(computed(b.simulated || quota_sim)),
        ]);
    }
    QuotaYears {
        section: quota_section,
        quota: quota_total,
        delivered: delivered_total,
        simulated,
    }
}

/// The provider's pairs, with the area enclosing each recipient.
fn pairs_section(ctx: &Context, provider: &RegionCode) -> Section {
    let mut pairs = Section::new(
        "pairs",
        "Pairs",
        vec![
            col("recipient", "recipient", None),
            col("prefecture", "within", None),
            col("since", "since", None),
            col("provenance", "provenance", None),
            col("note", "note", None),
        ],
    );
    for pair in ctx.frame.pairs.iter().filter(|p| &p.provider == provider) {
        let within = ctx
            .tree
            .get(&pair.recipient)
            .and_then(|r| r.parent.clone())
            .map(|p| ctx.name(&p))
            .unwrap_or_default();
        pairs.push(vec![
            Cell::text(ctx.name(&pair.recipient)),
            Cell::text(within),
            Cell::Int(i64::from(pair.first_year.get())),
            Cell::text(pair.provenance.label()),
            Cell::text(&pair.note),
        ]);
    }
    pairs
}
