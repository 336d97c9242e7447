//! Reports from the demo: the summary against the published figures, quotas, scorecards,
//! compliance, the assessment, tables, the published site and the annual PDF.

use super::*;
use counterpart_app::lang::{Lang, Voice};

/// The demo's summary against the published figures: funds, projects, livelihood share and
/// people posted within their tolerances, each figure labelled with its provenance.
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

/// Each provider-year's quota follows the program's rule from fiscal revenue (Shenzhen out of
/// Guangdong's base); delivery stays close to quota; the records are labelled simulated.
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
    // A misspelling, not a prefix: suggested by edit distance.
    assert!(err.contains("did you mean Shanghai (shanghai)"), "{err}");
    let err = report::provider(&store, "Shangai", None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("did you mean Shanghai (shanghai)"), "{err}");
    let err = report::recipient(&store, "Kashg", None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("did you mean Kashgar"), "{err}");
}

// ---- bad input ------------------------------------------------------------------------------

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

/// Compliance: one row per provider-year, findings exactly where arrears or shares fall
/// short, and mid-year (--as-of) the pace projected from money so far.
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

/// The transfers table streamed as CSV (every row, key order, totals match) and XLSX; a writer
/// failing part way stops the export cleanly and the next export is whole.
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

/// The published site: every page opens from disk without script, every link resolves to a
/// written file, and each page's JSON and CSV are there.
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
    assert!(published.pages >= 2 * (3 + 19 + 12), "{published:?}");
    let ctx = report::Context::load(&store).await.unwrap();
    let names = counterpart_app::lang::Names::of(&ctx.tree, Some(&ctx.program));
    use counterpart_app::lang::untranslated;
    let mut zh_pages = 0;
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
                        html.contains("SIMULATED") || html.contains("模拟"),
                        "{} says the demo is simulated",
                        path.display()
                    );
                }
                // The Chinese site: no English word or raw code outside the records' own
                // words (marked lang="en").
                if path.starts_with(site.join("zh")) {
                    zh_pages += 1;
                    let body = &html[html.find("<body").unwrap()..];
                    let left = untranslated(&super::language::strip_tags(body), &names);
                    assert!(
                        left.is_empty(),
                        "{}: English left: {left:?}",
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
    assert_eq!(
        zh_pages,
        (published.pages - 1) / 2,
        "every page has its Chinese one"
    );
    assert!(links > 300, "{links} links checked");
    let kashgar = std::fs::read_to_string(site.join("recipients/kashgar.html")).unwrap();
    assert!(kashgar.contains("Kashgar"));
    assert!(site.join("iati/shenzhen-activities.xml").is_file());
}

/// The annual report printed to PDF by headless Chromium: at least two pages, each rendered
/// (pdftoppm) with enough ink not to be blank.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_annual_report_prints_to_pdf_pages_that_are_not_blank() {
    use counterpart_app::annual;
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), demo_records()).await;
    let y2019 = Year::new(2019).unwrap();
    let html = annual::annual(&store, y2019, Lang::En).await.unwrap();
    for expected in [
        "annual report 2019",
        "<svg",
        "Compliance by provider and year",
        "SIMULATED",
        "size:A4 landscape",
    ] {
        assert!(
            html.contains(expected),
            "the annual report has {expected:?}"
        );
    }
    let err = annual::annual(&store, Year::new(2030).unwrap(), Lang::En)
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
    annual::write(&store, y2019, Lang::Zh, &pdf).await.unwrap();
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

/// The `<circle>` marks of an SVG chart, grouped by fill colour in the order they appear, each
/// as (cx, cy).
fn circles_by_colour(svg: &str) -> Vec<(String, Vec<(f64, f64)>)> {
    let attr = |tag: &str, name: &str| -> String {
        let start = tag.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
        tag[start..].split('"').next().unwrap().to_owned()
    };
    let mut groups: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for tag in svg.split('<').filter(|t| t.starts_with("circle ")) {
        let fill = attr(tag, "fill");
        let point = (
            attr(tag, "cx").parse().unwrap(),
            attr(tag, "cy").parse().unwrap(),
        );
        match groups.iter_mut().find(|g| g.0 == fill) {
            Some(group) => group.1.push(point),
            None => groups.push((fill, vec![point])),
        }
    }
    groups
}

