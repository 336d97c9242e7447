//! The IATI ruleset checks beyond the XSD (IATI-Rulesets `standard.json`, version 2.03, as
//! summarised in `data/iati/README.md`), for activity and organisation files. Each problem
//! names the rule id and the line.

use counterpart_domain::Date;
use roxmltree::{Document, Node};
use std::collections::BTreeMap;

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

struct Checker<'a> {
    doc: &'a Document<'a>,
    today: Date,
    problems: Vec<String>,
}

impl<'a> Checker<'a> {
    fn report(&mut self, node: Node, rule: &str, what: impl Into<String>) {
        let pos = self.doc.text_pos_at(node.range().start);
        self.problems
            .push(format!("line {}: [{rule}] {}", pos.row, what.into()));
    }

    fn date(&mut self, node: Node, attr: &str, rule_future: Option<&str>) -> Option<Date> {
        let text = node.attribute(attr)?;
        match text.get(..10).unwrap_or(text).parse::<Date>() {
            Ok(d) => {
                if let Some(rule) = rule_future
                    && d > self.today
                {
                    self.report(node, rule, format!("{attr} {text} is in the future"));
                }
                Some(d)
            }
            Err(_) => {
                self.report(node, "xsd", format!("{attr} {text:?} is not a date"));
                None
            }
        }
    }

    /// Every narrative has a language, or the root element sets a default [4.1.1, 4.5.1].
    fn languages(&mut self, root: Node, rule: &str) {
        if root.attribute((XML_NS, "lang")).is_some() {
            return;
        }
        let missing: Vec<Node> = root
            .descendants()
            .filter(|n| n.has_tag_name("narrative") && n.attribute((XML_NS, "lang")).is_none())
            .collect();
        for n in missing {
            self.report(
                n,
                rule,
                "a narrative without xml:lang and no default language",
            );
        }
    }

    /// A default currency, or a currency on every value [7.8.1, 7.8.2].
    fn currencies(&mut self, root: Node, rule: &str) {
        if root.attribute("default-currency").is_some() {
            return;
        }
        let missing: Vec<Node> = root
            .descendants()
            .filter(|n| n.has_tag_name("value") && n.attribute("currency").is_none())
            .collect();
        for n in missing {
            self.report(n, rule, "a value without currency and no default currency");
        }
    }

    /// Start before end, at most one year [8.6.3, 7.5.3].
    fn budget_period(&mut self, budget: Node) {
        let start = child(budget, "period-start").and_then(|n| self.date(n, "iso-date", None));
        let end = child(budget, "period-end").and_then(|n| self.date(n, "iso-date", None));
        if let (Some(s), Some(e)) = (start, end) {
            if s >= e {
                self.report(budget, "8.6.3", "the period starts on or after its end");
            }
            let limit = s.checked_add(jiff::Span::new().years(1)).unwrap_or(s);
            if e > limit {
                self.report(budget, "7.5.3", "the period is longer than one year");
            }
        }
    }

    /// Identifier whitespace and characters [1.3.1, 1.3.13 and the like].
    fn identifier(&mut self, node: Node, text: &str, rule: &str) {
        if text.trim() != text {
            self.report(
                node,
                rule,
                format!("{text:?} has leading or trailing whitespace"),
            );
        }
        if text.contains(['/', '&', '|', '?']) {
            self.report(node, rule, format!("{text:?} contains one of / & | ?"));
        }
    }

    fn has_narrative(node: Node) -> bool {
        node.children()
            .any(|n| n.has_tag_name("narrative") && n.text().is_some_and(|t| !t.trim().is_empty()))
    }

    fn activity(&mut self, a: Node) {
        // Absent is allowed; present must be a date, not in the future.
        self.date(a, "last-updated-datetime", Some("11.1.1"));
        self.identifier_rules(a);
        self.text_rules(a);
        self.organisation_rules(a);
        self.date_rules(a);
        self.sector_and_country_rules(a);
        self.transaction_rules(a);
        self.budget_rules(a);
        self.result_rules(a);
    }

    /// The identifier and the reporting organisation's ref [1.1.3, 1.1.21, 1.3.1, 1.14.1].
    fn identifier_rules(&mut self, a: Node) {
        let identifier = child(a, "iati-identifier")
            .and_then(|n| n.text())
            .unwrap_or("");
        let reporting = child(a, "reporting-org")
            .and_then(|n| n.attribute("ref"))
            .unwrap_or("");
        if let Some(n) = child(a, "iati-identifier") {
            self.identifier(n, identifier, "1.3.1");
            if identifier == reporting {
                self.report(n, "1.1.3", "the identifier equals the reporting-org ref");
            }
            if !identifier.starts_with(&format!("{reporting}-")) {
                self.report(
                    n,
                    "1.1.21",
                    "the identifier does not start with the reporting-org ref and a hyphen",
                );
            }
        }
        if let Some(n) = child(a, "reporting-org") {
            self.identifier(n, reporting, "1.14.1");
        }
    }

