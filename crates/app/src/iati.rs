//! IATI 2.03 export: an activity file and an organisation file per provider.
//!
//! - one `iati-activity` per project: identifier `ORGREF-PROJECT`, the provider as reporting and
//!   funding organisation, the recipient area's government as implementing organisation, title
//!   and description in English and Chinese, status and dates, one OECD DAC 5-digit sector at
//!   100%, China as recipient country, the recipient county as a sub-national location, the
//!   budget of its year, every posted ledger entry as a transaction (commitment 2, disbursement
//!   3, expenditure 4; a reversal or decommitment is a negative value of the stage it undoes),
//!   and, where the area has a target, the registered-poor outcome (baseline, target, actual);
//! - one `iati-organisation` per provider whose yearly total budget is its quota and whose yearly
//!   total expenditure is what its projects spent.
//!
//! Simulated records say so in their descriptions and in a comment at the top of each file.
//! Every file is checked against the IATI ruleset ([`rules`]) before it is written.

pub mod import;
pub mod rules;

use crate::report::{Context, ReportError};
use counterpart_domain::indicator::IndicatorKind;
use counterpart_domain::ledger::{AccountKind, Ledger, Phase, project_of};
use counterpart_domain::project::{Category, Project, ProjectStatus};
use counterpart_domain::{Date, RecordId, RegionCode, Year};
use counterpart_store::Store;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum IatiError {
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Store(#[from] counterpart_store::StoreError),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("the export of {provider} breaks IATI rules (a defect of the export): {problems}")]
    Rules { provider: String, problems: String },
}

#[derive(Debug, Clone)]
pub struct IatiOptions {
    /// Only projects of this year (and quotas of this year in the organisation file).
    pub year: Option<Year>,
    /// Only this provider (name or code).
    pub provider: Option<String>,
    /// The day the files are made: nothing dated later is exported as actual.
    pub today: Date,
    /// When the files are made, `YYYY-MM-DDThh:mm:ssZ`.
    pub generated: String,
}

/// One file written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub provider: RegionCode,
    /// `activities` or `organisation`.
    pub kind: &'static str,
    pub activities: usize,
    pub transactions: usize,
}

/// What every organisation reference starts with. Chinese provincial governments hold no IATI
/// registration-agency identifier, so the export uses this prefix and the region code.
pub const ORG_PREFIX: &str = "CN-COUNTERPART-";

/// The organisation reference of a provider: [`ORG_PREFIX`] and its region code.
pub fn org_ref(provider: &RegionCode) -> String {
    format!("{ORG_PREFIX}{}", provider.as_str())
}

/// The tag vocabulary of the reporting organisation: Counterpart's own codes (`status:…`,
/// `provenance:…`) that IATI has no element for, so that an import restores them.
pub const OWN_VOCABULARY: &str = "99";

/// The OECD DAC 5-digit sector of a project category.
pub fn dac_sector(category: Category) -> &'static str {
    match category {
        Category::Housing => "16040",            // Low-cost housing
        Category::Education => "11120",          // Education facilities and training
        Category::Health => "12230",             // Basic health infrastructure
        Category::Employment => "16020",         // Employment creation
        Category::PovertyAlleviation => "43040", // Rural development
        Category::FactoriesParks => "32120",     // Industrial development
        Category::Ecommerce => "25030",          // Business development services
        Category::Infrastructure => "43030",     // Urban development and management
        Category::Exchange => "16061",           // Culture and recreation
        Category::Other => "99810",              // Sectors not specified
    }
}

/// IATI ActivityStatus of a project status.
pub fn activity_status(status: ProjectStatus) -> &'static str {
    match status {
        ProjectStatus::Planned | ProjectStatus::Approved => "1",
        ProjectStatus::UnderConstruction => "2",
        ProjectStatus::Completed => "3",
        ProjectStatus::HandedOver | ProjectStatus::InOperation => "4",
        ProjectStatus::Cancelled => "5",
    }
}

/// One IATI transaction of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub id: RecordId,
    /// 2 commitment, 3 disbursement, 4 expenditure.
    pub code: &'static str,
    /// Fen, negative when money moves back (a reversal, a decommitment).
    pub amount: i64,
    pub date: Date,
    /// The transfer a reversal undoes (written in the transaction's description).
    pub reverses: Option<RecordId>,
}

