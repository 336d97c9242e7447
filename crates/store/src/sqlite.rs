//! The embedded default: one SQLite file, WAL, `synchronous=FULL`, writes under `BEGIN IMMEDIATE`.
//!
//! Postings and reads go through sqlx (the shared [`crate::sql::Backend`] code). Writers of one process take turns on an
//! in-process queue instead of sleeping in the busy handler.
//!
//! A bulk load ([`crate::Store::load`], `load_booking`) runs on a rusqlite connection kept for
//! loads (taken with the writers' turn, on the calling thread by `block_in_place`). It uses one
//! prepared statement per table, and each row is encoded as it is bound. The steps, all in one
//! transaction (`write_load`):
//! 1. the records' rows, the transfers in journal order, so that the journal (keyed by the
//!    transfer's integer key) grows at its end;
//! 2. the booking, which may still be running on another thread (`Held::Later`): a failed
//!    booking writes nothing;
//! 3. the chain heads checked unmoved since the booking read them (else `ledger_changed`);
//! 4. the secondary indexes of a table the load more than doubles, dropped before the rows and
//!    rebuilt now, while another thread orders the accounts and finds each entry's two;
//! 5. the accounts (new ones inserted, stored ones updated), the journal, the heads and the
//!    audit line.
//!
//! Streamed reads use a read-only rusqlite connection of their own on a blocking thread, which
//! passes rows over in batches: sqlx's driver would hand each row across threads.

use crate::StoreError;
use crate::sql::Backend;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct SqliteStore {
    pool: SqlitePool,
    /// The file, for the long reads of exports (`scan_rows`).
    path: PathBuf,
    /// SQLite has one writer at a time; writers of this process queue here, in order, instead
    /// of polling the file lock with the busy handler's growing sleeps. The queue also keeps
    /// the connection that loads write through (rusqlite, opened on the first load).
    writer: tokio::sync::Mutex<Option<rusqlite::Connection>>,
}

impl SqliteStore {
    /// Open the database file, creating it (and its schema) when missing.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Bulk imports touch B-trees far beyond SQLite's 2 MiB default page cache.
            .pragma("cache_size", "-262144")
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqliteStore {
            pool,
            path: path.to_path_buf(),
            writer: tokio::sync::Mutex::new(None),
        })
    }

    /// Fold the WAL back into the main file, then close every connection, so that the file
    /// alone holds the database when this returns.
    pub async fn close(self) -> Result<(), StoreError> {
        let SqliteStore { pool, writer, .. } = self;
        drop(writer.into_inner());
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&pool)
            .await?;
        pool.close().await;
        Ok(())
    }
}

impl Backend for SqliteStore {
    type Db = sqlx::Sqlite;
    const BEGIN: &'static str = "BEGIN IMMEDIATE";
    const READ: &'static str = "BEGIN";
    const LOCK: &'static str = "";
    type Turn<'a> = tokio::sync::MutexGuard<'a, Option<rusqlite::Connection>>;

    fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn write_turn(&self) -> Self::Turn<'_> {
        self.writer.lock().await
    }

    async fn fetch_built(
        query: &mut sqlx::QueryBuilder<'_, sqlx::Sqlite>,
        on: &mut sqlx::SqliteConnection,
    ) -> Result<Vec<sqlx::sqlite::SqliteRow>, sqlx::Error> {
        query.build().fetch_all(on).await
    }

    /// [`crate::Store::load`] on SQLite: every row through prepared statements of a rusqlite
    /// connection, one `BEGIN IMMEDIATE` transaction. Through sqlx (multi-row statements
    /// handed to its worker thread, each bound value copied) a million transfers took twice
    /// as long (bench/bulk-import.sh).
    async fn load_rows(
        &self,
        records: &counterpart_domain::records::Records,
        booking: &crate::Booking<'_>,
        audit: Option<&crate::AuditEntry>,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<(), StoreError> {
        let order = journal_order(records, booking)?;
        self.write(records, &order, Held::Ready(booking), audit, progress)
            .await
            .map(|_| ())
    }

    /// [`crate::Store::load_booking`] on SQLite: the records' rows are written while the
    /// booking is made on another thread; the ledger's rows once it is handed over.
    async fn load_booking_rows(
        &self,
        records: &counterpart_domain::records::Records,
        order: &[usize],
        booking: crate::Pending<'_>,
        audit: Option<&crate::AuditEntry>,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<bool, StoreError> {
        self.write(records, order, Held::Later(booking), audit, progress)
            .await
    }

    /// [`crate::Store::recheck`] on SQLite: two read-only rusqlite connections of their own,
    /// each on a blocking thread, in one snapshot, hand the rows over decoded, in batches,
    /// while the receiver checks the ones before. The first runs every read; the second
    /// gathers the account ids meanwhile, and both then read the journal (most of the work)
    /// in ranges of transfer keys, each taking the next range when it is free: reading and
    /// checking share both cores.
    ///
    /// Both take their snapshot while this process holds the writers' turn and the database's
    /// write lock (`BEGIN IMMEDIATE`, released as soon as both have begun): no commit falls
    /// between them.
    async fn recheck(&self, scan: &mut dyn crate::LedgerScan) -> Result<(), StoreError> {
        let (requests, asked) = std::sync::mpsc::channel();
        let (batches, received) = tokio::sync::mpsc::channel(8);
        let (share, shared) = std::sync::mpsc::channel();
        let (ready, readied) = std::sync::mpsc::channel::<()>();
        let mut writer = self.write_turn().await;
        let lock = crate::blocking(|| {
            let conn = match writer.take() {
                Some(conn) => conn,
                None => open_writer(&self.path)?,
            };
            match conn.execute_batch("BEGIN IMMEDIATE") {
                Ok(()) => Ok(conn),
                Err(e) => {
                    *writer = Some(conn);
                    Err(StoreError::from(e))
                }
            }
        })?;
        let (path, first_batches, first_ready) =
            (self.path.clone(), batches.clone(), ready.clone());
        let first = tokio::task::spawn_blocking(move || {
            let served = serve_recheck(&path, first_ready, &asked, &shared, &first_batches);
            if let Err(e) = served {
                let _ = first_batches.blocking_send(Err(e));
            }
        });
        let path = self.path.clone();
        let second = tokio::task::spawn_blocking(move || {
            if let Err(e) = serve_second(&path, ready, share, &batches) {
                let _ = batches.blocking_send(Err(e));
            }
        });
        // Both readers have begun (or one failed, and says why in its batches).
        crate::blocking(|| while readied.recv().is_ok() {});
        let released = crate::blocking(|| lock.execute_batch("ROLLBACK"));
        *writer = Some(lock);
        drop(writer);
        released?;
        let mut source = SqliteRecheck { requests, received };
        let outcome = crate::recheck::drive(&mut source, scan).await;
        // No more requests: the readers end their transactions and their threads.
        drop(source);
        for reader in [first, second] {
            reader
                .await
                .map_err(|e| StoreError::Sink(format!("a reading thread failed: {e}")))?;
        }
        outcome
    }

    /// Every row of `table` in key order. A connection of its own (rusqlite, read-only, a
    /// small page cache so that memory stays flat) reads the rows in place on a blocking
    /// thread, one statement and so one snapshot, and hands them over in batches: sqlx's
    /// driver would hand each row across threads, copying every value (bench/export.sh).
    async fn scan_rows(
        &self,
        table: &'static crate::codec::Table,
        sink: &mut (dyn for<'r> FnMut(&'r [crate::codec::Value]) -> Result<(), StoreError> + Send),
    ) -> Result<u64, StoreError> {
        let width = table.columns.len();
        let (batches, mut received) =
            tokio::sync::mpsc::channel::<Result<Vec<crate::codec::Value>, StoreError>>(4);
        let path = self.path.clone();
        let reader = tokio::task::spawn_blocking(move || {
            if let Err(e) = read_batches(&path, table, &batches) {
                let _ = batches.blocking_send(Err(e));
            }
        });
        let mut count = 0;
        let mut outcome = Ok(());
        while let Some(batch) = received.recv().await {
            let step = batch.and_then(|batch| {
                for row in batch.chunks(width) {
                    sink(row)?;
                    count += 1;
                }
                Ok(())
            });
            if let Err(e) = step {
                outcome = Err(e);
                break;
            }
        }
        // A failed sink stops the reader: its next hand-over finds the channel closed.
        drop(received);
        reader
            .await
            .map_err(|e| StoreError::Sink(format!("the reading thread failed: {e}")))?;
        outcome.map(|()| count)
    }
}

impl SqliteStore {
    /// Take the writers' turn and write a load through the rusqlite connection.
    async fn write(
        &self,
        records: &counterpart_domain::records::Records,
        order: &[usize],
        booking: Held<'_>,
        audit: Option<&crate::AuditEntry>,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<bool, StoreError> {
        let mut writer = self.write_turn().await;
        crate::blocking(|| {
            let mut conn = match writer.take() {
                Some(conn) => conn,
                None => open_writer(&self.path)?,
            };
            let written = write_load(&mut conn, records, order, booking, audit, progress);
            *writer = Some(conn);
            written
        })
    }
}

/// A load's booking: made already, or still being made (handed over when called).
enum Held<'a> {
    Ready(&'a crate::Booking<'a>),
    Later(crate::Pending<'a>),
}

/// The connection loads write through: the settings of the pool's (`synchronous=FULL`, foreign
/// keys, a 256 MiB page cache; the file is already in WAL mode).
fn open_writer(path: &Path) -> Result<rusqlite::Connection, StoreError> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -262144)?;
    Ok(conn)
}

