//! The funds ledger as a pure state machine: double entry, two-phase transfers, idempotent
//! retries, reversals at most once, period locks, and a hash chain per provider office.
//! Stores load the accounts a command touches, apply it here, and write what it returns; tests
//! run it against a plain model.
//!
//! Money flows down a project's accounts: a commitment credits `committed` from the provider's
//! year `source`; a disbursement moves it on to `disbursed`; spending moves it to `spent`. The
//! `committed` and `disbursed` accounts may never be overdrawn, which is exactly "disbursed ≤
//! committed" and "spent ≤ disbursed".
//!
//! Checks run in one documented order, and each refusal has one stable code
//! ([`LedgerError::code`]): id reuse, phase, accounts, amount and currency, period, reversal,
//! overdraft.

use crate::project::TransferKind;
use crate::{Currency, Date, Fen, RecordId, RegionCode, Year};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub mod recheck;

/// What an account holds, which decides whether it may be overdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountKind {
    /// A provider's funds for a year: debited as money is committed; may go below zero.
    Source,
    /// A project's committed money not yet disbursed: never overdrawn.
    Committed,
    /// A project's disbursed money not yet spent: never overdrawn.
    Disbursed,
    /// A project's spent money.
    Spent,
}

impl AccountKind {
    pub fn code(self) -> &'static str {
        match self {
            AccountKind::Source => "source",
            AccountKind::Committed => "committed",
            AccountKind::Disbursed => "disbursed",
            AccountKind::Spent => "spent",
        }
    }

    pub fn may_overdraw(self) -> bool {
        matches!(self, AccountKind::Source | AccountKind::Spent)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: RecordId,
    pub kind: AccountKind,
    pub currency: Currency,
    pub debits_posted: Fen,
    pub credits_posted: Fen,
    pub debits_pending: Fen,
    pub credits_pending: Fen,
    /// A closed account takes no new transfers; it is never deleted.
    pub closed: bool,
}

impl Account {
    pub fn new(id: RecordId, kind: AccountKind, currency: Currency) -> Self {
        Account {
            id,
            kind,
            currency,
            debits_posted: Fen::ZERO,
            credits_posted: Fen::ZERO,
            debits_pending: Fen::ZERO,
            credits_pending: Fen::ZERO,
            closed: false,
        }
    }

    /// Nothing ever moved through it, posted or pending.
    pub fn is_empty(&self) -> bool {
        [
            self.debits_posted,
            self.credits_posted,
            self.debits_pending,
            self.credits_pending,
        ]
        .iter()
        .all(|f| f.get() == 0)
    }

    /// Credits less debits, posted only.
    pub fn balance(&self) -> i64 {
        self.credits_posted.get() - self.debits_posted.get()
    }

    /// What may still be debited: posted credits less posted and pending debits.
    pub fn available(&self) -> i64 {
        self.credits_posted.get() - self.debits_posted.get() - self.debits_pending.get()
    }
}

/// Whether a transfer moves money at once or in two phases.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Posted at once.
    Single,
    /// Reserved, waiting for the treasury: posted or voided later, once.
    Pending,
    /// Posts the pending transfer it names, for its full amount.
    Post(RecordId),
    /// Voids the pending transfer it names.
    Void(RecordId),
}

impl Phase {
    pub fn code(&self) -> &'static str {
        match self {
            Phase::Single => "single",
            Phase::Pending => "pending",
            Phase::Post(_) => "post",
            Phase::Void(_) => "void",
        }
    }

    /// The pending transfer a `post` or `void` resolves.
    pub fn pending(&self) -> Option<&RecordId> {
        match self {
            Phase::Post(p) | Phase::Void(p) => Some(p),
            _ => None,
        }
    }

    /// From the `phase` and `pending_of` columns.
    pub fn parse(phase: &str, pending_of: Option<RecordId>) -> Result<Phase, crate::ParseError> {
        let needs = |what: &str| {
            crate::ParseError::new(format!("a {what} names the pending transfer in pending_of"))
        };
        match (phase, pending_of) {
            ("single", None) => Ok(Phase::Single),
            ("pending", None) => Ok(Phase::Pending),
            ("post", Some(p)) => Ok(Phase::Post(p)),
            ("void", Some(p)) => Ok(Phase::Void(p)),
            ("post" | "void", None) => Err(needs(phase)),
            ("single" | "pending", Some(_)) => Err(crate::ParseError::new(format!(
                "a {phase} transfer has no pending_of"
            ))),
            (other, _) => Err(crate::ParseError::new(format!(
                "{other:?} is not a phase: single, pending, post or void"
            ))),
        }
    }
}

