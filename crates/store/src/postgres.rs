//! The production backend: PostgreSQL, the same tables and the same queries as SQLite.

use crate::StoreError;
use crate::sql::sql_store;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;

pub struct PgStore {
    pool: PgPool,
}

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
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStore { pool })
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

sql_store!(PgStore, sqlx::Postgres, "BEGIN", " FOR NO KEY UPDATE");
