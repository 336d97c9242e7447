//! The ledger's invariants rechecked in one pass over a stream, in memory that does not grow
//! with the journal: what `verify` runs on a stored ledger of any size. [`super::verify`] does
//! the same checks on a ledger held in memory.
//!
//! A store hands a [`Recheck`] its rows from one consistent snapshot:
//! 1. every account ([`Recheck::account`]), in any order;
//! 2. every journal entry ([`Recheck::entry`]), in the order the store keeps them (for the
//!    stores here, the order transfers were recorded in), with nothing else kept of them; or
//!    the journal cut into runs, each in that order, read side by side and handed over
//!    interleaved ([`Recheck::entry_in`]); accounts and entries may come interleaved too;
//! 3. for each office whose entries did not come in sequence order ([`Recheck::reread`]), that
//!    office's entries again in sequence order ([`Recheck::in_sequence`]);
//! 4. the resolutions of pending transfers, by the pending transfer's id
//!    ([`Recheck::resolution`]), and the reversals, by the reversed transfer's id
//!    ([`Recheck::reversal`]);
//! 5. if [`Recheck::balances_differ`], every account with the sums the journal gives it
//!    ([`Recheck::balance`]), which names the account and field that differ.
//!
//! **Chains.** Each entry's hash is recomputed from its own content and its stored previous
//! hash. An office's entries that arrive in sequence order, each naming its predecessor's hash,
//! form an intact chain without any entry being kept. An office whose entries arrive in another
//! order is read again in sequence order, and checked as the in-memory `verify` does.
//!
//! **Balances, without a map of accounts.** The cached balances must equal the journal's sums,
//! account by account and field by field. Instead of summing per account, both sides are
//! folded into one number modulo the prime p = 2⁶¹ − 1: each account gets a weight w(a) (a
//! keyed SipHash of its id, with keys drawn at random for this recheck) and each of the four
//! fields a random multiplier r_f, and every posted or pending amount adds amount · w(a) · r_f.
//! If every account agrees the two sides are equal; if any field of any account differs by a
//! nonzero d, the sides are equal only when Σ w(a)·r_f·d ≡ 0 (mod p), which for weights drawn
//! after the data was written has probability at most 2/p ≈ 10⁻¹⁸ (Schwartz–Zippel, as in
//! Freivalds' check). The keys are drawn anew each time, so no stored ledger can be made to
//! pass: a tampered balance is caught with that probability on every run. When the sides
//! differ, the store's per-account sums are read (step 5) to name what differs.

use super::{Account, Phase, Recorded, Violation, chain_hash};
use crate::{Fen, RecordId, RegionCode};
use std::collections::HashMap;
use std::hash::BuildHasher;

/// The prime of the balance fingerprint: 2⁶¹ − 1.
const P: u64 = (1 << 61) - 1;

fn mul(a: u64, b: u64) -> u64 {
    let x = u128::from(a) * u128::from(b);
    add((x as u64) & P, (x >> 61) as u64)
}

fn add(a: u64, b: u64) -> u64 {
    let s = a + b;
    if s >= P { s - P } else { s }
}

fn residue(v: i64) -> u64 {
    v.rem_euclid(P as i64) as u64
}

/// How far an office's chain has been followed in the pass over the journal.
#[derive(Debug, Clone)]
struct Head {
    sequence: u64,
    hash: [u8; 32],
    /// Every entry so far came in sequence order, naming the hash before it.
    in_order: bool,
    /// Entries of the office in the pass over the journal, and read again in sequence order.
    entries: u64,
    reread: u64,
}

/// An office's entries in one run of the journal (a store may hand over the journal in
/// several runs, each in stored order, read side by side): where they start and end.
#[derive(Debug, Clone)]
struct Run {
    first_sequence: u64,
    first_previous: [u8; 32],
    sequence: u64,
    hash: [u8; 32],
    /// Every entry of the run after its first came in sequence order, naming the one before.
    in_order: bool,
    entries: u64,
}

