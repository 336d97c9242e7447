//! What the SQL backends share: the queries (written once, portable between SQLite and
//! PostgreSQL), the [`Backend`] trait each of them implements (its pool, its transaction
//! statements, its bulk load and long read), and [`Store`] written once for every backend.
//!
//! The generic code needs its driver to bind and read the column types we use; those bounds
//! are spelled out on each `impl` (Rust does not carry a trait's where-clauses to its users).

use crate::StoreError;
use crate::codec::{ColumnType, Table, Value};
use crate::{AuditEntry, Booking, Pending, Store};
use async_trait::async_trait;
use counterpart_domain::ledger::{Account, AccountKind, Entry, Phase, Recorded};
use counterpart_domain::project::TransferKind;
use counterpart_domain::records::Records;
use counterpart_domain::{Currency, Fen, ParseError, RecordId, RegionCode, Year, parse_date};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, Type};

/// SQLite allows 32,766 bound values per statement and PostgreSQL 65,535; stay below both.
pub(crate) const MAX_BOUND_VALUES: usize = 30_000;

pub(crate) const FUNDS: &str = "
    SELECT CAST(substr(t.value_date, 1, 4) AS BIGINT), p.provider, p.recipient, p.category, t.kind,
           CAST(SUM(t.amount_fen) AS BIGINT), CAST(COUNT(*) AS BIGINT),
           CAST(MAX(CASE WHEN t.provenance = 'simulated' OR p.provenance = 'simulated' THEN 1 ELSE 0 END) AS BIGINT)
    FROM transfers t JOIN projects p ON p.id = t.project";
pub(crate) const FUNDS_UNTIL: &str = " WHERE t.value_date <= ";
pub(crate) const FUNDS_GROUP: &str = " GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5";

pub(crate) const PROJECTS: &str = "
    SELECT year, provider, recipient, category, status, CAST(COUNT(*) AS BIGINT), CAST(SUM(budget_fen) AS BIGINT),
           CAST(MAX(CASE WHEN provenance = 'simulated' THEN 1 ELSE 0 END) AS BIGINT)
    FROM projects GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5";

pub(crate) const POSTINGS: &str = "
    SELECT CAST(substr(ps.start_date, 1, 4) AS BIGINT), pe.provider, po.recipient, ps.role, CAST(COUNT(*) AS BIGINT),
           CAST(MAX(CASE WHEN ps.provenance = 'simulated' OR pe.provenance = 'simulated' THEN 1 ELSE 0 END) AS BIGINT)
    FROM postings ps JOIN people pe ON pe.id = ps.person JOIN posts po ON po.id = ps.post
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4";

pub(crate) const PEOPLE_POSTED: &str = "
    SELECT CAST(COUNT(DISTINCT ps.person) AS BIGINT),
           CAST(COALESCE(MAX(CASE WHEN pe.provenance = 'simulated' THEN 1 ELSE 0 END), 0) AS BIGINT)
    FROM postings ps JOIN people pe ON pe.id = ps.person JOIN posts po ON po.id = ps.post";

pub(crate) const TRADE: &str = "
    SELECT year, provider, recipient, CAST(SUM(value_fen) AS BIGINT), CAST(0 AS BIGINT),
           CAST(MAX(CASE WHEN provenance = 'simulated' THEN 1 ELSE 0 END) AS BIGINT)
    FROM purchases GROUP BY 1, 2, 3
    UNION ALL
    SELECT year, provider, recipient, CAST(0 AS BIGINT), CAST(SUM(people) AS BIGINT),
           CAST(MAX(CASE WHEN provenance = 'simulated' THEN 1 ELSE 0 END) AS BIGINT)
    FROM exchanges GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3";

/// Journal entries with their transfers and accounts by id (the journal stores their integer
/// keys, `n`).
pub(crate) const JOURNAL_SELECT: &str = "
    SELECT t.id, d.id, c.id, t.amount_fen, t.currency, t.kind, t.value_date, t.phase, t.pending_of,
           t.corrects, j.corrects_year, j.office, j.recorded_by, j.sequence, j.previous_hash, j.hash
    FROM journal j JOIN transfers t ON t.n = j.transfer
    JOIN accounts d ON d.n = j.debit JOIN accounts c ON c.n = j.credit";
pub(crate) const JOURNAL_ORDER: &str = " ORDER BY j.office, j.sequence";

