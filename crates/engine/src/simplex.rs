//! Primal network simplex for program-size min-cost flow (hundreds of providers, thousands of
//! recipients): a strongly feasible spanning tree with an artificial root, block-search
//! pricing, the leaving arc chosen as in LEMON so degenerate pivots cannot cycle.
//!
//! The solver keeps its tree between solves: after [`NetworkSimplex::set_cost`] (how a pair is
//! fixed or forbidden: a prohibitive cost one way or the other) the next
//! [`NetworkSimplex::solve`] starts from the previous optimum, still primal feasible, and
//! usually needs a handful of pivots.

use crate::network::{FlowSolution, Infeasible, Network};

const LOWER: i8 = 1;
const TREE: i8 = 0;
const UPPER: i8 = -1;
/// The arc joining a node to its parent goes up (node → parent) or down (parent → node).
const UP: i64 = 1;
const DOWN: i64 = -1;
const NONE: usize = usize::MAX;
/// No node, in the 32-bit child and sibling lists (the tree walks read them node after node).
const NO_NODE: u32 = u32::MAX;

pub struct NetworkSimplex {
    network: Network,
    /// Original arcs, then one artificial arc per node (node ↔ root).
    /// 32-bit node indices: pricing reads every arc's ends, and less to read is faster.
    source: Vec<u32>,
    target: Vec<u32>,
    cap: Vec<i64>,
    cost: Vec<i64>,
    flow: Vec<i64>,
    state: Vec<i8>,
    /// Tree: parent node, the arc to it and its direction, depth, potential, and children as
    /// doubly linked sibling lists.
    parent: Vec<usize>,
    pred: Vec<usize>,
    pred_dir: Vec<i64>,
    depth: Vec<u32>,
    pi: Vec<i64>,
    first_child: Vec<u32>,
    next_sibling: Vec<u32>,
    prev_sibling: Vec<u32>,
    /// Where block-search pricing resumes.
    next_arc: usize,
    /// Pivots made by the last solve.
    pub pivots: u64,
    /// Some arc has a lower bound (flows are stored less it).
    has_low: bool,
    /// A pivot's working lists, kept between pivots: the path re-hung, its new links, the
    /// subtree walk.
    scratch_path: Vec<usize>,
    scratch_links: Vec<(usize, usize, usize, i64)>,
    scratch_stack: Vec<(u32, u32)>,
}

impl NetworkSimplex {
    /// Set up the problem with the all-artificial starting tree.
    pub fn new(network: &Network) -> Self {
        let (n, m) = (network.nodes(), network.arcs.len());
        let root = n;
        let big = big_cost(network);
        let mut s = NetworkSimplex {
            network: network.clone(),
            source: Vec::with_capacity(m + n),
            target: Vec::with_capacity(m + n),
            cap: Vec::with_capacity(m + n),
            cost: Vec::with_capacity(m + n),
            flow: Vec::with_capacity(m + n),
            state: Vec::with_capacity(m + n),
            parent: vec![root; n + 1],
            pred: vec![NONE; n + 1],
            pred_dir: vec![UP; n + 1],
            depth: vec![1; n + 1],
            pi: vec![0; n + 1],
            first_child: vec![NO_NODE; n + 1],
            next_sibling: vec![NO_NODE; n + 1],
            prev_sibling: vec![NO_NODE; n + 1],
            next_arc: 0,
            pivots: 0,
            has_low: network.arcs.iter().any(|a| a.low != 0),
            scratch_path: Vec::new(),
            scratch_links: Vec::new(),
            scratch_stack: Vec::new(),
        };
        // Lower bounds moved into the supplies: flow = low + y with 0 ≤ y ≤ cap − low.
        let mut b = network.supply.clone();
        for a in &network.arcs {
            s.source.push(a.from as u32);
            s.target.push(a.to as u32);
            s.cap.push(a.cap - a.low);
            s.cost.push(a.cost);
            s.flow.push(0);
            s.state.push(LOWER);
            b[a.from] -= a.low;
            b[a.to] += a.low;
        }
        s.parent[root] = NONE;
        s.depth[root] = 0;
        for (v, &bv) in b.iter().enumerate() {
            let e = s.source.len();
            if bv >= 0 {
                s.source.push(v as u32);
                s.target.push(root as u32);
                s.flow.push(bv);
                s.pred_dir[v] = UP;
                s.pi[v] = -big;
            } else {
                s.source.push(root as u32);
                s.target.push(v as u32);
                s.flow.push(-bv);
                s.pred_dir[v] = DOWN;
                s.pi[v] = big;
            }
            s.cap.push(i64::MAX / 4);
            s.cost.push(big);
            s.state.push(TREE);
            s.pred[v] = e;
            s.attach(v, root);
        }
        s
    }

