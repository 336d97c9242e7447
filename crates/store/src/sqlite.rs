//! The embedded default: one SQLite file, WAL, `synchronous=FULL`, writes under `BEGIN IMMEDIATE`.

use crate::StoreError;
use crate::access::access_store;
use crate::sql::sql_store;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::time::Duration;

pub struct SqliteStore {
    pool: SqlitePool,
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

// A table scan reads every page once: a small page cache for it keeps an export's memory flat
// (bulk writes keep the large one).
sql_store!(
    SqliteStore,
    sqlx::Sqlite,
    "BEGIN IMMEDIATE",
    "BEGIN",
    "",
    "PRAGMA cache_size = -2048",
    "PRAGMA cache_size = -262144"
);

access_store!(SqliteStore, sqlx::Sqlite, "BEGIN IMMEDIATE");
