//! Primal network simplex for program-size min-cost flow (hundreds of providers, thousands of
//! recipients): a strongly feasible spanning tree with an artificial root, block-search
//! pricing, the leaving arc chosen as in LEMON so degenerate pivots cannot cycle.
//!
//! The solver keeps its tree between solves: after [`NetworkSimplex::set_cost`] (how a pair is
//! fixed or forbidden: a prohibitive cost one way or the other) the next
//! [`NetworkSimplex::optimize`] starts from the previous optimum, still primal feasible.
//!
//! A warm solve does not price every arc. The last proof of optimality is kept: the potentials
//! it held and a candidate list (the tree arcs and the non-tree arcs within a margin of
//! entering). The warm solve pivots on candidates only, then proves optimality over all arcs by
//! checking just the arcs the proof cannot vouch for: those at a node whose potential moved by
//! more than half the margin away from the median move, and those whose cost changed or that
//! entered the tree since. Every other arc was more than the margin from violating and its
//! reduced cost moved by less. Violations found join the candidates and pivoting resumes; when
//! the check would cover a quarter of the arcs, the solve prices them all instead. On a
//! 500 × 5,000 transport problem a pair's change moves few potentials by more than a unit or
//! two (bench/resolve.sh: p50 about 1 ms with 2.5 million arcs), though its pivots move
//! thousands on the way.

use crate::network::{FlowSolution, Infeasible, Network};
use std::borrow::Cow;

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
    /// The last solve proved its optimum warm: from the kept proof, pricing candidates and
    /// checking only the arcs the proof could not vouch for, not every arc.
    pub warm: bool,
    /// Some arc has a lower bound (flows are stored less it).
    has_low: bool,
    /// A pivot's working lists, kept between pivots: the path re-hung, its new links, the
    /// subtree walk.
    scratch_path: Vec<usize>,
    scratch_links: Vec<(usize, usize, usize, i64)>,
    scratch_stack: Vec<(u32, u32)>,
    /// Σ cost · flow over all arcs, artificial ones included (flows less lower bounds), kept
    /// up by the pivots and cost changes; and Σ cost · lower bound over the real arcs.
    total: i128,
    low_cost: i128,
    /// The largest |cost| of a real arc so far (an upper bound: it never falls), for the
    /// artificial arcs' cost.
    max_cost: i64,
    /// The tree is optimal for the current costs (a solve ended there and no cost changed).
    optimal: bool,
    /// The last proof of optimality, taken at the first cost change after a solve.
    proof: Option<Proof>,
    /// Arcs whose cost changed or that entered the tree since the proof.
    changed: Vec<u32>,
    /// Each node's arcs, both directions, artificial ones included (built for warm checks).
    incidence: Option<Incidence>,
}

/// What a warm solve needs from the last proof of optimality.
struct Proof {
    /// The potentials then.
    pi: Vec<i64>,
    /// Arcs priced by a warm solve: tree arcs and non-tree arcs whose reduced cost was within
    /// `near` of entering, plus those found violating since; each with its ends, cost and state
    /// beside it, so pricing reads one array and the potentials.
    candidates: Vec<Candidate>,
    /// Each arc's place in `candidates`, or `NO_SLOT`.
    slot: Vec<u32>,
    near: i64,
    /// How many candidates the list started with (it is pruned when it doubles).
    initial: usize,
    /// Where candidate pricing resumes.
    next: usize,
}

#[derive(Clone, Copy)]
struct Candidate {
    cost: i64,
    from: u32,
    to: u32,
    arc: u32,
    state: i8,
}

impl Candidate {
    /// How far the arc is from entering at potentials `pi`.
    fn violation(&self, pi: &[i64]) -> i64 {
        i64::from(self.state) * (self.cost + pi[self.from as usize] - pi[self.to as usize])
    }
}

const NO_SLOT: u32 = u32::MAX;

/// Compressed incidence lists: node `v`'s arcs are `arcs[start[v]..start[v + 1]]`.
struct Incidence {
    start: Vec<u32>,
    arcs: Vec<u32>,
}

/// Candidates wanted per node when a proof is taken (tree arcs come on top): on the 500 × 5,000
/// transport optima of bench/resolve.sh (costs 0–1,000), 4 per node takes the arcs within 7 of
/// entering with all pairs, within 63 with 50 candidates per recipient.
const CANDIDATES_PER_NODE: usize = 4;

