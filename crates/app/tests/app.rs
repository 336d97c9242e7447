//! Use cases end to end over a real SQLite file: the demo's calibration, determinism, the
//! import round trip, and bad input that must leave the database byte-for-byte unchanged.

// A scenario reads top to bottom; the 120-line limit on functions is for the product code.
#![allow(clippy::too_many_lines)]

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

#[path = "app/iati_files.rs"]
mod iati_files;
#[path = "app/imports.rs"]
mod imports;
#[path = "app/language.rs"]
mod language;
#[path = "app/ledger_rules.rs"]
mod ledger_rules;
#[path = "app/pairing.rs"]
mod pairing;
#[path = "app/placement.rs"]
mod placement;
#[path = "app/reports.rs"]
mod reports;
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

/// Whether a tool can run; panics when CI requires it (`var` set) and it cannot.
fn have(tool: &str, var: &str) -> bool {
    // Whether it can be started at all (pdftoppm knows no --version and exits non-zero).
    let found = std::process::Command::new(tool).arg("-v").output().is_ok();
    if !found && std::env::var_os(var).is_some() {
        panic!("{tool} is required here ({var} is set)");
    }
    found
}
