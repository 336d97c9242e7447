//! `counterpart place`: propose postings for a round — available people into open seats — by
//! the engine's capacitated assignment, with an explanation per posting.
//!
//! The round starts on 1 January of its year. A person is available when no posting of theirs
//! covers that day; a post's open seats are its seats less the postings covering it.
//! Candidates, the rules:
//! - the provider's own pairs: a person goes only to a post in an area paired with their
//!   provider in the round's year (the post's recipient or an area enclosing it);
//! - specialty: the post's specialty is the person's;
//! - at most [`MAX_CANDIDATES`] candidates per person, the cheapest.
//!
//! Cost of a posting (lower is better): [`BASE`], less [`SAME_HOST`] for returning to a host
//! institution the person served, less [`SAME_AREA`] for an area they served, plus up to
//! [`OCCUPANCY`] by how full the post already is (emptier posts first), plus [`LANGUAGE`] when
//! the post works in languages the person does not speak. Leaving a person unplaced costs
//! [`UNPLACED`], far above any posting's cost (60–155): seats are filled before costs are saved.
//!
//! Terms follow the person's last role: cadres a three-year batch (numbered after the last),
//! professionals twelve months (within the 6–18-month rule).
//!
//! The report ends with the rotation calendar: seats falling vacant (a posting under way ends
//! within [`LOOKAHEAD_DAYS`] and no posting to the same post is booked to follow) and cadre
//! batches ending in that time.

use crate::report::{Cell, Context, Report, ReportError, Section, col, computed_label, read_table};
use counterpart_domain::people::{Person, Post, Posting, Role};
use counterpart_domain::records::Records;
use counterpart_domain::{Date, RegionCode, Year};
use counterpart_engine::placement::{self, Round};
use counterpart_store::Store;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

pub const BASE: i64 = 100;
pub const SAME_HOST: i64 = 40;
pub const SAME_AREA: i64 = 20;
pub const OCCUPANCY: i64 = 30;
pub const LANGUAGE: i64 = 25;
pub const UNPLACED: i64 = 1_000;
pub const MAX_CANDIDATES: usize = 50;

#[derive(Debug, Clone, Default)]
pub struct PlaceOptions {
    /// The round's year; the year after the latest posting's start by default.
    pub round: Option<Year>,
    /// How many proposed postings to list (all when `None`).
    pub limit: Option<usize>,
}

/// What a round took, for the benchmark and the closing line.
#[derive(Debug, Clone, Default)]
pub struct PlaceTimes {
    pub load: Duration,
    pub model: Duration,
    pub solve: Duration,
    pub total: Duration,
    pub people: usize,
    pub posts: usize,
    pub arcs: usize,
    pub method: String,
}

/// One person's candidate: post index, cost, and the cost's parts.
#[derive(Clone, Copy)]
struct Candidate {
    post: u32,
    cost: i64,
    same_host: bool,
    same_area: bool,
    occupancy: i64,
    speaks: bool,
}