/// How often a load reports progress, in rows.
const PROGRESS_EVERY: usize = 4096;

/// Counts the rows a load has written and reports every [`PROGRESS_EVERY`]th.
struct Written<'p> {
    rows: usize,
    progress: &'p (dyn Fn(usize) + Sync),
}

impl Written<'_> {
    fn tick(&mut self) {
        self.rows += 1;
        if self.rows.is_multiple_of(PROGRESS_EVERY) {
            (self.progress)(self.rows);
        }
    }
}

/// Write records and their booking in one transaction (see [`crate::Store::load`]): the
/// records' rows first, with the transfers in `order` (the order of their journal entries),
/// then the booking's. Returns `false`, writing nothing, when a pending booking failed.
fn write_load(
    conn: &mut rusqlite::Connection,
    records: &counterpart_domain::records::Records,
    order: &[usize],
    booking: Held<'_>,
    audit: Option<&crate::AuditEntry>,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut written = Written { rows: 0, progress };
    if order.len() != records.transfers.len() {
        return Err(StoreError::Corrupt {
            table: "transfers",
            detail: format!(
                "the load's order names {} transfers of {}",
                order.len(),
                records.transfers.len()
            ),
        });
    }
    let set_aside = set_aside_indexes(&tx, records)?;
    let transfer_keys = write_records(&tx, records, order, &mut written)?;
    let mut owned = None;
    let booking = match booking {
        Held::Ready(booking) => *booking,
        Held::Later(pending) => match pending() {
            Some((ledger, journal_from)) => crate::Booking {
                ledger: owned.insert(ledger),
                journal_from,
            },
            None => return Ok(false),
        },
    };
    check_entry_order(records, order, &booking)?;
    check_chain_heads(&tx, &booking)?;
    let crate::Ordered {
        moved,
        opened,
        positions,
    } = order_accounts_while_indexing(&tx, &booking, &set_aside)?;
    let keys = write_accounts(&tx, &opened, &moved, &mut written)?;
    let entries = booking.new_entries();
    let mut journal = tx.prepare_cached(
        "INSERT INTO journal (transfer, debit, credit, office, recorded_by, previous_hash, hash, \
         corrects_year, sequence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for ((r, transfer), [debit, credit]) in entries.iter().zip(transfer_keys).zip(positions) {
        journal.execute((
            transfer,
            keys[debit as usize],
            keys[credit as usize],
            r.entry.office.as_str(),
            r.entry.recorded_by.as_str(),
            r.previous_hash.as_slice(),
            r.hash.as_slice(),
            r.entry.corrects_year.map(|y| i64::from(y.get())),
            r.sequence as i64,
        ))?;
        written.tick();
    }
    drop(journal);
    write_heads_and_audit(&tx, &booking, audit)?;
    tx.commit()?;
    if let Some(ledger) = owned.take() {
        crate::drop_elsewhere(ledger);
    }
    progress(written.rows);
    Ok(true)
}

/// The records' rows, table by table, the transfers in `order`. Transfers are written in the
/// order of their journal entries, so that the entries' keys (the transfers' integer keys)
/// ascend: the journal grows at its end, never splitting a page in its middle (on a million
/// transfers, in file order the journal took twice as long). Returns the transfers' keys:
/// the k-th is the key of the k-th new entry's transfer.
fn write_records(
    tx: &rusqlite::Transaction<'_>,
    records: &counterpart_domain::records::Records,
    order: &[usize],
    written: &mut Written<'_>,
) -> Result<Vec<i64>, StoreError> {
    use crate::codec::Value;
    use rusqlite::types::Null;
    let mut transfer_keys = Vec::with_capacity(records.transfers.len());
    for (table, rows) in crate::codec::encode_ordered(records, order) {
        if rows.len() == 0 {
            continue;
        }
        let mut insert = tx.prepare_cached(&insert_sql(table))?;
        let keyed = table.name == "transfers";
        for row in rows {
            for (i, value) in row.iter().enumerate() {
                match value {
                    Value::Int(n) => insert.raw_bind_parameter(i + 1, n)?,
                    Value::Text(t) => insert.raw_bind_parameter(i + 1, t.as_ref())?,
                    Value::Null => insert.raw_bind_parameter(i + 1, Null)?,
                }
            }
            insert.raw_execute()?;
            if keyed {
                transfer_keys.push(tx.last_insert_rowid());
            }
            written.tick();
        }
    }
    Ok(transfer_keys)
}

