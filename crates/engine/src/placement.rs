//! Placing people in posts with several seats: a capacitated assignment, solved as a min-cost
//! flow — each person supplies one unit, each candidate pair is an arc of capacity one, each
//! post passes at most its open seats to a sink, and each person may instead go unplaced at a
//! price (set far above any posting's cost, seats are filled before costs are saved). A post is
//! one node however many seats it has.
//!
//! Program-size rounds go to the network simplex, large ones (a program-wide round of tens of
//! thousands of people) to cost-scaling push-relabel; every answer's certificate is checked.

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
    pub method: Method,
    /// Time spent solving and checking the certificate.
    pub solve_time: Duration,
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
pub fn place(round: &Round) -> Result<Placed, CertificateError> {
    let network = round.network();
    let started = Instant::now();
    let (solved, method) = crate::push_relabel::solve_by_size(&network);
    // Every person has an unplaced arc to the sink, which takes everyone: never infeasible.
    let flow = solved.map_err(|_| CertificateError::Shape {
        what: "a feasible flow (every person can stay unplaced)",
        expected: 1,
        got: 0,
    })?;
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
        .map(|(q, &s)| s - flow.flow[round.arcs.len() + q] as u32)
        .collect();
    Ok(Placed {
        arc_of,
        cost,
        open,
        flow,
        method,
        solve_time,
    })
}
