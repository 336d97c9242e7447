//! Storage for Counterpart: one [`Store`] trait, used as `Arc<dyn Store>`, implemented for
//! SQLite (the embedded default, [`SqliteStore`]) and PostgreSQL ([`PgStore`]) by the same code
//! and the same queries (`sql.rs`), and held to the same conformance tests.
//!
//! Architecture Invariant: business rules live in `domain` and `app`; a store keeps records
//! and answers grouped sums. SQL never decides whether a record is allowed.
//!
//! Architecture Invariant: a write either fully happens or leaves nothing behind: every write
//! method runs in one transaction (`BEGIN IMMEDIATE` on SQLite).
//!
//! Architecture Invariant: money rows (`transfers`) are never updated or deleted; the database
//! refuses it with triggers.

mod access;
mod codec;
mod postgres;
mod recheck;
mod sql;
mod sqlite;

pub use access::{
    Access, AuditEntry, AuditRow, Page, ProjectFilter, Session, SignOff, TransferFilter, User,
};
pub use codec::ColumnType;
pub use codec::{
    DecodeError, FRAME_TABLES, INSTITUTION_PAIRS, OPTIONAL_COLUMNS, TABLES, TRAININGS, Table,
    Value, decode_row, encode,
};
pub use postgres::PgStore;
pub use recheck::{LedgerScan, Scanned};
pub use sqlite::SqliteStore;

use async_trait::async_trait;
use counterpart_domain::ledger::{Account, Applied, Entry, Ledger, LedgerError, Recorded};
use counterpart_domain::people::Role;
use counterpart_domain::project::{Category, ProjectStatus, TransferKind};
use counterpart_domain::records::Records;
use counterpart_domain::{Currency, Date, Fen, RecordId, RegionCode, Year};
use std::collections::{HashMap, HashSet};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A load or a streamed read through SQLite's own connection failed (see `SqliteStore`).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("the database holds a value it cannot read: table {table}, {detail}")]
    Corrupt { table: &'static str, detail: String },
    #[error(
        "office {office} posted while this load was being prepared; nothing was written: run it again ({code})",
        code = StoreError::LEDGER_CHANGED
    )]
    Changed { office: String },
    /// Whoever consumed a stream of rows failed (a full disk, a closed pipe); reading stopped.
    #[error("{0}")]
    Sink(String),
    /// Whoever consumed a stream of rows closed it (`… | head`); reading stopped.
    #[error("the reader closed the output")]
    SinkClosed,
}

impl StoreError {
    /// The code of [`StoreError::Changed`], the one refusal of the store's own.
    pub const LEDGER_CHANGED: &str = "ledger_changed";
}

/// Why a posting did not happen. Nothing was written either way.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("{0} ({code})", code = .0.code())]
    Refused(LedgerError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<LedgerError> for PostError {
    fn from(e: LedgerError) -> Self {
        PostError::Refused(e)
    }
}

impl From<sqlx::Error> for PostError {
    fn from(e: sqlx::Error) -> Self {
        PostError::Store(StoreError::Database(e))
    }
}

/// Money of one kind moved for projects of one provider, recipient and category in one year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundsRow {
    pub year: Year,
    pub provider: RegionCode,
    pub recipient: RegionCode,
    pub category: Category,
    pub kind: TransferKind,
    pub amount: Fen,
    pub transfers: u64,
    pub simulated: bool,
}

/// Projects approved in one year for one provider, recipient and category, in one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectsRow {
    pub year: Year,
    pub provider: RegionCode,
    pub recipient: RegionCode,
    pub category: Category,
    pub status: ProjectStatus,
    pub projects: u64,
    pub budget: Fen,
    pub simulated: bool,
}

/// Postings that started in one year, by the person's provider, the post's recipient and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostingsRow {
    pub year: Year,
    pub provider: RegionCode,
    pub recipient: RegionCode,
    pub role: Role,
    pub postings: u64,
    pub simulated: bool,
}

/// Whose postings to count people over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeopleScope {
    All,
    Provider(RegionCode),
    Recipients(Vec<RegionCode>),
}

/// Distinct people posted within a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeopleCount {
    pub people: u64,
    pub simulated: bool,
}

/// Consumption assistance and exchanges in one year between one provider and one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeRow {
    pub year: Year,
    pub provider: RegionCode,
    pub recipient: RegionCode,
    /// Purchases: their value; exchanges: zero.
    pub purchases: Fen,
    /// Exchanges: people who visited; purchases: zero.
    pub visitors: u64,
    pub simulated: bool,
}

/// What `verify` rechecks: the stored ledger, and transfers stored without a journal entry.
#[derive(Debug, Clone)]
pub struct Audit {
    pub ledger: Ledger,
    pub unjournaled: Vec<String>,
}

/// The primary keys already stored, by table name, for checking an import before writing.
pub type Keys = HashMap<&'static str, HashSet<String>>;

