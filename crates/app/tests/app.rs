//! Use cases end to end over a real SQLite file: the demo's calibration, determinism, the
//! import round trip, and bad input that must leave the database byte-for-byte unchanged.

use counterpart_app::report::{self, Cell, Report};
use counterpart_app::{bundle, demo, import};
use counterpart_domain::indicator::IndicatorKind;
use counterpart_domain::project::TransferKind;
use counterpart_domain::quota::QuotaBase;
use counterpart_domain::records::Records;
use counterpart_domain::{Fen, RegionCode, Year};
use counterpart_store::{SqliteStore, Store};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[path = "app/security.rs"]
mod security;

fn demo_records() -> &'static Records {
    static RECORDS: OnceLock<Records> = OnceLock::new();
    RECORDS.get_or_init(|| demo::demo_records().expect("the embedded demo bundle parses"))
}

async fn store_with(dir: &Path, records: &Records) -> SqliteStore {
    let store = SqliteStore::open(&dir.join("counterpart.db"))
        .await
        .unwrap();
    import::load(&store, records, &|_| {}).await.unwrap();
    store
}

fn number(report: &Report, section: &str, label: &str, column: &str) -> f64 {
    match report.section(section).and_then(|s| s.find(label, column)) {
        Some(Cell::Number(x)) => *x,
        Some(Cell::Int(i)) => *i as f64,
        Some(Cell::Money { fen }) => *fen as f64,
        other => panic!("{section}/{label}/{column}: expected a number, found {other:?}"),
    }
}

fn within(value: f64, target: f64, tolerance: f64) -> bool {
    (value - target).abs() <= target.abs() * tolerance
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_summary_reproduces_the_published_figures() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), demo_records()).await;
    let summary = report::summary(&store).await.unwrap();

    let delivered_fen = number(&summary, "headline", "Funds delivered 2010–2019", "value");
    assert!(
        within(delivered_fen / 1e11, 120.0, 0.02),
        "funds 2010–2019: {} bn",
        delivered_fen / 1e11
    );
    let funds_2019 = number(&summary, "headline", "Funds delivered in 2019", "value") / 1e11;
    assert!(
        within(funds_2019, 18.8, 0.02),
        "funds 2019: {funds_2019} bn"
    );
    let projects_2019 = number(&summary, "headline", "Projects approved in 2019", "value");
    assert!(
        within(projects_2019, 1935.0, 0.05),
        "projects 2019: {projects_2019}"
    );
    let livelihood = number(
        &summary,
        "headline",
        "Livelihood share of funds delivered",
        "value",
    );
    assert!(livelihood > 70.0, "livelihood share {livelihood}%");
    let people = number(
        &summary,
        "headline",
        "Officials and experts posted",
        "value",
    );
    assert!(people >= 87_500.0, "people posted {people}");
    for (year, published) in [("2014", 29.1), ("2018", 10.9), ("2019", 2.21)] {
        let label = format!("South-four poverty incidence {year}");
        let incidence = number(&summary, "headline", &label, "value");
        assert!(
            (incidence - published).abs() <= 0.05,
            "{label}: {incidence} vs {published}"
        );
    }
    let targets = summary.section("targets").unwrap();
    let kashgar = targets
        .rows
        .iter()
        .find(|r| matches!(&r[0], Cell::Text(t) if t.starts_with("Kashgar")))
        .unwrap();
    let status = targets
        .columns
        .iter()
        .position(|c| c.key == "status")
        .unwrap();
    assert_eq!(
        kashgar[status],
        Cell::text("met in 2020"),
        "Kashgar's registered poor reach zero in 2020"
    );
    assert_eq!(kashgar[4], Cell::Int(0));
    for label in [
        "Providers",
        "Recipient prefectures",
        "Recipient county-level units",
        "Recipient XPCC divisions",
    ] {
        assert_eq!(
            number(&summary, "headline", label, "difference_pct"),
            0.0,
            "{label} matches the published scale"
        );
    }
    // Every figure carries its provenance, and the simulated ones say so.
    let headline = summary.section("headline").unwrap();
    for row in &headline.rows {
        let Cell::Text(provenance) = &row[3] else {
            panic!("no provenance in {row:?}")
        };
        assert!(
            provenance.starts_with("computed") || provenance.starts_with("published"),
            "{provenance}"
        );
    }
    assert_eq!(
        headline.find("Funds delivered 2010–2019", "provenance"),
        Some(&Cell::text("computed from simulated records"))
    );
    assert!(summary.notes.iter().any(|n| n.starts_with("SIMULATED")));
}

#[test]
fn demo_quotas_follow_the_rule_and_delivery_stays_close() {
    let r = demo_records();
    let revenue = |p: &RegionCode, y: u16| {
        r.indicators
            .iter()
            .find(|v| &v.region == p && v.kind == IndicatorKind::FiscalRevenue && v.year.get() == y)
            .map(|v| v.value as f64)
            .unwrap()
    };
    let mut delivered: BTreeMap<(RegionCode, u16), i64> = BTreeMap::new();
    let project_provider: BTreeMap<_, _> = r
        .projects
        .iter()
        .map(|p| (p.id.clone(), p.provider.clone()))
        .collect();
    for t in r
        .transfers
        .iter()
        .filter(|t| t.kind == TransferKind::Disburse)
    {
        *delivered
            .entry((
                project_provider[&t.project].clone(),
                t.value_date.year() as u16,
            ))
            .or_default() += t.amount.get();
    }
    let providers: Vec<RegionCode> = r
        .provider_rates
        .iter()
        .map(|x| x.provider.clone())
        .collect();
    let guangdong = RegionCode::parse("guangdong").unwrap();
    let shenzhen = RegionCode::parse("shenzhen").unwrap();
    let mut checked = 0;
    for period in &r.quota_periods {
        let QuotaBase::FixedYear(base_year) = period.base else {
            panic!("the demo uses a fixed base year")
        };
        let growth = period.growth.to_f64();
        for rate in r
            .provider_rates
            .iter()
            .filter(|x| x.period_first_year == period.first_year)
        {
            assert!(
                rate.rate >= period.rate_min && rate.rate <= period.rate_max,
                "{} rate in band",
                rate.provider
            );
            let mut base = revenue(&rate.provider, base_year.get());
            if rate.provider == guangdong {
                base -= revenue(&shenzhen, base_year.get()); // Shenzhen is a provider of its own
            }
            for y in period.first_year.get()..=period.last_year.get().min(2019) {
                let steps = (y - period.first_year.get()).min(period.growth_years) as i32;
                let quota = rate.rate.to_f64() * base * (1.0 + growth).powi(steps);
                let got = delivered[&(rate.provider.clone(), y)] as f64;
                assert!(
                    within(got, quota, 0.05),
                    "{} {y}: delivered {got} vs quota {quota}",
                    rate.provider
                );
                checked += 1;
            }
        }
    }
    assert_eq!(
        checked,
        providers.len() / 2 * 9,
        "every provider-year 2011–2019 was checked"
    );
}

#[test]
fn demo_generation_is_deterministic() {
    let again = demo::demo_records().unwrap();
    assert_eq!(&again, demo_records());
    assert!(again.projects.iter().all(|p| p.provenance.is_simulated()));
    assert!(
        again
            .pairs
            .iter()
            .all(|p| p.provenance.kind() == "published")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_gives_the_same_summary() {
    let dir = tempfile::tempdir().unwrap();
    let original = store_with(dir.path(), demo_records()).await;
    let exported = dir.path().join("bundle");
    bundle::write_dir(&original.records().await.unwrap(), &exported).unwrap();

    let copy = SqliteStore::open(&dir.path().join("copy.db"))
        .await
        .unwrap();
    let imported = import::import_dir(&copy, &exported, &|_| {}).await.unwrap();
    assert_eq!(imported.len(), demo_records().len());
    assert_eq!(
        report::summary(&copy).await.unwrap(),
        report::summary(&original).await.unwrap()
    );
    assert_eq!(
        report::provider(&copy, "Shanghai", None).await.unwrap(),
        report::provider(&original, "Shanghai", None).await.unwrap()
    );
    assert_eq!(
        copy.records().await.unwrap(),
        original.records().await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_and_recipient_reports_find_by_any_name() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), demo_records()).await;
    let by_zh = report::provider(&store, "上海市", Some(Year::new(2019).unwrap()))
        .await
        .unwrap();
    let by_code = report::provider(&store, "shanghai", Some(Year::new(2019).unwrap()))
        .await
        .unwrap();
    assert_eq!(by_zh, by_code);
    let years = by_zh.section("years").unwrap();
    assert_eq!(years.rows.len(), 1, "--year keeps one year");
    let recipient = report::recipient(&store, "Shache County", None)
        .await
        .unwrap();
    let providers = recipient.section("providers").unwrap();
    assert!(
        providers
            .rows
            .iter()
            .any(|r| matches!(&r[0], Cell::Text(t) if t.starts_with("Shanghai")))
    );
    let outcomes = recipient.section("outcomes").unwrap();
    assert!(!outcomes.rows.is_empty(), "Shache has a poverty series");
    let err = report::provider(&store, "Shanghia", None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no provider is called \"Shanghia\""), "{err}");
    let err = report::recipient(&store, "Kashg", None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("did you mean Kashgar"), "{err}");
}

// ---- bad input ------------------------------------------------------------------------------

struct Fixture {
    _dir: tempfile::TempDir,
    db: PathBuf,
    bundle: PathBuf,
}

/// A database holding the published frame of the demo (program, regions, pairs, facts), closed.
async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("counterpart.db");
    let frame = demo::published_bundle().unwrap().records;
    let store = SqliteStore::open(&db).await.unwrap();
    import::load(&store, &frame, &|_| {}).await.unwrap();
    store.close().await.unwrap();
    let bundle = dir.path().join("bundle");
    std::fs::create_dir(&bundle).unwrap();
    Fixture {
        _dir: dir,
        db,
        bundle,
    }
}

const PROJECT_HEADER: &str = "id,provider,recipient,category,status,title_en,title_zh,year,budget_fen,housing_units,school_places,hospital_beds,jobs,people_trained,provenance,source,confidence";

fn project_row(id: &str, provider: &str, recipient: &str, budget: &str) -> String {
    format!(
        "{id},{provider},{recipient},housing,approved,Housing,安居房,2015,{budget},10,0,0,0,0,recorded,,"
    )
}

/// Import `files` into the fixture database; the import must fail, leave the database file
/// byte-for-byte as it was, and report each `expected` text.
async fn refused(files: &[(&str, Vec<u8>)], expected: &[&str]) -> String {
    let f = fixture().await;
    for (name, bytes) in files {
        std::fs::write(f.bundle.join(name), bytes).unwrap();
    }
    let before = std::fs::read(&f.db).unwrap();
    let store = SqliteStore::open(&f.db).await.unwrap();
    let projects_before = store.projects_summary().await.unwrap();
    let err = import::import_dir(&store, &f.bundle, &|_| {})
        .await
        .expect_err("the import must fail");
    assert_eq!(store.projects_summary().await.unwrap(), projects_before);
    store.close().await.unwrap();
    assert!(
        before == std::fs::read(&f.db).unwrap(),
        "the database file changed"
    );
    let message = err.to_string();
    for text in expected {
        assert!(message.contains(text), "expected {text:?} in:\n{message}");
    }
    message
}

