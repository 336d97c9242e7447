//! Ledger use cases: verify every invariant, and read an account's balance and history.

use crate::report::{Cell, Report, ReportError, Section, col, exact_money};
use counterpart_domain::RegionCode;
use counterpart_domain::ledger::recheck::Recheck;
use counterpart_domain::ledger::{
    AccountKind, Applied, Entry, Phase, Violation, hex, project_account, project_accounts,
    project_of, project_route,
};
use counterpart_domain::project::TransferKind;
use counterpart_domain::{Date, Fen, RecordId, Year};
use counterpart_store::{LedgerScan, PostError, Scanned, Store, StoreError};
use std::ops::ControlFlow;

/// What `verify` checked when everything holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub transfers: usize,
    pub accounts: usize,
    pub chains: usize,
    /// Posted and pending debits, equal to credits.
    pub debits: Fen,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Violation(#[from] Violation),
    #[error("transfer {0} has no journal entry")]
    Unjournaled(String),
    #[error("{transfers} transfers are stored and {journaled} journaled")]
    Uncounted { transfers: u64, journaled: u64 },
}

/// Recheck every invariant of the stored ledger from the journal alone: debits equal credits,
/// cached balances equal the journal, no overdraft, pending transfers resolved at most once
/// and by their like, transfers reversed at most once, every office's hash chain intact, every
/// transfer journaled. The ledger is read as a stream ([`Store::recheck`]) and checked as it
/// comes ([`Recheck`]): memory stays flat however long the journal.
pub async fn verify(store: &dyn Store) -> Result<Verified, VerifyError> {
    let mut scan = Verifying {
        recheck: Recheck::new(),
        found: None,
        transfers: 0,
    };
    store.recheck(&mut scan).await?;
    if let Some(found) = scan.found {
        return Err(found);
    }
    let entries = scan.recheck.entries();
    if scan.transfers != entries {
        // A transfer the journal does not hold, though none was named (the store found none
        // when asked): the counts alone show it.
        return Err(VerifyError::Uncounted {
            transfers: scan.transfers,
            journaled: entries,
        });
    }
    let done = scan.recheck.finish()?;
    Ok(Verified {
        transfers: done.entries as usize,
        accounts: done.accounts as usize,
        chains: done.chains,
        debits: done.debits,
    })
}

/// The receiving end of `verify`'s read: the domain's recheck, and the first thing found wrong.
struct Verifying {
    recheck: Recheck,
    found: Option<VerifyError>,
    transfers: u64,
}

impl Verifying {
    fn stop(&mut self, found: impl Into<VerifyError>) -> ControlFlow<()> {
        self.found = Some(found.into());
        ControlFlow::Break(())
    }
}

impl LedgerScan for Verifying {
    fn row(&mut self, row: Scanned) -> ControlFlow<()> {
        let r = &mut self.recheck;
        let checked = match row {
            Scanned::Account(a) => {
                r.account(&a);
                Ok(())
            }
            Scanned::Entry { run, entry } => r.entry_in(run, &entry),
            Scanned::InSequence(e) => r.in_sequence(&e),
            Scanned::Orphan { office, sequence } => Err(Violation::Orphan { office, sequence }),
            Scanned::UnknownAccount(transfer) => Err(Violation::UnknownAccount(transfer)),
            Scanned::Resolution {
                pending,
                by,
                original,
            } => r.resolution(&pending, &by, original.as_ref()),
            Scanned::Reversal(original) => r.reversal(&original),
            Scanned::Transfers(n) => {
                self.transfers = n;
                Ok(())
            }
            Scanned::Unjournaled(transfer) => return self.stop(VerifyError::Unjournaled(transfer)),
            Scanned::Balance(a, journal) => {
                r.balance(&a, journal);
                Ok(())
            }
        };
        match checked {
            Ok(()) => ControlFlow::Continue(()),
            Err(violation) => self.stop(violation),
        }
    }

    fn reread(&mut self) -> Vec<RegionCode> {
        self.recheck.reread()
    }

