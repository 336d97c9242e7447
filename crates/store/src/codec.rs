//! How domain records become table rows and back, shared by every backend.

use crate::StoreError;
use counterpart_domain::fact::Fact;
use counterpart_domain::indicator::{IndicatorKind, IndicatorValue};
use counterpart_domain::ledger::Phase;
use counterpart_domain::outcome::Target;
use counterpart_domain::pair::Pair;
use counterpart_domain::people::{
    InstitutionKind, InstitutionPair, Languages, Person, Post, Posting, Role, Title, Training,
};
use counterpart_domain::program::Program;
use counterpart_domain::project::{
    Category, Outputs, Project, ProjectStatus, ProjectStep, Transfer, TransferKind,
};
use counterpart_domain::quota::{ProviderRate, QuotaBase, QuotaPeriod};
use counterpart_domain::records::Records;
use counterpart_domain::region::{AdminCode, Region, RegionTag};
use counterpart_domain::trade::{Exchange, ExchangeKind, Purchase};
use counterpart_domain::{
    Confidence, Currency, Fen, ParseError, Provenance, RecordId, RegionCode, RegionKind, Share,
    Year, parse_date,
};
use std::borrow::Cow;

/// One cell. Text borrows from the record it encodes where it can: a bulk load binds a
/// million rows' ids and names without copying them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Value<'a> {
    Int(i64),
    Text(Cow<'a, str>),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Int,
    Text,
}

/// A table's columns in insert order and its primary key (rows are read back in key order).
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, ColumnType)],
    /// The primary-key columns; a key is their values joined by `|`.
    pub key: &'static [&'static str],
}

use ColumnType::{Int, Text};

const PROVENANCE: [(&str, ColumnType); 3] =
    [("provenance", Text), ("source", Text), ("confidence", Text)];

macro_rules! columns {
    ($($name:literal : $ty:ident),* ; provenance) => {
        &[$(($name, $ty),)* PROVENANCE[0], PROVENANCE[1], PROVENANCE[2]]
    };
    ($($name:literal : $ty:ident),*) => { &[$(($name, $ty)),*] };
}

