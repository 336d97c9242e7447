//! The demo program: the real 2010 Xinjiang pairing table and published facts (the CSV bundle
//! in `data/demo/xinjiang-2010/`, embedded in the binary), filled in with record-level projects,
//! money, postings and outcome series by a deterministic generator (fixed seed).
//!
//! Every generated record is marked `simulated`. The generator is calibrated so that the
//! program's own reports, computed from the records, land near the published figures:
//! 120 bn yuan delivered 2010–2019, 18.8 bn across 1,935 projects in 2019, more than 87,500
//! officials and experts, and the south-four poverty incidence series reaching zero in 2020.

use crate::bundle::{self, Bundle, Problems};
use counterpart_domain::indicator::{IndicatorKind, IndicatorValue, Statistics};
use counterpart_domain::ledger::Phase;
use counterpart_domain::people::{
    InstitutionKind, InstitutionPair, Languages, Person, Post, Posting, Role, Title, Training,
};
use counterpart_domain::project::{
    Category, Outputs, Project, ProjectStatus, ProjectStep, Transfer, TransferKind,
};
use counterpart_domain::quota::{ProviderRate, QuotaInputs, quota_for};
use counterpart_domain::records::Records;
use counterpart_domain::region::{RegionKind, RegionTree};
use counterpart_domain::trade::{Exchange, ExchangeKind, Purchase};
use counterpart_domain::{Currency, Date, Fen, Provenance, RecordId, RegionCode, Share, Year};
use counterpart_store::{Keys, TABLES};
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashMap};

/// The generator's seed. Change it and every simulated record changes; keep it and the demo is
/// the same on every machine.
pub const SEED: u64 = 2010;

/// The sum of all providers' quotas in the first year of each quota period, in yuan. With the
/// rule's growth they give ≈10.05 bn (2011), ≈16.2 bn (2018) and ≈18.8 bn (2019), and ≈120 bn
/// over 2011–2019.
const FIRST_YEAR_QUOTA_YUAN: [(u16, i64); 2] = [(2011, 10_050_000_000), (2016, 12_040_000_000)];
/// Mean project size, from the published 2019 figures: 18.8 bn over 1,935 projects.
const MEAN_PROJECT_YUAN: f64 = 18.8e9 / 1935.0;
/// Cadres per numbered three-year batch, programme-wide.
const CADRES_PER_BATCH: f64 = 3_600.0;
/// Professionals starting a rotation each year, programme-wide.
const PROFESSIONALS_PER_YEAR: f64 = 7_500.0;
/// The south-four prefectures' aggregate poverty incidence (basis points) to calibrate to:
/// 2014, 2018 and 2019 are published; 2015–2017 are interpolated; 2020 is the target.
const SOUTH4_INCIDENCE_BP: [(u16, f64); 7] = [
    (2014, 2910.0),
    (2015, 2490.0),
    (2016, 2010.0),
    (2017, 1530.0),
    (2018, 1090.0),
    (2019, 221.0),
    (2020, 0.0),
];
pub const SOUTH4: [&str; 4] = ["kashgar", "hotan", "aksu", "kizilsu"];
/// The last ten counties delisted, on 2020-11-14 (published).
const LAST_TEN: [&str; 10] = [
    "kashgar.shache-county",
    "kashgar.yecheng-county",
    "kashgar.jiashi-county",
    "kashgar.yengisar-county",
    "hotan.moyu-county",
    "hotan.lop-county",
    "hotan.pishan-county",
    "hotan.qira-county",
    "hotan.yutian-county",
    "kizilsu.akto-county",
];
const TASHKURGAN: &str = "kashgar.tashkurgan-tajik-autonomous-county";

macro_rules! embedded {
    ($($name:literal),*) => {
        [$(($name, include_bytes!(concat!("../../../data/demo/xinjiang-2010/", $name, ".csv")).as_slice())),*]
    };
}

/// The published part of the demo bundle, as shipped in `data/demo/xinjiang-2010/`.
pub fn published_bundle() -> Result<Bundle, Problems> {
    let files = embedded!(
        "program",
        "quota_periods",
        "regions",
        "region_tags",
        "pairs",
        "indicators",
        "facts",
        "targets"
    );
    let sources = TABLES.iter().filter_map(|t| {
        files
            .iter()
            .find(|(n, _)| *n == t.name)
            .map(|(_, b)| (*t, *b))
    });
    let mut problems = Problems::default();
    let bundle = bundle::parse_sources(sources, &Keys::new(), &mut problems);
    if problems.is_empty() {
        Ok(bundle)
    } else {
        Err(problems)
    }
}

/// The whole demo program: published records plus the simulated ones.
pub fn demo_records() -> Result<Records, Problems> {
    demo_records_scaled(1)
}

/// The demo with `scale` times as many projects (each `scale` times smaller, so the money and
/// every published total stay the same) and their transfers: a larger program for benchmarks.
pub fn demo_records_scaled(scale: u32) -> Result<Records, Problems> {
    let mut records = published_bundle()?.records;
    let mut generator = Generator::new(&records);
    generator.scale = f64::from(scale.max(1));
    generator.generate(&mut records);
    Ok(records)
}

