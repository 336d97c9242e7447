//! The pairing model: which providers should help which recipients, and why.
//!
//! Need is counted in *units*: every recipient's need (registered poor, say) is scaled so that
//! all recipients together hold about [`UNITS`] units, and every recipient gets at least one. A
//! provider's *load* is the need units it carries; its *target* is its share of total capacity
//! times the total units. The score of a pairing, in points (higher is better), is
//!
//! - **fit**: for every unit a provider carries, `weights.fit` points per tag the two share
//!   (expertise against needs, climate against climate: `climate:cold`, `special-economic-zone`);
//! - **gap**: `weights.gap × strength(p) × poverty(r)` points per unit, where strength is the
//!   provider's capacity over the largest capacity and poverty the recipient's need over its
//!   population, over the largest such ratio — the richest providers to the poorest recipients;
//! - **continuity**: `weights.continuity` points per unit carried on an existing pair;
//! - minus the **proportionality penalty**: per provider, a convex piecewise-linear function of
//!   the load's distance from the target — `weights.proportionality` points per unit within 10%
//!   of the target, twice that from 10% to 30%, four times beyond.
//!
//! A recipient takes exactly its `providers` providers (one, or k for a split prefecture), each
//! carrying a share of its need. Fixed pairs must be among them; forbidden pairs never are.
//!
//! **How it is solved.** Letting a recipient's need be split any way makes the model a min-cost
//! flow (recipients → providers → sink, the penalty as parallel arcs of rising cost), solved by
//! the network simplex with its certificate. The count of providers per recipient is then
//! enforced by branch and bound over that relaxation: a recipient served by too many providers
//! branches on its smallest piece (forbid it, or require it), and a subtree whose relaxation
//! cannot beat the best pairing found is cut off. Every score is an integer, so a search that
//! finishes proves its answer optimal; one stopped by the node limit reports the best bound left.

use crate::network::{self, FlowSolution, Network};
use crate::simplex;
use std::collections::HashSet;

/// About how many need units all recipients hold together.
pub const UNITS: i64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub name: String,
    /// Fiscal revenue or GDP, in any one unit shared by all providers.
    pub capacity: i64,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub name: String,
    /// Registered poor or any other need count.
    pub need: i64,
    /// The population the need is counted in; `need / population` is the poverty the gap term
    /// rewards. Zero when unknown (the recipient then counts as not poor).
    pub population: i64,
    pub tags: Vec<String>,
    /// How many providers it may take: 1, or k for a prefecture split among up to k providers.
    pub providers: usize,
}

/// Points per need unit of each part of the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights {
    pub fit: i64,
    pub gap: i64,
    pub proportionality: i64,
    pub continuity: i64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            fit: 20,
            gap: 20,
            proportionality: 10,
            continuity: 0,
        }
    }
}

impl Weights {
    /// Parse `fit=20,gap=20,proportionality=10,continuity=0` (any subset, the rest default).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut weights = Weights::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not NAME=POINTS"))?;
            let value: i64 = value
                .trim()
                .parse()
                .ok()
                .filter(|v| (0..=1_000_000).contains(v))
                .ok_or_else(|| {
                    format!("{key}: {value:?} is not a whole number of points from 0 to 1000000")
                })?;
            match key.trim() {
                "fit" => weights.fit = value,
                "gap" => weights.gap = value,
                "proportionality" => weights.proportionality = value,
                "continuity" => weights.continuity = value,
                other => {
                    return Err(format!(
                        "{other:?} is not a weight: one of fit, gap, proportionality, continuity"
                    ));
                }
            }
        }
        Ok(weights)
    }
}

/// A pairing problem. Pairs are `(provider index, recipient index)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub providers: Vec<Provider>,
    pub recipients: Vec<Recipient>,
    /// Today's pairs: the continuity bonus goes to them.
    pub existing: Vec<(usize, usize)>,
    pub fixed: Vec<(usize, usize)>,
    pub forbidden: Vec<(usize, usize)>,
    pub weights: Weights,
    /// Branch-and-bound nodes to explore before settling for the best found.
    pub node_limit: u64,
    /// Pairs to keep when it costs nothing: among pairings of equal score, the search returns
    /// one with the most need units on these pairs (today's table, or the proposal a forced
    /// pair is compared with). They never outweigh a single point.
    pub prefer: Vec<(usize, usize)>,
}

