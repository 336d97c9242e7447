//! Primal network simplex, the engine's min-cost flow solver, after LEMON's (Kovács 2015, the
//! fastest published open-source one): a strongly feasible spanning tree with an artificial
//! root, kept as a thread (preorder) with subtree sizes and last successors so that a pivot
//! costs the stem and the moved subtree, not the tree; arcs stored mixed so each pricing block
//! samples the whole network; block-search pricing over √arcs, reading 32-bit costs while they
//! fit; LEMON's heuristic first pivots (each demand node's cheapest arc); the leaving arc
//! chosen so degenerate pivots cannot cycle. Where it parts from LEMON: a pivot shifts the
//! potentials of whichever side of the tree is smaller (LEMON always walks the moved subtree,
//! which on transport problems is at times nearly the whole tree), and the network is borrowed,
//! not copied, for a one-shot solve.
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
const UP: i8 = 1;
const DOWN: i8 = -1;
const NONE: usize = usize::MAX;
/// No node (the root's parent) and no arc, in the 32-bit tree arrays.
const NO_NODE: u32 = u32::MAX;
/// Block-search pricing scans blocks of `BLOCK_FACTOR · √arcs` arcs (at least `MIN_BLOCK`).
const BLOCK_FACTOR: f64 = 1.0;
const MIN_BLOCK: usize = 10;

pub struct NetworkSimplex<'n> {
    /// The problem as given: borrowed, or owned by a solver kept between solves. Costs set
    /// since live in `cost` only.
    network: Cow<'n, Network>,
    /// Where each original arc is stored: arcs are kept mixed, as LEMON does, so that a block
    /// of consecutive arcs comes from all over the network rather than from a few tails
    /// (files list arcs grouped by tail); block-search pricing then finds better arcs sooner.
    position: Vec<u32>,
    /// Stored arcs (original ones mixed, then one artificial arc per node, node ↔ root).
    /// 32-bit node indices: pricing reads every arc's ends, and less to read is faster.
    source: Vec<u32>,
    target: Vec<u32>,
    cap: Vec<i64>,
    cost: Vec<i64>,
    /// The real arcs' costs again, 32-bit, while every one fits: what pricing reads.
    narrow_cost: Option<Vec<i32>>,
    flow: Vec<i64>,
    state: Vec<i8>,
    /// The spanning tree as LEMON keeps it: each node's parent, the arc to it and its
    /// direction; the thread (a preorder of the tree, as a cyclic list through the root) and
    /// its reverse; the size of each node's subtree and its last node in thread order.
    parent: Vec<u32>,
    pred: Vec<u32>,
    pred_dir: Vec<i8>,
    thread: Vec<u32>,
    rev_thread: Vec<u32>,
    succ_num: Vec<u32>,
    last_succ: Vec<u32>,
    pi: Vec<i64>,
    /// Where block-search pricing resumes.
    next_arc: usize,
    /// Pivots made by the last solve.
    pub pivots: u64,
    /// The last solve proved its optimum warm: from the kept proof, pricing candidates and
    /// checking only the arcs the proof could not vouch for, not every arc.
    pub warm: bool,
    /// Some arc has a lower bound (flows are stored less it).
    has_low: bool,
    /// No solve yet: the first one starts with LEMON's heuristic pivots.
    fresh: bool,
    /// The tree nodes whose thread successor a pivot changed (their reverse links follow).
    dirty_revs: Vec<u32>,
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
    /// Where each arc's flow is in `flow`, when the solver stored the arcs mixed.
    position: Option<&'s [u32]>,
    /// The network, when arcs have lower bounds (the solver stores flows less them).
    lows: Option<&'s Network>,
}