/// The k-th new entry must be the k-th transfer written: its key is then the k-th key
/// [`write_records`] returned.
fn check_entry_order(
    records: &counterpart_domain::records::Records,
    order: &[usize],
    booking: &crate::Booking<'_>,
) -> Result<(), StoreError> {
    let entries = booking.new_entries();
    if entries.len() > order.len()
        || entries
            .iter()
            .zip(order)
            .any(|(r, &i)| r.entry.id != records.transfers[i].id)
    {
        return Err(StoreError::Corrupt {
            table: "journal",
            detail: "the booking's entries are not in the order its transfers were written".into(),
        });
    }
    Ok(())
}

/// The chain head of every office the load books for must be where the booking found it: a
/// posting since then means the booking is stale. `BEGIN IMMEDIATE` holds them still.
fn check_chain_heads(
    tx: &rusqlite::Transaction<'_>,
    booking: &crate::Booking<'_>,
) -> Result<(), StoreError> {
    use counterpart_domain::ledger::{Recorded, hex};
    use rusqlite::OptionalExtension;
    let mut firsts: std::collections::BTreeMap<&str, &Recorded> = Default::default();
    for r in booking.new_entries() {
        firsts.entry(r.entry.office.as_str()).or_insert(r);
    }
    for (office, first) in &firsts {
        let head: Option<(i64, String)> = tx
            .prepare_cached("SELECT sequence, hash FROM chain_heads WHERE office = ?1")?
            .query_row([office], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let (sequence, hash) = head.unwrap_or((0, String::new()));
        if sequence as u64 + 1 != first.sequence
            || (sequence > 0 && hash != hex(&first.previous_hash))
        {
            return Err(StoreError::Changed {
                office: office.to_string(),
            });
        }
    }
    Ok(())
}

/// The secondary indexes set aside are built now: the ledger's rows don't touch them.
/// Meanwhile another thread puts the accounts in id order and finds which of them each new
/// entry moves, as positions in that order (on a million transfers, about a second on a core
/// that is otherwise idle then).
fn order_accounts_while_indexing<'b>(
    tx: &rusqlite::Transaction<'_>,
    booking: &'b crate::Booking<'b>,
    set_aside: &[String],
) -> Result<crate::Ordered<'b>, StoreError> {
    if set_aside.is_empty() {
        return booking.ordered();
    }
    std::thread::scope(|scope| -> Result<_, StoreError> {
        let ordering = scope.spawn(|| booking.ordered());
        for sql in set_aside {
            tx.execute_batch(sql)?;
        }
        ordering
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Accounts: the moved ones with their balances, inserted when new (their key is then the
/// insert's rowid) and updated when stored (the key read back); the opened ones added when
/// missing. One statement per account: an upsert with RETURNING took 10.0 s against 6.2 s
/// for a million accounts. Returns the keys: the i-th is the key of `moved[i]`.
fn write_accounts(
    tx: &rusqlite::Transaction<'_>,
    opened: &[&counterpart_domain::ledger::Account],
    moved: &[&counterpart_domain::ledger::Account],
    written: &mut Written<'_>,
) -> Result<Vec<i64>, StoreError> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO accounts (id, kind, currency, debits_posted, credits_posted, debits_pending, \
         credits_pending, closed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING",
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE accounts SET debits_posted = ?2, credits_posted = ?3, debits_pending = ?4, \
         credits_pending = ?5, closed = ?6 WHERE id = ?1 RETURNING n",
    )?;
    let mut keys = Vec::with_capacity(moved.len());
    for (a, touched) in opened
        .iter()
        .map(|a| (a, false))
        .chain(moved.iter().map(|a| (a, true)))
    {
        let id = a.id.as_str();
        let (dp, cp, dq, cq, closed) = if touched {
            (
                a.debits_posted.get(),
                a.credits_posted.get(),
                a.debits_pending.get(),
                a.credits_pending.get(),
                i64::from(a.closed),
            )
        } else {
            Default::default()
        };
        let inserted = insert.execute((
            id,
            a.kind.code(),
            a.currency.as_str(),
            dp,
            cp,
            dq,
            cq,
            closed,
        ))? == 1;
        written.tick();
        if !touched {
            continue;
        }
        keys.push(if inserted {
            tx.last_insert_rowid()
        } else {
            update.query_row((id, dp, cp, dq, cq, closed), |row| row.get(0))?
        });
    }
    Ok(keys)
}

/// Each office's new chain head, and the load's audit line.
fn write_heads_and_audit(
    tx: &rusqlite::Transaction<'_>,
    booking: &crate::Booking<'_>,
    audit: Option<&crate::AuditEntry>,
) -> Result<(), StoreError> {
    use counterpart_domain::ledger::{Recorded, hex};
    let mut heads: std::collections::BTreeMap<&str, &Recorded> = Default::default();
    for r in booking.new_entries() {
        heads.insert(r.entry.office.as_str(), r);
    }
    let mut head = tx.prepare_cached(
        "INSERT INTO chain_heads (office, sequence, hash) VALUES (?1, ?2, ?3) \
         ON CONFLICT (office) DO UPDATE SET sequence = excluded.sequence, hash = excluded.hash",
    )?;
    for (office, last) in heads {
        head.execute((office, last.sequence as i64, hex(&last.hash)))?;
    }
    if let Some(a) = audit {
        tx.prepare_cached(
            "INSERT INTO audit_log (at, actor, action, target, before, after) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute((&a.at, &a.actor, &a.action, &a.target, &a.before, &a.after))?;
    }
    Ok(())
}

/// A load that more than doubles a table's rows, by at least this many, builds its secondary
/// indexes after the rows instead of row by row.
const SET_ASIDE_FROM: usize = 10_000;

/// Drop the secondary indexes of the tables a load more than doubles (transfers, projects;
/// not the unique ones, which keys and foreign keys are checked by), returning the SQL that
/// builds them again. Sorting the rows once per index is quicker than placing each row in a
/// B-tree the load keeps growing: on a million transfers with their projects, writing took
/// 33 s instead of 38 s on a slow hour of the benchmark machine. Run in the load's
/// transaction, so a failed load leaves the indexes as they were.
fn set_aside_indexes(
    tx: &rusqlite::Transaction<'_>,
    records: &counterpart_domain::records::Records,
) -> Result<Vec<String>, StoreError> {
    let mut rebuild = Vec::new();
    for (table, adding) in [
        ("transfers", records.transfers.len()),
        ("projects", records.projects.len()),
    ] {
        if adding < SET_ASIDE_FROM {
            continue;
        }
        let stored: i64 = tx.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
            row.get(0)
        })?;
        if adding as i64 <= stored {
            continue;
        }
        let mut indexes = tx.prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 \
             AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name",
        )?;
        let found: Vec<(String, String)> = indexes
            .query_map([table], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (name, sql) in found {
            tx.execute_batch(&format!("DROP INDEX \"{name}\""))?;
            rebuild.push(sql);
        }
    }
    Ok(rebuild)
}

/// The order a load writes `records.transfers` in: those of the booking's new entries in
/// journal order, then any others in their own order.
fn journal_order(
    records: &counterpart_domain::records::Records,
    booking: &crate::Booking<'_>,
) -> Result<Vec<usize>, StoreError> {
    let mut index: std::collections::HashMap<&str, usize, counterpart_domain::ledger::Fast> =
        records
            .transfers
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.as_str(), i))
            .collect();
    let mut order = Vec::with_capacity(records.transfers.len());
    for r in booking.new_entries() {
        let i = index
            .remove(r.entry.id.as_str())
            .ok_or_else(|| StoreError::Corrupt {
                table: "journal",
                detail: format!(
                    "the booking names transfer {}, which this load does not write",
                    r.entry.id
                ),
            })?;
        order.push(i);
    }
    let mut rest: Vec<usize> = index.into_values().collect();
    rest.sort_unstable();
    order.extend(rest);
    Ok(order)
}