pub async fn place(
    store: &dyn Store,
    options: &PlaceOptions,
) -> Result<(Report, PlaceTimes), ReportError> {
    let started = Instant::now();
    let ctx = Context::load(store).await?;
    let mut records = Records::default();
    for table in counterpart_store::TABLES
        .into_iter()
        .filter(|t| matches!(t.name, "people" | "posts" | "postings"))
    {
        read_table(store, table, &mut records).await?;
    }
    let load = started.elapsed();
    let Records {
        people,
        posts,
        postings,
        ..
    } = records;
    let round = match options.round {
        Some(year) => year,
        None => {
            let latest = postings.iter().map(|p| p.start.year()).max();
            let next = latest.map_or(ctx.program.first_year.get(), |y| y as u16 + 1);
            Year::new(next).map_err(|e| ReportError::Invalid(e.to_string()))?
        }
    };
    let day = Date::new(round.get() as i16, 1, 1)
        .map_err(|e| ReportError::Invalid(format!("round {round}: {e}")))?;
    let modelled = Instant::now();
    let on_day = Occupancy::on(&people, &posts, &postings, day);
    let open = OpenSeats::of(&ctx, &posts, &on_day.filled, round);
    let model = Model::build(&people, &posts, &on_day, &open);
    let model_time = modelled.elapsed();
    let placed = placement::place(&model.round).map_err(|e| {
        ReportError::Inconsistent(format!(
            "the placement's certificate failed ({e}); please report"
        ))
    })?;

    let simulated = people.iter().any(|p| p.provenance.is_simulated())
        || posts.iter().any(|p| p.provenance.is_simulated());
    let provenance = computed_label(simulated);
    let placed_count = placed.arc_of.iter().flatten().count();
    let summary = round_section(round, day, &model, &placed, &provenance);
    let limit = options.limit.unwrap_or(usize::MAX);
    let proposed = Proposed {
        ctx: &ctx,
        people: &people,
        posts: &posts,
        on_day: &on_day,
        open: &open,
        model: &model,
        placed: &placed,
        day,
    };
    let section = proposed.section(round, &provenance, limit);
    let calendar = rotation_calendar(&ctx, &posts, &postings, day, &provenance, limit);
    let times = PlaceTimes {
        load,
        model: model_time,
        solve: placed.solve_time,
        total: started.elapsed(),
        people: model.in_round.len(),
        posts: model.round.seats.len(),
        arcs: model.round.arcs.len(),
        method: placed.solver(),
    };
    let mut notes = vec![format!(
        "A proposal: nothing is written. Cost of a posting = {BASE} − {SAME_HOST} for a host \
         the person served − {SAME_AREA} for an area they served + up to {OCCUPANCY} by how \
         full the post is + {LANGUAGE} when the person speaks none of the post's languages; \
         leaving a person unplaced costs {UNPLACED}, far above any posting's, \
         so seats are filled before costs are saved. Candidates: the person's specialty, in areas paired with their provider \
         in {round}. The solver's optimality certificate was checked."
    )];
    if simulated {
        notes.push("People and posts in this database are simulated.".into());
    }
    if section.rows.len() < placed_count {
        notes.push(format!(
            "{} of {placed_count} proposed postings listed.",
            section.rows.len()
        ));
    }
    Ok((
        Report {
            report: "place",
            title: format!("Placement round {round}"),
            program: ctx.program.name_en.clone(),
            notes,
            sections: vec![summary, section, calendar],
        },
        times,
    ))
}

/// Who is away on the round's first day, how full each post is then, and each person's
/// history (the posts they served, their latest posting).
struct Occupancy<'a> {
    busy: Vec<bool>,
    filled: Vec<u32>,
    history: Vec<Vec<usize>>,
    last: Vec<Option<&'a Posting>>,
    last_batch: u32,
}

impl<'a> Occupancy<'a> {
    fn on(people: &[Person], posts: &[Post], postings: &'a [Posting], day: Date) -> Self {
        let post_index: HashMap<&str, usize> = posts
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i))
            .collect();
        let person_index: HashMap<&str, usize> = people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i))
            .collect();
        let mut o = Occupancy {
            busy: vec![false; people.len()],
            filled: vec![0u32; posts.len()],
            history: vec![Vec::new(); people.len()],
            last: vec![None; people.len()],
            last_batch: 0,
        };
        for posting in postings {
            let (Some(&p), Some(&q)) = (
                person_index.get(posting.person.as_str()),
                post_index.get(posting.post.as_str()),
            ) else {
                continue;
            };
            if posting.start <= day && day <= posting.end {
                o.busy[p] = true;
                o.filled[q] += 1;
            }
            o.history[p].push(q);
            if o.last[p].is_none_or(|l| l.start < posting.start) {
                o.last[p] = Some(posting);
            }
            o.last_batch = o.last_batch.max(posting.batch.unwrap_or(0));
        }
        o
    }
}

/// The posts with open seats, each a slot of the round; and per (provider, specialty), the
/// slots in the provider's paired areas.
struct OpenSeats<'a> {
    seats: Vec<u32>,
    post_of_slot: Vec<usize>,
    open_posts: HashMap<(&'a RegionCode, &'a str), Vec<u32>>,
}

