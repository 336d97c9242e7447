//! `counterpart pair`: the engine's proposed pairing beside the program's actual one.
//!
//! Pairs are proposed between the program's providers and its *recipient units*: the
//! prefecture enclosing each paired county (a split prefecture takes as many providers as it has
//! today), or the recipient itself where no prefecture encloses it (an XPCC division). The
//! counties of a prefecture are then handed down by the providers sharing it, as in 2010.
//!
//! - capacity: the provider's fiscal revenue in the year (the latest at or before it, else the
//!   earliest after), less that of any provider nested inside it (Shenzhen inside Guangdong);
//! - need and population: registered poor and population of the unit's paired counties, in the
//!   year (same rule), summed;
//! - tags: a region's own and its ancestors' (`region_tags`);
//! - the actual pairing: today's pairs in the year, a provider's share of a unit being the need
//!   of the counties it is paired with.

use crate::report::{Cell, Context, Report, ReportError, Section, col, computed_label};
use counterpart_domain::indicator::IndicatorKind;
use counterpart_domain::pair::Pair;
use counterpart_domain::region::{Region, RegionKind};
use counterpart_domain::{Fen, RegionCode, Year};
pub use counterpart_engine::pairing::Weights;
use counterpart_engine::pairing::{self, Pairing, Piece, Problem, Provider, Recipient};
use counterpart_store::Store;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default)]
pub struct PairOptions {
    /// The year whose pairs and statistics to use; the program's first year by default.
    pub year: Option<Year>,
    pub weights: Option<Weights>,
    /// `PROVIDER=UNIT` names, as typed.
    pub fix: Vec<String>,
    pub forbid: Vec<String>,
    pub explain: Vec<String>,
}

/// The model built from the records, with the names to show.
struct Model {
    problem: Problem,
    providers: Vec<RegionCode>,
    units: Vec<RegionCode>,
    /// Per unit, the paired recipients inside it (counties), when the unit is not itself one.
    members: Vec<Vec<Member>>,
    actual: Vec<Piece>,
    simulated_inputs: bool,
    years: BTreeSet<u16>,
}

/// A paired recipient inside a unit: a county of a prefecture.
struct Member {
    code: RegionCode,
    need: i64,
    population: i64,
    tags: Vec<String>,
    /// Its providers in the year's pairs (indices into `Model::providers`).
    actual: Vec<usize>,
}

pub async fn pair(store: &dyn Store, options: &PairOptions) -> Result<Report, ReportError> {
    let ctx = Context::load(store).await?;
    let year = options.year.unwrap_or(ctx.program.first_year);
    let mut model = build(&ctx, year)?;
    model.problem.weights = options.weights.unwrap_or_default();
    for text in &options.fix {
        let pair = model.find_pair(&ctx, text, "--fix")?;
        model.problem.fixed.push(pair);
    }
    for text in &options.forbid {
        let pair = model.find_pair(&ctx, text, "--forbid")?;
        model.problem.forbidden.push(pair);
    }
    let explain: Vec<(usize, usize)> = options
        .explain
        .iter()
        .map(|t| model.find_pair(&ctx, t, "--explain"))
        .collect::<Result<_, _>>()?;
    let proposal = pairing::solve(&model.problem)
        .map_err(|e| ReportError::Invalid(model.unpairable(&ctx, &e)))?;
    pairing::verify(&model.problem, &proposal)
        .map_err(|e| ReportError::Inconsistent(format!("the proposal fails its check: {e}")))?;
    render(&ctx, &model, &proposal, &explain, year)
}

/// Each provider's capacity: its fiscal revenue less that of the providers inside it (a
/// sub-provincial city such as Shenzhen inside Guangdong), never below zero.
fn capacities(ctx: &Context, providers: &[RegionCode], fiscal: &[i64]) -> Vec<i64> {
    providers
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let nested: i64 = providers
                .iter()
                .enumerate()
                .filter(|(_, q)| *q != p && ctx.tree.is_within(q, p))
                .map(|(j, _)| fiscal[j])
                .sum();
            (fiscal[i] - nested).max(0)
        })
        .collect()
}

