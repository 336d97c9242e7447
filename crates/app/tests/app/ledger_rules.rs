//! The ledger through the store: verify and tampering, every posting rule on both backends,
//! concurrent offices, two-phase transfers, the in-memory model, and immutable money rows.

use super::*;

/// The demo ledger verifies; an amount changed or an entry deleted behind the app's back (raw
/// SQL, triggers dropped) makes verify fail naming what broke.
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

    // A cached balance edited: verify names the account, the field and both figures.
    let account = "source.shanghai.2011";
    sqlx::query("UPDATE accounts SET debits_pending = debits_pending + 7 WHERE id = ?")
        .bind(account)
        .execute(&raw)
        .await
        .unwrap();
    let err = counterpart_app::ledger::verify(&store)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "account {account}: cached debits_pending is 7 fen, the journal says 0 fen"
        )),
        "{err}"
    );
    sqlx::query("UPDATE accounts SET debits_pending = debits_pending - 7 WHERE id = ?")
        .bind(account)
        .execute(&raw)
        .await
        .unwrap();

    // Two entries of one office stored the other way round (their transfers' keys swapped):
    // the journal is read in stored order, this office again in sequence order, and the
    // chain holds.
    use sqlx::Connection as _;
    let mut keys = sqlx::SqliteConnection::connect_with(
        &sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .foreign_keys(false),
    )
    .await
    .unwrap();
    sqlx::query("DROP TRIGGER journal_no_update")
        .execute(&mut keys)
        .await
        .unwrap();
    let (a, b): (i64, i64) =
        sqlx::query_as("SELECT min(transfer), max(transfer) FROM journal WHERE office = 'beijing'")
            .fetch_one(&mut keys)
            .await
            .unwrap();
    let swap = |from: i64, to: i64| {
        [
            format!("UPDATE journal SET transfer = {to} WHERE transfer = {from}"),
            format!("UPDATE transfers SET n = {to} WHERE n = {from}"),
        ]
    };
    for sql in [swap(a, -1), swap(b, a), swap(-1, b)].concat() {
        sqlx::query(&sql).execute(&mut keys).await.unwrap();
    }
    let verified = counterpart_app::ledger::verify(&store).await.unwrap();
    assert_eq!(verified.chains, 19);
    assert_eq!(verified.transfers, demo_records().transfers.len());
    // Run `breaks`, return what verify says of it, run `mends`, and check verify passes again.
    async fn caught(
        store: &SqliteStore,
        keys: &mut sqlx::SqliteConnection,
        breaks: String,
        mends: String,
    ) -> String {
        sqlx::query(&breaks).execute(&mut *keys).await.unwrap();
        let err = counterpart_app::ledger::verify(store)
            .await
            .unwrap_err()
            .to_string();
        sqlx::query(&mends).execute(&mut *keys).await.unwrap();
        counterpart_app::ledger::verify(store).await.unwrap();
        err
    }
    // Read that way, an edit is still caught.
    let err = caught(
        &store,
        &mut keys,
        format!("UPDATE journal SET sequence = sequence + 1 WHERE transfer = {a}"),
        format!("UPDATE journal SET sequence = sequence - 1 WHERE transfer = {a}"),
    )
    .await;
    assert!(err.contains("the chain of beijing breaks"), "{err}");
    // An entry pointed at an account that does not exist.
    let debit: i64 = sqlx::query_scalar(&format!("SELECT debit FROM journal WHERE transfer = {a}"))
        .fetch_one(&mut keys)
        .await
        .unwrap();
    let err = caught(
        &store,
        &mut keys,
        format!("UPDATE journal SET debit = 999999999 WHERE transfer = {a}"),
        format!("UPDATE journal SET debit = {debit} WHERE transfer = {a}"),
    )
    .await;
    assert!(
        err.contains("names an account that does not exist"),
        "{err}"
    );
    keys.close().await.unwrap();

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
        &["transfers.csv:3: column amount_fen: account p1.committed would be overdrawn: 10.00 yuan available, \
           12.00 yuan asked (overdraft)"],
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

/// A scripted sequence of postings on SQLite and PostgreSQL: each ledger rule (overdraft,
/// retries, two-phase, reversal once, closed years) answers as it should, and verify holds.
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

/// 19 offices × 4 writers post at once while readers verify snapshots, and 100 submissions of
/// one id race: every acknowledged posting is stored, the retried id has one effect.
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
    // A cached balance edited: named from PostgreSQL's per-account sums.
    let account = "UPDATE accounts SET credits_posted = credits_posted + $1 WHERE id = 'p.shanghai.0.committed'";
    sqlx::query(account)
        .bind(5i64)
        .execute(&owner)
        .await
        .unwrap();
    let e = counterpart_app::ledger::verify(store.as_ref())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "account p.shanghai.0.committed: cached credits_posted is 1005 fen, the journal says 1000 fen"
    );
    sqlx::query(account)
        .bind(-5i64)
        .execute(&owner)
        .await
        .unwrap();
    counterpart_app::ledger::verify(store.as_ref())
        .await
        .unwrap();
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