impl<'a> OpenSeats<'a> {
    fn of(ctx: &'a Context, posts: &'a [Post], filled: &[u32], round: Year) -> Self {
        let mut paired: HashMap<&RegionCode, Vec<&RegionCode>> = HashMap::new();
        for pair in ctx.frame.pairs.iter().filter(|p| p.active_in(round)) {
            paired
                .entry(&pair.provider)
                .or_default()
                .push(&pair.recipient);
        }
        let mut open = OpenSeats {
            seats: Vec::new(),
            post_of_slot: Vec::new(),
            open_posts: HashMap::new(),
        };
        let mut serving_of: HashMap<&RegionCode, Vec<&RegionCode>> = HashMap::new();
        for (q, post) in posts.iter().enumerate() {
            let seats = post.seats.saturating_sub(filled[q]);
            if seats == 0 {
                continue;
            }
            let slot = open.seats.len() as u32;
            open.seats.push(seats);
            open.post_of_slot.push(q);
            // The providers whose pairs enclose the post's area, worked out once per area.
            let serving = serving_of.entry(&post.recipient).or_insert_with(|| {
                paired
                    .iter()
                    .filter(|(_, areas)| {
                        areas
                            .iter()
                            .any(|area| ctx.tree.is_within(&post.recipient, area))
                    })
                    .map(|(provider, _)| *provider)
                    .collect()
            });
            for provider in serving.iter() {
                open.open_posts
                    .entry((provider, post.specialty.as_str()))
                    .or_default()
                    .push(slot);
            }
        }
        open
    }
}

/// The round as the solver sees it: the people with a candidate post, in the round's order,
/// and their candidates (the others stay unplaced whatever the solver does and are left out).
struct Model {
    round: Round,
    available: usize,
    in_round: Vec<usize>,
    candidates: Vec<Vec<Candidate>>,
    without_candidate: usize,
}

impl Model {
    fn build(people: &[Person], posts: &[Post], on_day: &Occupancy, open: &OpenSeats) -> Model {
        let available: Vec<usize> = (0..people.len()).filter(|&p| !on_day.busy[p]).collect();
        let mut model = Model {
            round: Round {
                people: 0,
                seats: open.seats.clone(),
                arcs: Vec::new(),
                unplaced: UNPLACED,
            },
            available: available.len(),
            in_round: Vec::with_capacity(available.len()),
            candidates: Vec::with_capacity(available.len()),
            without_candidate: 0,
        };
        for &p in &available {
            let own = candidates(&people[p], &on_day.history[p], posts, on_day, open);
            if own.is_empty() {
                model.without_candidate += 1;
                continue;
            }
            let slot = model.in_round.len() as u32;
            for c in &own {
                model.round.arcs.push((slot, c.post, c.cost));
            }
            model.in_round.push(p);
            model.candidates.push(own);
        }
        model.round.people = model.in_round.len();
        model
    }
}

/// A person's candidate posts, the cheapest [`MAX_CANDIDATES`], cheapest first.
fn candidates(
    person: &Person,
    history: &[usize],
    posts: &[Post],
    on_day: &Occupancy,
    open: &OpenSeats,
) -> Vec<Candidate> {
    let served: HashSet<usize> = history.iter().copied().collect();
    let areas: HashSet<&RegionCode> = history.iter().map(|&q| &posts[q].recipient).collect();
    let Some(slots) = open
        .open_posts
        .get(&(&person.provider, person.specialty.as_str()))
    else {
        return Vec::new();
    };
    let mut own: Vec<Candidate> = slots
        .iter()
        .map(|&s| {
            let q = open.post_of_slot[s as usize];
            let post = &posts[q];
            let same_host = served.contains(&q);
            let same_area = !same_host && areas.contains(&post.recipient);
            let occupancy = OCCUPANCY * i64::from(on_day.filled[q]) / i64::from(post.seats);
            let speaks = person.languages.meets(&post.languages);
            Candidate {
                post: s,
                cost: BASE
                    - if same_host { SAME_HOST } else { 0 }
                    - if same_area { SAME_AREA } else { 0 }
                    + occupancy
                    + if speaks { 0 } else { LANGUAGE },
                same_host,
                same_area,
                occupancy,
                speaks,
            }
        })
        .collect();
    own.sort_by_key(|c| (c.cost, c.post));
    own.truncate(MAX_CANDIDATES);
    own
}