fn year(y: u16) -> Year {
    Year::new(y).expect("demo years are valid")
}

fn id(text: String) -> RecordId {
    RecordId::parse(&text).expect("generated ids are valid")
}

fn date(y: u16, day_of_year: i64) -> Date {
    Date::new(y as i16, 1, 1).expect("valid date") + jiff::Span::new().days(day_of_year)
}

struct Generator {
    rng: ChaCha8Rng,
    tree: RegionTree,
    /// Providers in the order of the pairing table.
    providers: Vec<RegionCode>,
    /// Each provider's paired units (counties and divisions).
    units: BTreeMap<RegionCode, Vec<RegionCode>>,
    first_year: u16,
    last_year: u16,
    currency: Currency,
    /// Projects per unit of money, relative to the calibrated demo.
    scale: f64,
}

impl Generator {
    fn new(records: &Records) -> Self {
        let tree =
            RegionTree::build(records.regions.clone()).expect("the demo regions form a tree");
        let mut providers = Vec::new();
        let mut units: BTreeMap<RegionCode, Vec<RegionCode>> = BTreeMap::new();
        for pair in &records.pairs {
            if !providers.contains(&pair.provider) {
                providers.push(pair.provider.clone());
            }
            units
                .entry(pair.provider.clone())
                .or_default()
                .push(pair.recipient.clone());
        }
        let program = records.program.as_ref().expect("the demo has a program");
        Generator {
            rng: ChaCha8Rng::seed_from_u64(SEED),
            tree,
            providers,
            units,
            first_year: program.first_year.get(),
            last_year: program.last_year.get(),
            currency: program.currency,
            scale: 1.0,
        }
    }