    fn wants_unjournaled(&mut self) -> bool {
        self.transfers != self.recheck.entries()
    }

    fn wants_balances(&mut self) -> bool {
        self.recheck.balances_differ()
    }
}

/// The balances and history of an account, or of a project's three accounts.
pub async fn account(store: &dyn Store, name: &str) -> Result<Report, ReportError> {
    let ledger = store.ledger().await?;
    let id = RecordId::parse(name).map_err(|e| ReportError::Invalid(e.to_string()))?;
    let ids: Vec<RecordId> = if ledger.accounts.contains_key(&id) {
        vec![id]
    } else {
        [
            AccountKind::Committed,
            AccountKind::Disbursed,
            AccountKind::Spent,
        ]
        .map(|k| project_account(&id, k))
        .into_iter()
        .filter(|a| ledger.accounts.contains_key(a))
        .collect()
    };
    if ids.is_empty() {
        return Err(ReportError::NotFound {
            what: "account or project",
            name: name.to_owned(),
            hint: "; accounts are named like source.shanghai.2019 or PROJECT.committed".into(),
        });
    }
    let money = |f: Fen| Cell::money(f);
    let mut balances = Section::new(
        "accounts",
        "Balances",
        vec![
            col("account", "account", None),
            col("kind", "kind", None),
            exact_money("debits_posted", "debits posted (yuan)"),
            exact_money("credits_posted", "credits posted (yuan)"),
            exact_money("debits_pending", "debits pending (yuan)"),
            exact_money("credits_pending", "credits pending (yuan)"),
            exact_money("balance", "balance (yuan)"),
            col("provenance", "provenance", None),
        ],
    );
    for a in ids.iter().map(|i| &ledger.accounts[i]) {
        let simulated = ledger.journal.iter().any(|r| {
            (r.entry.debit == a.id || r.entry.credit == a.id) && r.entry.recorded_by == "simulated"
        });
        balances.push(vec![
            Cell::text(a.id.to_string()),
            Cell::text(a.kind.code()),
            money(a.debits_posted),
            money(a.credits_posted),
            money(a.debits_pending),
            money(a.credits_pending),
            Cell::signed_money(a.balance()),
            Cell::text(crate::report::computed_label(simulated)),
        ]);
    }
    let mut history = Section::new(
        "history",
        "History (journal order)",
        vec![
            col("transfer", "transfer", None),
            col("value_date", "value date", None),
            col("kind", "kind", None),
            col("phase", "phase", None),
            col("debit", "debit", None),
            col("credit", "credit", None),
            exact_money("amount", "amount (yuan)"),
            col("corrects", "corrects", None),
            col("office", "office", None),
            col("sequence", "sequence", None),
            col("hash", "hash", None),
            col("provenance", "recorded by", None),
        ],
    );
    for r in ledger
        .journal
        .iter()
        .filter(|r| ids.contains(&r.entry.debit) || ids.contains(&r.entry.credit))
    {
        let e = &r.entry;
        let phase = match &e.phase {
            Phase::Single => "single".to_owned(),
            Phase::Pending => "pending".to_owned(),
            Phase::Post(p) => format!("posts {p}"),
            Phase::Void(p) => format!("voids {p}"),
        };
        history.push(vec![
            Cell::text(e.id.to_string()),
            Cell::text(e.value_date.to_string()),
            Cell::text(e.kind.code()),
            Cell::text(phase),
            Cell::text(e.debit.to_string()),
            Cell::text(e.credit.to_string()),
            money(e.amount),
            Cell::opt(e.corrects.as_ref().map(|c| Cell::text(c.to_string()))),
            Cell::text(e.office.to_string()),
            Cell::Int(r.sequence as i64),
            Cell::text(hex(&r.hash)[..16].to_owned()),
            Cell::text(&e.recorded_by),
        ]);
    }
    Ok(Report {
        report: "account",
        title: format!("Ledger: {name}"),
        program: String::new(),
        notes: vec!["Balances are credits less debits, posted; the hash is the first 16 hex digits of the entry's link in its office's chain.".into()],
        sections: vec![balances, history],
    })
}