/// The round's headline figures.
fn round_section(
    round: Year,
    day: Date,
    model: &Model,
    placed: &placement::Placed,
    provenance: &str,
) -> Section {
    let placed_count = placed.arc_of.iter().flatten().count();
    let open_total: u64 = model.round.seats.iter().map(|&s| u64::from(s)).sum();
    let open_left: u64 = placed.open.iter().map(|&s| u64::from(s)).sum();
    let mut summary = Section::new(
        "round",
        format!("Placement round {round} (from {day})"),
        vec![
            col("measure", "measure", None),
            col("value", "value", None),
            col("provenance", "provenance", None),
        ],
    );
    let mut line = |label: &str, value: Cell| {
        summary.push(vec![Cell::text(label), value, Cell::text(provenance)]);
    };
    line("people available", Cell::count(model.available as u64));
    line(
        "posts with open seats",
        Cell::count(model.round.seats.len() as u64),
    );
    line("open seats", Cell::count(open_total));
    line(
        "candidate postings considered",
        Cell::count(model.round.arcs.len() as u64),
    );
    line("people placed", Cell::count(placed_count as u64));
    line(
        "people without a candidate post (no open post of their specialty in their provider's pairs)",
        Cell::count(model.without_candidate as u64),
    );
    line(
        "people left unplaced",
        Cell::count((model.available - placed_count) as u64),
    );
    line("seats left open", Cell::count(open_left));
    line("total cost of the postings", Cell::Int(placed.cost as i64));
    line("solver", Cell::text(placed.solver()));
    summary
}

/// The solved round, for listing its postings.
struct Proposed<'a> {
    ctx: &'a Context,
    people: &'a [Person],
    posts: &'a [Post],
    on_day: &'a Occupancy<'a>,
    open: &'a OpenSeats<'a>,
    model: &'a Model,
    placed: &'a placement::Placed,
    day: Date,
}

impl Proposed<'_> {
    /// The proposed postings (at most `limit`), each with its term, why and its runner-up.
    fn section(&self, round: Year, provenance: &str, limit: usize) -> Section {
        let mut section = Section::new(
            "postings",
            format!("Proposed postings, round {round}"),
            vec![
                col("person", "person", None),
                col("provider", "provider", None),
                col("specialty", "specialty", None),
                col("post", "post", None),
                col("host", "host institution", None),
                col("recipient", "recipient", None),
                col("role", "role", None),
                col("start", "start", None),
                col("end", "end", None),
                col("batch", "batch", None),
                col("cost", "cost", None),
                col("why", "why", None),
                col("runner_up", "runner-up", None),
                col("provenance", "provenance", None),
            ],
        );
        for (slot, &p) in self.model.in_round.iter().enumerate() {
            if section.rows.len() >= limit {
                break;
            }
            if let Some(mut row) = self.row(slot, p) {
                row.push(Cell::text(provenance));
                section.push(row);
            }
        }
        section
    }

    /// The posting proposed for the `slot`-th person of the round (`people[p]`), if any.
    fn row(&self, slot: usize, p: usize) -> Option<Vec<Cell>> {
        let k = self.placed.arc_of[slot]?;
        let person = &self.people[p];
        let chosen = self.model.round.arcs[k].1;
        let own = &self.model.candidates[slot];
        let c = own.iter().find(|c| c.post == chosen)?;
        let post = &self.posts[self.open.post_of_slot[chosen as usize]];
        let role = self.on_day.last[p].map_or(Role::Professional, |l| l.role);
        let day = self.day;
        let (end, batch) = match role {
            Role::Cadre => (
                day.saturating_add(jiff::Span::new().years(3)),
                Some(self.on_day.last_batch + 1),
            ),
            Role::Professional => (day.saturating_add(jiff::Span::new().months(12)), None),
        };
        let end = end.saturating_sub(jiff::Span::new().days(1));
        let runner_up = own
            .iter()
            .find(|o| o.post != chosen)
            .map(|o| {
                let q = &self.posts[self.open.post_of_slot[o.post as usize]];
                format!("{} ({:+})", q.id, o.cost - c.cost)
            })
            .unwrap_or_else(|| "none: the only candidate".into());
        Some(vec![
            Cell::text(person.id.as_str()),
            Cell::text(self.ctx.name(&person.provider)),
            Cell::text(&person.specialty),
            Cell::text(post.id.as_str()),
            Cell::text(&post.host_institution),
            Cell::text(self.ctx.name(&post.recipient)),
            Cell::text(role.code()),
            Cell::text(day.to_string()),
            Cell::text(end.to_string()),
            Cell::opt(batch.map(|b| Cell::count(u64::from(b)))),
            Cell::Int(c.cost),
            Cell::text(why(person, post, c)),
            Cell::text(runner_up),
        ])
    }
}

/// How far ahead the rotation calendar looks for seats falling vacant and batches ending.
pub const LOOKAHEAD_DAYS: i64 = 183;

