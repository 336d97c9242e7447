//! One function per command: each parses its flags into the use case's options, calls the use
//! case in `app`, and says what happened (results to standard output, messages to standard
//! error).

use crate::target::{Opened, Target};
use crate::{ExportCommand, Format, ImportCommand, LedgerCommand, ReportCommand, TableFormat};
use crate::{PostFlags, UserCommand, render};
use anyhow::{Context as _, Result, anyhow, bail};
use counterpart_app::import::ImportError;
use counterpart_app::report::{self, Report};
use counterpart_app::{demo, import, ledger};
use counterpart_domain::Year;
use counterpart_domain::ledger::{Applied, Ledger, Phase, hex};
use counterpart_domain::project::TransferKind;
use counterpart_domain::{Fen, RecordId, parse_date};
use counterpart_store::{Booking, Store};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};

/// An optional year flag, checked, with the flag's name in its error.
fn year_flag(year: Option<u16>, flag: &str) -> Result<Option<Year>> {
    year.map(Year::new)
        .transpose()
        .map_err(|e| anyhow!("--{flag}: {e}"))
}

/// `counterpart serve`: the web application on an existing database.
pub(crate) async fn serve_existing(
    target: &Target,
    bind: std::net::SocketAddr,
    options: counterpart_web::Options,
) -> Result<()> {
    serve(target.open_existing().await?, bind, options).await
}

/// `counterpart import`: a CSV bundle directory, or IATI files.
pub(crate) async fn import(
    target: &Target,
    dir: Option<PathBuf>,
    what: Option<ImportCommand>,
) -> Result<()> {
    match (dir, what) {
        (None, Some(ImportCommand::Iati { files })) => import_iati(target, &files).await,
        (Some(dir), None) => run_import(target, &dir).await,
        _ => bail!(
            "give a bundle directory (`counterpart import DIR`) or IATI files (`counterpart import iati FILE…`)"
        ),
    }
}

async fn import_iati(target: &Target, files: &[PathBuf]) -> Result<()> {
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let records = target
        .with_store(async |store| {
            counterpart_app::iati::import::import_files(store, &paths, &|_| {}).await
        })
        .await??;
    eprintln!(
        "imported {} projects and {} transfers from {} IATI file(s)",
        records.projects.len(),
        records.transfers.len(),
        files.len()
    );
    Ok(())
}

/// `counterpart solve FILE`: a DIMACS problem solved, its certificate checked.
pub(crate) fn solve(
    file: &Path,
    quiet: bool,
    method: Option<counterpart_app::solve::Method>,
) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let solved = counterpart_app::solve::solve_dimacs(&text, quiet, method)
        .with_context(|| file.display().to_string())?;
    print!("{}", solved.output);
    // Four significant figures: a problem of a few thousand arcs solves in a millisecond.
    let secs = solved.elapsed.as_secs_f64();
    let decimals = if secs > 0.0 {
        (3 - secs.log10().floor() as i32).clamp(0, 9) as usize
    } else {
        3
    };
    eprintln!(
        "solved in {secs:.decimals$} s with {}, certificate checked",
        solved.method
    );
    Ok(())
}

/// `counterpart export …`.
pub(crate) async fn export(target: &Target, what: ExportCommand) -> Result<()> {
    match what {
        ExportCommand::Iati {
            out,
            year,
            provider,
        } => export_iati(target, &out, year, provider).await,
        ExportCommand::Bundle { out } => {
            let (files, rows) = target
                .with_store(async |store| counterpart_app::export::bundle(store, &out).await)
                .await??;
            eprintln!("wrote {rows} records in {files} files to {}", out.display());
            Ok(())
        }
        ExportCommand::Table { name, format, out } => {
            export_table(target, &name, format, out.as_deref()).await
        }
    }
}

async fn export_iati(
    target: &Target,
    out: &Path,
    year: Option<u16>,
    provider: Option<String>,
) -> Result<()> {
    let now = jiff::Timestamp::now();
    let options = counterpart_app::iati::IatiOptions {
        year: year_flag(year, "year")?,
        provider,
        today: jiff::tz::TimeZone::UTC.to_datetime(now).date(),
        generated: now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
    };
    let written = target
        .with_store(async |store| counterpart_app::iati::export(store, &options, out).await)
        .await??;
    let activities: usize = written.iter().map(|w| w.activities).sum();
    let transactions: usize = written.iter().map(|w| w.transactions).sum();
    eprintln!(
        "wrote {} IATI files to {}: {activities} activities, {transactions} transactions",
        written.len(),
        out.display()
    );
    Ok(())
}

