//! The ledger against a plain model: random command sequences, every answer compared with the
//! model's, every invariant rechecked after every step.

use counterpart_domain::ledger::{
    Account, AccountKind, Applied, Entry, Ledger, LedgerError, Phase, Violation, project_account,
    source_account,
};
use counterpart_domain::project::TransferKind;
use counterpart_domain::{Currency, Date, Fen, RecordId, RegionCode, Year};
use proptest::prelude::*;
use std::collections::HashSet;

fn id(s: &str) -> RecordId {
    RecordId::parse(s).unwrap()
}

const ACCOUNTS: [(&str, AccountKind); 5] = [
    ("source", AccountKind::Source),
    ("committed-a", AccountKind::Committed),
    ("committed-b", AccountKind::Committed),
    ("disbursed", AccountKind::Disbursed),
    ("spent", AccountKind::Spent),
];

fn ledger() -> Ledger {
    let mut ledger = Ledger::default();
    for (name, kind) in ACCOUNTS {
        ledger.open_account(Account::new(id(name), kind, Currency::CNY));
    }
    ledger
}

#[allow(clippy::too_many_arguments)] // a test helper that names every field of an entry
fn entry(
    n: u8,
    debit: usize,
    credit: usize,
    amount: i64,
    phase: Phase,
    kind: TransferKind,
    corrects: Option<u8>,
    year: i16,
) -> Entry {
    Entry {
        id: id(&format!("t{n}")),
        debit: id(ACCOUNTS[debit].0),
        credit: id(ACCOUNTS[credit].0),
        amount: Fen::new(amount),
        currency: Currency::CNY,
        kind,
        value_date: Date::new(year, 6, 1).unwrap(),
        phase,
        corrects: corrects.map(|c| id(&format!("t{c}"))),
        corrects_year: None,
        office: RegionCode::parse(if n.is_multiple_of(2) {
            "beijing"
        } else {
            "shanghai"
        })
        .unwrap(),
        recorded_by: "office".into(),
    }
}

/// The model: the accepted entries, and every rule restated as simply as it can be.
#[derive(Default)]
struct Model {
    accepted: Vec<Entry>,
    closed: HashSet<i16>,
}

impl Model {
    fn find(&self, id: &RecordId) -> Option<&Entry> {
        self.accepted.iter().find(|e| &e.id == id)
    }

    /// (debits posted, credits posted, debits pending, credits pending) of an account.
    fn sums(&self, account: &RecordId) -> [i64; 4] {
        let mut s = [0i64; 4];
        for e in &self.accepted {
            let (posted, pending) = match &e.phase {
                Phase::Single => (e.amount.get(), 0),
                Phase::Pending => (0, e.amount.get()),
                Phase::Post(_) => (e.amount.get(), -e.amount.get()),
                Phase::Void(_) => (0, -e.amount.get()),
            };
            if &e.debit == account {
                s[0] += posted;
                s[2] += pending;
            }
            if &e.credit == account {
                s[1] += posted;
                s[3] += pending;
            }
        }
        s
    }

    fn expect(&self, e: &Entry) -> Result<bool, &'static str> {
        if let Some(first) = self.find(&e.id) {
            return if first == e {
                Ok(false)
            } else {
                Err("id_reused")
            };
        }
        if let Phase::Post(p) | Phase::Void(p) = &e.phase {
            let Some(pending) = self.find(p) else {
                return Err("pending_not_found");
            };
            if pending.phase != Phase::Pending {
                return Err("not_pending");
            }
            let resolved = self
                .accepted
                .iter()
                .any(|x| matches!(&x.phase, Phase::Post(q) | Phase::Void(q) if q == p));
            if resolved {
                return Err("pending_already_resolved");
            }
            if pending.debit != e.debit || pending.credit != e.credit || pending.amount != e.amount
            {
                return Err("id_reused");
            }
        }
        if e.debit == e.credit {
            return Err("same_account");
        }
        if e.amount.get() <= 0 {
            return Err("zero_amount");
        }
        if self.closed.contains(&e.value_date.year()) {
            return Err("period_closed");
        }
        match (&e.corrects, e.kind) {
            (None, TransferKind::Reversal | TransferKind::Adjustment) => {
                return Err("correction_without_original");
            }
            (Some(c), kind) => {
                let Some(original) = self.find(c) else {
                    return Err("corrects_not_found");
                };
                if kind == TransferKind::Reversal {
                    if self
                        .accepted
                        .iter()
                        .any(|x| x.kind == TransferKind::Reversal && x.corrects.as_ref() == Some(c))
                    {
                        return Err("already_reversed");
                    }
                    if original.debit != e.credit
                        || original.credit != e.debit
                        || original.amount != e.amount
                    {
                        return Err("reversal_mismatch");
                    }
                }
            }
            _ => {}
        }
        let constrained = ACCOUNTS
            .iter()
            .any(|(n, k)| *n == e.debit.as_str() && !k.may_overdraw());
        if constrained && matches!(e.phase, Phase::Single | Phase::Pending) {
            let s = self.sums(&e.debit);
            if s[1] - s[0] - s[2] < e.amount.get() {
                return Err("overdraft");
            }
        }
        Ok(true)
    }
}