/// How a transaction's description names the transfer it reverses.
pub const REVERSAL: &str = "Reversal of ";

/// The own-vocabulary tag of a record's provenance: code and narrative.
fn provenance_tag(provenance: &counterpart_domain::Provenance) -> (String, String) {
    use counterpart_domain::Provenance;
    match provenance {
        Provenance::Published { source, confidence } => (
            format!(
                "provenance:published:{}",
                confidence.code().replace('*', "-star")
            ),
            source.clone(),
        ),
        other => (
            format!("provenance:{}", other.kind()),
            format!("Counterpart record provenance: {}", other.kind()),
        ),
    }
}

fn stage(kind: AccountKind) -> u8 {
    match kind {
        AccountKind::Source => 0,
        AccountKind::Committed => 1,
        AccountKind::Disbursed => 2,
        AccountKind::Spent => 3,
    }
}

fn code_of(stage: u8) -> &'static str {
    ["", "2", "3", "4"][usize::from(stage)]
}

/// Every posted ledger entry as IATI transactions, by project: money moving on to a later stage
/// is a positive transaction of that stage; money moving back (a reversal, a decommitment) a
/// negative one of the stage it leaves; between projects at one stage, one of each.
pub fn transactions(ledger: &Ledger) -> BTreeMap<RecordId, Vec<Transaction>> {
    let mut out: BTreeMap<RecordId, Vec<Transaction>> = BTreeMap::new();
    for recorded in &ledger.journal {
        let e = &recorded.entry;
        if matches!(e.phase, Phase::Pending | Phase::Void(_)) {
            continue;
        }
        let (Some(from), Some(to)) = (
            ledger.accounts.get(&e.debit),
            ledger.accounts.get(&e.credit),
        ) else {
            continue;
        };
        let (s_from, s_to) = (stage(from.kind), stage(to.kind));
        let mut push = |account: &RecordId, code: &'static str, amount: i64| {
            if let Some(project) = project_of(account) {
                out.entry(project).or_default().push(Transaction {
                    id: e.id.clone(),
                    code,
                    amount,
                    date: e.value_date,
                    reverses: e
                        .corrects
                        .clone()
                        .filter(|_| e.kind == counterpart_domain::project::TransferKind::Reversal),
                });
            }
        };
        let (positive, negative) = (e.amount.get(), -e.amount.get());
        if s_to > s_from {
            push(&e.credit, code_of(s_to), positive);
        } else if s_to < s_from {
            push(&e.debit, code_of(s_from), negative);
        } else if s_from > 0 {
            push(&e.debit, code_of(s_from), negative);
            push(&e.credit, code_of(s_to), positive);
        }
    }
    out
}

/// `1234.56` for 123,456 fen, `-1234.56` for −123,456.
fn yuan(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:02}",
        v.unsigned_abs() / 100,
        v.unsigned_abs() % 100
    )
}

fn year_start(y: Year) -> Date {
    Date::new(y.get() as i16, 1, 1).expect("a valid year")
}

fn year_end(y: Year) -> Date {
    Date::new(y.get() as i16, 12, 31).expect("a valid year")
}

type Xml = Writer<Vec<u8>>;

/// `<name xml:lang…><narrative>en</narrative><narrative xml:lang="zh">zh</narrative></name>`.
fn narratives(
    w: &mut Xml,
    name: &str,
    attrs: &[(&str, &str)],
    en: &str,
    zh: &str,
) -> io::Result<()> {
    w.create_element(name)
        .with_attributes(attrs.iter().copied())
        .write_inner_content(|w| {
            w.create_element("narrative")
                .write_text_content(BytesText::new(en))?;
            if !zh.is_empty() {
                w.create_element("narrative")
                    .with_attribute(("xml:lang", "zh"))
                    .write_text_content(BytesText::new(zh))?;
            }
            Ok(())
        })?;
    Ok(())
}

fn empty(w: &mut Xml, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
    w.create_element(name)
        .with_attributes(attrs.iter().copied())
        .write_empty()?;
    Ok(())
}

