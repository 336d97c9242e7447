//! Stable matching for programs that collect preferences (experts ranking posts, posts ranking
//! experts): deferred acceptance with capacities, proposers proposing. Preferences may have
//! ties; they are broken by a seeded shuffle, and the seed is part of the answer so the run
//! can be repeated and logged. [`blocking_pairs`] checks the answer against the original
//! preferences, ties included (weak stability: a blocking pair must strictly prefer each
//! other).

use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::collections::{BinaryHeap, HashMap};

/// Preferences in tiers: `proposers[p]` lists, best tier first, the receivers `p` accepts,
/// each tier a set of equally good ones; `receivers[r]` likewise over proposers. A pair is
/// acceptable only when each lists the other. `capacity[r]` is how many `r` takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    pub proposers: Vec<Vec<Vec<usize>>>,
    pub receivers: Vec<Vec<Vec<usize>>>,
    pub capacity: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matching {
    /// Each proposer's receiver, if any.
    pub assigned: Vec<Option<usize>>,
    /// The seed that broke the ties.
    pub seed: u64,
}

/// Tier of every listed item, by owner.
fn tiers(lists: &[Vec<Vec<usize>>]) -> Vec<HashMap<usize, usize>> {
    lists
        .iter()
        .map(|list| {
            list.iter()
                .enumerate()
                .flat_map(|(tier, group)| group.iter().map(move |&x| (x, tier)))
                .collect()
        })
        .collect()
}

/// Flatten tiers into a strict order, shuffling within each tier by `rng`.
fn strict(list: &[Vec<usize>], rng: &mut rand_chacha::ChaCha8Rng) -> Vec<usize> {
    let mut out = Vec::new();
    for group in list {
        let mut group = group.clone();
        group.shuffle(rng);
        out.extend(group);
    }
    out
}

/// Deferred acceptance, proposer-proposing, ties broken by `seed`.
pub fn deferred_acceptance(prefs: &Preferences, seed: u64) -> Matching {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let order: Vec<Vec<usize>> = prefs
        .proposers
        .iter()
        .map(|l| strict(l, &mut rng))
        .collect();
    // A receiver's strict rank of each proposer it lists.
    let rank: Vec<HashMap<usize, usize>> = prefs
        .receivers
        .iter()
        .map(|l| {
            strict(l, &mut rng)
                .into_iter()
                .enumerate()
                .map(|(i, p)| (p, i))
                .collect()
        })
        .collect();
    let mut next = vec![0usize; order.len()];
    // Each receiver holds its best proposals so far, worst on top.
    let mut held: Vec<BinaryHeap<(usize, usize)>> = vec![BinaryHeap::new(); rank.len()];
    let mut free: Vec<usize> = (0..order.len()).rev().collect();
    while let Some(p) = free.pop() {
        while next[p] < order[p].len() {
            let r = order[p][next[p]];
            next[p] += 1;
            let Some(&rp) = rank.get(r).and_then(|ranks| ranks.get(&p)) else {
                continue; // r does not accept p
            };
            let capacity = prefs.capacity.get(r).copied().unwrap_or(0);
            if capacity == 0 {
                continue;
            }
            if held[r].len() < capacity {
                held[r].push((rp, p));
                break;
            }
            let &(worst, loser) = held[r].peek().expect("full means non-empty");
            if rp < worst {
                held[r].pop();
                held[r].push((rp, p));
                free.push(loser);
                break;
            }
        }
    }
    let mut assigned = vec![None; order.len()];
    for (r, heap) in held.iter().enumerate() {
        for &(_, p) in heap {
            assigned[p] = Some(r);
        }
    }
    Matching { assigned, seed }
}

/// Why a matching is not stable, or not a matching at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instability {
    /// `proposer` and `receiver` strictly prefer each other to what they have.
    Blocking { proposer: usize, receiver: usize },
    /// A proposer holds a receiver that does not accept it, or that it did not list.
    Unacceptable { proposer: usize, receiver: usize },
    /// A receiver holds more than its capacity.
    OverCapacity { receiver: usize },
}

/// Check `matching` against the original preferences; the first problem found, if any.
pub fn check(prefs: &Preferences, matching: &Matching) -> Result<(), Instability> {
    let proposer_tier = tiers(&prefs.proposers);
    let receiver_tier = tiers(&prefs.receivers);
    let mut load = vec![0usize; prefs.receivers.len()];
    for (p, r) in matching.assigned.iter().enumerate() {
        let Some(r) = *r else { continue };
        let (Some(_), Some(_)) = (
            proposer_tier.get(p).and_then(|m| m.get(&r)),
            receiver_tier.get(r).and_then(|m| m.get(&p)),
        ) else {
            return Err(Instability::Unacceptable {
                proposer: p,
                receiver: r,
            });
        };
        load[r] += 1;
        if load[r] > prefs.capacity.get(r).copied().unwrap_or(0) {
            return Err(Instability::OverCapacity { receiver: r });
        }
    }
    if let Some((proposer, receiver)) = blocking_pairs(prefs, matching).into_iter().next() {
        return Err(Instability::Blocking { proposer, receiver });
    }
    Ok(())
}

/// Every pair that strictly prefers each other to what it has: the proposer lists the receiver
/// in a better tier than its own match (or is unmatched), and the receiver has room or holds
/// someone in a worse tier than the proposer.
pub fn blocking_pairs(prefs: &Preferences, matching: &Matching) -> Vec<(usize, usize)> {
    let receiver_tier = tiers(&prefs.receivers);
    let mut load = vec![0usize; prefs.receivers.len()];
    let mut worst = vec![None::<usize>; prefs.receivers.len()];
    for (p, r) in matching.assigned.iter().enumerate() {
        if let Some(r) = *r
            && let Some(&t) = receiver_tier.get(r).and_then(|m| m.get(&p))
        {
            load[r] += 1;
            worst[r] = Some(worst[r].map_or(t, |w: usize| w.max(t)));
        }
    }
    let mut found = Vec::new();
    for (p, list) in prefs.proposers.iter().enumerate() {
        let current = matching.assigned.get(p).copied().flatten();
        for group in list {
            if current.is_some_and(|c| group.contains(&c)) {
                break; // the rest is no better than what p has
            }
            for &r in group {
                let Some(&t) = receiver_tier.get(r).and_then(|m| m.get(&p)) else {
                    continue;
                };
                let capacity = prefs.capacity.get(r).copied().unwrap_or(0);
                let wants = load[r] < capacity || worst[r].is_some_and(|w| t < w);
                if wants {
                    found.push((p, r));
                }
            }
        }
    }
    found
}
