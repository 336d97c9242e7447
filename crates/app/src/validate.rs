//! Cross-record checks of an import: every reference resolves, in the bundle or the database,
//! and every record obeys the program's rules. Parsing has already checked each field.

use crate::bundle::{Bundle, Problems};
use counterpart_domain::ledger::Fast;
use counterpart_domain::pair::{Pair, serves};
use counterpart_domain::people::{Person, Post, TeamMember, check_team, check_term};
use counterpart_domain::project::Project;
use counterpart_domain::records::Records;
use counterpart_domain::region::{Region, RegionTree};
use counterpart_domain::{RegionCode, Year};
use counterpart_store::Keys;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What the database already holds that references may point at.
pub struct Existing<'a> {
    pub frame: &'a Records,
    pub keys: &'a Keys,
}

struct Checker<'a> {
    bundle: &'a Bundle,
    existing: &'a Existing<'a>,
    problems: &'a mut Problems,
    tree: RegionTree,
    pairs: Vec<Pair>,
    /// Whether a provider has a pair covering a recipient in a year, as found so far: a bulk
    /// import asks the same few hundred questions for every one of its projects.
    served: HashMap<(RegionCode, RegionCode, Year), bool>,
}

impl Checker<'_> {
    fn report(&mut self, table: &str, index: usize, column: &str, message: String) {
        let line = self.bundle.line_of(table, index);
        self.problems
            .push(&format!("{table}.csv"), line, Some(column), message);
    }

    fn has_key(&self, table: &str, bundle_has: bool, key: &str) -> bool {
        bundle_has
            || self
                .existing
                .keys
                .get(table)
                .is_some_and(|k| k.contains(key))
    }

    /// Both regions known, and `provider` has a pair covering `recipient` in `year` (else a
    /// problem on the row's recipient, after `lead`).
    fn paired(
        &mut self,
        table: &str,
        index: usize,
        provider: &RegionCode,
        recipient: &RegionCode,
        year: Year,
        lead: &str,
    ) {
        self.region(table, index, "provider", provider);
        self.region(table, index, "recipient", recipient);
        let Checker {
            tree,
            pairs,
            served,
            ..
        } = self;
        let known = tree.contains(provider) && tree.contains(recipient);
        if known
            && !*served
                .entry((provider.clone(), recipient.clone(), year))
                .or_insert_with(|| serves(pairs, tree, provider, recipient, year))
        {
            self.report(
                table,
                index,
                "recipient",
                format!("{lead}{provider} has no pair covering {recipient} in {year}"),
            );
        }
    }

    fn region(&mut self, table: &str, index: usize, column: &str, code: &RegionCode) {
        if !self.tree.contains(code) {
            self.report(
                table,
                index,
                column,
                format!("{code} is not a region: add it to regions.csv first"),
            );
        }
    }
}

/// Check every cross-record rule; add what fails to `problems`.
pub fn check(bundle: &Bundle, existing: &Existing<'_>, problems: &mut Problems) {
    let new = &bundle.records;
    let regions: Vec<Region> = existing
        .frame
        .regions
        .iter()
        .chain(&new.regions)
        .cloned()
        .collect();
    let tree = match RegionTree::build(regions) {
        Ok(tree) => tree,
        Err(e) => {
            problems.push("regions.csv", None, Some("parent"), e.to_string());
            return;
        }
    };
    let pairs = existing
        .frame
        .pairs
        .iter()
        .chain(&new.pairs)
        .cloned()
        .collect();
    let mut c = Checker {
        bundle,
        existing,
        problems,
        tree,
        pairs,
        served: HashMap::new(),
    };
    check_program(&mut c);
    check_frame(&mut c);
    check_projects(&mut c);
    check_people(&mut c);
    check_steps(&mut c);
    check_institutions(&mut c);
}