/// One money movement of a project, as an office submits it.
#[derive(Debug, Clone)]
pub struct Posting {
    /// The client's id for the transfer: retrying with the same id and content has one effect.
    pub id: RecordId,
    pub project: RecordId,
    pub kind: TransferKind,
    pub amount: Fen,
    pub value_date: Date,
    pub phase: Phase,
    /// For reversals: the transfer reversed.
    pub corrects: Option<RecordId>,
    /// For a correction of a closed year booked in an open one.
    pub corrects_year: Option<Year>,
    pub recorded_by: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PostingError {
    #[error("project {0} does not exist")]
    UnknownProject(RecordId),
    #[error("transfer {0} does not exist")]
    UnknownTransfer(RecordId),
    #[error("a {0} names the transfer it corrects")]
    NeedsOriginal(&'static str),
    #[error(transparent)]
    Post(#[from] PostError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reverse a transfer: the same amount between the same accounts, the other way, at most once.
pub async fn reverse(
    store: &dyn Store,
    original: &RecordId,
    id: RecordId,
    value_date: Date,
    recorded_by: String,
) -> Result<Applied, PostingError> {
    let first = store
        .transfer(original)
        .await?
        .ok_or_else(|| PostingError::UnknownTransfer(original.clone()))?
        .entry;
    let project = project_of(&first.credit)
        .or_else(|| project_of(&first.debit))
        .ok_or_else(|| PostingError::UnknownTransfer(original.clone()))?;
    let posting = Posting {
        id,
        project,
        kind: TransferKind::Reversal,
        amount: first.amount,
        value_date,
        phase: Phase::Single,
        corrects: Some(original.clone()),
        corrects_year: None,
        recorded_by,
    };
    post(store, &posting).await
}

/// Post a project's transfer through the ledger in one transaction.
pub async fn post(store: &dyn Store, posting: &Posting) -> Result<Applied, PostingError> {
    let (office, currency) = store
        .project_office(&posting.project)
        .await?
        .ok_or_else(|| PostingError::UnknownProject(posting.project.clone()))?;
    let year = Year::new(posting.value_date.year() as u16).map_err(|e| StoreError::Corrupt {
        table: "transfers",
        detail: e.to_string(),
    })?;
    let (debit, credit) = match project_route(&posting.project, &office, year, posting.kind) {
        Some(route) => route,
        None => {
            // A correction mirrors the transfer it corrects.
            let original = posting
                .corrects
                .as_ref()
                .ok_or(PostingError::NeedsOriginal(posting.kind.code()))?;
            let entry = store
                .transfer(original)
                .await?
                .ok_or_else(|| PostingError::UnknownTransfer(original.clone()))?
                .entry;
            (entry.credit.clone(), entry.debit.clone())
        }
    };
    let entry = Entry {
        id: posting.id.clone(),
        debit,
        credit,
        amount: posting.amount,
        currency,
        kind: posting.kind,
        value_date: posting.value_date,
        phase: posting.phase.clone(),
        corrects: posting.corrects.clone(),
        corrects_year: posting.corrects_year,
        office: office.clone(),
        recorded_by: posting.recorded_by.clone(),
    };
    let open = project_accounts(&posting.project, &office, year, currency);
    let audit = crate::audit::entry(
        &posting.recorded_by,
        "transfer.post",
        &posting.id.to_string(),
        None,
        Some(serde_json::json!({
            "id": posting.id.to_string(),
            "project": posting.project.to_string(),
            "kind": posting.kind.code(),
            "amount_fen": posting.amount.get(),
            "value_date": posting.value_date.to_string(),
            "phase": posting.phase.code(),
            "corrects": posting.corrects.as_ref().map(ToString::to_string),
        })),
    );
    Ok(store
        .post(&entry, &posting.project, &open, Some(&audit))
        .await?)
}
