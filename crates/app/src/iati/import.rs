//! `counterpart import iati FILE…`: activity files into projects and transfers, all or nothing.
//!
//! Each activity becomes a project: provider from the reporting organisation (`CN-COUNTERPART-`
//! and its region code), id from the identifier after the organisation reference and a hyphen,
//! recipient from the location's `ref`, category from the DAC sector, status and provenance from
//! the own-vocabulary tags (else from `activity-status`, and `recorded`), year from the planned
//! start, budget from the budget. Each transaction becomes a transfer: a positive commitment,
//! disbursement or expenditure is `commit`, `disburse` or `spend`; a negative commitment is
//! `decommit`; a negative disbursement or expenditure is the `reversal` its description names.
//!
//! The files are checked as far as the import reads them — well-formed XML, the IATI 2.03
//! root and version, each activity's elements known and in the schema's order, the required
//! ones present — and every problem names the file, line and element; then the records go
//! through the same checks and booking as a CSV bundle, and are written in one transaction.

use super::{ORG_PREFIX, OWN_VOCABULARY, REVERSAL, dac_sector};
use crate::bundle::{Bundle, Problems};
use crate::import::{ImportError, book_on, check};
use counterpart_domain::ledger::Phase;
use counterpart_domain::project::{
    Category, Outputs, Project, ProjectStatus, Transfer, TransferKind,
};
use counterpart_domain::records::Records;
use counterpart_domain::{Confidence, Currency, Date, Fen, Provenance, RecordId, RegionCode, Year};
use counterpart_store::{Booking, Store};
use roxmltree::{Document, Node};
use std::collections::HashMap;
use std::path::Path;

/// The children of `iati-activity`, in the order the 2.03 schema requires.
const ACTIVITY_CHILDREN: [&str; 34] = [
    "iati-identifier",
    "reporting-org",
    "title",
    "description",
    "participating-org",
    "other-identifier",
    "activity-status",
    "activity-date",
    "contact-info",
    "activity-scope",
    "recipient-country",
    "recipient-region",
    "location",
    "sector",
    "tag",
    "country-budget-items",
    "humanitarian-scope",
    "policy-marker",
    "collaboration-type",
    "default-flow-type",
    "default-finance-type",
    "default-aid-type",
    "default-tied-status",
    "budget",
    "planned-disbursement",
    "capital-spend",
    "transaction",
    "document-link",
    "related-activity",
    "legacy-data",
    "conditions",
    "result",
    "crs-add",
    "fss",
];
const REQUIRED: [&str; 7] = [
    "iati-identifier",
    "reporting-org",
    "title",
    "description",
    "participating-org",
    "activity-status",
    "activity-date",
];

/// Where each record came from, for the problems the bundle checks find.
struct Origin {
    file: String,
    line: u64,
}

struct Reader<'a> {
    file: &'a str,
    doc: &'a Document<'a>,
    problems: &'a mut Problems,
}

