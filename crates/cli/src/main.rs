//! `counterpart`: run a pairing-assistance program from the command line.
//!
//! Architecture Invariant: this binary parses arguments, calls `app` use cases and renders their
//! results. It holds no business rule.

mod render;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use counterpart_app::report::{self, Report};
use counterpart_app::{demo, import};
use counterpart_domain::Year;
use counterpart_store::{SqliteStore, Store};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Counterpart runs pairing-assistance programs (对口支援): providers paired with recipient
/// areas, yearly quotas, projects, money, officials and experts, and outcomes.
///
/// Start with `counterpart demo`: it builds the Xinjiang program of 2010 (real pairing table and
/// published facts, simulated records) in ./counterpart.db and prints its summary.
#[derive(Parser)]
#[command(name = "counterpart", version, about, long_about)]
struct Cli {
    /// The SQLite database file.
    #[arg(
        long,
        global = true,
        default_value = "counterpart.db",
        value_name = "PATH"
    )]
    db: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the demo program (if the database is absent) and print its summary.
    Demo {
        /// Delete the database first and build the demo anew.
        #[arg(long)]
        reset: bool,
        /// Stop after the summary. (The web dashboard arrives with the web application; until
        /// then the demo always stops after the summary.)
        #[arg(long)]
        no_serve: bool,
    },
    /// Load a CSV bundle (a directory of <table>.csv files) into the database: all or nothing.
    Import {
        /// The bundle directory, e.g. data/demo/xinjiang-2010.
        dir: PathBuf,
    },
    /// Write the database's records out.
    Export {
        #[command(subcommand)]
        what: ExportCommand,
    },
    /// Print a report: the program summary, a provider's scorecard or a recipient's page.
    Report {
        #[command(subcommand)]
        what: ReportCommand,
        /// Only this year (provider and recipient reports).
        #[arg(long, global = true)]
        year: Option<u16>,
        #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Every record as a CSV bundle that `counterpart import` reads back.
    Bundle {
        /// The directory to write (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// The whole program: pairs, funds, quotas, categories, people, poverty, targets.
    Summary,
    /// One provider, by name or code (e.g. Shanghai, 上海市, shanghai).
    Provider { name: String },
    /// One recipient area, by name or code (e.g. Kashgar, "Shache County", 莎车县).
    Recipient { name: String },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    let result = runtime
        .context("cannot start the async runtime")
        .and_then(|rt| rt.block_on(run(cli)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo { reset, no_serve: _ } => run_demo(&cli.db, reset).await,
        Command::Import { dir } => run_import(&cli.db, &dir).await,
        Command::Export {
            what: ExportCommand::Bundle { out },
        } => {
            let store = open_existing(&cli.db).await?;
            let records = store.records().await?;
            let files = counterpart_app::bundle::write_dir(&records, &out)
                .with_context(|| format!("cannot write the bundle to {}", out.display()))?;
            eprintln!(
                "wrote {} records in {files} files to {}",
                records.len(),
                out.display()
            );
            Ok(())
        }
        Command::Report { what, year, format } => {
            let store = open_existing(&cli.db).await?;
            let year = year
                .map(Year::new)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--year: {e}"))?;
            let report = match what {
                ReportCommand::Summary if year.is_some() => {
                    bail!(
                        "the summary covers the whole program; use --year with `report provider` or `report recipient`"
                    )
                }
                ReportCommand::Summary => report::summary(&store).await?,
                ReportCommand::Provider { name } => report::provider(&store, &name, year).await?,
                ReportCommand::Recipient { name } => report::recipient(&store, &name, year).await?,
            };
            print_report(&report, format)
        }
    }
}

fn print_report(report: &Report, format: Format) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Table => render::table(report, &mut out)?,
        Format::Json => render::json(report, &mut out)?,
        Format::Csv => render::csv(report, &mut out)?,
    }
    Ok(())
}

/// Open a database that must already exist: reports never create an empty one.
async fn open_existing(db: &Path) -> Result<SqliteStore> {
    if !db.exists() {
        bail!(
            "no database at {}: run `counterpart demo` to build the demo there, or pass --db PATH",
            db.display()
        );
    }
    SqliteStore::open(db)
        .await
        .with_context(|| format!("cannot open the database {}", db.display()))
}

fn progress_bar(len: usize, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} records ({elapsed})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

async fn run_demo(db: &Path, reset: bool) -> Result<()> {
    if reset {
        for suffix in ["", "-wal", "-shm"] {
            let path = PathBuf::from(format!("{}{suffix}", db.display()));
            if path.exists() {
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot delete {}", path.display()))?;
            }
        }
    }
    let store = SqliteStore::open(db)
        .await
        .with_context(|| format!("cannot open the database {}", db.display()))?;
    if store.frame().await?.program.is_none() {
        let records = demo::demo_records()
            .map_err(|p| anyhow::anyhow!("the embedded demo bundle is broken:\n{p}"))?;
        let bar = progress_bar(records.len(), "building the demo");
        store
            .load(&records, &|n| bar.set_position(n as u64))
            .await?;
        bar.finish_and_clear();
        eprintln!(
            "built the demo program in {} ({} records, seed {})",
            db.display(),
            records.len(),
            demo::SEED
        );
    } else {
        eprintln!(
            "using the program already in {} (pass --reset to build the demo anew)",
            db.display()
        );
    }
    let summary = report::summary(&store).await?;
    print_report(&summary, Format::Table)?;
    eprintln!(
        "\nNext: `counterpart report provider Shanghai`, `counterpart report recipient Kashgar`, \
         `counterpart report summary --format json`."
    );
    store.close().await?;
    Ok(())
}

async fn run_import(db: &Path, dir: &Path) -> Result<()> {
    let open = || async {
        SqliteStore::open(db)
            .await
            .with_context(|| format!("cannot open the database {}", db.display()))
    };
    // A new database is created only once the bundle has passed every check, so a bad bundle
    // leaves no file behind.
    let existing = if db.exists() {
        Some(open().await?)
    } else {
        None
    };
    let (frame, keys) = match &existing {
        Some(store) => (store.frame().await?, store.keys().await?),
        None => Default::default(),
    };
    let checked = import::prepare(dir, &frame, &keys);
    let (bundle, store, created) = match (checked, existing) {
        (Err(problems), Some(store)) => {
            store.close().await?;
            return Err(problems.into());
        }
        (Err(problems), None) => return Err(problems.into()),
        (Ok(bundle), Some(store)) => (bundle, store, false),
        (Ok(bundle), None) => (bundle, open().await?, true),
    };
    let bar = progress_bar(bundle.records.len(), "importing");
    let result = store
        .load(&bundle.records, &|n| bar.set_position(n as u64))
        .await;
    bar.finish_and_clear();
    let result = result.and(store.close().await);
    if let Err(e) = result {
        if created {
            let _ = std::fs::remove_file(db);
        }
        return Err(e.into());
    }
    eprintln!(
        "imported {} records from {} into {}",
        bundle.records.len(),
        dir.display(),
        db.display()
    );
    Ok(())
}