pub const PROGRAM: Table = Table {
    name: "program",
    columns: columns!("code": Text, "name_en": Text, "name_zh": Text, "currency": Text, "first_year": Int,
        "last_year": Int, "livelihood_share_min": Text, "county_level_share_min": Text, "rules_source": Text),
    key: &["code"],
};
pub const QUOTA_PERIODS: Table = Table {
    name: "quota_periods",
    columns: columns!("first_year": Int, "last_year": Int, "indicator": Text, "base_year": Int, "growth": Text,
        "growth_years": Int, "rate_min": Text, "rate_max": Text; provenance),
    key: &["first_year"],
};
pub const REGIONS: Table = Table {
    name: "regions",
    columns: columns!("code": Text, "parent": Text, "kind": Text, "name_en": Text, "name_zh": Text, "admin_code": Text),
    key: &["code"],
};
pub const REGION_TAGS: Table = Table {
    name: "region_tags",
    columns: columns!("region": Text, "tag": Text; provenance),
    key: &["region", "tag"],
};
pub const PROVIDER_RATES: Table = Table {
    name: "provider_rates",
    columns: columns!("provider": Text, "period_first_year": Int, "rate": Text; provenance),
    key: &["provider", "period_first_year"],
};
pub const PAIRS: Table = Table {
    name: "pairs",
    columns: columns!("provider": Text, "recipient": Text, "first_year": Int, "last_year": Int,
        "provenance": Text, "source": Text, "confidence": Text, "note": Text),
    key: &["provider", "recipient", "first_year"],
};
pub const INDICATORS: Table = Table {
    name: "indicators",
    columns: columns!("region": Text, "indicator": Text, "year": Int, "version": Int, "value": Int; provenance),
    key: &["region", "indicator", "year", "version"],
};
pub const FACTS: Table = Table {
    name: "facts",
    columns: columns!("key": Text, "value": Text, "unit": Text, "period": Text, "confidence": Text,
        "source": Text, "note": Text),
    key: &["key"],
};
pub const PROJECTS: Table = Table {
    name: "projects",
    columns: columns!("id": Text, "provider": Text, "recipient": Text, "category": Text, "status": Text,
        "title_en": Text, "title_zh": Text, "year": Int, "budget_fen": Int, "housing_units": Int,
        "school_places": Int, "hospital_beds": Int, "jobs": Int, "people_trained": Int,
        "beneficiaries": Int; provenance),
    key: &["id"],
};
pub const TRANSFERS: Table = Table {
    name: "transfers",
    columns: columns!("id": Text, "project": Text, "kind": Text, "amount_fen": Int, "currency": Text,
        "value_date": Text, "corrects": Text, "phase": Text, "pending_of": Text; provenance),
    key: &["id"],
};
pub const PEOPLE: Table = Table {
    name: "people",
    columns: columns!("id": Text, "provider": Text, "home_institution": Text, "specialty": Text,
        "title": Text, "languages": Text; provenance),
    key: &["id"],
};
pub const POSTS: Table = Table {
    name: "posts",
    columns: columns!("id": Text, "recipient": Text, "host_institution": Text, "specialty": Text, "seats": Int,
        "languages": Text; provenance),
    key: &["id"],
};
pub const POSTINGS: Table = Table {
    name: "postings",
    columns: columns!("id": Text, "person": Text, "post": Text, "role": Text, "start_date": Text,
        "end_date": Text, "batch": Int, "team": Text; provenance),
    key: &["id"],
};
pub const TARGETS: Table = Table {
    name: "targets",
    columns: columns!("id": Text, "region": Text, "indicator": Text, "value": Int, "deadline": Text; provenance),
    key: &["id"],
};
pub const PURCHASES: Table = Table {
    name: "purchases",
    columns: columns!("id": Text, "provider": Text, "recipient": Text, "year": Int, "product": Text,
        "channel": Text, "value_fen": Int; provenance),
    key: &["id"],
};
pub const EXCHANGES: Table = Table {
    name: "exchanges",
    columns: columns!("id": Text, "recipient": Text, "provider": Text, "year": Int, "kind": Text, "people": Int; provenance),
    key: &["id"],
};
pub const PROJECT_STEPS: Table = Table {
    name: "project_steps",
    columns: columns!("project": Text, "status": Text, "date": Text; provenance),
    key: &["project", "status"],
};
pub const INSTITUTION_PAIRS: Table = Table {
    name: "institution_pairs",
    columns: columns!("id": Text, "provider": Text, "provider_institution": Text, "recipient": Text,
        "host_institution": Text, "kind": Text, "first_year": Int, "last_year": Int; provenance),
    key: &["id"],
};
pub const TRAININGS: Table = Table {
    name: "trainings",
    columns: columns!("id": Text, "provider": Text, "recipient": Text, "host_institution": Text,
        "specialty": Text, "year": Int, "trained": Int; provenance),
    key: &["id"],
};

/// Columns added after a table was first published: a bundle may leave them out (empty).
pub const OPTIONAL_COLUMNS: [(&str, &str); 5] = [
    ("projects", "beneficiaries"),
    ("people", "title"),
    ("people", "languages"),
    ("posts", "languages"),
    ("postings", "team"),
];

/// Every table, parents before children (the insert order).
pub const TABLES: [&Table; 19] = [
    &PROGRAM,
    &QUOTA_PERIODS,
    &REGIONS,
    &REGION_TAGS,
    &PROVIDER_RATES,
    &PAIRS,
    &INDICATORS,
    &FACTS,
    &PROJECTS,
    &TRANSFERS,
    &PEOPLE,
    &POSTS,
    &POSTINGS,
    &TARGETS,
    &PURCHASES,
    &EXCHANGES,
    &PROJECT_STEPS,
    &INSTITUTION_PAIRS,
    &TRAININGS,
];

/// The tables [`crate::Store::frame`] reads.
pub const FRAME_TABLES: [&Table; 9] = [
    &PROGRAM,
    &QUOTA_PERIODS,
    &REGIONS,
    &REGION_TAGS,
    &PROVIDER_RATES,
    &PAIRS,
    &INDICATORS,
    &FACTS,
    &TARGETS,
];

fn text<'a>(s: impl Into<Cow<'a, str>>) -> Value<'a> {
    Value::Text(s.into())
}
fn int(i: impl Into<i64>) -> Value<'static> {
    Value::Int(i.into())
}
fn opt_text<'a>(s: Option<impl Into<Cow<'a, str>>>) -> Value<'a> {
    s.map_or(Value::Null, text)
}
fn count(n: u64) -> Value<'static> {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn provenance(p: &Provenance) -> [Value<'_>; 3] {
    match p {
        Provenance::Published { source, confidence } => [
            text("published"),
            text(source.as_str()),
            text(confidence.code()),
        ],
        other => [text(other.kind()), Value::Null, Value::Null],
    }
}