/// A fingerprint of balances: Σ amount · w(account) · r(field), modulo [`P`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Fingerprint(u64);

impl Fingerprint {
    fn add(&mut self, amount: i64, weight: u64) {
        self.0 = add(self.0, mul(residue(amount), weight));
    }
}

/// The streaming recheck of a stored ledger; see the module's documentation for the protocol.
#[derive(Debug)]
pub struct Recheck {
    keys: std::collections::hash_map::RandomState,
    /// The multipliers of debits posted, credits posted, debits pending, credits pending.
    fields: [u64; 4],
    /// Each run's offices, until the runs are joined into `heads`.
    runs: Vec<HashMap<RegionCode, Run, super::Fast>>,
    joined: bool,
    heads: HashMap<RegionCode, Head, super::Fast>,
    cached: Fingerprint,
    journal: Fingerprint,
    entries: u64,
    accounts: u64,
    /// Posted and pending debits and credits over all accounts.
    debits: i64,
    credits: i64,
    /// The last resolution and reversal seen, to find a second one of the same transfer.
    last_resolved: Option<RecordId>,
    last_reversed: Option<RecordId>,
    /// Of the accounts found wrong so far, the first by id (accounts come in no order).
    wrong: Option<(RecordId, Violation)>,
    /// The first resolution of a transfer that is not its pending transfer's like.
    mismatch: Option<Violation>,
}

/// What the recheck found when every invariant holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rechecked {
    pub entries: u64,
    pub accounts: u64,
    pub chains: usize,
    /// Posted and pending debits, equal to credits.
    pub debits: Fen,
}

impl Default for Recheck {
    fn default() -> Self {
        Recheck::new()
    }
}

impl Recheck {
    /// A recheck with keys drawn at random.
    pub fn new() -> Recheck {
        let keys = std::collections::hash_map::RandomState::new();
        // Nonzero multipliers below P, from the same keys.
        let fields = [0u8, 1, 2, 3].map(|f| keys.hash_one((f, "field")) % (P - 1) + 1);
        Recheck {
            keys,
            fields,
            runs: Vec::new(),
            joined: false,
            heads: HashMap::default(),
            cached: Fingerprint::default(),
            journal: Fingerprint::default(),
            entries: 0,
            accounts: 0,
            debits: 0,
            credits: 0,
            last_resolved: None,
            last_reversed: None,
            wrong: None,
            mismatch: None,
        }
    }

    fn weight(&self, account: &RecordId) -> u64 {
        self.keys.hash_one(account.as_str()) % P
    }

    /// Keep `violation` if its account comes before the one found wrong so far; of one
    /// account, a cached balance that differs is named before an overdraft (as `verify` does).
    fn keep_wrong(&mut self, account: &RecordId, violation: Violation) {
        let cached = matches!(violation, Violation::CachedBalance { .. });
        if self
            .wrong
            .as_ref()
            .is_none_or(|(first, _)| account < first || (account == first && cached))
        {
            self.wrong = Some((account.clone(), violation));
        }
    }

    /// One account with its cached balances, in any order.
    pub fn account(&mut self, a: &Account) {
        self.accounts += 1;
        let w = self.weight(&a.id);
        let values = [
            a.debits_posted,
            a.credits_posted,
            a.debits_pending,
            a.credits_pending,
        ];
        for (value, field) in values.iter().zip(self.fields) {
            self.cached.add(value.get(), mul(w, field));
        }
        self.debits += a.debits_posted.get() + a.debits_pending.get();
        self.credits += a.credits_posted.get() + a.credits_pending.get();
        if !a.kind.may_overdraw() && a.available() < 0 {
            self.keep_wrong(&a.id, Violation::Overdrawn(a.id.clone()));
        }
    }

    /// One journal entry, in the store's order.
    pub fn entry(&mut self, r: &Recorded) -> Result<(), Violation> {
        self.entry_in(0, r)
    }