/// The tags of a region and of the regions enclosing it, sorted, once each.
fn tags_within(ctx: &Context, code: &RegionCode) -> Vec<String> {
    let mut tags: Vec<String> = ctx
        .frame
        .region_tags
        .iter()
        .filter(|t| ctx.tree.is_within(code, &t.region))
        .map(|t| t.tag.clone())
        .collect();
    tags.sort();
    tags.dedup();
    tags
}

/// `units` split among providers in proportion to their need (`by_provider`), largest
/// remainder first (ties to the lower provider index); evenly when no one has need.
fn largest_remainder(by_provider: &BTreeMap<usize, i64>, units: i64) -> Vec<(usize, i64)> {
    let total: i64 = by_provider.values().sum();
    let mut shares: Vec<(usize, i64, i64)> = by_provider
        .iter()
        .map(|(&p, &n)| {
            if total == 0 {
                (p, units / by_provider.len() as i64, 0)
            } else {
                let exact = i128::from(n) * i128::from(units);
                (
                    p,
                    (exact / i128::from(total)) as i64,
                    (exact % i128::from(total)) as i64,
                )
            }
        })
        .collect();
    let mut left = units - shares.iter().map(|s| s.1).sum::<i64>();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by_key(|&i| (-shares[i].2, shares[i].0));
    for &i in order.iter().cycle().take(shares.len() * 2) {
        if left == 0 {
            break;
        }
        shares[i].1 += 1;
        left -= 1;
    }
    shares.into_iter().map(|(p, u, _)| (p, u)).collect()
}

/// A recipient unit of the model: its need and population summed over the paired areas in it,
/// the areas below it (its members, for handing down), and its need by actual provider.
fn unit_recipient(
    ctx: &Context,
    unit: &RegionCode,
    recipients: &BTreeMap<&RegionCode, (i64, i64)>,
    pairs: &[&Pair],
    providers: &[RegionCode],
    unit_of: &dyn Fn(&RegionCode) -> RegionCode,
) -> (Recipient, Vec<Member>, BTreeMap<usize, i64>) {
    let mut need = 0;
    let mut population = 0;
    let mut by_provider: BTreeMap<usize, i64> = BTreeMap::new();
    let mut inside = Vec::new();
    for (recipient, (n, pop)) in recipients {
        if &unit_of(recipient) != unit {
            continue;
        }
        need += n;
        population += pop;
        let mut actual = Vec::new();
        for p in pairs.iter().filter(|p| &p.recipient == *recipient) {
            let i = providers.binary_search(&p.provider).expect("listed");
            *by_provider.entry(i).or_default() += n;
            actual.push(i);
        }
        if *recipient != unit {
            inside.push(Member {
                code: (*recipient).clone(),
                need: *n,
                population: *pop,
                tags: tags_within(ctx, recipient),
                actual,
            });
        }
    }
    let recipient = Recipient {
        name: unit.to_string(),
        need,
        population,
        tags: tags_within(ctx, unit),
        providers: by_provider.len().max(1),
    };
    (recipient, inside, by_provider)
}