async fn export_table(
    target: &Target,
    name: &str,
    format: TableFormat,
    out: Option<&Path>,
) -> Result<()> {
    use counterpart_app::export;
    let table = export::table(name)?;
    let write = async |store: &dyn Store| -> Result<u64> {
        Ok(match (format, out) {
            (TableFormat::Xlsx, None) => {
                bail!("--format xlsx writes a file: add --out FILE.xlsx")
            }
            (TableFormat::Xlsx, Some(path)) => export::table_xlsx(store, table, path).await?,
            (TableFormat::Csv, Some(path)) => {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))?;
                export::table_csv(store, table, std::io::BufWriter::new(file)).await?
            }
            (TableFormat::Csv, None) => {
                let stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
                export::table_csv(store, table, stdout).await?
            }
        })
    };
    let rows = target.with_store(write).await??;
    if let Some(path) = out {
        eprintln!("wrote {rows} rows of {name} to {}", path.display());
    }
    Ok(())
}

/// `counterpart compliance`.
pub(crate) async fn compliance(
    target: &Target,
    year: Option<u16>,
    provider: Option<String>,
    as_of: Option<String>,
    format: Format,
) -> Result<()> {
    let year = year_flag(year, "year")?;
    let as_of = as_of
        .map(|d| parse_date(&d))
        .transpose()
        .map_err(|e| anyhow!("--as-of: {e}"))?;
    let report = target
        .with_store(async |store| report::compliance(store, year, provider.as_deref(), as_of).await)
        .await??;
    print_report(&report, format)
}

/// `counterpart pair`: the flags as they came, parsed here.
pub(crate) struct PairFlags {
    pub(crate) year: Option<u16>,
    pub(crate) weights: Option<String>,
    pub(crate) fix: Vec<String>,
    pub(crate) forbid: Vec<String>,
    pub(crate) explain: Vec<String>,
}

/// `counterpart pair`.
pub(crate) async fn pair(target: &Target, flags: PairFlags, format: Format) -> Result<()> {
    let options = counterpart_app::pair::PairOptions {
        year: year_flag(flags.year, "year")?,
        weights: flags
            .weights
            .map(|w| counterpart_app::pair::Weights::parse(&w))
            .transpose()
            .map_err(|e| anyhow!("--weights: {e}"))?,
        fix: flags.fix,
        forbid: flags.forbid,
        explain: flags.explain,
    };
    let report = target
        .with_store(async |store| counterpart_app::pair::pair(store, &options).await)
        .await??;
    print_report(&report, format)
}

