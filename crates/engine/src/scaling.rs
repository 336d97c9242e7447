//! Cost scaling for large sparse assignment (100,000 × 100,000 with 20–50 candidates each):
//! the Goldberg–Kennedy line, in its double-push form (equivalently, Bertsekas' auction with
//! ε-scaling). Costs are multiplied by `n + 1`, so an ε-optimal assignment with ε = 1 is
//! optimal; each phase divides ε by [`ALPHA`] and refines from the previous prices.
//!
//! Its prices are ε-optimal, not exact, so the certificate is finished by one Dijkstra over
//! the residual graph of the optimal assignment, whose lengths the prices make non-negative
//! (see [`exact_duals`]).

use crate::assignment::{Assignment, AssignmentSolution};

/// How much ε shrinks per phase.
pub const ALPHA: i64 = 8;

/// Why cost scaling did not produce an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The two sides differ in size: cost scaling here solves square problems.
    NotSquare,
    /// A price rose past the bound a phase with a perfect matching keeps to: probably there
    /// is none (a maximum matching decides, then [`solve_matchable`] ignores the bound).
    NoPerfectMatching,
    /// A phase took far more bids than usual and no perfect matching was known to exist:
    /// check with a maximum matching, then call [`solve_matchable`].
    Suspect,
    /// Costs so spread that scaled prices could overflow 64 bits.
    TooCostly,
}

/// Solve a square sparse assignment; `Err` when it is not square or has no perfect matching
/// (the caller reports which nodes cannot be covered). A phase that runs past 100 bids per
/// node gives up with [`Refused::Suspect`]: that is how an infeasible problem shows, and
/// checking every problem up front would cost feasible ones a maximum matching each.
pub fn solve(problem: &Assignment) -> Result<AssignmentSolution, Refused> {
    run(problem, false)
}

/// [`solve`] for a problem known to have a perfect matching (a maximum matching said so): no
/// phase gives up, and the price bound is not kept.
pub fn solve_matchable(problem: &Assignment) -> Result<AssignmentSolution, Refused> {
    run(problem, true)
}

/// `proven`: a perfect matching is known to exist.
fn run(problem: &Assignment, proven: bool) -> Result<AssignmentSolution, Refused> {
    let n = problem.left;
    if n != problem.right {
        return Err(Refused::NotSquare);
    }
    if n == 0 {
        return Ok(AssignmentSolution {
            chosen: vec![],
            cost: 0,
            u: vec![],
            v: vec![],
        });
    }
    // Arcs of each left node, contiguous (CSR): each with its right node and its cost less the
    // lowest, packed in one row (half the memory a bid reads when the costs span under 2³²).
    let scale = n as i64 + 1;
    let (start, order) = problem.by_left();
    if (0..n).any(|i| start[i] == start[i + 1]) {
        return Err(Refused::NoPerfectMatching);
    }
    let (low, high) = problem
        .arcs
        .iter()
        .fold((i64::MAX, i64::MIN), |(lo, hi), a| {
            (lo.min(a.2), hi.max(a.2))
        });
    let spread = i128::from(high) - i128::from(low);
    if spread * i128::from(scale) * (2 * n as i128 + 4) > i128::from(i64::MAX / 2) {
        return Err(Refused::TooCostly);
    }
    let solved = match packed::<u32>(problem, &order, low) {
        Some(rows) => auction(&start, &rows, high - low, scale, proven)?,
        None => {
            let rows = packed::<u64>(problem, &order, low).expect("a spread within i64 fits u64");
            auction(&start, &rows, high - low, scale, proven)?
        }
    };
    let chosen: Vec<usize> = solved.assigned.iter().map(|&a| order[a as usize]).collect();
    let v = solved.v;
    let u: Vec<i64> = (0..n)
        .map(|i| {
            let (_, r, c) = problem.arcs[chosen[i]];
            c - v[r]
        })
        .collect();
    let total = chosen.iter().map(|&k| i128::from(problem.arcs[k].2)).sum();
    Ok(AssignmentSolution {
        chosen,
        cost: total,
        u,
        v,
    })
}

/// The arcs in `order`, each as (right node, cost − `low`), when every cost so fits `C`.
fn packed<C: TryFrom<i64>>(
    problem: &Assignment,
    order: &[usize],
    low: i64,
) -> Option<Vec<(u32, C)>> {
    order
        .iter()
        .map(|&k| {
            let (_, r, c) = problem.arcs[k];
            Some((r as u32, C::try_from(c - low).ok()?))
        })
        .collect()
}

/// An auction's answer: each left node's arc position, and exact duals of the right nodes
/// (in costs less the lowest).
struct Auctioned {
    assigned: Vec<u32>,
    v: Vec<i64>,
}

