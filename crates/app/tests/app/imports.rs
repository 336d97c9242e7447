//! Bundles in: a good bundle imports once, every kind of bad input is refused with its file,
//! line and column, and nothing is written; export then import gives the same program.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_gives_the_same_summary() {
    let dir = tempfile::tempdir().unwrap();
    let original = store_with(dir.path(), demo_records()).await;
    let exported = dir.path().join("bundle");
    bundle::write_dir(&original.records().await.unwrap(), &exported).unwrap();

    let copy = SqliteStore::open(&dir.path().join("copy.db"))
        .await
        .unwrap();
    let imported = import::import_dir(&copy, &exported, &|_| {}).await.unwrap();
    assert_eq!(imported.len(), demo_records().len());
    assert_eq!(
        report::summary(&copy).await.unwrap(),
        report::summary(&original).await.unwrap()
    );
    assert_eq!(
        report::provider(&copy, "Shanghai", None).await.unwrap(),
        report::provider(&original, "Shanghai", None).await.unwrap()
    );
    assert_eq!(
        copy.records().await.unwrap(),
        original.records().await.unwrap()
    );
}

#[tokio::test]
async fn a_good_bundle_imports_and_the_same_rows_again_are_duplicates() {
    let f = fixture().await;
    let rows = [project_row(
        "p1",
        "shanghai",
        "kashgar.shache-county",
        "125000",
    )];
    std::fs::write(f.bundle.join("projects.csv"), projects_csv(&rows)).unwrap();
    let store = SqliteStore::open(&f.db).await.unwrap();
    let imported = import::import_dir(&store, &f.bundle, &|_| {})
        .await
        .unwrap();
    assert_eq!(imported.projects.len(), 1);
    assert_eq!(imported.projects[0].budget, Fen::new(125_000));
    store.close().await.unwrap();
    let before = std::fs::read(&f.db).unwrap();
    let store = SqliteStore::open(&f.db).await.unwrap();
    let err = import::import_dir(&store, &f.bundle, &|_| {})
        .await
        .unwrap_err()
        .to_string();
    store.close().await.unwrap();
    assert!(
        err.contains("projects.csv:2: column id: duplicate id: p1 is already in the database"),
        "{err}"
    );
    assert!(before == std::fs::read(&f.db).unwrap());
}

#[tokio::test]
async fn wrong_column_count() {
    let rows = [
        project_row("p1", "shanghai", "kashgar.shache-county", "1"),
        "p2,shanghai".to_owned(),
    ];
    refused(
        &[("projects.csv", projects_csv(&rows))],
        &["projects.csv:3", "2 fields, but the header has 17 columns"],
    )
    .await;
}

#[tokio::test]
async fn unknown_column() {
    let csv = format!(
        "{PROJECT_HEADER},colour\n{},red\n",
        project_row("p1", "shanghai", "kashgar.shache-county", "1")
    );
    refused(
        &[("projects.csv", csv.into_bytes())],
        &["projects.csv:1: column colour: unknown column"],
    )
    .await;
}

#[tokio::test]
async fn non_utf8_bytes() {
    let mut bytes = projects_csv(&[project_row("p1", "shanghai", "kashgar.shache-county", "1")]);
    bytes.extend_from_slice(b"p2,shanghai,kashgar.shache-county,housing,approved,Caf\xe9,x,2015,1,0,0,0,0,0,recorded,,\n");
    refused(
        &[("projects.csv", bytes)],
        &["projects.csv:3", "is not UTF-8"],
    )
    .await;
}

#[tokio::test]
async fn negative_and_fractional_fen() {
    let rows = [
        project_row("p1", "shanghai", "kashgar.shache-county", "-500"),
        project_row("p2", "shanghai", "kashgar.shache-county", "12.5"),
    ];
    let message = refused(
        &[("projects.csv", projects_csv(&rows))],
        &[
            "projects.csv:2: column budget_fen: \"-500\" is negative",
            "projects.csv:3: column budget_fen: \"12.5\" is not a whole number of fen",
        ],
    )
    .await;
    assert!(
        message.starts_with("2 problem(s) found; nothing was written"),
        "{message}"
    );
}

#[tokio::test]
async fn unknown_region() {
    let rows = [project_row(
        "p1",
        "shanghai",
        "kashgar.atlantis-county",
        "1",
    )];
    refused(
        &[("projects.csv", projects_csv(&rows))],
        &["projects.csv:2: column recipient: kashgar.atlantis-county is not a region"],
    )
    .await;
}