/// Why a problem has no pairing at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unpairable {
    NoProviders,
    /// A recipient asks for no provider, or no provider may serve it.
    Providers {
        recipient: usize,
        wanted: usize,
        allowed: usize,
    },
    /// A recipient has more fixed pairs than providers it takes.
    TooManyFixed {
        recipient: usize,
        fixed: usize,
    },
    /// A pair is both fixed and forbidden.
    FixedAndForbidden {
        provider: usize,
        recipient: usize,
    },
    /// A pair names an index out of range.
    OutOfRange {
        provider: usize,
        recipient: usize,
    },
    /// A negative capacity, need or population.
    Negative {
        what: &'static str,
        index: usize,
    },
}

impl std::fmt::Display for Unpairable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unpairable::NoProviders => write!(f, "there are no providers"),
            Unpairable::Providers {
                recipient,
                wanted,
                allowed,
            } => write!(
                f,
                "recipient {recipient} takes up to {wanted} provider(s) and {allowed} may serve it"
            ),
            Unpairable::TooManyFixed { recipient, fixed } => write!(
                f,
                "recipient {recipient} has {fixed} fixed pairs, more than the providers it takes"
            ),
            Unpairable::FixedAndForbidden {
                provider,
                recipient,
            } => write!(f, "pair {provider}–{recipient} is both fixed and forbidden"),
            Unpairable::OutOfRange {
                provider,
                recipient,
            } => write!(f, "pair {provider}–{recipient} is out of range"),
            Unpairable::Negative { what, index } => write!(f, "{what} {index} is negative"),
        }
    }
}

impl std::error::Error for Unpairable {}

/// One provider's part of one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub provider: usize,
    pub recipient: usize,
    pub units: i64,
}

/// A pair's points, broken down (per unit × units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakdown {
    pub provider: usize,
    pub recipient: usize,
    pub units: i64,
    pub fit: i64,
    /// The tags the two share.
    pub shared: Vec<String>,
    pub gap: i64,
    pub continuity: i64,
}

impl Breakdown {
    pub fn total(&self) -> i64 {
        self.fit + self.gap + self.continuity
    }
}

/// A provider's load against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    pub units: i64,
    pub target: i64,
    /// The proportionality penalty, in points (≥ 0).
    pub penalty: i64,
    /// Points the score would gain per unit of need if this provider's capacity (its target)
    /// were one unit larger: the slope of its penalty at its load, read from the certificate's
    /// potentials. Positive when it carries more than its share, negative when less.
    pub shadow_price: i64,
}

/// A proposed pairing and how good it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pairing {
    /// Pieces sorted by recipient, then provider.
    pub pieces: Vec<Piece>,
    pub loads: Vec<Load>,
    pub score: i64,
    /// No pairing scores more than this; equal to `score` when the search finished.
    pub bound: i64,
    pub nodes: u64,
    /// The relaxation at the search's best leaf, with its certificate (checked by
    /// [`network::verify`]).
    pub network: Network,
    pub solution: FlowSolution,
}

impl Pairing {
    pub fn proven(&self) -> bool {
        self.score == self.bound
    }

    /// The providers of a recipient, with their units.
    pub fn of(&self, recipient: usize) -> impl Iterator<Item = &Piece> {
        self.pieces.iter().filter(move |p| p.recipient == recipient)
    }
}

/// The need units and targets a problem is counted in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Units {
    pub need: Vec<i64>,
    pub target: Vec<i64>,
    pub total: i64,
}

impl Problem {
    pub fn new(providers: Vec<Provider>, recipients: Vec<Recipient>) -> Self {
        Problem {
            providers,
            recipients,
            existing: Vec::new(),
            fixed: Vec::new(),
            forbidden: Vec::new(),
            weights: Weights::default(),
            node_limit: 200_000,
            prefer: Vec::new(),
        }
    }

    pub fn units(&self) -> Units {
        let total_need: i128 = self.recipients.iter().map(|r| i128::from(r.need)).sum();
        let need: Vec<i64> = self
            .recipients
            .iter()
            .map(|r| {
                if total_need == 0 {
                    1
                } else {
                    let scaled =
                        (i128::from(r.need) * i128::from(UNITS) + total_need / 2) / total_need;
                    (scaled as i64).max(1)
                }
            })
            .collect();
        let total: i64 = need.iter().sum();
        let total_capacity: i128 = self.providers.iter().map(|p| i128::from(p.capacity)).sum();
        let target = self
            .providers
            .iter()
            .map(|p| {
                if total_capacity == 0 {
                    total / self.providers.len().max(1) as i64
                } else {
                    ((i128::from(p.capacity) * i128::from(total) + total_capacity / 2)
                        / total_capacity) as i64
                }
            })
            .collect();
        Units {
            need,
            target,
            total,
        }
    }

