//! The annual assessment: a scorecard per pair active in a year, over funds, projects, people,
//! consumption, exchanges and outcomes — inputs beside results, shown as association, not
//! cause. A pair's figures count what went to its recipient area or anywhere inside it; what a
//! provider gave an area outside its pairs' areas (a prefecture-wide project above its county
//! pairs) gets a row of its own, so the rows add up to the year's books.

use super::context::{Context, computed};
use super::read_table;
use super::recipient::region_value;
use super::summary::books_by_year;
use super::{Cell, Report, ReportError, Section, col};
use counterpart_domain::indicator::IndicatorKind;
use counterpart_domain::people::{InstitutionPair, Training};
use counterpart_domain::project::ProjectStatus;
use counterpart_domain::{Fen, RegionCode, Year};
use counterpart_store::{FundsRow, PostingsRow, ProjectsRow, Store, TradeRow};
use counterpart_store::{INSTITUTION_PAIRS, TRAININGS};
use std::collections::{BTreeMap, BTreeSet};

/// The assessment of `year` (the program's last year by default), for every pair or one
/// provider's.
pub async fn assessment(
    store: &dyn Store,
    year: Option<Year>,
    provider: Option<&str>,
) -> Result<Report, ReportError> {
    let ctx = Context::load(store).await?;
    let year = year.unwrap_or(ctx.program.last_year);
    if !ctx.program.contains_year(year) {
        return Err(ReportError::Invalid(format!(
            "{year} is outside the program ({}–{})",
            ctx.program.first_year, ctx.program.last_year
        )));
    }
    let only = match provider {
        Some(name) => Some(
            ctx.find_region(name, "provider", |r| ctx.providers.contains(&r.code))?
                .code
                .clone(),
        ),
        None => None,
    };
    let mut people = counterpart_domain::records::Records::default();
    for table in [&INSTITUTION_PAIRS, &TRAININGS] {
        read_table(store, table, &mut people).await?;
    }
    let inputs = Inputs {
        funds: store.funds(None).await?,
        projects: store.projects_summary().await?,
        postings: store.postings_summary().await?,
        trade: store.trade().await?,
        trainings: people
            .trainings
            .iter()
            .filter(|t| t.year == year && only.as_ref().is_none_or(|o| *o == t.provider))
            .collect(),
        institution_pairs: &people.institution_pairs,
        year,
    };
    let mut section = pairs_section(year);
    let mut any_simulated = false;
    for scope in inputs.scopes(&ctx, only.as_ref()) {
        let (row, simulated) = inputs.row(&ctx, &scope);
        any_simulated |= simulated;
        section.push(row);
    }
    if section.rows.is_empty() {
        return Err(ReportError::Invalid(format!("no pair is active in {year}")));
    }
    let (knowledge, simulated) = knowledge_section(&ctx, &inputs.trainings, year);
    any_simulated |= simulated;
    let mut notes = vec![
        "Inputs beside results: a pair's money, projects, people, institution pairs, local staff \
         trained, purchases and visitors in the year, and the change in its area's registered \
         poor. They go together; the table does \
         not say one caused the other."
            .to_owned(),
    ];
    if any_simulated {
        notes.push("Figures marked simulated come from the demo's simulated records.".into());
    }
    Ok(Report {
        report: "assessment",
        title: match &only {
            Some(p) => format!("Annual assessment {year}: {}", ctx.name(p)),
            None => format!("Annual assessment {year}"),
        },
        program: ctx.program.name_en.clone(),
        notes,
        sections: vec![section, knowledge],
    })
}

/// What the assessment of a year counts.
struct Inputs<'a> {
    funds: Vec<FundsRow>,
    projects: Vec<ProjectsRow>,
    postings: Vec<PostingsRow>,
    trade: Vec<TradeRow>,
    /// The year's trainings (of the one provider, when there is one).
    trainings: Vec<&'a Training>,
    institution_pairs: &'a [InstitutionPair],
    year: Year,
}

/// One row of the assessment: a provider and an area, either a pair (the area and everything
/// inside it) or area-wide (`true`: support to that area itself, outside the provider's pairs).
type Scope = (RegionCode, RegionCode, bool);