/// `INSERT INTO table (columns…) VALUES (?1, …)`.
fn insert_sql(table: &crate::codec::Table) -> String {
    let columns: Vec<_> = table.columns.iter().map(|c| c.0).collect();
    let slots: Vec<_> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        table.name,
        columns.join(", "),
        slots.join(", ")
    )
}

/// Rows a scan hands over at a time.
const SCAN_BATCH: usize = 1024;

/// What the reading thread of a recheck hands over: a batch of rows, `None` at the end of a
/// read, or why it stopped.
type RecheckBatch = Result<Option<Vec<crate::Scanned>>, StoreError>;

/// The async side of a recheck on SQLite: asks the reading thread for each read.
struct SqliteRecheck {
    requests: std::sync::mpsc::Sender<crate::recheck::Read>,
    received: tokio::sync::mpsc::Receiver<RecheckBatch>,
}

#[async_trait::async_trait]
impl crate::recheck::Source for SqliteRecheck {
    async fn read(
        &mut self,
        read: crate::recheck::Read,
        scan: &mut dyn crate::LedgerScan,
    ) -> Result<std::ops::ControlFlow<()>, StoreError> {
        use std::ops::ControlFlow;
        let gone = || StoreError::Sink("the reading thread stopped".into());
        self.requests.send(read).map_err(|_| gone())?;
        loop {
            match self.received.recv().await.ok_or_else(gone)?? {
                Some(batch) => {
                    for row in batch {
                        if scan.row(row).is_break() {
                            return Ok(ControlFlow::Break(()));
                        }
                    }
                }
                None => return Ok(ControlFlow::Continue(())),
            }
        }
    }
}