    fn generate(&mut self, r: &mut Records) {
        self.fiscal_revenue(r);
        self.rates(r);
        let delivered = self.delivered(r);
        self.projects(r, &delivered);
        self.people(r, &delivered);
        self.poverty(r);
        self.trade(r);
        self.need_elsewhere(r);
        // Its own random stream, so that the figures above stay as they were before these
        // details were kept.
        let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ 0x7065_6f70_6c65);
        self.people_detail(r, &mut rng);
        self.project_steps(r, &mut rng);
        self.institutions(r, &mut rng);
    }

    /// Titles and languages of people, the languages posts work in: everyone speaks Mandarin,
    /// about one in ten also Uyghur; agriculture bureaus (fieldwork with farmers) ask for
    /// Uyghur. Cadres hold ranks, not professional titles.
    fn people_detail(&mut self, r: &mut Records, rng: &mut ChaCha8Rng) {
        let roles: HashMap<&RecordId, Role> =
            r.postings.iter().map(|p| (&p.person, p.role)).collect();
        let titles = [
            (Title::Junior, 0.1),
            (Title::Intermediate, 0.5),
            (Title::AssociateSenior, 0.3),
            (Title::Senior, 0.1),
        ];
        let pick = WeightedIndex::new(titles.iter().map(|t| t.1)).expect("positive weights");
        for person in &mut r.people {
            if person.title.is_none() && roles.get(&person.id) == Some(&Role::Professional) {
                person.title = Some(titles[pick.sample(rng)].0);
            }
            let speaks = if rng.random_bool(0.1) { "zh ug" } else { "zh" };
            person.languages = Languages::parse(speaks).expect("valid codes");
        }
        for post in &mut r.posts {
            let needs = if post.host_institution.contains("Agriculture Bureau") {
                "ug"
            } else {
                "zh"
            };
            post.languages = Languages::parse(needs).expect("valid codes");
        }
    }

    /// The dated steps of each project up to its status: approved early in its year,
    /// construction a few weeks later, completed the next year, handed over and in operation
    /// within months.
    fn project_steps(&mut self, r: &mut Records, rng: &mut ChaCha8Rng) {
        use ProjectStatus::*;
        let last_day = date(self.last_year, 364);
        for project in &r.projects {
            let y = project.year.get();
            let approved = date(y, rng.random_range(0..60));
            let construction = approved + jiff::Span::new().days(rng.random_range(20..90));
            let completed = date(y + 1, rng.random_range(90..300)).min(last_day);
            let handed =
                (completed + jiff::Span::new().days(rng.random_range(10..60))).min(last_day);
            let operating =
                (handed + jiff::Span::new().days(rng.random_range(10..90))).min(last_day);
            let life = [
                (Approved, approved),
                (UnderConstruction, construction),
                (Completed, completed),
                (HandedOver, handed),
                (InOperation, operating),
            ];
            for (status, day) in life {
                if status > project.status {
                    break;
                }
                r.project_steps.push(ProjectStep {
                    project: project.id.clone(),
                    status,
                    date: day,
                    provenance: Provenance::Simulated,
                });
            }
        }
    }

    /// Institution pairs under the county pairs (each unit's People's Hospital and senior
    /// middle school with one of the provider's), and local staff trained by the
    /// professionals posted to each host institution and specialty.
    fn institutions(&mut self, r: &mut Records, rng: &mut ChaCha8Rng) {
        for pair in r.pairs.clone() {
            let Some(units) = self.units.get(&pair.provider) else {
                continue;
            };
            if !units.contains(&pair.recipient) {
                continue;
            }
            let giver = self
                .tree
                .get(&pair.provider)
                .expect("provider")
                .name_en
                .clone();
            let place = self.tree.get(&pair.recipient).expect("recipient").clone();
            for (kind, host_en, host_zh, home) in [
                (
                    InstitutionKind::Hospital,
                    "People's Hospital",
                    "人民医院",
                    "hospital",
                ),
                (
                    InstitutionKind::School,
                    "No. 1 Senior Middle School",
                    "第一高级中学",
                    "senior middle school",
                ),
            ] {
                r.institution_pairs.push(InstitutionPair {
                    id: id(format!("sim.ipair.{}.{}", pair.recipient, kind.code())),
                    provider: pair.provider.clone(),
                    provider_institution: format!("{giver} {home} no. {}", rng.random_range(1..30)),
                    recipient: pair.recipient.clone(),
                    host_institution: format!(
                        "{} {host_en} ({}{host_zh})",
                        place.name_en, place.name_zh
                    ),
                    kind,
                    first_year: pair.first_year.max(year(self.first_year)),
                    last_year: pair.last_year,
                    provenance: Provenance::Simulated,
                });
            }
        }
        let posts: HashMap<&RecordId, &Post> = r.posts.iter().map(|p| (&p.id, p)).collect();
        let providers: HashMap<&RecordId, &RegionCode> =
            r.people.iter().map(|p| (&p.id, &p.provider)).collect();
        let mut trained: BTreeMap<(RegionCode, RegionCode, String, String, u16), u64> =
            BTreeMap::new();
        for posting in r.postings.iter().filter(|p| p.role == Role::Professional) {
            let post = posts[&posting.post];
            *trained
                .entry((
                    providers[&posting.person].clone(),
                    post.recipient.clone(),
                    post.host_institution.clone(),
                    post.specialty.clone(),
                    posting.start.year() as u16,
                ))
                .or_default() += rng.random_range(2..12);
        }
        for (n, ((provider, recipient, host, specialty, y), count)) in
            trained.into_iter().enumerate()
        {
            r.trainings.push(Training {
                id: id(format!("sim.training.{:06}", n + 1)),
                provider,
                recipient,
                host_institution: host,
                specialty,
                year: year(y),
                trained: count,
                provenance: Provenance::Simulated,
            });
        }
    }

    fn uniform(&mut self, low: f64, high: f64) -> f64 {
        self.rng.random_range(low..high)
    }

    /// Fiscal revenue 2009–2018 of each provider, back-cast from its published 2019 figure.
    fn fiscal_revenue(&mut self, r: &mut Records) {
        let published: Vec<(RegionCode, i64)> = r
            .indicators
            .iter()
            .filter(|v| v.kind == IndicatorKind::FiscalRevenue && v.year == year(2019))
            .map(|v| (v.region.clone(), v.value))
            .collect();
        for (region, value_2019) in published {
            // Local budget revenue grew about 2.6–3.3 times over 2009–2019.
            let growth = self.uniform(2.6, 3.3);
            for y in 2009..2019u16 {
                let factor = growth.powf(f64::from(2019 - y) / 10.0);
                let value = (value_2019 as f64 / factor / 1e8).round() as i64 * 100_000_000;
                r.indicators.push(IndicatorValue {
                    region: region.clone(),
                    kind: IndicatorKind::FiscalRevenue,
                    year: year(y),
                    value,
                    version: 1,
                    provenance: Provenance::Simulated,
                });
            }
        }
    }

    /// Each provider's rate in each quota period, inside the band, scaled so that the first-year
    /// quotas add up to the calibration totals.
    fn rates(&mut self, r: &mut Records) {
        let stats = Statistics::new(r.indicators.iter().cloned());
        let raw: Vec<f64> = (0..self.providers.len())
            .map(|_| self.uniform(0.0033, 0.0045))
            .collect();
        let base_year = year(2009);
        let bases: Vec<f64> = self
            .providers
            .iter()
            .map(|p| {
                let own = stats
                    .latest(p, IndicatorKind::FiscalRevenue, base_year)
                    .map_or(0, |v| v.value);
                let subs: i64 = self
                    .providers
                    .iter()
                    .filter(|s| *s != p && self.tree.is_within(s, p))
                    .filter_map(|s| stats.latest(s, IndicatorKind::FiscalRevenue, base_year))
                    .map(|v| v.value)
                    .sum();
                (own - subs) as f64
            })
            .collect();
        let weighted: f64 = raw.iter().zip(&bases).map(|(r, b)| r * b).sum();
        for (first, total_yuan) in FIRST_YEAR_QUOTA_YUAN {
            let scale = (total_yuan as f64 * 100.0) / weighted;
            for (p, rate) in self.providers.iter().zip(&raw) {
                let ppm = (rate * scale * 1e6).round() as u64;
                r.provider_rates.push(ProviderRate {
                    provider: p.clone(),
                    period_first_year: year(first),
                    rate: Share::new(ppm, 1_000_000).expect("non-zero denominator"),
                    provenance: Provenance::Simulated,
                });
            }
        }
    }

    /// Funds each provider delivers each year: its quota, give or take a few percent.
    fn delivered(&mut self, r: &Records) -> BTreeMap<(RegionCode, u16), Fen> {
        let stats = Statistics::new(r.indicators.iter().cloned());
        let inputs = QuotaInputs {
            periods: &r.quota_periods,
            rates: &r.provider_rates,
            stats: &stats,
            tree: &self.tree,
            providers: &self.providers,
        };
        let mut delivered = BTreeMap::new();
        for y in self.first_year..=self.last_year {
            for p in &self.providers {
                // The first year has no quota period: the round was set up, funds flow from 2011.
                let Ok(quota) = quota_for(&inputs, p, year(y)) else {
                    continue;
                };
                let pace = self.rng.random_range(-0.025..0.035);
                let amount = (quota.amount.get() as f64 * (1.0 + pace)).round() as i64;
                delivered.insert((p.clone(), y), Fen::new(amount));
            }
        }
        delivered
    }

    fn pick_recipient(&mut self, provider: &RegionCode) -> RegionCode {
        let units = &self.units[provider];
        if self.rng.random_bool(0.06) {
            let unit = &units[self.rng.random_range(0..units.len())];
            if let Some(prefecture) = self.tree.enclosing(unit, RegionKind::Prefecture) {
                return prefecture.code.clone();
            }
        }
        let weights: Vec<f64> = units
            .iter()
            .map(|u| match self.tree.get(u).map(|r| r.kind) {
                Some(RegionKind::XpccDivision) => 0.6,
                _ => 1.0,
            })
            .collect();
        let index = WeightedIndex::new(&weights)
            .expect("weights are positive")
            .sample(&mut self.rng);
        units[index].clone()
    }

    fn projects(&mut self, r: &mut Records, delivered: &BTreeMap<(RegionCode, u16), Fen>) {
        // Livelihood categories take about three quarters of the money.
        let mix: [(Category, f64); 10] = [
            (Category::Housing, 0.22),
            (Category::Education, 0.18),
            (Category::Health, 0.12),
            (Category::Employment, 0.10),
            (Category::PovertyAlleviation, 0.12),
            (Category::FactoriesParks, 0.08),
            (Category::Ecommerce, 0.03),
            (Category::Infrastructure, 0.10),
            (Category::Exchange, 0.02),
            (Category::Other, 0.03),
        ];
        let category_index = WeightedIndex::new(mix.iter().map(|m| m.1)).expect("positive weights");
        for ((provider, y), amount) in delivered {
            let n = ((amount.to_yuan() * self.scale / MEAN_PROJECT_YUAN).round() as usize).max(1);
            let weights: Vec<f64> = (0..n)
                .map(|_| 0.15 + 4.0 * self.rng.random::<f64>().powi(3))
                .collect();
            let total: f64 = weights.iter().sum();
            let mut left = amount.get();
            for (i, w) in weights.iter().enumerate() {
                let budget = if i + 1 == n {
                    left
                } else {
                    (amount.get() as f64 * w / total).round() as i64
                };
                left -= budget;
                let category = mix[category_index.sample(&mut self.rng)].0;
                let recipient = self.pick_recipient(provider);
                let project_id = id(format!("sim.{provider}.{y}.{:04}", i + 1));
                self.project_money(r, &project_id, *y, Fen::new(budget));
                let project = self.project(
                    project_id,
                    provider,
                    recipient,
                    category,
                    *y,
                    Fen::new(budget),
                );
                r.projects.push(project);
            }
        }
    }

    fn project(
        &mut self,
        id: RecordId,
        provider: &RegionCode,
        recipient: RegionCode,
        category: Category,
        y: u16,
        budget: Fen,
    ) -> Project {
        let status = match self.last_year - y {
            0 => ProjectStatus::UnderConstruction,
            1 => {
                if self.rng.random_bool(0.5) {
                    ProjectStatus::UnderConstruction
                } else {
                    ProjectStatus::Completed
                }
            }
            2 | 3 => ProjectStatus::HandedOver,
            _ => ProjectStatus::InOperation,
        };
        let yuan = budget.to_yuan();
        let per = |unit_cost: f64| (yuan / unit_cost).round() as u64;
        let outputs = match category {
            Category::Housing => Outputs {
                housing_units: per(45_000.0),
                ..Outputs::default()
            },
            Category::Education => Outputs {
                school_places: per(30_000.0),
                ..Outputs::default()
            },
            Category::Health => Outputs {
                hospital_beds: per(600_000.0),
                people_trained: per(200_000.0),
                ..Outputs::default()
            },
            Category::Employment => Outputs {
                jobs: per(60_000.0),
                people_trained: per(8_000.0),
                ..Outputs::default()
            },
            Category::PovertyAlleviation => Outputs {
                people_trained: per(15_000.0),
                jobs: per(150_000.0),
                ..Outputs::default()
            },
            Category::FactoriesParks => Outputs {
                jobs: per(120_000.0),
                ..Outputs::default()
            },
            Category::Ecommerce => Outputs {
                jobs: per(200_000.0),
                people_trained: per(20_000.0),
                ..Outputs::default()
            },
            _ => Outputs::default(),
        };
        // The people served: a household of four per home, a pupil per place, fifty patients a
        // year per bed, the workers and trainees.
        let beneficiaries = outputs.housing_units * 4
            + outputs.school_places
            + outputs.hospital_beds * 50
            + outputs.jobs
            + outputs.people_trained;
        let outputs = Outputs {
            beneficiaries,
            ..outputs
        };
        let place = self.tree.get(&recipient).expect("recipient is a region");
        let (place_en, place_zh) = (place.name_en.clone(), place.name_zh.clone());
        let giver = self.tree.get(provider).expect("provider is a region");
        let (title_en, title_zh) = titles(category);
        Project {
            id,
            provider: provider.clone(),
            recipient,
            category,
            status,
            title_en: format!("{title_en}, {place_en} ({} {y})", giver.name_en),
            title_zh: format!("{place_zh}{title_zh}（{}援建，{y}年）", giver.name_zh),
            year: year(y),
            budget,
            outputs,
            provenance: Provenance::Simulated,
        }
    }

    /// Commit, disburse and spend the budget: committed and delivered in the year, spent over the
    /// following months (the most recent projects are still spending).
    fn project_money(&mut self, r: &mut Records, project: &RecordId, y: u16, budget: Fen) {
        let committed = self.rng.random_range(40..200);
        let disbursed = committed + self.rng.random_range(10..140);
        let spent = disbursed + self.rng.random_range(30..330);
        let spent_share = match self.last_year - y {
            0 => self.uniform(0.55, 0.9),
            1 => self.uniform(0.85, 1.0),
            _ => 1.0,
        };
        let movements = [
            (TransferKind::Commit, "c", committed, budget),
            (TransferKind::Disburse, "d", disbursed, budget),
            (
                TransferKind::Spend,
                "s",
                spent,
                Fen::new((budget.get() as f64 * spent_share).round() as i64),
            ),
        ];
        for (kind, suffix, day, amount) in movements {
            r.transfers.push(Transfer {
                id: id(format!("{project}.{suffix}")),
                project: project.clone(),
                kind,
                amount,
                currency: self.currency,
                value_date: date(y, day.min(355)),
                corrects: None,
                phase: Phase::Single,
                provenance: Provenance::Simulated,
            });
        }
    }

    /// Posts at host institutions, and the officials and experts who fill them: cadres in
    /// numbered three-year batches, professionals for 6–18 months, medical teams from 2016.
    fn people(&mut self, r: &mut Records, delivered: &BTreeMap<(RegionCode, u16), Fen>) {
        let total: f64 = delivered.values().map(|f| f.to_yuan()).sum();
        let share: BTreeMap<RegionCode, f64> = self
            .providers
            .iter()
            .map(|p| {
                let own: f64 = delivered
                    .iter()
                    .filter(|((q, _), _)| q == p)
                    .map(|(_, f)| f.to_yuan())
                    .sum();
                (p.clone(), own / total)
            })
            .collect();
        let mut posts: BTreeMap<RegionCode, Vec<usize>> = BTreeMap::new();
        let mut all_units: Vec<RegionCode> = self.units.values().flatten().cloned().collect();
        all_units.sort();
        all_units.dedup();
        for unit in &all_units {
            let region = self.tree.get(unit).expect("unit is a region").clone();
            for (host_en, host_zh, specialties) in HOSTS {
                for specialty in *specialties {
                    posts.entry(unit.clone()).or_default().push(r.posts.len());
                    r.posts.push(Post {
                        id: id(format!(
                            "sim.post.{unit}.{}.{}",
                            slug(host_en),
                            slug(specialty)
                        )),
                        recipient: unit.clone(),
                        host_institution: format!(
                            "{} {host_en} ({}{host_zh})",
                            region.name_en, region.name_zh
                        ),
                        specialty: (*specialty).to_owned(),
                        seats: self.rng.random_range(2..7),
                        languages: Languages::default(),
                        provenance: Provenance::Simulated,
                    });
                }
            }
        }
        let mut next_person = 0usize;
        let providers = self.providers.clone();
        for provider in &providers {
            let s = share[provider];
            for batch in 1..=4u32 {
                let start_year = self.first_year + 3 * (batch as u16 - 1);
                let count = (CADRES_PER_BATCH * s).round().max(4.0) as usize;
                for _ in 0..count {
                    let start = date(start_year, 212);
                    let end = start + jiff::Span::new().years(3) - jiff::Span::new().days(1);
                    let post = self.pick_post(r, &posts, provider, true);
                    self.posting(
                        r,
                        &mut next_person,
                        provider,
                        post,
                        Role::Cadre,
                        start,
                        end,
                        Some(batch),
                    );
                }
            }
            for y in self.first_year..=self.last_year {
                let count = (PROFESSIONALS_PER_YEAR * s).round().max(10.0) as usize;
                for _ in 0..count {
                    let start = date(y, self.rng.random_range(0..300));
                    let months = [6, 6, 12, 12, 18][self.rng.random_range(0..5)];
                    let end = start + jiff::Span::new().months(months) - jiff::Span::new().days(1);
                    let post = self.pick_post(r, &posts, provider, false);
                    self.posting(
                        r,
                        &mut next_person,
                        provider,
                        post,
                        Role::Professional,
                        start,
                        end,
                        None,
                    );
                }
                if y >= 2016 {
                    // A group-style medical team: at least five senior staff, six months, one hospital.
                    let units = self.units[provider].clone();
                    let unit = &units[self.rng.random_range(0..units.len())];
                    let hospital: Vec<usize> = posts[unit]
                        .iter()
                        .copied()
                        .filter(|i| r.posts[*i].host_institution.contains("Hospital"))
                        .collect();
                    let start = date(y, 60);
                    let end = start + jiff::Span::new().months(6) - jiff::Span::new().days(1);
                    let team = id(format!("sim.team.{provider}.{y}"));
                    for k in 0..self.rng.random_range(5..9) {
                        let post = hospital[k % hospital.len()];
                        self.posting(
                            r,
                            &mut next_person,
                            provider,
                            post,
                            Role::Professional,
                            start,
                            end,
                            None,
                        );
                        let member = r.postings.last_mut().expect("just posted");
                        member.team = Some(team.clone());
                        let person = r.people.last_mut().expect("just added");
                        person.title = Some(if k == 0 {
                            Title::Senior
                        } else {
                            Title::AssociateSenior
                        });
                    }
                }
            }
        }
    }

    fn pick_post(
        &mut self,
        r: &Records,
        posts: &BTreeMap<RegionCode, Vec<usize>>,
        provider: &RegionCode,
        cadre: bool,
    ) -> usize {
        let units = &self.units[provider];
        let unit = &units[self.rng.random_range(0..units.len())];
        let candidates: Vec<usize> = posts[unit]
            .iter()
            .copied()
            .filter(|i| r.posts[*i].host_institution.contains("Government") == cadre)
            .collect();
        candidates[self.rng.random_range(0..candidates.len())]
    }

    #[allow(clippy::too_many_arguments)]
    fn posting(
        &mut self,
        r: &mut Records,
        next: &mut usize,
        provider: &RegionCode,
        post: usize,
        role: Role,
        start: Date,
        end: Date,
        batch: Option<u32>,
    ) {
        *next += 1;
        let person = id(format!("sim.person.{next:06}"));
        let specialty = r.posts[post].specialty.clone();
        let name = &self
            .tree
            .get(provider)
            .expect("provider is a region")
            .name_en;
        let home = match role {
            Role::Cadre => format!(
                "{name} government office no. {}",
                self.rng.random_range(1..40)
            ),
            Role::Professional => {
                format!("{name} institution no. {}", self.rng.random_range(1..120))
            }
        };
        r.people.push(Person {
            id: person.clone(),
            provider: provider.clone(),
            home_institution: home,
            specialty,
            title: None,
            languages: Languages::default(),
            provenance: Provenance::Simulated,
        });
        r.postings.push(Posting {
            id: id(format!("sim.posting.{next:06}")),
            person,
            post: r.posts[post].id.clone(),
            role,
            start,
            end,
            batch,
            team: None,
            provenance: Provenance::Simulated,
        });
    }

    /// Population, rural population, registered poor and poverty incidence of the south-four
    /// counties, 2014–2020, calibrated to the published aggregate incidence.
    fn poverty(&mut self, r: &mut Records) {
        let stats = Statistics::new(r.indicators.iter().cloned());
        let mut counties: Vec<(RegionCode, RegionCode)> = Vec::new();
        for prefecture in SOUTH4 {
            let p = RegionCode::parse(prefecture).expect("valid code");
            for c in self.tree.children(&p) {
                counties.push((p.clone(), c.clone()));
            }
        }
        counties.sort();
        // County shares of their prefecture's population; county-level cities are more urban.
        let weights: Vec<f64> = counties.iter().map(|_| self.uniform(0.5, 1.5)).collect();
        let rural_share: Vec<f64> = counties
            .iter()
            .map(|(_, c)| match self.tree.get(c).map(|r| r.kind) {
                Some(RegionKind::CountyLevelCity) => 0.45,
                _ => 0.9,
            })
            .collect();
        let exit: Vec<u16> = counties
            .iter()
            .map(|(_, c)| {
                if LAST_TEN.contains(&c.as_str()) {
                    2020
                } else if c.as_str() == TASHKURGAN {
                    2019
                } else if self.tree.get(c).map(|r| r.kind) == Some(RegionKind::CountyLevelCity) {
                    2017
                } else {
                    [2018, 2019, 2019][self.rng.random_range(0..3)]
                }
            })
            .collect();
        let base: Vec<f64> = counties.iter().map(|_| self.uniform(0.2, 0.45)).collect();
        let mut population = vec![vec![0.0; 7]; counties.len()];
        for (i, (prefecture, _)) in counties.iter().enumerate() {
            let pop = |y: u16| {
                stats
                    .latest(prefecture, IndicatorKind::Population, year(y))
                    .map_or(0.0, |v| v.value as f64)
            };
            let (p2010, p2020) = (pop(2010), pop(2020));
            let total_weight: f64 = counties
                .iter()
                .zip(&weights)
                .filter(|((p, _), _)| p == prefecture)
                .map(|(_, w)| w)
                .sum();
            for (k, y) in (2014..=2020u16).enumerate() {
                let prefecture_pop = p2010 * (p2020 / p2010).powf(f64::from(y - 2010) / 10.0);
                population[i][k] = prefecture_pop * weights[i] / total_weight;
            }
        }
        for (k, (y, target_bp)) in SOUTH4_INCIDENCE_BP.iter().enumerate() {
            let rural: Vec<f64> = (0..counties.len())
                .map(|i| population[i][k] * rural_share[i])
                .collect();
            let raw: Vec<f64> = (0..counties.len())
                .map(|i| {
                    if *y < exit[i] {
                        base[i] * (1.0 - 0.12 * f64::from(y - 2014))
                    } else {
                        0.0
                    }
                })
                .collect();
            // Tashkurgan's 2018 figure is published; the others are scaled to the aggregate.
            let pinned = |i: usize| *y == 2018 && counties[i].1.as_str() == TASHKURGAN;
            let fixed: f64 = (0..counties.len())
                .filter(|i| pinned(*i))
                .map(|_| 16_505.0)
                .sum();
            let want = target_bp / 10_000.0 * rural.iter().sum::<f64>() - fixed;
            let have: f64 = (0..counties.len())
                .filter(|i| !pinned(*i))
                .map(|i| raw[i] * rural[i])
                .sum();
            let scale = if have > 0.0 { want / have } else { 0.0 };
            for (i, (_, county)) in counties.iter().enumerate() {
                let poor = if pinned(i) {
                    16_505
                } else {
                    (raw[i] * rural[i] * scale).round() as i64
                };
                let rural_people = rural[i].round() as i64;
                let mut push = |kind: IndicatorKind, value: i64| {
                    let published = pinned(i)
                        && matches!(
                            kind,
                            IndicatorKind::RegisteredPoor | IndicatorKind::PovertyIncidence
                        );
                    if published {
                        return; // the published value is already in the bundle
                    }
                    r.indicators.push(IndicatorValue {
                        region: county.clone(),
                        kind,
                        year: year(*y),
                        value,
                        version: 1,
                        provenance: Provenance::Simulated,
                    });
                };
                if !(*y == 2020 && county.as_str() == "kashgar.shache-county") {
                    push(IndicatorKind::Population, population[i][k].round() as i64);
                }
                push(IndicatorKind::RuralPopulation, rural_people);
                push(IndicatorKind::RegisteredPoor, poor);
                push(
                    IndicatorKind::PovertyIncidence,
                    (poor as f64 * 10_000.0 / rural[i]).round() as i64,
                );
            }
        }
    }

    /// Consumption assistance (purchases of recipient products) and exchanges (visits).
    fn trade(&mut self, r: &mut Records) {
        const PRODUCTS: [(&str, &str); 6] = [
            ("jujubes", "e-commerce platform"),
            ("walnuts", "distribution centre"),
            ("apples", "supermarket chain"),
            ("melons", "wholesale market"),
            ("apricots", "canteen procurement"),
            ("cotton textiles", "trade fair"),
        ];
        let mut n = 0;
        let providers = self.providers.clone();
        for provider in &providers {
            let units = self.units[provider].clone();
            for y in 2014..=self.last_year {
                let growth = 1.0 + 0.35 * f64::from(y - 2014);
                for _ in 0..self.rng.random_range(2..5) {
                    n += 1;
                    let (product, channel) = PRODUCTS[self.rng.random_range(0..PRODUCTS.len())];
                    let recipient = units[self.rng.random_range(0..units.len())].clone();
                    let yuan = self.uniform(3e6, 30e6) * growth;
                    r.purchases.push(Purchase {
                        id: id(format!("sim.purchase.{n:05}")),
                        provider: provider.clone(),
                        recipient,
                        year: year(y),
                        product: product.to_owned(),
                        channel: channel.to_owned(),
                        value: Fen::new((yuan * 100.0).round() as i64),
                        provenance: Provenance::Simulated,
                    });
                }
            }
            for y in (self.first_year + 1)..=self.last_year {
                for (kind, low, high) in [
                    (ExchangeKind::Tourists, 500, 8_000),
                    (ExchangeKind::Students, 40, 400),
                    (ExchangeKind::Delegation, 10, 120),
                ] {
                    n += 1;
                    let recipient = units[self.rng.random_range(0..units.len())].clone();
                    r.exchanges.push(Exchange {
                        id: id(format!("sim.exchange.{n:05}")),
                        recipient,
                        provider: provider.clone(),
                        year: year(y),
                        kind,
                        people: self.rng.random_range(low..high),
                        provenance: Provenance::Simulated,
                    });
                }
            }
        }
    }
}

