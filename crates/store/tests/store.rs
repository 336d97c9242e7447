//! The SQLite store against a real file: records round-trip, writes are all or nothing, and
//! money rows cannot be changed.

use counterpart_domain::fact::Fact;
use counterpart_domain::ledger::Ledger;
use counterpart_domain::pair::Pair;
use counterpart_domain::program::Program;
use counterpart_domain::project::{
    Category, Outputs, Project, ProjectStatus, Transfer, TransferKind,
};
use counterpart_domain::records::Records;
use counterpart_domain::region::Region;
use counterpart_domain::{
    Confidence, Currency, Fen, Provenance, RecordId, RegionCode, RegionKind, Share, Year,
};
use counterpart_store::{Booking, PgStore, SqliteStore, Store, StoreError};

fn code(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap()
}

fn region(c: &str, parent: Option<&str>, kind: RegionKind) -> Region {
    Region {
        code: code(c),
        parent: parent.map(code),
        kind,
        name_en: c.into(),
        name_zh: "区".into(),
        admin_code: None,
    }
}

fn small() -> Records {
    let year = Year::new(2015).unwrap();
    let project = Project {
        id: RecordId::parse("p1").unwrap(),
        provider: code("shanghai"),
        recipient: code("kashgar.shache"),
        category: Category::Housing,
        status: ProjectStatus::HandedOver,
        title_en: "Housing".into(),
        title_zh: "安居房".into(),
        year,
        budget: Fen::new(500),
        outputs: Outputs {
            housing_units: 3,
            ..Outputs::default()
        },
        provenance: Provenance::Recorded,
    };
    let transfer = |id: &str, kind| Transfer {
        id: RecordId::parse(id).unwrap(),
        project: project.id.clone(),
        kind,
        amount: Fen::new(500),
        currency: Currency::CNY,
        value_date: "2015-04-01".parse().unwrap(),
        corrects: None,
        phase: counterpart_domain::ledger::Phase::Single,
        provenance: Provenance::Recorded,
    };
    Records {
        program: Some(Program {
            code: RecordId::parse("test").unwrap(),
            name_en: "Test".into(),
            name_zh: "测试".into(),
            currency: Currency::CNY,
            first_year: year,
            last_year: year,
            livelihood_share_min: Share::parse("70%").unwrap(),
            county_level_share_min: Share::parse("80%").unwrap(),
            rules_source: "test".into(),
        }),
        regions: vec![
            region("kashgar", None, RegionKind::Prefecture),
            region("kashgar.shache", Some("kashgar"), RegionKind::County),
            region("shanghai", None, RegionKind::Municipality),
        ],
        pairs: vec![Pair {
            provider: code("shanghai"),
            recipient: code("kashgar.shache"),
            first_year: year,
            last_year: None,
            provenance: Provenance::Published {
                source: "table".into(),
                confidence: Confidence::Verified,
            },
            note: String::new(),
        }],
        facts: vec![Fact {
            key: "k".into(),
            value: "1".into(),
            unit: String::new(),
            period: String::new(),
            confidence: Confidence::Low,
            source: "s".into(),
            note: String::new(),
        }],
        transfers: vec![
            transfer("t1", TransferKind::Commit),
            transfer("t2", TransferKind::Disburse),
        ],
        projects: vec![project],
        ..Records::default()
    }
}

/// A fresh, empty database of one backend.
enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres { url: String, schema: String },
}

impl Backend {
    /// SQLite always; PostgreSQL when `COUNTERPART_TEST_PG` names a server (CI sets it).
    fn all() -> Vec<Backend> {
        let mut backends = vec![Backend::Sqlite(tempfile::tempdir().unwrap())];
        match std::env::var("COUNTERPART_TEST_PG") {
            Ok(url) if !url.is_empty() => {
                static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let schema = format!("store_test_{}_{n}", std::process::id());
                backends.push(Backend::Postgres { url, schema });
            }
            _ => eprintln!("COUNTERPART_TEST_PG is not set: PostgreSQL skipped"),
        }
        backends
    }

