//! The writes offices make one record at a time (the web application's forms and API, and the
//! CLI): record a project, post a transfer of a project, sign off a project. Each one:
//! authorize (`domain::access::can`) → parse → check with the same rules as an import → write
//! in one transaction together with its audit line.

use crate::bundle::{self, Problems};
use crate::ledger::{self, Posting, PostingError};
use crate::validate::{self, Existing};
use counterpart_domain::access::{Action, ActionKind, Actor, Denied, can, may_attempt};
use counterpart_domain::ledger::{Applied, Phase};
use counterpart_domain::project::{Project, ProjectStatus, ProjectStep, TransferKind};
use counterpart_domain::records::Records;
use counterpart_domain::region::RegionTree;
use counterpart_domain::{Date, Fen, Provenance, RecordId, parse_date};
use counterpart_store::{Booking, Keys, SignOff, Store, StoreError};
use std::collections::HashSet;

/// The stable codes of the refusals that are this module's own: `code()` returns them, and each
/// message ends with its code the way every coded error's does, `… (code)`.
mod codes {
    pub const UNKNOWN_PROJECT: &str = "unknown_project";
    pub const ALREADY_SIGNED_OFF: &str = "already_signed_off";
    pub const CONFLICT: &str = "conflict";
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0} ({code})", code = .0.code())]
    Denied(#[from] Denied),
    /// The fields that are wrong, each with what is wrong; nothing was written.
    #[error("{}", describe(.0))]
    Invalid(Vec<(String, String)>),
    #[error("project {0} does not exist ({code})", code = codes::UNKNOWN_PROJECT)]
    UnknownProject(String),
    #[error("project {0} is already signed off ({code})", code = codes::ALREADY_SIGNED_OFF)]
    AlreadySignedOff(String),
    /// Another office moved the project on while this step was being recorded.
    #[error(
        "project {0} changed status meanwhile: reload and try again ({code})",
        code = codes::CONFLICT
    )]
    Conflict(String),
    #[error(transparent)]
    Posting(#[from] PostingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn describe(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(field, message)| format!("{field}: {message}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl WriteError {
    /// One stable code per kind of refusal.
    pub fn code(&self) -> &'static str {
        match self {
            WriteError::Denied(d) => d.code(),
            WriteError::Invalid(_) => "invalid",
            WriteError::UnknownProject(_) => codes::UNKNOWN_PROJECT,
            WriteError::AlreadySignedOff(_) => codes::ALREADY_SIGNED_OFF,
            WriteError::Conflict(_) => codes::CONFLICT,
            WriteError::Posting(PostingError::Post(counterpart_store::PostError::Refused(e))) => {
                e.code()
            }
            WriteError::Posting(PostingError::UnknownProject(_)) => codes::UNKNOWN_PROJECT,
            WriteError::Posting(PostingError::UnknownTransfer(_)) => "unknown_transfer",
            WriteError::Posting(PostingError::NeedsOriginal(_)) => "needs_original",
            WriteError::Posting(_) | WriteError::Store(_) => "internal",
        }
    }

    fn field(field: &str, message: impl ToString) -> WriteError {
        WriteError::Invalid(vec![(field.to_owned(), message.to_string())])
    }
}

fn problems_to_fields(problems: &Problems) -> WriteError {
    WriteError::Invalid(
        problems
            .0
            .iter()
            .map(|p| {
                (
                    p.column.clone().unwrap_or_else(|| "record".into()),
                    p.message.clone(),
                )
            })
            .collect(),
    )
}

pub fn tree(frame: &Records) -> Result<RegionTree, StoreError> {
    RegionTree::build(frame.regions.iter().cloned()).map_err(|e| StoreError::Corrupt {
        table: "regions",
        detail: e.to_string(),
    })
}

/// A project as typed into a form or sent to the API: every field text, parsed here.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewProject {
    pub id: String,
    pub provider: String,
    pub recipient: String,
    pub category: String,
    #[serde(default)]
    pub status: String,
    pub title_en: String,
    pub title_zh: String,
    pub year: String,
    /// In yuan, e.g. `1,250,000.50`.
    pub budget_yuan: String,
}