    /// A pair's points per need unit, broken down (units 1).
    pub fn per_unit(&self, provider: usize, recipient: usize) -> Breakdown {
        Scorer::new(self).per_unit(provider, recipient)
    }

    /// The proportionality penalty of a load against a target.
    pub fn penalty(&self, load: i64, target: i64) -> i64 {
        segments(target, self.weights.proportionality)
            .iter()
            .map(|s| (load.clamp(s.from, s.to) - s.from) * s.slope)
            .sum::<i64>()
            + penalty_at_zero(target, self.weights.proportionality)
    }

    /// The score of any pairing given as pieces, broken down: pair points and provider loads.
    pub fn evaluate(&self, pieces: &[Piece]) -> (i64, Vec<Breakdown>, Vec<Load>) {
        let units = self.units();
        let scorer = Scorer::new(self);
        let mut load = vec![0i64; self.providers.len()];
        let mut pairs = Vec::with_capacity(pieces.len());
        for piece in pieces {
            load[piece.provider] += piece.units;
            let mut b = scorer.per_unit(piece.provider, piece.recipient);
            b.units = piece.units;
            b.fit *= piece.units;
            b.gap *= piece.units;
            b.continuity *= piece.units;
            pairs.push(b);
        }
        let loads: Vec<Load> = load
            .iter()
            .zip(&units.target)
            .map(|(&units, &target)| Load {
                units,
                target,
                penalty: self.penalty(units, target),
                shadow_price: slope_at(units, target, self.weights.proportionality),
            })
            .collect();
        let score = pairs.iter().map(Breakdown::total).sum::<i64>()
            - loads.iter().map(|l| l.penalty).sum::<i64>();
        (score, pairs, loads)
    }

    fn check(&self) -> Result<(), Unpairable> {
        if self.providers.is_empty() {
            return Err(Unpairable::NoProviders);
        }
        for (index, p) in self.providers.iter().enumerate() {
            if p.capacity < 0 {
                return Err(Unpairable::Negative {
                    what: "provider capacity",
                    index,
                });
            }
        }
        for (index, r) in self.recipients.iter().enumerate() {
            if r.need < 0 || r.population < 0 {
                return Err(Unpairable::Negative {
                    what: "recipient need or population",
                    index,
                });
            }
        }
        let (np, nr) = (self.providers.len(), self.recipients.len());
        for &(provider, recipient) in self
            .fixed
            .iter()
            .chain(&self.forbidden)
            .chain(&self.existing)
        {
            if provider >= np || recipient >= nr {
                return Err(Unpairable::OutOfRange {
                    provider,
                    recipient,
                });
            }
        }
        let forbidden: HashSet<(usize, usize)> = self.forbidden.iter().copied().collect();
        for &(provider, recipient) in &self.fixed {
            if forbidden.contains(&(provider, recipient)) {
                return Err(Unpairable::FixedAndForbidden {
                    provider,
                    recipient,
                });
            }
        }
        for (recipient, r) in self.recipients.iter().enumerate() {
            let allowed = (0..np)
                .filter(|&p| !forbidden.contains(&(p, recipient)))
                .count();
            if r.providers == 0 || allowed == 0 {
                return Err(Unpairable::Providers {
                    recipient,
                    wanted: r.providers,
                    allowed,
                });
            }
            let fixed = self.fixed.iter().filter(|f| f.1 == recipient).count();
            if fixed > r.providers {
                return Err(Unpairable::TooManyFixed { recipient, fixed });
            }
        }
        Ok(())
    }
}

/// What scoring a pair needs, computed once per problem.
struct Scorer<'a> {
    problem: &'a Problem,
    strength: Vec<f64>,
    poverty: Vec<f64>,
    existing: HashSet<(usize, usize)>,
}