/// One transaction of an activity.
fn transaction(
    w: &mut Xml,
    t: &Transaction,
    org: &str,
    provider_en: &str,
    provider_zh: &str,
) -> io::Result<()> {
    w.create_element("transaction")
        .with_attribute(("ref", t.id.as_str()))
        .write_inner_content(|w| {
            empty(w, "transaction-type", &[("code", t.code)])?;
            empty(w, "transaction-date", &[("iso-date", &t.date.to_string())])?;
            value(w, t.amount, t.date)?;
            if let Some(original) = &t.reverses {
                narratives(w, "description", &[], &format!("{REVERSAL}{original}"), "")?;
            }
            narratives(w, "provider-org", &[("ref", org)], provider_en, provider_zh)
        })?;
    Ok(())
}

/// An IATI value: `fen` (negative when money moves back) in yuan, on its value date.
fn value(w: &mut Xml, fen: i64, date: Date) -> io::Result<()> {
    let date = date.to_string();
    w.create_element("value")
        .with_attribute(("value-date", date.as_str()))
        .write_text_content(BytesText::new(&yuan(fen)))?;
    Ok(())
}

fn period(w: &mut Xml, start: Date, end: Date) -> io::Result<()> {
    empty(w, "period-start", &[("iso-date", &start.to_string())])?;
    empty(w, "period-end", &[("iso-date", &end.to_string())])
}

fn document(
    generated: &str,
    root: &str,
    body: impl FnOnce(&mut Xml) -> io::Result<()>,
) -> io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element(root)
        .with_attribute(("version", "2.03"))
        .with_attribute(("generated-datetime", generated))
        .write_inner_content(body)?;
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    Ok(bytes)
}

struct Export<'a> {
    ctx: &'a Context,
    options: &'a IatiOptions,
    transactions: &'a BTreeMap<RecordId, Vec<Transaction>>,
    /// Per project, the dated steps that are IATI's actual dates: construction began (actual
    /// start), completed (actual end).
    steps: &'a HashMap<RecordId, (Option<Date>, Option<Date>)>,
}