/// The rotation calendar from the round's first day: each posting under way that ends within
/// [`LOOKAHEAD_DAYS`] with no later posting to the same post booked to follow it (a seat about
/// to fall vacant), and each cadre batch whose last posting ends within that time.
fn rotation_calendar(
    ctx: &Context,
    posts: &[Post],
    postings: &[Posting],
    day: Date,
    provenance: &str,
    limit: usize,
) -> Section {
    let horizon = day.saturating_add(jiff::Span::new().days(LOOKAHEAD_DAYS));
    let post_of: HashMap<&str, &Post> = posts.iter().map(|p| (p.id.as_str(), p)).collect();
    // Postings booked to start at each post after the day.
    let mut following: HashMap<&str, Vec<Date>> = HashMap::new();
    for posting in postings.iter().filter(|p| p.start > day) {
        following
            .entry(posting.post.as_str())
            .or_default()
            .push(posting.start);
    }
    let mut rows: Vec<(Date, Vec<Cell>)> = Vec::new();
    for posting in postings
        .iter()
        .filter(|p| p.start <= day && day <= p.end && p.end <= horizon)
    {
        let successor = following.get(posting.post.as_str()).is_some_and(|starts| {
            starts
                .iter()
                .any(|&s| s > posting.end.saturating_sub(jiff::Span::new().days(31)))
        });
        if successor {
            continue;
        }
        let Some(post) = post_of.get(posting.post.as_str()) else {
            continue;
        };
        rows.push((
            posting.end,
            vec![
                Cell::text("seat falling vacant"),
                Cell::text(posting.end.to_string()),
                Cell::Int((posting.end - day).get_days().into()),
                Cell::text(post.id.as_str()),
                Cell::text(&post.host_institution),
                Cell::text(ctx.name(&post.recipient)),
                Cell::text(posting.person.as_str()),
                Cell::text(posting.role.code()),
                Cell::opt(posting.batch.map(|b| Cell::count(u64::from(b)))),
                Cell::text(provenance),
            ],
        ));
    }
    // Cadre batches: the last day of each, and how many cadres it holds.
    let mut batches: std::collections::BTreeMap<u32, (Date, u64)> = Default::default();
    for posting in postings.iter().filter(|p| p.role == Role::Cadre) {
        if let Some(b) = posting.batch {
            let e = batches.entry(b).or_insert((posting.end, 0));
            e.0 = e.0.max(posting.end);
            e.1 += 1;
        }
    }
    for (batch, (end, cadres)) in batches {
        if day <= end && end <= horizon {
            rows.push((
                end,
                vec![
                    Cell::text(format!(
                        "cadre batch ends ({cadres} {})",
                        if cadres == 1 { "cadre" } else { "cadres" }
                    )),
                    Cell::text(end.to_string()),
                    Cell::Int((end - day).get_days().into()),
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::text(Role::Cadre.code()),
                    Cell::count(u64::from(batch)),
                    Cell::text(provenance),
                ],
            ));
        }
    }
    rows.sort_by_key(|row| row.0);
    let mut section = Section::new(
        "calendar",
        format!("Rotation calendar: the {LOOKAHEAD_DAYS} days from {day}"),
        vec![
            col("warning", "warning", None),
            col("date", "ends on", None),
            col("days", "days left", None),
            col("post", "post", None),
            col("host", "host institution", None),
            col("recipient", "recipient", None),
            col("person", "person", None),
            col("role", "role", None),
            col("batch", "batch", None),
            col("provenance", "provenance", None),
        ],
    );
    for (_, row) in rows.into_iter().take(limit) {
        section.push(row);
    }
    section
}

/// Why this posting: the rule that made it a candidate and the parts of its cost.
fn why(person: &Person, post: &Post, c: &Candidate) -> String {
    let mut parts = vec![format!("{} in a paired area", person.specialty)];
    if c.same_host {
        parts.push(format!("served this host before (−{SAME_HOST})"));
    } else if c.same_area {
        parts.push(format!("served this area before (−{SAME_AREA})"));
    }
    if c.occupancy > 0 {
        parts.push(format!(
            "post partly filled (+{}, of {} seats)",
            c.occupancy, post.seats
        ));
    }
    if c.speaks {
        if !post.languages.is_empty() {
            parts.push(format!("speaks the post's language ({})", post.languages));
        }
    } else {
        parts.push(format!(
            "does not speak the post's language {} (+{LANGUAGE})",
            post.languages
        ));
    }
    parts.join("; ")
}