fn build(ctx: &Context, year: Year) -> Result<Model, ReportError> {
    let mut simulated_inputs = false;
    let mut years = BTreeSet::new();
    let mut value = |region: &RegionCode, kind: IndicatorKind| -> Option<i64> {
        let series = ctx.stats.series(region, kind);
        let chosen = series
            .iter()
            .rev()
            .find(|v| v.year <= year)
            .or_else(|| series.iter().find(|v| v.year > year))?;
        simulated_inputs |= chosen.provenance.is_simulated();
        years.insert(chosen.year.get());
        Some(chosen.value)
    };
    let pairs: Vec<_> = ctx
        .frame
        .pairs
        .iter()
        .filter(|p| p.active_in(year))
        .collect();
    if pairs.is_empty() {
        return Err(ReportError::Invalid(format!(
            "the program has no pairs in {year}: pick a year with --year"
        )));
    }
    let mut providers: Vec<RegionCode> = pairs.iter().map(|p| p.provider.clone()).collect();
    providers.sort();
    providers.dedup();
    let unit_of = |code: &RegionCode| -> RegionCode {
        ctx.tree
            .enclosing(code, RegionKind::Prefecture)
            .map_or_else(|| code.clone(), |r| r.code.clone())
    };
    let mut units: Vec<RegionCode> = pairs.iter().map(|p| unit_of(&p.recipient)).collect();
    units.sort();
    units.dedup();

    let fiscal: Vec<i64> = providers
        .iter()
        .map(|p| value(p, IndicatorKind::FiscalRevenue).unwrap_or(0))
        .collect();
    let capacity = capacities(ctx, &providers, &fiscal);
    // Need of each paired recipient, and which unit and providers it belongs to.
    let mut recipients: BTreeMap<&RegionCode, (i64, i64)> = BTreeMap::new();
    for p in &pairs {
        if !recipients.contains_key(&p.recipient) {
            let need = value(&p.recipient, IndicatorKind::RegisteredPoor).unwrap_or(0);
            let population = value(&p.recipient, IndicatorKind::Population).unwrap_or(0);
            recipients.insert(&p.recipient, (need, population));
        }
    }
    let tags = |code: &RegionCode| tags_within(ctx, code);
    let mut unit_recipients: Vec<Recipient> = Vec::new();
    let mut members = Vec::new();
    // Per unit: need by actual provider.
    let mut actual_need: Vec<BTreeMap<usize, i64>> = Vec::new();
    for unit in &units {
        let (recipient, inside, by_provider) =
            unit_recipient(ctx, unit, &recipients, &pairs, &providers, &unit_of);
        members.push(inside);
        unit_recipients.push(recipient);
        actual_need.push(by_provider);
    }
    let problem_providers = providers
        .iter()
        .zip(&capacity)
        .map(|(code, &capacity)| Provider {
            name: code.to_string(),
            capacity,
            tags: tags(code),
        })
        .collect();
    let mut problem = Problem::new(problem_providers, unit_recipients);
    let units_of = problem.units();
    // The actual pairing in need units: each unit's units split by its providers' need, largest
    // remainder first.
    let mut actual = Vec::new();
    for (r, by_provider) in actual_need.iter().enumerate() {
        for (p, u) in largest_remainder(by_provider, units_of.need[r]) {
            if u > 0 {
                actual.push(Piece {
                    provider: p,
                    recipient: r,
                    units: u,
                });
                problem.existing.push((p, r));
                problem.prefer.push((p, r));
            }
        }
    }
    Ok(Model {
        problem,
        providers,
        units,
        members,
        actual,
        simulated_inputs,
        years,
    })
}

