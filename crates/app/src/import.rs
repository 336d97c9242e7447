//! Import a CSV bundle: parse every file, check every reference, then write it all in one
//! transaction — or write nothing and say what is wrong where.

use crate::bundle::{self, Bundle, Problems};
use crate::validate::{self, Existing};
use counterpart_domain::records::Records;
use counterpart_store::{Keys, Store, StoreError};
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

/// Import the bundle in `dir` into `store`: all or nothing. Returns the records written.
pub async fn import_dir(
    store: &dyn Store,
    dir: &Path,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Records, ImportError> {
    let frame = store.frame().await?;
    let keys = store.keys().await?;
    let bundle = prepare(dir, &frame, &keys)?;
    store.load(&bundle.records, progress).await?;
    Ok(bundle.records)
}