/// Record a new project of a provider. Checked by the same rules as an import (regions, the
/// pair covering the recipient that year, the program's years, a unique id).
pub async fn record_project(
    store: &dyn Store,
    actor: &Actor,
    frame: &Records,
    new: &NewProject,
) -> Result<Project, WriteError> {
    // Who may try at all is settled before anything of the request is read or looked up.
    may_attempt(actor, ActionKind::WriteProvider)?;
    let tree = tree(frame)?;
    // The office a record belongs to decides who may write it: refuse before parsing the rest.
    let provider = tree
        .find(new.provider.trim())
        .map(|r| r.code.clone())
        .ok_or_else(|| {
            WriteError::field(
                "provider",
                format!("{:?} is not a region of the program", new.provider),
            )
        })?;
    can(
        actor,
        &Action::WriteProvider {
            provider: &provider,
        },
        &tree,
    )?;
    let recipient = tree
        .find(new.recipient.trim())
        .map_or_else(|| new.recipient.trim().to_owned(), |r| r.code.to_string());
    let budget =
        Fen::parse_yuan(&new.budget_yuan).map_err(|e| WriteError::field("budget_yuan", e))?;
    let status = if new.status.trim().is_empty() {
        "approved"
    } else {
        new.status.trim()
    };
    let row = [
        new.id.trim(),
        provider.as_str(),
        &recipient,
        new.category.trim(),
        status,
        new.title_en.trim(),
        new.title_zh.trim(),
        new.year.trim(),
        &budget.get().to_string(),
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "recorded",
        "",
        "",
    ];
    let table = counterpart_store::TABLES
        .iter()
        .copied()
        .find(|t| t.name == "projects")
        .ok_or_else(|| WriteError::field("record", "no projects table"))?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = table.columns.iter().map(|c| c.0).collect();
    // The row is read back as a bundle's is, which restores defused formulas: defuse it too,
    // so that a title is stored exactly as it was typed.
    let written = csv.write_record(&header).and_then(|()| {
        csv.write_record(row.iter().map(|c| crate::formula::defuse(c).into_owned()))
    });
    let bytes = written
        .map_err(|e| StoreError::Sink(e.to_string()))
        .and_then(|()| {
            csv.into_inner()
                .map_err(|e| StoreError::Sink(e.to_string()))
        })?;
    let mut keys = Keys::new();
    let exists = match RecordId::parse(new.id.trim()) {
        Ok(id) => store.project(&id).await?.is_some(),
        Err(_) => false,
    };
    keys.insert(
        "projects",
        if exists {
            HashSet::from([new.id.trim().to_owned()])
        } else {
            HashSet::new()
        },
    );
    let mut problems = Problems::default();
    let bundle = bundle::parse_sources([(table, bytes.as_slice())], &keys, &mut problems);
    if !problems.is_empty() {
        return Err(problems_to_fields(&problems));
    }
    validate::check(&bundle, &Existing { frame, keys: &keys }, &mut problems);
    if !problems.is_empty() {
        return Err(problems_to_fields(&problems));
    }
    let records = bundle.records;
    let project = records
        .projects
        .first()
        .cloned()
        .ok_or_else(|| WriteError::field("record", "no project"))?;
    let audit = crate::audit::entry(
        actor.name(),
        "project.record",
        project.id.as_str(),
        None,
        Some(project_json(&project)),
    );
    let ledger = counterpart_domain::ledger::Ledger::default();
    let booking = Booking {
        ledger: &ledger,
        journal_from: 0,
    };
    store
        .load(&records, &booking, Some(&audit), &|_| {})
        .await?;
    Ok(project)
}

pub fn project_json(p: &Project) -> serde_json::Value {
    serde_json::json!({
        "id": p.id.to_string(),
        "provider": p.provider.to_string(),
        "recipient": p.recipient.to_string(),
        "category": p.category.code(),
        "status": p.status.code(),
        "title_en": p.title_en,
        "title_zh": p.title_zh,
        "year": p.year.get(),
        "budget_fen": p.budget.get(),
        "provenance": p.provenance.kind(),
    })
}

/// A transfer as typed or sent: every field text.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewTransfer {
    pub id: String,
    pub project: String,
    pub kind: String,
    pub amount_yuan: String,
    pub value_date: String,
    /// For reversals and adjustments: the transfer corrected.
    #[serde(default)]
    pub corrects: Option<String>,
}

/// Post a transfer of a project through the ledger, as its provider's office (or an admin).
pub async fn post_transfer(
    store: &dyn Store,
    actor: &Actor,
    frame: &Records,
    new: &NewTransfer,
) -> Result<Applied, WriteError> {
    // Who may try at all is settled before anything of the request is read or looked up.
    may_attempt(actor, ActionKind::WriteProvider)?;
    let tree = tree(frame)?;
    let project_id =
        RecordId::parse(new.project.trim()).map_err(|e| WriteError::field("project", e))?;
    let project = store
        .project(&project_id)
        .await?
        .ok_or_else(|| WriteError::UnknownProject(project_id.to_string()))?;
    can(
        actor,
        &Action::WriteProvider {
            provider: &project.provider,
        },
        &tree,
    )?;
    let mut wrong = Vec::new();
    let id =
        RecordId::parse(new.id.trim()).map_err(|e| wrong.push(("id".to_owned(), e.to_string())));
    let kind = TransferKind::parse(new.kind.trim())
        .map_err(|e| wrong.push(("kind".to_owned(), e.to_string())));
    let amount = Fen::parse_yuan(&new.amount_yuan)
        .map_err(|e| wrong.push(("amount_yuan".to_owned(), e.to_string())));
    let value_date = parse_date(new.value_date.trim())
        .map_err(|e| wrong.push(("value_date".to_owned(), e.to_string())));
    let corrects = match new
        .corrects
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => Ok(None),
        Some(c) => RecordId::parse(c)
            .map(Some)
            .map_err(|e| wrong.push(("corrects".to_owned(), e.to_string()))),
    };
    let (Ok(id), Ok(kind), Ok(amount), Ok(value_date), Ok(corrects)) =
        (id, kind, amount, value_date, corrects)
    else {
        return Err(WriteError::Invalid(wrong));
    };
    let posting = Posting {
        id,
        project: project_id,
        kind,
        amount,
        value_date,
        phase: Phase::Single,
        corrects,
        corrects_year: None,
        recorded_by: actor.name().to_owned(),
    };
    Ok(ledger::post(store, &posting).await?)
}