/// The ε-scaling auction over packed rows `(right node, cost − lowest)`.
fn auction<C: Copy + Into<u64>>(
    start: &[usize],
    rows: &[(u32, C)],
    spread: i64,
    scale: i64,
    proven: bool,
) -> Result<Auctioned, Refused> {
    let n = start.len() - 1;
    let range = spread.max(1) * scale;
    // Above this within a phase, a price suggests that no perfect matching exists (a price can
    // rise by at most the cost range plus ε per left node on any augmenting path).
    let ceiling = (2 * n as i64 + 2).saturating_mul(range + scale);

    let mut price = vec![0i64; n];
    let mut owner = vec![u32::MAX; n]; // right → left
    let mut assigned = vec![u32::MAX; n]; // left → arc position
    let mut epsilon = range;
    let mut free: Vec<u32> = Vec::with_capacity(n);
    let patience = if proven {
        u64::MAX
    } else {
        100 * n as u64 + 10_000
    };
    loop {
        let mut bids = 0u64;
        epsilon = (epsilon / ALPHA).max(1);
        owner.fill(u32::MAX);
        assigned.fill(u32::MAX);
        free.clear();
        free.extend((0..n as u32).rev());
        while let Some(i) = free.pop() {
            bids += 1;
            if bids > patience {
                return Err(Refused::Suspect);
            }
            let i = i as usize;
            // The best and second-best value c + p among i's arcs.
            let (best, second, at) = best_two(start[i]..start[i + 1], rows, scale, &price);
            let j = rows[at].0 as usize;
            let raise = if second == i64::MAX {
                range + epsilon
            } else {
                second - best + epsilon
            };
            price[j] += raise;
            // Once a perfect matching is known to exist the auction ends; the bound is only a
            // cheap early sign of infeasibility (prices also carry over from phase to phase, so
            // a feasible problem can pass it).
            if !proven && price[j] > ceiling {
                return Err(Refused::NoPerfectMatching);
            }
            let previous = owner[j];
            owner[j] = i as u32;
            assigned[i] = at as u32;
            if previous != u32::MAX {
                assigned[previous as usize] = u32::MAX;
                free.push(previous);
            }
        }
        if epsilon == 1 {
            break;
        }
    }
    let v = exact_duals(start, rows, &assigned, &owner, &price, scale);
    Ok(Auctioned { assigned, v })
}

/// A packed arc's value to its left node: scaled cost plus its right node's price.
#[inline(always)]
fn value<C: Copy + Into<u64>>(arc: (u32, C), scale: i64, price: &[i64]) -> i64 {
    arc.1.into() as i64 * scale + price[arc.0 as usize]
}

/// The best value c + p, the second best (`i64::MAX` if none) and the best arc among `arcs`.
#[inline]
fn best_two<C: Copy + Into<u64>>(
    arcs: std::ops::Range<usize>,
    rows: &[(u32, C)],
    scale: i64,
    price: &[i64],
) -> (i64, i64, usize) {
    let (mut best, mut second, mut at) = (i64::MAX, i64::MAX, usize::MAX);
    let first = arcs.start;
    for (k, &arc) in rows[arcs].iter().enumerate() {
        let value = value(arc, scale, price);
        if value < best {
            second = best;
            best = value;
            at = first + k;
        } else if value < second {
            second = value;
        }
    }
    (best, second, at)
}

/// Exact duals from ε-optimal prices (ε = 1 on costs scaled by `S = n + 1`): shortest
/// distances `D(j)` over right nodes, where owner `i` of `j` leads on to each `j'` it has an arc
/// to at `c(i, j') − c(i, j)`, from a root joined to every node at 0. Reduced by the prices
/// plus one per edge, every length is non-negative (ε-optimality), so Dijkstra applies; and
/// because a path has fewer than `S` edges, the scaled distance divided by `S` is exact.
fn exact_duals<C: Copy + Into<u64>>(
    start: &[usize],
    rows: &[(u32, C)],
    assigned: &[u32],
    owner: &[u32],
    price: &[i64],
    scale: i64,
) -> Vec<i64> {
    use std::cmp::Reverse;
    let n = price.len();
    let lowest = price.iter().copied().min().unwrap_or(0);
    let mut dist: Vec<i64> = price.iter().map(|p| p - lowest).collect();
    let mut done = vec![false; n];
    // Every node starts at its own distance from the root; few are improved on. So the queue is
    // the nodes sorted once by their starting distance, merged with a heap of the improved.
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by_key(|&j| dist[j as usize]);
    let mut order = order.into_iter().peekable();
    let mut heap: std::collections::BinaryHeap<Reverse<(i64, u32)>> =
        std::collections::BinaryHeap::new();
    loop {
        let from_heap = match (heap.peek(), order.peek()) {
            (Some(&Reverse((d, _))), Some(&j)) => d < dist[j as usize],
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let (d, j) = if from_heap {
            let Some(Reverse((d, j))) = heap.pop() else {
                break;
            };
            (d, j as usize)
        } else {
            let Some(j) = order.next() else { break };
            (dist[j as usize], j as usize)
        };
        if done[j] || d != dist[j] {
            continue;
        }
        done[j] = true;
        let i = owner[j] as usize;
        let here = value(rows[assigned[i] as usize], scale, price);
        for &arc in &rows[start[i]..start[i + 1]] {
            let next = arc.0 as usize;
            if done[next] {
                continue;
            }
            // Non-negative by ε-optimality; clamped so that a bug shows in the certificate
            // check instead of breaking Dijkstra.
            let length = (value(arc, scale, price) - here + 1).max(0);
            if d + length < dist[next] {
                dist[next] = d + length;
                heap.push(Reverse((d + length, next as u32)));
            }
        }
    }
    (0..n)
        .map(|j| (dist[j] - price[j] + lowest).div_euclid(scale))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_too_spread_for_64_bit_prices_are_declined() {
        let problem = Assignment {
            left: 2,
            right: 2,
            arcs: vec![
                (0, 0, i64::MIN / 2),
                (0, 1, 0),
                (1, 0, 0),
                (1, 1, i64::MAX / 2),
            ],
        };
        assert_eq!(solve(&problem).err(), Some(Refused::TooCostly));
    }
}