/// One immutable money movement, as submitted by an office.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    /// Chosen by the client; a retry with the same id and content has one effect.
    pub id: RecordId,
    pub debit: RecordId,
    pub credit: RecordId,
    pub amount: Fen,
    pub currency: Currency,
    pub kind: TransferKind,
    pub value_date: Date,
    pub phase: Phase,
    /// The transfer a reversal or adjustment corrects.
    pub corrects: Option<RecordId>,
    /// For a correction booked in an open year: the closed year it corrects.
    pub corrects_year: Option<Year>,
    /// The provider office whose chain it joins.
    pub office: RegionCode,
    pub recorded_by: String,
}

impl Entry {
    /// The fields that decide whether a retry is the same transfer, by name.
    fn fields(&self) -> [(&'static str, String); 11] {
        [
            ("debit", self.debit.to_string()),
            ("credit", self.credit.to_string()),
            ("amount", self.amount.get().to_string()),
            ("currency", self.currency.to_string()),
            ("kind", self.kind.code().to_owned()),
            ("value_date", self.value_date.to_string()),
            ("phase", format!("{:?}", self.phase)),
            (
                "corrects",
                self.corrects
                    .as_ref()
                    .map_or(String::new(), |c| c.to_string()),
            ),
            (
                "corrects_year",
                self.corrects_year.map_or(String::new(), |y| y.to_string()),
            ),
            ("office", self.office.to_string()),
            ("recorded_by", self.recorded_by.clone()),
        ]
    }
}

/// A refusal. Each variant has one stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("transfer {id} exists with a different {field}")]
    IdReusedWithDifferentContent { id: RecordId, field: &'static str },
    #[error("pending transfer {0} does not exist")]
    PendingNotFound(RecordId),
    #[error("pending transfer {0} was already posted or voided")]
    PendingAlreadyResolved(RecordId),
    #[error("{0} is not a pending transfer")]
    NotPending(RecordId),
    #[error("account {0} does not exist")]
    AccountNotFound(RecordId),
    #[error("account {0} is closed")]
    AccountClosed(RecordId),
    #[error("a transfer cannot debit and credit the same account {0}")]
    SameAccount(RecordId),
    #[error("the amount must be more than zero")]
    ZeroAmount,
    #[error("account {account} is in {account_currency}, the transfer in {currency}")]
    CurrencyMismatch {
        account: RecordId,
        account_currency: Currency,
        currency: Currency,
    },
    #[error("{0} lies outside the years a program can have ({min}–{max})", min = Year::MIN, max = Year::MAX)]
    DateOutOfRange(Date),
    #[error(
        "{year} is closed: book the correction in an open year, tagged with the year it corrects"
    )]
    PeriodClosed { year: Year },
    #[error("{0} names no transfer to correct")]
    CorrectsNotFound(RecordId),
    #[error("transfer {0} was already reversed")]
    AlreadyReversed(RecordId),
    #[error("a reversal of {0} must move the same amount between the same accounts, the other way")]
    ReversalMismatch(RecordId),
    #[error("a {0} needs the transfer it corrects")]
    CorrectionWithoutOriginal(&'static str),
    #[error(
        "account {account} would be overdrawn: {} yuan available, {} yuan asked",
        crate::money::signed_yuan(*.available),
        crate::money::signed_yuan(*.amount)
    )]
    Overdraft {
        account: RecordId,
        available: i64,
        amount: i64,
    },
}

