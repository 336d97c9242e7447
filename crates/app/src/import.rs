//! Import a CSV bundle: parse every file, check every reference, then write it all in one
//! transaction — or write nothing and say what is wrong where.

use crate::bundle::{self, Bundle, Problems};
use crate::validate::{self, Existing};
use counterpart_domain::Currency;
use counterpart_domain::ledger::{AccountKind, Ledger, LedgerError, project_account};
use counterpart_domain::records::Records;
use counterpart_store::{Booking, Keys, Store, StoreError};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
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
/// and where its new journal entries start.
/// `line_of` gives the file line of the `i`-th transfer, for the error.
pub fn book(
    records: &Records,
    line_of: impl Fn(usize) -> Option<u64>,
    frame: &Records,
    mut ledger: Ledger,
) -> Result<(Ledger, usize), Problems> {
    let currency = frame
        .program
        .as_ref()
        .or(records.program.as_ref())
        .map_or(Currency::CNY, |p| p.currency);
    // A transfer's project is in the bundle, or already booked (its office is on its journal).
    let stored_office = |project| {
        let committed = project_account(project, AccountKind::Committed);
        ledger
            .journal
            .iter()
            .find(|r| r.entry.credit == committed)
            .map(|r| r.entry.office.clone())
    };
    let in_records: std::collections::HashMap<_, _> = records
        .projects
        .iter()
        .map(|p| (&p.id, &p.provider))
        .collect();
    let offices: std::collections::HashMap<_, _> = records
        .transfers
        .iter()
        .filter_map(|t| {
            let office = in_records.get(&t.project).map(|p| (*p).clone());
            office
                .or_else(|| stored_office(&t.project))
                .map(|o| (t.project.clone(), o))
        })
        .collect();
    let booked = ledger.book(&records.transfers, |p| {
        offices.get(p).map(|o| (o.clone(), currency))
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

/// Book `records` on top of what `store` holds and load both in one transaction.
pub async fn load(
    store: &dyn Store,
    records: &Records,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<(), ImportError> {
    let frame = store.frame().await?;
    let (ledger, journal_from) = book(records, |_| None, &frame, store.ledger().await?)?;
    store
        .load(
            records,
            &Booking {
                ledger: &ledger,
                journal_from,
            },
            progress,
        )
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
    let (ledger, journal_from) = book(&bundle.records, line_of, &frame, store.ledger().await?)?;
    store
        .load(
            &bundle.records,
            &Booking {
                ledger: &ledger,
                journal_from,
            },
            progress,
        )
        .await?;
    Ok(bundle.records)
}
