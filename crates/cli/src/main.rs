//! `counterpart`: run a pairing-assistance program from the command line.
//!
//! Architecture Invariant: this binary parses arguments, calls `app` use cases and renders their
//! results. It holds no business rule.

mod render;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use counterpart_app::import::ImportError;
use counterpart_app::report::{self, Report};
use counterpart_app::{demo, import, ledger};
use counterpart_domain::Year;
use counterpart_domain::ledger::{Applied, Ledger, Phase, hex};
use counterpart_domain::project::TransferKind;
use counterpart_domain::{Fen, RecordId, parse_date};
use counterpart_store::{Booking, PgStore, SqliteStore, Store};
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
    /// The SQLite database file [default: counterpart.db].
    #[arg(long, global = true, value_name = "PATH", conflicts_with = "database")]
    db: Option<PathBuf>,
    /// A PostgreSQL database instead of the SQLite file, e.g. postgres://user@host/db.
    #[arg(long, global = true, value_name = "URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the demo program (if the database is absent), print its summary and the demo
    /// accounts, and serve it at http://127.0.0.1:8080.
    Demo {
        /// Delete the database first and build the demo anew.
        #[arg(long)]
        reset: bool,
        /// Stop after the summary instead of serving the web application.
        #[arg(long)]
        no_serve: bool,
        /// Where to serve.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: std::net::SocketAddr,
        /// Build N times as many projects (each N times smaller: the same money) with their
        /// transfers, for benchmarks.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
        scale: u32,
    },
    /// Serve the web application: pages, the JSON API under /api/v1 (OpenAPI document at
    /// /api/v1/openapi.json), sign-in for the accounts `counterpart user add` creates.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: std::net::SocketAddr,
        /// Mark cookies Secure (set this when users reach the server over HTTPS without a
        /// proxy that sends X-Forwarded-Proto).
        #[arg(long)]
        secure_cookies: bool,
        /// Refuse sign-ins of accounts without two-step sign-in (set one up with
        /// `counterpart user mfa NAME`).
        #[arg(long)]
        require_second_factor: bool,
    },
    /// Accounts of the web application.
    User {
        #[command(subcommand)]
        what: UserCommand,
    },
    /// Load a CSV bundle (a directory of <table>.csv files) into the database: all or nothing.
    #[command(args_conflicts_with_subcommands = true)]
    Import {
        /// The bundle directory, e.g. data/demo/xinjiang-2010.
        dir: Option<PathBuf>,
        #[command(subcommand)]
        what: Option<ImportCommand>,
    },
    /// Hold every provider-year to the program's rules: quota, shares, "two 100%", pace.
    Compliance {
        /// Only this year.
        #[arg(long)]
        year: Option<u16>,
        /// Only this provider (name or code).
        #[arg(long)]
        provider: Option<String>,
        /// Count money up to this date (YYYY-MM-DD) and project the year's pace from it.
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Propose the best pairing of providers with recipient units, beside the actual one: the
    /// score broken down, where they differ and what keeping the actual pair costs, each
    /// provider's capacity shadow price.
    Pair {
        /// The year whose pairs and statistics to use [default: the program's first year].
        #[arg(long)]
        year: Option<u16>,
        /// Points per unit of need, e.g. fit=20,gap=20,proportionality=10,continuity=0.
        #[arg(long, value_name = "NAME=POINTS,…")]
        weights: Option<String>,
        /// Require a pair, e.g. --fix shenzhen=kashgar (repeatable).
        #[arg(long, value_name = "PROVIDER=RECIPIENT")]
        fix: Vec<String>,
        /// Rule a pair out (repeatable).
        #[arg(long, value_name = "PROVIDER=RECIPIENT")]
        forbid: Vec<String>,
        /// Why not this pair? The cost of forcing it and the pairs it displaces (repeatable).
        #[arg(long, value_name = "PROVIDER=RECIPIENT")]
        explain: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Propose postings for a placement round: available officials and experts into open
    /// seats by specialty, the provider's own pairs and their history, with why each posting
    /// and its runner-up. Proposes only; nothing is written. Timings go to stderr.
    Place {
        /// The round's year (it starts on 1 January) [default: the year after the latest
        /// posting's start].
        #[arg(long)]
        round: Option<u16>,
        /// List at most this many proposed postings [default: all].
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Write a static site of the program's public aggregates to DIR: HTML pages that open from
    /// disk, each page's data as JSON and CSV, and the IATI files.
    Publish {
        /// The directory to write (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Recheck every invariant of the ledger; exits non-zero naming the first violation.
    Verify,
    /// Solve a DIMACS min-cost flow (`p min`) or assignment (`p asn`) problem and print the
    /// DIMACS solution (`s COST`, then `f SRC DST FLOW`); the solve time goes to stderr.
    Solve {
        /// The problem file.
        file: PathBuf,
        /// Print only the `s COST` line.
        #[arg(long)]
        quiet: bool,
    },
    /// Read the ledger.
    Ledger {
        #[command(subcommand)]
        what: LedgerCommand,
        #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
        format: Format,
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
enum UserCommand {
    /// Add an account. Its password is read from standard input when --password-stdin is
    /// given, else made up and printed once.
    Add {
        name: String,
        /// admin, provider (a provider office), recipient (a recipient office) or auditor.
        #[arg(long)]
        role: String,
        /// The region an office speaks for (name or code), e.g. shanghai or kashgar.
        #[arg(long)]
        office: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// The accounts, with role, office and whether disabled.
    List,
    /// Disable an account: it can no longer sign in, and its sessions end.
    Disable { name: String },
    /// Enable a disabled account again.
    Enable { name: String },
    /// Set an account's password (from standard input with --password-stdin, else made up and
    /// printed once); its sessions end.
    Password {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Turn on two-step sign-in for an account: prints a new key (and its otpauth address)
    /// for its owner's authenticator app, shown once. --off turns it off. Its sessions end.
    Mfa {
        name: String,
        #[arg(long)]
        off: bool,
    },
    /// Issue an API token for an account (shown once; only its digest is stored).
    Token {
        name: String,
        #[arg(long, default_value = "api")]
        label: String,
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
    /// One table, streamed in constant memory: CSV to standard output or --out FILE, or XLSX
    /// to --out FILE.xlsx.
    Table {
        /// The table: transfers, projects, people, postings, regions, pairs, indicators…
        name: String,
        #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
        format: TableFormat,
        /// The file to write (required for xlsx).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// IATI 2.03 files: PROVIDER-activities.xml (one activity per project, with budget,
    /// transactions and results) and PROVIDER-organisation.xml (quotas as yearly budgets) for
    /// each provider, checked against the IATI ruleset before they are written.
    Iati {
        /// The directory to write (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Only projects approved in this year.
        #[arg(long)]
        year: Option<u16>,
        /// Only this provider (name or code).
        #[arg(long)]
        provider: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum TableFormat {
    Csv,
    Xlsx,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// IATI 2.03 activity files (as `export iati` writes them) into projects and transfers of
    /// the program in the database: all or nothing; a bad file is refused with its line and
    /// element.
    Iati {
        /// The activity files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Post a project's transfer: commit, disburse, spend or decommit. Retrying with the same
    /// --id and content has one effect; the same --id with other content is refused.
    Post {
        /// Your id for this transfer (e.g. from your own system).
        #[arg(long)]
        id: String,
        #[arg(long)]
        project: String,
        /// commit, disburse, spend or decommit.
        #[arg(long)]
        kind: String,
        /// Whole fen (1 yuan = 100 fen).
        #[arg(long)]
        amount: String,
        /// The value date, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// Reserve now, post or void later (two-phase, for orders waiting for the treasury).
        #[arg(long, conflicts_with_all = ["post", "void"])]
        pending: bool,
        /// Post the pending transfer with this id (give its amount).
        #[arg(long, value_name = "PENDING_ID")]
        post: Option<String>,
        /// Void the pending transfer with this id (give its amount).
        #[arg(long, value_name = "PENDING_ID")]
        void: Option<String>,
        /// For a correction booked in an open year: the closed year it corrects.
        #[arg(long)]
        corrects_year: Option<u16>,
        /// Who records it.
        #[arg(long, default_value = "cli")]
        by: String,
    },
    /// Reverse a transfer (at most once): the same amount between the same accounts, back.
    Reverse {
        /// The transfer to reverse.
        original: String,
        #[arg(long)]
        id: String,
        #[arg(long)]
        date: String,
        #[arg(long, default_value = "cli")]
        by: String,
    },
    /// Close a year: postings dated in it are refused; corrections go into an open year.
    CloseYear { year: u16 },
    /// The balances of an account (e.g. source.shanghai.2019) or of a project's committed,
    /// disbursed and spent accounts (give the project id).
    Balance { account: String },
    /// The journal entries of an account or of a project's accounts, in chain order, with
    /// their hashes.
    History { account: String },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// The whole program: pairs, funds, quotas, categories, people, poverty, targets.
    Summary,
    /// One provider, by name or code (e.g. Shanghai, 上海市, shanghai).
    Provider { name: String },
    /// One recipient area, by name or code (e.g. Kashgar, "Shache County", 莎车县).
    Recipient { name: String },
    /// The annual assessment (of --year, the program's last year by default): a scorecard per
    /// pair over funds, projects, people, consumption, exchanges and the change in registered
    /// poor.
    Assessment {
        /// Only this provider's pairs (name or code).
        #[arg(long)]
        provider: Option<String>,
    },
    /// The work-conference summary of a year (--year required): headline figures, charts,
    /// compliance, pairs. HTML, or PDF printed by headless Chromium when --out ends in .pdf.
    Annual {
        /// FILE.html or FILE.pdf.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    /// A workbook (a sheet per section) on standard output: redirect it, `> report.xlsx`.
    Xlsx,
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

/// Where the records live: the embedded SQLite file or a PostgreSQL server.
enum Target {
    File(PathBuf),
    Postgres(String),
}

/// An open database of either kind.
enum Opened {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Target {
    fn of(cli: &Cli) -> Target {
        match &cli.database {
            Some(url) => Target::Postgres(url.clone()),
            None => Target::File(
                cli.db
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("counterpart.db")),
            ),
        }
    }

    fn exists(&self) -> bool {
        match self {
            Target::File(path) => path.exists(),
            Target::Postgres(_) => true,
        }
    }

    fn describe(&self) -> String {
        match self {
            Target::File(path) => path.display().to_string(),
            Target::Postgres(url) => redact(url),
        }
    }

    /// Open (and create, for a file) the database.
    async fn open(&self) -> Result<Opened> {
        match self {
            Target::File(path) => SqliteStore::open(path).await.map(Opened::Sqlite),
            Target::Postgres(url) => PgStore::connect(url).await.map(Opened::Postgres),
        }
        .with_context(|| format!("cannot open the database {}", self.describe()))
    }

    /// Open a database that must already exist: reports never create an empty one.
    async fn open_existing(&self) -> Result<Opened> {
        if !self.exists() {
            bail!(
                "no database at {}: run `counterpart demo` to build the demo there, or pass --db PATH",
                self.describe()
            );
        }
        self.open().await
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
    fn into_arc(self) -> std::sync::Arc<dyn Store> {
        match self {
            Opened::Sqlite(s) => std::sync::Arc::new(s),
            Opened::Postgres(s) => std::sync::Arc::new(s),
        }
    }

    fn store(&self) -> &dyn Store {
        match self {
            Opened::Sqlite(s) => s,
            Opened::Postgres(s) => s,
        }
    }

    async fn close(self) -> Result<()> {
        match self {
            Opened::Sqlite(s) => s.close().await?,
            Opened::Postgres(s) => s.close().await,
        }
        Ok(())
    }
}

/// One section ("accounts" or "history") of an account's ledger report.
async fn print_account(
    target: &Target,
    account: &str,
    section: &str,
    format: Format,
) -> Result<()> {
    let opened = target.open_existing().await?;
    let report = ledger::account(opened.store(), account).await;
    opened.close().await?;
    let mut report = report?;
    report.sections.retain(|s| s.key == section);
    print_report(&report, format)
}

async fn run(cli: Cli) -> Result<()> {
    let target = Target::of(&cli);
    match cli.command {
        Command::Demo {
            reset,
            no_serve,
            bind,
            scale,
        } => run_demo(&target, reset, scale, (!no_serve).then_some(bind)).await,
        Command::Serve {
            bind,
            secure_cookies,
            require_second_factor,
        } => {
            let opened = target.open_existing().await?;
            let options = counterpart_web::Options {
                secure_cookies,
                second_factor_required: require_second_factor,
            };
            serve(opened, bind, options).await
        }
        Command::User { what } => run_user(&target, what).await,
        Command::Import {
            what: Some(ImportCommand::Iati { files }),
            ..
        } => {
            let opened = target.open_existing().await?;
            let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
            let imported =
                counterpart_app::iati::import::import_files(opened.store(), &paths, &|_| {}).await;
            opened.close().await?;
            let records = imported?;
            eprintln!(
                "imported {} projects and {} transfers from {} IATI file(s)",
                records.projects.len(),
                records.transfers.len(),
                files.len()
            );
            Ok(())
        }
        Command::Import {
            dir: Some(dir),
            what: None,
        } => run_import(&target, &dir).await,
        Command::Import { .. } => {
            bail!(
                "give a bundle directory (`counterpart import DIR`) or IATI files (`counterpart import iati FILE…`)"
            )
        }
        Command::Solve { file, quiet } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let solved = counterpart_app::solve::solve_dimacs(&text, quiet)
                .with_context(|| file.display().to_string())?;
            print!("{}", solved.output);
            eprintln!(
                "solved in {:.3} s with {}, certificate checked",
                solved.elapsed.as_secs_f64(),
                solved.method
            );
            Ok(())
        }
        Command::Export {
            what:
                ExportCommand::Iati {
                    out,
                    year,
                    provider,
                },
        } => {
            let now = jiff::Timestamp::now();
            let options = counterpart_app::iati::IatiOptions {
                year: year
                    .map(Year::new)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--year: {e}"))?,
                provider,
                today: jiff::tz::TimeZone::UTC.to_datetime(now).date(),
                generated: now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            };
            let opened = target.open_existing().await?;
            let written = counterpart_app::iati::export(opened.store(), &options, &out).await;
            opened.close().await?;
            let written = written?;
            let activities: usize = written.iter().map(|w| w.activities).sum();
            let transactions: usize = written.iter().map(|w| w.transactions).sum();
            eprintln!(
                "wrote {} IATI files to {}: {activities} activities, {transactions} transactions",
                written.len(),
                out.display()
            );
            Ok(())
        }
        Command::Export {
            what: ExportCommand::Bundle { out },
        } => {
            let opened = target.open_existing().await?;
            let written = counterpart_app::export::bundle(opened.store(), &out).await;
            opened.close().await?;
            let (files, rows) = written?;
            eprintln!("wrote {rows} records in {files} files to {}", out.display());
            Ok(())
        }
        Command::Export {
            what: ExportCommand::Table { name, format, out },
        } => {
            use counterpart_app::export;
            let table = export::table(&name)?;
            let opened = target.open_existing().await?;
            let rows = match (format, &out) {
                (TableFormat::Xlsx, None) => Err(anyhow::anyhow!(
                    "--format xlsx writes a file: add --out FILE.xlsx"
                )),
                (TableFormat::Xlsx, Some(path)) => export::table_xlsx(opened.store(), table, path)
                    .await
                    .map_err(anyhow::Error::from),
                (TableFormat::Csv, Some(path)) => {
                    let file = std::fs::File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    export::table_csv(opened.store(), table, std::io::BufWriter::new(file))
                        .await
                        .map_err(anyhow::Error::from)
                }
                (TableFormat::Csv, None) => export::table_csv(
                    opened.store(),
                    table,
                    std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
                )
                .await
                .map_err(anyhow::Error::from),
            };
            opened.close().await?;
            let rows = rows?;
            if let Some(path) = out {
                eprintln!("wrote {rows} rows of {name} to {}", path.display());
            }
            Ok(())
        }
        Command::Compliance {
            year,
            provider,
            as_of,
            format,
        } => {
            let year = year
                .map(Year::new)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--year: {e}"))?;
            let as_of = as_of
                .map(|d| counterpart_domain::parse_date(&d))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--as-of: {e}"))?;
            let opened = target.open_existing().await?;
            let report = report::compliance(opened.store(), year, provider.as_deref(), as_of).await;
            opened.close().await?;
            print_report(&report?, format)
        }
        Command::Pair {
            year,
            weights,
            fix,
            forbid,
            explain,
            format,
        } => {
            let options = counterpart_app::pair::PairOptions {
                year: year
                    .map(Year::new)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--year: {e}"))?,
                weights: weights
                    .map(|w| counterpart_app::pair::Weights::parse(&w))
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--weights: {e}"))?,
                fix,
                forbid,
                explain,
            };
            let opened = target.open_existing().await?;
            let report = counterpart_app::pair::pair(opened.store(), &options).await;
            opened.close().await?;
            print_report(&report?, format)
        }
        Command::Place {
            round,
            limit,
            format,
        } => {
            let options = counterpart_app::place::PlaceOptions {
                round: round
                    .map(Year::new)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--round: {e}"))?,
                limit,
            };
            let opened = target.open_existing().await?;
            let placed = counterpart_app::place::place(opened.store(), &options).await;
            opened.close().await?;
            let (report, times) = placed?;
            print_report(&report, format)?;
            eprintln!(
                "placed in {:.3} s: load {:.3} s, model {:.3} s, solve {:.3} s with {} \
                 ({} people, {} posts, {} candidate postings), certificate checked",
                times.total.as_secs_f64(),
                times.load.as_secs_f64(),
                times.model.as_secs_f64(),
                times.solve.as_secs_f64(),
                times.method,
                times.people,
                times.posts,
                times.arcs
            );
            Ok(())
        }
        Command::Publish { out } => {
            let now = jiff::Timestamp::now();
            let today = jiff::tz::TimeZone::UTC.to_datetime(now).date();
            let generated = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
            let opened = target.open_existing().await?;
            let published =
                counterpart_app::publish::publish(opened.store(), &out, today, &generated).await;
            opened.close().await?;
            let published = published?;
            eprintln!(
                "published {} pages ({} files) to {}: open {}",
                published.pages,
                published.files,
                out.display(),
                out.join("index.html").display()
            );
            Ok(())
        }
        Command::Verify => {
            let opened = target.open_existing().await?;
            let verified = ledger::verify(opened.store()).await;
            opened.close().await?;
            let v = verified.map_err(|e| anyhow::anyhow!("verify failed: {e}"))?;
            println!(
                "ledger verified: {} transfers, {} accounts, {} office chains intact; debits = credits = {} yuan",
                v.transfers, v.accounts, v.chains, v.debits
            );
            Ok(())
        }
        Command::Ledger {
            what: LedgerCommand::CloseYear { year },
            ..
        } => {
            let year = Year::new(year).map_err(|e| anyhow::anyhow!("{e}"))?;
            let opened = target.open_existing().await?;
            let closed = opened.store().close_year(year).await;
            opened.close().await?;
            closed?;
            println!("closed {year}: postings dated in it are refused from now on");
            Ok(())
        }
        Command::Ledger {
            what:
                LedgerCommand::Post {
                    id,
                    project,
                    kind,
                    amount,
                    date,
                    pending,
                    post,
                    void,
                    corrects_year,
                    by,
                },
            ..
        } => {
            let parse_id = |s: &str, what: &str| {
                RecordId::parse(s).map_err(|e| anyhow::anyhow!("--{what}: {e}"))
            };
            let phase = match (pending, post, void) {
                (true, _, _) => Phase::Pending,
                (_, Some(p), _) => Phase::Post(parse_id(&p, "post")?),
                (_, _, Some(p)) => Phase::Void(parse_id(&p, "void")?),
                _ => Phase::Single,
            };
            let corrects_year = corrects_year
                .map(Year::new)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--corrects-year: {e}"))?;
            let posting = ledger::Posting {
                id: parse_id(&id, "id")?,
                project: parse_id(&project, "project")?,
                kind: TransferKind::parse(&kind).map_err(|e| anyhow::anyhow!("--kind: {e}"))?,
                amount: Fen::parse_amount(&amount).map_err(|e| anyhow::anyhow!("--amount: {e}"))?,
                value_date: parse_date(&date).map_err(|e| anyhow::anyhow!("--date: {e}"))?,
                phase,
                corrects: None,
                corrects_year,
                recorded_by: by,
            };
            post_and_say(&target, &posting).await
        }
        Command::Ledger {
            what:
                LedgerCommand::Reverse {
                    original,
                    id,
                    date,
                    by,
                },
            ..
        } => {
            let original = RecordId::parse(&original).map_err(|e| anyhow::anyhow!("{e}"))?;
            let id = RecordId::parse(&id).map_err(|e| anyhow::anyhow!("--id: {e}"))?;
            let date = parse_date(&date).map_err(|e| anyhow::anyhow!("--date: {e}"))?;
            let opened = target.open_existing().await?;
            let result = ledger::reverse(opened.store(), &original, id, date, by).await;
            opened.close().await?;
            say_posted(result?);
            Ok(())
        }
        Command::Ledger {
            what: LedgerCommand::Balance { account },
            format,
        } => print_account(&target, &account, "accounts", format).await,
        Command::Ledger {
            what: LedgerCommand::History { account },
            format,
        } => print_account(&target, &account, "history", format).await,
        Command::Report {
            what: ReportCommand::Annual { out },
            year,
            ..
        } => {
            let year = year
                .ok_or_else(|| anyhow::anyhow!("the annual report needs --year, e.g. --year 2019"))
                .and_then(|y| Year::new(y).map_err(|e| anyhow::anyhow!("--year: {e}")))?;
            let opened = target.open_existing().await?;
            let written = counterpart_app::annual::write(opened.store(), year, &out).await;
            opened.close().await?;
            written?;
            eprintln!("wrote the annual report {year} to {}", out.display());
            Ok(())
        }
        Command::Report { what, year, format } => {
            let opened = target.open_existing().await?;
            let store = opened.store();
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
                ReportCommand::Summary => report::summary(store).await?,
                ReportCommand::Provider { name } => report::provider(store, &name, year).await?,
                ReportCommand::Recipient { name } => report::recipient(store, &name, year).await?,
                ReportCommand::Assessment { provider } => {
                    report::assessment(store, year, provider.as_deref()).await?
                }
                ReportCommand::Annual { .. } => unreachable!("handled above"),
            };
            opened.close().await?;
            print_report(&report, format)
        }
    }
}

async fn post_and_say(target: &Target, posting: &ledger::Posting) -> Result<()> {
    let opened = target.open_existing().await?;
    let result = ledger::post(opened.store(), posting).await;
    opened.close().await?;
    say_posted(result?);
    Ok(())
}

fn say_posted(applied: Applied) {
    let (word, recorded) = match applied {
        Applied::Created(r) => ("posted", r),
        Applied::Duplicate(r) => ("already posted (a retry changes nothing)", r),
    };
    let e = &recorded.entry;
    println!(
        "{word} {}: {} {} yuan, {} → {}, {} chain #{} {}",
        e.id,
        e.kind.code(),
        e.amount,
        e.debit,
        e.credit,
        e.office,
        recorded.sequence,
        &hex(&recorded.hash)[..16]
    );
}

fn print_report(report: &Report, format: Format) -> Result<()> {
    use std::io::{IsTerminal, Write};
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Table => render::table(report, &mut out)?,
        Format::Json => render::json(report, &mut out)?,
        Format::Csv => render::csv(report, &mut out)?,
        Format::Xlsx if out.is_terminal() => {
            bail!("--format xlsx writes a workbook: redirect it to a file, e.g. `> report.xlsx`")
        }
        Format::Xlsx => out.write_all(&counterpart_app::export::report_xlsx(report)?)?,
    }
    Ok(())
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

/// Serve the web application on `bind` until stopped.
/// A password from standard input's first line, or a made-up one (`true`: print it).
fn password_from(stdin: bool) -> Result<(String, bool)> {
    if stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok((line.trim_end_matches(['\r', '\n']).to_owned(), false))
    } else {
        Ok((counterpart_app::access::secret()[..20].to_owned(), true))
    }
}

async fn serve(
    opened: Opened,
    bind: std::net::SocketAddr,
    options: counterpart_web::Options,
) -> Result<()> {
    let store = opened.into_arc();
    let state = counterpart_web::AppState::with_options(store, options);
    eprintln!("serving at http://{bind} (stop with Ctrl-C); the API is under /api/v1");
    counterpart_web::serve(state, bind)
        .await
        .with_context(|| format!("cannot serve at {bind}"))
}

async fn run_user(target: &Target, what: UserCommand) -> Result<()> {
    use counterpart_app::access::{self, NewUser};
    use counterpart_domain::access::AccountRole;
    let opened = target.open_existing().await?;
    let store = opened.store();
    let frame = store.frame().await?;
    let operator = access::operator();
    let result: Result<()> = async {
        match what {
            UserCommand::Add {
                name,
                role,
                office,
                password_stdin,
            } => {
                let role = AccountRole::parse(&role).map_err(|e| anyhow::anyhow!("--role: {e}"))?;
                let (password, made_up) = password_from(password_stdin)?;
                let new = NewUser {
                    name: &name,
                    role,
                    office: office.as_deref(),
                    password: &password,
                };
                let user = access::add_user(store, &operator, &frame, &new).await?;
                eprintln!(
                    "added {} ({}{})",
                    user.name,
                    user.role,
                    user.office
                        .map(|o| format!(", office {o}"))
                        .unwrap_or_default()
                );
                if made_up {
                    println!("password: {password}");
                }
                Ok(())
            }
            UserCommand::List => {
                let mut table = comfy_table::Table::new();
                table.set_header(["account", "role", "office", "disabled", "created"]);
                for u in store.users().await? {
                    table.add_row([
                        u.name,
                        u.role.code().to_owned(),
                        u.office.map(|o| o.to_string()).unwrap_or_default(),
                        if u.disabled { "yes" } else { "" }.to_owned(),
                        u.created_at,
                    ]);
                }
                println!("{table}");
                Ok(())
            }
            UserCommand::Disable { name } => {
                access::set_disabled(store, &operator, &frame, &name, true).await?;
                eprintln!("disabled {name}; its sessions ended");
                Ok(())
            }
            UserCommand::Enable { name } => {
                access::set_disabled(store, &operator, &frame, &name, false).await?;
                eprintln!("enabled {name}");
                Ok(())
            }
            UserCommand::Password {
                name,
                password_stdin,
            } => {
                let (password, made_up) = password_from(password_stdin)?;
                access::reset_password(store, &operator, &frame, &name, &password).await?;
                eprintln!("set the password of {name}; its sessions ended");
                if made_up {
                    println!("password: {password}");
                }
                Ok(())
            }
            UserCommand::Mfa { name, off } => {
                match access::set_second_factor(store, &operator, &frame, &name, !off).await? {
                    Some(secret) => {
                        eprintln!(
                            "two-step sign-in is on for {name}; give its owner this key (shown once) for an authenticator app:"
                        );
                        println!("key: {secret}");
                        println!("otpauth: {}", access::totp_uri(&name, &secret));
                    }
                    None => eprintln!("two-step sign-in is off for {name}"),
                }
                eprintln!("its sessions ended");
                Ok(())
            }
            UserCommand::Token { name, label } => {
                let token = access::issue_token(store, &operator, &frame, &name, &label).await?;
                eprintln!("API token for {name} (shown once; send it as Authorization: Bearer …):");
                println!("{token}");
                Ok(())
            }
        }
    }
    .await;
    opened.close().await?;
    result
}

async fn run_demo(
    target: &Target,
    reset: bool,
    scale: u32,
    serve_at: Option<std::net::SocketAddr>,
) -> Result<()> {
    if reset {
        let Target::File(db) = target else {
            bail!("--reset deletes a SQLite file; on PostgreSQL drop the tables yourself");
        };
        for suffix in ["", "-wal", "-shm"] {
            let path = PathBuf::from(format!("{}{suffix}", db.display()));
            if path.exists() {
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot delete {}", path.display()))?;
            }
        }
    }
    let opened = target.open().await?;
    let store = opened.store();
    if store.frame().await?.program.is_none() {
        let records = demo::demo_records_scaled(scale)
            .map_err(|p| anyhow::anyhow!("the embedded demo bundle is broken:\n{p}"))?;
        let frame = store.frame().await?;
        let (ledger, journal_from) = import::book_on(store, &records, |_| None, &frame)
            .await
            .map_err(|p| anyhow::anyhow!("the demo's money does not book:\n{p}"))?;
        let booking = Booking {
            ledger: &ledger,
            journal_from,
        };
        let bar = progress_bar(records.len() + booking.len(), "building the demo");
        store
            .load(
                &records,
                &booking,
                Some(&counterpart_app::audit::import("demo", &records)),
                &|n| bar.set_position(n as u64),
            )
            .await?;
        bar.finish_and_clear();
        eprintln!(
            "built the demo program in {} ({} records, seed {})",
            target.describe(),
            records.len(),
            demo::SEED
        );
    } else {
        eprintln!(
            "using the program already in {} (pass --reset to build the demo anew{})",
            target.describe(),
            if scale > 1 { ", at --scale" } else { "" }
        );
    }
    let summary = report::summary(store).await?;
    print_report(&summary, Format::Table)?;
    counterpart_app::demo::ensure_accounts(store).await?;
    eprintln!("\nDemo accounts (account / password — role, office):");
    for (name, role, office, password) in counterpart_app::demo::DEMO_ACCOUNTS {
        eprintln!(
            "  {name:<9} / {password:<19} — {role}{}",
            office.map(|o| format!(", {o}")).unwrap_or_default()
        );
    }
    eprintln!(
        "\nAlso: `counterpart pair` (the optimal pairing beside the 2010 table), \
         `counterpart report provider Shanghai`, `counterpart report recipient Kashgar`."
    );
    match serve_at {
        Some(bind) => serve(opened, bind, counterpart_web::Options::default()).await,
        None => opened.close().await,
    }
}

async fn run_import(target: &Target, dir: &Path) -> Result<()> {
    // A new database file is created only once the bundle has passed every check, and removed
    // again if booking or writing fails, so a bad bundle leaves no file behind.
    let existing = if target.exists() {
        Some(target.open().await?)
    } else {
        None
    };
    let (frame, keys) = match &existing {
        Some(opened) => (opened.store().frame().await?, opened.store().keys().await?),
        None => Default::default(),
    };
    // Phases timed for the closing line: read and checked; then booked (on a thread of its
    // own) while the records are written.
    let started = std::time::Instant::now();
    let (bundle, opened, created) = match (import::prepare(dir, &frame, &keys), existing) {
        (Err(problems), Some(opened)) => {
            opened.close().await?;
            return Err(ImportError::Invalid(problems).into());
        }
        (Err(problems), None) => return Err(ImportError::Invalid(problems).into()),
        (Ok(bundle), Some(opened)) => (bundle, opened, false),
        (Ok(bundle), None) => (bundle, target.open().await?, true),
    };
    let read = started.elapsed();
    let bundle = std::sync::Arc::new(bundle);
    let failed = std::sync::Mutex::new(None);
    let booked = std::sync::Mutex::new(std::time::Duration::ZERO);
    let bar = progress_bar(
        bundle.records.len() + bundle.records.transfers.len(),
        "importing",
    );
    let result = async {
        let (ledger, stored) = import::booking_base(opened.store(), &bundle.records).await?;
        let order = Ledger::booking_order(&bundle.records.transfers);
        let booking = std::thread::spawn({
            let bundle = std::sync::Arc::clone(&bundle);
            move || {
                let clock = std::time::Instant::now();
                let line_of = |i| bundle.line_of("transfers", i);
                let booked = import::book(&bundle.records, line_of, &frame, ledger, &stored);
                (booked, clock.elapsed())
            }
        });
        let pending: counterpart_store::Pending = Box::new(|| match booking.join() {
            Ok((outcome, took)) => {
                *booked.lock().expect("not poisoned") = took;
                outcome
                    .map_err(|problems| *failed.lock().expect("not poisoned") = Some(problems))
                    .ok()
            }
            Err(panic) => std::panic::resume_unwind(panic),
        });
        let audit = counterpart_app::audit::import(&dir.display().to_string(), &bundle.records);
        let written = opened
            .store()
            .load_booking(&bundle.records, &order, pending, Some(&audit), &|n| {
                // The ledger's rows are known once booked: the bar grows to hold them.
                if bar.length().is_some_and(|len| n as u64 > len) {
                    bar.set_length(n as u64);
                }
                bar.set_position(n as u64)
            })
            .await?;
        match failed.lock().expect("not poisoned").take() {
            Some(problems) if !written => Err(anyhow::Error::from(ImportError::Invalid(problems))),
            _ => Ok(()),
        }
    }
    .await;
    bar.finish_and_clear();
    let result = result.and(opened.close().await);
    if let Err(e) = result {
        if let (true, Target::File(db)) = (created, target) {
            let _ = std::fs::remove_file(db);
        }
        return Err(e);
    }
    let done = started.elapsed();
    eprintln!(
        "imported {} records from {} into {} in {:.2} s (read and checked {:.2} s; then written \
         in {:.2} s, booked meanwhile in {:.2} s)",
        bundle.records.len(),
        dir.display(),
        target.describe(),
        done.as_secs_f64(),
        read.as_secs_f64(),
        (done - read).as_secs_f64(),
        booked.lock().expect("not poisoned").as_secs_f64(),
    );
    counterpart_store::drop_elsewhere(bundle);
    Ok(())
}