    /// Change an original arc's cost (to fix or forbid a pair); the next solve starts from the
    /// current tree.
    pub fn set_cost(&mut self, arc: usize, cost: i64) {
        self.cost[arc] = cost;
        self.network.arcs[arc].cost = cost;
        let mut moved = self.state[arc] == TREE;
        // The artificial arcs must stay dearer than any path of real arcs.
        let (n, m) = (self.network.nodes(), self.network.arcs.len());
        let big = big_cost(&self.network);
        if n > 0 && big > self.cost[m] {
            for e in m..m + n {
                self.cost[e] = big;
            }
            moved = true;
        }
        if moved {
            // Potentials below a changed tree arc shift with it: recompute them from the root.
            self.recompute_potentials();
        }
    }

    /// Optimise from the current tree.
    pub fn solve(&mut self) -> Result<FlowSolution, Infeasible> {
        self.pivots = 0;
        let m = self.network.arcs.len();
        while let Some(entering) = self.price() {
            self.pivot(entering);
            self.pivots += 1;
        }
        let n = self.network.nodes();
        if (m..m + n).any(|e| self.flow[e] > 0) {
            // Flow left on an artificial arc: no feasible flow. The reference names the cut
            // (and, were the two ever to disagree, answers instead).
            return crate::ssp::solve(&self.network);
        }
        // Read from the solver's own contiguous arrays (a re-solve's answer costs a copy, not a
        // pass over the network's arcs); lower bounds added back when there are any.
        let (flow, cost) = if self.has_low {
            let flow: Vec<i64> = (0..m)
                .map(|e| self.flow[e] + self.network.arcs[e].low)
                .collect();
            let cost = self.network.cost_of(&flow);
            (flow, cost)
        } else {
            let cost = self.cost[..m]
                .iter()
                .zip(&self.flow[..m])
                .map(|(&c, &f)| i128::from(c) * i128::from(f))
                .sum();
            (self.flow[..m].to_vec(), cost)
        };
        Ok(FlowSolution {
            cost,
            flow,
            potentials: self.pi[..n].to_vec(),
        })
    }

    fn reduced(&self, e: usize) -> i64 {
        self.cost[e] + self.pi[self.source[e] as usize] - self.pi[self.target[e] as usize]
    }

    /// Block search: the most violating arc of the first block that has one. Blocks run on
    /// from where the last search stopped, wrapping round at the end of the arcs.
    fn price(&mut self) -> Option<usize> {
        let total = self.source.len();
        if total == 0 {
            return None;
        }
        // Blocks of 6·√arcs: fewer, better pivots than LEMON's √arcs on program-size transport
        // problems (bench/resolve.sh: 411 → 187 pivots per re-solve, cold solves 40% faster).
        let block = (((total as f64).sqrt() * 6.0) as usize).max(10);
        let (mut best, mut best_violation) = (NONE, 0i64);
        let (mut start, mut scanned, mut in_block) = (self.next_arc, 0, 0);
        while scanned < total {
            // One stretch: to the end of the block or of the arcs, whichever comes first.
            let len = (block - in_block).min(total - start).min(total - scanned);
            let end = start + len;
            let arcs = self.cost[start..end]
                .iter()
                .zip(&self.state[start..end])
                .zip(self.source[start..end].iter().zip(&self.target[start..end]));
            for (k, ((&cost, &state), (&from, &to))) in arcs.enumerate() {
                let reduced = cost + self.pi[from as usize] - self.pi[to as usize];
                let violation = i64::from(state) * reduced;
                if violation < best_violation {
                    best_violation = violation;
                    best = start + k;
                }
            }
            scanned += len;
            in_block += len;
            start = if end == total { 0 } else { end };
            if in_block == block {
                in_block = 0;
                if best != NONE {
                    break;
                }
            }
        }
        self.next_arc = start;
        (best != NONE).then_some(best)
    }