impl Reader<'_> {
    fn line(&self, node: Node) -> u64 {
        u64::from(self.doc.text_pos_at(node.range().start).row)
    }

    fn report(&mut self, node: Node, element: &str, message: impl Into<String>) {
        let line = self.line(node);
        self.problems
            .push(self.file, Some(line), Some(element), message.into());
    }

    fn attr<'n>(&mut self, node: Node<'n, '_>, name: &str) -> Option<&'n str> {
        let value = node.attribute(name);
        if value.is_none() {
            let element = format!("{}/@{name}", node.tag_name().name());
            self.report(node, &element, "missing");
        }
        value
    }

    fn date(&mut self, node: Node, name: &str) -> Option<Date> {
        let text = self.attr(node, name)?;
        match text.parse::<Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                let element = format!("{}/@{name}", node.tag_name().name());
                self.report(
                    node,
                    &element,
                    format!("{text:?} is not a date (YYYY-MM-DD)"),
                );
                None
            }
        }
    }

    /// A decimal amount in yuan, exactly, as fen (negative when the text is).
    fn money(&mut self, node: Node) -> Option<i64> {
        let text = node.text().unwrap_or("").trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let ok = !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && fraction.len() <= 2
            && fraction.bytes().all(|b| b.is_ascii_digit());
        let fen = ok
            .then(|| {
                let whole: i64 = whole.parse().ok()?;
                let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
                whole.checked_mul(100)?.checked_add(fraction)
            })
            .flatten();
        match fen {
            Some(f) => Some(if negative { -f } else { f }),
            None => {
                self.report(
                    node,
                    "value",
                    format!("{text:?} is not an amount in yuan with at most two decimals"),
                );
                None
            }
        }
    }

    fn narrative(node: Node, lang: Option<&str>) -> Option<String> {
        node.children()
            .filter(|n| n.has_tag_name("narrative"))
            .find(|n| n.attribute(("http://www.w3.org/XML/1998/namespace", "lang")) == lang)
            .and_then(|n| n.text())
            .map(str::to_owned)
    }

    /// Structure: known children, in order, the required ones present.
    fn check_structure(&mut self, a: Node) {
        let mut last = 0;
        for child in a.children().filter(Node::is_element) {
            let name = child.tag_name().name();
            match ACTIVITY_CHILDREN.iter().position(|c| *c == name) {
                None => self.report(
                    child,
                    name,
                    "is not an element of iati-activity in IATI 2.03",
                ),
                Some(i) if i < last => self.report(
                    child,
                    name,
                    format!(
                        "is out of order: it must come before {}",
                        ACTIVITY_CHILDREN[last]
                    ),
                ),
                Some(i) => last = i,
            }
        }
        for required in REQUIRED {
            if a.children().all(|c| !c.has_tag_name(required)) {
                self.report(a, required, "missing (required by IATI 2.03)");
            }
        }
        for v in a.descendants().filter(|n| n.has_tag_name("value")) {
            self.attr(v, "value-date");
        }
    }

    /// The recipient area: the location's region code.
    fn recipient(&mut self, a: Node) -> Option<RegionCode> {
        match a
            .children()
            .find(|n| n.has_tag_name("location"))
            .and_then(|l| l.attribute("ref").map(|r| (l, r)))
        {
            Some((l, r)) => match RegionCode::parse(r) {
                Ok(code) => Some(code),
                Err(e) => {
                    self.report(l, "location/@ref", e.to_string());
                    None
                }
            },
            None => {
                self.report(
                    a,
                    "location/@ref",
                    "missing: the recipient area's region code",
                );
                None
            }
        }
    }

    /// The category of the activity's DAC sector.
    fn category(&mut self, a: Node) -> Option<Category> {
        {
            let sector = a
                .children()
                .filter(|n| n.has_tag_name("sector"))
                .find(|n| n.attribute("vocabulary").is_none_or(|v| v == "1"));
            let code = sector.and_then(|s| s.attribute("code"));
            match Category::ALL
                .into_iter()
                .find(|c| Some(dac_sector(*c)) == code)
            {
                Some(c) => Some(c),
                None => {
                    self.report(
                        sector.unwrap_or(a),
                        "sector/@code",
                        format!("{code:?} is not a DAC sector Counterpart maps to a category"),
                    );
                    None
                }
            }
        }
    }

    /// The status: Counterpart's own tag, else the IATI activity status.
    fn status(&mut self, a: Node) -> Option<ProjectStatus> {
        match own_tag(a, "status:") {
            Some((n, code)) => match ProjectStatus::parse(&code) {
                Ok(s) => Some(s),
                Err(e) => {
                    self.report(n, "tag/@code", e.to_string());
                    None
                }
            },
            None => a
                .children()
                .find(|n| n.has_tag_name("activity-status"))
                .and_then(|n| n.attribute("code"))
                .and_then(|c| match c {
                    "1" => Some(ProjectStatus::Planned),
                    "2" => Some(ProjectStatus::UnderConstruction),
                    "3" => Some(ProjectStatus::Completed),
                    "4" => Some(ProjectStatus::HandedOver),
                    "5" | "6" => Some(ProjectStatus::Cancelled),
                    _ => None,
                })
                .or_else(|| {
                    self.report(a, "activity-status/@code", "missing or not 1–6");
                    None
                }),
        }
    }

    /// The provenance: Counterpart's own tag, else recorded.
    fn provenance(&mut self, a: Node) -> Option<Provenance> {
        match own_tag(a, "provenance:") {
            Some((n, code)) => {
                let source = Reader::narrative(n, None).unwrap_or_default();
                match code.split_once(':') {
                    Some(("published", confidence)) => {
                        match Confidence::parse(&confidence.replace("-star", "*")) {
                            Ok(confidence) => Some(Provenance::Published { source, confidence }),
                            Err(e) => {
                                self.report(n, "tag/@code", e.to_string());
                                None
                            }
                        }
                    }
                    _ => match Provenance::parse(&code, "", "") {
                        Ok(p) => Some(p),
                        Err(e) => {
                            self.report(n, "tag/@code", e.to_string());
                            None
                        }
                    },
                }
            }
            None => Some(Provenance::Recorded),
        }
    }

    /// The project's year: that of its planned start.
    fn year(&mut self, a: Node) -> Option<Year> {
        a.children()
            .filter(|n| n.has_tag_name("activity-date"))
            .find(|n| n.attribute("type") == Some("1"))
            .or_else(|| {
                self.report(
                    a,
                    "activity-date",
                    "no planned start date (type 1): the project's year",
                );
                None
            })
            .and_then(|n| self.date(n, "iso-date"))
            .and_then(|d| Year::new(d.year() as u16).ok())
    }

    /// The activity's default currency.
    fn currency(&mut self, a: Node) -> Option<Currency> {
        match a.attribute("default-currency").map(Currency::parse) {
            Some(Ok(c)) => Some(c),
            Some(Err(e)) => {
                self.report(a, "iati-activity/@default-currency", e.to_string());
                None
            }
            None => {
                self.report(a, "iati-activity/@default-currency", "missing");
                None
            }
        }
    }

    fn activity(&mut self, a: Node, records: &mut Records, origins: &mut Origins) {
        self.check_structure(a);
        let child = |name: &str| a.children().find(|n| n.has_tag_name(name));
        let Some(identifier) = child("iati-identifier")
            .and_then(|n| n.text())
            .map(str::trim)
        else {
            return;
        };
        let Some(reporting) = child("reporting-org") else {
            return;
        };
        let Some(reference) = self.attr(reporting, "ref") else {
            return;
        };
        let Some(provider) = reference.strip_prefix(ORG_PREFIX) else {
            self.report(
                reporting,
                "reporting-org/@ref",
                format!("{reference:?} is not a Counterpart provider reference ({ORG_PREFIX}CODE)"),
            );
            return;
        };
        let provider = match RegionCode::parse(provider) {
            Ok(p) => p,
            Err(e) => return self.report(reporting, "reporting-org/@ref", e.to_string()),
        };
        let id_node = child("iati-identifier").expect("found above");
        let Some(id) = identifier.strip_prefix(&format!("{reference}-")) else {
            return self.report(
                id_node,
                "iati-identifier",
                format!("{identifier:?} does not start with {reference}-"),
            );
        };
        let id = match RecordId::parse(id) {
            Ok(id) => id,
            Err(e) => return self.report(id_node, "iati-identifier", e.to_string()),
        };
        let recipient = self.recipient(a);
        let category = self.category(a);
        let status = self.status(a);
        let provenance = self.provenance(a);
        let year = self.year(a);
        let budget =
            match child("budget").and_then(|b| b.children().find(|n| n.has_tag_name("value"))) {
                Some(v) => self.money(v).and_then(|fen| match Fen::try_new(fen) {
                    Ok(budget) => Some(budget),
                    Err(e) => {
                        self.report(v, "budget/value", e.to_string());
                        None
                    }
                }),
                None => Some(Fen::ZERO),
            };
        let title = child("title");
        let title_en = title
            .and_then(|t| Reader::narrative(t, None))
            .unwrap_or_default();
        let title_zh = title
            .and_then(|t| Reader::narrative(t, Some("zh")))
            .unwrap_or_default();
        let currency = self.currency(a);
        let (
            Some(recipient),
            Some(category),
            Some(status),
            Some(provenance),
            Some(year),
            Some(budget),
            Some(currency),
        ) = (
            recipient, category, status, provenance, year, budget, currency,
        )
        else {
            return;
        };
        origins.projects.push(Origin {
            file: self.file.to_owned(),
            line: self.line(a),
        });
        records.projects.push(Project {
            id: id.clone(),
            provider,
            recipient,
            category,
            status,
            title_en,
            title_zh,
            year,
            budget,
            outputs: Outputs::default(),
            provenance: provenance.clone(),
        });
        for t in a.children().filter(|n| n.has_tag_name("transaction")) {
            self.transaction(t, &id, currency, &provenance, records, origins);
        }
    }

    fn transaction(
        &mut self,
        t: Node,
        project: &RecordId,
        currency: Currency,
        provenance: &Provenance,
        records: &mut Records,
        origins: &mut Origins,
    ) {
        let child = |name: &str| t.children().find(|n| n.has_tag_name(name));
        let Some(reference) = self.attr(t, "ref") else {
            return;
        };
        let id = match RecordId::parse(reference) {
            Ok(id) => id,
            Err(e) => return self.report(t, "transaction/@ref", e.to_string()),
        };
        let code = child("transaction-type").and_then(|n| n.attribute("code"));
        let date = match child("transaction-date") {
            Some(n) => self.date(n, "iso-date"),
            None => {
                self.report(t, "transaction-date", "missing");
                None
            }
        };
        let amount = match child("value") {
            Some(v) => self.money(v),
            None => {
                self.report(t, "value", "missing");
                None
            }
        };
        let (Some(date), Some(amount)) = (date, amount) else {
            return;
        };
        let reverses = child("description")
            .and_then(|d| Reader::narrative(d, None))
            .and_then(|text| text.strip_prefix(REVERSAL).map(str::to_owned));
        let positive = amount > 0;
        let kind = match (code, positive) {
            (Some("2"), true) => TransferKind::Commit,
            (Some("2"), false) => TransferKind::Decommit,
            (Some("3"), true) => TransferKind::Disburse,
            (Some("4"), true) => TransferKind::Spend,
            (Some("3" | "4"), false) if reverses.is_some() => TransferKind::Reversal,
            (Some("3" | "4"), false) => {
                return self.report(
                    t,
                    "value",
                    format!("a negative {} must name the transfer it reverses in its description ({REVERSAL}ID)", if code == Some("3") { "disbursement" } else { "expenditure" }),
                );
            }
            (other, _) => {
                return self.report(
                    t,
                    "transaction-type/@code",
                    format!("{other:?}: Counterpart imports commitments (2), disbursements (3) and expenditure (4)"),
                );
            }
        };
        let corrects = match reverses.map(|r| RecordId::parse(&r)) {
            Some(Ok(r)) => Some(r),
            Some(Err(e)) => return self.report(t, "description", e.to_string()),
            None => None,
        };
        origins.transfers.push(Origin {
            file: self.file.to_owned(),
            line: self.line(t),
        });
        records.transfers.push(Transfer {
            id,
            project: project.clone(),
            kind,
            amount: Fen::new(amount.abs()),
            currency,
            value_date: date,
            corrects,
            phase: Phase::Single,
            provenance: provenance.clone(),
        });
    }
}