fn check_program(c: &mut Checker<'_>) {
    let (bundle, existing) = (c.bundle, c.existing);
    let new = &bundle.records;
    match (&existing.frame.program, &new.program) {
        (Some(old), Some(p)) if old.code != p.code => c.report(
            "program",
            0,
            "code",
            format!(
                "this database holds program {}; import {} into another database",
                old.code, p.code
            ),
        ),
        (None, None) => c.problems.push(
            "program.csv",
            None,
            None,
            "missing: a new database needs its program",
        ),
        _ => {}
    }
    if let Some(p) = &new.program
        && p.last_year < p.first_year
    {
        c.report(
            "program",
            0,
            "last_year",
            format!("{} is before first_year {}", p.last_year, p.first_year),
        );
    }
    let periods: Vec<_> = existing
        .frame
        .quota_periods
        .iter()
        .chain(&new.quota_periods)
        .collect();
    for (i, q) in new.quota_periods.iter().enumerate() {
        if q.last_year < q.first_year {
            c.report(
                "quota_periods",
                i,
                "last_year",
                format!("{} is before first_year {}", q.last_year, q.first_year),
            );
        }
        if q.rate_max < q.rate_min {
            c.report("quota_periods", i, "rate_max", "is below rate_min".into());
        }
        if let Some(other) = periods
            .iter()
            .find(|o| o.first_year != q.first_year && o.contains(q.first_year))
        {
            c.report(
                "quota_periods",
                i,
                "first_year",
                format!("overlaps the period starting {}", other.first_year),
            );
        }
    }
    for (i, r) in new.provider_rates.iter().enumerate() {
        c.region("provider_rates", i, "provider", &r.provider);
        match periods.iter().find(|q| q.first_year == r.period_first_year) {
            None => c.report(
                "provider_rates",
                i,
                "period_first_year",
                format!("no quota period starts in {}", r.period_first_year),
            ),
            Some(q) if r.rate < q.rate_min || r.rate > q.rate_max => c.report(
                "provider_rates",
                i,
                "rate",
                format!(
                    "{} lies outside the band {}–{}",
                    r.rate.percent(3),
                    q.rate_min.percent(3),
                    q.rate_max.percent(3)
                ),
            ),
            Some(_) => {}
        }
    }
}

fn check_frame(c: &mut Checker<'_>) {
    let bundle = c.bundle;
    let new = &bundle.records;
    for (i, p) in new.pairs.iter().enumerate() {
        c.region("pairs", i, "provider", &p.provider);
        c.region("pairs", i, "recipient", &p.recipient);
        if p.provider == p.recipient {
            c.report(
                "pairs",
                i,
                "recipient",
                "a region cannot be paired with itself".into(),
            );
        }
        if p.last_year.is_some_and(|l| l < p.first_year) {
            c.report("pairs", i, "last_year", "is before first_year".into());
        }
    }
    for (i, t) in new.region_tags.iter().enumerate() {
        c.region("region_tags", i, "region", &t.region);
    }
    for (i, v) in new.indicators.iter().enumerate() {
        c.region("indicators", i, "region", &v.region);
        if v.version == 0 {
            c.report("indicators", i, "version", "versions start at 1".into());
        }
    }
    for (i, t) in new.targets.iter().enumerate() {
        c.region("targets", i, "region", &t.region);
    }
    for (i, p) in new.purchases.iter().enumerate() {
        c.region("purchases", i, "provider", &p.provider);
        c.region("purchases", i, "recipient", &p.recipient);
    }
    for (i, e) in new.exchanges.iter().enumerate() {
        c.region("exchanges", i, "recipient", &e.recipient);
        c.region("exchanges", i, "provider", &e.provider);
    }
}

fn check_projects(c: &mut Checker<'_>) {
    let bundle = c.bundle;
    let new = &bundle.records;
    let existing = c.existing;
    let program = existing.frame.program.as_ref().or(new.program.as_ref());
    let project_ids: HashSet<&str, Fast> = new.projects.iter().map(|p| p.id.as_str()).collect();
    for (i, p) in new.projects.iter().enumerate() {
        c.paired("projects", i, &p.provider, &p.recipient, p.year, "");
        if let Some(program) = &program
            && !program.contains_year(p.year)
        {
            c.report(
                "projects",
                i,
                "year",
                format!(
                    "{} lies outside the program's years {}–{}",
                    p.year, program.first_year, program.last_year
                ),
            );
        }
    }
    // The bundle's transfer ids, gathered only if some transfer corrects another.
    let corrects_any = new.transfers.iter().any(|t| t.corrects.is_some());
    let transfer_ids: HashSet<&str, Fast> = match corrects_any {
        true => new.transfers.iter().map(|t| t.id.as_str()).collect(),
        false => HashSet::default(),
    };
    for (i, t) in new.transfers.iter().enumerate() {
        let here = project_ids.contains(t.project.as_str());
        if !c.has_key("projects", here, t.project.as_str()) {
            c.report(
                "transfers",
                i,
                "project",
                format!("{} is not a project", t.project),
            );
        }
        if let Some(program) = &program
            && t.currency != program.currency
        {
            c.report(
                "transfers",
                i,
                "currency",
                format!(
                    "{} is not the program's currency {}",
                    t.currency, program.currency
                ),
            );
        }
        if let Some(original) = &t.corrects {
            let here = transfer_ids.contains(original.as_str());
            if !c.has_key("transfers", here, original.as_str()) {
                c.report(
                    "transfers",
                    i,
                    "corrects",
                    format!("{original} is not a transfer"),
                );
            }
        }
    }
}

