//! The `counterpart` binary as a new user runs it.

// A scenario reads top to bottom; the 120-line limit on functions is for the product code.
#![allow(clippy::too_many_lines)]

use std::path::Path;
use std::process::{Command, Output};

fn counterpart(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_counterpart"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn headline_value<'a>(report: &'a serde_json::Value, figure: &str) -> &'a serde_json::Value {
    let headline = report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "headline")
        .unwrap();
    let row = headline["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[0] == figure)
        .unwrap();
    &row[1]
}

#[test]
fn demo_then_reports_in_every_format_then_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("counterpart.db");

    let missing = counterpart(&db, &["report", "summary"]);
    assert!(!missing.status.success());
    assert!(
        text(&missing.stderr).contains("no database at"),
        "{}",
        text(&missing.stderr)
    );
    assert!(!db.exists(), "a report never creates a database");

    let demo = counterpart(&db, &["demo", "--no-serve"]);
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let stdout = text(&demo.stdout);
    for expected in [
        "program summary",
        "Funds delivered 2010–2019",
        "computed from simulated records",
        "SIMULATED",
        "Kashgar",
    ] {
        assert!(
            stdout.contains(expected),
            "the demo summary shows {expected:?}"
        );
    }
    assert!(text(&demo.stderr).contains("built the demo program"));
    let again = counterpart(&db, &["demo", "--no-serve"]);
    assert!(
        text(&again.stderr).contains("using the program already in"),
        "a second demo reuses the database"
    );

    let json = counterpart(&db, &["report", "summary", "--format", "json"]);
    assert!(json.status.success(), "{}", text(&json.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let fen = headline_value(&summary, "Funds delivered 2010–2019")["fen"]
        .as_i64()
        .expect("money is exact fen");
    assert!((fen as f64 / 1e11 - 120.0).abs() <= 2.4, "{fen}");
    let people = headline_value(&summary, "Officials and experts posted")
        .as_i64()
        .expect("a number");
    assert!(people >= 87_500);
    let livelihood = headline_value(&summary, "Livelihood share of funds delivered")
        .as_f64()
        .expect("a number");
    assert!(livelihood > 70.0);

    let xlsx = counterpart(&db, &["compliance", "--year", "2019", "--format", "xlsx"]);
    assert!(xlsx.status.success(), "{}", text(&xlsx.stderr));
    assert!(
        xlsx.stdout.starts_with(b"PK") && xlsx.stdout.len() > 4_000,
        "an XLSX workbook (a zip) on standard output"
    );

    let csv = counterpart(&db, &["report", "summary", "--format", "csv"]);
    let csv = text(&csv.stdout);
    assert!(csv.starts_with("section,row,column,value,unit\n"));
    assert!(
        csv.contains(&format!(
            "headline,Funds delivered 2010–2019,value,{fen},fen"
        )),
        "money in CSV is fen"
    );

    let pair = counterpart(&db, &["pair"]);
    assert!(pair.status.success(), "{}", text(&pair.stderr));
    for expected in [
        "Proposed pairing, 2010",
        "optimal for these weights",
        "Where the actual pairing differs",
        "shadow price",
        "computed from simulated records",
    ] {
        assert!(
            text(&pair.stdout).contains(expected),
            "pair shows {expected:?}"
        );
    }
    let bad = counterpart(&db, &["pair", "--weights", "fit=lots"]);
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("--weights: fit"),
        "{}",
        text(&bad.stderr)
    );

    // A placement round on the demo: JSON with the round's figures and proposed postings,
    // every posting inside the seats the round found open; timings on stderr.
    let place = counterpart(
        &db,
        &[
            "place", "--round", "2020", "--limit", "5", "--format", "json",
        ],
    );
    assert!(place.status.success(), "{}", text(&place.stderr));
    assert!(
        text(&place.stderr).contains("certificate checked"),
        "{}",
        text(&place.stderr)
    );
    let round: serde_json::Value = serde_json::from_slice(&place.stdout).unwrap();
    let figure = |label: &str| {
        round["sections"][0]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row[0] == label)
            .map(|row| row[1].as_i64().unwrap())
            .unwrap_or_else(|| panic!("{label} in {round}"))
    };
    assert!(figure("people placed") > 0);
    assert_eq!(
        figure("people placed") + figure("seats left open"),
        figure("open seats")
    );
    assert_eq!(round["sections"][1]["rows"].as_array().unwrap().len(), 5);
    let bad_round = counterpart(&db, &["place", "--round", "1066"]);
    assert!(!bad_round.status.success());

    let iati_dir = dir.path().join("iati");
    let iati = counterpart(
        &db,
        &[
            "export",
            "iati",
            "--out",
            iati_dir.to_str().unwrap(),
            "--provider",
            "Shenzhen",
            "--year",
            "2019",
        ],
    );
    assert!(iati.status.success(), "{}", text(&iati.stderr));
    assert!(
        text(&iati.stderr).contains("wrote 2 IATI files"),
        "{}",
        text(&iati.stderr)
    );
    let activities = iati_dir.join("shenzhen-activities.xml");
    let again = counterpart(&db, &["import", "iati", activities.to_str().unwrap()]);
    assert!(
        !again.status.success(),
        "the same projects twice are refused"
    );
    assert!(
        text(&again.stderr).contains("shenzhen-activities.xml:")
            && text(&again.stderr).contains("nothing was written"),
        "{}",
        text(&again.stderr)
    );

    let provider = counterpart(&db, &["report", "provider", "Shenzhen", "--year", "2019"]);
    assert!(provider.status.success(), "{}", text(&provider.stderr));
    assert!(text(&provider.stdout).contains("Shenzhen — provider scorecard, 2019"));
    let verify = counterpart(&db, &["verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    assert!(
        text(&verify.stdout).contains("19 office chains intact"),
        "{}",
        text(&verify.stdout)
    );
    let balance = counterpart(
        &db,
        &[
            "ledger",
            "balance",
            "source.shanghai.2019",
            "--format",
            "csv",
        ],
    );
    assert!(balance.status.success(), "{}", text(&balance.stderr));
    assert!(text(&balance.stdout).contains("accounts,source.shanghai.2019,kind,source,"));
    assert!(!text(&balance.stdout).contains("history,"));
    // The table shows each balance to the fen, as the CSV holds it, never rounded to "m".
    let fen: i64 = text(&balance.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("accounts,source.shanghai.2019,debits_posted,"))
        .and_then(|rest| rest.split(',').next())
        .expect("the CSV has the debits posted")
        .parse()
        .unwrap();
    assert!(
        fen > 100_000_000,
        "more than a million yuan committed: {fen}"
    );
    let table = counterpart(&db, &["ledger", "balance", "source.shanghai.2019"]);
    let table = text(&table.stdout);
    let exact = counterpart_domain::money::signed_yuan(fen);
    assert!(table.contains(&exact), "{exact} in\n{table}");
    assert!(!table.contains(" m ") && !table.contains(" bn"), "{table}");
    let history = counterpart(
        &db,
        &[
            "ledger",
            "history",
            "source.shanghai.2019",
            "--format",
            "csv",
        ],
    );
    assert!(history.status.success(), "{}", text(&history.stderr));
    let history = text(&history.stdout);
    assert!(history.contains(",office,shanghai,"), "{history}");
    assert!(!history.contains("accounts,"), "{history}");
    let compliance = counterpart(&db, &["compliance", "--year", "2019", "--format", "json"]);
    assert!(compliance.status.success(), "{}", text(&compliance.stderr));
    let compliance: serde_json::Value = serde_json::from_slice(&compliance.stdout).unwrap();
    assert_eq!(
        headline_value(&compliance, "Provider-years checked").as_i64(),
        Some(19)
    );
    let unknown = counterpart(&db, &["report", "recipient", "Atlantis"]);
    assert!(!unknown.status.success());
    assert!(text(&unknown.stderr).contains("no recipient area is called \"Atlantis\""));

    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(bad.join("pairs.csv"), "provider,recipient,first_year,last_year,provenance,source,confidence,note\nshanghai,kashgar.shache-county,2010,,recorded,,,\n").unwrap();
    let before = std::fs::read(&db).unwrap();
    let refused = counterpart(&db, &["import", bad.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("pairs.csv:2: column provider: duplicate"),
        "{}",
        text(&refused.stderr)
    );
    assert!(
        before == std::fs::read(&db).unwrap(),
        "a refused import leaves the database byte-for-byte unchanged"
    );
    let summary_year = counterpart(&db, &["report", "summary", "--year", "2019"]);
    assert!(text(&summary_year.stderr).contains("use --year with `report provider`"));

    let bundle = dir.path().join("bundle");
    let export = counterpart(
        &db,
        &["export", "bundle", "--out", bundle.to_str().unwrap()],
    );
    assert!(export.status.success(), "{}", text(&export.stderr));
    let copy = dir.path().join("copy.db");
    let import = counterpart(&copy, &["import", bundle.to_str().unwrap()]);
    assert!(import.status.success(), "{}", text(&import.stderr));
    let copied = counterpart(&copy, &["report", "summary", "--format", "json"]);
    assert_eq!(
        copied.stdout, json.stdout,
        "the imported copy has the same summary"
    );

    // Posting through the ledger, on the copy.
    let post = [
        "ledger",
        "post",
        "--id",
        "x1",
        "--project",
        "sim.shanghai.2019.0001",
        "--kind",
        "commit",
        "--date",
        "2019-12-30",
    ];
    let posted = counterpart(&copy, &[&post[..], &["--amount", "500"]].concat());
    assert!(
        text(&posted.stdout).starts_with("posted x1: commit 500.00 yuan"),
        "{}",
        text(&posted.stderr)
    );
    // The same amount in fen is the same transfer: a retry.
    let retried = counterpart(&copy, &[&post[..], &["--amount-fen", "50000"]].concat());
    assert!(
        text(&retried.stdout).starts_with("already posted"),
        "{}",
        text(&retried.stderr)
    );
    let changed = counterpart(&copy, &[&post[..], &["--amount", "500.01"]].concat());
    assert!(
        text(&changed.stderr).contains("transfer x1 exists with a different amount (id_reused)"),
        "{}",
        text(&changed.stderr)
    );
    let reversed = counterpart(
        &copy,
        &[
            "ledger",
            "reverse",
            "x1",
            "--id",
            "x2",
            "--date",
            "2019-12-31",
        ],
    );
    assert!(
        text(&reversed.stdout).starts_with("posted x2: reversal 500.00 yuan"),
        "{}",
        text(&reversed.stderr)
    );
    let again = counterpart(
        &copy,
        &[
            "ledger",
            "reverse",
            "x1",
            "--id",
            "x3",
            "--date",
            "2019-12-31",
        ],
    );
    assert!(
        text(&again.stderr).contains("transfer x1 was already reversed (already_reversed)"),
        "{}",
        text(&again.stderr)
    );
    let verify = counterpart(&copy, &["verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));

    tables_fit_the_terminal(&copy);

    // `… | head -1`: the reader closes the pipe after one line; the command stops quietly.
    // Each output is well over a pipe's 64 KiB buffer, so the writer meets the closed pipe:
    // a streamed export, a report as CSV, a report as a table.
    for args in [
        &["export", "table", "transfers"][..],
        &["compliance", "--format", "csv"],
        &["compliance"],
    ] {
        let (status, stderr) = first_line_then_close(&copy, args);
        assert!(
            status.success() && stderr.is_empty(),
            "{args:?}: {status}, {stderr}"
        );
    }
}

/// Tables sized to the terminal (`COLUMNS` when not one): no line wider than it, and no word
/// broken in two: every word at a narrow width is a word of the unwrapped table. A section too
/// wide for its words is laid out as a block per row.
fn tables_fit_the_terminal(db: &Path) {
    use unicode_width::UnicodeWidthStr;
    let table_at = |width: usize, args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_counterpart"))
            .arg("--db")
            .arg(db)
            .args(args)
            .env("COLUMNS", width.to_string())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let words = |table: &str| -> std::collections::BTreeSet<String> {
        table
            .split(|c: char| c.is_whitespace() || ('\u{2500}'..='\u{257f}').contains(&c))
            // The vertical layout's "- year: 2019" marks a row and names its first column.
            .map(|w| w.trim_end_matches(':'))
            // The title's rule is as wide as the title, or the terminal.
            .filter(|w| !w.is_empty() && *w != "-" && !w.chars().all(|c| c == '='))
            .map(str::to_owned)
            .collect()
    };
    for args in [
        &["report", "provider", "Shanghai"][..],
        &["report", "summary"],
        &["compliance", "--year", "2019"],
    ] {
        let whole = words(&table_at(2000, args));
        let mut vertical = 0;
        for width in [158, 120, 80, 60] {
            let table = table_at(width, args);
            for line in table.lines() {
                assert!(
                    line.width() <= width,
                    "{args:?} at {width}: {line:?} is too wide"
                );
            }
            let broken: Vec<String> = words(&table).difference(&whole).cloned().collect();
            assert!(
                broken.is_empty(),
                "{args:?} at {width}: words broken: {broken:?}"
            );
            vertical = vertical.max(table.lines().filter(|l| l.starts_with("- ")).count());
        }
        assert!(
            vertical > 0,
            "{args:?}: a narrow terminal gets the vertical layout"
        );
    }
}

/// Run the binary, read one line of its output, close the pipe, and wait for it to end.
fn first_line_then_close(db: &Path, args: &[&str]) -> (std::process::ExitStatus, String) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_counterpart"))
        .arg("--db")
        .arg(db)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .unwrap();
    assert!(!line.is_empty(), "{args:?} printed nothing");
    let output = child.wait_with_output().unwrap();
    (output.status, text(&output.stderr))
}

#[test]
fn a_bad_bundle_into_a_new_database_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.db");
    let bundle = dir.path().join("bundle");
    std::fs::create_dir(&bundle).unwrap();
    std::fs::write(
        bundle.join("regions.csv"),
        "code,parent,kind,name_en,name_zh,admin_code\nx,,planet,X,X,\n",
    )
    .unwrap();
    let out = counterpart(&db, &["import", bundle.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("regions.csv:2: column kind: \"planet\" is not a region kind"),
        "{err}"
    );
    assert!(
        err.contains("program.csv: missing: a new database needs its program")
            || err.contains("problem(s) found"),
        "{err}"
    );
    assert!(!db.exists());
}

#[test]
fn help_explains_the_commands() {
    let out = Command::new(env!("CARGO_BIN_EXE_counterpart"))
        .arg("--help")
        .output()
        .unwrap();
    let help = text(&out.stdout);
    for command in ["demo", "import", "export", "report"] {
        assert!(help.contains(command), "--help lists {command}");
    }
    assert!(help.contains("pairing-assistance"));
}

/// `--database postgres://…` runs the same demo and reports on PostgreSQL (when
/// `COUNTERPART_TEST_PG` names a server; CI sets it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_on_postgresql_too() {
    let Ok(url) = std::env::var("COUNTERPART_TEST_PG") else {
        eprintln!("COUNTERPART_TEST_PG is not set: PostgreSQL skipped");
        return;
    };
    let schema = format!("cli_test_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    let database = format!("{url}{separator}options=-c%20search_path%3D{schema}");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_counterpart"))
            .arg("--database")
            .arg(&database)
            .args(args)
            .output()
            .unwrap()
    };
    let demo = run(&["demo", "--no-serve"]);
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let pg = run(&["report", "summary", "--format", "json"]);
    assert!(pg.status.success(), "{}", text(&pg.stderr));

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("counterpart.db");
    assert!(counterpart(&db, &["demo", "--no-serve"]).status.success());
    let sqlite = counterpart(&db, &["report", "summary", "--format", "json"]);
    assert_eq!(
        text(&pg.stdout),
        text(&sqlite.stdout),
        "both backends give the same summary"
    );
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}