fn with_provenance<'a>(mut row: Vec<Value<'a>>, p: &'a Provenance) -> Vec<Value<'a>> {
    row.extend(provenance(p));
    row
}

/// Regions ordered so that every parent comes before its children (the foreign key holds row by
/// row, whatever the order of the codes).
fn parents_first(regions: &[Region]) -> Vec<&Region> {
    let by_code: std::collections::HashMap<&RegionCode, &Region> =
        regions.iter().map(|r| (&r.code, r)).collect();
    let depth = |region: &Region| -> usize {
        let mut depth = 0usize;
        let mut parent = region.parent.as_ref();
        while let Some(next) = parent.and_then(|p| by_code.get(p)) {
            depth += 1;
            parent = next.parent.as_ref();
            if depth > regions.len() {
                break; // a cycle; the database refuses it
            }
        }
        depth
    };
    let mut ordered: Vec<(usize, &Region)> = regions.iter().map(|r| (depth(r), r)).collect();
    ordered.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.code.cmp(&b.1.code)));
    ordered.into_iter().map(|(_, r)| r).collect()
}

/// Rows of every table, in insert order.
pub fn encode(r: &Records) -> Vec<(&'static Table, Vec<Vec<Value<'_>>>)> {
    encode_lazily(r)
        .into_iter()
        .map(|(table, rows)| (table, rows.collect()))
        .collect()
}

/// The rows of one table, encoded as they are asked for.
pub type Rows<'a> = Box<dyn ExactSizeIterator<Item = Vec<Value<'a>>> + Send + 'a>;

/// Rows of every table, in insert order, each encoded only when it is asked for: a bulk load
/// holds one row at a time rather than a copy of every record.
pub fn encode_lazily(r: &Records) -> Vec<(&'static Table, Rows<'_>)> {
    encode_with(r, Box::new(r.transfers.iter()))
}

/// [`encode_lazily`], with the transfers in the order of `order` (indexes into
/// `r.transfers`, each once).
pub fn encode_ordered<'a>(r: &'a Records, order: &'a [usize]) -> Vec<(&'static Table, Rows<'a>)> {
    encode_with(r, Box::new(order.iter().map(|&i| &r.transfers[i])))
}

/// Every table's rows, each table's encoded row by row by its `*_row` function below (in the
/// order of the table's columns), the transfers taken from `transfers`.
fn encode_with<'a>(
    r: &'a Records,
    transfers: Box<dyn ExactSizeIterator<Item = &'a Transfer> + Send + 'a>,
) -> Vec<(&'static Table, Rows<'a>)> {
    fn rows<'a, T: Sync>(
        items: impl ExactSizeIterator<Item = &'a T> + Send + 'a,
        row: fn(&'a T) -> Vec<Value<'a>>,
    ) -> Rows<'a> {
        Box::new(items.map(row))
    }
    vec![
        (&PROGRAM, rows(r.program.iter(), program_row)),
        (&QUOTA_PERIODS, rows(r.quota_periods.iter(), periods_row)),
        (
            &REGIONS,
            rows(parents_first(&r.regions).into_iter(), regions_row),
        ),
        (&REGION_TAGS, rows(r.region_tags.iter(), tags_row)),
        (&PROVIDER_RATES, rows(r.provider_rates.iter(), rates_row)),
        (&PAIRS, rows(r.pairs.iter(), pairs_row)),
        (&INDICATORS, rows(r.indicators.iter(), indicators_row)),
        (&FACTS, rows(r.facts.iter(), facts_row)),
        (&PROJECTS, rows(r.projects.iter(), projects_row)),
        (&TRANSFERS, rows(transfers, transfers_row)),
        (&PEOPLE, rows(r.people.iter(), people_row)),
        (&POSTS, rows(r.posts.iter(), posts_row)),
        (&POSTINGS, rows(r.postings.iter(), postings_row)),
        (&TARGETS, rows(r.targets.iter(), targets_row)),
        (&PURCHASES, rows(r.purchases.iter(), purchases_row)),
        (&EXCHANGES, rows(r.exchanges.iter(), exchanges_row)),
        (&PROJECT_STEPS, rows(r.project_steps.iter(), steps_row)),
        (
            &INSTITUTION_PAIRS,
            rows(r.institution_pairs.iter(), institution_pairs_row),
        ),
        (&TRAININGS, rows(r.trainings.iter(), trainings_row)),
    ]
}

fn tags_row(t: &RegionTag) -> Vec<Value<'_>> {
    with_provenance(vec![text(t.region.as_str()), text(&t.tag)], &t.provenance)
}