impl Export<'_> {
    fn names(&self, code: &RegionCode) -> (String, String) {
        self.ctx.tree.get(code).map_or_else(
            || (code.to_string(), String::new()),
            |r| (r.name_en.clone(), r.name_zh.clone()),
        )
    }

    fn activity(&self, w: &mut Xml, project: &Project) -> io::Result<usize> {
        let today = self.options.today;
        let org = org_ref(&project.provider);
        let (provider_en, provider_zh) = self.names(&project.provider);
        let (recipient_en, recipient_zh) = self.names(&project.recipient);
        let currency = self.ctx.program.currency.as_str();
        let simulated = project.provenance.is_simulated();
        let transactions: Vec<&Transaction> = self
            .transactions
            .get(&project.id)
            .map(|t| t.iter().filter(|t| t.date <= today).collect())
            .unwrap_or_default();
        let identifier = format!("{org}-{}", project.id);
        w.create_element("iati-activity")
            .with_attribute(("last-updated-datetime", self.options.generated.as_str()))
            .with_attribute(("xml:lang", "en"))
            .with_attribute(("default-currency", currency))
            .write_inner_content(|w| {
                w.create_element("iati-identifier")
                    .write_text_content(BytesText::new(&identifier))?;
                narratives(w, "reporting-org", &[("ref", &org), ("type", "10")], &provider_en, &provider_zh)?;
                w.create_element("title").write_inner_content(|w| {
                    w.create_element("narrative")
                        .write_text_content(BytesText::new(&project.title_en))?;
                    if !project.title_zh.is_empty() {
                        w.create_element("narrative")
                            .with_attribute(("xml:lang", "zh"))
                            .write_text_content(BytesText::new(&project.title_zh))?;
                    }
                    Ok::<(), io::Error>(())
                })?;
                let category = project.category.name_en();
                let mut en = format!(
                    "{}{} project of {provider_en} in {recipient_en}, approved in {} under the counterpart-assistance program {}.",
                    category[..1].to_uppercase(),
                    &category[1..],
                    project.year,
                    self.ctx.program.name_en
                );
                let mut zh = format!(
                    "{provider_zh}对口支援{recipient_zh}项目，{}年立项。",
                    project.year
                );
                if simulated {
                    en.push_str(" Simulated record: generated by the Counterpart demo, not a real project.");
                    zh.push_str("（模拟数据：由 Counterpart 演示程序生成，并非真实项目。）");
                }
                narratives(w, "description", &[("type", "1")], &en, &zh)?;
                narratives(w, "participating-org", &[("ref", &org), ("type", "10"), ("role", "1")], &provider_en, &provider_zh)?;
                narratives(
                    w,
                    "participating-org",
                    &[("type", "11"), ("role", "4")],
                    &format!("People's Government of {recipient_en}"),
                    &format!("{recipient_zh}人民政府"),
                )?;
                empty(w, "activity-status", &[("code", activity_status(project.status))])?;
                empty(w, "activity-date", &[("type", "1"), ("iso-date", &year_start(project.year).to_string())])?;
                self.actual_dates(w, project, &transactions)?;
                empty(w, "recipient-country", &[("code", "CN"), ("percentage", "100")])?;
                self.location(w, project, &recipient_en, &recipient_zh)?;
                narratives(
                    w,
                    "sector",
                    &[("vocabulary", "1"), ("code", dac_sector(project.category)), ("percentage", "100")],
                    project.category.name_en(),
                    "",
                )?;
                let status_code = format!("status:{}", project.status.code());
                narratives(
                    w,
                    "tag",
                    &[("vocabulary", OWN_VOCABULARY), ("code", &status_code)],
                    &format!("Counterpart project status: {}", project.status.code().replace('_', " ")),
                    "",
                )?;
                let (provenance_code, provenance_text) = provenance_tag(&project.provenance);
                narratives(
                    w,
                    "tag",
                    &[("vocabulary", OWN_VOCABULARY), ("code", &provenance_code)],
                    &provenance_text,
                    "",
                )?;
                let status = if project.status == ProjectStatus::Planned { "1" } else { "2" };
                w.create_element("budget")
                    .with_attribute(("type", "1"))
                    .with_attribute(("status", status))
                    .write_inner_content(|w| {
                        period(w, year_start(project.year), year_end(project.year))?;
                        value(w, project.budget.get(), year_start(project.year))
                    })?;
                for t in &transactions {
                    transaction(w, t, &org, &provider_en, &provider_zh)?;
                }
                self.result(w, project)?;
                Ok::<(), io::Error>(())
            })?;
        Ok(transactions.len())
    }

    /// The activity's actual start (the day construction began, as recorded in the project's
    /// steps, else its first transaction) and actual end (the day it was completed).
    fn actual_dates(
        &self,
        w: &mut Xml,
        project: &Project,
        transactions: &[&Transaction],
    ) -> io::Result<()> {
        let today = self.options.today;
        let started = project.status.is_started() && project.status != ProjectStatus::Cancelled;
        let (began, completed) = self.steps.get(&project.id).copied().unwrap_or_default();
        let first = transactions.iter().map(|t| t.date).min();
        if let Some(start) = began.or(first).filter(|d| started && *d <= today) {
            empty(
                w,
                "activity-date",
                &[("type", "2"), ("iso-date", &start.to_string())],
            )?;
            if let Some(end) = completed.filter(|d| *d >= start && *d <= today) {
                empty(
                    w,
                    "activity-date",
                    &[("type", "4"), ("iso-date", &end.to_string())],
                )?;
            }
        }
        Ok(())
    }

    /// Where the activity is: the recipient area, with its kind and administrative code.
    fn location(
        &self,
        w: &mut Xml,
        project: &Project,
        recipient_en: &str,
        recipient_zh: &str,
    ) -> io::Result<()> {
        w.create_element("location")
            .with_attribute(("ref", project.recipient.as_str()))
            .write_inner_content(|w| {
                empty(w, "location-reach", &[("code", "1")])?;
                narratives(w, "name", &[], recipient_en, recipient_zh)?;
                let region = self.ctx.tree.get(&project.recipient);
                let admin = region.and_then(|r| r.admin_code.as_ref());
                let kind = region.map_or("area".to_string(), |r| r.kind.code().replace('_', " "));
                let described = match admin {
                    Some(code) => format!(
                        "{kind}; administrative division code (GB/T 2260) {}",
                        code.as_str()
                    ),
                    None => kind,
                };
                narratives(w, "description", &[], &described, "")?;
                empty(w, "exactness", &[("code", "2")])?;
                empty(w, "location-class", &[("code", "1")])
            })?;
        Ok(())
    }

    /// One provider's two files (its activities, its organisation file), checked against the
    /// IATI rules; `all` are every project of the program.
    fn provider_files(
        &self,
        all: &[Project],
        provider: &RegionCode,
        years: &[Year],
        out: &Path,
    ) -> Result<[(PathBuf, Vec<u8>, Written); 2], IatiError> {
        let projects: Vec<&Project> = all
            .iter()
            .filter(|p| &p.provider == provider && self.options.year.is_none_or(|y| p.year == y))
            .collect();
        let simulated = projects.iter().any(|p| p.provenance.is_simulated());
        let mut count = 0;
        let activities = document(&self.options.generated, "iati-activities", |w| {
            if simulated {
                w.write_event(Event::Comment(BytesText::new(
                    " Counterpart demo: the activities below are SIMULATED records, generated with a fixed seed; they are not real projects. ",
                )))?;
            }
            for p in &projects {
                count += self.activity(w, p)?;
            }
            Ok(())
        })
        .map_err(|source| IatiError::Write {
            path: out.to_path_buf(),
            source,
        })?;
        let mut spent: BTreeMap<i16, i64> = BTreeMap::new();
        for p in all.iter().filter(|p| &p.provider == provider) {
            for t in self.transactions.get(&p.id).into_iter().flatten() {
                if t.code == "4" && t.date <= self.options.today {
                    *spent.entry(t.date.year()).or_default() += t.amount;
                }
            }
        }
        let quotas_simulated = years
            .iter()
            .filter_map(|&y| self.ctx.quota(provider, y))
            .any(|q| self.ctx.quota_simulated(&q));
        let organisation = document(&self.options.generated, "iati-organisations", |w| {
            if quotas_simulated || simulated {
                w.write_event(Event::Comment(BytesText::new(
                    " Counterpart demo: total budgets are quotas computed from SIMULATED provider rates and revenue back-casts; total expenditure sums SIMULATED spending. ",
                )))?;
            }
            self.organisation(w, provider, years, &spent)
        })
        .map_err(|source| IatiError::Write {
            path: out.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8_lossy(&activities);
        let mut problems = rules::check_activities(&text, self.options.today);
        problems.extend(rules::check_organisations(
            &String::from_utf8_lossy(&organisation),
            self.options.today,
        ));
        if !problems.is_empty() {
            return Err(IatiError::Rules {
                provider: provider.to_string(),
                problems: problems.join("; "),
            });
        }
        let stem = provider.as_str().replace('.', "-");
        let activities_path = out.join(format!("{stem}-activities.xml"));
        let organisation_path = out.join(format!("{stem}-organisation.xml"));
        Ok([
            (
                activities_path.clone(),
                activities,
                Written {
                    path: activities_path,
                    provider: provider.clone(),
                    kind: "activities",
                    activities: projects.len(),
                    transactions: count,
                },
            ),
            (
                organisation_path.clone(),
                organisation,
                Written {
                    path: organisation_path,
                    provider: provider.clone(),
                    kind: "organisation",
                    activities: 0,
                    transactions: 0,
                },
            ),
        ])
    }

    /// The registered-poor outcome of the recipient area, where the area (or one enclosing it)
    /// has a target and the area has a series.
    fn result(&self, w: &mut Xml, project: &Project) -> io::Result<()> {
        let ctx = self.ctx;
        let Some(target) = ctx.frame.targets.iter().find(|t| {
            t.indicator == IndicatorKind::RegisteredPoor
                && ctx.tree.is_within(&project.recipient, &t.region)
        }) else {
            return Ok(());
        };
        let series = ctx
            .stats
            .series(&project.recipient, IndicatorKind::RegisteredPoor);
        let Some(baseline) = series.first() else {
            return Ok(());
        };
        let deadline_year = target.deadline.year();
        let actual = series
            .iter()
            .rev()
            .find(|v| i32::from(v.year.get()) <= i32::from(deadline_year))
            .filter(|v| year_end(v.year) <= self.options.today);
        let (name_en, name_zh) = self.names(&project.recipient);
        let (target_en, target_zh) = self.names(&target.region);
        w.create_element("result")
            .with_attribute(("type", "2"))
            .write_inner_content(|w| {
                narratives(
                    w,
                    "title",
                    &[],
                    &format!(
                        "Absolute poverty ended in {target_en} by {}",
                        target.deadline
                    ),
                    &format!("{target_zh}于{}前消除绝对贫困", target.deadline),
                )?;
                w.create_element("indicator")
                    .with_attribute(("measure", "1"))
                    .with_attribute(("ascending", "0"))
                    .write_inner_content(|w| {
                        narratives(
                            w,
                            "title",
                            &[],
                            &format!("Registered poor in {name_en}"),
                            &format!("{name_zh}建档立卡贫困人口"),
                        )?;
                        let year = baseline.year.get().to_string();
                        let value_text = baseline.value.to_string();
                        w.create_element("baseline")
                            .with_attribute(("year", year.as_str()))
                            .with_attribute((
                                "iso-date",
                                year_end(baseline.year).to_string().as_str(),
                            ))
                            .with_attribute(("value", value_text.as_str()))
                            .write_empty()?;
                        w.create_element("period").write_inner_content(|w| {
                            let start = Date::new(deadline_year, 1, 1).expect("valid");
                            period(w, start, target.deadline)?;
                            let target_value = target.value.to_string();
                            empty(w, "target", &[("value", &target_value)])?;
                            if let Some(a) = actual {
                                empty(w, "actual", &[("value", &a.value.to_string())])?;
                            }
                            Ok::<(), io::Error>(())
                        })?;
                        Ok::<(), io::Error>(())
                    })?;
                Ok::<(), io::Error>(())
            })?;
        Ok(())
    }

    /// The organisation file's body: quotas as total budgets, spending as total expenditure
    /// (`spent`: fen by year).
    fn organisation(
        &self,
        w: &mut Xml,
        provider: &RegionCode,
        years: &[Year],
        spent: &BTreeMap<i16, i64>,
    ) -> io::Result<()> {
        let org = org_ref(provider);
        let (en, zh) = self.names(provider);
        let currency = self.ctx.program.currency.as_str();
        w.create_element("iati-organisation")
            .with_attribute(("last-updated-datetime", self.options.generated.as_str()))
            .with_attribute(("xml:lang", "en"))
            .with_attribute(("default-currency", currency))
            .write_inner_content(|w| {
                w.create_element("organisation-identifier")
                    .write_text_content(BytesText::new(&org))?;
                narratives(w, "name", &[], &en, &zh)?;
                narratives(
                    w,
                    "reporting-org",
                    &[("ref", &org), ("type", "10")],
                    &en,
                    &zh,
                )?;
                for &y in years {
                    if let Some(quota) = self.ctx.quota(provider, y) {
                        w.create_element("total-budget")
                            .with_attribute(("status", "2"))
                            .write_inner_content(|w| {
                                period(w, year_start(y), year_end(y))?;
                                value(w, quota.amount.get(), year_start(y))
                            })?;
                    }
                }
                for &y in years {
                    if let Some(&fen) = spent.get(&(y.get() as i16)) {
                        w.create_element("total-expenditure")
                            .write_inner_content(|w| {
                                period(w, year_start(y), year_end(y))?;
                                value(w, fen, year_end(y).min(self.options.today))
                            })?;
                    }
                }
                Ok::<(), io::Error>(())
            })?;
        Ok(())
    }
}

/// Export the program as IATI files into `out` (created if missing). Nothing is written unless
/// every file passes the rules.
pub async fn export(
    store: &dyn Store,
    options: &IatiOptions,
    out: &Path,
) -> Result<Vec<Written>, IatiError> {
    let ctx = Context::load(store).await?;
    let providers: Vec<RegionCode> = match &options.provider {
        Some(name) => vec![
            ctx.find_region(name, "provider", |r| ctx.providers.contains(&r.code))?
                .code
                .clone(),
        ],
        None => ctx.providers.clone(),
    };
    let records = store.records().await?;
    let ledger = store.ledger().await?;
    let transactions = transactions(&ledger);
    let years: Vec<Year> = match options.year {
        Some(y) => vec![y],
        None => (ctx.program.first_year.get()..=ctx.program.last_year.get())
            .filter_map(|y| Year::new(y).ok())
            .collect(),
    };
    let mut steps: HashMap<RecordId, (Option<Date>, Option<Date>)> = HashMap::new();
    for step in &records.project_steps {
        let dates = steps.entry(step.project.clone()).or_default();
        match step.status {
            ProjectStatus::UnderConstruction => dates.0 = Some(step.date),
            ProjectStatus::Completed => dates.1 = Some(step.date),
            _ => {}
        }
    }
    let export = Export {
        ctx: &ctx,
        options,
        transactions: &transactions,
        steps: &steps,
    };
    let mut files: Vec<(PathBuf, Vec<u8>, Written)> = Vec::new();
    for provider in &providers {
        files.extend(export.provider_files(&records.projects, provider, &years, out)?);
    }
    std::fs::create_dir_all(out).map_err(|source| IatiError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for (path, bytes, w) in files {
        std::fs::write(&path, bytes).map_err(|source| IatiError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(w);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use counterpart_domain::project::{Transfer, TransferKind};
    use counterpart_domain::{Currency, Provenance};

    fn transfer(
        id: &str,
        kind: TransferKind,
        fen: i64,
        day: &str,
        corrects: Option<&str>,
        phase: Phase,
    ) -> Transfer {
        Transfer {
            id: RecordId::parse(id).unwrap(),
            project: RecordId::parse("p1").unwrap(),
            kind,
            amount: counterpart_domain::Fen::new(fen),
            currency: Currency::CNY,
            value_date: day.parse().unwrap(),
            corrects: corrects.map(|c| RecordId::parse(c).unwrap()),
            phase,
            provenance: Provenance::Recorded,
        }
    }

    #[test]
    fn ledger_entries_become_signed_transactions_of_their_stage() {
        let pending = RecordId::parse("d2").unwrap();
        let transfers = [
            transfer(
                "c1",
                TransferKind::Commit,
                10_000,
                "2019-01-10",
                None,
                Phase::Single,
            ),
            transfer(
                "d1",
                TransferKind::Disburse,
                6_000,
                "2019-02-01",
                None,
                Phase::Single,
            ),
            transfer(
                "r1",
                TransferKind::Reversal,
                6_000,
                "2019-02-02",
                Some("d1"),
                Phase::Single,
            ),
            transfer(
                "d2",
                TransferKind::Disburse,
                3_000,
                "2019-03-01",
                None,
                Phase::Pending,
            ),
            transfer(
                "d2p",
                TransferKind::Disburse,
                3_000,
                "2019-03-05",
                None,
                Phase::Post(pending),
            ),
            transfer(
                "d3",
                TransferKind::Disburse,
                500,
                "2019-03-06",
                None,
                Phase::Pending,
            ),
            transfer(
                "s1",
                TransferKind::Spend,
                1_000,
                "2019-04-01",
                None,
                Phase::Single,
            ),
            transfer(
                "x1",
                TransferKind::Decommit,
                4_000,
                "2019-05-01",
                None,
                Phase::Single,
            ),
        ];
        let mut ledger = Ledger::default();
        let beijing = RegionCode::parse("beijing").unwrap();
        ledger
            .book(&transfers, |_| Some((beijing.clone(), Currency::CNY)))
            .unwrap();
        let got: Vec<(String, &str, i64)> = transactions(&ledger)[&RecordId::parse("p1").unwrap()]
            .iter()
            .map(|t| (t.id.to_string(), t.code, t.amount))
            .collect();
        let want = [
            ("c1", "2", 10_000),
            ("d1", "3", 6_000),
            ("r1", "3", -6_000),
            ("d2p", "3", 3_000),
            ("s1", "4", 1_000),
            ("x1", "2", -4_000),
        ];
        let want: Vec<(String, &str, i64)> = want
            .iter()
            .map(|(i, c, a)| (i.to_string(), *c, *a))
            .collect();
        assert_eq!(
            got, want,
            "pending and unposted reservations are not transactions"
        );
        assert_eq!(yuan(-123_456), "-1234.56");
        assert_eq!(yuan(5), "0.05");
    }
}