pub(crate) fn account_of<R: Row>(row: &R) -> Result<Account, StoreError>
where
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(Account {
        id: RecordId::parse(&text_of(row, 0)?).map_err(corrupt("accounts"))?,
        kind: account_kind(&text_of(row, 1)?)?,
        currency: Currency::parse(&text_of(row, 2)?).map_err(corrupt("accounts"))?,
        debits_posted: fen_of(row, 3, "accounts")?,
        credits_posted: fen_of(row, 4, "accounts")?,
        debits_pending: fen_of(row, 5, "accounts")?,
        credits_pending: fen_of(row, 6, "accounts")?,
        closed: int_of(row, 7)? != 0,
    })
}

pub(crate) fn recorded_of<R: Row>(row: &R) -> Result<Recorded, StoreError>
where
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    let id = |s: String, table| RecordId::parse(&s).map_err(corrupt(table));
    let corrects: Option<String> = row.try_get(9)?;
    let corrects_year: Option<i64> = row.try_get(10)?;
    let entry = Entry {
        id: id(text_of(row, 0)?, "journal")?,
        debit: id(text_of(row, 1)?, "journal")?,
        credit: id(text_of(row, 2)?, "journal")?,
        amount: fen_of(row, 3, "transfers")?,
        currency: Currency::parse(&text_of(row, 4)?).map_err(corrupt("transfers"))?,
        kind: TransferKind::parse(&text_of(row, 5)?).map_err(corrupt("transfers"))?,
        value_date: parse_date(&text_of(row, 6)?).map_err(corrupt("transfers"))?,
        phase: phase_of(&text_of(row, 7)?, row.try_get(8)?)?,
        corrects: corrects.map(|c| id(c, "transfers")).transpose()?,
        corrects_year: corrects_year
            .map(|y| Year::new(y as u16))
            .transpose()
            .map_err(corrupt("journal"))?,
        office: RegionCode::parse(&text_of(row, 11)?).map_err(corrupt("journal"))?,
        recorded_by: text_of(row, 12)?,
    };
    Ok(Recorded {
        entry,
        sequence: count_of(row, 13)?,
        previous_hash: hash_of(row.try_get(14)?)?,
        hash: hash_of(row.try_get(15)?)?,
    })
}

pub(crate) const ACCOUNTS: &str = "
    SELECT id, kind, currency, debits_posted, credits_posted, debits_pending, credits_pending, closed FROM accounts";

pub(crate) const UPSERT_ACCOUNT_TAIL: &str =
    " ON CONFLICT (id) DO UPDATE SET debits_posted = excluded.debits_posted,
    credits_posted = excluded.credits_posted, debits_pending = excluded.debits_pending,
    credits_pending = excluded.credits_pending, closed = excluded.closed";

/// The columns a journal insert names, in the order [`push_journal_row`] binds them.
pub(crate) const JOURNAL_COLUMNS: &str = "INSERT INTO journal (transfer, debit, credit, office, \
     recorded_by, previous_hash, hash, corrects_year, sequence) ";

/// One journal entry's values for an insert through sqlx: its transfer and accounts named by
/// id and stored by their keys, its hashes as bytes.
pub(crate) fn push_journal_row<'q, DB>(
    b: &mut sqlx::query_builder::Separated<'_, 'q, DB, &str>,
    r: &Recorded,
) where
    DB: sqlx::Database,
    String: sqlx::Encode<'q, DB> + Type<DB>,
    Vec<u8>: sqlx::Encode<'q, DB> + Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + Type<DB>,
    i64: sqlx::Encode<'q, DB> + Type<DB>,
{
    b.push("(SELECT n FROM transfers WHERE id = ")
        .push_bind_unseparated(r.entry.id.to_string())
        .push_unseparated(")");
    for account in [&r.entry.debit, &r.entry.credit] {
        b.push("(SELECT n FROM accounts WHERE id = ")
            .push_bind_unseparated(account.to_string())
            .push_unseparated(")");
    }
    b.push_bind(r.entry.office.to_string())
        .push_bind(r.entry.recorded_by.clone())
        .push_bind(r.previous_hash.to_vec())
        .push_bind(r.hash.to_vec())
        .push_bind(r.entry.corrects_year.map(|y| i64::from(y.get())))
        .push_bind(r.sequence as i64);
}

/// A stored hash: exactly 32 bytes.
pub(crate) fn hash_of(bytes: Vec<u8>) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| StoreError::Corrupt {
        table: "journal",
        detail: format!("a hash of {} bytes, not 32", bytes.len()),
    })
}