/// A booking still being made: called when the load needs it, it waits for it and hands over
/// the ledger and where its new journal entries start, or `None` when the booking failed (the
/// caller keeps why).
pub type Pending<'a> = Box<dyn FnOnce() -> Option<(Ledger, usize)> + Send + 'a>;

/// Run blocking work from async code: on a multi-threaded runtime the worker thread hands its
/// other tasks over first; elsewhere (a current-thread runtime, no runtime) it simply runs.
pub(crate) fn blocking<R>(work: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// Free `value` on a thread of its own. A booked ledger or a parsed bundle of a million
/// transfers holds millions of strings, and freeing them one by one took about a second at the
/// end of an import that nobody needs to wait for. If no thread can be started, it is freed
/// here.
pub fn drop_elsewhere<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new()
        .name("drop".into())
        .spawn(move || drop(value));
}

/// Accounts, each with its id's prefix ([`RecordId::prefix`]).
type Prefixed<'a> = Vec<(u64, &'a Account)>;

/// The ids of the accounts a load's new entries move; once the moved accounts are in order,
/// each one's position among them (until then, and for an id no account has, `UNPLACED`).
type Touched<'a> = std::collections::HashMap<&'a RecordId, u32, counterpart_domain::ledger::Fast>;
const UNPLACED: u32 = u32::MAX;

/// The accounts a load writes, in id order, and where each new entry's two accounts are among
/// them (see [`Booking::ordered`]).
pub struct Ordered<'a> {
    /// The accounts the new entries move, with their balances.
    pub moved: Vec<&'a Account>,
    /// The accounts opened without moving money (added if missing).
    pub opened: Vec<&'a Account>,
    /// For each new entry, the positions in `moved` of its debit and credit accounts.
    pub positions: Vec<[u32; 2]>,
}

/// What a load adds to the ledger: the accounts it touched, with their new balances, and the
/// journal entries of its transfers.
#[derive(Debug, Clone, Copy)]
pub struct Booking<'a> {
    pub ledger: &'a Ledger,
    /// Journal entries from this index on are new.
    pub journal_from: usize,
}

