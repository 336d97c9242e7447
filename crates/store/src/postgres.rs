//! The production backend: PostgreSQL, the same tables and the same queries as SQLite.

use crate::StoreError;
use crate::access::access_store;
use crate::sql::sql_store;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;

pub struct PgStore {
    pool: PgPool,
    role: Option<&'static str>,
}

/// The role with insert-only rights on money tables, created by the migrations.
const WRITER: &str = "counterpart_writer";

impl PgStore {
    /// Connect to `url` (`postgres://…`) and bring its schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(PgConnectOptions::from_str(url)?).await
    }

    /// Connect with the tables in `schema`, created if missing: one program per schema, and
    /// one fresh schema per test.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        let admin = PgPool::connect(url).await?;
        let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {quoted}"))
            .execute(&admin)
            .await?;
        admin.close().await;
        let options = PgConnectOptions::from_str(url)?.options([("search_path", schema)]);
        Self::connect_with(options).await
    }

    async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        // Migrate as the connecting user, then write as `counterpart_writer` where that role
        // exists: it may insert money rows but never update or delete them.
        let owner = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&owner).await?;
        let writer: bool = sqlx::query_scalar(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) \
             THEN pg_has_role(current_user, $1, 'MEMBER') ELSE false END",
        )
        .bind(WRITER)
        .fetch_one(&owner)
        .await?;
        owner.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if writer {
                        sqlx::Executor::execute(&mut *conn, "SET ROLE counterpart_writer").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(PgStore {
            pool,
            role: writer.then_some(WRITER),
        })
    }

    /// The role this store writes as: `counterpart_writer` when the database has it (it
    /// cannot update or delete money rows), or `None` for the connecting user itself.
    pub fn writes_as(&self) -> Option<&'static str> {
        self.role
    }

    /// PostgreSQL writers run side by side, ordered by row locks: no turn to wait for.
    async fn write_turn(&self) -> Option<()> {
        None
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

sql_store!(
    PgStore,
    sqlx::Postgres,
    "BEGIN",
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    " FOR NO KEY UPDATE"
);

impl PgStore {
    /// Every row of `table` in key order, streamed from the server one row at a time.
    async fn scan_rows(
        &self,
        table: &'static crate::codec::Table,
        sink: &mut (dyn for<'r> FnMut(&'r [crate::codec::Value]) -> Result<(), StoreError> + Send),
    ) -> Result<u64, StoreError> {
        use futures_util::TryStreamExt;
        let sql = table.scan_sql();
        let mut rows = sqlx::query(&sql).fetch(&self.pool);
        let mut cells = Vec::with_capacity(table.columns.len());
        let mut count = 0;
        while let Some(row) = rows.try_next().await? {
            Self::cells(&row, table, &mut cells)?;
            sink(&cells)?;
            count += 1;
        }
        Ok(count)
    }
}

access_store!(PgStore, sqlx::Postgres, "BEGIN");