    async fn open(&self) -> Box<dyn Store> {
        match self {
            Backend::Sqlite(dir) => {
                Box::new(SqliteStore::open(&dir.path().join("a.db")).await.unwrap())
            }
            Backend::Postgres { url, schema } => {
                let admin = sqlx::PgPool::connect(url).await.unwrap();
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&admin)
                    .await
                    .unwrap();
                Box::new(PgStore::connect_in_schema(url, schema).await.unwrap())
            }
        }
    }

    /// Run one statement outside the store, as a user with a database client would.
    async fn raw(&self, sql: &str) -> Result<(), String> {
        match self {
            Backend::Sqlite(dir) => {
                let url = format!("sqlite://{}", dir.path().join("a.db").display());
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                sqlx::query(sql)
                    .execute(&pool)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            Backend::Postgres { url, schema } => {
                let options = url
                    .parse::<sqlx::postgres::PgConnectOptions>()
                    .unwrap()
                    .options([("search_path", schema.as_str())]);
                let pool = sqlx::PgPool::connect_with(options).await.unwrap();
                sqlx::query(sql)
                    .execute(&pool)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// Drop what the backend made (the SQLite directory goes with its `TempDir`).
    async fn cleanup(self) {
        if let Backend::Postgres { url, schema } = &self {
            let admin = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&admin)
                .await
                .unwrap();
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }
}

/// The ledger of `records`' transfers, booked from scratch.
fn booked(records: &Records) -> Ledger {
    let mut ledger = Ledger::default();
    let providers: std::collections::HashMap<_, _> = records
        .projects
        .iter()
        .map(|p| (p.id.clone(), p.provider.clone()))
        .collect();
    ledger
        .book(&records.transfers, |p| {
            providers.get(p).map(|o| (o.clone(), Currency::CNY))
        })
        .unwrap();
    ledger
}

#[test]
fn ordered_accounts_place_each_entry_among_the_moved_ones() {
    let records = small();
    let ledger = booked(&records);
    let booking = Booking {
        ledger: &ledger,
        journal_from: 0,
    };
    let ordered = booking.ordered().unwrap();
    assert_eq!(
        (ordered.moved.clone(), ordered.opened.clone()),
        booking.accounts()
    );
    assert!(ordered.moved.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(ordered.positions.len(), booking.new_entries().len());
    assert!(!booking.new_entries().is_empty());
    for (r, [debit, credit]) in booking.new_entries().iter().zip(&ordered.positions) {
        assert_eq!(ordered.moved[*debit as usize].id, r.entry.debit);
        assert_eq!(ordered.moved[*credit as usize].id, r.entry.credit);
    }
}

#[tokio::test]
async fn records_round_trip_and_sums_group_them() {
    for backend in Backend::all() {
        let store = backend.open().await;
        let records = small();
        let ledger = booked(&records);
        let booking = Booking {
            ledger: &ledger,
            journal_from: 0,
        };
        let progress = std::sync::Mutex::new(Vec::new());
        store
            .load(&records, &booking, None, &|n| {
                progress.lock().unwrap().push(n)
            })
            .await
            .unwrap();
        assert_eq!(
            *progress.lock().unwrap().last().unwrap(),
            records.len() + booking.len(),
            "{}: progress counts every row",
            backend.name()
        );
        assert_eq!(
            store.records().await.unwrap(),
            records,
            "{}",
            backend.name()
        );
        let funds = store.funds(None).await.unwrap();
        assert_eq!(funds.len(), 2);
        assert!(
            funds
                .iter()
                .all(|f| f.amount == Fen::new(500) && !f.simulated && f.year.get() == 2015)
        );
        let keys = store.keys().await.unwrap();
        assert!(
            keys["pairs"].contains("shanghai|kashgar.shache|2015"),
            "{}: {:?}",
            backend.name(),
            keys["pairs"]
        );
        assert!(keys["projects"].contains("p1"));
        let people = store
            .people_posted(&counterpart_store::PeopleScope::Recipients(vec![]))
            .await
            .unwrap();
        assert_eq!(people.people, 0);
        backend.cleanup().await;
    }
}

#[tokio::test]
async fn a_failed_load_leaves_nothing_behind() {
    for backend in Backend::all() {
        let store = backend.open().await;
        let mut records = small();
        // The transfer names a project that is not there: the foreign key fails on the last table.
        records.transfers[1].project = RecordId::parse("missing").unwrap();
        let ledger = booked(&small());
        let booking = Booking {
            ledger: &ledger,
            journal_from: 0,
        };
        let err = store
            .load(&records, &booking, None, &|_| {})
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Database(_) | StoreError::Sqlite(_)),
            "{}: {err}",
            backend.name()
        );
        assert_eq!(
            store.records().await.unwrap(),
            Records::default(),
            "{}",
            backend.name()
        );
        backend.cleanup().await;
    }
}

#[tokio::test]
async fn transfers_cannot_be_updated_or_deleted() {
    for backend in Backend::all() {
        let store = backend.open().await;
        let ledger = booked(&small());
        store
            .load(
                &small(),
                &Booking {
                    ledger: &ledger,
                    journal_from: 0,
                },
                None,
                &|_| {},
            )
            .await
            .unwrap();
        assert_eq!(
            store.ledger().await.unwrap().journal,
            ledger.journal,
            "{}: the journal round-trips",
            backend.name()
        );
        for sql in [
            "UPDATE transfers SET amount_fen = 1 WHERE id = 't1'",
            "DELETE FROM transfers WHERE id = 't1'",
            "UPDATE journal SET sequence = sequence + 1 \
             WHERE transfer = (SELECT n FROM transfers WHERE id = 't1')",
            "DELETE FROM journal WHERE transfer = (SELECT n FROM transfers WHERE id = 't1')",
        ] {
            let err = backend.raw(sql).await.unwrap_err();
            assert!(
                err.contains("are immutable") || err.contains("is immutable"),
                "{}: {sql}: {err}",
                backend.name()
            );
        }
        let negative = "INSERT INTO transfers (id, project, kind, amount_fen, currency, value_date, phase, provenance) \
             VALUES ('t9','p1','commit',-1,'CNY','2015-01-01','single','recorded')";
        let err = backend.raw(negative).await.unwrap_err();
        assert!(
            err.to_lowercase().contains("check constraint"),
            "{}: {err}",
            backend.name()
        );
        assert_eq!(
            store.records().await.unwrap(),
            small(),
            "{}: nothing changed",
            backend.name()
        );
        backend.cleanup().await;
    }
}

/// `n` more projects of shanghai in kashgar.shache, named `{prefix}{i}`, each with one
/// commitment of its own (`{prefix}{i}.c`).
fn projects_with_commitments(prefix: &str, n: usize) -> Records {
    let frame = small();
    let mut records = Records::default();
    for i in 0..n {
        let mut project = frame.projects[0].clone();
        project.id = RecordId::parse(&format!("{prefix}{i}")).unwrap();
        project.year = Year::new(2015 + (i % 3) as u16).unwrap();
        let mut commit = frame.transfers[0].clone();
        commit.id = RecordId::parse(&format!("{prefix}{i}.c")).unwrap();
        commit.project = project.id.clone();
        commit.kind = TransferKind::Commit;
        commit.value_date = format!("2015-{:02}-{:02}", 1 + i % 12, 1 + i % 28)
            .parse()
            .unwrap();
        records.projects.push(project);
        records.transfers.push(commit);
    }
    records
}

/// A load that more than doubles the transfers builds their secondary indexes after its rows
/// (SQLite); the database ends with the same indexes, the ledger booked in full, and a load
/// that fails after dropping them leaves them, and every row, as they were.
#[tokio::test]
async fn a_large_load_rebuilds_its_indexes_and_a_failed_one_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let raw = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let indexes = || async {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'index' \
             AND tbl_name IN ('transfers', 'projects') ORDER BY name",
        )
        .fetch_all(&raw)
        .await
        .unwrap();
        names
    };
    let count = |table: &'static str| {
        let raw = raw.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {table}"))
                .fetch_one(&raw)
                .await
                .unwrap()
        }
    };
    let before = indexes().await;
    assert!(
        before.contains(&"transfers_value_date_id".to_string())
            && before.contains(&"projects_year_id".to_string()),
        "{before:?}"
    );
    let shanghai = |_: &RecordId| Some((code("shanghai"), Currency::CNY));

    let mut first = small();
    let more = projects_with_commitments("q", 12_000);
    first.projects.extend(more.projects);
    first.transfers.extend(more.transfers);
    let mut ledger = Ledger::default();
    let from = ledger.book(&first.transfers, shanghai).unwrap();
    let booking = Booking {
        ledger: &ledger,
        journal_from: from,
    };
    store.load(&first, &booking, None, &|_| {}).await.unwrap();
    let (projects, transfers) = (first.projects.len() as i64, first.transfers.len() as i64);
    assert_eq!(indexes().await, before, "the indexes are built again");
    assert_eq!(count("transfers").await, transfers);
    assert_eq!(store.ledger().await.unwrap().journal, ledger.journal);
    // The rebuilt browse index answers in its order: the latest value date first.
    let latest: String = sqlx::query_scalar(
        "SELECT id FROM transfers INDEXED BY transfers_value_date_id \
         ORDER BY value_date DESC, id LIMIT 1",
    )
    .fetch_one(&raw)
    .await
    .unwrap();
    let expected = first
        .transfers
        .iter()
        .map(|t| (std::cmp::Reverse(t.value_date), t.id.as_str()))
        .min()
        .unwrap()
        .1;
    assert_eq!(latest, expected, "the latest value date first, then by id");

    // A second load as large again, whose last transfer names a project that is not there:
    // the foreign key fails after the indexes were dropped; the transaction takes it all back.
    let mut second = projects_with_commitments("r", 13_000);
    let mut ledger = store.ledger().await.unwrap();
    let from = ledger.book(&second.transfers, shanghai).unwrap();
    second.transfers.last_mut().unwrap().project = RecordId::parse("missing").unwrap();
    let booking = Booking {
        ledger: &ledger,
        journal_from: from,
    };
    let err = store
        .load(&second, &booking, None, &|_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Sqlite(_)), "{err}");
    assert_eq!(indexes().await, before, "the failed load keeps the indexes");
    assert_eq!(count("transfers").await, transfers);
    assert_eq!(count("projects").await, projects);
    assert_eq!(count("journal").await, transfers);
    store.close().await.unwrap();
}