impl<'a> Scorer<'a> {
    fn new(problem: &'a Problem) -> Self {
        let max_capacity = problem
            .providers
            .iter()
            .map(|p| p.capacity)
            .max()
            .unwrap_or(0);
        let strength = problem
            .providers
            .iter()
            .map(|p| {
                if max_capacity > 0 {
                    p.capacity as f64 / max_capacity as f64
                } else {
                    0.0
                }
            })
            .collect();
        let ratio: Vec<f64> = problem
            .recipients
            .iter()
            .map(|r| {
                if r.population > 0 {
                    r.need as f64 / r.population as f64
                } else {
                    0.0
                }
            })
            .collect();
        let max_ratio = ratio.iter().copied().fold(0.0, f64::max);
        let poverty = ratio
            .iter()
            .map(|x| if max_ratio > 0.0 { x / max_ratio } else { 0.0 })
            .collect();
        Scorer {
            problem,
            strength,
            poverty,
            existing: problem.existing.iter().copied().collect(),
        }
    }

    fn per_unit(&self, provider: usize, recipient: usize) -> Breakdown {
        let (p, r) = (
            &self.problem.providers[provider],
            &self.problem.recipients[recipient],
        );
        let weights = self.problem.weights;
        let shared: Vec<String> = p
            .tags
            .iter()
            .filter(|t| r.tags.contains(t))
            .cloned()
            .collect();
        Breakdown {
            provider,
            recipient,
            units: 1,
            fit: weights.fit * shared.len() as i64,
            shared,
            gap: (weights.gap as f64 * self.strength[provider] * self.poverty[recipient]).round()
                as i64,
            continuity: if self.existing.contains(&(provider, recipient)) {
                weights.continuity
            } else {
                0
            },
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    from: i64,
    to: i64,
    slope: i64,
}

/// The penalty's linear pieces over loads `0..=∞` (the last runs to `i64::MAX / 4`).
fn segments(target: i64, weight: i64) -> Vec<Segment> {
    let b1 = (target / 10).max(1);
    let b2 = (target * 3 / 10).max(b1 + 1);
    let open = i64::MAX / 4;
    let pieces = [
        (i64::MIN / 4, target - b2, -4),
        (target - b2, target - b1, -2),
        (target - b1, target, -1),
        (target, target + b1, 1),
        (target + b1, target + b2, 2),
        (target + b2, open, 4),
    ];
    pieces
        .iter()
        .map(|&(from, to, k)| Segment {
            from: from.max(0),
            to: to.max(0),
            slope: k * weight,
        })
        .filter(|s| s.to > s.from)
        .collect()
}

fn penalty_at_zero(target: i64, weight: i64) -> i64 {
    // Walk down from the target (penalty 0) to load 0.
    -segments(target, weight)
        .iter()
        .filter(|s| s.slope < 0)
        .map(|s| (s.to.min(target) - s.from) * s.slope)
        .sum::<i64>()
}

/// The penalty's slope just above `load` (what one more unit of target would save).
fn slope_at(load: i64, target: i64, weight: i64) -> i64 {
    segments(target, weight)
        .iter()
        .find(|s| s.from <= load && load < s.to)
        .map_or(0, |s| s.slope)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    Off,
    On,
}

/// The search over the relaxation.
struct Search<'a> {
    problem: &'a Problem,
    units: Units,
    /// Candidate pairs (provider, recipient), in recipient order.
    candidates: Vec<(usize, usize)>,
    /// Per recipient, its candidates' range `start..end`.
    groups: Vec<(usize, usize)>,
    /// Per pair: cost per unit (minus the points).
    cost: Vec<i64>,
    /// The constant the penalty arcs leave out: the penalties at load 0 (scaled).
    constant: i64,
    /// Internal costs are points × `scale` less the preference bonus.
    scale: i64,
    /// The relaxation of every node, candidates first (fixed ones with a lower bound of one
    /// unit), then the penalty arcs; a switched-off pair costs [`Search::forbid`].
    network: Network,
    /// More than any flow avoiding switched-off pairs can cost, so the simplex uses one only
    /// when nothing else is feasible.
    forbid: i64,
    /// One solver for the whole search: each node re-solves from the last node's tree.
    simplex: simplex::NetworkSimplex<'static>,
    best: Option<(i64, Vec<State>, Network, FlowSolution)>,
    nodes: u64,
    /// The largest relaxation score among subtrees left unexplored at the node limit.
    open_bound: Option<i64>,
}

enum Outcome {
    Infeasible,
    Solved { score: i64, solution: FlowSolution },
}

impl<'a> Search<'a> {
    fn new(problem: &'a Problem) -> Self {
        let units = problem.units();
        let scorer = Scorer::new(problem);
        let forbidden: HashSet<(usize, usize)> = problem.forbidden.iter().copied().collect();
        let prefer: HashSet<(usize, usize)> = problem.prefer.iter().copied().collect();
        // Points are scaled so that all preferred units together weigh less than one point.
        let scale = units.total + 1;
        let mut candidates = Vec::new();
        let mut groups = Vec::with_capacity(problem.recipients.len());
        let mut cost = Vec::new();
        for r in 0..problem.recipients.len() {
            let start = candidates.len();
            for p in 0..problem.providers.len() {
                if !forbidden.contains(&(p, r)) {
                    candidates.push((p, r));
                    let tie = i64::from(prefer.contains(&(p, r)));
                    cost.push(-(scorer.per_unit(p, r).total() * scale + tie));
                }
            }
            groups.push((start, candidates.len()));
        }
        let constant = units
            .target
            .iter()
            .map(|&t| penalty_at_zero(t, problem.weights.proportionality))
            .sum::<i64>();
        let (nr, np) = (problem.recipients.len(), problem.providers.len());
        let sink = nr + np;
        let fixed: HashSet<(usize, usize)> = problem.fixed.iter().copied().collect();
        let mut network = Network::new(nr + np + 1);
        for r in 0..nr {
            network.supply[r] = units.need[r];
        }
        network.supply[sink] = -units.total;
        for (i, &(p, r)) in candidates.iter().enumerate() {
            let low = i64::from(fixed.contains(&(p, r)));
            network.add_arc(r, nr + p, low, units.need[r], cost[i]);
        }
        for p in 0..np {
            for s in segments(units.target[p], problem.weights.proportionality) {
                let cap = (s.to - s.from).min(units.total);
                network.add_arc(nr + p, sink, 0, cap, s.slope * scale);
            }
        }
        let bound: i128 = network
            .arcs
            .iter()
            .map(|a| i128::from(a.cost.abs()) * i128::from(a.cap))
            .sum();
        let forbid = i64::try_from(2 * bound + 1)
            .unwrap_or(i64::MAX / 8)
            .min(i64::MAX / 8);
        let simplex = simplex::NetworkSimplex::owned(network.clone());
        Search {
            problem,
            units,
            candidates,
            groups,
            cost,
            constant: constant * scale,
            scale,
            network,
            forbid,
            simplex,
            best: None,
            nodes: 0,
            open_bound: None,
        }
    }