    /// One journal entry of run `run`: the store's order within each run, the runs in the
    /// order of their numbers (each run follows the one before it in the store's order).
    pub fn entry_in(&mut self, run: usize, r: &Recorded) -> Result<(), Violation> {
        let e = &r.entry;
        if chain_hash(&r.previous_hash, r.sequence, e) != r.hash {
            return Err(broken(r));
        }
        self.entries += 1;
        if self.runs.len() <= run {
            self.runs.resize_with(run + 1, HashMap::default);
        }
        match self.runs[run].get_mut(&e.office) {
            Some(head) => {
                head.entries += 1;
                if head.in_order && r.sequence == head.sequence + 1 && r.previous_hash == head.hash
                {
                    head.sequence = r.sequence;
                    head.hash = r.hash;
                } else {
                    head.in_order = false;
                }
            }
            None => {
                self.runs[run].insert(
                    e.office.clone(),
                    Run {
                        first_sequence: r.sequence,
                        first_previous: r.previous_hash,
                        sequence: r.sequence,
                        hash: r.hash,
                        in_order: true,
                        entries: 1,
                    },
                );
            }
        }
        // How the entry moves its two accounts: debit and credit, each posted and pending.
        let [dp, cp, dq, cq] = self.fields;
        let neg = |x: u64| (P - x) % P;
        let (on_debit, on_credit) = match e.phase {
            Phase::Single => (dp, cp),
            Phase::Pending => (dq, cq),
            Phase::Post(_) => (add(dp, neg(dq)), add(cp, neg(cq))),
            Phase::Void(_) => (neg(dq), neg(cq)),
        };
        let weight = add(
            mul(self.weight(&e.debit), on_debit),
            mul(self.weight(&e.credit), on_credit),
        );
        self.journal.add(e.amount.get(), weight);
        Ok(())
    }

    /// The offices whose entries did not come in sequence order, each set back to its start:
    /// the store hands each one's entries again, in sequence order, to
    /// [`Recheck::in_sequence`].
    pub fn reread(&mut self) -> Vec<RegionCode> {
        self.join_runs();
        let mut offices = Vec::new();
        for (office, head) in &mut self.heads {
            if !head.in_order {
                head.sequence = 0;
                head.hash = [0; 32];
                offices.push(office.clone());
            }
        }
        offices.sort();
        offices
    }

    /// Join the runs into one chain head per office: an office is in order when each run's
    /// entries of it are, and each run starts where the one before ended (the first at 1).
    fn join_runs(&mut self) {
        if self.joined {
            return;
        }
        self.joined = true;
        for run in std::mem::take(&mut self.runs) {
            for (office, run) in run {
                let head = self.heads.entry(office).or_insert(Head {
                    sequence: 0,
                    hash: [0; 32],
                    in_order: true,
                    entries: 0,
                    reread: 0,
                });
                head.in_order &= run.in_order
                    && run.first_sequence == head.sequence + 1
                    && run.first_previous == head.hash;
                head.sequence = run.sequence;
                head.hash = run.hash;
                head.entries += run.entries;
            }
        }
    }

    /// One entry of an office being read again, in sequence order.
    pub fn in_sequence(&mut self, r: &Recorded) -> Result<(), Violation> {
        let head = self
            .heads
            .get_mut(&r.entry.office)
            .filter(|h| !h.in_order)
            .ok_or_else(|| broken(r))?;
        let sequence = head.sequence + 1;
        if r.sequence != sequence
            || r.previous_hash != head.hash
            || chain_hash(&head.hash, sequence, &r.entry) != r.hash
        {
            return Err(broken(r));
        }
        head.sequence = sequence;
        head.hash = r.hash;
        head.reread += 1;
        Ok(())
    }