fn projects_csv(rows: &[String]) -> Vec<u8> {
    format!("{PROJECT_HEADER}\n{}\n", rows.join("\n")).into_bytes()
}

#[tokio::test]
async fn a_good_bundle_imports_and_the_same_rows_again_are_duplicates() {
    let f = fixture().await;
    let rows = [project_row(
        "p1",
        "shanghai",
        "kashgar.shache-county",
        "125000",
    )];
    std::fs::write(f.bundle.join("projects.csv"), projects_csv(&rows)).unwrap();
    let store = SqliteStore::open(&f.db).await.unwrap();
    let imported = import::import_dir(&store, &f.bundle, &|_| {})
        .await
        .unwrap();
    assert_eq!(imported.projects.len(), 1);
    assert_eq!(imported.projects[0].budget, Fen::new(125_000));
    store.close().await.unwrap();
    let before = std::fs::read(&f.db).unwrap();
    let store = SqliteStore::open(&f.db).await.unwrap();
    let err = import::import_dir(&store, &f.bundle, &|_| {})
        .await
        .unwrap_err()
        .to_string();
    store.close().await.unwrap();
    assert!(
        err.contains("projects.csv:2: column id: duplicate id: p1 is already in the database"),
        "{err}"
    );
    assert!(before == std::fs::read(&f.db).unwrap());
}

#[tokio::test]
async fn wrong_column_count() {
    let rows = [
        project_row("p1", "shanghai", "kashgar.shache-county", "1"),
        "p2,shanghai".to_owned(),
    ];
    refused(
        &[("projects.csv", projects_csv(&rows))],
        &["projects.csv:3", "2 fields, but the header has 17 columns"],
    )
    .await;
}

#[tokio::test]
async fn unknown_column() {
    let csv = format!(
        "{PROJECT_HEADER},colour\n{},red\n",
        project_row("p1", "shanghai", "kashgar.shache-county", "1")
    );
    refused(
        &[("projects.csv", csv.into_bytes())],
        &["projects.csv:1: column colour: unknown column"],
    )
    .await;
}

#[tokio::test]
async fn non_utf8_bytes() {
    let mut bytes = projects_csv(&[project_row("p1", "shanghai", "kashgar.shache-county", "1")]);
    bytes.extend_from_slice(b"p2,shanghai,kashgar.shache-county,housing,approved,Caf\xe9,x,2015,1,0,0,0,0,0,recorded,,\n");
    refused(
        &[("projects.csv", bytes)],
        &["projects.csv:3", "is not UTF-8"],
    )
    .await;
}

#[tokio::test]
async fn negative_and_fractional_fen() {
    let rows = [
        project_row("p1", "shanghai", "kashgar.shache-county", "-500"),
        project_row("p2", "shanghai", "kashgar.shache-county", "12.5"),
    ];
    let message = refused(
        &[("projects.csv", projects_csv(&rows))],
        &[
            "projects.csv:2: column budget_fen: \"-500\" is negative",
            "projects.csv:3: column budget_fen: \"12.5\" is not a whole number of fen",
        ],
    )
    .await;
    assert!(
        message.starts_with("2 problem(s) found; nothing was written"),
        "{message}"
    );
}

#[tokio::test]
async fn unknown_region() {
    let rows = [project_row(
        "p1",
        "shanghai",
        "kashgar.atlantis-county",
        "1",
    )];
    refused(
        &[("projects.csv", projects_csv(&rows))],
        &["projects.csv:2: column recipient: kashgar.atlantis-county is not a region"],
    )
    .await;
}

#[tokio::test]
async fn a_project_outside_its_providers_pairs() {
    let rows = [project_row("p1", "beijing", "kashgar.shache-county", "1")];
    refused(
        &[("projects.csv", projects_csv(&rows))],
        &["column recipient: beijing has no pair covering kashgar.shache-county in 2015"],
    )
    .await;
}

#[tokio::test]
async fn duplicate_id_within_a_file() {
    let rows = [
        project_row("p1", "shanghai", "kashgar.shache-county", "1"),
        project_row("p1", "shanghai", "kashgar.zepu-county", "2"),
    ];
    refused(
        &[("projects.csv", projects_csv(&rows))],
        &["projects.csv:3: column id: duplicate id: p1 appears earlier in this file"],
    )
    .await;
}

#[tokio::test]
async fn a_pair_whose_provider_does_not_exist() {
    let csv = "provider,recipient,first_year,last_year,provenance,source,confidence,note\n\
               atlantis,kashgar.shache-county,2012,,recorded,,,\n";
    refused(
        &[("pairs.csv", csv.as_bytes().to_vec())],
        &["pairs.csv:2: column provider: atlantis is not a region"],
    )
    .await;
}

#[tokio::test]
async fn a_100_mb_line() {
    let mut bytes =
        format!("{PROJECT_HEADER}\np1,shanghai,kashgar.shache-county,housing,approved,")
            .into_bytes();
    bytes.resize(bytes.len() + 100 * 1024 * 1024, b'x');
    bytes.extend_from_slice(b",t,2015,1,0,0,0,0,0,recorded,,\n");
    refused(
        &[("projects.csv", bytes)],
        &["projects.csv:2", "bytes long; the limit is 1048576 bytes"],
    )
    .await;
}

#[tokio::test]
async fn an_empty_file() {
    refused(
        &[("projects.csv", Vec::new())],
        &["projects.csv:1: the file is empty: its first line must be the header id,provider"],
    )
    .await;
}

#[tokio::test]
async fn a_file_that_is_not_csv() {
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    refused(
        &[("projects.csv", png)],
        &["projects.csv:3: this is not a CSV text file: it holds binary data"],
    )
    .await;
    let json = br#"{"projects": [{"id": "p1"}]}"#.to_vec();
    refused(
        &[("projects.csv", json)],
        &["projects.csv:1: column {\"projects\": [{\"id\": \"p1\"}]}: unknown column"],
    )
    .await;
    refused(
        &[("budget.xlsx.csv", b"a,b\n1,2\n".to_vec())],
        &["budget.xlsx.csv: unknown file"],
    )
    .await;
}

#[tokio::test]
async fn one_bad_row_among_good_ones_writes_nothing() {
    let mut rows: Vec<String> = (0..500)
        .map(|i| project_row(&format!("p{i}"), "shanghai", "kashgar.shache-county", "100"))
        .collect();
    rows.push(project_row(
        "bad",
        "shanghai",
        "kashgar.shache-county",
        "1.5",
    ));
    let transfers = "id,project,kind,amount_fen,currency,value_date,corrects,phase,pending_of,provenance,source,confidence\n\
                     t1,p1,commit,100,CNY,2015-03-01,,single,,recorded,,\n\
                     t2,p9999,commit,100,CNY,2015-03-01,,single,,recorded,,\n\
                     t3,p2,commit,100,USD,2015-13-01,,single,,recorded,,\n";
    // Field errors come first; references are checked once every field parses.
    let message = refused(
        &[
            ("projects.csv", projects_csv(&rows)),
            ("transfers.csv", transfers.as_bytes().to_vec()),
        ],
        &[
            "projects.csv:502: column budget_fen",
            "transfers.csv:4: column value_date: \"2015-13-01\" is not a date",
        ],
    )
    .await;
    assert!(message.starts_with("2 problem(s)"), "{message}");
    // Files parse side by side; their problems are reported in table order all the same.
    assert!(
        message.find("projects.csv:502") < message.find("transfers.csv:4"),
        "{message}"
    );
    rows.pop();
    let transfers = transfers.replace("2015-13-01", "2015-12-01");
    refused(
        &[
            ("projects.csv", projects_csv(&rows)),
            ("transfers.csv", transfers.into_bytes()),
        ],
        &[
            "transfers.csv:3: column project: p9999 is not a project",
            "transfers.csv:4: column currency: USD is not the program's currency CNY",
        ],
    )
    .await;
}

/// The same demo on PostgreSQL gives the same summary, record for record (when
/// `COUNTERPART_TEST_PG` names a server; CI sets it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_gives_the_same_summary_as_sqlite() {
    let Ok(url) = std::env::var("COUNTERPART_TEST_PG") else {
        eprintln!("COUNTERPART_TEST_PG is not set: PostgreSQL skipped");
        return;
    };
    let schema = format!("app_test_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
    let pg = counterpart_store::PgStore::connect_in_schema(&url, &schema)
        .await
        .unwrap();
    import::load(&pg, demo_records(), &|_| {}).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = store_with(dir.path(), demo_records()).await;
    assert_eq!(
        report::summary(&pg).await.unwrap(),
        report::summary(&sqlite).await.unwrap()
    );
    assert_eq!(
        report::recipient(&pg, "Kashgar", None).await.unwrap(),
        report::recipient(&sqlite, "Kashgar", None).await.unwrap()
    );
    assert_eq!(pg.records().await.unwrap(), sqlite.records().await.unwrap());
    let (pg_ledger, sqlite_ledger) = (pg.ledger().await.unwrap(), sqlite.ledger().await.unwrap());
    assert_eq!(pg_ledger.accounts, sqlite_ledger.accounts);
    assert_eq!(
        pg_ledger.journal, sqlite_ledger.journal,
        "the same chains, hash for hash"
    );
    counterpart_app::ledger::verify(&pg).await.unwrap();
    // Streamed exports read the same rows from both.
    for name in ["transfers", "regions", "postings"] {
        let table = counterpart_app::export::table(name).unwrap();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        counterpart_app::export::table_csv(&pg, table, &mut a)
            .await
            .unwrap();
        counterpart_app::export::table_csv(&sqlite, table, &mut b)
            .await
            .unwrap();
        let sorted = |bytes: &[u8]| {
            let mut lines: Vec<String> = String::from_utf8_lossy(bytes)
                .lines()
                .map(str::to_owned)
                .collect();
            lines.sort();
            lines
        };
        assert_eq!(sorted(&a), sorted(&b), "{name} streams the same rows");
    }
    pg.close().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance_holds_every_provider_year_to_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), demo_records()).await;
    let y2019 = Year::new(2019).unwrap();
    let report = report::compliance(&store, Some(y2019), None, None)
        .await
        .unwrap();
    let table = report.section("compliance").unwrap();
    assert_eq!(table.rows.len(), 19, "one row per provider");
    let col = |key: &str| table.columns.iter().position(|c| c.key == key).unwrap();
    let fen = |cell: &Cell| match cell {
        Cell::Money { fen } => *fen,
        other => panic!("not money: {other:?}"),
    };
    let mut with_findings = 0;
    for row in &table.rows {
        let (quota, disbursed, arrears) = (
            fen(&row[col("quota")]),
            fen(&row[col("disbursed")]),
            fen(&row[col("arrears")]),
        );
        assert_eq!(
            arrears,
            (quota - disbursed).max(0),
            "arrears = quota − disbursed for {:?}",
            row[0]
        );
        let Cell::Text(findings) = &row[col("findings")] else {
            panic!()
        };
        assert_eq!(findings.contains("arrears"), arrears > 0);
        with_findings += u64::from(findings != "none");
    }
    let clean = number(
        &report,
        "headline",
        "Provider-years with no finding",
        "value",
    );
    assert_eq!(clean as u64, 19 - with_findings);

    // Mid-year, Beijing's pace is projected from what it disbursed so far.
    let as_of: counterpart_domain::Date = "2019-06-30".parse().unwrap();
    let mid = report::compliance(&store, None, Some("Beijing"), Some(as_of))
        .await
        .unwrap();
    let table = mid.section("compliance").unwrap();
    assert_eq!(table.rows.len(), 1);
    let row = &table.rows[0];
    let disbursed = fen(&row[col("disbursed")]);
    assert_eq!(
        fen(&row[table
            .columns
            .iter()
            .position(|c| c.key == "projected")
            .unwrap()]),
        disbursed * 365 / 181
    );
    let full_year = report::compliance(&store, Some(y2019), Some("Beijing"), None)
        .await
        .unwrap();
    assert!(disbursed < fen(&full_year.section("compliance").unwrap().rows[0][col("disbursed")]));
    let err = report::compliance(&store, Some(Year::new(2018).unwrap()), None, Some(as_of))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("--as-of 2019-06-30 is not in --year 2018"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_ledger_verifies_and_tampering_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counterpart.db");
    let store = SqliteStore::open(&path).await.unwrap();
    import::load(&store, demo_records(), &|_| {}).await.unwrap();
    let verified = counterpart_app::ledger::verify(&store).await.unwrap();
    assert_eq!(verified.transfers, demo_records().transfers.len());
    assert_eq!(verified.chains, 19, "one chain per provider office");
    store.close().await.unwrap();

    // Behind the app's back, with the triggers dropped: change one amount.
    let raw = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    for sql in [
        "DROP TRIGGER transfers_no_update",
        "DROP TRIGGER transfers_no_delete",
        "DROP TRIGGER journal_no_delete",
    ] {
        sqlx::query(sql).execute(&raw).await.unwrap();
    }
    let victim = &demo_records().transfers[10];
    sqlx::query("UPDATE transfers SET amount_fen = amount_fen + 1 WHERE id = ?")
        .bind(victim.id.as_str())
        .execute(&raw)
        .await
        .unwrap();
    let store = SqliteStore::open(&path).await.unwrap();
    let err = counterpart_app::ledger::verify(&store)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("breaks at transfer"),
        "an edited amount breaks its chain: {err}"
    );
    sqlx::query("UPDATE transfers SET amount_fen = amount_fen - 1 WHERE id = ?")
        .bind(victim.id.as_str())
        .execute(&raw)
        .await
        .unwrap();
    counterpart_app::ledger::verify(&store).await.unwrap();

    // Delete a transfer and its journal entry: the chain has a gap.
    let last = &demo_records().transfers[demo_records().transfers.len() / 2];
    sqlx::query("DELETE FROM journal WHERE transfer = (SELECT n FROM transfers WHERE id = ?)")
        .bind(last.id.as_str())
        .execute(&raw)
        .await
        .unwrap();
    sqlx::query("DELETE FROM transfers WHERE id = ?")
        .bind(last.id.as_str())
        .execute(&raw)
        .await
        .unwrap();
    let err = counterpart_app::ledger::verify(&store)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("breaks at transfer") || err.contains("cached"),
        "a deleted transfer is caught: {err}"
    );
}