impl LedgerError {
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::IdReusedWithDifferentContent { .. } => "id_reused",
            LedgerError::PendingNotFound(_) => "pending_not_found",
            LedgerError::PendingAlreadyResolved(_) => "pending_already_resolved",
            LedgerError::NotPending(_) => "not_pending",
            LedgerError::AccountNotFound(_) => "account_not_found",
            LedgerError::AccountClosed(_) => "account_closed",
            LedgerError::SameAccount(_) => "same_account",
            LedgerError::ZeroAmount => "zero_amount",
            LedgerError::CurrencyMismatch { .. } => "currency_mismatch",
            LedgerError::DateOutOfRange(_) => "date_out_of_range",
            LedgerError::PeriodClosed { .. } => "period_closed",
            LedgerError::CorrectsNotFound(_) => "corrects_not_found",
            LedgerError::AlreadyReversed(_) => "already_reversed",
            LedgerError::ReversalMismatch(_) => "reversal_mismatch",
            LedgerError::CorrectionWithoutOriginal(_) => "correction_without_original",
            LedgerError::Overdraft { .. } => "overdraft",
        }
    }
}

/// A transfer as recorded: the entry, its place in its office's chain, and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub entry: Entry,
    /// Position in the office's chain, from 1.
    pub sequence: u64,
    pub previous_hash: [u8; 32],
    pub hash: [u8; 32],
}

/// The hash that links a transfer to the one before it in its office's chain: SHA-256 over the
/// previous hash, the sequence number and every field of the entry, each field length-prefixed
/// so that no two entries encode alike.
pub fn chain_hash(previous: &[u8; 32], sequence: u64, entry: &Entry) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(sequence.to_be_bytes());
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u32).to_be_bytes());
        hasher.update(bytes);
    };
    field(entry.id.as_str().as_bytes());
    field(entry.debit.as_str().as_bytes());
    field(entry.credit.as_str().as_bytes());
    field(&entry.amount.get().to_be_bytes());
    field(entry.currency.as_str().as_bytes());
    field(entry.kind.code().as_bytes());
    field(&[
        entry.value_date.year() as u8,
        (entry.value_date.year() >> 8) as u8,
        entry.value_date.month() as u8,
        entry.value_date.day() as u8,
    ]);
    match &entry.phase {
        Phase::Single => field(b"single"),
        Phase::Pending => field(b"pending"),
        Phase::Post(p) => {
            field(b"post");
            field(p.as_str().as_bytes());
        }
        Phase::Void(p) => {
            field(b"void");
            field(p.as_str().as_bytes());
        }
    }
    field(
        entry
            .corrects
            .as_ref()
            .map_or(&[][..], |c| c.as_str().as_bytes()),
    );
    field(&entry.corrects_year.map_or(0u16, Year::get).to_be_bytes());
    field(entry.office.as_str().as_bytes());
    field(entry.recorded_by.as_bytes());
    hasher.finalize().into()
}

pub fn hex(hash: &[u8; 32]) -> String {
    hex::encode(hash)
}

/// What applying an entry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// A new transfer, recorded.
    Created(Recorded),
    /// A retry of a transfer already recorded with the same content: nothing changed.
    Duplicate(Recorded),
}

/// The ledger's state: accounts, the journal and what it implies.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    pub accounts: Accounts,
    pub journal: Vec<Recorded>,
    index: HashMap<RecordId, usize, Fast>,
    /// Pending transfer → the transfer that resolved it.
    resolved: HashMap<RecordId, RecordId>,
    /// Original → its reversal.
    reversed: HashMap<RecordId, RecordId>,
    pub closed_years: BTreeSet<Year>,
    heads: HashMap<RegionCode, (u64, [u8; 32]), Fast>,
}

/// The hasher of the ledger's maps (a bulk import looks up a million accounts and ids): fast,
/// seeded per process.
pub type Fast = foldhash::fast::RandomState;

/// Accounts by id.
pub type Accounts = HashMap<RecordId, Account, Fast>;

impl Ledger {
    pub fn open_account(&mut self, account: Account) {
        if !self.accounts.contains_key(&account.id) {
            self.accounts.insert(account.id.clone(), account);
        }
    }

    pub fn close_year(&mut self, year: Year) {
        self.closed_years.insert(year);
    }

    pub fn get(&self, id: &RecordId) -> Option<&Recorded> {
        self.index.get(id).map(|i| &self.journal[*i])
    }

    /// Check an entry and, if it passes, record it and move the balances.
    pub fn apply(&mut self, entry: Entry) -> Result<Applied, LedgerError> {
        Ok(match self.apply_in_place(entry)? {
            (at, true) => Applied::Created(self.journal[at].clone()),
            (at, false) => Applied::Duplicate(self.journal[at].clone()),
        })
    }

