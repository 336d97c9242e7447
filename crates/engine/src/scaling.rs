//! Cost scaling for large sparse assignment (100,000 × 100,000 with 20–50 candidates each):
//! the Goldberg–Kennedy line, in its double-push form (equivalently, Bertsekas' auction with
//! ε-scaling). Costs are multiplied by `n + 1`, so an ε-optimal assignment with ε = 1 is
//! optimal; each phase divides ε by [`ALPHA`] and refines from the previous prices.
//!
//! Its prices are ε-optimal, not exact, so the certificate is finished by repairing them to
//! exact potentials with label-correcting passes over the residual graph of the optimal
//! assignment (few, since the prices are already within one unit of the optimum).

use crate::assignment::{Assignment, AssignmentSolution};

/// How much ε shrinks per phase.
pub const ALPHA: i64 = 8;

/// Why cost scaling did not produce an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The two sides differ in size: cost scaling here solves square problems.
    NotSquare,
    /// Prices rose past any bound a perfect matching allows: there is none.
    NoPerfectMatching,
}

/// Solve a square sparse assignment; `Err` when it is not square or has no perfect matching
/// (the caller reports which nodes cannot be covered).
pub fn solve(problem: &Assignment) -> Result<AssignmentSolution, Refused> {
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
    // Arcs of each left node, contiguous (CSR), costs scaled by n + 1.
    let scale = n as i64 + 1;
    let mut start = vec![0usize; n + 1];
    for &(l, _, _) in &problem.arcs {
        start[l + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut target = vec![0u32; problem.arcs.len()];
    let mut cost = vec![0i64; problem.arcs.len()];
    let mut arc_id = vec![0u32; problem.arcs.len()];
    for (k, &(l, r, c)) in problem.arcs.iter().enumerate() {
        let at = fill[l];
        fill[l] += 1;
        target[at] = r as u32;
        cost[at] = c * scale;
        arc_id[at] = k as u32;
    }
    if (0..n).any(|i| start[i] == start[i + 1]) {
        return Err(Refused::NoPerfectMatching);
    }
    let (low, high) = cost
        .iter()
        .fold((i64::MAX, i64::MIN), |(lo, hi), &c| (lo.min(c), hi.max(c)));
    let range = (high - low).max(1);
    // Above this, a price proves that no perfect matching exists (a price can rise by at most
    // the cost range plus ε per left node on any augmenting path).
    let ceiling = (2 * n as i64 + 2).saturating_mul(range + scale);

    let mut price = vec![0i64; n];
    let mut owner = vec![u32::MAX; n]; // right → left
    let mut assigned = vec![u32::MAX; n]; // left → arc position
    let mut epsilon = range;
    let mut free: Vec<u32> = Vec::with_capacity(n);
    loop {
        epsilon = (epsilon / ALPHA).max(1);
        owner.fill(u32::MAX);
        assigned.fill(u32::MAX);
        free.clear();
        free.extend((0..n as u32).rev());
        while let Some(i) = free.pop() {
            let i = i as usize;
            // The best and second-best value c + p among i's arcs.
            let (mut best, mut second, mut at) = (i64::MAX, i64::MAX, usize::MAX);
            for a in start[i]..start[i + 1] {
                let value = cost[a] + price[target[a] as usize];
                if value < best {
                    second = best;
                    best = value;
                    at = a;
                } else if value < second {
                    second = value;
                }
            }
            let j = target[at] as usize;
            let raise = if second == i64::MAX {
                range + epsilon
            } else {
                second - best + epsilon
            };
            price[j] += raise;
            if price[j] > ceiling {
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
    // Exact potentials: start from the prices, scaled back, and correct labels until every
    // residual arc has a non-negative reduced cost. Residual arcs: unmatched i → j at c, matched
    // j → i at −c. Potentials: π(left i) = −u(i), π(right j) = v(j).
    let chosen: Vec<usize> = (0..n)
        .map(|i| arc_id[assigned[i] as usize] as usize)
        .collect();
    let mut v: Vec<i64> = price.iter().map(|p| p.div_euclid(scale)).collect();
    let mut pi_left: Vec<i64> = (0..n)
        .map(|i| {
            let (_, r, c) = problem.arcs[chosen[i]];
            v[r] - c
        })
        .collect();
    repair(
        problem,
        &start,
        &target,
        &arc_id,
        &chosen,
        &mut pi_left,
        &mut v,
    );
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

/// Label-correcting passes (a queue-based Bellman–Ford that starts from near-exact labels):
/// lower `v` and `π(left)` until `c + π(i) − v(j) ≥ 0` on every arc and `v(j) − c − π(i) ≥ 0`
/// on every chosen one. Terminates because an optimal assignment has no negative cycle.
fn repair(
    problem: &Assignment,
    start: &[usize],
    target: &[u32],
    arc_id: &[u32],
    chosen: &[usize],
    pi_left: &mut [i64],
    v: &mut [i64],
) {
    let n = pi_left.len();
    let mut owner = vec![usize::MAX; n];
    for (i, &k) in chosen.iter().enumerate() {
        owner[problem.arcs[k].1] = i;
    }
    // Queue of left nodes whose label dropped; a right node's drop is passed on at once to its
    // owner through the matched arc.
    let mut queued = vec![true; n];
    let mut queue: std::collections::VecDeque<usize> = (0..n).collect();
    while let Some(i) = queue.pop_front() {
        queued[i] = false;
        for a in start[i]..start[i + 1] {
            let j = target[a] as usize;
            let c = problem.arcs[arc_id[a] as usize].2;
            if c + pi_left[i] < v[j] {
                v[j] = c + pi_left[i];
                // The matched arc j → owner: π(owner) ≤ v(j) − c(owner, j).
                let o = owner[j];
                let co = problem.arcs[chosen[o]].2;
                if v[j] - co < pi_left[o] {
                    pi_left[o] = v[j] - co;
                    if !queued[o] {
                        queued[o] = true;
                        queue.push_back(o);
                    }
                }
            }
        }
    }
}