#[derive(Default)]
struct Origins {
    projects: Vec<Origin>,
    transfers: Vec<Origin>,
}

/// Read activity files into projects and transfers, or say what is wrong where.
fn read(files: &[(String, String)]) -> Result<(Records, Origins), Problems> {
    let mut problems = Problems::default();
    let mut records = Records::default();
    let mut origins = Origins::default();
    for (file, text) in files {
        let doc = match Document::parse(text) {
            Ok(doc) => doc,
            // roxmltree refuses a DTD unless asked: no entity is ever expanded or fetched.
            Err(e @ roxmltree::Error::DtdDetected) => {
                problems.push(
                    file,
                    Some(u64::from(e.pos().row)),
                    None,
                    "refused: the file declares a DTD (<!DOCTYPE …>); IATI files have none, \
                     and a DTD's entities could expand without bound or read other files",
                );
                continue;
            }
            Err(e) => {
                let pos = e.pos();
                problems.push(
                    file,
                    Some(u64::from(pos.row)),
                    None,
                    format!("not well-formed XML: {e}"),
                );
                continue;
            }
        };
        let root = doc.root_element();
        let mut reader = Reader {
            file,
            doc: &doc,
            problems: &mut problems,
        };
        if !root.has_tag_name("iati-activities") {
            reader.report(root, root.tag_name().name(), "is not iati-activities: an IATI activity file starts with <iati-activities version=\"2.03\">");
            continue;
        }
        if root.attribute("version") != Some("2.03") {
            reader.report(root, "iati-activities/@version", "must be 2.03");
        }
        for child in root.children().filter(Node::is_element) {
            if child.has_tag_name("iati-activity") {
                reader.activity(child, &mut records, &mut origins);
            } else {
                let name = child.tag_name().name().to_owned();
                reader.report(child, &name, "is not an iati-activity");
            }
        }
    }
    if problems.is_empty() {
        Ok((records, origins))
    } else {
        Err(problems)
    }
}