/// The optimum a solve ended with, borrowed from the solver: the flows are read where the
/// pivots left them, not copied (a copy costs more than a warm solve on large problems).
pub struct Optimum<'s> {
    /// Total cost of the flow.
    pub cost: i128,
    /// One potential per node: the certificate.
    pub potentials: Cow<'s, [i64]>,
    flow: Cow<'s, [i64]>,
    /// The network, when arcs have lower bounds (the solver stores flows less them).
    lows: Option<&'s Network>,
}

impl Optimum<'_> {
    /// The flow on an arc.
    pub fn flow(&self, arc: usize) -> i64 {
        match self.lows {
            Some(network) => self.flow[arc] + network.arcs[arc].low,
            None => self.flow[arc],
        }
    }

    /// The flows on all arcs, in order.
    pub fn flows(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.flow.len()).map(|e| self.flow(e))
    }

    /// An owned copy of the answer.
    pub fn to_solution(&self) -> FlowSolution {
        FlowSolution {
            cost: self.cost,
            flow: self.flows().collect(),
            potentials: self.potentials.to_vec(),
        }
    }
}

impl NetworkSimplex {
    /// Set up the problem with the all-artificial starting tree.
    pub fn new(network: &Network) -> Self {
        let (n, m) = (network.nodes(), network.arcs.len());
        let root = n;
        let max_cost = max_cost(network);
        let big = big_cost(n, max_cost);
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
            warm: false,
            has_low: network.arcs.iter().any(|a| a.low != 0),
            scratch_path: Vec::new(),
            scratch_links: Vec::new(),
            scratch_stack: Vec::new(),
            total: 0,
            low_cost: 0,
            max_cost,
            optimal: false,
            proof: None,
            changed: Vec::new(),
            incidence: None,
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
            s.low_cost += i128::from(a.cost) * i128::from(a.low);
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
            s.total += i128::from(big) * i128::from(bv.abs());
        }
        s
    }

    /// Set up what warm re-solves use, after a solve: the proof of the current optimum (two
    /// passes over the arcs) and each node's arcs. The first cost change does it otherwise
    /// (the incidence lists at the first warm solve); call it to keep that work out of the
    /// first re-solve.
    pub fn prepare_warm(&mut self) {
        if self.optimal && self.proof.is_none() {
            self.take_proof();
        }
        self.incidence();
    }

    /// Each node's arcs, built on first use.
    fn incidence(&mut self) -> &Incidence {
        let (source, target, nodes) = (&self.source, &self.target, self.pi.len());
        self.incidence
            .get_or_insert_with(|| Incidence::of(source, target, nodes))
    }

    /// Arc `e` as a candidate, with its ends, cost and state.
    fn candidate(&self, e: usize) -> Candidate {
        Candidate {
            cost: self.cost[e],
            from: self.source[e],
            to: self.target[e],
            arc: e as u32,
            state: self.state[e],
        }
    }

    /// How far arc `e` is from entering (negative: it violates optimality).
    fn violation(&self, e: usize) -> i64 {
        i64::from(self.state[e]) * self.reduced(e)
    }

    /// Change an original arc's cost (to fix or forbid a pair); the next solve starts from the
    /// current tree.
    pub fn set_cost(&mut self, arc: usize, cost: i64) {
        if self.optimal && self.proof.is_none() {
            self.take_proof();
        }
        self.optimal = false;
        let old = self.cost[arc];
        self.cost[arc] = cost;
        self.total += i128::from(cost - old) * i128::from(self.flow[arc]);
        let low = self.network.arcs[arc].low;
        self.low_cost += i128::from(cost - old) * i128::from(low);
        self.network.arcs[arc].cost = cost;
        if let Some(proof) = &mut self.proof {
            proof.set_cost(arc, cost);
            self.changed.push(arc as u32);
        }
        let mut moved = self.state[arc] == TREE;
        // The artificial arcs must stay dearer than any path of real arcs.
        let (n, m) = (self.network.nodes(), self.network.arcs.len());
        self.max_cost = self.max_cost.max(cost.abs());
        let big = big_cost(n, self.max_cost);
        if n > 0 && big > self.cost[m] {
            let raise = i128::from(big - self.cost[m]);
            for e in m..m + n {
                self.cost[e] = big;
                self.total += raise * i128::from(self.flow[e]);
                if let Some(proof) = &mut self.proof {
                    proof.set_cost(e, big);
                    self.changed.push(e as u32);
                }
            }
            moved = true;
        }
        if moved {
            // Potentials below a changed tree arc shift with it: recompute them from the root.
            self.recompute_potentials();
        }
    }

    /// Optimise from the current tree; an owned copy of the answer.
    pub fn solve(&mut self) -> Result<FlowSolution, Infeasible> {
        self.optimize().map(|optimum| optimum.to_solution())
    }

    /// Optimise from the current tree; the answer borrowed from the solver.
    pub fn optimize(&mut self) -> Result<Optimum<'_>, Infeasible> {
        self.pivots = 0;
        self.warm = self.optimal || (self.proof.is_some() && self.warm_solve());
        if !self.warm {
            while let Some(entering) = self.price() {
                self.pivot(entering);
            }
            // Every arc was priced: the last proof no longer describes this tree.
            self.proof = None;
            self.changed.clear();
        }
        let (n, m) = (self.network.nodes(), self.network.arcs.len());
        if (m..m + n).any(|e| self.flow[e] > 0) {
            // Flow left on an artificial arc: no feasible flow. The reference names the cut
            // (and, were the two ever to disagree, answers instead).
            self.optimal = false;
            return crate::ssp::solve(&self.network).map(|answer| Optimum {
                cost: answer.cost,
                potentials: Cow::Owned(answer.potentials),
                flow: Cow::Owned(answer.flow),
                lows: None,
            });
        }
        self.optimal = true;
        Ok(Optimum {
            cost: self.total + self.low_cost,
            potentials: Cow::Borrowed(&self.pi[..n]),
            flow: Cow::Borrowed(&self.flow[..m]),
            lows: self.has_low.then_some(&self.network),
        })
    }

    /// Pivot on the candidates, then check the arcs the proof cannot vouch for; `false` when
    /// that check would cover too many arcs (the caller prices them all).
    fn warm_solve(&mut self) -> bool {
        self.incidence();
        let total = self.source.len();
        let mut proof = self.proof.take().expect("a warm solve has a proof");
        let (mut found, mut near, mut dirty) = (Vec::new(), Vec::new(), Vec::new());
        let (mut moved, mut scratch, mut next_pi) = (Vec::new(), Vec::new(), Vec::new());
        let done = loop {
            while let Some(entering) = proof.price(&self.pi) {
                let leaving = self.pivot(entering);
                self.changed.push(entering as u32);
                proof.set_state(entering, self.state[entering]);
                if let Some(leaving) = leaving {
                    proof.set_state(leaving, self.state[leaving]);
                }
            }
            // Which arcs the proof cannot vouch for. Let δ(v) be how far v's potential moved
            // since the proof, and c the median move. An arc listed among the candidates was
            // just priced. An arc not listed, whose cost and state did not change, was at least
            // `near + 1` from violating then, and its reduced cost moved by δ(u) − δ(v): when
            // both ends moved within h = ⌈near / 2⌉ of c, by at most `near + 1`, so it still
            // does not violate. Only arcs at a node moved further (dirty) and the changed arcs
            // are checked. (A move of every potential by one constant changes no reduced cost;
            // the root never moves, so when c ≠ 0 it is dirty and the artificial arcs are
            // checked.)
            let n = self.pi.len();
            moved.clear();
            moved.extend((0..n).map(|v| i128::from(self.pi[v]) - i128::from(proof.pi[v])));
            let c = median(&moved, &mut scratch);
            let h = i128::from(proof.near / 2 + proof.near % 2);
            let incidence = self.incidence.as_ref().expect("built above");
            dirty.clear();
            dirty.extend((0..n).filter(|&v| (moved[v] - c).abs() > h));
            let work: usize = self.changed.len()
                + dirty
                    .iter()
                    .map(|&v| (incidence.start[v + 1] - incidence.start[v]) as usize)
                    .sum::<usize>();
            if work > total / 4 {
                break false;
            }
            // The next proof's potentials: dirty nodes' as they are, the others' moved by c
            // (which changes no reduced cost among them). Non-listed arcs must be more than
            // `near` from violating at them: the checked ones that are not join the candidates.
            next_pi.clear();
            next_pi.extend_from_slice(&proof.pi);
            for v in &mut next_pi {
                *v = i64::try_from(i128::from(*v) + c).unwrap_or(if c < 0 {
                    i64::MIN
                } else {
                    i64::MAX
                });
            }
            for &v in &dirty {
                next_pi[v] = self.pi[v];
            }
            found.clear();
            near.clear();
            let arcs = dirty
                .iter()
                .flat_map(|&v| {
                    incidence.arcs[incidence.start[v] as usize..incidence.start[v + 1] as usize]
                        .iter()
                })
                .chain(&self.changed);
            for &e in arcs {
                let k = e as usize;
                let (from, to) = (self.source[k] as usize, self.target[k] as usize);
                if self.violation(k) < 0 {
                    found.push(e);
                } else {
                    // In 128 bits: the next proof's potentials may be up to `near` from the
                    // current ones, and `near` is unbounded when every arc is a candidate.
                    let at_next = i128::from(self.cost[k]) + i128::from(next_pi[from])
                        - i128::from(next_pi[to]);
                    if i128::from(self.state[k]) * at_next <= i128::from(proof.near) {
                        near.push(e);
                    }
                }
            }
            let add = if found.is_empty() { &near } else { &found };
            for &e in add {
                let e = e as usize;
                proof.add(self.candidate(e));
            }
            if found.is_empty() {
                // Optimal: this is the new proof.
                std::mem::swap(&mut proof.pi, &mut next_pi);
                if proof.candidates.len() > 2 * proof.initial {
                    proof.prune();
                }
                self.changed.clear();
                break true;
            }
        };
        if done {
            self.proof = Some(proof);
        }
        done
    }

    /// Prove the current (optimal) tree optimal once more, keeping what a warm solve needs:
    /// the potentials and the candidates (one pass to find how near to entering an arc must be,
    /// one to list them).
    fn take_proof(&mut self) {
        let total = self.source.len();
        let wanted = CANDIDATES_PER_NODE * self.pi.len();
        // Arcs per bit length of their (non-negative) violation.
        let mut counts = [0usize; 65];
        for e in 0..total {
            if self.state[e] != TREE {
                counts[(64 - self.violation(e).max(0).leading_zeros()) as usize] += 1;
            }
        }
        let (mut bits, mut sum) = (0, counts[0]);
        while bits < 64 && sum + counts[bits + 1] <= wanted {
            bits += 1;
            sum += counts[bits];
        }
        let near = if bits >= 63 {
            i64::MAX
        } else {
            (1i64 << bits) - 1
        };
        let mut proof = Proof {
            pi: self.pi.clone(),
            candidates: Vec::new(),
            slot: vec![NO_SLOT; total],
            near,
            initial: 0,
            next: 0,
        };
        for e in 0..total {
            if self.state[e] == TREE || self.violation(e) <= near {
                proof.add(self.candidate(e));
            }
        }
        proof.initial = proof.candidates.len();
        self.proof = Some(proof);
        self.changed.clear();
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

    /// Pivot on an entering arc; the arc that left the tree, if another did.
    fn pivot(&mut self, entering: usize) -> Option<usize> {
        self.pivots += 1;
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
        let join = self.apex(first, second);
        let (delta, out_node, side) = self.leaving(entering, first, second, join);
        if delta > 0 {
            self.push_flow(entering, join, delta);
        }
        if side == 0 {
            // The entering arc itself blocks: it moves to its other bound.
            self.state[entering] = -self.state[entering];
            return None;
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
        self.rehang(entering, out_node, u_in, v_in);
        Some(leaving)
    }

    /// The apex of the cycle an arc from `a` to `b` closes in the tree.
    #[inline]
    fn apex(&self, mut a: usize, mut b: usize) -> usize {
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
        a
    }

    /// The leaving arc: the last blocking arc in the cycle's direction from the apex. Returns
    /// how much flow the cycle can take, the node below the leaving arc, and the side of the
    /// cycle it is on (1: `first`'s, 2: `second`'s, 0: the entering arc itself blocks).
    #[inline]
    fn leaving(
        &self,
        entering: usize,
        first: usize,
        second: usize,
        join: usize,
    ) -> (i64, usize, u8) {
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
        (delta, out_node, side)
    }

    /// Send `delta` round the cycle of the entering arc, in its direction.
    #[inline]
    fn push_flow(&mut self, entering: usize, join: usize, delta: i64) {
        let value = i64::from(self.state[entering]) * delta;
        // A pivot's cycle costs the entering arc's reduced cost per unit (tree arcs have
        // none).
        self.total += i128::from(value) * i128::from(self.reduced(entering));
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

    /// Re-hang the subtree of `out_node` from `u_in`, reversing the path between them, and
    /// update the moved subtree's depths and potentials.
    #[inline]
    fn rehang(&mut self, entering: usize, out_node: usize, u_in: usize, v_in: usize) {
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

/// The largest |cost| of an arc.
fn max_cost(network: &Network) -> i64 {
    network.arcs.iter().map(|a| a.cost.abs()).max().unwrap_or(0)
}

/// The cost of an artificial arc: more than any simple path of real arcs can cost.
fn big_cost(nodes: usize, max_cost: i64) -> i64 {
    (nodes as i64 + 1).saturating_mul(max_cost + 1).max(1)
}

impl Proof {
    fn add(&mut self, candidate: Candidate) {
        let slot = &mut self.slot[candidate.arc as usize];
        if *slot == NO_SLOT {
            *slot = self.candidates.len() as u32;
            self.candidates.push(candidate);
        }
    }

    fn set_state(&mut self, arc: usize, state: i8) {
        if let Some(c) = self.candidates.get_mut(self.slot[arc] as usize) {
            c.state = state;
        }
    }

    fn set_cost(&mut self, arc: usize, cost: i64) {
        if let Some(c) = self.candidates.get_mut(self.slot[arc] as usize) {
            c.cost = cost;
        }
    }

    /// Block search over the candidates: the most violating of the first block that has one.
    fn price(&mut self, pi: &[i64]) -> Option<usize> {
        let total = self.candidates.len();
        if total == 0 {
            return None;
        }
        let block = (((total as f64).sqrt() * 6.0) as usize).max(10);
        let (mut best, mut best_violation) = (NONE, 0i64);
        let mut at = self.next.min(total - 1);
        for scanned in 1..=total {
            let c = &self.candidates[at];
            let violation = c.violation(pi);
            if violation < best_violation {
                best_violation = violation;
                best = c.arc as usize;
            }
            at += 1;
            if at == total {
                at = 0;
            }
            if scanned % block == 0 && best != NONE {
                break;
            }
        }
        self.next = at;
        (best != NONE).then_some(best)
    }

    /// Drop the candidates more than `near` from entering at the proof's potentials (tree
    /// arcs stay).
    fn prune(&mut self) {
        let (near, pi) = (self.near, &self.pi);
        let slot = &mut self.slot;
        self.candidates.retain(|c| {
            let keep = c.state == TREE || c.violation(pi) <= near;
            if !keep {
                slot[c.arc as usize] = NO_SLOT;
            }
            keep
        });
        for (k, c) in self.candidates.iter().enumerate() {
            self.slot[c.arc as usize] = k as u32;
        }
        self.next = 0;
        self.initial = self.candidates.len();
    }
}

/// The median of `values` (the upper one of an even count), using `scratch`.
fn median(values: &[i128], scratch: &mut Vec<i128>) -> i128 {
    scratch.clear();
    scratch.extend_from_slice(values);
    if scratch.is_empty() {
        return 0;
    }
    let middle = scratch.len() / 2;
    *scratch.select_nth_unstable(middle).1
}

impl Incidence {
    fn of(source: &[u32], target: &[u32], nodes: usize) -> Self {
        let mut start = vec![0u32; nodes + 1];
        for (&s, &t) in source.iter().zip(target) {
            start[s as usize + 1] += 1;
            start[t as usize + 1] += 1;
        }
        for v in 0..nodes {
            start[v + 1] += start[v];
        }
        let mut at = start.clone();
        let mut arcs = vec![0u32; 2 * source.len()];
        for (e, (&s, &t)) in source.iter().zip(target).enumerate() {
            for v in [s as usize, t as usize] {
                arcs[at[v] as usize] = e as u32;
                at[v] += 1;
            }
        }
        Incidence { start, arcs }
    }
}

/// Solve once.
pub fn solve(network: &Network) -> Result<FlowSolution, Infeasible> {
    NetworkSimplex::new(network).solve()
}