/// Account ids by key for the journal reads of a recheck, so that most entries need no
/// lookup of their accounts (two random B-tree descents a row, most of a read's time): a
/// fixed number of slots (a key lands in slot (key − lowest key) mod their number), filled
/// from the accounts before the journal is read, then shared by both readers. Memory is
/// bounded by [`AccountIds::MAX_SLOTS`] whatever the size of the ledger; a ledger with more
/// accounts than slots looks up, each time, the ones whose slot another took.
struct AccountIds {
    base: i64,
    slots: Vec<Option<(i64, counterpart_domain::RecordId)>>,
}

impl AccountIds {
    /// 2²¹ slots of 32 bytes: 64 MiB at most.
    const MAX_SLOTS: usize = 1 << 21;

    /// Every account's id, in slots for every key the accounts have, up to the most allowed.
    fn gathered(conn: &rusqlite::Connection) -> Result<Self, StoreError> {
        let (first, last): (Option<i64>, Option<i64>) = conn.query_row(
            "SELECT (SELECT MIN(n) FROM accounts), (SELECT MAX(n) FROM accounts)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (first, last) = (first.unwrap_or(0), last.unwrap_or(0));
        let slots = usize::try_from(last.saturating_sub(first).saturating_add(1))
            .unwrap_or(1)
            .clamp(1, Self::MAX_SLOTS);
        let mut ids = AccountIds {
            base: first,
            slots: vec![None; slots],
        };
        let mut statement = conn.prepare("SELECT n, id FROM accounts")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let key: i64 = row.get(0)?;
            let id = row.get_ref(1)?.as_str().map_err(|e| StoreError::Corrupt {
                table: "accounts",
                detail: format!("an id: {e}"),
            })?;
            let id =
                counterpart_domain::RecordId::parse(id).map_err(crate::sql::corrupt("accounts"))?;
            let at = ids.slot(key);
            ids.slots[at] = Some((key, id));
        }
        Ok(ids)
    }

    fn slot(&self, key: i64) -> usize {
        key.wrapping_sub(self.base)
            .rem_euclid(self.slots.len() as i64) as usize
    }

    /// The id of the account with key `key` (`None`: no such account, or no key).
    fn get(
        &self,
        conn: &rusqlite::Connection,
        key: Option<i64>,
    ) -> Result<Option<counterpart_domain::RecordId>, StoreError> {
        let Some(key) = key else { return Ok(None) };
        if let Some((k, id)) = &self.slots[self.slot(key)]
            && *k == key
        {
            return Ok(Some(id.clone()));
        }
        use rusqlite::OptionalExtension;
        let found: Option<String> = conn
            .prepare_cached("SELECT id FROM accounts WHERE n = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?;
        found
            .map(|id| counterpart_domain::RecordId::parse(&id))
            .transpose()
            .map_err(crate::sql::corrupt("accounts"))
    }

    /// Put the accounts' ids into the entries of `batch`, whose accounts have the keys in
    /// `keys`; an entry naming a key no account has becomes [`crate::Scanned::UnknownAccount`].
    fn name(
        &self,
        conn: &rusqlite::Connection,
        batch: &mut [crate::Scanned],
        keys: &[(Option<i64>, Option<i64>)],
    ) -> Result<(), StoreError> {
        for (scanned, &(debit, credit)) in batch.iter_mut().zip(keys) {
            if let crate::Scanned::Entry { entry, .. } = scanned {
                match (self.get(conn, debit)?, self.get(conn, credit)?) {
                    (Some(debit), Some(credit)) => {
                        entry.entry.debit = debit;
                        entry.entry.credit = credit;
                    }
                    _ => *scanned = crate::Scanned::UnknownAccount(entry.entry.id.clone()),
                }
            }
        }
        Ok(())
    }
}

/// A read-only connection of a recheck with its transaction begun: its snapshot is taken
/// (by a first read) before `ready` is dropped.
fn open_reader(
    path: &Path,
    ready: std::sync::mpsc::Sender<()>,
) -> Result<rusqlite::Connection, StoreError> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // A page cache small enough to keep memory flat at any size of ledger. SQLite held several
    // times this in pages on a 10M-transfer ledger (heaptrack: 187 MB at 32 MiB set); at 8 MiB
    // verify is as fast at 1M and 10M and stays within 256 MB (bench/RESULTS-scale.md).
    conn.pragma_update(None, "cache_size", -8192)?;
    conn.execute_batch("BEGIN")?;
    conn.query_row(
        "SELECT COUNT(*) FROM (SELECT 1 FROM accounts LIMIT 1)",
        [],
        |_| Ok(()),
    )?;
    drop(ready);
    Ok(conn)
}

