//! A placement round by the rules.

use super::*;

/// A placement round by the rules: own pairs, specialty, history, seats, availability.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_placement_round_follows_the_rules() {
    use counterpart_app::place::{self, PlaceOptions};
    use counterpart_domain::people::{Languages, Person, Post, Posting, Role};
    use counterpart_domain::{Provenance, RecordId};
    let demo = demo_records();
    let frame = Records {
        program: demo.program.clone(),
        quota_periods: demo.quota_periods.clone(),
        provider_rates: demo.provider_rates.clone(),
        regions: demo.regions.clone(),
        region_tags: demo.region_tags.clone(),
        pairs: demo.pairs.clone(),
        indicators: demo.indicators.clone(),
        facts: demo.facts.clone(),
        ..Records::default()
    };
    let id = |s: &str| RecordId::parse(s).unwrap();
    let code = |s: &str| RegionCode::parse(s).unwrap();
    let date = |s: &str| counterpart_domain::parse_date(s).unwrap();
    let person = |name: &str, provider: &str, specialty: &str| Person {
        id: id(name),
        provider: code(provider),
        home_institution: "Institution".into(),
        specialty: specialty.into(),
        title: None,
        languages: Languages::parse("zh").unwrap(),
        provenance: Provenance::Simulated,
    };
    let post = |name: &str, recipient: &str, specialty: &str, seats: u32| Post {
        id: id(name),
        recipient: code(recipient),
        host_institution: format!("Host of {name}"),
        specialty: specialty.into(),
        seats,
        languages: Languages::default(),
        provenance: Provenance::Simulated,
    };
    let posting = |name: &str, who: &str, at: &str, start: &str, end: &str| Posting {
        id: id(name),
        person: id(who),
        post: id(at),
        role: Role::Professional,
        start: date(start),
        end: date(end),
        batch: None,
        team: None,
        provenance: Provenance::Simulated,
    };
    let mut records = frame;
    records.people = vec![
        person("s1", "shanghai", "ultrasound"),
        person("s2", "shanghai", "ultrasound"),
        person("s3", "shanghai", "mathematics"),
        person("b1", "beijing", "ultrasound"),
        person("b2", "beijing", "mathematics"),
        person("c1", "beijing", "ultrasound"),
        // Speaks Uyghur, the language post b works in: b3 takes its one open seat over b1.
        Person {
            languages: Languages::parse("zh ug").unwrap(),
            ..person("b3", "beijing", "ultrasound")
        },
    ];
    records.posts = vec![
        post("a", "kashgar.shache-county", "ultrasound", 1),
        Post {
            languages: Languages::parse("ug").unwrap(),
            ..post("b", "hotan.hotan-city", "ultrasound", 2)
        },
        post("c", "kashgar.shache-county", "mathematics", 1),
    ];
    records.postings = vec![
        // s2 served at post a before: the returning expert is preferred.
        posting("p1", "s2", "a", "2018-01-01", "2018-12-31"),
        // s3 is away at post c through the round's first day, which fills it.
        posting("p2", "s3", "c", "2019-06-01", "2021-05-31"),
        // A cadre of batch 7 holds one of b's two seats until March: b has one seat open, and
        // the calendar warns that c1's seat falls vacant and batch 7 ends.
        Posting {
            role: Role::Cadre,
            batch: Some(7),
            ..posting("p3", "c1", "b", "2019-04-01", "2020-03-31")
        },
    ];
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &records).await;
    let options = PlaceOptions {
        round: Some(Year::new(2020).unwrap()),
        limit: None,
    };
    let (report, times) = place::place(&store, &options).await.unwrap();
    let value = |label: &str| number(&report, "round", label, "value") as i64;
    assert_eq!(value("people available"), 5, "s3 and c1 are away");
    assert_eq!(value("posts with open seats"), 2, "c is full");
    assert_eq!(value("open seats"), 2);
    assert_eq!(value("people placed"), 2);
    assert_eq!(
        value(
            "people without a candidate post (no open post of their specialty in their provider's pairs)"
        ),
        1,
        "b2: no mathematics post in Beijing's areas"
    );
    assert_eq!(value("seats left open"), 0);
    assert_eq!(value("people left unplaced"), 3, "s1, b1 and b2");
    assert_eq!(times.people, 4, "b2 is left out of the solver");
    let postings = report.section("postings").unwrap();
    let placed: BTreeMap<String, String> = postings
        .rows
        .iter()
        .map(|row| match (&row[0], &row[3]) {
            (Cell::Text(who), Cell::Text(at)) => (who.clone(), at.clone()),
            other => panic!("person and post are text: {other:?}"),
        })
        .collect();
    assert_eq!(
        placed,
        BTreeMap::from([("b3".into(), "b".into()), ("s2".into(), "a".into())]),
        "each to a post in their own provider's pairs; the returning expert wins post a; the \
         Uyghur speaker wins post b"
    );
    let b3 = postings
        .rows
        .iter()
        .find(|row| row[0] == Cell::text("b3"))
        .unwrap();
    // Half of b's seats are filled (+15); b3 speaks its language: no surcharge.
    assert_eq!(b3[10], Cell::Int(place::BASE + place::OCCUPANCY / 2));
    match &b3[11] {
        Cell::Text(why) => assert!(why.contains("speaks the post's language (ug)"), "{why}"),
        other => panic!("why is text: {other:?}"),
    }
    let s2 = postings
        .rows
        .iter()
        .find(|row| row[0] == Cell::text("s2"))
        .unwrap();
    assert_eq!(s2[10], Cell::Int(place::BASE - place::SAME_HOST));
    match &s2[11] {
        Cell::Text(why) => assert!(why.contains("served this host before"), "{why}"),
        other => panic!("why is text: {other:?}"),
    }
    assert!(report.notes.iter().any(|n| n.contains("simulated")));
    // The rotation calendar: c1's seat at b falls vacant on 31 March with nobody booked to
    // follow, and batch 7 ends with it; s3's posting runs past the six months.
    let calendar = report.section("calendar").unwrap();
    let warnings: Vec<(Cell, Cell)> = calendar
        .rows
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(
        warnings,
        vec![
            (Cell::text("seat falling vacant"), Cell::text("2020-03-31")),
            (
                Cell::text("cadre batch ends (1 cadre)"),
                Cell::text("2020-03-31")
            ),
        ]
    );
    assert_eq!(calendar.rows[0][6], Cell::text("c1"));
    assert_eq!(calendar.rows[0][2], Cell::Int(90), "days from 1 January");
}
