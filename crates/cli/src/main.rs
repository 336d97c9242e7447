//! `counterpart`: run a pairing-assistance program from the command line.
//!
//! Architecture Invariant: this binary parses arguments, calls `app` use cases and renders their
//! results. It holds no business rule.

mod commands;
mod render;
mod target;

use anyhow::{Context as _, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use target::Target;

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
        /// The min-cost flow solver: chosen by the problem's shape, or one named.
        #[arg(long, value_enum, default_value_t = SolveMethod::Auto)]
        method: SolveMethod,
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

/// `counterpart solve --method`.
#[derive(Clone, Copy, ValueEnum)]
enum SolveMethod {
    Auto,
    NetworkSimplex,
    CostScaling,
}

impl From<SolveMethod> for Option<counterpart_app::solve::Method> {
    fn from(method: SolveMethod) -> Self {
        use counterpart_app::solve::Method;
        match method {
            SolveMethod::Auto => None,
            SolveMethod::NetworkSimplex => Some(Method::NetworkSimplex),
            SolveMethod::CostScaling => Some(Method::CostScaling),
        }
    }
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
    Post(PostFlags),
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

/// The flags of `ledger post`.
#[derive(Args)]
struct PostFlags {
    /// Your id for this transfer (e.g. from your own system).
    #[arg(long)]
    id: String,
    #[arg(long)]
    project: String,
    /// commit, disburse, spend or decommit.
    #[arg(long)]
    kind: String,
    /// The amount in yuan, with up to two decimals, e.g. 150000 or 1,250,000.50.
    #[arg(
        long,
        value_name = "YUAN",
        required_unless_present = "amount_fen",
        conflicts_with = "amount_fen"
    )]
    amount: Option<String>,
    /// The amount in whole fen instead (1 yuan = 100 fen), for scripts that keep fen.
    #[arg(long, value_name = "FEN")]
    amount_fen: Option<String>,
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
        /// The report's language: en (English) or zh (简体中文).
        #[arg(long, value_enum, default_value_t = Language::En)]
        lang: Language,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Language {
    En,
    Zh,
}

impl From<Language> for counterpart_app::lang::Lang {
    fn from(l: Language) -> Self {
        match l {
            Language::En => counterpart_app::lang::Lang::En,
            Language::Zh => counterpart_app::lang::Lang::Zh,
        }
    }
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
        // The reader went away (`… | head`): what it wanted has been written.
        Err(e) if closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether an error comes from writing to a pipe whose reader has closed it.
fn closed_pipe(e: &anyhow::Error) -> bool {
    use counterpart_app::export::ExportError;
    use counterpart_store::StoreError;
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(broken_pipe)
            || cause
                .downcast_ref::<csv::Error>()
                .is_some_and(csv_broken_pipe)
            || matches!(
                cause.downcast_ref::<StoreError>(),
                Some(StoreError::SinkClosed)
            )
            || matches!(
                cause.downcast_ref::<ExportError>(),
                Some(ExportError::Store(StoreError::SinkClosed))
            )
    })
}

fn broken_pipe(io: &std::io::Error) -> bool {
    io.kind() == std::io::ErrorKind::BrokenPipe
        || io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<csv::Error>())
            .is_some_and(csv_broken_pipe)
}

fn csv_broken_pipe(e: &csv::Error) -> bool {
    matches!(e.kind(), csv::ErrorKind::Io(io) if broken_pipe(io))
}

/// Each command to its function in `commands`.
async fn run(cli: Cli) -> Result<()> {
    let target = Target::of(&cli);
    match cli.command {
        Command::Demo {
            reset,
            no_serve,
            bind,
            scale,
        } => commands::demo(&target, reset, scale, (!no_serve).then_some(bind)).await,
        Command::Serve {
            bind,
            secure_cookies,
            require_second_factor,
        } => {
            let options = counterpart_web::Options {
                secure_cookies,
                second_factor_required: require_second_factor,
            };
            commands::serve_existing(&target, bind, options).await
        }
        Command::User { what } => commands::user(&target, what).await,
        Command::Import { dir, what } => commands::import(&target, dir, what).await,
        Command::Solve {
            file,
            quiet,
            method,
        } => commands::solve(&file, quiet, method.into()),
        Command::Export { what } => commands::export(&target, what).await,
        Command::Compliance {
            year,
            provider,
            as_of,
            format,
        } => commands::compliance(&target, year, provider, as_of, format).await,
        Command::Pair {
            year,
            weights,
            fix,
            forbid,
            explain,
            format,
        } => {
            let flags = commands::PairFlags {
                year,
                weights,
                fix,
                forbid,
                explain,
            };
            commands::pair(&target, flags, format).await
        }
        Command::Place {
            round,
            limit,
            format,
        } => commands::place(&target, round, limit, format).await,
        Command::Publish { out } => commands::publish(&target, &out).await,
        Command::Verify => commands::verify(&target).await,
        Command::Ledger { what, format } => commands::ledger(&target, what, format).await,
        Command::Report { what, year, format } => {
            commands::report(&target, what, year, format).await
        }
    }
}
