//! Successive shortest paths: the plain, well-understood min-cost flow algorithm (Dijkstra on
//! reduced costs, augment along one shortest path at a time). It is the reference the faster
//! solvers are tested against, and it solves any [`Network`] with finite capacities: lower
//! bounds are moved into the supplies, negative-cost arcs start saturated.

use crate::network::{FlowSolution, Infeasible, Network, Reason};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A residual edge; edges come in pairs `2k` (forward) and `2k + 1` (backward).
#[derive(Debug, Clone, Copy)]
struct Edge {
    to: usize,
    cap: i64,
    cost: i64,
}

struct Residual {
    edges: Vec<Edge>,
    /// Edge indices leaving each node.
    out: Vec<Vec<usize>>,
}

impl Residual {
    fn new(nodes: usize) -> Self {
        Residual {
            edges: Vec::new(),
            out: vec![Vec::new(); nodes],
        }
    }

    fn add(&mut self, from: usize, to: usize, forward: i64, backward: i64, cost: i64) -> usize {
        let e = self.edges.len();
        self.edges.push(Edge {
            to,
            cap: forward,
            cost,
        });
        self.edges.push(Edge {
            to: from,
            cap: backward,
            cost: -cost,
        });
        self.out[from].push(e);
        self.out[to].push(e + 1);
        e
    }
}

/// Solve `network` to optimality, or say which demand cannot be met.
pub fn solve(network: &Network) -> Result<FlowSolution, Infeasible> {
    let n = network.nodes();
    crate::network::check_input(network)?;
    // Start from potentials that make every arc's reduced cost non-negative (shortest distances
    // from a virtual root); where negative cycles make that impossible, start with every
    // negative-cost arc saturated instead.
    let start = match initial_potentials(network) {
        Some(potential) => Start::Potentials(potential),
        None => Start::Saturated,
    };
    // What each node still has to send (positive) or receive (negative) once lower bounds (and
    // saturated arcs) are accounted for.
    let mut b = network.supply.clone();
    let (source, sink) = (n, n + 1);
    let mut residual = Residual::new(n + 2);
    let mut forward = Vec::with_capacity(network.arcs.len());
    for a in &network.arcs {
        let room = a.cap - a.low;
        let (start, fwd, bwd) = if a.cost < 0 && matches!(start, Start::Saturated) {
            (a.cap, 0, room)
        } else {
            (a.low, room, 0)
        };
        b[a.from] -= start;
        b[a.to] += start;
        forward.push(residual.add(a.from, a.to, fwd, bwd, a.cost));
    }
    let mut need = 0;
    let mut to_sink = vec![usize::MAX; n];
    for (v, &bv) in b.iter().enumerate() {
        if bv > 0 {
            residual.add(source, v, bv, 0, 0);
            need += bv;
        } else if bv < 0 {
            to_sink[v] = residual.add(v, sink, -bv, 0, 0);
        }
    }
    let mut potential = match start {
        Start::Potentials(mut p) => {
            let lowest = p.iter().copied().min().unwrap_or(0);
            p.push(0); // the source: its arcs leave at reduced cost 0 − π(v) ≥ 0
            p.push(lowest); // the sink: arcs into it arrive at π(v) − lowest ≥ 0
            p
        }
        Start::Saturated => vec![0i64; n + 2],
    };
    let mut sent = 0;
    let mut dist = vec![i64::MAX; n + 2];
    let mut via = vec![usize::MAX; n + 2];
    let mut done = vec![false; n + 2];
    let mut heap = BinaryHeap::new();
    while sent < need {
        dist.fill(i64::MAX);
        done.fill(false);
        dist[source] = 0;
        heap.clear();
        heap.push(Reverse((0i64, source)));
        while let Some(Reverse((d, u))) = heap.pop() {
            if done[u] {
                continue;
            }
            done[u] = true;
            if u == sink {
                break;
            }
            for &e in &residual.out[u] {
                let edge = residual.edges[e];
                if edge.cap == 0 || done[edge.to] {
                    continue;
                }
                let next = d + edge.cost + potential[u] - potential[edge.to];
                if next < dist[edge.to] {
                    dist[edge.to] = next;
                    via[edge.to] = e;
                    heap.push(Reverse((next, edge.to)));
                }
            }
        }
        if !done[sink] {
            break;
        }
        let reach = dist[sink];
        for v in 0..n + 2 {
            potential[v] += if done[v] { dist[v].min(reach) } else { reach };
        }
        let mut push = need - sent;
        let mut v = sink;
        while v != source {
            let e = via[v];
            push = push.min(residual.edges[e].cap);
            v = residual.edges[e ^ 1].to;
        }
        let mut v = sink;
        while v != source {
            let e = via[v];
            residual.edges[e].cap -= push;
            residual.edges[e ^ 1].cap += push;
            v = residual.edges[e ^ 1].to;
        }
        sent += push;
    }
    if sent < need {
        return Err(cut(network, &residual, source, &b, &to_sink));
    }
    let flow: Vec<i64> = network
        .arcs
        .iter()
        .zip(&forward)
        .map(|(a, &e)| a.cap - residual.edges[e].cap)
        .collect();
    potential.truncate(n);
    Ok(FlowSolution {
        cost: network.cost_of(&flow),
        flow,
        potentials: potential,
    })
}

enum Start {
    Potentials(Vec<i64>),
    Saturated,
}

/// Shortest distances from a virtual root joined to every node at cost 0, over the arcs that
/// can carry flow (queue-based Bellman–Ford); `None` on a negative cycle.
fn initial_potentials(network: &Network) -> Option<Vec<i64>> {
    let n = network.nodes();
    if network.arcs.iter().all(|a| a.cost >= 0 || a.cap == a.low) {
        return Some(vec![0; n]);
    }
    let mut out: Vec<Vec<(usize, i64)>> = vec![Vec::new(); n];
    for a in network.arcs.iter().filter(|a| a.cap > a.low) {
        out[a.from].push((a.to, a.cost));
    }
    let mut dist = vec![0i64; n];
    let mut queued = vec![true; n];
    let mut relaxed = vec![0usize; n];
    let mut queue: std::collections::VecDeque<usize> = (0..n).collect();
    while let Some(u) = queue.pop_front() {
        queued[u] = false;
        for &(v, c) in &out[u] {
            if dist[u] + c < dist[v] {
                dist[v] = dist[u] + c;
                relaxed[v] += 1;
                if relaxed[v] > n {
                    return None;
                }
                if !queued[v] {
                    queued[v] = true;
                    queue.push_back(v);
                }
            }
        }
    }
    Some(dist)
}

/// The demand nodes cut off from the remaining supply: everything that can still reach them
/// already does.
fn cut(
    network: &Network,
    residual: &Residual,
    source: usize,
    b: &[i64],
    to_sink: &[usize],
) -> Infeasible {
    let mut reached = vec![false; residual.out.len()];
    let mut stack = vec![source];
    reached[source] = true;
    while let Some(u) = stack.pop() {
        for &e in &residual.out[u] {
            let edge = residual.edges[e];
            if edge.cap > 0 && !reached[edge.to] {
                reached[edge.to] = true;
                stack.push(edge.to);
            }
        }
    }
    let uncovered: Vec<usize> = (0..network.nodes())
        .filter(|&v| b[v] < 0 && !reached[v])
        .collect();
    let demand: i64 = uncovered.iter().map(|&v| -b[v]).sum();
    let short: i64 = uncovered
        .iter()
        .map(|&v| residual.edges[to_sink[v]].cap)
        .sum();
    Infeasible {
        uncovered,
        demand,
        reachable: demand - short,
        reason: Reason::Cut,
    }
}