/// Hand `batch` over if it is full (or `last`), starting a new one; `false` when nobody
/// receives any more.
fn hand_over(
    batch: &mut Vec<crate::Scanned>,
    last: bool,
    batches: &tokio::sync::mpsc::Sender<RecheckBatch>,
) -> bool {
    let due = batch.len() >= SCAN_BATCH || (last && !batch.is_empty());
    if !due {
        return true;
    }
    let full = std::mem::replace(batch, Vec::with_capacity(SCAN_BATCH));
    batches.blocking_send(Ok(Some(full))).is_ok()
}

/// The journal in ranges of transfer keys, each read as one run, handed out in turn to
/// whichever reader is free.
struct Chunks {
    ranges: Vec<(i64, i64)>,
    next: std::sync::atomic::AtomicUsize,
}

impl Chunks {
    /// Ranges a journal is read in: enough that neither reader waits long for the other.
    const RANGES: i64 = 16;

    fn of(conn: &rusqlite::Connection) -> Result<Self, StoreError> {
        let (low, high): (Option<i64>, Option<i64>) = conn.query_row(
            "SELECT (SELECT MIN(transfer) FROM journal), (SELECT MAX(transfer) FROM journal)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut ranges = Vec::new();
        if let (Some(low), Some(high)) = (low, high) {
            let width = ((high - low) / Self::RANGES).max(1);
            let mut from = low;
            loop {
                let to = from.saturating_add(width - 1).min(high);
                ranges.push((from, to));
                if to == high {
                    break;
                }
                from = to + 1;
            }
        }
        Ok(Chunks {
            ranges,
            next: Default::default(),
        })
    }

    /// Read ranges as runs until none is left; `false` when nobody receives any more.
    fn read_all(
        &self,
        conn: &rusqlite::Connection,
        ids: &AccountIds,
        batches: &tokio::sync::mpsc::Sender<RecheckBatch>,
    ) -> Result<bool, StoreError> {
        loop {
            let run = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&range) = self.ranges.get(run) else {
                return Ok(true);
            };
            if !read_journal(conn, range, run, ids, batches)? {
                return Ok(false);
            }
        }
    }
}

/// Read `from..=to` of the journal as run `run`, its rows handed over in batches; `false`
/// when nobody receives any more.
fn read_journal(
    conn: &rusqlite::Connection,
    (from, to): (i64, i64),
    run: usize,
    ids: &AccountIds,
    batches: &tokio::sync::mpsc::Sender<RecheckBatch>,
) -> Result<bool, StoreError> {
    use crate::recheck::{Cols, Read};
    let (sql, _) = Read::Journal
        .keyed_sql()
        .expect("the journal is read by keys");
    let mut statement = conn.prepare(&sql)?;
    let mut rows = statement.query([from, to])?;
    let mut batch = Vec::with_capacity(SCAN_BATCH);
    // The accounts' keys of the batch's rows: their ids are filled in before the batch is
    // handed over, in a loop of independent lookups the processor overlaps (each one likely
    // a cache miss).
    let mut keys = Vec::with_capacity(SCAN_BATCH);
    let placeholder = crate::recheck::unnamed();
    while let Some(row) = rows.next()? {
        keys.push((row.int(1)?, row.int(2)?));
        let (debit, credit) = (Some(placeholder.clone()), Some(placeholder.clone()));
        batch.push(Read::Journal.entry(run, row, debit, credit)?);
        if batch.len() == SCAN_BATCH {
            ids.name(conn, &mut batch, &keys)?;
            keys.clear();
            if !hand_over(&mut batch, false, batches) {
                return Ok(false);
            }
        }
    }
    ids.name(conn, &mut batch, &keys)?;
    Ok(hand_over(&mut batch, true, batches))
}

/// What the second reader hands the first once it has begun: the account ids, the journal's
/// ranges, and `done`, which closes when the second has read its last range.
struct Shared {
    ids: std::sync::Arc<AccountIds>,
    chunks: std::sync::Arc<Chunks>,
    done: std::sync::mpsc::Receiver<()>,
}

/// The second reader of a recheck: gathers the account ids (while the first reads the
/// accounts whole) and splits the journal into ranges, hands both to the first, and reads
/// ranges until none is left.
fn serve_second(
    path: &Path,
    ready: std::sync::mpsc::Sender<()>,
    share: std::sync::mpsc::Sender<Shared>,
    batches: &tokio::sync::mpsc::Sender<RecheckBatch>,
) -> Result<(), StoreError> {
    let conn = open_reader(path, ready)?;
    let ids = std::sync::Arc::new(AccountIds::gathered(&conn)?);
    let chunks = std::sync::Arc::new(Chunks::of(&conn)?);
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let shared = Shared {
        ids: ids.clone(),
        chunks: chunks.clone(),
        done: finished,
    };
    if share.send(shared).is_err() {
        return Ok(());
    }
    chunks.read_all(&conn, &ids, batches)?;
    drop(done);
    Ok(())
}