    /// [`Ledger::apply`] without copying the result out: where the entry is in the journal,
    /// and whether it is new (else a retry of the entry there).
    fn apply_in_place(&mut self, entry: Entry) -> Result<(usize, bool), LedgerError> {
        if let Some(&at) = self.index.get(&entry.id) {
            return match self.journal[at]
                .entry
                .fields()
                .iter()
                .zip(entry.fields())
                .find(|(a, b)| a.1 != b.1)
            {
                Some(((field, _), _)) => Err(LedgerError::IdReusedWithDifferentContent {
                    id: entry.id.clone(),
                    field,
                }),
                None => Ok((at, false)),
            };
        }
        let effect = self.check(&entry)?;
        Ok((self.record(entry, effect), true))
    }

    /// Everything but id reuse, in the documented order; returns how balances move.
    fn check(&self, entry: &Entry) -> Result<Effect, LedgerError> {
        let (amount, effect) = match &entry.phase {
            Phase::Single => (entry.amount, Effect::Post),
            Phase::Pending => (entry.amount, Effect::Reserve),
            Phase::Post(pending) | Phase::Void(pending) => {
                let original = self
                    .get(pending)
                    .ok_or_else(|| LedgerError::PendingNotFound(pending.clone()))?;
                if original.entry.phase != Phase::Pending {
                    return Err(LedgerError::NotPending(pending.clone()));
                }
                if self.resolved.contains_key(pending) {
                    return Err(LedgerError::PendingAlreadyResolved(pending.clone()));
                }
                if original.entry.debit != entry.debit || original.entry.credit != entry.credit {
                    return Err(LedgerError::IdReusedWithDifferentContent {
                        id: pending.clone(),
                        field: "debit",
                    });
                }
                let effect = if matches!(entry.phase, Phase::Post(_)) {
                    Effect::Settle
                } else {
                    Effect::Release
                };
                (original.entry.amount, effect)
            }
        };
        if amount != entry.amount {
            return Err(LedgerError::IdReusedWithDifferentContent {
                id: entry.id.clone(),
                field: "amount",
            });
        }
        let debit = self.account(&entry.debit)?;
        let credit = self.account(&entry.credit)?;
        if entry.debit == entry.credit {
            return Err(LedgerError::SameAccount(entry.debit.clone()));
        }
        if entry.amount <= Fen::ZERO {
            return Err(LedgerError::ZeroAmount);
        }
        for account in [debit, credit] {
            if account.currency != entry.currency {
                return Err(LedgerError::CurrencyMismatch {
                    account: account.id.clone(),
                    account_currency: account.currency,
                    currency: entry.currency,
                });
            }
        }
        let year = Year::new(entry.value_date.year() as u16)
            .map_err(|_| LedgerError::DateOutOfRange(entry.value_date))?;
        if self.closed_years.contains(&year) {
            return Err(LedgerError::PeriodClosed { year });
        }
        self.check_correction(entry)?;
        if matches!(effect, Effect::Post | Effect::Reserve)
            && !debit.kind.may_overdraw()
            && debit.available() < amount.get()
        {
            return Err(LedgerError::Overdraft {
                account: debit.id.clone(),
                available: debit.available(),
                amount: amount.get(),
            });
        }
        Ok(effect)
    }

    fn account(&self, id: &RecordId) -> Result<&Account, LedgerError> {
        let account = self
            .accounts
            .get(id)
            .ok_or_else(|| LedgerError::AccountNotFound(id.clone()))?;
        if account.closed {
            return Err(LedgerError::AccountClosed(id.clone()));
        }
        Ok(account)
    }

    fn check_correction(&self, entry: &Entry) -> Result<(), LedgerError> {
        let Some(original_id) = &entry.corrects else {
            return match entry.kind {
                TransferKind::Reversal => Err(LedgerError::CorrectionWithoutOriginal("reversal")),
                TransferKind::Adjustment => {
                    Err(LedgerError::CorrectionWithoutOriginal("adjustment"))
                }
                _ => Ok(()),
            };
        };
        let original = self
            .get(original_id)
            .ok_or_else(|| LedgerError::CorrectsNotFound(original_id.clone()))?;
        if entry.kind == TransferKind::Reversal {
            if self.reversed.contains_key(original_id) {
                return Err(LedgerError::AlreadyReversed(original_id.clone()));
            }
            let o = &original.entry;
            if o.debit != entry.credit || o.credit != entry.debit || o.amount != entry.amount {
                return Err(LedgerError::ReversalMismatch(original_id.clone()));
            }
        }
        Ok(())
    }

