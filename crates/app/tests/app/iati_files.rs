//! IATI 2.03: the export is schema-valid and adds up; the round trip gives the same reports.

use super::*;

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

/// The demo exported as IATI: every file passes xmllint against the 2.03 schemas and the rules,
/// activities and transactions count the projects and transfers, and quotas match the report.
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

/// Planted faults in IATI files (schema order, overspending, bad codes) are each refused with
/// file, line and element, leaving the database unchanged; the good files re-import the same.
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
