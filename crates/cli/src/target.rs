//! Where the records live, and opening them: the embedded SQLite file or a PostgreSQL server.

use crate::Cli;
use anyhow::{Context as _, Result, bail};
use counterpart_store::{PgStore, SqliteStore, Store};
use std::path::PathBuf;

/// Where the records live: the embedded SQLite file or a PostgreSQL server.
pub(crate) enum Target {
    File(PathBuf),
    Postgres(String),
}

/// An open database of either kind.
pub(crate) enum Opened {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Target {
    pub(crate) fn of(cli: &Cli) -> Target {
        match &cli.database {
            Some(url) => Target::Postgres(url.clone()),
            None => Target::File(
                cli.db
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("counterpart.db")),
            ),
        }
    }

    pub(crate) fn exists(&self) -> bool {
        match self {
            Target::File(path) => path.exists(),
            Target::Postgres(_) => true,
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Target::File(path) => path.display().to_string(),
            Target::Postgres(url) => redact(url),
        }
    }

    /// Open (and create, for a file) the database.
    pub(crate) async fn open(&self) -> Result<Opened> {
        match self {
            Target::File(path) => SqliteStore::open(path).await.map(Opened::Sqlite),
            Target::Postgres(url) => PgStore::connect(url).await.map(Opened::Postgres),
        }
        .with_context(|| format!("cannot open the database {}", self.describe()))
    }

    /// Open a database that must already exist: reports never create an empty one.
    pub(crate) async fn open_existing(&self) -> Result<Opened> {
        if !self.exists() {
            bail!(
                "no database at {}: run `counterpart demo` to build the demo there, or pass --db PATH",
                self.describe()
            );
        }
        self.open().await
    }

    /// Open the database (which must exist), run `f` on it, and close it whatever `f` returned.
    pub(crate) async fn with_store<T>(&self, f: impl AsyncFnOnce(&dyn Store) -> T) -> Result<T> {
        let opened = self.open_existing().await?;
        let out = f(opened.store()).await;
        opened.close().await?;
        Ok(out)
    }
}

/// A connection URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = &url[scheme + 3..at];
            let user = user.split_once(':').map_or(user, |(name, _)| name);
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

impl Opened {
    pub(crate) fn into_arc(self) -> std::sync::Arc<dyn Store> {
        match self {
            Opened::Sqlite(s) => std::sync::Arc::new(s),
            Opened::Postgres(s) => std::sync::Arc::new(s),
        }
    }

    pub(crate) fn store(&self) -> &dyn Store {
        match self {
            Opened::Sqlite(s) => s,
            Opened::Postgres(s) => s,
        }
    }

    pub(crate) async fn close(self) -> Result<()> {
        match self {
            Opened::Sqlite(s) => s.close().await?,
            Opened::Postgres(s) => s.close().await,
        }
        Ok(())
    }
}