    /// Record a checked entry; where it lands in the journal.
    fn record(&mut self, entry: Entry, effect: Effect) -> usize {
        let amount = entry.amount;
        let (debit, credit) = (&entry.debit, &entry.credit);
        let mut change = |id: &RecordId, f: &dyn Fn(&mut Account)| {
            f(self.accounts.get_mut(id).expect("checked above"));
        };
        match effect {
            Effect::Post => {
                change(debit, &|a| a.debits_posted += amount);
                change(credit, &|a| a.credits_posted += amount);
            }
            Effect::Reserve => {
                change(debit, &|a| a.debits_pending += amount);
                change(credit, &|a| a.credits_pending += amount);
            }
            Effect::Settle => {
                change(debit, &|a| {
                    a.debits_pending = Fen::new(a.debits_pending.get() - amount.get());
                    a.debits_posted += amount;
                });
                change(credit, &|a| {
                    a.credits_pending = Fen::new(a.credits_pending.get() - amount.get());
                    a.credits_posted += amount;
                });
            }
            Effect::Release => {
                change(debit, &|a| {
                    a.debits_pending = Fen::new(a.debits_pending.get() - amount.get())
                });
                change(credit, &|a| {
                    a.credits_pending = Fen::new(a.credits_pending.get() - amount.get())
                });
            }
        }
        if let Phase::Post(pending) | Phase::Void(pending) = &entry.phase {
            self.resolved.insert(pending.clone(), entry.id.clone());
        }
        if let (TransferKind::Reversal, Some(original)) = (entry.kind, &entry.corrects) {
            self.reversed.insert(original.clone(), entry.id.clone());
        }
        let (sequence, previous_hash) = self
            .heads
            .get(&entry.office)
            .map_or((1, [0; 32]), |(s, h)| (s + 1, *h));
        let hash = chain_hash(&previous_hash, sequence, &entry);
        match self.heads.get_mut(&entry.office) {
            Some(head) => *head = (sequence, hash),
            None => {
                self.heads.insert(entry.office.clone(), (sequence, hash));
            }
        }
        let recorded = Recorded {
            entry,
            sequence,
            previous_hash,
            hash,
        };
        let at = self.journal.len();
        self.index.insert(recorded.entry.id.clone(), at);
        self.journal.push(recorded);
        at
    }

    /// Recheck every invariant from the journal alone; the first violation, if any.
    pub fn verify(&self) -> Result<(), Violation> {
        verify(&self.accounts, &self.journal)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Post,
    Reserve,
    Settle,
    Release,
}

/// An invariant that does not hold, named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("debits ({debits} fen) do not equal credits ({credits} fen)")]
    Unbalanced { debits: i64, credits: i64 },
    #[error("account {account}: cached {field} is {cached} fen, the journal says {journal} fen")]
    CachedBalance {
        account: RecordId,
        field: &'static str,
        cached: i64,
        journal: i64,
    },
    #[error("account {0} is overdrawn")]
    Overdrawn(RecordId),
    #[error("pending transfer {0} was resolved more than once")]
    ResolvedTwice(RecordId),
    #[error("transfer {0} was reversed more than once")]
    ReversedTwice(RecordId),
    #[error("the chain of {office} breaks at transfer {id} (sequence {sequence})")]
    ChainBroken {
        office: RegionCode,
        id: RecordId,
        sequence: u64,
    },
    #[error("transfer {0} names an account that does not exist")]
    UnknownAccount(RecordId),
    #[error(
        "the journal entry at sequence {sequence} of {office} names a transfer that does not exist"
    )]
    Orphan { office: RegionCode, sequence: u64 },
    #[error(
        "transfer {transfer} resolves {pending}, which is not a pending transfer of the same amount between the same accounts"
    )]
    ResolvesOther {
        transfer: RecordId,
        pending: RecordId,
    },
    #[error("the chain of {0} was not read in sequence order, so it cannot be vouched for")]
    ChainUnchecked(RegionCode),
    #[error("the cached balances do not match the journal, and no account was found that differs")]
    BalancesUnchecked,
}