impl Optimum<'_> {
    /// The flow on an arc.
    pub fn flow(&self, arc: usize) -> i64 {
        let stored = match self.position {
            Some(position) => self.flow[position[arc] as usize],
            None => self.flow[arc],
        };
        match self.lows {
            Some(network) => stored + network.arcs[arc].low,
            None => stored,
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

/// Where LEMON's arc mixing stores each of `arcs` arcs among `nodes` nodes, taking them last
/// to first as LEMON's graphs list them: the k-th arc taken goes to `k · skip` wrapped round
/// (skip = max(arcs / nodes, 3)), so consecutive stored arcs are about a node's worth of arcs
/// apart in the input. (The order matters: on GOTO-style instances, whose files list each
/// node's wide skeleton arcs before its jumps, taking them first to last takes 3.6 times the
/// pivots.)
fn mixed_positions(arcs: usize, nodes: usize) -> Vec<u32> {
    let mut position = vec![0u32; arcs];
    if nodes <= 1 {
        for (k, p) in position.iter_mut().rev().enumerate() {
            *p = k as u32;
        }
        return position;
    }
    let skip = (arcs / nodes).max(3);
    let (mut i, mut j) = (0, 0);
    for p in position.iter_mut().rev() {
        *p = i as u32;
        i += skip;
        if i >= arcs {
            j += 1;
            i = j;
        }
    }
    position
}

impl<'n> NetworkSimplex<'n> {
    /// Set up the problem with the all-artificial starting tree.
    pub fn new(network: &'n Network) -> Self {
        Self::with(Cow::Borrowed(network))
    }

    /// [`NetworkSimplex::new`] for a solver that outlives the caller's network.
    pub fn owned(network: Network) -> NetworkSimplex<'static> {
        NetworkSimplex::with(Cow::Owned(network))
    }

    fn with(network: Cow<'n, Network>) -> Self {
        let (n, m) = (network.nodes(), network.arcs.len());
        let root = n;
        let max_cost = max_cost(&network);
        let big = big_cost(n, max_cost);
        let position = mixed_positions(m, n);
        let (mut source, mut target) = (vec![0u32; m + n], vec![0u32; m + n]);
        let (mut cap, mut cost, mut flow) = (vec![0; m + n], vec![0; m + n], vec![0; m + n]);
        let mut state = vec![LOWER; m + n];
        let (mut pred, mut pred_dir, mut pi) =
            (vec![NO_NODE; n + 1], vec![UP; n + 1], vec![0; n + 1]);
        // Lower bounds moved into the supplies: flow = low + y with 0 ≤ y ≤ cap − low.
        let mut b = network.supply.clone();
        let (mut low_cost, mut total, mut has_low) = (0i128, 0i128, false);
        let mut narrow_cost = (max_cost <= i64::from(i32::MAX)).then(|| vec![0i32; m]);
        for (a, &k) in network.arcs.iter().zip(&position) {
            let k = k as usize;
            source[k] = a.from as u32;
            target[k] = a.to as u32;
            cap[k] = a.cap - a.low;
            cost[k] = a.cost;
            if let Some(narrow) = &mut narrow_cost {
                narrow[k] = a.cost as i32;
            }
            if a.low != 0 {
                has_low = true;
                b[a.from] -= a.low;
                b[a.to] += a.low;
                low_cost += i128::from(a.cost) * i128::from(a.low);
            }
        }
        // The tree: every node hangs from the root by its artificial arc; the thread runs
        // root, 0, 1, …, n − 1 and back to the root.
        for (v, &bv) in b.iter().enumerate() {
            let e = m + v;
            if bv >= 0 {
                source[e] = v as u32;
                target[e] = root as u32;
                pi[v] = -big;
            } else {
                source[e] = root as u32;
                target[e] = v as u32;
                pred_dir[v] = DOWN;
                pi[v] = big;
            }
            flow[e] = bv.abs();
            cap[e] = i64::MAX / 4;
            cost[e] = big;
            state[e] = TREE;
            pred[v] = e as u32;
            total += i128::from(big) * i128::from(bv.abs());
        }
        let mut parent = vec![root as u32; n + 1];
        parent[root] = NO_NODE;
        let mut thread: Vec<u32> = (1..=n as u32 + 1).collect();
        thread[root] = 0;
        let mut rev_thread: Vec<u32> = (0..=n as u32).map(|v| v.wrapping_sub(1)).collect();
        rev_thread[0] = root as u32;
        let mut succ_num = vec![1; n + 1];
        succ_num[root] = n as u32 + 1;
        let mut last_succ: Vec<u32> = (0..=n as u32).collect();
        last_succ[root] = if n > 0 { n as u32 - 1 } else { root as u32 };
        NetworkSimplex {
            has_low,
            narrow_cost,
            network,
            source,
            target,
            cap,
            cost,
            flow,
            state,
            position,
            parent,
            pred,
            pred_dir,
            thread,
            rev_thread,
            succ_num,
            last_succ,
            pi,
            next_arc: 0,
            pivots: 0,
            warm: false,
            fresh: true,
            dirty_revs: Vec::new(),
            total,
            low_cost,
            max_cost,
            optimal: false,
            proof: None,
            changed: Vec::new(),
            incidence: None,
        }
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
    pub fn set_cost(&mut self, original: usize, cost: i64) {
        if self.optimal && self.proof.is_none() {
            self.take_proof();
        }
        self.optimal = false;
        let arc = self.position[original] as usize;
        let old = self.cost[arc];
        self.cost[arc] = cost;
        match i32::try_from(cost) {
            Ok(narrow) => {
                if let Some(costs) = &mut self.narrow_cost {
                    costs[arc] = narrow;
                }
            }
            Err(_) => self.narrow_cost = None,
        }
        self.total += i128::from(cost - old) * i128::from(self.flow[arc]);
        let low = self.network.arcs[original].low;
        self.low_cost += i128::from(cost - old) * i128::from(low);
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
            if self.fresh {
                self.fresh = false;
                self.initial_pivots();
            }
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
            // The reference solves the network as it stands, with the costs set since.
            let mut current = self.network.clone().into_owned();
            for (arc, &k) in current.arcs.iter_mut().zip(&self.position) {
                arc.cost = self.cost[k as usize];
            }
            return crate::ssp::solve(&current).map(|answer| Optimum {
                cost: answer.cost,
                potentials: Cow::Owned(answer.potentials),
                flow: Cow::Owned(answer.flow),
                position: None,
                lows: None,
            });
        }
        // Pivots that shifted the rest of the tree moved the root: potentials are reported
        // with the root's at 0, as a cold solve from the first tree would have them.
        let root_pi = self.pi[n];
        if root_pi != 0 {
            self.pi.iter_mut().for_each(|p| *p -= root_pi);
        }
        self.optimal = true;
        Ok(Optimum {
            cost: self.total + self.low_cost,
            potentials: Cow::Borrowed(&self.pi[..n]),
            flow: Cow::Borrowed(&self.flow[..m]),
            position: Some(&self.position),
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
    /// from where the last search stopped, wrapping round at the end of the arcs. Only real
    /// arcs are priced (as LEMON does for balanced problems): an artificial arc that left
    /// the tree carries nothing and never needs to come back.
    fn price(&mut self) -> Option<usize> {
        let m = self.network.arcs.len();
        let (found, next) = match &self.narrow_cost {
            Some(costs) => block_search(
                costs,
                &self.state,
                &self.source,
                &self.target,
                &self.pi,
                self.next_arc,
            ),
            None => block_search(
                &self.cost[..m],
                &self.state,
                &self.source,
                &self.target,
                &self.pi,
                self.next_arc,
            ),
        };
        self.next_arc = next;
        found
    }

    /// LEMON's heuristic first pivots: with one supply and one demand node, the arcs of a
    /// reverse search from the demand node over arcs wide enough for the whole supply; else
    /// each demand node's cheapest incoming arc. Each enters if it still violates.
    fn initial_pivots(&mut self) {
        let (n, m) = (self.network.nodes(), self.network.arcs.len());
        let supplies: Vec<usize> = (0..n)
            .filter(|&v| self.pred_dir[v] == UP && self.flow[m + v] > 0)
            .collect();
        let demands: Vec<usize> = (0..n)
            .filter(|&v| self.pred_dir[v] == DOWN && self.flow[m + v] > 0)
            .collect();
        let mut arcs = Vec::new();
        if supplies.len() == 1 && demands.len() == 1 {
            let (s, t) = (supplies[0], demands[0]);
            let total = self.flow[m + s];
            let mut start = vec![0u32; n + 1];
            for &v in &self.target[..m] {
                start[v as usize + 1] += 1;
            }
            for v in 0..n {
                start[v + 1] += start[v];
            }
            let mut at = start.clone();
            let mut into = vec![0u32; m];
            for (e, &v) in self.target[..m].iter().enumerate() {
                into[at[v as usize] as usize] = e as u32;
                at[v as usize] += 1;
            }
            let mut reached = vec![false; n];
            reached[t] = true;
            let mut stack = vec![t];
            while let Some(v) = stack.pop() {
                if v == s {
                    break;
                }
                for &e in &into[start[v] as usize..start[v + 1] as usize] {
                    let u = self.source[e as usize] as usize;
                    if !reached[u] && self.cap[e as usize] >= total {
                        arcs.push(e as usize);
                        reached[u] = true;
                        stack.push(u);
                    }
                }
            }
        } else {
            let mut cheapest = vec![NONE; n];
            for e in 0..m {
                let v = self.target[e] as usize;
                if cheapest[v] == NONE || self.cost[e] < self.cost[cheapest[v]] {
                    cheapest[v] = e;
                }
            }
            arcs.extend(demands.iter().map(|&v| cheapest[v]).filter(|&e| e != NONE));
        }
        for e in arcs {
            if self.violation(e) < 0 {
                self.pivot(e);
            }
        }
    }

    /// Pivot on an entering arc; the arc that left the tree, if another did.
    fn pivot(&mut self, entering: usize) -> Option<usize> {
        self.pivots += 1;
        // The leaving-arc rule keeps the tree strongly feasible, so the simplex cannot cycle;
        // a solve that pivots a thousand times per arc and node has a bug, and the tests
        // (debug builds) fail on it rather than hang.
        debug_assert!(
            self.pivots <= 1000 * (self.source.len() + self.pi.len()) as u64,
            "the simplex pivoted {} times on {} arcs: it cycles",
            self.pivots,
            self.source.len()
        );
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
        let join = self.join(first, second);
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
        let leaving = self.pred[out_node] as usize;
        self.state[leaving] = if self.flow[leaving] == 0 {
            LOWER
        } else {
            UPPER
        };
        self.state[entering] = TREE;
        self.update_tree(entering, join, u_in, v_in, out_node);
        // Potentials: the moved subtree's shift by sigma, one stretch of the thread. When the
        // subtree is most of the tree, the rest (the other stretch, root included) shifts by
        // −sigma instead: potentials matter only up to a constant, and the walk is half as
        // long at worst (LEMON always walks the subtree; on a 2,000 × 100,000 transport
        // problem a few dozen pivots move nearly the whole tree, 90% of all the walking).
        let sigma =
            self.pi[v_in] - self.pi[u_in] - i64::from(self.pred_dir[u_in]) * self.cost[entering];
        let end = self.thread[self.last_succ[u_in] as usize] as usize;
        let (mut u, stop, shift) = if 2 * self.succ_num[u_in] as usize <= self.pi.len() {
            (u_in, end, sigma)
        } else {
            (end, u_in, -sigma)
        };
        let (pi, thread) = (&mut self.pi[..], &self.thread[..]);
        while u != stop {
            pi[u] += shift;
            u = thread[u] as usize;
        }
        Some(leaving)
    }

    /// The apex of the cycle an arc from `a` to `b` closes in the tree: walk up from the end
    /// with the smaller subtree.
    #[inline]
    fn join(&self, mut a: usize, mut b: usize) -> usize {
        while a != b {
            if self.succ_num[a] < self.succ_num[b] {
                a = self.parent[a] as usize;
            } else {
                b = self.parent[b] as usize;
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
            let e = self.pred[u] as usize;
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
            u = self.parent[u] as usize;
        }
        let mut u = second;
        while u != join {
            let e = self.pred[u] as usize;
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
            u = self.parent[u] as usize;
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
            let e = self.pred[u] as usize;
            self.flow[e] -= i64::from(self.pred_dir[u]) * value;
            u = self.parent[u] as usize;
        }
        let mut u = self.target[entering] as usize;
        while u != join {
            let e = self.pred[u] as usize;
            self.flow[e] += i64::from(self.pred_dir[u]) * value;
            u = self.parent[u] as usize;
        }
    }

    /// Re-hang the subtree of `u_out` from `v_in` by the entering arc, reversing the stem
    /// from `u_in` up to `u_out`: LEMON's `updateTreeStructure`, which keeps the thread,
    /// subtree sizes and last successors in time proportional to the stem and the paths to
    /// the apex.
    fn update_tree(&mut self, in_arc: usize, join: usize, u_in: usize, v_in: usize, u_out: usize) {
        let (parent, thread, rev) = (&mut self.parent, &mut self.thread, &mut self.rev_thread);
        let (succ_num, last_succ) = (&mut self.succ_num, &mut self.last_succ);
        let (pred, pred_dir) = (&mut self.pred, &mut self.pred_dir);
        let (u_in32, v_in32, u_out32) = (u_in as u32, v_in as u32, u_out as u32);
        let old_rev_thread = rev[u_out];
        let old_succ_num = succ_num[u_out];
        let old_last_succ = last_succ[u_out];
        let v_out = parent[u_out] as usize;
        let dir_in = if u_in == self.source[in_arc] as usize {
            UP
        } else {
            DOWN
        };
        if u_in == u_out {
            parent[u_in] = v_in32;
            pred[u_in] = in_arc as u32;
            pred_dir[u_in] = dir_in;
            if thread[v_in] != u_out32 {
                let after = thread[old_last_succ as usize];
                thread[old_rev_thread as usize] = after;
                rev[after as usize] = old_rev_thread;
                let after = thread[v_in];
                thread[v_in] = u_out32;
                rev[u_out] = v_in32;
                thread[old_last_succ as usize] = after;
                rev[after as usize] = old_last_succ;
            }
        } else {
            // When old_rev_thread is v_in, join and v_out coincide.
            let thread_continue = if old_rev_thread == v_in32 {
                thread[old_last_succ as usize]
            } else {
                thread[v_in]
            };
            // Along the stem (the nodes from u_in up to u_out, whose parents change).
            let (mut stem, mut par_stem) = (u_in, v_in);
            let mut last = last_succ[u_in] as usize;
            let mut after = thread[last];
            thread[v_in] = u_in32;
            let dirty = &mut self.dirty_revs;
            dirty.clear();
            dirty.push(v_in32);
            while stem != u_out {
                let next_stem = parent[stem] as usize;
                thread[last] = next_stem as u32;
                dirty.push(last as u32);
                // Take the stem node's subtree out of the thread.
                let before = rev[stem] as usize;
                thread[before] = after;
                rev[after as usize] = before as u32;
                parent[stem] = par_stem as u32;
                par_stem = stem;
                stem = next_stem;
                last = if last_succ[stem] == last_succ[par_stem] {
                    rev[par_stem] as usize
                } else {
                    last_succ[stem] as usize
                };
                after = thread[last];
            }
            parent[u_out] = par_stem as u32;
            thread[last] = thread_continue;
            rev[thread_continue as usize] = last as u32;
            last_succ[u_out] = last as u32;
            if old_rev_thread != v_in32 {
                thread[old_rev_thread as usize] = after;
                rev[after as usize] = old_rev_thread;
            }
            for &u in dirty.iter() {
                rev[thread[u as usize] as usize] = u;
            }
            // Arcs, directions, sizes and last successors down the stem, u_out to u_in.
            let (mut tmp_sc, tmp_ls) = (0u32, last_succ[u_out]);
            let mut u = u_out;
            while u != u_in {
                let p = parent[u] as usize;
                pred[u] = pred[p];
                pred_dir[u] = -pred_dir[p];
                tmp_sc = tmp_sc.wrapping_add(succ_num[u].wrapping_sub(succ_num[p]));
                succ_num[u] = tmp_sc;
                last_succ[p] = tmp_ls;
                u = p;
            }
            pred[u_in] = in_arc as u32;
            pred_dir[u_in] = dir_in;
            succ_num[u_in] = old_succ_num;
        }
        // Last successors from v_in, then from v_out, towards the root.
        let up_limit_out = if last_succ[join] == v_in32 {
            join as u32
        } else {
            NO_NODE
        };
        let last_succ_out = last_succ[u_out];
        let mut u = v_in32;
        while u != NO_NODE && last_succ[u as usize] == v_in32 {
            last_succ[u as usize] = last_succ_out;
            u = parent[u as usize];
        }
        let set_to = if join as u32 != old_rev_thread && v_in32 != old_rev_thread {
            Some(old_rev_thread)
        } else if last_succ_out != old_last_succ {
            Some(last_succ_out)
        } else {
            None
        };
        if let Some(value) = set_to {
            let mut u = v_out as u32;
            while u != up_limit_out && u != NO_NODE && last_succ[u as usize] == old_last_succ {
                last_succ[u as usize] = value;
                u = parent[u as usize];
            }
        }
        // Subtree sizes on the two paths to the apex.
        let mut u = v_in;
        while u != join {
            succ_num[u] += old_succ_num;
            u = parent[u] as usize;
        }
        let mut u = v_out;
        while u != join {
            succ_num[u] -= old_succ_num;
            u = parent[u] as usize;
        }
    }

    /// Potentials from the root down the thread (a preorder: parents come first).
    fn recompute_potentials(&mut self) {
        let root = self.network.nodes();
        let mut x = self.thread[root] as usize;
        while x != root {
            let e = self.pred[x] as usize;
            let p = self.parent[x] as usize;
            // Tree arcs have reduced cost c + π(source) − π(target) = 0.
            self.pi[x] = if self.source[e] as usize == x {
                self.pi[p] - self.cost[e]
            } else {
                self.pi[p] + self.cost[e]
            };
            x = self.thread[x] as usize;
        }
    }
}

/// Block search over the real arcs (`costs` has one per real arc, in stored order) from
/// `next`: the most violating arc of the first block that has one, and where the next search
/// starts. Blocks run on from where the last search stopped, wrapping round at the end.
/// Generic in the cost's width: with 32-bit costs the scan reads 13 bytes an arc, not 17.
#[inline]
fn block_search<C: Copy + Into<i64>>(
    costs: &[C],
    state: &[i8],
    source: &[u32],
    target: &[u32],
    pi: &[i64],
    next: usize,
) -> (Option<usize>, usize) {
    let total = costs.len();
    if total == 0 {
        return (None, next);
    }
    let block = ((total as f64).sqrt() * BLOCK_FACTOR) as usize;
    let block = block.max(MIN_BLOCK);
    let (mut best, mut best_violation) = (NONE, 0i64);
    let (mut start, mut scanned, mut in_block) = (next.min(total - 1), 0, 0);
    while scanned < total {
        // One stretch: to the end of the block or of the arcs, whichever comes first.
        let len = (block - in_block).min(total - start).min(total - scanned);
        let end = start + len;
        let arcs = costs[start..end]
            .iter()
            .zip(&state[start..end])
            .zip(source[start..end].iter().zip(&target[start..end]));
        for (k, ((&cost, &state), (&from, &to))) in arcs.enumerate() {
            let reduced = cost.into() + pi[from as usize] - pi[to as usize];
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
    ((best != NONE).then_some(best), start)
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