#[test]
fn solve_reads_dimacs_and_prints_the_dimacs_solution() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("unused.db");
    let write = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        path.display().to_string()
    };
    let min = write(
        "t.min",
        "c transport\np min 4 5\nn 1 4\nn 4 -4\na 1 2 0 4 2\na 1 3 0 2 2\na 2 3 0 2 1\na 2 4 0 3 3\na 3 4 0 5 1\n",
    );
    let out = counterpart(&db, &["solve", &min]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("s 14\n"), "{stdout}");
    let flows: i64 = stdout
        .lines()
        .filter(|l| l.starts_with("f ") && l.split(' ').nth(2) == Some("4"))
        .map(|l| l.split(' ').nth(3).unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(flows, 4, "all four units reach node 4: {stdout}");
    assert!(text(&out.stderr).contains("certificate checked"));
    let quiet = counterpart(&db, &["solve", "--quiet", &min]);
    assert_eq!(text(&quiet.stdout), "s 14\n");

    let asn = write(
        "t.asn",
        "p asn 4 4\nn 1\nn 2\na 1 3 5\na 1 4 1\na 2 3 2\na 2 4 9\n",
    );
    let out = counterpart(&db, &["solve", &asn]);
    assert_eq!(text(&out.stdout), "s 3\nf 1 4 1\nf 2 3 1\n");

    let bad = write("bad.min", "p min 2 1\na 1 2 0 x 1\n");
    let out = counterpart(&db, &["solve", &bad]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("line 2: capacity \"x\""),
        "{}",
        text(&out.stderr)
    );

    let short = write("short.asn", "p asn 4 2\nn 1\nn 2\na 1 3 5\na 2 3 2\n");
    let out = counterpart(&db, &["solve", &short]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("(nodes 1, 2)"),
        "{}",
        text(&out.stderr)
    );
    assert!(!db.exists(), "solve touches no database");
}