fn program_row(p: &Program) -> Vec<Value<'_>> {
    vec![
        text(p.code.as_str()),
        text(&p.name_en),
        text(&p.name_zh),
        text(p.currency.as_str()),
        int(p.first_year.get()),
        int(p.last_year.get()),
        text(p.livelihood_share_min.to_string()),
        text(p.county_level_share_min.to_string()),
        text(&p.rules_source),
    ]
}

fn periods_row(q: &QuotaPeriod) -> Vec<Value<'_>> {
    let base = match q.base {
        QuotaBase::FixedYear(y) => int(y.get()),
        QuotaBase::PreviousYear => Value::Null,
    };
    with_provenance(
        vec![
            int(q.first_year.get()),
            int(q.last_year.get()),
            text(q.indicator.code()),
            base,
            text(q.growth.to_string()),
            int(q.growth_years),
            text(q.rate_min.to_string()),
            text(q.rate_max.to_string()),
        ],
        &q.provenance,
    )
}

fn regions_row(g: &Region) -> Vec<Value<'_>> {
    vec![
        text(g.code.as_str()),
        opt_text(g.parent.as_ref().map(|p| p.as_str())),
        text(g.kind.code()),
        text(&g.name_en),
        text(&g.name_zh),
        opt_text(g.admin_code.as_ref().map(|a| a.as_str())),
    ]
}

fn rates_row(x: &ProviderRate) -> Vec<Value<'_>> {
    with_provenance(
        vec![
            text(x.provider.as_str()),
            int(x.period_first_year.get()),
            text(x.rate.to_string()),
        ],
        &x.provenance,
    )
}

fn pairs_row(p: &Pair) -> Vec<Value<'_>> {
    let mut row = vec![
        text(p.provider.as_str()),
        text(p.recipient.as_str()),
        int(p.first_year.get()),
        p.last_year.map_or(Value::Null, |y| int(y.get())),
    ];
    row.extend(provenance(&p.provenance));
    row.push(text(&p.note));
    row
}

fn indicators_row(v: &IndicatorValue) -> Vec<Value<'_>> {
    with_provenance(
        vec![
            text(v.region.as_str()),
            text(v.kind.code()),
            int(v.year.get()),
            int(v.version),
            int(v.value),
        ],
        &v.provenance,
    )
}

fn facts_row(f: &Fact) -> Vec<Value<'_>> {
    vec![
        text(&f.key),
        text(&f.value),
        text(&f.unit),
        text(&f.period),
        text(f.confidence.code()),
        text(&f.source),
        text(&f.note),
    ]
}

fn projects_row(p: &Project) -> Vec<Value<'_>> {
    with_provenance(
        vec![
            text(p.id.as_str()),
            text(p.provider.as_str()),
            text(p.recipient.as_str()),
            text(p.category.code()),
            text(p.status.code()),
            text(&p.title_en),
            text(&p.title_zh),
            int(p.year.get()),
            int(p.budget.get()),
            count(p.outputs.housing_units),
            count(p.outputs.school_places),
            count(p.outputs.hospital_beds),
            count(p.outputs.jobs),
            count(p.outputs.people_trained),
            count(p.outputs.beneficiaries),
        ],
        &p.provenance,
    )
}

fn transfers_row(t: &Transfer) -> Vec<Value<'_>> {
    with_provenance(
        vec![
            text(t.id.as_str()),
            text(t.project.as_str()),
            text(t.kind.code()),
            int(t.amount.get()),
            text(t.currency.as_str()),
            text(t.value_date.to_string()),
            opt_text(t.corrects.as_ref().map(|c| c.as_str())),
            text(t.phase.code()),
            opt_text(t.phase.pending().map(|p| p.as_str())),
        ],
        &t.provenance,
    )
}

fn people_row(p: &Person) -> Vec<Value<'_>> {
    with_provenance(
        vec![
            text(p.id.as_str()),
            text(p.provider.as_str()),
            text(&p.home_institution),
            text(&p.specialty),
            opt_text(p.title.map(|t| t.code())),
            text(p.languages.to_string()),
        ],
        &p.provenance,
    )
}

fn posts_row(p: &Post) -> Vec<Value<'_>> {
    with_provenance(
        vec![
            text(p.id.as_str()),
            text(p.recipient.as_str()),
            text(&p.host_institution),
            text(&p.specialty),
            int(p.seats),
            text(p.languages.to_string()),
        ],
        &p.provenance,
    )
}