impl Inputs<'_> {
    /// The pairs active in the year, then any area a provider supported outside its pairs'
    /// areas that year (a prefecture-wide project above its county pairs), so that every yuan
    /// of the year is in exactly one row.
    fn scopes(&self, ctx: &Context, only: Option<&RegionCode>) -> Vec<Scope> {
        let year = self.year;
        let keep = |p: &RegionCode| only.is_none_or(|o| o == p);
        let mut scopes: Vec<Scope> = ctx
            .frame
            .pairs
            .iter()
            .filter(|p| p.active_in(year) && keep(&p.provider))
            .map(|p| (p.provider.clone(), p.recipient.clone(), false))
            .collect();
        let paired: Vec<(RegionCode, RegionCode)> = scopes
            .iter()
            .map(|(p, r, _)| (p.clone(), r.clone()))
            .collect();
        let touched = self
            .funds
            .iter()
            .map(|r| (r.year, &r.provider, &r.recipient))
            .chain(
                self.projects
                    .iter()
                    .map(|r| (r.year, &r.provider, &r.recipient)),
            )
            .chain(
                self.postings
                    .iter()
                    .map(|r| (r.year, &r.provider, &r.recipient)),
            )
            .chain(
                self.trainings
                    .iter()
                    .map(|t| (t.year, &t.provider, &t.recipient)),
            )
            .chain(
                self.trade
                    .iter()
                    .map(|r| (r.year, &r.provider, &r.recipient)),
            );
        let mut outside: Vec<Scope> = touched
            .filter(|(y, p, r)| {
                *y == year
                    && keep(p)
                    && !paired
                        .iter()
                        .any(|(pp, pr)| pp == *p && ctx.tree.is_within(r, pr))
            })
            .map(|(_, p, r)| (p.clone(), r.clone(), true))
            .collect();
        outside.sort();
        outside.dedup();
        scopes.extend(outside);
        scopes
    }

    /// One scope's row, and whether any of its figures is simulated.
    fn row(&self, ctx: &Context, (provider, recipient, area_wide): &Scope) -> (Vec<Cell>, bool) {
        let year = self.year;
        // A pair's row takes its area and everything inside it; an area-wide row only what
        // went to that area itself.
        let inside = |r: &RegionCode| {
            if *area_wide {
                r == recipient
            } else {
                ctx.tree.is_within(r, recipient)
            }
        };
        let ours =
            |y: Year, p: &RegionCode, r: &RegionCode| y == year && p == provider && inside(r);
        // The year's money and projects, classified as the summary and scorecards do.
        let books = books_by_year(&self.funds, &self.projects, |p, r| {
            p == provider && inside(r)
        })
        .remove(&year)
        .unwrap_or_default();
        let mut simulated = books.simulated;
        let finished: u64 = self
            .projects
            .iter()
            .filter(|r| {
                ours(r.year, &r.provider, &r.recipient)
                    && matches!(
                        r.status,
                        ProjectStatus::Completed
                            | ProjectStatus::HandedOver
                            | ProjectStatus::InOperation
                    )
            })
            .map(|r| r.projects)
            .sum();
        let mut begun = 0u64;
        for row in self
            .postings
            .iter()
            .filter(|r| ours(r.year, &r.provider, &r.recipient))
        {
            begun += row.postings;
            simulated |= row.simulated;
        }
        let mut institution_pairs = 0u64;
        for x in self.institution_pairs.iter().filter(|x| {
            &x.provider == provider
                && inside(&x.recipient)
                && x.first_year <= year
                && x.last_year.is_none_or(|l| year <= l)
        }) {
            institution_pairs += 1;
            simulated |= x.provenance.is_simulated();
        }
        let mut trained = 0u64;
        for t in self
            .trainings
            .iter()
            .filter(|t| &t.provider == provider && inside(&t.recipient))
        {
            trained += t.trained;
            simulated |= t.provenance.is_simulated();
        }
        let per_trained = (trained > 0 && books.disbursed > Fen::ZERO)
            .then(|| Fen::new(books.disbursed.get() / trained as i64));
        let (mut purchases, mut visitors) = (Fen::ZERO, 0u64);
        for row in self
            .trade
            .iter()
            .filter(|r| ours(r.year, &r.provider, &r.recipient))
        {
            purchases += row.purchases;
            visitors += row.visitors;
            simulated |= row.simulated;
        }
        let poor = |y: u16| region_value(ctx, recipient, IndicatorKind::RegisteredPoor, y);
        let before = poor(year.get() - 1);
        let after = poor(year.get());
        simulated |= before.is_some_and(|b| b.1) || after.is_some_and(|a| a.1);
        let lifted = match (before, after) {
            (Some((b, _)), Some((a, _))) => Some(b - a),
            _ => None,
        };
        let per_person = lifted
            .filter(|&l| l > 0 && books.disbursed > Fen::ZERO)
            .map(|l| Fen::new(books.disbursed.get() / l));
        let row = vec![
            Cell::text(ctx.name(provider)),
            Cell::text(if *area_wide {
                format!("{} (area-wide, outside its pairs)", ctx.name(recipient))
            } else {
                ctx.name(recipient)
            }),
            Cell::money(books.committed),
            Cell::money(books.disbursed),
            Cell::money(books.spent),
            Cell::count(books.projects),
            Cell::count(finished),
            Cell::count(begun),
            Cell::count(institution_pairs),
            Cell::count(trained),
            Cell::money(purchases),
            Cell::count(visitors),
            Cell::opt(before.map(|b| Cell::Int(b.0))),
            Cell::opt(after.map(|a| Cell::Int(a.0))),
            Cell::opt(lifted.map(Cell::Int)),
            Cell::opt(per_person.map(Cell::money)),
            Cell::opt(per_trained.map(Cell::money)),
            Cell::text(computed(simulated)),
        ];
        (row, simulated)
    }
}