impl<'a> Booking<'a> {
    pub fn new_entries(&self) -> &'a [Recorded] {
        &self.ledger.journal[self.journal_from.min(self.ledger.journal.len())..]
    }

    /// The accounts a load writes: those its new entries touch (their balances), and those
    /// it opened without moving money (added if missing, never overwriting a balance); each
    /// list in id order.
    pub fn accounts(&self) -> (Vec<&'a Account>, Vec<&'a Account>) {
        let (_, moved, opened) = self.split_accounts();
        (in_id_order(moved), in_id_order(opened))
    }

    /// [`Booking::accounts`], with the positions of each new entry's two accounts among the
    /// moved ones, found with the same map of ids that told moved accounts from the rest: a
    /// load writing the journal by account keys reads them from an array.
    pub fn ordered(&self) -> Result<Ordered<'a>, StoreError> {
        let (mut touched, moved, opened) = self.split_accounts();
        let moved = in_id_order(moved);
        for (i, a) in (0u32..).zip(&moved) {
            if let Some(at) = touched.get_mut(&a.id) {
                *at = i;
            }
        }
        let find = |id: &RecordId| match touched.get(id) {
            Some(&at) if at != UNPLACED => Ok(at),
            _ => Err(StoreError::Corrupt {
                table: "accounts",
                detail: format!("the booking moves {id}, which this load does not write"),
            }),
        };
        let positions = self
            .new_entries()
            .iter()
            .map(|r| Ok([find(&r.entry.debit)?, find(&r.entry.credit)?]))
            .collect::<Result<_, StoreError>>()?;
        Ok(Ordered {
            moved,
            opened: in_id_order(opened),
            positions,
        })
    }

    /// The ids the new entries move, and the accounts split as [`Booking::accounts`] does,
    /// unsorted, each with its id's prefix.
    fn split_accounts(&self) -> (Touched<'a>, Prefixed<'a>, Prefixed<'a>) {
        let mut touched: Touched<'a> =
            Touched::with_capacity_and_hasher(2 * self.new_entries().len(), Default::default());
        for r in self.new_entries() {
            touched.insert(&r.entry.debit, UNPLACED);
            touched.insert(&r.entry.credit, UNPLACED);
        }
        let (mut moved, mut opened) = (Vec::new(), Vec::new());
        for a in self.ledger.accounts.values() {
            if touched.contains_key(&a.id) {
                moved.push((a.id.prefix(), a));
            } else if a.is_empty() {
                opened.push((a.id.prefix(), a));
            }
        }
        (touched, moved, opened)
    }

    /// Rows a load writes for the ledger (accounts and journal entries), for progress bars.
    pub fn len(&self) -> usize {
        let (_, moved, opened) = self.split_accounts();
        moved.len() + opened.len() + self.new_entries().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The accounts in id order: by the ids' prefixes first ([`RecordId::prefix`]), so that most
/// comparisons read no id.
fn in_id_order(mut list: Prefixed<'_>) -> Vec<&Account> {
    list.sort_unstable_by(|x, y| x.0.cmp(&y.0).then_with(|| x.1.id.cmp(&y.1.id)));
    list.into_iter().map(|(_, a)| a).collect()
}

/// Everything Counterpart asks of a database (with [`Access`]: accounts, the audit log and
/// paged reads for the web application).
#[async_trait]
pub trait Store: Access + Send + Sync {
    /// Insert all records and their booking in one transaction: all or nothing, with `audit`
    /// (when given) written in the same transaction. `progress` is called with the number of
    /// rows written so far.
    async fn load(
        &self,
        records: &Records,
        booking: &Booking<'_>,
        audit: Option<&AuditEntry>,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<(), StoreError>;

    /// [`Store::load`] while the booking is still being made (on another thread): the records'
    /// rows are written first, the transfers in `order` (indexes into `records.transfers`, each
    /// once, in the order the booking journals them: `Ledger::booking_order`), then `booking`
    /// is called and the ledger's rows follow, all in one transaction. When `booking` hands
    /// over nothing (it failed) the load writes nothing and returns `Ok(false)`.
    async fn load_booking(
        &self,
        records: &Records,
        order: &[usize],
        booking: Pending<'_>,
        audit: Option<&AuditEntry>,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<bool, StoreError>;

    /// The ledger as stored: accounts with their cached balances, the journal in chain order,
    /// the closed years; one consistent snapshot.
    async fn ledger(&self) -> Result<Ledger, StoreError>;

    /// The ledger and the transfers that have no journal entry, in one consistent snapshot.
    async fn audit(&self) -> Result<Audit, StoreError>;

    /// Hand the ledger to `scan` row by row, from one consistent snapshot, in memory that does
    /// not grow with the journal: the read behind `verify` (see [`Scanned`] for the reads and
    /// their order).
    async fn recheck(&self, scan: &mut dyn LedgerScan) -> Result<(), StoreError>;

    /// Post one entry of `project` in one transaction: create the `open` accounts if missing,
    /// lock the office's chain head and then the entry's accounts (always in that order, so
    /// concurrent offices never deadlock), check it with the domain ledger, and write the
    /// transfer, its journal entry, the balances and the new chain head.
    /// `audit`, when given, is written in the same transaction (not for a retry that changes
    /// nothing).
    async fn post(
        &self,
        entry: &Entry,
        project: &RecordId,
        open: &[Account],
        audit: Option<&AuditEntry>,
    ) -> Result<Applied, PostError>;

    /// The provider of a project and the program's currency, if the project exists.
    async fn project_office(
        &self,
        project: &RecordId,
    ) -> Result<Option<(RegionCode, Currency)>, StoreError>;

    /// The providers of the named projects that exist.
    async fn project_offices(
        &self,
        projects: &[RecordId],
    ) -> Result<HashMap<RecordId, RegionCode>, StoreError>;

    /// The named accounts that exist, by id, with their cached balances.
    async fn accounts(&self, ids: &[RecordId]) -> Result<Vec<Account>, StoreError>;

    /// One transfer's journal entry, if it was booked.
    async fn transfer(&self, id: &RecordId) -> Result<Option<Recorded>, StoreError>;

    /// Close a year: postings dated in it are refused from now on.
    async fn close_year(&self, year: Year) -> Result<(), StoreError>;

    /// Every record, for export.
    async fn records(&self) -> Result<Records, StoreError>;

    /// Every row of one table in key order, handed to `sink` one at a time as its column values
    /// (in the order of `table.columns`), read from one consistent snapshot: an export in
    /// constant memory. Returns the number of rows.
    async fn stream_rows(
        &self,
        table: &'static Table,
        sink: &mut (dyn for<'r> FnMut(&'r [Value]) -> Result<(), StoreError> + Send),
    ) -> Result<u64, StoreError>;

    /// The small tables that frame a program: program, quota periods and rates, regions, pairs,
    /// indicators, facts and targets (no projects, money or people).
    async fn frame(&self) -> Result<Records, StoreError>;

    /// The primary keys of every table.
    async fn keys(&self) -> Result<Keys, StoreError>;

    /// Money moved, grouped; only value dates up to `until` (inclusive) when given.
    async fn funds(&self, until: Option<Date>) -> Result<Vec<FundsRow>, StoreError>;
    async fn projects_summary(&self) -> Result<Vec<ProjectsRow>, StoreError>;
    async fn postings_summary(&self) -> Result<Vec<PostingsRow>, StoreError>;
    async fn people_posted(&self, scope: &PeopleScope) -> Result<PeopleCount, StoreError>;
    async fn trade(&self) -> Result<Vec<TradeRow>, StoreError>;
}
