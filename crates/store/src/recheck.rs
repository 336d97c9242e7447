//! The long read behind [`crate::Store::recheck`]: the ledger handed over row by row from one
//! consistent snapshot, in memory that does not grow with the journal. The store only reads;
//! what the rows must satisfy is decided by whoever receives them ([`LedgerScan`]; the
//! domain's `ledger::recheck`).
//!
//! The reads, in the order [`drive`] makes them (each one query, all in one snapshot; a
//! backend may split a read across connections of that snapshot, as SQLite's does):
//! accounts; the journal in the order its rows are stored (transfer key order, for the stores
//! here the order transfers were recorded in: the cheapest order to read, where office and
//! sequence order jumps about the table); again in sequence order, each office the receiver
//! asks for; resolutions by pending transfer; reversals by reversed transfer; the number of
//! stored transfers; on request the first transfer with no journal entry, and every account
//! with the journal's sums for it (grouped by the database, which spills to disk past its
//! memory).

use crate::StoreError;
use crate::sql::{account_kind, corrupt, phase_of};
use counterpart_domain::ledger::recheck::Resolving;
use counterpart_domain::ledger::{Account, Entry, Recorded};
use counterpart_domain::project::TransferKind;
use counterpart_domain::{Currency, Fen, RecordId, RegionCode, Year, parse_date};
use std::ops::ControlFlow;

/// One row of a recheck.
#[derive(Debug, Clone)]
pub enum Scanned {
    /// An account with its cached balances.
    Account(Account),
    /// A journal entry, in the store's order within its run: a store may read the journal in
    /// several runs side by side, run `k + 1` following run `k` in its order (see
    /// `Recheck::entry_in`).
    Entry { run: usize, entry: Recorded },
    /// A journal entry of an office read again, in sequence order.
    InSequence(Recorded),
    /// A journal entry that names a transfer the store does not hold.
    Orphan { office: RegionCode, sequence: u64 },
    /// The transfer of a journal entry that names an account the store does not hold.
    UnknownAccount(RecordId),
    /// A journaled post or void of `pending`, with the pending transfer as journaled (`None`
    /// when there is none).
    Resolution {
        pending: RecordId,
        by: Resolving,
        original: Option<Resolving>,
    },
    /// A journaled reversal of the transfer named.
    Reversal(RecordId),
    /// How many transfers the store holds, journaled or not.
    Transfers(u64),
    /// A transfer with no journal entry.
    Unjournaled(String),
    /// An account with the journal's sums for it: debits posted, credits posted, debits
    /// pending, credits pending.
    Balance(Account, [i64; 4]),
}

/// Who receives a recheck's rows, and decides what more to read.
pub trait LedgerScan: Send {
    /// One row; `Break` ends the recheck (the receiver keeps why).
    fn row(&mut self, row: Scanned) -> ControlFlow<()>;
    /// After the journal: the offices to read again in sequence order.
    fn reread(&mut self) -> Vec<RegionCode>;
    /// After [`Scanned::Transfers`]: whether to look for a transfer with no journal entry.
    fn wants_unjournaled(&mut self) -> bool;
    /// Last: whether to read every account with the journal's sums for it.
    fn wants_balances(&mut self) -> bool;
}

/// One read of a recheck.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Read {
    Accounts,
    Journal,
    Office(RegionCode),
    Resolutions,
    Reversals,
    Transfers,
    Unjournaled,
    Balances,
}

impl Read {
    /// The query, and the office it binds, if any.
    pub(crate) fn sql(&self) -> (String, Option<&str>) {
        match self {
            Read::Accounts => (ACCOUNTS.to_owned(), None),
            Read::Journal => (format!("{JOURNAL} ORDER BY j.transfer"), None),
            Read::Office(office) => (
                format!("{JOURNAL} WHERE j.office = $1 ORDER BY j.sequence"),
                Some(office.as_str()),
            ),
            Read::Resolutions => (RESOLUTIONS.to_owned(), None),
            Read::Reversals => (REVERSALS.to_owned(), None),
            Read::Transfers => (
                "SELECT CAST(COUNT(*) AS BIGINT) FROM transfers".to_owned(),
                None,
            ),
            Read::Unjournaled => (UNJOURNALED.to_owned(), None),
            Read::Balances => (BALANCES.to_owned(), None),
        }
    }

