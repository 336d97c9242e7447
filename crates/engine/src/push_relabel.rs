//! Cost-scaling push-relabel min-cost flow (Goldberg 1997, the CS2 line; the class OR-Tools'
//! `MinCostFlow` belongs to), and the choice of min-cost flow solver by the problem's shape
//! ([`solve_by_shape`]). Since the network simplex took LEMON's tree and arc mixing it is the
//! faster on every family measured, so cost scaling answers only when asked for by name.
//!
//! Costs are multiplied by `n + 1` (`n` nodes), so a flow that is ε-optimal with ε = 1 is
//! optimal. Each phase ([`Solver::refine`]) divides ε by [`ALPHA`], saturates every arc whose
//! reduced cost went negative, and pushes the excesses along admissible arcs (residual, reduced
//! cost below zero), lowering a node's price when it has none. A global price update (a
//! bucket-based shortest-path pass from the deficits, Goldberg's heuristic) runs at the start of
//! each phase and again whenever relabelling has scanned as many arcs as the graph has, which
//! keeps prices from creeping down one ε at a time; and a push looks ahead (Goldberg's push
//! look-ahead): a head that would only send the flow back is relabelled first.
//!
//! The prices end ε-optimal, not exact; the certificate is finished by one Dijkstra over the
//! residual graph, as in [`crate::scaling`]. A problem without a feasible flow shows as a price
//! falling past any bound a feasible one allows; the caller then asks the network simplex,
//! which names the nodes that cannot be covered.

use crate::network::{FlowSolution, Infeasible, Network, check_input};
use std::collections::VecDeque;

/// How much ε shrinks per phase.
pub const ALPHA: i64 = 8;

/// From how many nodes the seat auction is tried on networks of the placement shape (people,
/// posts with seats, one sink): 100,000 people into 45,000 posts, auction 1.67 s, network
/// simplex 2.81 s, cost scaling 5.10 s (`counterpart solve --method`, one run each, 2026-12-08).
pub const AUCTION_FROM_NODES: usize = 20_000;

/// Which min-cost flow solver answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    NetworkSimplex,
    CostScaling,
    /// The seat auction of [`crate::seats`], for networks of the placement shape.
    SeatAuction,
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::NetworkSimplex => "network simplex",
            Method::CostScaling => "cost-scaling push-relabel",
            Method::SeatAuction => "ε-scaling seat auction",
        })
    }
}

/// The seat auction when the network has the placement shape, at least
/// [`AUCTION_FROM_NODES`] nodes and a feasible flow; else the network simplex, the fastest of
/// ours on every other family of bench/make-families.py (NETGEN, GRIDGEN and GOTO styles,
/// transportation with a surplus sink, up to a million arcs; cost scaling took 1.0 to 18 times
/// as long). Cost scaling stays for `counterpart solve --method cost-scaling`.
pub fn solve_by_shape(network: &Network) -> (Result<FlowSolution, Infeasible>, Method) {
    if network.nodes() >= AUCTION_FROM_NODES
        && let Some(solution) = crate::seats::attempt(network)
    {
        return (Ok(solution), Method::SeatAuction);
    }
    (crate::simplex::solve(network), Method::NetworkSimplex)
}

/// Solve `network` with the solver named, and say which answered: the seat auction, when
/// the network does not have its shape, hands over to cost scaling.
pub fn solve_as(network: &Network, method: Method) -> (Result<FlowSolution, Infeasible>, Method) {
    match method {
        Method::NetworkSimplex => (crate::simplex::solve(network), method),
        Method::CostScaling => (solve(network), method),
        Method::SeatAuction => match crate::seats::attempt(network) {
            Some(solution) => (Ok(solution), method),
            None => (solve(network), Method::CostScaling),
        },
    }
}

/// Solve `network`; when it has no feasible flow, the network simplex says which nodes cannot
/// be covered.
pub fn solve(network: &Network) -> Result<FlowSolution, Infeasible> {
    check_input(network)?;
    match scale(network) {
        Some(solution) => Ok(solution),
        None => crate::simplex::solve(network),
    }
}

/// Cost scaling alone: `None` when it cannot answer — no feasible flow, unbalanced input, or
/// sizes and costs beyond its 32-bit indices and 64-bit prices.
pub fn attempt(network: &Network) -> Option<FlowSolution> {
    check_input(network).ok()?;
    scale(network)
}

/// Cost scaling on input already checked.
fn scale(network: &Network) -> Option<FlowSolution> {
    let mut solver = Solver::new(network)?;
    solver.run()?;
    Some(solver.solution(network))
}