impl Generator {
    /// Population, rural population and registered poor in 2014 of the recipient units outside
    /// the south-four (the north's counties and the XPCC divisions), much less poor than the
    /// south: what the pairing model weighs need with. Drawn last, so the records before keep
    /// their values.
    fn need_elsewhere(&mut self, r: &mut Records) {
        let mut units: Vec<RegionCode> = self.units.values().flatten().cloned().collect();
        units.sort();
        units.dedup();
        for unit in units {
            let region = self.tree.get(&unit).expect("paired units are regions");
            let south = SOUTH4.iter().any(|p| {
                self.tree
                    .is_within(&unit, &RegionCode::parse(p).expect("valid code"))
            });
            if south {
                continue;
            }
            let (population, rural_share, incidence) = match region.kind {
                RegionKind::XpccDivision => (
                    self.uniform(80_000.0, 400_000.0),
                    self.uniform(0.3, 0.5),
                    self.uniform(0.002, 0.02),
                ),
                RegionKind::CountyLevelCity => (
                    self.uniform(150_000.0, 700_000.0),
                    self.uniform(0.2, 0.45),
                    self.uniform(0.005, 0.03),
                ),
                _ => (
                    self.uniform(40_000.0, 350_000.0),
                    self.uniform(0.55, 0.85),
                    self.uniform(0.01, 0.08),
                ),
            };
            let rural = population * rural_share;
            let poor = (rural * incidence).round() as i64;
            for (kind, value) in [
                (IndicatorKind::Population, population.round() as i64),
                (IndicatorKind::RuralPopulation, rural.round() as i64),
                (IndicatorKind::RegisteredPoor, poor),
                (
                    IndicatorKind::PovertyIncidence,
                    (poor as f64 * 10_000.0 / rural).round() as i64,
                ),
            ] {
                r.indicators.push(IndicatorValue {
                    region: unit.clone(),
                    kind,
                    year: year(2014),
                    value,
                    version: 1,
                    provenance: Provenance::Simulated,
                });
            }
        }
    }
}

