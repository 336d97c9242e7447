//! The pairing engine against the 2010 table.

use super::*;

/// The proposed pairing beside the 2010 table: it agrees where the design's reasons hold
/// (Shenzhen–Kashgar, the north-east), hands down all 82 counties, and explains each difference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pairing_engine_proposes_against_the_2010_table() {
    use counterpart_app::pair::{PairOptions, pair};
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), demo_records()).await;

    let base = pair(
        &store,
        &PairOptions {
            explain: vec!["zhejiang=aksu".into()],
            ..PairOptions::default()
        },
    )
    .await
    .unwrap();
    assert!(
        base.notes.iter().any(|n| n.contains("optimal")),
        "the demo's search finishes: {:?}",
        base.notes
    );
    let proposed = number(&base, "score", "total", "proposed");
    let actual = number(&base, "score", "total", "actual");
    assert!(
        proposed > actual,
        "the optimum beats the 2010 table under its own score"
    );
    // Where the 2010 design's reasons hold, the optimum agrees: Shenzhen's special zone with
    // Kashgar's, the cold north-east with Tacheng and Altay.
    assert!(text_at(&base, "recipients", "Kashgar", "proposed").contains("Shenzhen"));
    assert_eq!(text_at(&base, "recipients", "Tacheng", "agrees"), "yes");
    assert_eq!(text_at(&base, "recipients", "Altay", "agrees"), "yes");
    // The richest providers go to the poorest prefectures.
    let south = ["Kashgar", "Hotan", "Aksu", "Kizilsu"];
    for rich in ["Guangdong", "Jiangsu"] {
        assert!(
            south
                .iter()
                .any(|r| text_at(&base, "recipients", r, "proposed").contains(rich)),
            "{rich} helps a south prefecture"
        );
    }
    assert!(!base.section("differences").unwrap().rows.is_empty());
    for section in &base.sections {
        assert!(
            section.columns.iter().any(|c| c.key == "provenance"),
            "section {} says where its figures come from",
            section.key
        );
    }
    // Nesting: every paired county handed down to one of its prefecture's proposed providers.
    let counties = base.section("counties").unwrap();
    assert_eq!(counties.rows.len(), 82, "the 82 county-level units of 2010");
    for row in &counties.rows {
        let (Cell::Text(unit), Cell::Text(provider)) = (&row[1], &row[3]) else {
            panic!("{row:?}")
        };
        assert!(
            text_at(&base, "recipients", unit, "proposed").contains(provider.as_str()),
            "{row:?} goes to a provider of {unit}"
        );
    }
    // Every provider carries need: proposed shares add up to 100%.
    let shares: f64 = base
        .section("providers")
        .unwrap()
        .rows
        .iter()
        .map(|r| match &r[3] {
            Cell::Number(x) => *x,
            other => panic!("share {other:?}"),
        })
        .sum();
    assert!(within(shares, 100.0, 0.001), "shares add up to {shares}");

    // "Why not Zhejiang–Aksu?" is exact, and fixing the pair costs exactly that.
    let cost = number(&base, "explain", "Zhejiang–Aksu", "cost");
    assert!(cost > 0.0);
    let fixed = pair(
        &store,
        &PairOptions {
            fix: vec!["Zhejiang=Aksu".into()],
            ..PairOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        text_at(&fixed, "recipients", "Aksu", "proposed"),
        "Zhejiang"
    );
    assert_eq!(
        number(&fixed, "score", "total", "proposed"),
        proposed - cost
    );

    let forbidden = pair(
        &store,
        &PairOptions {
            forbid: vec!["shenzhen=kashgar".into()],
            ..PairOptions::default()
        },
    )
    .await
    .unwrap();
    assert!(!text_at(&forbidden, "recipients", "Kashgar", "proposed").contains("Shenzhen"));
    assert!(number(&forbidden, "score", "total", "proposed") < proposed);

    // Bad pairs are named.
    let err = |fix: &str| {
        let options = PairOptions {
            fix: vec![fix.into()],
            ..PairOptions::default()
        };
        let store = &store;
        async move { pair(store, &options).await.unwrap_err().to_string() }
    };
    assert!(err("atlantis=kashgar").await.contains("atlantis"));
    let county = err("shenzhen=kashgar.shache-county").await;
    assert!(county.contains("prefectures and divisions"), "{county}");
    assert!(err("shenzhen").await.contains("PROVIDER=RECIPIENT"));
}