    /// For the reads of the journal: the query with the accounts' keys in place of their ids
    /// ([`JOURNAL_KEYED`]), and the office it binds. The whole journal is read in ranges of
    /// transfer keys, bound as `$1` and `$2`.
    pub(crate) fn keyed_sql(&self) -> Option<(String, Option<&str>)> {
        match self {
            Read::Journal => Some((
                format!("{JOURNAL_KEYED} WHERE j.transfer BETWEEN $1 AND $2 ORDER BY j.transfer"),
                None,
            )),
            Read::Office(office) => Some((
                format!("{JOURNAL_KEYED} WHERE j.office = $1 ORDER BY j.sequence"),
                Some(office.as_str()),
            )),
            _ => None,
        }
    }

    /// One row of this read.
    pub(crate) fn decode(&self, c: &impl Cols) -> Result<Scanned, StoreError> {
        Ok(match self {
            Read::Accounts => Scanned::Account(account(c, 0)?),
            Read::Journal | Read::Office(_) => {
                let account = |i| c.text(i)?.map(|a| id(a, "accounts")).transpose();
                self.entry(0, c, account(1)?, account(2)?)?
            }
            Read::Resolutions => Scanned::Resolution {
                pending: id(need(c, 0)?, "transfers")?,
                by: resolving(c, 1)?.ok_or_else(|| missing("a resolution's transfer"))?,
                original: resolving(c, 7)?,
            },
            Read::Reversals => Scanned::Reversal(id(need(c, 0)?, "transfers")?),
            Read::Transfers => Scanned::Transfers(count(c, 0)?),
            Read::Unjournaled => Scanned::Unjournaled(need(c, 0)?.to_owned()),
            Read::Balances => {
                let sums = [8, 9, 10, 11].map(|i| c.int(i).map(|v| v.unwrap_or(0)));
                let [dp, cp, dq, cq] = sums;
                Scanned::Balance(account(c, 0)?, [dp?, cp?, dq?, cq?])
            }
        })
    }
}

impl Read {
    /// A journal row (the columns of [`JOURNAL`]) of run `run`, whose accounts are `debit` and
    /// `credit` (`None`: no such account).
    pub(crate) fn entry(
        &self,
        run: usize,
        c: &impl Cols,
        debit: Option<RecordId>,
        credit: Option<RecordId>,
    ) -> Result<Scanned, StoreError> {
        let Some(transfer) = c.text(0)? else {
            return Ok(Scanned::Orphan {
                office: region(c, 11)?,
                sequence: count(c, 13)?,
            });
        };
        let transfer = id(transfer, "transfers")?;
        let (Some(debit), Some(credit)) = (debit, credit) else {
            return Ok(Scanned::UnknownAccount(transfer));
        };
        let recorded = recorded(c, transfer, debit, credit)?;
        Ok(if *self == Read::Journal {
            Scanned::Entry {
                run,
                entry: recorded,
            }
        } else {
            Scanned::InSequence(recorded)
        })
    }
}

/// Accounts, each with its key `n` last.
const ACCOUNTS: &str = "SELECT id, kind, currency, debits_posted, credits_posted, debits_pending, \
    credits_pending, closed, n FROM accounts";

/// Journal entries with their transfers and accounts by id, kept when those are missing.
const JOURNAL: &str = "
    SELECT t.id, d.id, c.id, t.amount_fen, t.currency, t.kind, t.value_date, t.phase, t.pending_of,
           t.corrects, j.corrects_year, j.office, j.recorded_by, j.sequence, j.previous_hash, j.hash
    FROM journal j LEFT JOIN transfers t ON t.n = j.transfer
    LEFT JOIN accounts d ON d.n = j.debit LEFT JOIN accounts c ON c.n = j.credit";

/// [`JOURNAL`] with the keys of its accounts in place of their ids (columns 1 and 2), for a
/// reader that looks the ids up itself.
const JOURNAL_KEYED: &str = "
    SELECT t.id, j.debit, j.credit, t.amount_fen, t.currency, t.kind, t.value_date, t.phase,
           t.pending_of, t.corrects, j.corrects_year, j.office, j.recorded_by, j.sequence,
           j.previous_hash, j.hash
    FROM journal j LEFT JOIN transfers t ON t.n = j.transfer";

/// Journaled resolutions and the pending transfers they name: id, phase, amount, debit and
/// credit of each.
const RESOLUTIONS: &str = "
    SELECT r.pending_of, r.id, r.phase, r.pending_of, r.amount_fen, rd.id, rc.id,
           p.id, p.phase, p.pending_of, p.amount_fen, pd.id, pc.id
    FROM transfers r JOIN journal rj ON rj.transfer = r.n
    LEFT JOIN accounts rd ON rd.n = rj.debit LEFT JOIN accounts rc ON rc.n = rj.credit
    LEFT JOIN transfers p ON p.id = r.pending_of LEFT JOIN journal pj ON pj.transfer = p.n
    LEFT JOIN accounts pd ON pd.n = pj.debit LEFT JOIN accounts pc ON pc.n = pj.credit
    WHERE r.pending_of IS NOT NULL ORDER BY r.pending_of, r.id";

