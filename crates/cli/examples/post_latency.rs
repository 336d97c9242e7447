//! Single-transfer posting latency under concurrent offices, for `bench/post-latency.sh`:
//! one task per provider office, each posting commitments one after another on its own
//! projects through the ledger (one transaction each), every posting timed.
//!
//! Usage: post_latency (--db PATH | --database URL) [--offices 19] [--per-office 200]
//! Prints one line: `backend offices postings seconds p50_ms p99_ms max_ms`.

use counterpart_app::ledger::{Posting, post};
use counterpart_domain::ledger::{Applied, Phase};
use counterpart_domain::project::TransferKind;
use counterpart_domain::{Fen, RecordId};
use counterpart_store::{PgStore, SqliteStore, Store};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Time postings from concurrent offices.
#[derive(clap::Parser)]
struct Args {
    #[arg(long, conflicts_with = "database")]
    db: Option<std::path::PathBuf>,
    #[arg(long)]
    database: Option<String>,
    #[arg(long, default_value_t = 19)]
    offices: usize,
    #[arg(long, default_value_t = 200)]
    per_office: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse();
    let (offices, per_office) = (args.offices, args.per_office);
    let (backend, store): (&str, Arc<dyn Store>) = match (args.db, args.database) {
        (Some(path), None) => ("sqlite", Arc::new(SqliteStore::open(&path).await?)),
        (None, Some(url)) => ("postgresql", Arc::new(PgStore::connect(&url).await?)),
        _ => anyhow::bail!("give --db PATH or --database URL"),
    };
    let projects: Vec<RecordId> = store
        .keys()
        .await?
        .remove("projects")
        .unwrap_or_default()
        .iter()
        .map(|p| RecordId::parse(p))
        .collect::<Result<_, _>>()?;
    let mut by_office: BTreeMap<_, Vec<RecordId>> = BTreeMap::new();
    for (project, office) in store.project_offices(&projects).await? {
        by_office.entry(office).or_default().push(project);
    }
    anyhow::ensure!(
        by_office.len() >= offices,
        "the database has projects of {} offices, {offices} asked: build the demo first",
        by_office.len()
    );
    let run = std::process::id();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (office, mut projects) in by_office.into_iter().take(offices) {
        projects.sort();
        let store = store.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(per_office);
            for i in 0..per_office {
                let posting = Posting {
                    id: RecordId::parse(&format!("lat.{run}.{office}.{i}"))?,
                    project: projects[i % projects.len()].clone(),
                    kind: TransferKind::Commit,
                    amount: Fen::new(100),
                    value_date: "2020-12-30".parse()?,
                    phase: Phase::Single,
                    corrects: None,
                    corrects_year: None,
                    recorded_by: "bench".into(),
                };
                let t = Instant::now();
                let applied = post(store.as_ref(), &posting).await?;
                latencies.push(t.elapsed());
                anyhow::ensure!(
                    matches!(applied, Applied::Created(_)),
                    "{} not created",
                    posting.id
                );
            }
            Ok::<_, anyhow::Error>(latencies)
        });
    }
    let mut all: Vec<Duration> = Vec::new();
    while let Some(done) = tasks.join_next().await {
        all.extend(done??);
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort();
    let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)].as_secs_f64() * 1e3;
    println!(
        "{backend} {offices} {} {seconds:.2} {:.2} {:.2} {:.2}",
        all.len(),
        at(0.50),
        at(0.99),
        all.last().unwrap().as_secs_f64() * 1e3
    );
    Ok(())
}
