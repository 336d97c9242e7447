//! The production backend: PostgreSQL, the same tables and the same queries as SQLite.

use crate::StoreError;
use crate::sql::{Backend, insert_audit, insert_rows};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;

pub struct PgStore {
    pool: PgPool,
    role: Option<&'static str>,
}

/// Journal entries a load inserts per statement.
const JOURNAL_CHUNK: usize = 10_000;

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

    pub async fn close(self) {
        self.pool.close().await;
    }
}

impl Backend for PgStore {
    type Db = sqlx::Postgres;
    const BEGIN: &'static str = "BEGIN";
    const READ: &'static str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    const LOCK: &'static str = " FOR NO KEY UPDATE";
    /// PostgreSQL writers run side by side, ordered by row locks: no turn to wait for.
    type Turn<'a> = ();

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn write_turn(&self) -> Self::Turn<'_> {}

    async fn fetch_built(
        query: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>,
        on: &mut sqlx::PgConnection,
    ) -> Result<Vec<sqlx::postgres::PgRow>, sqlx::Error> {
        query.build().fetch_all(on).await
    }

    /// [`crate::Store::load`] through sqlx: rows in multi-row statements, one transaction.
    async fn load_rows(
        &self,
        records: &counterpart_domain::records::Records,
        booking: &crate::Booking<'_>,
        audit: Option<&crate::AuditEntry>,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<(), crate::StoreError> {
        let _writer = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let mut written = 0;
        let mut wrote = |n: usize| {
            written += n;
            progress(written);
        };
        for (table, rows) in crate::codec::encode(records) {
            insert_rows::<PgStore>(&mut tx, table, &rows, &mut wrote).await?;
        }
        lock_chain_heads(&mut tx, booking).await?;
        write_accounts(&mut tx, booking, &mut wrote).await?;
        for chunk in booking.new_entries().chunks(JOURNAL_CHUNK) {
            write_journal(&mut tx, chunk).await?;
            wrote(chunk.len());
        }
        write_chain_heads(&mut tx, booking).await?;
        if let Some(audit) = audit {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// [`crate::Store::load_booking`] on PostgreSQL: the booking first (its rows go in with the
    /// others, in multi-row statements), then the load.
    async fn load_booking_rows(
        &self,
        records: &counterpart_domain::records::Records,
        _order: &[usize],
        booking: crate::Pending<'_>,
        audit: Option<&crate::AuditEntry>,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<bool, crate::StoreError> {
        let Some((ledger, journal_from)) = crate::blocking(booking) else {
            return Ok(false);
        };
        let booking = crate::Booking {
            ledger: &ledger,
            journal_from,
        };
        self.load_rows(records, &booking, audit, progress).await?;
        Ok(true)
    }

    /// Every row of `table` in key order, streamed from the server one row at a time.
    /// [`crate::Store::recheck`]: every read through one repeatable-read transaction, rows
    /// streamed from the server (its sorts and groupings spill to disk, not to this process).
    async fn recheck(&self, scan: &mut dyn crate::LedgerScan) -> Result<(), StoreError> {
        let mut source = PgRecheck(self.pool.begin_with(Self::READ).await?);
        crate::recheck::drive(&mut source, scan).await?;
        source.0.rollback().await?;
        Ok(())
    }

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
            crate::sql::cells(&row, table, &mut cells)?;
            sink(&cells)?;
            count += 1;
        }
        Ok(count)
    }
}

/// Lock the chain head of every office a load books for, in office order (the order a posting
/// locks in), and check that no posting moved it since the booking was prepared. Every account
/// belongs to one office, so its balance cannot change under the load either.
async fn lock_chain_heads(
    tx: &mut sqlx::PgConnection,
    booking: &crate::Booking<'_>,
) -> Result<(), crate::StoreError> {
    let mut firsts: std::collections::BTreeMap<String, &counterpart_domain::ledger::Recorded> =
        Default::default();
    for r in booking.new_entries() {
        firsts.entry(r.entry.office.to_string()).or_insert(r);
    }
    for (office, first) in &firsts {
        sqlx::query(
            "INSERT INTO chain_heads (office, sequence, hash) VALUES ($1, 0, '') ON CONFLICT (office) DO NOTHING",
        )
        .bind(office)
        .execute(&mut *tx)
        .await?;
        let (sequence, hash): (i64, String) = sqlx::query_as(
            "SELECT sequence, hash FROM chain_heads WHERE office = $1 FOR NO KEY UPDATE",
        )
        .bind(office)
        .fetch_one(&mut *tx)
        .await?;
        let moved = sequence as u64 + 1 != first.sequence
            || (sequence > 0 && hash != counterpart_domain::ledger::hex(&first.previous_hash));
        if moved {
            return Err(crate::StoreError::Changed {
                office: office.clone(),
            });
        }
    }
    Ok(())
}

/// The accounts a load opens (added when missing) and moves (upserted with their balances),
/// in multi-row statements.
async fn write_accounts(
    tx: &mut sqlx::PgConnection,
    booking: &crate::Booking<'_>,
    wrote: &mut (dyn FnMut(usize) + Send),
) -> Result<(), crate::StoreError> {
    let (accounts, opened) = booking.accounts();
    for chunk in opened.chunks(crate::sql::MAX_BOUND_VALUES / 3) {
        let mut insert =
            sqlx::QueryBuilder::<sqlx::Postgres>::new("INSERT INTO accounts (id, kind, currency) ");
        insert.push_values(chunk, |mut b, a| {
            b.push_bind(a.id.to_string())
                .push_bind(a.kind.code())
                .push_bind(a.currency.to_string());
        });
        insert.push(" ON CONFLICT (id) DO NOTHING");
        insert.build().execute(&mut *tx).await?;
        wrote(chunk.len());
    }
    for chunk in accounts.chunks(crate::sql::MAX_BOUND_VALUES / 8) {
        let mut upsert = sqlx::QueryBuilder::<sqlx::Postgres>::new(
            "INSERT INTO accounts (id, kind, currency, debits_posted, credits_posted, \
             debits_pending, credits_pending, closed) ",
        );
        upsert.push_values(chunk, |mut b, a| {
            b.push_bind(a.id.to_string())
                .push_bind(a.kind.code())
                .push_bind(a.currency.to_string())
                .push_bind(a.debits_posted.get())
                .push_bind(a.credits_posted.get())
                .push_bind(a.debits_pending.get())
                .push_bind(a.credits_pending.get())
                .push_bind(i64::from(a.closed));
        });
        upsert.push(crate::sql::UPSERT_ACCOUNT_TAIL);
        upsert.build().execute(&mut *tx).await?;
        wrote(chunk.len());
    }
    Ok(())
}

/// One chunk of journal entries in column arrays, joined to the transfers and accounts by id
/// for their keys: one plan per chunk. (A VALUES row of three key subqueries per entry took
/// 7 s for 3,000 entries, most of it planning.)
async fn write_journal(
    tx: &mut sqlx::PgConnection,
    chunk: &[counterpart_domain::ledger::Recorded],
) -> Result<(), crate::StoreError> {
    let mut ids = [Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    let (mut hashes, mut previous) = (Vec::new(), Vec::new());
    let (mut years, mut sequences) = (Vec::new(), Vec::new());
    for r in chunk {
        let e = &r.entry;
        for (column, value) in ids.iter_mut().zip([
            e.id.as_str(),
            e.debit.as_str(),
            e.credit.as_str(),
            e.office.as_str(),
            e.recorded_by.as_str(),
        ]) {
            column.push(value.to_owned());
        }
        previous.push(r.previous_hash.to_vec());
        hashes.push(r.hash.to_vec());
        years.push(e.corrects_year.map(|y| i64::from(y.get())));
        sequences.push(r.sequence as i64);
    }
    let [transfers, debits, credits, offices, recorders] = ids;
    let inserted = sqlx::query(&format!(
        "{}SELECT t.n, d.n, c.n, v.office, v.recorded_by, v.previous_hash, v.hash, \
         v.corrects_year, v.sequence \
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
         $6::bytea[], $7::bytea[], $8::bigint[], $9::bigint[]) AS v (transfer, debit, \
         credit, office, recorded_by, previous_hash, hash, corrects_year, sequence) \
         JOIN transfers t ON t.id = v.transfer JOIN accounts d ON d.id = v.debit \
         JOIN accounts c ON c.id = v.credit",
        crate::sql::JOURNAL_COLUMNS
    ))
    .bind(transfers)
    .bind(debits)
    .bind(credits)
    .bind(offices)
    .bind(recorders)
    .bind(previous)
    .bind(hashes)
    .bind(years)
    .bind(sequences)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted != chunk.len() as u64 {
        return Err(crate::StoreError::Corrupt {
            table: "journal",
            detail: format!(
                "{} of {} journal entries name a transfer or account this load does not hold",
                chunk.len() as u64 - inserted,
                chunk.len()
            ),
        });
    }
    Ok(())
}

/// Each office's new chain head after a load.
async fn write_chain_heads(
    tx: &mut sqlx::PgConnection,
    booking: &crate::Booking<'_>,
) -> Result<(), crate::StoreError> {
    let mut heads: std::collections::BTreeMap<String, (i64, String)> = Default::default();
    for r in booking.new_entries() {
        heads.insert(
            r.entry.office.to_string(),
            (r.sequence as i64, counterpart_domain::ledger::hex(&r.hash)),
        );
    }
    for (office, (sequence, hash)) in heads {
        sqlx::query(
            "INSERT INTO chain_heads (office, sequence, hash) VALUES ($1, $2, $3) \
             ON CONFLICT (office) DO UPDATE SET sequence = excluded.sequence, hash = excluded.hash",
        )
        .bind(office)
        .bind(sequence)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// The reads of a recheck on PostgreSQL: one transaction.
struct PgRecheck(sqlx::Transaction<'static, sqlx::Postgres>);

#[async_trait::async_trait]
impl crate::recheck::Source for PgRecheck {
    async fn read(
        &mut self,
        read: crate::recheck::Read,
        scan: &mut dyn crate::LedgerScan,
    ) -> Result<std::ops::ControlFlow<()>, StoreError> {
        use futures_util::TryStreamExt;
        let (sql, office) = read.sql();
        let mut query = sqlx::query(&sql);
        if let Some(office) = office {
            query = query.bind(office);
        }
        let mut rows = query.fetch(&mut *self.0);
        while let Some(row) = rows.try_next().await? {
            if scan.row(read.decode(&row)?).is_break() {
                return Ok(std::ops::ControlFlow::Break(()));
            }
        }
        Ok(std::ops::ControlFlow::Continue(()))
    }
}