/// Recheck accounts against a journal (in recording order).
pub fn verify(accounts: &Accounts, journal: &[Recorded]) -> Result<(), Violation> {
    let mut sums: BTreeMap<&RecordId, [i64; 4]> = BTreeMap::new(); // debits, credits posted; pending
    let mut resolved: BTreeSet<&RecordId> = BTreeSet::new();
    let mut reversed: BTreeSet<&RecordId> = BTreeSet::new();
    let mut amounts: HashMap<&RecordId, i64> = HashMap::new();
    let mut heads: HashMap<&RegionCode, (u64, [u8; 32])> = HashMap::new();
    for r in journal {
        let e = &r.entry;
        for account in [&e.debit, &e.credit] {
            if !accounts.contains_key(account) {
                return Err(Violation::UnknownAccount(e.id.clone()));
            }
        }
        let (sequence, previous) = heads
            .get(&e.office)
            .map_or((1, [0; 32]), |(s, h)| (s + 1, *h));
        if r.sequence != sequence
            || r.previous_hash != previous
            || chain_hash(&previous, sequence, e) != r.hash
        {
            return Err(Violation::ChainBroken {
                office: e.office.clone(),
                id: e.id.clone(),
                sequence: r.sequence,
            });
        }
        heads.insert(&e.office, (sequence, r.hash));
        amounts.insert(&e.id, e.amount.get());
        let a = e.amount.get();
        match &e.phase {
            Phase::Single => {
                sums.entry(&e.debit).or_default()[0] += a;
                sums.entry(&e.credit).or_default()[1] += a;
            }
            Phase::Pending => {
                sums.entry(&e.debit).or_default()[2] += a;
                sums.entry(&e.credit).or_default()[3] += a;
            }
            Phase::Post(p) | Phase::Void(p) => {
                if !resolved.insert(p) {
                    return Err(Violation::ResolvedTwice(p.clone()));
                }
                let a = amounts.get(p).copied().unwrap_or(a);
                sums.entry(&e.debit).or_default()[2] -= a;
                sums.entry(&e.credit).or_default()[3] -= a;
                if matches!(e.phase, Phase::Post(_)) {
                    sums.entry(&e.debit).or_default()[0] += a;
                    sums.entry(&e.credit).or_default()[1] += a;
                }
            }
        }
        if let (TransferKind::Reversal, Some(original)) = (e.kind, &e.corrects)
            && !reversed.insert(original)
        {
            return Err(Violation::ReversedTwice(original.clone()));
        }
    }
    let (mut debits, mut credits) = (0i64, 0i64);
    // Accounts come in no order: the violation reported is that of the first account by id.
    let mut first: Option<(&RecordId, Violation)> = None;
    for (id, account) in accounts {
        let s = sums.get(id).copied().unwrap_or_default();
        let cached = [
            ("debits_posted", account.debits_posted.get(), s[0]),
            ("credits_posted", account.credits_posted.get(), s[1]),
            ("debits_pending", account.debits_pending.get(), s[2]),
            ("credits_pending", account.credits_pending.get(), s[3]),
        ];
        let wrong = cached
            .into_iter()
            .find(|(_, cached, journal)| cached != journal)
            .map(|(field, cached, journal)| Violation::CachedBalance {
                account: id.clone(),
                field,
                cached,
                journal,
            })
            .or_else(|| {
                (!account.kind.may_overdraw() && account.available() < 0)
                    .then(|| Violation::Overdrawn(id.clone()))
            });
        if let Some(violation) = wrong
            && first.as_ref().is_none_or(|(earlier, _)| id < *earlier)
        {
            first = Some((id, violation));
        }
        debits += account.debits_posted.get() + account.debits_pending.get();
        credits += account.credits_posted.get() + account.credits_pending.get();
    }
    if let Some((_, violation)) = first {
        return Err(violation);
    }
    if debits != credits {
        return Err(Violation::Unbalanced { debits, credits });
    }
    Ok(())
}

