//! Import a CSV bundle: parse every file, check every reference, then write it all in one
//! transaction — or write nothing and say what is wrong where.

use crate::bundle::{self, Bundle, Problems};
use crate::validate::{self, Existing};
use counterpart_domain::Currency;
use counterpart_domain::ledger::{Fast, Ledger, LedgerError};
use counterpart_domain::records::Records;
use counterpart_domain::{RecordId, RegionCode};
use counterpart_store::{Booking, Keys, Store, StoreError};
use std::collections::{HashMap, HashSet};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Invalid(#[from] Problems),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Read and check a bundle against what a database already holds.
pub fn prepare(dir: &Path, frame: &Records, keys: &Keys) -> Result<Bundle, Problems> {
    let bundle = bundle::read_dir(dir, keys)?;
    check(bundle, frame, keys)
}

/// Check parsed records against what a database already holds.
pub fn check(bundle: Bundle, frame: &Records, keys: &Keys) -> Result<Bundle, Problems> {
    let mut problems = Problems::default();
    validate::check(&bundle, &Existing { frame, keys }, &mut problems);
    if problems.is_empty() {
        Ok(bundle)
    } else {
        Err(problems)
    }
}

/// Book a bundle's transfers into the ledger: every transfer must keep "disbursed ≤ committed"
/// and "spent ≤ disbursed", respect closed years and correct at most once. Returns the ledger
/// and where its new journal entries start. `stored` gives the provider of projects already
/// in the database; `line_of` the file line of the `i`-th transfer, for the error.
pub fn book(
    records: &Records,
    line_of: impl Fn(usize) -> Option<u64>,
    frame: &Records,
    mut ledger: Ledger,
    stored: &HashMap<RecordId, RegionCode>,
) -> Result<(Ledger, usize), Problems> {
    let currency = frame
        .program
        .as_ref()
        .or(records.program.as_ref())
        .map_or(Currency::CNY, |p| p.currency);
    let in_records: HashMap<_, _, Fast> = records
        .projects
        .iter()
        .map(|p| (&p.id, &p.provider))
        .collect();
    let booked = ledger.book(&records.transfers, |p| {
        let office = in_records.get(p).copied().or(stored.get(p));
        office.map(|o| (o.clone(), currency))
    });
    match booked {
        Ok(from) => Ok((ledger, from)),
        Err(e) => {
            let column = match &e.error {
                LedgerError::Overdraft { .. } | LedgerError::ZeroAmount => "amount_fen",
                LedgerError::PeriodClosed { .. } | LedgerError::DateOutOfRange(_) => "value_date",
                LedgerError::CorrectsNotFound(_)
                | LedgerError::AlreadyReversed(_)
                | LedgerError::ReversalMismatch(_)
                | LedgerError::CorrectionWithoutOriginal(_) => "corrects",
                LedgerError::CurrencyMismatch { .. } => "currency",
                _ => "project",
            };
            let mut problems = Problems::default();
            let line = line_of(e.index);
            problems.push(
                "transfers.csv",
                line,
                Some(column),
                format!("{} ({})", e.error, e.error.code()),
            );
            Err(problems)
        }
    }
}

/// Book `records` on top of the ledger `store` holds, with `frame` the store's frame.
pub async fn book_on(
    store: &dyn Store,
    records: &Records,
    line_of: impl Fn(usize) -> Option<u64>,
    frame: &Records,
) -> Result<(Ledger, usize), ImportError> {
    let (ledger, stored) = booking_base(store, records).await?;
    Ok(book(records, line_of, frame, ledger, &stored)?)
}

/// What booking `records` on top of `store` starts from: the stored ledger, and the provider of
/// each stored project the records' transfers name.
pub async fn booking_base(
    store: &dyn Store,
    records: &Records,
) -> Result<(Ledger, HashMap<RecordId, RegionCode>), StoreError> {
    let in_records: HashSet<&RecordId, Fast> = records.projects.iter().map(|p| &p.id).collect();
    let mut elsewhere: Vec<RecordId> = records
        .transfers
        .iter()
        .map(|t| &t.project)
        .filter(|p| !in_records.contains(p))
        .cloned()
        .collect();
    elsewhere.sort();
    elsewhere.dedup();
    let stored = store.project_offices(&elsewhere).await?;
    Ok((store.ledger().await?, stored))
}

/// Book `records` on top of what `store` holds and load both in one transaction.
pub async fn load(
    store: &dyn Store,
    records: &Records,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<(), ImportError> {
    let frame = store.frame().await?;
    let (ledger, journal_from) = book_on(store, records, |_| None, &frame).await?;
    let booking = Booking {
        ledger: &ledger,
        journal_from,
    };
    let audit = crate::audit::import("records", records);
    store
        .load(records, &booking, Some(&audit), progress)
        .await?;
    Ok(())
}

/// Import the bundle in `dir` into `store`: all or nothing. Returns the records written.
pub async fn import_dir(
    store: &dyn Store,
    dir: &Path,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Records, ImportError> {
    let frame = store.frame().await?;
    let keys = store.keys().await?;
    let bundle = prepare(dir, &frame, &keys)?;
    let line_of = |i| bundle.line_of("transfers", i);
    let (ledger, journal_from) = book_on(store, &bundle.records, line_of, &frame).await?;
    let booking = Booking {
        ledger: &ledger,
        journal_from,
    };
    store
        .load(
            &bundle.records,
            &booking,
            Some(&crate::audit::import(
                &dir.display().to_string(),
                &bundle.records,
            )),
            progress,
        )
        .await?;
    Ok(bundle.records)
}