    fn pivot(&mut self, entering: usize) {
        let (first, second) = if self.state[entering] == LOWER {
            (
                self.source[entering] as usize,
                self.target[entering] as usize,
            )
        } else {
            (
                self.target[entering] as usize,
                self.source[entering] as usize,
            )
        };
        // The apex of the cycle.
        let (mut a, mut b) = (first, second);
        while a != b {
            if self.depth[a] > self.depth[b] {
                a = self.parent[a];
            } else if self.depth[b] > self.depth[a] {
                b = self.parent[b];
            } else {
                a = self.parent[a];
                b = self.parent[b];
            }
        }
        let join = a;
        // The leaving arc: the last blocking arc in the cycle's direction from the apex.
        let mut delta = self.cap[entering];
        let (mut out_node, mut side) = (NONE, 0);
        let mut u = first;
        while u != join {
            let e = self.pred[u];
            let room = if self.pred_dir[u] == DOWN {
                self.cap[e] - self.flow[e]
            } else {
                self.flow[e]
            };
            if room < delta {
                delta = room;
                out_node = u;
                side = 1;
            }
            u = self.parent[u];
        }
        let mut u = second;
        while u != join {
            let e = self.pred[u];
            let room = if self.pred_dir[u] == UP {
                self.cap[e] - self.flow[e]
            } else {
                self.flow[e]
            };
            if room <= delta {
                delta = room;
                out_node = u;
                side = 2;
            }
            u = self.parent[u];
        }
        if delta > 0 {
            let value = i64::from(self.state[entering]) * delta;
            self.flow[entering] += value;
            let mut u = self.source[entering] as usize;
            while u != join {
                let e = self.pred[u];
                self.flow[e] -= self.pred_dir[u] * value;
                u = self.parent[u];
            }
            let mut u = self.target[entering] as usize;
            while u != join {
                let e = self.pred[u];
                self.flow[e] += self.pred_dir[u] * value;
                u = self.parent[u];
            }
        }
        if side == 0 {
            // The entering arc itself blocks: it moves to its other bound.
            self.state[entering] = -self.state[entering];
            return;
        }
        let (u_in, v_in) = if side == 1 {
            (first, second)
        } else {
            (second, first)
        };
        let leaving = self.pred[out_node];
        self.state[leaving] = if self.flow[leaving] == 0 {
            LOWER
        } else {
            UPPER
        };
        self.state[entering] = TREE;
        // Re-hang the subtree of `out_node` from `u_in`, reversing the path between them.
        let sigma = {
            let rc = self.reduced(entering);
            if u_in == self.source[entering] as usize {
                -rc
            } else {
                rc
            }
        };
        let mut path = std::mem::take(&mut self.scratch_path);
        path.clear();
        let mut w = u_in;
        loop {
            path.push(w);
            if w == out_node {
                break;
            }
            w = self.parent[w];
        }
        // New links: u_in hangs from v_in by the entering arc; each next node on the old path
        // hangs from the previous one by the arc that used to join them.
        let mut new_links = std::mem::take(&mut self.scratch_links);
        new_links.clear();
        new_links.push((
            u_in,
            v_in,
            entering,
            if self.source[entering] as usize == u_in {
                UP
            } else {
                DOWN
            },
        ));
        for k in 1..path.len() {
            let (child, node) = (path[k - 1], path[k]);
            new_links.push((node, child, self.pred[child], -self.pred_dir[child]));
        }
        for &(node, _, _, _) in &new_links {
            self.detach(node);
        }
        for &(node, new_parent, arc, dir) in &new_links {
            self.pred[node] = arc;
            self.pred_dir[node] = dir;
            self.attach(node, new_parent);
        }
        self.scratch_path = path;
        self.scratch_links = new_links;
        // Depths and potentials of the moved subtree, top down.
        let mut stack = std::mem::take(&mut self.scratch_stack);
        stack.clear();
        stack.push((u_in as u32, self.depth[v_in] + 1));
        while let Some((x, depth)) = stack.pop() {
            let x = x as usize;
            self.depth[x] = depth;
            self.pi[x] += sigma;
            let mut c = self.first_child[x];
            while c != NO_NODE {
                stack.push((c, depth + 1));
                c = self.next_sibling[c as usize];
            }
        }
        self.scratch_stack = stack;
    }

    fn attach(&mut self, node: usize, parent: usize) {
        self.parent[node] = parent;
        self.prev_sibling[node] = NO_NODE;
        self.next_sibling[node] = self.first_child[parent];
        if self.first_child[parent] != NO_NODE {
            self.prev_sibling[self.first_child[parent] as usize] = node as u32;
        }
        self.first_child[parent] = node as u32;
    }

    fn detach(&mut self, node: usize) {
        let parent = self.parent[node];
        let (prev, next) = (self.prev_sibling[node], self.next_sibling[node]);
        if prev != NO_NODE {
            self.next_sibling[prev as usize] = next;
        } else if parent != NONE {
            self.first_child[parent] = next;
        }
        if next != NO_NODE {
            self.prev_sibling[next as usize] = prev;
        }
        self.prev_sibling[node] = NO_NODE;
        self.next_sibling[node] = NO_NODE;
    }

    fn recompute_potentials(&mut self) {
        let root = self.network.nodes();
        let mut stack = vec![root];
        while let Some(x) = stack.pop() {
            if x != root {
                let e = self.pred[x];
                let p = self.parent[x];
                // Tree arcs have reduced cost c + π(source) − π(target) = 0.
                self.pi[x] = if self.source[e] as usize == x {
                    self.pi[p] - self.cost[e]
                } else {
                    self.pi[p] + self.cost[e]
                };
            }
            let mut c = self.first_child[x];
            while c != NO_NODE {
                stack.push(c as usize);
                c = self.next_sibling[c as usize];
            }
        }
    }
}

/// The cost of an artificial arc: more than any simple path of real arcs can cost.
fn big_cost(network: &Network) -> i64 {
    let max_cost = network.arcs.iter().map(|a| a.cost.abs()).max().unwrap_or(0);
    (network.nodes() as i64 + 1)
        .saturating_mul(max_cost + 1)
        .max(1)
}

/// Solve once.
pub fn solve(network: &Network) -> Result<FlowSolution, Infeasible> {
    NetworkSimplex::new(network).solve()
}
