//! Placing people in posts with several seats: a capacitated assignment, solved as a min-cost
//! flow — each person supplies one unit, each candidate pair is an arc of capacity one, each
//! post passes at most its open seats to a sink, and each person may instead go unplaced at a
//! price (set far above any posting's cost, seats are filled before costs are saved). A post is
//! one node however many seats it has.
//!
//! Program-size rounds go to the network simplex, large ones (a program-wide round of tens of
//! thousands of people) to the seat auction of [`crate::seats`] (push-relabel should it
//! decline); every answer's certificate is checked.

use crate::network::{CertificateError, FlowSolution, Network};
use std::time::{Duration, Instant};

/// A placement round: `people` people, `seats[q]` open seats at post `q`, candidate arcs
/// `(person, post, cost)`, and what leaving a person unplaced costs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub people: usize,
    pub seats: Vec<u32>,
    pub arcs: Vec<(u32, u32, i64)>,
    pub unplaced: i64,
}

pub use crate::push_relabel::Method;

#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    /// For each person, the index in [`Round::arcs`] of their posting, if placed.
    pub arc_of: Vec<Option<usize>>,
    /// Total cost of the postings (the unplaced not counted).
    pub cost: i128,
    /// Seats left open per post.
    pub open: Vec<u32>,
    /// The flow and its potentials: the certificate, checked.
    pub flow: FlowSolution,
    /// The method that solved the largest group.
    pub method: Method,
    /// Independent groups the round fell into, and the nodes (people and posts) of the largest.
    pub groups: usize,
    pub largest_group: usize,
    /// Time spent solving and checking the certificate.
    pub solve_time: Duration,
}

impl Placed {
    /// How the round was solved, in words: "network simplex on 855 independent groups (the
    /// largest: 140 people and posts)".
    pub fn solver(&self) -> String {
        match self.groups {
            0 => "none needed (no candidate postings)".into(),
            1 => format!("{} on one group", self.method),
            n => format!(
                "{} on {n} independent groups (the largest: {} people and posts)",
                self.method, self.largest_group
            ),
        }
    }
}

impl Round {
    /// The round as a min-cost flow: people `0..people`, posts after them, then the sink.
    /// Arc `k` of the round is arc `k` of the network; then one arc per post to the sink, then
    /// one "unplaced" arc per person.
    pub fn network(&self) -> Network {
        let posts = self.seats.len();
        let sink = self.people + posts;
        let mut network = Network::new(sink + 1);
        for &(p, q, c) in &self.arcs {
            network.add_arc(p as usize, self.people + q as usize, 0, 1, c);
        }
        for (q, &s) in self.seats.iter().enumerate() {
            network.add_arc(self.people + q, sink, 0, i64::from(s), 0);
        }
        for p in 0..self.people {
            network.add_arc(p, sink, 0, 1, self.unplaced);
            network.supply[p] = 1;
        }
        network.supply[sink] = -(self.people as i64);
        network
    }
}

/// Place a round. Always feasible (anyone may stay unplaced); an error only if a solver's own
/// certificate fails, which is a bug to report.
///
/// The round is split into its independent groups first — people and posts joined by candidate
/// arcs; in a pairing program a provider's people of one specialty only reach posts of that
/// specialty in the provider's own areas, so a program-wide round falls apart into hundreds of
/// small problems — each solved on its own (in parallel), by the method its size calls for. The
/// groups' potentials, each shifted so the shared sink sits at zero, make one certificate for
/// the whole round, checked on the whole round.
pub fn place(round: &Round) -> Result<Placed, CertificateError> {
    let started = Instant::now();
    let (groups, local) = groups(round);
    let posts = round.seats.len();
    let sink = round.people + posts;
    let network = round.network();
    let m = round.arcs.len();
    let mut flow = vec![0i64; network.arcs.len()];
    let mut potentials = vec![0i64; sink + 1];
    // Alone, a person goes unplaced: the unplaced arc is saturated, its reduced cost
    // `unplaced + π(p) − 0` must be ≤ 0.
    for p in 0..round.people {
        flow[m + posts + p] = 1;
        potentials[p] = -round.unplaced;
    }
    let solved = solve_groups(round, &groups, &local)?;
    let mut method = None;
    let mut largest = 0;
    for (group, (solution, sub_method)) in groups.iter().zip(solved) {
        let nodes = group.people.len() + group.posts.len();
        if nodes > largest {
            largest = nodes;
            method = Some(sub_method);
        }
        let shift = solution.potentials[nodes];
        let (sub_people, sub_arcs) = (group.people.len(), group.arcs.len());
        for (i, &p) in group.people.iter().enumerate() {
            potentials[p as usize] = solution.potentials[i] - shift;
            flow[m + posts + p as usize] = solution.flow[sub_arcs + group.posts.len() + i];
        }
        for (j, &q) in group.posts.iter().enumerate() {
            potentials[round.people + q as usize] = solution.potentials[sub_people + j] - shift;
            flow[m + q as usize] = solution.flow[sub_arcs + j];
        }
        for (i, &k) in group.arcs.iter().enumerate() {
            flow[k] = solution.flow[i];
        }
    }
    let cost = network.cost_of(&flow);
    let flow = FlowSolution {
        flow,
        cost,
        potentials,
    };
    crate::network::verify(&network, &flow)?;
    let solve_time = started.elapsed();
    let mut arc_of = vec![None; round.people];
    let mut cost = 0i128;
    for (k, &(p, _, c)) in round.arcs.iter().enumerate() {
        if flow.flow[k] == 1 {
            arc_of[p as usize] = Some(k);
            cost += i128::from(c);
        }
    }
    let open = round
        .seats
        .iter()
        .enumerate()
        .map(|(q, &s)| s - flow.flow[m + q] as u32)
        .collect();
    Ok(Placed {
        arc_of,
        cost,
        open,
        flow,
        method: method.unwrap_or(Method::NetworkSimplex),
        groups: groups.len(),
        largest_group: largest,
        solve_time,
    })
}