impl Model {
    fn find_pair(
        &self,
        ctx: &Context,
        text: &str,
        flag: &str,
    ) -> Result<(usize, usize), ReportError> {
        let (provider, unit) = text.split_once('=').ok_or_else(|| {
            ReportError::Invalid(format!(
                "{flag} {text:?}: write PROVIDER=RECIPIENT, e.g. {flag} shenzhen=kashgar"
            ))
        })?;
        let p = ctx.find_region(provider.trim(), "provider", |r| {
            self.providers.contains(&r.code)
        })?;
        let r = ctx
            .find_region(unit.trim(), "recipient unit", |r| {
                self.units.contains(&r.code)
            })
            .map_err(|e| match e {
                ReportError::NotFound { .. } => ReportError::Invalid(format!(
                    "{flag} {text:?}: {e}; pairs are proposed with prefectures and divisions: {}",
                    self.units
                        .iter()
                        .map(|u| u.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                other => other,
            })?;
        Ok((
            self.providers.binary_search(&p.code).expect("listed"),
            self.units.binary_search(&r.code).expect("listed"),
        ))
    }

    fn unpairable(&self, ctx: &Context, e: &pairing::Unpairable) -> String {
        match e {
            pairing::Unpairable::Providers { recipient, .. } => format!(
                "no provider may serve {}: every provider is forbidden there",
                ctx.name(&self.units[*recipient])
            ),
            pairing::Unpairable::TooManyFixed { recipient, fixed } => format!(
                "{} takes {} provider(s) but {fixed} are fixed there",
                ctx.name(&self.units[*recipient]),
                self.problem.recipients[*recipient].providers
            ),
            pairing::Unpairable::FixedAndForbidden {
                provider,
                recipient,
            } => format!(
                "{}={} is both fixed and forbidden",
                self.providers[*provider], self.units[*recipient]
            ),
            other => other.to_string(),
        }
    }
}

fn label(ctx: &Context, code: &RegionCode) -> String {
    ctx.tree
        .get(code)
        .map_or_else(|| code.to_string(), |r: &Region| r.name_en.clone())
}

/// "Shanghai 31%, Shandong 25%" for a unit's pieces.
fn providers_text(ctx: &Context, model: &Model, pieces: &[&Piece], units: i64) -> String {
    let mut pieces = pieces.to_vec();
    pieces.sort_by_key(|p| (-p.units, p.provider));
    pieces
        .iter()
        .map(|p| {
            let name = label(ctx, &model.providers[p.provider]);
            if pieces.len() == 1 {
                name
            } else {
                format!(
                    "{name} {:.0}%",
                    p.units as f64 * 100.0 / units.max(1) as f64
                )
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn render(
    ctx: &Context,
    model: &Model,
    proposal: &Pairing,
    explain: &[(usize, usize)],
    year: Year,
) -> Result<Report, ReportError> {
    let problem = &model.problem;
    let r = Rendering {
        ctx,
        model,
        proposal,
        units: problem.units(),
        provenance: computed_label(model.simulated_inputs),
        actual: problem.evaluate(&model.actual),
        proposed: problem.evaluate(&proposal.pieces),
    };
    let (recipients, differences) = r.recipients_and_differences()?;
    let counties = hand_down(ctx, model, proposal, &r.provenance)?;
    let mut sections = vec![
        r.score(),
        recipients,
        differences,
        counties,
        r.providers(),
        r.breakdown(),
    ];
    if !explain.is_empty() {
        sections.insert(1, r.explain(explain)?);
    }
    Ok(Report {
        report: "pair",
        title: format!("Proposed pairing, {year}"),
        program: ctx.program.name_en.clone(),
        notes: r.notes(year),
        sections,
    })
}

/// A solved pairing, for its report's sections: the actual and the proposed pairing each
/// scored as (total, each pair's points, each provider's load).
struct Rendering<'a> {
    ctx: &'a Context,
    model: &'a Model,
    proposal: &'a Pairing,
    units: pairing::Units,
    provenance: String,
    actual: (i64, Vec<pairing::Breakdown>, Vec<pairing::Load>),
    proposed: (i64, Vec<pairing::Breakdown>, Vec<pairing::Load>),
}

impl Rendering<'_> {
    /// Units of need as a percentage of all need.
    fn per_point(&self, u: i64) -> f64 {
        u as f64 * 100.0 / self.units.total.max(1) as f64
    }

    fn providers(&self) -> Section {
        let (ctx, model, problem) = (self.ctx, self.model, &self.model.problem);
        let mut providers = Section::new(
            "providers",
            "Providers: capacity against the need they carry",
            vec![
                col("provider", "provider", None),
                col("capacity", "capacity: fiscal revenue (yuan)", Some("fen")),
                col("capacity_share", "share of capacity", Some("percent")),
                col("proposed_share", "proposed share of need", Some("percent")),
                col("actual_share", "actual share of need", Some("percent")),
                col("proposed_penalty", "proposed penalty", Some("points")),
                col("actual_penalty", "actual penalty", Some("points")),
                col(
                    "shadow_price",
                    "shadow price (points per unit of capacity)",
                    Some("points"),
                ),
                col("provenance", "provenance", None),
            ],
        );
        let (proposed_loads, actual_loads) = (&self.proposed.2, &self.actual.2);
        let total_capacity: i64 = problem.providers.iter().map(|p| p.capacity).sum();
        for (i, code) in model.providers.iter().enumerate() {
            providers.push(vec![
                Cell::text(label(ctx, code)),
                Cell::money(Fen::new(problem.providers[i].capacity)),
                Cell::number(
                    problem.providers[i].capacity as f64 * 100.0 / total_capacity.max(1) as f64,
                    2,
                ),
                Cell::number(self.per_point(proposed_loads[i].units), 2),
                Cell::number(self.per_point(actual_loads[i].units), 2),
                Cell::Int(proposed_loads[i].penalty),
                Cell::Int(actual_loads[i].penalty),
                Cell::Int(self.proposal.loads[i].shadow_price),
                Cell::text(self.provenance.clone()),
            ]);
        }
        providers
    }

    /// Each recipient unit's proposed and actual providers; and where they differ, what
    /// forcing the actual pair back costs.
    fn recipients_and_differences(&self) -> Result<(Section, Section), ReportError> {
        let mut recipients = Section::new(
            "recipients",
            "Recipient units: proposed against actual providers",
            vec![
                col("recipient", "recipient", None),
                col("need", "need: registered poor", Some("people")),
                col("need_share", "share of need", Some("percent")),
                col("poverty", "registered poor of population", Some("percent")),
                col("providers", "providers taken", None),
                col("proposed", "proposed", None),
                col("actual", "actual", None),
                col("agrees", "agrees", None),
                col("tags", "tags", None),
                col("provenance", "provenance", None),
            ],
        );
        let mut differences = Section::new(
            "differences",
            "Where the actual pairing differs, and what keeping it costs",
            vec![
                col("recipient", "recipient", None),
                col("actual", "actual", None),
                col("proposed", "proposed", None),
                col("forced", "forcing back", None),
                col("cost", "points lost by forcing it back", Some("points")),
                col("moves", "pairs it would displace", None),
                col("provenance", "provenance", None),
            ],
        );
        // The differences table forces one pair per difference: each search gets a node
        // budget, and a cost it could not prove is shown as a range.
        let mut quick = self.model.problem.clone();
        quick.node_limit = DIFFERENCE_NODES;
        for r in 0..self.model.units.len() {
            let proposed: Vec<&Piece> = self.proposal.of(r).collect();
            let actual: Vec<&Piece> = self
                .model
                .actual
                .iter()
                .filter(|p| p.recipient == r)
                .collect();
            let set = |pieces: &[&Piece]| -> BTreeSet<usize> {
                pieces.iter().map(|p| p.provider).collect()
            };
            let agrees = set(&proposed) == set(&actual);
            recipients.push(self.recipient_row(r, &proposed, &actual, agrees));
            if !agrees {
                // Force back the actual provider that carries most of the unit and is missing.
                let missing = actual
                    .iter()
                    .filter(|a| !proposed.iter().any(|p| p.provider == a.provider))
                    .max_by_key(|a| (a.units, std::cmp::Reverse(a.provider)));
                if let Some(missing) = missing {
                    differences.push(self.difference_row(&quick, r, &proposed, &actual, missing)?);
                }
            }
        }
        Ok((recipients, differences))
    }

    fn recipient_row(
        &self,
        r: usize,
        proposed: &[&Piece],
        actual: &[&Piece],
        agrees: bool,
    ) -> Vec<Cell> {
        let (ctx, model) = (self.ctx, self.model);
        let recipient = &model.problem.recipients[r];
        let poverty = if recipient.population > 0 {
            Cell::number(
                recipient.need as f64 * 100.0 / recipient.population as f64,
                2,
            )
        } else {
            Cell::Empty
        };
        let need = self.units.need[r];
        vec![
            Cell::text(label(ctx, &model.units[r])),
            Cell::Int(recipient.need),
            Cell::number(self.per_point(need), 2),
            poverty,
            Cell::count(recipient.providers as u64),
            Cell::text(providers_text(ctx, model, proposed, need)),
            Cell::text(providers_text(ctx, model, actual, need)),
            Cell::text(if agrees { "yes" } else { "no" }),
            Cell::text(recipient.tags.join(" ")),
            Cell::text(self.provenance.clone()),
        ]
    }

    fn difference_row(
        &self,
        quick: &Problem,
        r: usize,
        proposed: &[&Piece],
        actual: &[&Piece],
        missing: &Piece,
    ) -> Result<Vec<Cell>, ReportError> {
        let (ctx, model) = (self.ctx, self.model);
        let code = &model.units[r];
        let need = self.units.need[r];
        let answer = pairing::why_not(quick, self.proposal, missing.provider, r)
            .map_err(|e| ReportError::Invalid(model.unpairable(ctx, &e)))?;
        Ok(vec![
            Cell::text(label(ctx, code)),
            Cell::text(providers_text(ctx, model, actual, need)),
            Cell::text(providers_text(ctx, model, proposed, need)),
            Cell::text(format!("{}={}", model.providers[missing.provider], code)),
            cost_cell(&answer),
            Cell::text(moves_text(ctx, model, &answer.moves)),
            Cell::text(self.provenance.clone()),
        ])
    }

    /// The score's parts, proposed against actual.
    fn score(&self) -> Section {
        let mut score = Section::new(
            "score",
            "Score, in points (higher is better)",
            vec![
                col("part", "part", None),
                col("proposed", "proposed", Some("points")),
                col("actual", "actual", Some("points")),
                col("difference", "proposed − actual", Some("points")),
                col("provenance", "provenance", None),
            ],
        );
        let (proposed_score, proposed_pairs, proposed_loads) = &self.proposed;
        let (actual_score, actual_pairs, actual_loads) = &self.actual;
        let sum = |pairs: &[pairing::Breakdown], f: fn(&pairing::Breakdown) -> i64| -> i64 {
            pairs.iter().map(f).sum()
        };
        let penalty = |loads: &[pairing::Load]| -> i64 { loads.iter().map(|l| l.penalty).sum() };
        let rows: [(&str, i64, i64); 5] = [
            (
                "fit (shared tags)",
                sum(proposed_pairs, |b| b.fit),
                sum(actual_pairs, |b| b.fit),
            ),
            (
                "gap (richest to poorest)",
                sum(proposed_pairs, |b| b.gap),
                sum(actual_pairs, |b| b.gap),
            ),
            (
                "continuity",
                sum(proposed_pairs, |b| b.continuity),
                sum(actual_pairs, |b| b.continuity),
            ),
            (
                "proportionality penalty",
                -penalty(proposed_loads),
                -penalty(actual_loads),
            ),
            ("total", *proposed_score, *actual_score),
        ];
        for (part, proposed, actual) in rows {
            score.push(vec![
                Cell::text(part),
                Cell::Int(proposed),
                Cell::Int(actual),
                Cell::Int(proposed - actual),
                Cell::text(self.provenance.clone()),
            ]);
        }
        score
    }

    /// Each proposed pair's points.
    fn breakdown(&self) -> Section {
        let (ctx, model) = (self.ctx, self.model);
        let mut breakdown = Section::new(
            "breakdown",
            "Each proposed pair's points",
            vec![
                col("provider", "provider", None),
                col("recipient", "recipient", None),
                col("share", "share of total need", Some("percent")),
                col("fit", "fit", Some("points")),
                col("shared", "shared tags", None),
                col("gap", "gap", Some("points")),
                col("continuity", "continuity", Some("points")),
                col("total", "total", Some("points")),
                col("provenance", "provenance", None),
            ],
        );
        for b in &self.proposed.1 {
            breakdown.push(vec![
                Cell::text(label(ctx, &model.providers[b.provider])),
                Cell::text(label(ctx, &model.units[b.recipient])),
                Cell::number(self.per_point(b.units), 2),
                Cell::Int(b.fit),
                Cell::text(b.shared.join(" ")),
                Cell::Int(b.gap),
                Cell::Int(b.continuity),
                Cell::Int(b.total()),
                Cell::text(self.provenance.clone()),
            ]);
        }
        breakdown
    }

    /// Why not these pairs? The cost of forcing each, searched to the end.
    fn explain(&self, explain: &[(usize, usize)]) -> Result<Section, ReportError> {
        let (ctx, model) = (self.ctx, self.model);
        let mut why = Section::new(
            "explain",
            "Why not? The cost of forcing a pair",
            vec![
                col("pair", "pair", None),
                col("in_proposal", "in the proposal", None),
                col("cost", "points lost by forcing it", Some("points")),
                col("moves", "the chain of pairs it displaces", None),
                col("provenance", "provenance", None),
            ],
        );
        for &(p, r) in explain {
            let answer = pairing::why_not(&model.problem, self.proposal, p, r)
                .map_err(|e| ReportError::Invalid(model.unpairable(ctx, &e)))?;
            why.push(vec![
                Cell::text(format!(
                    "{}–{}",
                    label(ctx, &model.providers[p]),
                    label(ctx, &model.units[r])
                )),
                Cell::text(if answer.chosen { "yes" } else { "no" }),
                cost_cell(&answer),
                Cell::text(moves_text(ctx, model, &answer.moves)),
                Cell::text(self.provenance.clone()),
            ]);
        }
        Ok(why)
    }

    fn notes(&self, year: Year) -> Vec<String> {
        let (ctx, model, proposal) = (self.ctx, self.model, self.proposal);
        let problem = &model.problem;
        let provenance = &self.provenance;
        let weights = problem.weights;
        let years: Vec<String> = model.years.iter().map(u16::to_string).collect();
        let mut notes = vec![
            format!(
                "Pairs in {year}: {} providers, {} recipient units (prefectures, and divisions where no prefecture encloses them); a split unit takes as many providers as it has today.",
                model.providers.len(),
                model.units.len()
            ),
            format!(
                "Need: registered poor; capacity: fiscal revenue less nested providers'; statistics of {} (the latest at or before {year}, else the earliest after). Every figure is {provenance}.",
                years.join(", ")
            ),
            format!(
                "Weights: fit {} per shared tag, gap up to {}, continuity {}, proportionality {} per unit off the capacity share (×2 beyond 10%, ×4 beyond 30%); points are per unit of need.",
                weights.fit, weights.gap, weights.continuity, weights.proportionality
            ),
            if proposal.proven() {
                "The proposal is optimal for these weights: the search was complete and its proof checks."
                    .to_owned()
            } else {
                format!(
                    "The search stopped at its limit: no pairing scores more than {}.",
                    proposal.bound
                )
            },
        ];
        notes.push(
            "The cost of keeping an actual pair is exact where shown as a number; '≤ N' is the cost of the best pairing found that keeps it, after a bounded search."
                .to_owned(),
        );
        if model.simulated_inputs {
            notes.push(
                "Some inputs are simulated (the demo's generated statistics): so is every score."
                    .into(),
            );
        }
        if !problem.fixed.is_empty() || !problem.forbidden.is_empty() {
            notes.push(format!(
                "Fixed: {}; forbidden: {}.",
                pairs_text(ctx, model, &problem.fixed),
                pairs_text(ctx, model, &problem.forbidden)
            ));
        }
        notes
    }
}

/// Nesting, recipient side: each unit's counties handed down to the providers proposed for it,
/// by the same model (their shares of the unit as capacities, one provider per county, ties
/// toward today's county pairs), beside the 2010 table.
fn hand_down(
    ctx: &Context,
    model: &Model,
    proposal: &Pairing,
    provenance: &str,
) -> Result<Section, ReportError> {
    let mut section = Section::new(
        "counties",
        "Counties handed down: each unit's counties among its proposed providers",
        vec![
            col("county", "county", None),
            col("unit", "unit", None),
            col("need", "need: registered poor", Some("people")),
            col("proposed", "proposed", None),
            col("actual", "actual", None),
            col("agrees", "agrees", None),
            col("provenance", "provenance", None),
        ],
    );
    for (r, members) in model.members.iter().enumerate() {
        if members.is_empty() {
            continue;
        }
        let pieces: Vec<&Piece> = proposal.of(r).collect();
        let sub_providers: Vec<usize> = pieces.iter().map(|p| p.provider).collect();
        let chosen: Vec<usize> = if sub_providers.len() == 1 {
            vec![0; members.len()]
        } else {
            let providers = pieces
                .iter()
                .map(|p| Provider {
                    name: model.providers[p.provider].to_string(),
                    capacity: p.units,
                    tags: model.problem.providers[p.provider].tags.clone(),
                })
                .collect();
            let recipients = members
                .iter()
                .map(|m| Recipient {
                    name: m.code.to_string(),
                    need: m.need,
                    population: m.population,
                    tags: m.tags.clone(),
                    providers: 1,
                })
                .collect();
            let mut sub = Problem::new(providers, recipients);
            sub.weights = model.problem.weights;
            for (c, m) in members.iter().enumerate() {
                for (k, &p) in sub_providers.iter().enumerate() {
                    if m.actual.contains(&p) {
                        sub.existing.push((k, c));
                        sub.prefer.push((k, c));
                    }
                }
            }
            let solved = pairing::solve(&sub)
                .map_err(|e| ReportError::Inconsistent(format!("handing down: {e}")))?;
            pairing::verify(&sub, &solved)
                .map_err(|e| ReportError::Inconsistent(format!("handing down: {e}")))?;
            (0..members.len())
                .map(|c| solved.of(c).next().map_or(0, |p| p.provider))
                .collect()
        };
        for (m, k) in members.iter().zip(chosen) {
            let proposed = sub_providers[k];
            let names = |ps: &[usize]| -> String {
                ps.iter()
                    .map(|&p| label(ctx, &model.providers[p]))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            section.push(vec![
                Cell::text(label(ctx, &m.code)),
                Cell::text(label(ctx, &model.units[r])),
                Cell::Int(m.need),
                Cell::text(label(ctx, &model.providers[proposed])),
                Cell::text(names(&m.actual)),
                Cell::text(if m.actual == [proposed] { "yes" } else { "no" }),
                Cell::text(provenance.to_owned()),
            ]);
        }
    }
    Ok(section)
}

/// Branch-and-bound nodes for each row of the differences table.
const DIFFERENCE_NODES: u64 = 3_000;

/// The cost of forcing a pair: exact, or — when the node budget ran out before the forced
/// search was proven — what the best pairing found holding the pair costs, an upper bound.
fn cost_cell(answer: &pairing::WhyNot) -> Cell {
    if answer.exact {
        Cell::Int(answer.cost)
    } else {
        Cell::text(format!("≤ {}", answer.cost))
    }
}

fn pairs_text(ctx: &Context, model: &Model, pairs: &[(usize, usize)]) -> String {
    if pairs.is_empty() {
        return "none".into();
    }
    pairs
        .iter()
        .map(|&(p, r)| {
            format!(
                "{}–{}",
                label(ctx, &model.providers[p]),
                label(ctx, &model.units[r])
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn moves_text(ctx: &Context, model: &Model, moves: &[pairing::Move]) -> String {
    if moves.is_empty() {
        return "none".into();
    }
    let names = |ps: &[usize]| -> String {
        if ps.is_empty() {
            "—".into()
        } else {
            ps.iter()
                .map(|&p| label(ctx, &model.providers[p]))
                .collect::<Vec<_>>()
                .join("+")
        }
    };
    moves
        .iter()
        .map(|m| {
            format!(
                "{}: {} → {}",
                label(ctx, &model.units[m.recipient]),
                names(&m.from),
                names(&m.to)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