pub(crate) fn phase_of(phase: &str, pending_of: Option<String>) -> Result<Phase, StoreError> {
    let pending = pending_of
        .map(|p| RecordId::parse(&p))
        .transpose()
        .map_err(corrupt("transfers"))?;
    Phase::parse(phase, pending).map_err(corrupt("transfers"))
}

pub(crate) fn account_kind(kind: &str) -> Result<AccountKind, StoreError> {
    [
        AccountKind::Source,
        AccountKind::Committed,
        AccountKind::Disbursed,
        AccountKind::Spent,
    ]
    .into_iter()
    .find(|k| k.code() == kind)
    .ok_or_else(|| StoreError::Corrupt {
        table: "accounts",
        detail: format!("unknown kind {kind:?}"),
    })
}

pub(crate) fn corrupt(table: &'static str) -> impl Fn(ParseError) -> StoreError {
    move |e| StoreError::Corrupt {
        table,
        detail: e.to_string(),
    }
}

pub(crate) fn int_of<R: Row>(row: &R, i: usize) -> Result<i64, StoreError>
where
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(row.try_get::<i64, _>(i)?)
}

/// An amount of money in `table`, refused as corrupt when negative.
pub(crate) fn fen_of<R: Row>(row: &R, i: usize, table: &'static str) -> Result<Fen, StoreError>
where
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    Fen::try_new(int_of(row, i)?).map_err(corrupt(table))
}

pub(crate) fn text_of<R: Row>(row: &R, i: usize) -> Result<String, StoreError>
where
    usize: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(row.try_get::<String, _>(i)?)
}

pub(crate) fn year_of<R: Row>(row: &R, i: usize, table: &'static str) -> Result<Year, StoreError>
where
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let y = int_of(row, i)?;
    Year::new(u16::try_from(y).unwrap_or(0)).map_err(corrupt(table))
}

pub(crate) fn region_of<R: Row>(
    row: &R,
    i: usize,
    table: &'static str,
) -> Result<RegionCode, StoreError>
where
    usize: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    RegionCode::parse(&text_of(row, i)?).map_err(corrupt(table))
}

pub(crate) fn count_of<R: Row>(row: &R, i: usize) -> Result<u64, StoreError>
where
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(u64::try_from(int_of(row, i)?).unwrap_or(0))
}

/// What a SQL backend supplies; [`Store`] and [`crate::Access`] are written once over it.
pub(crate) trait Backend: Send + Sync {
    type Db: Database<QueryResult: Affected>;
    /// The statement that opens a write transaction.
    const BEGIN: &'static str;
    /// The statement that opens a read of one consistent snapshot.
    const READ: &'static str;
    /// What a locking read ends with (`FOR NO KEY UPDATE` on PostgreSQL; nothing on SQLite,
    /// whose writers are serialised).
    const LOCK: &'static str;
    /// This process's turn to write, held while it lives.
    type Turn<'a>: Send
    where
        Self: 'a;

    fn pool(&self) -> &sqlx::Pool<Self::Db>;

    /// Wait for this process's turn to write.
    fn write_turn(&self) -> impl Future<Output = Self::Turn<'_>> + Send;