/// One independent part of a round: its people and posts (indices into the round) and the
/// round's arcs between them.
#[derive(Debug, Default)]
struct Group {
    people: Vec<u32>,
    posts: Vec<u32>,
    arcs: Vec<usize>,
}

/// The round's connected parts with at least one arc, largest first (union–find over people
/// and posts), and each person's and post's place in its group (people first, then posts).
fn groups(round: &Round) -> (Vec<Group>, Vec<u32>) {
    let n = round.people + round.seats.len();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let up = parent[parent[x as usize] as usize];
            parent[x as usize] = up;
            x = up;
        }
        x
    }
    for &(p, q, _) in &round.arcs {
        let a = find(&mut parent, p);
        let b = find(&mut parent, round.people as u32 + q);
        if a != b {
            parent[a.max(b) as usize] = a.min(b);
        }
    }
    let mut index = vec![u32::MAX; n];
    let mut local = vec![u32::MAX; n];
    let mut groups: Vec<Group> = Vec::new();
    for (k, &(p, _, _)) in round.arcs.iter().enumerate() {
        let root = find(&mut parent, p) as usize;
        if index[root] == u32::MAX {
            index[root] = groups.len() as u32;
            groups.push(Group::default());
        }
        groups[index[root] as usize].arcs.push(k);
    }
    for (v, place) in local.iter_mut().enumerate() {
        let root = find(&mut parent, v as u32) as usize;
        if index[root] == u32::MAX {
            continue; // no arc: a person alone or an untouched post
        }
        let group = &mut groups[index[root] as usize];
        if v < round.people {
            *place = group.people.len() as u32;
            group.people.push(v as u32);
        } else {
            *place = group.posts.len() as u32;
            group.posts.push((v - round.people) as u32);
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.arcs.len()));
    (groups, local)
}

/// Solve each group as a round of its own, on every core, largest groups first.
fn solve_groups(
    round: &Round,
    groups: &[Group],
    local: &[u32],
) -> Result<Vec<(FlowSolution, Method)>, CertificateError> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<_>>> = Mutex::new((0..groups.len()).map(|_| None).collect());
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(groups.len().max(1));
    let work = || {
        loop {
            let g = next.fetch_add(1, Ordering::Relaxed);
            let Some(group) = groups.get(g) else { break };
            let network = sub_round(round, group, local).network();
            let (solved, method) = crate::push_relabel::solve_by_shape(&network);
            // Every person has an unplaced arc to the sink: never infeasible.
            let answer = solved
                .map(|s| (s, method))
                .map_err(|_| CertificateError::Shape {
                    what: "a feasible flow (every person can stay unplaced)",
                    expected: 1,
                    got: 0,
                });
            results.lock().unwrap_or_else(|e| e.into_inner())[g] = Some(answer);
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..workers {
            scope.spawn(work);
        }
        work();
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every group is solved"))
        .collect()
}

/// A group as a round: its people and posts renumbered from zero in the group's order.
fn sub_round(round: &Round, group: &Group, local: &[u32]) -> Round {
    Round {
        people: group.people.len(),
        seats: group
            .posts
            .iter()
            .map(|&q| round.seats[q as usize])
            .collect(),
        arcs: group
            .arcs
            .iter()
            .map(|&k| {
                let (p, q, c) = round.arcs[k];
                (local[p as usize], local[round.people + q as usize], c)
            })
            .collect(),
        unplaced: round.unplaced,
    }
}