    /// The relaxation of a node: switched-off pairs priced out of use. `Infeasible` when the
    /// node has no pairing (a switched-off pair still carries flow).
    fn relax(&mut self, state: &[State]) -> Outcome {
        for (i, s) in state.iter().enumerate() {
            let wanted = if *s == State::Off {
                self.forbid
            } else {
                self.cost[i]
            };
            if self.network.arcs[i].cost != wanted {
                self.network.arcs[i].cost = wanted;
                self.simplex.set_cost(i, wanted);
            }
        }
        let Ok(solution) = self.simplex.solve() else {
            return Outcome::Infeasible;
        };
        if state
            .iter()
            .zip(&solution.flow)
            .any(|(s, f)| *s == State::Off && *f > 0)
        {
            return Outcome::Infeasible;
        }
        let cost = solution.cost as i64 + self.constant;
        Outcome::Solved {
            score: -cost,
            solution,
        }
    }

    /// The flow on each candidate pair.
    fn flows<'s>(&self, solution: &'s FlowSolution) -> &'s [i64] {
        &solution.flow[..self.candidates.len()]
    }

    /// Switch off a recipient's free pairs once its required ones fill its count. `false` when
    /// it has more required pairs than it takes.
    fn propagate(&self, state: &mut [State]) -> bool {
        for (r, &(start, end)) in self.groups.iter().enumerate() {
            let on = state[start..end]
                .iter()
                .filter(|s| **s == State::On)
                .count();
            let wanted = self.problem.recipients[r].providers;
            if on > wanted {
                return false;
            }
            if on == wanted {
                for s in &mut state[start..end] {
                    if *s == State::Free {
                        *s = State::Off;
                    }
                }
            }
        }
        true
    }

    /// The recipient with the most need among those served by more providers than they take,
    /// and its largest piece not yet required: the branch that moves the bound most.
    fn violation(&self, state: &[State], flows: &[i64]) -> Option<usize> {
        let mut worst: Option<(i64, usize)> = None; // (need units, candidate)
        for (r, &(start, end)) in self.groups.iter().enumerate() {
            // A required pair holds one of the recipient's places whether or not it carries
            // flow yet.
            let used = (start..end)
                .filter(|&i| state[i] == State::On || (state[i] == State::Free && flows[i] > 0))
                .count();
            let wanted = self.problem.recipients[r].providers;
            let need = self.units.need[r];
            if used > wanted && worst.is_none_or(|(n, _)| need > n) {
                let largest = (start..end)
                    .filter(|&i| flows[i] > 0 && state[i] == State::Free)
                    .max_by_key(|&i| (flows[i], std::cmp::Reverse(i)));
                if let Some(i) = largest {
                    worst = Some((need, i));
                }
            }
        }
        worst.map(|(_, i)| i)
    }

    /// A quick pairing to cut the search with: keep each recipient's largest pieces.
    fn dive(&mut self, mut state: Vec<State>) {
        for _ in 0..self.problem.recipients.len() + 1 {
            let Outcome::Solved { score, solution } = self.relax(&state) else {
                return;
            };
            let flows = self.flows(&solution).to_vec();
            if self.violation(&state, &flows).is_none() {
                self.offer(score, state, solution);
                return;
            }
            for (r, &(start, end)) in self.groups.iter().enumerate() {
                let wanted = self.problem.recipients[r].providers;
                let mut order: Vec<usize> = (start..end).filter(|&i| flows[i] > 0).collect();
                if order.len() > wanted {
                    order.sort_by_key(|&i| (state[i] != State::On, -flows[i], i));
                    for &i in &order[..wanted] {
                        state[i] = State::On;
                    }
                }
            }
            if !self.propagate(&mut state) {
                return;
            }
        }
    }

    fn offer(&mut self, score: i64, state: Vec<State>, solution: FlowSolution) {
        if self.best.as_ref().is_none_or(|b| score > b.0) {
            self.best = Some((score, state, self.network.clone(), solution));
        }
    }

    /// Start from a known pairing (the proposal, when forcing a pair into it): its providers
    /// required, a recipient's smallest pieces dropped where fixed pairs leave no room.
    fn seed(&mut self, root: &[State], hint: &[Piece]) {
        let mut state = root.to_vec();
        let mut by_recipient: Vec<Vec<&Piece>> = vec![Vec::new(); self.problem.recipients.len()];
        for piece in hint {
            if let Some(list) = by_recipient.get_mut(piece.recipient) {
                list.push(piece);
            }
        }
        for (r, &(start, end)) in self.groups.iter().enumerate() {
            let mut pieces = by_recipient[r].clone();
            pieces.sort_by_key(|p| (std::cmp::Reverse(p.units), p.provider));
            let mut room = self.problem.recipients[r].providers
                - state[start..end]
                    .iter()
                    .filter(|s| **s == State::On)
                    .count();
            for piece in pieces {
                if room == 0 {
                    break;
                }
                if let Some(i) = (start..end).find(|&i| self.candidates[i].0 == piece.provider)
                    && state[i] == State::Free
                {
                    state[i] = State::On;
                    room -= 1;
                }
            }
        }
        if self.propagate(&mut state) {
            self.dive(state);
        }
    }

    fn run(&mut self, hint: Option<&[Piece]>) {
        let fixed: HashSet<(usize, usize)> = self.problem.fixed.iter().copied().collect();
        let mut root = vec![State::Free; self.candidates.len()];
        for (i, c) in self.candidates.iter().enumerate() {
            if fixed.contains(c) {
                root[i] = State::On;
            }
        }
        if !self.propagate(&mut root) {
            return;
        }
        if let Some(hint) = hint {
            self.seed(&root, hint);
        }
        self.dive(root.clone());
        let mut stack = vec![root];
        while let Some(state) = stack.pop() {
            let Outcome::Solved { score, solution } = self.relax(&state) else {
                continue;
            };
            if self.nodes >= self.problem.node_limit {
                if self.best.as_ref().is_none_or(|b| score > b.0) {
                    self.open_bound = Some(self.open_bound.map_or(score, |o| o.max(score)));
                }
                continue;
            }
            self.nodes += 1;
            if self.best.as_ref().is_some_and(|b| score <= b.0) {
                continue;
            }
            let flows = self.flows(&solution).to_vec();
            match self.violation(&state, &flows) {
                None => self.offer(score, state, solution),
                Some(i) => {
                    let mut off = state.clone();
                    off[i] = State::Off;
                    stack.push(off);
                    let mut required = state;
                    required[i] = State::On;
                    if self.propagate(&mut required) {
                        stack.push(required); // explored first
                    }
                }
            }
        }
    }
}

