//! The embedded default: one SQLite file, WAL, `synchronous=FULL`, writes under `BEGIN IMMEDIATE`.

use crate::StoreError;
use crate::access::access_store;
use crate::sql::sql_store;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct SqliteStore {
    pool: SqlitePool,
    /// The file, for the long reads of exports (`scan_rows`).
    path: PathBuf,
    /// SQLite has one writer at a time; writers of this process queue here, in order, instead
    /// of polling the file lock with the busy handler's growing sleeps.
    writer: tokio::sync::Mutex<()>,
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
            writer: tokio::sync::Mutex::new(()),
        })
    }

    /// Wait for this process's turn to write.
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        Some(self.writer.lock().await)
    }

    /// Fold the WAL back into the main file, then close every connection, so that the file
    /// alone holds the database when this returns.
    pub async fn close(self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        self.pool.close().await;
        Ok(())
    }
}

sql_store!(SqliteStore, sqlx::Sqlite, "BEGIN IMMEDIATE", "BEGIN", "");

/// Rows a scan hands over at a time.
const SCAN_BATCH: usize = 1024;

impl SqliteStore {
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

/// The scan behind [`SqliteStore::scan_rows`], on its own thread: batches of rows, each row its
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
                        .map_err(|_| corrupt(column, "text that is not UTF-8"))?,
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

access_store!(SqliteStore, sqlx::Sqlite, "BEGIN IMMEDIATE");