#[tokio::test]
async fn an_import_that_would_overdraw_a_project_is_refused() {
    let rows = [project_row(
        "p1",
        "shanghai",
        "kashgar.shache-county",
        "1000",
    )];
    let transfers = "id,project,kind,amount_fen,currency,value_date,corrects,phase,pending_of,provenance,source,confidence\n\
                     t1,p1,commit,1000,CNY,2015-03-01,,single,,recorded,,\n\
                     t2,p1,disburse,1200,CNY,2015-04-01,,single,,recorded,,\n";
    refused(
        &[("projects.csv", projects_csv(&rows)), ("transfers.csv", transfers.as_bytes().to_vec())],
        &["transfers.csv:3: column amount_fen: account p1.committed would be overdrawn: 1000 fen available, \
           1200 fen asked (overdraft)"],
    )
    .await;
}

// ---- posting through the ledger, on both backends -----------------------------------------------

/// A store to post into, the PostgreSQL (url, schema) to drop afterwards, and the directory
/// that holds a SQLite file.
type PostingStore = (Box<dyn Store>, Option<(String, String)>, tempfile::TempDir);

/// A store holding the published frame and two projects per provider, on SQLite and (when
/// `COUNTERPART_TEST_PG` is set) on PostgreSQL in a schema of its own.
async fn posting_stores(tag: &str) -> Vec<PostingStore> {
    posting_stores_with(tag, 2).await
}

/// As [`posting_stores`], with `per_provider` projects `p.PROVIDER.N` for each provider.
async fn posting_stores_with(tag: &str, per_provider: usize) -> Vec<PostingStore> {
    let mut records = demo::published_bundle().unwrap().records;
    let providers: Vec<_> = records
        .pairs
        .iter()
        .map(|p| (p.provider.clone(), p.recipient.clone()))
        .collect();
    let mut seen = std::collections::HashSet::new();
    for (provider, recipient) in providers {
        if !seen.insert(provider.clone()) {
            continue;
        }
        for n in 0..per_provider {
            records.projects.push(counterpart_domain::project::Project {
                id: counterpart_domain::RecordId::parse(&format!("p.{provider}.{n}")).unwrap(),
                provider: provider.clone(),
                recipient: recipient.clone(),
                category: counterpart_domain::project::Category::Health,
                status: counterpart_domain::project::ProjectStatus::Approved,
                title_en: "Ward".into(),
                title_zh: "病房".into(),
                year: Year::new(2019).unwrap(),
                budget: Fen::new(1_000_000),
                outputs: Default::default(),
                provenance: counterpart_domain::Provenance::Recorded,
            });
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("posting.db"))
        .await
        .unwrap();
    import::load(&sqlite, &records, &|_| {}).await.unwrap();
    let mut stores: Vec<PostingStore> = vec![(Box::new(sqlite), None, dir)];
    if let Ok(url) = std::env::var("COUNTERPART_TEST_PG") {
        let schema = format!("post_{tag}_{}", std::process::id());
        let admin = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&admin)
            .await
            .unwrap();
        let pg = counterpart_store::PgStore::connect_in_schema(&url, &schema)
            .await
            .unwrap();
        import::load(&pg, &records, &|_| {}).await.unwrap();
        stores.push((
            Box::new(pg),
            Some((url, schema)),
            tempfile::tempdir().unwrap(),
        ));
    } else {
        eprintln!("COUNTERPART_TEST_PG is not set: PostgreSQL skipped");
    }
    stores
}

async fn drop_schema(pg: Option<(String, String)>) {
    if let Some((url, schema)) = pg {
        let admin = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&admin)
            .await
            .unwrap();
    }
}