    /// Titles and descriptions carry narrative text [4.3.1, 4.4.1].
    fn text_rules(&mut self, a: Node) {
        for name in ["title", "description"] {
            for n in a.children().filter(|n| n.has_tag_name(name)) {
                if !Self::has_narrative(n) {
                    self.report(
                        n,
                        if name == "title" { "4.3.1" } else { "4.4.1" },
                        format!("{name} without narrative text"),
                    );
                }
            }
        }
    }

    /// Every organisation has a ref or a narrative [6.10.1].
    fn organisation_rules(&mut self, a: Node) {
        for n in a.descendants().filter(|n| {
            [
                "participating-org",
                "provider-org",
                "receiver-org",
                "owner-org",
            ]
            .iter()
            .any(|t| n.has_tag_name(*t))
        }) {
            if n.attribute("ref").is_none() && !Self::has_narrative(n) {
                self.report(
                    n,
                    "6.10.1",
                    format!("{} without ref or narrative", n.tag_name().name()),
                );
            }
        }
    }

    /// A start date, dates not in the future, starts before ends [6.11.1, 11.1.2–11.1.5].
    fn date_rules(&mut self, a: Node) {
        let dates: Vec<(String, Node)> = a
            .children()
            .filter(|n| n.has_tag_name("activity-date"))
            .map(|n| (n.attribute("type").unwrap_or("").to_string(), n))
            .collect();
        if !dates.iter().any(|(t, _)| t == "1" || t == "2") {
            self.report(a, "6.11.1", "no planned or actual start date");
        }
        let mut by_type: BTreeMap<String, Date> = BTreeMap::new();
        for (t, n) in &dates {
            let future = matches!(t.as_str(), "2" | "4").then_some(if t == "2" {
                "11.1.4"
            } else {
                "11.1.5"
            });
            if let Some(d) = self.date(*n, "iso-date", future) {
                by_type.insert(t.clone(), d);
            }
        }
        for (start, end, rule) in [("1", "3", "11.1.2"), ("2", "4", "11.1.3")] {
            if let (Some(s), Some(e)) = (by_type.get(start), by_type.get(end))
                && s > e
            {
                self.report(
                    a,
                    rule,
                    format!("start date type {start} after end date type {end}"),
                );
            }
        }
    }

    /// Sectors and recipient countries: at activity level or on every transaction, with
    /// percentages that add up [6.2.2, 6.6.2, 6.7.2, 3.6.2, 3.7.1, 3.7.2].
    fn sector_and_country_rules(&mut self, a: Node) {
        let transactions: Vec<Node> = a
            .children()
            .filter(|n| n.has_tag_name("transaction"))
            .collect();
        for (name, rules) in [
            ("sector", ["6.2.2", "6.6.2", "6.7.2"]),
            ("recipient-country", ["3.6.2", "3.7.1", "3.7.2"]),
        ] {
            let at_activity: Vec<Node> = a.children().filter(|n| n.has_tag_name(name)).collect();
            let on_transactions = transactions
                .iter()
                .filter(|t| child(**t, name).is_some())
                .count();
            if name == "sector" && at_activity.is_empty() && on_transactions == 0 {
                self.report(
                    a,
                    rules[0],
                    "no sector, at activity level or on transactions",
                );
            }
            if !at_activity.is_empty() && on_transactions > 0 {
                self.report(
                    a,
                    rules[1],
                    format!("{name} both on the activity and on transactions"),
                );
            }
            if on_transactions > 0 && on_transactions < transactions.len() {
                self.report(
                    a,
                    rules[2],
                    format!("{name} on some transactions but not all"),
                );
            }
            self.percentages(a, &at_activity, name);
        }
    }

    /// Transaction and value dates not in the future [11.2.1, 11.2.2].
    fn transaction_rules(&mut self, a: Node) {
        for t in a.children().filter(|n| n.has_tag_name("transaction")) {
            if let Some(d) = child(t, "transaction-date") {
                self.date(d, "iso-date", Some("11.2.1"));
            }
            if let Some(v) = child(t, "value") {
                self.date(v, "value-date", Some("11.2.2"));
            }
        }
    }