/// The outcomes chart draws each target's series as the reports compute it (summed from the
/// counties when the prefecture has no value of its own): one dot per observed year, later
/// years to the right, larger values higher. While a target is still open its trend to the
/// deadline is drawn dashed; once met, not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outcomes_chart_draws_every_target_series() {
    use counterpart_app::annual;
    for open in [false, true] {
        let mut records = demo_records().clone();
        if open {
            // Observations stop in 2018, before any prefecture reached its target of 0.
            records.indicators.retain(|v| v.year.get() <= 2018);
        }
        let dir = tempfile::tempdir().unwrap();
        let store = store_with(dir.path(), &records).await;
        let ctx = report::Context::load(&store).await.unwrap();
        let (svg, caption, simulated) = annual::targets_chart(&store, 900, Lang::En)
            .await
            .unwrap()
            .expect("the demo has targets");
        assert!(simulated, "the demo's series are simulated");
        let targets: Vec<_> = ctx.frame.targets.iter().take(4).collect();
        assert_eq!(targets.len(), 4, "{caption}");
        let groups = circles_by_colour(&svg);
        assert_eq!(groups.len(), targets.len(), "one series per target: {svg}");
        let mut marks = Vec::new();
        for ((colour, points), target) in groups.iter().zip(&targets) {
            let series = report::target_series(&ctx, target);
            assert!(series.len() >= 5, "{}: {series:?}", target.region);
            assert_eq!(
                points.len(),
                series.len(),
                "{}: a dot per year",
                target.region
            );
            assert!(
                points.windows(2).all(|w| w[0].0 < w[1].0),
                "{colour}: {points:?}"
            );
            marks.extend(points.iter().zip(&series).map(|(p, s)| (p.1, s.1)));
            let dashed = svg
                .matches(&format!("stroke=\"{colour}\" stroke-width=\"1\""))
                .count();
            if open {
                assert!(
                    dashed > 0,
                    "{}: the open target's trend is drawn",
                    target.region
                );
            } else {
                assert_eq!(dashed, 0, "{}: a met target has no trend", target.region);
            }
        }
        // Across all series, the height of each dot follows its value (to the pixel), and the
        // values span the plot.
        for a in &marks {
            for b in &marks {
                if a.1 > b.1 {
                    assert!(
                        a.0 <= b.0,
                        "value {} below {} on the chart: {a:?} {b:?}",
                        a.1,
                        b.1
                    );
                }
            }
        }
        let heights = marks.iter().map(|m| m.0);
        let span = heights.clone().fold(f64::MIN, f64::max) - heights.fold(f64::MAX, f64::min);
        assert!(span > 150.0, "the dots span {span} px of a 340 px chart");
        assert!(
            caption.contains("registered poor (target 0 by 2020-12-31)"),
            "{caption}"
        );
    }
}

/// The scorecard's chart of quota, committed and delivered money by year: one bar per year
/// and series, each as tall as its figure in the report's table (to the pixel).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scorecard_chart_draws_the_quota_and_the_money_of_each_year() {
    use counterpart_app::annual;
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), demo_records()).await;
    let scorecard = report::provider(&store, "shanghai", None).await.unwrap();
    let (svg, simulated) = annual::years_chart(&scorecard, 900, &Voice::english())
        .unwrap()
        .expect("Shanghai's scorecard has money by year");
    assert!(simulated, "the demo's money is simulated");
    let years = scorecard.section("years").unwrap();
    let attr = |tag: &str, name: &str| -> f64 {
        let start = tag.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
        tag[start..].split('"').next().unwrap().parse().unwrap()
    };
    // (series, its colour on every chart)
    for (key, fill) in [
        ("quota", "#78909C"),
        ("committed", "#FF8F00"),
        ("delivered", "#00796B"),
    ] {
        let c = years.columns.iter().position(|c| c.key == key).unwrap();
        let values: Vec<f64> = years
            .rows
            .iter()
            .map(|row| match row[c] {
                Cell::Money { fen } => fen as f64,
                _ => 0.0,
            })
            .collect();
        // Bars in year order, then the legend's swatch (10 px wide).
        let heights: Vec<f64> = svg
            .split('<')
            .filter(|t| t.starts_with("rect ") && t.contains(&format!("fill=\"{fill}\"")))
            .filter(|t| attr(t, "width") > 10.0)
            .map(|t| attr(t, "height"))
            .collect();
        assert_eq!(heights.len(), values.len(), "{key}: a bar per year");
        let top = values.iter().copied().fold(0.0, f64::max);
        let tallest = heights.iter().copied().fold(0.0, f64::max);
        assert!(
            top > 0.0 && tallest > 100.0,
            "{key}: {values:?} {heights:?}"
        );
        for (h, v) in heights.iter().zip(&values) {
            let expected = v / top * tallest;
            assert!(
                (h - expected).abs() <= 1.5,
                "{key}: {v} drawn {h} px, not {expected}"
            );
        }
    }
}