/// A bundle that passes every check but overdraws a project fails while it is booked — which
/// `import` does on a thread of its own while it writes the records — and writes nothing: an
/// existing database stays byte for byte as it was, a new one is not left behind.
#[test]
fn an_overdraft_found_while_writing_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let frame = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/demo/xinjiang-2010");
    let bundle = dir.path().join("bundle");
    std::fs::create_dir(&bundle).unwrap();
    let mut projects = String::from(
        "id,provider,recipient,category,status,title_en,title_zh,year,budget_fen,housing_units,\
         school_places,hospital_beds,jobs,people_trained,provenance,source,confidence\n",
    );
    let mut transfers = String::from(
        "id,project,kind,amount_fen,currency,value_date,corrects,phase,pending_of,provenance,\
         source,confidence\n",
    );
    for i in 0..300 {
        projects.push_str(&format!(
            "b{i},beijing,hotan.hotan-city,health,under_construction,Ward,病房,2015,1000,0,0,1,0,0,recorded,,\n"
        ));
        transfers.push_str(&format!(
            "b{i}.c,b{i},commit,1000,CNY,2015-03-01,,single,,recorded,,\n"
        ));
        // One disbursement, on line 2 + 2 × 150 + 1, pays out more than was committed.
        let paid = if i == 150 { 1001 } else { 1000 };
        transfers.push_str(&format!(
            "b{i}.d,b{i},disburse,{paid},CNY,2015-06-01,,single,,recorded,,\n"
        ));
    }
    std::fs::write(bundle.join("projects.csv"), projects).unwrap();
    std::fs::write(bundle.join("transfers.csv"), transfers).unwrap();

    let db = dir.path().join("frame.db");
    let framed = counterpart(&db, &["import", frame.to_str().unwrap()]);
    assert!(framed.status.success(), "{}", text(&framed.stderr));
    let before = std::fs::read(&db).unwrap();
    let refused = counterpart(&db, &["import", bundle.to_str().unwrap()]);
    assert!(!refused.status.success());
    let err = text(&refused.stderr);
    assert!(
        err.contains("transfers.csv:303: column amount_fen:") && err.contains("(overdraft)"),
        "{err}"
    );
    assert!(
        before == std::fs::read(&db).unwrap(),
        "a refused import leaves the database byte-for-byte unchanged"
    );
    let verify = counterpart(&db, &["verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));

    // Into a new database, with the frame in the same bundle: no file is left.
    for file in std::fs::read_dir(&frame).unwrap() {
        let file = file.unwrap().path();
        if file.extension().is_some_and(|e| e == "csv") {
            std::fs::copy(&file, bundle.join(file.file_name().unwrap())).unwrap();
        }
    }
    let new = dir.path().join("new.db");
    let refused = counterpart(&new, &["import", bundle.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("(overdraft)"),
        "{}",
        text(&refused.stderr)
    );
    assert!(!new.exists(), "no file is left behind");
}
