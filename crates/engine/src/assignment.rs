//! Assignment: match every left node (a recipient, an expert, a village) to a distinct right
//! node (a provider, a post, a firm) along the given arcs at least total cost.
//!
//! The certificate is a pair of duals, `u` per left node and `v` per right node, with every
//! arc's reduced cost `c − u − v` ≥ 0, zero on the chosen arcs, and every matched right node's
//! `v` at most every unmatched one's (so the unmatched right nodes could not lower the cost).

use crate::network::{CertificateError, Infeasible, Network, Reason};
use std::fmt;

/// Arcs `(left, right, cost)` between `left` and `right` nodes, `left ≤ right`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignment {
    pub left: usize,
    pub right: usize,
    pub arcs: Vec<(usize, usize, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentSolution {
    /// For each left node, the index in [`Assignment::arcs`] of its chosen arc.
    pub chosen: Vec<usize>,
    pub cost: i128,
    pub u: Vec<i64>,
    pub v: Vec<i64>,
}

/// Which algorithm solved an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Jonker–Volgenant shortest augmenting paths on the dense cost matrix.
    Dense,
    /// Successive shortest paths on the sparse arcs.
    Sparse,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Dense => "Jonker-Volgenant (dense)",
            Method::Sparse => "successive shortest paths (sparse)",
        })
    }
}

impl Assignment {
    /// The same problem as a min-cost flow: left nodes `0..left` supply one unit each, right
    /// nodes `left..left + right` pass at most one unit on to a sink that takes them all.
    /// Arc `k` of the assignment is arc `k` of the network.
    pub fn network(&self) -> Network {
        let sink = self.left + self.right;
        let mut network = Network::new(sink + 1);
        for &(l, r, c) in &self.arcs {
            network.add_arc(l, self.left + r, 0, 1, c);
        }
        for r in 0..self.right {
            network.add_arc(self.left + r, sink, 0, 1, 0);
        }
        for l in 0..self.left {
            network.supply[l] = 1;
        }
        network.supply[sink] = -(self.left as i64);
        network
    }

    /// Whether the dense solver suits it: most pairs present and the matrix fits in memory.
    pub fn is_dense(&self) -> bool {
        let pairs = self.left as u128 * self.right as u128;
        pairs <= 25_000_000 && (self.arcs.len() as u128) * 2 >= pairs
    }
}

/// Solve with the method that suits the problem's density.
pub fn solve(problem: &Assignment) -> Result<(AssignmentSolution, Method), Infeasible> {
    if problem.is_dense() {
        solve_dense(problem).map(|s| (s, Method::Dense))
    } else {
        solve_sparse(problem).map(|s| (s, Method::Sparse))
    }
}

/// Successive shortest paths on the flow network of the problem.
pub fn solve_sparse(problem: &Assignment) -> Result<AssignmentSolution, Infeasible> {
    check_sides(problem)?;
    let network = problem.network();
    let flow = crate::ssp::solve(&network).map_err(|_| hall_violator(problem))?;
    let mut chosen = vec![usize::MAX; problem.left];
    for (k, &(l, _, _)) in problem.arcs.iter().enumerate() {
        if flow.flow[k] == 1 {
            chosen[l] = k;
        }
    }
    // Reduced cost in the network is c + π(l) − π(r): v = π(r). The network lets a chosen arc's
    // reduced cost be negative (it is at capacity); raising it to zero by lowering u keeps
    // every other arc of the node non-negative.
    let v: Vec<i64> = (0..problem.right)
        .map(|r| flow.potentials[problem.left + r])
        .collect();
    let u = chosen
        .iter()
        .map(|&k| {
            let (_, r, c) = problem.arcs[k];
            c - v[r]
        })
        .collect();
    Ok(AssignmentSolution {
        chosen,
        cost: flow.cost,
        u,
        v,
    })
}