/// Why a node could not be relabelled: it has no residual arc at all, or its price fell past
/// the floor. Either means no feasible flow when the node holds an excess.
enum Stuck {
    NoWayOut,
    Floor,
}

/// The residual graph in compressed rows, one array per field so that a scan reads only the
/// residual capacities until it meets an arc that has some: each arc `k` of the network is
/// residual arc `forward[k]` at its tail and `rev[forward[k]]` at its head. `back_rcap[a]` is
/// the partner's `rcap[rev[a]]`, kept beside it so that the price update reads the arcs into a
/// node from the node's own row instead of all over the graph.
struct Solver {
    first: Vec<u32>,
    cost: Vec<i64>,
    rcap: Vec<i64>,
    back_rcap: Vec<i64>,
    head: Vec<u32>,
    rev: Vec<u32>,
    forward: Vec<u32>,
    excess: Vec<i64>,
    price: Vec<i64>,
    current: Vec<u32>,
    scale: i64,
    /// Prices may not fall below this in a feasible problem.
    floor: i64,
    /// Scratch for the price update: rank per node, settled per node, buckets of nodes by rank.
    rank: Vec<u64>,
    settled: Vec<bool>,
    buckets: Vec<Vec<u32>>,
}

impl Solver {
    /// `None` when the sizes do not fit the 32-bit indices or the scaled costs could overflow
    /// (the network simplex takes those).
    fn new(network: &Network) -> Option<Solver> {
        let n = network.nodes();
        let m = network.arcs.len();
        if n + 1 >= u32::MAX as usize || 2 * m >= u32::MAX as usize {
            return None;
        }
        let scale = n as i64 + 1;
        let max_cost = network
            .arcs
            .iter()
            .map(|a| a.cost.unsigned_abs())
            .max()
            .unwrap_or(0);
        // Prices fall by at most about 3n·ε per phase and ε starts at the largest scaled cost:
        // keep every price and reduced cost well inside i64.
        let max_scaled = i64::try_from(max_cost).ok()?.checked_mul(scale)?.max(1);
        let floor = max_scaled.checked_mul(8 * scale)?.checked_neg()?;
        floor.checked_mul(4)?;
        let mut first = vec![0u32; n + 1];
        for a in &network.arcs {
            first[a.from + 1] += 1;
            first[a.to + 1] += 1;
        }
        for v in 0..n {
            first[v + 1] += first[v];
        }
        let mut fill: Vec<u32> = first[..n].to_vec();
        let mut cost = vec![0i64; 2 * m];
        let mut rcap = vec![0i64; 2 * m];
        let mut back_rcap = vec![0i64; 2 * m];
        let mut head = vec![0u32; 2 * m];
        let mut rev = vec![0u32; 2 * m];
        let mut forward = vec![0u32; m];
        let mut excess = network.supply.clone();
        for (k, a) in network.arcs.iter().enumerate() {
            let (f, b) = (fill[a.from], fill[a.to]);
            fill[a.from] += 1;
            fill[a.to] += 1;
            let (fi, bi) = (f as usize, b as usize);
            cost[fi] = a.cost * scale;
            cost[bi] = -a.cost * scale;
            rcap[fi] = a.cap - a.low;
            back_rcap[bi] = a.cap - a.low;
            head[fi] = a.to as u32;
            head[bi] = a.from as u32;
            rev[fi] = b;
            rev[bi] = f;
            forward[k] = f;
            // The lower bound is sent at once.
            excess[a.from] -= a.low;
            excess[a.to] += a.low;
        }
        Some(Solver {
            current: first[..n].to_vec(),
            first,
            cost,
            rcap,
            back_rcap,
            head,
            rev,
            forward,
            excess,
            price: vec![0; n],
            scale,
            floor,
            rank: vec![0; n],
            settled: vec![false; n],
            buckets: vec![Vec::new(); 3 * n + 2],
        })
    }

    fn nodes(&self) -> usize {
        self.price.len()
    }

    /// Every phase down to ε = 1; `None` when a price fell past the floor (no feasible flow).
    fn run(&mut self) -> Option<()> {
        let largest = self.cost.iter().map(|c| c.abs()).max().unwrap_or(0);
        let mut epsilon = largest.max(1);
        loop {
            epsilon = (epsilon / ALPHA).max(1);
            self.refine(epsilon)?;
            if epsilon == 1 {
                return Some(());
            }
        }
    }

