//! Every report in Chinese: no English word or raw code left, names in Chinese, money in 万 and
//! 亿; the same reports in English keep their words.

use super::*;
use counterpart_app::lang::{Lang, Names, Voice, untranslated};
use counterpart_app::{annual, ledger, pair};

/// Every text a reader of `report` sees, in `voice`'s language.
fn texts(report: &Report, voice: &Voice) -> Vec<String> {
    let mut out = vec![voice.text(&report.title).into_owned()];
    out.extend(report.notes.iter().map(|n| voice.text(n).into_owned()));
    for section in &report.sections {
        out.push(voice.text(&section.title).into_owned());
        out.extend(
            section
                .columns
                .iter()
                .map(|c| voice.text(c.label).into_owned()),
        );
        for row in &section.rows {
            // What the page shows; the record's own words (citations, notes as recorded)
            // stay as they were recorded.
            for (cell, column) in row.iter().zip(&section.columns) {
                out.push(voice.shown(cell, column).text);
            }
        }
    }
    out
}

/// The untranslated words of `texts`, each with the first text it stands in.
fn english_left(texts: &[String], names: &Names, found: &mut BTreeMap<String, String>) {
    for text in texts {
        for word in untranslated(text, names) {
            found.entry(word).or_insert_with(|| text.clone());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_report_reads_in_chinese_without_an_english_word() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), demo_records()).await;
    let ctx = report::Context::load(&store).await.unwrap();
    let names = Names::of(&ctx.tree, Some(&ctx.program));
    let zh = Voice::new(Lang::Zh, &names);
    let y2019 = Some(Year::new(2019).unwrap());
    let mut reports = vec![
        report::summary(&store).await.unwrap(),
        report::compliance(&store, None, None, None).await.unwrap(),
        report::compliance(&store, y2019, None, Some(jiff::civil::date(2019, 6, 30)))
            .await
            .unwrap(),
        report::assessment(&store, y2019, None).await.unwrap(),
        ledger::account(&store, "source.shanghai.2019")
            .await
            .unwrap(),
        pair::pair(&store, &Default::default()).await.unwrap(),
    ];
    for provider in ["shanghai", "shenzhen", "beijing"] {
        reports.push(report::provider(&store, provider, None).await.unwrap());
    }
    for recipient in ["kashgar", "hotan", "kashgar.shache-county"] {
        reports.push(report::recipient(&store, recipient, None).await.unwrap());
    }
    let mut found = BTreeMap::new();
    for report in &reports {
        english_left(&texts(report, &zh), &names, &mut found);
    }
    let html = annual::annual(&store, Year::new(2019).unwrap(), Lang::Zh)
        .await
        .unwrap();
    assert!(
        html.contains("年度报告") && html.contains("亿"),
        "the annual report in Chinese"
    );
    let body = html[html.find("<body").unwrap()..].to_owned();
    let text: String = strip_tags(&body);
    english_left(&[text], &names, &mut found);
    let listed: Vec<String> = found
        .iter()
        .map(|(word, text)| format!("{word:?} in {text:?}"))
        .collect();
    assert!(
        listed.is_empty(),
        "{} English words left in the Chinese reports:\n{}",
        listed.len(),
        listed.join("\n")
    );

    // The same in English: words kept, money in m and bn.
    let en = Voice::new(Lang::En, &names);
    let summary = &reports[0];
    let english = texts(summary, &en).join("\n");
    assert!(english.contains("Funds delivered") && english.contains(" bn"));
    let chinese = texts(summary, &zh).join("\n");
    assert!(chinese.contains("亿") && !chinese.contains(" bn"));
}

/// The text of an HTML page: tags, styles and scripts dropped, entities of the few kinds maud
/// writes decoded.
pub(super) fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        let tag = &rest[open..];
        // The records' own words, marked as English: not for translation.
        if tag
            .split('>')
            .next()
            .is_some_and(|t| t.contains("lang=\"en\""))
        {
            rest = tag.find("</").map_or("", |e| &tag[e..]);
            if let Some(stripped) = rest.strip_prefix("</") {
                rest = stripped.find('>').map_or("", |e| &stripped[e + 1..]);
            }
            continue;
        }
        let skip_to = ["<style", "<script", "<title"]
            .iter()
            .find(|t| tag.starts_with(*t))
            .map(|t| format!("</{}", &t[1..]));
        rest = match skip_to {
            Some(end) => tag.find(&end).map_or("", |e| &tag[e..]),
            None => tag.find('>').map_or("", |e| &tag[e + 1..]),
        };
        if let Some(stripped) = rest.strip_prefix("</") {
            rest = stripped.find('>').map_or("", |e| &stripped[e + 1..]);
        }
    }
    out.push_str(rest);
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}