fn postings_row(p: &Posting) -> Vec<Value<'_>> {
    with_provenance(
        vec![
            text(p.id.as_str()),
            text(p.person.as_str()),
            text(p.post.as_str()),
            text(p.role.code()),
            text(p.start.to_string()),
            text(p.end.to_string()),
            p.batch.map_or(Value::Null, int),
            opt_text(p.team.as_ref().map(|t| t.as_str())),
        ],
        &p.provenance,
    )
}

fn targets_row(t: &Target) -> Vec<Value<'_>> {
    with_provenance(
        vec![
            text(t.id.as_str()),
            text(t.region.as_str()),
            text(t.indicator.code()),
            int(t.value),
            text(t.deadline.to_string()),
        ],
        &t.provenance,
    )
}

fn purchases_row(p: &Purchase) -> Vec<Value<'_>> {
    with_provenance(
        vec![
            text(p.id.as_str()),
            text(p.provider.as_str()),
            text(p.recipient.as_str()),
            int(p.year.get()),
            text(&p.product),
            text(&p.channel),
            int(p.value.get()),
        ],
        &p.provenance,
    )
}

fn exchanges_row(e: &Exchange) -> Vec<Value<'_>> {
    with_provenance(
        vec![
            text(e.id.as_str()),
            text(e.recipient.as_str()),
            text(e.provider.as_str()),
            int(e.year.get()),
            text(e.kind.code()),
            count(e.people),
        ],
        &e.provenance,
    )
}

fn steps_row(st: &ProjectStep) -> Vec<Value<'_>> {
    with_provenance(
        vec![
            text(st.project.as_str()),
            text(st.status.code()),
            text(st.date.to_string()),
        ],
        &st.provenance,
    )
}

fn institution_pairs_row(x: &InstitutionPair) -> Vec<Value<'_>> {
    with_provenance(
        vec![
            text(x.id.as_str()),
            text(x.provider.as_str()),
            text(&x.provider_institution),
            text(x.recipient.as_str()),
            text(&x.host_institution),
            text(x.kind.code()),
            int(x.first_year.get()),
            x.last_year.map_or(Value::Null, |y| int(y.get())),
        ],
        &x.provenance,
    )
}

fn trainings_row(t: &Training) -> Vec<Value<'_>> {
    with_provenance(
        vec![
            text(t.id.as_str()),
            text(t.provider.as_str()),
            text(t.recipient.as_str()),
            text(&t.host_institution),
            text(&t.specialty),
            int(t.year.get()),
            count(t.trained),
        ],
        &t.provenance,
    )
}

/// Why a row does not make a record: the column and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub column: &'static str,
    pub reason: String,
}

impl Table {
    /// Every column of every row, in key order: the query behind a streamed export.
    pub(crate) fn scan_sql(&self) -> String {
        let columns: Vec<_> = self.columns.iter().map(|c| c.0).collect();
        format!(
            "SELECT {} FROM {} ORDER BY {}",
            columns.join(", "),
            self.name,
            self.key.join(", ")
        )
    }

    /// The SQL expression of the key (`CAST(a AS TEXT) || '|' || …`), portable to PostgreSQL.
    pub fn key_sql(&self) -> String {
        let parts: Vec<_> = self
            .key
            .iter()
            .map(|c| format!("CAST({c} AS TEXT)"))
            .collect();
        parts.join(" || '|' || ")
    }

    /// The key of a row, in the same form as [`Table::key_sql`].
    pub fn key_of(&self, row: &[Value<'_>]) -> String {
        let cell = |name: &&str| {
            let i = self
                .columns
                .iter()
                .position(|c| c.0 == *name)
                .expect("key columns are columns");
            match &row[i] {
                Value::Int(v) => v.to_string(),
                Value::Text(t) => t.to_string(),
                Value::Null => String::new(),
            }
        };
        match self.key {
            [one] => cell(one),
            _ => self.key.iter().map(cell).collect::<Vec<_>>().join("|"),
        }
    }

    /// Sort rows by their key, the same way on every backend (database collations differ).
    pub fn sort_by_key(&self, rows: &mut [Vec<Value>]) {
        let positions: Vec<usize> = self
            .key
            .iter()
            .filter_map(|k| self.column_index(k))
            .collect();
        rows.sort_by(|a, b| {
            positions
                .iter()
                .map(|i| a[*i].cmp(&b[*i]))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.0 == name)
    }
}

/// Reads the cells of one row in column order, turning parse failures into [`DecodeError`].
struct Cells<'a> {
    table: &'static Table,
    row: &'a [Value<'a>],
    at: usize,
}

