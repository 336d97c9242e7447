//! Computed reports and charts, kept until the records change: each entry remembers the
//! store's `data_version` it was computed at, and a request whose version differs computes it
//! anew. Reads of the same figures cost one small query instead of scans of every transfer.

use crate::error::ApiError;
use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

type Entry = (String, Arc<dyn Any + Send + Sync>);

/// At most this many entries; beyond it the cache starts again empty.
const MAX_ENTRIES: usize = 2_000;

#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Cache {
    /// The value under `key` computed at `version`, computing it with `make` when missing or
    /// stale.
    pub async fn get_or<T, F, Fut>(
        &self,
        key: String,
        version: &str,
        make: F,
    ) -> Result<Arc<T>, ApiError>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let hit = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries
                .get(&key)
                .filter(|(v, _)| v == version)
                .and_then(|(_, value)| value.clone().downcast::<T>().ok())
        };
        if let Some(value) = hit {
            return Ok(value);
        }
        let value = Arc::new(make().await?);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (version.to_owned(), value.clone()));
        Ok(value)
    }
}
