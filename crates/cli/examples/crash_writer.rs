//! The writer that `.ci/crash-test` kills with SIGKILL at random moments: it posts transfers
//! through the ledger one after another and prints `ack ID` for each one the store
//! acknowledged, flushed at once. Whatever it printed must survive the kill.
//!
//! Usage: crash_writer (--db PATH | --database URL) --run N [--planted-bug ack-before-commit]
//!
//! `--planted-bug ack-before-commit` acknowledges each transfer before posting it: the bug the
//! crash test must catch.

use counterpart_app::ledger::{Posting, post};
use counterpart_domain::ledger::{Applied, Phase};
use counterpart_domain::project::TransferKind;
use counterpart_domain::{Fen, RecordId};
use counterpart_store::{PgStore, ProjectFilter, SqliteStore, Store};
use std::io::Write;

/// Post commitments until killed, acknowledging each on stdout.
#[derive(clap::Parser)]
struct Args {
    #[arg(long, conflicts_with = "database")]
    db: Option<std::path::PathBuf>,
    #[arg(long)]
    database: Option<String>,
    /// Part of every transfer id, so that runs never collide.
    #[arg(long)]
    run: String,
    /// `ack-before-commit`: the bug the crash test must catch.
    #[arg(long)]
    planted_bug: Option<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse();
    let run = args.run;
    let ack_early = args.planted_bug.as_deref() == Some("ack-before-commit");
    let store: Box<dyn Store> = match (args.db, args.database) {
        (Some(path), None) => Box::new(SqliteStore::open(&path).await?),
        (None, Some(url)) => Box::new(PgStore::connect(&url).await?),
        _ => anyhow::bail!("give --db PATH or --database URL"),
    };
    // Forty projects by one indexed read: the writer must be posting within the crash test's
    // first 0.4 s (reading every key of the demo took a debug build over a second).
    let projects: Vec<String> = store
        .projects_page(&ProjectFilter::default(), 0, 40)
        .await?
        .into_iter()
        .map(|p| p.id.as_str().to_owned())
        .collect();
    anyhow::ensure!(
        !projects.is_empty(),
        "the database has no projects: build the demo first"
    );
    let stdout = std::io::stdout();
    let ack = |id: &str| {
        let mut out = stdout.lock();
        writeln!(out, "ack {id}").and_then(|_| out.flush())
    };
    for i in 0.. {
        let posting = Posting {
            id: RecordId::parse(&format!("crash.{run}.{i}"))?,
            project: RecordId::parse(&projects[i % projects.len()])?,
            // Commitments only: none is refused, so every acknowledgement must be stored.
            kind: TransferKind::Commit,
            amount: Fen::new(1 + (i % 7) as i64),
            value_date: "2020-12-30".parse()?,
            phase: Phase::Single,
            corrects: None,
            corrects_year: None,
            recorded_by: "crash-test".into(),
        };
        if ack_early {
            ack(posting.id.as_str())?;
        }
        match post(store.as_ref(), &posting).await {
            Ok(Applied::Created(_) | Applied::Duplicate(_)) if !ack_early => {
                ack(posting.id.as_str())?
            }
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