    #[inline]
    fn reduced(&self, v: usize, a: usize) -> i64 {
        self.cost[a] + self.price[v] - self.price[self.head[a] as usize]
    }

    /// One phase: from an ε·α-optimal flow to an ε-optimal one.
    fn refine(&mut self, epsilon: i64) -> Option<()> {
        let n = self.nodes();
        // Saturate every residual arc with a negative reduced cost: the pseudoflow is then
        // 0-optimal, and the excesses it leaves are pushed below.
        for v in 0..n {
            for a in self.first[v] as usize..self.first[v + 1] as usize {
                if self.rcap[a] > 0 && self.reduced(v, a) < 0 {
                    self.push(v, a, self.rcap[a]);
                }
            }
        }
        self.current.copy_from_slice(&self.first[..n]);
        let mut active: VecDeque<u32> = (0..n as u32)
            .filter(|&v| self.excess[v as usize] > 0)
            .collect();
        if active.is_empty() {
            return Some(());
        }
        self.update_prices(epsilon);
        // Relabel work since the last price update, in arcs scanned: another update once it
        // matches the size of the graph.
        let mut work = 0usize;
        let budget = self.rcap.len() + n;
        while let Some(v) = active.pop_front() {
            let v = v as usize;
            // Discharge v: push along admissible arcs; lower its price when it has none.
            while self.excess[v] > 0 {
                let end = self.first[v + 1] as usize;
                let mut a = self.current[v] as usize;
                while a < end {
                    if self.rcap[a] > 0 && self.reduced(v, a) < 0 {
                        let w = self.head[a] as usize;
                        // Look ahead: a head with no excess to spare and no admissible arc
                        // of its own would only send the flow back; lower its price first.
                        if self.excess[w] >= 0 && !self.admissible_out(w) {
                            work += match self.relabel(w, epsilon) {
                                Ok(scanned) => scanned,
                                // Nothing leaves w yet: the push gives it its first way out.
                                Err(Stuck::NoWayOut) => 0,
                                Err(Stuck::Floor) => return None,
                            };
                            if self.reduced(v, a) >= 0 {
                                a += 1;
                                continue;
                            }
                        }
                        let delta = self.excess[v].min(self.rcap[a]);
                        let was = self.excess[w];
                        self.push(v, a, delta);
                        if was <= 0 && self.excess[w] > 0 {
                            active.push_back(w as u32);
                        }
                        if self.excess[v] == 0 {
                            break;
                        }
                    }
                    a += 1;
                }
                if a < end {
                    self.current[v] = a as u32;
                    break;
                }
                work += self.relabel(v, epsilon).ok()?;
                if work >= budget {
                    work = 0;
                    self.update_prices(epsilon);
                }
            }
        }
        Some(())
    }

    /// Whether `w` has an admissible arc, scanning on from its current arc (which it moves
    /// to the one found).
    #[inline]
    fn admissible_out(&mut self, w: usize) -> bool {
        let end = self.first[w + 1] as usize;
        let mut a = self.current[w] as usize;
        while a < end {
            if self.rcap[a] > 0 && self.reduced(w, a) < 0 {
                self.current[w] = a as u32;
                return true;
            }
            a += 1;
        }
        self.current[w] = end as u32;
        false
    }

    #[inline]
    fn push(&mut self, v: usize, a: usize, delta: i64) {
        let (w, rev) = (self.head[a] as usize, self.rev[a] as usize);
        self.rcap[a] -= delta;
        self.back_rcap[a] += delta;
        self.rcap[rev] += delta;
        self.back_rcap[rev] -= delta;
        self.excess[v] -= delta;
        self.excess[w] += delta;
    }

    /// Lower `v`'s price until its cheapest residual arc is admissible at −ε; the arcs
    /// scanned.
    fn relabel(&mut self, v: usize, epsilon: i64) -> Result<usize, Stuck> {
        let (start, end) = (self.first[v] as usize, self.first[v + 1] as usize);
        let mut best = i64::MIN;
        for a in start..end {
            if self.rcap[a] > 0 {
                best = best.max(self.price[self.head[a] as usize] - self.cost[a]);
            }
        }
        if best == i64::MIN {
            return Err(Stuck::NoWayOut);
        }
        self.price[v] = best - epsilon;
        if self.price[v] < self.floor {
            return Err(Stuck::Floor);
        }
        self.current[v] = start as u32;
        Ok(end - start + 1)
    }