/// The first reader of a recheck: each read asked for run in turn, its rows decoded and
/// handed over in batches, until nobody asks; the journal read in ranges with the second.
fn serve_recheck(
    path: &Path,
    ready: std::sync::mpsc::Sender<()>,
    asked: &std::sync::mpsc::Receiver<crate::recheck::Read>,
    shared: &std::sync::mpsc::Receiver<Shared>,
    batches: &tokio::sync::mpsc::Sender<RecheckBatch>,
) -> Result<(), StoreError> {
    use crate::recheck::{Cols, Read};
    let conn = open_reader(path, ready)?;
    let stopped = || StoreError::Sink("the second reading thread stopped".into());
    // Handed over by the second reader when the journal or its ids are first needed.
    let mut second: Option<Shared> = None;
    while let Ok(read) = asked.recv() {
        if matches!(read, Read::Journal | Read::Office(_)) && second.is_none() {
            second = Some(shared.recv().map_err(|_| stopped())?);
        }
        match (&read, &second) {
            (Read::Journal, Some(second)) => {
                if !second.chunks.read_all(&conn, &second.ids, batches)? {
                    return Ok(());
                }
                // Every range the second reader took is handed over before this read's end.
                while second.done.recv().is_ok() {}
            }
            _ => {
                let (sql, office) = read.keyed_sql().unwrap_or_else(|| read.sql());
                let mut statement = conn.prepare(&sql)?;
                let mut rows = match office {
                    Some(office) => statement.query([office])?,
                    None => statement.query([])?,
                };
                let mut batch = Vec::with_capacity(SCAN_BATCH);
                while let Some(row) = rows.next()? {
                    batch.push(match (&read, &second) {
                        (Read::Office(_), Some(second)) => {
                            let debit = second.ids.get(&conn, row.int(1)?)?;
                            let credit = second.ids.get(&conn, row.int(2)?)?;
                            read.entry(0, row, debit, credit)?
                        }
                        _ => read.decode(row)?,
                    });
                    if !hand_over(&mut batch, false, batches) {
                        return Ok(());
                    }
                }
                if !hand_over(&mut batch, true, batches) {
                    return Ok(());
                }
            }
        }
        if batches.blocking_send(Ok(None)).is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// The scan behind `SqliteStore::scan_rows`, on its own thread: batches of rows, each row its
/// values in column order, until the table ends or nobody is receiving.
fn read_batches(
    path: &Path,
    table: &'static crate::codec::Table,
    batches: &tokio::sync::mpsc::Sender<Result<Vec<crate::codec::Value>, StoreError>>,
) -> Result<(), StoreError> {
    use crate::codec::{ColumnType, Value};
    use rusqlite::types::ValueRef;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "cache_size", -2048)?;
    let mut statement = conn.prepare(&table.scan_sql())?;
    let mut rows = statement.query([])?;
    let width = table.columns.len();
    let mut batch = Vec::with_capacity(SCAN_BATCH * width);
    let corrupt = |column: &str, what: &str| StoreError::Corrupt {
        table: table.name,
        detail: format!("column {column} holds {what}"),
    };
    while let Some(row) = rows.next()? {
        for (i, &(column, ty)) in table.columns.iter().enumerate() {
            batch.push(match (row.get_ref(i)?, ty) {
                (ValueRef::Null, _) => Value::Null,
                (ValueRef::Integer(n), ColumnType::Int) => Value::Int(n),
                (ValueRef::Text(t), ColumnType::Text) => Value::Text(
                    String::from_utf8(t.to_vec())
                        .map_err(|_| corrupt(column, "text that is not UTF-8"))?
                        .into(),
                ),
                (ValueRef::Integer(_), ColumnType::Text) => {
                    return Err(corrupt(column, "an integer"));
                }
                (ValueRef::Text(_), ColumnType::Int) => return Err(corrupt(column, "text")),
                (ValueRef::Real(_), _) => return Err(corrupt(column, "a real number")),
                (ValueRef::Blob(_), _) => return Err(corrupt(column, "a blob")),
            });
        }
        if batch.len() == SCAN_BATCH * width {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(SCAN_BATCH * width));
            if batches.blocking_send(Ok(full)).is_err() {
                return Ok(());
            }
        }
    }
    if !batch.is_empty() {
        let _ = batches.blocking_send(Ok(batch));
    }
    Ok(())
}