#[tokio::test]
async fn a_project_outside_its_providers_pairs() {
    let rows = [project_row("p1", "beijing", "kashgar.shache-county", "1")];
    refused(
        &[("projects.csv", projects_csv(&rows))],
        &["column recipient: beijing has no pair covering kashgar.shache-county in 2015"],
    )
    .await;
}

#[tokio::test]
async fn duplicate_id_within_a_file() {
    let rows = [
        project_row("p1", "shanghai", "kashgar.shache-county", "1"),
        project_row("p1", "shanghai", "kashgar.zepu-county", "2"),
    ];
    refused(
        &[("projects.csv", projects_csv(&rows))],
        &["projects.csv:3: column id: duplicate id: p1 appears earlier in this file"],
    )
    .await;
}

#[tokio::test]
async fn a_pair_whose_provider_does_not_exist() {
    let csv = "provider,recipient,first_year,last_year,provenance,source,confidence,note\n\
               atlantis,kashgar.shache-county,2012,,recorded,,,\n";
    refused(
        &[("pairs.csv", csv.as_bytes().to_vec())],
        &["pairs.csv:2: column provider: atlantis is not a region"],
    )
    .await;
}

#[tokio::test]
async fn a_100_mb_line() {
    let mut bytes =
        format!("{PROJECT_HEADER}\np1,shanghai,kashgar.shache-county,housing,approved,")
            .into_bytes();
    bytes.resize(bytes.len() + 100 * 1024 * 1024, b'x');
    bytes.extend_from_slice(b",t,2015,1,0,0,0,0,0,recorded,,\n");
    refused(
        &[("projects.csv", bytes)],
        &["projects.csv:2", "bytes long; the limit is 1048576 bytes"],
    )
    .await;
}

#[tokio::test]
async fn an_empty_file() {
    refused(
        &[("projects.csv", Vec::new())],
        &["projects.csv:1: the file is empty: its first line must be the header id,provider"],
    )
    .await;
}

#[tokio::test]
async fn a_file_that_is_not_csv() {
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    refused(
        &[("projects.csv", png)],
        &["projects.csv:3: this is not a CSV text file: it holds binary data"],
    )
    .await;
    let json = br#"{"projects": [{"id": "p1"}]}"#.to_vec();
    refused(
        &[("projects.csv", json)],
        &["projects.csv:1: column {\"projects\": [{\"id\": \"p1\"}]}: unknown column"],
    )
    .await;
    refused(
        &[("budget.xlsx.csv", b"a,b\n1,2\n".to_vec())],
        &["budget.xlsx.csv: unknown file"],
    )
    .await;
}

#[tokio::test]
async fn one_bad_row_among_good_ones_writes_nothing() {
    let mut rows: Vec<String> = (0..500)
        .map(|i| project_row(&format!("p{i}"), "shanghai", "kashgar.shache-county", "100"))
        .collect();
    rows.push(project_row(
        "bad",
        "shanghai",
        "kashgar.shache-county",
        "1.5",
    ));
    let transfers = "id,project,kind,amount_fen,currency,value_date,corrects,phase,pending_of,provenance,source,confidence\n\
                     t1,p1,commit,100,CNY,2015-03-01,,single,,recorded,,\n\
                     t2,p9999,commit,100,CNY,2015-03-01,,single,,recorded,,\n\
                     t3,p2,commit,100,USD,2015-13-01,,single,,recorded,,\n";
    // Field errors come first; references are checked once every field parses.
    let message = refused(
        &[
            ("projects.csv", projects_csv(&rows)),
            ("transfers.csv", transfers.as_bytes().to_vec()),
        ],
        &[
            "projects.csv:502: column budget_fen",
            "transfers.csv:4: column value_date: \"2015-13-01\" is not a date",
        ],
    )
    .await;
    assert!(message.starts_with("2 problem(s)"), "{message}");
    // Files parse side by side; their problems are reported in table order all the same.
    assert!(
        message.find("projects.csv:502") < message.find("transfers.csv:4"),
        "{message}"
    );
    rows.pop();
    let transfers = transfers.replace("2015-13-01", "2015-12-01");
    refused(
        &[
            ("projects.csv", projects_csv(&rows)),
            ("transfers.csv", transfers.into_bytes()),
        ],
        &[
            "transfers.csv:3: column project: p9999 is not a project",
            "transfers.csv:4: column currency: USD is not the program's currency CNY",
        ],
    )
    .await;
}