/// The project a write names, which must exist.
async fn existing_project(store: &dyn Store, id: &str) -> Result<(RecordId, Project), WriteError> {
    let id = RecordId::parse(id.trim()).map_err(|e| WriteError::field("project", e))?;
    let project = store
        .project(&id)
        .await?
        .ok_or_else(|| WriteError::UnknownProject(id.to_string()))?;
    Ok((id, project))
}

/// A project's next step as typed or sent: the status it reaches and the day.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewStep {
    pub status: String,
    pub date: String,
}

/// Record the next step of a project's life, as its provider's office (or an admin): the step
/// follows the current status in the project's life, is dated no earlier than the last step and
/// not after `today`; the project's status moves with it, in the same transaction.
pub async fn advance_project(
    store: &dyn Store,
    actor: &Actor,
    frame: &Records,
    project: &str,
    new: &NewStep,
    today: Date,
) -> Result<ProjectStep, WriteError> {
    // Who may try at all is settled before anything of the request is read or looked up.
    may_attempt(actor, ActionKind::WriteProvider)?;
    let tree = tree(frame)?;
    let (id, project) = existing_project(store, project).await?;
    can(
        actor,
        &Action::WriteProvider {
            provider: &project.provider,
        },
        &tree,
    )?;
    let status =
        ProjectStatus::parse(new.status.trim()).map_err(|e| WriteError::field("status", e))?;
    let date = parse_date(new.date.trim()).map_err(|e| WriteError::field("date", e))?;
    project
        .status
        .may_go_to(status)
        .map_err(|e| WriteError::field("status", e))?;
    let steps = store.project_steps(&id).await?;
    if let Some(last) = steps.last()
        && date < last.date
    {
        return Err(WriteError::field(
            "date",
            format!(
                "{date} is before the last step ({} on {})",
                last.status.code(),
                last.date
            ),
        ));
    }
    if date > today {
        return Err(WriteError::field(
            "date",
            format!("{date} is in the future: record a step once it has happened"),
        ));
    }
    let step = ProjectStep {
        project: id.clone(),
        status,
        date,
        provenance: Provenance::Recorded,
    };
    let audit = crate::audit::entry(
        actor.name(),
        "project.step",
        id.as_str(),
        Some(serde_json::json!({ "status": project.status.code() })),
        Some(serde_json::json!({ "status": status.code(), "date": date.to_string() })),
    );
    if store.record_step(&step, project.status, &audit).await? {
        Ok(step)
    } else {
        Err(WriteError::Conflict(id.to_string()))
    }
}

/// Sign off a project as the recipient office of its area: it arrived as recorded.
pub async fn sign_off(
    store: &dyn Store,
    actor: &Actor,
    frame: &Records,
    project: &str,
) -> Result<SignOff, WriteError> {
    // Who may try at all is settled before anything of the request is read or looked up.
    may_attempt(actor, ActionKind::SignOff)?;
    let tree = tree(frame)?;
    let (id, project) = existing_project(store, project).await?;
    can(
        actor,
        &Action::SignOff {
            recipient: &project.recipient,
        },
        &tree,
    )?;
    let signoff = SignOff {
        project: id.clone(),
        office: actor
            .office()
            .cloned()
            .unwrap_or_else(|| project.recipient.clone()),
        signed_by: actor.name().to_owned(),
        at: crate::audit::now(),
    };
    let audit = crate::audit::entry(
        actor.name(),
        "project.sign_off",
        id.as_str(),
        Some(project_json(&project)),
        Some(
            serde_json::json!({ "signed_off_by": signoff.signed_by, "office": signoff.office.to_string() }),
        ),
    );
    if store.sign_off(&signoff, &audit).await? {
        Ok(signoff)
    } else {
        Err(WriteError::AlreadySignedOff(id.to_string()))
    }
}