/// The account of a provider's funds for a year.
pub fn source_account(provider: &RegionCode, year: Year) -> RecordId {
    // Built by hand, not with `format!`: a bulk import names two accounts per transfer.
    // Region codes (at most 64 characters of a–z, 0–9, `.`, `-`, `_`) and years are made of
    // characters ids allow, so the id is valid by construction.
    let mut id = compact_str::CompactString::with_capacity(12 + provider.as_str().len());
    id.push_str("source.");
    id.push_str(provider.as_str());
    id.push('.');
    let year = year.get();
    for digit in [year / 1000, year / 100 % 10, year / 10 % 10, year % 10] {
        id.push(char::from(b'0' + digit as u8));
    }
    RecordId(id)
}

/// A project's account of one kind (`committed`, `disbursed`, `spent`).
pub fn project_account(project: &RecordId, kind: AccountKind) -> RecordId {
    let (project, kind) = (project.as_str(), kind.code());
    if project.len() + 1 + kind.len() > crate::MAX_ID_LEN {
        return RecordId(project.into());
    }
    let mut id = compact_str::CompactString::with_capacity(project.len() + 1 + kind.len());
    id.push_str(project);
    id.push('.');
    id.push_str(kind);
    RecordId(id)
}

/// The project a project account belongs to (`P.committed` → `P`); `None` for other accounts.
pub fn project_of(account: &RecordId) -> Option<RecordId> {
    let (project, kind) = account.as_str().rsplit_once('.')?;
    let kinds = [
        AccountKind::Committed,
        AccountKind::Disbursed,
        AccountKind::Spent,
    ];
    if kinds.iter().any(|k| k.code() == kind) {
        RecordId::parse(project).ok()
    } else {
        None
    }
}

/// The accounts a project's transfer of `kind` debits and credits. `None` for corrections:
/// they mirror the transfer they correct.
pub fn project_route(
    project: &RecordId,
    office: &RegionCode,
    year: Year,
    kind: TransferKind,
) -> Option<(RecordId, RecordId)> {
    let source = || source_account(office, year);
    let account = |kind| project_account(project, kind);
    match kind {
        TransferKind::Commit => Some((source(), account(AccountKind::Committed))),
        TransferKind::Disburse => Some((
            account(AccountKind::Committed),
            account(AccountKind::Disbursed),
        )),
        TransferKind::Spend => Some((account(AccountKind::Disbursed), account(AccountKind::Spent))),
        TransferKind::Decommit => Some((account(AccountKind::Committed), source())),
        TransferKind::Reversal | TransferKind::Adjustment | TransferKind::Reclassify => None,
    }
}

/// The accounts a project's transfers in `year` may touch, new and empty.
pub fn project_accounts(
    project: &RecordId,
    office: &RegionCode,
    year: Year,
    currency: Currency,
) -> [Account; 4] {
    [
        Account::new(source_account(office, year), AccountKind::Source, currency),
        Account::new(
            project_account(project, AccountKind::Committed),
            AccountKind::Committed,
            currency,
        ),
        Account::new(
            project_account(project, AccountKind::Disbursed),
            AccountKind::Disbursed,
            currency,
        ),
        Account::new(
            project_account(project, AccountKind::Spent),
            AccountKind::Spent,
            currency,
        ),
    ]
}

/// Where a bundle's transfer failed to book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingError {
    /// Its index in `Records::transfers`.
    pub index: usize,
    pub error: LedgerError,
}

impl Ledger {
    /// Rebuild a ledger from stored accounts and its journal (in recording order per office).
    pub fn restore(
        accounts: impl IntoIterator<Item = Account>,
        journal: Vec<Recorded>,
        closed_years: impl IntoIterator<Item = Year>,
    ) -> Ledger {
        let mut ledger = Ledger {
            accounts: accounts.into_iter().map(|a| (a.id.clone(), a)).collect(),
            closed_years: closed_years.into_iter().collect(),
            ..Ledger::default()
        };
        for r in journal {
            if let Phase::Post(p) | Phase::Void(p) = &r.entry.phase {
                ledger.resolved.insert(p.clone(), r.entry.id.clone());
            }
            if let (TransferKind::Reversal, Some(o)) = (r.entry.kind, &r.entry.corrects) {
                ledger.reversed.insert(o.clone(), r.entry.id.clone());
            }
            let head = ledger
                .heads
                .entry(r.entry.office.clone())
                .or_insert((0, [0; 32]));
            if r.sequence > head.0 {
                *head = (r.sequence, r.hash);
            }
            ledger
                .index
                .insert(r.entry.id.clone(), ledger.journal.len());
            ledger.journal.push(r);
        }
        ledger
    }