/// `counterpart place`: the proposal, then its timings on standard error.
pub(crate) async fn place(
    target: &Target,
    round: Option<u16>,
    limit: Option<usize>,
    format: Format,
) -> Result<()> {
    let options = counterpart_app::place::PlaceOptions {
        round: year_flag(round, "round")?,
        limit,
    };
    let (report, times) = target
        .with_store(async |store| counterpart_app::place::place(store, &options).await)
        .await??;
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

/// `counterpart publish`.
pub(crate) async fn publish(target: &Target, out: &Path) -> Result<()> {
    let now = jiff::Timestamp::now();
    let today = jiff::tz::TimeZone::UTC.to_datetime(now).date();
    let generated = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let published = target
        .with_store(async |store| {
            counterpart_app::publish::publish(store, out, today, &generated).await
        })
        .await??;
    eprintln!(
        "published {} pages ({} files) to {}: open {}",
        published.pages,
        published.files,
        out.display(),
        out.join("index.html").display()
    );
    Ok(())
}

/// `counterpart verify`.
pub(crate) async fn verify(target: &Target) -> Result<()> {
    let v = target
        .with_store(async |store| ledger::verify(store).await)
        .await?
        .map_err(|e| anyhow!("verify failed: {e}"))?;
    println!(
        "ledger verified: {} transfers, {} accounts, {} office chains intact; debits = credits = {} yuan",
        v.transfers, v.accounts, v.chains, v.debits
    );
    Ok(())
}

/// `counterpart ledger …`.
pub(crate) async fn ledger(target: &Target, what: LedgerCommand, format: Format) -> Result<()> {
    match what {
        LedgerCommand::CloseYear { year } => {
            let year = Year::new(year).map_err(|e| anyhow!("{e}"))?;
            target
                .with_store(async |store| store.close_year(year).await)
                .await??;
            println!("closed {year}: postings dated in it are refused from now on");
            Ok(())
        }
        LedgerCommand::Post(flags) => post_and_say(target, &posting_of(flags)?).await,
        LedgerCommand::Reverse {
            original,
            id,
            date,
            by,
        } => {
            let original = RecordId::parse(&original).map_err(|e| anyhow!("{e}"))?;
            let id = RecordId::parse(&id).map_err(|e| anyhow!("--id: {e}"))?;
            let date = parse_date(&date).map_err(|e| anyhow!("--date: {e}"))?;
            let applied = target
                .with_store(async |store| ledger::reverse(store, &original, id, date, by).await)
                .await??;
            say_posted(applied);
            Ok(())
        }
        LedgerCommand::Balance { account } => {
            print_account(target, &account, "accounts", format).await
        }
        LedgerCommand::History { account } => {
            print_account(target, &account, "history", format).await
        }
    }
}

/// The posting `ledger post`'s flags describe.
fn posting_of(flags: PostFlags) -> Result<ledger::Posting> {
    let PostFlags {
        id,
        project,
        kind,
        amount,
        amount_fen,
        date,
        pending,
        post,
        void,
        corrects_year,
        by,
    } = flags;
    let parse_id = |s: &str, what: &str| RecordId::parse(s).map_err(|e| anyhow!("--{what}: {e}"));
    let phase = match (pending, post, void) {
        (true, _, _) => Phase::Pending,
        (_, Some(p), _) => Phase::Post(parse_id(&p, "post")?),
        (_, _, Some(p)) => Phase::Void(parse_id(&p, "void")?),
        _ => Phase::Single,
    };
    Ok(ledger::Posting {
        id: parse_id(&id, "id")?,
        project: parse_id(&project, "project")?,
        kind: TransferKind::parse(&kind).map_err(|e| anyhow!("--kind: {e}"))?,
        amount: match (amount, amount_fen) {
            (Some(yuan), _) => Fen::parse_yuan(&yuan).map_err(|e| anyhow!("--amount: {e}"))?,
            (None, Some(fen)) => {
                Fen::parse_amount(&fen).map_err(|e| anyhow!("--amount-fen: {e}"))?
            }
            (None, None) => bail!("give the amount: --amount YUAN (or --amount-fen FEN)"),
        },
        value_date: parse_date(&date).map_err(|e| anyhow!("--date: {e}"))?,
        phase,
        corrects: None,
        corrects_year: year_flag(corrects_year, "corrects-year")?,
        recorded_by: by,
    })
}

/// `counterpart report …`.
pub(crate) async fn report(
    target: &Target,
    what: ReportCommand,
    year: Option<u16>,
    format: Format,
) -> Result<()> {
    if let ReportCommand::Annual { out, lang } = what {
        return annual(target, year, lang.into(), &out).await;
    }
    let year = year_flag(year, "year")?;
    if matches!(what, ReportCommand::Summary) && year.is_some() {
        bail!(
            "the summary covers the whole program; use --year with `report provider` or `report recipient`"
        )
    }
    let report = target
        .with_store(async |store| match what {
            ReportCommand::Summary => report::summary(store).await,
            ReportCommand::Provider { name } => report::provider(store, &name, year).await,
            ReportCommand::Recipient { name } => report::recipient(store, &name, year).await,
            ReportCommand::Assessment { provider } => {
                report::assessment(store, year, provider.as_deref()).await
            }
            ReportCommand::Annual { .. } => unreachable!("handled above"),
        })
        .await??;
    print_report(&report, format)
}

/// `counterpart report annual --year Y --out FILE`.
async fn annual(
    target: &Target,
    year: Option<u16>,
    lang: counterpart_app::lang::Lang,
    out: &Path,
) -> Result<()> {
    let year = year
        .ok_or_else(|| anyhow!("the annual report needs --year, e.g. --year 2019"))
        .and_then(|y| Year::new(y).map_err(|e| anyhow!("--year: {e}")))?;
    target
        .with_store(async |store| counterpart_app::annual::write(store, year, lang, out).await)
        .await??;
    eprintln!("wrote the annual report {year} to {}", out.display());
    Ok(())
}

/// One section ("accounts" or "history") of an account's ledger report.
async fn print_account(
    target: &Target,
    account: &str,
    section: &str,
    format: Format,
) -> Result<()> {
    let mut report = target
        .with_store(async |store| ledger::account(store, account).await)
        .await??;
    report.sections.retain(|s| s.key == section);
    print_report(&report, format)
}

async fn post_and_say(target: &Target, posting: &ledger::Posting) -> Result<()> {
    let applied = target
        .with_store(async |store| ledger::post(store, posting).await)
        .await??;
    say_posted(applied);
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

/// Serve the web application on `bind` until stopped.
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

pub(crate) async fn user(target: &Target, what: UserCommand) -> Result<()> {
    use counterpart_app::access::{self, NewUser};
    use counterpart_domain::access::AccountRole;
    let operator = access::operator();
    let run = async |store: &dyn Store| -> Result<()> {
        let frame = store.frame().await?;
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
    };
    target.with_store(run).await?
}

pub(crate) async fn demo(
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