    /// Budget and planned-disbursement periods.
    fn budget_rules(&mut self, a: Node) {
        for b in a
            .children()
            .filter(|n| n.has_tag_name("budget") || n.has_tag_name("planned-disbursement"))
        {
            self.budget_period(b);
        }
    }

    /// Result indicators: references in one place, values as their measure needs [8.8.1–8.11.1].
    fn result_rules(&mut self, a: Node) {
        for r in a.children().filter(|n| n.has_tag_name("result")) {
            let on_result = child(r, "reference").is_some();
            for i in r.children().filter(|n| n.has_tag_name("indicator")) {
                if on_result && child(i, "reference").is_some() {
                    self.report(
                        i,
                        "8.11.1",
                        "a reference on both the result and the indicator",
                    );
                }
                let measure = i.attribute("measure").unwrap_or("");
                let quantitative = matches!(measure, "1" | "2" | "3" | "4");
                let mut valued: Vec<(Node, &str)> = i
                    .children()
                    .filter(|n| n.has_tag_name("baseline"))
                    .map(|n| (n, "8.8.1"))
                    .collect();
                for p in i.children().filter(|n| n.has_tag_name("period")) {
                    self.budget_period_order(p);
                    valued.extend(
                        p.children()
                            .filter(|n| n.has_tag_name("target"))
                            .map(|n| (n, "8.9.1")),
                    );
                    valued.extend(
                        p.children()
                            .filter(|n| n.has_tag_name("actual"))
                            .map(|n| (n, "8.10.1")),
                    );
                }
                for (n, rule) in valued {
                    match (quantitative, n.attribute("value")) {
                        (true, None) => {
                            self.report(n, rule, "a quantitative indicator value without @value")
                        }
                        (true, Some(v)) if v.parse::<f64>().is_err() => {
                            self.report(n, rule, format!("{v:?} is not numeric"));
                        }
                        (false, Some(_)) => {
                            self.report(n, rule, "a qualitative indicator with a value")
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// An indicator period starts before it ends [8.6.1].
    fn budget_period_order(&mut self, p: Node) {
        let start = child(p, "period-start").and_then(|n| self.date(n, "iso-date", None));
        let end = child(p, "period-end").and_then(|n| self.date(n, "iso-date", None));
        if let (Some(s), Some(e)) = (start, end)
            && s >= e
        {
            self.report(
                p,
                "8.6.1",
                "the indicator period starts on or after its end",
            );
        }
    }

    /// Within a vocabulary, several entries each need a percentage and they sum to 100; a
    /// single one is 100 or has none; each is between 0 and 100 [2.1.1–2.1.4, 3.1.x, 12.x].
    fn percentages(&mut self, a: Node, nodes: &[Node], name: &str) {
        let mut groups: BTreeMap<&str, Vec<Node>> = BTreeMap::new();
        for n in nodes {
            let vocabulary = if name == "sector" {
                n.attribute("vocabulary").unwrap_or("1")
            } else {
                "countries"
            };
            groups.entry(vocabulary).or_default().push(*n);
        }
        for (vocabulary, list) in groups {
            let mut sum = 0.0;
            for n in &list {
                match n.attribute("percentage").map(str::parse::<f64>) {
                    Some(Ok(p)) => {
                        if !(0.0..=100.0).contains(&p) {
                            self.report(*n, "12.3.1", format!("percentage {p} is outside 0–100"));
                        }
                        sum += p;
                    }
                    Some(Err(_)) => self.report(*n, "xsd", "a percentage that is not a number"),
                    None if list.len() > 1 => {
                        self.report(
                            *n,
                            "2.1.1",
                            format!("one of several {name}s without a percentage"),
                        );
                    }
                    None => sum = 100.0,
                }
            }
            if (sum - 100.0).abs() > 1e-6 {
                self.report(
                    a,
                    "2.1.2",
                    format!("{name} percentages (vocabulary {vocabulary}) sum to {sum}, not 100"),
                );
            }
        }
    }

    fn organisation(&mut self, o: Node) {
        self.date(o, "last-updated-datetime", Some("11.4.1"));
        if let Some(n) = child(o, "organisation-identifier") {
            let text = n.text().unwrap_or("");
            self.identifier(n, text, "1.12.1");
        }
        for b in o.children().filter(|n| {
            [
                "total-budget",
                "recipient-org-budget",
                "recipient-region-budget",
                "recipient-country-budget",
                "total-expenditure",
            ]
            .iter()
            .any(|t| n.has_tag_name(*t))
        }) {
            self.budget_period(b);
        }
    }
}

fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|n| n.has_tag_name(name))
}

/// Parse `text` and run `check` on every child of the root element named `element`, after the
/// language and currency rules (`rules`: their ids for this kind of file).
fn check_file(
    text: &str,
    today: Date,
    element: &str,
    rules: [&str; 2],
    check: impl Fn(&mut Checker, Node),
) -> Vec<String> {
    let doc = match Document::parse(text) {
        Ok(doc) => doc,
        Err(e) => return vec![format!("not well-formed XML: {e}")],
    };
    let mut c = Checker {
        doc: &doc,
        today,
        problems: Vec::new(),
    };
    for node in doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name(element))
    {
        c.languages(node, rules[0]);
        c.currencies(node, rules[1]);
        check(&mut c, node);
    }
    c.problems
}

/// Problems of an activity file, each naming its rule and line; empty when it passes.
pub fn check_activities(text: &str, today: Date) -> Vec<String> {
    check_file(text, today, "iati-activity", ["4.1.1", "7.8.1"], |c, a| {
        c.activity(a)
    })
}

/// Problems of an organisation file, each naming its rule and line; empty when it passes.
pub fn check_organisations(text: &str, today: Date) -> Vec<String> {
    check_file(
        text,
        today,
        "iati-organisation",
        ["4.5.1", "7.8.2"],
        |c, o| c.organisation(o),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        "2026-11-29".parse().unwrap()
    }

    const GOOD: &str = r#"<iati-activities version="2.03"><iati-activity xml:lang="en" default-currency="CNY">
<iati-identifier>ORG-1</iati-identifier><reporting-org ref="ORG" type="10"><narrative>Org</narrative></reporting-org>
<title><narrative>T</narrative></title><description><narrative>D</narrative></description>
<participating-org role="1" ref="ORG"/><activity-status code="2"/>
<activity-date type="1" iso-date="2019-01-01"/><activity-date type="3" iso-date="2019-12-31"/>
<sector code="11120" percentage="60"/><sector code="12230" percentage="40"/>
<budget><period-start iso-date="2019-01-01"/><period-end iso-date="2019-12-31"/><value value-date="2019-01-01">1</value></budget>
<transaction><transaction-type code="3"/><transaction-date iso-date="2019-05-01"/><value value-date="2019-05-01">1</value></transaction>
</iati-activity></iati-activities>"#;

    #[test]
    fn a_good_activity_passes() {
        assert_eq!(check_activities(GOOD, today()), Vec::<String>::new());
    }

    #[test]
    fn each_broken_rule_is_named_with_its_line() {
        let cases = [
            (GOOD.replace(r#"percentage="40""#, r#"percentage="30""#), "2.1.2"),
            (GOOD.replace(r#" percentage="60""#, ""), "2.1.1"),
            (GOOD.replace(r#"<activity-date type="1" iso-date="2019-01-01"/>"#, ""), "6.11.1"),
            (GOOD.replace("2019-12-31\"/></budget>", "2021-12-31\"/></budget>").replace(r#"<period-end iso-date="2019-12-31"/>"#, r#"<period-end iso-date="2021-12-31"/>"#), "7.5.3"),
            (GOOD.replace(r#"transaction-date iso-date="2019-05-01""#, r#"transaction-date iso-date="2099-05-01""#), "11.2.1"),
            (GOOD.replace("ORG-1", "ORG"), "1.1.3"),
            (GOOD.replace("ORG-1", "OTHER-1"), "1.1.21"),
            (GOOD.replace(r#" default-currency="CNY""#, ""), "7.8.1"),
            (GOOD.replace(r#" xml:lang="en""#, ""), "4.1.1"),
            (GOOD.replace("<title><narrative>T</narrative></title>", "<title/>"), "4.3.1"),
            (GOOD.replace(r#"<participating-org role="1" ref="ORG"/>"#, r#"<participating-org role="1"/>"#), "6.10.1"),
            (GOOD.replace(r#"<sector code="11120" percentage="60"/><sector code="12230" percentage="40"/>"#, ""), "6.2.2"),
            (GOOD.replace("ORG-1", "ORG-1/a"), "1.3.1"),
        ];
        for (text, rule) in cases {
            let problems = check_activities(&text, today());
            assert!(
                problems
                    .iter()
                    .any(|p| p.contains(&format!("[{rule}]")) && p.starts_with("line ")),
                "rule {rule}: {problems:?}"
            );
        }
        assert!(check_activities("<iati-activities>", today())[0].contains("not well-formed"));
    }
}