/// The rules of people and results on import: terms by role, the medical-team rule, project
/// steps in order ending at the status, institution pairs under a county pair — each refusal
/// names file, line and column, and nothing is written. People without the newer columns
/// (title, languages) still import.
#[tokio::test]
async fn people_and_steps_follow_the_rules_on_import() {
    let people = "id,provider,home_institution,specialty,provenance,source,confidence\n\
                  d1,shanghai,Ruijin Hospital,ultrasound,recorded,,\n";
    let titled = |titles: &[&str]| {
        let mut csv = String::from(
            "id,provider,home_institution,specialty,title,languages,provenance,source,confidence\n",
        );
        for (i, t) in titles.iter().enumerate() {
            csv += &format!("m{i},shanghai,Ruijin Hospital,paediatrics,{t},zh ug,recorded,,\n");
        }
        csv
    };
    let posts = "id,recipient,host_institution,specialty,seats,provenance,source,confidence\n\
                 h1,kashgar.shache-county,Shache People's Hospital,ultrasound,6,recorded,,\n\
                 h2,kashgar.shache-county,Shache No. 2 Hospital,ultrasound,6,recorded,,\n";
    let postings_header =
        "id,person,post,role,start_date,end_date,batch,team,provenance,source,confidence\n";
    // A professional for three months; a cadre without a batch.
    refused(
        &[
            ("people.csv", people.as_bytes().to_vec()),
            ("posts.csv", posts.as_bytes().to_vec()),
            (
                "postings.csv",
                format!(
                    "{postings_header}\
                     x1,d1,h1,professional,2017-03-01,2017-05-31,,,recorded,,\n\
                     x2,d1,h1,cadre,2017-03-01,2020-02-28,,,recorded,,\n"
                )
                .into_bytes(),
            ),
        ],
        &[
            "postings.csv:2: column end_date: a professional serves 6 to 18 months",
            "postings.csv:3: column batch: a cadre posting belongs to a numbered batch",
        ],
    )
    .await;
    // A medical team of five, one of them intermediate and one at another hospital; then all
    // at one hospital, still one senior short.
    let team: String = (0..5)
        .map(|i| {
            let post = if i == 4 { "h2" } else { "h1" };
            format!("t{i},m{i},{post},professional,2017-03-01,2017-08-31,,team.1,recorded,,\n")
        })
        .collect();
    let titles = titled(&[
        "senior",
        "associate_senior",
        "senior",
        "intermediate",
        "senior",
    ]);
    for (team, expected) in [
        (
            team.clone(),
            "postings.csv:2: column team: team team.1: a medical team serves at one hospital",
        ),
        (team.replace(",h2,", ",h1,"), "this one has 4"),
    ] {
        refused(
            &[
                ("people.csv", titles.clone().into_bytes()),
                ("posts.csv", posts.as_bytes().to_vec()),
                (
                    "postings.csv",
                    format!("{postings_header}{team}").into_bytes(),
                ),
            ],
            &[expected],
        )
        .await;
    }
    // Steps out of order and not ending at the project's status; an institution pair with
    // an area its provider is not paired with.
    let project = project_row("p1", "shanghai", "kashgar.shache-county", "100");
    refused(
        &[
            ("projects.csv", projects_csv(&[project])),
            (
                "project_steps.csv",
                b"project,status,date,provenance,source,confidence\n\
                  p1,approved,2015-02-01,recorded,,\n\
                  p1,completed,2015-03-01,recorded,,\n"
                    .to_vec(),
            ),
            (
                "institution_pairs.csv",
                b"id,provider,provider_institution,recipient,host_institution,kind,first_year,last_year,provenance,source,confidence\n\
                  i1,shanghai,Ruijin Hospital,hotan.lop-county,Lop People's Hospital,hospital,2015,,recorded,,\n"
                    .to_vec(),
            ),
        ],
        &[
            "project_steps.csv:3: column status: p1: after approved on 2015-02-01, a project approved goes to under_construction or cancelled next, not completed",
            "project_steps.csv:3: column status: p1: the latest step is completed, but the project's status is approved",
            "institution_pairs.csv:2: column recipient: an institution pair sits under a county pair",
        ],
    )
    .await;
}
