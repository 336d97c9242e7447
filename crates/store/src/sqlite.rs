//! The embedded default: one SQLite file, WAL, `synchronous=FULL`, writes under `BEGIN IMMEDIATE`.

use crate::codec::{self, ColumnType, FRAME_TABLES, TABLES, Table, Value};
use crate::{
    FundsRow, Keys, PeopleCount, PeopleScope, PostingsRow, ProjectsRow, Store, StoreError, TradeRow,
};
use async_trait::async_trait;
use counterpart_domain::people::Role;
use counterpart_domain::project::{Category, TransferKind};
use counterpart_domain::records::Records;
use counterpart_domain::{Fen, ParseError, RegionCode, Year};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use std::path::Path;
use std::time::Duration;

/// SQLite allows 32,766 bound values per statement; stay below it.
const MAX_BOUND_VALUES: usize = 30_000;

pub struct SqliteStore {
    pool: SqlitePool,
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
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqliteStore { pool })
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

    async fn select(&self, table: &'static Table) -> Result<Vec<Vec<Value>>, StoreError> {
        let columns: Vec<_> = table.columns.iter().map(|c| c.0).collect();
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            columns.join(", "),
            table.name,
            table.order_by
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                table
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, ty))| cell(row, i, *ty))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(StoreError::from)
            })
            .collect()
    }

    async fn read(&self, tables: &[&'static Table]) -> Result<Records, StoreError> {
        let mut records = Records::default();
        for table in tables {
            let rows = self.select(table).await?;
            codec::decode(&mut records, table, &rows)?;
        }
        Ok(records)
    }
}

fn cell(row: &SqliteRow, i: usize, ty: ColumnType) -> Result<Value, sqlx::Error> {
    Ok(match ty {
        ColumnType::Int => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(Value::Null, Value::Int),
        ColumnType::Text => row
            .try_get::<Option<String>, _>(i)?
            .map_or(Value::Null, Value::Text),
    })
}

fn corrupt(table: &'static str) -> impl Fn(ParseError) -> StoreError {
    move |e| StoreError::Corrupt {
        table,
        detail: e.to_string(),
    }
}

fn year_of(row: &SqliteRow, i: usize, table: &'static str) -> Result<Year, StoreError> {
    let y: i64 = row.try_get(i)?;
    Year::new(u16::try_from(y).unwrap_or(0)).map_err(corrupt(table))
}

fn region_of(row: &SqliteRow, i: usize, table: &'static str) -> Result<RegionCode, StoreError> {
    RegionCode::parse(row.try_get::<&str, _>(i)?).map_err(corrupt(table))
}

fn u64_of(row: &SqliteRow, i: usize) -> Result<u64, StoreError> {
    Ok(u64::try_from(row.try_get::<i64, _>(i)?).unwrap_or(0))
}

#[async_trait]
impl Store for SqliteStore {
    async fn load(
        &self,
        records: &Records,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut written = 0;
        for (table, rows) in codec::encode(records) {
            let columns: Vec<_> = table.columns.iter().map(|c| c.0).collect();
            let per_statement = (MAX_BOUND_VALUES / columns.len()).max(1);
            for chunk in rows.chunks(per_statement) {
                let mut insert = QueryBuilder::<Sqlite>::new(format!(
                    "INSERT INTO {} ({}) ",
                    table.name,
                    columns.join(", ")
                ));
                insert.push_values(chunk, |mut b, row| {
                    for value in row {
                        match value {
                            Value::Int(i) => b.push_bind(*i),
                            Value::Text(s) => b.push_bind(s.clone()),
                            Value::Null => b.push_bind(None::<i64>),
                        };
                    }
                });
                insert.build().execute(&mut *tx).await?;
                written += chunk.len();
                progress(written);
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn records(&self) -> Result<Records, StoreError> {
        self.read(&TABLES).await
    }

    async fn frame(&self) -> Result<Records, StoreError> {
        self.read(&FRAME_TABLES).await
    }

    async fn keys(&self) -> Result<Keys, StoreError> {
        let mut keys = Keys::new();
        for table in TABLES {
            let sql = format!("SELECT {} FROM {}", table.key_sql(), table.name);
            let found: Vec<String> = sqlx::query_scalar(&sql).fetch_all(&self.pool).await?;
            keys.insert(table.name, found.into_iter().collect());
        }
        Ok(keys)
    }

    async fn funds(&self) -> Result<Vec<FundsRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT CAST(substr(t.value_date, 1, 4) AS INTEGER) AS year, p.provider, p.recipient, p.category,
                    t.kind, SUM(t.amount_fen), COUNT(*),
                    MAX(CASE WHEN t.provenance = 'simulated' OR p.provenance = 'simulated' THEN 1 ELSE 0 END)
             FROM transfers t JOIN projects p ON p.id = t.project
             GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(FundsRow {
                    year: year_of(row, 0, "transfers")?,
                    provider: region_of(row, 1, "projects")?,
                    recipient: region_of(row, 2, "projects")?,
                    category: Category::parse(row.try_get(3)?).map_err(corrupt("projects"))?,
                    kind: TransferKind::parse(row.try_get(4)?).map_err(corrupt("transfers"))?,
                    amount: Fen::new(row.try_get(5)?),
                    transfers: u64_of(row, 6)?,
                    simulated: row.try_get::<i64, _>(7)? == 1,
                })
            })
            .collect()
    }