    /// Goldberg's global price update: for each node, the fewest ε-steps its price must fall
    /// for a path of admissible arcs to lead from it to a deficit (arc `v → w` costs
    /// `⌊reduced/ε⌋ + 1` steps), by a bucket-based shortest-path pass backwards from the
    /// deficits that stops once every excess is reached. Settled nodes fall by their rank, the
    /// rest by the level where the pass stopped; every residual arc stays ε-optimal.
    fn update_prices(&mut self, epsilon: i64) {
        let n = self.nodes();
        let limit = self.buckets.len() - 1;
        self.rank.fill(u64::MAX);
        self.settled.fill(false);
        let mut total_excess: i64 = 0;
        for v in 0..n {
            if self.excess[v] < 0 {
                self.rank[v] = 0;
                self.buckets[0].push(v as u32);
            } else if self.excess[v] > 0 {
                total_excess += self.excess[v];
            }
        }
        if total_excess == 0 {
            self.buckets[0].clear();
            return;
        }
        let (mut reached, mut level, mut deepest) = (0i64, 0usize, 0usize);
        'scan: while level <= limit.min(deepest) {
            while let Some(w) = self.buckets[level].pop() {
                let w = w as usize;
                if self.settled[w] || self.rank[w] != level as u64 {
                    continue;
                }
                self.settled[w] = true;
                if self.excess[w] > 0 {
                    reached += self.excess[w];
                    if reached >= total_excess {
                        break 'scan;
                    }
                }
                // The arcs v → w with residual capacity are the reverses of w's arcs.
                for b in self.first[w] as usize..self.first[w + 1] as usize {
                    if self.back_rcap[b] == 0 {
                        continue;
                    }
                    let v = self.head[b] as usize;
                    if self.settled[v] {
                        continue;
                    }
                    let reduced = -self.cost[b] + self.price[v] - self.price[w];
                    let steps = level as u64 + (reduced.div_euclid(epsilon) + 1).max(0) as u64;
                    if steps < self.rank[v] {
                        self.rank[v] = steps;
                        if steps as usize <= limit {
                            self.buckets[steps as usize].push(v as u32);
                            deepest = deepest.max(steps as usize);
                        }
                    }
                }
            }
            level += 1;
        }
        let stop = level.min(limit) as u64;
        for bucket in &mut self.buckets[..=deepest.min(limit)] {
            bucket.clear();
        }
        for v in 0..n {
            let fall = if self.settled[v] { self.rank[v] } else { stop };
            self.price[v] -= fall as i64 * epsilon;
        }
        self.current.copy_from_slice(&self.first[..n]);
    }

    /// The flow on each network arc, and exact potentials from the ε-optimal prices.
    fn solution(&self, network: &Network) -> FlowSolution {
        let flow: Vec<i64> = network
            .arcs
            .iter()
            .zip(&self.forward)
            .map(|(a, &f)| a.cap - self.rcap[f as usize])
            .collect();
        let potentials = self.exact_potentials();
        FlowSolution {
            cost: network.cost_of(&flow),
            flow,
            potentials,
        }
    }

    /// Shortest distances over the residual graph from a root joined to every node, by
    /// Dijkstra on lengths reduced by the prices plus one per arc (non-negative, the flow being
    /// ε-optimal with ε = 1); a path has fewer than `scale` arcs, so dividing by `scale` gives
    /// the exact distance in the original costs.
    fn exact_potentials(&self) -> Vec<i64> {
        use std::cmp::Reverse;
        let n = self.nodes();
        let top = self.price.iter().copied().max().unwrap_or(0);
        let mut dist: Vec<i64> = self.price.iter().map(|p| top - p + 1).collect();
        let mut done = vec![false; n];
        let mut heap: std::collections::BinaryHeap<Reverse<(i64, u32)>> =
            (0..n).map(|v| Reverse((dist[v], v as u32))).collect();
        while let Some(Reverse((d, v))) = heap.pop() {
            let v = v as usize;
            if done[v] || d != dist[v] {
                continue;
            }
            done[v] = true;
            for a in self.first[v] as usize..self.first[v + 1] as usize {
                let w = self.head[a] as usize;
                if self.rcap[a] == 0 || done[w] {
                    continue;
                }
                // Clamped so that a bug shows in the certificate check, not in Dijkstra.
                let length = (self.reduced(v, a) + 1).max(0);
                if d + length < dist[w] {
                    dist[w] = d + length;
                    heap.push(Reverse((d + length, w as u32)));
                }
            }
        }
        (0..n)
            .map(|v| (dist[v] + self.price[v] - top).div_euclid(self.scale))
            .collect()
    }
}