/// Host institutions of a recipient unit, with the specialties they ask for.
const HOSTS: &[(&str, &str, &[&str])] = &[
    (
        "People's Hospital",
        "人民医院",
        &[
            "ultrasound",
            "paediatrics",
            "obstetrics",
            "general surgery",
            "internal medicine",
        ],
    ),
    (
        "No. 1 Senior Middle School",
        "第一高级中学",
        &["mathematics", "Mandarin", "physics", "English"],
    ),
    (
        "Vocational School",
        "职业技术学校",
        &[
            "electrical engineering",
            "garment making",
            "tourism services",
        ],
    ),
    (
        "Party Committee and Government",
        "党委和政府",
        &["administration", "planning", "finance"],
    ),
    (
        "Industrial Park",
        "产业园区",
        &["investment promotion", "industrial planning"],
    ),
    (
        "Agriculture Bureau",
        "农业农村局",
        &["agronomy", "animal husbandry", "water management"],
    ),
];

fn slug(text: &str) -> String {
    let s: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn titles(category: Category) -> (&'static str, &'static str) {
    match category {
        Category::Housing => ("Quake-proof housing", "安居富民房建设"),
        Category::Education => ("School building and equipment", "学校建设及设备"),
        Category::Health => ("Hospital ward and equipment", "医院病房及设备"),
        Category::Employment => (
            "Vocational training and job placement",
            "职业技能培训及就业",
        ),
        Category::PovertyAlleviation => ("Village poverty alleviation", "村级扶贫"),
        Category::FactoriesParks => ("Industrial park workshops", "产业园区标准厂房"),
        Category::Ecommerce => ("E-commerce and sales channels", "电子商务及销售渠道"),
        Category::Infrastructure => ("Roads and water supply", "道路及供水"),
        Category::Exchange => ("Exchange and study visits", "交往交流"),
        Category::Other => ("Planning and capacity building", "规划及能力建设"),
    }
}

/// The demo's accounts, one per role: name, role, office, password. For the local demo only:
/// the passwords are printed by `counterpart demo`.
pub const DEMO_ACCOUNTS: [(
    &str,
    counterpart_domain::access::AccountRole,
    Option<&str>,
    &str,
); 4] = [
    (
        "admin",
        counterpart_domain::access::AccountRole::Admin,
        None,
        "demo-admin-2010",
    ),
    (
        "shanghai",
        counterpart_domain::access::AccountRole::ProviderOffice,
        Some("shanghai"),
        "demo-shanghai-2010",
    ),
    (
        "kashgar",
        counterpart_domain::access::AccountRole::RecipientOffice,
        Some("kashgar"),
        "demo-kashgar-2010",
    ),
    (
        "auditor",
        counterpart_domain::access::AccountRole::Auditor,
        None,
        "demo-auditor-2010",
    ),
];

/// Add the demo's accounts that are missing. Returns the names added.
pub async fn ensure_accounts(
    store: &dyn counterpart_store::Store,
) -> Result<Vec<&'static str>, crate::access::AccessError> {
    let frame = store.frame().await?;
    let operator = crate::access::operator();
    let mut added = Vec::new();
    for (name, role, office, password) in DEMO_ACCOUNTS {
        if store.user(name).await?.is_some() {
            continue;
        }
        let new = crate::access::NewUser {
            name,
            role,
            office,
            password,
        };
        crate::access::add_user(store, &operator, &frame, &new).await?;
        added.push(name);
    }
    Ok(added)
}