    async fn projects_summary(&self) -> Result<Vec<ProjectsRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT year, provider, recipient, category, COUNT(*), SUM(budget_fen),
                    MAX(CASE WHEN provenance = 'simulated' THEN 1 ELSE 0 END)
             FROM projects GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ProjectsRow {
                    year: year_of(row, 0, "projects")?,
                    provider: region_of(row, 1, "projects")?,
                    recipient: region_of(row, 2, "projects")?,
                    category: Category::parse(row.try_get(3)?).map_err(corrupt("projects"))?,
                    projects: u64_of(row, 4)?,
                    budget: Fen::new(row.try_get(5)?),
                    simulated: row.try_get::<i64, _>(6)? == 1,
                })
            })
            .collect()
    }

    async fn postings_summary(&self) -> Result<Vec<PostingsRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT CAST(substr(ps.start_date, 1, 4) AS INTEGER), pe.provider, po.recipient, ps.role, COUNT(*),
                    MAX(CASE WHEN ps.provenance = 'simulated' OR pe.provenance = 'simulated' THEN 1 ELSE 0 END)
             FROM postings ps JOIN people pe ON pe.id = ps.person JOIN posts po ON po.id = ps.post
             GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PostingsRow {
                    year: year_of(row, 0, "postings")?,
                    provider: region_of(row, 1, "people")?,
                    recipient: region_of(row, 2, "posts")?,
                    role: Role::parse(row.try_get(3)?).map_err(corrupt("postings"))?,
                    postings: u64_of(row, 4)?,
                    simulated: row.try_get::<i64, _>(5)? == 1,
                })
            })
            .collect()
    }

    async fn people_posted(&self, scope: &PeopleScope) -> Result<PeopleCount, StoreError> {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT COUNT(DISTINCT ps.person),
                    COALESCE(MAX(CASE WHEN pe.provenance = 'simulated' THEN 1 ELSE 0 END), 0)
             FROM postings ps JOIN people pe ON pe.id = ps.person JOIN posts po ON po.id = ps.post",
        );
        match scope {
            PeopleScope::All => {}
            PeopleScope::Provider(provider) => {
                query
                    .push(" WHERE pe.provider = ")
                    .push_bind(provider.as_str().to_owned());
            }
            PeopleScope::Recipients(recipients) => {
                query.push(" WHERE po.recipient IN (");
                let mut list = query.separated(", ");
                for r in recipients {
                    list.push_bind(r.as_str().to_owned());
                }
                if recipients.is_empty() {
                    list.push("NULL");
                }
                query.push(")");
            }
        }
        let row = query.build().fetch_one(&self.pool).await?;
        Ok(PeopleCount {
            people: u64_of(&row, 0)?,
            simulated: row.try_get::<i64, _>(1)? == 1,
        })
    }

    async fn trade(&self) -> Result<Vec<TradeRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT year, provider, recipient, SUM(value_fen), 0,
                    MAX(CASE WHEN provenance = 'simulated' THEN 1 ELSE 0 END)
             FROM purchases GROUP BY 1, 2, 3
             UNION ALL
             SELECT year, provider, recipient, 0, SUM(people),
                    MAX(CASE WHEN provenance = 'simulated' THEN 1 ELSE 0 END)
             FROM exchanges GROUP BY 1, 2, 3
             ORDER BY 1, 2, 3",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TradeRow {
                    year: year_of(row, 0, "purchases")?,
                    provider: region_of(row, 1, "purchases")?,
                    recipient: region_of(row, 2, "purchases")?,
                    purchases: Fen::new(row.try_get(3)?),
                    visitors: u64_of(row, 4)?,
                    simulated: row.try_get::<i64, _>(5)? == 1,
                })
            })
            .collect()
    }
}