/// Propose the best pairing.
pub fn solve(problem: &Problem) -> Result<Pairing, Unpairable> {
    solve_from(problem, None)
}

/// Propose the best pairing, starting the search from a known one (`hint`), which only speeds
/// it up.
pub fn solve_from(problem: &Problem, hint: Option<&[Piece]>) -> Result<Pairing, Unpairable> {
    problem.check()?;
    let mut search = Search::new(problem);
    search.run(hint);
    let nodes = search.nodes;
    let open_bound = search.open_bound;
    let Some((score, _state, network, solution)) = search.best.take() else {
        // Every recipient has an allowed provider and capacities never bind, so the relaxation
        // and the dive always find a pairing; reaching here would be a solver defect.
        unreachable!("a checked pairing problem always has a pairing");
    };
    let flows = search.flows(&solution);
    let mut pieces: Vec<Piece> = search
        .candidates
        .iter()
        .zip(flows)
        .filter(|(_, f)| **f > 0)
        .map(|(&(provider, recipient), &units)| Piece {
            provider,
            recipient,
            units,
        })
        .collect();
    pieces.sort_by_key(|p| (p.recipient, p.provider));
    let (evaluated, _, mut loads) = problem.evaluate(&pieces);
    let scale = search.scale;
    debug_assert_eq!(evaluated, score.div_euclid(scale));
    // Shadow prices from the certificate: the potential drop from provider to sink.
    let nr = problem.recipients.len();
    let sink = nr + problem.providers.len();
    for (p, load) in loads.iter_mut().enumerate() {
        let drop = solution.potentials[sink] - solution.potentials[nr + p];
        load.shadow_price = (drop as f64 / scale as f64).round() as i64;
    }
    Ok(Pairing {
        pieces,
        loads,
        score: evaluated,
        bound: open_bound.map_or(evaluated, |b| b.div_euclid(scale).max(evaluated)),
        nodes,
        network,
        solution,
    })
}