    /// The bulk write behind [`Store::load`], which each backend does its own way.
    fn load_rows(
        &self,
        records: &Records,
        booking: &Booking<'_>,
        audit: Option<&AuditEntry>,
        progress: &(dyn Fn(usize) + Sync),
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The load behind [`Store::load_booking`].
    fn load_booking_rows(
        &self,
        records: &Records,
        order: &[usize],
        booking: Pending<'_>,
        audit: Option<&AuditEntry>,
        progress: &(dyn Fn(usize) + Sync),
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Run a statement built with [`sqlx::QueryBuilder`] and return its rows. The one query
    /// step written per backend: each driver's arguments may be lent for less than their own
    /// lifetime (they are covariant), which generic code cannot see through
    /// `Database::Arguments<'q>`; there a `build()` would have to outlive its own builder.
    fn fetch_built(
        query: &mut sqlx::QueryBuilder<'_, Self::Db>,
        on: &mut <Self::Db as Database>::Connection,
    ) -> impl Future<Output = Result<Vec<<Self::Db as Database>::Row>, sqlx::Error>> + Send;

    /// The long read behind [`Store::recheck`].
    fn recheck(
        &self,
        scan: &mut dyn crate::LedgerScan,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The long read behind [`Store::stream_rows`].
    fn scan_rows(
        &self,
        table: &'static Table,
        sink: &mut (dyn for<'r> FnMut(&'r [Value]) -> Result<(), StoreError> + Send),
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// How many rows a statement changed: each driver has its own result type.
pub(crate) trait Affected {
    fn rows_affected(&self) -> u64;
}

impl Affected for sqlx::sqlite::SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        sqlx::sqlite::SqliteQueryResult::rows_affected(self)
    }
}

impl Affected for sqlx::postgres::PgQueryResult {
    fn rows_affected(&self) -> u64 {
        sqlx::postgres::PgQueryResult::rows_affected(self)
    }
}

/// One row's values, in the order of `table.columns`, into `cells`.
pub(crate) fn cells<R: Row>(
    row: &R,
    table: &'static Table,
    cells: &mut Vec<Value>,
) -> Result<(), sqlx::Error>
where
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    cells.clear();
    for (i, (_, ty)) in table.columns.iter().enumerate() {
        cells.push(match ty {
            ColumnType::Int => row
                .try_get::<Option<i64>, _>(i)?
                .map_or(Value::Null, Value::Int),
            ColumnType::Text => row
                .try_get::<Option<String>, _>(i)?
                .map_or(Value::Null, |t| Value::Text(t.into())),
        });
    }
    Ok(())
}

/// Rows of `table` (read with its columns in order) as values, in the rows' order.
fn values_of<R: Row>(
    table: &'static Table,
    rows: &[R],
) -> Result<Vec<Vec<Value<'static>>>, StoreError>
where
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    let mut values = Vec::with_capacity(rows.len());
    for row in rows {
        let mut row_cells = Vec::with_capacity(table.columns.len());
        cells(row, table, &mut row_cells)?;
        values.push(row_cells);
    }
    Ok(values)
}

/// Rows of `table` (read with its columns in order) decoded into records, in the rows' order.
pub(crate) fn decode_rows<R: Row>(table: &'static Table, rows: &[R]) -> Result<Records, StoreError>
where
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    let mut records = Records::default();
    crate::codec::decode(&mut records, table, &values_of(table, rows)?)?;
    Ok(records)
}

/// Every row of `tables`, each table in key order, decoded.
async fn read<DB: Database>(
    pool: &sqlx::Pool<DB>,
    tables: &[&'static Table],
) -> Result<Records, StoreError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    usize: ColumnIndex<DB::Row>,
    for<'r> i64: Decode<'r, DB> + Type<DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
{
    let mut records = Records::default();
    for table in tables {
        let columns: Vec<_> = table.columns.iter().map(|c| c.0).collect();
        let sql = format!("SELECT {} FROM {}", columns.join(", "), table.name);
        let rows = sqlx::query(&sql).fetch_all(pool).await?;
        let mut values = values_of(table, &rows)?;
        table.sort_by_key(&mut values);
        crate::codec::decode(&mut records, table, &values)?;
    }
    Ok(records)
}

/// Write an audit line in the transaction of the write it records.
pub(crate) async fn insert_audit<DB: Database>(
    tx: &mut sqlx::Transaction<'_, DB>,
    audit: &AuditEntry,
) -> Result<(), sqlx::Error>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB>,
{
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target, before, after) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&audit.at)
    .bind(&audit.actor)
    .bind(&audit.action)
    .bind(&audit.target)
    .bind(&audit.before)
    .bind(&audit.after)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Insert encoded rows of `table` (from `codec::encode`), as many per statement as the