    /// A post or void of `pending` by `by`, with the amounts and accounts of both (`original`:
    /// the pending transfer as recorded, `None` when it does not exist); in order of `pending`.
    pub fn resolution(
        &mut self,
        pending: &RecordId,
        by: &Resolving,
        original: Option<&Resolving>,
    ) -> Result<(), Violation> {
        if self.last_resolved.as_ref() == Some(pending) {
            return Err(Violation::ResolvedTwice(pending.clone()));
        }
        self.last_resolved = Some(pending.clone());
        match original {
            Some(o)
                if o.phase == Phase::Pending
                    && o.amount == by.amount
                    && o.debit == by.debit
                    && o.credit == by.credit =>
            {
                Ok(())
            }
            // Named after the balances, as what follows from it shows in them first.
            _ => {
                self.mismatch.get_or_insert(Violation::ResolvesOther {
                    transfer: by.id.clone(),
                    pending: pending.clone(),
                });
                Ok(())
            }
        }
    }

    /// A reversal of `original` by `by`, in order of `original`.
    pub fn reversal(&mut self, original: &RecordId) -> Result<(), Violation> {
        if self.last_reversed.as_ref() == Some(original) {
            return Err(Violation::ReversedTwice(original.clone()));
        }
        self.last_reversed = Some(original.clone());
        Ok(())
    }

    /// Entries read in the pass over the journal.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// The cached balances and the journal disagree somewhere: the store then hands every
    /// account with the journal's sums to [`Recheck::balance`] to find where.
    pub fn balances_differ(&self) -> bool {
        self.cached != self.journal
    }

    /// An account with what the journal sums to for it: debits and credits posted, debits and
    /// credits pending.
    pub fn balance(&mut self, a: &Account, journal: [i64; 4]) {
        let cached = [
            ("debits_posted", a.debits_posted.get()),
            ("credits_posted", a.credits_posted.get()),
            ("debits_pending", a.debits_pending.get()),
            ("credits_pending", a.credits_pending.get()),
        ];
        if let Some(((field, cached), journal)) = cached
            .into_iter()
            .zip(journal)
            .find(|((_, cached), journal)| cached != journal)
        {
            self.keep_wrong(
                &a.id,
                Violation::CachedBalance {
                    account: a.id.clone(),
                    field,
                    cached,
                    journal,
                },
            );
        }
    }

    /// The verdict, once everything was handed over.
    pub fn finish(mut self) -> Result<Rechecked, Violation> {
        self.join_runs();
        if let Some((_, violation)) = self.wrong {
            return Err(violation);
        }
        if let Some(violation) = self.mismatch {
            return Err(violation);
        }
        let mut unchecked: Vec<_> = self
            .heads
            .iter()
            .filter(|(_, h)| !h.in_order && h.reread != h.entries)
            .map(|(office, _)| office.clone())
            .collect();
        unchecked.sort();
        if let Some(office) = unchecked.into_iter().next() {
            // Its entries came out of sequence order and were not all read again in order.
            return Err(Violation::ChainUnchecked(office));
        }
        if self.cached != self.journal {
            // The per-account sums were not read, or agreed where the fingerprints do not:
            // either way the balances cannot be vouched for.
            return Err(Violation::BalancesUnchecked);
        }
        if self.debits != self.credits {
            return Err(Violation::Unbalanced {
                debits: self.debits,
                credits: self.credits,
            });
        }
        Ok(Rechecked {
            entries: self.entries,
            accounts: self.accounts,
            chains: self.heads.len(),
            debits: Fen::new(self.debits),
        })
    }
}

/// What a resolution check reads of a transfer: its id, phase, amount and accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolving {
    pub id: RecordId,
    pub phase: Phase,
    pub amount: Fen,
    pub debit: RecordId,
    pub credit: RecordId,
}

fn broken(r: &Recorded) -> Violation {
    Violation::ChainBroken {
        office: r.entry.office.clone(),
        id: r.entry.id.clone(),
        sequence: r.sequence,
    }
}