/// Jonker–Volgenant shortest augmenting paths on the dense matrix (pairs without an arc are
/// forbidden): one Dijkstra-like sweep over the columns per left node, duals kept throughout.
pub fn solve_dense(problem: &Assignment) -> Result<AssignmentSolution, Infeasible> {
    check_sides(problem)?;
    let (n, m) = (problem.left, problem.right);
    const FORBIDDEN: i64 = i64::MAX / 4;
    // Cheapest arc per pair, and its index.
    let mut cost = vec![FORBIDDEN; n * m];
    let mut arc = vec![usize::MAX; n * m];
    for (k, &(l, r, c)) in problem.arcs.iter().enumerate() {
        if c < cost[l * m + r] {
            cost[l * m + r] = c;
            arc[l * m + r] = k;
        }
    }
    // Column j's row (usize::MAX when free); duals; the search tree.
    let mut row_of = vec![usize::MAX; m];
    let mut u = vec![0i64; n];
    let mut v = vec![0i64; m];
    let mut min_to = vec![0i64; m];
    let mut from_col = vec![usize::MAX; m];
    let mut used = vec![false; m];
    let mut used_cols: Vec<usize> = Vec::with_capacity(m);
    for row in 0..n {
        min_to.fill(i64::MAX);
        from_col.fill(usize::MAX);
        used.fill(false);
        used_cols.clear();
        // Grow shortest paths from `row` until a free column is reached.
        let (mut current_row, mut prev_col) = (row, usize::MAX);
        let end = loop {
            let (mut delta, mut next) = (i64::MAX, usize::MAX);
            let base = current_row * m;
            let ur = u[current_row];
            for j in 0..m {
                if used[j] {
                    continue;
                }
                let c = cost[base + j];
                if c < FORBIDDEN {
                    let reduced = c - ur - v[j];
                    if reduced < min_to[j] {
                        min_to[j] = reduced;
                        from_col[j] = prev_col;
                    }
                }
                if min_to[j] < delta {
                    delta = min_to[j];
                    next = j;
                }
            }
            if next == usize::MAX {
                // No column reachable from this row's tree: the problem has no full matching.
                return Err(hall_violator(problem));
            }
            // Move the duals by delta: rows in the tree up, tree columns down.
            u[row] += delta;
            for &j in &used_cols {
                u[row_of[j]] += delta;
                v[j] -= delta;
            }
            for j in 0..m {
                if !used[j] && min_to[j] != i64::MAX {
                    min_to[j] -= delta;
                }
            }
            used[next] = true;
            used_cols.push(next);
            if row_of[next] == usize::MAX {
                break next;
            }
            current_row = row_of[next];
            prev_col = next;
        };
        // Flip the alternating path back to `row`.
        let mut j = end;
        loop {
            let prev = from_col[j];
            row_of[j] = if prev == usize::MAX {
                row
            } else {
                row_of[prev]
            };
            if prev == usize::MAX {
                break;
            }
            j = prev;
        }
    }
    // The tree columns moved down by every delta after they joined; the unmatched ones never
    // joined, so matched v ≤ 0 = unmatched v, as the certificate needs.
    let mut chosen = vec![usize::MAX; n];
    for (j, &i) in row_of.iter().enumerate() {
        if i != usize::MAX {
            chosen[i] = arc[i * m + j];
        }
    }
    let total = chosen.iter().map(|&k| i128::from(problem.arcs[k].2)).sum();
    Ok(AssignmentSolution {
        chosen,
        cost: total,
        u,
        v,
    })
}

fn check_sides(problem: &Assignment) -> Result<(), Infeasible> {
    if problem.left > problem.right {
        return Err(Infeasible {
            uncovered: (0..problem.left).collect(),
            demand: problem.left as i64,
            reachable: problem.right as i64,
            reason: Reason::Cut,
        });
    }
    Ok(())
}

/// Why not every left node can be matched: a maximum matching, then the left nodes reachable
/// by alternating paths from the unmatched ones. Together they have fewer distinct right
/// neighbours than members (Hall's condition fails), and no smaller such set contains an
/// unmatched node's alternating tree.
fn hall_violator(problem: &Assignment) -> Infeasible {
    let mut adjacency = vec![Vec::new(); problem.left];
    for &(l, r, _) in &problem.arcs {
        adjacency[l].push(r);
    }
    // Maximum matching (augmenting paths); the left nodes reachable by alternating paths from
    // an unmatched left node form a set whose neighbourhood is smaller than itself.
    let mut match_right = vec![usize::MAX; problem.right];
    let mut match_left = vec![usize::MAX; problem.left];
    for l in 0..problem.left {
        let mut seen = vec![false; problem.right];
        augment(l, &adjacency, &mut match_left, &mut match_right, &mut seen);
    }
    let mut in_set = vec![false; problem.left];
    let mut neighbours = vec![false; problem.right];
    let mut stack: Vec<usize> = (0..problem.left)
        .filter(|&l| match_left[l] == usize::MAX)
        .collect();
    for &l in &stack {
        in_set[l] = true;
    }
    while let Some(l) = stack.pop() {
        for &r in &adjacency[l] {
            if !neighbours[r] {
                neighbours[r] = true;
                let back = match_right[r];
                if back != usize::MAX && !in_set[back] {
                    in_set[back] = true;
                    stack.push(back);
                }
            }
        }
    }
    let uncovered: Vec<usize> = (0..problem.left).filter(|&l| in_set[l]).collect();
    let reachable = neighbours.iter().filter(|x| **x).count() as i64;
    Infeasible {
        demand: uncovered.len() as i64,
        uncovered,
        reachable,
        reason: Reason::Cut,
    }
}

