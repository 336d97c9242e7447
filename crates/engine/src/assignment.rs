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
    /// Cost scaling (double push) on the sparse arcs of a square problem.
    Scaling,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Dense => "Jonker-Volgenant (dense)",
            Method::Sparse => "successive shortest paths (sparse)",
            Method::Scaling => "cost scaling (sparse)",
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

    /// The arcs grouped by left node (compressed sparse rows): the arcs of left node `l` are
    /// `order[start[l]..start[l + 1]]`, as indices into [`Assignment::arcs`].
    pub fn by_left(&self) -> (Vec<usize>, Vec<usize>) {
        let mut start = vec![0usize; self.left + 1];
        for &(l, _, _) in &self.arcs {
            start[l + 1] += 1;
        }
        for i in 0..self.left {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut order = vec![0usize; self.arcs.len()];
        for (k, &(l, _, _)) in self.arcs.iter().enumerate() {
            order[fill[l]] = k;
            fill[l] += 1;
        }
        (start, order)
    }

    /// Whether the dense solver suits it: most pairs present and the matrix fits in memory.
    pub fn is_dense(&self) -> bool {
        let pairs = self.left as u128 * self.right as u128;
        pairs <= 25_000_000 && (self.arcs.len() as u128) * 2 >= pairs
    }
}

/// Solve with the method that suits the problem: Jonker–Volgenant when dense, cost scaling
/// when sparse and square, successive shortest paths otherwise.
pub fn solve(problem: &Assignment) -> Result<(AssignmentSolution, Method), Infeasible> {
    if problem.is_dense() {
        return solve_dense(problem).map(|s| (s, Method::Dense));
    }
    if problem.left == problem.right {
        return solve_scaling(problem).map(|s| (s, Method::Scaling));
    }
    solve_sparse(problem).map(|s| (s, Method::Sparse))
}

/// A problem in the solver's own input arrays: for a complete square problem whose arcs are
/// its cells in row-major order (as DIMACS files of complete problems are), the cost matrix,
/// 32-bit when every cost fits. Building it is a pass over every arc; [`Prepared::solve`] then
/// starts where a matrix solver's call starts (the solver benchmark times it from here, as it
/// times the peers from their arrays).
pub struct Prepared<'a> {
    problem: &'a Assignment,
    matrix: Option<Matrix>,
}

enum Matrix {
    Narrow(Vec<i32>),
    Wide(Vec<i64>),
}

impl Matrix {
    /// The matrix of a complete square problem whose arcs are its cells in row-major order:
    /// one pass copies the costs, into 32-bit cells (half the memory) when every cost fits.
    fn of(problem: &Assignment) -> Option<Matrix> {
        let n = problem.left;
        if n != problem.right || n == 0 || n * n > u32::MAX as usize {
            return None;
        }
        row_major::<i32>(problem)
            .map(Matrix::Narrow)
            .or_else(|| row_major::<i64>(problem).map(Matrix::Wide))
    }

    fn lapjv(&self, problem: &Assignment) -> AssignmentSolution {
        match self {
            Matrix::Narrow(cost) => lapjv(problem, cost, None),
            Matrix::Wide(cost) => lapjv(problem, cost, None),
        }
    }
}

/// Prepare `problem` for [`Prepared::solve`].
pub fn prepare(problem: &Assignment) -> Prepared<'_> {
    let matrix = if problem.is_dense() {
        Matrix::of(problem)
    } else {
        None
    };
    Prepared { problem, matrix }
}

impl Prepared<'_> {
    /// What [`solve`] answers.
    pub fn solve(&self) -> Result<(AssignmentSolution, Method), Infeasible> {
        match &self.matrix {
            Some(matrix) => Ok((matrix.lapjv(self.problem), Method::Dense)),
            None => solve(self.problem),
        }
    }
}

/// Cost scaling on a square problem; a maximum matching (Hopcroft–Karp) only when the scaling
/// stalls, to tell an infeasible problem from a hard one.
pub fn solve_scaling(problem: &Assignment) -> Result<AssignmentSolution, Infeasible> {
    use crate::scaling::{self, Refused};
    check_sides(problem)?;
    let proven = match scaling::solve(problem) {
        Ok(solution) => return Ok(solution),
        Err(Refused::Suspect | Refused::NoPerfectMatching) => {
            matchable(problem)?;
            scaling::solve_matchable(problem)
        }
        Err(refused @ (Refused::NotSquare | Refused::TooCostly)) => Err(refused),
    };
    match proven {
        Ok(solution) => Ok(solution),
        // Not square, costs too spread for 64-bit prices, or the price bound tripped: the
        // reference answers.
        Err(_) => solve_sparse(problem),
    }
}