const REVERSALS: &str = "
    SELECT t.corrects FROM transfers t JOIN journal j ON j.transfer = t.n
    WHERE t.kind = 'reversal' AND t.corrects IS NOT NULL ORDER BY t.corrects";

const UNJOURNALED: &str = "SELECT t.id FROM transfers t \
    WHERE NOT EXISTS (SELECT 1 FROM journal j WHERE j.transfer = t.n) ORDER BY t.id LIMIT 1";

/// Every account with the journal's sums for it, grouped by the database.
const BALANCES: &str = "
    SELECT a.id, a.kind, a.currency, a.debits_posted, a.credits_posted, a.debits_pending,
           a.credits_pending, a.closed, d.posted, c.posted, d.pending, c.pending
    FROM accounts a
    LEFT JOIN (SELECT j.debit AS n,
                   CAST(SUM(CASE WHEN t.phase IN ('single', 'post') THEN t.amount_fen ELSE 0 END) AS BIGINT) AS posted,
                   CAST(SUM(CASE t.phase WHEN 'pending' THEN t.amount_fen WHEN 'single' THEN 0
                            ELSE -t.amount_fen END) AS BIGINT) AS pending
               FROM journal j JOIN transfers t ON t.n = j.transfer GROUP BY j.debit) d ON d.n = a.n
    LEFT JOIN (SELECT j.credit AS n,
                   CAST(SUM(CASE WHEN t.phase IN ('single', 'post') THEN t.amount_fen ELSE 0 END) AS BIGINT) AS posted,
                   CAST(SUM(CASE t.phase WHEN 'pending' THEN t.amount_fen WHEN 'single' THEN 0
                            ELSE -t.amount_fen END) AS BIGINT) AS pending
               FROM journal j JOIN transfers t ON t.n = j.transfer GROUP BY j.credit) c ON c.n = a.n";

/// The columns of a row, as either driver reads them.
pub(crate) trait Cols {
    fn text(&self, i: usize) -> Result<Option<&str>, StoreError>;
    fn int(&self, i: usize) -> Result<Option<i64>, StoreError>;
    fn blob(&self, i: usize) -> Result<Option<&[u8]>, StoreError>;
}

impl Cols for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> Result<Option<&str>, StoreError> {
        self.get_ref(i)?.as_str_or_null().map_err(wrong_type(i))
    }
    fn int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        self.get_ref(i)?.as_i64_or_null().map_err(wrong_type(i))
    }
    fn blob(&self, i: usize) -> Result<Option<&[u8]>, StoreError> {
        self.get_ref(i)?.as_blob_or_null().map_err(wrong_type(i))
    }
}

fn wrong_type(i: usize) -> impl Fn(rusqlite::types::FromSqlError) -> StoreError {
    move |e| StoreError::Corrupt {
        table: "journal",
        detail: format!("column {i} of a ledger read: {e}"),
    }
}

impl Cols for sqlx::postgres::PgRow {
    fn text(&self, i: usize) -> Result<Option<&str>, StoreError> {
        Ok(sqlx::Row::try_get(self, i)?)
    }
    fn int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::Row::try_get(self, i)?)
    }
    fn blob(&self, i: usize) -> Result<Option<&[u8]>, StoreError> {
        Ok(sqlx::Row::try_get(self, i)?)
    }
}

fn missing(what: &str) -> StoreError {
    StoreError::Corrupt {
        table: "journal",
        detail: format!("{what} is missing"),
    }
}

fn need(c: &impl Cols, i: usize) -> Result<&str, StoreError> {
    c.text(i)?.ok_or_else(|| missing(&format!("column {i}")))
}

fn id(s: &str, table: &'static str) -> Result<RecordId, StoreError> {
    RecordId::parse(s).map_err(corrupt(table))
}

fn region(c: &impl Cols, i: usize) -> Result<RegionCode, StoreError> {
    RegionCode::parse(need(c, i)?).map_err(corrupt("journal"))
}

fn count(c: &impl Cols, i: usize) -> Result<u64, StoreError> {
    Ok(u64::try_from(c.int(i)?.unwrap_or(0)).unwrap_or(0))
}

fn fen(c: &impl Cols, i: usize) -> Result<Fen, StoreError> {
    Ok(Fen::new(c.int(i)?.unwrap_or(0)))
}