fn check_people(c: &mut Checker<'_>) {
    let bundle = c.bundle;
    let new = &bundle.records;
    for (i, p) in new.people.iter().enumerate() {
        c.region("people", i, "provider", &p.provider);
    }
    for (i, p) in new.posts.iter().enumerate() {
        c.region("posts", i, "recipient", &p.recipient);
        if p.seats == 0 {
            c.report("posts", i, "seats", "a post has at least one seat".into());
        }
    }
    let people: HashSet<&str> = new.people.iter().map(|p| p.id.as_str()).collect();
    let posts: HashSet<&str> = new.posts.iter().map(|p| p.id.as_str()).collect();
    for (i, p) in new.postings.iter().enumerate() {
        if !c.has_key(
            "people",
            people.contains(p.person.as_str()),
            p.person.as_str(),
        ) {
            c.report(
                "postings",
                i,
                "person",
                format!("{} is not a person in people.csv", p.person),
            );
        }
        if !c.has_key("posts", posts.contains(p.post.as_str()), p.post.as_str()) {
            c.report(
                "postings",
                i,
                "post",
                format!("{} is not a post in posts.csv", p.post),
            );
        }
        if let Err(e) = check_term(p.role, p.start, p.end, p.batch) {
            let column = if e.contains("batch") && !e.contains("lasts") {
                "batch"
            } else {
                "end_date"
            };
            c.report("postings", i, column, e);
        }
    }
    // Group-style medical teams, checked on the bundle's own people and posts.
    let people: HashMap<&str, &Person> = new.people.iter().map(|p| (p.id.as_str(), p)).collect();
    let posts: HashMap<&str, &Post> = new.posts.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut teams: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, p) in new.postings.iter().enumerate() {
        if let Some(team) = &p.team {
            teams.entry(team.as_str()).or_default().push(i);
        }
    }
    for (team, rows) in teams {
        let mut members = Vec::new();
        for &i in &rows {
            let posting = &new.postings[i];
            let (Some(person), Some(post)) = (
                people.get(posting.person.as_str()),
                posts.get(posting.post.as_str()),
            ) else {
                c.report(
                    "postings",
                    i,
                    "team",
                    format!(
                        "team {team}: a team comes in one bundle with its people and posts, \
                         so that the team rule can be checked"
                    ),
                );
                continue;
            };
            members.push(TeamMember {
                title: person.title,
                recipient: &post.recipient,
                host_institution: &post.host_institution,
                start: posting.start,
                end: posting.end,
            });
        }
        if members.len() == rows.len()
            && let Err(e) = check_team(&members)
        {
            c.report("postings", rows[0], "team", format!("team {team}: {e}"));
        }
    }
}

/// The dated steps of a project's life: they come with the project, in order, dated in order,
/// and end at the project's status.
fn check_steps(c: &mut Checker<'_>) {
    let new = &c.bundle.records;
    let projects: HashMap<&str, &Project> =
        new.projects.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut of_project: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, step) in new.project_steps.iter().enumerate() {
        of_project.entry(step.project.as_str()).or_default().push(i);
    }
    for (id, mut rows) in of_project {
        let Some(project) = projects.get(id) else {
            let known = c.has_key("projects", false, id);
            c.report(
                "project_steps",
                rows[0],
                "project",
                if known {
                    format!(
                        "{id} is already in the database: record its next step in the web \
                         application or the API, where its status moves with it"
                    )
                } else {
                    format!("{id} is not a project")
                },
            );
            continue;
        };
        rows.sort_by_key(|&i| (new.project_steps[i].date, new.project_steps[i].status));
        for w in rows.windows(2) {
            let (a, b) = (&new.project_steps[w[0]], &new.project_steps[w[1]]);
            if let Err(e) = a.status.may_go_to(b.status) {
                c.report(
                    "project_steps",
                    w[1],
                    "status",
                    format!("{id}: after {} on {}, {e}", a.status.code(), a.date),
                );
            }
        }
        let last = &new.project_steps[*rows.last().expect("one step at least")];
        if last.status != project.status {
            c.report(
                "project_steps",
                *rows.last().expect("one step at least"),
                "status",
                format!(
                    "{id}: the latest step is {}, but the project's status is {}",
                    last.status.code(),
                    project.status.code()
                ),
            );
        }
    }
}

/// Institution pairs sit under a pair of their provider with their area; training is given
/// where the provider serves.
fn check_institutions(c: &mut Checker<'_>) {
    let new = &c.bundle.records;
    for (i, x) in new.institution_pairs.iter().enumerate() {
        if x.last_year.is_some_and(|l| l < x.first_year) {
            c.report(
                "institution_pairs",
                i,
                "last_year",
                "is before first_year".into(),
            );
        }
        c.paired(
            "institution_pairs",
            i,
            &x.provider,
            &x.recipient,
            x.first_year,
            "an institution pair sits under a county pair: ",
        );
    }
    for (i, t) in new.trainings.iter().enumerate() {
        c.paired("trainings", i, &t.provider, &t.recipient, t.year, "");
    }
}