    /// The order [`Ledger::book`] books `transfers` in, as indexes into them: value date, kind
    /// (money's flow: commit, disburse, spend, then corrections), id.
    pub fn booking_order(transfers: &[crate::project::Transfer]) -> Vec<usize> {
        // The id's prefix settles most ties without reading the id itself.
        let rank = |k: TransferKind| TransferKind::ALL.iter().position(|x| *x == k);
        let mut order: Vec<_> = transfers
            .iter()
            .enumerate()
            .map(|(i, t)| (t.value_date, rank(t.kind), t.id.prefix(), i))
            .collect();
        // Ids are unique, so no two transfers compare equal: an unstable sort is stable here.
        order.sort_unstable_by(|a, b| {
            (a.0, a.1, a.2)
                .cmp(&(b.0, b.1, b.2))
                .then_with(|| transfers[a.3].id.cmp(&transfers[b.3].id))
        });
        order.into_iter().map(|(_, _, _, i)| i).collect()
    }

    /// Book the transfers of projects into this ledger, oldest value date first, then in the
    /// order money flows (commit, disburse, spend, then corrections), then by id, so the chains
    /// come out the same on every machine. Opens the accounts they need.
    /// Returns how many journal entries were there before, so the caller can write the new ones.
    pub fn book(
        &mut self,
        transfers: &[crate::project::Transfer],
        project_of: impl Fn(&RecordId) -> Option<(RegionCode, Currency)>,
    ) -> Result<usize, BookingError> {
        let before = self.journal.len();
        self.journal.reserve(transfers.len());
        self.index.reserve(transfers.len());
        // Each transfer's office, and the accounts its (project, year) needs, opened up front.
        let mut offices: Vec<Option<(RegionCode, Currency)>> =
            transfers.iter().map(|t| project_of(&t.project)).collect();
        let mut needed: std::collections::HashSet<(&RecordId, Year), Fast> = Default::default();
        let mut opening = Vec::new();
        for (t, office) in transfers.iter().zip(&offices) {
            if let (Some((provider, currency)), Ok(year)) =
                (office, Year::new(t.value_date.year() as u16))
                && needed.insert((&t.project, year))
            {
                opening.extend(project_accounts(&t.project, provider, year, *currency));
            }
        }
        self.accounts.reserve(opening.len());
        for account in opening {
            self.open_account(account);
        }
        for index in Self::booking_order(transfers) {
            let t = &transfers[index];
            let fail = |error| BookingError { index, error };
            let (provider, _) = offices[index]
                .take()
                .ok_or_else(|| fail(LedgerError::AccountNotFound(t.project.clone())))?;
            let year = Year::new(t.value_date.year() as u16)
                .map_err(|_| fail(LedgerError::DateOutOfRange(t.value_date)))?;
            let route = project_route(&t.project, &provider, year, t.kind);
            let (debit, credit) = match route {
                Some(route) => route,
                None => {
                    let original =
                        t.corrects
                            .as_ref()
                            .and_then(|c| self.get(c))
                            .ok_or_else(|| {
                                fail(match &t.corrects {
                                    Some(c) => LedgerError::CorrectsNotFound(c.clone()),
                                    None => LedgerError::CorrectionWithoutOriginal(t.kind.code()),
                                })
                            })?;
                    (original.entry.credit.clone(), original.entry.debit.clone())
                }
            };
            let entry = Entry {
                id: t.id.clone(),
                debit,
                credit,
                amount: t.amount,
                currency: t.currency,
                kind: t.kind,
                value_date: t.value_date,
                phase: t.phase.clone(),
                corrects: t.corrects.clone(),
                corrects_year: None,
                office: provider,
                // A bulk-booked entry is recorded by where its transfer came from: a
                // publication, an office's records, or the demo generator.
                recorded_by: t.provenance.kind().to_owned(),
            };
            self.apply_in_place(entry).map_err(fail)?;
        }
        Ok(before)
    }
}