/// Check a pairing against its problem: its relaxation's certificate, every recipient's count
/// of providers, fixed and forbidden pairs, and its stated score.
pub fn verify(problem: &Problem, pairing: &Pairing) -> Result<(), String> {
    network::verify(&pairing.network, &pairing.solution).map_err(|e| e.to_string())?;
    let units = problem.units();
    for (r, recipient) in problem.recipients.iter().enumerate() {
        let pieces: Vec<&Piece> = pairing.of(r).collect();
        if pieces.is_empty() || pieces.len() > recipient.providers {
            return Err(format!(
                "recipient {r} has {} providers, not 1 to {}",
                pieces.len(),
                recipient.providers
            ));
        }
        if pieces.iter().map(|p| p.units).sum::<i64>() != units.need[r] {
            return Err(format!("recipient {r}'s need is not covered exactly"));
        }
    }
    for piece in &pairing.pieces {
        if problem
            .forbidden
            .contains(&(piece.provider, piece.recipient))
        {
            return Err(format!(
                "forbidden pair {}–{} is used",
                piece.provider, piece.recipient
            ));
        }
    }
    for &(p, r) in &problem.fixed {
        if !pairing
            .pieces
            .iter()
            .any(|x| x.provider == p && x.recipient == r)
        {
            return Err(format!("fixed pair {p}–{r} is missing"));
        }
    }
    let (score, _, _) = problem.evaluate(&pairing.pieces);
    if score != pairing.score {
        return Err(format!(
            "stated score {} but the pieces score {score}",
            pairing.score
        ));
    }
    Ok(())
}

/// A change between two pairings: a recipient's provider moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub recipient: usize,
    /// Providers it had and no longer has, and the ones it gains.
    pub from: Vec<usize>,
    pub to: Vec<usize>,
}