fn hash(c: &impl Cols, i: usize) -> Result<[u8; 32], StoreError> {
    let bytes = c.blob(i)?.unwrap_or_default();
    <[u8; 32]>::try_from(bytes).map_err(|_| StoreError::Corrupt {
        table: "journal",
        detail: format!("a hash of {} bytes, not 32", bytes.len()),
    })
}

/// An account from the eight columns at `at`.
fn account(c: &impl Cols, at: usize) -> Result<Account, StoreError> {
    Ok(Account {
        id: id(need(c, at)?, "accounts")?,
        kind: account_kind(need(c, at + 1)?)?,
        currency: Currency::parse(need(c, at + 2)?).map_err(corrupt("accounts"))?,
        debits_posted: fen(c, at + 3)?,
        credits_posted: fen(c, at + 4)?,
        debits_pending: fen(c, at + 5)?,
        credits_pending: fen(c, at + 6)?,
        closed: c.int(at + 7)?.unwrap_or(0) != 0,
    })
}

/// A journal row (the columns of [`JOURNAL`]) of `transfer`, between `debit` and `credit`.
fn recorded(
    c: &impl Cols,
    transfer: RecordId,
    debit: RecordId,
    credit: RecordId,
) -> Result<Recorded, StoreError> {
    let corrects_year = c.int(10)?;
    let entry = Entry {
        id: transfer,
        debit,
        credit,
        amount: fen(c, 3)?,
        currency: Currency::parse(need(c, 4)?).map_err(corrupt("transfers"))?,
        kind: TransferKind::parse(need(c, 5)?).map_err(corrupt("transfers"))?,
        value_date: parse_date(need(c, 6)?).map_err(corrupt("transfers"))?,
        phase: phase_of(need(c, 7)?, c.text(8)?.map(str::to_owned))?,
        corrects: c.text(9)?.map(|s| id(s, "transfers")).transpose()?,
        corrects_year: corrects_year
            .map(|y| Year::new(y as u16))
            .transpose()
            .map_err(corrupt("journal"))?,
        office: region(c, 11)?,
        recorded_by: need(c, 12)?.to_owned(),
    };
    Ok(Recorded {
        entry,
        sequence: count(c, 13)?,
        previous_hash: hash(c, 14)?,
        hash: hash(c, 15)?,
    })
}

/// A transfer of a resolution from the six columns at `at` (id, phase, pending_of, amount,
/// debit, credit); `None` when its id is null (no such transfer) .
fn resolving(c: &impl Cols, at: usize) -> Result<Option<Resolving>, StoreError> {
    let Some(transfer) = c.text(at)? else {
        return Ok(None);
    };
    let account = |i| c.text(i).map(|a| a.unwrap_or("")).map(str::to_owned);
    Ok(Some(Resolving {
        id: id(transfer, "transfers")?,
        phase: phase_of(need(c, at + 1)?, c.text(at + 2)?.map(str::to_owned))?,
        amount: fen(c, at + 3)?,
        // A missing account reads as no account: it matches none.
        debit: RecordId::parse(&account(at + 4)?).unwrap_or_else(|_| unnamed()),
        credit: RecordId::parse(&account(at + 5)?).unwrap_or_else(|_| unnamed()),
    }))
}

/// An id no account has: the account of a transfer with no journal entry, and what a journal
/// row names until its accounts are looked up.
pub(crate) fn unnamed() -> RecordId {
    RecordId::parse("-").expect("a valid id")
}

/// Where a recheck's reads come from: a transaction held open for the whole recheck.
#[async_trait::async_trait]
pub(crate) trait Source: Send {
    /// Hand each row of `read` to `scan`, until it ends or `scan` breaks.
    async fn read(
        &mut self,
        read: Read,
        scan: &mut dyn LedgerScan,
    ) -> Result<ControlFlow<()>, StoreError>;
}

/// The reads of a recheck, in order.
pub(crate) async fn drive(
    source: &mut dyn Source,
    scan: &mut dyn LedgerScan,
) -> Result<(), StoreError> {
    macro_rules! read {
        ($read:expr) => {
            if source.read($read, scan).await?.is_break() {
                return Ok(());
            }
        };
    }
    read!(Read::Accounts);
    read!(Read::Journal);
    for office in scan.reread() {
        read!(Read::Office(office));
    }
    read!(Read::Resolutions);
    read!(Read::Reversals);
    read!(Read::Transfers);
    if scan.wants_unjournaled() {
        read!(Read::Unjournaled);
    }
    if scan.wants_balances() {
        read!(Read::Balances);
    }
    Ok(())
}