impl<'a> Cells<'a> {
    fn corrupt(&self, detail: impl std::fmt::Display) -> DecodeError {
        let column = self
            .table
            .columns
            .get(self.at.saturating_sub(1))
            .map_or("?", |c| c.0);
        DecodeError {
            column,
            reason: detail.to_string(),
        }
    }
    fn next(&mut self) -> &'a Value<'a> {
        let v = self.row.get(self.at).unwrap_or(&Value::Null);
        self.at += 1;
        v
    }
    /// Empty text counts as missing.
    fn opt_text(&mut self) -> Option<&'a str> {
        match self.next() {
            Value::Text(s) if !s.is_empty() => Some(s.as_ref()),
            _ => None,
        }
    }
    fn text(&mut self) -> Result<String, DecodeError> {
        self.opt_text()
            .map(str::to_owned)
            .ok_or_else(|| self.corrupt("is empty"))
    }
    fn text_or_empty(&mut self) -> String {
        self.opt_text().unwrap_or("").to_owned()
    }
    fn opt_int(&mut self) -> Option<i64> {
        match self.next() {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    fn int(&mut self) -> Result<i64, DecodeError> {
        self.opt_int().ok_or_else(|| self.corrupt("is empty"))
    }
    fn parse<T>(
        &mut self,
        f: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Result<T, DecodeError> {
        let s = self.text()?;
        f(&s).map_err(|e| self.corrupt(e))
    }
    /// Empty text as `None`, else parsed by `f`.
    fn opt_parse<T>(
        &mut self,
        f: impl FnOnce(&'a str) -> Result<T, ParseError>,
    ) -> Result<Option<T>, DecodeError> {
        self.opt_text()
            .map(f)
            .transpose()
            .map_err(|e| self.corrupt(e))
    }
    fn opt_year(&mut self) -> Result<Option<Year>, DecodeError> {
        self.opt_int()
            .map(|y| Year::new(u16::try_from(y).unwrap_or(0)))
            .transpose()
            .map_err(|e| self.corrupt(e))
    }
    fn fen(&mut self) -> Result<Fen, DecodeError> {
        let i = self.int()?;
        Fen::try_new(i).map_err(|e| self.corrupt(e))
    }
    fn year(&mut self) -> Result<Year, DecodeError> {
        let i = self.int()?;
        Year::new(u16::try_from(i).unwrap_or(0)).map_err(|e| self.corrupt(e))
    }
    /// A count added after its table was first published: empty reads as zero.
    fn opt_count(&mut self) -> Result<u64, DecodeError> {
        match self.opt_int() {
            None => Ok(0),
            Some(i) => u64::try_from(i)
                .map_err(|_| self.corrupt(format!("{i} is negative: counts are ≥ 0"))),
        }
    }
    fn count(&mut self) -> Result<u64, DecodeError> {
        let i = self.int()?;
        u64::try_from(i).map_err(|_| self.corrupt(format!("{i} is negative: counts are ≥ 0")))
    }
    fn region(&mut self) -> Result<RegionCode, DecodeError> {
        self.parse(RegionCode::parse)
    }
    fn id(&mut self) -> Result<RecordId, DecodeError> {
        self.parse(RecordId::parse)
    }
    fn languages(&mut self) -> Result<Languages, DecodeError> {
        let text = self.opt_text().unwrap_or("");
        Languages::parse(text).map_err(|e| self.corrupt(e))
    }
    fn provenance(&mut self) -> Result<Provenance, DecodeError> {
        let kind = self.text()?;
        let source = self.text_or_empty();
        let confidence = self.text_or_empty();
        Provenance::parse(&kind, &source, &confidence).map_err(|e| self.corrupt(e))
    }
}

/// Add the rows of one table to `records`.
pub fn decode(
    records: &mut Records,
    table: &'static Table,
    rows: &[Vec<Value>],
) -> Result<(), StoreError> {
    for row in rows {
        decode_row(records, table, row).map_err(|e| StoreError::Corrupt {
            table: table.name,
            detail: format!("column {}: {}", e.column, e.reason),
        })?;
    }
    Ok(())
}

/// Add one row of `table` to `records`.
pub fn decode_row(
    r: &mut Records,
    table: &'static Table,
    row: &[Value],
) -> Result<(), DecodeError> {
    let c = &mut Cells { table, row, at: 0 };
    match table.name {
        "program" => r.program = Some(decode_program(c)?),
        "quota_periods" => r.quota_periods.push(decode_quota_period(c)?),
        "region_tags" => r.region_tags.push(decode_region_tag(c)?),
        "regions" => r.regions.push(decode_region(c)?),
        "provider_rates" => r.provider_rates.push(decode_provider_rate(c)?),
        "pairs" => r.pairs.push(decode_pair(c)?),
        "indicators" => r.indicators.push(decode_indicator_value(c)?),
        "facts" => r.facts.push(decode_fact(c)?),
        "projects" => r.projects.push(decode_project(c)?),
        "transfers" => r.transfers.push(decode_transfer(c)?),
        "people" => r.people.push(decode_person(c)?),
        "posts" => r.posts.push(decode_post(c)?),
        "postings" => r.postings.push(decode_posting(c)?),
        "targets" => r.targets.push(decode_target(c)?),
        "purchases" => r.purchases.push(decode_purchase(c)?),
        "exchanges" => r.exchanges.push(decode_exchange(c)?),
        "project_steps" => r.project_steps.push(decode_project_step(c)?),
        "institution_pairs" => r.institution_pairs.push(decode_institution_pair(c)?),
        "trainings" => r.trainings.push(decode_training(c)?),
        other => {
            return Err(DecodeError {
                column: "?",
                reason: format!("unknown table {other}"),
            });
        }
    }
    Ok(())
}

fn decode_program(c: &mut Cells) -> Result<Program, DecodeError> {
    Ok(Program {
        code: c.id()?,
        name_en: c.text()?,
        name_zh: c.text()?,
        currency: c.parse(Currency::parse)?,
        first_year: c.year()?,
        last_year: c.year()?,
        livelihood_share_min: c.parse(Share::parse)?,
        county_level_share_min: c.parse(Share::parse)?,
        rules_source: c.text()?,
    })
}

fn decode_quota_period(c: &mut Cells) -> Result<QuotaPeriod, DecodeError> {
    Ok(QuotaPeriod {
        first_year: c.year()?,
        last_year: c.year()?,
        indicator: c.parse(IndicatorKind::parse)?,
        base: match c.opt_int() {
            Some(y) => QuotaBase::FixedYear(Year::new(y as u16).map_err(|e| c.corrupt(e))?),
            None => QuotaBase::PreviousYear,
        },
        growth: c.parse(Share::parse)?,
        growth_years: c.int()? as u16,
        rate_min: c.parse(Share::parse)?,
        rate_max: c.parse(Share::parse)?,
        provenance: c.provenance()?,
    })
}

fn decode_region_tag(c: &mut Cells) -> Result<RegionTag, DecodeError> {
    Ok(RegionTag {
        region: c.region()?,
        tag: c.parse(RegionTag::parse_tag)?,
        provenance: c.provenance()?,
    })
}

fn decode_region(c: &mut Cells) -> Result<Region, DecodeError> {
    Ok(Region {
        code: c.region()?,
        parent: c.opt_parse(RegionCode::parse)?,
        kind: c.parse(RegionKind::parse)?,
        name_en: c.text()?,
        name_zh: c.text()?,
        admin_code: c.opt_parse(AdminCode::parse)?,
    })
}

fn decode_provider_rate(c: &mut Cells) -> Result<ProviderRate, DecodeError> {
    Ok(ProviderRate {
        provider: c.region()?,
        period_first_year: c.year()?,
        rate: c.parse(Share::parse)?,
        provenance: c.provenance()?,
    })
}

fn decode_pair(c: &mut Cells) -> Result<Pair, DecodeError> {
    Ok(Pair {
        provider: c.region()?,
        recipient: c.region()?,
        first_year: c.year()?,
        last_year: c.opt_year()?,
        provenance: c.provenance()?,
        note: c.text_or_empty(),
    })
}

fn decode_indicator_value(c: &mut Cells) -> Result<IndicatorValue, DecodeError> {
    Ok(IndicatorValue {
        region: c.region()?,
        kind: c.parse(IndicatorKind::parse)?,
        year: c.year()?,
        version: c.int()? as u32,
        value: c.int()?,
        provenance: c.provenance()?,
    })
}

fn decode_fact(c: &mut Cells) -> Result<Fact, DecodeError> {
    Ok(Fact {
        key: c.text()?,
        value: c.text()?,
        unit: c.text_or_empty(),
        period: c.text_or_empty(),
        confidence: c.parse(Confidence::parse)?,
        source: c.text()?,
        note: c.text_or_empty(),
    })
}

fn decode_project(c: &mut Cells) -> Result<Project, DecodeError> {
    Ok(Project {
        id: c.id()?,
        provider: c.region()?,
        recipient: c.region()?,
        category: c.parse(Category::parse)?,
        status: c.parse(ProjectStatus::parse)?,
        title_en: c.text()?,
        title_zh: c.text()?,
        year: c.year()?,
        budget: c.fen()?,
        outputs: Outputs {
            housing_units: c.count()?,
            school_places: c.count()?,
            hospital_beds: c.count()?,
            jobs: c.count()?,
            people_trained: c.count()?,
            beneficiaries: c.opt_count()?,
        },
        provenance: c.provenance()?,
    })
}

fn decode_transfer(c: &mut Cells) -> Result<Transfer, DecodeError> {
    Ok(Transfer {
        id: c.id()?,
        project: c.id()?,
        kind: c.parse(TransferKind::parse)?,
        amount: c.fen()?,
        currency: c.parse(Currency::parse)?,
        value_date: c.parse(parse_date)?,
        corrects: c.opt_parse(RecordId::parse)?,
        phase: {
            let phase = c.text()?;
            let pending = c.opt_parse(RecordId::parse)?;
            Phase::parse(&phase, pending).map_err(|e| c.corrupt(e))?
        },
        provenance: c.provenance()?,
    })
}

fn decode_person(c: &mut Cells) -> Result<Person, DecodeError> {
    Ok(Person {
        id: c.id()?,
        provider: c.region()?,
        home_institution: c.text()?,
        specialty: c.text()?,
        title: c.opt_parse(Title::parse)?,
        languages: c.languages()?,
        provenance: c.provenance()?,
    })
}

fn decode_post(c: &mut Cells) -> Result<Post, DecodeError> {
    Ok(Post {
        id: c.id()?,
        recipient: c.region()?,
        host_institution: c.text()?,
        specialty: c.text()?,
        seats: c.int()? as u32,
        languages: c.languages()?,
        provenance: c.provenance()?,
    })
}

fn decode_posting(c: &mut Cells) -> Result<Posting, DecodeError> {
    Ok(Posting {
        id: c.id()?,
        person: c.id()?,
        post: c.id()?,
        role: c.parse(Role::parse)?,
        start: c.parse(parse_date)?,
        end: c.parse(parse_date)?,
        batch: c.opt_int().map(|b| b as u32),
        team: c.opt_parse(RecordId::parse)?,
        provenance: c.provenance()?,
    })
}

fn decode_target(c: &mut Cells) -> Result<Target, DecodeError> {
    Ok(Target {
        id: c.id()?,
        region: c.region()?,
        indicator: c.parse(IndicatorKind::parse)?,
        value: c.int()?,
        deadline: c.parse(parse_date)?,
        provenance: c.provenance()?,
    })
}

fn decode_purchase(c: &mut Cells) -> Result<Purchase, DecodeError> {
    Ok(Purchase {
        id: c.id()?,
        provider: c.region()?,
        recipient: c.region()?,
        year: c.year()?,
        product: c.text()?,
        channel: c.text()?,
        value: c.fen()?,
        provenance: c.provenance()?,
    })
}

fn decode_exchange(c: &mut Cells) -> Result<Exchange, DecodeError> {
    Ok(Exchange {
        id: c.id()?,
        recipient: c.region()?,
        provider: c.region()?,
        year: c.year()?,
        kind: c.parse(ExchangeKind::parse)?,
        people: c.count()?,
        provenance: c.provenance()?,
    })
}

fn decode_project_step(c: &mut Cells) -> Result<ProjectStep, DecodeError> {
    Ok(ProjectStep {
        project: c.id()?,
        status: c.parse(ProjectStatus::parse)?,
        date: c.parse(parse_date)?,
        provenance: c.provenance()?,
    })
}

fn decode_institution_pair(c: &mut Cells) -> Result<InstitutionPair, DecodeError> {
    Ok(InstitutionPair {
        id: c.id()?,
        provider: c.region()?,
        provider_institution: c.text()?,
        recipient: c.region()?,
        host_institution: c.text()?,
        kind: c.parse(InstitutionKind::parse)?,
        first_year: c.year()?,
        last_year: c.opt_year()?,
        provenance: c.provenance()?,
    })
}

fn decode_training(c: &mut Cells) -> Result<Training, DecodeError> {
    Ok(Training {
        id: c.id()?,
        provider: c.region()?,
        recipient: c.region()?,
        host_institution: c.text()?,
        specialty: c.text()?,
        year: c.year()?,
        trained: c.count()?,
        provenance: c.provenance()?,
    })
}