/// bound-value limit allows; `progress` hears the running count.
pub(crate) async fn insert_rows<B: Backend>(
    tx: &mut sqlx::Transaction<'_, B::Db>,
    table: &'static Table,
    rows: &[Vec<Value<'_>>],
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<(), sqlx::Error>
where
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'q> i64: Encode<'q, B::Db> + Type<B::Db>,
    for<'q> String: Encode<'q, B::Db> + Type<B::Db>,
    for<'q> Option<i64>: Encode<'q, B::Db>,
    for<'q> Option<String>: Encode<'q, B::Db>,
{
    let columns: Vec<_> = table.columns.iter().map(|c| c.0).collect();
    let per_statement = (MAX_BOUND_VALUES / columns.len()).max(1);
    for chunk in rows.chunks(per_statement) {
        let mut insert = sqlx::QueryBuilder::<B::Db>::new(format!(
            "INSERT INTO {} ({}) ",
            table.name,
            columns.join(", ")
        ));
        insert.push_values(chunk, |mut b, row| {
            for (value, (_, ty)) in row.iter().zip(table.columns) {
                match (value, ty) {
                    (Value::Int(i), _) => b.push_bind(*i),
                    (Value::Text(s), _) => b.push_bind(s.to_string()),
                    (Value::Null, ColumnType::Int) => b.push_bind(None::<i64>),
                    (Value::Null, ColumnType::Text) => b.push_bind(None::<String>),
                };
            }
        });
        B::fetch_built(&mut insert, &mut **tx).await?;
        progress(chunk.len());
    }
    Ok(())
}

/// The one row a query returns, as `fetch_one` would have it.
pub(crate) fn only<R>(rows: Vec<R>) -> Result<R, sqlx::Error> {
    rows.into_iter().next().ok_or(sqlx::Error::RowNotFound)
}

#[async_trait]
impl<B> Store for B
where
    B: Backend,
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    usize: ColumnIndex<<B::Db as Database>::Row>,
    for<'q> i64: Encode<'q, B::Db> + Decode<'q, B::Db> + Type<B::Db>,
    for<'q> String: Encode<'q, B::Db> + Decode<'q, B::Db> + Type<B::Db>,
    for<'q> &'q str: Encode<'q, B::Db> + Type<B::Db>,
    for<'q> Vec<u8>: Encode<'q, B::Db> + Decode<'q, B::Db> + Type<B::Db>,
    for<'q> Option<i64>: Encode<'q, B::Db>,
    for<'q> Option<String>: Encode<'q, B::Db>,
{
    async fn load(
        &self,
        records: &counterpart_domain::records::Records,
        booking: &crate::Booking<'_>,
        audit: Option<&crate::AuditEntry>,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<(), crate::StoreError> {
        self.load_rows(records, booking, audit, progress).await
    }

    async fn load_booking(
        &self,
        records: &counterpart_domain::records::Records,
        order: &[usize],
        booking: crate::Pending<'_>,
        audit: Option<&crate::AuditEntry>,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<bool, crate::StoreError> {
        self.load_booking_rows(records, order, booking, audit, progress)
            .await
    }

    async fn post(
        &self,
        entry: &counterpart_domain::ledger::Entry,
        project: &counterpart_domain::RecordId,
        open: &[counterpart_domain::ledger::Account],
        audit: Option<&crate::AuditEntry>,
    ) -> Result<counterpart_domain::ledger::Applied, crate::PostError> {
        use counterpart_domain::ledger::{Applied, Ledger, Phase};
        let _writer = self.write_turn().await;
        let mut tx = self.pool().begin_with(B::BEGIN).await?;
        // Lock order, the same for every posting: the office's chain head, then the
        // accounts it opens and touches, by id. Concurrent offices never deadlock.
        let office = entry.office.to_string();
        sqlx::query("INSERT INTO chain_heads (office, sequence, hash) VALUES ($1, 0, '') ON CONFLICT (office) DO NOTHING")
                    .bind(&office)
                    .execute(&mut *tx)
                    .await?;
        let head: i64 = sqlx::query_scalar(&format!(
            "SELECT sequence FROM chain_heads WHERE office = $1{}",
            B::LOCK
        ))
        .bind(&office)
        .fetch_one(&mut *tx)
        .await?;
        let mut opening: Vec<_> = open.iter().collect();
        opening.sort_by(|a, b| a.id.cmp(&b.id));
        for a in opening {
            sqlx::query(
                        "INSERT INTO accounts (id, kind, currency) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(a.id.to_string())
                    .bind(a.kind.code())
                    .bind(a.currency.to_string())
                    .execute(&mut *tx)
                    .await?;
        }
        let mut ids = vec![entry.debit.to_string(), entry.credit.to_string()];
        ids.sort();
        ids.dedup();
        let mut accounts = Vec::new();
        for id in &ids {
            let sql = format!("{ACCOUNTS} WHERE id = $1{}", B::LOCK);
            if let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(&mut *tx).await? {
                accounts.push(account_of(&row)?);
            }
        }
        // The journal rows the rules need: this id, the pending transfer and what resolved
        // it, the original and its reversal, and the head of the office's chain.
        let pending = match &entry.phase {
            Phase::Post(p) | Phase::Void(p) => p.to_string(),
            _ => String::new(),
        };
        let corrects = entry
            .corrects
            .as_ref()
            .map_or(String::new(), |c| c.to_string());
        let sql = format!(
            "{JOURNAL_SELECT} WHERE t.id IN (SELECT $1 UNION SELECT $2 UNION SELECT $3 \
                     UNION SELECT id FROM transfers WHERE pending_of = $2 \
                     UNION SELECT id FROM transfers WHERE corrects = $3 AND kind = 'reversal' \
                     UNION SELECT h.id FROM journal k JOIN transfers h ON h.n = k.transfer \
                     WHERE k.office = $4 AND k.sequence = $5) {JOURNAL_ORDER}"
        );
        let rows = sqlx::query(&sql)
            .bind(entry.id.to_string())
            .bind(&pending)
            .bind(&corrects)
            .bind(&office)
            .bind(head)
            .fetch_all(&mut *tx)
            .await?;
        let known = rows
            .iter()
            .map(recorded_of)
            .collect::<Result<Vec<_>, _>>()?;
        let closed: Vec<i64> = sqlx::query_scalar("SELECT year FROM closed_years")
            .fetch_all(&mut *tx)
            .await?;
        let closed = closed
            .into_iter()
            .filter_map(|y| counterpart_domain::Year::new(y as u16).ok());
        let mut ledger = Ledger::restore(accounts, known, closed);
        let applied = ledger.apply(entry.clone())?;
        let Applied::Created(recorded) = &applied else {
            return Ok(applied); // a retry: nothing to write, the transaction rolls back
        };
        let e = &recorded.entry;
        sqlx::query(
                    "INSERT INTO transfers (id, project, kind, amount_fen, currency, value_date, corrects, phase, \
                     pending_of, provenance) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'recorded')",
                )
                .bind(e.id.to_string())
                .bind(project.to_string())
                .bind(e.kind.code())
                .bind(e.amount.get())
                .bind(e.currency.to_string())
                .bind(e.value_date.to_string())
                .bind(e.corrects.as_ref().map(|c| c.to_string()))
                .bind(e.phase.code())
                .bind(e.phase.pending().map(|p| p.to_string()))
                .execute(&mut *tx)
                .await?;
        let mut insert = sqlx::QueryBuilder::<B::Db>::new(JOURNAL_COLUMNS);
        insert.push_values([recorded], |mut b, r| push_journal_row(&mut b, r));
        B::fetch_built(&mut insert, &mut *tx).await?;
        for id in [&e.debit, &e.credit] {
            let a = &ledger.accounts[id];
            sqlx::query(
                "UPDATE accounts SET debits_posted = $1, credits_posted = $2, debits_pending = $3, \
                         credits_pending = $4 WHERE id = $5",
            )
            .bind(a.debits_posted.get())
            .bind(a.credits_posted.get())
            .bind(a.debits_pending.get())
            .bind(a.credits_pending.get())
            .bind(a.id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE chain_heads SET sequence = $1, hash = $2 WHERE office = $3")
            .bind(recorded.sequence as i64)
            .bind(counterpart_domain::ledger::hex(&recorded.hash))
            .bind(&office)
            .execute(&mut *tx)
            .await?;
        if let Some(audit) = audit {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(applied)
    }

    async fn project_office(
        &self,
        project: &counterpart_domain::RecordId,
    ) -> Result<
        Option<(counterpart_domain::RegionCode, counterpart_domain::Currency)>,
        crate::StoreError,
    > {
        let row: Option<(String, Option<String>)> = sqlx::query_as(
                    "SELECT p.provider, (SELECT currency FROM program LIMIT 1) FROM projects p WHERE p.id = $1",
                )
                .bind(project.to_string())
                .fetch_optional(self.pool())
                .await?;
        let Some((office, currency)) = row else {
            return Ok(None);
        };
        let office = counterpart_domain::RegionCode::parse(&office)
            .map_err(crate::sql::corrupt("projects"))?;
        let currency = currency
            .map(|c| {
                counterpart_domain::Currency::parse(&c).map_err(crate::sql::corrupt("program"))
            })
            .transpose()?
            .unwrap_or(counterpart_domain::Currency::CNY);
        Ok(Some((office, currency)))
    }

    async fn project_offices(
        &self,
        projects: &[counterpart_domain::RecordId],
    ) -> Result<
        std::collections::HashMap<counterpart_domain::RecordId, counterpart_domain::RegionCode>,
        crate::StoreError,
    > {
        let mut found = std::collections::HashMap::new();
        for chunk in projects.chunks(MAX_BOUND_VALUES) {
            let mut query =
                sqlx::QueryBuilder::<B::Db>::new("SELECT id, provider FROM projects WHERE id IN (");
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(id.to_string());
            }
            query.push(")");
            let rows = B::fetch_built(&mut query, &mut *self.pool().acquire().await?).await?;
            for row in &rows {
                let (id, provider) = (text_of(row, 0)?, text_of(row, 1)?);
                found.insert(
                    counterpart_domain::RecordId::parse(&id).map_err(corrupt("projects"))?,
                    counterpart_domain::RegionCode::parse(&provider)
                        .map_err(corrupt("projects"))?,
                );
            }
        }
        Ok(found)
    }

    async fn accounts(
        &self,
        ids: &[counterpart_domain::RecordId],
    ) -> Result<Vec<counterpart_domain::ledger::Account>, crate::StoreError> {
        let mut found = Vec::new();
        for chunk in ids.chunks(MAX_BOUND_VALUES) {
            let mut query = sqlx::QueryBuilder::<B::Db>::new(format!("{ACCOUNTS} WHERE id IN ("));
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(id.to_string());
            }
            query.push(") ORDER BY id");
            let rows = B::fetch_built(&mut query, &mut *self.pool().acquire().await?).await?;
            for row in &rows {
                found.push(account_of(row)?);
            }
        }
        found.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(found)
    }

    async fn transfer(
        &self,
        id: &counterpart_domain::RecordId,
    ) -> Result<Option<counterpart_domain::ledger::Recorded>, crate::StoreError> {
        let row = sqlx::query(&format!("{JOURNAL_SELECT} WHERE t.id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(recorded_of).transpose()
    }

    async fn close_year(&self, year: counterpart_domain::Year) -> Result<(), crate::StoreError> {
        let _writer = self.write_turn().await;
        let mut tx = self.pool().begin_with(B::BEGIN).await?;
        sqlx::query("INSERT INTO closed_years (year) VALUES ($1) ON CONFLICT (year) DO NOTHING")
            .bind(i64::from(year.get()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn ledger(&self) -> Result<counterpart_domain::ledger::Ledger, crate::StoreError> {
        Ok(self.audit().await?.ledger)
    }

    async fn audit(&self) -> Result<crate::Audit, crate::StoreError> {
        use counterpart_domain::Year;
        use counterpart_domain::ledger::Ledger;
        // One snapshot, so that concurrent postings never show half-written.
        let mut tx = self.pool().begin_with(B::READ).await?;
        let rows = sqlx::query(ACCOUNTS).fetch_all(&mut *tx).await?;
        let accounts = rows.iter().map(account_of).collect::<Result<Vec<_>, _>>()?;
        let rows = sqlx::query(&format!("{JOURNAL_SELECT}{JOURNAL_ORDER}"))
            .fetch_all(&mut *tx)
            .await?;
        let journal = rows
            .iter()
            .map(recorded_of)
            .collect::<Result<Vec<_>, _>>()?;
        let closed: Vec<i64> = sqlx::query_scalar("SELECT year FROM closed_years")
            .fetch_all(&mut *tx)
            .await?;
        let closed = closed.into_iter().filter_map(|y| Year::new(y as u16).ok());
        let unjournaled: Vec<String> = sqlx::query_scalar(
                    "SELECT t.id FROM transfers t WHERE NOT EXISTS (SELECT 1 FROM journal j WHERE j.transfer = t.n) ORDER BY t.id",
                )
                .fetch_all(&mut *tx)
                .await?;
        tx.rollback().await?;
        Ok(crate::Audit {
            ledger: Ledger::restore(accounts, journal, closed),
            unjournaled,
        })
    }

    async fn recheck(&self, scan: &mut dyn crate::LedgerScan) -> Result<(), crate::StoreError> {
        Backend::recheck(self, scan).await
    }

    async fn records(&self) -> Result<counterpart_domain::records::Records, crate::StoreError> {
        read(self.pool(), &crate::codec::TABLES).await
    }

    async fn stream_rows(
        &self,
        table: &'static crate::codec::Table,
        sink: &mut (
                 dyn for<'r> FnMut(&'r [crate::codec::Value]) -> Result<(), crate::StoreError>
                     + Send
             ),
    ) -> Result<u64, crate::StoreError> {
        self.scan_rows(table, sink).await
    }

    async fn frame(&self) -> Result<counterpart_domain::records::Records, crate::StoreError> {
        read(self.pool(), &crate::codec::FRAME_TABLES).await
    }

    async fn keys(&self) -> Result<crate::Keys, crate::StoreError> {
        let mut keys = crate::Keys::new();
        for table in crate::codec::TABLES {
            let sql = format!("SELECT {} FROM {}", table.key_sql(), table.name);
            let found: Vec<String> = sqlx::query_scalar(&sql).fetch_all(self.pool()).await?;
            keys.insert(table.name, found.into_iter().collect());
        }
        Ok(keys)
    }

    async fn funds(
        &self,
        until: Option<counterpart_domain::Date>,
    ) -> Result<Vec<crate::FundsRow>, crate::StoreError> {
        let mut query = sqlx::QueryBuilder::<B::Db>::new(FUNDS);
        if let Some(until) = until {
            query.push(FUNDS_UNTIL).push_bind(until.to_string());
        }
        query.push(FUNDS_GROUP);
        let rows = B::fetch_built(&mut query, &mut *self.pool().acquire().await?).await?;
        rows.iter()
            .map(|row| {
                Ok(crate::FundsRow {
                    year: year_of(row, 0, "transfers")?,
                    provider: region_of(row, 1, "projects")?,
                    recipient: region_of(row, 2, "projects")?,
                    category: counterpart_domain::project::Category::parse(&text_of(row, 3)?)
                        .map_err(corrupt("projects"))?,
                    kind: counterpart_domain::project::TransferKind::parse(&text_of(row, 4)?)
                        .map_err(corrupt("transfers"))?,
                    amount: fen_of(row, 5, "transfers")?,
                    transfers: count_of(row, 6)?,
                    simulated: int_of(row, 7)? == 1,
                })
            })
            .collect()
    }

    async fn projects_summary(&self) -> Result<Vec<crate::ProjectsRow>, crate::StoreError> {
        let rows = sqlx::query(PROJECTS).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok(crate::ProjectsRow {
                    year: year_of(row, 0, "projects")?,
                    provider: region_of(row, 1, "projects")?,
                    recipient: region_of(row, 2, "projects")?,
                    category: counterpart_domain::project::Category::parse(&text_of(row, 3)?)
                        .map_err(corrupt("projects"))?,
                    status: counterpart_domain::project::ProjectStatus::parse(&text_of(row, 4)?)
                        .map_err(corrupt("projects"))?,
                    projects: count_of(row, 5)?,
                    budget: fen_of(row, 6, "projects")?,
                    simulated: int_of(row, 7)? == 1,
                })
            })
            .collect()
    }

    async fn postings_summary(&self) -> Result<Vec<crate::PostingsRow>, crate::StoreError> {
        let rows = sqlx::query(POSTINGS).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok(crate::PostingsRow {
                    year: year_of(row, 0, "postings")?,
                    provider: region_of(row, 1, "people")?,
                    recipient: region_of(row, 2, "posts")?,
                    role: counterpart_domain::people::Role::parse(&text_of(row, 3)?)
                        .map_err(corrupt("postings"))?,
                    postings: count_of(row, 4)?,
                    simulated: int_of(row, 5)? == 1,
                })
            })
            .collect()
    }

    async fn people_posted(
        &self,
        scope: &crate::PeopleScope,
    ) -> Result<crate::PeopleCount, crate::StoreError> {
        let mut query = sqlx::QueryBuilder::<B::Db>::new(PEOPLE_POSTED);
        match scope {
            crate::PeopleScope::All => {}
            crate::PeopleScope::Provider(provider) => {
                query
                    .push(" WHERE pe.provider = ")
                    .push_bind(provider.as_str().to_owned());
            }
            crate::PeopleScope::Recipients(recipients) => {
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
        let row = only(B::fetch_built(&mut query, &mut *self.pool().acquire().await?).await?)?;
        Ok(crate::PeopleCount {
            people: count_of(&row, 0)?,
            simulated: int_of(&row, 1)? == 1,
        })
    }

    async fn trade(&self) -> Result<Vec<crate::TradeRow>, crate::StoreError> {
        let rows = sqlx::query(TRADE).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok(crate::TradeRow {
                    year: year_of(row, 0, "purchases")?,
                    provider: region_of(row, 1, "purchases")?,
                    recipient: region_of(row, 2, "purchases")?,
                    purchases: fen_of(row, 3, "purchases")?,
                    visitors: count_of(row, 4)?,
                    simulated: int_of(row, 5)? == 1,
                })
            })
            .collect()
    }
}
