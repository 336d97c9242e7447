//! Pure algorithms over plain data: pairing, assignment, min-cost flow, stable matching.
//! Each solver returns a certificate that a test can check.
//!
//! Architecture Invariant: this crate does no I/O beyond parsing text it is handed. It never
//! depends on `store`, `web`, sqlx, axum, tokio or any other I/O crate; `.ci/check-deps`
//! enforces it.
//!
//! Architecture Invariant: every solver returns an optimality certificate (node potentials, or
//! the duals of an assignment) and every answer can be checked by a linear-time `verify`; a
//! problem without a feasible answer is reported with the nodes that cannot be covered, never a
//! panic and never a partial answer.
//!
//! - [`network`]: min-cost flow problems, solutions, certificates, [`network::verify`];
//! - [`ssp`]: successive shortest paths, the reference min-cost flow solver;
//! - [`simplex`]: primal network simplex with warm re-solve after a cost change;
//! - [`assignment`]: assignment problems; Jonker–Volgenant on dense matrices, Hopcroft–Karp
//!   for feasibility and the nodes that cannot be covered;
//! - [`scaling`]: cost scaling (Goldberg–Kennedy double push) for large sparse assignment;
//! - [`push_relabel`]: cost-scaling push-relabel min-cost flow (Goldberg's CS2 line) for large
//!   capacitated problems: posts with seats, providers with capacity;
//! - [`seats`]: an ε-scaling auction over seats for capacitated assignment (people into posts
//!   with several seats, the unplaced at a price), tried first on networks of that shape;
//! - [`pairing`]: the pairing model (fit, richest-to-poorest gap, proportionality, continuity;
//!   fixed, forbidden, k providers) by branch and bound over the network simplex, with
//!   explanations: score breakdowns, shadow prices, "why not X–Y?";
//! - [`placement`]: people into posts with several seats (capacitated assignment), the
//!   unplaced allowed at a price;
//! - [`stable`]: deferred acceptance with capacities and ties (seeded), and the blocking-pair
//!   check;
//! - [`dimacs`]: the DIMACS `p min` and `p asn` formats, read and written.

pub mod assignment;
pub mod dimacs;
pub mod network;
pub mod pairing;
pub mod placement;
pub mod push_relabel;
pub mod scaling;
pub mod seats;
pub mod simplex;
pub mod ssp;
pub mod stable;