/// The provider offices of the demo's pairs, sorted.
fn offices() -> Vec<String> {
    demo::published_bundle()
        .unwrap()
        .records
        .pairs
        .iter()
        .map(|p| p.provider.to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn posting(
    id: &str,
    project: &str,
    kind: TransferKind,
    amount: i64,
    date: &str,
) -> counterpart_app::ledger::Posting {
    counterpart_app::ledger::Posting {
        id: counterpart_domain::RecordId::parse(id).unwrap(),
        project: counterpart_domain::RecordId::parse(project).unwrap(),
        kind,
        amount: Fen::new(amount),
        value_date: date.parse().unwrap(),
        phase: counterpart_domain::ledger::Phase::Single,
        corrects: None,
        corrects_year: None,
        recorded_by: "test".into(),
    }
}

fn refusal(
    result: Result<counterpart_domain::ledger::Applied, counterpart_app::ledger::PostingError>,
) -> String {
    match result {
        Err(counterpart_app::ledger::PostingError::Post(
            counterpart_store::PostError::Refused(e),
        )) => e.code().to_owned(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postings_follow_every_ledger_rule_on_both_backends() {
    use counterpart_app::ledger::post;
    use counterpart_domain::ledger::{Applied, Phase};
    for (store, pg, _dir) in posting_stores("rules").await {
        let store = store.as_ref();
        let p = "p.shanghai.0";
        assert!(matches!(
            post(
                store,
                &posting("c1", p, TransferKind::Commit, 1_000, "2019-03-01")
            )
            .await
            .unwrap(),
            Applied::Created(_)
        ));
        assert!(matches!(
            post(
                store,
                &posting("c1", p, TransferKind::Commit, 1_000, "2019-03-01")
            )
            .await
            .unwrap(),
            Applied::Duplicate(_)
        ));
        assert_eq!(
            refusal(
                post(
                    store,
                    &posting("c1", p, TransferKind::Commit, 999, "2019-03-01")
                )
                .await
            ),
            "id_reused"
        );
        assert_eq!(
            refusal(
                post(
                    store,
                    &posting("d1", p, TransferKind::Disburse, 1_001, "2019-04-01")
                )
                .await
            ),
            "overdraft"
        );
        let mut pending = posting("d2", p, TransferKind::Disburse, 600, "2019-04-01");
        pending.phase = Phase::Pending;
        post(store, &pending).await.unwrap();
        assert_eq!(
            refusal(
                post(
                    store,
                    &posting("d3", p, TransferKind::Disburse, 401, "2019-04-02")
                )
                .await
            ),
            "overdraft",
            "the pending order reserves"
        );
        let mut settle = posting("d4", p, TransferKind::Disburse, 600, "2019-04-03");
        settle.phase = Phase::Post(counterpart_domain::RecordId::parse("d2").unwrap());
        post(store, &settle).await.unwrap();
        let mut void = posting("d5", p, TransferKind::Disburse, 600, "2019-04-03");
        void.phase = Phase::Void(counterpart_domain::RecordId::parse("d2").unwrap());
        assert_eq!(
            refusal(post(store, &void).await),
            "pending_already_resolved"
        );
        let q = "p.beijing.0";
        post(
            store,
            &posting("c2", q, TransferKind::Commit, 500, "2019-03-01"),
        )
        .await
        .unwrap();
        let mut reversal = posting("r1", q, TransferKind::Reversal, 500, "2019-05-01");
        reversal.corrects = Some(counterpart_domain::RecordId::parse("c2").unwrap());
        post(store, &reversal).await.unwrap();
        reversal.id = counterpart_domain::RecordId::parse("r2").unwrap();
        assert_eq!(refusal(post(store, &reversal).await), "already_reversed");
        store.close_year(Year::new(2019).unwrap()).await.unwrap();
        assert_eq!(
            refusal(
                post(
                    store,
                    &posting("c3", q, TransferKind::Commit, 5, "2019-12-01")
                )
                .await
            ),
            "period_closed"
        );
        post(
            store,
            &posting("c4", q, TransferKind::Commit, 5, "2020-01-02"),
        )
        .await
        .unwrap();
        let verified = counterpart_app::ledger::verify(store).await.unwrap();
        assert_eq!(verified.transfers, 6, "c1, d2, d4, c2, r1, c4");
        let ledger = store.ledger().await.unwrap();
        let committed = &ledger.accounts
            [&counterpart_domain::RecordId::parse("p.shanghai.0.committed").unwrap()];
        assert_eq!(committed.balance(), 400);
        drop_schema(pg).await;
    }
}

/// What one writer saw: the ids the store acknowledged, and how many postings it refused.
#[derive(Default)]
struct Seen {
    acknowledged: Vec<String>,
    refused: usize,
}

impl Seen {
    /// Record an outcome: created is acknowledged, a rule's refusal is counted, anything else
    /// (a database error, a deadlock, a duplicate of a fresh id) fails the test.
    fn outcome(
        &mut self,
        id: &str,
        result: Result<counterpart_domain::ledger::Applied, counterpart_app::ledger::PostingError>,
    ) -> bool {
        use counterpart_domain::ledger::Applied;
        match result {
            Ok(Applied::Created(r)) => {
                assert_eq!(r.entry.id.as_str(), id);
                self.acknowledged.push(id.to_owned());
                true
            }
            Ok(Applied::Duplicate(_)) => panic!("{id} is fresh, yet reported as a duplicate"),
            Err(counterpart_app::ledger::PostingError::Post(
                counterpart_store::PostError::Refused(e),
            )) => {
                assert!(
                    matches!(e.code(), "overdraft"),
                    "{id}: only overdrafts are expected, got {e}"
                );
                self.refused += 1;
                false
            }
            Err(e) => panic!("{id}: {e}"),
        }
    }
}

/// One writer of one office: about 130 postings on the office's project it shares with
/// another writer — commitments, disbursements that may overdraw, spending, disbursement
/// orders posted or voided, reversals — in a seeded random mix.
async fn office_writer(store: std::sync::Arc<dyn Store>, office: String, writer: usize) -> Seen {
    use counterpart_app::ledger::{post, reverse};
    use counterpart_domain::ledger::Phase;
    use rand::{Rng, SeedableRng};
    let mut rng =
        rand_chacha::ChaCha8Rng::seed_from_u64(writer as u64 * 7919 + office.len() as u64);
    let project = format!("p.{office}.{}", writer % 2);
    let rid = |s: &str| counterpart_domain::RecordId::parse(s).unwrap();
    let mut seen = Seen::default();
    let mut commits = Vec::new();
    for step in 0..130 {
        let id = format!("w.{office}.{writer}.{step}");
        let roll: u32 = rng.random_range(0..100);
        if roll < 40 {
            let commit = posting(&id, &project, TransferKind::Commit, 100, "2019-06-01");
            if seen.outcome(&id, post(store.as_ref(), &commit).await) {
                commits.push(id);
            }
        } else if roll < 65 {
            let p = posting(&id, &project, TransferKind::Disburse, 60, "2019-06-02");
            seen.outcome(&id, post(store.as_ref(), &p).await);
        } else if roll < 78 {
            let p = posting(&id, &project, TransferKind::Spend, 30, "2019-06-03");
            seen.outcome(&id, post(store.as_ref(), &p).await);
        } else if roll < 90 {
            let mut order = posting(&id, &project, TransferKind::Disburse, 20, "2019-06-04");
            order.phase = Phase::Pending;
            if seen.outcome(&id, post(store.as_ref(), &order).await) {
                let resolve = format!("{id}.r");
                order.id = rid(&resolve);
                order.phase = if rng.random_bool(0.5) {
                    Phase::Post(rid(&id))
                } else {
                    Phase::Void(rid(&id))
                };
                seen.outcome(&resolve, post(store.as_ref(), &order).await);
            }
        } else if let Some(original) = commits.pop() {
            let result = reverse(
                store.as_ref(),
                &rid(&original),
                rid(&id),
                "2019-06-05".parse().unwrap(),
                "test".into(),
            )
            .await;
            seen.outcome(&id, result);
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_offices_lose_nothing_and_a_retried_id_has_one_effect() {
    use counterpart_domain::ledger::Applied;
    use std::sync::atomic::{AtomicBool, Ordering};
    for (store, pg, _dir) in posting_stores("concurrent").await {
        let store: std::sync::Arc<dyn Store> = std::sync::Arc::from(store);
        let offices: Vec<String> = offices();
        let mut writers = tokio::task::JoinSet::new();
        // 19 offices × 4 writers, two writers to a project.
        for office in &offices {
            for writer in 0..4 {
                writers.spawn(office_writer(store.clone(), office.clone(), writer));
            }
        }
        // 100 concurrent submissions of one transfer id.
        for _ in 0..100 {
            let store = store.clone();
            writers.spawn(async move {
                let same = posting(
                    "same-id",
                    "p.jiangsu.0",
                    TransferKind::Commit,
                    7,
                    "2019-06-03",
                );
                let mut seen = Seen::default();
                match counterpart_app::ledger::post(store.as_ref(), &same)
                    .await
                    .unwrap()
                {
                    Applied::Created(_) => seen.acknowledged.push("same-id".into()),
                    Applied::Duplicate(r) => assert_eq!(r.entry.amount, Fen::new(7)),
                }
                seen
            });
        }
        // Readers: every snapshot they take while the offices write holds every invariant.
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let mut readers = tokio::task::JoinSet::new();
        for _ in 0..2 {
            let (store, done) = (store.clone(), done.clone());
            readers.spawn(async move {
                let mut reads = 0;
                while !done.load(Ordering::Relaxed) {
                    counterpart_app::ledger::verify(store.as_ref())
                        .await
                        .unwrap_or_else(|e| panic!("a reader saw a broken ledger: {e}"));
                    reads += 1;
                }
                reads
            });
        }
        let (mut acknowledged, mut refused) = (Vec::new(), 0);
        while let Some(seen) = writers.join_next().await {
            let seen = seen.unwrap();
            acknowledged.extend(seen.acknowledged);
            refused += seen.refused;
        }
        done.store(true, Ordering::Relaxed);
        let mut reads = 0;
        while let Some(read) = readers.join_next().await {
            let read = read.unwrap();
            assert!(read > 0, "each reader read while the offices wrote");
            reads += read;
        }
        let operations = acknowledged.len() + refused + 100;
        eprintln!(
            "{}: {operations} operations, {} acknowledged, {refused} refused, {reads} verified snapshots",
            if pg.is_some() { "postgresql" } else { "sqlite" },
            acknowledged.len()
        );
        assert!(
            operations >= 9_500,
            "about 10,000 operations, got {operations}"
        );
        assert!(refused > 0, "the mix reaches the overdraft rule");
        assert_eq!(
            acknowledged.iter().filter(|id| *id == "same-id").count(),
            1,
            "one effect for 100 submissions"
        );
        let verified = counterpart_app::ledger::verify(store.as_ref())
            .await
            .unwrap();
        let ledger = store.ledger().await.unwrap();
        let mut stored: Vec<String> = ledger
            .journal
            .iter()
            .map(|r| r.entry.id.to_string())
            .collect();
        stored.sort();
        acknowledged.sort();
        assert_eq!(verified.transfers, stored.len());
        assert_eq!(
            stored, acknowledged,
            "every acknowledged transfer is there, and nothing else"
        );
        drop_schema(pg).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_phase_transfers_survive_export_and_import() {
    use counterpart_app::ledger::post;
    use counterpart_domain::ledger::Phase;
    let (store, pg, dir) = posting_stores("twophase").await.into_iter().next().unwrap();
    drop_schema(pg).await;
    let store = store.as_ref();
    let p = "p.hebei.0";
    post(
        store,
        &posting("c", p, TransferKind::Commit, 1_000, "2019-03-01"),
    )
    .await
    .unwrap();
    let pending = |id: &str, phase| {
        let mut x = posting(id, p, TransferKind::Disburse, 400, "2019-04-01");
        x.phase = phase;
        x
    };
    let rid = |s: &str| counterpart_domain::RecordId::parse(s).unwrap();
    post(store, &pending("a", Phase::Pending)).await.unwrap();
    post(store, &pending("a-post", Phase::Post(rid("a"))))
        .await
        .unwrap();
    post(store, &pending("b", Phase::Pending)).await.unwrap();
    post(store, &pending("b-void", Phase::Void(rid("b"))))
        .await
        .unwrap();
    let exported = dir.path().join("export");
    bundle::write_dir(&store.records().await.unwrap(), &exported).unwrap();
    let copy = SqliteStore::open(&dir.path().join("copy.db"))
        .await
        .unwrap();
    import::import_dir(&copy, &exported, &|_| {}).await.unwrap();
    counterpart_app::ledger::verify(&copy).await.unwrap();
    let (original, copied) = (store.ledger().await.unwrap(), copy.ledger().await.unwrap());
    let disbursed = rid("p.hebei.0.disbursed");
    assert_eq!(
        copied.accounts[&disbursed].balance(),
        400,
        "posted once, the voided order not at all"
    );
    assert_eq!(copied.accounts, original.accounts);
}

// ---- the store against an in-memory model ------------------------------------------------------

/// One ledger command of a generated sequence, on one of a case's two projects.
#[derive(Debug, Clone)]
enum Command {
    Move {
        project: usize,
        kind: TransferKind,
        amount: i64,
        pending: bool,
    },
    /// Post or void the `n`-th pending order of the case (modulo how many there are).
    Resolve {
        n: usize,
        post: bool,
    },
    /// Reverse the `n`-th transfer of the case.
    Reverse {
        n: usize,
    },
    /// Submit the `n`-th command's entry again, unchanged or with another amount.
    Retry {
        n: usize,
        changed: bool,
    },
    CloseYear,
}

fn command() -> impl proptest::strategy::Strategy<Value = Command> {
    use proptest::prelude::*;
    let kind = prop_oneof![
        Just(TransferKind::Commit),
        Just(TransferKind::Disburse),
        Just(TransferKind::Spend)
    ];
    prop_oneof![
        6 => (0..2usize, kind, 1..300i64, proptest::bool::weighted(0.2))
            .prop_map(|(project, kind, amount, pending)| Command::Move { project, kind, amount, pending }),
        2 => (0..8usize, any::<bool>()).prop_map(|(n, post)| Command::Resolve { n, post }),
        1 => (0..8usize).prop_map(|n| Command::Reverse { n }),
        2 => (0..8usize, any::<bool>()).prop_map(|(n, changed)| Command::Retry { n, changed }),
        1 => Just(Command::CloseYear),
    ]
}

/// What a posting did, comparable between the store and the model (sequence numbers differ:
/// the store's office chains also hold other cases).
fn outcome(result: &Result<counterpart_domain::ledger::Applied, String>) -> String {
    use counterpart_domain::ledger::Applied;
    match result {
        Ok(Applied::Created(r)) => format!("created {:?}", r.entry),
        Ok(Applied::Duplicate(r)) => format!("duplicate {:?}", r.entry),
        Err(code) => format!("refused {code}"),
    }
}

/// Random sequences of ledger commands posted through each store and applied to the domain's
/// in-memory ledger: after every step the outcome (created, duplicate, or the refusal's code)
/// and the balances of the accounts it touched agree; after every case the store verifies.
/// 256 cases per backend, each on two fresh projects of one office and a year of its own.
#[test]
fn the_store_follows_the_in_memory_model() {
    use counterpart_domain::ledger::{Entry, Ledger, Phase, project_accounts, project_route};
    use counterpart_domain::{Currency, RecordId};
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let stores = runtime.block_on(posting_stores_with("model", 120));
    let offices: Vec<String> = offices();
    for (store, _, _) in &stores {
        let store = store.as_ref();
        let case = std::cell::Cell::new(0usize);
        let closed = std::cell::RefCell::new(std::collections::HashSet::new());
        let mut runner = TestRunner::new(Config {
            cases: 256,
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = proptest::collection::vec(command(), 1..24);
        let result = runner.run(&strategy, |commands| {
            let n = case.get();
            case.set(n + 1);
            assert!(
                n < offices.len() * 60,
                "out of fresh projects (a failing case is shrinking)"
            );
            let office =
                counterpart_domain::RegionCode::parse(&offices[n % offices.len()]).unwrap();
            let projects = [0, 1].map(|k| {
                RecordId::parse(&format!("p.{office}.{}", 2 * (n / offices.len()) + k)).unwrap()
            });
            // Cases spread over 150 years; a year one case closed stays closed for the next.
            let year = Year::new(1950 + (n % 150) as u16).unwrap();
            let date = |day: usize| {
                format!("{}-03-{:02}", year.get(), 1 + day % 28)
                    .parse()
                    .unwrap()
            };
            let mut model = Ledger::default();
            if closed.borrow().contains(&year) {
                model.close_year(year);
            }
            let mut entries: Vec<Entry> = Vec::new();
            let mut pendings: Vec<Entry> = Vec::new();
            for (step, command) in commands.iter().enumerate() {
                let id = RecordId::parse(&format!("m{n}.{step}")).unwrap();
                let entry = match command {
                    Command::Move {
                        project,
                        kind,
                        amount,
                        pending,
                    } => {
                        let (debit, credit) =
                            project_route(&projects[*project], &office, year, *kind).unwrap();
                        Entry {
                            id,
                            debit,
                            credit,
                            amount: Fen::new(*amount),
                            currency: Currency::CNY,
                            kind: *kind,
                            value_date: date(step),
                            phase: if *pending {
                                Phase::Pending
                            } else {
                                Phase::Single
                            },
                            corrects: None,
                            corrects_year: None,
                            office: office.clone(),
                            recorded_by: "model".into(),
                        }
                    }
                    Command::Resolve { n, post } => {
                        let Some(order) =
                            (!pendings.is_empty()).then(|| pendings[n % pendings.len()].clone())
                        else {
                            continue;
                        };
                        Entry {
                            id,
                            value_date: date(step),
                            phase: if *post {
                                Phase::Post(order.id.clone())
                            } else {
                                Phase::Void(order.id.clone())
                            },
                            ..order
                        }
                    }
                    Command::Reverse { n } => {
                        let Some(original) =
                            (!entries.is_empty()).then(|| entries[n % entries.len()].clone())
                        else {
                            continue;
                        };
                        Entry {
                            id,
                            debit: original.credit.clone(),
                            credit: original.debit.clone(),
                            kind: TransferKind::Reversal,
                            value_date: date(step),
                            phase: Phase::Single,
                            corrects: Some(original.id.clone()),
                            ..original
                        }
                    }
                    Command::Retry { n, changed } => {
                        let Some(mut again) =
                            (!entries.is_empty()).then(|| entries[n % entries.len()].clone())
                        else {
                            continue;
                        };
                        if *changed {
                            again.amount = Fen::new(again.amount.get() + 1);
                        }
                        again
                    }
                    Command::CloseYear => {
                        model.close_year(year);
                        closed.borrow_mut().insert(year);
                        runtime.block_on(store.close_year(year)).unwrap();
                        continue;
                    }
                };
                let project = counterpart_domain::ledger::project_of(&entry.credit)
                    .or_else(|| counterpart_domain::ledger::project_of(&entry.debit))
                    .unwrap();
                let open = project_accounts(&project, &office, year, Currency::CNY);
                for account in open.iter().cloned() {
                    if !model.accounts.contains_key(&account.id) {
                        model.open_account(account);
                    }
                }
                let expected = model.apply(entry.clone()).map_err(|e| e.code().to_owned());
                let got = runtime
                    .block_on(store.post(&entry, &project, &open, None))
                    .map_err(|e| match e {
                        counterpart_store::PostError::Refused(e) => e.code().to_owned(),
                        other => panic!("step {step}: {other}"),
                    });
                proptest::prop_assert_eq!(
                    outcome(&got),
                    outcome(&expected),
                    "step {} {:?}",
                    step,
                    command
                );
                if let Ok(counterpart_domain::ledger::Applied::Created(r)) = &expected {
                    entries.push(r.entry.clone());
                    if r.entry.phase == Phase::Pending {
                        pendings.push(r.entry.clone());
                    }
                }
                let ids = [entry.debit.clone(), entry.credit.clone()];
                let stored = runtime.block_on(store.accounts(&ids)).unwrap();
                for account in stored
                    .iter()
                    .filter(|a| a.kind != counterpart_domain::ledger::AccountKind::Source)
                {
                    proptest::prop_assert_eq!(
                        account,
                        &model.accounts[&account.id],
                        "step {}",
                        step
                    );
                }
            }
            runtime
                .block_on(counterpart_app::ledger::verify(store))
                .map_err(|e| TestCaseError::fail(format!("verify: {e}")))?;
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        assert!(case.get() >= 256);
    }
    for (_, pg, _) in stores {
        runtime.block_on(drop_schema(pg));
    }
}

// ---- database-enforced rules ---------------------------------------------------------------------

/// On PostgreSQL the app writes as `counterpart_writer`, which may insert money rows but never
/// update, delete or truncate them — even with the triggers dropped. The owner, with the
/// triggers dropped, can tamper; `verify` catches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_privileges_keep_money_rows_immutable() {
    use counterpart_app::ledger::post;
    let Some((store, Some((url, schema)), _dir)) =
        posting_stores("privileges").await.into_iter().nth(1)
    else {
        eprintln!("COUNTERPART_TEST_PG is not set: PostgreSQL skipped");
        return;
    };
    post(
        store.as_ref(),
        &posting(
            "c1",
            "p.shanghai.0",
            TransferKind::Commit,
            1_000,
            "2019-03-01",
        ),
    )
    .await
    .unwrap();
    let owner = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(
            std::str::FromStr::from_str(&url)
                .map(|o: sqlx::postgres::PgConnectOptions| {
                    o.options([("search_path", schema.as_str())])
                })
                .unwrap(),
        )
        .await
        .unwrap();
    let refused = |sql: &'static str| {
        let owner = owner.clone();
        async move {
            sqlx::query(sql)
                .execute(&owner)
                .await
                .expect_err(sql)
                .to_string()
        }
    };
    let truncate = refused("TRUNCATE transfers CASCADE").await;
    assert!(truncate.contains("immutable"), "{truncate}");
    for trigger in [
        "transfers_no_update ON transfers",
        "journal_no_update ON journal",
    ] {
        sqlx::query(&format!("DROP TRIGGER {trigger}"))
            .execute(&owner)
            .await
            .unwrap();
    }
    sqlx::query("SET ROLE counterpart_writer")
        .execute(&owner)
        .await
        .unwrap();
    for sql in [
        "UPDATE transfers SET amount_fen = 1 WHERE id = 'c1'",
        "DELETE FROM journal WHERE transfer = (SELECT n FROM transfers WHERE id = 'c1')",
        "DELETE FROM transfers WHERE id = 'c1'",
        "DELETE FROM accounts",
        // Of a project the writer may change its status only (a step), and no step once taken.
        "UPDATE projects SET budget_fen = 1",
        "DELETE FROM project_steps",
    ] {
        let e = refused(sql).await;
        assert!(e.contains("permission denied"), "{sql}: {e}");
    }
    sqlx::query("UPDATE projects SET status = status WHERE id = 'p.shanghai.0'")
        .execute(&owner)
        .await
        .expect("the writer moves a project's status");
    let e = refused("UPDATE project_steps SET date = '2000-01-01'").await;
    assert!(
        e.contains("final") || e.contains("permission denied"),
        "{e}"
    );
    sqlx::query("RESET ROLE").execute(&owner).await.unwrap();
    sqlx::query("UPDATE transfers SET amount_fen = 999 WHERE id = 'c1'")
        .execute(&owner)
        .await
        .unwrap();
    let e = counterpart_app::ledger::verify(store.as_ref())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("breaks at transfer c1"), "{e}");
    owner.close().await;
    drop_schema(Some((url, schema))).await;
}

/// An import booked against the ledger as it was, loaded after an office posted, writes
/// nothing and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_prepared_before_a_posting_writes_nothing() {
    use counterpart_domain::ledger::Phase;
    for (store, pg, _dir) in posting_stores("stale").await {
        let store = store.as_ref();
        let mut records = Records::default();
        records
            .transfers
            .push(counterpart_domain::project::Transfer {
                id: counterpart_domain::RecordId::parse("bulk-1").unwrap(),
                project: counterpart_domain::RecordId::parse("p.tianjin.0").unwrap(),
                kind: TransferKind::Commit,
                amount: Fen::new(50),
                currency: counterpart_domain::Currency::CNY,
                value_date: "2019-02-01".parse().unwrap(),
                corrects: None,
                phase: Phase::Single,
                provenance: counterpart_domain::Provenance::Recorded,
            });
        let frame = store.frame().await.unwrap();
        let (ledger, from) = import::book_on(store, &records, |_| None, &frame)
            .await
            .unwrap();
        counterpart_app::ledger::post(
            store,
            &posting(
                "meanwhile",
                "p.tianjin.1",
                TransferKind::Commit,
                10,
                "2019-02-02",
            ),
        )
        .await
        .unwrap();
        let booking = counterpart_store::Booking {
            ledger: &ledger,
            journal_from: from,
        };
        let e = store
            .load(&records, &booking, None, &|_| {})
            .await
            .unwrap_err();
        assert!(
            matches!(&e, counterpart_store::StoreError::Changed { office } if office == "tianjin"),
            "{e}"
        );
        let verified = counterpart_app::ledger::verify(store).await.unwrap();
        assert_eq!(verified.transfers, 1, "only the posting");
        drop_schema(pg).await;
    }
}

/// The cells of a report row, found by its first cell.
fn row<'r>(report: &'r Report, section: &str, label: &str) -> Vec<&'r Cell> {
    let s = report.section(section).unwrap();
    s.rows
        .iter()
        .find(|r| matches!(&r[0], Cell::Text(t) if t == label))
        .unwrap_or_else(|| panic!("{section}: no row {label}"))
        .iter()
        .collect()
}

fn text_at<'r>(report: &'r Report, section: &str, label: &str, column: &str) -> &'r str {
    let s = report.section(section).unwrap();
    let i = s.columns.iter().position(|c| c.key == column).unwrap();
    match row(report, section, label)[i] {
        Cell::Text(t) => t,
        other => panic!("{section}/{label}/{column}: not text: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pairing_engine_proposes_against_the_2010_table() {
    use counterpart_app::pair::{PairOptions, pair};
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), demo_records()).await;

    let base = pair(
        &store,
        &PairOptions {
            explain: vec!["zhejiang=aksu".into()],
            ..PairOptions::default()
        },
    )
    .await
    .unwrap();
    assert!(
        base.notes.iter().any(|n| n.contains("optimal")),
        "the demo's search finishes: {:?}",
        base.notes
    );
    let proposed = number(&base, "score", "total", "proposed");
    let actual = number(&base, "score", "total", "actual");
    assert!(
        proposed > actual,
        "the optimum beats the 2010 table under its own score"
    );
    // Where the 2010 design's reasons hold, the optimum agrees: Shenzhen's special zone with
    // Kashgar's, the cold north-east with Tacheng and Altay.
    assert!(text_at(&base, "recipients", "Kashgar", "proposed").contains("Shenzhen"));
    assert_eq!(text_at(&base, "recipients", "Tacheng", "agrees"), "yes");
    assert_eq!(text_at(&base, "recipients", "Altay", "agrees"), "yes");
    // The richest providers go to the poorest prefectures.
    let south = ["Kashgar", "Hotan", "Aksu", "Kizilsu"];
    for rich in ["Guangdong", "Jiangsu"] {
        assert!(
            south
                .iter()
                .any(|r| text_at(&base, "recipients", r, "proposed").contains(rich)),
            "{rich} helps a south prefecture"
        );
    }
    assert!(!base.section("differences").unwrap().rows.is_empty());
    for section in &base.sections {
        assert!(
            section.columns.iter().any(|c| c.key == "provenance"),
            "section {} says where its figures come from",
            section.key
        );
    }
    // Nesting: every paired county handed down to one of its prefecture's proposed providers.
    let counties = base.section("counties").unwrap();
    assert_eq!(counties.rows.len(), 82, "the 82 county-level units of 2010");
    for row in &counties.rows {
        let (Cell::Text(unit), Cell::Text(provider)) = (&row[1], &row[3]) else {
            panic!("{row:?}")
        };
        assert!(
            text_at(&base, "recipients", unit, "proposed").contains(provider.as_str()),
            "{row:?} goes to a provider of {unit}"
        );
    }
    // Every provider carries need: proposed shares add up to 100%.
    let shares: f64 = base
        .section("providers")
        .unwrap()
        .rows
        .iter()
        .map(|r| match &r[3] {
            Cell::Number(x) => *x,
            other => panic!("share {other:?}"),
        })
        .sum();
    assert!(within(shares, 100.0, 0.001), "shares add up to {shares}");

    // "Why not Zhejiang–Aksu?" is exact, and fixing the pair costs exactly that.
    let cost = number(&base, "explain", "Zhejiang–Aksu", "cost");
    assert!(cost > 0.0);
    let fixed = pair(
        &store,
        &PairOptions {
            fix: vec!["Zhejiang=Aksu".into()],
            ..PairOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        text_at(&fixed, "recipients", "Aksu", "proposed"),
        "Zhejiang"
    );
    assert_eq!(
        number(&fixed, "score", "total", "proposed"),
        proposed - cost
    );

    let forbidden = pair(
        &store,
        &PairOptions {
            forbid: vec!["shenzhen=kashgar".into()],
            ..PairOptions::default()
        },
    )
    .await
    .unwrap();
    assert!(!text_at(&forbidden, "recipients", "Kashgar", "proposed").contains("Shenzhen"));
    assert!(number(&forbidden, "score", "total", "proposed") < proposed);

    // Bad pairs are named.
    let err = |fix: &str| {
        let options = PairOptions {
            fix: vec![fix.into()],
            ..PairOptions::default()
        };
        let store = &store;
        async move { pair(store, &options).await.unwrap_err().to_string() }
    };
    assert!(err("atlantis=kashgar").await.contains("atlantis"));
    let county = err("shenzhen=kashgar.shache-county").await;
    assert!(county.contains("prefectures and divisions"), "{county}");
    assert!(err("shenzhen").await.contains("PROVIDER=RECIPIENT"));
}

/// Validate a file with xmllint against a schema in `data/iati/`; `None` when xmllint is not
/// installed and CI does not require it.
fn xmllint(schema: &str, file: &Path) -> Option<Result<(), String>> {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/iati")
        .join(schema);
    match std::process::Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&schema)
        .arg(file)
        .output()
    {
        Ok(out) if out.status.success() => Some(Ok(())),
        Ok(out) => Some(Err(String::from_utf8_lossy(&out.stderr).into_owned())),
        Err(_) if std::env::var_os("COUNTERPART_REQUIRE_XMLLINT").is_some() => {
            panic!("xmllint is required (install libxml2-utils)")
        }
        Err(_) => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_iati_export_is_schema_valid_and_adds_up() {
    use counterpart_app::iati::{self, IatiOptions};
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), demo_records()).await;
    let out = dir.path().join("iati");
    let options = IatiOptions {
        year: None,
        provider: None,
        today: "2026-11-29".parse().unwrap(),
        generated: "2026-11-29T00:00:00Z".into(),
    };
    let written = iati::export(&store, &options, &out).await.unwrap();
    assert_eq!(
        written.len(),
        38,
        "an activity and an organisation file per provider"
    );
    let activities: usize = written.iter().map(|w| w.activities).sum();
    assert_eq!(activities, demo_records().projects.len());
    let transactions: usize = written.iter().map(|w| w.transactions).sum();
    assert_eq!(transactions, demo_records().transfers.len());
    // Actual dates from the projects' steps: the day construction began and the day each
    // project was completed.
    let completed: Vec<String> = demo_records()
        .project_steps
        .iter()
        .filter(|s| s.status == counterpart_domain::project::ProjectStatus::Completed)
        .map(|s| format!(r#"<activity-date type="4" iso-date="{}"/>"#, s.date))
        .collect();
    let all_activities: String = written
        .iter()
        .filter(|w| w.kind == "activities")
        .map(|w| std::fs::read_to_string(&w.path).unwrap())
        .collect();
    assert!(!completed.is_empty());
    assert_eq!(
        all_activities.matches(r#"<activity-date type="4""#).count(),
        completed.len()
    );
    assert!(all_activities.contains(&completed[0]));

    let mut validated = 0;
    let mut disbursed_fen: i64 = 0;
    for w in &written {
        let schema = match w.kind {
            "activities" => "iati-activities-schema.xsd",
            _ => "iati-organisations-schema.xsd",
        };
        if let Some(result) = xmllint(schema, &w.path) {
            result.unwrap_or_else(|e| panic!("{}: {e}", w.path.display()));
            validated += 1;
        }
        let text = std::fs::read_to_string(&w.path).unwrap();
        let problems = match w.kind {
            "activities" => iati::rules::check_activities(&text, options.today),
            _ => iati::rules::check_organisations(&text, options.today),
        };
        assert!(problems.is_empty(), "{}: {problems:?}", w.path.display());
        assert!(
            text.contains("SIMULATED"),
            "the demo's files say they are simulated"
        );
        let doc = roxmltree::Document::parse(&text).unwrap();
        for t in doc.descendants().filter(|n| n.has_tag_name("transaction")) {
            let code = t
                .children()
                .find(|n| n.has_tag_name("transaction-type"))
                .and_then(|n| n.attribute("code"));
            if code == Some("3") {
                let value = t.children().find(|n| n.has_tag_name("value")).unwrap();
                let (yuan, fen) = value.text().unwrap().split_once('.').unwrap();
                disbursed_fen += yuan.parse::<i64>().unwrap() * 100 + fen.parse::<i64>().unwrap();
            }
        }
    }
    eprintln!("xmllint validated {validated} of {} files", written.len());
    let expected: i64 = demo_records()
        .transfers
        .iter()
        .filter(|t| t.kind == TransferKind::Disburse)
        .map(|t| t.amount.get())
        .sum();
    assert_eq!(
        disbursed_fen, expected,
        "every disbursement once, to the fen"
    );

    // One provider, one year: quotas in the organisation file are the report's quotas.
    let one = IatiOptions {
        year: Some(Year::new(2019).unwrap()),
        provider: Some("Shenzhen".into()),
        ..options.clone()
    };
    let out2 = dir.path().join("one");
    let written = iati::export(&store, &one, &out2).await.unwrap();
    assert_eq!(written.len(), 2);
    let org = std::fs::read_to_string(out2.join("shenzhen-organisation.xml")).unwrap();
    let report = report::compliance(
        &store,
        Some(Year::new(2019).unwrap()),
        Some("Shenzhen"),
        None,
    )
    .await
    .unwrap();
    let table = report.section("compliance").unwrap();
    let column = table.columns.iter().position(|c| c.key == "quota").unwrap();
    let Cell::Money { fen: quota } = table.rows[0][column] else {
        panic!("quota is money")
    };
    assert!(
        org.contains(&format!(">{}.{:02}</value>", quota / 100, quota % 100)),
        "the 2019 total budget is the quota {quota} fen"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iati_round_trip_gives_the_same_reports_and_bad_files_write_nothing() {
    use counterpart_app::iati::{self, IatiOptions, import::import_files};
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    std::fs::create_dir(&a).unwrap();
    let source = store_with(&a, demo_records()).await;
    let out = dir.path().join("iati");
    let options = IatiOptions {
        year: None,
        provider: None,
        today: "2026-11-29".parse().unwrap(),
        generated: "2026-11-29T00:00:00Z".into(),
    };
    let written = iati::export(&source, &options, &out).await.unwrap();
    let files: Vec<PathBuf> = written
        .iter()
        .filter(|w| w.kind == "activities")
        .map(|w| w.path.clone())
        .collect();

    // Everything IATI does not carry (the program, regions, pairs, statistics, people…).
    let mut rest = demo_records().clone();
    rest.projects.clear();
    rest.transfers.clear();
    rest.project_steps.clear();
    let b = dir.path().join("b");
    std::fs::create_dir(&b).unwrap();
    let target = store_with(&b, &rest).await;
    let db = b.join("counterpart.db");

    // Bad files first: each refused with file, line and element, and nothing written.
    let shenzhen = std::fs::read_to_string(out.join("shenzhen-activities.xml")).unwrap();
    let first_budget = shenzhen.find("<budget").unwrap();
    let cases: Vec<(String, &str)> = vec![
        (
            shenzhen.replacen("</iati-activity>", "", 1),
            "not well-formed",
        ),
        (
            shenzhen
                .replacen("<iati-activities ", "<iati-activity-list ", 1)
                .replacen("</iati-activities>", "</iati-activity-list>", 1),
            "is not iati-activities",
        ),
        (
            shenzhen.replacen("<activity-status", "<bogus-element/><activity-status", 1),
            "bogus-element",
        ),
        (
            {
                // Move the first budget in front of the sector: out of schema order.
                let end = shenzhen[first_budget..].find("</budget>").unwrap() + first_budget + 9;
                let budget = &shenzhen[first_budget..end];
                let without = format!("{}{}", &shenzhen[..first_budget], &shenzhen[end..]);
                without.replacen("<sector ", &format!("{budget}<sector "), 1)
            },
            "out of order",
        ),
        (
            shenzhen.replacen("<activity-status code=", "<activity-scope code=", 1),
            "activity-status",
        ),
        (
            shenzhen.replacen(">2209199.93</value>", ">2209199.937</value>", 1),
            "two decimals",
        ),
        (
            shenzhen.replacen(
                "location ref=\"kashgar.kashgar-city\"",
                "location ref=\"atlantis\"",
                1,
            ),
            "atlantis",
        ),
        (
            {
                // Spend more than was disbursed.
                let at = shenzhen
                    .find("<transaction ref=\"sim.shenzhen.2011.0001.s\">")
                    .unwrap();
                let (head, tail) = shenzhen.split_at(at);
                format!(
                    "{head}{}",
                    tail.replacen(">2209199.93</value>", ">9209199.93</value>", 1)
                )
            },
            "overdraft",
        ),
    ];
    let before = std::fs::read(&db).unwrap();
    for (i, (text, expected)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("bad-{i}.xml"));
        std::fs::write(&path, &text).unwrap();
        let err = match import_files(&target, &[path.as_path()], &|_| {}).await {
            Ok(_) => panic!("case {i} ({expected}) was imported"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(expected), "case {i}: {err}");
        let at = err
            .find(&format!("bad-{i}.xml:"))
            .unwrap_or_else(|| panic!("case {i} names the file: {err}"));
        let line = &err[at + format!("bad-{i}.xml:").len()..];
        assert!(
            line.starts_with(|c: char| c.is_ascii_digit()),
            "case {i} names the line: {err}"
        );
    }
    target.close().await.unwrap();
    assert!(
        std::fs::read(&db).unwrap() == before,
        "refused imports leave the file unchanged"
    );
    let target = SqliteStore::open(&db).await.unwrap();

    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let imported = import_files(&target, &paths, &|_| {}).await.unwrap();
    assert_eq!(imported.projects.len(), demo_records().projects.len());
    assert_eq!(imported.transfers.len(), demo_records().transfers.len());
    let json = |r: &Report| serde_json::to_string(r).unwrap();
    assert_eq!(
        json(&report::summary(&source).await.unwrap()),
        json(&report::summary(&target).await.unwrap()),
        "the summary is identical after the round trip"
    );
    assert_eq!(
        json(&report::compliance(&source, None, None, None).await.unwrap()),
        json(&report::compliance(&target, None, None, None).await.unwrap()),
        "the compliance report is identical after the round trip"
    );
    let verified = counterpart_app::ledger::verify(&target).await.unwrap();
    assert_eq!(verified.transfers, demo_records().transfers.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_stream_as_csv_and_xlsx() {
    use counterpart_app::export;
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), demo_records()).await;
    let mut csv_bytes = Vec::new();
    let table = export::table("transfers").unwrap();
    let rows = export::table_csv(&store, table, &mut csv_bytes)
        .await
        .unwrap();
    assert_eq!(rows as usize, demo_records().transfers.len());
    let mut reader = csv::Reader::from_reader(csv_bytes.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[0], "id");
    assert_eq!(header[3], "amount_fen");
    let mut total: i64 = 0;
    let mut ids = std::collections::BTreeSet::new();
    let mut in_order = Vec::new();
    for record in reader.records() {
        let record = record.unwrap();
        ids.insert(record[0].to_owned());
        in_order.push(record[0].to_owned());
        if &record[2] == "disburse" {
            total += record[3].parse::<i64>().unwrap();
        }
    }
    assert_eq!(
        ids.len(),
        demo_records().transfers.len(),
        "every transfer once"
    );
    let expected: i64 = demo_records()
        .transfers
        .iter()
        .filter(|t| t.kind == TransferKind::Disburse)
        .map(|t| t.amount.get())
        .sum();
    assert_eq!(total, expected);
    assert!(in_order.is_sorted(), "rows come in key order");

    // A reader that fails part way (a full disk, a closed pipe): the export says so and stops
    // reading, and the store serves the next export whole.
    struct FullAfter(usize);
    impl std::io::Write for FullAfter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if buf.len() > self.0 {
                return Err(std::io::Error::other("disk full"));
            }
            self.0 -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let failed = export::table_csv(&store, table, FullAfter(4096)).await;
    assert!(
        matches!(&failed, Err(e) if e.to_string().contains("disk full")),
        "{failed:?}"
    );
    let mut again = Vec::new();
    export::table_csv(&store, table, &mut again).await.unwrap();
    assert_eq!(again, csv_bytes);

    let xlsx = dir.path().join("transfers.xlsx");
    let rows = export::table_xlsx(&store, table, &xlsx).await.unwrap();
    assert_eq!(rows as usize, demo_records().transfers.len());
    let bytes = std::fs::read(&xlsx).unwrap();
    assert!(bytes.starts_with(b"PK"), "an XLSX file is a zip archive");

    assert!(matches!(
        export::table("nope"),
        Err(export::ExportError::UnknownTable(..))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_published_site_opens_from_disk_and_every_link_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), demo_records()).await;
    let site = dir.path().join("site");
    let published = counterpart_app::publish::publish(
        &store,
        &site,
        "2026-11-29".parse().unwrap(),
        "2026-11-29T00:00:00Z",
    )
    .await
    .unwrap();
    assert!(published.pages >= 3 + 19 + 12, "{published:?}");
    let mut pages = 0;
    let mut links = 0;
    let mut stack = vec![site.clone()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("html") => {
                pages += 1;
                let html = std::fs::read_to_string(&path).unwrap();
                assert!(!html.contains("<script"), "{}: no script", path.display());
                if path.parent() != Some(&site.join("iati")) {
                    assert!(
                        html.contains("SIMULATED"),
                        "{} says the demo is simulated",
                        path.display()
                    );
                }
                for href in html.split("href=\"").skip(1) {
                    let target = &href[..href.find('"').unwrap()];
                    assert!(
                        !target.contains("://"),
                        "{}: {target} is not relative",
                        path.display()
                    );
                    let resolved = path.parent().unwrap().join(target);
                    assert!(
                        resolved.is_file(),
                        "{}: link {target} is broken",
                        path.display()
                    );
                    links += 1;
                }
            }
            Some("json") => {
                let text = std::fs::read_to_string(&path).unwrap();
                let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert!(value["sections"].is_array(), "{}", path.display());
            }
            _ => {}
        }
    }
    assert_eq!(pages, published.pages);
    assert!(links > 300, "{links} links checked");
    let kashgar = std::fs::read_to_string(site.join("recipients/kashgar.html")).unwrap();
    assert!(kashgar.contains("Kashgar"));
    assert!(site.join("iati/shenzhen-activities.xml").is_file());
}

/// Whether a tool can run; panics when CI requires it (`var` set) and it cannot.
fn have(tool: &str, var: &str) -> bool {
    // Whether it can be started at all (pdftoppm knows no --version and exits non-zero).
    let found = std::process::Command::new(tool).arg("-v").output().is_ok();
    if !found && std::env::var_os(var).is_some() {
        panic!("{tool} is required here ({var} is set)");
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_annual_report_prints_to_pdf_pages_that_are_not_blank() {
    use counterpart_app::annual;
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), demo_records()).await;
    let y2019 = Year::new(2019).unwrap();
    let html = annual::annual(&store, y2019).await.unwrap();
    for expected in [
        "annual report 2019",
        "<svg",
        "Compliance by provider and year",
        "SIMULATED",
        "年度报告",
    ] {
        assert!(
            html.contains(expected),
            "the annual report has {expected:?}"
        );
    }
    let err = annual::annual(&store, Year::new(2030).unwrap())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not a year of the program"),
        "{err}"
    );

    let chromium =
        std::env::var("COUNTERPART_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !have(&chromium, "COUNTERPART_REQUIRE_CHROMIUM")
        || !have("pdftoppm", "COUNTERPART_REQUIRE_CHROMIUM")
    {
        eprintln!("chromium or pdftoppm missing: the PDF is not checked here");
        return;
    }
    let pdf = dir.path().join("annual.pdf");
    annual::write(&store, y2019, &pdf).await.unwrap();
    let status = std::process::Command::new("pdftoppm")
        .args(["-gray", "-r", "40"])
        .arg(&pdf)
        .arg(dir.path().join("page"))
        .status()
        .unwrap();
    assert!(status.success());
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pgm"))
        .collect();
    pages.sort();
    assert!(pages.len() >= 2, "{} pages", pages.len());
    for page in &pages {
        // A binary PGM: "P5", width, height, maxval, then one byte per pixel.
        let bytes = std::fs::read(page).unwrap();
        let mut fields = 0;
        let mut at = 0;
        while fields < 4 {
            while bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            while !bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            fields += 1;
        }
        let pixels = &bytes[at + 1..];
        let ink = pixels.iter().filter(|&&p| p < 128).count();
        assert!(
            ink * 1000 > pixels.len(),
            "{} is blank ({ink} dark pixels of {})",
            page.display(),
            pixels.len()
        );
    }
}

/// A placement round by the rules: own pairs, specialty, history, seats, availability.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_placement_round_follows_the_rules() {
    use counterpart_app::place::{self, PlaceOptions};
    use counterpart_domain::people::{Languages, Person, Post, Posting, Role};
    use counterpart_domain::{Provenance, RecordId};
    let demo = demo_records();
    let frame = Records {
        program: demo.program.clone(),
        quota_periods: demo.quota_periods.clone(),
        provider_rates: demo.provider_rates.clone(),
        regions: demo.regions.clone(),
        region_tags: demo.region_tags.clone(),
        pairs: demo.pairs.clone(),
        indicators: demo.indicators.clone(),
        facts: demo.facts.clone(),
        ..Records::default()
    };
    let id = |s: &str| RecordId::parse(s).unwrap();
    let code = |s: &str| RegionCode::parse(s).unwrap();
    let date = |s: &str| counterpart_domain::parse_date(s).unwrap();
    let person = |name: &str, provider: &str, specialty: &str| Person {
        id: id(name),
        provider: code(provider),
        home_institution: "Institution".into(),
        specialty: specialty.into(),
        title: None,
        languages: Languages::parse("zh").unwrap(),
        provenance: Provenance::Simulated,
    };
    let post = |name: &str, recipient: &str, specialty: &str, seats: u32| Post {
        id: id(name),
        recipient: code(recipient),
        host_institution: format!("Host of {name}"),
        specialty: specialty.into(),
        seats,
        languages: Languages::default(),
        provenance: Provenance::Simulated,
    };
    let posting = |name: &str, who: &str, at: &str, start: &str, end: &str| Posting {
        id: id(name),
        person: id(who),
        post: id(at),
        role: Role::Professional,
        start: date(start),
        end: date(end),
        batch: None,
        team: None,
        provenance: Provenance::Simulated,
    };
    let mut records = frame;
    records.people = vec![
        person("s1", "shanghai", "ultrasound"),
        person("s2", "shanghai", "ultrasound"),
        person("s3", "shanghai", "mathematics"),
        person("b1", "beijing", "ultrasound"),
        person("b2", "beijing", "mathematics"),
        person("c1", "beijing", "ultrasound"),
        // Speaks Uyghur, the language post b works in: b3 takes its one open seat over b1.
        Person {
            languages: Languages::parse("zh ug").unwrap(),
            ..person("b3", "beijing", "ultrasound")
        },
    ];
    records.posts = vec![
        post("a", "kashgar.shache-county", "ultrasound", 1),
        Post {
            languages: Languages::parse("ug").unwrap(),
            ..post("b", "hotan.hotan-city", "ultrasound", 2)
        },
        post("c", "kashgar.shache-county", "mathematics", 1),
    ];
    records.postings = vec![
        // s2 served at post a before: the returning expert is preferred.
        posting("p1", "s2", "a", "2018-01-01", "2018-12-31"),
        // s3 is away at post c through the round's first day, which fills it.
        posting("p2", "s3", "c", "2019-06-01", "2021-05-31"),
        // A cadre of batch 7 holds one of b's two seats until March: b has one seat open, and
        // the calendar warns that c1's seat falls vacant and batch 7 ends.
        Posting {
            role: Role::Cadre,
            batch: Some(7),
            ..posting("p3", "c1", "b", "2019-04-01", "2020-03-31")
        },
    ];
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &records).await;
    let options = PlaceOptions {
        round: Some(Year::new(2020).unwrap()),
        limit: None,
    };
    let (report, times) = place::place(&store, &options).await.unwrap();
    let value = |label: &str| number(&report, "round", label, "value") as i64;
    assert_eq!(value("people available"), 5, "s3 and c1 are away");
    assert_eq!(value("posts with open seats"), 2, "c is full");
    assert_eq!(value("open seats"), 2);
    assert_eq!(value("people placed"), 2);
    assert_eq!(
        value(
            "people without a candidate post (no open post of their specialty in their provider's pairs)"
        ),
        1,
        "b2: no mathematics post in Beijing's areas"
    );
    assert_eq!(value("seats left open"), 0);
    assert_eq!(value("people left unplaced"), 3, "s1, b1 and b2");
    assert_eq!(times.people, 4, "b2 is left out of the solver");
    let postings = report.section("postings").unwrap();
    let placed: BTreeMap<String, String> = postings
        .rows
        .iter()
        .map(|row| match (&row[0], &row[3]) {
            (Cell::Text(who), Cell::Text(at)) => (who.clone(), at.clone()),
            other => panic!("person and post are text: {other:?}"),
        })
        .collect();
    assert_eq!(
        placed,
        BTreeMap::from([("b3".into(), "b".into()), ("s2".into(), "a".into())]),
        "each to a post in their own provider's pairs; the returning expert wins post a; the \
         Uyghur speaker wins post b"
    );
    let b3 = postings
        .rows
        .iter()
        .find(|row| row[0] == Cell::text("b3"))
        .unwrap();
    // Half of b's seats are filled (+15); b3 speaks its language: no surcharge.
    assert_eq!(b3[10], Cell::Int(place::BASE + place::OCCUPANCY / 2));
    match &b3[11] {
        Cell::Text(why) => assert!(why.contains("speaks the post's language (ug)"), "{why}"),
        other => panic!("why is text: {other:?}"),
    }
    let s2 = postings
        .rows
        .iter()
        .find(|row| row[0] == Cell::text("s2"))
        .unwrap();
    assert_eq!(s2[10], Cell::Int(place::BASE - place::SAME_HOST));
    match &s2[11] {
        Cell::Text(why) => assert!(why.contains("served this host before"), "{why}"),
        other => panic!("why is text: {other:?}"),
    }
    assert!(report.notes.iter().any(|n| n.contains("simulated")));
    // The rotation calendar: c1's seat at b falls vacant on 31 March with nobody booked to
    // follow, and batch 7 ends with it; s3's posting runs past the six months.
    let calendar = report.section("calendar").unwrap();
    let warnings: Vec<(Cell, Cell)> = calendar
        .rows
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(
        warnings,
        vec![
            (Cell::text("seat falling vacant"), Cell::text("2020-03-31")),
            (
                Cell::text("cadre batch ends (1 cadre)"),
                Cell::text("2020-03-31")
            ),
        ]
    );
    assert_eq!(calendar.rows[0][6], Cell::text("c1"));
    assert_eq!(calendar.rows[0][2], Cell::Int(90), "days from 1 January");
}

/// The annual assessment: one row per pair active in the year, plus a row for what a provider
/// gave an area above its pairs' areas; the rows' money adds up to the ledger's for the year;
/// one provider's filter keeps its pairs; a year outside the program is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_annual_assessment_scores_every_pair() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), demo_records()).await;
    let year = Year::new(2019).unwrap();
    let all = report::assessment(&store, Some(year), None).await.unwrap();
    let pairs = all.section("pairs").unwrap();
    let active = demo_records()
        .pairs
        .iter()
        .filter(|p| p.active_in(year))
        .count();
    let area_wide = |r: &Vec<Cell>| matches!(&r[1], Cell::Text(t) if t.contains("area-wide"));
    assert_eq!(pairs.rows.iter().filter(|r| !area_wide(r)).count(), active);
    let column = |key: &str| pairs.columns.iter().position(|c| c.key == key).unwrap();
    let money = |row: &Vec<Cell>, key: &str| match &row[column(key)] {
        Cell::Money { fen } => *fen,
        other => panic!("{key}: {other:?}"),
    };
    let disbursed: i64 = pairs.rows.iter().map(|r| money(r, "disbursed")).sum();
    let ledger: i64 = store
        .funds(None)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.year == year && r.kind == TransferKind::Disburse)
        .map(|r| r.amount.get())
        .sum();
    assert!(ledger > 0);
    assert_eq!(
        disbursed, ledger,
        "every yuan disbursed in 2019 is in one pair's row"
    );
    // Where registered poor fell, the yuan per person is disbursed over the fall.
    let with_ratio = pairs
        .rows
        .iter()
        .find(|r| matches!(r[column("lifted")], Cell::Int(l) if l > 0) && money(r, "disbursed") > 0)
        .expect("some pair's area has fewer registered poor");
    let Cell::Int(lifted) = with_ratio[column("lifted")] else {
        unreachable!()
    };
    assert_eq!(
        money(with_ratio, "yuan_per_person"),
        money(with_ratio, "disbursed") / lifted
    );
    // Knowledge transfer: every local staff member trained in the year is in one pair's row
    // and in one host institution's row; each county pair has its hospital and school pairs.
    let count = |row: &Vec<Cell>, key: &str| match &row[column(key)] {
        Cell::Int(n) => *n as u64,
        other => panic!("{key}: {other:?}"),
    };
    let trained: u64 = demo_records()
        .trainings
        .iter()
        .filter(|t| t.year == year)
        .map(|t| t.trained)
        .sum();
    assert!(trained > 0);
    assert_eq!(
        pairs.rows.iter().map(|r| count(r, "trained")).sum::<u64>(),
        trained
    );
    let knowledge = all.section("knowledge").unwrap();
    let k_trained = knowledge
        .columns
        .iter()
        .position(|c| c.key == "trained")
        .unwrap();
    assert_eq!(
        knowledge
            .rows
            .iter()
            .map(|r| match r[k_trained] {
                Cell::Int(n) => n as u64,
                _ => 0,
            })
            .sum::<u64>(),
        trained
    );
    let with_trained = pairs
        .rows
        .iter()
        .find(|r| count(r, "trained") > 0 && money(r, "disbursed") > 0)
        .unwrap();
    assert_eq!(
        money(with_trained, "yuan_per_trained"),
        money(with_trained, "disbursed") / count(with_trained, "trained") as i64
    );
    assert!(
        pairs
            .rows
            .iter()
            .filter(|r| !area_wide(r) && count(r, "institution_pairs") >= 2)
            .count()
            > 0
    );

    let shanghai = report::assessment(&store, Some(year), Some("上海市"))
        .await
        .unwrap();
    let rows = &shanghai.section("pairs").unwrap().rows;
    assert_eq!(
        rows.iter().filter(|r| !area_wide(r)).count(),
        4,
        "Shanghai's four Kashgar counties"
    );
    assert!(rows.iter().all(|r| r[0] == Cell::text("Shanghai 上海市")));
    assert!(
        report::assessment(&store, Some(Year::new(2035).unwrap()), None)
            .await
            .is_err()
    );
    let latest = report::assessment(&store, None, None).await.unwrap();
    let last = demo_records().program.as_ref().unwrap().last_year;
    assert_eq!(
        latest.title,
        format!("Annual assessment {last}"),
        "the program's last year by default"
    );
}

/// The rules of people and results on import: terms by role, the medical-team rule, project
/// steps in order ending at the status, institution pairs under a county pair — each refusal
/// names file, line and column, and nothing is written. People without the newer columns
/// (title, languages) still import.
#[tokio::test]
async fn people_and_steps_follow_the_rules_on_import() {
    let people = "id,provider,home_institution,specialty,provenance,source,confidence\n\
                  d1,shanghai,Ruijin Hospital,ultrasound,recorded,,\n";
    let titled = |titles: &[&str]| {
        let mut csv = String::from(
            "id,provider,home_institution,specialty,title,languages,provenance,source,confidence\n",
        );
        for (i, t) in titles.iter().enumerate() {
            csv += &format!("m{i},shanghai,Ruijin Hospital,paediatrics,{t},zh ug,recorded,,\n");
        }
        csv
    };
    let posts = "id,recipient,host_institution,specialty,seats,provenance,source,confidence\n\
                 h1,kashgar.shache-county,Shache People's Hospital,ultrasound,6,recorded,,\n\
                 h2,kashgar.shache-county,Shache No. 2 Hospital,ultrasound,6,recorded,,\n";
    let postings_header =
        "id,person,post,role,start_date,end_date,batch,team,provenance,source,confidence\n";
    // A professional for three months; a cadre without a batch.
    refused(
        &[
            ("people.csv", people.as_bytes().to_vec()),
            ("posts.csv", posts.as_bytes().to_vec()),
            (
                "postings.csv",
                format!(
                    "{postings_header}\
                     x1,d1,h1,professional,2017-03-01,2017-05-31,,,recorded,,\n\
                     x2,d1,h1,cadre,2017-03-01,2020-02-28,,,recorded,,\n"
                )
                .into_bytes(),
            ),
        ],
        &[
            "postings.csv:2: column end_date: a professional serves 6 to 18 months",
            "postings.csv:3: column batch: a cadre posting belongs to a numbered batch",
        ],
    )
    .await;
    // A medical team of five, one of them intermediate and one at another hospital; then all
    // at one hospital, still one senior short.
    let team: String = (0..5)
        .map(|i| {
            let post = if i == 4 { "h2" } else { "h1" };
            format!("t{i},m{i},{post},professional,2017-03-01,2017-08-31,,team.1,recorded,,\n")
        })
        .collect();
    let titles = titled(&[
        "senior",
        "associate_senior",
        "senior",
        "intermediate",
        "senior",
    ]);
    for (team, expected) in [
        (
            team.clone(),
            "postings.csv:2: column team: team team.1: a medical team serves at one hospital",
        ),
        (team.replace(",h2,", ",h1,"), "this one has 4"),
    ] {
        refused(
            &[
                ("people.csv", titles.clone().into_bytes()),
                ("posts.csv", posts.as_bytes().to_vec()),
                (
                    "postings.csv",
                    format!("{postings_header}{team}").into_bytes(),
                ),
            ],
            &[expected],
        )
        .await;
    }
    // Steps out of order and not ending at the project's status; an institution pair with
    // an area its provider is not paired with.
    let project = project_row("p1", "shanghai", "kashgar.shache-county", "100");
    refused(
        &[
            ("projects.csv", projects_csv(&[project])),
            (
                "project_steps.csv",
                b"project,status,date,provenance,source,confidence\n\
                  p1,approved,2015-02-01,recorded,,\n\
                  p1,completed,2015-03-01,recorded,,\n"
                    .to_vec(),
            ),
            (
                "institution_pairs.csv",
                b"id,provider,provider_institution,recipient,host_institution,kind,first_year,last_year,provenance,source,confidence\n\
                  i1,shanghai,Ruijin Hospital,hotan.lop-county,Lop People's Hospital,hospital,2015,,recorded,,\n"
                    .to_vec(),
            ),
        ],
        &[
            "project_steps.csv:3: column status: p1: after approved on 2015-02-01, a project approved goes to under_construction or cancelled next, not completed",
            "project_steps.csv:3: column status: p1: the latest step is completed, but the project's status is approved",
            "institution_pairs.csv:2: column recipient: an institution pair sits under a county pair",
        ],
    )
    .await;
}