/// Successive shortest paths on the flow network of the problem.
pub fn solve_sparse(problem: &Assignment) -> Result<AssignmentSolution, Infeasible> {
    check_sides(problem)?;
    // A maximum matching first: far cheaper than finding out by shortest paths, and it names
    // the left nodes; once it shows a full matching, the flow is feasible.
    matchable(problem)?;
    let network = problem.network();
    let flow = crate::ssp::solve(&network)?;
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

/// A pair without an arc in the dense matrix.
const FORBIDDEN: i64 = i64::MAX / 4;

/// The dense matrix of an assignment problem: the cheapest arc's cost per pair (row-major,
/// [`FORBIDDEN`] without an arc), and that arc's index.
fn dense_matrix(problem: &Assignment) -> (Vec<i64>, Vec<usize>) {
    let (n, m) = (problem.left, problem.right);
    let mut cost = vec![FORBIDDEN; n * m];
    let mut arc = vec![usize::MAX; n * m];
    for (k, &(l, r, c)) in problem.arcs.iter().enumerate() {
        if c < cost[l * m + r] {
            cost[l * m + r] = c;
            arc[l * m + r] = k;
        }
    }
    (cost, arc)
}

/// Column reduction (Jonker–Volgenant's start, square problems): each column's dual is its
/// cheapest cost, and the column goes to that row if the row is still free. Duals stay
/// feasible (c − u − v ≥ 0 with u = 0) and every such match is tight. Returns which rows
/// were matched.
fn column_reduction(cost: &[i64], n: usize, v: &mut [i64], row_of: &mut [usize]) -> Vec<bool> {
    let m = v.len();
    let mut row_taken = vec![false; n];
    let mut best_row = vec![usize::MAX; m];
    let mut best = vec![FORBIDDEN; m];
    for i in 0..n {
        for (j, &c) in cost[i * m..(i + 1) * m].iter().enumerate() {
            if c < best[j] {
                best[j] = c;
                best_row[j] = i;
            }
        }
    }
    for j in (0..m).rev() {
        let i = best_row[j];
        if i != usize::MAX {
            v[j] = best[j];
            if !row_taken[i] {
                row_taken[i] = true;
                row_of[j] = i;
            }
        }
    }
    row_taken
}

/// Jonker–Volgenant shortest augmenting paths on the dense matrix (pairs without an arc are
/// forbidden): one Dijkstra-like sweep over the columns per left node, duals kept throughout.
pub fn solve_dense(problem: &Assignment) -> Result<AssignmentSolution, Infeasible> {
    check_sides(problem)?;
    if let Some(solution) = complete_square(problem) {
        return Ok(solution);
    }
    let (n, m) = (problem.left, problem.right);
    let (cost, arc) = dense_matrix(problem);
    // Column j's row (usize::MAX when free); duals; the search tree.
    let mut row_of = vec![usize::MAX; m];
    let mut u = vec![0i64; n];
    let mut v = vec![0i64; m];
    let mut min_to = vec![0i64; m];
    let mut from_col = vec![usize::MAX; m];
    let mut used = vec![false; m];
    let mut used_cols: Vec<usize> = Vec::with_capacity(m);
    let row_taken = if n == m {
        column_reduction(&cost, n, &mut v, &mut row_of)
    } else {
        vec![false; n]
    };
    for row in 0..n {
        if row_taken[row] {
            continue;
        }
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
                // No column reachable from this row's tree: no full matching. The maximum
                // matching names the nodes (and would hand over to the reference otherwise).
                matchable(problem)?;
                return solve_sparse(problem);
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

/// Jonker–Volgenant in full (LAPJV) for a square problem with an arc for every pair: column
/// reduction with reduction transfer, two rounds of augmenting row reduction (an auction that
/// settles most rows cheaply), then shortest augmenting paths for the rows left free, with the
/// column duals updated lazily once per path. `None` when the problem is not square or a pair
/// has no arc (the general sweep in [`solve_dense`] handles those).
///
/// Invariant throughout: every assigned row's column minimises `c − v` over its row, so
/// `u = c − v` on the chosen arcs makes every reduced cost non-negative.
fn complete_square(problem: &Assignment) -> Option<AssignmentSolution> {
    let n = problem.left;
    if n != problem.right || n == 0 || problem.arcs.len() < n * n || n * n > u32::MAX as usize {
        return None;
    }
    // The matrix, and the arc behind each cell. Usually arc k is cell k (the arcs come in
    // row-major order, one per pair, as DIMACS files of complete problems do).
    if let Some(matrix) = Matrix::of(problem) {
        return Some(matrix.lapjv(problem));
    }
    let mut cost = vec![i64::MAX; n * n];
    let mut arc = vec![u32::MAX; n * n];
    for (k, &(l, r, c)) in problem.arcs.iter().enumerate() {
        let cell = l * n + r;
        if arc[cell] == u32::MAX || c < cost[cell] {
            cost[cell] = c;
            arc[cell] = k as u32;
        }
    }
    if arc.contains(&u32::MAX) {
        return None;
    }
    Some(lapjv(problem, &cost, Some(&arc)))
}

/// The costs of a complete square problem whose arcs are its cells in row-major order, when
/// every cost fits `T` (reduced costs are worked out in 64 bits either way).
fn row_major<T: TryFrom<i64>>(problem: &Assignment) -> Option<Vec<T>> {
    let n = problem.left;
    if problem.arcs.len() != n * n {
        return None;
    }
    let mut cost = Vec::with_capacity(n * n);
    for (l, row) in problem.arcs.chunks_exact(n).enumerate() {
        for (r, &(al, ar, c)) in row.iter().enumerate() {
            if al != l || ar != r {
                return None;
            }
            cost.push(T::try_from(c).ok()?);
        }
    }
    Some(cost)
}

/// Read one cell per cache line of `row`, in order: the scan that follows reads the row's cells
/// in the scrambled order of the unreached columns, and a row brought in as a stream first
/// costs far less than a miss per cell (dense-5000: 0.44 → 0.37 s in all).
#[inline]
fn touch<T: Copy + Into<i64>>(row: &[T]) {
    let step = (64 / std::mem::size_of::<T>()).max(1);
    let mut sum = 0i64;
    for k in (0..row.len()).step_by(step) {
        sum = sum.wrapping_add(row[k].into());
    }
    std::hint::black_box(sum);
}

/// LAPJV on the `n × n` matrix `cost` (row-major); `arc` maps each cell to its arc when the
/// cells are not the arcs themselves.
fn lapjv<T: Copy + Into<i64>>(
    problem: &Assignment,
    cost: &[T],
    arc: Option<&[u32]>,
) -> AssignmentSolution {
    let n = problem.left;
    let mut lap = Lap {
        cost,
        n,
        x: vec![NONE; n],
        y: vec![NONE; n],
        v: vec![i64::MAX; n],
    };
    let mut free = lap.column_reduction();
    lap.augmenting_row_reduction(&mut free);
    lap.augment(&free);
    let Lap { x, v, .. } = &lap;
    let chosen: Vec<usize> = (0..n)
        .map(|i| {
            let cell = i * n + x[i] as usize;
            arc.as_ref().map_or(cell, |arc| arc[cell] as usize)
        })
        .collect();
    let u = (0..n)
        .map(|i| lap.row(i)[x[i] as usize].into() - v[x[i] as usize])
        .collect();
    let total = chosen.iter().map(|&k| i128::from(problem.arcs[k].2)).sum();
    AssignmentSolution {
        chosen,
        cost: total,
        u,
        v: lap.v,
    }
}

/// No row or column.
const NONE: u32 = u32::MAX;

/// LAPJV's state: the matrix, x (row → column), y (column → row), the column duals v.
struct Lap<'a, T> {
    cost: &'a [T],
    n: usize,
    x: Vec<u32>,
    y: Vec<u32>,
    v: Vec<i64>,
}

impl<'a, T: Copy + Into<i64>> Lap<'a, T> {
    #[inline]
    fn row(&self, i: usize) -> &'a [T] {
        let cost: &'a [T] = self.cost;
        &cost[i * self.n..(i + 1) * self.n]
    }

    /// Returns the rows left free.
    fn column_reduction(&mut self) -> Vec<u32> {
        let n = self.n;
        // Column reduction: each column's dual is its least cost and it goes to that row; a row
        // chosen by several columns keeps the last. A row that got exactly one column hands its
        // slack on (reduction transfer): that column's dual drops by the row's second-least
        // reduced cost, so the row stays on a least column.
        for i in 0..n {
            for (j, &c) in self.row(i).iter().enumerate() {
                let c: i64 = c.into();
                if c < self.v[j] {
                    self.v[j] = c;
                    self.y[j] = i as u32;
                }
            }
        }
        let mut unique = vec![true; n];
        for j in (0..n).rev() {
            let i = self.y[j] as usize;
            if self.x[i] == NONE {
                self.x[i] = j as u32;
            } else {
                unique[i] = false;
                self.y[j] = NONE;
            }
        }
        let mut free: Vec<u32> = Vec::with_capacity(n);
        for (i, &unique) in unique.iter().enumerate() {
            if self.x[i] == NONE {
                free.push(i as u32);
            } else if unique && n > 1 {
                let j = self.x[i] as usize;
                let least = self
                    .row(i)
                    .iter()
                    .zip(&self.v)
                    .enumerate()
                    .filter(|&(j2, _)| j2 != j)
                    .map(|(_, (&c, &vj))| c.into() - vj)
                    .min()
                    .unwrap_or(0);
                self.v[j] -= least;
            }
        }
        free
    }

    fn augmenting_row_reduction(&mut self, free: &mut Vec<u32>) {
        let n = self.n;
        // Augmenting row reduction, twice: a free row bids for its least column at the gap to its
        // second least, displacing the holder. A row whose bid lowered the dual tries again at
        // once; the bound on bids keeps ties from cycling.
        for _ in 0..2 {
            if free.is_empty() {
                break;
            }
            let count = free.len();
            let (mut current, mut kept, mut bids) = (0usize, 0usize, 0usize);
            while current < count {
                bids += 1;
                let i = free[current] as usize;
                current += 1;
                let (mut j1, mut v1, mut j2, mut v2) =
                    (0usize, self.row(i)[0].into() - self.v[0], NONE, i64::MAX);
                for (j, (&c, &vj)) in self.row(i).iter().zip(&self.v).enumerate().skip(1) {
                    let h = c.into() - vj;
                    if h < v2 {
                        if h >= v1 {
                            v2 = h;
                            j2 = j as u32;
                        } else {
                            (v2, j2, v1, j1) = (v1, j1 as u32, h, j);
                        }
                    }
                }
                let mut i0 = self.y[j1];
                let lowered = v2 != i64::MAX && v2 > v1;
                if bids < current * n {
                    if lowered {
                        self.v[j1] -= v2 - v1;
                    } else if i0 != NONE && j2 != NONE {
                        j1 = j2 as usize;
                        i0 = self.y[j1];
                    }
                    if i0 != NONE {
                        if lowered {
                            current -= 1;
                            free[current] = i0;
                        } else {
                            free[kept] = i0;
                            kept += 1;
                        }
                    }
                } else if i0 != NONE {
                    free[kept] = i0;
                    kept += 1;
                }
                if i0 != NONE {
                    self.x[i0 as usize] = NONE;
                }
                self.x[i] = j1 as u32;
                self.y[j1] = i as u32;
            }
            free.truncate(kept);
        }
    }

    fn augment(&mut self, free: &[u32]) {
        let n = self.n;
        // Shortest augmenting paths from each remaining free row, Dijkstra over the columns with
        // the columns kept in three bands of `cols`: scanned [..low], to scan [low..high] (all at
        // the current least distance), not yet reached [high..].
        let mut d = vec![0i64; n];
        let mut pred = vec![0u32; n];
        let mut cols: Vec<u32> = Vec::with_capacity(n);
        for &start in free {
            let start = start as usize;
            cols.clear();
            cols.extend(0..n as u32);
            for (j, (&c, &vj)) in self.row(start).iter().zip(&self.v).enumerate() {
                d[j] = c.into() - vj;
                pred[j] = start as u32;
            }
            let (mut low, mut high, mut ready) = (0usize, 0usize, 0usize);
            let end = 'search: loop {
                if low == high {
                    // The next band: every unreached column at the least distance.
                    ready = low;
                    high = low + 1;
                    let mut least = d[cols[low] as usize];
                    for k in low + 1..n {
                        let j = cols[k] as usize;
                        if d[j] <= least {
                            if d[j] < least {
                                high = low;
                                least = d[j];
                            }
                            cols.swap(k, high);
                            high += 1;
                        }
                    }
                    if let Some(&j) = cols[low..high]
                        .iter()
                        .find(|&&j| self.y[j as usize] == NONE)
                    {
                        break 'search j as usize;
                    }
                }
                // Scan the band: relax from each band column's row.
                let j = cols[low] as usize;
                low += 1;
                let i = self.y[j] as usize;
                let least = d[j];
                let h = self.row(i)[j].into() - self.v[j] - least;
                touch(self.row(i));
                let unreached = high;
                for k in unreached..n {
                    let j = cols[k] as usize;
                    let reduced = self.row(i)[j].into() - self.v[j] - h;
                    if reduced < d[j] {
                        d[j] = reduced;
                        pred[j] = i as u32;
                        if reduced == least {
                            if self.y[j] == NONE {
                                break 'search j;
                            }
                            cols.swap(k, high);
                            high += 1;
                        }
                    }
                }
            };
            // Lazy dual update for the scanned columns, then flip the path back to `start`.
            let least = d[end];
            for &j in &cols[..ready] {
                let j = j as usize;
                self.v[j] += d[j] - least;
            }
            let mut j = end;
            loop {
                let i = pred[j] as usize;
                self.y[j] = i as u32;
                let previous = self.x[i];
                self.x[i] = j as u32;
                if i == start {
                    break;
                }
                j = previous as usize;
            }
        }
    }
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

/// `Ok` when every left node can be matched; otherwise the left nodes that cannot all be: a
/// maximum matching, then the left nodes reachable by alternating paths from the unmatched
/// ones. Together they have fewer distinct right neighbours than members (Hall's condition
/// fails).
fn matchable(problem: &Assignment) -> Result<(), Infeasible> {
    let (match_left, match_right) = maximum_matching(problem);
    if !match_left.contains(&usize::MAX) {
        return Ok(());
    }
    let (start, order) = problem.by_left();
    let mut in_set = vec![false; problem.left];
    let mut neighbours = vec![false; problem.right];
    let mut stack: Vec<usize> = (0..problem.left)
        .filter(|&l| match_left[l] == usize::MAX)
        .collect();
    for &l in &stack {
        in_set[l] = true;
    }
    while let Some(l) = stack.pop() {
        for &k in &order[start[l]..start[l + 1]] {
            let r = problem.arcs[k].1;
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
    Err(Infeasible {
        demand: uncovered.len() as i64,
        uncovered,
        reachable,
        reason: Reason::Cut,
    })
}

/// A maximum matching (Hopcroft–Karp, O(m √n)): left → right and right → left, `usize::MAX`
/// where unmatched.
pub fn maximum_matching(problem: &Assignment) -> (Vec<usize>, Vec<usize>) {
    const NONE: usize = usize::MAX;
    let (n, m) = (problem.left, problem.right);
    let (start, order) = problem.by_left();
    let adjacency: Vec<usize> = order.iter().map(|&k| problem.arcs[k].1).collect();
    let (mut match_left, mut match_right) = (vec![NONE; n], vec![NONE; m]);
    // Greedy start: most nodes find a free partner at once; the phases finish the rest.
    for l in 0..n {
        if let Some(&r) = adjacency[start[l]..start[l + 1]]
            .iter()
            .find(|&&r| match_right[r] == NONE)
        {
            match_left[l] = r;
            match_right[r] = l;
        }
    }
    let mut layer = vec![u32::MAX; n];
    let mut queue = Vec::with_capacity(n);
    let mut next = vec![0usize; n];
    loop {
        // Layers from the free left nodes along alternating paths.
        queue.clear();
        for l in 0..n {
            if match_left[l] == NONE {
                layer[l] = 0;
                queue.push(l);
            } else {
                layer[l] = u32::MAX;
            }
        }
        let mut found = false;
        let mut head = 0;
        while head < queue.len() {
            let l = queue[head];
            head += 1;
            for &r in &adjacency[start[l]..start[l + 1]] {
                let back = match_right[r];
                if back == NONE {
                    found = true;
                } else if layer[back] == u32::MAX {
                    layer[back] = layer[l] + 1;
                    queue.push(back);
                }
            }
        }
        if !found {
            break;
        }
        // Vertex-disjoint shortest augmenting paths, by iterative depth-first search.
        next[..n].copy_from_slice(&start[..n]);
        for root in 0..n {
            if match_left[root] != NONE {
                continue;
            }
            let mut path: Vec<usize> = vec![root];
            while let Some(&l) = path.last() {
                if next[l] == start[l + 1] {
                    layer[l] = u32::MAX; // a dead end for this round
                    path.pop();
                    continue;
                }
                let r = adjacency[next[l]];
                next[l] += 1;
                let back = match_right[r];
                if back == NONE {
                    // Each left node on the path takes the right node it went through.
                    let mut right = r;
                    while let Some(l) = path.pop() {
                        let previous = match_left[l];
                        match_left[l] = right;
                        match_right[right] = l;
                        right = previous;
                    }
                    break;
                }
                if layer[back] == layer[l] + 1 {
                    path.push(back);
                }
            }
        }
    }
    (match_left, match_right)
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