fn command() -> impl Strategy<Value = (u8, usize, usize, i64, u8, u8, u8, bool, bool)> {
    (
        0u8..14,
        0usize..5,
        0usize..5,
        0i64..60,
        0u8..10,
        0u8..14,
        0u8..6,
        any::<bool>(),
        any::<bool>(),
    )
}

fn build(c: (u8, usize, usize, i64, u8, u8, u8, bool, bool), model: &Model) -> Entry {
    let (n, debit, credit, amount, phase, other, kind, old_year, _) = c;
    let other_id = id(&format!("t{other}"));
    let phase = match phase {
        0..=5 => Phase::Single,
        6 | 7 => Phase::Pending,
        8 => Phase::Post(other_id.clone()),
        _ => Phase::Void(other_id.clone()),
    };
    // Resolutions copy their pending transfer's accounts and amount when there is one, so that
    // most of them are valid.
    let (debit, credit, amount) = match (&phase, model.find(&other_id)) {
        (Phase::Post(_) | Phase::Void(_), Some(p)) => (
            ACCOUNTS
                .iter()
                .position(|a| a.0 == p.debit.as_str())
                .unwrap(),
            ACCOUNTS
                .iter()
                .position(|a| a.0 == p.credit.as_str())
                .unwrap(),
            p.amount.get(),
        ),
        _ => (debit, credit, amount),
    };
    let (kind, corrects) = match kind {
        0 => (TransferKind::Commit, None),
        1 => (TransferKind::Disburse, None),
        2 => (TransferKind::Spend, None),
        3 => (TransferKind::Adjustment, Some(other)),
        _ => (TransferKind::Reversal, Some(other)),
    };
    // Reversals mostly mirror their original, so that most of them are valid.
    let (debit, credit, amount) = match (kind, model.find(&other_id)) {
        (TransferKind::Reversal, Some(o)) if c.8 => (
            ACCOUNTS
                .iter()
                .position(|a| a.0 == o.credit.as_str())
                .unwrap(),
            ACCOUNTS
                .iter()
                .position(|a| a.0 == o.debit.as_str())
                .unwrap(),
            o.amount.get(),
        ),
        _ => (debit, credit, amount),
    };
    let phase = if kind == TransferKind::Reversal {
        Phase::Single
    } else {
        phase
    };
    entry(
        n,
        debit,
        credit,
        amount,
        phase,
        kind,
        corrects,
        if old_year { 2019 } else { 2020 },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_ledger_agrees_with_the_model(commands in prop::collection::vec(command(), 1..60), close_at in 0usize..60) {
        let mut ledger = ledger();
        let mut model = Model::default();
        for (step, c) in commands.into_iter().enumerate() {
            if step == close_at {
                ledger.close_year(Year::new(2019).unwrap());
                model.closed.insert(2019);
            }
            let e = build(c, &model);
            let expected = model.expect(&e);
            let got = ledger.apply(e.clone());
            match (&expected, &got) {
                (Ok(true), Ok(Applied::Created(_))) => model.accepted.push(e),
                (Ok(false), Ok(Applied::Duplicate(first))) => prop_assert_eq!(&first.entry, &e),
                (Err(code), Err(err)) => prop_assert_eq!(*code, err.code(), "{}", err),
                _ => prop_assert!(false, "step {step}: model {expected:?}, ledger {got:?} for {e:?}"),
            }
            prop_assert_eq!(ledger.verify(), Ok(()));
            for (name, _) in ACCOUNTS {
                let account = &ledger.accounts[&id(name)];
                let s = model.sums(&account.id);
                prop_assert_eq!([account.debits_posted.get(), account.credits_posted.get(), account.debits_pending.get(), account.credits_pending.get()], s);
            }
        }
    }
}

fn commit(n: u8, amount: i64) -> Entry {
    entry(
        n,
        0,
        1,
        amount,
        Phase::Single,
        TransferKind::Commit,
        None,
        2020,
    )
}

#[test]
fn the_flow_of_a_project_keeps_disbursed_within_committed() {
    let mut l = ledger();
    l.apply(commit(1, 100)).unwrap();
    let disburse = |n, amount| {
        entry(
            n,
            1,
            3,
            amount,
            Phase::Single,
            TransferKind::Disburse,
            None,
            2020,
        )
    };
    l.apply(disburse(2, 80)).unwrap();
    let err = l.apply(disburse(3, 21)).unwrap_err();
    assert_eq!(err.code(), "overdraft");
    assert_eq!(
        err.to_string(),
        "account committed-a would be overdrawn: 0.20 yuan available, 0.21 yuan asked"
    );
    let spend = entry(4, 3, 4, 81, Phase::Single, TransferKind::Spend, None, 2020);
    assert_eq!(
        l.apply(spend).unwrap_err().code(),
        "overdraft",
        "spent ≤ disbursed"
    );
    assert_eq!(l.accounts[&id("disbursed")].balance(), 80);
    assert_eq!(
        l.accounts[&id("source")].balance(),
        -100,
        "the source may go below zero"
    );
}

#[test]
fn a_retry_has_one_effect_and_a_changed_retry_names_the_field() {
    let mut l = ledger();
    let first = l.apply(commit(1, 100)).unwrap();
    let Applied::Created(recorded) = first else {
        panic!()
    };
    assert_eq!(
        l.apply(commit(1, 100)).unwrap(),
        Applied::Duplicate(recorded)
    );
    assert_eq!(l.accounts[&id("committed-a")].balance(), 100);
    let err = l.apply(commit(1, 99)).unwrap_err();
    assert_eq!(
        err,
        LedgerError::IdReusedWithDifferentContent {
            id: id("t1"),
            field: "amount"
        }
    );
}

#[test]
fn two_phase_transfers_resolve_once() {
    let mut l = ledger();
    l.apply(commit(1, 100)).unwrap();
    let pending = entry(
        2,
        1,
        3,
        60,
        Phase::Pending,
        TransferKind::Disburse,
        None,
        2020,
    );
    l.apply(pending).unwrap();
    assert_eq!(
        l.accounts[&id("committed-a")].available(),
        40,
        "a pending debit reserves"
    );
    assert_eq!(
        l.apply(entry(
            3,
            1,
            3,
            50,
            Phase::Single,
            TransferKind::Disburse,
            None,
            2020
        ))
        .unwrap_err()
        .code(),
        "overdraft"
    );
    l.apply(entry(
        4,
        1,
        3,
        60,
        Phase::Post(id("t2")),
        TransferKind::Disburse,
        None,
        2020,
    ))
    .unwrap();
    assert_eq!(l.accounts[&id("disbursed")].balance(), 60);
    let again = l
        .apply(entry(
            5,
            1,
            3,
            60,
            Phase::Void(id("t2")),
            TransferKind::Disburse,
            None,
            2020,
        ))
        .unwrap_err();
    assert_eq!(again.code(), "pending_already_resolved");
    assert_eq!(l.verify(), Ok(()));
}

#[test]
fn a_transfer_is_reversed_at_most_once_and_closed_years_take_no_postings() {
    let mut l = ledger();
    l.apply(commit(1, 100)).unwrap();
    let reversal = |n| {
        entry(
            n,
            1,
            0,
            100,
            Phase::Single,
            TransferKind::Reversal,
            Some(1),
            2020,
        )
    };
    l.apply(reversal(2)).unwrap();
    assert_eq!(l.apply(reversal(3)).unwrap_err().code(), "already_reversed");
    assert_eq!(l.accounts[&id("committed-a")].balance(), 0);
    l.close_year(Year::new(2019).unwrap());
    let old = entry(4, 0, 1, 5, Phase::Single, TransferKind::Commit, None, 2019);
    assert_eq!(l.apply(old).unwrap_err().code(), "period_closed");
    // The correction goes into the open year, tagged with the year it corrects.
    let mut correction = entry(
        5,
        0,
        1,
        5,
        Phase::Single,
        TransferKind::Adjustment,
        Some(1),
        2020,
    );
    correction.corrects_year = Some(Year::new(2019).unwrap());
    l.apply(correction).unwrap();
}

#[test]
fn verify_names_tampering() {
    let mut l = ledger();
    l.apply(commit(1, 100)).unwrap();
    l.apply(commit(3, 50)).unwrap();
    let mut edited = l.clone();
    edited.journal[0].entry.amount = Fen::new(1);
    assert!(
        matches!(
            edited.verify(),
            Err(Violation::ChainBroken { sequence: 1, .. })
        ),
        "{:?}",
        edited.verify()
    );
    let mut deleted = l.clone();
    deleted.journal.remove(0);
    assert!(matches!(
        deleted.verify(),
        Err(Violation::ChainBroken { .. })
    ));
    let mut cached = l.clone();
    cached
        .accounts
        .get_mut(&id("committed-a"))
        .unwrap()
        .credits_posted = Fen::new(7);
    assert!(matches!(
        cached.verify(),
        Err(Violation::CachedBalance {
            field: "credits_posted",
            ..
        })
    ));
    // Every account's cached balance off: the violation named is that of the first account
    // by id, whatever order the accounts are held in.
    let mut all = l.clone();
    for account in all.accounts.values_mut() {
        account.credits_posted = Fen::new(account.credits_posted.get() + 7);
    }
    let first = l.accounts.keys().min().unwrap().clone();
    assert!(
        matches!(&all.verify(), Err(Violation::CachedBalance { account, .. }) if *account == first),
        "{:?}",
        all.verify()
    );
}

#[test]
fn a_date_outside_any_program_is_its_own_refusal() {
    let mut l = ledger();
    let far = entry(1, 0, 1, 5, Phase::Single, TransferKind::Commit, None, 2200);
    let err = l.apply(far).unwrap_err();
    assert_eq!(err.code(), "date_out_of_range");
    assert_eq!(
        err.to_string(),
        "2200-06-01 lies outside the years a program can have (1949–2100)"
    );
}

proptest! {
    /// Sorting by (prefix, id) is sorting by id: loads sort a million account ids so.
    #[test]
    fn id_prefixes_order_as_ids_do(
        stem in "[A-Za-z0-9._:-]{1,10}",
        a in "[A-Za-z0-9._:-]{0,4}",
        b in "[A-Za-z0-9._:-]{0,4}",
    ) {
        // A shared stem makes ties and near-ties of the prefixes common.
        let a = RecordId::parse(&format!("{stem}{a}")).unwrap();
        let b = RecordId::parse(&format!("{stem}{b}")).unwrap();
        prop_assert_eq!((a.prefix(), &a).cmp(&(b.prefix(), &b)), a.cmp(&b));
    }

    /// Account ids are built by hand on the booking path: they are the ids the documented
    /// patterns name (`source.PROVIDER.YEAR`, `PROJECT.KIND`), and valid ids.
    #[test]
    fn account_ids_follow_their_patterns(
        provider in "[a-z0-9][a-z0-9._-]{0,63}",
        year in Year::MIN..=Year::MAX,
        project in "[A-Za-z0-9._:-]{1,128}",
    ) {
        let provider = RegionCode::parse(&provider).unwrap();
        let year = Year::new(year).unwrap();
        let source = source_account(&provider, year);
        prop_assert_eq!(source.as_str(), format!("source.{provider}.{year}"));
        prop_assert_eq!(RecordId::parse(source.as_str()).unwrap(), source.clone());
        let project = RecordId::parse(&project).unwrap();
        for kind in [AccountKind::Committed, AccountKind::Disbursed, AccountKind::Spent] {
            let account = project_account(&project, kind);
            let expected = format!("{project}.{}", kind.code());
            match RecordId::parse(&expected) {
                Ok(valid) => prop_assert_eq!(&account, &valid),
                // Too long to be an id: the project's own id stands for it.
                Err(_) => prop_assert_eq!(&account, &project),
            }
        }
    }
}

/// The streaming recheck driven as a store drives it, over a ledger held in memory: accounts,
/// then the journal in `order` (indexes into it), offices out of order read again in sequence
/// order, resolutions and reversals sorted, and the journal's per-account sums when the
/// fingerprints differ.
fn recheck(
    ledger: &Ledger,
    order: &[usize],
    split: (usize, u64),
) -> Result<counterpart_domain::ledger::recheck::Rechecked, Violation> {
    use counterpart_domain::ledger::recheck::{Recheck, Resolving};
    let mut r = Recheck::new();
    let mut accounts: Vec<_> = ledger.accounts.values().collect();
    accounts.sort_by(|a, b| b.id.cmp(&a.id)); // any order
    for a in &accounts {
        r.account(a);
    }
    // The journal in two runs, `order[..at]` and `order[at..]`, read side by side: their
    // entries interleaved as `mix` says, each run's in its own order.
    let (at, mut mix) = split;
    let at = at.min(order.len());
    let (mut first, mut second) = (order[..at].iter(), order[at..].iter());
    loop {
        mix = mix
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let (run, next) = match (mix >> 63 == 0, first.len(), second.len()) {
            (_, 0, 0) => break,
            (true, 1.., _) | (_, 1.., 0) => (0, first.next()),
            _ => (1, second.next()),
        };
        let e = &ledger.journal[*next.unwrap()];
        for account in [&e.entry.debit, &e.entry.credit] {
            if !ledger.accounts.contains_key(account) {
                return Err(Violation::UnknownAccount(e.entry.id.clone()));
            }
        }
        r.entry_in(run, e)?;
    }
    for office in r.reread() {
        let mut of: Vec<_> = order
            .iter()
            .map(|&i| &ledger.journal[i])
            .filter(|e| e.entry.office == office)
            .collect();
        of.sort_by_key(|e| e.sequence);
        for e in of {
            r.in_sequence(e)?;
        }
    }
    let resolving = |e: &Entry| Resolving {
        id: e.id.clone(),
        phase: e.phase.clone(),
        amount: e.amount,
        debit: e.debit.clone(),
        credit: e.credit.clone(),
    };
    let present: Vec<&Entry> = order.iter().map(|&i| &ledger.journal[i].entry).collect();
    let mut resolutions: Vec<&Entry> = present
        .iter()
        .copied()
        .filter(|e| e.phase.pending().is_some())
        .collect();
    resolutions.sort_by(|a, b| (a.phase.pending(), &a.id).cmp(&(b.phase.pending(), &b.id)));
    for e in resolutions {
        let p = e.phase.pending().unwrap();
        let original = present.iter().find(|o| &o.id == p).map(|o| resolving(o));
        r.resolution(p, &resolving(e), original.as_ref())?;
    }
    let mut reversed: Vec<&RecordId> = present
        .iter()
        .filter(|e| e.kind == TransferKind::Reversal)
        .filter_map(|e| e.corrects.as_ref())
        .collect();
    reversed.sort();
    for o in reversed {
        r.reversal(o)?;
    }
    if r.balances_differ() {
        for a in &accounts {
            let mut s = [0i64; 4];
            for e in &present {
                let (posted, pending) = match &e.phase {
                    Phase::Single => (e.amount.get(), 0),
                    Phase::Pending => (0, e.amount.get()),
                    Phase::Post(_) => (e.amount.get(), -e.amount.get()),
                    Phase::Void(_) => (0, -e.amount.get()),
                };
                if e.debit == a.id {
                    s[0] += posted;
                    s[2] += pending;
                }
                if e.credit == a.id {
                    s[1] += posted;
                    s[3] += pending;
                }
            }
            r.balance(a, s);
        }
    }
    r.finish()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The streaming recheck passes exactly the ledgers the in-memory verify passes, in any
    /// order the store hands the journal over, and names the same broken balance: over
    /// random ledgers, untouched or tampered with one way.
    #[test]
    fn the_streaming_recheck_agrees_with_verify(
        commands in prop::collection::vec(command(), 1..40),
        tamper in 0u8..8,
        at in any::<prop::sample::Index>(),
        by in 1i64..50,
        shuffle in any::<u64>(),
        split in (0usize..50, any::<u64>()),
    ) {
        let mut ledger = ledger();
        let mut model = Model::default();
        for c in commands {
            let e = build(c, &model);
            if let (Ok(true), Ok(_)) = (model.expect(&e), ledger.apply(e.clone())) {
                model.accepted.push(e);
            }
        }
        let n = ledger.journal.len();
        let mut order: Vec<usize> = (0..n).collect();
        if n > 0 {
            let i = at.index(n);
            match tamper {
                // An amount edited.
                1 => ledger.journal[i].entry.amount = Fen::new(ledger.journal[i].entry.amount.get() + by),
                // A cached balance edited.
                2 => {
                    let name = ACCOUNTS[i % ACCOUNTS.len()].0;
                    let a = ledger.accounts.get_mut(&id(name)).unwrap();
                    a.debits_pending = Fen::new(a.debits_pending.get() + by);
                }
                // An entry deleted.
                3 => { order.remove(i); }
                // An entry handed over twice.
                4 => order.push(i),
                // A sequence number edited.
                5 => ledger.journal[i].sequence += by as u64,
                // An entry deleted and the cached balances made to match what is left: only
                // the chain shows it.
                6 => {
                    order.remove(i);
                    let left: Vec<Entry> = order.iter().map(|&k| ledger.journal[k].entry.clone()).collect();
                    let model = Model { accepted: left, ..Model::default() };
                    for a in ledger.accounts.values_mut() {
                        let [dp, cp, dq, cq] = model.sums(&a.id);
                        if [dp, cp, dq, cq].iter().any(|v| *v < 0) {
                            continue; // a resolution left without its pending transfer
                        }
                        a.debits_posted = Fen::new(dp);
                        a.credits_posted = Fen::new(cp);
                        a.debits_pending = Fen::new(dq);
                        a.credits_pending = Fen::new(cq);
                    }
                }
                _ => {}
            }
        }
        // The store's order need not be the chain's: shuffle sometimes.
        if shuffle % 3 == 0 {
            let mut s = shuffle;
            for k in (1..order.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                order.swap(k, (s >> 33) as usize % (k + 1));
            }
        }
        // The in-memory verify reads the journal as the stores always handed it over: by office
        // and sequence.
        let mut journal: Vec<_> = order.iter().map(|&i| ledger.journal[i].clone()).collect();
        journal.sort_by(|a, b| (&a.entry.office, a.sequence).cmp(&(&b.entry.office, b.sequence)));
        let expected = counterpart_domain::ledger::verify(&ledger.accounts, &journal);
        let got = recheck(&ledger, &order, split);
        prop_assert_eq!(got.is_ok(), expected.is_ok(), "recheck {:?}, verify {:?}", got, expected);
        if let Err(Violation::CachedBalance { account, field, .. }) = &expected {
            prop_assert!(
                matches!(&got, Err(Violation::CachedBalance { account: a, field: f, .. }) if a == account && f == field),
                "{:?} against {:?}", got, expected
            );
        }
        if let Ok(done) = got {
            prop_assert_eq!(done.entries as usize, order.len());
            let debits: i64 = ledger.accounts.values().map(|a| a.debits_posted.get() + a.debits_pending.get()).sum();
            prop_assert_eq!(done.debits.get(), debits);
        }
    }
}

/// An office whose entries came out of sequence order is vouched for only once they were all
/// read again in order.
#[test]
fn an_office_out_of_order_must_be_read_again() {
    use counterpart_domain::ledger::recheck::Recheck;
    let mut l = ledger();
    l.apply(commit(2, 100)).unwrap();
    l.apply(commit(4, 50)).unwrap();
    let run = |reread: usize| {
        let mut r = Recheck::new();
        for a in l.accounts.values() {
            r.account(a);
        }
        r.entry(&l.journal[1]).unwrap();
        r.entry(&l.journal[0]).unwrap();
        assert_eq!(r.reread(), vec![RegionCode::parse("beijing").unwrap()]);
        for e in l.journal.iter().take(reread) {
            r.in_sequence(e).unwrap();
        }
        r.finish()
    };
    assert_eq!(
        run(1),
        Err(Violation::ChainUnchecked(
            RegionCode::parse("beijing").unwrap()
        ))
    );
    assert_eq!(run(2).map(|done| done.chains), Ok(1));
}