/// Projects and transfers whose ids repeat within the files or are already stored.
fn duplicates(
    records: &Records,
    origins: &Origins,
    keys: &counterpart_store::Keys,
) -> Result<(), Problems> {
    let mut problems = Problems::default();
    let tables = [
        (
            "projects",
            "iati-identifier",
            records
                .projects
                .iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>(),
            &origins.projects,
        ),
        (
            "transfers",
            "transaction/@ref",
            records.transfers.iter().map(|t| t.id.as_str()).collect(),
            &origins.transfers,
        ),
    ];
    for (table, element, ids, origins) in tables {
        let stored = keys.get(table);
        let mut seen = std::collections::HashSet::new();
        for (id, origin) in ids.iter().zip(origins.iter()) {
            let why = if !seen.insert(*id) {
                Some("appears earlier in these files")
            } else if stored.is_some_and(|s| s.contains(*id)) {
                Some("is already in the database")
            } else {
                None
            };
            if let Some(why) = why {
                problems.push(
                    &origin.file,
                    Some(origin.line),
                    Some(element),
                    format!("duplicate {}: {id} {why}", &table[..table.len() - 1]),
                );
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Import IATI activity files into `store`: all or nothing. Returns the records written.
pub async fn import_files(
    store: &dyn Store,
    paths: &[&Path],
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Records, ImportError> {
    let mut files = Vec::new();
    for path in paths {
        let name = path.display().to_string();
        match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => files.push((name, text)),
                Err(e) => {
                    let mut p = Problems::default();
                    p.push(&name, None, None, format!("not UTF-8 text: {e}"));
                    return Err(p.into());
                }
            },
            Err(e) => {
                let mut p = Problems::default();
                p.push(&name, None, None, format!("cannot read: {e}"));
                return Err(p.into());
            }
        }
    }
    let (records, origins) = read(&files)?;
    let frame = store.frame().await?;
    let keys = store.keys().await?;
    duplicates(&records, &origins, &keys)?;
    let lines = HashMap::from([
        (
            "projects",
            origins.projects.iter().map(|o| o.line).collect(),
        ),
        (
            "transfers",
            origins.transfers.iter().map(|o| o.line).collect(),
        ),
    ]);
    let bundle = Bundle { records, lines };
    // The bundle checks name tables; point them back at the files.
    let relocate = |problems: Problems| -> Problems {
        let mut out = Problems::default();
        for p in &problems.0 {
            let origin = match p.file.as_str() {
                "projects.csv" => origins.projects.iter().find(|o| Some(o.line) == p.line),
                "transfers.csv" => origins.transfers.iter().find(|o| Some(o.line) == p.line),
                _ => None,
            };
            let file = origin.map_or(p.file.as_str(), |o| o.file.as_str());
            // The bundle's column names, as the elements and attributes they came from.
            let column = p.column.as_deref().map(|c| match c {
                "id" if p.file == "projects.csv" => "iati-identifier",
                "id" => "transaction/@ref",
                "provider" => "reporting-org/@ref",
                "recipient" => "location/@ref",
                "category" => "sector/@code",
                "status" => "tag (status:…)",
                "year" => "activity-date (type 1)",
                "budget_fen" => "budget/value",
                "project" => "iati-identifier",
                "kind" => "transaction-type/@code",
                "amount_fen" => "transaction/value",
                "currency" => "iati-activity/@default-currency",
                "value_date" => "transaction-date/@iso-date",
                "corrects" => "transaction/description",
                other => other,
            });
            out.push(file, p.line, column, p.message.clone());
        }
        out
    };
    let bundle = check(bundle, &frame, &keys).map_err(relocate)?;
    let line_of = |i| bundle.line_of("transfers", i);
    let (ledger, journal_from) = book_on(store, &bundle.records, line_of, &frame)
        .await
        .map_err(|e| match e {
            ImportError::Invalid(p) => ImportError::Invalid(relocate(p)),
            other => other,
        })?;
    let booking = Booking {
        ledger: &ledger,
        journal_from,
    };
    store
        .load(
            &bundle.records,
            &booking,
            Some(&crate::audit::import("IATI files", &bundle.records)),
            progress,
        )
        .await?;
    Ok(bundle.records)
}

/// Counterpart's own tag whose code starts with `prefix`: the tag and the rest of its code.
fn own_tag<'a, 'i>(a: Node<'a, 'i>, prefix: &str) -> Option<(Node<'a, 'i>, String)> {
    a.children()
        .filter(|n| n.has_tag_name("tag") && n.attribute("vocabulary") == Some(OWN_VOCABULARY))
        .find_map(|n| {
            n.attribute("code")
                .and_then(|c| c.strip_prefix(prefix))
                .map(|rest| (n, rest.to_owned()))
        })
}