/// "Why not provider–recipient?": the best pairing that contains the pair, what it costs
/// against the proposal, and the chain of moves it sets off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhyNot {
    pub provider: usize,
    pub recipient: usize,
    /// Already in the proposal: nothing to force.
    pub chosen: bool,
    /// Points the forced pairing scores below the proposal: the exact cost of forcing the pair
    /// (≥ 0) when both searches finished ([`WhyNot::exact`]).
    pub cost: i64,
    /// What forcing the pair costs at least, whatever a longer search would find.
    pub cost_at_least: i64,
    pub exact: bool,
    /// The chain first — the recipient's move, then the move that frees the provider it
    /// displaced, and so on — then any other change.
    pub moves: Vec<Move>,
    pub forced: Pairing,
}

/// Force a pair into the proposal and say what that costs.
pub fn why_not(
    problem: &Problem,
    proposal: &Pairing,
    provider: usize,
    recipient: usize,
) -> Result<WhyNot, Unpairable> {
    let mut forced_problem = problem.clone();
    // Of the pairings that hold the pair, the one that moves least from the proposal.
    forced_problem.prefer = proposal
        .pieces
        .iter()
        .map(|p| (p.provider, p.recipient))
        .collect();
    if !forced_problem.fixed.contains(&(provider, recipient)) {
        forced_problem.fixed.push((provider, recipient));
    }
    forced_problem
        .forbidden
        .retain(|&f| f != (provider, recipient));
    let forced = solve_from(&forced_problem, Some(&proposal.pieces))?;
    let chosen = proposal
        .pieces
        .iter()
        .any(|p| p.provider == provider && p.recipient == recipient);
    let moves = chain(proposal, &forced, recipient, problem.recipients.len());
    Ok(WhyNot {
        provider,
        recipient,
        chosen,
        cost: proposal.score - forced.score,
        cost_at_least: proposal.score - forced.bound,
        exact: proposal.proven() && forced.proven(),
        moves,
        forced,
    })
}

/// The moves from one pairing to another, starting with `start` and following displaced
/// providers.
pub fn chain(before: &Pairing, after: &Pairing, start: usize, recipients: usize) -> Vec<Move> {
    let providers_of =
        |p: &Pairing, r: usize| -> Vec<usize> { p.of(r).map(|x| x.provider).collect() };
    let mut changed: Vec<Move> = (0..recipients)
        .filter_map(|r| {
            let (b, a) = (providers_of(before, r), providers_of(after, r));
            let from: Vec<usize> = b.iter().copied().filter(|p| !a.contains(p)).collect();
            let to: Vec<usize> = a.iter().copied().filter(|p| !b.contains(p)).collect();
            (!from.is_empty() || !to.is_empty()).then_some(Move {
                recipient: r,
                from,
                to,
            })
        })
        .collect();
    let mut ordered = Vec::with_capacity(changed.len());
    let mut next = changed.iter().position(|m| m.recipient == start);
    while let Some(i) = next {
        let m = changed.remove(i);
        // The provider(s) this move brought in had to let go of something: follow it.
        next = changed
            .iter()
            .position(|c| c.from.iter().any(|p| m.to.contains(p)));
        ordered.push(m);
    }
    ordered.extend(changed);
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_penalty_is_convex_and_zero_at_the_target() {
        for target in [0, 1, 5, 37, 1000] {
            let f = |l| {
                segments(target, 3)
                    .iter()
                    .map(|s| (i64::clamp(l, s.from, s.to) - s.from) * s.slope)
                    .sum::<i64>()
                    + penalty_at_zero(target, 3)
            };
            assert_eq!(f(target), 0, "target {target}");
            let mut last_slope = i64::MIN;
            for l in 0..target * 2 + 5 {
                let slope = f(l + 1) - f(l);
                assert!(slope >= last_slope, "target {target}, load {l}");
                assert!(f(l) >= 0);
                last_slope = slope;
            }
        }
    }

    #[test]
    fn weights_parse_and_refuse() {
        let w = Weights::parse("fit=3, continuity=7").unwrap();
        assert_eq!((w.fit, w.continuity, w.gap), (3, 7, Weights::default().gap));
        assert!(Weights::parse("fit").unwrap_err().contains("NAME=POINTS"));
        assert!(Weights::parse("fit=-1").unwrap_err().contains("fit"));
        assert!(Weights::parse("charm=1").unwrap_err().contains("charm"));
    }
}