/// The assessment's main table, empty.
fn pairs_section(year: Year) -> Section {
    Section::new(
        "pairs",
        format!("Assessment {year}, by pair"),
        vec![
            col("provider", "provider", None),
            col("recipient", "recipient", None),
            col("committed", "committed (yuan)", Some("fen")),
            col("disbursed", "disbursed (yuan)", Some("fen")),
            col("spent", "spent (yuan)", Some("fen")),
            col("projects", "projects of the year", None),
            col("finished", "of them completed or handed over", None),
            col("postings", "postings begun", None),
            col("institution_pairs", "institution pairs", None),
            col("trained", "local staff trained", None),
            col("purchases", "purchases (yuan)", Some("fen")),
            col("visitors", "visitors", None),
            col("poor_before", "registered poor, year before", None),
            col("poor_after", "registered poor, end of year", None),
            col("lifted", "fewer registered poor", None),
            col(
                "yuan_per_person",
                "disbursed per person fewer (yuan)",
                Some("fen"),
            ),
            col(
                "yuan_per_trained",
                "disbursed per local staff trained (yuan)",
                Some("fen"),
            ),
            col("provenance", "provenance", None),
        ],
    )
}

/// Knowledge transfer: local staff trained in the year, by host institution and specialty;
/// and whether any of it is simulated.
fn knowledge_section(ctx: &Context, trainings: &[&Training], year: Year) -> (Section, bool) {
    let mut knowledge = Section::new(
        "knowledge",
        format!("Local staff trained in {year}, by host institution and specialty"),
        vec![
            col("recipient", "recipient", None),
            col("host", "host institution", None),
            col("specialty", "specialty", None),
            col("providers", "trained by", None),
            col("trained", "local staff trained", None),
            col("provenance", "provenance", None),
        ],
    );
    /// Trained, by whom, whether any of it is simulated.
    type Trained<'a> = (u64, BTreeSet<&'a RegionCode>, bool);
    let mut by_host: BTreeMap<(&RegionCode, &str, &str), Trained<'_>> = BTreeMap::new();
    for t in trainings {
        let row = by_host
            .entry((&t.recipient, &t.host_institution, &t.specialty))
            .or_default();
        row.0 += t.trained;
        row.1.insert(&t.provider);
        row.2 |= t.provenance.is_simulated();
    }
    let mut any_simulated = false;
    for ((recipient, host, specialty), (trained, providers, simulated)) in by_host {
        any_simulated |= simulated;
        let names: Vec<String> = providers.iter().map(|p| ctx.name(p)).collect();
        knowledge.push(vec![
            Cell::text(ctx.name(recipient)),
            Cell::text(host),
            Cell::text(specialty),
            Cell::text(names.join(", ")),
            Cell::count(trained),
            Cell::text(computed(simulated)),
        ]);
    }
    (knowledge, any_simulated)
}