fn augment(
    l: usize,
    adjacency: &[Vec<usize>],
    match_left: &mut [usize],
    match_right: &mut [usize],
    seen: &mut [bool],
) -> bool {
    // Iterative depth-first search for an augmenting path from `l`.
    let mut stack: Vec<(usize, usize)> = vec![(l, 0)];
    let mut path: Vec<(usize, usize)> = Vec::new();
    while let Some(top) = stack.last_mut() {
        let x = top.0;
        if top.1 == adjacency[x].len() {
            stack.pop();
            path.pop();
            continue;
        }
        let r = adjacency[x][top.1];
        top.1 += 1;
        if seen[r] {
            continue;
        }
        seen[r] = true;
        path.push((x, r));
        if match_right[r] == usize::MAX {
            for &(a, b) in &path {
                match_left[a] = b;
                match_right[b] = a;
            }
            return true;
        }
        stack.push((match_right[r], 0));
    }
    false
}

/// Check a solution and its duals: every left node on one of its own arcs, no right node
/// twice, reduced costs ≥ 0 everywhere and 0 on the chosen arcs, matched `v` ≤ unmatched `v`,
/// and the stated cost. Linear in nodes plus arcs.
pub fn verify(problem: &Assignment, solution: &AssignmentSolution) -> Result<(), CertificateError> {
    let shape = |what, expected: usize, got: usize| {
        if expected == got {
            Ok(())
        } else {
            Err(CertificateError::Shape {
                what,
                expected,
                got,
            })
        }
    };
    shape("chosen", problem.left, solution.chosen.len())?;
    shape("u", problem.left, solution.u.len())?;
    shape("v", problem.right, solution.v.len())?;
    let mut taken = vec![false; problem.right];
    let mut total = 0i128;
    for (l, &k) in solution.chosen.iter().enumerate() {
        let Some(&(from, r, c)) = problem.arcs.get(k) else {
            return Err(CertificateError::Conservation {
                node: l,
                net_out: 0,
                supply: 1,
            });
        };
        if from != l || taken[r] {
            return Err(CertificateError::Conservation {
                node: if from != l { l } else { problem.left + r },
                net_out: 2,
                supply: 1,
            });
        }
        taken[r] = true;
        total += i128::from(c);
        let reduced = i128::from(c) - i128::from(solution.u[l]) - i128::from(solution.v[r]);
        if reduced != 0 {
            return Err(CertificateError::Slackness {
                arc: k,
                reduced_cost: reduced,
                flow: 1,
            });
        }
    }
    for (k, &(l, r, c)) in problem.arcs.iter().enumerate() {
        let reduced = i128::from(c) - i128::from(solution.u[l]) - i128::from(solution.v[r]);
        if reduced < 0 {
            return Err(CertificateError::Slackness {
                arc: k,
                reduced_cost: reduced,
                flow: 0,
            });
        }
    }
    let highest_matched = (0..problem.right)
        .filter(|&r| taken[r])
        .map(|r| solution.v[r])
        .max();
    let lowest_free = (0..problem.right)
        .filter(|&r| !taken[r])
        .map(|r| solution.v[r])
        .min();
    if let (Some(high), Some(low)) = (highest_matched, lowest_free)
        && high > low
    {
        let r = (0..problem.right)
            .find(|&r| !taken[r] && solution.v[r] == low)
            .unwrap_or(0);
        return Err(CertificateError::Slackness {
            arc: problem.arcs.len() + r,
            reduced_cost: i128::from(low) - i128::from(high),
            flow: 0,
        });
    }
    if total != solution.cost {
        return Err(CertificateError::Cost {
            stated: solution.cost,
            actual: total,
        });
    }
    Ok(())
}
